"""Real (request, bash) pairs translated into plans: the corpus's real phrasing.

``translate(bash)`` turns one command line (parsed with ``bashlex``) into the
steps the registry can express, or raises ``Untranslatable`` with a short,
countable reason ("find: -exec sed", "pipeline: awk", "cmd: tar").  GNU
semantics are kept: ``find -mtime +5`` is ``mtime_min_days=6`` (whole days
rounded down, as in tests/test_find_golden.py), ``-size +10k`` is at least
10,241 bytes, ``-size -1M`` at most 0 bytes.  Sizes and durations come out as
numbers in the field's unit (or a bash-style surface such as "300M" when the
bound is a whole number of units); ``surface(nl, steps)`` then writes each as
the words of the request when a span of them parses (``models.values``) to the
same value.  The one liberty: a strict size bound (``-size +10k``, "bigger
than 10KB") may be written as the request's "10KB", one byte off GNU's
10,241.  Other GNU details kept: ``find -delete`` skips '.' and empties a
directory before removing it (``min_depth=1``, reverse name order), plain
``rm`` never removes a directory, ``-prune`` also hides a matching file, and
a destination written ``DIR/`` or ``-t DIR`` keeps its slash.

``grounded(nl, steps)`` keeps a plan only when every value in it can be read
off the request (paths, names, patterns, numbers): a plan that invents values
would teach the model to invent them.  ``corpus_pairs`` yields the grounded
pairs of NL2Bash's train split (never dev or test) and of tldr-pages examples
(placeholders filled with concrete values); ``python -m
models.training.translate --stats`` prints the counts.

Data credits: NL2Bash (Lin et al., 2018; MIT) and tldr-pages contributors
(CC BY 4.0); see /work/shared/data/README.md.
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import bashlex

from models import values as V
from models.plan import REF_RE
from models.plantext import parse, render
from models.validation import validate_step
from syscalls.registry import Registry, default_registry

Step = tuple[str, dict[str, Any]]
DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
TRAIN_TSV = DATA / "nl2bash" / "train.tsv"
TLDR_TSV = DATA / "tldr" / "pairs.tsv"


class Untranslatable(Exception):
    """The command does something the registry cannot express; ``reason`` is short and countable."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


U = Untranslatable


class OutOfScope(Untranslatable):
    """The command asks for something nlshell does not do (log into another machine, mount a disk, install a
    package): its request, in real words, is one the planner must refuse (``answer supported=false``)."""


# Commands no call stands for: remote shells and copies, network probes and downloads, package managers,
# services and sessions, accounts, disks and interfaces being changed.  A train row whose command is one of
# them is an out-of-scope request.
OUT_OF_SCOPE = frozenset({
    "ssh", "scp", "sftp", "telnet", "ftp", "nc", "ping", "traceroute", "dig", "nslookup", "curl", "wget",
    "yum", "apt", "apt-get", "dnf", "brew", "pip", "npm", "crontab", "su", "screen", "tmux", "shutdown",
    "reboot", "halt", "useradd", "userdel", "usermod", "passwd", "systemctl", "service", "iptables", "mkfs",
    "fdisk", "umount", "mail", "sendmail",
})


@cache
def registry() -> Registry:
    return default_registry()


# ------------------------------------------------------------------ words --
@dataclass
class Cmd:
    """One simple command of a pipeline: its words, which were quoted, and a ``< file`` input."""

    words: list[str]
    quoted: list[bool]
    stdin: str | None = None

    @property
    def name(self) -> str:
        return self.words[0] if self.words else ""


def _check_word(node: Any) -> None:
    for sub in getattr(node, "parts", None) or []:
        kind = sub.kind
        if kind == "parameter":
            raise U("variable")
        if kind == "commandsubstitution":
            raise U("command substitution")
        if kind == "processsubstitution":
            raise U("process substitution")


def _unquote(raw: str) -> str:
    """A shell word's text as bash passes it (bashlex drops the backslash of ``"\\."`` in double quotes)."""
    out: list[str] = []
    i = 0
    quote = ""
    while i < len(raw):
        c = raw[i]
        if quote == "'":
            if c == "'":
                quote = ""
            else:
                out.append(c)
        elif c == "\\" and i + 1 < len(raw):
            n = raw[i + 1]
            if quote == '"' and n not in '$`"\\\n':
                out.append(c + n)
            elif n != "\n":
                out.append(n)
            i += 1
        elif quote == '"':
            if c == '"':
                quote = ""
            else:
                out.append(c)
        elif c in "'\"":
            if c == "'" and out[-1:] == ["$"]:
                raise U("ansi quote")
            quote = c
        else:
            out.append(c)
        i += 1
    return "".join(out)


def _cmd(node: Any, source: str) -> Cmd:
    words: list[str] = []
    quoted: list[bool] = []
    stdin = None
    for part in node.parts:
        if part.kind == "word":
            _check_word(part)
            raw = source[part.pos[0]:part.pos[1]]
            words.append(_unquote(raw))
            quoted.append(any(q in raw for q in "'\"\\"))
        elif part.kind == "redirect":
            out = part.output
            target = getattr(out, "word", None)
            if part.type in (">", ">>") and part.input == 2 and target == "/dev/null":
                continue  # errors discarded: nothing a plan shows differently
            if part.type == ">&" and part.input == 2:
                continue
            if part.type == "<" and target is not None:
                _check_word(out)
                stdin = target
                continue
            raise U("redirect")
        elif part.kind == "assignment":
            raise U("assignment")
        else:
            raise U(part.kind)
    if words and words[0] == "sudo":
        if len(words) > 1 and words[1].startswith("-"):
            raise U("sudo: options")
        words, quoted = words[1:], quoted[1:]
    if not words:
        raise U("empty")
    return Cmd(words, quoted, stdin)


def _pipeline(bash: str) -> list[Cmd]:
    if "\n" in bash.strip():
        raise U("several lines")
    try:
        trees = bashlex.parse(bash)
    except Exception:  # bashlex raises its own errors and the odd NotImplementedError
        raise U("parse") from None
    if len(trees) != 1:
        raise U("list")
    node = trees[0]
    if node.kind == "command":
        return [_cmd(node, bash)]
    if node.kind == "pipeline":
        cmds = []
        for part in node.parts:
            if part.kind == "command":
                cmds.append(_cmd(part, bash))
            elif part.kind != "pipe":
                raise U("compound")
        return cmds
    if node.kind == "list":
        raise U("list")
    raise U("compound")


# ---------------------------------------------------------------- options --
def _options(words: list[str], takes: str = "", long_takes: tuple[str, ...] = (),
             numeric_short: bool = False) -> tuple[list[tuple[str, str | None]], list[str]]:
    """GNU-style options: ([(option, value)], operands); short options in ``takes`` have a value."""
    opts: list[tuple[str, str | None]] = []
    ops: list[str] = []
    i = 0
    end = False
    while i < len(words):
        w = words[i]
        if end or w == "-" or not w.startswith("-"):
            ops.append(w)
        elif w == "--":
            end = True
        elif w.startswith("--"):
            key, eq, val = w.partition("=")
            if eq:
                opts.append((key, val))
            elif key in long_takes:
                if i + 1 >= len(words):
                    raise U(f"{key} without a value")
                opts.append((key, words[i + 1]))
                i += 1
            else:
                opts.append((key, None))
        elif numeric_short and w[1:].isdigit():
            opts.append(("-n", w[1:]))
        else:
            j = 1
            while j < len(w):
                c = w[j]
                if c in takes:
                    val = w[j + 1:]
                    if not val:
                        if i + 1 >= len(words):
                            raise U(f"-{c} without a value")
                        val = words[i + 1]
                        i += 1
                    opts.append((f"-{c}", val))
                    break
                opts.append((f"-{c}", None))
                j += 1
        i += 1
    return opts, ops


def _only(cmd: str, opts: list[tuple[str, str | None]], allowed: set[str]) -> None:
    for o, _v in opts:
        if o not in allowed:
            raise U(f"{cmd}: {o}")


def _int(text: str | None, what: str) -> int:
    if text is None or not re.fullmatch(r"\d+", text):
        raise U(f"{what}: not a number")
    return int(text)


GLOB_CHARS = set("*?[")


def _is_glob(word: str, quoted: bool) -> bool:
    return not quoted and bool(GLOB_CHARS & set(word))


def _path(word: str, *, keep_slash: bool = False) -> str:
    """An operand as a path argument; a trailing slash is dropped unless it means "a directory" (``dest``)."""
    if word.startswith("-"):
        raise U("dash operand")
    if re.search(r"\{[^}]*(,|\.\.)[^}]*\}", word):
        raise U("brace expansion")
    if word.startswith("~") and not word.startswith(("~/",)) and word != "~":
        raise U("~user")
    if word != "/" and word.endswith("/"):
        word = (word.rstrip("/") or "/") + ("/" if keep_slash and word.rstrip("/") else "")
    return word


def _dest(word: str, into: bool) -> str:
    """A copy or move destination: ``-t DIR`` and ``DIR/`` keep the slash that says it must be a directory."""
    dest = _path(word, keep_slash=True)
    return dest if not into or dest.endswith("/") else dest + "/"


def _glob_find(word: str) -> Step:
    """A shell glob operand (``*.txt``, ``logs/*.log``) as the find that lists what it expands to."""
    word = _path(word)
    head, _, tail = word.rpartition("/")
    if GLOB_CHARS & set(head):
        raise U("glob in a directory")
    if not tail:
        raise U("glob")
    args: dict[str, Any] = {"path": head or ("/" if word.startswith("/") else ".")}
    if tail != "*":
        args["name"] = tail
    if tail[0] in GLOB_CHARS and "." not in tail.lstrip("*?"):
        args["not_name"] = ".*"  # the shell's wildcards skip dot files
    args.update(min_depth=1, max_depth=1)
    return ("fs.find", args)


def _operands(cmd: Cmd, ops: list[str]) -> list[tuple[str, bool]]:
    """Operands with whether each is an unquoted glob."""
    quoted = dict(zip(cmd.words, cmd.quoted, strict=True))
    return [(o, _is_glob(o, quoted.get(o, False))) for o in ops]


# ------------------------------------------------------------ per file op --
REF = "$0.path"


def _per_path(argv: list[str], ref: str = REF) -> Step:
    """The step that does ``argv`` (with ``{}`` or a trailing operand) to each found path."""
    if not argv:
        raise U("xargs: no command")
    name = argv[0]
    rest = argv[1:]
    if "{}" not in rest and not any("{}" in w for w in rest):
        rest = [*rest, "{}"]
    if name in ("sh", "bash", "xargs", "sudo"):
        raise U(f"exec {name}")
    if any("{}" in w and w != "{}" for w in rest):
        raise U(f"exec {name}: {{}} inside a word")
    if name == "rm":
        opts, ops = _options(rest)
        _only("rm", opts, {"-f", "-r", "-R", "-v", "--force", "--recursive", "-d"})
        if ops != ["{}"]:
            raise U("exec rm: operands")
        args: dict[str, Any] = {"path": ref}
        if any(o in ("-r", "-R", "--recursive") for o, _ in opts):
            args["recursive"] = True
        elif not any(o == "-d" for o, _ in opts):
            args["_files_only"] = True  # plain rm refuses directories
        return ("fs.delete", args)
    if name == "rmdir":
        if rest != ["{}"]:
            raise U("exec rmdir: options")
        return ("fs.delete", {"path": ref})
    if name == "chmod":
        opts, ops = _options([w for w in rest if not re.fullmatch(r"-[rwxXst]+", w)])
        mode_ops = [w for w in rest if re.fullmatch(r"-[rwxXst]+", w)]
        _only("chmod", opts, {"-R", "-v", "-f", "-c", "--recursive"})
        ops = mode_ops + ops
        if len(ops) != 2 or ops[1] != "{}":
            raise U("exec chmod: operands")
        args = {"path": ref, "mode": _mode(ops[0])}
        if any(o in ("-R", "--recursive") for o, _ in opts):
            args["recursive"] = True
        return ("fs.chmod", args)
    if name == "wc":
        opts, ops = _options(rest)
        _only("wc", opts, {"-l", "-w", "-c", "-m", "--lines", "--words", "--bytes", "--chars"})
        if ops != ["{}"]:
            raise U("exec wc: operands")
        return ("fs.wc", {"path": ref})
    if name in ("grep", "egrep", "fgrep"):
        args = _grep_args(name, rest, per_file=True)
        args["path"] = ref
        return ("fs.grep", args)
    if name == "cat":
        if rest != ["{}"]:
            raise U("exec cat: options")
        return ("fs.read", {"path": ref})
    if name in ("head", "tail"):
        args, ops = _read_opts(name, rest)
        if ops != ["{}"]:
            raise U(f"exec {name}: operands")
        return ("fs.read", {"path": ref, **args})
    if name in CHECKSUMS:
        if rest != ["{}"]:
            raise U(f"exec {name}: options")
        return ("fs.checksum", {"path": ref, "algorithm": CHECKSUMS[name]})
    if name == "stat":
        if rest != ["{}"]:
            raise U("exec stat: options")
        return ("fs.stat", {"path": ref})
    if name in ("mv", "cp"):
        opts, ops = _options(rest, takes="t", long_takes=("--target-directory",))
        allowed = {"-f", "-v", "-n", "-t", "--target-directory", "--no-clobber"}
        if name == "cp":
            allowed |= {"-r", "-R", "-a", "-p", "--recursive", "--archive"}
        _only(name, opts, allowed)
        target = [v for o, v in opts if o in ("-t", "--target-directory")]
        if target and ops == ["{}"]:
            dest = target[0]
        elif not target and len(ops) == 2 and ops[0] == "{}":
            dest = ops[1]
        else:
            raise U(f"exec {name}: operands")
        assert dest is not None
        args = {"src": ref, "dest": _dest(dest, bool(target))}
        if name == "cp" and any(o in ("-r", "-R", "-a", "--recursive", "--archive") for o, _ in opts):
            args["recursive"] = True
        if any(o in ("-n", "--no-clobber") for o, _ in opts):
            args["no_clobber"] = True
        return ("fs.move" if name == "mv" else "fs.copy", args)
    if name == "du":
        opts, ops = _options(rest)
        _only("du", opts, {"-s", "-h", "-b", "-k", "-m", "--summarize"})
        if ops != ["{}"]:
            raise U("exec du: operands")
        return ("fs.du", {"path": ref})
    if name == "touch":
        if rest != ["{}"]:
            raise U("exec touch: options")
        return ("fs.touch", {"path": ref})
    if name in ("chown", "chgrp"):
        opts, ops = _options(rest)
        _only(name, opts, {"-R", "-h", "-v", "-f", "--recursive"})
        if len(ops) != 2 or ops[1] != "{}":
            raise U(f"exec {name}: operands")
        args = {"path": ref, **_owner(name, ops[0])}
        if any(o in ("-R", "--recursive") for o, _ in opts):
            args["recursive"] = True
        return ("fs.chown", args)
    if name == "ls":
        opts, ops = _options(rest)
        if ops != ["{}"] or any(o not in ("-l", "-a", "-A", "-h", "-1") for o, _v in opts):
            raise U("exec ls: options")
        flags = {o for o, _v in opts}
        args = {"path": ref}
        if flags & {"-a", "-A"}:
            args["hidden"] = True
        if "-l" in flags:
            args["long"] = True
        return ("fs.list", args)
    raise U(f"exec {name}")


def _xargs(words: list[str]) -> tuple[list[str], bool]:
    """The command xargs runs (``{}`` where each input goes), and whether it reads NUL-separated names."""
    i = 1
    replace = None
    null = False
    while i < len(words) and words[i].startswith("-"):
        w = words[i]
        null = null or w in ("-0", "--null") or bool(re.fullmatch(r"-0r|-r0", w))
        if w in ("-0", "--null", "-r", "--no-run-if-empty", "-t", "--verbose"):
            pass
        elif w in ("-n", "-L", "-P"):
            i += 1
        elif re.fullmatch(r"-[nLP]\d+", w) or re.fullmatch(r"-0[r]?|-r0", w):
            pass
        elif w == "-I":
            replace = words[i + 1] if i + 1 < len(words) else None
            i += 1
        elif w.startswith("-I"):
            replace = w[2:]
        elif w == "-i":
            replace = "{}"
        else:
            raise U(f"xargs: {w}")
        i += 1
    argv = words[i:]
    if not argv:
        raise U("xargs: no command")
    if replace is not None:
        argv = [("{}" if w == replace else w) for w in argv]
    return argv, null


# ------------------------------------------------------------------- find --
FIND_TYPES = {"f": "file", "d": "dir", "l": "symlink", "p": "fifo", "s": "socket", "c": "char_device",
              "b": "block_device"}
SIZE_UNIT = {"c": 1, "w": 2, "b": 512, "": 512, "k": 1024, "M": 1024**2, "G": 1024**3}
F_NOARG = {"-print", "-print0", "-delete", "-prune", "-quit", "-ls", "-empty", "-readable", "-writable",
           "-executable", "-nouser", "-nogroup", "-true", "-false", "-depth", "-xdev", "-mount", "-follow",
           "-daystart", "-noleaf", "-ignore_readdir_race", "-d", "-nowarn"}
F_ONEARG = {"-name", "-iname", "-path", "-ipath", "-wholename", "-iwholename", "-regex", "-iregex", "-type",
            "-xtype", "-size", "-mtime", "-atime", "-ctime", "-mmin", "-amin", "-cmin", "-newer", "-anewer",
            "-cnewer", "-user", "-group", "-uid", "-gid", "-perm", "-maxdepth", "-mindepth", "-regextype",
            "-links", "-inum", "-samefile", "-fstype", "-printf", "-fprint", "-fls", "-used", "-lname",
            "-ilname", "-fprint0", "-fprintf", "-newermt", "-context"}
F_EXEC = {"-exec", "-execdir", "-ok", "-okdir"}
F_ACTIONS = {"-print", "-print0", "-delete", "-ls", "-quit", "-exec", "-execdir", "-ok", "-okdir", "-printf"}
F_GLOBAL = {"-maxdepth", "-mindepth", "-depth", "-d", "-xdev", "-mount", "-follow", "-regextype", "-noleaf",
            "-ignore_readdir_race", "-nowarn"}

Node = tuple[Any, ...]


class _FindParser:
    def __init__(self, toks: list[str]) -> None:
        self.toks = toks
        self.i = 0

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def parse(self) -> Node:
        node = self.or_()
        if self.peek() is not None:
            raise U(f"find: unexpected {self.peek()}")
        return node

    def or_(self) -> Node:
        parts = [self.and_()]
        while self.peek() in ("-o", "-or"):
            self.i += 1
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else ("or", parts)

    def and_(self) -> Node:
        parts = [self.unary()]
        while self.peek() not in (None, "-o", "-or", ")"):
            if self.peek() in ("-a", "-and"):
                self.i += 1
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else ("and", parts)

    def unary(self) -> Node:
        t = self.peek()
        if t is None:
            raise U("find: incomplete expression")
        if t in ("!", "-not"):
            self.i += 1
            return ("not", self.unary())
        if t == "(":
            self.i += 1
            node = self.or_()
            if self.peek() != ")":
                raise U("find: unbalanced parentheses")
            self.i += 1
            return node
        if t == ",":
            raise U("find: ,")
        self.i += 1
        if t in F_NOARG:
            return ("p", t)
        if t in F_ONEARG:
            if self.peek() is None:
                raise U(f"find: {t} without a value")
            v = self.toks[self.i]
            self.i += 1
            return ("p", t, v)
        if t in F_EXEC:
            start = self.i
            while self.i < len(self.toks) and self.toks[self.i] not in (";", "+"):
                self.i += 1
            if self.i >= len(self.toks):
                raise U("find: -exec without ;")
            argv = self.toks[start:self.i]
            self.i += 1
            return ("p", t, argv)
        raise U(f"find: {t}")


def _flatten_and(node: Node) -> list[Node]:
    if node[0] == "and":
        out: list[Node] = []
        for p in node[1]:
            out += _flatten_and(p)
        return out
    return [node]


def _size(spec: str) -> tuple[int | None, int | None]:
    """(min bytes, max bytes) for GNU ``-size [+-]N[cwbkMG]`` (units round up)."""
    m = re.fullmatch(r"([+-]?)(\d+)([cwbkMG]?)", spec)
    if not m:
        raise U("find: -size form")
    sign, n, unit = m.group(1), int(m.group(2)), SIZE_UNIT[m.group(3)]
    if sign == "+":
        return n * unit + 1, None
    if sign == "-":
        return None, max(0, (n - 1) * unit)
    return (n - 1) * unit + 1 if n > 0 else 0, n * unit


def _size_value(nbytes: int) -> int | str:
    """A bash-style surface ("300M") when ``nbytes`` is a whole number of k/M/G, else the integer."""
    for suffix, unit in (("G", 1024**3), ("M", 1024**2), ("k", 1024)):
        if nbytes and nbytes % unit == 0:
            return f"{nbytes // unit}{suffix}"
    return nbytes


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _time(test: str, spec: str) -> dict[str, Any]:
    """GNU ``-mtime/-mmin`` and friends: ``+N`` older, ``-N`` newer, ``N`` exactly (tests/test_find_golden)."""
    m = re.fullmatch(r"([+-]?)(\d+)", spec)
    if not m:
        raise U(f"find: {test} form")
    sign, n = m.group(1), int(m.group(2))
    attr = {"m": "mtime", "a": "atime", "c": "ctime"}[test[1]]
    days = test.endswith("time")
    unit = "days" if days else "minutes"
    lo: float | None
    hi: float | None
    if days:  # whole days, the fraction dropped: +N = at least N+1 days
        lo, hi = {"+": (n + 1, None), "-": (None, n), "": (n, n + 1)}[sign]
    else:  # minutes, rounded up: +N = over N, N = (N-1, N]
        lo, hi = {"+": (n, None), "-": (None, n), "": (max(0, n - 1), n)}[sign]
    out: dict[str, Any] = {}
    if lo:
        out[f"{attr}_min_{unit}"] = _num(lo)
    if hi is not None:
        if hi == 0 and sign == "-":
            raise U(f"find: {test} -0")
        out[f"{attr}_max_{unit}"] = _num(hi)
    return out


_SYM_PERM = re.compile(r"([ugoa]*)([=+])([rwx]+)")


def _perm(spec: str) -> tuple[str, str]:
    match = "exact"
    if spec[:1] == "-":
        match, spec = "all", spec[1:]
    elif spec[:1] in "/+":
        match, spec = "any", spec[1:]
    if re.fullmatch(r"[0-7]{1,4}", spec):
        if len(spec) == 4 and spec[0] != "0":
            raise U("find: -perm special bits")
        return spec, match
    bits = 0
    for part in spec.split(","):
        m = _SYM_PERM.fullmatch(part)
        if not m:
            raise U("find: -perm symbolic form")
        who = m.group(1) or "a"
        if "a" in who:
            who = "ugo"
        for w in who:
            shift = {"u": 6, "g": 3, "o": 0}[w]
            for p in m.group(3):
                bits |= {"r": 4, "w": 2, "x": 1}[p] << shift
    if match == "exact" and "+" in spec:
        raise U("find: -perm symbolic form")
    return f"{bits:03o}", match


def _gnu_regex(rx: str, operators: str, refused: str, reason: str) -> str:
    """A GNU regular expression whose backslashed ``operators`` are the operators as a Python one; a
    backslash before one of ``refused`` has no Python equivalent here (``Untranslatable(reason)``)."""
    out = []
    i = 0
    while i < len(rx):
        c = rx[i]
        if c == "\\" and i + 1 < len(rx):
            n = rx[i + 1]
            if n in operators:
                out.append(n)
            elif n in refused:
                raise U(reason)
            else:
                out.append("\\" + n)
            i += 2
            continue
        out.append("\\" + c if c in operators else c)
        i += 1
    return "".join(out)


def _emacs_regex(rx: str) -> str:
    """GNU find's default (emacs) regular expression as a Python one."""
    if "[[:" in rx:
        raise U("find: -regex class")
    return _gnu_regex(rx, "()|{}", "<>`'bBwWsS", "find: -regex escape")


def _name_tests(node: Node) -> list[str] | None:
    """The patterns of ``-name a -o -name b ...`` (or one -name), else None."""
    if node[0] == "p" and node[1] == "-name":
        return [node[2]]
    if node[0] == "or":
        out: list[str] = []
        for p in node[1]:
            sub = _name_tests(p)
            if sub is None:
                return None
            out += sub
        return out
    return None


def _prune_patterns(node: Node) -> tuple[list[Node], bool] | None:
    """The ``-name``/``-path`` tests of a ``... -prune`` branch and whether it is limited to directories."""
    items = _flatten_and(node)
    if not items or items[-1] != ("p", "-prune"):
        return None
    tests: list[Node] = []
    dirs_only = False
    for it in items[:-1]:
        if it == ("p", "-type", "d"):
            dirs_only = True
        elif it[0] == "p" and it[1] in ("-name", "-path", "-wholename"):
            tests.append(it)
        elif it[0] == "or" and all(p[0] == "p" and p[1] in ("-name", "-path", "-wholename") for p in it[1]):
            tests += list(it[1])
        else:
            return None
    return (tests, dirs_only) if tests else None


def _has_action(items: list[Node]) -> bool:
    return any(it[0] == "p" and it[1] in F_ACTIONS for it in items)


def t_find(cmd: Cmd) -> list[Step]:
    words = cmd.words[1:]
    args: dict[str, Any] = {}
    while words and words[0] in ("-L", "-H", "-P"):
        if words[0] == "-L":
            args["follow_symlinks"] = True
        words = words[1:]
    starts: list[str] = []
    while words and not words[0].startswith("-") and words[0] not in ("(", "!", ")"):
        starts.append(words.pop(0))
    if len(starts) > 1:
        return _several_starts(cmd, starts)
    quoted = dict(zip(cmd.words, cmd.quoted, strict=True))
    if starts and _is_glob(starts[0], quoted.get(starts[0], False)):
        raise U("find: glob start path")
    args_path = _path(starts[0]) if starts else None
    if args_path is not None and args_path != ".":
        args["path"] = args_path
    if not words:
        return [("fs.find", args)]
    tree = _FindParser(words).parse()
    pruned: tuple[list[Node], bool] | None = None
    if tree[0] == "or" and len(tree[1]) == 2:
        pruned = _prune_patterns(tree[1][0])
        if pruned is not None:
            rest = _flatten_and(tree[1][1])
            if not _has_action(rest):
                raise U("find: -prune without an action")
            tree = ("and", rest)
    items = _flatten_and(tree)
    if pruned is not None:
        args["exclude_dirs"] = [t[2] for t in pruned[0]]
    action: Node | None = None
    limit_one = False
    for it in items:
        if action is not None and not (it[0] == "p" and (it[1] in F_GLOBAL or it[1] == "-quit")):
            raise U("find: test after an action")
        if it[0] == "or":
            names = _name_tests(it)
            if names is None:
                raise U("find: -o")
            _put(args, "any_name", names)
            continue
        if it[0] == "not":
            inner = it[1]
            if inner[0] != "p":
                raise U("find: ! ( )")
            neg = {"-name": "not_name", "-path": "not_path", "-wholename": "not_path"}
            if inner[1] in neg:
                _put(args, neg[inner[1]], inner[2])
            elif inner[1] == "-empty":
                _put(args, "empty", False)
            else:
                raise U(f"find: ! {inner[1]}")
            continue
        if it[0] != "p":
            raise U("find: expression")
        t = it[1]
        v = it[2] if len(it) > 2 else None
        if t in ("-print", "-print0", "-ls"):
            action = action or it
            if t == "-print0":
                args["_print0"] = True
        elif t == "-printf":
            assert isinstance(v, str)
            if _printf_details(v):
                args["details"] = True
            action = action or ("p", "-print")
        elif t in ("-delete", *F_EXEC):
            if action is not None and action[1] not in ("-print", "-print0"):
                raise U("find: two actions")
            action = it
        elif t == "-quit":
            limit_one = True
        elif t in ("-depth", "-d", "-xdev", "-mount", "-noleaf", "-ignore_readdir_race", "-nowarn", "-true"):
            continue
        elif t == "-follow":
            args["follow_symlinks"] = True
        elif t == "-regextype":
            if v not in ("posix-extended", "posix-egrep", "egrep", "emacs"):
                raise U(f"find: -regextype {v}")
            args["_regextype"] = v
        elif t in ("-name", "-iname", "-regex", "-iregex", "-newer", "-user", "-group"):
            _put(args, {"-name": "name", "-iname": "iname", "-regex": "regex", "-iregex": "iregex",
                        "-newer": "newer_than", "-user": "user", "-group": "group"}[t], v)
        elif t in ("-path", "-wholename"):
            _put(args, "path_glob", v)
        elif t in ("-uid", "-gid"):
            _put(args, "user" if t == "-uid" else "group", str(_int(v, t)))
        elif t == "-type":
            if v not in FIND_TYPES:
                raise U("find: -type list")
            _put(args, "type", FIND_TYPES[v])
        elif t == "-size":
            assert isinstance(v, str)
            lo, hi = _size(v)
            if lo is not None:
                _put(args, "size_min_bytes", lo)
            if hi is not None:
                _put(args, "size_max_bytes", hi)
        elif t in ("-mtime", "-atime", "-ctime", "-mmin", "-amin", "-cmin"):
            assert isinstance(v, str)
            for key, val in _time(t, v).items():
                _put(args, key, val)
        elif t in ("-maxdepth", "-mindepth"):
            _put(args, "max_depth" if t == "-maxdepth" else "min_depth", _int(v, f"find {t}"))
        elif t in ("-empty", "-readable", "-writable", "-executable", "-nouser", "-nogroup"):
            _put(args, t[1:], True)
        elif t == "-perm":
            assert isinstance(v, str)
            bits, match = _perm(v)
            _put(args, "perm", bits)
            if match != "exact":
                args["perm_match"] = match
        else:
            raise U(f"find: {t}")
    if pruned is not None and not pruned[1] and not ({"name", "iname", "any_name", "path_glob", "regex",
                                                       "iregex"} & set(args)):
        # -prune also hides a file that matches; a directory-only exclusion would list it
        if len(pruned[0]) > 1:
            raise U("find: -prune of files")
        test = pruned[0][0]
        _put(args, "not_name" if test[1] == "-name" else "not_path", test[2])
    rx = args.pop("_regextype", "emacs")
    for key in ("regex", "iregex"):
        if key in args and rx == "emacs":
            args[key] = _emacs_regex(args[key])
    for key in ("size_min_bytes", "size_max_bytes"):
        if key in args:
            args[key] = _size_value(args[key])
    if limit_one:
        if action is None or action[1] not in ("-print", "-print0"):
            raise U("find: -quit")
        args["limit"] = 1
    if "size_min_bytes" in args and "size_max_bytes" in args \
            and V.size_bytes(args["size_min_bytes"]) > V.size_bytes(args["size_max_bytes"]):
        raise U("find: empty size range")
    for attr in ("mtime", "atime", "ctime"):
        for unit in ("days", "minutes"):
            lo, hi = args.get(f"{attr}_min_{unit}"), args.get(f"{attr}_max_{unit}")
            if lo is not None and hi is not None and lo >= hi:
                raise U("find: empty time range")
    steps: list[Step] = [("fs.find", args)]
    if action is None or action[1] in ("-print", "-print0", "-ls"):
        return steps
    if action[1] == "-delete" or (action[2][:1] == ["rm"] if action[1] in F_EXEC else False):
        _skip_start(args)
    if action[1] == "-delete":
        _children_first(args)
        steps.append(("fs.delete", {"path": REF}))
    else:
        if action[1] in ("-ok", "-okdir"):
            raise U("find: -ok")
        if not any("{}" in w for w in action[2]):
            raise U("find: -exec without {}")
        if _listing_exec(args, list(action[2])):
            return steps
        steps.append(_check_rm(args, _per_path(list(action[2]))))
        if steps[-1][0] == "fs.delete":
            _children_first(args)
    return steps


_PRINTF = re.compile(r"%(?:[pPfh]|[skb]|[tcaT][@a-zA-Z+]?|[ACT][a-zA-Z@+])|\\[nt0]|%%|[^%\\]")


def _printf_details(fmt: str) -> bool:
    """Whether a ``-printf`` format prints sizes or times (details); other directives are Untranslatable."""
    pos = 0
    details = False
    for m in _PRINTF.finditer(fmt):
        if m.start() != pos:
            break
        pos = m.end()
        tok = m.group(0)
        if tok.startswith("%") and tok != "%%" and tok[1] not in "pPfh":
            if tok[1] in "ca" or tok[1:2] in ("C", "A"):
                raise U("find: -printf %c/%a")
            details = True
    if pos != len(fmt) or not re.search(r"%[pPf]", fmt):
        raise U("find: -printf")
    return details


def _listing_exec(find_args: dict[str, Any], argv: list[str]) -> bool:
    """``-exec echo {}`` and ``-exec ls -l {}`` on files only list what was found (ls: with details)."""
    if argv in (["echo", "{}"], ["printf", "%s\\n", "{}"]):
        return True
    if argv[:1] == ["ls"] and argv[-1:] == ["{}"]:
        opts, ops = _options(argv[1:-1])
        if ops or any(o not in ("-l", "-d", "-h", "-a", "-s", "-i", "-1", "-L", "-b", "-F") for o, _v in opts):
            raise U("exec ls: options")
        flags = {o for o, _v in opts}
        if find_args.get("type") not in ("file", "symlink") and "-d" not in flags:
            return False  # ls of a directory lists what is in it: fs.list of each (``_per_path``)
        if flags & {"-l", "-s"}:
            find_args["details"] = True
        return True
    return False


def _check_rm(find_args: dict[str, Any], step: Step) -> Step:
    """Plain ``rm`` skips directories: only a find that cannot list one may feed fs.delete."""
    call, args = step
    if args.pop("_files_only", False) and (
            find_args.get("type") == "dir"
            or (find_args.get("type") is None and (find_args.get("empty") is not None or not (
                {"name", "iname", "any_name", "path_glob", "regex", "iregex"} & set(find_args))))):
        raise U("find: rm of directories")
    return (call, args)


def _may_match(args: dict[str, Any], name: str) -> bool:
    """Whether the start path (base name ``name``, a directory) may pass the find's tests."""
    if args.get("type") not in (None, "dir") or args.get("empty") or "min_depth" in args:
        return False
    for key in ("name", "iname"):
        if key in args and not fnmatch.fnmatch(name.lower() if key == "iname" else name,
                                               args[key].lower() if key == "iname" else args[key]):
            return False
    if "any_name" in args and not any(fnmatch.fnmatchcase(name, p) for p in args["any_name"]):
        return False
    return True


def _children_first(args: dict[str, Any]) -> None:
    """Deleting what a find lists that may hold directories and their contents: contents first.

    find -delete works depth-first; the reverse of name order lists a directory after everything
    in it, so each directory is empty (or already gone with its parent's recursive delete) in turn.
    """
    if args.get("type") not in (None, "dir") or {"name", "iname", "any_name", "path_glob", "regex",
                                                 "iregex"} & set(args):
        return
    args.update(sort="name", reverse=True)


def _several_starts(cmd: Cmd, starts: list[str]) -> list[Step]:
    """``find a b -name x``: one find per start path (with its action, references renumbered)."""
    i = cmd.words.index(starts[0])
    head, tail = cmd.words[:i], cmd.words[i + len(starts):]
    qi = dict(zip(cmd.words, cmd.quoted, strict=True))
    steps: list[Step] = []
    for start in starts:
        words = [*head, start, *tail]
        part = t_find(Cmd(words, [qi.get(w, False) for w in words]))
        base = len(steps)
        for call, args in part:
            steps.append((call, {k: (f"${base}.path" if v == REF else v) for k, v in args.items()}))
    return steps


def _skip_start(args: dict[str, Any]) -> None:
    """A deletion never acts on '.': find -delete skips it and rm refuses it (min_depth=1).

    Another start path would be acted on by find too, before its contents: not a plan to train on.
    """
    path = args.get("path", ".")
    if not _may_match(args, path.rstrip("/").rsplit("/", 1)[-1] or "/"):
        return
    if path != ".":
        raise U("find: the start path may match")
    args["min_depth"] = 1


def _put(args: dict[str, Any], key: str, value: Any) -> None:
    if key in args:
        if key == "any_name" or args[key] != value:
            raise U(f"find: two {key}")
        return
    args[key] = value


# ------------------------------------------------------------- simple cmds --
def _each(cmd: Cmd, ops: list[str], make: Callable[[str], Step], *, glob_ok: bool = True,
          after_glob: Callable[[], Step] | None = None) -> list[Step]:
    if not ops:
        raise U(f"{cmd.name}: no operand")
    steps: list[Step] = []
    for op, glob in _operands(cmd, ops):
        if glob:
            if not glob_ok or after_glob is None or len(ops) > 1:
                raise U(f"{cmd.name}: glob")
            return [_glob_find(op), after_glob()]
        steps.append(make(_path(op)))
    return steps


def t_ls(cmd: Cmd) -> list[Step]:
    opts, ops = _options(cmd.words[1:], takes="IwT", long_takes=("--sort", "--color"))
    args: dict[str, Any] = {}
    for o, v in opts:
        if o in ("-a", "-A", "--all", "--almost-all"):
            args["hidden"] = True
        elif o == "-l":
            args["long"] = True
        elif o == "-S":
            args["sort"] = "size"
        elif o == "-t":
            args["sort"] = "mtime"
        elif o in ("-r", "--reverse"):
            args["reverse"] = True
        elif o in ("-h", "-1", "--human-readable", "--color", "-G", "-N", "-C", "-x", "-g", "-o",
                   "--group-directories-first", "-s"):
            if o in ("-g", "-o"):
                args["long"] = True
        elif o == "--sort" and v in ("size", "time", "name"):
            args["sort"] = {"size": "size", "time": "mtime", "name": "name"}[v]
        else:
            raise U(f"ls: {o}")
    if not ops:
        return [("fs.list", args)]
    if len(ops) > 1 and any(g for _o, g in _operands(cmd, ops)):
        raise U("ls: glob")
    out = []
    for op, glob in _operands(cmd, ops):
        if glob:
            if set(args) - {"hidden"}:
                raise U("ls: glob with options")
            return [_glob_find(op)]
        p = _path(op)
        out.append(("fs.list", {"path": p, **args} if p != "." else dict(args)))
    return out


CHECKSUMS = {"md5sum": "md5", "sha1sum": "sha1", "sha256sum": "sha256"}


def _read_opts(name: str, words: list[str]) -> tuple[dict[str, Any], list[str]]:
    """fs.read arguments for cat/head/tail's options, and the operands."""
    opts, ops = _options(words, takes="n" if name in ("head", "tail") else "",
                         long_takes=("--lines",), numeric_short=name in ("head", "tail"))
    args: dict[str, Any] = {}
    if name == "cat":
        _only("cat", opts, {"-n", "-v", "-s", "--number"})
        return args, ops
    n = 10
    for o, v in opts:
        if o in ("-n", "--lines"):
            assert v is not None
            if name == "tail" and v.startswith("+"):
                args["line_start"] = _int(v[1:], "tail -n +N")
                continue
            n = _int(v.lstrip("-"), f"{name} -n")
        elif o not in ("-q", "-v"):
            raise U(f"{name}: {o}")
    if n == 0:
        raise U(f"{name}: -n 0")
    if "line_start" not in args:
        args["head_lines" if name == "head" else "tail_lines"] = n
    return args, ops


def t_read(cmd: Cmd) -> list[Step]:
    words = cmd.words[1:] + ([cmd.stdin] if cmd.stdin else [])
    args, ops = _read_opts(cmd.name, words)
    if not ops:
        raise U(f"{cmd.name}: stdin")
    return _each(cmd, ops, lambda p: ("fs.read", {"path": p, **args}),
                 after_glob=lambda: ("fs.read", {"path": REF, **args}))


def _bre(pattern: str) -> str:
    """A GNU basic regular expression as a Python one (``\\|`` and ``\\(`` are the operators)."""
    return _gnu_regex(pattern, "()|{}+?", "<>bBwW", "grep: word boundary")


def _grep_args(name: str, words: list[str], per_file: bool = False) -> dict[str, Any]:
    """fs.grep arguments for grep's options and pattern; operands other than ``{}`` are left in ``_ops``."""
    opts, ops = _options(words, takes="emABCf", long_takes=("--include", "--exclude", "--regexp"))
    args: dict[str, Any] = {}
    pats: list[str] = []
    mode = {"egrep": "E", "fgrep": "F"}.get(name, "G")
    ctx: dict[str, int] = {}
    for o, v in opts:
        if o in ("-r", "-R", "--recursive"):
            args["recursive"] = True
        elif o in ("-i", "--ignore-case", "-y"):
            args["ignore_case"] = True
        elif o in ("-l", "--files-with-matches"):
            args["files_with_matches"] = True
        elif o in ("-c", "--count"):
            args["count_only"] = True
        elif o in ("-F", "--fixed-strings"):
            mode = "F"
        elif o in ("-E", "--extended-regexp"):
            mode = "E"
        elif o in ("-e", "--regexp"):
            assert v is not None
            pats.append(v)
        elif o == "--include":
            _put(args, "include", v)
        elif o == "--exclude":
            _put(args, "exclude", v)
        elif o == "-m":
            args["max_matches"] = _int(v, "grep -m")
        elif o in ("-A", "-B", "-C"):
            ctx[o] = _int(v, f"grep {o}")
        elif o in ("-n", "-H", "-s", "--line-number", "--with-filename", "-I", "--color", "--colour", "-h",
                   "--no-filename", "-a", "--text", "--binary-files"):
            pass
        else:
            raise U(f"grep: {o}")
    if ctx:
        vals = set(ctx.values())
        if len(vals) != 1 or (set(ctx) != {"-C"} and set(ctx) != {"-A", "-B"}):
            raise U("grep: uneven context")
        args["context_lines"] = vals.pop()
    if not pats:
        if not ops:
            raise U("grep: no pattern")
        pats = [ops.pop(0)]
    if len(pats) > 1:
        if mode == "F":
            raise U("grep: several fixed patterns")
        pats = ["|".join(f"(?:{_bre(p) if mode == 'G' else p})" for p in pats)]
        mode = "E"
    pat = pats[0]
    if not pat:
        raise U("grep: empty pattern")
    if mode == "F":
        args["fixed"] = True
    elif mode == "G":
        pat = _bre(pat)
        if not re.search(r"[\\^$.\[\]|()*+?{}]", pat):
            pass
    elif "[[:" in pat:
        raise U("grep: class")
    if "[[:" in pat or "\\<" in pat or "\\>" in pat:
        raise U("grep: class")
    try:
        re.compile(pat)
    except re.error:
        raise U("grep: regex") from None
    out = {"pattern": pat, **args}
    if per_file:
        if ops != ["{}"]:
            raise U("exec grep: operands")
        out.pop("recursive", None)
    else:
        out["_ops"] = ops
    return out


def t_grep(cmd: Cmd) -> list[Step]:
    words = cmd.words[1:] + ([cmd.stdin] if cmd.stdin else [])
    args = _grep_args(cmd.name, words)
    ops: list[str] = args.pop("_ops")
    recursive = args.pop("recursive", False)
    if not ops:
        if not recursive:
            raise U("grep: stdin")
        return [("fs.grep", args)]
    steps = []
    for op, glob in _operands(cmd, ops):
        if glob:
            if len(ops) > 1 or recursive or "include" in args:
                raise U("grep: glob")
            head, _, tail = _path(op).rpartition("/")
            if GLOB_CHARS & set(head):
                raise U("grep: glob")
            a = {**args, "include": tail, "recursive": False}
            if head:
                a["path"] = head
            return [("fs.grep", a)]
        p = _path(op)
        a = dict(args)
        if p != ".":
            a["path"] = p
        if not recursive and (p in (".", "~", "/") or not re.search(r"\.\w+$", p)):
            raise U("grep: directory without -r")
        steps.append(("fs.grep", a))
    return steps


def t_du(cmd: Cmd) -> list[Step]:
    opts, ops = _options(cmd.words[1:], takes="dBtX", long_takes=("--max-depth",))
    args: dict[str, Any] = {}
    summarize = False
    for o, v in opts:
        if o in ("-s", "--summarize"):
            summarize = True
        elif o in ("-h", "-b", "-k", "-m", "-c", "--human-readable", "--apparent-size", "-x",
                   "--one-file-system", "-H", "--si"):
            continue
        elif o in ("-d", "--max-depth"):
            depth = _int(v, "du --max-depth")
            if depth == 0:
                summarize = True
            else:
                args["depth"] = depth
        else:
            raise U(f"du: {o}")
    if summarize and "depth" in args:
        raise U("du: -s with a depth")
    if not ops:
        return [("fs.du", args)]
    out = []
    for op, glob in _operands(cmd, ops):
        if glob:
            if op == "*" and len(ops) == 1 and summarize:
                return [("fs.du", args)]  # du -s *: each entry of here, which fs.du ranks
            raise U("du: glob")
        p = _path(op)
        out.append(("fs.du", {"path": p, **args} if p != "." else dict(args)))
    return out


def t_wc(cmd: Cmd) -> list[Step]:
    words = cmd.words[1:] + ([cmd.stdin] if cmd.stdin else [])
    opts, ops = _options(words)
    _only("wc", opts, {"-l", "-w", "-c", "-m", "--lines", "--words", "--bytes", "--chars"})
    if not ops:
        raise U("wc: stdin")
    return _each(cmd, ops, lambda p: ("fs.wc", {"path": p}), after_glob=lambda: ("fs.wc", {"path": REF}))


def t_mkdir(cmd: Cmd) -> list[Step]:
    opts, ops = _options(cmd.words[1:], takes="m")
    _only("mkdir", opts, {"-p", "--parents", "-v", "--verbose"})
    parents = any(o in ("-p", "--parents") for o, _ in opts)
    return _each(cmd, ops, lambda p: ("fs.mkdir", {"path": p, **({"parents": True} if parents else {})}),
                 glob_ok=False)


def t_touch(cmd: Cmd) -> list[Step]:
    opts, ops = _options(cmd.words[1:], takes="dtr")
    _only("touch", opts, {"-c", "--no-create"})
    nc = {"no_create": True} if opts else {}
    return _each(cmd, ops, lambda p: ("fs.touch", {"path": p, **nc}), glob_ok=bool(nc),
                 after_glob=lambda: ("fs.touch", {"path": REF, **nc}))


def t_copy_move(cmd: Cmd) -> list[Step]:
    name = cmd.name
    opts, ops = _options(cmd.words[1:], takes="tS", long_takes=("--target-directory",))
    allowed = {"-f", "-v", "-n", "-t", "--target-directory", "--no-clobber", "--force", "--verbose", "-i"}
    if name == "cp":
        allowed |= {"-r", "-R", "-a", "-p", "--recursive", "--archive", "-d"}
    _only(name, opts, allowed)
    target = [v for o, v in opts if o in ("-t", "--target-directory")]
    if target:
        dest: str | None = target[0]
        srcs = ops
    elif len(ops) >= 2:
        dest, srcs = ops[-1], ops[:-1]
    else:
        raise U(f"{name}: one operand")
    assert dest is not None
    if _is_glob(dest, False) and dest not in srcs:
        raise U(f"{name}: glob destination")
    dest = _dest(dest, bool(target))
    extra: dict[str, Any] = {}
    if name == "cp" and any(o in ("-r", "-R", "-a", "--recursive", "--archive") for o, _ in opts):
        extra["recursive"] = True
    if any(o in ("-n", "--no-clobber") for o, _ in opts):
        extra["no_clobber"] = True
    call = "fs.copy" if name == "cp" else "fs.move"
    if len(srcs) > 1 and not (dest.endswith("/") or target):
        pass  # several sources into a directory: one step each
    return _each(cmd, srcs, lambda p: (call, {"src": p, "dest": dest, **extra}),
                 after_glob=lambda: (call, {"src": REF, "dest": dest, **extra}))


def t_rm(cmd: Cmd) -> list[Step]:
    opts, ops = _options(cmd.words[1:])
    _only(cmd.name, opts, {"-r", "-R", "-f", "-v", "--recursive", "--force", "--verbose", "-d", "-i", "-I"}
          if cmd.name == "rm" else {"-v", "--verbose"})
    rec = {"recursive": True} if any(o in ("-r", "-R", "--recursive") for o, _ in opts) else {}
    globs = [o for o, g in _operands(cmd, ops) if g]
    if globs and not rec and not any(o == "-d" for o, _ in opts) and "." not in globs[0].rsplit("/", 1)[-1]:
        raise U("rm: glob of directories")  # plain rm skips directories, a delete would not
    return _each(cmd, ops, lambda p: ("fs.delete", {"path": p, **rec}),
                 after_glob=lambda: ("fs.delete", {"path": REF, **rec}))


def _mode(mode: str) -> str:
    if re.fullmatch(r"[0-7]{3,4}", mode):
        if len(mode) == 4 and mode[0] != "0":
            raise U("chmod: special bits")
        return mode
    if re.fullmatch(r"[ugoa]*[+=-][rwxX]*(,[ugoa]*[+=-][rwxX]*)*", mode):
        return mode
    raise U("chmod: mode")


def t_chmod(cmd: Cmd) -> list[Step]:
    words = cmd.words[1:]
    modes = [w for w in words if re.fullmatch(r"-[rwxX]+", w)]
    opts, ops = _options([w for w in words if w not in modes])
    _only("chmod", opts, {"-R", "-v", "-f", "-c", "--recursive", "--verbose", "--changes"})
    ops = modes + ops
    if len(ops) < 2:
        raise U("chmod: operands")
    mode = _mode(ops[0])
    rec = {"recursive": True} if any(o in ("-R", "--recursive") for o, _ in opts) else {}
    return _each(cmd, ops[1:], lambda p: ("fs.chmod", {"path": p, "mode": mode, **rec}),
                 after_glob=lambda: ("fs.chmod", {"path": REF, "mode": mode, **rec}))


def _owner(name: str, spec: str) -> dict[str, Any]:
    """fs.chown's user/group for ``chown USER[:GROUP]`` / ``chown :GROUP`` / ``chgrp GROUP``."""
    ok = r"[A-Za-z_][\w.-]*|\d+"
    if name == "chgrp":
        if not re.fullmatch(ok, spec):
            raise U("chgrp: group")
        return {"group": spec}
    user, sep, group = spec.replace(".", ":", 1).partition(":") if "." in spec and ":" not in spec \
        else spec.partition(":")
    out: dict[str, Any] = {}
    if user:
        if not re.fullmatch(ok, user):
            raise U("chown: owner")
        out["user"] = user
    if group:
        if not re.fullmatch(ok, group):
            raise U("chown: owner")
        out["group"] = group
    elif sep:
        raise U("chown: login group")
    if not out:
        raise U("chown: owner")
    return out


def t_chown(cmd: Cmd) -> list[Step]:
    opts, ops = _options(cmd.words[1:])
    _only(cmd.name, opts, {"-R", "-h", "-v", "-f", "-c", "--recursive", "--verbose"})
    if len(ops) < 2:
        raise U(f"{cmd.name}: operands")
    owner = _owner(cmd.name, ops[0])
    rec = {"recursive": True} if any(o in ("-R", "--recursive") for o, _ in opts) else {}
    return _each(cmd, ops[1:], lambda p: ("fs.chown", {"path": p, **owner, **rec}),
                 after_glob=lambda: ("fs.chown", {"path": REF, **owner, **rec}))


def t_tree(cmd: Cmd) -> list[Step]:
    opts, ops = _options(cmd.words[1:], takes="L")
    args: dict[str, Any] = {}
    for o, v in opts:
        if o == "-L":
            args["depth"] = _int(v, "tree -L")
        elif o == "-a":
            args["hidden"] = True
        elif o == "-d":
            args["dirs_only"] = True
        elif o not in ("-C", "-n"):
            raise U(f"tree: {o}")
    if len(ops) > 1 or any(g for _o, g in _operands(cmd, ops)):
        raise U("tree: operands")
    if ops and _path(ops[0]) != ".":
        args = {"path": _path(ops[0]), **args}
    return [("fs.tree", args)]


def t_text(cmd: Cmd) -> list[Step]:
    """``tac FILE`` (text.reverse) and ``nl FILE`` (text.number)."""
    if len(cmd.words) != 2 or cmd.words[1].startswith("-"):
        raise U(f"{cmd.name}: options")
    call = {"tac": "text.reverse", "nl": "text.number"}[cmd.name]
    return _each(cmd, cmd.words[1:], lambda p: (call, {"path": p}), glob_ok=False)


_SORT_FLAGS = {"-r": "reverse", "--reverse": "reverse", "-n": "numeric", "--numeric-sort": "numeric",
               "-u": "unique", "--unique": "unique", "-f": "ignore_case", "--ignore-case": "ignore_case"}


def t_sort(cmd: Cmd) -> list[Step]:
    """``sort [-rnuf] FILE`` (text.sort; one file, no key or separator options)."""
    opts, ops = _options(cmd.words[1:])
    _only("sort", opts, set(_SORT_FLAGS))
    if len(ops) != 1 or _is_glob(ops[0], False):
        raise U("sort: one file")
    return [("text.sort", {"path": _path(ops[0]), **{_SORT_FLAGS[o]: True for o, _ in opts}})]


def t_diff(cmd: Cmd) -> list[Step]:
    """``diff [-u] A B`` (text.diff; two files)."""
    opts, ops = _options(cmd.words[1:])
    _only("diff", opts, {"-u", "--unified"})
    if len(ops) != 2 or any(_is_glob(o, False) for o in ops):
        raise U("diff: two files")
    return [("text.diff", {"path": _path(ops[0]), "other": _path(ops[1])})]


def t_ifconfig(cmd: Cmd) -> list[Step]:
    words = [w for w in cmd.words[1:] if w != "-a"]
    if len(words) > 1 or (words and not re.fullmatch(r"[a-z][\w.:-]*", words[0])):
        raise OutOfScope("ifconfig: settings")
    return [("sys.interfaces", {"name": words[0]} if words else {})]


def t_ln(cmd: Cmd) -> list[Step]:
    opts, ops = _options(cmd.words[1:])
    flags = {o for o, _ in opts}
    if not flags & {"-s", "--symbolic"}:
        raise U("ln: hard link")
    _only("ln", opts, {"-s", "--symbolic", "-v"})
    if any(g for _o, g in _operands(cmd, ops)):
        raise U("ln: glob")
    if len(ops) == 1:
        target = ops[0]
        link = target.rstrip("/").rsplit("/", 1)[-1]
    elif len(ops) == 2:
        target, link = ops
        if link in (".", "./") or link.endswith("/"):
            base = target.rstrip("/").rsplit("/", 1)[-1]
            link = base if link in (".", "./") else link + base
    else:
        raise U("ln: several targets")
    if target.startswith("-"):
        raise U("ln: operands")
    return [("fs.symlink", {"path": _path(link), "target": target})]


def t_realpath(cmd: Cmd) -> list[Step]:
    opts, ops = _options(cmd.words[1:])
    _only(cmd.name, opts, {"-f", "-e", "-m", "--canonicalize", "-s"} if cmd.name == "readlink" else {"-e", "-s"})
    return _each(cmd, ops, lambda p: ("fs.realpath", {"path": p}), glob_ok=False)


def t_stat(cmd: Cmd) -> list[Step]:
    opts, ops = _options(cmd.words[1:], takes="cf", long_takes=("--format", "--printf"))
    _only("stat", opts, {"-L", "--dereference", "-c", "--format", "-t", "--terse", "--printf"})
    follow = {"follow": True} if any(o in ("-L", "--dereference") for o, _ in opts) else {}
    return _each(cmd, ops, lambda p: ("fs.stat", {"path": p, **follow}),
                 after_glob=lambda: ("fs.stat", {"path": REF, **follow}))


def t_checksum(cmd: Cmd) -> list[Step]:
    opts, ops = _options(cmd.words[1:])
    _only(cmd.name, opts, {"-b", "-t", "--binary", "--text"})
    algo = CHECKSUMS[cmd.name]
    return _each(cmd, ops, lambda p: ("fs.checksum", {"path": p, "algorithm": algo}),
                 after_glob=lambda: ("fs.checksum", {"path": REF, "algorithm": algo}))


def t_pwd(cmd: Cmd) -> list[Step]:
    opts, ops = _options(cmd.words[1:])
    _only("pwd", opts, {"-P", "-L"})
    if ops:
        raise U("pwd: operands")
    return [("fs.realpath", {"path": "."})]


def t_ps(cmd: Cmd) -> list[Step]:
    words = cmd.words[1:]
    args: dict[str, Any] = {}
    i = 0
    while i < len(words):
        w = words[i]
        nxt = words[i + 1] if i + 1 < len(words) else None
        if re.fullmatch(r"-?[aexfuwlFjTH]+", w) and not (w in ("-u", "-U") and nxt is not None):
            pass  # the process selection and columns of "ps aux", "ps -ef", "ps -elf"
        elif w in ("-u", "-U", "--user", "-C", "-p", "--pid", "-o", "--format") and nxt is not None:
            if w in ("-u", "-U", "--user"):
                if not re.fullmatch(r"[A-Za-z_][\w.-]*|\d+", nxt):
                    raise U("ps: user list")
                args["user"] = nxt
            elif w == "-C":
                args["name"] = nxt
            elif w in ("-p", "--pid"):
                return [("proc.info", {"pid": _int(nxt, "ps -p")})]
            i += 1
        elif w.startswith("--sort="):
            key = w.split("=", 1)[1]
            sort = {"-%mem": "memory", "-rss": "memory", "-%cpu": "cpu", "-pcpu": "cpu", "-pmem": "memory",
                    "pid": "pid", "start_time": "start", "-start_time": "start"}.get(key)
            if sort is None:
                raise U("ps: --sort")
            args["sort"] = sort
        else:
            raise U(f"ps: {w}")
        i += 1
    return [("proc.list", args)]


SIGNALS = {"9": "KILL", "15": "TERM", "1": "HUP", "2": "INT", "19": "STOP", "18": "CONT", "10": "USR1",
           "12": "USR2"}


def _signal(word: str) -> str:
    s = word.upper().removeprefix("SIG")
    s = SIGNALS.get(s, s)
    if s not in ("TERM", "KILL", "INT", "HUP", "STOP", "CONT", "USR1", "USR2"):
        raise U("kill: signal")
    return s


def t_kill(cmd: Cmd) -> list[Step]:
    words = cmd.words[1:]
    sig: dict[str, Any] = {}
    while words and words[0].startswith("-") and words[0] != "--":
        w = words.pop(0)
        if w in ("-s", "-n") and words:
            sig = {"signal": _signal(words.pop(0))}
        elif w in ("-l", "-L"):
            raise U("kill: -l")
        else:
            sig = {"signal": _signal(w[1:])}
    if words[:1] == ["--"]:
        words = words[1:]
    if not words:
        raise U("kill: no pid")
    for w in words:
        if not w.isdigit():
            raise U("kill: not a pid")
    return [("proc.signal", {"pid": int(w), **sig}) for w in words]


def t_pkill(cmd: Cmd) -> list[Step]:
    words = cmd.words[1:]
    sel: dict[str, Any] = {}
    sig: dict[str, Any] = {}
    full = False
    i = 0
    ops = []
    while i < len(words):
        w = words[i]
        if w in ("-u", "-U", "--user") and i + 1 < len(words):
            sel["user"] = words[i + 1]
            i += 1
        elif w in ("-s", "--signal") and i + 1 < len(words):
            sig["signal"] = _signal(words[i + 1])
            i += 1
        elif w == "-f" and cmd.name == "pkill":
            full = True
        elif w in ("-e", "-v", "-q", "-w", "-I", "--exact") and cmd.name == "killall":
            if w in ("-I", "-w", "-I"):
                raise U(f"killall: {w}")
        elif w.startswith("-") and len(w) > 1:
            sig["signal"] = _signal(w[1:])
        else:
            ops.append(w)
        i += 1
    if len(ops) > 1:
        raise U(f"{cmd.name}: several names")
    if ops:
        if not re.fullmatch(r"[\w.+-]+", ops[0]) and not full:
            raise U(f"{cmd.name}: pattern")
        sel["cmdline" if full else "name"] = ops[0]
    if not sel:
        raise U(f"{cmd.name}: nothing selected")
    return [("proc.list", sel), ("proc.signal", {"pid": "$0.pid", **sig})]


def _no_args(call: str, allowed: set[str], args: dict[str, Any] | None = None) -> Callable[[Cmd], list[Step]]:
    def go(cmd: Cmd) -> list[Step]:
        for w in cmd.words[1:]:
            if not w.startswith("-"):
                raise U(f"{cmd.name}: operands")
            flags = [w] if w.startswith("--") else [f"-{c}" for c in w[1:]]
            for f in flags:
                if f not in allowed:
                    raise U(f"{cmd.name}: {f}")
        return [(call, dict(args or {}))]
    return go


def t_df(cmd: Cmd) -> list[Step]:
    opts, ops = _options(cmd.words[1:], takes="tBx", long_takes=("--type",))
    _only("df", opts, {"-h", "-H", "-T", "-k", "-m", "-l", "-P", "-a", "--all", "--human-readable",
                       "--print-type", "--local", "--si"})
    if any(g for _o, g in _operands(cmd, ops)):
        raise U("df: glob")
    args = {"all": True} if any(o in ("-a", "--all") for o, _ in opts) else {}
    if ops:
        if args or len(ops) > 1:
            raise U("df: operands")
        return [("fs.df", {"path": _path(ops[0])})]
    return [("sys.disks", args)]


def t_mount(cmd: Cmd) -> list[Step]:
    opts, ops = _options(cmd.words[1:], takes="t")
    if ops:
        raise OutOfScope("mount: operands")
    args: dict[str, Any] = {}
    for o, v in opts:
        if o == "-t" and v and re.fullmatch(r"\w+", v):
            args["fstype"] = v
        elif o != "-l":
            raise U(f"mount: {o}")
    return [("dev.mounts", args)]


def t_hostname(cmd: Cmd) -> list[Step]:
    if len(cmd.words) > 1 and cmd.words[1:] not in (["-f"], ["-s"], ["--fqdn"], ["--short"]):
        raise U("hostname: options")
    return [("sys.info", {})]


HANDLERS: dict[str, Callable[[Cmd], list[Step]]] = {
    "find": t_find, "ls": t_ls, "cat": t_read, "head": t_read, "tail": t_read, "grep": t_grep,
    "egrep": t_grep, "fgrep": t_grep, "du": t_du, "wc": t_wc, "mkdir": t_mkdir, "touch": t_touch,
    "cp": t_copy_move, "mv": t_copy_move, "rm": t_rm, "rmdir": t_rm, "chmod": t_chmod, "ln": t_ln,
    "readlink": t_realpath, "realpath": t_realpath, "stat": t_stat, "md5sum": t_checksum,
    "sha1sum": t_checksum, "sha256sum": t_checksum, "pwd": t_pwd, "ps": t_ps, "kill": t_kill,
    "pkill": t_pkill, "killall": t_pkill, "df": t_df,
    "free": _no_args("sys.memory", {"-m", "-g", "-h", "-k", "-b", "-t", "--human", "-w", "--mega", "--giga"}),
    "uname": _no_args("sys.info", {f"-{c}" for c in "asnrvmpio"} | {"--all", "--kernel-release"}),
    "hostname": t_hostname, "lsblk": _no_args("dev.block", {"-f", "-a", "-l", "-p", "-o"}),
    "lsusb": _no_args("dev.usb", {"-v", "-t"}), "lspci": _no_args("dev.pci", {"-v", "-k", "-nn", "-vv"}),
    "mount": t_mount, "who": _no_args("sys.users", {"-a", "-H", "-u", "-q"}),
    "w": _no_args("sys.users", {"-h", "-s"}), "users": _no_args("sys.users", set()),
    "nproc": _no_args("sys.cpu", {"--all"}), "lscpu": _no_args("sys.cpu", set()),
}
# calls that joined the registry later: used when it has them
_LATER: dict[str, tuple[str, Callable[[Cmd], list[Step]]]] = {
    "chown": ("fs.chown", t_chown), "chgrp": ("fs.chown", t_chown), "tree": ("fs.tree", t_tree),
    "uptime": ("sys.load", _no_args("sys.load", {"-p", "-s"})), "tac": ("text.reverse", t_text),
    "nl": ("text.number", t_text), "ifconfig": ("sys.interfaces", t_ifconfig),
    "sort": ("text.sort", t_sort), "diff": ("text.diff", t_diff),
}
for _name, (_call, _handler) in _LATER.items():
    if _call in registry():
        HANDLERS[_name] = _handler


# --------------------------------------------------------------- pipeline --
LISTINGS = {"fs.find", "fs.list", "proc.list"}


def _head_n(cmd: Cmd) -> int:
    opts, ops = _options(cmd.words[1:], takes="n", long_takes=("--lines",), numeric_short=True)
    if ops:
        raise U(f"pipeline: {cmd.name} with a file")
    n = 10
    for o, v in opts:
        if o in ("-n", "--lines"):
            n = _int(v, f"{cmd.name} -n")
        else:
            raise U(f"pipeline: {cmd.name} {o}")
    if n == 0:
        raise U(f"pipeline: {cmd.name} 0")
    return n


def _stages(steps: list[Step], tail: list[Cmd]) -> list[Step]:
    """Fold ``| head``, ``| wc -l``, ``| xargs rm``, ``| sort -rh | head`` ... into the steps."""
    du_sorted: str | None = None
    for cmd in tail:
        call, args = steps[-1]
        name = cmd.name
        if name == "head" or (name == "tail" and (du_sorted == "asc" or call == "fs.read")):
            n = _head_n(cmd)
            if call == "fs.du" and du_sorted:
                if (name == "head") != (du_sorted == "desc"):
                    raise U("pipeline: du order")
                args["top"] = n
            elif call in LISTINGS and name == "head" and len(steps) == 1 and "limit" not in args:
                args["limit"] = n
            elif call == "fs.read" and not (set(args) - {"path"}) and len(steps) == 1:
                args["head_lines" if name == "head" else "tail_lines"] = n
            else:
                raise U(f"pipeline: {name}")
        elif name == "sort" and call == "fs.du":
            flags = "".join(w.lstrip("-") for w in cmd.words[1:] if w.startswith("-"))
            if set(flags) - set("rhn") or any(not w.startswith("-") for w in cmd.words[1:]):
                raise U("pipeline: sort")
            du_sorted = "desc" if "r" in flags else "asc"
        elif name == "wc" and cmd.words[1:] in (["-l"], ["--lines"]):
            if call in LISTINGS and len(steps) == 1:
                continue  # the listing's count
            if call == "fs.read" and len(steps) == 1 and not (set(args) - {"path"}):
                steps[-1] = ("fs.wc", {"path": args["path"]})
                continue
            raise U("pipeline: wc")
        elif name == "xargs":
            if call != "fs.find" or len(steps) != 1:
                raise U("pipeline: xargs")
            argv, null = _xargs(cmd.words)
            if null != bool(args.pop("_print0", False)):
                raise U("pipeline: -print0 and xargs -0 disagree")
            if _listing_exec(args, argv if "{}" in argv else [*argv, "{}"]):
                continue
            steps.append(_check_rm(args, _per_path(argv)))
            if steps[-1][0] == "fs.delete":
                _children_first(args)
            if steps[-1][0] == "fs.delete":
                _skip_start(args)
        elif name in ("grep", "egrep") and call == "proc.list" and len(steps) == 1:
            words = cmd.words[1:]
            if words and words[0] == "-v" and words[1:] == ["grep"]:
                continue
            if len(words) != 1 or not re.fullmatch(r"[\w.+-]+", words[0]) or "cmdline" in args:
                raise U("pipeline: grep")
            args["cmdline"] = words[0]
        elif name in ("grep", "egrep", "fgrep") and call == "fs.read" and len(steps) == 1 \
                and not (set(args) - {"path"}):
            g = _grep_args(name, cmd.words[1:])
            if g.pop("_ops"):
                raise U("pipeline: grep with a file")
            g.pop("recursive", None)
            steps[-1] = ("fs.grep", {**g, "path": args["path"]})
        elif name in ("less", "more") and len(cmd.words) == 1:
            continue
        elif name == "sort" and call == "fs.find" and len(steps) == 1 and cmd.words[1:] in ([], ["-r"]) \
                and "limit" not in args:
            args["sort"] = "name"
            if cmd.words[1:] == ["-r"]:
                args["reverse"] = True
        elif name == "grep" and call == "fs.find" and len(steps) == 1 and "limit" not in args:
            words = cmd.words[1:]
            key = "path_glob"
            if words[:1] == ["-v"]:
                key, words = "not_path", words[1:]
            if len(words) != 1 or not re.fullmatch(r"[\w-]+", words[0]) or key in args:
                raise U("pipeline: grep")
            args[key] = f"*{words[0]}*"
        else:
            raise U(f"pipeline: {name}")
    return steps


def translate(bash: str) -> list[Step]:
    """The steps that do what ``bash`` does, or ``Untranslatable(reason)``."""
    cmds = _pipeline(bash)
    first = cmds[0]
    if first.name in OUT_OF_SCOPE:
        raise OutOfScope(f"out of scope: {first.name}")
    handler = HANDLERS.get(first.name)
    if handler is None:
        raise U(f"cmd: {first.name}")
    if first.stdin and first.name not in ("cat", "head", "tail", "grep", "egrep", "fgrep", "wc"):
        raise U("redirect")
    steps = [(c, dict(a)) for c, a in handler(first)]
    steps = _stages(steps, cmds[1:])
    steps = [(c, {k: v for k, v in a.items() if not k.startswith("_")}) for c, a in steps]
    try:
        plan_text(steps)
    except Exception as exc:
        raise U(f"invalid: {steps[0][0]}") from exc
    return steps


# --------------------------------------------------------------- surfaces --
_NL_WORD = re.compile(r"[^\s,;:()\"'`]+")


def _nl_words(nl: str, lower: bool = True) -> list[str]:
    words = [w.strip(".!?") for w in _NL_WORD.findall(nl) if w.strip(".!?")]
    return [w.lower() for w in words] if lower else words


def _unit_word(word: str, units: dict[str, Any]) -> bool:
    return re.sub(r"^[\d.]+", "", word) in units


def _has_number(span: list[str]) -> bool:
    return any(re.match(r"\d", w) or w in V.NUMBER_WORDS for w in span)


def _spans(nl: str, parse_one: Callable[[str], float], units: dict[str, Any]) -> list[tuple[str, float]]:
    """Spans of the request (1-3 words) with a unit word or number that ``parse_one`` reads."""
    words = _nl_words(nl)
    cased = _nl_words(nl, lower=False)
    out: list[tuple[tuple[int, int, int], str, float]] = []
    for i in range(len(words)):
        for n in (1, 2, 3):
            span = words[i:i + n]
            if len(span) < n:
                break
            if not (_has_number(span[:1]) or _unit_word(span[0], units)):
                continue
            if not (_unit_word(span[-1], units) or re.fullmatch(r"[\d.]+", span[-1])):
                continue
            text = " ".join(cased[i:i + n])
            try:
                value = parse_one(text)
            except (ValueError, ZeroDivisionError):
                continue
            unit = any(_unit_word(w, units) for w in span)
            out.append(((0 if unit else 1, 0 if _has_number(span) else 1, n), text, value))
    out.sort(key=lambda t: t[0])
    return [(text, value) for _rank, text, value in out]


SPECIAL = {"yesterday": 1, "today": 1}


def surface(nl: str, steps: list[Step]) -> list[Step]:
    """Sizes and durations written with the request's own words where a span of it means the same."""
    reg = registry()
    out: list[Step] = []
    for call, args in steps:
        props = reg.get(call).args_schema.get("properties", {})
        new = dict(args)
        for key, value in args.items():
            kind = props.get(key, {}).get("x-nlsh")
            if kind == "size" and not isinstance(value, bool):
                want = V.size_bytes(value)
                slack = {"size_min_bytes": 1, "size_max_bytes": -1}.get(key, 0)
                for text, got in _spans(nl, V.size_bytes, V.SIZE_UNITS):
                    if got == want or (slack and got == want - slack and (got > 0)):
                        new[key] = text
                        break
            elif kind == "duration":
                unit = str(props[key].get("x-unit", "days"))
                want_d = V.duration(value, unit)
                units = {**V.MINUTES, **SPECIAL}
                for text, got_d in _spans(nl, lambda t, u=unit: V.duration(t, u), units):  # type: ignore[misc]
                    if abs(got_d - want_d) < 1e-9:
                        new[key] = text
                        break
        out.append((call, new))
    return out


# -------------------------------------------------------------- grounding --
SYNONYMS: dict[str, tuple[str, ...]] = {
    "txt": ("text",), "py": ("python",), "js": ("javascript",), "sh": ("shell", "bash", "script", "scripts"),
    "md": ("markdown",), "jpg": ("jpeg", "image", "images", "picture", "pictures", "photo", "photos"),
    "jpeg": ("jpg", "image", "images"), "png": ("image", "images"), "cpp": ("c++",), "h": ("header", "headers"),
    "pl": ("perl",), "rb": ("ruby",), "htm": ("html",), "yml": ("yaml",), "tmp": ("temporary", "temp"),
    "bak": ("backup", "backups"), "dir": ("directory", "directories", "folder", "folders"),
    "exe": ("executable", "executables"), "conf": ("config", "configuration"), "cfg": ("config",),
    "doc": ("document", "documents", "word"), "gz": ("gzip", "gzipped", "compressed"), "mp3": ("music",),
    "o": ("object",), "c": ("c",), "java": ("java",), "log": ("logs",), "tex": ("latex",),
}
_TOK = re.compile(r"[A-Za-z]+|\d+")
NUMBER_NAMES: dict[float, set[str]] = {}
for _w, _v in V.NUMBER_WORDS.items():
    if _w not in ("a", "an"):
        NUMBER_NAMES.setdefault(float(_v), set()).add(_w)
ONE_WORDS = {"first", "last", "single", "newest", "latest", "oldest", "largest", "biggest", "smallest", "most",
             "least", "recent", "recently", "one", "top"}
STRUCTURAL_ONE = {"max_depth", "min_depth", "depth"}


def _token_ok(tok: str, nl_toks: set[str]) -> bool:
    t = tok.lower()
    if t in nl_toks or t + "s" in nl_toks or t + "es" in nl_toks:
        return True
    return any(s in nl_toks for s in SYNONYMS.get(t, ()))


def _number_ok(value: float, key: str, nl_toks: set[str], nl_words: set[str]) -> bool:
    if value == 1 and (key in STRUCTURAL_ONE or (key in ("limit", "top") and nl_words & ONE_WORDS)):
        return True
    if float(value).is_integer() and str(int(value)) in nl_toks:
        return True
    joined = " ".join(nl_words)
    return any(w in nl_words or (" " in w and w in joined) for w in NUMBER_NAMES.get(float(value), ()))


MODE_WORDS = {"u": ("user", "owner", "me", "my"), "g": ("group",), "o": ("others", "other", "everyone", "world"),
              "a": ("all", "everyone", "everybody"), "r": ("read", "readable", "reading"),
              "w": ("write", "writable", "writeable", "writing"),
              "x": ("execute", "executable", "exec", "run", "runnable", "execution"), "X": ("execute",)}


def _mode_ok(mode: str, nl_toks: set[str]) -> bool:
    """A symbolic mode (u+x, go-w) is grounded when each of its letters is named by a word."""
    return all(any(w in nl_toks for w in MODE_WORDS.get(c, (c,))) for c in mode if c.isalpha())


def grounded(nl: str, steps: list[Step]) -> bool:
    """Every value of the plan can be read off ``nl`` (see the module docstring)."""
    reg = registry()
    nl_toks = {t.lower() for t in _TOK.findall(nl)}
    nl_words = set(_nl_words(nl))
    for call, args in steps:
        props = reg.get(call).args_schema.get("properties", {})
        for key, value in args.items():
            schema = props.get(key, {})
            values = value if isinstance(value, list) else [value]
            for v in values:
                if isinstance(v, bool):
                    continue
                if isinstance(v, (int, float)):
                    if not _number_ok(float(v), key, nl_toks, nl_words):
                        return False
                    continue
                s = str(v)
                if s in (".", "~", "/", "*") or REF_RE.match(s) or s in schema.get("enum", ()):
                    continue
                if key == "mode" and not s.isdigit():
                    if not _mode_ok(s, nl_toks):
                        return False
                    continue
                for tok in _TOK.findall(s):
                    if not _token_ok(tok, nl_toks):
                        return False
    return True


# ------------------------------------------------------------------- tldr --
# A placeholder's concrete value, by words of its name (first match wins), and the phrases of the
# description it replaces: the first phrase found is rewritten to name the value; a value the
# description never names leaves the pair ungrounded, and it is dropped.
_FILE_PHRASES = (r"\b(?:a|the) (?:given |specific |single )?file(?! or)\b", r"\ba file or directory\b")
_DIR_PHRASES = (r"\b(?:a|the) (?:given |specific |single )?directory\b", r"\ba file or directory\b")
FILLS: list[tuple[tuple[str, ...], str, str, tuple[str, ...]]] = [
    # (name words, value, how the description names it, phrases it replaces)
    (("file1",), "notes.txt todo.txt", "notes.txt and todo.txt",
     (r"\b(?:one or more|specific|several|multiple) files\b", r"\bfiles\b")),
    (("directory1",), "music videos", "the directories music and videos",
     (r"\b(?:specific |multiple |nested )*directories\b",)),
    (("source1",), "notes.txt todo.txt", "notes.txt and todo.txt", (r"\bmultiple files\b", r"\bfiles\b")),
    (("source_file",), "report.pdf", "report.pdf", (r"\ba file\b",)),
    (("target_file",), "backup/report.pdf", "backup/report.pdf", (r"\banother location\b",)),
    (("source_directory",), "photos", "the photos directory", (r"\ba directory(?:'s contents)?\b",)),
    (("target_parent_directory", "target_directory", "destination_directory", "existing_directory"),
     "backup", "the backup directory",
     (r"\b(?:another|an existing|a) directory\b", r"\banother location\b")),
    (("path/to/source",), "draft.txt", "draft.txt", (r"\ba file or directory\b", r"\ba file\b")),
    (("path/to/target",), "final.txt", "final.txt", (r"\bthe target\b",)),
    (("symlink",), "latest", "latest", (r"\ba symbolic link\b",)),
    (("file_or_directory",), "old_stuff", "old_stuff", (r"\b(?:a|the) (?:specified )?file or directory\b",
                                                         r"\ba file/directory\b", r"\bfiles and directories\b")),
    (("directory",), "projects", "the projects directory", _DIR_PHRASES),
    (("file",), "notes.txt", "notes.txt", _FILE_PHRASES),
    (("search_pattern", "pattern", "exact_string", "string", "regex"), "TODO", "\"TODO\"",
     (r"\b(?:a|the|an exact) (?:pattern|string)\b",)),
    (("process_name", "command_name"), "firefox", "firefox",
     (r"\bprocesses which match\b", r"\bmatching processes\b", r"\ba process\b")),
    (("process_id", "pid"), "4242", "process 4242", (r"\ba program\b", r"\ba process\b")),
    (("username", "user"), "alice", "the user alice", (r"\ba (?:specific )?user\b",)),
    (("count",), "5", "5", (r"\bfew\b", r"\ba specific count of\b", r"`count`")),
    (("*.ext",), "*.txt", "the .txt extension", (r"\b(?:a specific |a given )?extension\b",)),
    (("n",), "2", "2", (r"`n`",)),
]
_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}(?!\})")


def _fill_one(inner: str, desc: str) -> tuple[str, str] | None:
    """(value, description) for one placeholder, or None when it cannot be filled."""
    if inner.startswith("[") and inner.endswith("]") and "|" in inner:
        return inner[1:-1].split("|")[0], desc  # an option: its short spelling
    if "|" in inner:
        return inner.split("|")[0], desc
    for names, value, named, phrases in FILLS:
        several = inner.endswith("...")
        if any(n == inner or (n in inner if several else inner.rsplit("/", 1)[-1].startswith(n))
               for n in names) and several == any(n[-1] == "1" for n in names):
            for ph in phrases:
                new, k = re.subn(ph, named.replace("\\", "\\\\"), desc, count=1, flags=re.IGNORECASE)
                if k:
                    return value, new
            return value, desc
    if re.fullmatch(r"[\w.*+-]+", inner) and not inner.startswith("path"):
        return inner, desc  # a literal example value such as 100 or *.py or +500k
    return None


def tldr_examples(path: Path, utilities: set[str]) -> Iterator[tuple[str, str, str]]:
    """(source id, description, command) of tldr pairs of ``utilities``, placeholders filled."""
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row["utility"] not in utilities:
                continue
            desc = re.sub(r"\[(\w)\]", r"\1", row["description"]).replace("`", "")
            cmd = row["command"]
            ok = True
            while ok and (m := _PLACEHOLDER.search(cmd)):
                filled = _fill_one(m.group(1), desc)
                if filled is None:
                    ok = False
                    break
                value, desc = filled
                cmd = cmd[:m.start()] + value + cmd[m.end():]
            if ok:
                yield row["id"], desc, cmd


# ----------------------------------------------------------------- corpus --
class Pair(NamedTuple):
    nl: str
    plan: str
    source: str


@dataclass
class Stats:
    seen: int = 0
    translated: int = 0
    grounded: int = 0
    tldr_seen: int = 0
    tldr_translated: int = 0
    tldr_grounded: int = 0
    refused: int = 0  # out-of-scope rows kept as refusals
    reasons: Counter[str] = field(default_factory=Counter)
    calls: Counter[str] = field(default_factory=Counter)

    def report(self) -> str:
        lines = [
            f"nl2bash train rows seen: {self.seen}",
            f"  translated: {self.translated}",
            f"  grounded (kept): {self.grounded}",
            f"  out of scope (kept as refusals): {self.refused}",
            f"tldr pairs of covered utilities seen: {self.tldr_seen}",
            f"  translated: {self.tldr_translated}",
            f"  grounded (kept): {self.tldr_grounded}",
            f"pairs in the corpus: {self.grounded + self.tldr_grounded}",
            "calls in kept plans: " + ", ".join(f"{c} {n}" for c, n in self.calls.most_common()),
            "top Untranslatable reasons:",
        ]
        lines += [f"  {n:6d}  {r}" for r, n in self.reasons.most_common(30)]
        return "\n".join(lines)


def plan_text(steps: list[Step]) -> str:
    """The plan text of ``steps``, checked: it parses back and every step validates."""
    reg = registry()
    text = render(steps, reg)
    for step in parse(text, reg):
        validate_step(step.call, step.args, reg)
    return text


def _pair(nl: str, steps: list[Step], source: str) -> Pair | None:
    steps = surface(nl, steps)
    if not grounded(nl, steps):
        return None
    try:
        return Pair(" ".join(nl.split()), plan_text(steps), source)
    except Exception:
        return None


def _nl2bash_rows(path: Path) -> Iterator[dict[str, str]]:
    if path.name in ("dev.tsv", "test.tsv") or "train" not in path.name:
        raise ValueError(f"{path}: the corpus is built from the train split only")
    with path.open(newline="") as fh:
        yield from csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)


def corpus_pairs(split_path: Path = TRAIN_TSV, tldr_path: Path | None = TLDR_TSV,
                 stats: Stats | None = None) -> Iterator[Pair]:
    """Grounded (request, plan text, source id) pairs from NL2Bash train and tldr-pages."""
    st = stats if stats is not None else Stats()
    for row in _nl2bash_rows(Path(split_path)):
        st.seen += 1
        try:
            steps = translate(row["bash"])
        except OutOfScope as exc:
            st.reasons[exc.reason] += 1
            st.refused += 1
            yield Pair(" ".join(row["nl"].split()), plan_text([("answer", {"supported": False})]), row["id"])
            continue
        except Untranslatable as exc:
            st.reasons[exc.reason] += 1
            continue
        st.translated += 1
        pair = _pair(row["nl"], steps, row["id"])
        if pair is not None:
            st.grounded += 1
            st.calls.update(c for c, _a in steps)
            yield pair
    if tldr_path is None:
        return
    for source, nl, bash in tldr_examples(Path(tldr_path), set(HANDLERS)):
        st.tldr_seen += 1
        try:
            steps = translate(bash)
        except Untranslatable as exc:
            st.reasons["tldr " + exc.reason] += 1
            continue
        st.tldr_translated += 1
        pair = _pair(nl, steps, source)
        if pair is not None:
            st.tldr_grounded += 1
            st.calls.update(c for c, _a in steps)
            yield pair


def stats(split_path: Path = TRAIN_TSV, tldr_path: Path | None = TLDR_TSV) -> Stats:
    st = Stats()
    for _ in corpus_pairs(split_path, tldr_path, st):
        continue
    return st


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    ap.add_argument("--stats", action="store_true", help="print the counts")
    ap.add_argument("--train", type=Path, default=TRAIN_TSV)
    ap.add_argument("--tldr", type=Path, default=TLDR_TSV)
    ap.add_argument("--no-tldr", action="store_true")
    ap.add_argument("--out", type=Path, default=None, help="write the pairs here as TSV (nl, plan, source)")
    a = ap.parse_args(argv)
    st = Stats()
    pairs = corpus_pairs(a.train, None if a.no_tldr else a.tldr, st)
    if a.out:
        with a.out.open("w", newline="") as fh:
            w = csv.writer(fh, delimiter="\t", lineterminator="\n")
            w.writerow(["nl", "plan", "source"])
            for p in pairs:
                w.writerow([p.nl, p.plan.replace("\n", "\\n"), p.source])
    else:
        for _p in pairs:
            pass
    if a.stats or not a.out:
        print(st.report())
    return 0


if __name__ == "__main__":
    sys.exit(main())
