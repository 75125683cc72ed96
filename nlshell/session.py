"""Sessions: each conversation's own context, and the saved model states.

A ``SessionContext`` keeps what a follow-up needs: the previous result (capped, so a
huge listing never floods the prompt), the turns so far (trimmed to a token
budget, the dropped ones folded into one summary turn), the untrusted source
read earlier (``tainted_by``) and, in the kernel's ``StateCache``, the model's
saved context so switching back to the session restores it instead of
re-evaluating the prompt.

``StateCache`` is an LRU of opaque backend states capped by count and bytes;
an evicted state only costs a re-evaluation later, never a wrong answer.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from models.plan import ROWS_CUT
from syscalls.types import JSONDict, SyscallResult

TokenCounter = Callable[[str], int]


def rough_tokens(text: str) -> int:
    """A cheap token estimate (about four characters a token) when no tokenizer is at hand."""
    return max(1, (len(text) + 3) // 4)


def state_nbytes(state: Any) -> int:
    """The size of a saved backend state, as well as it can be told."""
    if isinstance(state, (bytes, bytearray, memoryview)):
        return len(state)
    for attr in ("llama_state_size", "nbytes"):
        value = getattr(state, attr, None)
        if isinstance(value, int):
            # LlamaState also holds the token ids and the last logits.
            extra = 0
            for arr_attr in ("input_ids", "scores"):
                arr = getattr(state, arr_attr, None)
                n = getattr(arr, "nbytes", None)
                if isinstance(n, int):
                    extra += n
            return value + extra
    if isinstance(state, dict):
        return sys.getsizeof(state) + sum(state_nbytes(v) for v in state.values())
    if isinstance(state, str):
        return len(state.encode("utf-8", "replace"))
    return sys.getsizeof(state)


class StateCache:
    """An LRU of saved model states, capped by count and by total bytes.

    Thread-safe.  A single state larger than the byte cap is not kept at all.
    """

    def __init__(self, max_count: int = 8, max_bytes: int = 256 * 1024 * 1024,
                 sizer: Callable[[Any], int] = state_nbytes) -> None:
        if max_count < 0 or max_bytes < 0:
            raise ValueError("state cache caps must not be negative")
        self.max_count = max_count
        self.max_bytes = max_bytes
        self._sizer = sizer
        self._lock = threading.Lock()
        self._items: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self.evictions = 0
        self.hits = 0
        self.misses = 0

    def put(self, key: str, state: Any) -> bool:
        """Keep ``state`` under ``key`` (most recently used); False when it is too big to keep."""
        size = self._sizer(state)
        with self._lock:
            self._drop(key)
            if size > self.max_bytes or self.max_count == 0:
                return False
            self._items[key] = (state, size)
            self._bytes += size
            while len(self._items) > self.max_count or self._bytes > self.max_bytes:
                _key, (_, old_size) = self._items.popitem(last=False)
                self._bytes -= old_size
                self.evictions += 1
            return key in self._items

    def get(self, key: str) -> Any | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item[0]

    def pop(self, key: str) -> Any | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._drop(key)
            self.hits += 1
            return item[0]

    def discard(self, key: str) -> None:
        with self._lock:
            self._drop(key)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def _drop(self, key: str) -> None:
        item = self._items.pop(key, None)
        if item is not None:
            self._bytes -= item[1]

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def keys(self) -> list[str]:
        with self._lock:
            return list(self._items)

    @property
    def nbytes(self) -> int:
        with self._lock:
            return self._bytes


MAX_KEPT_ROWS = 10_000
"""Rows of a session's last result kept for follow-ups (``$prev``); the model sees only a one-line summary."""


def _cap_value(value: Any, max_rows: int, max_chars: int) -> tuple[Any, bool]:
    if isinstance(value, str) and len(value) > max_chars:
        return value[:max_chars], True
    if isinstance(value, list):
        cut = len(value) > max_rows
        out = []
        any_cut = cut
        for item in value[:max_rows]:
            capped, c = _cap_value(item, max_rows, max_chars)
            out.append(capped)
            any_cut = any_cut or c
        return out, any_cut
    if isinstance(value, dict):
        res: JSONDict = {}
        any_cut = False
        for k, v in value.items():
            capped, c = _cap_value(v, max_rows, max_chars)
            res[k] = capped
            any_cut = any_cut or c
        return res, any_cut
    return value, False


def cap_result(result: SyscallResult, *, max_rows: int = MAX_KEPT_ROWS, max_chars: int = 4000) -> SyscallResult:
    """A copy of ``result`` whose lists and strings are cut to what a session keeps.  A cut table is marked
    with ``ROWS_CUT`` (its first list's length before the cut), so that a follow-up never acts on part of
    it unawares (``models.plan.expand_refs`` refuses)."""
    if result.data is None:
        return result
    data, cut = _cap_value(result.data, max_rows, max_chars)
    if not cut:
        return result
    assert isinstance(data, dict)
    marks: JSONDict = {"truncated": True}
    lists = [v for v in result.data.values() if isinstance(v, list) and len(v) > max_rows]
    if lists:
        marks[ROWS_CUT] = len(lists[0])
    return replace(result, data={**data, **marks}, truncated=True)


@dataclass
class Turn:
    """One intent and what came of it, as kept in a session's context."""

    intent: str
    summary: str
    tokens: int
    status: str = "ok"

    def text(self) -> str:
        return f"Request: {self.intent}\nResult: {self.summary}"


def summarise(results: list[SyscallResult], max_chars: int = 300) -> tuple[str, str]:
    """A one-line summary of a job's results and its overall status."""
    if not results:
        return "nothing ran", "ok"
    parts = []
    status = "ok"
    for r in results:
        if r.status not in ("ok", "dry-run"):
            status = r.status
        rows = ""
        for v in (r.data or {}).values():
            if isinstance(v, list):
                rows = f" ({len(v)} rows)"
                break
        parts.append(f"{r.request.call} {r.status}{rows}")
    text = "; ".join(parts)
    return (text[: max_chars - 1] + "…" if len(text) > max_chars else text), status


@dataclass
class SessionContext:
    """One conversation's context; the kernel owns it, front ends read it."""

    name: str
    budget_tokens: int = 2048
    max_result_rows: int = MAX_KEPT_ROWS
    max_result_chars: int = 4000
    count_tokens: TokenCounter = rough_tokens
    turns: list[Turn] = field(default_factory=list)
    previous: SyscallResult | None = None
    tainted_by: str | None = None
    dropped_turns: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def context_tokens(self) -> int:
        with self.lock:
            return sum(t.tokens for t in self.turns)

    def record(self, intent: str, results: list[SyscallResult]) -> Turn:
        """Add a finished intent; keep the last result for follow-ups; trim to the budget."""
        summary, status = summarise(results)
        turn = Turn(intent=intent[:500], summary=summary, tokens=0, status=status)
        turn.tokens = self._count(turn.text())
        with self.lock:
            kept = [r for r in results if r.data is not None and r.status in ("ok", "dry-run")]
            if kept:
                self.previous = cap_result(kept[-1], max_rows=self.max_result_rows,
                                           max_chars=self.max_result_chars)
            self.turns.append(turn)
            self._trim()
        return turn

    def taint(self, source: str) -> None:
        with self.lock:
            self.tainted_by = source

    def history_text(self) -> str:
        with self.lock:
            return "\n".join(t.text() for t in self.turns)

    def _count(self, text: str) -> int:
        try:
            return max(1, int(self.count_tokens(text)))
        except Exception:  # a tokenizer failure must not lose the turn; estimate instead
            return rough_tokens(text)

    def _trim(self) -> None:
        """Fold the oldest turns into one summary turn until the context fits the budget."""
        while sum(t.tokens for t in self.turns) > self.budget_tokens:
            has_summary = bool(self.turns) and self.turns[0].intent.startswith(_EARLIER)
            real = self.turns[1:] if has_summary else self.turns
            if len(real) <= 1:
                if has_summary:
                    self.turns.pop(0)
                    continue
                if self.turns:
                    # A single turn over budget: keep a shortened copy rather than nothing.
                    only = self.turns[0]
                    keep = max(8, self.budget_tokens * 2)
                    only.intent = only.intent[:keep]
                    only.summary = only.summary[:keep]
                    only.tokens = min(self.budget_tokens, self._count(only.text()))
                break
            dropped = real[0]
            self.turns.remove(dropped)
            self.dropped_turns += 1
            label = f"{_EARLIER} {self.dropped_turns} turns dropped; last: {dropped.intent[:80]}]"
            summary = Turn(intent=label, summary="dropped to fit the context", tokens=0)
            summary.tokens = self._count(summary.text())
            if has_summary:
                self.turns[0] = summary
            else:
                self.turns.insert(0, summary)


_EARLIER = "[earlier:"


class SessionTable:
    """All sessions by name, created on first use.  Thread-safe."""

    def __init__(self, *, budget_tokens: int = 2048, count_tokens: TokenCounter = rough_tokens,
                 max_result_rows: int = MAX_KEPT_ROWS, max_result_chars: int = 4000) -> None:
        self.budget_tokens = budget_tokens
        self.count_tokens = count_tokens
        self.max_result_rows = max_result_rows
        self.max_result_chars = max_result_chars
        self._lock = threading.Lock()
        self._sessions: dict[str, SessionContext] = {}

    def get(self, name: str) -> SessionContext:
        with self._lock:
            s = self._sessions.get(name)
            if s is None:
                s = SessionContext(name=name, budget_tokens=self.budget_tokens, count_tokens=self.count_tokens,
                            max_result_rows=self.max_result_rows, max_result_chars=self.max_result_chars)
                self._sessions[name] = s
            return s

    def __contains__(self, name: object) -> bool:
        with self._lock:
            return name in self._sessions

    def __iter__(self) -> Iterator[SessionContext]:
        with self._lock:
            return iter(list(self._sessions.values()))

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)
