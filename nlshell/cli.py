"""``nlsh``: the command line.  One-shot intents, the TUI, line mode and subcommands.

Exit codes: ``nlshell.parsers.EXIT_CODES`` (documented in nlsh(1)).

Only ``argparse`` is imported at start-up; the model, Rich and Textual load on
the paths that need them, so ``nlsh --help`` and ``--version`` stay fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import IO, TYPE_CHECKING, Any

from nlshell.parsers import SUBCOMMANDS, build_parser

if TYPE_CHECKING:
    from rich.console import Console

    from nlshell.events import Event
    from nlshell.kernel import Kernel
    from syscalls.types import Answer, Question

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_DENIED = 3
EXIT_NO_PLAN = 4
EXIT_MODEL_LOAD = 5
EXIT_INTERRUPTED = 130

# --------------------------------------------------------------------------- intents


def intent_lines(stream: Iterable[str]) -> list[str]:
    """One intent per non-empty line; lines starting with ``#`` are comments."""
    return [ln for ln in (raw.strip() for raw in stream) if ln and not ln.startswith("#")]


def read_intents(args: argparse.Namespace, stdin: IO[str]) -> list[str]:
    if args.file == "-" or args.intent == ["-"]:
        return intent_lines(stdin)
    if args.file:
        with open(args.file, encoding="utf-8") as fh:
            return intent_lines(fh)
    if args.intent:
        return [" ".join(args.intent)]
    return []


# --------------------------------------------------------------------------- approval


def make_approver(*, yes: bool, interactive: bool, console: Console, notes: list[str],
                  before_asking: Callable[[], None] | None = None) -> Callable[[Question], Answer]:
    """The CLI's approval callbacks: ``--yes``, a one-key prompt on the TTY, or deny."""
    from nlshell.approval import unsure_note
    from syscalls.types import Answer

    def deny_no_tty(q: Question) -> Answer:
        if q.unsure is not None:
            notes.append(unsure_note(q))
            return Answer.DENY
        notes.append(
            f"{q.request.call} needs approval ({q.capability}, {q.risk.value}) and there is no terminal "
            "to ask on: denied. Re-run with --yes to approve it, or allow it in the policy file."
        )
        return Answer.DENY

    def approve_yes(q: Question) -> Answer:
        if q.unsure is not None:  # --yes approves what was asked for; what the model guessed, a person must
            if interactive:
                return ask(q)
            notes.append(unsure_note(q))
            return Answer.DENY
        if q.tainted_by and not interactive:
            notes.append(
                f"{q.request.call} was proposed after reading {q.tainted_by}; --yes does not cover "
                "requests made after reading untrusted content. Run it interactively to approve."
            )
            return Answer.DENY
        if q.tainted_by:
            return ask(q)
        return Answer.ONCE

    def ask(q: Question) -> Answer:
        from nlshell.approval import prompt_question

        if before_asking is not None:
            before_asking()
        return prompt_question(q, console)

    if yes:
        return approve_yes
    return ask if interactive else deny_no_tty


# --------------------------------------------------------------------------- one-shot


def _exit_code_for(event: Event) -> int:
    from nlshell import events as ev

    if isinstance(event, ev.Cancelled):
        return EXIT_INTERRUPTED
    if isinstance(event, ev.Failed):
        kind = str(event.error.get("type", ""))
        if kind == "ModelLoadError":
            return EXIT_MODEL_LOAD
        if event.results:
            return _code_from_results(event.results)
        return EXIT_NO_PLAN
    if isinstance(event, ev.Finished):
        return _code_from_results(event.results)
    return EXIT_FAILED


def _code_from_results(results: Sequence[Any]) -> int:
    code = EXIT_OK
    for r in results:
        if r.status == "denied":
            return EXIT_DENIED
        if r.status == "invalid":
            code = max(code, EXIT_NO_PLAN)
        elif r.status == "failed":
            code = max(code, EXIT_FAILED)
        elif r.status == "cancelled":
            return EXIT_INTERRUPTED
        elif r.request.call == "answer" and r.data and r.data.get("supported") is False:
            code = max(code, EXIT_NO_PLAN)
    return code


def run_oneshot(args: argparse.Namespace, intents: list[str], *, stdout: IO[str], stderr: IO[str]) -> int:
    import json
    import shlex
    from pathlib import Path

    from rich.console import Console

    from nlshell import events as ev
    from nlshell import render
    from nlshell.interrupts import sigint_flag

    color = not (args.no_color or os.environ.get("NO_COLOR"))
    out_tty = stdout.isatty()
    err_tty = stderr.isatty()
    out = Console(file=stdout, no_color=not color, force_terminal=out_tty and color,
                  highlight=False, soft_wrap=False)
    err = Console(file=stderr, no_color=not color, force_terminal=err_tty and color, highlight=False)
    plain = not out_tty
    interactive = sys.stdin.isatty() and err_tty
    cwd = Path(args.cwd).resolve() if args.cwd else Path.cwd()

    notes: list[str] = []
    status = _Status(err, enabled=err_tty and not args.json)
    approve = make_approver(yes=args.yes, interactive=interactive, console=err, notes=notes,
                            before_asking=status.hide)
    kernel = _open_kernel(args, err, show_progress=err_tty and not args.json, once=len(intents) == 1)
    if isinstance(kernel, int):
        if args.json:
            for text in intents:
                stdout.write(json.dumps(_load_error_envelope(text, args), ensure_ascii=False) + "\n")
        return kernel

    worst = EXIT_OK
    try:
        for text in intents:
            notes.clear()
            status.hide()
            terminal: ev.Event | None = None
            submitted: list[Any] = []  # Ctrl-C cancels the job, from before it is submitted until it ends

            def cancel_submitted(jobs: list[Any] = submitted) -> None:
                for j in jobs:
                    j.cancel()

            try:
                with sigint_flag(cancel_submitted, insist=True) as interrupted:
                    job = kernel.submit(ev.Intent(text=text, cwd=cwd, dry_run=args.dry_run), approve=approve)
                    submitted.append(job)
                    if interrupted.is_set():
                        job.cancel()
                    for event in job.events():
                        if event.terminal:
                            terminal = event
                        if not interrupted.is_set():
                            _on_event(event, args=args, kernel=kernel, out=out, err=err, status=status,
                                      plain=plain, err_plain=not err_tty)
            finally:
                status.hide()
            if interrupted.is_set():
                err.print("cancelled")
                if args.json and terminal is not None:
                    stdout.write(json.dumps(_envelope(text, terminal, args, kernel), ensure_ascii=False) + "\n")
                return EXIT_INTERRUPTED
            assert terminal is not None
            code = _exit_code_for(terminal)
            plan = getattr(terminal, "plan", None)
            if code != EXIT_OK and not args.json and not err_tty and not args.dry_run and not args.verbose \
                    and plan is not None and _needs_showing(kernel, plan):
                err.print(render.plan(plan, plain=True, risks=_risks(kernel, plan)))  # what was not done
            if args.json:
                stdout.write(json.dumps(_envelope(text, terminal, args, kernel), ensure_ascii=False) + "\n")
                stdout.flush()
            elif isinstance(terminal, ev.Failed) and terminal.error and not terminal.results:
                err.print(render.error(terminal.error, status="failed", plain=not err_tty))
            elif isinstance(terminal, ev.Cancelled):
                err.print("cancelled")
            if args.verbose:
                _print_timings(err, terminal)
            went = ev.cd_result(getattr(terminal, "results", None))
            if went is not None:
                err.print("nlsh cannot change your shell's working directory; to go there: "
                          f"cd {shlex.quote(str(went))}", markup=False)
            for note in notes:
                err.print(note, style=None if not color else "yellow", markup=False)
            worst = max(worst, code) if code != EXIT_INTERRUPTED else code
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    finally:
        status.hide()
        kernel.close()
    return worst


class _Status:
    """A spinner on stderr (TTY only) for planning and long steps; paused while asking."""

    def __init__(self, console: Console, enabled: bool) -> None:
        import threading

        self.console = console
        self.enabled = enabled
        self._live: Any = None
        self._lock = threading.Lock()

    def show(self, text: str) -> None:
        if not self.enabled:
            return
        with self._lock:
            if self._live is None:
                self._live = self.console.status(text, spinner="dots")
                self._live.start()
            else:
                self._live.update(text)

    def hide(self) -> None:
        with self._lock:
            if self._live is not None:
                self._live.stop()
                self._live = None


def _on_event(event: Event, *, args: argparse.Namespace, kernel: Kernel, out: Console, err: Console,
              status: _Status, plain: bool, err_plain: bool) -> None:
    from nlshell import events as ev
    from nlshell import render

    if isinstance(event, ev.Planning):
        status.show(f"planning with {event.model}…")
    elif isinstance(event, ev.PlanReady) and event.plan is not None:
        status.hide()
        if args.explain:
            _explain(err, event.plan)
        # Unix conventions: without a terminal a successful run prints its results and nothing else; the plan
        # is echoed on a terminal, when asked for (--dry-run, -v), or after the fact when the run did not succeed
        if not args.json and (args.dry_run or args.verbose or (not err_plain and _needs_showing(kernel, event.plan))):
            err.print(render.plan(event.plan, plain=err_plain, risks=_risks(kernel, event.plan)))
    elif isinstance(event, ev.AwaitingApproval):
        status.hide()
    elif isinstance(event, ev.StepStarted) and event.request is not None:
        status.show(f"running {event.request.call}…")
    elif isinstance(event, ev.Progress):
        status.show(f"{event.message} ({event.count})")
    elif isinstance(event, ev.StepFinished) and event.result is not None:
        status.hide()
        if not args.json:
            out.print(render.result(event.result, _view(kernel, event.result.request.call), plain=plain))


def _print_timings(err: Console, terminal: Event) -> None:
    plan = getattr(terminal, "plan", None)
    if plan is not None:
        shown = ", ".join(f"{k}={v:.3f}" for k, v in plan.timings.items())
        err.print(f"model {plan.model}: {shown}", markup=False)
    for r in getattr(terminal, "results", []) or []:
        err.print(f"{r.request.call}: {r.status} in {r.elapsed_s * 1000:.1f} ms", markup=False)


def _open_kernel(args: argparse.Namespace, err: Console, *, show_progress: bool, once: bool) -> Kernel | int:
    from nlshell.config import ConfigError
    from nlshell.session_factory import open_kernel
    from syscalls.errors import SyscallError

    try:
        if show_progress:
            with err.status("loading model…", spinner="dots"):
                return open_kernel(model=args.model, profile=args.profile, threads=args.threads, once=once)
        return open_kernel(model=args.model, profile=args.profile, threads=args.threads, once=once)
    except (SyscallError, ConfigError) as exc:
        err.print(f"nlsh: {exc}", markup=False)
        return EXIT_USAGE
    except Exception as exc:
        from models.errors import ModelError

        if isinstance(exc, ModelError):
            err.print(f"nlsh: the model could not load: {exc}", markup=False)
            return EXIT_MODEL_LOAD
        raise


def _needs_showing(kernel: Kernel, plan: Any) -> bool:
    from syscalls.types import Risk

    reg = kernel.dispatcher.registry
    return any(s.call in reg and reg.get(s.call).risk is not Risk.READ for s in plan.steps)


def _risks(kernel: Kernel, plan: Any) -> dict[str, str]:
    reg = kernel.dispatcher.registry
    return {s.call: reg.get(s.call).risk.value for s in plan.steps if s.call in reg}


def _view(kernel: Kernel, call: str) -> Any:
    reg = kernel.dispatcher.registry
    return reg.get(call).view if call in reg else None


def _explain(err: Console, plan: Any) -> None:
    err.print("[bold]retrieved examples[/bold] (nearest last):")
    for ex in plan.examples:
        err.print(f"  {ex}", markup=False)
    err.print("[bold]raw model output:[/bold]")
    err.print(plan.raw, markup=False)


def _envelope(text: str, terminal: Event, args: argparse.Namespace, kernel: Kernel) -> dict[str, Any]:
    from nlshell import events as ev
    from nlshell.envelope import envelope

    plan = getattr(terminal, "plan", None)
    results = list(getattr(terminal, "results", []) or [])
    error: dict[str, Any] | None = None
    if isinstance(terminal, ev.Failed):
        error = dict(terminal.error)
    elif isinstance(terminal, ev.Cancelled):
        error = {"type": "Cancelled", "kind": "cancelled", "message": f"cancelled during {terminal.stage}"}
    return envelope(
        intent=text,
        plan=plan,
        results=results,
        error=error,
        timings=dict(plan.timings) if plan is not None else {},
        model=kernel.planner.backend.name if kernel.planner is not None else "",
    )


def _load_error_envelope(text: str, args: argparse.Namespace) -> dict[str, Any]:
    from nlshell.envelope import envelope

    return envelope(intent=text, plan=None, results=[],
                    error={"type": "ModelLoadError", "kind": "model", "message": "the model could not load"},
                    timings={}, model=args.model or "")


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        from nlshell.subcommands import run_subcommand

        return run_subcommand(argv[0], argv[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.threads is not None and args.threads < 1:
        parser.print_usage(sys.stderr)
        sys.stderr.write("nlsh: error: --threads must be at least 1\n")
        return EXIT_USAGE
    if args.file and args.intent:
        parser.print_usage(sys.stderr)
        sys.stderr.write("nlsh: error: give intents as arguments or with --file, not both\n")
        return EXIT_USAGE
    if args.cwd and not os.path.isdir(args.cwd):
        sys.stderr.write(f"nlsh: error: --cwd {args.cwd!r} is not a directory\n")
        return EXIT_USAGE
    try:
        intents = read_intents(args, sys.stdin)
    except OSError as exc:
        sys.stderr.write(f"nlsh: error: cannot read intents from {args.file!r}: {exc.strerror}\n")
        return EXIT_USAGE
    if unlock_storage(sys.stderr) != EXIT_OK:
        return EXIT_FAILED
    try:
        if not intents:
            if args.intent == ["-"] or args.file:
                sys.stderr.write("nlsh: error: no intents given on stdin / in the file\n")
                return EXIT_USAGE
            if not sys.stdin.isatty():
                intents = intent_lines(sys.stdin)
                if not intents:
                    sys.stderr.write("nlsh: error: no intent given (stdin was empty)\n")
                    return EXIT_USAGE
            else:
                return run_interactive(args)
        return run_oneshot(args, intents, stdout=sys.stdout, stderr=sys.stderr)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def unlock_storage(stderr: IO[str]) -> int:
    """With ``[storage] encrypt = true``, get the key now: the passphrase is asked for on the terminal
    before a spinner or the TUI takes it (and a new one is chosen the first time)."""
    from nlshell.config import ConfigError, load_config, use_for_storage
    from syscalls.errors import SyscallError

    try:
        cfg = load_config()
    except ConfigError:
        return EXIT_OK  # reported where the kernel opens
    if not cfg.storage.encrypt:
        return EXIT_OK
    from syscalls.storage import Storage

    use_for_storage()
    try:
        Storage().unlock(create=True)
    except SyscallError as exc:
        stderr.write(f"nlsh: {exc}\n")
        return EXIT_FAILED
    return EXIT_OK


def run_interactive(args: argparse.Namespace) -> int:
    from nlshell.interactive import run

    return run(args)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
