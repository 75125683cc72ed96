"""The inference queue: priorities, FIFO within a priority, aging, control tasks.

One worker thread pops from it (the model is not thread-safe); everything
else pushes, removes (cancellation) or asks whether something more urgent is
waiting (preemption).

Order: the lowest *effective* priority first, then the oldest.  An entry's
effective priority is its own minus one level for every ``aging_passes``
pops that went by while it waited, so a background job passed over again and
again eventually outranks fresh interactive ones: nothing starves.  Aging
counts pops, not seconds, so the order is deterministic.

Control tasks (``call_soon``: a model switch, a stats probe) run on the
worker before any job, between two jobs, never in the middle of one.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

Control = Callable[[], None]


@dataclass
class Entry(Generic[T]):
    """One queued item with its ordering data; kept across a suspension so age is not lost."""

    item: T
    priority: int
    seq: int
    enqueued_pop: int
    enqueued_at: float = field(default_factory=time.monotonic)

    def effective(self, pops: int, aging_passes: int) -> int:
        if aging_passes <= 0:
            return self.priority
        return self.priority - (pops - self.enqueued_pop) // aging_passes


class QueueClosed(Exception):
    """The scheduler no longer accepts work (the kernel is closing)."""


class Scheduler(Generic[T]):
    """A thread-safe priority queue with aging, removal and control tasks."""

    def __init__(self, *, aging_passes: int = 8, max_depth: int = 100_000) -> None:
        self.aging_passes = aging_passes
        self.max_depth = max_depth
        self._cond = threading.Condition()
        self._entries: list[Entry[T]] = []
        self._controls: deque[Control] = deque()
        self._seq = itertools.count()
        self._pops = 0
        self._closed = False

    # -- producers ---------------------------------------------------------
    def push(self, item: T, priority: int) -> Entry[T]:
        with self._cond:
            if self._closed:
                raise QueueClosed("the scheduler is closed")
            if len(self._entries) >= self.max_depth:
                raise OverflowError(f"the queue is full ({self.max_depth} waiting)")
            entry = Entry(item=item, priority=int(priority), seq=next(self._seq), enqueued_pop=self._pops)
            self._entries.append(entry)
            self._cond.notify_all()
            return entry

    def requeue(self, entry: Entry[T]) -> None:
        """Put a suspended entry back with its original place in line and its age."""
        with self._cond:
            if self._closed:
                raise QueueClosed("the scheduler is closed")
            self._entries.append(entry)
            self._cond.notify_all()

    def call_soon(self, fn: Control) -> None:
        with self._cond:
            if self._closed:
                raise QueueClosed("the scheduler is closed")
            self._controls.append(fn)
            self._cond.notify_all()

    def remove(self, item: T) -> bool:
        """Take ``item`` out of the queue; False when it is not waiting (running or gone)."""
        with self._cond:
            for i, e in enumerate(self._entries):
                if e.item is item:
                    del self._entries[i]
                    self._cond.notify_all()
                    return True
            return False

    def notify(self) -> None:
        """Wake the worker: something that decides eligibility has changed."""
        with self._cond:
            self._cond.notify_all()

    def close(self) -> list[T]:
        """Refuse new work, wake the worker, and hand back what was still waiting."""
        with self._cond:
            self._closed = True
            left = [e.item for e in self._entries]
            self._entries.clear()
            self._cond.notify_all()
            return left

    # -- the consumer ------------------------------------------------------
    def _key(self, e: Entry[T]) -> tuple[int, int]:
        return (e.effective(self._pops, self.aging_passes), e.seq)

    def _best(self, eligible: Callable[[T], bool]) -> int:
        best = -1
        best_key: tuple[int, int] | None = None
        for i, e in enumerate(self._entries):
            if not eligible(e.item):
                continue
            k = self._key(e)
            if best_key is None or k < best_key:
                best, best_key = i, k
        return best

    def pop(self, eligible: Callable[[T], bool] = lambda _: True,
            timeout: float | None = None) -> Entry[T] | Control | None:
        """The next control task or the most urgent eligible entry; None when closed or timed out."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                if self._controls:
                    return self._controls.popleft()
                if self._closed:
                    return None
                i = self._best(eligible)
                if i >= 0:
                    entry = self._entries.pop(i)
                    self._pops += 1
                    return entry
                if deadline is None:
                    self._cond.wait()
                else:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return None
                    self._cond.wait(left)

    def more_urgent_than(self, priority: int, eligible: Callable[[T], bool] = lambda _: True,
                         running: Entry[T] | None = None) -> bool:
        """Whether an eligible waiting entry has a strictly more urgent base priority.

        With ``running`` (the entry being served), the waiting one must also be
        served before it if it went back in line now; otherwise an aged job and
        a fresh urgent one would take the model from each other forever.
        """
        with self._cond:
            if self._controls:
                return False  # control tasks wait for the running job; they never preempt
            mine = self._key(running) if running is not None else None
            return any(e.priority < priority and eligible(e.item) and (mine is None or self._key(e) < mine)
                       for e in self._entries)

    # -- inspection ----------------------------------------------------------
    def position(self, item: T) -> int:
        """How many entries would be served before ``item`` (ignoring eligibility); -1 if absent."""
        with self._cond:
            mine = next((e for e in self._entries if e.item is item), None)
            if mine is None:
                return -1
            key = self._key(mine)
            return sum(1 for e in self._entries if self._key(e) < key)

    def order(self) -> list[T]:
        """The waiting items in the order they would be served now (no aging applied between)."""
        with self._cond:
            return [e.item for e in sorted(self._entries, key=self._key)]

    def __len__(self) -> int:
        with self._cond:
            return len(self._entries)

    @property
    def closed(self) -> bool:
        with self._cond:
            return self._closed
