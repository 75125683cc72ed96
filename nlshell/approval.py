"""The line-oriented approval prompt (one-shot CLI and line mode).

The question shows the requested and resolved targets, the blast radius and
the risk class, escaped; typed-ahead input is flushed first so a stray "y"
typed before the question appeared cannot answer it.  One key answers:
o = once, s = this session, anything else (or EOF) = deny.
"""

from __future__ import annotations

import os
import sys
from typing import IO

from rich.console import Console
from rich.text import Text

from nlshell.render import describe_step, human_size
from syscalls.display import escape_for_display
from syscalls.types import Answer, Question


def flush_typeahead(fd: int) -> None:
    """Discard input typed before the question was shown (no-op when not a TTY)."""
    try:
        import termios

        if os.isatty(fd):
            termios.tcflush(fd, termios.TCIFLUSH)
    except (ImportError, OSError):
        pass


def describe_question(q: Question, *, max_items: int = 8) -> list[tuple[str, str]]:
    """What will happen, as (label, text) rows: the call, targets, counts, bytes, pids, risk, taint.

    Every front end shows these rows: the TUI's approval modal as a table, the line mode and
    the one-shot prompt as ``label: text`` lines (:func:`question_lines`).
    """
    if q.unsure is not None:  # a whole plan the model was unsure of: each step, then why it is asked
        rows = [("plan", step) for step in _plan_steps(q)]
        rows.append(("risk", f"{q.risk.value} (needs {q.capability})"))
        rows.append(("why asked", f"{escape_for_display(q.reason)}; is this what you want?"))
        return rows
    rows = [("call", describe_step(q.request.call, q.request.args))]
    rows.append(("risk", f"{q.risk.value} (needs {q.capability})"))
    if q.scope:
        rows.append(("scope", escape_for_display(q.scope)))
    for requested, resolved in q.targets[:max_items]:
        shown = escape_for_display(requested)
        if resolved != requested:
            shown += f" → {escape_for_display(resolved)}"
        rows.append(("target", shown))
    if len(q.targets) > max_items:
        rows.append(("target", f"… and {len(q.targets) - max_items} more"))
    eff = q.effects or {}
    if "count" in eff:
        rows.append(("count", f"{eff['count']} item(s)"))
    if isinstance(eff.get("bytes"), int):
        rows.append(("size", human_size(int(eff["bytes"]))))
    pids = eff.get("pids") or []
    for p in pids[:max_items]:
        if isinstance(p, dict):
            label = f"pid {p.get('pid')} {escape_for_display(str(p.get('name', '?')))}"
            if p.get("username"):
                label += f" (user {escape_for_display(str(p['username']))})"
        else:
            label = f"pid {p}"
        rows.append(("process", label))
    if len(pids) > max_items:
        rows.append(("process", f"… and {len(pids) - max_items} more"))
    paths = eff.get("paths") or []
    for path in paths[:max_items]:
        rows.append(("path", escape_for_display(str(path))))
    if len(paths) > max_items:
        rows.append(("path", f"… and {len(paths) - max_items} more"))
    for key, value in eff.items():
        if key not in ("count", "bytes", "pids", "paths") and isinstance(value, (str, int, float, bool)):
            rows.append((key, escape_for_display(str(value))))
    if q.reason:
        rows.append(("why asked", escape_for_display(q.reason)))
    if q.tainted_by:
        rows.append(("warning", f"proposed after reading {escape_for_display(q.tainted_by)}"))
    return rows


def _plan_steps(q: Question) -> list[str]:
    """Each step of the plan a question about an unsure plan is about, in plain words."""
    return [describe_step(step.call, step.args) for step in q.steps or (q.request,)]


def unsure_note(q: Question) -> str:
    """Why a plan the model was unsure of did not run where no one could be asked, and what to do."""
    steps = "; ".join(_plan_steps(q))
    return (f"{q.reason}; its plan was: {steps}. Nothing ran: --yes and scripts never run a plan the model was "
            "unsure of. Rephrase the request (name the file, folder or process), or run it on a terminal to "
            "confirm the plan.")


def answer_keys(q: Question) -> str:
    """The one-key answers the line prompts offer: a plan the model was unsure of runs once or not at all."""
    if q.unsure is not None:
        return "run this plan? [o]nce / [d]eny (default deny)"
    return "approve? [o]nce / [s]ession / [d]eny (default deny)"


def question_lines(q: Question) -> list[Text]:
    """The rows of :func:`describe_question` as indented ``label: text`` lines (warnings in red)."""
    return [Text.assemble((f"  {label}: ", "bold"), (value, "bold red" if label == "warning" else ""))
            for label, value in describe_question(q)]


def _read_key(stream: IO[str]) -> str:
    fd = stream.fileno()
    try:
        import termios
        import tty

        old = termios.tcgetattr(fd)
    except (ImportError, OSError):
        return stream.readline()[:1]
    try:
        tty.setcbreak(fd)
        return os.read(fd, 1).decode(errors="replace")
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, old)


def prompt_question(q: Question, console: Console, stream: IO[str] | None = None) -> Answer:
    """Ask on the terminal; deny on anything but o/s."""
    stream = stream or sys.stdin
    for line in question_lines(q):
        console.print(line, highlight=False)
    console.print(f"{answer_keys(q)}: ", end="", markup=False)
    flush_typeahead(stream.fileno())
    try:
        key = _read_key(stream).lower()
    except (OSError, KeyboardInterrupt):
        key = ""
    console.print(key or "")
    if key == "o":
        return Answer.ONCE
    if key == "s":
        return Answer.SESSION
    return Answer.DENY
