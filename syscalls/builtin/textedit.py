"""Text calls: line edits that write through the journal, and line tools that only read.

Editing (capability ``fs.write``, risk WRITE, undoable, previewed as a unified diff):

- ``text.replace``  what ``sed -i 's/a/b/g'`` is used for; literal by default,
  a Python regular expression with ``regex=true``;
- ``text.insert``   a block of lines at the top, the bottom or before line N
  (``sed -i '1i ...'``, ``sed -i '$a ...'``, ``sed -i 'Ni ...'``);
- ``text.prefix``   a prefix on every (non-empty) line (``sed -i 's/^/# /'``).

Each takes a file, or a directory with an ``include`` wildcard on the base name
(``recursive``, default true, also walks sub-directories; symbolic links are
never followed and version-control metadata — ``.git``, ``.hg``, ``.svn``,
``.bzr`` — is never entered).  Every file is read, edited in memory and, when
it changed, written to a temp file in the same directory and renamed over it
(``os.replace``; permission bits kept) after ``ctx.effects.before_overwrite``,
so the journal keeps the old bytes and ``nlsh undo`` restores every file byte
for byte.  A file whose text does not change is not written.

Reading (capability ``fs.read``, risk READ): ``text.number`` (``cat -n`` /
``nl``), ``text.count`` (``grep -o x | wc -l`` / ``grep -c``), ``text.compare``
(``comm``) and ``text.reverse`` (``tac``).

Conventions shared by all of them:

- A line is what ends at ``\\n`` (the last one may lack it); ``\\r`` stays part of
  the line, as in sed.  Matching is done within each line, like sed and grep,
  so ``^`` and ``$`` anchor at the line's ends and a match never spans lines.
- An *empty* line has no characters at all before its ``\\n`` (``nl``'s rule);
  a line of spaces is not empty.
- Text is UTF-8.  A file with a NUL byte or bytes that are not UTF-8 is refused
  with ``NotText`` (a ``WrongType``) naming the file when it was named; met while
  walking a directory it is skipped and reported in ``skipped``.  Text that is
  UTF-8 round-trips exactly: an edit changes only the bytes it means to change.
- Regular expressions are Python's ``re`` syntax; in a replacement, groups are
  ``\\1`` or ``\\g<name>`` and the whole match is ``\\g<0>`` (sed's ``&`` is plain
  text here).  A pattern that can match the empty string may place replacements
  differently from sed (Python also matches the empty string right after a
  non-empty match).
- Directory walks apply the floor file by file: credential stores are never
  read, and protected places (git hooks, login scripts, nlshell's own state)
  are never written; each is skipped with a reason.
"""

from __future__ import annotations

import csv
import difflib
import io
import itertools
import math
import os
import re
import stat
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from syscalls import schema as S
from syscalls.builtin import _fsutil as U
from syscalls.errors import (
    ExecutionError,
    InvalidRequest,
    LimitExceeded,
    SyscallError,
    WrongType,
    from_oserror,
)
from syscalls.types import CallContext, JSONDict, Risk, View

if TYPE_CHECKING:
    from syscalls.registry import Registry

_DIFF_BUDGET = 200_000  # characters of preview diff, all files together
_DIFF_FILE_MAX = 2_000_000  # a file larger than this is not diffed in a preview (too slow to be useful)
_PREVIEW_PATHS = 200


class NotText(WrongType):
    """The file is binary (a NUL byte) or not UTF-8 text; text calls neither read nor edit it."""

    default_hint = ("text calls handle UTF-8 text only; inspect it with fs.read, or convert it first "
                    "(e.g. iconv -f latin1 -t utf-8)")


# ---------------------------------------------------------------- lines

def split_lines(text: str) -> list[str]:
    """Lines with their ``\\n`` kept; the last one may lack it.  Only ``\\n`` ends a line."""
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _body(line: str) -> tuple[str, str]:
    """(the line without its end, the end: ``\\n`` or ``''``)."""
    if line.endswith("\n"):
        return line[:-1], "\n"
    return line, ""


def _decode(call: str, path: str, data: bytes) -> str:
    nul = data.find(b"\x00")
    if nul >= 0:
        raise NotText(f"is a binary file (a NUL byte at offset {nul})", call=call, target=path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotText(f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})", call=call,
                      target=path) from exc


# ---------------------------------------------------------------- targets

def _read(ctx: CallContext, f: U.TargetFile) -> tuple[str, os.stat_result]:
    """The text of one file (opened without following a symlink) and its stat; typed errors."""
    call = ctx.call
    cap = ctx.max_bytes * 100
    fd, st = U.open_target(ctx, f)
    try:
        if st.st_size > cap:
            raise LimitExceeded(f"the file is larger than {cap} bytes", call=call, target=f.path,
                                hint="text calls work on files that fit in memory")
        data = U.read_prefix(fd, cap + 1)
    except OSError as exc:
        raise from_oserror(exc, call=call, target=f.path) from exc
    finally:
        os.close(fd)
    if len(data) > cap:
        raise LimitExceeded(f"the file is larger than {cap} bytes", call=call, target=f.path)
    return _decode(call, f.path, data), st


# ---------------------------------------------------------------- editing

class _Skip(Exception):
    """An editor's reason to leave one file alone (a directory walk reports it; a named file raises)."""

    def __init__(self, reason: str, error: SyscallError) -> None:
        super().__init__(reason)
        self.reason = reason
        self.error = error


Editor = Callable[[str, str], tuple[str, int]]
"""(path shown, old text) → (new text, number of changes)."""


def _replacer(ctx: CallContext, args: JSONDict) -> Editor:
    call = ctx.call
    find = args["find"]
    repl = args.get("replace", "")
    regex = bool(args.get("regex", False))
    if "\n" in find:
        raise InvalidRequest("find holds a newline, but text.replace matches within one line (like sed)",
                             call=call, field="args.find", hint="replace one line's text at a time")
    flags = re.IGNORECASE if args.get("ignore_case") else 0
    try:
        rx = re.compile(find if regex else re.escape(find), flags)
    except re.error as exc:
        raise InvalidRequest(f"bad regular expression {find!r}: {exc}", call=call, field="args.find",
                             hint="fix the pattern, or set regex=false to replace it as plain text") from exc
    sub: str | Callable[[re.Match[str]], str]
    if regex:
        try:
            rx.sub(repl, "")  # the template is parsed here, before any file is touched
        except (re.error, IndexError) as exc:
            raise InvalidRequest(f"bad replacement {repl!r}: {exc}", call=call, field="args.replace",
                                 hint="refer to groups as \\1 or \\g<name> (\\g<0> is the whole match); "
                                      "write a backslash as \\\\") from exc
        sub = repl
    else:
        def sub(_m: re.Match[str]) -> str:
            return str(repl)
    limit = args.get("count")

    def edit(_path: str, text: str) -> tuple[str, int]:
        total = 0
        out: list[str] = []
        for line in split_lines(text):
            if limit is not None and total >= limit:
                out.append(line)
                continue
            body, end = _body(line)
            new, n = rx.subn(sub, body, count=0 if limit is None else limit - total)
            total += n
            out.append(new + end)
        return "".join(out), total

    return edit


def _inserter(ctx: CallContext, args: JSONDict) -> Editor:
    call = ctx.call
    text = args["text"]
    block = text if text.endswith("\n") else text + "\n"
    n_lines = block.count("\n")
    line_no = args.get("line")
    at = args.get("at")
    if line_no is not None and at is not None:
        raise InvalidRequest("give at (top or bottom) or line, not both", call=call, field="args.line")
    where = "line" if line_no is not None else (at or "top")

    def edit(path: str, old: str) -> tuple[str, int]:
        if where == "top":
            return block + old, n_lines
        lines = split_lines(old)
        if where == "line" and line_no is not None and line_no <= len(lines):
            return "".join(lines[:line_no - 1]) + block + "".join(lines[line_no - 1:]), n_lines
        if where == "line" and line_no is not None and line_no > len(lines) + 1:
            reason = f"has {len(lines)} lines; there is no line {line_no} to insert before"
            raise _Skip(reason, InvalidRequest(f"{path} {reason}", call=call, field="args.line",
                                               hint=f"use a line number up to {len(lines) + 1}, or at=bottom"))
        sep = "\n" if old and not old.endswith("\n") else ""
        return old + sep + block, n_lines

    return edit


def _prefixer(ctx: CallContext, args: JSONDict) -> Editor:
    prefix = args["prefix"]
    if "\n" in prefix:
        raise InvalidRequest("the prefix holds a newline", call=ctx.call, field="args.prefix",
                             hint="to add whole lines use text.insert")
    skip_blank = bool(args.get("skip_blank", True))

    def edit(_path: str, text: str) -> tuple[str, int]:
        out: list[str] = []
        n = 0
        for line in split_lines(text):
            body, end = _body(line)
            if skip_blank and not body:
                out.append(line)
                continue
            out.append(prefix + body + end)
            n += 1
        return "".join(out), n

    return edit


def _folder(args: JSONDict) -> Callable[[str], str]:
    """How lines compare: case-folded with ``ignore_case``, else as they are."""
    return str.casefold if args.get("ignore_case") else (lambda t: t)


def _deduper(ctx: CallContext, args: JSONDict) -> Editor:
    adjacent = bool(args.get("adjacent", False))
    fold = _folder(args)

    def edit(_path: str, text: str) -> tuple[str, int]:
        out: list[str] = []
        seen: set[str] = set()
        last: str | None = None
        removed = 0
        for line in split_lines(text):
            key = fold(_body(line)[0])
            if (key == last) if adjacent else (key in seen):
                removed += 1
                continue
            seen.add(key)
            last = key
            out.append(line)
        return "".join(out), removed

    return edit


@dataclass
class _Change:
    file: U.TargetFile
    old: str
    new: str
    changes: int
    mode: int


def _each_change(ctx: CallContext, targets: U.Targets, edit: Editor,
                 skipped: list[JSONDict]) -> Iterator[_Change]:
    """Yield a ``_Change`` per file whose text the edit changes; a walk skips what it cannot edit."""
    for f in targets.files:
        ctx.check_cancel()
        try:
            old, st = _read(ctx, f)
            new, n = edit(f.path, old)
        except _Skip as skip:
            if not targets.is_dir:
                raise skip.error from None
            skipped.append({"path": f.path, "reason": skip.reason})
            continue
        except ExecutionError as exc:
            if not targets.is_dir:
                raise
            skipped.append({"path": f.path, "reason": exc.message})
            continue
        if new != old:
            yield _Change(f, old, new, n, stat.S_IMODE(st.st_mode))


def _run_edit(ctx: CallContext, args: JSONDict, edit: Editor, count_key: str) -> JSONDict:
    targets = U.file_targets(ctx, args, write=True)
    skipped = list(targets.skipped)
    rows: list[JSONDict] = []
    total = 0
    for ch in _each_change(ctx, targets, edit, skipped):
        data = ch.new.encode("utf-8")
        try:
            ctx.effects.before_overwrite(ctx, Path(ch.file.real))
            U.write_whole(ctx, ch.file.real, data, ch.mode, target=ch.file.path)
        except ExecutionError as exc:
            if not targets.is_dir:
                raise
            skipped.append({"path": ch.file.path, "reason": exc.message})
            continue
        ctx.effects.record(ctx, {"call": "restore", "args": {"path": ch.file.path}, "from_backup": True})
        rows.append({"path": ch.file.path, count_key: ch.changes,
                     "bytes_before": len(ch.old.encode("utf-8")), "bytes_after": len(data)})
        total += ch.changes
    return {"path": targets.root, "files": rows, "files_changed": len(rows), count_key: total,
            "files_scanned": len(targets.files), "skipped": skipped[: ctx.max_rows],
            "truncated": False}


def unified_diff(path: str, old: str, new: str) -> str:
    """``diff -u`` of two texts, with ``\\ No newline at end of file`` where a last line lacks one."""
    return "".join(_diff_lines(path, old, new))


def _diff_lines(path: str, old: str, new: str, *, other: str | None = None, context: int = 3) -> list[str]:
    """``unified_diff``'s lines, headers first; ``other`` names the new text when it is another file."""
    out: list[str] = []
    for line in difflib.unified_diff(split_lines(old), split_lines(new), fromfile=path,
                                     tofile=path if other is None else other, n=context):
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return out


def _preview_edit(ctx: CallContext, args: JSONDict, edit: Editor, count_key: str) -> JSONDict:
    targets = U.file_targets(ctx, args, write=True)
    skipped = list(targets.skipped)
    rows: list[JSONDict] = []
    diffs: list[str] = []
    used = 0
    diff_truncated = False
    total = 0
    nbytes = 0
    for ch in _each_change(ctx, targets, edit, skipped):
        rows.append({"path": ch.file.path, count_key: ch.changes})
        total += ch.changes
        nbytes += len(ch.new.encode("utf-8"))
        if diff_truncated:
            continue
        if len(ch.old) + len(ch.new) > _DIFF_FILE_MAX:
            diffs.append(f"--- {ch.file.path}\n+++ {ch.file.path}\n(too large to show: {ch.changes} changes)\n")
            continue
        d = unified_diff(ch.file.path, ch.old, ch.new)
        if used + len(d) > _DIFF_BUDGET:
            diffs.append(d[: max(0, _DIFF_BUDGET - used)] + "\n... (diff cut here)\n")
            diff_truncated = True
            continue
        diffs.append(d)
        used += len(d)
    paths = [r["path"] for r in rows]
    return {"paths": paths[:_PREVIEW_PATHS], "count": len(rows), "bytes": nbytes,
            "exists": {p: True for p in paths[:_PREVIEW_PATHS]}, "overwrites": bool(rows),
            "files": rows[: ctx.max_rows], count_key: total, "files_scanned": len(targets.files),
            "skipped": skipped[:_PREVIEW_PATHS], "diff": "".join(diffs), "diff_truncated": diff_truncated}


def text_replace(ctx: CallContext, args: JSONDict) -> JSONDict:
    return _run_edit(ctx, args, _replacer(ctx, args), "replacements")


def pv_replace(ctx: CallContext, args: JSONDict) -> JSONDict:
    return _preview_edit(ctx, args, _replacer(ctx, args), "replacements")


def text_insert(ctx: CallContext, args: JSONDict) -> JSONDict:
    return _run_edit(ctx, args, _inserter(ctx, args), "lines_inserted")


def pv_insert(ctx: CallContext, args: JSONDict) -> JSONDict:
    return _preview_edit(ctx, args, _inserter(ctx, args), "lines_inserted")


def text_prefix(ctx: CallContext, args: JSONDict) -> JSONDict:
    return _run_edit(ctx, args, _prefixer(ctx, args), "lines_prefixed")


def pv_prefix(ctx: CallContext, args: JSONDict) -> JSONDict:
    return _preview_edit(ctx, args, _prefixer(ctx, args), "lines_prefixed")


def text_dedupe(ctx: CallContext, args: JSONDict) -> JSONDict:
    return _run_edit(ctx, args, _deduper(ctx, args), "lines_removed")


def pv_dedupe(ctx: CallContext, args: JSONDict) -> JSONDict:
    return _preview_edit(ctx, args, _deduper(ctx, args), "lines_removed")


# ---------------------------------------------------------------- reading

def whole_text(ctx: CallContext, args: JSONDict, key: str = "path") -> tuple[str, str]:
    """(path shown, text) of the one regular file named by ``args[key]``."""
    f = U.file_targets(ctx, args, write=False, key=key, allow_dir=False).files[0]
    return f.path, _read(ctx, f)[0]


def _one_file(ctx: CallContext, args: JSONDict, key: str = "path") -> tuple[str, list[str]]:
    """(path shown, lines without their ends) of the one regular file named by ``args[key]``."""
    path, text = whole_text(ctx, args, key)
    return path, [_body(line)[0] for line in split_lines(text)]


def text_number(ctx: CallContext, args: JSONDict) -> JSONDict:
    path, lines = _one_file(ctx, args)
    n = int(args.get("start", 1))
    skip_blank = bool(args.get("skip_blank", False))
    rows: list[JSONDict] = []
    numbered = 0
    for line in lines:
        if skip_blank and not line:
            rows.append({"line_number": None, "line": line})
            continue
        rows.append({"line_number": n, "line": line})
        n += 1
        numbered += 1
    truncated = len(rows) > ctx.max_rows
    return {"path": path, "lines": rows[: ctx.max_rows], "count": len(rows), "numbered": numbered,
            "truncated": truncated}


def text_count(ctx: CallContext, args: JSONDict) -> JSONDict:
    call = ctx.call
    pattern = args["pattern"]
    what = args.get("what", "occurrences")
    flags = re.IGNORECASE if args.get("ignore_case") else 0
    if "\n" in pattern:
        raise InvalidRequest("the pattern holds a newline, but matching is within one line (like grep)",
                             call=call, field="args.pattern")
    try:
        rx = re.compile(pattern if args.get("regex") else re.escape(pattern), flags)
    except re.error as exc:
        raise InvalidRequest(f"bad regular expression {pattern!r}: {exc}", call=call, field="args.pattern",
                             hint="fix the pattern, or set regex=false to count it as plain text") from exc
    targets = U.file_targets(ctx, args, write=False)
    skipped = list(targets.skipped)
    rows: list[JSONDict] = []
    total = 0
    scanned = 0
    for f in targets.files:
        ctx.check_cancel()
        try:
            text, _st = _read(ctx, f)
        except ExecutionError as exc:
            if not targets.is_dir:
                raise
            skipped.append({"path": f.path, "reason": exc.message})
            continue
        scanned += 1
        n = 0
        for line in split_lines(text):
            body = _body(line)[0]
            if what == "lines":
                n += rx.search(body) is not None
            else:  # like grep -o: every non-empty match
                n += sum(1 for m in rx.finditer(body) if m.end() > m.start())
        total += n
        if n or not targets.is_dir:
            rows.append({"path": f.path, "count": n})
    truncated = len(rows) > ctx.max_rows
    return {"path": targets.root, "what": what, "pattern": pattern, "total": total, "files": rows[: ctx.max_rows],
            "files_scanned": scanned, "skipped": skipped[: ctx.max_rows], "truncated": truncated}


def _distinct(lines: list[str]) -> list[str]:
    return list(dict.fromkeys(lines))


def _is_sorted(lines: list[str]) -> bool:
    return all(a <= b for a, b in itertools.pairwise(lines))


def text_compare(ctx: CallContext, args: JSONDict) -> JSONDict:
    path, a = _one_file(ctx, args, "path")
    other, b = _one_file(ctx, args, "other")
    if args.get("distinct"):
        a, b = _distinct(a), _distinct(b)
    left_b = Counter(b)
    both: list[str] = []
    first: list[str] = []
    for line in a:
        if left_b[line] > 0:
            left_b[line] -= 1
            both.append(line)
        else:
            first.append(line)
    left_a = Counter(a)
    second: list[str] = []
    for line in b:
        if left_a[line] > 0:
            left_a[line] -= 1
        else:
            second.append(line)
    show = args.get("show", "all")
    rows: list[JSONDict] = []
    for where, lines in (("both", both), ("first", first), ("second", second)):
        if show in ("all", where):
            rows.extend({"where": where, "line": line} for line in lines)
    truncated = len(rows) > ctx.max_rows
    return {"path": path, "other": other, "lines": rows[: ctx.max_rows], "both": len(both),
            "only_first": len(first), "only_second": len(second), "sorted_first": _is_sorted(a),
            "sorted_second": _is_sorted(b), "truncated": truncated}


_LEADING_NUMBER = re.compile(r"\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+))")


def _number_key(line: str) -> float:
    """``sort -n``'s key: the number a line starts with (after blanks); a line without one counts as 0."""
    m = _LEADING_NUMBER.match(line)
    return float(m.group(1)) if m else 0.0


def text_sort(ctx: CallContext, args: JSONDict) -> JSONDict:
    path, lines = _one_file(ctx, args)
    fold = _folder(args)
    rows = list(enumerate(lines, 1))
    if args.get("unique"):
        first: dict[str, tuple[int, str]] = {}
        for n, line in rows:
            first.setdefault(fold(line), (n, line))
        rows = list(first.values())
    # like GNU sort: lines whose keys tie are ordered by their bytes, the last-resort comparison
    if args.get("numeric"):
        rows.sort(key=lambda r: (_number_key(r[1]), r[1].encode()), reverse=bool(args.get("reverse")))
    else:
        rows.sort(key=lambda r: (fold(r[1]), r[1].encode()), reverse=bool(args.get("reverse")))
    out = [{"line_number": n, "line": line} for n, line in rows]
    truncated = len(out) > ctx.max_rows
    return {"path": path, "lines": out[: ctx.max_rows], "count": len(out), "truncated": truncated}


def _cell(value: str) -> str | int | float:
    """A CSV cell: a number when it reads back as the same text (``42``, ``3.5``), else the text (``007``,
    and ``nan`` / ``inf``, which JSON has no number for)."""
    for kind in (int, float):
        try:
            num = kind(value)
        except ValueError:
            continue
        if str(num) == value and math.isfinite(num):
            return num
    return value


def read_csv(ctx: CallContext, args: JSONDict, key: str = "path") -> tuple[str, list[str], list[JSONDict]]:
    """(path shown, column names, every row) of the CSV or TSV file named by ``args[key]``: what text.csv
    shows (uncapped) and table.save converts."""
    path, text = whole_text(ctx, args, key)
    delimiter = args.get("delimiter")
    if not delimiter:
        if path.lower().endswith((".tsv", ".tab")):
            delimiter = "\t"
        else:
            try:
                delimiter = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|").delimiter
            except csv.Error:
                delimiter = ","
    records = csv.reader(io.StringIO(text, newline=""), delimiter=str(delimiter))
    try:
        header = next(records, [])
        names: list[str] = []
        for i, name in enumerate(header, 1):
            name = name.strip() or f"column_{i}"
            names.append(name if name not in names else f"{name}_{i}")
        rows: list[JSONDict] = []
        for record in records:
            if not record:
                continue
            row: JSONDict = {name: _cell(value) for name, value in zip(names, record, strict=False)}
            row.update(dict.fromkeys(names[len(record):]))
            if len(record) > len(names):
                row["extra"] = record[len(names):]
            rows.append(row)
    except csv.Error as exc:
        raise NotText(f"is not valid CSV: {exc}", call=ctx.call, target=path,
                      hint="give the delimiter, or read it as text with fs.read") from exc
    return path, names, rows


def text_csv(ctx: CallContext, args: JSONDict) -> JSONDict:
    path, names, rows = read_csv(ctx, args)
    truncated = len(rows) > ctx.max_rows
    return {"path": path, "columns": names, "rows": rows[: ctx.max_rows], "count": len(rows),
            "truncated": truncated}


def text_diff(ctx: CallContext, args: JSONDict) -> JSONDict:
    path, old = whole_text(ctx, args, "path")
    other, new = whole_text(ctx, args, "other")
    out = _diff_lines(path, old, new, other=other, context=int(args.get("context", 3)))
    hunks = out[2:]  # after the --- and +++ headers
    added = sum(line.startswith("+") for line in hunks)
    removed = sum(line.startswith("-") for line in hunks)
    diff = "".join(out)
    cap = ctx.max_bytes
    return {"path": path, "other": other, "same": not out, "lines_added": added, "lines_removed": removed,
            "diff": diff[:cap], "truncated": len(diff) > cap}


def text_reverse(ctx: CallContext, args: JSONDict) -> JSONDict:
    path, lines = _one_file(ctx, args)
    rows = [{"line_number": i, "line": lines[i - 1]} for i in range(len(lines), 0, -1)]
    truncated = len(rows) > ctx.max_rows
    return {"path": path, "lines": rows[: ctx.max_rows], "count": len(rows), "truncated": truncated}


# ---------------------------------------------------------------- registration

_SKIPPED = S.array(S.obj({"path": S.string(), "reason": S.string()}, required=["path", "reason"]),
                   max_items=10**9)


def _edit_result(count_key: str) -> JSONDict:
    row = S.obj({"path": S.string(), count_key: S.integer(minimum=0), "bytes_before": S.integer(minimum=0),
                 "bytes_after": S.integer(minimum=0)}, required=["path", count_key])
    return S.table(row, "files", {"path": S.string(), "files_changed": S.integer(minimum=0),
                                  count_key: S.integer(minimum=0), "files_scanned": S.integer(minimum=0),
                                  "skipped": _SKIPPED})


_ROW = {"type": "object"}


def _lines_result(extra: dict[str, JSONDict]) -> JSONDict:
    row = S.obj({"line_number": S.nullable("integer"), "line": S.string(max_length=10**9)},
                required=["line_number", "line"])
    return S.table(row, "lines", {"path": S.string(), "count": S.integer(minimum=0), **extra})


def register(registry: Registry) -> None:
    edit_path = S.path("the file to edit, or a directory whose files (matching include) are edited")

    registry.syscall(
        "text.replace",
        "Replace text in a file, or in every matching file of a directory (like sed -i 's/a/b/g'); "
        "literal unless regex=true; undoable.",
        args=S.obj({
            "path": edit_path,
            "find": S.regex("the text to find within each line (a Python regular expression when regex=true)",
                            text=True),
            "replace": S.text("what to put instead (empty: delete it); with regex=true \\1 or \\g<name> "
                              "insert groups", max_length=100_000),
            "regex": S.boolean("find is a regular expression (default: plain text)"),
            "ignore_case": S.boolean("match regardless of case"),
            "count": S.integer("replace at most this many occurrences per file, first ones first "
                               "(default: all)", minimum=1, maximum=10**9),
            **U.where_args(),
        }, required=["path", "find", "replace"]),
        result=_edit_result("replacements"),
        capability="fs.write", risk=Risk.WRITE, undoable=True, preview=pv_replace,
        view=View("table", "files", ("path", "replacements")),
        examples=[
            ("replace foo with bar in notes.txt", {"path": "notes.txt", "find": "foo", "replace": "bar"}),
            ("sed -i 's/http:/https:/g' links.md", {"path": "links.md", "find": "http:", "replace": "https:"}),
            ("rename old_name to new_name in every python file under src",
             {"path": "src", "find": "old_name", "replace": "new_name", "include": "*.py"}),
            ("turn version numbers like 1.2.3 into X in CHANGELOG",
             {"path": "CHANGELOG", "find": "[0-9]+\\.[0-9]+\\.[0-9]+", "replace": "X", "regex": True}),
            ("change the first 'debug' to 'info' in app.conf ignoring case",
             {"path": "app.conf", "find": "debug", "replace": "info", "ignore_case": True, "count": 1}),
        ],
        phrasings=[
            ("replace {pattern} with {text} in {file}", 'text.replace path={file} find={pattern} replace={text}'),
            ("sed -i 's/foo/bar/g' {file}", 'text.replace path={file} find="foo" replace="bar"'),
            ("sed -i 's/localhost/127.0.0.1/g' {file}",
             'text.replace path={file} find="localhost" replace="127.0.0.1"'),
            ("sed -i 's/http:/https:/g' {file}", 'text.replace path={file} find="http:" replace="https:"'),
            ("change every {pattern} to {text} in {file}",
             'text.replace path={file} find={pattern} replace={text}'),
            ("in {file}, change {pattern} to {text}", 'text.replace path={file} find={pattern} replace={text}'),
            ("substitute {text} for {pattern} in {file}",
             'text.replace path={file} find={pattern} replace={text}'),
            ("replace {pattern} with {text} in all {glob} under {dir}",
             'text.replace path={dir} find={pattern} replace={text} include={glob}'),
            ("find and replace {pattern} with {text} in the {glob} in {dir}",
             'text.replace path={dir} find={pattern} replace={text} include={glob}'),
            ("replace {pattern} with {text} everywhere in {dir}",
             'text.replace path={dir} find={pattern} replace={text}'),
            ("replace {pattern} with {text} in the {glob} in {dir}, not in subfolders",
             'text.replace path={dir} find={pattern} replace={text} include={glob} recursive=false'),
            ("replace {pattern} with {text} in {file} ignoring case",
             'text.replace path={file} find={pattern} replace={text} ignore_case=true'),
            ("replace only the first {pattern} in {file} with {text}",
             'text.replace path={file} find={pattern} replace={text} count=1'),
            ("replace the first {n} occurrences of {pattern} with {text} in {file}",
             'text.replace path={file} find={pattern} replace={text} count={n}'),
            ("remove every {pattern} from {file}", 'text.replace path={file} find={pattern} replace=""'),
            ("delete all occurrences of {pattern} in {file}",
             'text.replace path={file} find={pattern} replace=""'),
            ("replace the regex {pattern} with {text} in {file}",
             'text.replace path={file} find={pattern} replace={text} regex=true'),
            ("replace trailing whitespace in {file}", 'text.replace path={file} find="[ \\t]+$" replace="" '
                                                     'regex=true'),
        ],
    )(text_replace)

    registry.syscall(
        "text.insert",
        "Insert lines at the top, at the bottom or before line N of a file, or of every matching file of a "
        "directory (like sed -i '1i ...'); undoable.",
        args=S.obj({
            "path": edit_path,
            "text": S.text("the line(s) to insert; a newline is added at the end if missing", min_length=1,
                           max_length=1_000_000),
            "at": S.enum(["top", "bottom"], "where: top (default) or bottom"),
            "line": S.integer("insert before this line (1 = the top; one past the last line = the bottom); "
                              "instead of at", minimum=1, maximum=10**9),
            **U.where_args(),
        }, required=["path", "text"]),
        result=_edit_result("lines_inserted"),
        capability="fs.write", risk=Risk.WRITE, undoable=True, preview=pv_insert,
        view=View("table", "files", ("path", "lines_inserted")),
        examples=[
            ("add a shebang line to the top of run.sh", {"path": "run.sh", "text": "#!/bin/sh", "at": "top"}),
            ("insert '# SPDX-License-Identifier: MIT' at the top of every python file in src",
             {"path": "src", "text": "# SPDX-License-Identifier: MIT", "at": "top", "include": "*.py"}),
            ("put 'import os' before line 3 of main.py", {"path": "main.py", "text": "import os", "line": 3}),
            ("add 'END' as the last line of list.txt", {"path": "list.txt", "text": "END", "at": "bottom"}),
        ],
        phrasings=[
            ("insert {text} at the top of every {glob} in {dir}",
             'text.insert path={dir} text={text} at="top" include={glob}'),
            ("insert {text} at the top of all {glob} in {dir}",
             'text.insert path={dir} text={text} at="top" include={glob}'),
            ("add the header {text} to all {glob} under {dir}",
             'text.insert path={dir} text={text} at="top" include={glob}'),
            ("add {text} as the first line of {file}", 'text.insert path={file} text={text} at="top"'),
            ("insert a line {text} at the top of {file}", 'text.insert path={file} text={text} at="top"'),
            ("put {text} at the beginning of {file}", 'text.insert path={file} text={text} at="top"'),
            ("prepend {text} to {file}", 'text.insert path={file} text={text} at="top"'),
            ("sed -i '1i #!/bin/sh' {file}", 'text.insert path={file} text="#!/bin/sh" at="top"'),
            ("sed -i '1i set -e' {file}", 'text.insert path={file} text="set -e" at="top"'),
            ("insert {text} before line {n} of {file}", 'text.insert path={file} text={text} line={n}'),
            ("insert {text} at line {n} in {file}", 'text.insert path={file} text={text} line={n}'),
            ("add {text} as the last line of {file}", 'text.insert path={file} text={text} at="bottom"'),
            ("add the line {text} at the end of every {glob} in {dir}",
             'text.insert path={dir} text={text} at="bottom" include={glob}'),
            ("insert {text} at the top of the {glob} in {dir}, not in subfolders",
             'text.insert path={dir} text={text} at="top" include={glob} recursive=false'),
        ],
    )(text_insert)

    registry.syscall(
        "text.prefix",
        "Put a prefix at the start of every line (empty lines left alone unless skip_blank=false) of a file, "
        "or of every matching file of a directory (like sed -i 's/^/> /'); undoable.",
        args=S.obj({
            "path": edit_path,
            "prefix": S.text("the text to put in front of each line", min_length=1, max_length=4096),
            "skip_blank": S.boolean("leave empty lines alone (default true)"),
            **U.where_args(),
        }, required=["path", "prefix"]),
        result=_edit_result("lines_prefixed"),
        capability="fs.write", risk=Risk.WRITE, undoable=True, preview=pv_prefix,
        view=View("table", "files", ("path", "lines_prefixed")),
        examples=[
            ("comment out every line of old.sh", {"path": "old.sh", "prefix": "# "}),
            ("quote reply.txt email-style", {"path": "reply.txt", "prefix": "> "}),
            ("sed -i 's/^/    /' snippet.py", {"path": "snippet.py", "prefix": "    ", "skip_blank": False}),
            ("prefix each line of every log in logs with 'old: '",
             {"path": "logs", "prefix": "old: ", "include": "*.log"}),
        ],
        phrasings=[
            ("prefix every line of {file} with {text}", 'text.prefix path={file} prefix={text}'),
            ("prefix each line in {file} with {text}", 'text.prefix path={file} prefix={text}'),
            ("add {text} to the start of each line in {file}", 'text.prefix path={file} prefix={text}'),
            ("put {text} in front of every line of {file}", 'text.prefix path={file} prefix={text}'),
            ("start every line of {file} with {text}", 'text.prefix path={file} prefix={text}'),
            ("prefix every line of {file} with {text}, empty lines too",
             'text.prefix path={file} prefix={text} skip_blank=false'),
            ("sed -i 's/^/# /' {file}", 'text.prefix path={file} prefix="# " skip_blank=false'),
            ("sed -i 's/^/> /' {file}", 'text.prefix path={file} prefix="> " skip_blank=false'),
            ("comment out every line of {file}", 'text.prefix path={file} prefix="# "'),
            ("indent every line of {file} by four spaces", 'text.prefix path={file} prefix="    "'),
            ("quote {file} email-style", 'text.prefix path={file} prefix="> "'),
            ("prefix every line of the {glob} in {dir} with {text}",
             'text.prefix path={dir} prefix={text} include={glob}'),
        ],
    )(text_prefix)

    registry.syscall(
        "text.number",
        "Show a file's lines with their numbers (cat -n; skip_blank=true numbers only non-empty lines, like nl).",
        args=S.obj({
            "path": S.path("the file"),
            "start": S.integer("the first line's number (default 1), like nl -v", minimum=0, maximum=10**12),
            "skip_blank": S.boolean("leave empty lines unnumbered, like nl (default false, like cat -n)"),
        }, required=["path"]),
        result=_lines_result({"numbered": S.integer(minimum=0)}),
        taints=("path",),
        capability="fs.read", risk=Risk.READ, view=View("table", "lines", ("line_number", "line")),
        examples=[
            ("number the lines of poem.txt", {"path": "poem.txt"}),
            ("cat -n main.c", {"path": "main.c"}),
            ("nl notes.md", {"path": "notes.md", "skip_blank": True}),
            ("show script.sh with line numbers starting at 0", {"path": "script.sh", "start": 0}),
        ],
        phrasings=[
            ("number the lines of {file}", 'text.number path={file}'),
            ("cat -n {file}", 'text.number path={file}'),
            ("nl -ba {file}", 'text.number path={file}'),
            ("nl {file}", 'text.number path={file} skip_blank=true'),
            ("show {file} with line numbers", 'text.number path={file}'),
            ("print {file} with numbered lines", 'text.number path={file}'),
            ("display {file} with line numbers, skipping empty lines",
             'text.number path={file} skip_blank=true'),
            ("number the non-empty lines of {file}", 'text.number path={file} skip_blank=true'),
            ("show {file} with line numbers starting at {n}", 'text.number path={file} start={n}'),
            ("nl -ba -v {n} {file}", 'text.number path={file} start={n}'),
            ("what's on each line of {file}, numbered", 'text.number path={file}'),
        ],
    )(text_number)

    registry.syscall(
        "text.count",
        "Count how often a string (or regex) occurs in a file or the matching files of a directory "
        "(grep -o x | wc -l), or how many lines contain it (grep -c).",
        args=S.obj({
            "path": S.path("the file, or a directory whose files (matching include) are counted"),
            "pattern": S.regex("what to count: plain text, or a Python regular expression when regex=true"),
            "regex": S.boolean("pattern is a regular expression (default: plain text)"),
            "ignore_case": S.boolean("match regardless of case"),
            "what": S.enum(["occurrences", "lines"],
                           "occurrences (default; every match, like grep -o | wc -l) or lines (lines that "
                           "match, like grep -c)"),
            **U.where_args(),
        }, required=["path", "pattern"]),
        result=S.table(S.obj({"path": S.string(), "count": S.integer(minimum=0)}, required=["path", "count"]),
                       "files", {"path": S.string(), "what": S.string(), "pattern": S.string(),
                                 "total": S.integer(minimum=0), "files_scanned": S.integer(minimum=0),
                                 "skipped": _SKIPPED}),
        capability="fs.read", risk=Risk.READ, view=View("table", "files", ("path", "count")),
        examples=[
            ("how many times does the letter e appear in essay.txt", {"path": "essay.txt", "pattern": "e"}),
            ("how many lines of app.log mention ERROR", {"path": "app.log", "pattern": "ERROR", "what": "lines"}),
            ("count the TODOs in all python files under src",
             {"path": "src", "pattern": "TODO", "include": "*.py"}),
            ("grep -oi 'warning' build.log | wc -l",
             {"path": "build.log", "pattern": "warning", "ignore_case": True}),
        ],
        phrasings=[
            ("how many times does the letter x appear in {file}", 'text.count path={file} pattern="x"'),
            ("how many commas are in {file}", 'text.count path={file} pattern=","'),
            ("how many times does the character ; occur in {file}", 'text.count path={file} pattern=";"'),
            ("count the occurrences of {pattern} in {file}", 'text.count path={file} pattern={pattern}'),
            ("how many times does {pattern} appear in {file}", 'text.count path={file} pattern={pattern}'),
            ("grep -o {pattern} {file} | wc -l", 'text.count path={file} pattern={pattern}'),
            ("count {pattern} in {file} ignoring case",
             'text.count path={file} pattern={pattern} ignore_case=true'),
            ("how many lines in {file} contain {pattern}",
             'text.count path={file} pattern={pattern} what="lines"'),
            ("grep -c {pattern} {file}", 'text.count path={file} pattern={pattern} what="lines"'),
            ("grep -ci {pattern} {file}",
             'text.count path={file} pattern={pattern} ignore_case=true what="lines"'),
            ("how many times is {pattern} mentioned in {dir}", 'text.count path={dir} pattern={pattern}'),
            ("count {pattern} in all {glob} in {dir}", 'text.count path={dir} pattern={pattern} include={glob}'),
            ("how many lines match the regex {pattern} in {file}",
             'text.count path={file} pattern={pattern} regex=true what="lines"'),
        ],
    )(text_count)

    registry.syscall(
        "text.compare",
        "Compare the lines of two files: lines both have, lines only in the first, lines only in the second "
        "(like comm on sorted input; any order works: lines are matched as multisets).",
        args=S.obj({
            "path": S.path("the first file"),
            "other": S.path("the second file"),
            "show": S.enum(["all", "both", "first", "second"],
                           "which lines to list: all (default), both (comm -12), first = only in the first "
                           "(comm -23), second = only in the second (comm -13)"),
            "distinct": S.boolean("count each distinct line once (like comm on sort -u output)"),
        }, required=["path", "other"]),
        result=S.table(S.obj({"where": S.enum(["both", "first", "second"]), "line": S.string(max_length=10**9)},
                             required=["where", "line"]),
                       "lines", {"path": S.string(), "other": S.string(), "both": S.integer(minimum=0),
                                 "only_first": S.integer(minimum=0), "only_second": S.integer(minimum=0),
                                 "sorted_first": S.boolean(), "sorted_second": S.boolean()}),
        taints=("path", "other"),
        capability="fs.read", risk=Risk.READ, view=View("table", "lines", ("where", "line")),
        examples=[
            ("which lines do a.txt and b.txt have in common", {"path": "a.txt", "other": "b.txt", "show": "both"}),
            ("comm -23 old.list new.list", {"path": "old.list", "other": "new.list", "show": "first"}),
            ("what's new in users2.txt compared with users1.txt",
             {"path": "users1.txt", "other": "users2.txt", "show": "second"}),
            ("compare the lines of before.txt and after.txt", {"path": "before.txt", "other": "after.txt"}),
        ],
        phrasings=[
            ("lines common to {file} and {file2}", 'text.compare path={file} other={file2} show="both"'),
            ("which lines appear in both {file} and {file2}",
             'text.compare path={file} other={file2} show="both"'),
            ("comm -12 {file} {file2}", 'text.compare path={file} other={file2} show="both"'),
            ("comm -23 {file} {file2}", 'text.compare path={file} other={file2} show="first"'),
            ("comm -13 {file} {file2}", 'text.compare path={file} other={file2} show="second"'),
            ("comm {file} {file2}", 'text.compare path={file} other={file2}'),
            ("lines in {file} that are not in {file2}", 'text.compare path={file} other={file2} show="first"'),
            ("what lines does {file2} have that {file} doesn't",
             'text.compare path={file} other={file2} show="second"'),
            ("compare the lines of {file} and {file2}", 'text.compare path={file} other={file2}'),
            ("distinct lines shared by {file} and {file2}",
             'text.compare path={file} other={file2} show="both" distinct=true'),
            ("which entries of {file} are missing from {file2}",
             'text.compare path={file} other={file2} show="first"'),
        ],
    )(text_compare)

    registry.syscall(
        "text.dedupe",
        "Remove repeated lines from a file, keeping the first of each (like awk '!seen[$0]++'; adjacent=true: "
        "only runs of the same line, like uniq), or from every matching file of a directory; undoable.",
        args=S.obj({
            "path": edit_path,
            "adjacent": S.boolean("remove a line only when it repeats the line just before it (like uniq)"),
            "ignore_case": S.boolean("lines that differ only in case count as the same"),
            **U.where_args(),
        }, required=["path"]),
        result=_edit_result("lines_removed"),
        capability="fs.write", risk=Risk.WRITE, undoable=True, preview=pv_dedupe,
        view=View("table", "files", ("path", "lines_removed")),
        examples=[
            ("remove duplicate lines from emails.txt", {"path": "emails.txt"}),
            ("uniq the log in place", {"path": "app.log", "adjacent": True}),
            ("drop repeated lines in words.txt ignoring case", {"path": "words.txt", "ignore_case": True}),
        ],
        phrasings=[
            ("remove duplicate lines from {file}", 'text.dedupe path={file}'),
            ("delete the repeated lines in {file}", 'text.dedupe path={file}'),
            ("dedupe {file}", 'text.dedupe path={file}'),
            ("get rid of duplicate entries in {file}", 'text.dedupe path={file}'),
            ("make every line of {file} unique", 'text.dedupe path={file}'),
            ("strip the duplicates out of {file}", 'text.dedupe path={file}'),
            ("{file} has duplicate lines, remove them", 'text.dedupe path={file}'),
            ("remove consecutive duplicate lines in {file}", 'text.dedupe path={file} adjacent=true'),
            ("remove duplicate lines from {file} ignoring case", 'text.dedupe path={file} ignore_case=true'),
            ("remove duplicate lines in all {glob} under {dir}", 'text.dedupe path={dir} include={glob}'),
        ],
    )(text_dedupe)

    registry.syscall(
        "text.sort",
        "Show a file's lines sorted (like sort; reverse like sort -r, numeric like sort -n, unique like "
        "sort -u); the file is not changed.",
        args=S.obj({
            "path": S.path("the file"),
            "reverse": S.boolean("largest / Z first (like sort -r)"),
            "numeric": S.boolean("compare the numbers the lines start with (like sort -n)"),
            "unique": S.boolean("show each distinct line once (like sort -u); count is then the number of "
                                "distinct lines"),
            "ignore_case": S.boolean("compare regardless of case (like sort -f)"),
        }, required=["path"]),
        result=_lines_result({}),
        taints=("path",),
        capability="fs.read", risk=Risk.READ, view=View("table", "lines", ("line_number", "line")),
        examples=[
            ("sort cities.txt", {"path": "cities.txt"}),
            ("sort -rn scores.txt", {"path": "scores.txt", "reverse": True, "numeric": True}),
            ("how many distinct lines does visitors.log have", {"path": "visitors.log", "unique": True}),
        ],
        phrasings=[
            ("sort {file}", 'text.sort path={file}'),
            ("sort the lines of {file}", 'text.sort path={file}'),
            ("show {file} in alphabetical order", 'text.sort path={file}'),
            ("print {file} sorted", 'text.sort path={file}'),
            ("sort {file} in reverse", 'text.sort path={file} reverse=true'),
            ("sort -r {file}", 'text.sort path={file} reverse=true'),
            ("show the lines of {file} from z to a", 'text.sort path={file} reverse=true'),
            ("sort -n {file}", 'text.sort path={file} numeric=true'),
            ("sort {file} numerically", 'text.sort path={file} numeric=true'),
            ("sort -rn {file}", 'text.sort path={file} reverse=true numeric=true'),
            ("sort {file} by number, biggest first", 'text.sort path={file} reverse=true numeric=true'),
            ("sort -u {file}", 'text.sort path={file} unique=true'),
            ("sort {file} | uniq", 'text.sort path={file} unique=true'),
            ("the distinct lines of {file}", 'text.sort path={file} unique=true'),
            ("how many different lines are in {file}", 'text.sort path={file} unique=true'),
            ("how many unique entries does {file} have", 'text.sort path={file} unique=true'),
            ("sort {file} ignoring case", 'text.sort path={file} ignore_case=true'),
        ],
    )(text_sort)

    registry.syscall(
        "text.csv",
        "Read a CSV or TSV file as a table: one row per record, the columns named by its first line (numbers "
        "as numbers); table.sort, table.select, table.filter and table.sum then work on it.",
        args=S.obj({
            "path": S.path("the CSV or TSV file"),
            "delimiter": S.string("the field separator (default: a tab for .tsv, else guessed from the text)",
                                  min_length=1, max_length=1),
        }, required=["path"]),
        result=S.table(_ROW, "rows", {"path": S.string(), "columns": S.array(S.string(), max_items=10**6),
                                      "count": S.integer(minimum=0)}),
        taints=("path",),
        capability="fs.read", risk=Risk.READ, view=View("table", "rows"),
        examples=[
            ("show data.csv as a table", {"path": "data.csv"}),
            ("read the semicolon-separated export.csv", {"path": "export.csv", "delimiter": ";"}),
        ],
        phrasings=[
            ("show {csv} as a table", 'text.csv path={csv}'),
            ("open the csv {csv}", 'text.csv path={csv}'),
            ("read the spreadsheet {csv}", 'text.csv path={csv}'),
            ("sort the csv {csv} by {column}", 'text.csv path={csv}\ntable.sort rows="$0" by={column}'),
            ("sort {csv} by the {column} column, z to a",
             'text.csv path={csv}\ntable.sort rows="$0" by={column} order="desc"'),
            ("order the rows of {csv} by {column}, largest first",
             'text.csv path={csv}\ntable.sort rows="$0" by={column} order="desc"'),
            ("show only the {column} column of {csv}",
             'text.csv path={csv}\ntable.select rows="$0" columns=[{column}]'),
            ("cut out the {column} and {column2} columns of {csv}",
             'text.csv path={csv}\ntable.select rows="$0" columns=[{column}, {column2}]'),
            ("rows of {csv} where {column} is {text}",
             'text.csv path={csv}\ntable.filter rows="$0" column={column} op="eq" value={text}'),
            ("total of the {column} column in {csv}", 'text.csv path={csv}\ntable.sum rows="$0" column={column}'),
            ("how many rows does the csv {csv} have", 'text.csv path={csv}\ntable.count rows="$0"'),
        ],
    )(text_csv)

    registry.syscall(
        "text.diff",
        "Show how two text files differ, as a unified diff (like diff -u): lines only in the first with -, "
        "lines only in the second with +.",
        args=S.obj({
            "path": S.path("the first (old) file"),
            "other": S.path("the second (new) file"),
            "context": S.integer("unchanged lines shown around each change (default 3, like diff -U)",
                                 minimum=0, maximum=1000),
        }, required=["path", "other"]),
        result=S.obj({"path": S.string(), "other": S.string(), "same": S.boolean(),
                      "lines_added": S.integer(minimum=0), "lines_removed": S.integer(minimum=0),
                      "diff": S.string(max_length=10**9), "truncated": S.boolean()},
                     required=["path", "other", "same", "diff"]),
        taints=("path", "other"),
        capability="fs.read", risk=Risk.READ, view=View("text", "diff"),
        examples=[
            ("diff old.conf new.conf", {"path": "old.conf", "other": "new.conf"}),
            ("what changed between v1.txt and v2.txt", {"path": "v1.txt", "other": "v2.txt"}),
            ("diff -U0 a.py b.py", {"path": "a.py", "other": "b.py", "context": 0}),
        ],
        phrasings=[
            ("diff {file} {file2}", 'text.diff path={file} other={file2}'),
            ("diff {file} and {file2}", 'text.diff path={file} other={file2}'),
            ("diff -u {file} {file2}", 'text.diff path={file} other={file2}'),
            ("what's the difference between {file} and {file2}", 'text.diff path={file} other={file2}'),
            ("how does {file2} differ from {file}", 'text.diff path={file} other={file2}'),
            ("compare {file} with {file2}", 'text.diff path={file} other={file2}'),
            ("what changed between {file} and {file2}", 'text.diff path={file} other={file2}'),
            ("are {file} and {file2} the same", 'text.diff path={file} other={file2}'),
            ("show the differences between {file} and {file2} without context",
             'text.diff path={file} other={file2} context=0'),
        ],
    )(text_diff)

    registry.syscall(
        "text.reverse",
        "Show a file's lines in reverse order, last line first (like tac).",
        args=S.obj({"path": S.path("the file")}, required=["path"]),
        result=_lines_result({}),
        taints=("path",),
        capability="fs.read", risk=Risk.READ, view=View("table", "lines", ("line_number", "line")),
        examples=[
            ("print history.txt in reverse order", {"path": "history.txt"}),
            ("tac server.log", {"path": "server.log"}),
            ("show the journal file newest line first", {"path": "journal.txt"}),
        ],
        phrasings=[
            ("print {file} in reverse order", 'text.reverse path={file}'),
            ("tac {file}", 'text.reverse path={file}'),
            ("show {file} backwards, last line first", 'text.reverse path={file}'),
            ("reverse the order of the lines of {file}", 'text.reverse path={file}'),
            ("display {file} upside down", 'text.reverse path={file}'),
            ("cat {file} in reverse", 'text.reverse path={file}'),
            ("read {file} from the bottom up", 'text.reverse path={file}'),
            ("list the lines of {file} from last to first", 'text.reverse path={file}'),
        ],
    )(text_reverse)

