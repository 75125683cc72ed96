"""File syscalls: list, stat, read, find, grep, du, wc, checksum and the changes.

Every implementation resolves its paths with ``ctx.resolve``, translates
``OSError`` at the boundary with ``from_oserror`` and returns data only.
Changing calls have a ``preview`` (the exact effects, nothing changed), go
through ``ctx.effects`` for removal and overwrite, and record their inverse.
"""

from __future__ import annotations

import codecs
import errno
import fnmatch
import hashlib
import os
import re
import shutil
import stat
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syscalls import schema as S
from syscalls.builtin import _fsutil as U
from syscalls.errors import (
    AlreadyExists,
    ExecutionError,
    InvalidRequest,
    LimitExceeded,
    NotFound,
    SyscallError,
    WrongType,
    from_oserror,
)
from syscalls.fsmeasure import tree_size
from syscalls.modes import chmod_bits
from syscalls.paths import checked_path, safe_open_dir
from syscalls.types import CallContext, JSONDict, Risk, View

if TYPE_CHECKING:
    from syscalls.registry import Registry

DAY = 86400.0
_DTYPE_WORDS = frozenset({"file", "dir", "symlink"})
MINUTE = 60.0
_PROGRESS_EVERY = 2048

# ---------------------------------------------------------------- schemas

_ENTRY_ROW = S.obj({
    "name": S.string(), "path": S.string(), "type": S.enum([*U.TYPE_WORDS, "other"]),
    "size_bytes": S.integer(minimum=0), "mtime": S.number(),
    "mode": S.string(), "owner": S.string(), "group": S.string(), "nlink": S.integer(minimum=0),
    "link_target": S.string(),
}, required=["name", "path", "type"])
"""size_bytes and mtime come with long=true or a size/mtime sort (they cost a stat per entry)."""

_FIND_ROW = S.obj({
    "path": S.string(), "type": S.enum([*U.TYPE_WORDS, "other"]),
    "size_bytes": S.integer(minimum=0), "mtime": S.number(),
}, required=["path", "type"])
"""size_bytes and mtime come with details=true, or when a test or the sort needed the stat anyway."""

_RECORD = View("record")


def _stat_row(path: str, st: os.stat_result, link_target: str | None) -> JSONDict:
    row: JSONDict = {
        "path": path,
        "name": os.path.basename(path) or path,
        "type": U.type_of(st.st_mode),
        "size_bytes": st.st_size,
        "mode": f"{stat.S_IMODE(st.st_mode):04o}",
        "permissions": stat.filemode(st.st_mode),
        "uid": st.st_uid,
        "gid": st.st_gid,
        "owner": U.user_name(st.st_uid),
        "group": U.group_name(st.st_gid),
        "nlink": st.st_nlink,
        "inode": st.st_ino,
        "device": st.st_dev,
        "mtime": st.st_mtime,
        "mtime_iso": U.iso(st.st_mtime),
        "atime": st.st_atime,
        "ctime": st.st_ctime,
    }
    if link_target is not None:
        row["link_target"] = link_target
    return row


def _lstat(path: str, call: str) -> os.stat_result:
    try:
        return os.lstat(path)
    except OSError as exc:
        raise from_oserror(exc, call=call, target=path) from exc


def _exists(path: str) -> bool:
    return os.path.lexists(path)


# ---------------------------------------------------------------- reading calls

def fs_list(ctx: CallContext, args: JSONDict) -> JSONDict:
    call = ctx.call
    raw = args.get("path", ".")
    path = str(ctx.resolve(raw))
    hidden = bool(args.get("hidden", False))
    long = bool(args.get("long", False))
    sort = args.get("sort", "name")
    reverse = bool(args.get("reverse", False))
    limit = args.get("limit")
    need_stat = long or sort in ("size", "mtime")  # names and d_type answer the rest
    pfd, st = _open_start(ctx, raw, path)
    rows: list[JSONDict] = []
    try:
        if not stat.S_ISDIR(st.st_mode):
            if os.path.islink(path):  # a link to a file is shown as the link, like ls
                st = _lstat(path, call)
            row = {"name": os.path.basename(path), "path": path, "type": U.type_of(st.st_mode),
                   "size_bytes": st.st_size, "mtime": st.st_mtime}
            if long:
                row.update(mode=stat.filemode(st.st_mode), owner=U.user_name(st.st_uid),
                           group=U.group_name(st.st_gid), nlink=st.st_nlink)
            return {"path": path, "entries": [row], "count": 1, "truncated": False}
        try:
            dfd = _dir_fd_of(pfd)
        except OSError as exc:
            raise from_oserror(exc, call=call, target=path) from exc
    finally:
        os.close(pfd)
    try:
        _list_into(ctx, dfd, path, hidden, long, need_stat, rows)
    except OSError as exc:
        raise from_oserror(exc, call=call, target=path) from exc
    finally:
        os.close(dfd)
    _sort_rows(rows, sort, reverse, key_name="name")
    truncated = False
    if limit is not None and len(rows) > limit:
        rows = rows[:limit]
    if len(rows) > ctx.max_rows:
        rows, truncated = rows[: ctx.max_rows], True
    return {"path": path, "entries": rows, "count": len(rows), "truncated": truncated}


def _list_into(ctx: CallContext, dfd: int, path: str, hidden: bool, long: bool, need_stat: bool,
               rows: list[JSONDict]) -> None:
    join = U.join
    filemode = stat.filemode
    with os.scandir(dfd) as it:
        for n, e in enumerate(it):
            if n % _PROGRESS_EVERY == 0:
                ctx.check_cancel()
            name = e.name
            if not hidden and name[0] == ".":
                continue
            if not need_stat:
                kind = _dtype_kind(e, False)
                if kind is not None:
                    rows.append({"name": name, "path": join(path, name), "type": kind})
                continue
            try:
                est = e.stat(follow_symlinks=False)
            except OSError:
                continue
            mode = est.st_mode
            row = {"name": name, "path": join(path, name), "type": U.type_of(mode),
                   "size_bytes": est.st_size, "mtime": est.st_mtime}
            if long:
                row["mode"] = filemode(mode)
                row["owner"] = U.user_name(est.st_uid)
                row["group"] = U.group_name(est.st_gid)
                row["nlink"] = est.st_nlink
                if stat.S_ISLNK(mode):
                    try:
                        row["link_target"] = os.readlink(name, dir_fd=dfd)
                    except OSError:
                        pass
            rows.append(row)


def _open_start(ctx: CallContext, raw: str, display: str) -> tuple[int, os.stat_result]:
    """O_PATH fd and fstat of the start path the gate checked (errors name ``display``)."""
    try:
        return U.open_path_checked(ctx, raw)
    except ExecutionError as exc:
        exc.target = display
        raise


def _dir_fd_of(path_fd: int) -> int:
    """A readable directory fd (for ``os.scandir``) for an ``O_PATH`` fd of a directory."""
    return os.open(".", U.DIR_FLAGS, dir_fd=path_fd)


def _dtype_kind(e: os.DirEntry[str], follow: bool) -> str | None:
    """The type word from the directory entry's d_type; a stat only for the rare other kinds."""
    try:
        if e.is_dir(follow_symlinks=follow):
            return "dir"
        if not follow and e.is_symlink():
            return "symlink"
        if e.is_file(follow_symlinks=follow):
            return "file"
    except OSError:
        pass
    st = _entry_stat(e, follow)
    return None if st is None else U.type_of(st.st_mode)


def _entry_stat(e: os.DirEntry[str], follow: bool) -> os.stat_result | None:
    """stat of a scanned entry; under ``follow`` a dangling link is the link itself, a loop is None."""
    try:
        return e.stat(follow_symlinks=follow)
    except FileNotFoundError:
        if follow:
            try:
                return e.stat(follow_symlinks=False)
            except OSError:
                return None
        return None
    except OSError:
        return None


def _sort_rows(rows: list[JSONDict], sort: str, reverse: bool, key_name: str) -> None:
    """``name`` ascending, ``size`` largest first, ``mtime`` newest first (like ls); reverse flips."""
    if sort == "name":
        rows.sort(key=lambda r: r[key_name], reverse=reverse)
    elif sort == "size":
        rows.sort(key=lambda r: (-r["size_bytes"], r[key_name]), reverse=reverse)
    elif sort == "mtime":
        rows.sort(key=lambda r: (-r["mtime"], r[key_name]), reverse=reverse)


def fs_stat(ctx: CallContext, args: JSONDict) -> JSONDict:
    path = str(ctx.resolve(args["path"]))
    follow = bool(args.get("follow", False))
    target = None
    try:
        if os.path.islink(path):
            target = os.readlink(path)
            if not follow:  # the link itself: its own metadata, nothing behind it
                return _stat_row(path, os.lstat(path), target)
    except OSError as exc:
        raise from_oserror(exc, call=ctx.call, target=path) from exc
    # what the gate checked, reached without following a swapped-in symlink
    fd, st = _open_start(ctx, args["path"], path)
    os.close(fd)
    return _stat_row(path, st, target)


def fs_read(ctx: CallContext, args: JSONDict) -> JSONDict:
    call = ctx.call
    path = str(ctx.resolve(args["path"]))
    cap = ctx.max_bytes
    head = args.get("head_lines")
    tail = args.get("tail_lines")
    start = args.get("line_start")
    end = args.get("line_end")
    if sum(x is not None for x in (head, tail, start if start is not None else end)) > 1:
        raise InvalidRequest("give one of head_lines, tail_lines or a line range", call=call,
                             field="args.head_lines")
    fd, st = U.open_regular_checked(ctx, args["path"], path)
    try:
        sample = U.read_prefix(fd, 8192)
        if U.looks_binary(sample):
            return {"path": path, "binary": True, "size_bytes": st.st_size,
                    "mime": U.mime_guess(path, sample), "head_hex": sample[:64].hex(" "),
                    "text": "", "lines": 0, "truncated": False}
        if tail is not None:
            data, truncated = _read_tail(fd, st.st_size, tail, cap)
        else:
            os.lseek(fd, 0, os.SEEK_SET)
            data, truncated = _read_lines(fd, cap, head, start, end, ctx)
    except OSError as exc:
        raise from_oserror(exc, call=call, target=path) from exc
    finally:
        os.close(fd)
    text = data.decode("utf-8", errors="replace")
    return {"path": path, "binary": False, "size_bytes": st.st_size, "mime": U.mime_guess(path, sample),
            "text": text, "lines": text.count("\n") + (1 if text and not text.endswith("\n") else 0),
            "truncated": truncated}


def _read_lines(fd: int, cap: int, head: int | None, start: int | None, end: int | None,
                ctx: CallContext) -> tuple[bytes, bool]:
    """Stream from the start; keep lines [first, last] (1-based), at most ``cap`` bytes."""
    first = start or 1
    last = head if head is not None else end
    if head is None and start is None and end is None:
        data = U.read_prefix(fd, cap + 1)
        return data[:cap], len(data) > cap
    out = bytearray()
    lineno = 1
    pending = b""
    while True:
        ctx.check_cancel()
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            if pending and first <= lineno and (last is None or lineno <= last):
                out += pending
            break
        buf = pending + chunk
        parts = buf.split(b"\n")
        pending = parts.pop()
        for part in parts:
            if lineno >= first and (last is None or lineno <= last):
                out += part + b"\n"
                if len(out) > cap:
                    return bytes(out[:cap]), True
            lineno += 1
            if last is not None and lineno > last:
                return bytes(out), False
        if len(pending) > cap:  # one enormous line: keep only what can be shown
            if lineno >= first:
                out += pending[:cap]
                return bytes(out[:cap]), True
            pending = b""
    return bytes(out), False


def _read_tail(fd: int, size: int, n: int, cap: int) -> tuple[bytes, bool]:
    """The last ``n`` lines, read backwards in blocks; bounded by ``cap``."""
    block = 1 << 16
    pos = size
    buf = b""
    while pos > 0:
        step = min(block, pos)
        pos -= step
        os.lseek(fd, pos, os.SEEK_SET)
        buf = os.read(fd, step) + buf
        body = buf[:-1] if buf.endswith(b"\n") else buf
        if body.count(b"\n") >= n or len(buf) > cap:
            break
    body = buf[:-1] if buf.endswith(b"\n") else buf
    lines = body.split(b"\n")
    keep = lines[-n:] if n > 0 else []
    full = pos == 0 or len(lines) > len(keep)
    data = b"\n".join(keep) + (b"\n" if buf.endswith(b"\n") and keep else b"")
    if len(data) > cap:
        return data[-cap:], True
    return data, not full


# ---------------------------------------------------------------- fs.find

def _days(args: JSONDict, key: str) -> float | None:
    v = args.get(key)
    return None if v is None else float(v)


class _FindSpec:
    """Compiled predicates of one fs.find request."""

    def __init__(self, ctx: CallContext, args: JSONDict) -> None:
        call = ctx.call
        g = U.compile_glob
        self.name = g(args["name"]).match if args.get("name") else None
        self.iname = g(args["iname"], True).match if args.get("iname") else None
        self.any_name = [g(p).match for p in args.get("any_name") or []]
        self.not_name = g(args["not_name"]).match if args.get("not_name") else None
        self.path_glob = g(args["path_glob"]).match if args.get("path_glob") else None
        self.not_path = g(args["not_path"]).match if args.get("not_path") else None
        flags = re.IGNORECASE if args.get("iregex") else 0
        pattern = args.get("regex") or args.get("iregex")
        try:
            self.regex = re.compile(pattern, flags) if pattern else None
        except re.error as exc:
            field = "args.regex" if args.get("regex") else "args.iregex"
            raise InvalidRequest(f"bad regular expression: {exc}", call=call, field=field) from exc
        self.type = args.get("type")
        self.size_min = args.get("size_min_bytes")
        self.size_max = args.get("size_max_bytes")
        now = time.time()
        self.times: list[tuple[str, float, float]] = []  # (attr, low_age, high_age) in seconds
        for attr in ("mtime", "atime", "ctime"):
            lo = hi = None
            for unit, mult in (("days", DAY), ("minutes", MINUTE)):
                vmin = _days(args, f"{attr}_min_{unit}")
                vmax = _days(args, f"{attr}_max_{unit}")
                if vmin is not None:
                    lo = max(lo or 0.0, vmin * mult)
                if vmax is not None:
                    hi = vmax * mult if hi is None else min(hi, vmax * mult)
            if lo is not None or hi is not None:
                self.times.append((f"st_{attr}", lo if lo is not None else -1.0,
                                   hi if hi is not None else float("inf")))
        self.now = now
        self.newer: float | None = None
        if args.get("newer_than"):
            ref = str(ctx.resolve(args["newer_than"]))
            fd, st = _open_start(ctx, args["newer_than"], ref)
            os.close(fd)
            self.newer = st.st_mtime
        self.empty = args.get("empty")
        perm = args.get("perm")
        self.perm = int(perm, 8) if perm else None
        self.perm_match = args.get("perm_match", "exact")
        self.uid = U.lookup_uid(args["user"], call) if args.get("user") else None
        self.gid = U.lookup_gid(args["group"], call) if args.get("group") else None
        self.nouser = bool(args.get("nouser"))
        self.nogroup = bool(args.get("nogroup"))
        access = 0
        if args.get("readable"):
            access |= os.R_OK
        if args.get("writable"):
            access |= os.W_OK
        if args.get("executable"):
            access |= os.X_OK
        self.access = access
        self.follow = bool(args.get("follow_symlinks", False))
        self.min_depth = int(args.get("min_depth", 0))
        self.max_depth = args.get("max_depth")
        self.exclude = [(("/" in p), g(p).match) for p in args.get("exclude_dirs") or []]
        self.has_name_preds = bool(self.name or self.iname or self.any_name or self.not_name
                                   or self.path_glob or self.not_path or self.regex)
        self.needs_stat = bool(
            self.size_min is not None or self.size_max is not None or self.times or self.newer is not None
            or self.perm is not None or self.uid is not None or self.gid is not None or self.nouser
            or self.nogroup or (self.type is not None and self.type not in ("file", "dir", "symlink"))
            or self.empty is not None
        )

    def excluded(self, name: str, fpath: str) -> bool:
        return any(m(fpath if by_path else name) is not None for by_path, m in self.exclude)

    def match_names(self, name: str, fpath: str) -> bool:
        """Predicates that need no stat (name, path, regex)."""
        if self.name is not None and self.name(name) is None:
            return False
        if self.iname is not None and self.iname(name) is None:
            return False
        if self.any_name and not any(m(name) is not None for m in self.any_name):
            return False
        if self.not_name is not None and self.not_name(name) is not None:
            return False
        if self.path_glob is not None and self.path_glob(fpath) is None:
            return False
        if self.not_path is not None and self.not_path(fpath) is not None:
            return False
        return not (self.regex is not None and self.regex.fullmatch(fpath) is None)

    def match_stat(self, st: os.stat_result, dir_fd: int | None, name: str) -> bool:
        """Predicates that need the stat; ``name`` in ``dir_fd`` (a path when None) is the entry."""
        mode = st.st_mode
        if self.type is not None and U.TYPE_BY_FMT.get(stat.S_IFMT(mode)) != self.type:
            return False
        size = st.st_size
        if self.size_min is not None and size < self.size_min:
            return False
        if self.size_max is not None and size > self.size_max:
            return False
        for attr, lo, hi in self.times:
            # GNU rounding, continuous form: "min" is strictly older than, "max" at most that old.
            age = self.now - getattr(st, attr)
            if not (age > lo and age <= hi):
                return False
        if self.newer is not None and not st.st_mtime > self.newer:
            return False
        if self.perm is not None:
            bits = mode & 0o7777
            if self.perm_match == "exact" and bits != self.perm:
                return False
            if self.perm_match == "all" and bits & self.perm != self.perm:
                return False
            if self.perm_match == "any" and self.perm and not bits & self.perm:
                return False
        if self.uid is not None and st.st_uid != self.uid:
            return False
        if self.gid is not None and st.st_gid != self.gid:
            return False
        if self.nouser and U.uid_known(st.st_uid):
            return False
        if self.nogroup and U.gid_known(st.st_gid):
            return False
        if self.empty is not None:
            if stat.S_ISREG(mode):
                is_empty = size == 0
            elif stat.S_ISDIR(mode):
                try:
                    dfd = os.open(name, U.DIR_FLAGS & ~os.O_NOFOLLOW if self.follow else U.DIR_FLAGS,
                                  dir_fd=dir_fd)
                    try:
                        with os.scandir(dfd) as it:
                            is_empty = next(it, None) is None
                    finally:
                        os.close(dfd)
                except OSError:
                    is_empty = False
            else:
                is_empty = False
            if is_empty != bool(self.empty):
                return False
        return True


def fs_find(ctx: CallContext, args: JSONDict) -> JSONDict:
    call = ctx.call
    raw = args.get("path", ".")
    root = str(ctx.resolve(raw))
    spec = _FindSpec(ctx, args)
    sort = args.get("sort", "none")
    reverse = bool(args.get("reverse", False))
    limit: int | None = args.get("limit")
    cap = ctx.max_rows
    stop_at = None if sort != "none" else min(cap + 1, limit if limit is not None else cap + 1)
    # Patterns match the path as find prints it: the start path as given, then the rest.
    disp_root = root if raw.startswith("~") else os.path.normpath(raw) if raw not in (".", "./") else "."
    if raw.endswith("/") and raw not in ("/", "./"):
        disp_root = raw.rstrip("/")
    follow = spec.follow
    max_depth = spec.max_depth
    min_depth = spec.min_depth
    needs_stat = spec.needs_stat
    # size and mtime are in the rows when asked for, or when a test or the sort stat'ed every row anyway
    details = bool(args.get("details")) or needs_stat or sort in ("size", "mtime")
    ftype = spec.type
    access = spec.access
    rows: list[JSONDict] = []
    append = rows.append
    errors: list[str] = []
    scanned = 0

    try:
        pfd, root_st = _open_start(ctx, raw, root)
    except NotFound:
        if not os.path.islink(root):
            raise
        pfd, root_st = -1, _lstat(root, call)  # a dangling link as the start: find lists the link
    try:
        root_is_dir = stat.S_ISDIR(root_st.st_mode)
        emit_st = root_st
        if not follow and not root_is_dir and os.path.islink(root):
            emit_st = _lstat(root, call)  # a link to a non-directory as the start is the link itself
        going = True
        if min_depth == 0 and spec.match_names(os.path.basename(disp_root) or disp_root, disp_root):
            if _find_keep(spec, emit_st, pfd if root_is_dir else None, "." if root_is_dir else root,
                          ftype, access):
                append(_find_row(root, emit_st, details))
                going = not (stop_at is not None and len(rows) >= stop_at)
        if going and root_is_dir and (max_depth is None or max_depth > 0):
            try:
                dfd = _dir_fd_of(pfd)
            except OSError as exc:
                raise from_oserror(exc, call=call, target=root) from exc
            scanned = _find_walk(ctx, spec, dfd, root, disp_root, root_st, details, stop_at, append,
                                 rows, errors)
    finally:
        if pfd >= 0:
            os.close(pfd)
    truncated = False
    if sort != "none":
        _sort_rows(rows, sort, reverse, key_name="path")
    if limit is not None and len(rows) > limit:
        rows = rows[:limit]
    if len(rows) > cap:
        rows, truncated = rows[:cap], True
    out: JSONDict = {"path": root, "entries": rows, "count": len(rows), "scanned": scanned,
                     "truncated": truncated}
    if errors:
        out["errors"] = errors[:20]
    return out


def _find_row(path: str, st: os.stat_result, details: bool) -> JSONDict:
    row: JSONDict = {"path": path, "type": U.type_of(st.st_mode)}
    if details:
        row["size_bytes"] = st.st_size
        row["mtime"] = st.st_mtime
    return row


def _find_keep(spec: _FindSpec, st: os.stat_result, dir_fd: int | None, name: str, ftype: str | None,
               access: int) -> bool:
    """The stat-based tests for one entry (``name`` in ``dir_fd``, or a path when ``dir_fd`` is None)."""
    if spec.needs_stat and not spec.match_stat(st, dir_fd, name):
        return False
    if ftype is not None and U.type_of(st.st_mode) != ftype:
        return False
    return not (access and not os.access(name, access, dir_fd=dir_fd))


def _find_walk(ctx: CallContext, spec: _FindSpec, dfd: int, root: str, disp_root: str,
               root_st: os.stat_result, details: bool, stop_at: int | None,
               append: Callable[[JSONDict], None], rows: list[JSONDict], errors: list[str]) -> int:
    """Walk below the start, fd-relative (see ``_fsutil.walk``); returns how many entries were scanned."""
    call = ctx.call
    follow = spec.follow
    max_depth = spec.max_depth
    min_depth = spec.min_depth
    ftype = spec.type
    access = spec.access
    needs_stat = spec.needs_stat
    want_stat = details or bool(access)
    plain_stat = not needs_stat and ftype is None and not access  # the stat is only for the row
    has_name_preds = spec.has_name_preds
    match_names = spec.match_names
    exclude = spec.exclude
    excluded = spec.excluded
    type_word = U.TYPE_BY_FMT.get
    progress = ctx.progress
    seen: set[tuple[int, int]] = set()
    if follow:
        seen.add((root_st.st_dev, root_st.st_ino))
    scanned = 0
    walker = U.walk(dfd, root, disp_root, errors, follow=follow)
    try:
        for frame in walker:
            ctx.check_cancel()
            fd = frame.fd
            cdepth = frame.depth + 1
            descend = max_depth is None or cdepth < max_depth
            emit = cdepth >= min_depth
            fp = frame.path
            prefix = fp + "/" if fp != "/" else "/"
            dp = frame.disp
            dprefix = dp + "/" if dp != "/" else "/"
            subdirs = frame.subdirs
            try:
                it = os.scandir(fd)
            except OSError as exc:
                errors.append(f"{fp}: {exc.strerror}")
                continue
            with it:
                for e in it:
                    scanned += 1
                    if not scanned & 2047:
                        ctx.check_cancel()
                        if progress is not None:
                            progress(call, scanned)
                    name = e.name
                    try:
                        is_dir = e.is_dir(follow_symlinks=follow)
                    except OSError:
                        is_dir = False
                    if is_dir and exclude and excluded(name, dprefix + name):
                        continue
                    st: os.stat_result | None = None
                    if is_dir and follow:
                        st = _entry_stat(e, True)
                        if st is not None:
                            key = (st.st_dev, st.st_ino)
                            if key in seen:
                                errors.append(f"{prefix}{name}: file system loop")
                                continue
                            seen.add(key)
                    if emit and (not has_name_preds or match_names(name, dprefix + name)):
                        if not want_stat:
                            # the type from d_type: no stat unless the entry is a FIFO, socket or device
                            if is_dir:
                                kind: str | None = "dir"
                            elif not follow and e.is_symlink():
                                kind = "symlink"
                            else:
                                try:
                                    kind = "file" if e.is_file(follow_symlinks=follow) else None
                                except OSError:
                                    kind = None
                                if kind is None:
                                    if st is None:
                                        st = _entry_stat(e, follow)
                                    kind = None if st is None else type_word(st.st_mode & 0o170000, "other")
                            if kind is not None and (ftype is None or kind == ftype):
                                append({"path": prefix + name, "type": kind})
                                if stop_at is not None and len(rows) >= stop_at:
                                    return scanned
                        else:
                            if ftype is not None and ftype in _DTYPE_WORDS and not needs_stat:
                                hint = _dtype_hint(e, is_dir, follow)
                                if hint is not None and hint != ftype:
                                    if is_dir and descend:
                                        subdirs.append(name)
                                    continue
                            if st is None:
                                st = _entry_stat(e, follow)
                            if st is not None and (plain_stat or _find_keep(spec, st, fd, name, ftype, access)):
                                row: JSONDict = {"path": prefix + name,
                                                 "type": type_word(st.st_mode & 0o170000, "other")}
                                if details:
                                    row["size_bytes"] = st.st_size
                                    row["mtime"] = st.st_mtime
                                append(row)
                                if stop_at is not None and len(rows) >= stop_at:
                                    return scanned
                    if is_dir and descend:
                        subdirs.append(name)
    finally:
        walker.close()
    return scanned


def _dtype_hint(e: os.DirEntry[str], is_dir: bool, follow: bool) -> str | None:
    """dir / symlink / file from d_type alone, None when only a stat can tell."""
    try:
        if is_dir:
            return "dir"
        if not follow and e.is_symlink():
            return "symlink"
        return "file" if e.is_file(follow_symlinks=follow) else None
    except OSError:  # a link loop under follow_symlinks
        return None


# ---------------------------------------------------------------- fs.grep

def _grep_files(ctx: CallContext, raw: str, root: str,
                recursive: bool) -> Generator[tuple[int | None, str, str], None, None]:
    """Regular files at or under the checked ``root``: (dir fd or None for the start, name, path).

    Directories are walked fd-relative (``_fsutil.walk``); the fd is valid while the
    consumer handles the yielded file.
    """
    pfd, st = _open_start(ctx, raw, root)
    try:
        if not stat.S_ISDIR(st.st_mode):
            yield None, raw, root
            return
        dfd = _dir_fd_of(pfd)
    except OSError as exc:
        raise from_oserror(exc, call=ctx.call, target=root) from exc
    finally:
        os.close(pfd)
    errors: list[str] = []
    walker = U.walk(dfd, root, root, errors)
    n = 0
    try:
        for frame in walker:
            ctx.check_cancel()
            try:
                with os.scandir(frame.fd) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError:
                continue
            files: list[str] = []
            for e in entries:
                n += 1
                if n % 256 == 0:
                    ctx.check_cancel()
                try:
                    if e.is_dir(follow_symlinks=False):
                        if recursive:
                            frame.subdirs.append(e.name)
                    elif e.is_file(follow_symlinks=False):
                        files.append(e.name)
                except OSError:
                    continue
            frame.subdirs.reverse()  # entered last-first: keep name order
            for name in files:
                yield frame.fd, name, U.join(frame.path, name)
    finally:
        walker.close()


def fs_grep(ctx: CallContext, args: JSONDict) -> JSONDict:
    call = ctx.call
    root = str(ctx.resolve(args.get("path", ".")))
    pattern = args["pattern"]
    flags = re.IGNORECASE if args.get("ignore_case") else 0
    try:
        rx = re.compile(re.escape(pattern) if args.get("fixed") else pattern, flags)
    except re.error as exc:
        raise InvalidRequest(f"bad regular expression: {exc}", call=call, field="args.pattern") from exc
    include = args.get("include")
    exclude = args.get("exclude")
    count_only = bool(args.get("count_only"))
    files_only = bool(args.get("files_with_matches"))
    max_matches = args.get("max_matches")
    context = int(args.get("context_lines", 0))
    recursive = bool(args.get("recursive", True))
    rows: list[JSONDict] = []
    matches = 0
    skipped_binary = 0
    files = 0
    stop = False
    for dir_fd, fname, fpath in _grep_files(ctx, args.get("path", "."), root, recursive):
        name = os.path.basename(fpath)
        if include and not fnmatch.fnmatchcase(name, include):
            continue
        if exclude and fnmatch.fnmatchcase(name, exclude):
            continue
        try:
            if dir_fd is None:
                fd, _st = U.open_regular_checked(ctx, fname, fpath)
            else:
                fd, _st = U.open_regular_at(dir_fd, fname, call, fpath)
        except (WrongType, NotFound):
            if dir_fd is None:
                raise
            continue
        try:
            with os.fdopen(fd, "rb") as fh:
                head = fh.read(8192)
                if U.looks_binary(head):
                    skipped_binary += 1
                    continue
                files += 1
                data = head + fh.read(max(0, ctx.max_bytes * 10 - len(head)))
        except OSError:
            continue
        lines = data.decode("utf-8", errors="replace").splitlines()
        count = 0
        for i, line in enumerate(lines):
            if rx.search(line) is None:
                continue
            count += 1
            matches += 1
            if files_only:
                break
            if not count_only:
                row: JSONDict = {"path": fpath, "line_number": i + 1, "line": line[:1000]}
                if context:
                    row["before"] = lines[max(0, i - context):i]
                    row["after"] = lines[i + 1:i + 1 + context]
                rows.append(row)
            if max_matches is not None and matches >= max_matches:
                stop = True
                break
        if count and files_only:
            rows.append({"path": fpath})
        elif count and count_only:
            rows.append({"path": fpath, "count": count})
        if stop or len(rows) > ctx.max_rows:
            break
    truncated = len(rows) > ctx.max_rows
    return {"path": root, "matches": rows[: ctx.max_rows], "match_count": matches, "files_searched": files,
            "skipped_binary": skipped_binary, "truncated": truncated}


# ---------------------------------------------------------------- fs.du

def fs_du(ctx: CallContext, args: JSONDict) -> JSONDict:
    call = ctx.call
    raw = args.get("path", ".")
    root = str(ctx.resolve(raw))
    top = int(args.get("top", 10))
    depth_cap = int(args.get("depth", 1))
    pfd, st = _open_start(ctx, raw, root)
    try:
        if not stat.S_ISDIR(st.st_mode):
            return {"path": root, "total_bytes": st.st_size, "files": 1, "dirs": 0,
                    "entries": [{"path": root, "type": U.type_of(st.st_mode), "size_bytes": st.st_size}],
                    "truncated": False}
        try:
            dfd = _dir_fd_of(pfd)
        except OSError as exc:
            raise from_oserror(exc, call=call, target=root) from exc
    finally:
        os.close(pfd)
    total = st.st_size
    nfiles = 0
    ndirs = 1
    acc_paths: list[str] = []
    acc_types: list[str] = []
    acc_sizes: list[int] = []
    seen_inodes: set[tuple[int, int]] = set()
    chains: dict[str, tuple[int, ...]] = {}  # directory path -> indexes of its ranked ancestors
    errors: list[str] = []
    n = 0
    S_ISDIR = stat.S_ISDIR
    join = U.join
    progress = ctx.progress
    walker = U.walk(dfd, root, root, errors)
    try:
        for frame in walker:
            ctx.check_cancel()
            chain = chains.pop(frame.path, ())
            cdepth = frame.depth + 1
            ranked = cdepth <= depth_cap
            subdirs = frame.subdirs
            here = 0
            try:
                it = os.scandir(frame.fd)
            except OSError as exc:
                errors.append(f"{frame.path}: {exc.strerror}")
                continue
            with it:
                for e in it:
                    n += 1
                    if not n & 2047:
                        ctx.check_cancel()
                        if progress is not None:
                            progress(call, n)
                    try:
                        est = e.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    mode = est.st_mode
                    size = est.st_size
                    is_dir = S_ISDIR(mode)
                    if est.st_nlink > 1 and not is_dir:
                        key = (est.st_dev, est.st_ino)
                        if key in seen_inodes:
                            size = 0
                        else:
                            seen_inodes.add(key)
                    here += size
                    if is_dir:
                        ndirs += 1
                        subdirs.append(e.name)
                    else:
                        nfiles += 1
                    if ranked:
                        child = join(frame.path, e.name)
                        acc_paths.append(child)
                        acc_types.append(U.type_of(mode))
                        acc_sizes.append(size)
                        if is_dir:
                            chains[child] = (*chain, len(acc_sizes) - 1)
                    elif is_dir and chain:
                        chains[join(frame.path, e.name)] = chain
            total += here
            for k in chain:  # once per directory, not once per entry
                acc_sizes[k] += here
    finally:
        walker.close()
    order = sorted(range(len(acc_sizes)), key=lambda i: (-acc_sizes[i], acc_paths[i]))[:top]
    entries = [{"path": acc_paths[i], "type": acc_types[i], "size_bytes": acc_sizes[i]} for i in order]
    out: JSONDict = {"path": root, "total_bytes": total, "files": nfiles, "dirs": ndirs,
                     "entries": entries, "truncated": False}
    if errors:
        out["errors"] = errors[:20]
    return out


# ---------------------------------------------------------------- wc, checksum

def fs_wc(ctx: CallContext, args: JSONDict) -> JSONDict:
    """Counts as GNU wc in a UTF-8 locale: a word starts at a printable character after
    white space; control characters and invalid bytes neither start nor end a word and
    are not counted as characters."""
    call = ctx.call
    path = str(ctx.resolve(args["path"]))
    fd, _st = U.open_regular_checked(ctx, args["path"], path)
    lines = words = nbytes = chars = 0
    in_word = False
    decoder = codecs.getincrementaldecoder("utf-8")("ignore")
    sub = _NONPRINT.sub
    try:
        while True:
            ctx.check_cancel()
            chunk = os.read(fd, 1 << 20)
            final = not chunk
            text = decoder.decode(chunk, final=final)
            nbytes += len(chunk)
            lines += chunk.count(b"\n")
            chars += len(text)
            text = sub("", text)
            if text:
                parts = text.split()
                if parts:
                    words += len(parts)
                    if in_word and not text[0].isspace():
                        words -= 1  # a word continued across the chunk boundary
                    in_word = not text[-1].isspace()
                else:
                    in_word = False
            if final:
                break
    except OSError as exc:
        raise from_oserror(exc, call=call, target=path) from exc
    finally:
        os.close(fd)
    return {"path": path, "lines": lines, "words": words, "bytes": nbytes, "chars": chars}


# C0/C1 controls that are not white space in the C library's sense (Python counts 0x1c-0x1f as space)
_NONPRINT = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]+")


def fs_checksum(ctx: CallContext, args: JSONDict) -> JSONDict:
    call = ctx.call
    path = str(ctx.resolve(args["path"]))
    algo = args.get("algorithm", "sha256")
    fd, st = U.open_regular_checked(ctx, args["path"], path)
    h = hashlib.new(algo)
    try:
        while True:
            ctx.check_cancel()
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            h.update(chunk)
    except OSError as exc:
        raise from_oserror(exc, call=call, target=path) from exc
    finally:
        os.close(fd)
    return {"path": path, "algorithm": algo, "digest": h.hexdigest(), "size_bytes": st.st_size}


# ---------------------------------------------------------------- writing helpers

def _old_text(path: str, cap: int) -> str | None:
    """The current content as text when it is small text (so an inverse can restore it)."""
    try:
        fd, st = U.open_regular(path, "")
    except SyscallError:
        return None
    try:
        if st.st_size > cap:
            return None
        data = U.read_prefix(fd, cap + 1)
        if U.looks_binary(data[:8192]):
            return None
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    finally:
        os.close(fd)


def _restore_inverse(path: str, old: str | None) -> JSONDict:
    if old is not None:
        return {"call": "fs.write", "args": {"path": path, "content": old}}
    return {"call": "restore", "args": {"path": path}, "from_backup": True}


def _atomic_write(ctx: CallContext, path: str, data: bytes, mode: int | None) -> None:
    """Write a temp file in the same directory, fsync, then rename it over ``path``.

    ``path`` is the checked path; its directory is opened without following a
    symlink in any component and every step is relative to that fd, so a directory
    swapped after the check is refused instead of written through.
    """
    directory, name = os.path.split(path)
    dfd = safe_open_dir(directory or "/", call=ctx.call)
    try:
        tmp = f".nlsh-{os.urandom(6).hex()}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                         dir_fd=dfd)
        except OSError as exc:
            raise from_oserror(exc, call=ctx.call, target=path) from exc
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fchmod(fh.fileno(), mode if mode is not None else 0o666 & ~_umask())
                os.fsync(fh.fileno())
            os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
        except OSError as exc:
            try:
                os.unlink(tmp, dir_fd=dfd)
            except OSError:
                pass
            raise from_oserror(exc, call=ctx.call, target=path) from exc
        try:  # make the rename durable
            os.fsync(dfd)
        except OSError:
            pass
    finally:
        os.close(dfd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def fs_write(ctx: CallContext, args: JSONDict) -> JSONDict:
    path = str(ctx.resolve(args["path"]))
    data = args["content"].encode("utf-8")
    if len(data) > ctx.max_bytes * 100:
        raise LimitExceeded("content too large", call=ctx.call, target=path)
    real = str(checked_path(ctx, args["path"]))
    st = U.existing_regular(ctx, path, real)
    if st is not None and args.get("no_clobber"):
        raise AlreadyExists("the file exists", call=ctx.call, target=path,
                            hint="set no_clobber=false to replace it, or use fs.append")
    old = _old_text(real, ctx.max_bytes) if st is not None else None
    if st is not None:
        ctx.effects.before_overwrite(ctx, Path(real))
    _atomic_write(ctx, real, data, stat.S_IMODE(st.st_mode) if st is not None else None)
    inverse = _restore_inverse(path, old) if st is not None else {"call": "fs.delete", "args": {"path": path}}
    ctx.effects.record(ctx, inverse)
    return {"path": path, "bytes_written": len(data), "created": st is None}


def fs_append(ctx: CallContext, args: JSONDict) -> JSONDict:
    path = str(ctx.resolve(args["path"]))
    data = args["content"].encode("utf-8")
    real = str(checked_path(ctx, args["path"]))
    st = U.existing_regular(ctx, path, real)
    old_bytes = b""
    if st is not None:
        if st.st_size > ctx.max_bytes * 100:
            raise LimitExceeded("the file is too large to rewrite atomically", call=ctx.call, target=path)
        fd, _ = U.open_regular(real, ctx.call)
        try:
            old_bytes = U.read_prefix(fd, st.st_size + 1)
        finally:
            os.close(fd)
        ctx.effects.before_overwrite(ctx, Path(real))
    old = _old_text(real, ctx.max_bytes) if st is not None else None
    _atomic_write(ctx, real, old_bytes + data, stat.S_IMODE(st.st_mode) if st is not None else None)
    inverse = _restore_inverse(path, old) if st is not None else {"call": "fs.delete", "args": {"path": path}}
    ctx.effects.record(ctx, inverse)
    return {"path": path, "bytes_written": len(data), "size_bytes": len(old_bytes) + len(data),
            "created": st is None}


def fs_touch(ctx: CallContext, args: JSONDict) -> JSONDict:
    path = str(ctx.resolve(args["path"]))
    when = args.get("mtime")
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise from_oserror(exc, call=ctx.call, target=path) from exc
    try:
        if st is None:
            if args.get("no_create"):
                return {"path": path, "created": False, "mtime": None}
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
            os.close(fd)
            ctx.effects.record(ctx, {"call": "fs.delete", "args": {"path": path}})
        else:
            ctx.effects.record(ctx, {"call": "fs.touch", "args": {"path": path, "mtime": st.st_mtime}})
        os.utime(path, None if when is None else (when, when))
        mtime = os.stat(path).st_mtime
    except OSError as exc:
        raise from_oserror(exc, call=ctx.call, target=path) from exc
    return {"path": path, "created": st is None, "mtime": mtime, "mtime_iso": U.iso(mtime)}


def _missing_parents(path: str) -> list[str]:
    """Directories that mkdir -p would create, outermost first."""
    out: list[str] = []
    p = path
    while p and not os.path.lexists(p):
        out.append(p)
        parent = os.path.dirname(p)
        if parent == p:
            break
        p = parent
    return out[::-1]


def fs_mkdir(ctx: CallContext, args: JSONDict) -> JSONDict:
    path = str(ctx.resolve(args["path"]))
    parents = bool(args.get("parents", False))
    if os.path.lexists(path):
        if os.path.isdir(path) and parents:
            return {"path": path, "created": []}
        raise AlreadyExists("already exists", call=ctx.call, target=path)
    created = _missing_parents(path) if parents else [path]
    try:
        if parents:
            os.makedirs(path)
        else:
            os.mkdir(path)
    except OSError as exc:
        raise from_oserror(exc, call=ctx.call, target=path) from exc
    for p in created:  # undo runs last-recorded first: deepest directory first
        ctx.effects.record(ctx, {"call": "fs.delete", "args": {"path": p, "recursive": False}})
    return {"path": path, "created": created}


def _dest_for(src: str, dest: str) -> str:
    """Like cp/mv: a destination that is an existing directory receives ``basename(src)``."""
    if os.path.isdir(dest) and not os.path.islink(dest):
        return os.path.join(dest, os.path.basename(src.rstrip("/")))
    return dest


def fs_copy(ctx: CallContext, args: JSONDict) -> JSONDict:
    call = ctx.call
    src = str(ctx.resolve(args["src"]))
    dest = _dest_for(src, str(ctx.resolve(args["dest"])))
    st = _lstat(src, call)
    is_tree = stat.S_ISDIR(st.st_mode)
    if is_tree and not args.get("recursive", False):
        raise WrongType("is a directory", call=call, target=src, hint="set recursive=true to copy a tree")
    if not (is_tree or stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
        raise WrongType(f"is a {U.type_of(st.st_mode).replace('_', ' ')}; only files and trees are copied",
                        call=call, target=src)
    exists = os.path.lexists(dest)
    if exists and (args.get("no_clobber") or is_tree):
        raise AlreadyExists("the destination exists", call=call, target=dest,
                            hint="choose another destination or delete it first")
    if exists and os.path.isdir(dest):
        raise WrongType("the destination is a directory", call=call, target=dest)
    if os.path.realpath(src) == os.path.realpath(dest):
        raise AlreadyExists("source and destination are the same file", call=call, target=dest)
    if is_tree and (os.path.realpath(dest) + "/").startswith(os.path.realpath(src) + "/"):
        raise InvalidRequest("cannot copy a directory into itself", call=call, field="args.dest")
    old = _old_text(dest, ctx.max_bytes) if exists else None
    if exists:
        ctx.effects.before_overwrite(ctx, Path(dest))
    try:
        if is_tree:
            shutil.copytree(src, dest, symlinks=True)
        else:
            shutil.copy2(src, dest)
    except shutil.Error as exc:
        first = exc.args[0][0] if exc.args and exc.args[0] else ("", "", str(exc))
        raise from_oserror(OSError(errno.EIO, str(first[2])), call=call, target=str(first[0])) from exc
    except OSError as exc:
        raise from_oserror(exc, call=call, target=src) from exc
    ctx.effects.record(ctx, _restore_inverse(dest, old) if exists else
                       {"call": "fs.delete", "args": {"path": dest, "recursive": is_tree}})
    count, size = tree_size(dest, regular_only=False)
    return {"src": src, "dest": dest, "entries": count, "bytes": size, "overwrote": exists}


def fs_move(ctx: CallContext, args: JSONDict) -> JSONDict:
    call = ctx.call
    src = str(ctx.resolve(args["src"]))
    dest = _dest_for(src, str(ctx.resolve(args["dest"])))
    st = _lstat(src, call)
    exists = os.path.lexists(dest)
    if exists and args.get("no_clobber"):
        raise AlreadyExists("the destination exists", call=call, target=dest)
    if exists and os.path.isdir(dest) and not os.path.islink(dest):
        raise AlreadyExists("the destination is an existing directory", call=call, target=dest)
    if stat.S_ISDIR(st.st_mode) and (os.path.realpath(dest) + "/").startswith(os.path.realpath(src) + "/"):
        raise InvalidRequest("cannot move a directory into itself", call=call, field="args.dest")
    if exists:
        ctx.effects.before_overwrite(ctx, Path(dest))
    try:
        try:
            os.rename(src, dest)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            shutil.move(src, dest)
    except OSError as exc:
        raise from_oserror(exc, call=call, target=src) from exc
    ctx.effects.record(ctx, {"call": "fs.move", "args": {"src": dest, "dest": src}})
    return {"src": src, "dest": dest, "overwrote": exists}


def fs_delete(ctx: CallContext, args: JSONDict) -> JSONDict:
    call = ctx.call
    path = str(ctx.resolve(args["path"]))
    st = _lstat(path, call)
    if stat.S_ISDIR(st.st_mode) and not args.get("recursive", False):
        try:
            with os.scandir(path) as it:
                nonempty = next(it, None) is not None
        except OSError as exc:
            raise from_oserror(exc, call=call, target=path) from exc
        if nonempty:
            raise from_oserror(OSError(errno.ENOTEMPTY, "directory not empty", path), call=call, target=path)
    try:
        record = ctx.effects.remove(ctx, Path(path))
    except OSError as exc:
        raise from_oserror(exc, call=call, target=path) from exc
    return {"path": path, **{k: v for k, v in record.items() if k != "path"}}


def fs_chmod(ctx: CallContext, args: JSONDict) -> JSONDict:
    call = ctx.call
    path = str(ctx.resolve(args["path"]))
    try:
        st = os.stat(path)
    except OSError as exc:
        raise from_oserror(exc, call=call, target=path) from exc
    targets = [path]
    if args.get("recursive") and stat.S_ISDIR(st.st_mode):
        targets += U.entries_below(ctx, path, symlinks=False)  # a link's mode is its target's: left alone
    changed = []
    for t in targets:
        try:
            tst = os.stat(t)
            old = stat.S_IMODE(tst.st_mode)
            new = chmod_bits(args["mode"], old, stat.S_ISDIR(tst.st_mode), call)
            if new != old:
                os.chmod(t, new)
                ctx.effects.record(ctx, {"call": "fs.chmod", "args": {"path": t, "mode": f"{old:04o}"}})
            changed.append({"path": t, "old_mode": f"{old:04o}", "new_mode": f"{new:04o}"})
        except OSError as exc:
            raise from_oserror(exc, call=call, target=t) from exc
    return {"path": path, "entries": changed[: ctx.max_rows], "count": len(changed),
            "truncated": len(changed) > ctx.max_rows}


def fs_symlink(ctx: CallContext, args: JSONDict) -> JSONDict:
    link = str(ctx.resolve(args["path"]))
    target = args["target"]
    if target == "~" or target.startswith("~/"):
        target = str(ctx.resolve(target))
    if os.path.lexists(link):
        raise AlreadyExists("the link path exists", call=ctx.call, target=link)
    try:
        os.symlink(target, link)
    except OSError as exc:
        raise from_oserror(exc, call=ctx.call, target=link) from exc
    ctx.effects.record(ctx, {"call": "fs.delete", "args": {"path": link}})
    return {"path": link, "target": target, "dangling": not os.path.exists(link)}


def fs_realpath(ctx: CallContext, args: JSONDict) -> JSONDict:
    path = str(ctx.resolve(args["path"]))
    try:
        os.lstat(path)
        link = os.readlink(path) if os.path.islink(path) else None
        real = os.path.realpath(path, strict=True)
    except OSError as exc:
        raise from_oserror(exc, call=ctx.call, target=path) from exc
    return {"path": path, "realpath": real, "is_link": link is not None, "link_target": link}


# ---------------------------------------------------------------- previews

def _preview_paths(paths: list[str], exists: dict[str, bool], count: int, nbytes: int,
                   **extra: Any) -> JSONDict:
    return {"paths": paths, "count": count, "bytes": nbytes, "exists": exists, **extra}


def pv_write(ctx: CallContext, args: JSONDict) -> JSONDict:
    path = str(ctx.resolve(args["path"]))
    exists = os.path.lexists(path)
    size = len(args["content"].encode("utf-8"))
    return _preview_paths([path], {path: exists}, 1, size, overwrites=exists)


def pv_append(ctx: CallContext, args: JSONDict) -> JSONDict:
    path = str(ctx.resolve(args["path"]))
    return _preview_paths([path], {path: os.path.lexists(path)}, 1, len(args["content"].encode("utf-8")))


def pv_touch(ctx: CallContext, args: JSONDict) -> JSONDict:
    path = str(ctx.resolve(args["path"]))
    return _preview_paths([path], {path: os.path.lexists(path)}, 1, 0)


def pv_mkdir(ctx: CallContext, args: JSONDict) -> JSONDict:
    path = str(ctx.resolve(args["path"]))
    new = _missing_parents(path) if args.get("parents") else ([] if os.path.lexists(path) else [path])
    return _preview_paths(new or [path], {path: os.path.lexists(path)}, len(new), 0)


def pv_copy(ctx: CallContext, args: JSONDict) -> JSONDict:
    src = str(ctx.resolve(args["src"]))
    dest = _dest_for(src, str(ctx.resolve(args["dest"])))
    count, size = tree_size(src, regular_only=False)
    return _preview_paths([src, dest], {src: os.path.lexists(src), dest: os.path.lexists(dest)}, count, size,
                          overwrites=os.path.lexists(dest))


def pv_move(ctx: CallContext, args: JSONDict) -> JSONDict:
    return pv_copy(ctx, args)


def pv_delete(ctx: CallContext, args: JSONDict) -> JSONDict:
    path = str(ctx.resolve(args["path"]))
    exists = os.path.lexists(path)
    count, size = tree_size(path, regular_only=False) if exists else (0, 0)
    return _preview_paths([path], {path: exists}, count, size,
                          is_link=os.path.islink(path), recursive=bool(args.get("recursive")))


def pv_chmod(ctx: CallContext, args: JSONDict) -> JSONDict:
    path = str(ctx.resolve(args["path"]))
    exists = os.path.exists(path)
    out = _preview_paths([path], {path: exists}, 1 if exists else 0, 0)
    if exists:
        st = os.stat(path)
        out["old_mode"] = f"{stat.S_IMODE(st.st_mode):04o}"
        out["new_mode"] = f"{chmod_bits(args['mode'], st.st_mode, stat.S_ISDIR(st.st_mode), ctx.call):04o}"
        if args.get("recursive") and stat.S_ISDIR(st.st_mode):
            out["count"] = tree_size(path, regular_only=False)[0]
    return out


def pv_symlink(ctx: CallContext, args: JSONDict) -> JSONDict:
    path = str(ctx.resolve(args["path"]))
    return _preview_paths([path], {path: os.path.lexists(path)}, 1, 0, target=args["target"])


# ---------------------------------------------------------------- registration

def _days_field(attr: str, which: str, unit: str) -> JSONDict:
    word = {"mtime": "modified", "atime": "accessed", "ctime": "status-changed"}[attr]
    if which == "min":
        doc = f"only entries {word} more than this many {unit} ago (older than)"
    else:
        doc = f"only entries {word} at most this many {unit} ago (within the last N {unit})"
    return S.duration(doc, unit)


def _find_args() -> JSONDict:
    props: dict[str, JSONDict] = {
        "path": S.path("where to start (default: the current directory)"),
        "name": S.glob("base name matches this wildcard, case-sensitive (like find -name)"),
        "iname": S.glob("base name matches this wildcard, ignoring case (like find -iname)"),
        "any_name": S.array(S.glob(), "base name matches any of these wildcards", max_items=32),
        "not_name": S.glob("skip entries whose base name matches this wildcard"),
        "path_glob": S.glob("the whole path as find prints it matches this wildcard (like find -path)"),
        "not_path": S.glob("skip entries whose path matches this wildcard (like ! -path)"),
        "regex": S.regex("the whole path matches this regular expression (like find -regex)"),
        "iregex": S.regex("like regex, ignoring case"),
        "type": S.enum(list(U.TYPE_WORDS), "only this type of entry"),
        "size_min_bytes": S.size("at least this many bytes"),
        "size_max_bytes": S.size("at most this many bytes"),
    }
    for attr in ("mtime", "atime", "ctime"):
        for unit in ("days", "minutes"):
            for which in ("min", "max"):
                props[f"{attr}_{which}_{unit}"] = _days_field(attr, which, unit)
    props.update({
        "newer_than": S.path("only entries modified after this file was"),
        "min_depth": S.integer("skip entries shallower than this (0 = the start path)", minimum=0,
                               maximum=4096),
        "max_depth": S.integer("descend at most this many levels (1 = direct children)", minimum=0,
                               maximum=100_000),
        "empty": S.boolean("true: only empty files and directories; false: only non-empty ones"),
        "perm": S.string("permission bits in octal, e.g. 644", max_length=4, pattern="^[0-7]{1,4}$"),
        "perm_match": S.enum(["exact", "all", "any"],
                             "exact (-perm 644), all of the bits (-perm -644), any of them (-perm /644)"),
        "user": S.string("owned by this user name or uid", min_length=1, max_length=64),
        "group": S.string("owned by this group name or gid", min_length=1, max_length=64),
        "nouser": S.boolean("owned by a uid with no user name"),
        "nogroup": S.boolean("owned by a gid with no group name"),
        "readable": S.boolean("only entries the current user can read"),
        "writable": S.boolean("only entries the current user can write"),
        "executable": S.boolean("only entries the current user can execute or enter"),
        "follow_symlinks": S.boolean("follow symbolic links while walking (like find -L)"),
        "exclude_dirs": S.array(S.glob(), "directories not to enter or list (name or path wildcards)",
                                max_items=64),
        "sort": S.enum(["none", "name", "size", "mtime"],
                       "order: size = largest first, mtime = newest first"),
        "reverse": S.boolean("reverse the order"),
        "limit": S.integer("return at most this many rows", minimum=1, maximum=1_000_000),
        "details": S.boolean("also give each row's size_bytes and mtime (a stat per entry; they are "
                             "given anyway when a size, time, owner or permission test or sort needs them)"),
    })
    return S.obj(props)


def register(registry: Registry) -> None:
    table_entries = View("table", "entries", ("name", "type", "size_bytes", "mtime", "mode", "owner"))
    find_view = View("table", "entries", ("path", "type", "size_bytes", "mtime"))

    def add(name: str, doc: str, impl: Callable[[CallContext, JSONDict], JSONDict], *, args: JSONDict,
            result: JSONDict, capability: str, risk: Risk, undoable: bool = False, view: View = _RECORD,
            examples: list[tuple[str, JSONDict]] | None = None,
            preview: Callable[[CallContext, JSONDict], JSONDict] | None = None,
            taints: tuple[str, ...] = (), relocates: bool = False) -> None:
        registry.syscall(name, doc, args=args, result=result, capability=capability, risk=risk,
                         undoable=undoable, view=view, examples=examples, preview=preview,
                         taints=taints, relocates=relocates)(impl)

    sort_enum = S.enum(["name", "size", "mtime"], "order: size = largest first, mtime = newest first")
    add("fs.list", "List the entries of a directory (or show one file).", fs_list,
        args=S.obj({
            "path": S.path("the directory to list (default: the current directory)"),
            "hidden": S.boolean("include names starting with a dot"),
            "long": S.boolean("also show size, modification time, permissions, owner, group, link count"),
            "sort": sort_enum,
            "reverse": S.boolean("reverse the order"),
            "limit": S.integer("show at most this many entries", minimum=1, maximum=1_000_000),
        }),
        result=S.table(_ENTRY_ROW, "entries", {"path": S.string(), "count": S.integer(minimum=0)}),
        capability="fs.read", risk=Risk.READ, view=table_entries,
        examples=[
            ("what's in this folder", {"path": "."}),
            ("show everything in my home including dotfiles", {"path": "~", "hidden": True}),
            ("list /var/log with permissions and owners", {"path": "/var/log", "long": True}),
            ("which files in downloads did I change most recently", {"path": "~/Downloads", "sort": "mtime"}),
            ("the three biggest things in src", {"path": "src", "sort": "size", "limit": 3}),
        ])

    add("fs.stat", "Show the metadata of one file, directory or link: type, size, mode, owner, times.",
        fs_stat,
        args=S.obj({"path": S.path("the file to describe"),
                    "follow": S.boolean("describe the target of a symbolic link instead of the link")},
                   required=["path"]),
        result=S.obj({
            "path": S.string(), "name": S.string(), "type": S.string(), "size_bytes": S.integer(minimum=0),
            "mode": S.string(), "permissions": S.string(), "uid": S.integer(), "gid": S.integer(),
            "owner": S.string(), "group": S.string(), "nlink": S.integer(), "inode": S.integer(),
            "device": S.integer(), "mtime": S.number(), "mtime_iso": S.string(), "atime": S.number(),
            "ctime": S.number(), "link_target": S.string(),
        }, required=["path", "type", "size_bytes", "mode", "mtime"]),
        capability="fs.read", risk=Risk.READ, view=View("record"),
        examples=[
            ("when was notes.txt last modified", {"path": "notes.txt"}),
            ("how big is backup.tar", {"path": "backup.tar"}),
            ("who owns /srv/data", {"path": "/srv/data"}),
            ("show the permissions of the deploy script", {"path": "deploy.sh"}),
        ])

    add("fs.read", "Show the text of a file: all of it, the first or last N lines, or a line range.", fs_read,
        args=S.obj({
            "path": S.path("the file to read"),
            "head_lines": S.integer("only the first N lines", minimum=0, maximum=10_000_000),
            "tail_lines": S.integer("only the last N lines", minimum=0, maximum=10_000_000),
            "line_start": S.integer("first line of a range (1-based)", minimum=1),
            "line_end": S.integer("last line of a range (inclusive)", minimum=1),
        }, required=["path"]),
        result=S.obj({
            "path": S.string(), "binary": S.boolean(), "size_bytes": S.integer(minimum=0), "mime": S.string(),
            "text": S.string(max_length=10**9), "lines": S.integer(minimum=0), "truncated": S.boolean(),
            "head_hex": S.string(),
        }, required=["path", "binary", "size_bytes", "text", "truncated"]),
        taints=("path",),
        capability="fs.read", risk=Risk.READ, view=View("text", "text"),
        examples=[
            ("show me the readme", {"path": "README.md"}),
            ("first 20 lines of server.log", {"path": "server.log", "head_lines": 20}),
            ("what are the last lines of /var/log/syslog", {"path": "/var/log/syslog", "tail_lines": 10}),
            ("print lines 100 to 120 of main.py", {"path": "main.py", "line_start": 100, "line_end": 120}),
            ("open the config file in my home", {"path": "~/.config/app/config.toml"}),
        ])

    add("fs.find", "Search a tree for entries by name, path, type, size, age, owner or permissions.",
        fs_find, args=_find_args(),
        result=S.table(_FIND_ROW, "entries", {"path": S.string(), "count": S.integer(minimum=0),
                                              "scanned": S.integer(minimum=0),
                                              "errors": S.array(S.string())}),
        capability="fs.read", risk=Risk.READ, view=find_view,
        examples=[
            ("find all python files under src", {"path": "src", "name": "*.py", "type": "file"}),
            ("pictures bigger than 5 megabytes in my home",
             {"path": "~", "any_name": ["*.jpg", "*.jpeg", "*.png"], "size_min_bytes": 5_242_880}),
            ("log files nobody touched for over a month", {"name": "*.log", "mtime_min_days": 30}),
            ("what changed here in the last ten minutes", {"mtime_max_minutes": 10, "type": "file"}),
            ("empty folders in the project", {"type": "dir", "empty": True}),
            ("world-writable files, skipping .git",
             {"type": "file", "perm": "002", "perm_match": "all", "exclude_dirs": [".git"]}),
        ])

    add("fs.grep", "Search inside text files for lines matching a pattern.", fs_grep,
        args=S.obj({
            "pattern": S.regex("what to look for (a regular expression unless fixed=true)"),
            "path": S.path("a file or a directory to search (default: the current directory)"),
            "fixed": S.boolean("the pattern is plain text, not a regular expression"),
            "ignore_case": S.boolean("match regardless of case"),
            "include": S.glob("only files whose name matches this wildcard"),
            "exclude": S.glob("skip files whose name matches this wildcard"),
            "recursive": S.boolean("search sub-directories too (default true)"),
            "count_only": S.boolean("only the number of matching lines per file"),
            "files_with_matches": S.boolean("only the names of files that match"),
            "max_matches": S.integer("stop after this many matching lines", minimum=1, maximum=1_000_000),
            "context_lines": S.integer("lines of context around each match", minimum=0, maximum=20),
        }, required=["pattern"]),
        result=S.table(S.obj({"path": S.string(), "line_number": S.integer(minimum=1), "line": S.string(),
                              "count": S.integer(minimum=0), "before": S.array(S.string()),
                              "after": S.array(S.string())}, required=["path"]),
                       "matches", {"path": S.string(), "match_count": S.integer(minimum=0),
                                   "files_searched": S.integer(minimum=0),
                                   "skipped_binary": S.integer(minimum=0)}),
        taints=("path", "pattern"),
        capability="fs.read", risk=Risk.READ, view=View("table", "matches", ("path", "line_number", "line")),
        examples=[
            ("where is TODO mentioned in the code", {"pattern": "TODO", "fixed": True}),
            ("which python files import requests",
             {"pattern": "^import requests|^from requests", "include": "*.py", "files_with_matches": True}),
            ("count errors in app.log ignoring case", {"pattern": "error", "path": "app.log",
                                                       "ignore_case": True, "count_only": True}),
            ("show uses of parse_args with two lines around them",
             {"pattern": "parse_args", "fixed": True, "context_lines": 2}),
        ])

    add("fs.du", "Measure disk usage of a tree (apparent size, like du -b) and its largest entries.", fs_du,
        args=S.obj({
            "path": S.path("the tree to measure (default: the current directory)"),
            "top": S.integer("how many of the largest entries to list", minimum=1, maximum=10_000),
            "depth": S.integer("entries up to this depth are ranked (1 = direct children)", minimum=1,
                               maximum=64),
        }),
        result=S.table(S.obj({"path": S.string(), "type": S.string(), "size_bytes": S.integer(minimum=0)},
                             required=["path", "size_bytes"]),
                       "entries", {"path": S.string(), "total_bytes": S.integer(minimum=0),
                                   "files": S.integer(minimum=0), "dirs": S.integer(minimum=0)}),
        capability="fs.read", risk=Risk.READ, view=View("table", "entries", ("path", "type", "size_bytes")),
        examples=[
            ("how much space does this folder take", {"path": "."}),
            ("what are the 5 biggest things in my downloads", {"path": "~/Downloads", "top": 5}),
            ("disk usage of /var/log two levels deep", {"path": "/var/log", "depth": 2}),
        ])

    add("fs.wc", "Count the lines, words, bytes and characters of a file.", fs_wc,
        args=S.obj({"path": S.path("the file to count")}, required=["path"]),
        result=S.obj({"path": S.string(), "lines": S.integer(minimum=0), "words": S.integer(minimum=0),
                      "bytes": S.integer(minimum=0), "chars": S.integer(minimum=0)},
                     required=["path", "lines", "words", "bytes", "chars"]),
        capability="fs.read", risk=Risk.READ, view=View("record"),
        examples=[
            ("how many lines are in data.csv", {"path": "data.csv"}),
            ("word count of my essay", {"path": "essay.txt"}),
            ("count the characters in message.txt", {"path": "message.txt"}),
        ])

    add("fs.checksum", "Compute the checksum (sha256, sha1 or md5) of a file.", fs_checksum,
        args=S.obj({"path": S.path("the file"),
                    "algorithm": S.enum(["sha256", "sha1", "md5"], "hash algorithm (default sha256)")},
                   required=["path"]),
        result=S.obj({"path": S.string(), "algorithm": S.string(), "digest": S.string(),
                      "size_bytes": S.integer(minimum=0)}, required=["path", "algorithm", "digest"]),
        capability="fs.read", risk=Risk.READ, view=View("record"),
        examples=[
            ("sha256 of the downloaded iso", {"path": "ubuntu.iso"}),
            ("md5sum of archive.zip", {"path": "archive.zip", "algorithm": "md5"}),
            ("verify the sha1 of release.tar.gz", {"path": "release.tar.gz", "algorithm": "sha1"}),
        ])

    content = S.string("the text to write", max_length=10_000_000)
    write_result = S.obj({"path": S.string(), "bytes_written": S.integer(minimum=0), "created": S.boolean(),
                          "size_bytes": S.integer(minimum=0)}, required=["path", "bytes_written"])
    add("fs.write", "Write text to a file atomically, creating it or replacing its content.", fs_write,
        args=S.obj({"path": S.path("the file to write"), "content": content,
                    "no_clobber": S.boolean("refuse if the file already exists")},
                   required=["path", "content"]),
        result=write_result, capability="fs.write", risk=Risk.WRITE, undoable=True, preview=pv_write,
        examples=[
            ("save 'hello world' into greeting.txt", {"path": "greeting.txt", "content": "hello world\n"}),
            ("create a .gitignore that ignores build", {"path": ".gitignore", "content": "build/\n"}),
            ("write a todo list with milk and eggs, but don't overwrite an existing one",
             {"path": "todo.txt", "content": "milk\neggs\n", "no_clobber": True}),
        ])

    add("fs.append", "Add text to the end of a file (atomically), creating it if needed.", fs_append,
        args=S.obj({"path": S.path("the file to extend"), "content": content}, required=["path", "content"]),
        result=write_result, capability="fs.write", risk=Risk.WRITE, undoable=True, preview=pv_append,
        examples=[
            ("add a line 'done' to log.txt", {"path": "log.txt", "content": "done\n"}),
            ("append export PATH=~/bin:$PATH to my bashrc",
             {"path": "~/.bashrc", "content": "export PATH=~/bin:$PATH\n"}),
            ("put 'call mom' at the end of the todo list", {"path": "todo.txt", "content": "call mom\n"}),
        ])

    add("fs.touch", "Create an empty file, or update a file's modification time.", fs_touch,
        args=S.obj({"path": S.path("the file"),
                    "mtime": S.number("set this modification time (epoch seconds) instead of now", minimum=0),
                    "no_create": S.boolean("only update an existing file; never create one")},
                   required=["path"]),
        result=S.obj({"path": S.string(), "created": S.boolean(), "mtime": S.number(),
                      "mtime_iso": S.string()}, required=["path", "created"]),
        capability="fs.write", risk=Risk.WRITE, undoable=True, preview=pv_touch,
        examples=[
            ("create an empty file called notes.md", {"path": "notes.md"}),
            ("update the timestamp of Makefile", {"path": "Makefile", "no_create": True}),
            ("make a placeholder .keep in the logs folder", {"path": "logs/.keep"}),
        ])

    add("fs.mkdir", "Create a directory (and its missing parents when asked).", fs_mkdir,
        args=S.obj({"path": S.path("the directory to create"),
                    "parents": S.boolean("also create missing parent directories; no error if it exists")},
                   required=["path"]),
        result=S.obj({"path": S.string(), "created": S.array(S.string())}, required=["path", "created"]),
        capability="fs.write", risk=Risk.WRITE, undoable=True, preview=pv_mkdir,
        examples=[
            ("make a folder called photos", {"path": "photos"}),
            ("create projects/2024/q1 including the parents", {"path": "projects/2024/q1", "parents": True}),
            ("new directory backups in my home", {"path": "~/backups"}),
        ])

    copy_args = S.obj({"src": S.path("what to copy"), "dest": S.path("the new path or an existing directory"),
                       "recursive": S.boolean("copy a whole directory tree"),
                       "no_clobber": S.boolean("refuse to replace an existing destination")},
                      required=["src", "dest"])
    add("fs.copy", "Copy a file or a directory tree.", fs_copy,
        args=copy_args,
        result=S.obj({"src": S.string(), "dest": S.string(), "entries": S.integer(minimum=0),
                      "bytes": S.integer(minimum=0), "overwrote": S.boolean()}, required=["src", "dest"]),
        capability="fs.write", risk=Risk.WRITE, undoable=True, preview=pv_copy,
        examples=[
            ("copy report.pdf to the desktop", {"src": "report.pdf", "dest": "~/Desktop"}),
            ("back up the config folder to config.bak", {"src": "config", "dest": "config.bak",
                                                         "recursive": True}),
            ("duplicate main.py as main_old.py unless that exists",
             {"src": "main.py", "dest": "main_old.py", "no_clobber": True}),
        ])

    add("fs.move", "Move or rename a file or directory.", fs_move,
        args=S.obj({"src": S.path("what to move"), "dest": S.path("the new path or an existing directory"),
                    "no_clobber": S.boolean("refuse to replace an existing destination")},
                   required=["src", "dest"]),
        result=S.obj({"src": S.string(), "dest": S.string(), "overwrote": S.boolean()},
                     required=["src", "dest"]),
        capability="fs.write", risk=Risk.WRITE, undoable=True, preview=pv_move, relocates=True,
        examples=[
            ("rename draft.txt to final.txt", {"src": "draft.txt", "dest": "final.txt"}),
            ("move the screenshots folder into Pictures", {"src": "screenshots", "dest": "~/Pictures"}),
            ("put old.log into the archive directory without overwriting",
             {"src": "old.log", "dest": "archive", "no_clobber": True}),
        ])

    add("fs.delete", "Delete a file, a symbolic link (never its target) or, with recursive, a tree.",
        fs_delete,
        args=S.obj({"path": S.path("what to delete"),
                    "recursive": S.boolean("allow deleting a non-empty directory and everything in it")},
                   required=["path"]),
        result=S.obj({"path": S.string(), "entries": S.integer(minimum=0), "bytes": S.integer(minimum=0),
                      "trashed": S.boolean(), "trash_name": S.string("its name in the trash"),
                      "trash": S.string("the trash directory it went to: the home trash, or the "
                                        "per-volume trash of its file system"),
                      "note": S.string("why it went to the home trash across file systems")},
                     required=["path"]),
        capability="fs.delete", risk=Risk.DESTRUCTIVE, undoable=True, preview=pv_delete,
        examples=[
            ("delete temp.txt", {"path": "temp.txt"}),
            ("remove the build directory and everything in it", {"path": "build", "recursive": True}),
            ("get rid of the broken link called latest", {"path": "latest"}),
            ("remove the empty folder old", {"path": "old"}),
        ])

    add("fs.chmod", "Change the permission bits of a file or directory (never setuid/setgid).", fs_chmod,
        args=S.obj({"path": S.path("the file or directory"),
                    "mode": S.string("octal like 644 / 0755, or symbolic like u+x or go-w", min_length=1,
                                     max_length=32, pattern="^[0-7ugoa+=,rwxXts-]+$"),
                    "recursive": S.boolean("apply to everything inside a directory too")},
                   required=["path", "mode"]),
        result=S.table(S.obj({"path": S.string(), "old_mode": S.string(), "new_mode": S.string()},
                             required=["path"]), "entries", {"path": S.string(), "count": S.integer()}),
        capability="fs.chmod", risk=Risk.WRITE, undoable=True, preview=pv_chmod,
        view=View("table", "entries", ("path", "old_mode", "new_mode")),
        examples=[
            ("make deploy.sh executable", {"path": "deploy.sh", "mode": "u+x"}),
            ("set secrets.env to be readable only by me", {"path": "secrets.env", "mode": "600"}),
            ("remove write permission for others on shared", {"path": "shared", "mode": "o-w",
                                                              "recursive": True}),
            ("give the public folder mode 755", {"path": "public", "mode": "755"}),
        ])

    add("fs.symlink", "Create a symbolic link at path pointing to target.", fs_symlink,
        args=S.obj({"path": S.path("where the link is created"),
                    "target": S.path("what the link points to (kept as given; relative to the link)")},
                   required=["path", "target"]),
        result=S.obj({"path": S.string(), "target": S.string(), "dangling": S.boolean()},
                     required=["path", "target"]),
        capability="fs.write", risk=Risk.WRITE, undoable=True, preview=pv_symlink,
        examples=[
            ("link latest to releases/v2.1", {"path": "latest", "target": "releases/v2.1"}),
            ("make a shortcut to /var/log in my home called logs", {"path": "~/logs", "target": "/var/log"}),
            ("create a symlink config.yml pointing at config.prod.yml",
             {"path": "config.yml", "target": "config.prod.yml"}),
        ])

    add("fs.realpath", "Resolve a path to its canonical absolute form; show where a link points.",
        fs_realpath,
        args=S.obj({"path": S.path("the path or link to resolve")}, required=["path"]),
        result=S.obj({"path": S.string(), "realpath": S.string(), "is_link": S.boolean(),
                      "link_target": S.nullable("string")}, required=["path", "realpath"]),
        capability="fs.read", risk=Risk.READ, view=View("record"),
        examples=[
            ("where does the link current point to", {"path": "current"}),
            ("full path of this directory", {"path": "."}),
            ("resolve ~/bin/python", {"path": "~/bin/python"}),
        ])
