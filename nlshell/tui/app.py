"""The Textual TUI: an input line, a transcript of jobs, a status bar and a monitor panel.

The app talks only to the kernel: it submits ``Intent``s and receives each
job's events on a thread worker, which posts them to the app as messages
(``JobEvent``); widgets are touched only on the app's thread.  Approval is a
modal screen the kernel's worker thread waits on.

``create_app`` is the one factory shared by the CLI, ``python -m nlshell.tui``
and the snapshot tests; ``run_tui`` runs it and closes the kernel.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Header, Input, Static

from nlshell import events as ev
from nlshell import render
from nlshell.envelope import overall_status
from nlshell.tui import common
from nlshell.tui.screens import ApprovalScreen, HistorySearchScreen
from nlshell.tui.widgets import JobView, Monitor, MonitorSample, PsutilSampler
from syscalls.display import escape_for_display
from syscalls.registry import Registry
from syscalls.types import Answer, Question, SyscallResult, View


class PromptInput(Input):
    """The intent line: Up/Down walk the history, Tab completes paths and slash commands."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "history(-1)", "previous", show=False),
        Binding("down", "history(1)", "next", show=False),
        Binding("tab", "complete", "complete", show=False, priority=True),
    ]

    class Completed(Message):
        def __init__(self, options: list[str]) -> None:
            super().__init__()
            self.options = options

    def __init__(self, history: list[str], cwd: Callable[[], Path], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.history = history  # oldest first
        self.cwd = cwd
        self._pos = len(history)
        self._draft = ""

    def remember(self, text: str) -> None:
        if not self.history or self.history[-1] != text:
            self.history.append(text)
        self._pos = len(self.history)
        self._draft = ""

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        if self._pos == len(self.history):
            self._draft = self.value
        self._pos = max(0, min(len(self.history), self._pos + step))
        self.value = self._draft if self._pos == len(self.history) else self.history[self._pos]
        self.cursor_position = len(self.value)

    def action_complete(self) -> None:
        before = self.value[: self.cursor_position]
        after = self.value[self.cursor_position:]
        new, options = common.complete_line(before, self.cwd())
        self.value = new + after
        self.cursor_position = len(new)
        self.post_message(self.Completed(options))


class JobEvent(Message):
    """A kernel event for the job shown by ``view`` (posted from the job's pump thread)."""

    def __init__(self, view: JobView, event: ev.Event) -> None:
        super().__init__()
        self.view = view
        self.event = event


@dataclass(eq=False)
class Running:
    """A submitted job, its transcript entry and any approval modal it is waiting on."""

    job: Any
    view: JobView
    screens: list[ApprovalScreen] = field(default_factory=list)
    cancelled: bool = False


def _empty_sample() -> MonitorSample:
    return MonitorSample(0.0, "", [], [])


class NlshApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "nlsh"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "quit", priority=True),
        Binding("ctrl+c", "cancel_job", "cancel", priority=True),
        Binding("escape", "cancel_job", "cancel"),
        Binding("f2", "toggle_monitor", "monitor"),
        Binding("ctrl+r", "history_search", "history"),
    ]

    def __init__(
        self,
        kernel: common.KernelLike,
        *,
        cwd: Path,
        session: str = "default",
        model: str = "",
        history_file: Path | None = None,
        monitor_source: Callable[[], MonitorSample] | None = None,
        monitor_interval: float = 2.0,
        view_of: Callable[[str], View | None] | None = None,
        risk_of: Callable[[str], str] | None = None,
    ) -> None:
        super().__init__()
        self.kernel = kernel
        self.cwd = Path(cwd)
        self.session = session
        self.model = model or str(getattr(kernel, "model_name", "") or "")
        self.history_store = common.open_history(common.history_path(history_file))
        self.monitor_source = monitor_source or PsutilSampler()
        self.monitor_interval = monitor_interval
        self.registry = common.kernel_registry(kernel)
        self.view_of = view_of or functools.partial(common.registry_view, self.registry)
        self.risk_of = risk_of or functools.partial(common.registry_risk, self.registry)
        self.running: list[Running] = []
        self.stats = ev.Stats(job=0, model=self.model)
        self._quitting = threading.Event()

    # ---- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="›")
        with Horizontal(id="main"):
            yield VerticalScroll(id="transcript")
            monitor = Monitor(self.monitor_source, interval=self.monitor_interval, id="monitor")
            monitor.display = False
            yield monitor
        with Vertical(id="bottom"):
            yield Static("", id="hint")
            history = list(reversed(list(self.history_store.load_history_strings())))
            yield PromptInput(history, lambda: self.cwd, id="prompt",
                              placeholder="say what you want, or /help")
            yield Static("", id="statusbar")

    def on_mount(self) -> None:
        self._update_header()
        self._update_status()
        self.query_one("#hint", Static).display = False
        self.query_one(PromptInput).focus()

    def _update_header(self) -> None:
        self.title = f"nlsh · {self.model}" if self.model else "nlsh"
        self.sub_title = str(self.cwd)

    def _update_status(self) -> None:
        s = self.stats
        active = sum(1 for r in self.running if not r.cancelled)
        parts = [f"{s.tokens_per_s:.1f} tok/s", f"queue {s.queue_depth}", f"running {active}"]
        parts.append("Esc cancel · F2 monitor · ^R history · ^Q quit")
        self.query_one("#statusbar", Static).update(" · ".join(parts))

    @property
    def transcript(self) -> VerticalScroll:
        return self.query_one("#transcript", VerticalScroll)

    def _say(self, renderable: RenderableType, classes: str = "note") -> None:
        self.transcript.mount(Static(renderable, classes=classes))
        self.transcript.scroll_end(animate=False)

    # ---- input ----------------------------------------------------------------------------

    @on(Input.Submitted, "#prompt")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        prompt = self.query_one(PromptInput)
        prompt.value = ""
        self._hint(None)
        if not text:
            return
        prompt.remember(text)
        self.history_store.store_string(text)
        slash = common.parse_slash(text)
        if slash is not None:
            self.run_slash(slash)
        else:
            self.submit_intent(text)

    @on(PromptInput.Completed)
    def _completed(self, event: PromptInput.Completed) -> None:
        if len(event.options) > 1:
            shown = "  ".join(o.rstrip("/").rsplit("/", 1)[-1] + ("/" if o.endswith("/") else "")
                              for o in event.options[:40])
            self._hint(shown)
        elif not event.options:
            self._hint("no completions")
        else:
            self._hint(None)

    def _hint(self, text: str | None) -> None:
        hint = self.query_one("#hint", Static)
        hint.display = text is not None
        hint.update(Text(escape_for_display(text or "")))

    # ---- jobs --------------------------------------------------------------------------------

    def submit_intent(self, text: str) -> None:
        view = JobView(text, views=self.view_of, risks=self.risk_of)
        self.transcript.mount(view)
        self.transcript.scroll_end(animate=False)
        intent = ev.Intent(text=text, session=self.session, cwd=self.cwd)
        run = Running(job=None, view=view)
        try:
            run.job = self.kernel.submit(intent, approve=lambda q: self._approve(run, q))
        except Exception as exc:  # the kernel refused the intent (closed, queue full): show why
            view.finish("failed", render.error({"message": str(exc)}, status="failed"))
            return
        self.running.append(run)
        self._update_status()
        self.run_worker(lambda: self._pump(run), thread=True, group="jobs", name=f"job: {text[:30]}")

    def _pump(self, run: Running) -> None:
        """Thread worker: forward the job's events to the app until the terminal one."""
        events: Iterator[ev.Event] = run.job.events()
        for event in events:
            self.post_message(JobEvent(run.view, event))
            if event.terminal:
                break

    @on(JobEvent)
    def _job_event(self, message: JobEvent) -> None:
        view, event = message.view, message.event
        if isinstance(event, ev.Queued):
            view.busy(f"queued (position {event.position})" if event.position else "queued")
        elif isinstance(event, ev.Planning):
            view.busy(f"planning with {event.model}…" if event.model else "planning…")
            if event.model and event.model != self.model:
                self.model = event.model
                self._update_header()
        elif isinstance(event, ev.Token):
            pass
        elif isinstance(event, ev.Progress):
            view.busy(f"{event.message} ({event.count})" if event.count else event.message)
        elif isinstance(event, ev.PlanReady) and event.plan is not None:
            view.show_plan(event.plan)
        elif isinstance(event, ev.AwaitingApproval):
            view.busy("waiting for your approval", spinning=False)
        elif isinstance(event, ev.StepStarted):
            view.step_started(event.index, event.request)
        elif isinstance(event, ev.StepFinished) and event.result is not None:
            view.add_result(event.result)
        elif isinstance(event, ev.Stats):
            self.stats = event
            if event.model and event.model != self.model:
                self.model = event.model
                self._update_header()
        elif event.terminal:
            self._terminal(view, event)
        self._update_status()
        self.transcript.scroll_end(animate=False)

    def _terminal(self, view: JobView, event: ev.Event) -> None:
        results: list[SyscallResult] = list(getattr(event, "results", []) or [])
        plan = getattr(event, "plan", None)
        if plan is not None and not view.query(".plan"):
            view.show_plan(plan)
        for res in results:
            view.add_result(res)
        if isinstance(event, ev.Finished):
            new_cwd = ev.cd_result(results)
            if new_cwd is not None:
                self.cwd = new_cwd
                self.sub_title = str(self.cwd)
            status = overall_status(view.results)
            undoable = status == "ok" and any(self._undoable(r) for r in view.results)
            msg = None if status == "ok" else Text(f"{status}", style="bold")
            view.finish(status, msg, undoable=undoable)
        elif isinstance(event, ev.Failed):
            err = event.error or {"message": "the intent could not be planned"}
            view.finish("failed", render.error(err, status=str(err.get("kind") or "failed")))
        elif isinstance(event, ev.Cancelled):
            stage = f" while {event.stage}" if event.stage else ""
            view.finish("cancelled", Text(f"cancelled{stage}", style="bold yellow"))
        for run in [r for r in self.running if r.view is view]:
            self._dismiss_approvals(run)
        self.running = [r for r in self.running if r.view is not view]

    def _undoable(self, res: SyscallResult) -> bool:
        return common.registry_undoable(self.registry, res.request.call)

    def action_cancel_job(self) -> None:
        live = [r for r in self.running if not r.cancelled]
        if not live:
            prompt = self.query_one(PromptInput)
            if prompt.value:
                prompt.value = ""
            return
        run = live[-1]
        run.cancelled = True
        self._dismiss_approvals(run)
        run.view.busy("cancelling…")
        run.job.cancel()
        self._update_status()

    def _dismiss_approvals(self, run: Running) -> None:
        for screen in run.screens:
            if screen.is_attached:
                screen.dismiss(Answer.DENY)
        run.screens.clear()

    # ---- approval (called on the kernel's thread) ------------------------------------------

    def _approve(self, run: Running, question: Question) -> Answer:
        if self._quitting.is_set() or run.cancelled:
            return Answer.DENY
        done = threading.Event()
        box = [Answer.DENY]

        def answered(answer: Answer | None) -> None:
            box[0] = answer or Answer.DENY
            done.set()

        def show() -> None:
            screen = ApprovalScreen(question)
            run.screens.append(screen)
            self.push_screen(screen, callback=answered)

        try:
            self.call_from_thread(show)
        except RuntimeError:  # the app is not running (closing): nothing can be asked
            return Answer.DENY
        while not done.wait(0.05):
            if self._quitting.is_set() or run.cancelled:
                return Answer.DENY
        return box[0]

    # ---- slash commands ---------------------------------------------------------------------

    def run_slash(self, slash: common.Slash) -> None:
        name = slash.name
        if name == "/help":
            t = Table(box=None, show_header=False, pad_edge=False)
            t.add_column("command", style="bold", no_wrap=True)
            t.add_column("what")
            for row in common.help_rows():
                t.add_row(row["command"], row["what"])
            self._say(t, "note help")
        elif name == "/clear":
            self.transcript.remove_children()
        elif name == "/cd":
            try:
                self.cwd = common.change_dir(self.cwd, slash.arg)
            except OSError as exc:
                self._say(render.error({"message": str(exc), "hint": "give an existing directory"}))
                return
            self._update_header()
            self._say(Text(f"cwd: {self.cwd}"))
        elif name == "/model":
            self._say(self._model_info())
        elif name in ("/undo", "/policy", "/audit"):
            action = {"/undo": "undo_last", "/policy": "policy_rules", "/audit": "audit_tail"}[name]
            self.run_lead_action(action)
        else:
            self._say(render.error({"message": f"unknown command {name}", "hint": "type /help for the list"},
                                   status="invalid"))

    def _model_info(self) -> RenderableType:
        data: dict[str, Any] = {"model": self.model or "unknown"}
        stats = getattr(self.kernel, "stats", None)
        if callable(stats):
            try:
                snap = stats()
            except Exception as exc:  # statistics are informative only; show why they are missing
                data["stats"] = f"unavailable: {exc}"
            else:
                if hasattr(snap, "__dataclass_fields__"):
                    snap = {k: getattr(snap, k) for k in snap.__dataclass_fields__ if k not in ("job", "at")}
                if isinstance(snap, dict):
                    data.update(snap)
        return render.record(data)

    def run_lead_action(self, action: str) -> None:
        fn = common.optional_action(action)
        if fn is None:
            self._say(Text(common.UNAVAILABLE[action], style="yellow"))
            return
        self.run_worker(lambda: self._action_worker(action, fn), thread=True, group="actions")

    def _action_worker(self, action: str, fn: Callable[..., Any]) -> None:
        try:
            out = common.call_action(fn, session=self.session, cwd=self.cwd, kernel=self.kernel)
        except Exception as exc:  # show the failure in the transcript, do not crash the app
            renderable: RenderableType = render.error(
                {"message": f"{action}: {exc}", "hint": getattr(exc, "hint", "")}, status="failed")
        else:
            renderable = _renderable_of(out, self.registry)
        self.call_from_thread(self._say, renderable)

    @on(JobView.UndoRequested)
    def _undo_requested(self, event: JobView.UndoRequested) -> None:
        self.run_lead_action("undo_last")

    # ---- monitor & history ------------------------------------------------------------------

    def action_toggle_monitor(self) -> None:
        monitor = self.query_one(Monitor)
        monitor.display = not monitor.display
        if monitor.display:
            monitor.refresh_sample()

    def action_history_search(self) -> None:
        prompt = self.query_one(PromptInput)

        def picked(text: str | None) -> None:
            if text:
                prompt.value = text
                prompt.cursor_position = len(text)
            prompt.focus()

        self.push_screen(HistorySearchScreen(list(reversed(prompt.history))), callback=picked)

    async def action_quit(self) -> None:
        self.leave()

    def terminal_lost(self) -> None:
        """The terminal went away (``common.TerminalWatch``): cancel what runs and end with status 129."""
        self.leave(common.HANGUP_STATUS)

    def leave(self, return_code: int = 0) -> None:
        """Cancel every running job (open questions are answered deny) and exit."""
        self._quitting.set()
        for run in self.running:
            run.cancelled = True
            try:
                run.job.cancel()
            except Exception:  # a job that cannot be cancelled must not stop the quit
                pass
        self.exit(return_code=return_code)

    def on_unmount(self) -> None:
        self._quitting.set()


def _renderable_of(out: Any, registry: Registry | None) -> RenderableType:
    if isinstance(out, SyscallResult):
        return render.result(out, common.registry_view(registry, out.request.call))
    if isinstance(out, list) and all(isinstance(r, SyscallResult) for r in out):
        return (Group(*(render.result(r, common.registry_view(registry, r.request.call)) for r in out))
                if out else Text("nothing"))
    if isinstance(out, list) and all(isinstance(r, dict) for r in out):
        return render.table(out) if out else Text("(nothing)")
    if isinstance(out, dict):
        return render.record(out)
    return Text(escape_for_display(str(out)))


def create_app(kernel: common.KernelLike, *, cwd: Path | str, session: str = "default", model: str = "",
               history_file: Path | str | None = None,
               monitor_source: Callable[[], MonitorSample] | None = None,
               monitor_interval: float = 2.0,
               view_of: Callable[[str], View | None] | None = None,
               risk_of: Callable[[str], str] | None = None) -> NlshApp:
    """Build the TUI for ``kernel`` (shared by the CLI, ``python -m nlshell.tui`` and tests)."""
    return NlshApp(kernel, cwd=Path(cwd), session=session, model=model,
                   history_file=Path(history_file) if history_file is not None else None,
                   monitor_source=monitor_source, monitor_interval=monitor_interval,
                   view_of=view_of, risk_of=risk_of)


def run_tui(kernel: common.KernelLike, *, cwd: Path | str | None = None, **kwargs: Any) -> int:
    """Run the TUI until the user quits or the terminal goes away (129), then close the kernel;
    returns the exit status."""
    app = create_app(kernel, cwd=Path(cwd) if cwd is not None else Path.cwd(), **kwargs)
    watch = common.TerminalWatch(lambda: app.call_from_thread(app.terminal_lost))
    try:
        with watch:
            app.run()
    finally:
        kernel.close()
    if watch.lost.is_set():
        return common.HANGUP_STATUS
    return 0 if app.return_code in (None, 0) else int(app.return_code)


__all__ = ["JobEvent", "NlshApp", "PromptInput", "create_app", "run_tui"]
