"""The dispatcher: the only caller of syscall implementations.

It runs a ``ValidatedRequest`` (a plain ``SyscallRequest`` is validated first,
so nothing unvalidated ever reaches the gate or a call) under an
``Invocation`` (cwd, session, dry run, cancellation, progress, approval,
intent, taint): the steps around dispatch begin (the journal's write-ahead
record), the permission gate decides, the call runs with a context (effects
hooks, caps), its time is taken, any foreign error that slipped through is
translated, large results are capped, the steps end with the outcome and a
``SyscallResult`` envelope comes back.  It never raises for a request's
failure: the envelope says ``ok`` / ``failed`` / ``denied`` / ``cancelled`` /
``invalid`` / ``dry-run``.
"""

from __future__ import annotations

import shutil
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import psutil

from syscalls import errors as E
from syscalls.types import (
    Approver,
    CallContext,
    Invocation,
    JSONDict,
    Risk,
    SyscallRequest,
    SyscallResult,
    SyscallSpec,
)
from syscalls.validate import ValidatedRequest, validate

if TYPE_CHECKING:
    from syscalls.audit import AuditLog
    from syscalls.journal import Journal
    from syscalls.registry import Registry


class Gate(Protocol):
    """The permission hook: raise ``Denied`` to refuse, return to allow."""

    def authorize(self, request: SyscallRequest, spec: SyscallSpec, ctx: CallContext) -> None: ...


class AllowAll:
    """A gate that allows everything (used by tests of the raw layer)."""

    def authorize(self, request: SyscallRequest, spec: SyscallSpec, ctx: CallContext) -> None:
        return None


class Auditor(Protocol):
    def step(self, result: SyscallResult, ctx: CallContext) -> None: ...


class DispatchStep(Protocol):
    """Something done around each dispatch: ``begin`` before the gate, ``end`` with the result's status
    (``"interrupted"`` when dispatch raised).  The journal's write-ahead record is one."""

    def begin(self, request: ValidatedRequest, how: Invocation) -> object: ...

    def end(self, token: object, status: str) -> None: ...


def invocation(how: Invocation | Path | str | None = None) -> Invocation:
    """``how`` as an ``Invocation``: itself, or one for a bare cwd (None: the process's)."""
    if isinstance(how, Invocation):
        return how
    return Invocation(cwd=Path(how) if how is not None else None)


class PlainEffects:
    """Side effects with no journal: removal is permanent."""

    def remove(self, ctx: CallContext, path: Path) -> JSONDict:
        if path.is_dir() and not path.is_symlink():
            count = 0
            size = 0
            for sub in path.rglob("*"):
                count += 1
                try:
                    if sub.is_file() and not sub.is_symlink():
                        size += sub.lstat().st_size
                except OSError:
                    pass
            shutil.rmtree(path)
            return {"path": str(path), "entries": count + 1, "bytes": size, "trashed": False}
        size = path.lstat().st_size
        path.unlink()
        return {"path": str(path), "entries": 1, "bytes": size, "trashed": False}

    def before_overwrite(self, ctx: CallContext, path: Path) -> None:
        return None

    def record(self, ctx: CallContext, inverse: JSONDict) -> None:
        return None


def translate(exc: BaseException, *, call: str, target: str = "") -> E.SyscallError:
    """Map a foreign exception to our tree (the boundary of ``raise ... from``)."""
    if isinstance(exc, E.SyscallError):
        return exc
    if isinstance(exc, psutil.NoSuchProcess):
        return E.ProcessGone(f"no process with pid {exc.pid}", call=call, target=f"pid {exc.pid}")
    if isinstance(exc, psutil.AccessDenied):
        return E.AccessDenied(f"access to pid {exc.pid} denied", call=call, target=f"pid {exc.pid}")
    if isinstance(exc, psutil.TimeoutExpired):
        return E.TimedOut(f"pid {exc.pid} did not exit in time", call=call, target=f"pid {exc.pid}")
    if isinstance(exc, OSError):
        return E.from_oserror(exc, call=call, target=target)
    if isinstance(exc, RecursionError):
        return E.LimitExceeded("the tree is too deep", call=call, target=target)
    if isinstance(exc, MemoryError):
        return E.LimitExceeded("out of memory", call=call, target=target)
    return E.OSFailure(f"{type(exc).__name__}: {exc}", call=call, target=target,
                       hint="this is a bug in nlshell; please report it with the request")


_STATUS = {"invalid": "invalid", "denied": "denied", "cancelled": "cancelled"}


@dataclass
class Dispatcher:
    registry: Registry
    gate: Gate = field(default_factory=AllowAll)
    effects: Any = field(default_factory=PlainEffects)
    auditor: Auditor | None = None
    max_rows: int = 10_000
    max_bytes: int = 1_000_000
    timeout_s: float = 60.0
    # Done around every dispatch, in order (ended in reverse): the journal's write-ahead record.
    steps: list[DispatchStep] = field(default_factory=list)
    # The approval callback used when an invocation brings none.
    default_approve: Approver | None = None
    # What front ends reach through the dispatcher (undo, history, /audit); set by ``safe_dispatcher``.
    journal: Journal | None = None
    audit: AuditLog | None = None

    def context(self, call: str, how: Invocation | Path | str | None = None) -> CallContext:
        """The context a call of ``call`` runs with under ``how`` (an Invocation or a bare cwd)."""
        inv = invocation(how)
        return CallContext(
            call=call,
            cwd=inv.cwd if inv.cwd is not None else Path.cwd(),
            effects=self.effects,
            cancel=inv.cancel or threading.Event(),
            max_rows=self.max_rows,
            max_bytes=self.max_bytes,
            timeout_s=self.timeout_s,
            session=inv.session,
            dry_run=inv.dry_run,
            progress=inv.progress,
            approve=inv.approve,
            intent=inv.intent,
            tainted_by=inv.tainted_by,
        )

    def handle(self, request: ValidatedRequest | SyscallRequest,
               how: Invocation | Path | str | None = None) -> SyscallResult:
        """Run one request under ``how`` (an Invocation or a bare cwd); never raises for the request's
        failure.  A plain ``SyscallRequest`` is validated first (``invalid`` if it fails)."""
        inv = invocation(how)
        if isinstance(request, ValidatedRequest):
            checked = request
        else:
            try:
                checked = validate(request, self.registry)
            except E.InvalidRequest as exc:
                refused = SyscallResult(request=request, status="invalid", error=exc.to_dict())
                if self.auditor is not None:  # what was refused is on the record too
                    self.auditor.step(refused, self.context(request.call, inv))
                return refused
        if inv.approve is None and self.default_approve is not None:
            inv = replace(inv, approve=self.default_approve)
        begun: list[tuple[DispatchStep, object]] = []
        try:
            for step in self.steps:
                begun.append((step, step.begin(checked, inv)))
            result = self._dispatch(checked, inv)
        except BaseException:
            for step, token in reversed(begun):
                step.end(token, "interrupted")
            raise
        for step, token in reversed(begun):
            step.end(token, result.status)
        return result

    def _dispatch(self, validated: ValidatedRequest, how: Invocation) -> SyscallResult:
        start = time.perf_counter()
        request, spec = validated.request, validated.spec
        result = SyscallResult(request=request, status="ok")
        ctx = self.context(request.call, how)
        dry_run = how.dry_run
        try:
            ctx.check_cancel()
            self.gate.authorize(request, spec, ctx)
            ctx.check_cancel()
            if dry_run and spec.risk is not Risk.READ:
                result.status = "dry-run"
                preview = spec.preview(ctx, dict(request.args)) if spec.preview else {}
                result.data = {"would_run": request.call, "args": dict(request.args), **preview}
                if ctx.would_ask is not None:
                    result.data["needs_approval"] = ctx.would_ask
            else:
                data = spec.impl(ctx, dict(request.args))
                result.data, result.truncated = self._cap(spec, data)
        except BaseException as exc:  # translated below; KeyboardInterrupt re-raised
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            err = translate(exc, call=request.call, target=spec.target(request.args))
            if not err.call:
                err.call = request.call
            result.status = _STATUS.get(err.kind, "failed")
            result.error = err.to_dict()
            result.data = None
        result.elapsed_s = time.perf_counter() - start
        if self.auditor is not None:
            self.auditor.step(result, ctx)
        return result

    def _cap(self, spec: SyscallSpec, data: JSONDict) -> tuple[JSONDict, bool]:
        truncated = bool(data.get("truncated", False))
        if spec.view.kind == "table" and spec.view.key:
            rows = data.get(spec.view.key)
            if isinstance(rows, list) and len(rows) > self.max_rows:
                data = {**data, spec.view.key: rows[: self.max_rows], "truncated": True}
                truncated = True
        return data, truncated
