"""The planner's training corpus: (request, previous result) → plan text, deterministic and seeded.

    python -m models.training.corpus --out corpus.jsonl [--seed 7] [--per-template 24]

Two sources, both ending in the exact text the decoder is constrained to
(``models.plantext``):

* **Generated** from the registry: every call declares phrasing templates
  (``SyscallSpec.phrasings``; built-ins in ``syscalls/builtin/phrasings.py``,
  plugins at ``registry.syscall(..., phrasings=...)``).  Slots are filled from
  typed pools (relative / absolute / ``~`` / quoted paths, names with spaces and
  unicode, sizes and ages with units as people write them, modes, pids,
  ports...), and each request is varied: polite, terse, question, misspelt,
  capitalised.  A share of requests carry an unrelated previous result, so the
  planner learns to refer back only when the request does.
* **Real phrasing** from NL2Bash ``train.tsv`` (MIT) and tldr-pages (CC BY 4.0,
  "tldr-pages contributors"), translated from bash by
  ``models.training.translate`` and kept only when every value is grounded in
  the request.  ``dev.tsv`` and ``test.tsv`` never enter.

Each line of the output is ``{"prompt", "plan", "source"}``.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import itertools
import json
import random
import re
import sys
from collections import Counter
from collections.abc import Container, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from models import plantext as PT
from models.validation import validate_step
from syscalls.registry import Registry, default_registry

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"

# ---------------------------------------------------------------- slot pools --
_DIRS = ["src", "docs", "build", "logs", "tmp", "data", "images", "backup", "notes", "music", "reports",
         "test", "tests", "dist", "config", "scripts", "bin", "assets", "downloads", "projects/web", "src/lib",
         "old_stuff", "My Files", "Photos 2023", "work/client a", "données", "résumés", "фото", "archive",
         "node_modules", "venv", "target", "out", "public", "static", "vendor", "lib", "cache", "exports",
         "uploads", "media", "videos", "Documents", "Desktop", "inbox", "drafts", "site", "app", "server"]
_ABS_DIRS = ["/var/log", "/etc", "/tmp", "/srv/www", "/opt/app", "/home/alice/work", "/usr/local/bin",
             "/var/www/html", "/data/backups", "/mnt/usb", "/var/lib/docker", "/home/bob/Downloads"]
_HOME_DIRS = ["~/Downloads", "~/Documents", "~/projects", "~/Desktop", "~/Pictures", "~/.config", "~/bin",
              "~/Music", "~/code/api", "~/notes", "~/.cache", "~/tmp"]
_HERE = [("here", "."), ("this folder", "."), ("the current directory", "."), ("this directory", "."),
         ("the current folder", "."), ("cwd", "."), (".", ".")]
_HOME = [("my home", "~"), ("my home directory", "~"), ("~", "~"), ("home", "~")]
_FILES = ["notes.txt", "README.md", "app.log", "config.yaml", "main.py", "report.pdf", "data.csv",
          "backup.tar.gz", "todo.md", "server.log", "index.html", "run.sh", "setup.py", "package.json",
          ".bashrc", "my notes.txt", "résumé.docx", "photo 1.jpg", "error.log", "Makefile", "Dockerfile",
          "requirements.txt", "hello.php", "hello-COPY.php", "a.out", "test.json", "input.dat", "out.txt",
          "file1", "file2", "junk1", "junk2", "junk3", "settings.ini", "style.css", "app.js", "db.sqlite",
          "CHANGELOG", "LICENSE", "deploy.sh", "lib.rs", "main.go", "Main.java", "util.c", "util.h",
          "invoice 2024.pdf", "слайды.pptx", "memo.doc", "access.log", "cron.log", "id_rsa.pub", "old.log"]
_ABS_FILES = ["/etc/hosts", "/var/log/syslog", "/etc/fstab", "/var/log/auth.log", "/etc/nginx/nginx.conf",
              "/tmp/out.txt", "/etc/passwd", "/home/alice/todo.txt"]
_GLOBS: list[tuple[str, str]] = [
    ("python files", "*.py"), ("python scripts", "*.py"), (".py files", "*.py"), ("*.py files", "*.py"),
    ("log files", "*.log"), (".log files", "*.log"), ("logs", "*.log"), ("text files", "*.txt"),
    ("txt files", "*.txt"), ("*.txt files", "*.txt"), ("markdown files", "*.md"), (".md files", "*.md"),
    ("pdfs", "*.pdf"), ("PDF files", "*.pdf"), ("jpg images", "*.jpg"), ("jpegs", "*.jpg"),
    ("png files", "*.png"), ("shell scripts", "*.sh"), (".sh files", "*.sh"), ("csv files", "*.csv"),
    ("json files", "*.json"), ("yaml files", "*.yaml"), ("html files", "*.html"), ("c files", "*.c"),
    ("header files", "*.h"), ("java files", "*.java"), ("javascript files", "*.js"), (".js files", "*.js"),
    ("temp files", "*.tmp"), (".tmp files", "*.tmp"), ("backup files", "*.bak"), (".bak files", "*.bak"),
    ("zip archives", "*.zip"), ("tarballs", "*.tar.gz"), ("mp3s", "*.mp3"), ("mp3 files", "*.mp3"),
    ("conf files", "*.conf"), ("rust files", "*.rs"), ("go files", "*.go"), ("object files", "*.o"),
    (".pyc files", "*.pyc"), ("swap files", "*.swp"), ("iso images", "*.iso"), ("docx documents", "*.docx"),
    ("sql files", "*.sql"), ("xml files", "*.xml"), ("*.dat files", "*.dat"), ("css files", "*.css"),
    ("php files", "*.php"), ("typescript files", "*.ts"), ("videos", "*.mp4"), ("mp4 files", "*.mp4"),
    ("gif files", "*.gif"), ("ini files", "*.ini"), ("*.bak files", "*.bak"), ("*.log files", "*.log"),
]
_NAMES = ["reports", "backup", "build", "archive 2024", "new_project", "out", "old", "latest", "current",
          "photos", "notes", "tmp", "logs", "src", "dist", "release-1.2", "données", "test data", "cache",
          "config.yaml", "foo", "bar", "todo.txt", "core", "vendor", "node_modules", ".git", "venv"]
_WORD_NUMS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight",
              9: "nine", 10: "ten", 12: "twelve", 15: "fifteen", 20: "twenty"}
_SIZE_UNITS = ["M", "MB", " MB", " megs", " megabytes", "k", "K", " KB", " kilobytes", "G", "GB", " GB",
               " gigs", " gigabytes", " bytes"]
_AGE = ["a week", "a month", "a year", "2 weeks", "3 days", "30 days", "7 days", "10 days", "90 days",
        "two weeks", "six months", "a day", "5 days", "14 days", "60 days", "1 year", "three days"]
_RECENT = ["day", "24 hours", "2 days", "week", "3 days", "7 days", "month", "30 days", "5 days"]
_MINUTES = ["10 minutes", "an hour", "2 hours", "30 mins", "5 minutes", "15 minutes", "half an hour",
            "3 hours", "90 minutes", "20 min"]
_MODES = ["644", "755", "600", "700", "777", "640", "750", "u+x", "a+x", "go-w", "o-r", "g+w", "444", "0755"]
_PORTS = [80, 443, 3000, 5000, 8000, 8080, 8443, 9000, 5432, 6379, 27017, 8888, 3306, 5173, 4000, 9090]
_PNAMES = ["python", "nginx", "node", "chrome", "java", "postgres", "sleep", "firefox", "redis-server",
           "docker", "gunicorn", "ruby", "php-fpm", "vim", "code", "npm", "mysqld", "sshd"]
_TEXTS = ["hello world", "TODO: buy milk", "done", "# notes", "meeting at 3pm", "export PATH=$PATH:~/bin",
          "version=1.2.3", "127.0.0.1 dev.local", "remember the milk", "alias ll='ls -l'", "DEBUG=true",
          "hi there", "first line", "Bonjour à tous", "*.pyc", "node_modules/", "set -e", "last entry"]
_PATTERNS = ["TODO", "error", "FIXME", "import os", "password", "localhost", "def main", "ERROR", "timeout",
             "user_id", "warning", "deprecated", "api_key", "404", "Exception", "printf", "console.log",
             "failed", "connection refused", "hello"]
_USERS = ["alice", "bob", "root", "www-data", "postgres", "deploy", "carol"]
_COLUMNS = ["name", "price", "date", "email", "city", "age", "total", "amount", "score", "id", "status",
            "country", "size", "count", "title", "year", "user", "salary", "qty", "department"]
_AS_WRITTEN = {"column": _COLUMNS, "age": _AGE, "recent": _RECENT, "minutes": _MINUTES, "pname": _PNAMES,
               "user": _USERS}
_SLOT_RE = re.compile(r"\{([a-z]+)(\d?)\}")


@dataclass
class Example:
    prompt: str
    plan: str
    source: str

    def to_json(self) -> str:
        return json.dumps({"prompt": self.prompt, "plan": self.plan, "source": self.source}, ensure_ascii=False)


def _quote(rng: random.Random, value: str) -> str:
    """How a person writes a name: bare, or quoted (more often when it has a space, not always)."""
    if rng.random() < (0.6 if " " in value else 0.12):
        q = rng.choice(["'", '"'])
        return q + value + q
    return value


# Coined names: the plan copies a name it has never seen, character for character, whatever its
# spaces, parentheses, dots, dashes, digits or case.
_WORDS = ["report", "final", "draft", "greeting", "invoice", "budget", "letter", "notes", "backup", "photo",
          "scan", "summary", "meeting", "plan", "export", "client", "project", "holiday", "tax", "cv",
          "slides", "server", "web", "config", "secret", "keys", "sales", "q3", "old", "new", "copy",
          "archive", "music", "mix", "lecture", "recipe", "wedding", "trip", "paris", "bills", "taxes",
          "readme", "temp", "output", "results", "chapter", "thesis", "deploy", "build", "shopping", "list"]
_EXTS = ["txt", "md", "log", "csv", "json", "pdf", "jpg", "png", "py", "sh", "conf", "yaml", "tgz", "tar.gz",
         "zip", "docx", "bak", "ini", "env", "html", "mp3", "xlsx", "odt", "gz", "toml", "cfg", "js", "sql"]


def _coined_stem(rng: random.Random) -> str:
    a, b = rng.choice(_WORDS), rng.choice(_WORDS)
    form = rng.randrange(9)
    if form == 0:
        return f"{a}_{b}"
    if form == 1:
        return f"{a}-{b}"
    if form == 2:
        return f"{a.capitalize()} {b}"
    if form == 3:
        return f"{a}{rng.randint(1, 12)}"
    if form == 4:
        return f"{a} ({rng.randint(1, 3)})"
    if form == 5:
        return f"{a.upper() if rng.random() < 0.5 else a.capitalize()}{b.capitalize()}"
    if form == 6:
        return f"{a}_{rng.randint(2019, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if form == 7:
        return f"{a} {b} v{rng.randint(1, 4)}"
    return a


def _coined_file(rng: random.Random) -> str:
    if rng.random() < 0.1:
        return "." + rng.choice([*_WORDS, "env", "gitignore", "npmrc", "vimrc", "profile"])
    name = f"{_coined_stem(rng)}.{rng.choice(_EXTS)}"
    return name if rng.random() < 0.85 else f"{name}.{rng.choice(['bak', 'old', '1', 'orig'])}"


def _coined_text(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(1, 4))]
    if len(words) > 2 and rng.random() < 0.4:
        words.insert(-1, "and")
    text = " ".join(words)
    return text.capitalize() if rng.random() < 0.3 else text


def _coined_dir(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.1:
        return "." + rng.choice(_WORDS)
    if r < 0.3:
        return f"{_coined_stem(rng)}/{rng.choice(_WORDS)}"
    return _coined_stem(rng)


def _dir(rng: random.Random) -> tuple[str, str]:
    r = rng.random()
    if r < 0.12:
        return rng.choice(_HERE)
    if r < 0.18:
        return rng.choice(_HOME)
    if r < 0.32:
        d = rng.choice(_HOME_DIRS)
        return d, d
    if r < 0.44:
        d = rng.choice(_ABS_DIRS)
        return d, d
    d = rng.choice(_DIRS) if rng.random() < 0.65 else _coined_dir(rng)
    form = rng.random()
    if form < 0.2 and " " not in d:
        return f"the {d} folder", d
    if form < 0.3 and " " not in d:
        return f"the {d} directory", d
    if form < 0.36 and " " not in d:
        return f"./{d}", d
    return _quote(rng, d), d


def _file(rng: random.Random) -> tuple[str, str]:
    r = rng.random()
    if r < 0.1:
        f = rng.choice(_ABS_FILES)
        return f, f
    f = rng.choice(_FILES) if rng.random() < 0.6 else _coined_file(rng)
    if r < 0.3:
        d = rng.choice(_DIRS + _HOME_DIRS) if rng.random() < 0.7 else _coined_dir(rng)
        f = f"{d}/{f}"
    return _quote(rng, f), f


def _number(rng: random.Random, lo: int = 1, hi: int = 50) -> tuple[str, Any]:
    n = rng.choice([1, 2, 3, 5, 5, 10, 10, 20, 3, 4, 7, 15, 25, 50, 100, rng.randint(lo, hi)])
    if n in _WORD_NUMS and rng.random() < 0.3:
        return _WORD_NUMS[n], _WORD_NUMS[n]
    return str(n), n


def _size(rng: random.Random) -> tuple[str, str]:
    unit = rng.choice(_SIZE_UNITS)
    n = rng.choice(["1", "2", "5", "10", "50", "100", "500", "1.5", "20", "200", "250"])
    if unit.strip() in ("bytes",):
        n = rng.choice(["100", "1000", "4096", "512"])
    if rng.random() < 0.1:
        text = rng.choice(["a megabyte", "a gigabyte", "one meg", "ten megs", "a gig"])
        return text, text
    return n + unit, n + unit


def fill(rng: random.Random, kind: str) -> tuple[str, Any]:
    """(what a person types, what the plan holds) for one slot of ``kind``."""
    if kind == "dir":
        return _dir(rng)
    if kind == "file":
        return _file(rng)
    if kind == "glob":
        words, glob = rng.choice(_GLOBS)
        return words, glob
    if kind == "name":
        n = rng.choice(_NAMES) if rng.random() < 0.65 else rng.choice([_coined_file, _coined_dir])(rng)
        return _quote(rng, n), n
    if kind == "fname":  # a bare file name, for "X in DIR" / "X from DIR"
        f = rng.choice(_FILES) if rng.random() < 0.6 else _coined_file(rng)
        return _quote(rng, f), f
    if kind == "words":  # text as typed, without quotes: "append export PATH=$PATH:~/bin to ~/.bashrc"
        t = rng.choice(_TEXTS) if rng.random() < 0.6 else _coined_text(rng)
        return t, t
    if kind == "csv":
        f = rng.choice(["data.csv", "sales.csv", "users.tsv", "export.csv", "report 2024.csv", "orders.csv",
                        "~/Downloads/contacts.csv", "stats.tsv", "inventory.csv", "/tmp/results.csv"])
        return _quote(rng, f), f
    if kind == "algo":
        a = rng.choice(["md5", "sha1", "sha256"])
        return rng.choice([a, a + "sum"]), a
    if kind == "n":
        return _number(rng)
    if kind == "size":
        return _size(rng)
    if kind in _AS_WRITTEN:  # what a person types is what the plan holds
        word = rng.choice(_AS_WRITTEN[kind])
        return word, word
    if kind in ("few", "pid", "port"):
        num = rng.randint(1, 5) if kind == "few" else rng.randint(2, 99999) if kind == "pid" else rng.choice(_PORTS)
        return str(num), num
    if kind == "pat":  # a wildcard as typed in a shell command: "*.png"
        glob = rng.choice(_GLOBS)[1]
        return glob, glob
    if kind == "lsmode":  # a mode as ls -l shows it
        mode = rng.choice(["rwxr-xr-x", "rw-r--r--", "rw-------", "rwx------", "rw-rw-r--", "-rwxr-x---"])
        return mode, mode
    if kind in ("octal", "mode"):
        mode = rng.choice([m for m in _MODES if m.isdigit() or kind == "mode"])
        return mode, mode
    if kind == "text":
        t = rng.choice(_TEXTS) if rng.random() < 0.6 else _coined_text(rng)
        if rng.random() < 0.3 and not set(t) & set("'\""):  # as typed, unquoted: "put the text hi there in a.txt"
            return t, t
        q = rng.choice(["'", '"']) if "'" not in t else '"'
        return q + t + q, t
    if kind == "pattern":
        pat = rng.choice(_PATTERNS) if rng.random() < 0.6 else rng.choice(
            [rng.choice(_WORDS).upper()[:4], rng.choice(_WORDS), f"{rng.choice(_WORDS)}_{rng.choice(_WORDS)}",
             f"{rng.choice(_WORDS)}()", f"{rng.choice(_WORDS)} {rng.choice(_WORDS)}", rng.choice(_WORDS).upper()])
        return (_quote(rng, pat) if " " not in pat else f'"{pat}"'), pat
    raise KeyError(f"unknown slot kind {kind!r}")


# ------------------------------------------------------------- variation --
_PREFIXES = ["please ", "can you ", "could you ", "pls ", "i need to ", "i want to ", "help me ", "hey, ",
             "quick: ", "could you please ", "I'd like to ", "go ahead and ", "now "]
_SUFFIXES = [" please", " for me", " thanks", " pls", " now", "!", " thx"]
_QUESTION_START = ("what", "which", "how", "who", "where", "when", "is ", "are ", "any ", "does ")


def _typo(rng: random.Random, text: str, protected: list[str]) -> str:
    words = text.split(" ")
    cands = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha() and not any(w in p for p in protected)]
    if not cands:
        return text
    i = rng.choice(cands)
    w = words[i]
    j = rng.randrange(1, len(w) - 1)
    op = rng.random()
    if op < 0.4:
        w = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    elif op < 0.7:
        w = w[:j] + w[j + 1:]
    else:
        w = w[:j] + w[j] + w[j:]
    words[i] = w
    return " ".join(words)


def vary(rng: random.Random, text: str, protected: list[str]) -> str:
    """The request as different people would type it."""
    if rng.random() < 0.08:
        text = _typo(rng, text, protected)
    r = rng.random()
    if r < 0.18 and not text.startswith(_QUESTION_START):
        text = rng.choice(_PREFIXES) + text
    elif r < 0.27:
        text = text + rng.choice(_SUFFIXES)
    if text.startswith(_QUESTION_START) and rng.random() < 0.5:
        text += "?"
    if rng.random() < 0.3:
        text = text[0].upper() + text[1:]
    return text


# --------------------------------------------------------------- generate --
def _said(surface: dict[str, str], m: re.Match[str]) -> str:
    return surface[m.group(1) + m.group(2)]


def _plan_values(plan: str, values: dict[str, Any]) -> str:
    """Put slot values into a plan template: ``{slot}`` → JSON; inside a quoted string, the raw text."""

    def quoted(m: re.Match[str]) -> str:
        def raw(s: re.Match[str]) -> str:
            return str(values[s.group(1) + s.group(2)])

        inner = _SLOT_RE.sub(raw, m.group(1))
        inner = re.sub(r"^\./", "", inner)
        return json.dumps(inner, ensure_ascii=False)

    plan = re.sub(r'(?:(?<==)|(?<=\[)|(?<=, ))"([^"]*\{[a-z]+\d?\}[^"]*)"', quoted, plan)
    return _SLOT_RE.sub(lambda s: json.dumps(values[s.group(1) + s.group(2)], ensure_ascii=False), plan)


def canonical(steps: list[tuple[str, dict[str, Any]]], registry: Registry) -> str:
    """One spelling per plan: an optional path argument that is the current directory is left out."""
    out = []
    for call, args in steps:
        spec = registry.get(call)
        required = set(spec.args_schema.get("required", []))
        args = {k: v for k, v in args.items() if not (k in spec.path_args and k not in required and v == ".")}
        out.append((call, args))
    return PT.render(out, registry)


def _raw_steps(plan: str, registry: Registry) -> list[tuple[str, dict[str, Any]]]:
    steps = (PT.parse_line(line, registry, convert_values=False) for line in plan.splitlines())
    return [(s.call, s.args) for s in steps]


MIN_PER_CALL = 72  # tries per call, spread over its templates (slot-less templates give fewer distinct texts)


def check(plan_text: str, registry: Registry, intent: str = "") -> None:
    """Raise when a plan text would not parse, convert and validate (refs are checked as placeholders)."""
    for step in PT.parse(plan_text, registry, intent=intent):
        validate_step(step.call, step.args, registry)


def _instance(rng: random.Random, req_t: str, plan_t: str) -> tuple[str, str, list[str]]:
    """One filling of a template: (request as typed, plan text with the values in, the typed slot words)."""
    surface: dict[str, str] = {}
    values: dict[str, Any] = {}
    for kind, idx in _SLOT_RE.findall(req_t + plan_t):
        key = kind + idx
        if key in values:
            continue
        for _try in range(6):  # the second slot of a kind differs from the first
            s, v = fill(rng, kind)
            if v not in values.values():
                break
        surface[key], values[key] = s, v
    return _SLOT_RE.sub(partial(_said, surface), req_t), _plan_values(plan_t, values), list(surface.values())


def _split_prev(req_t: str) -> tuple[str | None, str]:
    m = re.match(r"^\[prev=([a-z._]+)\]\s*", req_t)
    return (m.group(1), req_t[m.end():]) if m else (None, req_t)


def generated(registry: Registry, seed: int, per_template: int) -> Iterator[Example]:
    rng = random.Random(seed)
    calls = [spec for spec in registry if spec.phrasings]
    for spec in calls:
        # a call with few templates gets more tries of each, so that every call has about MIN_PER_CALL examples
        floor = -(-MIN_PER_CALL // len(spec.phrasings))
        for req_t, plan_t in spec.phrasings:
            prev, req_t = _split_prev(req_t)
            kinds = _SLOT_RE.findall(req_t + plan_t)
            n = max(floor, per_template if kinds else max(2, per_template // 3))
            seen: set[str] = set()
            for _ in range(n):
                text, plan_raw, said = _instance(rng, req_t, plan_t)
                text = vary(rng, text, said)
                if text in seen:
                    continue
                seen.add(text)
                plan = canonical(_raw_steps(plan_raw, registry), registry)
                previous = f"{prev} {rng.randint(1, 40)} rows" if prev else None
                if previous is None and rng.random() < 0.12:
                    previous = rng.choice(["fs.find", "fs.list", "proc.list", "fs.grep"]) + \
                        f" {rng.randint(0, 40)} rows"
                yield Example(PT.prompt(text, previous), plan, f"template:{spec.name}")


# Two requests in one sentence become two steps, in the order said.  Joined from any two single-step
# templates of different calls, so that "do A and then B" is learnt as a shape, not per pair of calls.
_JOINERS = [" and ", " and then ", ", then ", " then ", "; ", ", and ", ". Then ", " && ", ", after that ",
            " and after that ", ", and also ", ". also "]
# A second step that acts on what the first one made ("... and make it executable"): the first call, then
# (what the person adds, the step on ``$0``).  Result fields: fs.mkdir/fs.write/fs.touch/archive.create
# give ``path``, fs.copy ``dest``.
_ON_IT: dict[str, list[tuple[str, str]]] = {
    "fs.mkdir": [("move {file} into it", 'fs.move src={file} dest="$0.path"'),
                 ("put {file} in it", 'fs.move src={file} dest="$0.path"'),
                 ("copy {file} into it", 'fs.copy src={file} dest="$0.path"'),
                 ("put a copy of {file} in there", 'fs.copy src={file} dest="$0.path"'),
                 ("move {file2} there", 'fs.move src={file2} dest="$0.path"')],
    "fs.write": [("make it executable", 'fs.chmod path="$0.path" mode="+x"'),
                 ("chmod it {octal}", 'fs.chmod path="$0.path" mode={octal}'),
                 ("show it to me", 'fs.read path="$0.path"'),
                 ("gzip it", 'archive.gzip path="$0.path"')],
    "fs.touch": [("make it executable", 'fs.chmod path="$0.path" mode="+x"'),
                 ("give it mode {octal}", 'fs.chmod path="$0.path" mode={octal}')],
    "archive.create": [("list what's in it", 'archive.list path="$0.path"'),
                       ("show me the contents", 'archive.list path="$0.path"'),
                       ("give me its sha256", 'fs.checksum path="$0.path" algorithm="sha256"'),
                       ("copy it to {dir}", 'fs.copy src="$0.path" dest={dir}')],
    "fs.copy": [("make the copy read-only", 'fs.chmod path="$0.dest" mode="a-w"'),
                ("show me the copy", 'fs.stat path="$0.dest"')],
}
COMPOSED = 1600  # two-call requests; about one example in fourteen


def _single_step(spec_phrasings: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    return [(r, p) for r, p in spec_phrasings if "\n" not in p and "$" not in p and not r.startswith("[prev=")]


def composed(registry: Registry, seed: int) -> Iterator[Example]:
    rng = random.Random(seed + 1)
    singles = {spec.name: _single_step(spec.phrasings) for spec in registry
               if spec.phrasings and spec.name != "answer"}
    singles = {name: ts for name, ts in singles.items() if ts}
    names = sorted(singles)
    seen: set[str] = set()
    for i in range(COMPOSED):
        if i % 4 == 3:  # the second step works on what the first made
            first = rng.choice(sorted(_ON_IT))
            req2_t, plan2_t = rng.choice(_ON_IT[first])
        else:
            first, second = rng.sample(names, 2)
            req2_t, plan2_t = rng.choice(singles[second])
        req1_t, plan1_t = rng.choice(singles[first])
        text1, plan1, said1 = _instance(rng, req1_t, plan1_t)
        text2, plan2, said2 = _instance(rng, req2_t, plan2_t)
        text2 = text2[0].lower() + text2[1:] if text2[:2] != text2[:2].upper() else text2
        text = vary(rng, text1 + rng.choice(_JOINERS) + text2, said1 + said2)
        if text in seen:
            continue
        seen.add(text)
        plan = canonical(_raw_steps(plan1, registry) + _raw_steps(plan2, registry), registry)
        yield Example(PT.prompt(text), plan, f"template:composed:{first}")


def real(registry: Registry) -> Iterator[Example]:
    """Translated NL2Bash train rows and tldr pairs (nothing when the translator is not available)."""
    try:
        from models.training import translate
    except ImportError:
        return
    pairs = translate.corpus_pairs(SHARED / "nl2bash" / "train.tsv", SHARED / "tldr" / "pairs.tsv")
    for pair in pairs:
        nl, plan_text, source = pair[0], pair[1], pair[2]
        try:
            steps = _raw_steps(plan_text, registry)
            plan = canonical(steps, registry)
            check(plan, registry, nl)
        except Exception:  # a translation the registry rejects is left out (and counted by the translator)
            continue
        yield Example(PT.prompt(nl), plan, source)


def build(registry: Registry, *, seed: int = 7, per_template: int = 24, real_data: bool = True,
          exclude: set[str] | None = None) -> list[Example]:
    """The whole corpus, shuffled with ``seed``; no request that contains one of ``exclude`` (the evaluation
    sets) enters, whatever its case, punctuation or surrounding words (``contains_held_out``)."""
    out: list[Example] = []
    bad: Counter[str] = Counter()
    for ex in itertools.chain(generated(registry, seed, per_template), composed(registry, seed)):
        try:
            check(ex.plan, registry, ex.prompt)
        except Exception as exc:
            bad[f"{ex.source}: {exc}"] += 1
            continue
        out.append(ex)
    if bad:
        raise ValueError("phrasing templates that do not validate:\n"
                         + "\n".join(f"  {k} ×{v}" for k, v in bad.items()))
    if real_data:
        out.extend(real(registry))
    if exclude:
        held_out = held_out_keys(exclude)
        out = [ex for ex in out if not contains_held_out(request_of(ex.prompt), held_out)]
    random.Random(seed).shuffle(out)
    return out


_NOT_WORD = re.compile(r"[^\w]+")


def words_of(text: str) -> tuple[str, ...]:
    """A request as its lower-case words, punctuation and spacing left out."""
    return tuple(_NOT_WORD.sub(" ", text.lower()).split())


def held_out_keys(requests: set[str]) -> set[tuple[str, ...]]:
    """The word sequences no training request may contain.  A request with a placeholder (``kill {pid}``)
    holds out the words before it, when there are at least three."""
    keys = set()
    for req in requests:
        head, brace, _ = req.partition("{")
        key = words_of(head)
        if key and (not brace or len(key) >= 3):
            keys.add(key)
    return keys


def held_out_in(request: str, keys: Container[tuple[str, ...]]) -> Iterator[tuple[str, ...]]:
    """The held-out word sequences whose words appear, in order and adjacent, among ``request``'s."""
    words = words_of(request)
    return (words[i:j] for i in range(len(words)) for j in range(i + 1, len(words) + 1) if words[i:j] in keys)


def contains_held_out(request: str, keys: Container[tuple[str, ...]]) -> bool:
    """Whether ``request`` holds a held-out request: "please pwd", "Who's hogging the CPU?" and "battery
    level? thx" all contain an evaluation request."""
    return next(held_out_in(request, keys), None) is not None


def request_of(prompt: str) -> str:
    return prompt.split("\n", 1)[0].removeprefix("request: ")


def evaluation_requests() -> set[str]:
    """Every request of the evaluation sets, lower-cased: NL2Bash dev/test rows, the everyday and daily sets
    and the development sets of ``bench/`` (``DEV``, ``DEV2``; when the checkout has them).  None may be
    trained on."""
    out: set[str] = set()
    root = Path(__file__).resolve().parents[2]
    if (root / "bench" / "cases_everyday.py").is_file():
        sys.path[:0] = [str(root), str(root / "tests")]
        try:  # imported by name: bench/ is a script folder beside the packages, not one of them
            cases = [*importlib.import_module("bench.cases_everyday").EVERYDAY,
                     *importlib.import_module("bench.cases_daily").DAILY,
                     *importlib.import_module("bench.bench_model").DEV,
                     *importlib.import_module("bench.cases_dev2").DEV2]
        finally:
            del sys.path[:2]
        out |= {" ".join(str(c.intent).split()).lower() for c in cases}
    for name in ("dev.tsv", "test.tsv"):
        path = SHARED / "nl2bash" / name
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines()[1:]:
                parts = line.split("\t")
                if len(parts) >= 2:
                    out.add(" ".join(parts[1].split()).lower())
    return out


def digest(examples: list[Example]) -> str:
    h = hashlib.sha256()
    for ex in examples:
        h.update(ex.to_json().encode())
        h.update(b"\n")
    return h.hexdigest()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--per-template", type=int, default=24)
    ap.add_argument("--no-real", action="store_true", help="generated examples only")
    args = ap.parse_args(argv)
    registry = default_registry()
    examples = build(registry, seed=args.seed, per_template=args.per_template, real_data=not args.no_real,
                     exclude=evaluation_requests())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(ex.to_json() + "\n" for ex in examples), encoding="utf-8")
    by_source = Counter(ex.source.split(":")[0] for ex in examples)
    print(f"{len(examples)} examples {dict(by_source)} sha256 {digest(examples)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
