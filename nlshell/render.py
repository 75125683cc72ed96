"""Rich renderables for results, plans and errors, shared by every front end.

Results are data; this module is the only place that turns them into text.
Field names carry their units, and formatting keys on them: ``*_bytes`` →
human sizes, ``*time`` / ``*_at`` epoch seconds → relative and absolute
times, ``*_percent`` → percentages.  ``plain=True`` (stdout is not a TTY)
drops boxes and colour so the output stays easy to ``grep`` and ``awk``.
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from models.plan import Plan
from syscalls.display import escape_for_display
from syscalls.types import SyscallResult, View

_TIME_FIELDS = {"mtime", "atime", "ctime", "create_time", "boot_time", "started", "deleted_at", "time"}
_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
_MAX_CELL = 200


def human_size(n: float | int) -> str:
    value = float(n)
    for unit in _UNITS:
        if abs(value) < 1024 or unit == _UNITS[-1]:
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} PiB"  # pragma: no cover - loop always returns


def human_duration(seconds: float) -> str:
    s = abs(seconds)
    for limit, div, unit in ((60, 1, "s"), (3600, 60, "min"), (86400, 3600, "h"), (86400 * 60, 86400, "d")):
        if s < limit:
            return f"{s / div:.0f} {unit}"
    return f"{s / (86400 * 30):.0f} mo"


def human_time(epoch: float, now: float | None = None) -> str:
    now = time.time() if now is None else now
    delta = now - epoch
    absolute = _dt.datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M")
    rel = human_duration(delta)
    return f"{absolute} ({rel} ago)" if delta >= 0 else f"{absolute} (in {rel})"


def format_value(key: str, value: Any, now: float | None = None) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        if key.endswith("_bytes") or key in ("size", "bytes"):
            return human_size(value)
        if (key in _TIME_FIELDS or key.endswith("_time") or key.endswith("_at")) and value > 1e8:
            return human_time(float(value), now)
        if key.endswith("_percent") or key == "percent":
            return f"{value:.1f}%"
        if key.endswith("_s") and isinstance(value, float):
            return human_duration(value)
        if isinstance(value, float):
            return f"{value:.2f}"
        return str(value)
    if isinstance(value, (list, tuple)):
        if all(not isinstance(v, (dict, list)) for v in value):
            return escape_for_display(" ".join(str(v) for v in value))[:_MAX_CELL]
        return f"[{len(value)} items]"
    if isinstance(value, dict):
        return escape_for_display(", ".join(f"{k}={format_value(k, v, now)}" for k, v in value.items()))[:_MAX_CELL]
    return escape_for_display(str(value))[:_MAX_CELL]


def _columns(rows: Sequence[Mapping[str, Any]], preferred: Sequence[str]) -> list[str]:
    if preferred:
        return [c for c in preferred if any(c in r for r in rows)]
    cols: list[str] = []
    for row in rows:
        for key, value in row.items():
            if (key not in cols and not isinstance(value, (dict, list))) or (
                key not in cols and isinstance(value, list) and all(not isinstance(v, dict) for v in value)
            ):
                cols.append(key)
    return cols


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] = (), *, title: str = "",
          plain: bool = False, now: float | None = None) -> Table:
    cols = _columns(rows, columns)
    t = Table(
        title=title or None,
        box=None if plain else box.SIMPLE_HEAD,
        show_edge=not plain,
        pad_edge=False,
        header_style="" if plain else "bold",
    )
    for col in cols:
        numeric = any(isinstance(r.get(col), (int, float)) and not isinstance(r.get(col), bool) for r in rows)
        t.add_column(col, justify="right" if numeric else "left", overflow="fold")
    for row in rows:
        t.add_row(*(Text(format_value(c, row.get(c), now)) for c in cols))
    return t


def record(data: Mapping[str, Any], *, title: str = "", plain: bool = False,
           now: float | None = None) -> RenderableType:
    t = Table(box=None, show_header=False, pad_edge=False, title=title or None)
    t.add_column("key", style="" if plain else "bold cyan", no_wrap=True)
    t.add_column("value", overflow="fold")
    nested: list[RenderableType] = []
    for key, value in data.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            nested.append(table(value, title=key, plain=plain, now=now))
            continue
        if isinstance(value, dict) and value and any(isinstance(v, (dict, list)) for v in value.values()):
            nested.append(record(value, title=key, plain=plain, now=now))
            continue
        t.add_row(key, Text(format_value(key, value, now)))
    return Group(t, *nested) if nested else t


def tree(nodes: Iterable[Mapping[str, Any]], *, label_keys: Sequence[str] = ("name", "pid", "path"),
         plain: bool = False) -> Tree:
    root = Tree(".", guide_style="" if plain else "dim")

    def label(node: Mapping[str, Any]) -> str:
        parts = [format_value(k, node[k]) for k in label_keys if k in node]
        return "  ".join(parts) or escape_for_display(str({k: v for k, v in node.items() if k != "children"}))

    stack: list[tuple[Tree, Mapping[str, Any]]] = [(root, n) for n in reversed(list(nodes))]
    while stack:  # iterative: deep trees must not hit the recursion limit
        parent, node = stack.pop()
        branch = parent.add(Text(label(node)))
        children = node.get("children") or []
        stack.extend((branch, c) for c in reversed(children) if isinstance(c, Mapping))
    return root


def result(res: SyscallResult, view: View | None = None, *, plain: bool = False,
           now: float | None = None) -> RenderableType:
    """Render one result by its spec's view; errors and dry-runs have their own shapes."""
    if res.error is not None:
        return error(res.error, status=res.status, plain=plain)
    data = res.data or {}
    view = view or View()
    if res.status == "dry-run":
        return Group(Text("dry run — nothing changed; this would happen:", style="" if plain else "yellow"),
                     record(data, plain=plain, now=now))
    parts: list[RenderableType] = []
    if view.kind == "table" and isinstance(data.get(view.key), list):
        rows = data[view.key]
        if rows:
            parts.append(table(rows, view.columns, plain=plain, now=now))
        else:
            parts.append(Text("(no matches)"))
        rest = {k: v for k, v in data.items() if k not in (view.key, "truncated")}
        if rest:
            parts.append(record(rest, plain=plain, now=now))
    elif view.kind == "tree" and isinstance(data.get(view.key), list):
        parts.append(tree(data[view.key], plain=plain))
    elif view.kind == "text" and isinstance(data.get(view.key), str):
        text = sanitize_text(data[view.key])
        lexer = str(data.get("language") or "")
        if lexer and not plain:
            from rich.syntax import Syntax  # pygments: imported only for text that is highlighted

            parts.append(Syntax(text, lexer, word_wrap=True))
        else:
            parts.append(Text(text))
        rest = {k: v for k, v in data.items() if k not in (view.key, "truncated", "language")}
        if rest and not plain:
            parts.append(record(rest, plain=plain, now=now))
    elif view.kind == "answer":
        parts.append(Text(escape_for_display(str(data.get(view.key or "text", "")))))
    else:
        parts.append(record(data, plain=plain, now=now))
    if res.truncated or data.get("truncated"):
        parts.append(Text("(truncated: narrow the request or raise the limit to see more)",
                          style="" if plain else "dim"))
    return Group(*parts) if len(parts) > 1 else parts[0]


def sanitize_text(text: str) -> str:
    """File contents for the screen: tabs as four spaces, line breaks kept, each line through
    ``escape_for_display``."""
    return "\n".join(escape_for_display(line.replace("\t", "    ")) for line in text.split("\n"))


def error(err: Mapping[str, Any], *, status: str = "failed", plain: bool = False) -> RenderableType:
    label = {"denied": "denied", "invalid": "invalid request", "cancelled": "cancelled"}.get(status, "failed")
    msg = Text()
    msg.append(f"{label}: ", style="" if plain else "bold red")
    msg.append(escape_for_display(str(err.get("message", ""))))
    if err.get("target"):
        msg.append(f" [{escape_for_display(str(err['target']))}]")
    if err.get("hint"):
        msg.append(f"\n  {escape_for_display(str(err['hint']))}", style="" if plain else "dim")
    return msg


def describe_step(call: str, args: Mapping[str, Any]) -> str:
    """A plan step in plain words: ``fs.delete  path='/tmp/x' recursive=true``."""
    parts = []
    for key, value in args.items():
        shown = format_value(key, value) if not isinstance(value, str) else repr(escape_for_display(value))
        parts.append(f"{key}={shown}")
    return f"{call}  " + " ".join(parts) if parts else call


def plan(p: Plan, *, plain: bool = False, risks: Mapping[str, str] | None = None) -> RenderableType:
    t = Table(box=None, show_header=False, pad_edge=False)
    t.add_column("n", justify="right", style="" if plain else "dim")
    t.add_column("step", overflow="fold")
    t.add_column("risk", style="" if plain else "yellow")
    for i, step in enumerate(p.steps):
        risk = (risks or {}).get(step.call, "")
        t.add_row(str(i + 1), escape(describe_step(step.call, step.args)), risk if risk != "read" else "")
    title = Text(f"plan for: {escape_for_display(p.intent)}", style="" if plain else "bold")
    body: RenderableType = t
    if p.located:  # the paths the planner found for names the request gave loosely
        found = Text("found: " + "; ".join(escape_for_display(n) for n in p.located), style="" if plain else "cyan")
        body = Group(t, found)
    return Group(title, body) if plain else Panel(body, title=title, title_align="left", box=box.ROUNDED)
