"""Helpers shared by the file syscalls: types, safe opening, modes, owners, time.

Everything here works on plain strings and ``os.stat_result`` values (no
per-entry ``Path`` objects) because the walkers call it once per entry.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import fnmatch
import grp
import mimetypes
import os
import pwd
import re
import shutil
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import IO

from syscalls import schema as S
from syscalls.errors import (
    AccessDenied,
    ExecutionError,
    InvalidRequest,
    LimitExceeded,
    NotFound,
    SyscallError,
    WrongType,
    from_oserror,
)
from syscalls.paths import canonical, checked_path, open_checked, open_nofollow, safe_open_dir
from syscalls.types import CallContext, JSONDict, Risk, SyscallSpec

# Words used in results and in the ``type`` argument of fs.find.
TYPE_WORDS = ("file", "dir", "symlink", "fifo", "socket", "char_device", "block_device")


TYPE_BY_FMT: dict[int, str] = {
    stat.S_IFREG: "file", stat.S_IFDIR: "dir", stat.S_IFLNK: "symlink", stat.S_IFIFO: "fifo",
    stat.S_IFSOCK: "socket", stat.S_IFCHR: "char_device", stat.S_IFBLK: "block_device",
}


def type_of(mode: int) -> str:
    """The type word of an ``st_mode``."""
    fmt = stat.S_IFMT(mode)
    if fmt == stat.S_IFREG:
        return "file"
    if fmt == stat.S_IFDIR:
        return "dir"
    if fmt == stat.S_IFLNK:
        return "symlink"
    if fmt == stat.S_IFIFO:
        return "fifo"
    if fmt == stat.S_IFSOCK:
        return "socket"
    if fmt == stat.S_IFCHR:
        return "char_device"
    if fmt == stat.S_IFBLK:
        return "block_device"
    return "other"


def iso(ts: float) -> str:
    """Local time of an epoch timestamp as ISO 8601 with offset, to the second."""
    return _dt.datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")


@lru_cache(maxsize=4096)
def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


@lru_cache(maxsize=4096)
def group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


@lru_cache(maxsize=4096)
def uid_known(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return False
    return True


@lru_cache(maxsize=4096)
def gid_known(gid: int) -> bool:
    try:
        grp.getgrgid(gid)
    except KeyError:
        return False
    return True


def lookup_uid(name: str, call: str) -> int:
    """A user's uid from its name or number, as chown and find take it: a name first, then digits
    ("+1000" is always the number)."""
    return _lookup_id(name, call, lambda n: pwd.getpwnam(n).pw_uid, "user",
                      "give an existing user name (see sys.accounts) or a numeric uid")


def lookup_gid(name: str, call: str) -> int:
    """A group's gid from its name or number (a name first, then digits)."""
    return _lookup_id(name, call, lambda n: grp.getgrnam(n).gr_gid, "group",
                      "give an existing group name (see sys.accounts kind=\"groups\") or a numeric gid")


def _lookup_id(name: str, call: str, by_name: Callable[[str], int], what: str, hint: str) -> int:
    try:
        return by_name(name)
    except KeyError:
        pass
    if name.lstrip("+").isdigit():
        return int(name.lstrip("+"))
    raise InvalidRequest(f"no such {what} {name!r}", call=call, field=f"args.{what}", hint=hint)


def entries_below(ctx: CallContext, top: str, *, symlinks: bool) -> list[str]:
    """Every entry below the directory ``top``, depth first in name order, never following a symlink
    (and leaving symlinks out unless ``symlinks``); cancellable."""
    found: list[str] = []
    stack = [top]
    while stack:
        d = stack.pop()
        ctx.check_cancel()
        try:
            with os.scandir(d) as it:
                for e in sorted(it, key=lambda e: e.name):
                    if not symlinks and e.is_symlink():
                        continue
                    found.append(e.path)
                    if e.is_dir(follow_symlinks=False):
                        stack.append(e.path)
        except OSError as exc:
            raise from_oserror(exc, call=ctx.call, target=d) from exc
    return found


def stand_in_spec(call: str, *, write: bool) -> SyscallSpec:
    """A spec holding only what the floor's rules look at (capability and risk), for a path a call reads or
    writes on the way (a directory's entries, an archive's members) rather than one its request names."""
    return SyscallSpec(name=call, doc="", args_schema={}, result_schema={},
                       capability="fs.write" if write else "fs.read", risk=Risk.WRITE if write else Risk.READ,
                       undoable=write, impl=lambda c, a: {})


def floor_refusal(ctx: CallContext, path: str, *, write: bool) -> str | None:
    """Why the hard floor refuses to read ``path`` (or, with ``write``, to change it), met while walking a
    directory the gate checked as a whole; None when it lets it pass.  The walk skips such an entry and
    says why, as the gate would have refused it had it been named."""
    from syscalls.permissions import Floor

    try:
        Floor().check(stand_in_spec(ctx.call, write=write), {}, [canonical(path, ctx.cwd, call=ctx.call)], [], ctx)
    except SyscallError as exc:
        return f"protected: {exc.message}"
    return None


class FloorFilter:
    """``floor_refusal`` for every entry of a walk, at the cost of a few string tests per entry.

    The floor's rules for a file call are about places (the credential stores and, for reading, /proc,
    /sys and /dev; for writing also nlshell's state, the login hooks, the system directories, what is
    directly under ``/``) and a name (a repository's ``.git``).  An entry in none of them passes without
    asking the floor; one that may be in one is asked, which also gives the reason.  ``refusal`` takes
    the entry as written and as on disk (the walk follows no link, so that is the start's resolved path
    with the same rest: ``rebase``).
    """

    def __init__(self, ctx: CallContext, *, write: bool) -> None:
        from syscalls.permissions import NO_READ_DIRS, Floor

        self.ctx = ctx
        self.write = write
        places = Floor().unwritable() if write else [*Floor.unreadable(), *map(Path, NO_READ_DIRS)]
        self.places = tuple(sorted({str(p) for p in places}))

    def _near(self, path: str) -> bool:
        if self.write and (os.path.dirname(path) == "/" or "/.git/" in path or path.endswith("/.git")):
            return True
        return any(path == p or path.startswith(p + "/") for p in self.places)

    def refusal(self, path: str, real: str) -> str | None:
        if not (self._near(path) or self._near(real)):
            return None
        return floor_refusal(self.ctx, path, write=self.write)


def sort_rows(rows: list[JSONDict], sort: str, reverse: bool, key_name: str) -> None:
    """``name`` ascending, ``size`` largest first, ``mtime`` newest first (like ls); reverse flips."""
    if sort == "name":
        rows.sort(key=itemgetter(key_name), reverse=reverse)
    elif sort == "size":
        rows.sort(key=lambda r: (-r["size_bytes"], r[key_name]), reverse=reverse)
    elif sort == "mtime":
        rows.sort(key=lambda r: (-r["mtime"], r[key_name]), reverse=reverse)


# ---------------------------------------------------------------- safe opening

_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_O_PATH = getattr(os, "O_PATH", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
DIR_FLAGS = os.O_RDONLY | _O_DIRECTORY | os.O_NOFOLLOW | _O_CLOEXEC
"""Flags to open a sub-directory relative to its parent's fd: a symlink there is refused."""


def _not_regular(st: os.stat_result, call: str, target: str) -> WrongType:
    kind = type_of(st.st_mode)
    hint = ("list it with fs.list instead" if kind == "dir"
            else "only regular files are read; FIFOs, sockets and devices could block or never end")
    return WrongType(f"is a {kind.replace('_', ' ')}, not a regular file", call=call, target=target,
                     hint=hint)


def _check_regular(fd: int, call: str, target: str) -> os.stat_result:
    """fstat ``fd``; close it and raise ``WrongType`` unless it is a regular file; else make it blocking."""
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _not_regular(st, call, target)
        os.set_blocking(fd, True)
    except OSError as exc:
        os.close(fd)
        raise from_oserror(exc, call=call, target=target) from exc
    except BaseException:
        os.close(fd)
        raise
    return st


def open_regular_checked(ctx: CallContext, raw: str, display: str) -> tuple[int, os.stat_result]:
    """Open, for reading, exactly the regular file the gate approved for the argument ``raw``.

    The path is walked from ``/`` one component at a time with ``O_NOFOLLOW``
    (``syscalls.paths.open_checked``), so a directory swapped for a symlink after the
    check makes the open fail instead of escaping.  FIFOs open non-blocking and are
    refused by ``fstat`` before a byte is read, like sockets and devices.  ``display``
    is the path errors name (the one the person wrote, made absolute).
    """
    try:
        fd = open_checked(ctx, raw, os.O_RDONLY | os.O_NONBLOCK, allow_special=True)
    except ExecutionError as exc:
        exc.target = display  # the path as the person wrote it (made absolute)
        raise
    return fd, _check_regular(fd, ctx.call, display)


def open_regular_at(dir_fd: int, name: str, call: str, display: str) -> tuple[int, os.stat_result]:
    """Open the regular file ``name`` inside the directory ``dir_fd`` (no symlink, never blocking)."""
    try:
        fd = os.open(name, _OPEN_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise WrongType("is a symbolic link; it is not followed here", call=call, target=display,
                            hint="read the link's target path instead") from exc
        if exc.errno in (errno.ENXIO, errno.EOPNOTSUPP):
            raise WrongType("a socket or device is not read by nlshell", call=call, target=display,
                            hint="only regular files are read") from exc
        raise from_oserror(exc, call=call, target=display) from exc
    return fd, _check_regular(fd, call, display)


def open_path_checked(ctx: CallContext, raw: str) -> tuple[int, os.stat_result]:
    """An ``O_PATH`` fd (any file type, nothing opened for I/O) of the checked path, with its fstat."""
    flags = (_O_PATH or os.O_RDONLY) | os.O_NONBLOCK
    fd = open_checked(ctx, raw, flags, allow_special=True)
    try:
        st = os.fstat(fd)
    except OSError as exc:
        os.close(fd)
        raise from_oserror(exc, call=ctx.call, target=raw) from exc
    if stat.S_ISLNK(st.st_mode):  # O_PATH|O_NOFOLLOW opened a link: a loop, or one swapped in
        os.close(fd)
        raise WrongType("a symbolic link that does not resolve (a loop, or one swapped in after the check)",
                        call=ctx.call, target=raw, hint="check where the link points with fs.realpath")
    return fd, st


def open_regular(path: str, call: str) -> tuple[int, os.stat_result]:
    """Open a regular file by name for reading without ever blocking or reading a device.

    For paths nlshell derived itself (not request arguments, which go through
    ``open_regular_checked``).  Symlinks are resolved first, then the real path is
    walked with ``O_NOFOLLOW`` on every component and checked with ``fstat``.
    """
    real = os.path.realpath(path)
    fd = open_nofollow(real, os.O_RDONLY | os.O_NONBLOCK, call=call, allow_special=True)
    return fd, _check_regular(fd, call, path)


def join(parent: str, name: str) -> str:
    """``parent/name`` without doubling the slash of ``/``."""
    return parent + name if parent.endswith("/") else parent + "/" + name


def rebase(path: str, old: str, new: str) -> str:
    """``path`` (``old`` or below it) as the same place below ``new``: a walked path as written, turned
    into the path the gate checked (or back)."""
    if path == old:
        return new
    return join(new, path[len(old):].lstrip("/"))


def remove_tree_at(dir_fd: int, name: str) -> None:
    """Remove ``name`` (a tree) inside ``dir_fd`` bottom-up, iteratively, following no symlink.

    Holds two fds at a time whatever the depth (the way back up is ``..``), so a tree
    far deeper than the recursion limit or ``PATH_MAX`` goes away.
    """
    try:
        os.unlink(name, dir_fd=dir_fd)
        return
    except IsADirectoryError:
        pass
    except PermissionError:
        if not stat.S_ISDIR(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode):
            raise
    fd = os.open(name, DIR_FLAGS, dir_fd=dir_fd)
    depth = 0
    try:
        while True:
            with os.scandir(fd) as it:
                entries = [(e.name, e.is_dir(follow_symlinks=False)) for e in it]
            sub = next((n for n, is_dir in entries if is_dir), None)
            for n, is_dir in entries:
                if not is_dir:
                    os.unlink(n, dir_fd=fd)
            if sub is not None:  # go down into one sub-directory
                nfd = os.open(sub, DIR_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = nfd
                depth += 1
                continue
            if depth == 0:
                break
            parent = os.open("..", DIR_FLAGS, dir_fd=fd)  # empty now: go up and remove it
            here = os.fstat(fd)
            os.close(fd)
            fd = parent
            depth -= 1
            with os.scandir(fd) as it:
                for e in it:
                    if e.inode() == here.st_ino and e.is_dir(follow_symlinks=False):
                        os.rmdir(e.name, dir_fd=fd)
                        break
    finally:
        os.close(fd)
    os.rmdir(name, dir_fd=dir_fd)


def read_prefix(fd: int, limit: int) -> bytes:
    """Read up to ``limit`` bytes from the current offset (bounded memory)."""
    chunks: list[bytes] = []
    left = limit
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def looks_binary(sample: bytes) -> bool:
    """A NUL byte, or bytes that are not UTF-8 text, in the first block."""
    if b"\x00" in sample:
        return True
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # a multi-byte character cut at the end of the sample is still text
        return exc.start < len(sample) - 3
    return False


_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x7fELF", "application/x-executable"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
    (b"BZh", "application/x-bzip2"),
    (b"\xfd7zXZ\x00", "application/x-xz"),
    (b"SQLite format 3\x00", "application/vnd.sqlite3"),
)


def mime_guess(path: str, head: bytes) -> str:
    for magic, mime in _MAGIC:
        if head.startswith(magic):
            return mime
    guess, _ = mimetypes.guess_type(path)
    return guess or "application/octet-stream"


def ensure_exists(path: str, call: str) -> os.stat_result:
    try:
        return os.lstat(path)
    except OSError as exc:
        raise from_oserror(exc, call=call, target=path) from exc


def refuse_if_not_permitted(path: str, call: str, want: int) -> None:
    if not os.access(path, want):
        raise AccessDenied("permission denied", call=call, target=path)


# ---------------------------------------------------------------- globs

@lru_cache(maxsize=512)
def compile_glob(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    """A wildcard as ``fnmatch(3)`` without flags reads it (what find -name/-path use).

    ``*`` and ``?`` match any character including ``/``; ``[...]`` is a class
    (``!`` or ``^`` negates); a backslash makes the next character literal,
    so ``'*/\\.*'`` means "a path with a component starting with a dot".
    """
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "\\" and i < n:
            out.append(re.escape(pattern[i]))
            i += 1
        elif c == "[":
            j = i
            if j < n and pattern[j] in "!^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:
                out.append(re.escape(c))
                continue
            body = pattern[i:j]
            i = j + 1
            neg = body[:1] in ("!", "^")
            if neg:
                body = body[1:]
            body = body.replace("\\", "\\\\").replace("[", "\\[")
            out.append(f"[{'^' if neg else ''}{body}]")
        else:
            out.append(re.escape(c))
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile("".join(out) + r"\Z", flags)


def existing_regular(ctx: CallContext, path: str, real: str, *, what: str = "a regular file",
                     hint: str = "") -> os.stat_result | None:
    """The existing regular file at the checked ``real`` path, None if absent; else a typed error.

    ``path`` is the lexical path (a dangling link there is refused, not written through).
    """
    if os.path.islink(path) and not os.path.exists(path):
        raise WrongType("is a dangling symbolic link", call=ctx.call, target=path,
                        hint="write to the link's target path instead")
    parent, name = os.path.split(real)
    try:
        dfd = safe_open_dir(parent or "/", call=ctx.call)
    except NotFound:
        raise NotFound("the parent directory does not exist", call=ctx.call, target=os.path.dirname(path),
                       hint="create it first with fs.mkdir (parents=true)") from None
    try:
        st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise from_oserror(exc, call=ctx.call, target=path) from exc
    finally:
        os.close(dfd)
    if not stat.S_ISREG(st.st_mode):
        raise WrongType(f"is a {type_of(st.st_mode).replace('_', ' ')}, not {what}",
                        call=ctx.call, target=path, hint=hint)
    return st


# ---------------------------------------------------------------- replacing a file whole

_TMP_FLAGS = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def umask() -> int:
    """The process umask (read by setting it and putting it back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def tmp_name() -> str:
    """A fresh name for a temp file beside the one it becomes (hidden, unmistakably ours)."""
    return f".nlsh-{os.urandom(6).hex()}.tmp"


@contextlib.contextmanager
def replacing(ctx: CallContext, real: str, mode: int | None, *, seed: str | None = None,
              target: str | None = None) -> Iterator[tuple[IO[bytes], int]]:
    """A temp file beside ``real`` (a copy of ``seed`` if given), fsynced and renamed over ``real`` when
    the block ends without an error; on an error it is removed and ``real`` is untouched.

    ``real`` is the checked path: its directory is opened without following a symlink in any component and
    every step is relative to that fd, so a directory swapped after the check is refused rather than written
    through.  ``mode`` is the new file's permission bits (None: 0666 less the umask).  Yields the file
    (opened r+b) and its inode, so a walk writing into it can skip it.  Errors name ``target`` (default
    ``real``).
    """
    shown = target or real
    directory, name = os.path.split(real)
    dfd = safe_open_dir(directory or "/", call=ctx.call)
    tmp = tmp_name()
    try:
        try:
            fd = os.open(tmp, _TMP_FLAGS, 0o600, dir_fd=dfd)
        except OSError as exc:
            raise from_oserror(exc, call=ctx.call, target=shown) from exc
        try:
            with os.fdopen(fd, "w+b") as fh:
                if seed is not None:
                    sfd = open_nofollow(seed, os.O_RDONLY, call=ctx.call)
                    with os.fdopen(sfd, "rb") as src:
                        shutil.copyfileobj(src, fh, 1 << 20)
                    fh.seek(0)
                yield fh, os.fstat(fh.fileno()).st_ino
                fh.flush()
                os.fchmod(fh.fileno(), mode if mode is not None else 0o666 & ~umask())
                os.fsync(fh.fileno())
            os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=dfd)
            raise
        with contextlib.suppress(OSError):  # make the rename durable
            os.fsync(dfd)
    except OSError as exc:
        raise from_oserror(exc, call=ctx.call, target=shown) from exc
    finally:
        os.close(dfd)


def write_whole(ctx: CallContext, real: str, data: bytes, mode: int | None, *, target: str | None = None) -> None:
    """``data`` as the whole new content of ``real``, atomically (see ``replacing``)."""
    with replacing(ctx, real, mode, target=target) as (fh, _ino):
        fh.write(data)


# ---------------------------------------------------------------- the files a request names

MAX_FILES = 100_000
VCS_DIRS = frozenset({".git", ".hg", ".svn", ".bzr"})


@dataclass(frozen=True)
class TargetFile:
    path: str  # as shown: the lexical path (absolute)
    real: str  # what is opened and written (under the path the gate checked)


@dataclass
class Targets:
    root: str
    is_dir: bool
    files: list[TargetFile] = field(default_factory=list)
    skipped: list[JSONDict] = field(default_factory=list)


def file_targets(ctx: CallContext, args: JSONDict, *, write: bool, key: str = "path",
             allow_dir: bool = True) -> Targets:
    """The files a request names: one file, or the files of a directory that match ``include``."""
    call = ctx.call
    raw = args[key]
    lexical = str(ctx.resolve(raw))
    real = str(checked_path(ctx, raw))
    try:
        st = os.stat(real)
    except FileNotFoundError:
        raise NotFound("no such file or directory", call=call, target=lexical,
                       hint="check the spelling, or list the folder first with fs.list") from None
    except OSError as exc:
        raise from_oserror(exc, call=call, target=lexical) from exc
    if stat.S_ISREG(st.st_mode):
        return Targets(lexical, False, [TargetFile(lexical, real)])
    if not stat.S_ISDIR(st.st_mode):
        raise _not_regular(st, call, lexical)
    if not allow_dir:
        raise WrongType("is a directory", call=call, target=lexical,
                        hint="name one file; to work on many, use fs.find first")
    out = Targets(lexical, True)
    include = args.get("include")
    recursive = bool(args.get("recursive", True))
    stack: list[str] = [""]
    while stack:
        rel = stack.pop()
        ctx.check_cancel()
        dreal = os.path.join(real, rel) if rel else real
        dshown = os.path.join(lexical, rel) if rel else lexical
        try:
            with os.scandir(dreal) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            out.skipped.append({"path": dshown, "reason": exc.strerror or str(exc)})
            continue
        subdirs: list[str] = []
        for e in entries:
            erel = os.path.join(rel, e.name) if rel else e.name
            shown = join(lexical, erel)
            try:
                if e.is_dir(follow_symlinks=False):
                    if recursive and e.name not in VCS_DIRS:
                        subdirs.append(erel)
                    continue
                if include and not fnmatch.fnmatchcase(e.name, include):
                    continue
                if e.is_symlink():
                    out.skipped.append({"path": shown, "reason": "a symbolic link; not followed"})
                    continue
                if not e.is_file(follow_symlinks=False):
                    out.skipped.append({"path": shown, "reason": "not a regular file"})
                    continue
            except OSError as exc:
                out.skipped.append({"path": shown, "reason": exc.strerror or str(exc)})
                continue
            freal = join(real, erel)
            refusal = floor_refusal(ctx, freal, write=write)
            if refusal is not None:
                out.skipped.append({"path": shown, "reason": refusal})
                continue
            out.files.append(TargetFile(shown, freal))
            if len(out.files) > MAX_FILES:
                raise LimitExceeded(f"more than {MAX_FILES} files under the directory", call=call,
                                    target=lexical, hint="narrow it with include or recursive=false")
        stack.extend(reversed(subdirs))
    return out


def open_target(ctx: CallContext, f: TargetFile) -> tuple[int, os.stat_result]:
    """Open one file of ``file_targets`` for reading: no symlink followed, never blocking, regular files only
    (errors name the path as shown)."""
    try:
        fd = open_nofollow(f.real, os.O_RDONLY | os.O_NONBLOCK, call=ctx.call, allow_special=True)
    except ExecutionError as exc:
        exc.target = f.path
        raise
    return fd, _check_regular(fd, ctx.call, f.path)


def where_args() -> dict[str, JSONDict]:
    return {
        "include": S.glob("in a directory: only files whose base name matches this wildcard, e.g. *.py"),
        "recursive": S.boolean("in a directory: also the files in its sub-directories (default true)"),
    }
