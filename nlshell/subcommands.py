"""``nlsh undo | trash | audit | doctor | config | plugins | man | completions``.

Each subcommand calls one function of the layer that owns the data and renders
what it returns (``--json`` prints the data itself).  Exit codes follow nlsh(1).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from nlshell.parsers import subcommand_parser

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def run_subcommand(name: str, argv: Sequence[str]) -> int:
    parser = subcommand_parser()
    # accept --json before or after the subcommand
    rest = [a for a in argv if a != "--json"]
    want_json = "--json" in argv
    try:
        args = parser.parse_args([name, *rest])
    except SystemExit as exc:
        return int(exc.code or 0)
    args.json = want_json
    handler = _HANDLERS[args.command]
    try:
        return handler(args)
    except Exception as exc:
        from syscalls.errors import SyscallError

        if isinstance(exc, SyscallError) or type(exc).__name__ in ("ConfigError", "PolicyError", "JournalError"):
            sys.stderr.write(f"nlsh {name}: {exc}\n")
            return EXIT_FAILED
        raise


def _emit(args: argparse.Namespace, data: Any, render: Callable[[Any], Any] | None = None) -> None:
    if args.json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
        return
    from rich.console import Console

    from nlshell import render as R

    console = Console(highlight=False)
    if render is not None:
        console.print(render(data))
    elif isinstance(data, list):
        console.print(R.table(data, plain=not sys.stdout.isatty()) if data else "(nothing)")
    elif isinstance(data, dict):
        console.print(R.record(data, plain=not sys.stdout.isatty()))
    else:
        console.print(str(data), markup=False)


def _undo(args: argparse.Namespace) -> int:
    from nlshell.config import use_for_storage
    from syscalls import journal

    use_for_storage()

    if args.list:
        _emit(args, journal.Journal().history())
        return EXIT_OK
    done = journal.undo(args.id)
    if not done and not args.json:
        sys.stderr.write("nlsh undo: nothing to undo\n")
        return EXIT_FAILED
    _emit(args, done)
    return EXIT_OK


def _trash(args: argparse.Namespace) -> int:
    from syscalls import journal

    if args.action == "list":
        _emit(args, journal.trash_list())
    elif args.action == "restore":
        _emit(args, journal.trash_restore(args.name))
    else:
        older = args.older_than_days * 86400 if args.older_than_days is not None else None
        _emit(args, journal.trash_empty(older_than_s=older))
    return EXIT_OK


def _audit(args: argparse.Namespace) -> int:
    from nlshell.config import use_for_storage
    from syscalls import audit

    use_for_storage()

    if args.action == "verify":
        report = audit.verify()
        _emit(args, report.to_dict())
        return EXIT_OK if report.ok else EXIT_FAILED
    _emit(args, audit.show(last=args.last))
    return EXIT_OK


def _doctor(args: argparse.Namespace) -> int:
    from nlshell import doctor

    checks = doctor.run_checks()
    if args.json:
        _emit(args, [c.to_dict() for c in checks])
    else:
        from rich.console import Console

        Console(highlight=False).print(doctor.render(checks))
    return EXIT_OK if all(c.ok for c in checks) else EXIT_FAILED


def _config(args: argparse.Namespace) -> int:
    from nlshell import config

    if args.action == "path":
        sys.stdout.write(f"{config.config_path()}\n")
        return EXIT_OK
    if args.action == "edit":
        return config.edit()
    cfg = config.load_config()
    if args.json:
        _emit(args, cfg.to_dict())
    else:
        sys.stdout.write(config.show(cfg) + "\n")
    return EXIT_OK


def _plugins(args: argparse.Namespace) -> int:
    from nlshell import plugins_cmd

    report = plugins_cmd.plugin_report()
    _emit(args, plugins_cmd.report_rows(report) if not args.json else [p.to_dict() for p in report])
    return EXIT_OK if all(p.ok for p in report) else EXIT_FAILED


def _man(args: argparse.Namespace) -> int:
    import os
    import shutil
    import subprocess
    import tempfile

    from nlshell import manpages

    text = manpages.generate(args.page)
    if sys.stdout.isatty() and shutil.which("man"):
        with tempfile.NamedTemporaryFile("w", suffix=".man", delete=False) as fh:
            fh.write(text)
        try:
            return subprocess.call(["man", "-l", fh.name])
        finally:
            os.unlink(fh.name)
    sys.stdout.write(text)
    return EXIT_OK


def _completions(args: argparse.Namespace) -> int:
    from nlshell import completions

    sys.stdout.write(completions.script(args.shell))
    return EXIT_OK


_HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "undo": _undo,
    "trash": _trash,
    "audit": _audit,
    "doctor": _doctor,
    "config": _config,
    "plugins": _plugins,
    "man": _man,
    "completions": _completions,
}
