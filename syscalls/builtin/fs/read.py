"""Reading calls: fs.list, fs.stat, fs.read, fs.wc, fs.checksum and fs.realpath."""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import stat
from itertools import islice
from typing import TYPE_CHECKING

from syscalls import schema as S
from syscalls.builtin import _fsutil as U
from syscalls.builtin.fs.walk import PROGRESS_EVERY, dir_fd_of, dirent_kind, entry_stat, open_start
from syscalls.errors import InvalidRequest, SyscallError, from_oserror
from syscalls.types import CallContext, JSONDict, Risk, View

if TYPE_CHECKING:
    from syscalls.registry import Registry

_ENTRY_ROW = S.obj({
    "name": S.string(), "path": S.string(), "type": S.enum([*U.TYPE_WORDS, "other"]),
    "size_bytes": S.integer(minimum=0), "mtime": S.number(),
    "mode": S.string(), "owner": S.string(), "group": S.string(), "nlink": S.integer(minimum=0),
    "link_target": S.string(),
}, required=["name", "path", "type"])
"""size_bytes and mtime come with long=true or a size/mtime sort (they cost a stat per entry)."""


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
    pfd, st = open_start(ctx, raw, path)
    rows: list[JSONDict] = []
    try:
        if not stat.S_ISDIR(st.st_mode):
            if os.path.islink(path):  # a link to a file is shown as the link, like ls
                st = U.ensure_exists(path, call)
            row = {"name": os.path.basename(path), "path": path, "type": U.type_of(st.st_mode),
                   "size_bytes": st.st_size, "mtime": st.st_mtime}
            if long:
                row.update(mode=stat.filemode(st.st_mode), owner=U.user_name(st.st_uid),
                           group=U.group_name(st.st_gid), nlink=st.st_nlink)
            return {"path": path, "entries": [row], "count": 1, "truncated": False}
        try:
            dfd = dir_fd_of(pfd)
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
    U.sort_rows(rows, sort, reverse, key_name="name")
    truncated = False
    if limit is not None and len(rows) > limit:
        rows = rows[:limit]
    if len(rows) > ctx.max_rows:
        rows, truncated = rows[: ctx.max_rows], True
    return {"path": path, "entries": rows, "count": len(rows), "truncated": truncated}


def _list_into(ctx: CallContext, dfd: int, path: str, hidden: bool, long: bool, need_stat: bool,
               rows: list[JSONDict]) -> None:
    prefix = path if path.endswith("/") else path + "/"
    filemode = stat.filemode
    append = rows.append
    with os.scandir(dfd) as it:
        while True:
            ctx.check_cancel()
            batch = list(islice(it, PROGRESS_EVERY))
            if not batch:
                break
            for e in batch:
                name = e.name
                if not hidden and name[0] == ".":
                    continue
                if not need_stat:
                    kind = dirent_kind(e, False)
                    if kind is None:  # a FIFO, socket or device: only the stat tells
                        st = entry_stat(e, False)
                        if st is None:
                            continue
                        kind = U.type_of(st.st_mode)
                    append({"name": name, "path": prefix + name, "type": kind})
                    continue
                try:
                    est = e.stat(follow_symlinks=False) if e.is_symlink() else e.stat()  # an lstat
                except OSError:
                    continue
                mode = est.st_mode
                row = {"name": name, "path": prefix + name, "type": U.type_of(mode),
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
                append(row)


def register_list(registry: Registry) -> None:
    sort_enum = S.enum(["name", "size", "mtime"], "order: size = largest first, mtime = newest first")
    table_entries = View("table", "entries", ("name", "type", "size_bytes", "mtime", "mode", "owner"))
    registry.syscall("fs.list", "List the entries of a directory (or show one file).",
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
        ])(fs_list)


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
    fd, st = open_start(ctx, args["path"], path)
    os.close(fd)
    return _stat_row(path, st, target)


def register_stat(registry: Registry) -> None:
    registry.syscall("fs.stat", "Show the metadata of one file, directory or link: type, size, mode, owner, times.",
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
        ])(fs_stat)


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


def register_read(registry: Registry) -> None:
    registry.syscall("fs.read", "Show the text of a file: all of it, the first or last N lines, or a line range.",
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
        taints=("path",), on_directory="fs.list",
        capability="fs.read", risk=Risk.READ, view=View("text", "text"),
        examples=[
            ("show me the readme", {"path": "README.md"}),
            ("first 20 lines of server.log", {"path": "server.log", "head_lines": 20}),
            ("what are the last lines of /var/log/syslog", {"path": "/var/log/syslog", "tail_lines": 10}),
            ("print lines 100 to 120 of main.py", {"path": "main.py", "line_start": 100, "line_end": 120}),
            ("open the config file in my home", {"path": "~/.config/app/config.toml"}),
        ])(fs_read)


def fs_wc(ctx: CallContext, args: JSONDict) -> JSONDict:
    """Counts as GNU wc in a UTF-8 locale: a word starts at a printable character after
    white space; control characters and invalid bytes neither start nor end a word and
    are not counted as characters.  A directory: each of its files matching ``include``
    (like ``wc $(find DIR -type f -name GLOB)``), one row each, and the totals."""
    targets = U.file_targets(ctx, args, write=False)
    if not targets.is_dir:
        fd, _st = U.open_target(ctx, targets.files[0])
        return {"path": targets.root, **_wc(ctx, fd, targets.root)}
    rows: list[JSONDict] = []
    skipped = list(targets.skipped)
    for f in targets.files:
        ctx.check_cancel()
        try:
            fd, _st = U.open_target(ctx, f)
        except SyscallError as exc:
            skipped.append({"path": f.path, "reason": exc.message})
            continue
        rows.append({"path": f.path, **_wc(ctx, fd, f.path)})
    totals = {k: sum(r[k] for r in rows) for k in ("lines", "words", "bytes", "chars")}
    return {"path": targets.root, **totals, "files": rows[: ctx.max_rows], "files_counted": len(rows),
            "skipped": skipped[:200], "truncated": len(rows) > ctx.max_rows}


def _wc(ctx: CallContext, fd: int, shown: str) -> dict[str, int]:
    """Lines, words, bytes and characters of the open file ``fd`` (closed afterwards)."""
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
        raise from_oserror(exc, call=ctx.call, target=shown) from exc
    finally:
        os.close(fd)
    return {"lines": lines, "words": words, "bytes": nbytes, "chars": chars}


# C0/C1 controls that are not white space in the C library's sense (Python counts 0x1c-0x1f as space)
_NONPRINT = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]+")


def register_wc(registry: Registry) -> None:
    counts = {"lines": S.integer(minimum=0), "words": S.integer(minimum=0), "bytes": S.integer(minimum=0),
              "chars": S.integer(minimum=0)}
    row = S.obj({"path": S.string(), **counts}, required=["path", "lines", "words", "bytes", "chars"])
    registry.syscall("fs.wc", "Count the lines, words, bytes and characters of a file, or of each file in a "
                     "directory (matching include) with the totals.",
        args=S.obj({"path": S.path("the file to count, or a directory whose files (matching include) to count"),
                    **U.where_args()}, required=["path"]),
        result=S.obj({"path": S.string(), **counts, "files": S.array(row),
                      "files_counted": S.integer(minimum=0),
                      "skipped": S.array(S.obj({"path": S.string(), "reason": S.string()},
                                               required=["path", "reason"])),
                      "truncated": S.boolean()},
                     required=["path", "lines", "words", "bytes", "chars"]),
        capability="fs.read", risk=Risk.READ, view=View("record"),
        examples=[
            ("how many lines are in data.csv", {"path": "data.csv"}),
            ("word count of my essay", {"path": "essay.txt"}),
            ("count the characters in message.txt", {"path": "message.txt"}),
            ("how many lines of python are in src", {"path": "src", "include": "*.py"}),
        ])(fs_wc)


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


def register_checksum(registry: Registry) -> None:
    registry.syscall("fs.checksum", "Compute the checksum (sha256, sha1 or md5) of a file.",
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
        ])(fs_checksum)


def fs_realpath(ctx: CallContext, args: JSONDict) -> JSONDict:
    path = str(ctx.resolve(args["path"]))
    try:
        os.lstat(path)
        link = os.readlink(path) if os.path.islink(path) else None
        real = os.path.realpath(path, strict=True)
    except OSError as exc:
        raise from_oserror(exc, call=ctx.call, target=path) from exc
    return {"path": path, "realpath": real, "is_link": link is not None, "link_target": link}


def register_realpath(registry: Registry) -> None:
    registry.syscall("fs.realpath", "Resolve a path to its canonical absolute form; show where a link points.",
        args=S.obj({"path": S.path("the path or link to resolve")}, required=["path"]),
        result=S.obj({"path": S.string(), "realpath": S.string(), "is_link": S.boolean(),
                      "link_target": S.nullable("string")}, required=["path", "realpath"]),
        capability="fs.read", risk=Risk.READ, view=View("record"),
        examples=[
            ("where does the link current point to", {"path": "current"}),
            ("full path of this directory", {"path": "."}),
            ("resolve ~/bin/python", {"path": "~/bin/python"}),
        ])(fs_realpath)
