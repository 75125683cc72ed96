"""A scripted backend for tests: replays queued outputs and records what it was given.

The real model cannot run in most unit tests (it is slow and its output is
not the subject of those tests), so kernel and CLI tests queue the exact text
the "model" should produce and assert on the prompts and grammars it saw.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from models.backend import Completion, TokenCallback
from models.errors import ModelOutputError


@dataclass
class ScriptedCall:
    prompt: str
    grammar: str | None
    max_tokens: int
    stop: list[str] | None


@dataclass
class ScriptedBackend:
    """A ``Backend`` whose completions are queued with ``enqueue``."""

    name: str = "scripted"
    n_ctx: int = 8192
    outputs: deque[str] = field(default_factory=deque)
    calls: list[ScriptedCall] = field(default_factory=list)
    # the confidence every completion reports (``Completion.extra["call_prob"]``, as the llama backend's
    # ``generate`` does); None reports none
    call_prob: float | None = None
    state_saves: int = 0
    state_loads: int = 0
    closed: bool = False
    _context: str = ""

    def enqueue(self, *texts: str) -> ScriptedBackend:
        self.outputs.extend(texts)
        return self

    @property
    def prompts(self) -> list[str]:
        return [c.prompt for c in self.calls]

    @property
    def grammars(self) -> list[str | None]:
        return [c.grammar for c in self.calls]

    def complete(
        self,
        prompt: str,
        *,
        grammar: str | None = None,
        max_tokens: int = 256,
        stop: list[str] | None = None,
        on_token: TokenCallback | None = None,
    ) -> Completion:
        self.calls.append(ScriptedCall(prompt, grammar, max_tokens, stop))
        if not self.outputs:
            raise ModelOutputError("the scripted backend has no queued output", raw="",
                                   hint="enqueue() one output per expected completion")
        text = self.outputs.popleft()
        cached = len(_common_prefix(self._context, prompt))
        self._context = prompt
        out = ""
        stopped = "stop"
        # Stream word by word (whitespace kept) so callers see several pieces.
        pieces = [p for p in _split_keep(text) if p]
        for piece in pieces:
            out += piece
            if on_token is not None and on_token(piece) is False:
                stopped = "cancelled"
                break
        if stop:
            for s in stop:
                i = out.find(s)
                if i >= 0:
                    out = out[:i]
        comp = Completion(text=out, prompt_tokens=len(self.tokenize(prompt)),
                          completion_tokens=len(self.tokenize(out)), cached_tokens=cached,
                          stopped=stopped)
        if self.call_prob is not None:
            comp.extra = {"call_prob": self.call_prob}
        return comp

    def tokenize(self, text: str) -> list[int]:
        return [len(w) for w in text.split()]

    def save_state(self) -> Any:
        self.state_saves += 1
        return {"context": self._context}

    def load_state(self, state: Any) -> None:
        self.state_loads += 1
        self._context = str(state["context"])

    def close(self) -> None:
        self.closed = True


def _common_prefix(a: str, b: str) -> str:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return a[:n]


def _split_keep(text: str) -> list[str]:
    out: list[str] = []
    cur = ""
    for ch in text:
        cur += ch
        if ch.isspace():
            out.append(cur)
            cur = ""
    out.append(cur)
    return out
