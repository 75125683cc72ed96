"""Result tables: sort, limit, filter, select, count, sum and unique over the rows of an earlier step.

What ``| sort | head | grep -v | cut | wc -l | uniq -c`` do to a command's
output in a shell, these calls do to a typed table.  A plan hands them the
rows of an earlier result with a whole-result reference (``rows="$0"`` for
step 0's table, ``rows="$prev"`` for the previous result's, see
``models.plan``), so they touch nothing on the system: capability
``data.read``, risk read, nothing to undo or preview.  Each returns a table
(``rows`` and ``count``) except ``table.count``, a record.

``table.save`` is the one that writes: the rows (or the whole of a CSV, TSV or
JSON file, ``source``) as a JSON, JSON Lines, CSV or TSV file, through fs.write's
journaled replace (``syscalls.builtin.fs.mutate.write_file``): capability
``fs.write``, undoable, previewed.

Cell values compare the way their type says: numbers as numbers, everything
else as text (strings as they are, ``true``/``false``, lists and objects as
JSON).  A row without the column (or with null there) sorts last in either
order and matches no comparison; the negated operators (``ne``, ``not_glob``,
``not_contains``, ``not_regex``) are exact complements, like ``grep`` and
``grep -v``.  A
column no row has is refused, naming the columns the rows do have.
"""

from __future__ import annotations

import csv
import fnmatch
import io
import json
import math
import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from syscalls import schema as S
from syscalls.builtin import _fsutil as U
from syscalls.builtin.fs.mutate import write_file
from syscalls.builtin.textedit import NotText, read_csv, whole_text
from syscalls.errors import AlreadyExists, FloorViolation, InvalidRequest
from syscalls.types import CallContext, JSONDict, Risk, View

if TYPE_CHECKING:
    from syscalls.registry import Registry

_CANCEL_EVERY = 4096
OPS = ("eq", "ne", "lt", "le", "gt", "ge", "glob", "not_glob", "contains", "not_contains", "regex", "not_regex")
_NEGATED = {"ne": "eq", "not_glob": "glob", "not_contains": "contains", "not_regex": "regex"}

_ROW = {"type": "object"}
_TABLE = S.table(_ROW, "rows", {"count": S.integer(minimum=0)})
_VIEW = View("table", "rows")


# ---------------------------------------------------------------- helpers

def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def text(value: Any) -> str:
    """A cell as text: strings as they are, ``true``/``false``, numbers as written, lists/objects as JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def columns_of(rows: list[JSONDict]) -> list[str]:
    """Every column of the rows, in the order they first appear."""
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)


def _need_column(call: str, rows: list[JSONDict], column: str, arg: str) -> None:
    """Refuse a column no row has (an empty table has every column: there is nothing to get wrong)."""
    if not rows:
        return
    cols = columns_of(rows)
    if column not in cols:
        raise InvalidRequest(f"the rows have no column {column!r}", call=call, field=f"args.{arg}",
                             hint="the rows have the columns: " + ", ".join(cols))


def _rows_arg(ctx: CallContext, args: JSONDict) -> list[JSONDict]:
    rows = args.get("rows")
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise InvalidRequest("rows must be the rows of an earlier result", call=ctx.call, field="args.rows",
                             hint='write rows="$0" for step 0\'s table or rows="$prev" for the previous result')
    return rows


def _table(rows: list[JSONDict]) -> JSONDict:
    return {"rows": rows, "count": len(rows)}


def _as_number(call: str, column: str, value: Any, arg: str) -> float:
    """A cell (or the filter's value) as a number; text that is not one is refused, naming it."""
    if _is_number(value):
        return float(value)
    try:
        num = float(text(value).strip())
    except ValueError:
        num = math.nan
    if math.isnan(num):
        hint = "sort it as text (numeric=false)" if arg == "by" else \
            f"column {column!r} holds numbers: give a number as the value"
        raise InvalidRequest(f"{text(value)!r} (column {column!r}) is not a number", call=call,
                             field=f"args.{arg}", hint=hint)
    return num


# ---------------------------------------------------------------- table.sort

def table_sort(ctx: CallContext, args: JSONDict) -> JSONDict:
    rows = _rows_arg(ctx, args)
    by = str(args["by"])
    _need_column(ctx.call, rows, by, "by")
    desc = args.get("order", "asc") == "desc"
    present = [r for r in rows if r.get(by) is not None]
    missing = [r for r in rows if r.get(by) is None]
    numeric = args.get("numeric")
    if numeric is None:
        numeric = bool(present) and all(_is_number(r[by]) for r in present)
    # Python's sort is stable in both directions: rows with equal keys keep their order (like sort -s).
    keys: list[Any] = [_as_number(ctx.call, by, r[by], "by") for r in present] if numeric \
        else [text(r[by]) for r in present]
    order = sorted(range(len(present)), key=keys.__getitem__, reverse=desc)
    return _table([present[i] for i in order] + missing)


# ---------------------------------------------------------------- table.limit

def table_limit(ctx: CallContext, args: JSONDict) -> JSONDict:
    rows = _rows_arg(ctx, args)
    first, last = args.get("first"), args.get("last")
    if (first is None) == (last is None):
        raise InvalidRequest("give exactly one of first or last", call=ctx.call,
                             field="args.first" if first is not None else "args",
                             hint="first=N keeps the first N rows (head), last=N the last N (tail)")
    if first is not None:
        return _table(rows[: int(first)])
    return _table(rows[max(0, len(rows) - int(last)):])  # type: ignore[arg-type]


# ---------------------------------------------------------------- table.filter

def _matcher(ctx: CallContext, column: str, op: str, value: str, ignore_case: bool,
             rows: list[JSONDict]) -> Callable[[Any], bool]:
    """A test of one (present, non-null) cell for the positive form of ``op``."""
    call = ctx.call
    fold: Callable[[str], str] = str.casefold if ignore_case else (lambda s: s)
    if op in ("eq", "lt", "le", "gt", "ge"):
        cells = [r[column] for r in rows if r.get(column) is not None]
        numeric = bool(cells) and all(_is_number(c) for c in cells)
        if numeric:
            want = _as_number(call, column, value, "value")
            cmp_num: dict[str, Callable[[float, float], bool]] = {
                "eq": lambda a, b: a == b, "lt": lambda a, b: a < b, "le": lambda a, b: a <= b,
                "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b}
            test_num = cmp_num[op]
            return lambda cell: test_num(float(cell), want)
        want_text = fold(value)
        cmp_text: dict[str, Callable[[str, str], bool]] = {
            "eq": lambda a, b: a == b, "lt": lambda a, b: a < b, "le": lambda a, b: a <= b,
            "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b}
        test_text = cmp_text[op]
        return lambda cell: test_text(fold(text(cell)), want_text)
    if op == "glob":
        pattern = fold(value)
        return lambda cell: fnmatch.fnmatchcase(fold(text(cell)), pattern)
    if op == "contains":
        needle = fold(value)
        return lambda cell: needle in fold(text(cell))
    try:
        rx = re.compile(value, re.IGNORECASE if ignore_case else 0)
    except re.error as exc:
        raise InvalidRequest(f"{value!r} is not a valid regular expression: {exc}", call=call,
                             field="args.value", hint="escape special characters, or use op=contains") from exc
    return lambda cell: rx.search(text(cell)) is not None


def table_filter(ctx: CallContext, args: JSONDict) -> JSONDict:
    rows = _rows_arg(ctx, args)
    column, op, value = str(args["column"]), str(args["op"]), str(args["value"])
    _need_column(ctx.call, rows, column, "column")
    positive = _NEGATED.get(op, op)
    negate = op in _NEGATED
    test = _matcher(ctx, column, positive, value, bool(args.get("ignore_case")), rows)
    out: list[JSONDict] = []
    for i, row in enumerate(rows):
        if i % _CANCEL_EVERY == 0:
            ctx.check_cancel()
        cell = row.get(column)
        hit = cell is not None and test(cell)
        if hit != negate:
            out.append(row)
    return _table(out)


# ---------------------------------------------------------------- table.select

def table_select(ctx: CallContext, args: JSONDict) -> JSONDict:
    rows = _rows_arg(ctx, args)
    wanted = list(dict.fromkeys(str(c) for c in args["columns"]))
    for column in wanted:
        _need_column(ctx.call, rows, column, "columns")
    return _table([{c: row.get(c) for c in wanted} for row in rows])


# ---------------------------------------------------------------- table.count

def table_count(ctx: CallContext, args: JSONDict) -> JSONDict:
    return {"count": len(_rows_arg(ctx, args))}


# ---------------------------------------------------------------- table.sum

def table_sum(ctx: CallContext, args: JSONDict) -> JSONDict:
    rows = _rows_arg(ctx, args)
    column = str(args["column"])
    _need_column(ctx.call, rows, column, "column")
    values = [_as_number(ctx.call, column, r[column], "column") for r in rows if r.get(column) is not None]
    total = math.fsum(values)
    shown: Callable[[float], float] = int if all(v.is_integer() for v in values) else float  # whole: as ints
    out: JSONDict = {"column": column, "total": shown(total), "count": len(values)}
    if values:
        out.update(min=shown(min(values)), max=shown(max(values)), mean=total / len(values))
    return out


# ---------------------------------------------------------------- table.unique

def _canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def table_unique(ctx: CallContext, args: JSONDict) -> JSONDict:
    rows = _rows_arg(ctx, args)
    column = args.get("column")
    if column is not None:
        _need_column(ctx.call, rows, str(column), "column")
    names = [str(column)] if column is not None else columns_of(rows)
    count_key = "count" if "count" not in names else "occurrences"
    seen: dict[str, JSONDict] = {}
    for i, row in enumerate(rows):
        if i % _CANCEL_EVERY == 0:
            ctx.check_cancel()
        item = {str(column): row.get(str(column))} if column is not None else dict(row)
        key = _canonical(item)
        if key in seen:
            seen[key][count_key] += 1
        else:
            seen[key] = {**item, count_key: 1}
    return _table(list(seen.values()))


# ---------------------------------------------------------------- table.save

SAVE_FORMATS = ("json", "jsonl", "csv", "tsv")
_SUFFIX_FORMAT = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv",
                  ".tab": "tsv"}


def _format_of(path: str) -> str | None:
    return _SUFFIX_FORMAT.get(os.path.splitext(path)[1].lower())


def _json_rows(ctx: CallContext, args: JSONDict, jsonl: bool) -> tuple[str, list[JSONDict]]:
    """The rows of a JSON file (a list of objects) or a JSON Lines file (one object a line)."""
    path, text = whole_text(ctx, args, "source")
    try:
        if jsonl:
            items = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            items = json.loads(text)
    except ValueError as exc:
        raise NotText(f"is not valid JSON: {exc}", call=ctx.call, target=path,
                      hint="check the file with fs.read; table.save reads a list of objects") from exc
    if not isinstance(items, list):
        raise NotText(f"holds a JSON {type(items).__name__}, not a list of objects", call=ctx.call, target=path,
                      hint="table.save converts a JSON list of objects (one object per row)")
    for i, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise NotText(f"item {i} is a JSON {type(item).__name__}, not an object", call=ctx.call, target=path,
                          hint="table.save converts a JSON list of objects (one object per row)")
    return path, items


def _save_plan(ctx: CallContext, args: JSONDict) -> tuple[str, str, list[JSONDict], bytes]:
    """(the file to write, its format, the rows, the bytes) of a table.save request; nothing is written."""
    call = ctx.call
    has_rows, source = "rows" in args, args.get("source")
    if has_rows == (source is not None):
        raise InvalidRequest("give exactly one of rows or source", call=call, field="args.rows" if has_rows else "args",
                             hint='rows="$0" saves step 0\'s table; source="data.csv" converts a CSV, TSV or JSON file')
    fmt = args.get("format")
    if args.get("path"):
        dest = str(ctx.resolve(args["path"]))
        fmt = fmt or _format_of(dest)
        if fmt is None:
            raise InvalidRequest(f"cannot tell the format from the name {os.path.basename(dest)!r}", call=call,
                                 field="args.format",
                                 hint="end the name with .json, .jsonl, .csv or .tsv, or give format")
    elif source is not None and fmt:
        src = str(ctx.resolve(source))
        dest = os.path.splitext(src)[0] + "." + fmt
        if dest == src:
            raise InvalidRequest(f"{os.path.basename(src)} is a {fmt} file already", call=call, field="args.format",
                                 hint="give another format, or a path to write to")
    else:
        raise InvalidRequest("give the file to write (path), or the format to convert the source to", call=call,
                             field="args.path", hint='e.g. path="out.csv", or source="data.csv" format="json"')
    if source is not None:
        kind = _format_of(str(ctx.resolve(source)))
        if kind in ("json", "jsonl"):
            rows = _json_rows(ctx, args, kind == "jsonl")[1]
        else:
            rows = read_csv(ctx, args, "source")[2]
    else:
        rows = _rows_arg(ctx, args)
    return dest, str(fmt), rows, _serialize(ctx, rows, str(fmt))


def _serialize(ctx: CallContext, rows: list[JSONDict], fmt: str) -> bytes:
    if fmt == "json":
        return (json.dumps(rows, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter="\t" if fmt == "tsv" else ",", lineterminator="\n")
    names = columns_of(rows)
    if names:
        writer.writerow(names)
    for i, row in enumerate(rows):
        if i % _CANCEL_EVERY == 0:
            ctx.check_cancel()
        writer.writerow([text(row.get(name)) for name in names])
    return buf.getvalue().encode("utf-8")


def _floor_dest(ctx: CallContext, args: JSONDict, dest: str) -> None:
    """A destination worked out from the source was not checked by the gate: the floor's writing rules."""
    if not args.get("path"):
        why = U.floor_refusal(ctx, dest, write=True)
        if why is not None:
            raise FloorViolation(why, call=ctx.call, target=dest)


def table_save(ctx: CallContext, args: JSONDict) -> JSONDict:
    dest, fmt, rows, data = _save_plan(ctx, args)
    _floor_dest(ctx, args, dest)
    try:
        out = write_file(ctx, {"path": args.get("path") or dest, "no_clobber": args.get("no_clobber")}, data)
    except AlreadyExists as exc:
        exc.hint = "set no_clobber=false to replace it (undo brings it back), or choose another path"
        raise
    return {**out, "format": fmt, "count": len(rows), "columns": columns_of(rows)}


def pv_save(ctx: CallContext, args: JSONDict) -> JSONDict:
    dest, fmt, rows, data = _save_plan(ctx, args)
    _floor_dest(ctx, args, dest)
    exists = os.path.lexists(dest)
    return {"paths": [dest], "count": len(rows), "bytes": len(data), "exists": {dest: exists},
            "overwrites": exists, "format": fmt}


# ---------------------------------------------------------------- registration

def register(registry: Registry) -> None:
    def add(name: str, doc: str, impl: Callable[[CallContext, JSONDict], JSONDict], *, args: JSONDict,
            examples: list[tuple[str, JSONDict]], phrasings: list[tuple[str, str]],
            result: JSONDict = _TABLE, view: View = _VIEW) -> None:
        registry.syscall(name, doc, args=args, result=result, capability="data.read", risk=Risk.READ,
                         view=view, examples=examples, phrasings=phrasings)(impl)

    rows = S.rows()
    column = S.string("a column of the rows, e.g. size_bytes, name, user", min_length=1, max_length=256)

    add("table.sort", "Sort the rows of an earlier result by one column (like sort -k).", table_sort,
        args=S.obj({
            "rows": rows,
            "by": column,
            "order": S.enum(["asc", "desc"], "asc (smallest, earliest, A first; the default) or desc"),
            "numeric": S.boolean("compare as numbers (true) or as text (false); by default numbers when "
                                 "every value is a number"),
        }, required=["rows", "by"]),
        examples=[
            ("sort them by size", {"rows": "$prev", "by": "size_bytes"}),
            ("order those processes by memory, biggest first", {"rows": "$prev", "by": "rss_bytes",
                                                                 "order": "desc"}),
            ("sort the results by name", {"rows": "$prev", "by": "name"}),
            ("sort by pid in reverse", {"rows": "$prev", "by": "pid", "order": "desc"}),
        ],
        phrasings=[
            ("[prev=proc.list] sort them by memory", 'table.sort rows="$prev" by="rss_bytes" order="desc"'),
            ("[prev=proc.list] order by memory use, biggest first",
             'table.sort rows="$prev" by="rss_bytes" order="desc"'),
            ("[prev=proc.list] sort by cpu", 'table.sort rows="$prev" by="cpu_percent" order="desc"'),
            ("[prev=proc.list] sort them by name", 'table.sort rows="$prev" by="name"'),
            ("[prev=proc.list] order by pid", 'table.sort rows="$prev" by="pid"'),
            ("[prev=proc.list] sort by user", 'table.sort rows="$prev" by="user"'),
            ("[prev=proc.list] oldest first", 'table.sort rows="$prev" by="create_time"'),
            ("[prev=fs.find] sort them by path", 'table.sort rows="$prev" by="path"'),
            ("[prev=fs.find] sort those in reverse order", 'table.sort rows="$prev" by="path" order="desc"'),
            ("[prev=fs.find] | sort -r", 'table.sort rows="$prev" by="path" order="desc"'),
            ("[prev=fs.list] sort them by name", 'table.sort rows="$prev" by="name"'),
            ("[prev=fs.list] sort by type", 'table.sort rows="$prev" by="type"'),
            ("[prev=fs.grep] sort the matches by file", 'table.sort rows="$prev" by="path"'),
            ("list the {glob} in {dir} by size, smallest first",
             'fs.find path={dir} name={glob} type="file" details=true\ntable.sort rows="$0" by="size_bytes"'),
            ("{pname} processes sorted by memory",
             'proc.list name={pname}\ntable.sort rows="$0" by="rss_bytes" order="desc"'),
            ("processes of {user} sorted by name", 'proc.list user={user}\ntable.sort rows="$0" by="name"'),
        ])

    add("table.limit", "Keep the first N rows (like head -n N) or the last N (like tail -n N) of an earlier "
        "result.", table_limit,
        args=S.obj({
            "rows": rows,
            "first": S.integer("keep the first N rows", minimum=0, maximum=10**7),
            "last": S.integer("keep the last N rows", minimum=0, maximum=10**7),
        }, required=["rows"]),
        examples=[
            ("just the first 5 of those", {"rows": "$prev", "first": 5}),
            ("the last 3 of them", {"rows": "$prev", "last": 3}),
            ("only the top one", {"rows": "$prev", "first": 1}),
        ],
        phrasings=[
            ("[prev=fs.find] just the first {n}", 'table.limit rows="$prev" first={n}'),
            ("[prev=fs.find] only show {n} of them", 'table.limit rows="$prev" first={n}'),
            ("[prev=fs.find] | head -n {n}", 'table.limit rows="$prev" first={n}'),
            ("[prev=fs.find] the last {n} of those", 'table.limit rows="$prev" last={n}'),
            ("[prev=fs.find] | tail -n {n}", 'table.limit rows="$prev" last={n}'),
            ("[prev=fs.list] only the first {n}", 'table.limit rows="$prev" first={n}'),
            ("[prev=fs.list] show the last {n}", 'table.limit rows="$prev" last={n}'),
            ("[prev=proc.list] show only the top {n}", 'table.limit rows="$prev" first={n}'),
            ("[prev=proc.list] just the first one", 'table.limit rows="$prev" first=1'),
            ("[prev=fs.grep] the first {n} matches", 'table.limit rows="$prev" first={n}'),
            ("[prev=fs.grep] the last {n} of them", 'table.limit rows="$prev" last={n}'),
            ("[prev=proc.list] the {n} using the most memory",
             'table.sort rows="$prev" by="rss_bytes" order="desc"\ntable.limit rows="$0" first={n}'),
            ("[prev=fs.find] the last {n} in alphabetical order",
             'table.sort rows="$prev" by="path"\ntable.limit rows="$0" last={n}'),
            ("the {n} {glob} in {dir} that come first alphabetically",
             'fs.find path={dir} name={glob} type="file"\ntable.sort rows="$0" by="path"\n'
             'table.limit rows="$1" first={n}'),
        ])

    add("table.filter", "Keep the rows of an earlier result whose column passes a test (like grep / grep -v "
        "on one column): equal, less or greater, wildcard, substring or regular expression.", table_filter,
        args=S.obj({
            "rows": rows,
            "column": column,
            "op": S.enum(list(OPS), "eq ne lt le gt ge compare (as numbers when the column holds numbers); "
                                    "glob, contains, regex match text; not_* keep the rows that do not match"),
            "value": S.string("what to compare with, as text (\"100\", \"root\", \"*.log\")", max_length=1024),
            "ignore_case": S.boolean("compare text regardless of case"),
        }, required=["rows", "column", "op", "value"]),
        examples=[
            ("all of them except notes.txt", {"rows": "$prev", "column": "name", "op": "ne",
                                              "value": "notes.txt"}),
            ("only the ones owned by root", {"rows": "$prev", "column": "user", "op": "eq", "value": "root"}),
            ("only those using more than 10 percent cpu", {"rows": "$prev", "column": "cpu_percent",
                                                           "op": "gt", "value": "10"}),
            ("drop the lines that mention debug", {"rows": "$prev", "column": "line", "op": "not_contains",
                                                   "value": "debug"}),
        ],
        phrasings=[
            ("all files in {dir} except {name}",
             'fs.list path={dir}\ntable.filter rows="$0" column="name" op="ne" value={name}'),
            ("list {dir} but leave out {name}",
             'fs.list path={dir}\ntable.filter rows="$0" column="name" op="ne" value={name}'),
            ("[prev=fs.list] all of them except {name}",
             'table.filter rows="$prev" column="name" op="ne" value={name}'),
            ("[prev=fs.list] only the directories", 'table.filter rows="$prev" column="type" op="eq" value="dir"'),
            ("[prev=fs.find] only the directories", 'table.filter rows="$prev" column="type" op="eq" value="dir"'),
            ("[prev=fs.find] just the {glob}", 'table.filter rows="$prev" column="path" op="glob" value={glob}'),
            ("[prev=fs.find] without the {glob}",
             'table.filter rows="$prev" column="path" op="not_glob" value={glob}'),
            ("[prev=fs.find] the ones whose path mentions {text}",
             'table.filter rows="$prev" column="path" op="contains" value={text}'),
            ("[prev=fs.find] | grep -v {text}",
             'table.filter rows="$prev" column="path" op="not_contains" value={text}'),
            ("[prev=proc.list] only the ones owned by {user}",
             'table.filter rows="$prev" column="user" op="eq" value={user}'),
            ("[prev=proc.list] hide the ones run by root",
             'table.filter rows="$prev" column="user" op="ne" value="root"'),
            ("[prev=proc.list] only those using more than {n} percent cpu",
             'table.filter rows="$prev" column="cpu_percent" op="gt" value="{n}"'),
            ("[prev=proc.list] the ones using more than {n} percent of memory",
             'table.filter rows="$prev" column="memory_percent" op="gt" value="{n}"'),
            ("[prev=proc.list] leave out the {pname} ones",
             'table.filter rows="$prev" column="name" op="ne" value={pname}'),
            ("[prev=fs.grep] drop the lines containing {text}",
             'table.filter rows="$prev" column="line" op="not_contains" value={text}'),
            ("[prev=fs.grep] only the lines matching {pattern}",
             'table.filter rows="$prev" column="line" op="regex" value={pattern}'),
            ("[prev=fs.grep] | grep -v {pattern}",
             'table.filter rows="$prev" column="line" op="not_regex" value={pattern}'),
            ("processes not owned by root", 'proc.list\ntable.filter rows="$0" column="user" op="ne" value="root"'),
        ])

    add("table.select", "Keep only some columns of an earlier result, in the order given (like cut -f).",
        table_select,
        args=S.obj({
            "rows": rows,
            "columns": S.array(S.string(min_length=1, max_length=256), "the columns to keep, in order",
                               max_items=64) | {"minItems": 1},
        }, required=["rows", "columns"]),
        examples=[
            ("just the names", {"rows": "$prev", "columns": ["name"]}),
            ("only pid and name", {"rows": "$prev", "columns": ["pid", "name"]}),
            ("only the paths and sizes", {"rows": "$prev", "columns": ["path", "size_bytes"]}),
        ],
        phrasings=[
            ("only the names of the files in {dir}", 'fs.list path={dir}\ntable.select rows="$0" columns=["name"]'),
            ("just the file names in {dir}, nothing else",
             'fs.list path={dir}\ntable.select rows="$0" columns=["name"]'),
            ("the pids and names of the {pname} processes",
             'proc.list name={pname}\ntable.select rows="$0" columns=["pid", "name"]'),
            ("names of the processes {user} runs", 'proc.list user={user}\ntable.select rows="$0" columns=["name"]'),
            ("[prev=proc.list] just the pids", 'table.select rows="$prev" columns=["pid"]'),
            ("[prev=proc.list] show only pid and name", 'table.select rows="$prev" columns=["pid", "name"]'),
            ("[prev=proc.list] only the command lines", 'table.select rows="$prev" columns=["cmdline"]'),
            ("[prev=proc.list] pid, user and memory only",
             'table.select rows="$prev" columns=["pid", "user", "rss_bytes"]'),
            ("[prev=fs.find] only the paths", 'table.select rows="$prev" columns=["path"]'),
            ("[prev=fs.list] just the names", 'table.select rows="$prev" columns=["name"]'),
            ("[prev=fs.list] names and types only", 'table.select rows="$prev" columns=["name", "type"]'),
            ("[prev=fs.grep] just the lines", 'table.select rows="$prev" columns=["line"]'),
            ("[prev=fs.grep] only file and line number", 'table.select rows="$prev" columns=["path", "line_number"]'),
        ])

    add("table.count", "Count the rows of an earlier result (like wc -l).", table_count,
        args=S.obj({"rows": rows}, required=["rows"]),
        result=S.obj({"count": S.integer(minimum=0)}, required=["count"]), view=View("record"),
        examples=[
            ("how many are there", {"rows": "$prev"}),
            ("count them", {"rows": "$prev"}),
            ("how many was that", {"rows": "$prev"}),
        ],
        phrasings=[
            ("count the {glob} in {dir}", 'fs.find path={dir} name={glob} type="file"\ntable.count rows="$0"'),
            ("how many {glob} are there in {dir}", 'fs.find path={dir} name={glob} type="file"\ntable.count rows="$0"'),
            ("number of {glob} under {dir}", 'fs.find path={dir} name={glob} type="file"\ntable.count rows="$0"'),
            ("how many files are in {dir}", 'fs.find path={dir} type="file"\ntable.count rows="$0"'),
            ("count the files under {dir}", 'fs.find path={dir} type="file"\ntable.count rows="$0"'),
            ("find {dir} -name {glob} | wc -l", 'fs.find path={dir} name={glob}\ntable.count rows="$0"'),
            ("how many entries does {dir} have", 'fs.list path={dir}\ntable.count rows="$0"'),
            ("how many processes are running", 'proc.list\ntable.count rows="$0"'),
            ("how many processes does {user} have", 'proc.list user={user}\ntable.count rows="$0"'),
            ("how many {pname} processes are there", 'proc.list name={pname}\ntable.count rows="$0"'),
            ("ps aux | wc -l", 'proc.list\ntable.count rows="$0"'),
            ("[prev=fs.find] how many are there", 'table.count rows="$prev"'),
            ("[prev=fs.find] count them", 'table.count rows="$prev"'),
            ("[prev=fs.list] how many is that", 'table.count rows="$prev"'),
            ("[prev=proc.list] how many of them are there", 'table.count rows="$prev"'),
            ("[prev=fs.grep] how many matches was that", 'table.count rows="$prev"'),
            ("[prev=fs.find] | wc -l", 'table.count rows="$prev"'),
        ])

    add("table.sum", "Add up a numeric column of an earlier result (like awk '{s+=$1} END {print s}'), with "
        "its count, smallest, largest and mean.", table_sum,
        args=S.obj({"rows": rows, "column": column}, required=["rows", "column"]),
        result=S.obj({"column": S.string(), "total": S.number(), "count": S.integer(minimum=0),
                      "min": S.number(), "max": S.number(), "mean": S.number()}, required=["column", "total", "count"]),
        view=View("record"),
        examples=[
            ("how much space do they take altogether", {"rows": "$prev", "column": "size_bytes"}),
            ("total lines", {"rows": "$prev", "column": "lines"}),
            ("how much memory do those processes use in total", {"rows": "$prev", "column": "rss_bytes"}),
        ],
        phrasings=[
            ("total size of the {glob} in {dir}",
             'fs.find path={dir} name={glob} type="file" details=true\ntable.sum rows="$0" column="size_bytes"'),
            ("how much space do all the {glob} take up",
             'fs.find name={glob} type="file" details=true\ntable.sum rows="$0" column="size_bytes"'),
            ("add up the sizes of the {glob} under {dir}",
             'fs.find path={dir} name={glob} type="file" details=true\ntable.sum rows="$0" column="size_bytes"'),
            ("how many lines of code are in the {glob} in {dir} in total",
             'fs.find path={dir} name={glob} type="file"\nfs.wc path="$0.path"\ntable.sum rows="$1" column="lines"'),
            ("total line count of all {glob}",
             'fs.find name={glob} type="file"\nfs.wc path="$0.path"\ntable.sum rows="$1" column="lines"'),
            ("how many words are in all the {glob} in {dir} combined",
             'fs.find path={dir} name={glob} type="file"\nfs.wc path="$0.path"\ntable.sum rows="$1" column="words"'),
            ("how much memory do all the {pname} processes use together",
             'proc.list name={pname}\ntable.sum rows="$0" column="rss_bytes"'),
            ("[prev=fs.find] how big are they altogether", 'table.sum rows="$prev" column="size_bytes"'),
            ("[prev=fs.find] total size of those", 'table.sum rows="$prev" column="size_bytes"'),
            ("[prev=fs.list] how much space do they take in total", 'table.sum rows="$prev" column="size_bytes"'),
            ("[prev=proc.list] how much memory do they use in total", 'table.sum rows="$prev" column="rss_bytes"'),
        ])

    add("table.unique", "The distinct values of one column of an earlier result (or the distinct rows), each "
        "with how many times it occurs (like sort | uniq -c), in order of first appearance.", table_unique,
        args=S.obj({
            "rows": rows,
            "column": S.string("the column whose distinct values to give (default: whole rows)", min_length=1,
                               max_length=256),
        }, required=["rows"]),
        examples=[
            ("which users are running them", {"rows": "$prev", "column": "user"}),
            ("what kinds of entries are there", {"rows": "$prev", "column": "type"}),
            ("drop the duplicates", {"rows": "$prev"}),
        ],
        phrasings=[
            ("which users are running processes", 'proc.list\ntable.unique rows="$0" column="user"'),
            ("how many processes does each user have", 'proc.list\ntable.unique rows="$0" column="user"'),
            ("distinct names of the running processes", 'proc.list\ntable.unique rows="$0" column="name"'),
            ("the most common process names",
             'proc.list\ntable.unique rows="$0" column="name"\ntable.sort rows="$1" by="count" order="desc"'),
            ("ps -eo user | sort | uniq -c", 'proc.list\ntable.unique rows="$0" column="user"'),
            ("[prev=proc.list] which users are running them", 'table.unique rows="$prev" column="user"'),
            ("[prev=proc.list] how many of each name", 'table.unique rows="$prev" column="name"'),
            ("[prev=proc.list] which states are they in", 'table.unique rows="$prev" column="status"'),
            ("[prev=fs.find] what types are there", 'table.unique rows="$prev" column="type"'),
            ("[prev=fs.list] how many of each type", 'table.unique rows="$prev" column="type"'),
            ("[prev=fs.grep] which files matched", 'table.unique rows="$prev" column="path"'),
            ("[prev=fs.grep] which different lines are there", 'table.unique rows="$prev" column="line"'),
            ("[prev=fs.find] remove the duplicates", 'table.unique rows="$prev"'),
            ("[prev=fs.grep] | sort | uniq -c", 'table.unique rows="$prev" column="line"'),
        ])

    registry.syscall(
        "table.save",
        "Save the rows of an earlier result, or convert a CSV, TSV or JSON file, as a JSON, JSON Lines, CSV or "
        "TSV file (the format from the name's suffix unless given); undoable like fs.write.",
        args=S.obj({
            "rows": S.rows("the rows to save: write \"$0\" for step 0's table, \"$prev\" for the previous "
                           "result's"),
            "source": S.path("instead of rows: a CSV, TSV, JSON or JSON Lines file to convert (all of it)"),
            "path": S.path("the file to write (default with source: the source's name with the format's suffix)",
                           new=True),
            "format": S.enum(list(SAVE_FORMATS), "json (a list of objects), jsonl (one object a line), csv or tsv "
                             "(a header line, then one line a row); default: from the path's suffix",
                             words={"json": ["json"], "jsonl": ["jsonl", "json lines", "lines", "ndjson"],
                                    "csv": ["csv", "comma"], "tsv": ["tsv", "tab", "tabs"]}),
            "no_clobber": S.boolean("refuse if the file already exists"),
        }),
        result=S.obj({"path": S.string(), "format": S.enum(list(SAVE_FORMATS)), "count": S.integer(minimum=0),
                      "columns": S.array(S.string(), max_items=10**6), "bytes_written": S.integer(minimum=0),
                      "created": S.boolean()}, required=["path", "format", "count", "bytes_written"]),
        capability="fs.write", risk=Risk.WRITE, undoable=True, preview=pv_save, view=View("record"),
        examples=[
            ("convert data.csv to json", {"source": "data.csv", "format": "json"}),
            ("save that list as files.csv", {"rows": "$prev", "path": "files.csv"}),
            ("write those processes to procs.json", {"rows": "$prev", "path": "procs.json"}),
            ("turn users.json into a csv called users.csv", {"source": "users.json", "path": "users.csv"}),
        ],
        phrasings=[
            ("convert {csv} to json", 'table.save source={csv} format="json"'),
            ("convert the spreadsheet {csv} to a json file", 'table.save source={csv} format="json"'),
            ("convert {csv} to json lines", 'table.save source={csv} format="jsonl"'),
            ("convert {csv} to json and save it as {name}.json",
             'table.save source={csv} path="{name}.json"'),
            ("save {csv} as a tsv", 'table.save source={csv} format="tsv"'),
            ("convert {name}.json to csv", 'table.save source="{name}.json" format="csv"'),
            ("turn {name}.json into a csv file", 'table.save source="{name}.json" format="csv"'),
            ("export {csv} as json without overwriting anything",
             'table.save source={csv} format="json" no_clobber=true'),
            ("[prev=fs.find] save that list as {name}.csv", 'table.save rows="$prev" path="{name}.csv"'),
            ("[prev=fs.find] save them to a csv file called {name}.csv", 'table.save rows="$prev" path="{name}.csv"'),
            ("[prev=fs.list] write that table to {name}.json", 'table.save rows="$prev" path="{name}.json"'),
            ("[prev=proc.list] export this as json to {name}.json", 'table.save rows="$prev" path="{name}.json"'),
            ("[prev=text.csv] save it as json in {name}.json", 'table.save rows="$prev" path="{name}.json"'),
            ("[prev=fs.duplicates] save the list of duplicates as {name}.csv",
             'table.save rows="$prev" path="{name}.csv"'),
            ("list the running processes and save them to {name}.csv",
             'proc.list\ntable.save rows="$0" path="{name}.csv"'),
            ("find all {glob} in {dir} and save the list as {name}.csv",
             'fs.find path={dir} name={glob} type="file"\ntable.save rows="$0" path="{name}.csv"'),
            ("sort {csv} by {column} and save it as {name}.csv",
             'text.csv path={csv}\ntable.sort rows="$0" by={column}\ntable.save rows="$1" path="{name}.csv"'),
            ("save the rows of {csv} where {column} is {text} to {name}.csv",
             'text.csv path={csv}\ntable.filter rows="$0" column={column} op="eq" value={text}\n'
             'table.save rows="$1" path="{name}.csv"'),
        ],
    )(table_save)
