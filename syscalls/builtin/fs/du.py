"""fs.du: apparent size of a tree and its largest entries (like du -b)."""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING

from syscalls import schema as S
from syscalls.builtin import _fsutil as U
from syscalls.builtin.fs.walk import Walk, dir_fd_of, open_start
from syscalls.errors import from_oserror
from syscalls.types import CallContext, JSONDict, Risk, View

if TYPE_CHECKING:
    from syscalls.registry import Registry


def fs_du(ctx: CallContext, args: JSONDict) -> JSONDict:
    call = ctx.call
    raw = args.get("path", ".")
    root = str(ctx.resolve(raw))
    top = int(args.get("top", 10))
    depth_cap = int(args.get("depth", 1))
    pfd, st = open_start(ctx, raw, root)
    try:
        if not stat.S_ISDIR(st.st_mode):
            return {"path": root, "total_bytes": st.st_size, "files": 1, "dirs": 0,
                    "entries": [{"path": root, "type": U.type_of(st.st_mode), "size_bytes": st.st_size}],
                    "truncated": False}
        try:
            dfd = dir_fd_of(pfd)
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
    S_IFDIR = stat.S_IFDIR
    join = U.join
    with Walk(ctx, dfd, root) as walk:
        for frame in walk:
            chain = chains.pop(frame.path, ())
            cdepth = frame.depth + 1
            ranked = cdepth <= depth_cap
            subdirs = frame.subdirs
            here = 0
            for batch in walk.scan(frame):
                for e in batch:
                    try:
                        est = e.stat(follow_symlinks=False) if e.is_symlink() else e.stat()  # an lstat
                    except OSError:
                        continue
                    mode = est.st_mode
                    size = est.st_size
                    is_dir = mode & 0o170000 == S_IFDIR
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
    errors = walk.errors
    order = sorted(range(len(acc_sizes)), key=lambda i: (-acc_sizes[i], acc_paths[i]))[:top]
    entries = [{"path": acc_paths[i], "type": acc_types[i], "size_bytes": acc_sizes[i]} for i in order]
    out: JSONDict = {"path": root, "total_bytes": total, "files": nfiles, "dirs": ndirs,
                     "entries": entries, "truncated": False}
    if errors:
        out["errors"] = errors[:20]
    return out


def register(registry: Registry) -> None:
    registry.syscall("fs.du", "Measure disk usage of a tree (apparent size, like du -b) and its largest entries.",
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
        ])(fs_du)
