"""The line mode (``nlsh --line``): a prompt-toolkit prompt, results rendered with Rich.

``run_line(kernel)`` reads intents with history (``FileHistory``, shared with
the TUI) and completion (slash commands and paths), submits each to the
kernel and prints its plan and results as they arrive.  Approval is a
one-key prompt (o = once, s = session, anything else = deny) asked after
discarding typed-ahead input.  Ctrl-C cancels the running job; Ctrl-D exits.
When the terminal goes away (hang-up, SIGHUP, EOF or EIO), the running job is
cancelled and the shell returns 129 (``common.TerminalWatch``).

The kernel's worker thread calls ``approve``; it hands the question to the
main thread (which owns the terminal) and waits for the answer, so events,
questions and Ctrl-C are all handled on one thread.
"""

from __future__ import annotations

import argparse
import errno
import os
import queue
import select
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from prompt_toolkit import PromptSession
from prompt_toolkit.application import Application
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.input import Input
from prompt_toolkit.input.typeahead import clear_typeahead
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.layout import FormattedTextControl, Layout, Window
from prompt_toolkit.output import Output
from rich.console import Console
from rich.text import Text

from nlshell import events as ev
from nlshell import render
from nlshell.approval import answer_keys, question_lines
from nlshell.envelope import overall_status
from nlshell.interrupts import sigint_flag
from nlshell.tui import common
from syscalls.types import Answer, Question, SyscallResult


class LineCompleter(Completer):
    """Slash commands at the start of the line, paths (relative to the cwd) elsewhere."""

    def __init__(self, cwd: Callable[[], Path]) -> None:
        self.cwd = cwd

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        text = document.text_before_cursor
        if text.startswith("/") and " " not in text and common.parse_slash(text) is not None:
            for name in common.complete_slash(text):
                yield Completion(name, start_position=-len(text), display_meta=common.SLASH_COMMANDS[name])
            return
        token = "" if not text or text.endswith(" ") else text.rsplit(" ", 1)[-1]
        slash = common.parse_slash(text)
        for option in common.complete_path(token, self.cwd(), dirs_only=slash is not None and slash.name == "/cd"):
            shown = option.rstrip("/").rsplit("/", 1)[-1] + ("/" if option.endswith("/") else "")
            yield Completion(option, start_position=-len(token), display=shown)


def flush_input(inp: Input) -> None:
    """Discard everything typed before a question was shown (prompt-toolkit's buffer and the fd)."""
    clear_typeahead(inp)
    try:
        fd = inp.fileno()
    except (NotImplementedError, OSError, ValueError):
        return
    try:
        if os.isatty(fd):
            import termios

            termios.tcflush(fd, termios.TCIFLUSH)
            return
        while select.select([fd], [], [], 0)[0]:
            if not os.read(fd, 4096):
                break
    except (ImportError, OSError, ValueError):
        return


def ask_key(question_text: str, *, input: Input | None, output: Output | None,
            started: Callable[[Application[Answer | None]], None] | None = None) -> Answer | None:
    """One key answers: o = once, s = session, anything else = deny; Ctrl-C → None (cancel the job).

    ``started`` gets the question's application before it runs (so another thread can end it).
    """
    kb = KeyBindings()

    @kb.add("<any>")
    def _key(event: KeyPressEvent) -> None:
        data = event.key_sequence[0].data.lower() if event.key_sequence else ""
        event.app.exit(result=common.ANSWER_KEYS.get(data, Answer.DENY))

    @kb.add("c-c")
    def _cancel(event: KeyPressEvent) -> None:
        event.app.exit(result=None)

    @kb.add("c-d")
    def _eof(event: KeyPressEvent) -> None:
        event.app.exit(result=Answer.DENY)

    app: Application[Answer | None] = Application(
        layout=Layout(Window(FormattedTextControl(question_text), height=1)),
        key_bindings=kb, input=input, output=output, full_screen=False, erase_when_done=True)
    if started is not None:
        started(app)
    return app.run(handle_sigint=False)


def leave_app(app: Application[Any]) -> None:
    """End a running prompt-toolkit application with EOFError, from any thread."""
    loop = app.loop
    if loop is None or not app.is_running:
        return

    def leave() -> None:
        if app.is_running and not app.is_done:
            app.exit(exception=EOFError())

    try:
        loop.call_soon_threadsafe(leave)
    except RuntimeError:  # the loop has closed: the application has ended already
        pass


# Errors writing to or reading from a terminal that has gone away.
_GONE = (errno.EIO, errno.ENXIO, errno.EBADF)


class LineShell:
    def __init__(self, kernel: common.KernelLike, *, input: Input | None = None, output: Output | None = None,
                 console: Console | None = None, cwd: Path | None = None, session: str = "default",
                 history_file: Path | str | None = None) -> None:
        self.kernel = kernel
        self.registry = common.kernel_registry(kernel)
        self.cwd = Path(cwd) if cwd is not None else Path.cwd()
        self.session_name = session
        self.console = console or Console(highlight=False)
        self.plain = not self.console.is_terminal
        # Set while the one-key question waits for its key (after typed-ahead input was discarded).
        self.asking = threading.Event()
        # Set when the terminal has gone away (``lose``): the shell cancels its job and returns.
        self.lost = threading.Event()
        self._job: common.JobLike | None = None
        self._question: Application[Answer | None] | None = None
        history = common.open_history(common.history_path(Path(history_file) if history_file else None))
        self.prompt: PromptSession[str] = PromptSession(
            history=history, completer=LineCompleter(lambda: self.cwd), input=input, output=output,
            complete_while_typing=False)

    # ---- the loop -------------------------------------------------------------------------

    def run(self) -> int:
        """Read and run intents until Ctrl-D (0) or until the terminal goes away (129)."""
        while not self.lost.is_set():
            try:
                text = self.prompt.prompt(f"{self._short_cwd()} › ")
            except KeyboardInterrupt:
                continue
            except EOFError:
                break
            except OSError as exc:
                if exc.errno not in _GONE:
                    raise
                self.lose()
                break
            text = text.strip()
            if not text or self.lost.is_set():
                continue
            try:
                slash = common.parse_slash(text)
                if slash is not None:
                    self.slash(slash)
                else:
                    self.run_intent(text)
            except OSError as exc:  # output to a terminal that went away
                if exc.errno not in _GONE:
                    raise
                self.lose()
        return common.HANGUP_STATUS if self.lost.is_set() else 0

    def lose(self) -> None:
        """The terminal went away: cancel the running job and end the prompts (callable from any thread)."""
        self.lost.set()
        job = self._job
        if job is not None:
            job.cancel()
        for app in (self.prompt.app, self._question):
            if app is not None:
                leave_app(app)

    def _short_cwd(self) -> str:
        home = str(Path.home())
        s = str(self.cwd)
        return "~" + s[len(home):] if s == home or s.startswith(home + "/") else s

    def run_intent(self, text: str) -> str:
        """Submit one intent and show its events until the terminal one; returns the outcome.  Ctrl-C is a
        flag from before the job is submitted until it has ended, so no moment of it raises."""
        with sigint_flag() as interrupted:
            return self._run_intent(text, interrupted)

    def _run_intent(self, text: str, interrupted: threading.Event) -> str:
        inbox: queue.Queue[tuple[str, Any, Any]] = queue.Queue()
        cancelled = threading.Event()

        def approve(question: Question) -> Answer:
            reply: queue.Queue[Answer] = queue.Queue(maxsize=1)
            inbox.put(("ask", question, reply))
            while True:
                try:
                    return reply.get(timeout=0.1)
                except queue.Empty:
                    if cancelled.is_set():
                        return Answer.DENY

        intent = ev.Intent(text=text, session=self.session_name, cwd=self.cwd)
        try:
            job = self.kernel.submit(intent, approve=approve)
        except Exception as exc:  # the kernel refused the intent: say why, keep the prompt
            self.console.print(render.error({"message": str(exc)}))
            return "failed"

        def pump() -> None:
            for event in job.events():
                inbox.put(("event", event, None))
                if event.terminal:
                    return

        threading.Thread(target=pump, name="nlsh-line-events", daemon=True).start()
        self._job = job
        try:
            outcome = self._follow(job, inbox, cancelled, interrupted)
        except BaseException:
            # leaving early (output failed, an interrupt): the job must not wait for an answer
            cancelled.set()
            job.cancel()
            raise
        finally:
            self._job = None
        if self.lost.is_set():  # the terminal went away while it ran
            cancelled.set()
            job.cancel()
        return outcome

    def _follow(self, job: common.JobLike, inbox: queue.Queue[tuple[str, Any, Any]],
                cancelled: threading.Event, interrupted: threading.Event) -> str:
        """Show the job's events and answer its questions until its terminal event."""
        shown: set[str] = set()
        status = self.console.status("planning…") if self.console.is_terminal else None
        outcome = ""
        while not outcome:
            if self.lost.is_set():
                outcome = "cancelled"
                break
            if interrupted.is_set() and not cancelled.is_set():  # Ctrl-C, looked at between events
                cancelled.set()
                job.cancel()
                self.console.print(Text("cancelling…", style="yellow"))
            try:
                kind, item, reply = inbox.get(timeout=0.1)
            except queue.Empty:
                continue
            if kind == "ask":
                if status is not None:
                    status.stop()
                answer = Answer.DENY if cancelled.is_set() else self.ask(item)
                if answer is None:
                    cancelled.set()
                    job.cancel()
                    answer = Answer.DENY
                reply.put(answer)
                continue
            outcome = self.show(item, shown, status)
        if status is not None:
            status.stop()
        return outcome

    def show(self, event: ev.Event, shown: set[str], status: Any) -> str:
        def out(renderable: Any) -> None:
            if status is not None:
                status.stop()
            self.console.print(renderable)

        if isinstance(event, ev.Planning) and status is not None:
            status.update(f"planning with {event.model}…" if event.model else "planning…")
            status.start()
        elif isinstance(event, ev.PlanReady) and event.plan is not None:
            risks = {s.call: common.registry_risk(self.registry, s.call) for s in event.plan.steps}
            out(render.plan(event.plan, plain=self.plain, risks=risks))
        elif isinstance(event, ev.StepStarted) and status is not None and event.request is not None:
            status.update(f"running {event.request.call}…")
            status.start()
        elif isinstance(event, ev.StepFinished) and event.result is not None:
            self._result(event.result, shown, out)
        elif isinstance(event, ev.Finished):
            for res in event.results:
                self._result(res, shown, out)
            new_cwd = ev.cd_result(event.results)
            if new_cwd is not None:
                self.cwd = new_cwd
            worst = overall_status(event.results)
            if worst != "ok":
                out(Text(worst, style="bold red" if worst in ("failed", "denied", "invalid") else "yellow"))
            return worst
        elif isinstance(event, ev.Failed):
            for res in event.results:
                self._result(res, shown, out)
            err = event.error or {"message": "the intent could not be planned"}
            out(render.error(err, status="failed", plain=self.plain))
            return "failed"
        elif isinstance(event, ev.Cancelled):
            for res in event.results:
                self._result(res, shown, out)
            out(Text(f"cancelled{' while ' + event.stage if event.stage else ''}", style="yellow"))
            return "cancelled"
        return ""

    def _result(self, res: SyscallResult, shown: set[str], out: Callable[[Any], None]) -> None:
        if res.request.id in shown:
            return
        shown.add(res.request.id)
        out(render.result(res, common.registry_view(self.registry, res.request.call), plain=self.plain))

    def ask(self, question: Question) -> Answer | None:
        for line in question_lines(question):
            self.console.print(line)
        flush_input(self.prompt.input)
        self.asking.set()

        def started(app: Application[Answer | None]) -> None:
            self._question = app

        try:
            answer = ask_key(f"{answer_keys(question)} ",
                             input=self.prompt.input, output=self.prompt.output, started=started)
        except EOFError:  # the input ended (the terminal went away): cancel the job
            answer = None
        finally:
            self._question = None
            self.asking.clear()
        if self.lost.is_set():
            return None
        self.console.print(Text(f"→ {'cancel' if answer is None else answer.value}"))
        return answer

    # ---- slash commands ---------------------------------------------------------------------

    def slash(self, slash: common.Slash) -> None:
        if slash.name == "/help":
            self.console.print(render.table(common.help_rows(), plain=self.plain))
        elif slash.name == "/clear":
            self.console.clear()
        elif slash.name == "/cd":
            try:
                self.cwd = common.change_dir(self.cwd, slash.arg)
            except OSError as exc:
                self.console.print(render.error({"message": str(exc), "hint": "give an existing directory"}))
                return
            self.console.print(f"cwd: {self.cwd}", markup=False)
        elif slash.name == "/model":
            data: dict[str, Any] = {"model": str(getattr(self.kernel, "model_name", "") or "")}
            stats = getattr(self.kernel, "stats", None)
            if callable(stats):
                snap = stats()
                if hasattr(snap, "__dataclass_fields__"):
                    snap = {k: getattr(snap, k) for k in snap.__dataclass_fields__ if k not in ("job", "at")}
                if isinstance(snap, dict):
                    data.update({k: v for k, v in snap.items() if v != "" or k not in data})
            self.console.print(render.record(data, plain=self.plain))
        elif slash.name in ("/undo", "/policy", "/audit"):
            action = {"/undo": "undo_last", "/policy": "policy_rules", "/audit": "audit_tail"}[slash.name]
            fn = common.optional_action(action)
            if fn is None:
                self.console.print(common.UNAVAILABLE[action], markup=False)
                return
            try:
                out = common.call_action(fn, session=self.session_name, cwd=self.cwd, kernel=self.kernel)
            except Exception as exc:  # show the failure, keep the prompt
                self.console.print(render.error({"message": f"{action}: {exc}",
                                                 "hint": getattr(exc, "hint", "")}))
                return
            if isinstance(out, list) and all(isinstance(r, dict) for r in out):
                self.console.print(render.table(out, plain=self.plain) if out else Text("(nothing)"))
            elif isinstance(out, dict):
                self.console.print(render.record(out, plain=self.plain))
            else:
                self.console.print(str(out), markup=False)
        else:
            self.console.print(render.error({"message": f"unknown command {slash.name}",
                                             "hint": "type /help for the list"}, status="invalid"))


def run_line(kernel: common.KernelLike, *, input: Input | None = None, output: Output | None = None,
             console: Console | None = None, cwd: Path | str | None = None, session: str = "default",
             history_file: Path | str | None = None) -> int:
    """Run the line mode until Ctrl-D (0) or until the terminal goes away (129); the caller closes the kernel."""
    shell = LineShell(kernel, input=input, output=output, console=console,
                      cwd=Path(cwd) if cwd is not None else None, session=session, history_file=history_file)
    if input is not None:  # not the process's terminal: nothing to watch
        return shell.run()
    with common.TerminalWatch(shell.lose):
        return shell.run()


def main(argv: list[str] | None = None) -> int:
    """``python -m nlshell.line [--scripted FILE | --model NAME] [--cwd DIR]``."""
    parser = argparse.ArgumentParser(prog="python -m nlshell.line", description=__doc__.splitlines()[0])
    parser.add_argument("--scripted", metavar="FILE", help="replay model outputs from a JSON list (no model)")
    parser.add_argument("--model", help="model name, GGUF path or server URL")
    parser.add_argument("--cwd", help="working directory for intents")
    args = parser.parse_args(argv)
    from nlshell.session_factory import open_kernel

    model = f"scripted:{args.scripted}" if args.scripted else args.model
    kernel = open_kernel(model=model)
    try:
        return run_line(kernel, cwd=Path(args.cwd).resolve() if args.cwd else None)
    finally:
        kernel.close()


if __name__ == "__main__":
    sys.exit(main())
