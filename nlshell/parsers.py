"""The argparse trees of ``nlsh``: the main command line and the maintenance subcommands.

A leaf: the CLI parses with them, and the manual pages and shell completions are generated from them,
so none of those modules needs another.  Only ``argparse`` is imported, keeping ``nlsh --help`` fast.
"""

from __future__ import annotations

import argparse

EXIT_CODES: tuple[tuple[str, str], ...] = (
    ("0", "success"),
    ("1", "an action ran and failed"),
    ("2", "usage error"),
    ("3", "denied by policy or by the user (nothing ran)"),
    ("4", "the model could not produce a valid plan, or the request is unsupported"),
    ("5", "the model could not load"),
    ("129", "the terminal went away while the TUI or line mode ran (hang-up)"),
    ("130", "cancelled with Ctrl-C"),
)
SUBCOMMANDS = ("undo", "trash", "audit", "doctor", "config", "plugins", "man", "completions")

EPILOG = """\
exit codes: 0 success · 1 an action failed · 2 usage error · 3 denied (policy or user) ·
4 no valid plan / unsupported · 5 model could not load · 129 terminal gone (hang-up) ·
130 cancelled (Ctrl-C)

subcommands: nlsh undo [ID] · nlsh trash list|restore|empty · nlsh audit verify|show ·
nlsh doctor · nlsh config show|path|edit · nlsh plugins · nlsh man [PAGE] · nlsh completions SHELL

examples:
  nlsh "show the 5 largest files in ~/Downloads"
  echo "how much memory is left?" | nlsh -
  nlsh --json --dry-run "delete the .tmp files under ./build"
"""


def _version() -> str:
    from nlshell import __version__

    return __version__


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="nlsh",
        description="A natural-language shell: say what you want; a local model turns it into "
        "typed, permission-checked syscalls.  With no intent, opens the interactive TUI.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("intent", nargs="*", help="what you want, in words; '-' reads intents from stdin")
    p.add_argument("-f", "--file", metavar="FILE", help="read intents from FILE, one per line ('-' = stdin)")
    p.add_argument("--line", action="store_true", help="interactive line mode (prompt-toolkit) instead of the TUI")
    p.add_argument("--json", action="store_true", help="one JSON envelope per intent on stdout (see nlsh-json(5))")
    p.add_argument("-n", "--dry-run", action="store_true", help="show the plan and its exact effects; change nothing")
    p.add_argument("-y", "--yes", action="store_true",
                   help="approve what policy would ask about (never what it denies)")
    p.add_argument("-m", "--model", metavar="PATH|NAME|URL",
                   help="bundled model name (smollm2, gemma3-270m), a GGUF path, or an OpenAI-compatible URL")
    p.add_argument("--profile", metavar="NAME", help="model profile to use with --model PATH")
    p.add_argument("-t", "--threads", type=int, metavar="N", help="inference threads")
    p.add_argument("--cwd", metavar="DIR", help="working directory for relative paths (default: current)")
    p.add_argument("--explain", action="store_true", help="show retrieved examples and the raw model output")
    p.add_argument("--no-color", action="store_true", help="no colour (NO_COLOR is honoured too)")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more diagnostics on stderr")
    p.add_argument("-V", "--version", action="version", version=f"nlsh {_version()}")
    return p


def subcommand_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="nlsh", description="nlshell maintenance commands")
    p.add_argument("--json", action="store_true", help="print data as JSON")
    sub = p.add_subparsers(dest="command", required=True)
    u = sub.add_parser("undo", help="reverse the last plan, or the plan/step with ID")
    u.add_argument("id", nargs="?", help="plan or step id (see nlsh undo --list)")
    u.add_argument("--list", action="store_true", help="list undoable plans instead")
    t = sub.add_parser("trash", help="files nlshell moved to the trash (the home trash and each disk's own)")
    tsub = t.add_subparsers(dest="action", required=True)
    tsub.add_parser("list", help="list trashed entries and the trash each is in")
    r = tsub.add_parser("restore", help="restore NAME to where it was (or beside it); TRASH/files/NAME "
                                        "when the name is in more than one trash")
    r.add_argument("name")
    e = tsub.add_parser("empty", help="delete trashed entries for good, in every trash")
    e.add_argument("--older-than-days", type=float, default=None)
    a = sub.add_parser("audit", help="the hash-chained audit log")
    asub = a.add_subparsers(dest="action", required=True)
    asub.add_parser("verify", help="check the chain; report the first bad record")
    s = asub.add_parser("show", help="show the last records")
    s.add_argument("-n", "--last", type=int, default=20)
    sub.add_parser("doctor", help="check the model, policy, journal, audit log, sandbox and terminal")
    c = sub.add_parser("config", help="the configuration file")
    c.add_argument("action", choices=["show", "path", "edit"])
    sub.add_parser("plugins", help="installed syscall plugins and what they add")
    m = sub.add_parser("man", help="show a manual page")
    m.add_argument("page", nargs="?", default="nlsh",
                   choices=["nlsh", "nlsh-syscalls", "nlsh-policy", "nlsh-json"])
    comp = sub.add_parser("completions", help="print a shell completion script")
    comp.add_argument("shell", choices=["bash", "zsh", "fish"])
    return p
