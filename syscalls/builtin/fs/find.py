"""fs.find: compiled predicates over an fd-relative walk of the tree."""

from __future__ import annotations

import os
import re
import stat
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from syscalls import schema as S
from syscalls.builtin import _fsutil as U
from syscalls.builtin.fs.walk import Entries, Walk, dir_fd_of, dirent_kind, entry_stat, open_start
from syscalls.errors import InvalidRequest, NotFound, from_oserror
from syscalls.types import CallContext, JSONDict, Risk, View

if TYPE_CHECKING:
    from syscalls.registry import Registry

DAY = 86400.0
MINUTE = 60.0

_FIND_ROW = S.obj({
    "path": S.string(), "type": S.enum([*U.TYPE_WORDS, "other"]),
    "size_bytes": S.integer(minimum=0), "mtime": S.number(),
}, required=["path", "type"])
"""size_bytes and mtime come with details=true, or when a test or the sort needed the stat anyway."""


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
            fd, st = open_start(ctx, args["newer_than"], ref)
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
        self.name_test = self._name_test()
        self.stat_test = self._stat_test(typed=True)
        # the same without the type test, for an entry whose d_type already showed the type asked for
        self.stat_test_known_type = self._stat_test(typed=False) if self.type is not None else self.stat_test

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

    def _name_test(self) -> Callable[[str, str], bool] | None:
        """The name, path and regex tests as one function of (name, its directory's path with a
        trailing slash, as find prints it); None when there are none."""
        if not self.has_name_preds:
            return None
        one = self.name if self.iname is None else self.iname if self.name is None else None
        if one is not None and not (self.any_name or self.not_name or self.path_glob or self.not_path
                                    or self.regex):
            match = one  # the common case, -name or -iname alone: no path is built
            return lambda name, dprefix: match(name) is not None
        match_names = self.match_names
        return lambda name, dprefix: match_names(name, dprefix + name)

    def _stat_test(self, typed: bool) -> Callable[[os.stat_result, int | None, str], bool] | None:
        """The tests that need the stat as one function of (stat, dir fd or None, name in it or a path),
        in the order find applies them (the type test only when ``typed``); None when there are none."""
        tests: list[Callable[[os.stat_result, int | None, str], bool]] = []
        if self.type is not None and typed:
            fmt = _FMT_OF[self.type]
            tests.append(lambda st, d, n: st.st_mode & 0o170000 == fmt)
        if self.size_min is not None:
            size_min = self.size_min
            tests.append(lambda st, d, n: st.st_size >= size_min)
        if self.size_max is not None:
            size_max = self.size_max
            tests.append(lambda st, d, n: st.st_size <= size_max)
        for attr, lo, hi in self.times:
            tests.append(_age_test(attr, self.now, lo, hi))
        if self.newer is not None:
            newer = self.newer
            tests.append(lambda st, d, n: st.st_mtime > newer)
        if self.perm is not None:
            perm = self.perm
            if self.perm_match == "exact":
                tests.append(lambda st, d, n: st.st_mode & 0o7777 == perm)
            elif self.perm_match == "all":
                tests.append(lambda st, d, n: st.st_mode & perm == perm)
            elif perm:  # "any" of no bits matches everything
                tests.append(lambda st, d, n: st.st_mode & perm != 0)
        if self.uid is not None:
            uid = self.uid
            tests.append(lambda st, d, n: st.st_uid == uid)
        if self.gid is not None:
            gid = self.gid
            tests.append(lambda st, d, n: st.st_gid == gid)
        if self.nouser:
            tests.append(lambda st, d, n: not U.uid_known(st.st_uid))
        if self.nogroup:
            tests.append(lambda st, d, n: not U.gid_known(st.st_gid))
        if self.empty is not None:
            tests.append(self._empty_test)
        if not tests:
            return None
        if len(tests) == 1:
            return tests[0]

        def all_of(st: os.stat_result, dir_fd: int | None, name: str) -> bool:
            for test in tests:
                if not test(st, dir_fd, name):
                    return False
            return True

        return all_of

    def _empty_test(self, st: os.stat_result, dir_fd: int | None, name: str) -> bool:
        mode = st.st_mode
        if stat.S_ISREG(mode):
            is_empty = st.st_size == 0
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
        return is_empty == bool(self.empty)


_FMT_OF = {word: fmt for fmt, word in U.TYPE_BY_FMT.items()}


def _age_test(attr: str, now: float, lo: float, hi: float) -> Callable[[os.stat_result, int | None, str], bool]:
    """GNU rounding, continuous form: "min" is strictly older than, "max" at most that old."""
    if attr == "st_mtime":
        return lambda st, d, n: lo < now - st.st_mtime <= hi
    if attr == "st_atime":
        return lambda st, d, n: lo < now - st.st_atime <= hi
    return lambda st, d, n: lo < now - st.st_ctime <= hi


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
    rows: list[JSONDict] = []
    errors: list[str] = []
    scanned = 0

    try:
        pfd, root_st = open_start(ctx, raw, root)
    except NotFound:
        if not os.path.islink(root):
            raise
        pfd, root_st = -1, U.ensure_exists(root, call)  # a dangling link as the start: find lists the link
    try:
        root_is_dir = stat.S_ISDIR(root_st.st_mode)
        emit_st = root_st
        if not follow and not root_is_dir and os.path.islink(root):
            emit_st = U.ensure_exists(root, call)  # a link to a non-directory as the start is the link itself
        going = True
        if min_depth == 0 and spec.match_names(os.path.basename(disp_root) or disp_root, disp_root):
            if _find_keep(spec, emit_st, pfd if root_is_dir else None, "." if root_is_dir else root):
                rows.append(_find_row(root, emit_st, details))
                going = not (stop_at is not None and len(rows) >= stop_at)
        if going and root_is_dir and (max_depth is None or max_depth > 0):
            try:
                dfd = dir_fd_of(pfd)
            except OSError as exc:
                raise from_oserror(exc, call=call, target=root) from exc
            scanned = _find_walk(ctx, spec, dfd, root, disp_root, root_st, details, stop_at, rows, errors)
    finally:
        if pfd >= 0:
            os.close(pfd)
    truncated = False
    if sort != "none":
        U.sort_rows(rows, sort, reverse, key_name="path")
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


def _find_keep(spec: _FindSpec, st: os.stat_result, dir_fd: int | None, name: str) -> bool:
    """The stat-based tests for one entry (``name`` in ``dir_fd``, or a path when ``dir_fd`` is None)."""
    test = spec.stat_test
    if test is not None and not test(st, dir_fd, name):
        return False
    access = spec.access
    return not (access and not os.access(name, access, dir_fd=dir_fd))


def _find_walk(ctx: CallContext, spec: _FindSpec, dfd: int, root: str, disp_root: str,
               root_st: os.stat_result, details: bool, stop_at: int | None, rows: list[JSONDict],
               errors: list[str]) -> int:
    """Walk below the start (``Walk``); returns how many entries were scanned.

    The type of an entry comes from its d_type; it is stat'ed only when a test or the rows
    (``details``) need the stat, or when d_type cannot tell (a FIFO, socket or device), and
    then only after the name tests passed and d_type did not already rule it out.  Under
    ``follow`` a directory is stat'ed for its identity, to stop at file system loops.
    """
    follow = spec.follow
    max_depth = spec.max_depth
    min_depth = spec.min_depth
    ftype = spec.type
    access = spec.access
    name_test = spec.name_test
    stat_test = spec.stat_test
    stat_test_known = spec.stat_test_known_type
    exclude = spec.exclude
    excluded = spec.excluded
    type_word = U.TYPE_BY_FMT.get
    append = rows.append
    stop = stop_at if stop_at is not None else sys.maxsize
    # without following links, d_type alone rules out every other kind for -type f, d or l
    dtype_decides = not follow and ftype in ("file", "dir", "symlink")
    seen: set[tuple[int, int]] = set()
    if follow:
        seen.add((root_st.st_dev, root_st.st_ino))
    # the walk's errors and the loops found here go to one list, in the order met
    with Walk(ctx, dfd, root, disp_root, follow=follow, errors=errors) as walk:
        for frame in walk:
            fd = frame.fd
            cdepth = frame.depth + 1
            descend = max_depth is None or cdepth < max_depth
            emit = cdepth >= min_depth
            fp = frame.path
            prefix = fp + "/" if fp != "/" else "/"
            dp = frame.disp
            dprefix = dp + "/" if dp != "/" else "/"
            subdirs = frame.subdirs
            for batch in walk.scan(frame):
                for e in batch:
                    name = e.name
                    st: os.stat_result | None = None
                    kind: str | None
                    if follow:
                        kind = dirent_kind(e, True)
                    else:  # dirent_kind(e, False), inline: this is the loop every entry goes through
                        try:
                            if e.is_symlink():
                                kind = "symlink"
                            elif e.is_file():  # not a link: what d_type says, no stat
                                kind = "file"
                            elif e.is_dir():
                                kind = "dir"
                            else:
                                kind = None
                        except OSError:
                            kind = None
                    if kind == "dir":
                        if exclude and excluded(name, dprefix + name):
                            continue
                        if follow:
                            st = entry_stat(e, True)
                            if st is not None:
                                key = (st.st_dev, st.st_ino)
                                if key in seen:
                                    errors.append(f"{prefix}{name}: file system loop")
                                    continue
                                seen.add(key)
                        if descend:
                            subdirs.append(name)
                    if not emit or (name_test is not None and not name_test(name, dprefix)):
                        continue
                    if details:
                        if ftype is not None and (kind != ftype if kind is not None else dtype_decides):
                            continue  # d_type rules it out: no stat
                        if st is None:
                            if follow or kind is None or kind == "symlink":
                                st = entry_stat(e, follow)
                                if st is None:
                                    continue
                            else:
                                try:
                                    st = e.stat()  # not a link: the lstat
                                except OSError:
                                    continue
                        test = stat_test if kind is None else stat_test_known
                        if test is not None and not test(st, fd, name):
                            continue
                        if access and not os.access(name, access, dir_fd=fd):
                            continue
                        append({"path": prefix + name,
                                "type": kind if kind is not None else type_word(st.st_mode & 0o170000, "other"),
                                "size_bytes": st.st_size, "mtime": st.st_mtime})
                    else:
                        if kind is None:  # a FIFO, socket or device: only the stat tells
                            if dtype_decides:
                                continue
                            if st is None:
                                st = entry_stat(e, follow)
                            if st is None:
                                continue
                            kind = type_word(st.st_mode & 0o170000, "other")
                        if ftype is not None and kind != ftype:
                            continue
                        if access and not os.access(name, access, dir_fd=fd):
                            continue
                        append({"path": prefix + name, "type": kind})
                    if len(rows) >= stop:
                        return _scanned_to(walk, batch, e)
    return walk.scanned


def _scanned_to(walk: Walk, batch: Entries, e: os.DirEntry[str]) -> int:
    """How many entries the walk had scanned up to and including ``e`` of the current batch."""
    return walk.scanned - len(batch) + batch.index(e) + 1


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
    find_view = View("table", "entries", ("path", "type", "size_bytes", "mtime"))
    registry.syscall("fs.find", "Search a tree for entries by name, path, type, size, age, owner or permissions.",
        args=_find_args(),
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
        ])(fs_find)
