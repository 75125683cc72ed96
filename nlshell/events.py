"""Messages between the kernel and front ends: plain dataclasses, no UI imports.

A front end submits an ``Intent`` and receives, for its job, a stream of these
events, ending in exactly one terminal event (``Finished``, ``Failed`` or
``Cancelled``).  Events are delivered thread-safely: the one-shot CLI and the
line mode iterate them synchronously; the TUI posts them as Textual messages.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.plan import Plan
from syscalls.types import Question, SyscallRequest, SyscallResult


class Priority(enum.IntEnum):
    """Lower value is served first."""

    INTERACTIVE = 0
    FOLLOW_UP = 1
    BACKGROUND = 2


@dataclass
class Intent:
    text: str
    session: str = "default"
    cwd: Path = field(default_factory=Path.cwd)
    priority: Priority = Priority.INTERACTIVE
    dry_run: bool = False
    timeout_s: float | None = None
    # A precomputed plan skips the model (Python API: run a request directly).
    plan: Plan | None = None


@dataclass
class Event:
    job: int
    at: float = field(default_factory=time.time, kw_only=True)

    @property
    def terminal(self) -> bool:
        return False


@dataclass
class Queued(Event):
    position: int = 0


@dataclass
class Planning(Event):
    model: str = ""


@dataclass
class Token(Event):
    text: str = ""


@dataclass
class Progress(Event):
    message: str = ""
    count: int = 0


@dataclass
class PlanReady(Event):
    plan: Plan | None = None


@dataclass
class AwaitingApproval(Event):
    question: Question | None = None


@dataclass
class StepStarted(Event):
    index: int = 0
    request: SyscallRequest | None = None


@dataclass
class StepFinished(Event):
    index: int = 0
    result: SyscallResult | None = None


@dataclass
class Stats(Event):
    queue_depth: int = 0
    tokens_per_s: float = 0.0
    prefix_cache_hits: int = 0
    saved_states: int = 0
    saved_state_bytes: int = 0
    rss_bytes: int = 0
    model: str = ""
    # Kernel counters by name (preemptions, session switches restored, timeouts, ...).
    counters: dict[str, int] = field(default_factory=dict)


@dataclass
class Finished(Event):
    results: list[SyscallResult] = field(default_factory=list)
    plan: Plan | None = None

    @property
    def terminal(self) -> bool:
        return True


@dataclass
class Failed(Event):
    """The intent could not be planned (model error, unsupported) or the kernel failed."""

    error: dict[str, Any] = field(default_factory=dict)
    plan: Plan | None = None
    results: list[SyscallResult] = field(default_factory=list)

    @property
    def terminal(self) -> bool:
        return True


@dataclass
class Cancelled(Event):
    stage: str = ""
    results: list[SyscallResult] = field(default_factory=list)

    @property
    def terminal(self) -> bool:
        return True


def cd_result(results: Any) -> Path | None:
    """The directory a successful ``shell.cd`` in ``results`` moved the session to (the last one), if any."""
    new: Path | None = None
    for res in results or ():
        if getattr(res, "ok", False) and res.request.call == "shell.cd" and isinstance(res.data, dict):
            new = Path(res.data["cwd"])
    return new
