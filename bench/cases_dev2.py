"""The second development set: requests typed the way people type at a terminal, checked by execution.

**Development only.**  This set exists to choose between trained adapters and between thresholds
(confidence, abstention) on more than the 66 cases of ``bench_model.DEV``.  Never train on it, never put
its intents in the example bank or in a call's examples: once a model has seen them it no longer tells
adapters apart.  Written blind on 2026-12-01, without reading the held-out sets (``cases_daily``,
``cases_everyday``), the training templates or the example bank; ``tests/test_cases_dev2.py`` checks
that no intent is one of theirs once normalised.

Every case runs over a fresh lived-in home (``dev2_tree``: Downloads, Documents, projects, logs,
dotfiles, names with spaces, parentheses and accents, a few big sparse files, old mtimes) with
``$HOME`` pointing at it.  A check looks at what executing the plan did (files made, gone, changed,
modes) or at what it returned (the right thing present *and* a wrong thing absent), never at the
plan's text.  ``GOLD`` holds a hand-written right plan for every intent (and every follow-up's earlier
request); the test runs them all.

    .venv/bin/python bench/bench_model.py accuracy --set dev2 [--planners v2,shots] [--only WORD]
    .venv/bin/python -m pytest -q tests/test_cases_dev2.py      # the gold plans pass, wrong plans fail
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tarfile
import time
import zipfile
from pathlib import Path
from typing import Any

from bench.cases_common import (
    DAY,
    Case,
    Check,
    answered_by,
    both,
    either,
    executable,
    exists,
    file_has,
    file_lacks,
    first_row_has,
    has,
    in_order,
    is_link,
    keys,
    killed,
    lacks,
    last_text,
    missing,
    mode,
    mode_bits,
    not_executable,
    pid_in_data,
    refused,
    stopped,
    value,
)

MB = 1024 * 1024
GB = 1024 * MB

LOG = "".join(
    f"2026-11-{d:02d} {h:02d}:00:00 {lvl} {msg}\n"
    for d, h, lvl, msg in [
        (24, 9, "INFO", "service started"), (25, 10, "WARN", "disk at 81%"), (26, 11, "ERROR", "upstream timeout"),
        (27, 12, "INFO", "cache warmed"), (28, 13, "error", "payment webhook failed"),
        (29, 14, "INFO", "nightly backup done"), (30, 15, "ERROR", "db connection refused"),
    ])

PAPER = b"%PDF-1.7 paper\n"
BUDGET = ("month,category,amount\n2026-09,rent,950\n2026-09,groceries,310\n2026-10,rent,950\n"
          "2026-10,groceries,287\n2026-10,travel,420\n2026-11,rent,950\n2026-11,groceries,265\n")

# rel path -> (content, age in days); bytes are written as is; an int is a sparse file of that many bytes
FILES: dict[str, tuple[str | bytes | int, float]] = {
    ".bashrc": ("export EDITOR=vim\nalias ll='ls -l'\n", 120),
    ".profile": ("PATH=$HOME/bin:$PATH\n", 300),
    ".config/mpv/mpv.conf": ("volume=70\n", 45),
    ".ssh/id_rsa": ("-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n", 200),
    ".ssh/known_hosts": ("github.com ssh-ed25519 AAAA\n", 20),
    "Downloads/ubuntu-26.04-desktop.iso": (150 * MB, 12),
    "Downloads/paper draft.pdf": (PAPER, 2),
    "Downloads/Rechnung (2).pdf": (b"%PDF-1.4 rechnung\n", 33),
    "Downloads/IMG_2041.jpg": (b"\xff\xd8\xff\xe0jpeg-a", 6),
    "Downloads/IMG_2042.JPG": (b"\xff\xd8\xff\xe0jpeg-b", 6),
    "Downloads/install-tool.sh": ("#!/bin/sh\necho installing\n", 1),
    "Downloads/old-driver.deb": (24 * MB, 400),
    "Downloads/fonts.zip": (b"", 9),   # replaced by a real zip below
    "Documents/budget.csv": (BUDGET, 4),
    "Documents/todo.txt": ("renew passport\ncall the plumber\nbuy a birthday gift\n", 1),
    "Documents/Lettre à Zoé.txt": ("Chère Zoé,\nmerci pour le livre.\n", 15),
    "Documents/cv (final).md": ("# Curriculum vitae\nPython, Rust, SQL\n", 70),
    "Documents/reports/q3-summary.md": ("# Q3\nrevenue up 4%\nconfidential\n", 60),
    "Documents/reports/q4-draft.md": ("# Q4\nrevenue flat\nCONFIDENTIAL draft\n", 2.5),
    "Documents/guests.txt": ("marta\nabel\nzane\nkofi\nabel\nbeatriz\n", 8),
    "Documents/scores.txt": ("42\n7\n100\n19\n", 8),
    "projects/weather/app.py": ("import requests\nfrom api import fetch\n\n# FIXME handle missing city\n"
                                "print(fetch('Oslo'))\n", 2),
    "projects/weather/api.py": ("import requests\n\n\ndef fetch(city):\n    # TODO retry on 503\n"
                                "    return requests.get(city).json()\n", 5),
    "projects/weather/README.md": ("# weather\nA tiny CLI that prints the forecast.\n", 30),
    "projects/weather/tests/test_api.py": ("from api import fetch\n\n\ndef test_fetch():\n    assert fetch\n", 5),
    "projects/weather/.gitignore": ("__pycache__/\n.venv/\n", 30),
    "projects/site/index.html": ("<html><body><h1>Hello</h1></body></html>\n", 20),
    "projects/site/style.css": ("body { color: #333; }\n", 20),
    "projects/site/deploy.sh": ("#!/bin/sh\nrsync -av . server:/var/www\n", 20),
    "projects/site/build/bundle.js": ("console.log('x')\n", 1),
    "projects/site/build/bundle.js.map": ("{}\n", 1),
    "logs/app.log": (LOG, 0.2),
    "logs/auth.log": ("Nov 30 sshd: Accepted key for sam\nNov 30 sshd: Failed password for root\n", 1),
    "logs/app-2026-08.log": ("2026-08-01 INFO old stuff\n", 120),
    "logs/app-2026-09.log": ("2026-09-01 INFO older stuff\n", 90),
    "Music/Road Trip/01 - Intro.mp3": (5 * MB, 500),
    "Music/Road Trip/02 - Highway.mp3": (7 * MB, 500),
    "Music/ringtone.mp3": (300 * 1024, 50),
    "Videos/wedding (edited).mkv": (3 * GB, 700),
    "tmp/session-1.tmp": ("s1", 10),
    "tmp/session-2.tmp": ("s2", 10),
    "tmp/keep.cfg": ("keep=1\n", 10),
    "tmp/blank.txt": ("", 10),
    "scratch/ideas.txt": ("a bot that waters plants\n", 3),
    "scratch/empty note.txt": ("", 3),
    "bin/backup.sh": ("#!/bin/sh\ntar czf /tmp/b.tgz ~/Documents\n", 40),
    "bin/greet": ("#!/bin/sh\necho hi\n", 40),
}


def dev2_tree(root: Path) -> None:
    """A lived-in home: downloads, documents, two projects, dated logs, dotfiles, big sparse files."""
    now = time.time()
    for rel, (content, _age) in FILES.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, int):
            with p.open("wb") as f:
                f.truncate(content)
        elif isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
    with zipfile.ZipFile(root / "Downloads/fonts.zip", "w") as z:
        z.writestr("Inter-Regular.ttf", "ttf")
        z.writestr("LICENSE.txt", "OFL")
    for rel, (_content, age) in FILES.items():
        t = now - age * DAY
        os.utime(root / rel, (t, t))
    with gzip.open(root / "logs/app-2026-07.log.gz", "wt") as g:
        g.write("2026-07-01 INFO july stuff\n")
    old = now - 150 * DAY
    os.utime(root / "logs/app-2026-07.log.gz", (old, old))
    for rel in FILES:   # whatever the umask: the modes the chmod cases start from
        (root / rel).chmod(0o644)
    (root / "projects/site/deploy.sh").chmod(0o755)
    (root / "projects/site/index.html").chmod(0o666)
    (root / "projects/site/style.css").chmod(0o664)
    (root / "Pictures/empty album").mkdir(parents=True)
    (root / "Desktop").mkdir()
    (root / "Desktop/weather").symlink_to("../projects/weather")


# ---- checks of this set's own ------------------------------------------------------------------------

def starts_with(rel: str, first: str) -> Check:
    """``rel`` is a file whose first line is ``first``."""
    return lambda root, ex, ctx: (root / rel).is_file() and (root / rel).read_text().split("\n", 1)[0] == first


def occurs(rel: str, line: str, times: int) -> Check:
    """``line`` is a whole line of the file ``rel`` exactly ``times`` times."""
    return lambda root, ex, ctx: (root / rel).is_file() and (root / rel).read_text().splitlines().count(line) == times


def shows(*needles: str) -> Check:
    """Every step succeeded and the last result (what the plan ends by showing) holds each needle."""
    return lambda root, ex, ctx: ex.ok and all(n in last_text(root, ex) for n in needles)


def hides(*needles: str) -> Check:
    """The last result holds none of the needles (an earlier step may: a table read before it is filtered)."""
    return lambda root, ex, ctx: bool(ex.results) and all(n not in last_text(root, ex) for n in needles)


def empty_file(rel: str) -> Check:
    return lambda root, ex, ctx: (root / rel).is_file() and (root / rel).stat().st_size == 0


def archive_has(rel: str, *names: str) -> Check:
    """``rel`` is a tar or zip archive with a member whose name ends with each of ``names``."""
    def check(root: Path, ex: Any, ctx: Any) -> bool:
        p = root / rel
        if not p.is_file():
            return False
        if zipfile.is_zipfile(p):
            with zipfile.ZipFile(p) as z:
                members = z.namelist()
        else:
            with tarfile.open(p) as t:
                members = t.getnames()
        return all(any(m.rstrip("/").endswith(n) for m in members) for n in names)
    return check


def gz_of(rel: str, text: str) -> Check:
    """``rel`` is a gzip file whose text holds ``text``."""
    def check(root: Path, ex: Any, ctx: Any) -> bool:
        p = root / rel
        if not p.is_file():
            return False
        with gzip.open(p, "rt") as g:
            return text in g.read()
    return check


# ---- the set ------------------------------------------------------------------------------------------

Steps = list[tuple[str, dict[str, Any]]]

DEV2: list[Case] = []
GOLD: dict[str, Steps] = {}
"""The right plan of every intent (and of every follow-up's earlier request), by intent template.

An argument that is exactly ``"{pid}"`` or ``"{port}"`` stands for the case's process id or port (a
number), and ``{root}`` inside a string for the fixture root: the test's planner fills them in."""


def _case(category: str, intent: str, labels: tuple[str, ...], check: Check, gold: Steps, *,
          needs: str = "", before: str = "", before_gold: Steps | None = None) -> None:
    assert intent not in GOLD, intent
    DEV2.append(Case(intent, labels, check, needs=needs, before=before, category=category, setup=dev2_tree,
                     home=True))
    GOLD[intent] = gold
    if before:
        assert before_gold is not None and before not in GOLD, before
        GOLD[before] = before_gold


def _find(**args: Any) -> Steps:
    return [("fs.find", args)]


REFUSE: Steps = [("answer", {"text": "I can't do that here.", "supported": False})]

# files-find ---------------------------------------------------------------------------------------------
F = "files-find"
_case(F, "find ~/Downloads -iname '*.pdf'", ("fs.find",),
      both(has("paper draft.pdf", "Rechnung (2).pdf"), lacks("IMG_2041", "fonts.zip")),
      _find(path="~/Downloads", iname="*.pdf"))
_case(F, "any jpegs in my downloads folder?", ("fs.find",),
      both(has("IMG_2041.jpg", "IMG_2042.JPG"), lacks("paper draft")),
      _find(path="~/Downloads", iname="*.jpg"))
_case(F, "files over 100 megs in my home", ("fs.find",),
      both(has("ubuntu-26.04-desktop.iso", "wedding (edited).mkv"), lacks("old-driver.deb", "ringtone")),
      _find(path="~", type="file", size_min_bytes=100 * MB))
_case(F, "show me everything bigger than 2GB", ("fs.find",),
      both(has("wedding (edited).mkv"), lacks("ubuntu-26.04")),
      _find(path="~", size_min_bytes=2 * GB))
_case(F, "files in Downloads larger than 20 MB", ("fs.find",),
      both(has("ubuntu-26.04-desktop.iso", "old-driver.deb"), lacks("paper draft", "wedding")),
      _find(path="Downloads", type="file", size_min_bytes=20 * MB))
_case(F, "mp3s under 1 meg", ("fs.find",),
      both(has("ringtone.mp3"), lacks("01 - Intro", "02 - Highway")),
      _find(path="~", name="*.mp3", size_max_bytes=MB))
_case(F, "stuff in Downloads i havent touched in a year", ("fs.find",),
      both(has("old-driver.deb"), lacks("paper draft", "IMG_2041", "ubuntu")),
      _find(path="~/Downloads", mtime_min_days=365))
_case(F, "what changed in Documents in the last 3 days?", ("fs.find",),
      both(has("todo.txt", "q4-draft.md"), lacks("budget.csv", "cv (final)", "q3-summary")),
      _find(path="Documents", type="file", mtime_max_days=3))
_case(F, "log files older than 2 months", ("fs.find",),
      both(has("app-2026-08.log", "app-2026-09.log"), lacks("auth.log", "logs/app.log")),
      _find(path="~", name="*.log", mtime_min_days=60))
_case(F, "find zero-length files in ~", ("fs.find",),
      both(has("blank.txt", "empty note.txt"), lacks("ideas.txt", "keep.cfg")),
      _find(path="~", type="file", empty=True))
_case(F, "empty dirs?", ("fs.find",),
      both(has("empty album"), lacks("Road Trip", "reports")),
      _find(type="dir", empty=True))
_case(F, "find . -name '*.py' -not -path '*/tests/*'", ("fs.find",),
      both(has("app.py", "api.py"), lacks("test_api.py")),
      _find(path=".", name="*.py", not_path="*/tests/*"))
_case(F, "wheres my cv", ("fs.find",),
      both(has("cv (final).md"), lacks("todo.txt")),
      _find(path="~", iname="*cv*"))
_case(F, "list the symlinks in my home dir", ("fs.find",),
      both(has("Desktop/weather"), lacks("app.py", "todo.txt")),
      _find(path="~", type="symlink"))
_case(F, "ls -la ~", ("fs.list",),
      both(has(".bashrc", ".profile", "Downloads"), lacks("IMG_2041", "todo.txt")),
      [("fs.list", {"path": "~", "hidden": True, "long": True})])
_case(F, "what's in {root}/tmp", ("fs.list",),
      both(has("session-1.tmp", "keep.cfg"), lacks("ideas.txt", "Downloads")),
      [("fs.list", {"path": "{root}/tmp"})])
_case(F, "2 largest files in ~/Downloads?", ("fs.find", "fs.list"),
      both(in_order("ubuntu-26.04", "old-driver.deb"), lacks("paper draft", "fonts.zip")),
      _find(path="Downloads", type="file", sort="size", limit=2))
_case(F, "any shell scripts lying around in projects?", ("fs.find",),
      both(has("deploy.sh"), lacks("install-tool.sh", "backup.sh", "index.html")),
      _find(path="projects", name="*.sh"))
_case(F, "how many pdfs have i got", ("fs.find",),
      both(value("count", 2), has("Rechnung (2).pdf")),
      _find(path="~", iname="*.pdf", type="file"))

# files-read ---------------------------------------------------------------------------------------------
R = "files-read"
_case(R, "cat Documents/todo.txt", ("fs.read",),
      both(has("renew passport", "buy a birthday gift"), lacks("month,category")),
      [("fs.read", {"path": "Documents/todo.txt"})])
_case(R, "show me the first line of the budget csv in Documents", ("fs.read",),
      both(has("month,category,amount"), lacks("rent", "groceries")),
      [("fs.read", {"path": "Documents/budget.csv", "head_lines": 1})])
_case(R, "tail -3 logs/app.log", ("fs.read",),
      both(has("db connection refused", "2026-11-28"), lacks("2026-11-27", "service started")),
      [("fs.read", {"path": "logs/app.log", "tail_lines": 3})])
_case(R, "whats in my .bashrc", ("fs.read",),
      both(has("EDITOR=vim"), lacks("PATH=$HOME")),
      [("fs.read", {"path": "~/.bashrc"})])
_case(R, "read me the letter to Zoé in Documents", ("fs.read",),
      both(has("merci pour le livre"), lacks("renew passport")),
      [("fs.read", {"path": "Documents/Lettre à Zoé.txt"})])
_case(R, "print lines 2 to 4 of Documents/guests.txt", ("fs.read",),
      both(has("abel", "zane", "kofi"), lacks("marta", "beatriz")),
      [("fs.read", {"path": "Documents/guests.txt", "line_start": 2, "line_end": 4})])
_case(R, "head -n 1 projects/weather/README.md", ("fs.read",),
      both(has("# weather"), lacks("tiny CLI")),
      [("fs.read", {"path": "projects/weather/README.md", "head_lines": 1})])
_case(R, "show the mpv config file", ("fs.read",),
      both(has("volume=70"), lacks("EDITOR")),
      [("fs.read", {"path": "~/.config/mpv/mpv.conf"})])
_case(R, "sha256sum 'Downloads/paper draft.pdf'", ("fs.checksum",),
      both(has(hashlib.sha256(PAPER).hexdigest()), lacks(hashlib.md5(PAPER).hexdigest())),
      [("fs.checksum", {"path": "Downloads/paper draft.pdf", "algorithm": "sha256"})])
_case(R, "what kind of file is fonts.zip in downloads", ("fs.type",),
      both(has("Zip archive"), lacks("Inter-Regular")),
      [("fs.type", {"path": "Downloads/fonts.zip"})])
_case(R, "when did i last edit 'cv (final).md' in Documents", ("fs.stat",),
      both(has("cv (final).md", "mtime"), lacks("todo.txt")),
      [("fs.stat", {"path": "Documents/cv (final).md"})])
_case(R, "what are the perms on ~/.ssh/id_rsa", ("fs.stat", "fs.list"),
      both(has("id_rsa", "rw-r--r--"), lacks("known_hosts")),
      [("fs.stat", {"path": "~/.ssh/id_rsa"})])

# files-write --------------------------------------------------------------------------------------------
W = "files-write"
_case(W, "echo 'call mom' >> Documents/todo.txt", ("fs.append",),
      both(file_has("Documents/todo.txt", "renew passport", "call mom")),
      [("fs.append", {"path": "Documents/todo.txt", "content": "call mom\n"})])
_case(W, "create shopping list.txt with eggs and milk on separate lines", ("fs.write",),
      both(occurs("shopping list.txt", "eggs", 1), occurs("shopping list.txt", "milk", 1)),
      [("fs.write", {"path": "shopping list.txt", "content": "eggs\nmilk\n"})])
_case(W, "touch scratch/.gitkeep", ("fs.touch",),
      both(exists("scratch/.gitkeep"), file_has("scratch/ideas.txt", "waters plants")),
      [("fs.touch", {"path": "scratch/.gitkeep"})])
_case(W, "mkdir ~/projects/recipes-app", ("fs.mkdir",),
      exists("projects/recipes-app"),
      [("fs.mkdir", {"path": "~/projects/recipes-app"})])
_case(W, "make folders 2027/jan inside Documents", ("fs.mkdir",),
      exists("Documents/2027/jan"),
      [("fs.mkdir", {"path": "Documents/2027/jan", "parents": True})])
_case(W, "add 'set -o vi' to the end of my bashrc", ("fs.append",),
      both(file_has(".bashrc", "EDITOR=vim", "set -o vi"), occurs(".bashrc", "set -o vi", 1)),
      [("fs.append", {"path": "~/.bashrc", "content": "set -o vi\n"})])
_case(W, "overwrite scratch/ideas.txt with just 'nothing yet'", ("fs.write",),
      both(file_has("scratch/ideas.txt", "nothing yet"), file_lacks("scratch/ideas.txt", "waters plants")),
      [("fs.write", {"path": "scratch/ideas.txt", "content": "nothing yet\n"})])
_case(W, "replace Oslo with Bergen in projects/weather/app.py", ("text.replace",),
      both(file_has("projects/weather/app.py", "Bergen", "import requests"),
           file_lacks("projects/weather/app.py", "Oslo")),
      [("text.replace", {"path": "projects/weather/app.py", "find": "Oslo", "replace": "Bergen"})])
_case(W, "put a '# errands' heading at the top of Documents/todo.txt", ("text.insert",),
      both(starts_with("Documents/todo.txt", "# errands"), file_has("Documents/todo.txt", "renew passport")),
      [("text.insert", {"path": "Documents/todo.txt", "text": "# errands", "at": "top"})])
_case(W, "new empty file called meeting.md in Documents", ("fs.touch", "fs.write"),
      both(empty_file("Documents/meeting.md"), missing("meeting.md")),
      [("fs.touch", {"path": "Documents/meeting.md"})])
_case(W, "write hello into {root}/scratch/hello.txt", ("fs.write",),
      file_has("scratch/hello.txt", "hello"),
      [("fs.write", {"path": "{root}/scratch/hello.txt", "content": "hello\n"})])
_case(W, "ln -s ~/bin/greet ~/Desktop/greet", ("fs.symlink",),
      is_link("Desktop/greet", "bin/greet"),
      [("fs.symlink", {"path": "~/Desktop/greet", "target": "~/bin/greet"})])

# files-delete -------------------------------------------------------------------------------------------
D = "files-delete"
_case(D, "rm tmp/session-1.tmp", ("fs.delete",),
      both(missing("tmp/session-1.tmp"), exists("tmp/session-2.tmp", "tmp/keep.cfg")),
      [("fs.delete", {"path": "tmp/session-1.tmp"})])
_case(D, "delete the ubuntu iso in downloads, dont need it anymore", ("fs.delete",),
      both(missing("Downloads/ubuntu-26.04-desktop.iso"), exists("Downloads/paper draft.pdf")),
      [("fs.delete", {"path": "Downloads/ubuntu-26.04-desktop.iso"})])
_case(D, "get rid of \"Downloads/Rechnung (2).pdf\"", ("fs.delete",),
      both(missing("Downloads/Rechnung (2).pdf"), exists("Downloads/paper draft.pdf")),
      [("fs.delete", {"path": "Downloads/Rechnung (2).pdf"})])
_case(D, "rm -r projects/site/build", ("fs.delete",),
      both(missing("projects/site/build"), exists("projects/site/index.html")),
      [("fs.delete", {"path": "projects/site/build", "recursive": True})])
_case(D, "remove the empty album folder in Pictures", ("fs.delete",),
      both(missing("Pictures/empty album"), exists("Pictures")),
      [("fs.delete", {"path": "Pictures/empty album"})])
_case(D, "delete .ssh/known_hosts", ("fs.delete",),
      both(missing(".ssh/known_hosts"), exists(".ssh/id_rsa")),
      [("fs.delete", {"path": ".ssh/known_hosts"})])
_case(D, "wipe out the whole tmp folder", ("fs.delete",),
      both(missing("tmp"), exists("scratch/ideas.txt")),
      [("fs.delete", {"path": "tmp", "recursive": True})])
_case(D, "delte 'scratch/empty note.txt'", ("fs.delete",),
      both(missing("scratch/empty note.txt"), exists("scratch/ideas.txt")),
      [("fs.delete", {"path": "scratch/empty note.txt"})])
_case(D, "remove bundle.js.map from the site's build folder", ("fs.delete",),
      both(missing("projects/site/build/bundle.js.map"), exists("projects/site/build/bundle.js")),
      [("fs.delete", {"path": "projects/site/build/bundle.js.map"})])
_case(D, "delete {root}/logs/app-2026-08.log", ("fs.delete",),
      both(missing("logs/app-2026-08.log"), exists("logs/app-2026-09.log", "logs/app.log")),
      [("fs.delete", {"path": "{root}/logs/app-2026-08.log"})])

# files-move-copy ----------------------------------------------------------------------------------------
M = "files-move-copy"
_case(M, "mv Documents/todo.txt Documents/todo-old.txt", ("fs.move",),
      both(file_has("Documents/todo-old.txt", "renew passport"), missing("Documents/todo.txt")),
      [("fs.move", {"src": "Documents/todo.txt", "dest": "Documents/todo-old.txt"})])
_case(M, "back up .bashrc as .bashrc.bak", ("fs.copy",),
      both(file_has(".bashrc.bak", "EDITOR=vim"), file_has(".bashrc", "EDITOR=vim")),
      [("fs.copy", {"src": ".bashrc", "dest": ".bashrc.bak"})])
_case(M, "move paper draft.pdf from downloads to documents", ("fs.move",),
      both(exists("Documents/paper draft.pdf"), missing("Downloads/paper draft.pdf")),
      [("fs.move", {"src": "Downloads/paper draft.pdf", "dest": "Documents"})])
_case(M, "cp -r projects/weather ~/weather-backup", ("fs.copy",),
      both(file_has("weather-backup/app.py", "Oslo"), exists("weather-backup/tests/test_api.py",
                                                              "projects/weather/app.py")),
      [("fs.copy", {"src": "projects/weather", "dest": "~/weather-backup", "recursive": True})])
_case(M, "rename the 'Road Trip' album in Music to road_trip_2024", ("fs.move",),
      both(exists("Music/road_trip_2024/01 - Intro.mp3"), missing("Music/Road Trip")),
      [("fs.move", {"src": "Music/Road Trip", "dest": "Music/road_trip_2024"})])
_case(M, "put a copy of budget.csv on the Desktop", ("fs.copy",),
      both(file_has("Desktop/budget.csv", "rent"), exists("Documents/budget.csv")),
      [("fs.copy", {"src": "Documents/budget.csv", "dest": "Desktop"})])
_case(M, "move Downloads/IMG_2041.jpg into Pictures", ("fs.move",),
      both(exists("Pictures/IMG_2041.jpg", "Downloads/IMG_2042.JPG"), missing("Downloads/IMG_2041.jpg")),
      [("fs.move", {"src": "Downloads/IMG_2041.jpg", "dest": "Pictures"})])
_case(M, "rename Documents/guests.txt to guest-list.txt", ("fs.move",),
      both(file_has("Documents/guest-list.txt", "marta"), missing("Documents/guests.txt")),
      [("fs.move", {"src": "Documents/guests.txt", "dest": "Documents/guest-list.txt"})])
_case(M, "copy {root}/logs/auth.log to {root}/Documents", ("fs.copy",),
      both(file_has("Documents/auth.log", "Failed password"), exists("logs/auth.log")),
      [("fs.copy", {"src": "{root}/logs/auth.log", "dest": "{root}/Documents"})])
_case(M, "duplicate the site project as site-v2", ("fs.copy",),
      both(file_has("projects/site-v2/index.html", "Hello"), exists("projects/site/index.html")),
      [("fs.copy", {"src": "projects/site", "dest": "projects/site-v2", "recursive": True})])
_case(M, "move the .deb out of Downloads into tmp", ("fs.move", "fs.find+fs.move"),
      both(exists("tmp/old-driver.deb"), missing("Downloads/old-driver.deb")),
      [("fs.move", {"src": "Downloads/old-driver.deb", "dest": "tmp"})])
_case(M, "cp Documents/reports/*.md Desktop", ("fs.find+fs.copy",),
      both(exists("Desktop/q3-summary.md", "Desktop/q4-draft.md", "Documents/reports/q3-summary.md"),
           missing("Desktop/todo.txt")),
      [("fs.find", {"path": "Documents/reports", "name": "*.md"}), ("fs.copy", {"src": "$0.path", "dest": "Desktop"})])

# chmod --------------------------------------------------------------------------------------------------
C = "chmod"
_case(C, "chmod +x bin/backup.sh", ("fs.chmod",),
      both(executable("bin/backup.sh"), not_executable("bin/greet")),
      [("fs.chmod", {"path": "bin/backup.sh", "mode": "+x"})])
_case(C, "make ~/bin/greet executable pls", ("fs.chmod",),
      both(executable("bin/greet"), not_executable("bin/backup.sh")),
      [("fs.chmod", {"path": "~/bin/greet", "mode": "u+x"})])
_case(C, "only I should be able to read my ssh key", ("fs.chmod",),
      both(mode_bits(".ssh/id_rsa", 0o400, 0o077), mode(".ssh/known_hosts", 0o644)),
      [("fs.chmod", {"path": "~/.ssh/id_rsa", "mode": "600"})])
_case(C, "chmod 640 Documents/budget.csv", ("fs.chmod",),
      mode("Documents/budget.csv", 0o640),
      [("fs.chmod", {"path": "Documents/budget.csv", "mode": "640"})])
_case(C, "give the group write permission on Documents/todo.txt", ("fs.chmod",),
      mode("Documents/todo.txt", 0o664),
      [("fs.chmod", {"path": "Documents/todo.txt", "mode": "g+w"})])
_case(C, "take execute permission off projects/site/deploy.sh", ("fs.chmod",),
      both(not_executable("projects/site/deploy.sh"), mode_bits("projects/site/deploy.sh", 0o600)),
      [("fs.chmod", {"path": "projects/site/deploy.sh", "mode": "a-x"})])
_case(C, "chmod -R go-w projects/site", ("fs.chmod",),
      both(mode_bits("projects/site/index.html", 0o600, 0o022), mode_bits("projects/site/style.css", 0o600, 0o022),
           executable("projects/site/deploy.sh")),
      [("fs.chmod", {"path": "projects/site", "mode": "go-w", "recursive": True})])
_case(C, "make every script in bin runnable", ("fs.find+fs.chmod", "fs.chmod"),
      both(executable("bin/backup.sh", "bin/greet"), not_executable("Downloads/install-tool.sh")),
      [("fs.find", {"path": "bin", "type": "file"}), ("fs.chmod", {"path": "$0.path", "mode": "+x"})])
_case(C, "set Documents/reports to 700", ("fs.chmod",),
      both(mode("Documents/reports", 0o700), mode("Documents/reports/q3-summary.md", 0o644)),
      [("fs.chmod", {"path": "Documents/reports", "mode": "700"})])

# grep ---------------------------------------------------------------------------------------------------
G = "grep"
_case(G, "grep -r FIXME projects", ("fs.grep",),
      both(has("app.py", "handle missing city"), lacks("api.py", "retry on 503")),
      [("fs.grep", {"pattern": "FIXME", "path": "projects"})])
_case(G, "which files under projects import requests", ("fs.grep",),
      both(has("weather/app.py", "weather/api.py"), lacks("test_api.py", "index.html")),
      [("fs.grep", {"pattern": "import requests", "path": "projects", "files_with_matches": True})])
_case(G, "how many lines in logs/app.log say error, ignoring case", ("fs.grep", "text.count"),
      both(value(("match_count", "total"), 3), lacks("service started")),
      [("fs.grep", {"pattern": "error", "path": "logs/app.log", "ignore_case": True, "count_only": True})])
_case(G, "search my documents for the word confidential, any case", ("fs.grep",),
      both(has("q3-summary.md", "q4-draft.md"), lacks("todo.txt", "budget.csv")),
      [("fs.grep", {"pattern": "confidential", "path": "~/Documents", "ignore_case": True})])
_case(G, "grep -n 'Failed password' logs/auth.log", ("fs.grep",),
      both(has("Failed password for root"), lacks("Accepted key")),
      [("fs.grep", {"pattern": "Failed password", "path": "logs/auth.log"})])
_case(G, "find the TODO comments in the weather project", ("fs.grep",),
      both(has("retry on 503"), lacks("handle missing city")),
      [("fs.grep", {"pattern": "TODO", "path": "projects/weather"})])
_case(G, "which log lines mention timeout", ("fs.grep",),
      both(has("upstream timeout"), lacks("cache warmed", "Accepted key")),
      [("fs.grep", {"pattern": "timeout", "path": "logs"})])
_case(G, "grep -c ERROR logs/app.log", ("fs.grep", "text.count"),
      both(value(("match_count", "total"), 2), lacks("db connection refused")),
      [("fs.grep", {"pattern": "ERROR", "path": "logs/app.log", "count_only": True})])
_case(G, "is passport mentioned anywhere in Documents", ("fs.grep",),
      both(has("todo.txt"), lacks("budget.csv", "guests.txt")),
      [("fs.grep", {"pattern": "passport", "path": "Documents"})])
_case(G, "look for Hello in the site's html files", ("fs.grep",),
      both(has("index.html", "<h1>Hello"), lacks("style.css")),
      [("fs.grep", {"pattern": "Hello", "path": "projects/site", "include": "*.html"})])

# du/space -----------------------------------------------------------------------------------------------
S = "du/space"
_case(S, "du -sh ~/Music", ("fs.du",),
      both(has("Road Trip", "ringtone.mp3"), lacks("Videos", "Downloads")),
      [("fs.du", {"path": "~/Music"})])
_case(S, "how much space do my downloads take up", ("fs.du",),
      both(has("Downloads", "total_bytes"), lacks("Videos", "Music")),
      [("fs.du", {"path": "~/Downloads"})])
_case(S, "which folder in my home is the biggest", ("fs.du",),
      both(first_row_has("Videos"), lacks("wedding (edited).mkv", "todo.txt")),
      [("fs.du", {"path": "~"})])
_case(S, "how much free space is left on this disk", ("fs.df", "sys.disks"),
      both(answered_by("fs.df", "sys.disks"), keys("free_bytes")),
      [("fs.df", {})])
_case(S, "df -h {root}", ("fs.df",),
      both(answered_by("fs.df"), keys("available_bytes", "mountpoint")),
      [("fs.df", {"path": "{root}"})])
_case(S, "size of the projects folder?", ("fs.du",),
      both(has("weather", "site", "total_bytes"), lacks("Music", "Downloads")),
      [("fs.du", {"path": "projects"})])
_case(S, "du -h --max-depth=1 projects/weather", ("fs.du",),
      both(has("tests", "README.md"), lacks("projects/site")),
      [("fs.du", {"path": "projects/weather", "depth": 1})])
_case(S, "whats eating space in Downloads, top 3", ("fs.du", "fs.find"),
      both(in_order("ubuntu-26.04", "old-driver.deb"), lacks("install-tool.sh", "paper draft")),
      [("fs.du", {"path": "Downloads", "top": 3})])

# text ---------------------------------------------------------------------------------------------------
T = "text"
_case(T, "sort Documents/guests.txt", ("text.sort",),
      in_order('"abel"', '"beatriz"', '"kofi"', '"marta"', '"zane"'),
      [("text.sort", {"path": "Documents/guests.txt"})])
_case(T, "sort -n Documents/scores.txt", ("text.sort",),
      in_order('"7"', '"19"', '"42"', '"100"'),
      [("text.sort", {"path": "Documents/scores.txt", "numeric": True})])
_case(T, "sort the scores in Documents biggest first", ("text.sort",),
      in_order('"100"', '"42"', '"19"', '"7"'),
      [("text.sort", {"path": "Documents/scores.txt", "numeric": True, "reverse": True})])
_case(T, "how many lines does logs/app.log have", ("fs.wc",),
      value("lines", 7),
      [("fs.wc", {"path": "logs/app.log"})])
_case(T, "wc -w Documents/todo.txt", ("fs.wc",),
      value("words", 9),
      [("fs.wc", {"path": "Documents/todo.txt"})])
_case(T, "dedupe the guest list in Documents", ("text.dedupe", "text.sort"),
      both(occurs("Documents/guests.txt", "abel", 1), occurs("Documents/guests.txt", "beatriz", 1)),
      [("text.dedupe", {"path": "Documents/guests.txt"})])
_case(T, "total of the amount column in budget.csv", ("text.csv+table.sum",),
      value("total", 4132),
      [("text.csv", {"path": "Documents/budget.csv"}), ("table.sum", {"rows": "$0", "column": "amount"})])
_case(T, "show only the rent rows of Documents/budget.csv", ("text.csv+table.filter",),
      both(shows('"category": "rent"', '"amount": 950'), hides("groceries", "travel")),
      [("text.csv", {"path": "Documents/budget.csv"}),
       ("table.filter", {"rows": "$0", "column": "category", "op": "eq", "value": "rent"})])
_case(T, "what did i spend on groceries in total, budget.csv", ("text.csv+table.filter+table.sum",),
      value("total", 862),
      [("text.csv", {"path": "Documents/budget.csv"}),
       ("table.filter", {"rows": "$0", "column": "category", "op": "eq", "value": "groceries"}),
       ("table.sum", {"rows": "$1", "column": "amount"})])
_case(T, "what categories are in the budget csv", ("text.csv+table.unique",),
      both(shows('"category": "travel"', '"category": "rent"'), hides("2026-09", "950")),
      [("text.csv", {"path": "Documents/budget.csv"}), ("table.unique", {"rows": "$0", "column": "category"})])
_case(T, "diff Documents/reports/q3-summary.md Documents/reports/q4-draft.md", ("text.diff",),
      both(has("revenue flat", "revenue up 4%"), lacks("Curriculum")),
      [("text.diff", {"path": "Documents/reports/q3-summary.md", "other": "Documents/reports/q4-draft.md"})])
_case(T, "number the lines of Documents/todo.txt", ("text.number",),
      both(has('"line_number": 2', "call the plumber"), lacks("month,category")),
      [("text.number", {"path": "Documents/todo.txt"})])
_case(T, "count the INFO lines in logs/app.log", ("text.count", "fs.grep"),
      value(("total", "match_count"), 3),
      [("text.count", {"path": "logs/app.log", "pattern": "INFO", "what": "lines"})])

# archives -----------------------------------------------------------------------------------------------
A = "archives"
_case(A, "tar czf weather.tar.gz projects/weather", ("archive.create",),
      archive_has("weather.tar.gz", "app.py", "tests/test_api.py"),
      [("archive.create", {"path": "weather.tar.gz", "sources": ["projects/weather"]})])
_case(A, "zip up Documents/reports as reports.zip", ("archive.create",),
      both(archive_has("reports.zip", "q3-summary.md", "q4-draft.md"), lambda root, ex, ctx:
           zipfile.is_zipfile(root / "reports.zip")),
      [("archive.create", {"path": "reports.zip", "sources": ["Documents/reports"]})])
_case(A, "gzip logs/app-2026-09.log", ("archive.gzip",),
      both(gz_of("logs/app-2026-09.log.gz", "older stuff"), missing("logs/app-2026-09.log")),
      [("archive.gzip", {"path": "logs/app-2026-09.log"})])
_case(A, "gunzip logs/app-2026-07.log.gz", ("archive.gunzip",),
      file_has("logs/app-2026-07.log", "july stuff"),
      [("archive.gunzip", {"path": "logs/app-2026-07.log.gz"})])
_case(A, "unzip Downloads/fonts.zip to Downloads/fonts", ("archive.extract", "fs.mkdir+archive.extract"),
      both(file_has("Downloads/fonts/LICENSE.txt", "OFL"), exists("Downloads/fonts/Inter-Regular.ttf")),
      [("fs.mkdir", {"path": "Downloads/fonts", "parents": True}),
       ("archive.extract", {"path": "Downloads/fonts.zip", "dest": "Downloads/fonts"})])
_case(A, "what's in the fonts zip i downloaded", ("archive.list",),
      both(has("Inter-Regular.ttf", "LICENSE.txt"), lacks("paper draft")),
      [("archive.list", {"path": "Downloads/fonts.zip"})])
_case(A, "compress the scratch folder into scratch.tar.gz", ("archive.create",),
      archive_has("scratch.tar.gz", "ideas.txt"),
      [("archive.create", {"path": "scratch.tar.gz", "sources": ["scratch"]})])
_case(A, "gzip -k Documents/budget.csv", ("archive.gzip",),
      both(gz_of("Documents/budget.csv.gz", "groceries"), file_has("Documents/budget.csv", "groceries")),
      [("archive.gzip", {"path": "Documents/budget.csv", "keep": True})])
_case(A, "add scratch/ideas.txt to the fonts zip in Downloads", ("archive.add",),
      archive_has("Downloads/fonts.zip", "ideas.txt", "LICENSE.txt"),
      [("archive.add", {"path": "Downloads/fonts.zip", "sources": ["scratch/ideas.txt"]})])

# processes (at most 8 cases start a process) -------------------------------------------------------------
P = "processes"
_case(P, "got any sleep processes going?", ("proc.list",),
      pid_in_data(),
      [("proc.list", {"name": "sleep"})], needs="sleeper")
_case(P, "kill -KILL {pid} right now", ("proc.signal",),
      killed(),
      [("proc.signal", {"pid": "{pid}", "signal": "KILL"})], needs="sleeper")
_case(P, "pause process {pid}, i'll resume it later", ("proc.signal",),
      stopped(),
      [("proc.signal", {"pid": "{pid}", "signal": "STOP"})], needs="sleeper")
_case(P, "what is pid {pid}", ("proc.info",),
      both(pid_in_data(), has("sleep")),
      [("proc.info", {"pid": "{pid}"})], needs="sleeper")
_case(P, "whats using port {port}", ("proc.port",),
      pid_in_data(),
      [("proc.port", {"port": "{port}"})], needs="listener")
_case(P, "free up port {port}, kill whatever holds it", ("proc.port+proc.signal",),
      killed(),
      [("proc.port", {"port": "{port}"}), ("proc.signal", {"pid": "$0.pid"})], needs="listener")
_case(P, "top 3 cpu hogs", ("proc.list",),
      both(answered_by("proc.list"), lambda root, ex, ctx: 1 <= len(ex.results[-1].data.get("processes", [])) <= 3),
      [("proc.list", {"sort": "cpu", "limit": 3})])
_case(P, "pstree -p", ("proc.tree",),
      both(answered_by("proc.tree"), keys("children")),
      [("proc.tree", {})])

# system -------------------------------------------------------------------------------------------------
Y = "system"
_case(Y, "free -g pls", ("sys.memory",), keys("available_bytes", "swap_total_bytes"), [("sys.memory", {})])
_case(Y, "total ram on this box?", ("sys.memory",),
      both(answered_by("sys.memory"), keys("total_bytes")), [("sys.memory", {})])
_case(Y, "nproc --all", ("sys.cpu",), keys("logical_count"), [("sys.cpu", {})])
_case(Y, "how long has this thing been up", ("sys.load", "sys.info"), keys("uptime_s"), [("sys.load", {})])
_case(Y, "what kernel am i running", ("sys.info",), keys("kernel_release"), [("sys.info", {})])
_case(Y, "whats the load average right now", ("sys.load", "sys.cpu"), keys("load_avg_1m"), [("sys.load", {})])
_case(Y, "what's this machine called", ("sys.info",), keys("hostname"), [("sys.info", {})])
_case(Y, "show my ip addresses", ("sys.interfaces", "sys.net"), both(answered_by("sys.interfaces", "sys.net"),
                                                                     keys("ipv4")), [("sys.interfaces", {})])
_case(Y, "what nameservers is this box configured with", ("sys.dns",), both(answered_by("sys.dns"), keys("servers")),
      [("sys.dns", {})])
_case(Y, "list the user accounts on this system", ("sys.accounts",),
      both(answered_by("sys.accounts"), has('"name": "root"')), [("sys.accounts", {})])
_case(Y, "how full are my disks", ("sys.disks", "fs.df"),
      both(answered_by("sys.disks", "fs.df"), either(keys("percent"), keys("percent_used"))), [("sys.disks", {})])

# devices ------------------------------------------------------------------------------------------------
V = "devices"
_case(V, "lsblk -f", ("dev.block",), both(answered_by("dev.block"), keys("devices")), [("dev.block", {})])
_case(V, "any usb sticks plugged in?", ("dev.usb", "dev.block"), answered_by("dev.usb", "dev.block"),
      [("dev.usb", {})])
_case(V, "lspci", ("dev.pci",), both(answered_by("dev.pci"), keys("devices")), [("dev.pci", {})])
_case(V, "list only the tmpfs mounts", ("dev.mounts",),
      both(answered_by("dev.mounts"), lacks('"fstype": "ext4"', '"fstype": "proc"')),
      [("dev.mounts", {"fstype": "tmpfs"})])
_case(V, "show removable drives", ("dev.block",),
      both(answered_by("dev.block"), lacks('"removable": false')), [("dev.block", {"removable_only": True})])
_case(V, "what's mounted where", ("dev.mounts",), both(answered_by("dev.mounts"), keys("mountpoint")),
      [("dev.mounts", {})])

# follow-ups: the earlier request runs first, its last result is the plan's $prev ------------------------
U = "follow-up"
_case(U, "delete those", ("fs.delete",),
      both(missing("tmp/session-1.tmp", "tmp/session-2.tmp"), exists("tmp/keep.cfg", "tmp/blank.txt")),
      [("fs.delete", {"path": "$prev.path"})],
      before="find the .tmp files in ~/tmp", before_gold=_find(path="~/tmp", name="*.tmp"))
_case(U, "move them all to Documents", ("fs.move",),
      both(exists("Documents/paper draft.pdf", "Documents/Rechnung (2).pdf"), missing("Downloads/paper draft.pdf"),
           exists("Downloads/IMG_2041.jpg")),
      [("fs.move", {"src": "$prev.path", "dest": "Documents"})],
      before="pdfs in Downloads", before_gold=_find(path="Downloads", iname="*.pdf"))
_case(U, "how big are those", ("fs.stat", "fs.du"),
      both(has("5242880", "7340032"), lacks("307200")),
      [("fs.stat", {"path": "$prev.path"})],
      before="mp3 files in the Road Trip album", before_gold=_find(path="Music/Road Trip", name="*.mp3"))
_case(U, "chmod +x those", ("fs.chmod",),
      both(executable("bin/backup.sh"), not_executable("bin/greet")),
      [("fs.chmod", {"path": "$prev.path", "mode": "+x"})],
      before="shell scripts in bin", before_gold=_find(path="bin", name="*.sh"))
_case(U, "count the lines in each", ("fs.wc",),
      both(has('"lines": 7', '"lines": 2', "auth.log"), lacks("budget.csv")),
      [("fs.wc", {"path": "$prev.path"})],
      before="list the .log files in logs", before_gold=_find(path="logs", name="*.log"))
_case(U, "gzip them", ("archive.gzip",),
      both(gz_of("logs/app-2026-08.log.gz", "old stuff"), gz_of("logs/app-2026-09.log.gz", "older stuff"),
           exists("logs/app.log")),
      [("archive.gzip", {"path": "$prev.path"})],
      before="old logs, more than 60 days", before_gold=_find(path="logs", name="*.log", mtime_min_days=60))
_case(U, "copy them to the desktop", ("fs.copy",),
      both(exists("Desktop/q3-summary.md", "Desktop/q4-draft.md", "Documents/reports/q3-summary.md")),
      [("fs.copy", {"src": "$prev.path", "dest": "~/Desktop"})],
      before="what's in Documents/reports", before_gold=[("fs.list", {"path": "Documents/reports"})])
_case(U, "open that file", ("fs.read",),
      both(has("def fetch", "return requests.get"), lacks("handle missing city")),
      [("fs.read", {"path": "$prev.path"})],
      before="search the weather project for TODO", before_gold=[("fs.grep", {"pattern": "TODO",
                                                                                "path": "projects/weather"})])
_case(U, "kill that one", ("proc.signal",),
      killed(),
      [("proc.signal", {"pid": "$prev.pid"})],
      before="show process {pid}", before_gold=[("proc.info", {"pid": "{pid}"})], needs="sleeper")
_case(U, "ok remove all of those", ("fs.delete",),
      both(missing("Downloads/ubuntu-26.04-desktop.iso", "Downloads/old-driver.deb"),
           exists("Downloads/paper draft.pdf", "Videos/wedding (edited).mkv")),
      [("fs.delete", {"path": "$prev.path"})],
      before="files bigger than 10MB in Downloads", before_gold=_find(path="Downloads", size_min_bytes=10 * MB))

# multi-step ---------------------------------------------------------------------------------------------
X = "multi-step"
_case(X, "clear out every *.tmp under ~/tmp", ("fs.find+fs.delete",),
      both(missing("tmp/session-1.tmp", "tmp/session-2.tmp"), exists("tmp/keep.cfg", "tmp/blank.txt")),
      [("fs.find", {"path": "~/tmp", "name": "*.tmp"}), ("fs.delete", {"path": "$0.path"})])
_case(X, "make a folder called invoices in Documents and move the Rechnung pdf into it",
      ("fs.mkdir+fs.move", "fs.mkdir+fs.find+fs.move"),
      both(exists("Documents/invoices/Rechnung (2).pdf"), missing("Downloads/Rechnung (2).pdf")),
      [("fs.mkdir", {"path": "Documents/invoices"}),
       ("fs.move", {"src": "Downloads/Rechnung (2).pdf", "dest": "Documents/invoices"})])
_case(X, "move all the jpgs from Downloads into Pictures", ("fs.find+fs.move",),
      both(exists("Pictures/IMG_2041.jpg", "Pictures/IMG_2042.JPG"), missing("Downloads/IMG_2041.jpg"),
           exists("Downloads/paper draft.pdf")),
      [("fs.find", {"path": "Downloads", "iname": "*.jpg"}), ("fs.move", {"src": "$0.path", "dest": "Pictures"})])
_case(X, "delete the logs older than 60 days in logs/", ("fs.find+fs.delete",),
      both(missing("logs/app-2026-08.log", "logs/app-2026-09.log"), exists("logs/app.log", "logs/auth.log")),
      [("fs.find", {"path": "logs", "name": "*.log", "mtime_min_days": 60}), ("fs.delete", {"path": "$0.path"})])
_case(X, "create ~/share and copy the markdown reports from Documents/reports into it",
      ("fs.mkdir+fs.find+fs.copy",),
      both(exists("share/q3-summary.md", "share/q4-draft.md", "Documents/reports/q4-draft.md")),
      [("fs.mkdir", {"path": "~/share"}), ("fs.find", {"path": "Documents/reports", "name": "*.md"}),
       ("fs.copy", {"src": "$1.path", "dest": "~/share"})])
_case(X, "gzip every .log in logs that's over a month old", ("fs.find+archive.gzip",),
      both(gz_of("logs/app-2026-08.log.gz", "old stuff"), exists("logs/app.log"), missing("logs/app.log.gz")),
      [("fs.find", {"path": "logs", "name": "*.log", "mtime_min_days": 30}), ("archive.gzip", {"path": "$0.path"})])
_case(X, "get rid of zero byte files under tmp", ("fs.find+fs.delete",),
      both(missing("tmp/blank.txt"), exists("tmp/keep.cfg", "tmp/session-1.tmp", "scratch/empty note.txt")),
      [("fs.find", {"path": "tmp", "type": "file", "empty": True}), ("fs.delete", {"path": "$0.path"})])
_case(X, "count the lines in each python file of the weather project", ("fs.find+fs.wc",),
      both(has("app.py", "api.py", "test_api.py", '"lines": 6'), lacks("README.md")),
      [("fs.find", {"path": "projects/weather", "name": "*.py"}), ("fs.wc", {"path": "$0.path"})])
_case(X, "find files bigger than 100MB and tell me how big each one is", ("fs.find", "fs.find+fs.stat"),
      both(has("157286400", "3221225472"), lacks("old-driver")),
      [("fs.find", {"path": "~", "size_min_bytes": 100 * MB, "details": True})])
_case(X, "copy Documents/todo.txt to todo.txt.bak in the same folder, then empty the original",
      ("fs.copy+fs.write",),
      both(file_has("Documents/todo.txt.bak", "renew passport"), empty_file("Documents/todo.txt")),
      [("fs.copy", {"src": "Documents/todo.txt", "dest": "Documents/todo.txt.bak"}),
       ("fs.write", {"path": "Documents/todo.txt", "content": ""})])
_case(X, "make a dir called archive inside logs and move the old monthly app logs in there",
      ("fs.mkdir+fs.find+fs.move",),
      both(exists("logs/archive/app-2026-08.log", "logs/archive/app-2026-09.log", "logs/app.log"),
           missing("logs/app-2026-08.log")),
      [("fs.mkdir", {"path": "logs/archive"}), ("fs.find", {"path": "logs", "name": "app-2026-*.log"}),
       ("fs.move", {"src": "$1.path", "dest": "logs/archive"})])
_case(X, "make a folder ~/old-music and copy ringtone.mp3 into it", ("fs.mkdir+fs.copy",),
      both(exists("old-music/ringtone.mp3", "Music/ringtone.mp3")),
      [("fs.mkdir", {"path": "~/old-music"}), ("fs.copy", {"src": "Music/ringtone.mp3", "dest": "~/old-music"})])
_case(X, "chmod 600 everything in .ssh", ("fs.find+fs.chmod", "fs.chmod"),
      both(mode(".ssh/id_rsa", 0o600), mode(".ssh/known_hosts", 0o600), mode_bits(".ssh", 0o700)),
      [("fs.find", {"path": ".ssh", "type": "file"}), ("fs.chmod", {"path": "$0.path", "mode": "600"})])

# out-of-scope: a single answer step that says no -----------------------------------------------------------
Q = "out-of-scope"
for _intent in [
    "email the budget csv to my accountant",
    "pip install numpy",
    "open youtube in firefox",
    "whats the weather in Lisbon tomorrow",
    "git push origin main",
    "shut the laptop down in 10 minutes",
    "sudo apt upgrade",
    "order me a large pepperoni pizza",
    "write a python script that scrapes hacker news",
    "hook me up to the work vpn",
    "play 02 - Highway.mp3",
    "download the latest firefox",
    "set IMG_2041.jpg as my wallpaper",
    "ssh into the web server and restart nginx",
    "change my login password",
    "book a dentist appointment for friday",
]:
    _case(Q, _intent, ("answer",), refused(), REFUSE)
