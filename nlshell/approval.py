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

from nlshell.render import format_value, sanitize
from syscalls.types import Answer, Question


def flush_typeahead(fd: int) -> None:
    """Discard input typed before the question was shown (no-op when not a TTY)."""
    try:
        import termios

        if os.isatty(fd):
            termios.tcflush(fd, termios.TCIFLUSH)
    except (ImportError, OSError):
        pass


def describe_question(q: Question) -> list[str]:
    lines = [f"{q.request.call} wants {q.capability} ({q.risk.value})"]
    for requested, resolved in q.targets:
        shown = sanitize(requested)
        if resolved and resolved != requested:
            shown += f"  →  {sanitize(resolved)}"
        lines.append(f"  target: {shown}")
    for key, value in q.effects.items():
        if key == "pids" and isinstance(value, list):
            for p in value[:20]:
                if isinstance(p, dict):
                    lines.append("  pid " + ", ".join(f"{k}={format_value(k, v)}" for k, v in p.items()))
            continue
        if key == "paths" and isinstance(value, list):
            for path in value[:10]:
                lines.append(f"  path: {sanitize(str(path))}")
            if len(value) > 10:
                lines.append(f"  … and {len(value) - 10} more")
            continue
        lines.append(f"  {key}: {format_value(key, value)}")
    if q.tainted_by:
        lines.append(f"  proposed after reading {sanitize(q.tainted_by)} — check it is what you asked for")
    if q.reason:
        lines.append(f"  why asked: {sanitize(q.reason)}")
    return lines


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
    for line in describe_question(q):
        console.print(line, markup=False, highlight=False)
    console.print("approve? [o]nce / [s]ession / [d]eny (default deny): ", end="", markup=False)
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
