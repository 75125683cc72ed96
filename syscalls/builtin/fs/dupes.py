"""fs.duplicates: files with identical content under a directory (like fdupes -r / jdupes -r).

Regular files are grouped by size first (a file alone at its size has no duplicate and is never read),
then by the SHA-256 of their first 64 KiB, then by the SHA-256 of their whole content; only files whose
whole digests agree are reported.  Hard links to one inode count as one file (deleting a link frees
nothing) and symbolic links are never followed.  Empty files are left out unless ``include_empty`` (every
empty file is alike, and deleting one frees nothing); names starting with a dot are left out, and
dot-directories not entered, unless ``hidden``.  Credential stores and kernel files are skipped with a
reason (the floor's reading rules, which the gate applied to the start only), as is a file that cannot be
read.

Groups come largest waste first (``size_bytes * (copies - 1)``), then by their first path; within a group
the paths are in order and ``copy`` numbers them: copy 1 is the one to keep, the others are the
duplicates (``table.filter column="copy" op="gt" value="1"`` selects them).
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections import defaultdict
from typing import TYPE_CHECKING

from syscalls import schema as S
from syscalls.builtin import _fsutil as U
from syscalls.builtin.fs.walk import Walk, dirent_kind, entry_stat, open_start_dir
from syscalls.errors import SyscallError
from syscalls.paths import checked_path, open_nofollow
from syscalls.types import CallContext, JSONDict, Risk, View

if TYPE_CHECKING:
    from syscalls.registry import Registry

HEAD_BYTES = 1 << 16
"""Files of one size are first told apart by a digest of this many leading bytes."""
_CHUNK = 1 << 20
_MAX_SKIPPED = 200

Inode = tuple[int, int]


class _Hasher:
    """Digests of the candidate files, read through the checked start without following a link."""

    def __init__(self, ctx: CallContext, root: str, real_root: str, skipped: list[JSONDict]) -> None:
        self.ctx = ctx
        self.root = root
        self.real_root = real_root
        self.skipped = skipped
        self.hashed = 0

    def digest(self, path: str, key: Inode, limit: int | None) -> str | None:
        """SHA-256 of the first ``limit`` bytes (all of them when None); None when it cannot be read."""
        ctx = self.ctx
        ctx.check_cancel()
        try:
            fd = open_nofollow(U.rebase(path, self.root, self.real_root), os.O_RDONLY, call=ctx.call)
        except SyscallError as exc:  # the file changed into a link or something else, or went away
            self.skipped.append({"path": path, "reason": exc.message})
            return None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) != key:
                self.skipped.append({"path": path, "reason": "changed while it was being compared"})
                return None
            h = hashlib.sha256()
            left = limit
            while left is None or left > 0:
                chunk = os.read(fd, _CHUNK if left is None else min(_CHUNK, left))
                if not chunk:
                    break
                h.update(chunk)
                if left is not None:
                    left -= len(chunk)
                ctx.check_cancel()
        except OSError as exc:
            self.skipped.append({"path": path, "reason": exc.strerror or str(exc)})
            return None
        finally:
            os.close(fd)
        self.hashed += 1
        if ctx.progress is not None and self.hashed % 256 == 0:
            ctx.progress(ctx.call, self.hashed)
        return h.hexdigest()


def _split(hasher: _Hasher, files: list[tuple[str, Inode]], limit: int | None) -> list[list[tuple[str, str, Inode]]]:
    """``files`` split by digest (of the first ``limit`` bytes), groups of two or more only, each
    ``(path, digest, inode)``."""
    by_digest: dict[str, list[tuple[str, str, Inode]]] = defaultdict(list)
    for path, key in files:
        digest = hasher.digest(path, key, limit)
        if digest is not None:
            by_digest[digest].append((path, digest, key))
    return [g for g in by_digest.values() if len(g) > 1]


def fs_duplicates(ctx: CallContext, args: JSONDict) -> JSONDict:
    raw = args.get("path", ".")
    root = str(ctx.resolve(raw))
    max_depth = args.get("max_depth")
    min_size = max(int(args.get("min_size_bytes", 0)), 0 if args.get("include_empty") else 1)
    hidden = bool(args.get("hidden", False))
    pattern = args.get("name")
    name_ok = U.compile_glob(pattern).match if pattern else None
    dfd = open_start_dir(ctx, raw, root, hint="give the folder to search for duplicate files (default: here)")
    real_root = str(checked_path(ctx, raw))
    floor = U.FloorFilter(ctx, write=False)
    # size -> inode -> the first path (in order) of that inode: hard links are one file
    by_size: dict[int, dict[Inode, str]] = defaultdict(dict)
    errors: list[str] = []
    skipped: list[JSONDict] = []
    files = 0
    with Walk(ctx, dfd, root, errors=errors) as walk:
        for frame in walk:
            descend = max_depth is None or frame.depth + 1 < max_depth
            for batch in walk.scan(frame):
                for e in batch:
                    name = e.name
                    if not hidden and name.startswith("."):
                        continue
                    kind = dirent_kind(e, False)
                    if kind == "dir":
                        if descend:
                            child = U.join(frame.path, name)
                            why = floor.refusal(child, U.rebase(child, root, real_root))
                            if why is None:
                                frame.subdirs.append(name)
                            else:
                                skipped.append({"path": child, "reason": why})
                        continue
                    if kind == "symlink":
                        continue
                    est = entry_stat(e, False)
                    if est is None or not stat.S_ISREG(est.st_mode):
                        continue
                    files += 1
                    if est.st_size < min_size or (name_ok is not None and name_ok(name) is None):
                        continue
                    path = U.join(frame.path, name)
                    inodes = by_size[est.st_size]
                    key = (est.st_dev, est.st_ino)
                    if key not in inodes or path < inodes[key]:
                        inodes[key] = path
    hasher = _Hasher(ctx, root, real_root, skipped)
    groups: list[tuple[int, list[tuple[str, str, Inode]]]] = []
    for size in sorted(by_size, reverse=True):
        inodes = by_size[size]
        if len(inodes) < 2:
            continue
        candidates: list[tuple[str, Inode]] = []
        for key, path in sorted(inodes.items(), key=lambda kv: kv[1]):
            why = floor.refusal(path, U.rebase(path, root, real_root))
            if why is None:
                candidates.append((path, key))
            else:
                skipped.append({"path": path, "reason": why})
        if len(candidates) < 2:
            continue
        if size <= HEAD_BYTES:  # the first block is the whole file
            groups.extend((size, g) for g in _split(hasher, candidates, None))
            continue
        for same_head in _split(hasher, candidates, HEAD_BYTES):
            groups.extend((size, g) for g in _split(hasher, [(p, k) for p, _d, k in same_head], None))
    for _size, g in groups:
        g.sort()
    groups.sort(key=lambda sg: (-sg[0] * (len(sg[1]) - 1), sg[1][0][0]))
    rows: list[JSONDict] = []
    wasted = 0
    for number, (size, g) in enumerate(groups, 1):
        wasted += size * (len(g) - 1)
        for copy, (path, digest, _key) in enumerate(g, 1):
            rows.append({"group": number, "copy": copy, "path": path, "size_bytes": size, "digest": digest})
    out: JSONDict = {"path": root, "entries": rows[: ctx.max_rows], "groups": len(groups), "files": len(rows),
                     "wasted_bytes": wasted, "files_scanned": files, "truncated": len(rows) > ctx.max_rows}
    if skipped:
        out["skipped"] = skipped[:_MAX_SKIPPED]
    if errors:
        out["errors"] = errors[:20]
    return out


def register(registry: Registry) -> None:
    row = S.obj({"group": S.integer(minimum=1), "copy": S.integer(minimum=1), "path": S.string(),
                 "size_bytes": S.integer(minimum=0), "digest": S.string()},
                required=["group", "copy", "path", "size_bytes", "digest"])
    skipped = S.array(S.obj({"path": S.string(), "reason": S.string()}, required=["path", "reason"]),
                      max_items=_MAX_SKIPPED)
    registry.syscall(
        "fs.duplicates",
        "Find files with identical content under a directory (like fdupes -r): one row per file, grouped, "
        "with the bytes that deleting all but one copy of each group would free.",
        args=S.obj({
            "path": S.path("the directory to search (default: the current directory)"),
            "name": S.glob("only files whose base name matches this wildcard, e.g. *.jpg"),
            "min_size_bytes": S.size("only files of at least this size"),
            "max_depth": S.integer("descend at most this many levels (1 = only the directory's own files)",
                                   minimum=1, maximum=100_000),
            "hidden": S.boolean("also files whose names start with a dot, and what is in dot-directories"),
            "include_empty": S.boolean("also report empty files as duplicates of each other"),
        }),
        result=S.table(row, "entries", {
            "path": S.string(), "groups": S.integer(minimum=0), "files": S.integer(minimum=0),
            "wasted_bytes": S.integer(minimum=0), "files_scanned": S.integer(minimum=0),
            "skipped": skipped, "errors": S.array(S.string()),
        }),
        capability="fs.read", risk=Risk.READ,
        view=View("table", "entries", ("group", "copy", "path", "size_bytes")),
        examples=[
            ("find duplicate files in my downloads", {"path": "~/Downloads"}),
            ("fdupes -r photos", {"path": "photos"}),
            ("are there duplicate jpgs in Pictures", {"path": "Pictures", "name": "*.jpg"}),
            ("duplicate files over 10 MB in ~/Videos", {"path": "~/Videos", "min_size_bytes": 10_000_000}),
            ("identical files in docs, not in its subfolders", {"path": "docs", "max_depth": 1}),
        ],
        phrasings=[
            ("find duplicate files in {dir}", 'fs.duplicates path={dir}'),
            ("find duplicate files", 'fs.duplicates'),
            ("are there any duplicate files here", 'fs.duplicates'),
            ("fdupes -r {dir}", 'fs.duplicates path={dir}'),
            ("jdupes -r {dir}", 'fs.duplicates path={dir}'),
            ("which files in {dir} are identical", 'fs.duplicates path={dir}'),
            ("list the duplicates under {dir}", 'fs.duplicates path={dir}'),
            ("find identical files in {dir}", 'fs.duplicates path={dir}'),
            ("do I have any files twice in {dir}", 'fs.duplicates path={dir}'),
            ("how much space do duplicate files waste in {dir}", 'fs.duplicates path={dir}'),
            ("find duplicate {glob} in {dir}", 'fs.duplicates path={dir} name={glob}'),
            ("any duplicate {glob}?", 'fs.duplicates name={glob}'),
            ("duplicate files bigger than {size} in {dir}", 'fs.duplicates path={dir} min_size_bytes={size}'),
            ("find duplicates in {dir}, not in subfolders", 'fs.duplicates path={dir} max_depth=1'),
            ("find duplicate files in {dir} including hidden ones", 'fs.duplicates path={dir} hidden=true'),
            ("find duplicate files in {dir}, empty ones too", 'fs.duplicates path={dir} include_empty=true'),
            ("delete the duplicate files in {dir} but keep one copy of each",
             'fs.duplicates path={dir}\ntable.filter rows="$0" column="copy" op="gt" value="1"\n'
             'fs.delete path="$1.path"'),
            ("[prev=fs.duplicates] remove the extra copies",
             'table.filter rows="$prev" column="copy" op="gt" value="1"\nfs.delete path="$0.path"'),
        ],
    )(fs_duplicates)
