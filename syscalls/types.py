"""The data types every layer shares: specs, requests, results, context.

Results are data (JSON-compatible dicts with stable field names and units in
the field names), never pre-rendered text.  A spec's ``view`` tells a renderer
how to show its result; the data itself stays the same for JSON output.
"""

from __future__ import annotations

import enum
import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from syscalls.confine import Plan

JSONDict = dict[str, Any]


class Risk(str, enum.Enum):
    """How much a call can change.  Permissions key their defaults on this."""

    READ = "read"
    WRITE = "write"
    DESTRUCTIVE = "destructive"
    EXEC = "exec"


@dataclass(frozen=True)
class View:
    """How a result is best shown.

    ``kind``: ``table`` (rows under ``key``), ``record`` (the dict itself),
    ``text`` (a string under ``key``), ``tree`` (nested nodes under ``key``,
    children under ``children``) or ``answer`` (a message under ``key``).
    ``columns`` orders the table's columns; empty means all, in row order.
    """

    kind: str = "record"
    key: str = ""
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Example:
    """One intent → arguments pair for the retrieval bank of the model path."""

    intent: str
    args: JSONDict


class Effects(Protocol):
    """Side-effect hooks the dispatcher hands to implementations.

    The default performs the plain operation; the journal (undo) replaces it
    with one that moves deletions to the trash and records inverses.
    """

    def remove(self, ctx: CallContext, path: Path) -> JSONDict:
        """Remove ``path`` (file, link or tree); return a record of what went."""
        ...

    def before_overwrite(self, ctx: CallContext, path: Path) -> None:
        """Called before ``path`` is replaced, so a previous version can be kept."""
        ...

    def record(self, ctx: CallContext, inverse: JSONDict) -> None:
        """Record the inverse of a completed change (a request that undoes it)."""
        ...


Implementation = Callable[["CallContext", JSONDict], JSONDict]


@dataclass(frozen=True)
class SyscallSpec:
    """What a syscall is: its name, arguments, result, capability and risk."""

    name: str
    doc: str
    args_schema: JSONDict
    result_schema: JSONDict
    capability: str
    risk: Risk
    undoable: bool
    impl: Implementation
    path_args: tuple[str, ...] = ()
    # The path arguments that may name what is not there yet (``schema.path(new=True)``): a missing one is
    # what the call makes, never something to look for elsewhere (``models.locate``).
    new_paths: tuple[str, ...] = ()
    pid_args: tuple[str, ...] = ()
    view: View = View()
    examples: tuple[Example, ...] = ()
    plugin: str = "builtin"
    preview: Implementation | None = None
    # How people ask for this call: (request template, plan template) pairs for the planner's training
    # corpus (slot syntax in ``syscalls/builtin/phrasings.py``).
    phrasings: tuple[tuple[str, str], ...] = ()
    # The arguments naming where this call's output comes from when that output is untrusted content (a
    # file's text, a program's output, commit messages): a later step of the session is tainted by it.
    taints: tuple[str, ...] = ()
    # The arguments that name what a request acts on, for errors and the journal (default: its path and
    # pid arguments, in that order).
    target_args: tuple[str, ...] = ()
    # The call takes what it names away from where it was (a move or a rename), so the hard floor guards
    # it as it guards a delete: never the home or working directory, one of their parents, a mount point.
    relocates: bool = False
    # A read-only call that reads a file, given a folder ("what's in docs" planned as a read): the call that
    # shows a folder, run on the same ``path`` instead (``models.locate``).  Empty: a folder is the call's
    # own error.
    on_directory: str = ""
    # (the argument that names something new, the one that names what is already there): fs.symlink's
    # (path, target).  Given the other way round (the new name there, the existing one missing, which the call
    # would refuse), a planner swaps them (``models.locate``).
    names_existing: tuple[str, str] | None = None

    def target(self, args: Mapping[str, Any]) -> str:
        """What a request with ``args`` acts on, as ``"key value"`` ("" when it names nothing)."""
        for key in self.target_args or (*self.path_args, *self.pid_args):
            if key in args:
                return f"{key} {args[key]}"
        return ""

    def taint_source(self, args: Mapping[str, Any]) -> str | None:
        """The untrusted source a request with ``args`` reads, or None for a call whose output is trusted."""
        for key in self.taints:
            if key in args:
                value = args[key]
                if isinstance(value, list):
                    value = " ".join(str(v) for v in value)
                return f"{self.name} {key}={value}"
        return f"{self.name}" if self.taints else None

    def json_schema(self) -> JSONDict:
        """The JSON Schema of a request for this call: ``{"call": name, "args": {...}}``."""
        return {
            "type": "object",
            "title": self.name,
            "description": self.doc,
            "properties": {
                "call": {"const": self.name},
                "args": self.args_schema,
            },
            "required": ["call", "args"],
            "additionalProperties": False,
        }


@dataclass(frozen=True)
class SyscallRequest:
    """A request: a call's name and its arguments.  Only ``syscalls.validate.validate`` makes one a
    ``ValidatedRequest``, the only kind the dispatcher runs."""

    call: str
    args: JSONDict
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def to_dict(self) -> JSONDict:
        return {"id": self.id, "call": self.call, "args": dict(self.args)}


@dataclass(frozen=True)
class Invocation:
    """How one request runs: where, for which session and intent, and the hooks of the run.

    One value the kernel, the API and the front ends hand to ``Dispatcher.handle``; the dispatcher turns it
    into the ``CallContext`` an implementation sees.  ``cwd`` None means the process's working directory.
    """

    cwd: Path | None = None
    session: str = "default"
    dry_run: bool = False
    cancel: threading.Event | None = None
    progress: Callable[[str, int], None] | None = None
    approve: Approver | None = None
    intent: str = ""
    tainted_by: str | None = None


@dataclass
class CallContext:
    """Everything an implementation may use besides its arguments."""

    call: str
    cwd: Path
    effects: Effects
    cancel: threading.Event = field(default_factory=threading.Event)
    max_rows: int = 10_000
    max_bytes: int = 1_000_000
    timeout_s: float = 60.0
    session: str = "default"
    dry_run: bool = False
    progress: Callable[[str, int], None] | None = None
    # Set by the kernel: the front end's approval callback, the user's own words
    # for this intent, and the untrusted source read earlier in the session (taint).
    approve: Approver | None = None  # defined below; annotations are lazy
    intent: str = ""
    tainted_by: str | None = None
    # Set by the permission gate: raw path argument → the resolved path it checked,
    # so implementations open exactly that (``syscalls.paths.open_checked``).
    checked_paths: dict[str, Path] = field(default_factory=dict)
    # ... and pid → the start time of the process it checked, so a signal goes to that process only.
    checked_pids: dict[int, float] = field(default_factory=dict)
    # Dry run: the gate records why it would have asked instead of asking.
    would_ask: str | None = None
    # Set by the permission gate for proc.exec: what a started program may touch (syscalls.confine).
    sandbox: Plan | None = None
    # Set by an implementation: what came of it, for the audit log's step record (proc.run's exit status).
    outcome: JSONDict | None = None

    def resolve(self, raw: str) -> Path:
        """Resolve a user path lexically: ``~`` of the current user, relative to cwd.

        No symlink is resolved here; permissions check both the lexical and
        the resolved path.  ``~other`` is refused by validation before this.
        """
        return resolve_path(raw, self.cwd)

    def check_cancel(self) -> None:
        if self.cancel.is_set():
            from syscalls.errors import CallCancelled

            raise CallCancelled("cancelled", call=self.call)


def home_dir() -> Path:
    return Path(os.path.expanduser("~"))


def resolve_path(raw: str, cwd: Path) -> Path:
    """Canonical lexical path for ``raw``: expand a leading ``~``, join ``cwd``, normalise.

    Only ``~`` and ``~/...`` are expanded (the current user's home); ``..`` is
    folded lexically (``os.path.normpath``), symlinks are left alone.
    """
    if raw == "~" or raw.startswith("~/"):
        raw = str(home_dir()) + raw[1:]
    p = Path(raw)
    if not p.is_absolute():
        p = cwd / p
    return Path(os.path.normpath(p))


@dataclass
class SyscallResult:
    """The dispatcher's envelope for one executed (or refused) request."""

    request: SyscallRequest
    status: str  # "ok" | "failed" | "denied" | "cancelled" | "invalid" | "dry-run"
    data: JSONDict | None = None
    error: JSONDict | None = None
    started: float = field(default_factory=time.time)
    elapsed_s: float = 0.0
    truncated: bool = False
    provenance: str = "user"

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> JSONDict:
        return {
            "request": self.request.to_dict(),
            "status": self.status,
            "data": self.data,
            "error": self.error,
            "started": self.started,
            "elapsed_s": round(self.elapsed_s, 6),
            "truncated": self.truncated,
            "provenance": self.provenance,
        }


def args_view(args: Mapping[str, Any]) -> str:
    """A compact, human-readable rendering of arguments (for plans and prompts)."""
    parts = []
    for key, value in args.items():
        parts.append(f"{key}={value!r}")
    return ", ".join(parts)


class Answer(str, enum.Enum):
    """A person's (or a policy callback's) answer to an approval question."""

    ONCE = "once"
    SESSION = "session"
    DENY = "deny"


@dataclass(frozen=True)
class Question:
    """What a front end shows when a request needs approval.

    ``targets`` holds requested → resolved pairs; ``effects`` the blast radius
    (``count``, ``bytes``, ``pids`` with names and start times, ``paths``);
    ``tainted_by`` names the untrusted source read before this was proposed.
    """

    request: SyscallRequest
    capability: str
    risk: Risk
    scope: str
    targets: tuple[tuple[str, str], ...] = ()
    effects: JSONDict = field(default_factory=dict)
    tainted_by: str | None = None
    reason: str = ""
    # Set when the question is whether to run a whole plan the model was unsure of (its confidence):
    # ``steps`` is that plan and ``request`` its first step.  Only a person answers it: approvers that
    # allow without asking (``--yes``, ``approve_all``) deny it, and the refusal stands.
    unsure: float | None = None
    steps: tuple[SyscallRequest, ...] = ()


Approver = Callable[[Question], Answer]
