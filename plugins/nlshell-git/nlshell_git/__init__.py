"""nlshell-git: read-only git syscalls for nlshell.

``register(registry)`` is the plugin's entry point (group ``nlshell.syscalls``).
Every call runs ``git`` with an argv list (never a shell) in the repository the
user named, with the locale fixed, optional locks off (so a status never writes
the index) and repository-configured helpers that could run programs
(``core.fsmonitor``) disabled.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from syscalls import errors as E
from syscalls import schema as S
from syscalls.registry import Registry
from syscalls.types import CallContext, JSONDict, Risk, View

__version__ = "0.1.0"
PLUGIN = "nlshell-git"

_SAFE_CONFIG = ("-c", "core.fsmonitor=false", "-c", "core.quotepath=false", "-c", "color.ui=never")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update({"LC_ALL": "C", "LANG": "C", "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0",
                "GIT_PAGER": "cat", "PAGER": "cat"})
    return env


def run_git(ctx: CallContext, repo: Path, args: list[str]) -> str:
    """Run ``git -C repo <args>``; translate every failure into a typed error naming the repo."""
    git = shutil.which("git")
    if git is None:
        raise E.NotFound("git is not installed", call=ctx.call, target="git",
                         hint="install git (e.g. apt install git) to use the git.* calls")
    if not repo.exists():
        raise E.NotFound("no such directory", call=ctx.call, target=str(repo))
    if not repo.is_dir():
        raise E.WrongType("not a directory", call=ctx.call, target=str(repo),
                          hint="name the repository's directory")
    ctx.check_cancel()
    argv = [git, *_SAFE_CONFIG, "-C", str(repo), *args]
    try:
        proc = subprocess.run(argv, capture_output=True, env=_env(), timeout=ctx.timeout_s,
                              stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired as exc:
        raise E.TimedOut(f"git {args[0]} ran past {ctx.timeout_s:g} s", call=ctx.call,
                         target=str(repo)) from exc
    except OSError as exc:
        raise E.from_oserror(exc, call=ctx.call, target=str(repo)) from exc
    ctx.check_cancel()
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip()
        if "not a git repository" in err:
            raise E.WrongType("not a git repository", call=ctx.call, target=str(repo),
                              hint="name a directory inside a git checkout")
        if "does not have any commits" in err or "bad default revision" in err:
            return ""
        if "dubious ownership" in err:
            raise E.AccessDenied("git refuses a repository owned by another user", call=ctx.call,
                                 target=str(repo), hint="see `git config --global safe.directory`")
        first = err.splitlines()[0] if err else f"exit status {proc.returncode}"
        raise E.OSFailure(f"git {args[0]} failed: {first}", call=ctx.call, target=str(repo))
    if len(proc.stdout) > ctx.max_bytes * 10:
        raise E.LimitExceeded("git printed too much", call=ctx.call, target=str(repo))
    return proc.stdout.decode("utf-8", "replace")


def _iso(ts: str) -> str:
    return datetime.fromtimestamp(int(ts), tz=timezone.utc).isoformat()


# --- git.status -------------------------------------------------------------------------

_XY = {".": "unmodified", "M": "modified", "T": "type-changed", "A": "added", "D": "deleted",
       "R": "renamed", "C": "copied", "U": "unmerged", "?": "untracked", "!": "ignored"}


def parse_status(out: str) -> JSONDict:
    """Parse ``git status --porcelain=v2 --branch -z`` output."""
    branch: str | None = None
    upstream: str | None = None
    ahead = behind = 0
    entries: list[JSONDict] = []
    tokens = out.split("\0")
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        i += 1
        if not tok:
            continue
        if tok.startswith("# branch.head "):
            head = tok[len("# branch.head "):]
            branch = None if head == "(detached)" else head
        elif tok.startswith("# branch.upstream "):
            upstream = tok[len("# branch.upstream "):]
        elif tok.startswith("# branch.ab "):
            a, b = tok[len("# branch.ab "):].split()
            ahead, behind = int(a), -int(b)
        elif tok.startswith("# "):
            continue
        elif tok[0] in "12u":
            nfields = {"1": 8, "2": 9, "u": 10}[tok[0]]
            parts = tok.split(" ", nfields)
            xy = parts[1]
            row: JSONDict = {"path": parts[nfields], "index": _XY.get(xy[0], xy[0]),
                             "worktree": _XY.get(xy[1], xy[1]), "orig_path": None}
            if tok[0] == "2":
                row["orig_path"] = tokens[i] if i < len(tokens) else None
                i += 1
            if tok[0] == "u":
                row["index"] = row["worktree"] = "unmerged"
            entries.append(row)
        elif tok[0] in "?!":
            state = _XY[tok[0]]
            entries.append({"path": tok[2:], "index": state, "worktree": state, "orig_path": None})
    return {"branch": branch, "upstream": upstream, "ahead": ahead, "behind": behind,
            "clean": not any(e["index"] != "ignored" for e in entries), "entries": entries}


# --- git.log ----------------------------------------------------------------------------

_US, _RS = "\x1f", "\x1e"


def parse_log(out: str) -> list[JSONDict]:
    rows: list[JSONDict] = []
    for rec in out.split(_RS):
        rec = rec.strip("\n")
        if not rec:
            continue
        commit, short, author, email, ts, subject = rec.split(_US, 5)
        rows.append({"commit": commit, "short": short, "author": author, "email": email,
                     "date": _iso(ts), "timestamp": int(ts), "subject": subject})
    return rows


# --- git.branches -----------------------------------------------------------------------

def parse_branches(out: str) -> list[JSONDict]:
    rows: list[JSONDict] = []
    for line in out.splitlines():
        if not line:
            continue
        name, commit, head, upstream, ts, subject, kind = line.split(_US, 6)
        if kind == "remote" and name.endswith("/HEAD"):
            continue
        rows.append({"name": name, "current": head == "*", "commit": commit,
                     "upstream": upstream or None, "date": _iso(ts) if ts else None,
                     "subject": subject, "remote": kind == "remote"})
    return rows


def register(registry: Registry) -> None:
    """Entry point: add git.status, git.log and git.branches to ``registry``."""
    repo_arg = S.path("the repository (any directory inside a git checkout); default: the current one")

    @registry.syscall(
        "git.status",
        "Show the branch of a git repository and which files are changed, staged or untracked.",
        args=S.obj({"path": repo_arg}),
        result=S.table(
            S.obj({"path": S.string(), "index": S.string(), "worktree": S.string(),
                   "orig_path": {"type": ["string", "null"]}}),
            extra={"repo": S.string(), "branch": {"type": ["string", "null"]},
                   "upstream": {"type": ["string", "null"]}, "ahead": S.integer(),
                   "behind": S.integer(), "clean": S.boolean()},
        ),
        capability="fs.read",
        risk=Risk.READ,
        view=View("table", "entries", ("path", "index", "worktree", "orig_path")),
        examples=[
            ("git status", {}),
            ("what files did I change in this repo", {"path": "."}),
            ("is the checkout in ~/src/app clean", {"path": "~/src/app"}),
        ],
        phrasings=[
            ("git status", "git.status"),
            ("what did I change in the repo in {dir}", "git.status path={dir}"),
            ("are there uncommitted changes", "git.status"),
            ("is {dir} clean", "git.status path={dir}"),
        ],
        plugin=PLUGIN,
    )
    def git_status(ctx: CallContext, args: JSONDict) -> JSONDict:
        repo = ctx.resolve(args.get("path", "."))
        out = run_git(ctx, repo, ["status", "--porcelain=v2", "--branch", "-z", "--untracked-files=all"])
        data = parse_status(out)
        rows = data["entries"]
        truncated = len(rows) > ctx.max_rows
        return {"repo": str(repo), **data, "entries": rows[: ctx.max_rows], "truncated": truncated}

    @registry.syscall(
        "git.log",
        "Show the most recent commits of a git repository, optionally only those touching one file.",
        args=S.obj({
            "path": repo_arg,
            "limit": S.integer("how many commits, newest first", minimum=1, maximum=1000),
            "file": S.path("only commits that changed this file or directory (it may be gone now)", new=True),
        }),
        result=S.table(S.obj({"commit": S.string(), "short": S.string(), "author": S.string(),
                              "email": S.string(), "date": S.string(), "timestamp": S.integer(),
                              "subject": S.string()}),
                       extra={"repo": S.string()}),
        taints=("path", "file"),
        capability="fs.read",
        risk=Risk.READ,
        view=View("table", "entries", ("short", "date", "author", "subject")),
        examples=[
            ("show the last 5 commits", {"limit": 5}),
            ("git log", {}),
            ("who changed README.md recently", {"file": "README.md", "limit": 10}),
        ],
        phrasings=[
            ("git log", "git.log"),
            ("show the last {n} commits", "git.log limit={n}"),
            ("recent commits in {dir}", "git.log path={dir}"),
            ("who changed {file} lately", "git.log file={file}"),
            ("history of {file}", "git.log file={file}"),
        ],
        plugin=PLUGIN,
    )
    def git_log(ctx: CallContext, args: JSONDict) -> JSONDict:
        repo = ctx.resolve(args.get("path", "."))
        limit = int(args.get("limit", 20))
        argv = ["log", f"--max-count={limit}", "--no-color",
                f"--format=%H{_US}%h{_US}%an{_US}%ae{_US}%at{_US}%s{_RS}"]
        if "file" in args:
            target = ctx.resolve(args["file"])
            argv += ["--", str(target)]
        rows = parse_log(run_git(ctx, repo, argv))
        return {"repo": str(repo), "entries": rows, "truncated": False}

    @registry.syscall(
        "git.branches",
        "List the branches of a git repository, the current one marked; remote-tracking ones on request.",
        args=S.obj({"path": repo_arg,
                    "remote": S.boolean("also list remote-tracking branches")}),
        result=S.table(S.obj({"name": S.string(), "current": S.boolean(), "commit": S.string(),
                              "upstream": {"type": ["string", "null"]},
                              "date": {"type": ["string", "null"]}, "subject": S.string(),
                              "remote": S.boolean()}),
                       extra={"repo": S.string()}),
        capability="fs.read",
        risk=Risk.READ,
        view=View("table", "entries", ("current", "name", "commit", "upstream", "subject")),
        examples=[
            ("list git branches", {}),
            ("which branch am I on", {"path": "."}),
            ("show all branches including remote ones", {"remote": True}),
        ],
        phrasings=[
            ("list git branches", "git.branches"),
            ("which branch am I on", "git.branches"),
            ("git branch -a", "git.branches remote=true"),
            ("show remote branches too", "git.branches remote=true"),
        ],
        plugin=PLUGIN,
    )
    def git_branches(ctx: CallContext, args: JSONDict) -> JSONDict:
        repo = ctx.resolve(args.get("path", "."))
        fmt = _US.join(["%(refname:short)", "%(objectname:short)", "%(HEAD)", "%(upstream:short)",
                        "%(committerdate:unix)", "%(contents:subject)"])
        refs = ["refs/heads"] + (["refs/remotes"] if args.get("remote") else [])
        rows: list[JSONDict] = []
        for ref in refs:
            kind = "remote" if ref == "refs/remotes" else "local"
            out = run_git(ctx, repo, ["for-each-ref", f"--format={fmt}{_US}{kind}", ref])
            rows += parse_branches(out)
        return {"repo": str(repo), "entries": rows[: ctx.max_rows], "truncated": len(rows) > ctx.max_rows}
