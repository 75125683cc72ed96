"""``python -m nlshell.tui [--scripted FILE | --model NAME] [--cwd DIR]``: run the TUI."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nlshell.tui", description="The nlsh terminal UI.")
    parser.add_argument("--scripted", metavar="FILE", help="replay model outputs from a JSON list (no model)")
    parser.add_argument("--model", help="model name, GGUF path or server URL")
    parser.add_argument("--cwd", help="working directory for intents")
    args = parser.parse_args(argv)
    from nlshell.session_factory import open_kernel
    from nlshell.tui.app import run_tui

    kernel = open_kernel(model=f"scripted:{args.scripted}" if args.scripted else args.model)
    model = kernel.planner.backend.name if kernel.planner is not None else ""
    return run_tui(kernel, cwd=Path(args.cwd).resolve() if args.cwd else Path.cwd(), model=model)


if __name__ == "__main__":
    sys.exit(main())
