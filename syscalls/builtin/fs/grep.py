"""fs.grep: search inside the text files of a tree."""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from collections.abc import Generator
from typing import TYPE_CHECKING

from syscalls import schema as S
from syscalls.builtin import _fsutil as U
from syscalls.builtin.fs.walk import Walk, dir_fd_of, open_start
from syscalls.errors import InvalidRequest, NotFound, WrongType, from_oserror
from syscalls.types import CallContext, JSONDict, Risk, View

if TYPE_CHECKING:
    from syscalls.registry import Registry


def _grep_files(ctx: CallContext, raw: str, root: str,
                recursive: bool) -> Generator[tuple[int | None, str, str], None, None]:
    """Regular files at or under the checked ``root``: (dir fd or None for the start, name, path).

    Directories are walked fd-relative (``Walk``), each in name order; the fd is valid
    while the consumer handles the yielded file.
    """
    pfd, st = open_start(ctx, raw, root)
    try:
        if not stat.S_ISDIR(st.st_mode):
            yield None, raw, root
            return
        dfd = dir_fd_of(pfd)
    except OSError as exc:
        raise from_oserror(exc, call=ctx.call, target=root) from exc
    finally:
        os.close(pfd)
    with Walk(ctx, dfd, root, sort=True, every=256, progress=False) as walk:
        for frame in walk:
            for batch in walk.scan(frame):
                for e in batch:
                    try:
                        if e.is_dir(follow_symlinks=False):
                            if recursive:
                                frame.subdirs.append(e.name)
                            continue
                        is_file = e.is_file(follow_symlinks=False)
                    except OSError:
                        continue
                    if is_file:
                        yield frame.fd, e.name, U.join(frame.path, e.name)


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


def register(registry: Registry) -> None:
    registry.syscall("fs.grep", "Search inside text files for lines matching a pattern.",
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
        ])(fs_grep)
