"""fs.rename_ext: change the extension of every matching file of a directory, as one undoable step.

What ``rename 's/\\.jpeg$/.jpg/' *.jpeg`` (or ``for f in *.jpeg; do mv "$f" "${f%.jpeg}.jpg"; done``) is
used for.  A file matches when its name ends with ``.FROM`` after at least one other character; names
starting with a dot are left alone and dot-directories are not entered (as the shell's ``*`` leaves them
out).  Only regular files are renamed; directories and symbolic links keep their names.

Every new name is worked out, and checked, before anything is renamed: a new name that exists already,
or that two files would both get, refuses the whole request and nothing changes.  A file the floor
protects (met while walking; the gate checked the directory) is skipped with the reason.  Each rename is
done inside its directory's fd (no symbolic link followed) and journaled as a move, so ``nlsh undo`` puts
every name back at once.
"""

from __future__ import annotations

import os
import stat
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from syscalls import schema as S
from syscalls.builtin import _fsutil as U
from syscalls.builtin.fs.walk import Walk, dirent_kind, entry_stat, open_start_dir
from syscalls.errors import AlreadyExists, InvalidRequest, LimitExceeded, from_oserror
from syscalls.paths import checked_path, safe_open_dir
from syscalls.types import CallContext, JSONDict, Risk, View

if TYPE_CHECKING:
    from syscalls.registry import Registry

MAX_RENAMES = 100_000
_SHOWN = 200


@dataclass
class _Plan:
    root: str  # the directory as written (absolute)
    real: str  # the directory the gate checked
    old: str  # the extension without its dot
    new: str  # "" removes the extension
    # (directory as written, old name, new name), in path order
    renames: list[tuple[str, str, str]] = field(default_factory=list)
    skipped: list[JSONDict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _ext(ctx: CallContext, args: JSONDict, key: str) -> str:
    value = str(args.get(key, ""))
    ext = value[1:] if value.startswith(".") else value
    if "/" in ext or "\x00" in ext or (key == "from_ext" and not ext):
        raise InvalidRequest(f"{value!r} is not a file name extension", call=ctx.call, field=f"args.{key}",
                             hint="give the extension alone, like jpeg or .jpeg")
    return ext


def _plan(ctx: CallContext, args: JSONDict) -> _Plan:
    """Every rename the request asks for, checked (conflicts refuse it all); nothing is changed."""
    call = ctx.call
    raw = args.get("path", ".")
    root = str(ctx.resolve(raw))
    old, new = _ext(ctx, args, "from_ext"), _ext(ctx, args, "to_ext")
    fold = bool(args.get("ignore_case"))
    if old == new:
        raise InvalidRequest(f"the old and new extensions are the same ({old!r})", call=call,
                             field="args.to_ext", hint="nothing would change; give a different to_ext")
    suffix = "." + old
    want = suffix.casefold() if fold else suffix
    recursive = bool(args.get("recursive", False))
    dfd = open_start_dir(ctx, raw, root, hint="give the folder whose files to rename; for one file use fs.move")
    plan = _Plan(root, str(checked_path(ctx, raw)), old, new)
    names: dict[str, set[str]] = defaultdict(set)  # directory -> every name in it (for conflicts)
    with Walk(ctx, dfd, root, sort=True, errors=plan.errors) as walk:
        for frame in walk:
            here = names[frame.path]
            for batch in walk.scan(frame):
                for e in batch:
                    name = e.name
                    here.add(name)
                    if name.startswith("."):
                        continue
                    kind = dirent_kind(e, False)
                    if kind == "dir":
                        if recursive:
                            frame.subdirs.append(name)
                        continue
                    if kind is None:  # d_type did not say: only a stat tells a regular file
                        est = entry_stat(e, False)
                        kind = "file" if est is not None and stat.S_ISREG(est.st_mode) else None
                    if kind != "file" or len(name) <= len(suffix):
                        continue
                    tail = name[-len(suffix):]
                    if (tail.casefold() if fold else tail) != want:
                        continue
                    renamed = name[: -len(suffix)] + ("." + new if new else "")
                    if renamed != name:
                        plan.renames.append((frame.path, name, renamed))
                        if len(plan.renames) > MAX_RENAMES:
                            raise LimitExceeded(f"more than {MAX_RENAMES} files to rename", call=call, target=root,
                                                hint="rename one folder at a time (recursive=false)")
    kept: list[tuple[str, str, str]] = []
    floor = U.FloorFilter(ctx, write=True)
    for d, name, renamed in plan.renames:
        src, dest = U.join(d, name), U.join(d, renamed)
        real_dir = U.rebase(d, root, plan.real)
        why = floor.refusal(src, U.join(real_dir, name)) or floor.refusal(dest, U.join(real_dir, renamed))
        if why is None:
            kept.append((d, name, renamed))
        else:
            plan.skipped.append({"path": src, "reason": why})
    plan.renames = kept
    _refuse_conflicts(ctx, plan, names)
    return plan


def _refuse_conflicts(ctx: CallContext, plan: _Plan, names: dict[str, set[str]]) -> None:
    """A new name that is taken, or that two files would get, refuses the request (nothing renamed)."""
    taken: list[str] = []
    given: set[tuple[str, str]] = set()
    for d, _name, renamed in plan.renames:
        if renamed in names[d] or (d, renamed) in given:
            taken.append(U.join(d, renamed))
        given.add((d, renamed))
    if taken:
        more = f" (and {len(taken) - 1} more)" if len(taken) > 1 else ""
        raise AlreadyExists(f"a file would be renamed onto one that exists{more}; nothing was renamed",
                            call=ctx.call, target=taken[0],
                            hint="move or rename the existing file first, or rename these one by one with "
                                 "fs.move")


def fs_rename_ext(ctx: CallContext, args: JSONDict) -> JSONDict:
    call = ctx.call
    plan = _plan(ctx, args)
    ctx.check_cancel()
    rows: list[JSONDict] = []
    by_dir: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for d, name, renamed in plan.renames:
        by_dir[d].append((name, renamed))
    total = len(plan.renames)
    for d, pairs in by_dir.items():
        real_dir = U.rebase(d, plan.root, plan.real)
        dfd = safe_open_dir(real_dir, call=call)
        try:
            for name, renamed in pairs:
                ctx.check_cancel()
                src, dest = U.join(d, name), U.join(d, renamed)
                try:
                    try:
                        os.lstat(renamed, dir_fd=dfd)
                    except FileNotFoundError:
                        pass
                    else:  # it appeared since the check: never replaced
                        raise AlreadyExists("the new name appeared while renaming", call=call, target=dest)
                    os.rename(name, renamed, src_dir_fd=dfd, dst_dir_fd=dfd)
                except OSError as exc:
                    err = from_oserror(exc, call=call, target=src)
                    err.hint = f"{len(rows)} of {total} files were renamed before this; undo puts them back"
                    raise err from exc
                except AlreadyExists as exc:
                    exc.hint = f"{len(rows)} of {total} files were renamed before this; undo puts them back"
                    raise
                ctx.effects.record(ctx, {"call": "fs.move", "args": {"src": dest, "dest": src}})
                rows.append({"src": src, "dest": dest})
        finally:
            os.close(dfd)
    out: JSONDict = {"path": plan.root, "from_ext": plan.old, "to_ext": plan.new,
                     "entries": rows[: ctx.max_rows], "count": len(rows), "truncated": len(rows) > ctx.max_rows}
    if plan.skipped:
        out["skipped"] = plan.skipped[:_SHOWN]
    if plan.errors:
        out["errors"] = plan.errors[:20]
    return out


def pv_rename_ext(ctx: CallContext, args: JSONDict) -> JSONDict:
    plan = _plan(ctx, args)
    renames = [{"src": U.join(d, n), "dest": U.join(d, r)} for d, n, r in plan.renames]
    return {"paths": [plan.root], "count": len(renames), "bytes": 0, "exists": {plan.root: True},
            "renames": renames[:_SHOWN], "skipped": plan.skipped[:_SHOWN]}


def register(registry: Registry) -> None:
    ext = "^\\.?[^/\\x00]*$"
    registry.syscall(
        "fs.rename_ext",
        "Change the extension of every file in a directory that has one (like rename 's/\\.jpeg$/.jpg/' "
        "*.jpeg), refusing if a new name is taken; undone as a whole.",
        args=S.obj({
            "path": S.path("the directory whose files to rename (default: the current directory)"),
            "from_ext": S.string("the extension to replace, e.g. jpeg (the dot is optional)", min_length=1,
                                 max_length=64, pattern=ext),
            "to_ext": S.string("the new extension, e.g. jpg; empty removes the extension", max_length=64,
                               pattern=ext),
            "recursive": S.boolean("also rename in sub-directories (default: only the directory's own files)"),
            "ignore_case": S.boolean("match the old extension in any case (.JPEG, .Jpeg, .jpeg)"),
        }, required=["from_ext", "to_ext"]),
        result=S.table(S.obj({"src": S.string(), "dest": S.string()}, required=["src", "dest"]), "entries", {
            "path": S.string(), "from_ext": S.string(), "to_ext": S.string(), "count": S.integer(minimum=0),
            "skipped": S.array(S.obj({"path": S.string(), "reason": S.string()}, required=["path", "reason"]),
                               max_items=_SHOWN),
            "errors": S.array(S.string()),
        }),
        capability="fs.write", risk=Risk.WRITE, undoable=True, preview=pv_rename_ext,
        view=View("table", "entries", ("src", "dest")),
        examples=[
            ("rename all .jpeg files to .jpg", {"from_ext": "jpeg", "to_ext": "jpg"}),
            ("change the extension of the .txt files in notes to .md",
             {"path": "notes", "from_ext": "txt", "to_ext": "md"}),
            ("rename every .JPG and .jpg in photos and its subfolders to .jpeg",
             {"path": "photos", "from_ext": "jpg", "to_ext": "jpeg", "recursive": True, "ignore_case": True}),
            ("strip the .bak extension from the files in backup", {"path": "backup", "from_ext": "bak",
                                                                   "to_ext": ""}),
        ],
        phrasings=[
            ("rename all .jpeg files to .jpg", 'fs.rename_ext from_ext="jpeg" to_ext="jpg"'),
            ("rename all the .jpeg files in {dir} to .jpg", 'fs.rename_ext path={dir} from_ext="jpeg" to_ext="jpg"'),
            ("change the extension of the .txt files in {dir} to .md",
             'fs.rename_ext path={dir} from_ext="txt" to_ext="md"'),
            ("rename *.htm to *.html in {dir}", 'fs.rename_ext path={dir} from_ext="htm" to_ext="html"'),
            ("rename 's/\\.jpeg$/.jpg/' *.jpeg", 'fs.rename_ext from_ext="jpeg" to_ext="jpg"'),
            ("turn the .yml extensions in {dir} into .yaml", 'fs.rename_ext path={dir} from_ext="yml" to_ext="yaml"'),
            ("make the .JPG extensions in {dir} lowercase .jpg",
             'fs.rename_ext path={dir} from_ext="JPG" to_ext="jpg"'),
            ("rename the .jpg and .JPG files in {dir} to .jpeg ignoring case",
             'fs.rename_ext path={dir} from_ext="jpg" to_ext="jpeg" ignore_case=true'),
            ("rename all .txt files under {dir} and its subfolders to .md",
             'fs.rename_ext path={dir} from_ext="txt" to_ext="md" recursive=true'),
            ("recursively rename .jpeg to .jpg in {dir}",
             'fs.rename_ext path={dir} from_ext="jpeg" to_ext="jpg" recursive=true'),
            ("remove the .bak extension from the files in {dir}", 'fs.rename_ext path={dir} from_ext="bak" to_ext=""'),
            ("strip the .old extension from every file name here", 'fs.rename_ext from_ext="old" to_ext=""'),
            ("for f in *.markdown; do mv \"$f\" \"${f%.markdown}.md\"; done",
             'fs.rename_ext from_ext="markdown" to_ext="md"'),
            ("rename the .text files to .txt", 'fs.rename_ext from_ext="text" to_ext="txt"'),
            ("change every .jpeg extension in {dir} to .jpg", 'fs.rename_ext path={dir} from_ext="jpeg" to_ext="jpg"'),
            ("mass rename .cc files to .cpp in {dir}", 'fs.rename_ext path={dir} from_ext="cc" to_ext="cpp"'),
        ],
    )(fs_rename_ext)
