"""The dispatcher: the only caller of syscall implementations.

It takes a validated request, asks the permission gate, runs the call with a
context (cwd, effects hooks, cancellation, caps), times it, translates any
foreign error that slipped through, caps large results and returns a
``SyscallResult`` envelope.  It never raises for a request's failure: the
envelope says ``ok`` / ``failed`` / ``denied`` / ``cancelled`` / ``invalid`` /
``dry-run``.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import psutil

from syscalls import errors as E
from syscalls.types import Approver, CallContext, JSONDict, Risk, SyscallRequest, SyscallResult, SyscallSpec

if TYPE_CHECKING:
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

    def context(self, call: str, cwd: Path, *, session: str = "default", dry_run: bool = False,
                cancel: threading.Event | None = None,
                progress: Callable[[str, int], None] | None = None,
                approve: Approver | None = None, intent: str = "",
                tainted_by: str | None = None) -> CallContext:
        return CallContext(
            call=call,
            cwd=cwd,
            effects=self.effects,
            cancel=cancel or threading.Event(),
            max_rows=self.max_rows,
            max_bytes=self.max_bytes,
            timeout_s=self.timeout_s,
            session=session,
            dry_run=dry_run,
            progress=progress,
            approve=approve,
            intent=intent,
            tainted_by=tainted_by,
        )

    def handle(
        self,
        request: SyscallRequest,
        cwd: Path | str | None = None,
        *,
        session: str = "default",
        dry_run: bool = False,
        cancel: threading.Event | None = None,
        progress: Callable[[str, int], None] | None = None,
        approve: Approver | None = None,
        intent: str = "",
        tainted_by: str | None = None,
    ) -> SyscallResult:
        """Authorize and run one validated request; never raises for its failure."""
        start = time.perf_counter()
        result = SyscallResult(request=request, status="ok")
        ctx = self.context(request.call, Path(cwd) if cwd else Path.cwd(), session=session,
                           dry_run=dry_run, cancel=cancel, progress=progress,
                           approve=approve, intent=intent, tainted_by=tainted_by)
        try:
            spec = self.registry.get(request.call)
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
            err = translate(exc, call=request.call, target=self._target_of(request))
            if not err.call:
                err.call = request.call
            result.status = _STATUS.get(err.kind, "failed")
            result.error = err.to_dict()
            result.data = None
        result.elapsed_s = time.perf_counter() - start
        if self.auditor is not None:
            self.auditor.step(result, ctx)
        return result

    def _target_of(self, request: SyscallRequest) -> str:
        return self.registry.get(request.call).target(request.args) if request.call in self.registry else ""

    def _cap(self, spec: SyscallSpec, data: JSONDict) -> tuple[JSONDict, bool]:
        truncated = bool(data.get("truncated", False))
        if spec.view.kind == "table" and spec.view.key:
            rows = data.get(spec.view.key)
            if isinstance(rows, list) and len(rows) > self.max_rows:
                data = {**data, spec.view.key: rows[: self.max_rows], "truncated": True}
                truncated = True
        return data, truncated
