"""Changing calls: fs.write, fs.append, fs.touch, fs.mkdir, fs.copy, fs.move, fs.delete, fs.chmod
and fs.symlink, each with its preview (the exact effects, nothing changed).

They go through ``ctx.effects`` for removal and overwrite and record their inverse.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syscalls import schema as S
from syscalls.builtin import _fsutil as U
from syscalls.errors import AlreadyExists, InvalidRequest, LimitExceeded, SyscallError, WrongType, from_oserror
from syscalls.fsmeasure import tree_size
from syscalls.modes import GBNF as MODE_GBNF
from syscalls.modes import chmod_bits
from syscalls.paths import checked_path
from syscalls.types import CallContext, JSONDict, Risk, View

if TYPE_CHECKING:
    from syscalls.registry import Registry


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


def fs_write(ctx: CallContext, args: JSONDict) -> JSONDict:
    return write_file(ctx, args, args["content"].encode("utf-8"))


def write_file(ctx: CallContext, args: JSONDict, data: bytes) -> JSONDict:
    """Create ``args["path"]`` with ``data`` or replace its content (``no_clobber`` refuses), journaled.

    What fs.write, fs.concat and table.save share: atomic, the permission bits of a replaced file kept, its
    previous version backed up for undo (or, for a new file, a delete recorded)."""
    path = str(ctx.resolve(args["path"]))
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
    U.write_whole(ctx, real, data, stat.S_IMODE(st.st_mode) if st is not None else None)
    inverse = _restore_inverse(path, old) if st is not None else {"call": "fs.delete", "args": {"path": path}}
    ctx.effects.record(ctx, inverse)
    return {"path": path, "bytes_written": len(data), "created": st is None}


def fs_concat(ctx: CallContext, args: JSONDict) -> JSONDict:
    cap = ctx.max_bytes * 100
    parts: list[bytes] = []
    size = 0
    for raw in args["sources"]:
        shown = str(ctx.resolve(raw))
        fd, st = U.open_regular_checked(ctx, raw, shown)
        try:
            size += st.st_size
            if size > cap:
                raise LimitExceeded(f"the joined files are larger than {cap} bytes", call=ctx.call,
                                    target=shown, hint="join fewer or smaller files")
            parts.append(U.read_prefix(fd, st.st_size + 1))
        finally:
            os.close(fd)
    out = write_file(ctx, args, b"".join(parts))
    out["sources"] = len(parts)
    return out


def pv_concat(ctx: CallContext, args: JSONDict) -> JSONDict:
    path = str(ctx.resolve(args["path"]))
    exists = os.path.lexists(path)
    sources = [ctx.resolve(raw) for raw in args["sources"]]
    size = sum(os.path.getsize(src) for src in sources if os.path.isfile(src))
    return _preview_paths([path], {path: exists}, 1, size, overwrites=exists)


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
    U.write_whole(ctx, real, old_bytes + data, stat.S_IMODE(st.st_mode) if st is not None else None)
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
    st = U.ensure_exists(src, call)
    is_tree = stat.S_ISDIR(st.st_mode)
    if is_tree and not args.get("recursive", True):
        raise WrongType("is a directory and recursive=false", call=call, target=src,
                        hint="leave recursive out to copy the whole tree")
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
    st = U.ensure_exists(src, call)
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
    st = U.ensure_exists(path, call)
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


def register(registry: Registry) -> None:
    content = S.text("the text to write", max_length=10_000_000)
    write_result = S.obj({"path": S.string(), "bytes_written": S.integer(minimum=0), "created": S.boolean(),
                          "size_bytes": S.integer(minimum=0)}, required=["path", "bytes_written"])
    registry.syscall("fs.write", "Write text to a file atomically, creating it or replacing its content.",
        args=S.obj({"path": S.path("the file to write", new=True), "content": content,
                    "no_clobber": S.boolean("refuse if the file already exists")},
                   required=["path", "content"]),
        result=write_result, capability="fs.write", risk=Risk.WRITE, undoable=True, preview=pv_write,
        examples=[
            ("save 'hello world' into greeting.txt", {"path": "greeting.txt", "content": "hello world\n"}),
            ("create a .gitignore that ignores build", {"path": ".gitignore", "content": "build/\n"}),
            ("write a todo list with milk and eggs, but don't overwrite an existing one",
             {"path": "todo.txt", "content": "milk\neggs\n", "no_clobber": True}),
        ])(fs_write)

    sources = S.array(S.path("a file to join"), "the files to join, in order", max_items=256)
    sources["minItems"] = 1
    registry.syscall("fs.concat", "Join files end to end into one file (like cat a b > c), creating it or "
        "replacing its content.",
        args=S.obj({"path": S.path("the file to write", new=True), "sources": sources,
                    "no_clobber": S.boolean("refuse if the file already exists")},
                   required=["path", "sources"]),
        result=S.obj({"path": S.string(), "bytes_written": S.integer(minimum=0), "created": S.boolean(),
                      "sources": S.integer(minimum=0)}, required=["path", "bytes_written"]),
        capability="fs.write", risk=Risk.WRITE, undoable=True, preview=pv_concat,
        examples=[
            ("cat part1.txt part2.txt > whole.txt", {"path": "whole.txt", "sources": ["part1.txt", "part2.txt"]}),
            ("merge jan.csv and feb.csv into q1.csv", {"path": "q1.csv", "sources": ["jan.csv", "feb.csv"]}),
        ],
        phrasings=[
            ("cat {file} {file2} > {file3}", 'fs.concat path={file3} sources=[{file}, {file2}]'),
            ("merge {file} and {file2} into {file3}", 'fs.concat path={file3} sources=[{file}, {file2}]'),
            ("combine {file} and {file2} into one file called {file3}",
             'fs.concat path={file3} sources=[{file}, {file2}]'),
            ("join {file}, {file2} and {file3} into {file4}",
             'fs.concat path={file4} sources=[{file}, {file2}, {file3}]'),
            ("concatenate {file} and {file2} as {file3}", 'fs.concat path={file3} sources=[{file}, {file2}]'),
            ("put {file} and {file2} together in {file3}", 'fs.concat path={file3} sources=[{file}, {file2}]'),
            ("glue {file2} onto the end of {file} and save it as {file3}",
             'fs.concat path={file3} sources=[{file}, {file2}]'),
        ])(fs_concat)

    registry.syscall("fs.append", "Add text to the end of a file (atomically), creating it if needed.",
        args=S.obj({"path": S.path("the file to extend", new=True), "content": content}, required=["path", "content"]),
        result=write_result, capability="fs.write", risk=Risk.WRITE, undoable=True, preview=pv_append,
        examples=[
            ("add a line 'done' to log.txt", {"path": "log.txt", "content": "done\n"}),
            ("append export PATH=~/bin:$PATH to my bashrc",
             {"path": "~/.bashrc", "content": "export PATH=~/bin:$PATH\n"}),
            ("put 'call mom' at the end of the todo list", {"path": "todo.txt", "content": "call mom\n"}),
        ])(fs_append)

    registry.syscall("fs.touch", "Create an empty file, or update a file's modification time.",
        args=S.obj({"path": S.path("the file", new=True),
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
        ])(fs_touch)

    registry.syscall("fs.mkdir", "Create a directory (and its missing parents when asked).",
        args=S.obj({"path": S.path("the directory to create", new=True),
                    "parents": S.boolean("also create missing parent directories; no error if it exists")},
                   required=["path"]),
        result=S.obj({"path": S.string(), "created": S.array(S.string())}, required=["path", "created"]),
        capability="fs.write", risk=Risk.WRITE, undoable=True, preview=pv_mkdir,
        examples=[
            ("make a folder called photos", {"path": "photos"}),
            ("create projects/2024/q1 including the parents", {"path": "projects/2024/q1", "parents": True}),
            ("new directory backups in my home", {"path": "~/backups"}),
        ])(fs_mkdir)

    copy_args = S.obj({"src": S.path("what to copy"), "dest": S.path("the new path or an existing directory", new=True),
                       "recursive": S.boolean("a directory is copied whole (default true: a copy "
                                                         "never replaces anything of a tree); false refuses one"),
                       "no_clobber": S.boolean("refuse to replace an existing destination")},
                      required=["src", "dest"])
    registry.syscall("fs.copy", "Copy a file or a directory tree.",
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
        ])(fs_copy)

    registry.syscall("fs.move", "Move or rename a file or directory.",
        args=S.obj({"src": S.path("what to move"), "dest": S.path("the new path or an existing directory", new=True),
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
        ])(fs_move)

    registry.syscall("fs.delete", "Delete a file, a symbolic link (never its target) or, with recursive, a tree.",
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
        ])(fs_delete)

    registry.syscall("fs.chmod", "Change the permission bits of a file or directory (never setuid/setgid).",
        args=S.obj({"path": S.path("the file or directory"),
                    "mode": S.string("octal like 644 / 0755, symbolic like u+x or go-w, or as ls shows it "
                                     "like rwxr-xr-x", min_length=1, max_length=32,
                                     pattern="^[0-7ugoa+=,rwxXtsST-]+$", **{"x-gbnf": MODE_GBNF}),
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
        ])(fs_chmod)

    registry.syscall("fs.symlink", "Create a symbolic link at path pointing to target.",
        args=S.obj({"path": S.path("where the link is created", new=True),
                    "target": S.path("what the link points to (kept as given; relative to the link)", new=True)},
                   required=["path", "target"]),
        result=S.obj({"path": S.string(), "target": S.string(), "dangling": S.boolean()},
                     required=["path", "target"]),
        capability="fs.write", risk=Risk.WRITE, undoable=True, preview=pv_symlink, names_existing=("path", "target"),
        examples=[
            ("link latest to releases/v2.1", {"path": "latest", "target": "releases/v2.1"}),
            ("make a shortcut to /var/log in my home called logs", {"path": "~/logs", "target": "/var/log"}),
            ("create a symlink config.yml pointing at config.prod.yml",
             {"path": "config.yml", "target": "config.prod.yml"}),
        ])(fs_symlink)
