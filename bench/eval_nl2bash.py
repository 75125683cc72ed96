"""Execution-based evaluation of the model path on NL2Bash single commands.

One command:  .venv/bin/python bench/eval_nl2bash.py --per-family 5 --json out.json

Only ``test`` rows are reported (``--split dev`` for tuning).  ``--planners`` (default ``v2``, the trained
adapter) may name several, such as ``v2,shots`` (the base model planning from worked examples): they plan
the same cases in one run, each in its own fresh fixture.

Rows of ``/work/shared/eval/nl2bash-single-commands.tsv`` are sampled per
command family with a fixed seed, keeping rows whose command stays inside the
working directory (no absolute paths, ``~``, ``..``, variables, pipes).  For
each row:

1. A fixture is built from the row: the files and directories the gold command
   names (its path operands, parsed with ``shlex`` and a per-command option
   table; globs are made concrete), with several lines of distinct words, on top
   of a common tree (varied extensions, sizes, mtimes, hidden files, subdirs).
   Two identical copies are made.
2. The gold bash runs first in copy A.  If it exits non-zero, or prints nothing
   and changes nothing, the row is *gold-invalid*: skipped and counted apart.
3. nlshell's plan (planner, then the dispatcher through ``SandboxGate``) runs in
   copy B.  The row passes when
   * some step uses a call acceptable for the family (``ACCEPT``, or for the
     command: ``file`` is fs.type, numbered lines are text.number) — a plan that
     is the wrong call never passes on information it echoes from the intent;
   * **effects**: the two trees are equal (paths, types, modes, sizes, content
     hashes, link targets, mtimes — "fresh" when changed during the case);
   * **information**: every item gold printed (paths normalised to the copy
     root, numbers, text lines, MIME types, per family) appears in our result data, and
     for listings / reads / grep our rows are not a superset of gold's;
   * every step succeeded.
   A row where gold changed nothing and printed only items that occur in the
   intent passes on the call alone; it is flagged ``info_vacuous`` and those
   passes are counted in the summary.

Ownership (chown, chgrp) is ``fs.chown``.  Unsupported families (mount with operands, ifconfig with
settings): gold is never run; the right answer is ``answer`` with
``supported: false`` (or an ``Unsupported`` refusal).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import itertools
import os
import random
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from bench.eval_common import (
    CaseRecord,
    PlannerLike,
    SandboxGate,
    execute,
    failure_kind,
    is_refusal,
    plan_with_timing,
    result_data,
    side_by_side,
    walk,
)
from syscalls.dispatcher import Dispatcher
from syscalls.registry import Registry, default_registry

# The data lives in ../shared/eval beside the checkout (see its README for source and license).
TSV = Path(__file__).resolve().parents[2] / "shared" / "eval" / "nl2bash-single-commands.tsv"
DAY = 86400

FAMILY_OF = {"find": "find", "ls": "list", "tree": "list", "cat": "read", "head": "read", "tail": "read",
             "grep": "grep", "egrep": "grep", "fgrep": "grep", "du": "du", "wc": "wc", "stat": "stat",
             "file": "stat", "mkdir": "mkdir", "touch": "touch", "cp": "copy", "mv": "move", "rm": "delete",
             "rmdir": "delete", "chmod": "chmod", "ln": "symlink", "readlink": "realpath",
             "realpath": "realpath", "pwd": "pwd", "chown": "chown", "chgrp": "chgrp", "mount": "mount",
             "ifconfig": "ifconfig", "nl": "read"}
UNSUPPORTED = ("mount", "ifconfig")
ACCEPT: dict[str, set[str]] = {
    "find": {"fs.find", "fs.list"}, "list": {"fs.list", "fs.find"}, "read": {"fs.read"}, "grep": {"fs.grep"},
    "du": {"fs.du"}, "wc": {"fs.wc", "fs.read"}, "stat": {"fs.stat"}, "mkdir": {"fs.mkdir"},
    "touch": {"fs.touch", "fs.write"}, "copy": {"fs.copy"}, "move": {"fs.move"}, "delete": {"fs.delete"},
    "chmod": {"fs.chmod"}, "symlink": {"fs.symlink"}, "realpath": {"fs.realpath", "fs.stat"},
    "pwd": {"sys.info", "fs.realpath"}, "chown": {"fs.chown"}, "chgrp": {"fs.chown"},
    **{u: {"answer"} for u in UNSUPPORTED},
}
# Calls right for one command of a family (they joined the registry after the families were drawn up):
# ``file`` is fs.type, and numbered lines (``nl``, ``cat -n``) are text.number.
ACCEPT_COMMAND: dict[str, set[str]] = {"file": {"fs.type"}, "nl": {"text.number"}}
NUMBERED = {"-n", "--number", "-b", "--number-nonblank"}  # cat's options that number the lines
# Options that take a value (the next word unless attached), per command.
VALUE_OPTS: dict[str, set[str]] = {
    "head": {"-n", "-c"}, "tail": {"-n", "-c"}, "grep": {"-e", "-f", "-m", "-A", "-B", "-C", "-d", "-D"},
    "du": {"-d", "-B", "-t", "-X"}, "ls": {"-I", "-w", "-T"}, "tree": {"-L", "-P", "-I", "-H", "-T", "-o"},
    "cp": {"-t", "-S"}, "mv": {"-t", "-S"}, "ln": {"-t", "-S"}, "touch": {"-d", "-t", "-r"}, "mkdir": {"-m"},
    "stat": {"-c"}, "file": {"-m", "-f", "-F"}, "nl": {"-b", "-d", "-f", "-h", "-i", "-l", "-n", "-s", "-v", "-w"},
}
FIND_PATTERN_OPTS = {"-name", "-iname", "-path", "-ipath", "-wholename", "-iwholename"}
FIND_FILE_OPTS = {"-newer", "-anewer", "-cnewer", "-samefile"}

COMMON_TREE: dict[str, tuple[int, float]] = {
    "a.txt": (120, 1), "b.txt": (3000, 3), "notes.md": (800, 10), "report.pdf": (50_000, 40),
    "main.c": (400, 2), "util.h": (90, 2), "app.java": (700, 5), "index.html": (1500, 20),
    "style.css": (300, 20), "data.csv": (300_000, 60), "error.log": (20_000, 1), "old.log": (9000, 45),
    "big.bin": (2_500_000, 100), "script.sh": (200, 7), "backup.bak": (100, 200), "empty.txt": (0, 0),
    "src/main.py": (1000, 1), "src/util.py": (500, 8), "src/lib/core.py": (3000, 15),
    "src/lib/core.pyc": (2000, 15), "docs/readme.md": (600, 30), "docs/guide.txt": (7000, 2),
    "logs/app.log": (60_000, 3), "logs/app.log.1": (40_000, 33), "logs/old/x.log": (5000, 90),
    ".hidden": (10, 5), ".config/settings.ini": (40, 5), "tmp/cache.tmp": (64, 1), "tmp/a.tmp": (10, 12),
    "My Files/photo.jpg": (30_000, 25), "images/pic.png": (12_000, 6), "images/pic2.jpg": (8000, 70),
}
WORDS = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma "
         "tau upsilon phi chi psi omega error warning info debug foo bar baz hello world").split()


# ---------------------------------------------------------------- sampling --

def _words(cmd: str) -> list[str] | None:
    try:
        return shlex.split(cmd, comments=True)
    except ValueError:
        return None


def family_of(words: list[str]) -> str | None:
    """The family of a gold command, or None when the row is out of scope."""
    if not words or words[0] not in FAMILY_OF:
        return None
    cmd, rest = words[0], words[1:]
    if any(w in ("--help", "--version") for w in rest):
        return None
    if cmd == "mount":
        return "mount" if [w for w in rest if not w.startswith("-")] else None
    if cmd == "ifconfig":
        return "ifconfig" if len([w for w in rest if not w.startswith("-")]) >= 2 else None
    if cmd in ("chown", "chgrp"):
        return cmd if len(rest) >= 2 else None
    if cmd == "ln" and not any((w.startswith("-") and "s" in w.lstrip("-") and not w.startswith("--"))
                               or w == "--symbolic" for w in rest):
        return None  # hard links: no syscall makes one
    return FAMILY_OF[cmd]


def acceptable(words: list[str], family: str) -> set[str]:
    """The calls a plan for this gold command may use: its family's, and those right for the command."""
    calls = ACCEPT[family] | ACCEPT_COMMAND.get(words[0], set())
    if words[0] == "cat" and {o for o, _ in _split_opts("cat", words[1:])[1]} & NUMBERED:
        calls = calls | {"text.number"}
    return calls


def in_scope(words: list[str], family: str) -> bool:
    """Gold may run here: it stays in the working directory and does one simple thing."""
    if family in UNSUPPORTED:
        return True
    if any(t in ("|", ";", "&&", "||", ">", ">>", "<", "&", "2>") for t in words):
        return False
    for w in words[1:]:
        if w.startswith(("/", "~")) or "$" in w or "`" in w or "\\" in w:
            return False
        if ".." in Path(w).parts or w.startswith("../"):
            return False
        if "{" in w and "}" in w and family != "find":
            return False
    if words[0] == "find":
        if any(w in ("-exec", "-execdir", "-ok", "-okdir", "-fprint", "-fprintf", "-printf", "-fls") for w in words):
            return False
    if words[0] in ("ls", "tree", "grep", "egrep", "fgrep") and any(w.startswith("--color") for w in words):
        return False
    return not (family in ("realpath",) and len(words) < 2)


def sample(per_family: int, seed: int, families: set[str] | None = None,
           split: str = "test") -> list[dict[str, str]]:
    """Up to ``per_family`` rows of each family from ``split`` (test: report; dev: tune; never train)."""
    by: dict[str, list[dict[str, str]]] = defaultdict(list)
    with TSV.open() as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            if split != "all" and r.get("split") != split:
                continue
            words = _words(r["bash"])
            if not words:
                continue
            fam = family_of(words)
            if fam is None or (families and fam not in families) or not in_scope(words, fam):
                continue
            if fam not in UNSUPPORTED and shutil.which(words[0]) is None:
                continue  # not installed here (e.g. tree): gold could not run
            by[fam].append(r)
    rng = random.Random(seed)
    out: list[dict[str, str]] = []
    for fam in sorted(by):
        group = sorted(by[fam], key=lambda r: r["id"])
        rng.shuffle(group)
        out += [{"id": r["id"], "nl": r["nl"], "bash": r["bash"], "family": fam} for r in group[:per_family]]
    return out


# ----------------------------------------------------------------- fixture --

def concrete(glob: str) -> str:
    """A name that ``glob`` matches: ``*`` → sample, ``?`` → x, ``[..]`` → a member, ``{a,b}`` → a."""
    out = ""
    i = 0
    while i < len(glob):
        c = glob[i]
        if c == "*":
            while i + 1 < len(glob) and glob[i + 1] == "*":
                i += 1
            out += "sample"
        elif c == "?":
            out += "x"
        elif c == "[":
            j = glob.find("]", i + 2)
            if j < 0:
                out += c
            else:
                body = glob[i + 1:j]
                if body[:1] in ("!", "^"):
                    out += next(ch for ch in "zqxk" if ch not in body[1:])
                else:
                    out += body[0]
                i = j
        elif c == "{":
            j = glob.find("}", i)
            if j < 0:
                out += c
            else:
                out += glob[i + 1:j].split(",")[0]
                i = j
        else:
            out += c
        i += 1
    return out


@dataclass
class Layout:
    """What a row needs in its fixture, besides the common tree."""

    files: set[str] = field(default_factory=set)
    dirs: set[str] = field(default_factory=set)       # created with two files inside
    empty_dirs: set[str] = field(default_factory=set)
    links: set[str] = field(default_factory=set)       # symlink → a file created beside the fixture
    absent: set[str] = field(default_factory=set)      # must not exist (mkdir targets, new names)
    grep_words: list[str] = field(default_factory=list)


def _split_opts(cmd: str, args: list[str]) -> tuple[list[str], list[tuple[str, str | None]]]:
    """(operands, [(option, value)]) for a GNU-style command line."""
    ops: list[str] = []
    opts: list[tuple[str, str | None]] = []
    takes = VALUE_OPTS.get(cmd, set())
    i = 0
    end = False
    while i < len(args):
        a = args[i]
        if end or a == "-" or not a.startswith("-") or (cmd == "chmod" and re.fullmatch(r"-[rwxXst]+", a)):
            ops.append(a)
        elif a == "--":
            end = True
        elif a.startswith("--"):
            opts.append((a.split("=")[0], a.split("=", 1)[1] if "=" in a else None))
        elif a[:2] in takes:
            if len(a) > 2:
                opts.append((a[:2], a[2:]))
            else:
                opts.append((a, args[i + 1] if i + 1 < len(args) else None))
                i += 1
        else:
            opts.extend((f"-{ch}", None) for ch in a[1:])
        i += 1
    return ops, opts


def _looks_like_file(name: str) -> bool:
    return (bool(re.search(r"\.[A-Za-z0-9]{1,5}$", name)) and not name.startswith(".")) or "." in name[1:]


def layout_for(words: list[str]) -> Layout:
    cmd, args = words[0], words[1:]
    lay = Layout()
    if cmd == "find":
        starts = []
        for a in args:
            if a.startswith(("-", "(", "!", ")")):
                break
            starts.append(a)
        base = starts[0] if starts else "."
        lay.dirs.update(s for s in starts if s != ".")
        want_dir = any(a == "-type" and b == "d" for a, b in itertools.pairwise(args))
        for a, b in itertools.pairwise(args):
            if a in FIND_PATTERN_OPTS:
                name = concrete(b)
                if "path" in a:
                    name = name.removeprefix("./").lstrip("/") or "sample"
                    rel = name if "/" in name else f"{name}"
                else:
                    rel = f"{base}/{name}" if base != "." else name
                    # a second match one level down, so a plan that only looks at the top fails
                    (lay.empty_dirs if want_dir else lay.files).add(f"{base}/nested/{name}".removeprefix("./"))
                (lay.empty_dirs if want_dir else lay.files).add(rel.removeprefix("./"))
            elif a in FIND_FILE_OPTS:
                lay.files.add(b)
        return lay
    ops, opts = _split_opts(cmd, args)
    flags = {o for o, _ in opts}
    ops = [concrete(o) for o in ops]
    recursive = bool(flags & {"-r", "-R", "-a", "--recursive", "--archive"})
    if cmd in ("cat", "head", "tail", "wc", "stat", "file", "nl"):
        lay.files.update(ops)
    elif cmd in ("ls", "tree", "du"):
        for o in ops:
            o = o.rstrip("/") or "."
            if o != ".":
                (lay.files if _looks_like_file(o) else lay.dirs).add(o)
    elif cmd in ("grep", "egrep", "fgrep"):
        pats = [v for o, v in opts if o in ("-e", "--regexp") and v]
        pfile = [v for o, v in opts if o in ("-f", "--file") and v]
        if not pats and not pfile and ops:
            pats = [ops.pop(0)]
        for pf in pfile:
            lay.files.add(pf)
        lay.grep_words = [re.sub(r"[^\w .:-]", "", p) for p in pats if re.sub(r"[^\w .:-]", "", p)]
        for o in ops:
            o = o.rstrip("/") or "."
            if o != ".":
                (lay.dirs if recursive and not _looks_like_file(o) else lay.files).add(o)
    elif cmd == "mkdir":
        for o in ops:
            lay.absent.add(o.rstrip("/"))
            if not flags & {"-p", "--parents"} and "/" in o.rstrip("/"):
                lay.empty_dirs.add(o.rstrip("/").rsplit("/", 1)[0])
    elif cmd == "touch":
        ref = [v for o, v in opts if o in ("-r", "--reference") and v]
        lay.files.update(ref)
        if flags & {"-h", "--no-dereference"}:
            lay.links.update(ops)
        elif flags & {"-c", "--no-create", "-a", "-m", "-d", "-t", "--date", "-r", "--reference"}:
            lay.files.update(ops)
        else:
            lay.absent.update(ops)
    elif cmd in ("cp", "mv"):
        target = [v for o, v in opts if o in ("-t", "--target-directory") and v]
        if target:
            srcs, dest = ops, target[0]
            lay.empty_dirs.add(dest)
        elif len(ops) >= 2:
            srcs, dest = ops[:-1], ops[-1]
            if len(srcs) > 1 or dest.endswith("/") or dest == ".":
                if dest.rstrip("/") not in ("", "."):
                    lay.empty_dirs.add(dest.rstrip("/"))
            else:
                lay.absent.add(dest)
        else:
            srcs = ops
        for s in srcs:
            if s in ("...",):
                continue
            if (recursive or cmd == "mv") and (s.endswith("/") or not _looks_like_file(s)) and recursive:
                lay.dirs.add(s.rstrip("/"))
            else:
                lay.files.add(s.rstrip("/"))
    elif cmd in ("rm", "rmdir"):
        for o in ops:
            o = o.rstrip("/")
            if cmd == "rmdir":
                lay.empty_dirs.add(o)
            elif recursive and not _looks_like_file(o):
                lay.dirs.add(o)
            else:
                lay.files.add(o)
    elif cmd == "chmod":
        if not any(o.startswith("--reference") for o, _ in opts) and ops:
            ops = ops[1:]
        for o in ops:
            (lay.dirs if recursive and not _looks_like_file(o) else lay.files).add(o)
    elif cmd == "ln":
        target = [v for o, v in opts if o in ("-t", "--target-directory") and v]
        if target:
            lay.empty_dirs.add(target[0])
            lay.files.update(ops)
        elif ops:
            lay.files.add(ops[0])
            if len(ops) >= 2 and ops[-1] not in (".", "./"):
                lay.absent.add(ops[-1].rstrip("/"))
    elif cmd in ("readlink", "realpath"):
        lay.links.update(ops)
    lay.files = {f for f in lay.files if f not in (".", "") and not f.startswith("-")}
    return lay


def _text(rel: str, size: int, extra: list[str]) -> bytes:
    """Distinct numbered lines of words (every line unique in the fixture), about ``size`` bytes."""
    seed = int(hashlib.sha1(rel.encode()).hexdigest()[:8], 16)
    lines = []
    total = 0
    i = 0
    while total < size:
        i += 1
        n = 3 + (seed + i) % 6
        ws = " ".join(WORDS[(seed + i * 7 + k * 3) % len(WORDS)] for k in range(n))
        line = f"{rel} line {i}: {ws}"
        if extra and i % 4 == 2:
            line += f" {extra[(i // 4) % len(extra)]}"
        lines.append(line)
        total += len(line) + 1
    return ("\n".join(lines) + "\n").encode()[:size] if size else b""


def build(root: Path, lay: Layout, now: float) -> None:
    """The common tree plus the row's own files; every mtime set from ``now`` (identical copies)."""
    extra = lay.grep_words
    reserved = {r.rstrip("/") for r in lay.files | lay.links | lay.absent}
    for rel, (size, _age) in COMMON_TREE.items():
        if any(rel == r or rel.startswith(r + "/") for r in reserved):
            continue  # the row names this path: the row's meaning wins over the common tree
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith(".bin"):
            p.write_bytes(bytes(range(256)) * (size // 256))
        else:
            p.write_bytes(_text(rel, size, extra if rel.endswith((".txt", ".log", ".md")) else []))
    (root / "emptydir").mkdir()
    if "link_to_a" not in reserved and "a.txt" not in reserved:
        os.symlink("a.txt", root / "link_to_a")
    if "script.sh" not in reserved:
        os.chmod(root / "script.sh", 0o755)

    def safe(rel: str) -> Path | None:
        p = Path(os.path.normpath(root / rel))
        return p if root in p.parents else None

    for rel in sorted(lay.empty_dirs):
        q = safe(rel)
        if q is not None:
            q.mkdir(parents=True, exist_ok=True)
    for rel in sorted(lay.dirs):
        q = safe(rel)
        if q is not None and not q.is_file():
            q.mkdir(parents=True, exist_ok=True)
            for name in ("one.txt", "two.log"):
                (q / name).write_bytes(_text(f"{rel}/{name}", 400, extra))
    for rel in sorted(lay.files):
        q = safe(rel)
        if q is not None and not q.exists():
            q.parent.mkdir(parents=True, exist_ok=True)
            size = 200 + int(hashlib.sha1(rel.encode()).hexdigest()[:4], 16) % 1800
            q.write_bytes(_text(rel, size, extra))
    for rel in sorted(lay.links):
        q = safe(rel)
        if q is not None and not q.exists() and not q.is_symlink():
            q.parent.mkdir(parents=True, exist_ok=True)
            (q.parent / "link-target.txt").write_bytes(_text(f"{rel}-target", 300, extra))
            os.symlink("link-target.txt", q)
    for rel in sorted(lay.absent):
        q = safe(rel)
        if q is not None:
            q.parent.mkdir(parents=True, exist_ok=True)
            if q.is_dir() and not q.is_symlink():
                shutil.rmtree(q)
            elif q.exists() or q.is_symlink():
                q.unlink()
    ages = {rel: age for rel, (_s, age) in COMMON_TREE.items()}
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for name in filenames + dirnames + ["."]:
            p = Path(dirpath) / name if name != "." else Path(dirpath)
            rel = str(p.relative_to(root))
            age = ages.get(rel, 30 if p.is_dir() else 4)
            os.utime(p, (now - age * DAY, now - age * DAY), follow_symlinks=False)


def snapshot(root: Path, fresh_after: float, *, mtimes: bool = True) -> dict[str, tuple[Any, ...]]:
    """Every entry: type, mode, size, content hash / link target, mtime ("fresh" if set during the case).

    ``mtimes=False`` leaves file times out: only ``touch`` rows are about them,
    and ``fs.copy`` keeps the source's time where plain ``cp`` sets a new one.
    """
    out: dict[str, tuple[Any, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = ("l", os.readlink(p))
            elif p.is_dir():
                out[rel] = ("d", st.st_mode & 0o7777)
            else:
                digest = hashlib.sha1(p.read_bytes()).hexdigest()[:16]
                mtime: Any = ("fresh" if st.st_mtime >= fresh_after else int(st.st_mtime)) if mtimes else None
                out[rel] = ("f", st.st_mode & 0o7777, st.st_size, digest, mtime)
    return out


def diff(a: dict[str, tuple[Any, ...]], b: dict[str, tuple[Any, ...]]) -> list[str]:
    out = [f"gold has {k}" for k in sorted(a.keys() - b.keys())]
    out += [f"plan has {k}" for k in sorted(b.keys() - a.keys())]
    out += [f"{k}: gold {a[k]} plan {b[k]}" for k in sorted(a.keys() & b.keys()) if a[k] != b[k]]
    return out


# ------------------------------------------------------------- information --

LONG_RE = re.compile(r"^[-dlcbps][-rwxsStT]{9}[.+@]?\s+\d+\s+\S+\s+\S+\s+[\d,]+\s+\S+\s+\S+\s+\S+\s+(.*)$")
TREE_PREFIX = re.compile(r"^[\s│├└─|`-]*")


def _rel(s: str, root: Path) -> str:
    r = str(root)
    if s == r:
        return "."
    if s.startswith(r + "/"):
        return s[len(r) + 1:]
    s = s.removeprefix("./")
    return s.rstrip("/") or s


@dataclass
class Items:
    """What gold printed: paths (relative), names, numbers, text lines; and whether to check precision."""

    paths: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)  # strings our results must hold as they are (a MIME type)
    numbered: list[tuple[int, str]] = field(default_factory=list)  # (number, line) of a numbered read
    exact_lines: bool = False       # reads: our text lines must equal gold's, in order
    precise: bool = False           # listings / grep: our rows must all be in gold's


def gold_items(words: list[str], out: str, root: Path) -> Items:
    cmd = words[0]
    fam = FAMILY_OF[cmd]
    _ops, opts = _split_opts(cmd, words[1:]) if cmd != "find" else ([], [])
    flags = {o for o, _ in opts}
    raw = [ln for ln in out.replace("\0", "\n").splitlines() if ln.strip()]
    it = Items()
    if fam == "find":
        it.paths = [p for p in (_rel(ln.strip(), root) for ln in raw) if p != "."]
        if "-ls" in words:
            it.paths = [p.split()[-1].removeprefix("./") for p in it.paths]
        it.precise = True
    elif cmd == "ls":
        for ln in raw:
            if ln.startswith("total ") or ln.endswith(":"):
                continue
            m = LONG_RE.match(ln)
            parts = [m.group(1)] if m else (ln.split(", ") if "-m" in flags else [ln])
            for name in parts:
                name = name.split(" -> ")[0].strip().rstrip(",").removeprefix("./").rstrip("/")
                if flags & {"-b", "--escape"}:
                    name = re.sub(r"\\(.)", r"\1", name)  # ls -b escapes: "My\ Files" → "My Files"
                if name and name not in (".", ".."):
                    it.names.append(Path(name).name)
        it.precise = True
    elif cmd == "tree":
        for ln in raw[1:]:
            if re.match(r"^\d+ director(y|ies)", ln):
                continue
            name = TREE_PREFIX.sub("", ln)
            name = re.sub(r"^\[[^\]]*\]\s+", "", name).split(" -> ")[0].strip()
            if name:
                it.names.append(Path(name.removeprefix("./")).name)
    elif fam == "read":
        lines = [ln.rstrip("\n") for ln in out.splitlines()]
        if cmd == "nl" or (cmd == "cat" and flags & NUMBERED):
            # numbered lines: each number goes with its line; a line nl leaves unnumbered was empty
            marks = [re.match(r"^\s*(\d+)\t", ln) for ln in lines]
            it.numbered = [(int(m.group(1)), ln[m.end():]) for ln, m in zip(lines, marks, strict=True) if m]
            lines = [ln[m.end():] if m else ln.strip() for ln, m in zip(lines, marks, strict=True)]
        if flags & {"-E", "-e", "-A"} and cmd == "cat":
            lines = [ln.removesuffix("$") for ln in lines]
        it.lines = [ln for ln in lines if not re.fullmatch(r"==> .* <==", ln) and ln]
        it.exact_lines = not any(o in ("-c", "--bytes") for o in flags)
    elif fam == "grep":
        if flags & {"-l", "-L", "--files-with-matches", "--files-without-match"}:
            it.paths = [_rel(ln.strip(), root) for ln in raw]
            it.precise = True
        elif flags & {"-c", "--count"}:
            it.numbers = [int(ln.rsplit(":", 1)[-1]) for ln in raw if ln.rsplit(":", 1)[-1].isdigit()]
        else:
            it.lines = [ln for ln in raw]
            it.precise = True
    elif fam == "wc":
        for ln in raw:
            toks = ln.split()
            if toks and toks[-1] == "total":
                continue
            it.numbers += [int(t) for t in toks if t.isdigit()]
            if toks and not toks[-1].isdigit():
                it.paths.append(_rel(toks[-1], root))
    elif fam == "du":
        for ln in raw:
            toks = ln.split("\t")
            if len(toks) == 2:
                p = _rel(toks[1].strip(), root)
                if p != ".":
                    it.paths.append(p)
                if flags & {"-b", "--bytes"} and toks[0].strip().isdigit():
                    it.numbers.append(int(toks[0]))
    elif cmd == "file":
        brief = bool(flags & {"-b", "--brief"})
        for ln in raw:
            name, _, desc = ("", "", ln) if brief else ln.partition(": ")
            if name:
                it.paths.append(_rel(name.strip(), root))
            if flags & {"-i", "--mime"}:  # "text/plain; charset=us-ascii"
                mime, _, charset = desc.strip().partition("; charset=")
                it.values += [v for v in (mime, charset) if v]
            elif flags & {"--mime-type", "--mime-encoding"}:
                it.values.append(desc.strip())
    elif fam == "stat":
        for ln in raw:
            head = ln.split(":", 1)[0]
            it.paths.append(_rel(head.strip(), root))
            m = re.search(r"Size: (\d+)", ln)
            if m:
                it.numbers.append(int(m.group(1)))
    elif fam in ("realpath", "pwd"):
        it.paths = [_rel(ln.strip(), root) for ln in raw]
    return it


def our_items(results_data: list[Any], root: Path) -> tuple[set[str], set[str], set[int], list[str]]:
    """(relative paths, base names, numbers, text lines) found in our result data."""
    paths: set[str] = set()
    names: set[str] = set()
    numbers: set[int] = set()
    lines: list[str] = []
    for key, v in walk(results_data):
        if isinstance(v, bool) or v is None:
            continue
        if isinstance(v, (int, float)):
            if float(v).is_integer():
                numbers.add(int(v))
            continue
        s = str(v)
        if key in ("text", "line"):
            lines += s.splitlines() if key == "text" else [s]
            continue
        if s.isdigit():
            numbers.add(int(s))
        rel = _rel(s, root)
        paths.add(rel)
        names.add(Path(rel).name if rel != "." else ".")
        if key == "name":
            names.add(s)
    return paths, names, numbers, lines


def numbered_rows(value: Any) -> set[tuple[int, str]]:
    """Every (line_number, line) pair in our result data (text.number's rows)."""
    if isinstance(value, list):
        return set().union(*(numbered_rows(v) for v in value))
    if not isinstance(value, dict):
        return set()
    here = {(value["line_number"], str(value["line"]))} if isinstance(value.get("line_number"), int) \
        and "line" in value else set()
    return here.union(*(numbered_rows(v) for v in value.values()))


def primary_rows(results_data: list[Any]) -> list[dict[str, Any]]:
    """The table rows of the reading steps (entries, matches, ...)."""
    rows: list[dict[str, Any]] = []
    for data in results_data:
        if not isinstance(data, dict):
            continue
        for sub in ([data] if "rows" not in data else [d for d in data["rows"] if isinstance(d, dict)]):
            for k in ("entries", "matches"):
                if isinstance(sub.get(k), list):
                    rows += [r for r in sub[k] if isinstance(r, dict)]
    return rows


def _weak(value: str | int, intent: str) -> bool:
    """True when ``value`` could have been copied from the intent (so it proves nothing)."""
    text = intent.lower()
    if value == ".":
        return False
    if isinstance(value, int):
        return str(value) in re.findall(r"\d+", text)
    return value.lower() in text or Path(value).name.lower() in text


def check_information(words: list[str], gold: Items, results_data: list[Any], root: Path,
                      intent: str) -> tuple[bool, bool, list[str], list[str]]:
    """(ok, vacuous, missing items, extra items)."""
    paths, names, numbers, lines = our_items(results_data, root)
    missing: list[str] = []
    extra: list[str] = []
    strong = 0
    for p in gold.paths:
        strong += not _weak(p, intent)
        if p not in paths and not (p == "." and str(root) in {str(v) for _k, v in walk(results_data)}):
            missing.append(f"path {p}")
    for n in gold.names:
        strong += not _weak(n, intent)
        if n not in names:
            missing.append(f"name {n}")
    for num in gold.numbers:
        strong += not _weak(num, intent)
        if num not in numbers:
            missing.append(f"number {num}")
    if gold.numbered:
        ours_numbered = numbered_rows(results_data)
        strong += 1
        missing += [f"numbered line {n}: {t!r}" for n, t in gold.numbered if (n, t) not in ours_numbered][:5]
    strings = {v for _k, v in walk(results_data) if isinstance(v, str)}
    for value in gold.values:
        strong += not _weak(value, intent)
        if value not in strings:
            missing.append(f"value {value!r}")
    rows = primary_rows(results_data)
    if gold.exact_lines:
        strong += bool(gold.lines)
        ours = [ln for ln in lines if ln]
        if ours != gold.lines:
            missing += [f"line {ln!r}" for ln in gold.lines if ln not in ours][:5]
            extra += [f"line {ln!r}" for ln in ours if ln not in gold.lines][:5]
            if not missing and not extra:
                missing.append(f"lines differ in order or count: gold {len(gold.lines)}, ours {len(ours)}")
    elif gold.lines:
        strong += len(gold.lines)
        texts = [(str(r.get("path", "")), r.get("line_number"), str(r.get("line", ""))) for r in rows]

        def match(g: str, t: tuple[str, Any, str]) -> bool:
            path, num, text = t
            rel = _rel(path, root)
            return g in (text, f"{rel}:{text}", f"{rel}:{num}:{text}", f"{num}:{text}",
                         f"./{rel}:{text}", f"./{rel}:{num}:{text}")
        for g in gold.lines:
            if not any(match(g, t) for t in texts) and g not in lines:
                missing.append(f"line {g!r}")
        if gold.precise:
            extra += [f"match {t[0]}:{t[2]!r}" for t in texts if not any(match(g, t) for g in gold.lines)]
    if gold.precise and (gold.paths or gold.names):
        want = set(gold.paths) | set(gold.names)
        for r in rows:
            p = _rel(str(r.get("path", "")), root)
            if p != "." and p not in want and Path(p).name not in want:
                extra.append(f"row {p}")
    ok = not missing and not extra[:1]
    return ok, strong == 0, missing[:20], extra[:20]


# -------------------------------------------------------------------- case --

def run_gold(cmd: str, cwd: Path) -> tuple[int, str]:
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LC_ALL": "C.UTF-8", "HOME": str(cwd), "TZ": "UTC"}
    try:
        proc = subprocess.run(["bash", "-c", cmd], cwd=cwd, capture_output=True, text=True, timeout=10,
                              stdin=subprocess.DEVNULL, env=env, errors="replace")
    except subprocess.TimeoutExpired:
        return 124, ""
    return proc.returncode, proc.stdout


def evaluate(case: dict[str, str], planner: PlannerLike, registry: Registry, workdir: Path) -> CaseRecord:
    """One row: fixture, gold in copy A, plan in copy B, verdict."""
    fam = case["family"]
    rec = CaseRecord(id=case["id"], family=fam, intent=case["nl"], gold=case["bash"])
    words = _words(case["bash"]) or [""]
    calls_ok = acceptable(words, fam)
    tmp = Path(tempfile.mkdtemp(prefix="nl2b-", dir=workdir))
    try:
        ga, gb = tmp / "a", tmp / "b"
        ga.mkdir()
        gb.mkdir()
        if fam in UNSUPPORTED:
            plan, rec.latency_s, rec.error, kind = plan_with_timing(planner, case["nl"], gb)
            rec.plan = [s.to_dict() for s in plan.steps] if plan else None
            rec.confidence = plan.confidence if plan else None
            if is_refusal(plan) or kind == "refusal":
                rec.verdict = "pass"
            else:
                rec.kind = "wrong call" if plan is not None else kind
                rec.detail = "an unsupported intent was not refused"
            return rec
        lay = layout_for(words)
        now = time.time()
        try:
            build(ga, lay, now)
            build(gb, lay, now)
        except OSError as exc:  # the row names paths that contradict each other (a file and a dir)
            rec.verdict, rec.detail = "gold-invalid", f"fixture could not be built: {exc}"
            return rec
        fresh_after = time.time() - 1
        before = snapshot(ga, fresh_after, mtimes=fam == "touch")
        rc, out = run_gold(case["bash"], ga)
        after_a = snapshot(ga, fresh_after, mtimes=fam == "touch")
        if rc != 0 or (not out.strip() and after_a == before):
            rec.verdict = "gold-invalid"
            rec.detail = f"gold exit {rc}" if rc else "gold printed nothing and changed nothing"
            return rec
        gold = gold_items(words, out, ga)
        plan, rec.latency_s, rec.error, kind = plan_with_timing(planner, case["nl"], gb)
        if plan is None:
            rec.kind = kind
            return rec
        rec.plan = [s.to_dict() for s in plan.steps]
        rec.confidence = plan.confidence
        disp = Dispatcher(registry, gate=SandboxGate(gb, confine_reads=True))
        ex = execute(plan, disp, gb)
        rec.steps_status = [r.status for r in ex.results]
        effects = diff(after_a, snapshot(gb, fresh_after, mtimes=fam == "touch"))
        rec.effects_ok = not effects
        data = result_data(ex.results)
        # The plan's information must come from our results, never from the intent (``_weak``).
        rec.info_ok, rec.info_vacuous, rec.missing, rec.extra = check_information(words, gold, data, gb, case["nl"])
        # Vacuous: gold changed nothing and printed only what the intent already says.
        rec.info_vacuous = rec.info_vacuous and after_a == before
        rec.missing = effects[:10] + rec.missing
        all_ok = not ex.error and all(r.ok for r in ex.results)
        right_call = bool(calls_ok & {s.call for s in plan.steps})
        if right_call and rec.effects_ok and rec.info_ok and all_ok and not is_refusal(plan):
            rec.verdict = "pass"
        else:
            rec.kind = failure_kind(plan, kind, calls_ok, ex)
            errs = [f"{r.request.call}: {r.status} {(r.error or {}).get('message', '')}" for r in ex.results
                    if not r.ok]
            rec.detail = "; ".join(filter(None, [ex.error, *errs,
                                                  "" if rec.effects_ok else "effects differ",
                                                  "" if rec.info_ok else "information differs"]))
        return rec
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=None, help="bundled name (smollm2, gemma3-270m) or a .gguf path")
    ap.add_argument("--per-family", type=int, default=5)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--limit", type=int, default=None, help="stop after this many rows")
    ap.add_argument("--families", default="", help="comma-separated subset of families")
    ap.add_argument("--json", type=Path, default=None, help="write every case and the summary here")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--split", default="test", choices=("test", "dev", "all"),
                    help="rows of this split (report on test, tune on dev)")
    ap.add_argument("--planners", default="v2", help="comma-separated planners run side by side (v2, shots)")
    ap.add_argument("--min-confidence", type=float, default=None,
                    help="the planners' refusal threshold for this run (0 for bench/threshold.py)")
    a = ap.parse_args(argv)
    cases = sample(a.per_family, a.seed, set(filter(None, a.families.split(","))) or None, a.split)
    if a.limit:
        cases = cases[: a.limit]

    def show(kind: str, rec: CaseRecord) -> None:
        print(f"{kind} {rec.verdict.upper():12} [{rec.family}] {rec.intent!r}\n   gold: {rec.gold}\n"
              f"   plan: {rec.plan or rec.error}\n   {rec.kind} {rec.detail} missing={rec.missing[:4]} "
              f"extra={rec.extra[:3]}", flush=True)

    side_by_side([k for k in a.planners.split(",") if k], a.model, default_registry(), cases, evaluate,
                 meta={"seed": a.seed, "per_family": a.per_family, "split": a.split}, json_path=a.json,
                 unsupported=UNSUPPORTED, show=show if a.verbose else None, prefix="nl2bash-eval-",
                 min_confidence=a.min_confidence)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
