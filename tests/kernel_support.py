"""Helpers for the kernel tests: a tiny planner over a scripted backend, and a gated syscall.

The tiny planner reads the scripted model's text as the plan itself (a JSON
request or a list of them), so a test decides exactly what gets planned and
the kernel's scheduling, streaming and execution are what is under test.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from models.backend import Backend, TokenCallback
from models.plan import Plan, PlanStep
from syscalls import schema as S
from syscalls.dispatcher import Dispatcher
from syscalls.errors import CallCancelled
from syscalls.registry import Registry, load_builtins
from syscalls.types import CallContext, JSONDict, Risk, SyscallResult, View

PREFIX = "You turn requests into syscalls.\n"


class TinyPlanner:
    """``plan``: restore the warmed prefix, stream the model's text, parse it as the plan."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._prefix_state: Any = None
        self.prompts: list[str] = []
        self.previous_seen: list[SyscallResult | None] = []

    def warm(self) -> None:
        # The scripted backend replays queued text; queue the warm-up's own at the front.
        outputs = getattr(self.backend, "outputs", None)
        if outputs is not None:
            outputs.appendleft("")
        self.backend.complete(PREFIX, max_tokens=1)
        self._prefix_state = self.backend.save_state()

    def plan(self, intent: str, *, cwd: Path, previous: SyscallResult | None = None,
             on_token: TokenCallback | None = None) -> Plan:
        prompt = f"{PREFIX}Request: {intent}\nSyscall:"
        self.prompts.append(prompt)
        self.previous_seen.append(previous)
        if self._prefix_state is not None:
            self.backend.load_state(self._prefix_state)
        comp = self.backend.complete(prompt, on_token=on_token)
        if comp.stopped == "cancelled":
            raise CallCancelled("planning was cancelled", call="plan")
        data = json.loads(comp.text)
        steps = data if isinstance(data, list) else [data]
        planned = [PlanStep(s["call"], s.get("args", {})) for s in steps]
        return Plan(intent=intent, steps=planned, raw=comp.text)


def req(call: str, **args: Any) -> str:
    return json.dumps({"call": call, "args": args})


def say(text: str) -> str:
    """A plan that answers ``text`` (several words, so it streams as several tokens)."""
    return req("answer", text=text)


class Gate:
    """A syscall ``test.wait`` that blocks until released, checking for cancellation."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.cancelled = threading.Event()

    def register(self, registry: Registry) -> None:
        @registry.syscall("test.wait", "Wait until the test releases it.",
                          args=S.obj({"label": S.string()}, required=[]),
                          result=S.obj({"label": S.string()}), capability="fs.read", risk=Risk.READ,
                          view=View("record"))
        def wait(ctx: CallContext, args: JSONDict) -> JSONDict:
            self.entered.set()
            while not self.release.wait(0.005):
                if ctx.cancel.is_set():
                    self.cancelled.set()
                ctx.check_cancel()
            return {"label": args.get("label", "")}


def registry_with(gate: Gate | None = None) -> Registry:
    reg = Registry()
    load_builtins(reg)
    if gate is not None:
        gate.register(reg)
    return reg


def dispatcher_with(gate: Gate | None = None) -> Dispatcher:
    return Dispatcher(registry_with(gate))


__all__ = ["PREFIX", "Gate", "TinyPlanner", "dispatcher_with", "registry_with", "req", "say"]


class EchoBackend:
    """A deterministic stand-in model: it answers each request with its own words.

    Unlike a queue of scripted outputs, the text depends only on the prompt,
    so re-running a prompt (a resume after preemption) or skipping one (a
    cancelled job) cannot shift outputs onto the wrong job.
    """

    name = "echo"

    def __init__(self, n_ctx: int = 4096, piece: int = 4) -> None:
        self.n_ctx = n_ctx
        self.piece = piece
        self.context = ""
        self.loads = 0
        self.saves = 0
        self.completions = 0
        self.closed = False
        self._lock = threading.Lock()
        self._busy = False

    def complete(self, prompt: str, *, grammar: str | None = None, max_tokens: int = 256,
                 stop: list[str] | None = None, on_token: TokenCallback | None = None) -> Any:
        from models.backend import Completion

        with self._lock:  # the kernel promises one caller at a time; prove it
            assert not self._busy, "two threads inside the model at once"
            self._busy = True
        try:
            self.completions += 1
            cached = 0
            for a, b in zip(self.context, prompt, strict=False):
                if a != b:
                    break
                cached += 1
            self.context = prompt
            if "Request: " not in prompt:
                return Completion(text="", cached_tokens=cached)
            intent = prompt.split("Request: ", 1)[1].rsplit("\nSyscall:", 1)[0]
            text = req("answer", text=intent)
            out = ""
            for i in range(0, len(text), self.piece):
                chunk = text[i:i + self.piece]
                out += chunk
                self.context += chunk
                if on_token is not None and on_token(chunk) is False:
                    return Completion(text=out, cached_tokens=cached, stopped="cancelled")
            return Completion(text=out, cached_tokens=cached)
        finally:
            with self._lock:
                self._busy = False

    def tokenize(self, text: str) -> list[int]:
        return [len(w) for w in text.split()]

    def save_state(self) -> Any:
        self.saves += 1
        return {"context": self.context}

    def load_state(self, state: Any) -> None:
        self.loads += 1
        self.context = str(state["context"])

    def close(self) -> None:
        self.closed = True


class SequenceEchoBackend:
    """``EchoBackend``'s answers from a model that holds sessions as sequences (``parallel`` > 1).

    It checks the kernel's side of that contract: never more than ``parallel`` generations at once, never
    two of one session at once, each generation tagged with its job's session (``models.backend.SEQUENCE``).
    """

    name = "echo-seq"

    def __init__(self, parallel: int = 4, n_ctx: int = 4096, piece: int = 4, token_s: float = 0.001) -> None:
        self.parallel = parallel
        self.token_s = token_s  # each piece takes a moment, as a model's token does, so generations overlap
        self.n_ctx = n_ctx
        self.piece = piece
        self.loads = 0
        self.saves = 0
        self.most = 0
        self.sessions_seen: set[str] = set()
        self._lock = threading.Lock()
        self._running: list[str] = []

    def complete(self, prompt: str, *, grammar: str | None = None, max_tokens: int = 256,
                 stop: list[str] | None = None, on_token: TokenCallback | None = None) -> Any:
        from models.backend import SEQUENCE, Completion

        key = SEQUENCE.get()
        with self._lock:
            assert key not in self._running, f"two generations of session {key} at once"
            self._running.append(key)
            assert len(self._running) <= self.parallel, f"{len(self._running)} generations at once"
            self.most = max(self.most, len(self._running))
            self.sessions_seen.add(key)
        try:
            if "Request: " not in prompt:
                return Completion(text="")
            intent = prompt.split("Request: ", 1)[1].rsplit("\nSyscall:", 1)[0]
            text = req("answer", text=intent)
            out = ""
            for i in range(0, len(text), self.piece):
                time.sleep(self.token_s)
                out += text[i:i + self.piece]
                if on_token is not None and on_token(text[i:i + self.piece]) is False:
                    return Completion(text=out, stopped="cancelled")
            return Completion(text=out)
        finally:
            with self._lock:
                self._running.remove(key)

    def tokenize(self, text: str) -> list[int]:
        return [len(w) for w in text.split()]

    def save_state(self) -> Any:
        self.saves += 1
        return None

    def load_state(self, state: Any) -> None:
        self.loads += 1

    def close(self) -> None:
        return None
