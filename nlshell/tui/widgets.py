"""Textual widgets that show results as data: tables, trees, records, text, gauges.

Every widget is built from a ``SyscallResult`` and its spec's ``View``; the
cells are formatted with ``nlshell.render.format_value`` so the TUI and the
line mode agree on units.  Large results render a page at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.console import RenderableType
from rich.syntax import Syntax
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, DataTable, Label, LoadingIndicator, ProgressBar, Static, Tree
from textual.widgets.tree import TreeNode

from models.plan import Plan
from nlshell import render
from syscalls.display import escape_for_display
from syscalls.types import SyscallRequest, SyscallResult, View

ROW_PAGE = 100
TEXT_PAGE = 200
TREE_NODES = 400


def columns_of(rows: Sequence[Mapping[str, Any]], preferred: Sequence[str] = ()) -> list[str]:
    """The columns of a table view: ``preferred`` (those present) or every scalar field in order."""
    if preferred:
        cols = [c for c in preferred if any(c in r for r in rows)]
        if cols:
            return cols
    cols = []
    for row in rows:
        for key, value in row.items():
            if key in cols or isinstance(value, dict):
                continue
            if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
                continue
            cols.append(key)
    return cols


def sort_key(value: Any) -> tuple[int, Any]:
    """Raw values sort numbers numerically, strings by text, missing values last."""
    if value is None:
        return (2, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value)
    return (1, str(value).lower())


def _numeric(rows: Sequence[Mapping[str, Any]], col: str) -> bool:
    return any(isinstance(r.get(col), (int, float)) and not isinstance(r.get(col), bool) for r in rows)


class ResultTable(Vertical):
    """A sortable table over raw rows: click a header or press ``s`` on a column to sort by it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("s", "sort_cursor", "sort", show=False),
                Binding("m", "more", "more rows", show=False)]

    def __init__(self, rows: Sequence[Mapping[str, Any]], columns: Sequence[str] = (), *,
                 page: int = ROW_PAGE, id: str | None = None) -> None:
        super().__init__(id=id, classes="result-table")
        self.rows: list[Mapping[str, Any]] = list(rows)
        self.columns = columns_of(self.rows, columns)
        self.page = page
        self.shown = min(page, len(self.rows))
        self.sort_column: str | None = None
        self.reverse = False
        self._numeric = {c: _numeric(self.rows, c) for c in self.columns}

    def compose(self) -> ComposeResult:
        table: DataTable[Text] = DataTable(zebra_stripes=True, cursor_type="cell")
        yield table
        if self.shown < len(self.rows):
            yield Button(self._more_label(), id="more", classes="more")

    def _more_label(self) -> str:
        return f"show more ({len(self.rows) - self.shown} more rows)"

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one(DataTable)

    def on_mount(self) -> None:
        for col in self.columns:
            self.table.add_column(self._header(col), key=col)
        self._add_rows(0, self.shown)

    def _header(self, col: str) -> Text:
        mark = ""
        if col == self.sort_column:
            mark = " ▼" if self.reverse else " ▲"
        return Text(col + mark, justify="right" if self._numeric[col] else "left")

    def _cells(self, row: Mapping[str, Any]) -> list[Text]:
        return [Text(render.format_value(c, row.get(c)), justify="right" if self._numeric[c] else "left")
                for c in self.columns]

    def _add_rows(self, start: int, stop: int) -> None:
        for row in self.rows[start:stop]:
            self.table.add_row(*self._cells(row))

    def sort_by(self, column: str, reverse: bool | None = None) -> None:
        if column not in self.columns:
            return
        if reverse is None:
            reverse = not self.reverse if column == self.sort_column else False
        self.sort_column, self.reverse = column, reverse
        self.rows.sort(key=lambda r: sort_key(r.get(column)), reverse=reverse)
        table = self.table
        cursor_column = table.cursor_column
        table.clear(columns=True)
        for col in self.columns:
            table.add_column(self._header(col), key=col)
        self._add_rows(0, self.shown)
        table.move_cursor(row=0, column=cursor_column)

    @on(DataTable.HeaderSelected)
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        key = event.column_key.value
        if key is not None:
            self.sort_by(key)

    def action_sort_cursor(self) -> None:
        index = self.table.cursor_column
        if 0 <= index < len(self.columns):
            self.sort_by(self.columns[index])

    def action_more(self) -> None:
        if self.shown >= len(self.rows):
            return
        start, self.shown = self.shown, min(self.shown + self.page, len(self.rows))
        self._add_rows(start, self.shown)
        buttons = self.query("#more")
        if self.shown >= len(self.rows):
            buttons.remove()
        else:
            for b in buttons.results(Button):
                b.label = self._more_label()

    @on(Button.Pressed, "#more")
    def _more_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_more()


def node_label(node: Mapping[str, Any], keys: Sequence[str] = ("name", "pid", "path")) -> str:
    parts = [render.format_value(k, node[k]) for k in keys if k in node]
    if parts:
        return "  ".join(parts)
    return escape_for_display(str({k: v for k, v in node.items() if k != "children"}))[:120]


class ResultTree(Tree[dict[str, Any]]):
    """Nested nodes (children under ``children``), built iteratively and capped."""

    def __init__(self, nodes: Sequence[Mapping[str, Any]], *, limit: int = TREE_NODES) -> None:
        super().__init__(".", classes="result-tree")
        self.show_root = False
        self.node_count = 0
        stack: list[tuple[TreeNode[dict[str, Any]], Mapping[str, Any], int]] = [
            (self.root, n, 0) for n in reversed(list(nodes))]
        left = 0
        while stack:
            parent, node, depth = stack.pop()
            if self.node_count >= limit:
                left += 1
                continue
            children = [c for c in (node.get("children") or []) if isinstance(c, Mapping)]
            label = node_label(node)
            if children:
                branch = parent.add(label, data=dict(node), expand=depth < 2)
                stack.extend((branch, c, depth + 1) for c in reversed(children))
            else:
                parent.add_leaf(label, data=dict(node))
            self.node_count += 1
        if left:
            self.root.add_leaf(f"… {left} more nodes (narrow the request to see them)")
        self.root.expand()


class Gauge(Horizontal):
    """A labelled percentage bar (disk, memory)."""

    def __init__(self, label: str, percent: float, *, detail: str = "") -> None:
        super().__init__(classes="gauge")
        self.label = label
        self.percent = percent
        self.detail = detail

    def compose(self) -> ComposeResult:
        yield Label(self.label, classes="gauge-label")
        bar = ProgressBar(total=100, show_eta=False, show_percentage=True)
        bar.progress = max(0.0, min(100.0, self.percent))
        yield bar
        if self.detail:
            yield Label(self.detail, classes="gauge-detail")

    def set(self, percent: float, detail: str = "") -> None:
        self.percent = percent
        self.query_one(ProgressBar).progress = max(0.0, min(100.0, percent))
        if detail:
            for lab in self.query(".gauge-detail").results(Label):
                lab.update(detail)


def gauges_for(data: Mapping[str, Any], rows: Sequence[Mapping[str, Any]] = ()) -> list[Gauge]:
    """Gauges for usage figures: ``percent`` / ``*_percent`` fields, and rows with a ``percent``."""
    out: list[Gauge] = []
    for key, value in data.items():
        if (key == "percent" or key.endswith("_percent")) and isinstance(value, (int, float)):
            out.append(Gauge(key, float(value)))
    for row in rows[:8]:
        pct = row.get("percent")
        if isinstance(pct, (int, float)) and not isinstance(pct, bool):
            name = next((str(row[k]) for k in ("mountpoint", "device", "name", "path") if k in row), "?")
            detail = ""
            if isinstance(row.get("used_bytes"), int) and isinstance(row.get("total_bytes"), int):
                detail = f"{render.human_size(row['used_bytes'])} / {render.human_size(row['total_bytes'])}"
            out.append(Gauge(escape_for_display(name)[:16], float(pct), detail=detail))
    return out


class TextResult(Vertical):
    """File text with syntax colouring, a page of lines at a time."""

    def __init__(self, text: str, *, language: str = "", path: str = "", page: int = TEXT_PAGE) -> None:
        super().__init__(classes="result-text")
        self.lines = render.sanitize_text(text).split("\n")
        self.language = language or (Syntax.guess_lexer(path, text) if path else "text")
        self.page = page
        self.shown = min(page, len(self.lines))

    def _renderable(self) -> RenderableType:
        return Syntax("\n".join(self.lines[: self.shown]), self.language, word_wrap=True,
                      theme="ansi_dark", background_color="default")

    def compose(self) -> ComposeResult:
        yield Static(self._renderable(), classes="text-body")
        if self.shown < len(self.lines):
            yield Button(f"show more ({len(self.lines) - self.shown} more lines)", id="more", classes="more")

    @on(Button.Pressed, "#more")
    def _more(self, event: Button.Pressed) -> None:
        event.stop()
        self.shown = min(self.shown + self.page, len(self.lines))
        self.query_one(".text-body", Static).update(self._renderable())
        if self.shown >= len(self.lines):
            event.button.remove()
        else:
            event.button.label = f"show more ({len(self.lines) - self.shown} more lines)"


def result_widgets(res: SyscallResult, view: View | None) -> list[Widget]:
    """The widgets for one result, chosen by its spec's view."""
    view = view or View()
    if res.error is not None:
        return [Static(render.error(res.error, status=res.status), classes="result-error")]
    data = res.data or {}
    if res.status == "dry-run":
        return [Static(render.result(res, view), classes="result-record")]
    out: list[Widget] = []
    rest: dict[str, Any] = {}
    if view.kind == "table" and isinstance(data.get(view.key), list):
        rows = [r for r in data[view.key] if isinstance(r, Mapping)]
        if rows:
            out.append(ResultTable(rows, view.columns))
            out.extend(gauges_for({}, rows))
        else:
            out.append(Static("(no matches)", classes="result-empty"))
        rest = {k: v for k, v in data.items() if k not in (view.key, "truncated")}
    elif view.kind == "tree" and isinstance(data.get(view.key), list):
        out.append(ResultTree(data[view.key]))
        rest = {k: v for k, v in data.items() if k not in (view.key, "truncated")}
    elif view.kind == "text" and isinstance(data.get(view.key), str):
        out.append(TextResult(data[view.key], language=str(data.get("language") or ""),
                              path=str(data.get("path") or "")))
        rest = {k: v for k, v in data.items() if k not in (view.key, "truncated", "language")}
    elif view.kind == "answer":
        out.append(Static(Text(escape_for_display(str(data.get(view.key or "text", "")))), classes="result-answer"))
    else:
        out.append(Static(render.record(data), classes="result-record"))
        out.extend(gauges_for(data))
    if rest:
        out.append(Static(render.record(rest), classes="result-record"))
    if res.truncated or data.get("truncated"):
        out.append(Static(Text("(truncated: narrow the request or raise the limit to see more)", style="dim")))
    return out


ViewLookup = Callable[[str], View | None]


class JobView(Vertical):
    """One transcript entry: the intent, a spinner, the plan, the results, the outcome."""

    class UndoRequested(Message):
        def __init__(self, view: JobView) -> None:
            super().__init__()
            self.view = view

    def __init__(self, text: str, *, views: ViewLookup, risks: Callable[[str], str] | None = None) -> None:
        super().__init__(classes="job")
        self.text = text
        self.views = views
        self.risks = risks
        self.seen: set[str] = set()
        self.results: list[SyscallResult] = []
        self.status = "queued"

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble(("› ", "bold"), escape_for_display(self.text)), classes="intent")
        with Horizontal(classes="busy"):
            yield LoadingIndicator()
            yield Label("queued", classes="busy-label")
        yield Vertical(classes="body")

    @property
    def body(self) -> Vertical:
        return self.query_one(".body", Vertical)

    def busy(self, label: str | None, *, spinning: bool = True) -> None:
        """Show ``label`` (with the spinner while work runs), or hide the row when ``label`` is None."""
        row = self.query_one(".busy", Horizontal)
        row.display = label is not None
        self.query_one(LoadingIndicator).display = spinning
        if label is not None:
            self.query_one(".busy-label", Label).update(label)

    def show_plan(self, plan: Plan) -> None:
        risks = {s.call: self.risks(s.call) for s in plan.steps} if self.risks else None
        self.body.mount(Static(render.plan(plan, risks=risks), classes="plan"))

    def step_started(self, index: int, request: SyscallRequest | None) -> None:
        what = request.call if request else f"step {index + 1}"
        self.busy(f"running {what}…")

    def add_result(self, res: SyscallResult) -> None:
        if res.request.id in self.seen:
            return
        self.seen.add(res.request.id)
        self.results.append(res)
        self.body.mount(*result_widgets(res, self.views(res.request.call)))

    def note(self, renderable: RenderableType, classes: str = "note") -> None:
        self.body.mount(Static(renderable, classes=classes))

    def finish(self, status: str, message: RenderableType | None = None, *, undoable: bool = False) -> None:
        self.status = status
        self.busy(None)
        self.add_class(f"status-{status}")
        if message is not None:
            self.note(message, classes=f"outcome outcome-{status}")
        if undoable:
            self.body.mount(Button("undo", classes="undo", variant="warning"))

    @on(Button.Pressed, ".undo")
    def _undo(self, event: Button.Pressed) -> None:
        event.stop()
        event.button.disabled = True
        self.post_message(self.UndoRequested(self))


@dataclass
class MonitorSample:
    memory_percent: float
    memory_detail: str
    disks: list[dict[str, Any]]
    procs: list[dict[str, Any]]


class PsutilSampler:
    """Top processes by CPU and memory/disk usage; keeps Process objects so CPU% is a real delta."""

    def __init__(self, top: int = 12) -> None:
        self.top = top

    def __call__(self) -> MonitorSample:
        import psutil

        procs = []
        for p in psutil.process_iter(["pid", "name"]):
            try:
                cpu = p.cpu_percent(None)
                procs.append({"pid": p.info["pid"], "name": p.info["name"] or "?", "cpu_percent": cpu})
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        procs.sort(key=lambda r: (-r["cpu_percent"], r["pid"]))
        mem = psutil.virtual_memory()
        disks = []
        for part in psutil.disk_partitions(all=False)[:6]:
            try:
                usage = psutil.disk_usage(part.mountpoint)
            except OSError:
                continue
            disks.append({"mountpoint": part.mountpoint, "percent": usage.percent,
                          "used_bytes": usage.used, "total_bytes": usage.total})
        return MonitorSample(
            memory_percent=mem.percent,
            memory_detail=f"{render.human_size(mem.used)} / {render.human_size(mem.total)}",
            disks=disks,
            procs=procs[: self.top],
        )


class Monitor(Vertical):
    """The side panel (F2): top processes by CPU, memory and disk gauges, sampled in a thread."""

    class Sampled(Message):
        def __init__(self, sample: MonitorSample) -> None:
            super().__init__()
            self.sample = sample

    def __init__(self, source: Callable[[], MonitorSample], *, interval: float = 2.0,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.source = source
        self.interval = interval
        self.samples = 0

    def compose(self) -> ComposeResult:
        yield Label("memory", classes="monitor-title")
        yield Gauge("mem", 0.0, detail="")
        yield Label("disks", classes="monitor-title")
        yield Vertical(classes="disks")
        yield Label("top processes (CPU)", classes="monitor-title")
        table: DataTable[Text] = DataTable(cursor_type="none", classes="procs")
        yield table

    def on_mount(self) -> None:
        table = self.query_one(".procs", DataTable)
        table.add_column("pid", key="pid")
        table.add_column("name", key="name")
        table.add_column("cpu%", key="cpu")
        self.set_interval(self.interval, self.refresh_sample)

    def refresh_sample(self) -> None:
        if not self.display:
            return
        self.run_worker(self._collect, thread=True, exclusive=True, group="monitor")

    def _collect(self) -> None:
        sample = self.source()
        self.post_message(self.Sampled(sample))

    @on(Sampled)
    def _apply(self, event: Monitor.Sampled) -> None:
        event.stop()
        sample = event.sample
        self.samples += 1
        self.query_one(Gauge).set(sample.memory_percent, sample.memory_detail)
        disks = self.query_one(".disks", Vertical)
        disks.remove_children()
        disks.mount(*gauges_for({}, sample.disks))
        table = self.query_one(".procs", DataTable)
        table.clear()
        for p in sample.procs:
            table.add_row(Text(str(p["pid"]), justify="right"), Text(escape_for_display(str(p["name"]))[:18]),
                          Text(f"{p['cpu_percent']:.1f}", justify="right"))

