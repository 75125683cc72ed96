"""Typed errors of the syscall layer.

Every error names the call, the target (path, pid, field) and what the user
can do about it.  Foreign errors (``OSError``, ``psutil.Error``, ...) are
translated at the boundary with ``raise Ours(...) from exc``.

The tree::

    SyscallError
    ├── InvalidRequest          the request is malformed: unknown call, unknown or
    │                           extra field, wrong type, duplicate key, control
    │                           characters in a path.  Nothing ran.
    ├── Denied                  policy or the user said no.  Nothing ran.
    │   └── FloorViolation      the hard floor refused it; no rule or --yes lifts it.
    ├── CallCancelled           the user or the kernel cancelled it.
    └── ExecutionError          it ran and the OS refused or failed.
        ├── NotFound            no such file, directory or process.
        ├── AlreadyExists       the target exists and the call will not clobber it.
        ├── AccessDenied        the OS refused (EACCES / EPERM / psutil.AccessDenied).
        ├── WrongType           a directory where a file was expected, or the reverse,
        │                       or a FIFO / socket / device that is refused.
        ├── ProcessGone         the pid no longer names the process that was asked for.
        ├── TimedOut            the call ran past its time limit.
        ├── LimitExceeded       a size / depth / count cap was hit.
        ├── SealedDataError     encrypted storage does not open: no key, a wrong key or
        │                       passphrase, or altered data.  Nothing was changed.
        └── OSFailure           any other OS error (read-only file system, ENOSPC, ...).
"""

from __future__ import annotations

import errno
from typing import Any


class SyscallError(Exception):
    """Base of every error raised by the syscall layer."""

    kind = "error"
    default_hint = ""

    def __init__(
        self,
        message: str,
        *,
        call: str = "",
        target: str = "",
        hint: str = "",
    ) -> None:
        self.message = message
        self.call = call
        self.target = target
        self.hint = hint or self.default_hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = f"{self.call}: " if self.call else ""
        target = f" [{self.target}]" if self.target else ""
        hint = f" — {self.hint}" if self.hint else ""
        return f"{where}{self.message}{target}{hint}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": type(self).__name__,
            "kind": self.kind,
            "call": self.call,
            "target": self.target,
            "message": self.message,
            "hint": self.hint,
        }


class InvalidRequest(SyscallError):
    kind = "invalid"

    def __init__(
        self,
        message: str,
        *,
        call: str = "",
        field: str = "",
        hint: str = "",
    ) -> None:
        self.field = field
        super().__init__(
            message,
            call=call,
            target=field,
            hint=hint or "fix the request; see `nlsh man syscalls` for each call's arguments",
        )


class Denied(SyscallError):
    kind = "denied"
    default_hint = "nothing ran; change the policy or approve the request to allow it"


class FloorViolation(Denied):
    default_hint = "this is protected by nlshell's hard floor; no rule or --yes can allow it"


class CallCancelled(SyscallError):
    kind = "cancelled"
    default_hint = "nothing more ran after the cancellation"


class ExecutionError(SyscallError):
    kind = "failed"


class NotFound(ExecutionError):
    default_hint = "check the spelling or list the parent directory first"


class AlreadyExists(ExecutionError):
    default_hint = "choose another name or remove the existing one first"


class AccessDenied(ExecutionError):
    default_hint = "the operating system refused; check ownership and permissions"


class WrongType(ExecutionError):
    default_hint = "check what kind of object the target is (stat it)"


class ProcessGone(ExecutionError):
    default_hint = "list processes again; the pid may have exited or been reused"


class TimedOut(ExecutionError):
    default_hint = "narrow the request or raise the timeout"


class LimitExceeded(ExecutionError):
    default_hint = "narrow the request (a smaller tree, a limit, a line range)"


class SealedDataError(ExecutionError):
    """nlshell's encrypted storage (``syscalls.storage``) could not be opened or written."""

    default_hint = "nothing was changed; check the passphrase ($NLSH_PASSPHRASE) or the keyring"


class OSFailure(ExecutionError):
    default_hint = "the operating system reported an error; see the message"


_ERRNO_MAP: dict[int, type[ExecutionError]] = {
    errno.ENOENT: NotFound,
    errno.EEXIST: AlreadyExists,
    errno.ENOTEMPTY: AlreadyExists,
    errno.EACCES: AccessDenied,
    errno.EPERM: AccessDenied,
    errno.EISDIR: WrongType,
    errno.ENOTDIR: WrongType,
    errno.ELOOP: WrongType,
    errno.ESRCH: ProcessGone,
}


def from_oserror(exc: OSError, *, call: str, target: str = "") -> ExecutionError:
    """Translate an ``OSError`` into our tree, keeping the OS's own words."""
    cls = _ERRNO_MAP.get(exc.errno or 0, OSFailure)
    reason = exc.strerror or str(exc)
    hint = ""
    if exc.errno == errno.EROFS:
        hint = "the file system is mounted read-only; nothing was changed"
    elif exc.errno == errno.ELOOP:
        hint = "a symbolic link is in the way (or loops); nlshell does not follow it here"
    elif exc.errno == errno.ENOTEMPTY:
        hint = "the directory is not empty; delete it recursively or empty it first"
    return cls(reason, call=call, target=target or (exc.filename or ""), hint=hint)
