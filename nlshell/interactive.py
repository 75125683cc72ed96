"""Open the interactive front end: the Textual TUI, or the prompt-toolkit line mode."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from models.errors import ModelError
    from nlshell.session_factory import open_kernel

    cwd = Path(args.cwd).resolve() if args.cwd else Path.cwd()
    try:
        with Console(stderr=True).status("loading model…", spinner="dots"):
            kernel = open_kernel(model=args.model, profile=args.profile, threads=args.threads)
    except ModelError as exc:
        sys.stderr.write(f"nlsh: the model could not load: {exc}\n")
        return 5
    model = kernel.planner.backend.name if kernel.planner is not None else ""
    if args.line:
        from nlshell.line import run_line

        try:
            return run_line(kernel, cwd=cwd)
        finally:
            kernel.close()
    from nlshell.tui.app import run_tui

    return run_tui(kernel, cwd=cwd, model=model)
