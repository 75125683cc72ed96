"""Modal screens: approval (Once / Session / Deny) and history search (Ctrl-R)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static

from nlshell.approval import describe_question
from syscalls.types import Answer, Question


def question_table(q: Question) -> Table:
    t = Table(box=None, show_header=False, pad_edge=False, expand=True)
    t.add_column("what", style="bold", no_wrap=True)
    t.add_column("value", overflow="fold")
    for label, value in describe_question(q):
        style = "bold red" if label == "warning" else ("yellow" if label == "risk" else "")
        t.add_row(label, Text(value, style=style))
    return t


class ApprovalScreen(ModalScreen[Answer]):
    """Shows exactly what a request will do; answers once, for the session, or deny (the default)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "answer('once')", "once"),
        Binding("s", "answer('session')", "session"),
        Binding("d", "answer('deny')", "deny"),
        Binding("n", "answer('deny')", "deny", show=False),
        Binding("escape", "answer('deny')", "deny", show=False),
    ]

    def __init__(self, question: Question) -> None:
        super().__init__(classes="approval")
        self.question = question

    def compose(self) -> ComposeResult:
        q = self.question
        with Vertical(id="dialog"):
            title = Text("Run this plan? The model was unsure.") if q.unsure is not None else \
                Text.assemble("Approve ", (q.request.call, "bold"), "?")
            yield Label(title, id="approval-title")
            yield Static(question_table(q), id="approval-details")
            with Horizontal(id="approval-buttons"):
                yield Button("Once (o)", id="once", variant="primary")
                if q.unsure is None:  # a plan the model was unsure of runs once or not at all
                    yield Button("Session (s)", id="session")
                yield Button("Deny (d)", id="deny", variant="error")

    def on_mount(self) -> None:
        self.query_one("#deny", Button).focus()

    def action_answer(self, which: str) -> None:
        self.dismiss(Answer(which))

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id in ("once", "session", "deny"):
            self.dismiss(Answer(event.button.id))


class HistorySearchScreen(ModalScreen[str | None]):
    """Incremental search over the input history, newest first; Enter picks, Esc closes."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "close")]

    def __init__(self, history: Sequence[str], *, limit: int = 200) -> None:
        super().__init__(classes="history-search")
        seen: set[str] = set()
        self.entries: list[str] = []
        for item in history:  # newest first, without repeats
            if item not in seen:
                seen.add(item)
                self.entries.append(item)
        self.limit = limit

    def compose(self) -> ComposeResult:
        with Vertical(id="search-dialog"):
            yield Label("search history (Enter picks, Esc closes)")
            yield Input(placeholder="type to filter", id="search-input")
            yield OptionList(*self.entries[: self.limit], id="search-results")

    def on_mount(self) -> None:
        self.query_one("#search-input", Input).focus()

    def matches(self, text: str) -> list[str]:
        words = text.lower().split()
        return [e for e in self.entries if all(w in e.lower() for w in words)][: self.limit]

    @on(Input.Changed, "#search-input")
    def _filter(self, event: Input.Changed) -> None:
        options = self.query_one("#search-results", OptionList)
        options.clear_options()
        options.add_options(self.matches(event.value))
        if options.option_count:
            options.highlighted = 0

    @on(Input.Submitted, "#search-input")
    def _submit(self, event: Input.Submitted) -> None:
        event.stop()
        options = self.query_one("#search-results", OptionList)
        found = self.matches(event.value)
        index = options.highlighted if options.highlighted is not None else 0
        self.dismiss(found[index] if found and index < len(found) else None)

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(str(event.option.prompt))

    def key_down(self) -> None:
        self.query_one("#search-results", OptionList).action_cursor_down()

    def key_up(self) -> None:
        self.query_one("#search-results", OptionList).action_cursor_up()

    def action_close(self) -> None:
        self.dismiss(None)
