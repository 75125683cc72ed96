"""Helpers shared by the file syscalls: types, safe opening, modes, owners, time.

Everything here works on plain strings and ``os.stat_result`` values (no
per-entry ``Path`` objects) because the walkers call it once per entry.
"""

from __future__ import annotations

import datetime as _dt
import grp
import mimetypes
import os
import pwd
import re
import stat
from functools import lru_cache

from syscalls.errors import AccessDenied, InvalidRequest, WrongType, from_oserror

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
    if name.isdigit():
        return int(name)
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        raise InvalidRequest(f"no such user {name!r}", call=call, field="args.user",
                             hint="give an existing user name or a numeric uid") from None


def lookup_gid(name: str, call: str) -> int:
    if name.isdigit():
        return int(name)
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        raise InvalidRequest(f"no such group {name!r}", call=call, field="args.group",
                             hint="give an existing group name or a numeric gid") from None


# ---------------------------------------------------------------- safe opening

_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def open_regular(path: str, call: str) -> tuple[int, os.stat_result]:
    """Open a regular file for reading without ever blocking or reading a device.

    Symlinks are resolved first (so a link to a file reads the file), then the
    real path is opened with ``O_NONBLOCK | O_NOFOLLOW`` and checked with
    ``fstat``: a FIFO, socket, device or directory is refused with ``WrongType``
    before a single byte is read.
    """
    real = os.path.realpath(path)
    try:
        fd = os.open(real, _OPEN_FLAGS)
    except OSError as exc:
        raise from_oserror(exc, call=call, target=path) from exc
    try:
        st = os.fstat(fd)
    except OSError as exc:
        os.close(fd)
        raise from_oserror(exc, call=call, target=path) from exc
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        kind = type_of(st.st_mode)
        hint = ("list it with fs.list instead" if kind == "dir"
                else "only regular files are read; FIFOs, sockets and devices could block or never end")
        raise WrongType(f"is a {kind.replace('_', ' ')}, not a regular file", call=call, target=path,
                        hint=hint)
    try:  # back to blocking reads on a regular file (O_NONBLOCK has no effect there anyway)
        os.set_blocking(fd, True)
    except OSError:
        pass
    return fd, st


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


# ---------------------------------------------------------------- chmod modes

_OCTAL = re.compile(r"^0?[0-7]{3}$|^[0-7]{4}$")
_SYMBOLIC = re.compile(r"^[ugoa]*[-+=][rwxXt]*$")
_FORBIDDEN = stat.S_ISUID | stat.S_ISGID


def parse_mode(text: str, current: int, is_dir: bool, call: str) -> int:
    """The new permission bits for ``text`` (``"644"``, ``"0755"``, ``"u+x,go-w"``).

    Setuid and setgid are refused: nlshell never grants them.
    """
    text = text.strip()
    if _OCTAL.match(text):
        mode = int(text, 8)
        if mode & _FORBIDDEN:
            raise InvalidRequest("setuid/setgid bits are never set by nlshell", call=call, field="args.mode",
                                 hint="use a three-digit mode such as 755")
        return mode
    mode = current & 0o7777
    for clause in text.split(","):
        if "s" in clause:
            raise InvalidRequest("setuid/setgid bits are never set by nlshell", call=call, field="args.mode",
                                 hint="remove 's' from the mode")
        if not _SYMBOLIC.match(clause):
            raise InvalidRequest(f"not a mode: {clause!r}", call=call, field="args.mode",
                                 hint="use octal like 644 or symbolic like u+x,go-w")
        m = re.match(r"^([ugoa]*)([-+=])([rwxXt]*)$", clause)
        assert m is not None
        who, op, perms = m.group(1) or "a", m.group(2), m.group(3)
        if "a" in who:
            who = "ugo"
        bits = 0
        for w in who:
            shift = {"u": 6, "g": 3, "o": 0}[w]
            for p in perms:
                if p == "r":
                    bits |= 4 << shift
                elif p == "w":
                    bits |= 2 << shift
                elif p == "x" or (p == "X" and (is_dir or current & 0o111)):
                    bits |= 1 << shift
        sticky = stat.S_ISVTX if "t" in perms else 0
        if op == "+":
            mode |= bits | sticky
        elif op == "-":
            mode &= ~(bits | sticky)
        else:
            clear = 0
            for w in who:
                clear |= 7 << {"u": 6, "g": 3, "o": 0}[w]
            mode = (mode & ~clear) | bits | sticky
    return mode & ~_FORBIDDEN


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
