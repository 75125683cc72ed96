"""Path canonicalisation and symlink-safe opening, done once, by us.

Every path a request names is turned into a ``Target``: the lexical path
(``~`` of the current user expanded, joined to the session cwd, ``..`` folded
without looking at the disk) and the resolved path (every symlink followed).
Permissions must hold for BOTH: ``allowed/link/../x`` is inside ``allowed``
lexically, but wherever ``link`` points on disk.

Implementations open what the gate checked with ``open_checked`` /
``open_nofollow`` / ``safe_open_dir``: the path is walked one component at a
time from ``/`` with ``O_NOFOLLOW``, so a directory swapped for a symlink
between the check and the open makes the open fail (``ELOOP`` / ``ENOTDIR``)
instead of escaping.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from syscalls.display import unsafe_char
from syscalls.errors import InvalidRequest, WrongType, from_oserror
from syscalls.types import CallContext, resolve_path

_O_PATH = getattr(os, "O_PATH", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True)
class Target:
    """One path argument: what was asked, where it is lexically, where it leads on disk."""

    raw: str
    lexical: Path
    resolved: Path

    def forms(self) -> tuple[Path, ...]:
        """The distinct forms a rule has to hold for."""
        if self.lexical == self.resolved:
            return (self.lexical,)
        return (self.lexical, self.resolved)


def canonical(raw: str, cwd: Path, *, call: str = "", field: str = "path") -> Target:
    """Canonicalise one user path (see the module docstring).

    Refuses ``~other`` and control / bidi characters (validation refuses them
    first; this is the second line for callers that skip validation).
    """
    if not isinstance(raw, str) or not raw:
        raise InvalidRequest("a path must be a non-empty string", call=call, field=f"args.{field}")
    bad = unsafe_char(raw)
    if bad is not None:
        raise InvalidRequest(f"path contains the control character U+{ord(bad):04X}", call=call,
                             field=f"args.{field}",
                             hint="paths may not contain NUL, newlines, escapes or bidi controls")
    if raw.startswith("~") and not (raw == "~" or raw.startswith("~/")):
        raise InvalidRequest("another user's home (~name) is not expanded", call=call,
                             field=f"args.{field}", hint="write the absolute path instead")
    lexical = resolve_path(raw, Path(os.path.normpath(cwd)))
    # realpath of the raw join (not of the lexical form): ``link/..`` must go
    # through ``link`` on disk, as the kernel would.
    joined = raw
    if raw == "~" or raw.startswith("~/"):
        joined = os.path.expanduser("~") + raw[1:]
    if not os.path.isabs(joined):
        joined = os.path.join(str(cwd), joined)
    resolved = Path(os.path.realpath(joined))
    return Target(raw=raw, lexical=lexical, resolved=resolved)


def is_within(path: Path, root: Path) -> bool:
    """``path`` is ``root`` or below it (both absolute, already normalised)."""
    if path == root:
        return True
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def _components(path: Path) -> list[str]:
    if not path.is_absolute():
        raise ValueError(f"not an absolute path: {path}")
    return [part for part in path.parts[1:] if part]


def _walk_parent(path: Path, call: str) -> tuple[int, str]:
    """Open every directory above ``path`` with ``O_NOFOLLOW``; return (dir fd, last name)."""
    parts = _components(Path(os.path.normpath(path)))
    fd = os.open("/", (_O_PATH or os.O_RDONLY) | _O_DIRECTORY | _O_CLOEXEC)
    try:
        for part in parts[:-1]:
            nfd = os.open(part, (_O_PATH or os.O_RDONLY) | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC,
                          dir_fd=fd)
            os.close(fd)
            fd = nfd
    except OSError as exc:
        os.close(fd)
        raise _symlink_error(exc, call, path) from exc
    return fd, (parts[-1] if parts else ".")


def _symlink_error(exc: OSError, call: str, path: Path) -> Exception:
    if exc.errno in (errno.ELOOP, errno.ENOTDIR):
        return WrongType("a symbolic link is in the way (it may have been swapped in after the check)",
                         call=call, target=str(path),
                         hint="nlshell does not follow a symlink it did not check; run the request again")
    return from_oserror(exc, call=call, target=str(path))


def open_nofollow(path: Path | str, flags: int = os.O_RDONLY, mode: int = 0o600, *,
                  call: str = "", allow_special: bool = False) -> int:
    """Open an absolute path without following a symlink in ANY component.

    Returns a file descriptor (the caller closes it).  FIFOs are opened
    non-blocking so a FIFO never hangs; unless ``allow_special``, anything but a
    regular file or directory is refused with ``WrongType``.
    """
    p = Path(path)
    dfd, name = _walk_parent(p, call)
    try:
        fd = os.open(name, flags | _O_NOFOLLOW | _O_CLOEXEC | os.O_NONBLOCK, mode, dir_fd=dfd)
    except OSError as exc:
        if exc.errno in (errno.ENXIO, errno.EOPNOTSUPP):  # a socket (or a device with no driver)
            raise WrongType("a socket or device is not read or written by nlshell", call=call, target=str(p),
                            hint="only regular files and directories are handled") from exc
        raise _symlink_error(exc, call, p) from exc
    finally:
        os.close(dfd)
    try:
        st = os.fstat(fd)
        if not allow_special and not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
            raise WrongType(f"{describe_mode(st.st_mode)} is not read or written by nlshell", call=call,
                            target=str(p), hint="only regular files and directories are handled")
        if not (flags & os.O_NONBLOCK):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def safe_open_dir(path: Path | str, *, call: str = "") -> int:
    """Open a directory (for ``os.scandir(fd)`` / ``dir_fd=`` calls) without following symlinks."""
    return open_nofollow(path, os.O_RDONLY | _O_DIRECTORY, call=call)


def checked_path(ctx: CallContext, raw: str) -> Path:
    """The path the gate checked for ``raw`` (its resolved form), or resolve it now."""
    checked = getattr(ctx, "checked_paths", None)
    if isinstance(checked, dict):
        hit = checked.get(raw)
        if isinstance(hit, Path):
            return hit
    return canonical(raw, ctx.cwd, call=ctx.call).resolved


def open_checked(ctx: CallContext, raw: str, flags: int = os.O_RDONLY, mode: int = 0o600, *,
                 allow_special: bool = False) -> int:
    """Open exactly the path the gate approved for the argument ``raw``, following no symlink."""
    return open_nofollow(checked_path(ctx, raw), flags, mode, call=ctx.call, allow_special=allow_special)


def describe_mode(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "a regular file"
