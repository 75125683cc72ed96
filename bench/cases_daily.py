"""The daily evaluation set: a second, blind set of everyday requests typed at a terminal.

HELD OUT — NEVER USE FOR TRAINING.  Written on 2026-12-01, after the training corpus of the adapter
being measured was fixed, without reading the corpus, its templates, the example bank, the registry's
examples or phrasings, or the intents of the everyday set (``bench/cases_everyday.py``), whose failures
shaped the training templates and which is therefore no longer blind.  Do not copy these intents (or
close paraphrases of them) into anything a model learns or retrieves from: the example bank
(``models/bank.py``), a call's ``examples`` or phrasings, prompts, training templates or fine-tuning
data.  Reading this set's failures to shape training spends it, as it spent the everyday set.
``tests/test_cases_daily.py`` fails if an intent here (once lower-cased, without punctuation) is one
of the everyday set, the development set, the example bank or a call's examples.

    nice -n 19 .venv/bin/python bench/bench_model.py accuracy --set daily [--model smollm2] [--verbose] [--only WORD]

Requests the way people type them: terse shell-minded commands ("du -sh Downloads"), questions, polite
and sloppy phrasing, typos, names with spaces, parentheses, leading dots and accents, ``~`` (the
fixture root is ``$HOME``) / relative / absolute (``{root}``) paths, sizes and ages with units, counts
in words, two-step requests, follow-ups (``before=``), a few git questions, and requests nothing here
can do (they must be refused).  Every case runs in a fresh ``daily_tree`` (``everyday_tree`` plus the
home-like files below: Desktop, Documents, Music, projects, notes, an inbox, a CSV of expenses, ...)
through the sandbox gate, and is checked by what it did to the tree or by what its results contain
*and* do not contain.  Cases whose category starts with ``missing:`` need a capability the registry
does not have (converting an image, saving sorted lines back to their file, splitting a file,
downloading, deleting one line); they are scored separately.
"""

from __future__ import annotations

import getpass
import gzip
import json
import os
import platform
import shutil
import socket
import subprocess
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.cases_common import (
    Case,
    Check,
    Executed,
    answered_by,
    at_least,
    both,
    either,
    executable,
    exists,
    file_has,
    file_lacks,
    first_row_has,
    first_rows,
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
    process_state,
    refused,
    rows_between,
    sorted_desc,
    stopped,
    value,
)
from bench.cases_common import _pairs as result_pairs
from bench.cases_everyday import (
    age_files,
    archive_has,
    case,
    diff_shown,
    digest,
    everyday_tree,
    json_rows,
    lines_are,
    write_files,
)
from bench.cases_system import _meminfo as meminfo
from bench.cases_system import uptime_s

ESSAY = ("The colour of the sea changes with the weather.\n"
         "In the morning the colour is grey, by noon it is blue.\n"
         "I like the sea.\n"
         "Tomorrow I will paint it.\n")
ESSAY_WORDS = len(ESSAY.split())

EXPENSES = "item,category,cost\ncoffee,food,3.5\nrent,home,900\nbus pass,travel,45\nlunch,food,12.25\n"

# path: (text, or an int = a sparse file of that many bytes; age in days; mode or None), as EXTRA
DAILY_EXTRA: dict[str, tuple[str | int, float, int | None]] = {
    "Desktop/meeting notes.txt": ("standup moved to 9:30\nask Priya about the Q3 numbers\n", 0.5, None),
    "Desktop/screenshot 2026-11-30.png": (819_200, 1, None),
    "Desktop/.DS_Store": ("Bud1\n", 10, None),
    "Pictures/wallpaper.jpg": (1_572_864, 200, None),
    "Documents/résumé.pdf": (153_600, 45, None),
    "Documents/Contacts.CSV": ("name,phone\nAna,555-0101\nBen,555-0199\n", 70, None),
    "Documents/draft.bak": ("old draft\n", 15, None),
    "Documents/café menu.txt": ("croissant 2.50\ncafé au lait 3.20\n", 14, None),
    "Documents/taxes/2025/receipts.csv": ("date,shop,amount\n2025-01-03,grocer,42.50\n2025-02-11,hardware,18.00\n"
                                          "2025-03-02,pharmacy,9.99\n", 30, None),
    "Documents/taxes/2025/w2.pdf": (98_304, 31, None),
    "Documents/taxes/old-taxes-2019.zip": (512_000, 800, None),
    "Documents/recipes/pancakes.md": ("# Pancakes\n2 eggs\n1 cup flour\n1 cup milk\n", 90, 0o600),
    "Music/Road Trip (2019)/01 - intro.mp3": (524_288, 300, None),
    "Music/Road Trip (2019)/02 - highway.mp3": (3_670_016, 300, None),
    "Music/playlist.m3u": ("#EXTM3U\nRoad Trip (2019)/01 - intro.mp3\nRoad Trip (2019)/02 - highway.mp3\n"
                           "../Downloads/song.mp3\n", 40, None),
    "projects/webapp/package.json": ('{"name": "webapp-demo", "version": "1.4.2", '
                                     '"scripts": {"start": "node server.js"}}\n', 5, None),
    "projects/webapp/server.js": ("const express = require('express');\nconst app = express();\n"
                                  "// TODO: rate limiting\napp.listen(3000);\n", 1, None),
    "projects/webapp/README.md": ("# webapp\nrun npm start\n", 60, None),
    "projects/webapp/.env": ("DB_HOST=localhost\nDB_PASSWORD=hunter2\n", 5, None),
    "projects/webapp/node_modules/left-pad/index.js": ("module.exports = leftPad; // TODO upstream\n", 100, None),
    "projects/webapp/node_modules/left-pad/package.json": ('{"name": "left-pad"}\n', 100, None),
    "projects/webapp/node_modules/left-pad/blob.bin": (7_340_032, 100, None),
    "projects/webapp/dist/bundle.js": (1_258_291, 2, None),
    "projects/scraper/scrape.py": ("import requests\n\n# FIXME: handle 429 responses\n"
                                   "print(requests.get('https://example.com').status_code)\n", 3, None),
    "projects/scraper/scrape.py.bak": ("import requests\n# old version\n", 10, None),
    "projects/scraper/requirements.txt": ("requests==2.32.0\n", 3, None),
    "projects/scraper/output.json": ('[{"id": 1}, {"id": 2}]\n', 3, None),
    "projects/scraper/venv/lib/site.py": ("# FIXME vendored\nimport sys\n", 3, None),
    ".ssh/id_ed25519": ("-----BEGIN OPENSSH PRIVATE KEY-----\nnot a real key\n", 100, 0o644),
    ".ssh/id_ed25519.pub": ("ssh-ed25519 AAAAC3Nz me@laptop\n", 100, 0o644),
    ".ssh/config": ("Host work\n  HostName 10.0.0.5\n  User deploy\n", 20, None),
    ".cache/thumbnails/large/a1.png": (9_437_184, 15, None),
    "tools/sync.sh": ("#!/bin/sh\nrsync -a ~/Documents /mnt/backup\n", 4, 0o644),
    "tools/rotate.sh": ("#!/bin/sh\necho rotate\n", 4, 0o644),
    "tools/resize.py": ("#!/usr/bin/env python3\nprint('resize')\n", 4, 0o644),
    "shared/report.docx": (40_960, 7, 0o666),
    "shared/team/plan.txt": ("Q1: hire\nQ2: ship\n", 7, 0o666),
    "inbox/old newsletter.eml": ("Subject: November deals\n", 200, None),
    "inbox/party invite.eml": ("Subject: Party on Friday\n", 120, None),
    "inbox/receipt.eml": ("Subject: Your receipt\n", 3, None),
    "logs/nginx/error.log": ("2026/11/29 upstream timed out\n2026/11/30 connect() failed\n"
                             "2026/12/01 no live upstreams\n", 0.2, None),
    "notes/2026-11-28.md": ("#idea a plant watering bot\nbought soil\n", 3, None),
    "notes/2026-11-29.md": ("dentist at 3\n", 2, None),
    "notes/2026-11-30.md": ("#idea shared grocery list app\n#idea fix the fence\n", 1, None),
    "scores.txt": ("42\n7\n100\n15\n", 2, None),
    "guests.txt": ("Ana\nBen\nCarl\nBen\nDana\nAna\n", 2, None),
    "expenses.csv": (EXPENSES, 1, None),
    "config/settings.old.ini": ("[server]\nport=8000\nworkers=2\n", 30, None),
    "config/settings.ini": ("[server]\nport=8000\nworkers=4\n", 1, None),
    "wishlist.txt": ("headphones\nkeyboard\nmonitor\nplant\n", 10, None),
    "bought.txt": ("keyboard\nplant\n", 2, None),
    "essay.txt": (ESSAY, 6, None),
    "part1.txt": ("chapter one\n", 3, None),
    "part2.txt": ("chapter two\n", 3, None),
    "Downloads/Screenshot from 2026-11-02.png": (512_000, 29, None),
    "Downloads/mystery": ("", 5, None),          # a PNG, written below
    "Downloads/archive-old.zip": ("", 90, None),  # a zip, written below
    "Downloads/invoice (1).pdf": ("", 1.4, None),  # the same bytes as Downloads/invoice.pdf
    "logs/nginx/access.log.2.gz": ("", 9, None),  # gzip, written below
}

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
ACCESS_2 = "GET /health 200\nGET /login 302\n"


def _special(root: Path) -> None:
    """The files whose bytes are not plain text: a PNG without a suffix, a zip, a gzip, a duplicate, a link."""
    (root / "Downloads/mystery").write_bytes(PNG)
    with zipfile.ZipFile(root / "Downloads/archive-old.zip", "w") as z:
        z.writestr("old/readme.txt", "old readme\n")
        z.writestr("old/data.txt", "1 2 3\n")
    (root / "logs/nginx/access.log.2.gz").write_bytes(gzip.compress(ACCESS_2.encode()))
    (root / "Downloads/invoice (1).pdf").write_bytes((root / "Downloads/invoice.pdf").read_bytes())
    (root / "Desktop/webapp shortcut").symlink_to("../projects/webapp")


def daily_tree(root: Path) -> None:
    """``everyday_tree`` plus a lived-in home: Desktop, Documents, Music, projects, notes, inbox, ..."""
    everyday_tree(root)
    write_files(root, DAILY_EXTRA, headers=False)
    _special(root)
    age_files(root, DAILY_EXTRA)


def git_tree(root: Path) -> None:
    """``daily_tree`` with ``projects/scraper`` a git repository: three commits, a second branch, an edit.

    Without a git binary the repository is not made (the git cases then fail, as they should)."""
    daily_tree(root)
    git = shutil.which("git")
    if git is None:
        return
    repo = root / "projects/scraper"
    env = {**os.environ, "GIT_AUTHOR_NAME": "Sam", "GIT_AUTHOR_EMAIL": "sam@example.com",
           "GIT_COMMITTER_NAME": "Sam", "GIT_COMMITTER_EMAIL": "sam@example.com",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}

    def g(*args: str) -> None:
        subprocess.run([git, "-C", str(repo), *args], check=True, capture_output=True, env=env, timeout=60)

    g("init", "-q")
    g("symbolic-ref", "HEAD", "refs/heads/main")
    g("add", "scrape.py")
    g("commit", "-q", "-m", "first scraper")
    g("add", "requirements.txt")
    g("commit", "-q", "-m", "pin requests")
    (repo / "scrape.py").write_text((repo / "scrape.py").read_text() + "# retry later\n")
    g("commit", "-q", "-am", "retry on 429")
    g("branch", "proxy-support")
    (repo / "requirements.txt").write_text("requests==2.32.3\n")


# ---- checks only this set needs -------------------------------------------------------------------------

def u(s: str) -> str:
    """``s`` as it appears inside the results' JSON (quotes and backslashes escaped): for has / lacks."""
    return json.dumps(s, ensure_ascii=False)[1:-1]


def last_has(*needles: str) -> Check:
    """The last result (what the plan ends by showing) holds every needle."""
    return lambda root, ex, ctx: ex.ok and all(n in last_text(root, ex) for n in needles)


def last_lacks(*needles: str) -> Check:
    return lambda root, ex, ctx: ex.ok and all(n not in last_text(root, ex) for n in needles)


def _file_bytes(p: Path) -> int:
    return sum(f.lstat().st_size for f in p.rglob("*") if f.is_file() and not f.is_symlink())


def du_total(*rels: str) -> Check:
    """Some result gives ``rel``'s total size (``total_bytes`` of a result whose ``path`` is ``rel``): at
    least its files' bytes and at most 64 KiB more (directories count, as in ``du -b``)."""
    def check(root: Path, ex: Executed, ctx: Any) -> bool:
        if not ex.ok:
            return False
        totals: dict[Path, list[int]] = {}
        for r in ex.results:
            d = r.data
            if isinstance(d, dict) and isinstance(d.get("path"), str) and isinstance(d.get("total_bytes"), int):
                totals.setdefault(Path(d["path"]).resolve(), []).append(d["total_bytes"])
        for rel in rels:
            p = (root / rel).resolve()
            size = _file_bytes(p)
            if not any(size <= t <= size + 65536 for t in totals.get(p, [])):
                return False
        return True
    return check


def near(names: tuple[str, ...], source: Callable[[], float], rel: float) -> Check:
    """Some numeric field called one of ``names`` is within ``rel`` of ``source()`` (the system's own account)."""
    def check(root: Path, ex: Executed, ctx: Any) -> bool:
        want = source()
        return ex.ok and any(k in names and isinstance(v, (int, float)) and not isinstance(v, bool)
                             and abs(v - want) <= rel * max(1.0, abs(want)) for k, v in result_pairs(ex))
    return check


def value_now(names: str | tuple[str, ...], source: Callable[[], Any]) -> Check:
    """``value`` with the expected value worked out when the check runs."""
    return lambda root, ex, ctx: value(names, source())(root, ex, ctx)


def has_now(source: Callable[[], str]) -> Check:
    return lambda root, ex, ctx: has(u(source()))(root, ex, ctx)


def _pids(ex: Executed) -> set[int]:
    return {v for k, v in result_pairs(ex) if k == "pid" and isinstance(v, int) and not isinstance(v, bool)}


def only_case_pid() -> Check:
    """The case's process is in the results and the evaluating process itself is not (a filtered listing,
    not every process on the machine)."""
    return lambda root, ex, ctx: ex.ok and ctx.pid in _pids(ex) and os.getpid() not in _pids(ex)


def parent_shown() -> Check:
    """The case's process with its parent (the evaluating process): its ppid, out of at most three processes."""
    return lambda root, ex, ctx: (pid_in_data()(root, ex, ctx) and len(_pids(ex)) <= 3
                                  and value("ppid", os.getpid())(root, ex, ctx))


def running(within_s: float = 5.0) -> Check:
    """The case's process is alive and not stopped (continued after a SIGSTOP)."""
    return process_state(lambda state, proc: proc.poll() is None and state not in ("T", "t", "Z"), within_s)


def process_count() -> float:
    return float(sum(1 for p in Path("/proc").iterdir() if p.name.isdigit()))


def link_shown(rel: str, target: str) -> Check:
    """Some ``realpath`` / ``link_target`` of the results is where the link ``rel`` leads: ``target``."""
    def check(root: Path, ex: Executed, ctx: Any) -> bool:
        want = (root / target).resolve()
        return ex.ok and any(k in ("realpath", "link_target") and isinstance(v, str)
                             and ((root / rel).parent / v).resolve() == want for k, v in result_pairs(ex))
    return check


def lines_total(expected: int) -> Check:
    """A total of ``expected`` lines: a ``total`` field (a sum over rows), or a directory's count by fs.wc."""
    def check(root: Path, ex: Executed, ctx: Any) -> bool:
        last = ex.results[-1].data if ex.ok and ex.results else None
        return value("total", expected)(root, ex, ctx) or (
            isinstance(last, dict) and "files_counted" in last and last.get("lines") == expected)
    return check


def rows_all(field: str, expected: Any) -> Check:
    """Every row of the last result's table with ``field`` has ``expected`` there (no row is fine)."""
    return lambda root, ex, ctx: ex.ok and all(r.get(field, expected) == expected for r in first_rows(ex))


def columns_are(*cols: str) -> Check:
    """The last result is a table whose rows have exactly these columns."""
    def check(root: Path, ex: Executed, ctx: Any) -> bool:
        rows = first_rows(ex)
        return ex.ok and bool(rows) and all(set(r) == set(cols) for r in rows)
    return check


def names_cover(field: str, source: Callable[[], set[str]]) -> Check:
    """Every name the system lists (``source()``) is some ``field`` of the results."""
    return lambda root, ex, ctx: ex.ok and source() <= {str(v) for k, v in result_pairs(ex) if k == field}


def file_is(rel: str, content: str) -> Check:
    return lambda root, ex, ctx: (root / rel).is_file() and (root / rel).read_text() == content


def first_line(rel: str, line: str, rest: str) -> Check:
    """``rel`` starts with ``line`` and the old text follows it, untouched."""
    def check(root: Path, ex: Executed, ctx: Any) -> bool:
        body = (root / rel).read_text()
        return body.split("\n", 1)[0].strip() == line and body.split("\n", 1)[1] == rest
    return check


def ends_with(rel: str, before: str, line: str) -> Check:
    """``rel`` still holds ``before`` and its last line is ``line``."""
    def check(root: Path, ex: Executed, ctx: Any) -> bool:
        body = (root / rel).read_text()
        return before in body and body.rstrip("\n").split("\n")[-1].strip() == line
    return check


def touched_within(rel: str, seconds: float) -> Check:
    return lambda root, ex, ctx: ex.ok and time.time() - (root / rel).stat().st_mtime <= seconds


def untouched(*rels: str) -> Check:
    """Each of ``rels`` that exists was not modified in the last 10 minutes (it is older in the fixture)."""
    return lambda root, ex, ctx: all(not (root / r).exists() or time.time() - (root / r).stat().st_mtime > 600
                                     for r in rels)


def is_dir(*rels: str) -> Check:
    return lambda root, ex, ctx: all((root / r).is_dir() for r in rels)


def gunzips_to(rel: str, text: str) -> Check:
    def check(root: Path, ex: Executed, ctx: Any) -> bool:
        return gzip.decompress((root / rel).read_bytes()).decode() == text
    return check


def split_into(rel: str, most: int) -> Check:
    """New files next to ``rel``, named after it, each at most ``most`` bytes, that add up to it."""
    def check(root: Path, ex: Executed, ctx: Any) -> bool:
        src = root / rel
        parts = [p for p in src.parent.iterdir() if p.name.startswith(src.name) and p != src and p.is_file()]
        return len(parts) >= 2 and all(p.stat().st_size <= most for p in parts) \
            and sum(p.stat().st_size for p in parts) == src.stat().st_size
    return check


def lines_in_order(rel: str, lines: list[str]) -> Check:
    return lambda root, ex, ctx: (root / rel).is_file() and (root / rel).read_text().split("\n")[:-1] == lines


def block_names() -> set[str]:
    base = Path("/sys/block")
    return {p.name for p in base.iterdir()} if base.is_dir() else set()


def pci_slots() -> set[str]:
    base = Path("/sys/bus/pci/devices")
    return {p.name for p in base.iterdir()} if base.is_dir() else set()




def line(s: str) -> str:
    """A row of a lines table (text.sort, text.reverse, text.number, ...) whose line is ``s``."""
    return f'"line": "{u(s)}"'


def daily(category: str, intent: str, check: Check, **kw: Any) -> Case:
    """A case of this set: ``everyday_tree``'s ``case`` over ``daily_tree`` ($HOME is the fixture root)."""
    kw.setdefault("setup", daily_tree)
    return case(category, intent, check, **kw)


FIND, READ, WRITE, DELETE, MOVE = "files-find", "files-read", "files-write", "files-delete", "files-move-copy"
CHMOD, GREP, DU, PROC, SYS, DEV = "chmod", "grep", "du/space", "processes", "system", "devices"
FOLLOW, OOS, MULTI, TEXT, GIT = "follow-up", "out-of-scope", "multi-step", "text", "git"

DAILY: list[Case] = [
    # ---- files-find ------------------------------------------------------------------------------------
    daily(FIND, 'find ~ -name "*.mp3"',
          both(has("01 - intro.mp3", "02 - highway.mp3", "Downloads/song.mp3"), lacks("playlist.m3u"))),
    daily(FIND, "where did i put my résumé?",
          both(has(u("Documents/résumé.pdf")), lacks("invoice.pdf", "w2.pdf"))),
    daily(FIND, "got any pdf files sitting in downloads",
          both(has("Downloads/invoice.pdf"), lacks(u("résumé.pdf"), "w2.pdf"))),
    daily(FIND, "which files are north of 5 megabytes",
          both(has("ubuntu.iso", "blob.bin", "a1.png"), lacks("song.mp3", "big.bin", "highway.mp3"))),
    daily(FIND, "what have i touched in the last hour",
          both(has("todo.txt", 'logs/app.log"'), lacks("<root>/a.txt", "notes.md", "essay.txt", "error.log"))),
    daily(FIND, "stuff i haven't modified in over a year",
          both(has("photos/old/trip.jpg", "old-taxes-2019.zip"), lacks("wallpaper.jpg", "beach.jpg", "todo.txt"))),
    daily(FIND, "are there any empty folders lying around?",
          both(has("empty_dir"), lacks('"<root>/src"', '"<root>/Documents"'))),
    daily(FIND, "list zero byte files", both(has("empty.txt"), lacks("<root>/a.txt", "todo.txt", ".DS_Store"))),
    daily(FIND, "find package.json files in projects but not the ones inside node_modules",
          both(has("projects/webapp/package.json"), lacks("left-pad"))),
    daily(FIND, "all my python files, skip the venv folder",
          both(has("scrape.py", "src/main.py", "tools/resize.py"), lacks("venv", "scrape.py.bak"))),
    daily(FIND, ".log files in logs/ changed in the past 3 days",
          both(has('logs/app.log"', "logs/access.log", "logs/nginx/error.log"),
               lacks("debug.log", "app.log.1", '"<root>/error.log"'))),
    daily(FIND, "screenshots on my desktop",
          both(has("Desktop/screenshot 2026-11-30.png"), lacks("Screenshot from"))),
    daily(FIND, "find csv files in Documents, upper or lower case extension",
          both(has("Contacts.CSV", "receipts.csv"), lacks("budget 2024.csv", "expenses.csv"))),
    daily(FIND, "find . -type l", both(has('"<root>/link"', "Desktop/webapp shortcut"), lacks("<root>/a.txt"))),
    daily(FIND, "r there any world-writable files in here",
          both(has("shared/report.docx", "shared/team/plan.txt"), lacks("<root>/a.txt", "todo.txt"))),
    daily(FIND, "look for leftover *.tmp or *.bak files",
          both(has("cache1.tmp", "build/x.tmp", "draft.bak", "scrape.py.bak"), lacks("keep.o", "<root>/a.txt"))),
    daily(FIND, "pics in photos between 100k and 1 meg",
          both(has("cat.png"), lacks("beach.jpg", "trip.jpg"))),
    daily(FIND, "javascript files under projects excluding node_modules",
          both(has("server.js", "dist/bundle.js"), lacks("left-pad"))),
    daily(FIND, "ls ~/Desktop",
          both(has("meeting notes.txt", "screenshot 2026-11-30.png"), lacks(".DS_Store", "todo.txt", "invoice"))),
    daily(FIND, "ls -a Desktop", both(has(".DS_Store", "meeting notes.txt"), lacks("todo.txt", "invoice"))),
    daily(FIND, "ls -lt Downloads",
          both(in_order('"invoice.pdf"', "ubuntu.iso", "song.mp3", "archive-old.zip"), lacks("todo.txt"))),
    daily(FIND, "the three most recently modified files in Documents",
          both(has(u("café menu.txt"), "draft.bak", "receipts.csv"), lacks("w2.pdf", u("résumé.pdf"), "pancakes"))),
    daily(FIND, "tree projects -L 2",
          both(has("webapp", "scraper", "server.js", "node_modules", "scrape.py"),
               lacks("left-pad", "bundle.js", "site.py"))),
    daily(FIND, "which folders are in my home dir",
          both(has("<root>/Downloads", "<root>/photos", "<root>/projects"), lacks("todo.txt", "<root>/a.txt"))),
    daily(FIND, "how many jpgs have i got", value("count", 3)),
    daily(FIND, "songs in Music bigger than 3mb",
          both(has("02 - highway.mp3"), lacks("01 - intro.mp3", "song.mp3"))),
    daily(FIND, "any duplicate files in Downloads?",
          both(has("Downloads/invoice.pdf", "Downloads/invoice (1).pdf"), lacks("song.mp3", "ubuntu.iso"))),
    daily(FIND, "what's in {root}/inbox",
          both(has("old newsletter.eml", "party invite.eml", "receipt.eml"), lacks("todo.txt", "Downloads"))),

    # ---- files-read ------------------------------------------------------------------------------------
    daily(READ, 'cat "Desktop/meeting notes.txt"', both(has("standup moved to 9:30", "Priya"), lacks("hello world"))),
    daily(READ, "head -2 Documents/taxes/2025/receipts.csv",
          both(has("date,shop,amount", "grocer"), lacks("hardware", "pharmacy"))),
    daily(READ, "last line of logs/nginx/error.log pls",
          both(has("no live upstreams"), lacks("connect() failed", "timed out"))),
    daily(READ, "show lines 2 thru 3 of essay.txt",
          both(has("In the morning", "I like the sea"), lacks("changes with the weather", "Tomorrow"))),
    daily(READ, "show me my ssh config", both(has("HostName 10.0.0.5", "User deploy"), lacks("hello world"))),
    daily(READ, "what's in the webapp's .env", both(has("DB_PASSWORD=hunter2"), lacks("hello world"))),
    daily(READ, "cat 'Documents/café menu.txt'", both(has("croissant 2.50", "au lait 3.20"), lacks("hello world"))),
    daily(READ, "md5sum Downloads/ubuntu.iso", digest("Downloads/ubuntu.iso", algo="md5")),
    daily(READ, "what's the sha1 hash of the résumé pdf in Documents", digest("Documents/résumé.pdf", algo="sha1")),
    daily(READ, "what kind of file is Downloads/mystery, it has no extension",
          both(has("image/png"), lacks("ubuntu.iso", "todo.txt"))),
    daily(READ, "the 'webapp shortcut' thing on my desktop, what does it link to",
          both(link_shown("Desktop/webapp shortcut", "projects/webapp"), lacks("todo.txt"))),
    daily(READ, "todo.txt — when did i last edit it", both(has("todo.txt"), keys("mtime"), lacks("names.txt"))),
    daily(READ, "what are the permissions on ~/.ssh/id_ed25519",
          both(either(has("0644"), has("rw-r--r--")), has("id_ed25519"), mode(".ssh/id_ed25519", 0o644),
               lacks("todo.txt"))),
    daily(READ, "cat -n tools/sync.sh", both(has('"line_number": 2', "rsync -a"), lacks("rotate"))),
    daily(READ, "print Music/playlist.m3u in reverse order",
          in_order("song.mp3", "02 - highway", "01 - intro", "#EXTM3U")),
    daily(READ, "show me the package.json of projects/webapp",
          both(has("webapp-demo", "1.4.2"), lacks("left-pad"))),
    daily(READ, "whats inside Downloads/archive-old.zip", has("old/readme.txt", "old/data.txt")),
    daily(READ, "read the scraper's requirements.txt", both(has("requests==2.32.0"), lacks("hello world"))),
    daily(READ, "peek at the top of logs/app.log, like 5 lines",
          both(has("INFO started", "ERROR disk full", "INFO retry"), lacks("ERROR timeout", "memory high"))),
    daily(READ, "file Downloads/invoice.pdf", has("application/pdf")),
    daily(READ, "stat ~/.bashrc", both(has(".bashrc"), keys("size_bytes", "mtime"), lacks("todo.txt", ".bashrc."))),

    # ---- files-write -----------------------------------------------------------------------------------
    daily(WRITE, 'echo "milk, eggs, bread" > shopping.txt', file_has("shopping.txt", "milk, eggs, bread")),
    daily(WRITE, "add 'pay rent' at the end of todo.txt", ends_with("todo.txt", "buy milk\ncall mom\nfix bike\n",
                                                                     "pay rent")),
    daily(WRITE, "mkdir -p projects/newsite/css", is_dir("projects/newsite/css")),
    daily(WRITE, 'new folder called "Tax Stuff" inside Documents', is_dir("Documents/Tax Stuff")),
    daily(WRITE, "touch Desktop/.keep", both(exists("Desktop/.keep"), exists("Desktop/meeting notes.txt"))),
    daily(WRITE, "create notes/ideas.md containing '# Ideas'",
          both(file_has("notes/ideas.md", "# Ideas"), file_has("notes/2026-11-30.md", "#idea"))),
    daily(WRITE, "ln -s ~/projects/scraper ~/Desktop/scraper", is_link("Desktop/scraper", "projects/scraper")),
    daily(WRITE, "put DRAFT as the very first line of essay.txt", first_line("essay.txt", "DRAFT", ESSAY)),
    daily(WRITE, "change port 8000 to 9000 in config/settings.ini",
          both(file_has("config/settings.ini", "port=9000", "workers=4"), file_lacks("config/settings.ini", "8000"),
               file_has("config/settings.old.ini", "port=8000"))),
    daily(WRITE, 'replace every "colour" with "color" in essay.txt',
          both(file_has("essay.txt", "The color of the sea", "the color is grey"), file_lacks("essay.txt", "colour"))),
    daily(WRITE, "zip the photos folder into photos.zip",
          both(archive_has("photos.zip", "beach.jpg"), archive_has("photos.zip", "trip.jpg"),
               exists("photos/cat.png"))),
    daily(WRITE, "tar czf scraper.tgz projects/scraper",
          both(archive_has("scraper.tgz", "scrape.py"), archive_has("scraper.tgz", "requirements.txt"))),
    daily(WRITE, "unzip Downloads/archive-old.zip into Downloads/old-stuff",
          both(file_has("Downloads/old-stuff/old/readme.txt", "old readme"),
               exists("Downloads/old-stuff/old/data.txt"))),
    daily(WRITE, "stick part1.txt and part2.txt together into book.txt",
          file_is("book.txt", "chapter one\nchapter two\n")),
    daily(WRITE, 'quote the letter to bob in My Documents: put "> " in front of every line',
          both(file_has("My Documents/letter to bob.txt", "> Dear Bob,", "> See you in June."),
               file_lacks("My Documents/letter to bob.txt", "> > "))),
    daily(WRITE, "bump the modified time of todo.txt to right now",
          both(touched_within("todo.txt", 600), untouched("a.txt", "essay.txt"))),
    daily(WRITE, "decompress logs/nginx/access.log.2.gz", file_has("logs/nginx/access.log.2", "GET /health", "/login")),
    daily(WRITE, "compress logs/debug.log with gzip, don't keep the original",
          both(gunzips_to("logs/debug.log.gz", "debug stuff\n"), missing("logs/debug.log"))),
    daily(WRITE, "append alias gs='git status' to my .bashrc",
          both(file_has(".bashrc", "alias gs='git status'", "export EDITOR=vim"),
               ends_with(".bashrc", "alias ll='ls -la'", "alias gs='git status'"))),

    # ---- files-delete ----------------------------------------------------------------------------------
    daily(DELETE, "rm {root}/Desktop/.DS_Store",
          both(missing("Desktop/.DS_Store"), exists("Desktop/meeting notes.txt"))),
    daily(DELETE, "empty the build folder but keep the folder itself",
          both(missing("build/x.tmp", "build/y.tmp", "build/keep.o"), is_dir("build"), exists("tmp/cache1.tmp"))),
    daily(DELETE, "get rid of node_modules in the webapp project",
          both(missing("projects/webapp/node_modules"), exists("projects/webapp/server.js", "projects/webapp/dist"))),
    daily(DELETE, "delete all teh .bak files",
          both(missing("Documents/draft.bak", "projects/scraper/scrape.py.bak"),
               exists("projects/scraper/scrape.py", "Documents/Contacts.CSV"))),
    daily(DELETE, "remove the .log files in logs/ that are older than 2 weeks",
          both(missing("logs/debug.log"), exists("logs/app.log", "logs/access.log", "logs/app.log.1", "old.log",
                                                 "logs/nginx/error.log"))),
    daily(DELETE, "delete screenshots older than a week from Downloads",
          both(missing("Downloads/Screenshot from 2026-11-02.png"),
               exists("Desktop/screenshot 2026-11-30.png", "Downloads/ubuntu.iso"))),
    daily(DELETE, "trash the ubuntu iso, im done with it",
          both(missing("Downloads/ubuntu.iso"), exists("Downloads/song.mp3"))),
    daily(DELETE, "rm -rf projects/webapp/dist",
          both(missing("projects/webapp/dist"), exists("projects/webapp/package.json", "projects/webapp/server.js"))),
    daily(DELETE, "clean up the empty files in my home folder",
          both(missing("empty.txt"), exists("a.txt", "todo.txt"))),
    daily(DELETE, "delete emails in inbox older than 90 days",
          both(missing("inbox/old newsletter.eml", "inbox/party invite.eml"), exists("inbox/receipt.eml"))),
    daily(DELETE, "Downloads has 'invoice (1).pdf', a dupe of invoice.pdf - bin it",
          both(missing("Downloads/invoice (1).pdf"), exists("Downloads/invoice.pdf"))),

    # ---- files-move-copy -------------------------------------------------------------------------------
    daily(MOVE, "mv Desktop/*.png Pictures/",
          both(exists("Pictures/screenshot 2026-11-30.png", "Downloads/Screenshot from 2026-11-02.png"),
               missing("Desktop/screenshot 2026-11-30.png"))),
    daily(MOVE, 'call "Desktop/meeting notes.txt" meeting-2026-11-30.txt instead',
          both(file_has("Desktop/meeting-2026-11-30.txt", "standup"), missing("Desktop/meeting notes.txt"))),
    daily(MOVE, "cp essay.txt essay-backup.txt",
          both(file_is("essay-backup.txt", ESSAY), file_is("essay.txt", ESSAY))),
    daily(MOVE, "copy the whole scraper project to ~/backup/scraper",
          both(file_has("backup/scraper/scrape.py", "FIXME"), exists("backup/scraper/venv/lib/site.py"),
               exists("projects/scraper/scrape.py"))),
    daily(MOVE, "move the mp3s out of Downloads into Music",
          both(exists("Music/song.mp3", "Music/Road Trip (2019)/01 - intro.mp3"), missing("Downloads/song.mp3"))),
    daily(MOVE, "mv Downloads/invoice.pdf Documents/taxes/2025/",
          both(exists("Documents/taxes/2025/invoice.pdf", "Downloads/invoice (1).pdf"),
               missing("Downloads/invoice.pdf"))),
    daily(MOVE, "make a copy of .bashrc called .bashrc.orig",
          both(file_has(".bashrc.orig", "alias ll='ls -la'"), exists(".bashrc"))),
    daily(MOVE, "cp -r Documents/recipes ~/Desktop",
          both(file_has("Desktop/recipes/pancakes.md", "1 cup flour"), exists("Documents/recipes/pancakes.md"))),
    daily(MOVE, "rename the 'Road Trip (2019)' folder in Music to road-trip-2019",
          both(exists("Music/road-trip-2019/01 - intro.mp3", "Music/road-trip-2019/02 - highway.mp3"),
               missing("Music/Road Trip (2019)"))),
    daily(MOVE, "clone the webapp project folder to projects/webapp-v2",
          both(file_has("projects/webapp-v2/server.js", "app.listen(3000)"), exists("projects/webapp-v2/.env"),
               exists("projects/webapp/server.js"))),
    daily(MOVE, "todo.txt belongs in Documents, move it there",
          both(file_has("Documents/todo.txt", "buy milk"), missing("todo.txt"))),
    daily(MOVE, "copy every .csv file in Documents and its subfolders to the Desktop",
          both(file_has("Desktop/receipts.csv", "grocer"), exists("Documents/taxes/2025/receipts.csv"),
               missing("Desktop/expenses.csv", "Desktop/budget 2024.csv"))),
    daily(MOVE, "rename all the .tmp files in tmp to .bak",
          both(exists("tmp/cache1.bak", "tmp/cache2.bak", "build/x.tmp"), missing("tmp/cache1.tmp", "tmp/cache2.tmp"))),
    daily(MOVE, "copy config.json from src into tools",
          both(file_has("tools/config.json", "8080"), exists("src/config.json"))),
    daily(MOVE, "rename the 'webapp shortcut' link on my desktop to just webapp",
          both(is_link("Desktop/webapp", "projects/webapp"), missing("Desktop/webapp shortcut"),
               exists("projects/webapp/server.js"))),
    daily(MOVE, "could you copy wishlist.txt into the notes foler please",
          both(file_has("notes/wishlist.txt", "headphones"), exists("wishlist.txt"))),

    # ---- chmod -----------------------------------------------------------------------------------------
    daily(CHMOD, "my ssh private key is too open, make it readable only by me",
          both(mode_bits(".ssh/id_ed25519", set_bits=0o400, clear_bits=0o077), mode(".ssh/id_ed25519.pub", 0o644))),
    daily(CHMOD, "tools/sync.sh won't run, permission denied - fix it",
          both(executable("tools/sync.sh"), not_executable("tools/resize.py"))),
    daily(CHMOD, "take away write access for others on everything in shared, recursively",
          either(both(mode("shared/report.docx", 0o664), mode("shared/team/plan.txt", 0o664)),
                 both(mode("shared/report.docx", 0o644), mode("shared/team/plan.txt", 0o644)))),
    daily(CHMOD, "remove the execute bit from scripts/cleanup.sh",
          both(not_executable("scripts/cleanup.sh"), mode_bits("scripts/cleanup.sh", set_bits=0o600))),
    daily(CHMOD, "let everyone read Documents/recipes/pancakes.md", mode("Documents/recipes/pancakes.md", 0o644)),
    daily(CHMOD, "set tools/resize.py to rwxr-xr-x",
          both(mode("tools/resize.py", 0o755), not_executable("tools/sync.sh"))),
    daily(CHMOD, "tools/*.sh should all be runnable",
          both(executable("tools/sync.sh", "tools/rotate.sh"), not_executable("tools/resize.py", "bin/run.sh"))),
    daily(CHMOD, "nobody but me should be able to get into my taxes folder",
          both(mode_bits("Documents/taxes", 0o700, 0o077), mode_bits("Documents/recipes", 0o755))),

    # ---- grep ------------------------------------------------------------------------------------------
    daily(GREP, "grep -rn FIXME projects",
          both(has("scrape.py", "handle 429 responses", "venv/lib/site.py"), lacks("TODO", "src/main.py"))),
    daily(GREP, "grep -i error logs/app.log",
          both(has("ERROR disk full", "ERROR timeout talking to db"), lacks("INFO started", "WARN", "old failure"))),
    daily(GREP, "serach my notes for #idea",
          both(has("plant watering bot", "shared grocery list app", "fix the fence"), lacks("dentist", "bought soil"))),
    daily(GREP, "how mnay WARN lines in logs/app.log", value(("count", "total", "match_count"), 2)),
    daily(GREP, "which .py files do `import requests`",
          both(has("projects/scraper/scrape.py"), lacks("scrape.py.bak", "src/main.py", "util.py"))),
    daily(GREP, "grep -rl TODO .",
          both(has("src/main.py", "notes.md", "src/app.js", "webapp/server.js", "left-pad/index.js"),
               lacks("fix the parser", "rate limiting", '"<root>/a.txt"', "essay.txt"))),
    daily(GREP, 'show "disk full" in logs/app.log with one line of context either side',
          both(has("WARN slow request /api", "ERROR disk full", "INFO retry"), lacks("INFO started", "memory high"))),
    daily(GREP, "is a password hardcoded anywhere in projects?", both(has("webapp/.env", "DB_PASSWORD"),
                                                                     lacks("DB_HOST"))),
    daily(GREP, 'grep -i bob "My Documents"', both(has("letter to bob.txt", "Dear Bob"), lacks("names.txt"))),
    daily(GREP, "lines starting with # in Music/playlist.m3u", both(has("#EXTM3U"), lacks("song.mp3", "intro"))),
    daily(GREP, "which files in ~/.ssh mention HostName", both(has(".ssh/config"), lacks("id_ed25519"))),
    daily(GREP, "look for 'timed out' in the nginx logs",
          both(has("upstream timed out", "nginx/error.log"), lacks("app.log", "connect() failed"))),
    daily(GREP, "grep listen {root}/projects/webapp/server.js", both(has("app.listen(3000)"), lacks("express()"))),

    # ---- du/space --------------------------------------------------------------------------------------
    daily(DU, "du -sh Downloads", du_total("Downloads")),
    daily(DU, "what's eating all the space in my home folder?",
          both(sorted_desc("size_bytes"), either(first_row_has('/Downloads"'), first_row_has("a1.png")))),
    daily(DU, "the 5 biggest files under ~",
          both(rows_between(5, 5), in_order("a1.png", "blob.bin", "ubuntu.iso", "song.mp3", "02 - highway.mp3"),
               lacks('big.bin"'))),
    daily(DU, "photos folder size?", du_total("photos")),
    daily(DU, "how large is Downloads/ubuntu.iso", both(has("6291456"), lacks("4718592"))),
    daily(DU, "which of my projects takes up the most room",
          both(first_row_has('projects/webapp"'), has('<root>/projects/scraper"'), sorted_desc("size_bytes"))),
    daily(DU, "is the drive my home is on nearly full",
          both(answered_by("fs.df", "sys.disks"), either(at_least("available_bytes", 1), at_least("free_bytes", 1)))),
    daily(DU, "how many files are in Documents, counting subfolders", value(("files", "count"), 8)),
    daily(DU, "du -h --max-depth=1 ~/projects",
          both(has('<root>/projects/webapp"', '<root>/projects/scraper"'), lacks("blob.bin", "todo.txt"))),
    daily(DU, "whats taking up space in ~/.cache", du_total(".cache")),
    daily(DU, "is Music bigger than photos?", du_total("Music", "photos")),

    # ---- processes -------------------------------------------------------------------------------------
    daily(PROC, "force kill {pid}, it won't die", killed(), needs="sleeper"),
    daily(PROC, "process {pid} is hung, please end it", killed(), needs="sleeper"),
    daily(PROC, "who's on port {port}?", only_case_pid(), needs="listener"),
    daily(PROC, "lsof -nP -i :{port}", only_case_pid(), needs="listener"),
    daily(PROC, "something's squatting on port {port}, get rid of it", killed(), needs="listener"),
    daily(PROC, "is {pid} still running", only_case_pid(), needs="sleeper"),
    daily(PROC, "suspend {pid} for now, don't kill it", stopped(), needs="sleeper"),
    daily(PROC, "ps -ef | grep sleep", only_case_pid(), needs="sleeper"),
    daily(PROC, "full command line of pid {pid}", both(only_case_pid(), has("sleep 300")), needs="sleeper"),
    daily(PROC, "how much ram is pid {pid} eating", both(only_case_pid(), keys("rss_bytes")), needs="sleeper"),
    daily(PROC, "what started process {pid}? who's its parent", parent_shown(), needs="sleeper"),
    daily(PROC, "top three cpu hogs right now",
          both(rows_between(3, 3), keys("cpu_percent"), sorted_desc("cpu_percent"))),
    daily(PROC, "send a hangup signal to {pid}", killed(), needs="sleeper"),
    daily(PROC, "how many processes are running at the moment",
          both(answered_by("proc.list", "table.count", "sys.load"),
               near(("matched", "count", "total_tasks"), process_count, 0.3))),
    daily(PROC, "pstree for {pid}", both(only_case_pid(), has("sleep")), needs="sleeper"),

    # ---- system ----------------------------------------------------------------------------------------
    daily(SYS, "am i running low on memory",
          both(answered_by("sys.memory"),
               near(("available_bytes", "free_bytes"), lambda: meminfo("MemAvailable"), 0.15))),
    daily(SYS, "which kernel release is this box running",
          both(answered_by("sys.info"), has_now(lambda: os.uname().release))),
    daily(SYS, "how long since the last reboot",
          both(answered_by("sys.load", "sys.info"), near(("uptime_s",), uptime_s, 0.05))),
    daily(SYS, "what user am i running as right now",
          both(answered_by("sys.info", "sys.users", "sys.accounts"), has_now(getpass.getuser))),
    daily(SYS, "whats this machine called", both(answered_by("sys.info"), value_now("hostname", socket.gethostname))),
    daily(SYS, "nproc", both(answered_by("sys.cpu", "sys.load"), value_now(("logical_count", "cpus"), os.cpu_count))),
    daily(SYS, "am i using any swap", both(answered_by("sys.memory"), keys("swap_used_bytes"))),
    daily(SYS, "what's the load average looking like",
          both(answered_by("sys.load", "sys.cpu"), keys("load_avg_1m", "load_avg_15m"))),
    daily(SYS, "what distro + version is installed here", both(answered_by("sys.info"), keys("distribution"))),
    daily(SYS, "df -h but only the real disks",
          both(answered_by("sys.disks", "fs.df"), either(keys("free_bytes"), keys("available_bytes")))),
    daily(SYS, "what python version do i have", both(answered_by("sys.info"), has_now(platform.python_version))),
    daily(SYS, "what's my default shell", both(answered_by("sys.shells", "sys.accounts"), has('"/'), has("sh"))),
    daily(SYS, "which dns servers am i using", both(answered_by("sys.dns"), keys("servers"))),
    daily(SYS, "what's the ip of this machine on the network",
          both(answered_by("sys.interfaces", "sys.net"), has("127.0.0.1"))),
    daily(SYS, "show every user account on this box", both(answered_by("sys.accounts"), has('"root"'), keys("uid"))),
    daily(SYS, "is the processor overheating", answered_by("sys.sensors")),
    daily(SYS, "what cpu model is in this thing", both(answered_by("sys.cpu", "sys.info"), keys("model"))),
    daily(SYS, "anyone else on this machine besides me?", answered_by("sys.users")),
    daily(SYS, "what groups exist on this system", both(answered_by("sys.accounts"), keys("members"), has('"root"'))),

    # ---- devices ---------------------------------------------------------------------------------------
    daily(DEV, "lsblk, show me all disks and partitions",
          both(answered_by("dev.block"), names_cover("name", block_names))),
    daily(DEV, "is there a usb stick plugged in?",
          either(both(answered_by("dev.block"), rows_all("removable", True)), answered_by("dev.usb"))),
    daily(DEV, "what kind of graphics card does this pc have",
          both(answered_by("dev.pci"), names_cover("slot", pci_slots))),
    daily(DEV, "mount | grep ext4", both(answered_by("dev.mounts"), rows_all("fstype", "ext4"))),
    daily(DEV, "lsusb, what is connected over usb", answered_by("dev.usb")),
    daily(DEV, "list my drives and how big they are",
          both(answered_by("dev.block", "sys.disks"), either(keys("size_bytes"), keys("total_bytes")))),

    # ---- follow-up -------------------------------------------------------------------------------------
    daily(FOLLOW, "delete em",
          both(missing("Desktop/screenshot 2026-11-30.png", "Downloads/Screenshot from 2026-11-02.png"),
               exists("Desktop/meeting notes.txt", "photos/cat.png")),
          before="screenshots anywhere in my home?"),
    daily(FOLLOW, "copy those to the desktop",
          both(exists("Desktop/résumé.pdf", "Desktop/w2.pdf", "Documents/résumé.pdf"), missing("Desktop/invoice.pdf")),
          before="pdfs in Documents?"),
    daily(FOLLOW, "ok kill it", killed(), needs="sleeper", before="what is pid {pid} doing"),
    daily(FOLLOW, "add 'water the plants' to it", ends_with("todo.txt", "buy milk", "water the plants"),
          before="open todo.txt"),
    daily(FOLLOW, "how many lines is each of those",
          both(has('"lines": 3', "src/main.py", "src/app.js"), lacks("util.py"), keys("lines")),
          before="which files under src have a TODO"),
    daily(FOLLOW, "chmod +x all of those",
          both(executable("tools/sync.sh", "tools/rotate.sh"), not_executable("tools/resize.py")),
          before="find the shell scripts in tools"),
    daily(FOLLOW, "what about Music?",
          both(has("playlist.m3u", "Road Trip (2019)"), lacks("beach.jpg", "#EXTM3U", "todo.txt")),
          before="ls photos"),
    daily(FOLLOW, "kill that", killed(), needs="listener", before="anything bound to port {port}?"),
    daily(FOLLOW, "ok let it continue",
          both(value("signal", "CONT"), running()), needs="sleeper", before="freeze {pid} for a sec"),
    daily(FOLLOW, "yeah get rid of all of those",
          both(missing("photos/old/trip.jpg", "Documents/taxes/old-taxes-2019.zip"), exists("photos/beach.jpg")),
          before="files older than a year"),

    # ---- multi-step ------------------------------------------------------------------------------------
    daily(MULTI, "make a backup folder and put a copy of .bashrc in it",
          both(file_has("backup/.bashrc", "export EDITOR=vim"), exists(".bashrc"))),
    daily(MULTI, "line counts for each .log in logs/",
          both(has('logs/app.log"', '"lines": 8', "logs/access.log", "logs/debug.log"), keys("lines"),
               lacks("todo.txt", "essay.txt"))),
    daily(MULTI, 'create tools/hello.sh with "echo hi" in it and make it executable',
          both(file_has("tools/hello.sh", "echo hi"), executable("tools/hello.sh"))),
    daily(MULTI, "copy ubuntu.iso to the desktop and then delete the one in Downloads",
          both(exists("Desktop/ubuntu.iso"), missing("Downloads/ubuntu.iso"))),
    daily(MULTI, "find jpgs in photos over 1mb and move them into a new folder photos/big",
          both(exists("photos/big/beach.jpg", "photos/big/trip.jpg", "photos/cat.png", "Pictures/wallpaper.jpg"),
               missing("photos/beach.jpg", "photos/old/trip.jpg"))),
    daily(MULTI, "make inbox/archive and move the emails older than 90 days into it",
          both(exists("inbox/archive/old newsletter.eml", "inbox/archive/party invite.eml", "inbox/receipt.eml"),
               missing("inbox/old newsletter.eml"))),
    daily(MULTI, "what's the biggest file in Downloads? delete it",
          both(missing("Downloads/ubuntu.iso"), exists("Downloads/song.mp3", "Downloads/invoice.pdf"))),
    daily(MULTI, "how many lines of python are in src altogether", lines_total(7)),
    daily(MULTI, "zip up the logs folder as logs.zip and then remove the logs folder",
          both(archive_has("logs.zip", "app.log"), archive_has("logs.zip", "error.log"), missing("logs"))),
    daily(MULTI, "save every TODO line in src to todo-report.txt",
          both(file_has("todo-report.txt", "fix the parser", "handle errors"),
               file_lacks("todo-report.txt", "meeting"))),
    daily(MULTI, "tar up Documents into docs-backup.tar.gz and show me what's in it",
          both(archive_has("docs-backup.tar.gz", "receipts.csv"), last_has("receipts.csv", "pancakes.md"))),

    # ---- text ------------------------------------------------------------------------------------------
    daily(TEXT, "sort scores.txt numerically", in_order(line("7"), line("15"), line("42"), line("100"))),
    daily(TEXT, "sort guests.txt z to a", in_order(line("Dana"), line("Carl"), line("Ben"), line("Ana"))),
    daily(TEXT, "unique names in guests.txt, sorted",
          both(in_order(line("Ana"), line("Ben"), line("Carl"), line("Dana")), value("count", 4))),
    daily(TEXT, "remove the duplicate lines in guests.txt", lines_are("guests.txt", ["Ana", "Ben", "Carl", "Dana"])),
    daily(TEXT, "add up the cost column in expenses.csv", value("total", 960.75)),
    daily(TEXT, "what's my most expensive expense in expenses.csv", first_row_has('"rent"')),
    daily(TEXT, "show just the item and cost columns of expenses.csv",
          both(columns_are("item", "cost"), last_has("bus pass", "12.25"))),
    daily(TEXT, "diff config/settings.old.ini config/settings.ini", diff_shown("workers=2", "workers=4")),
    daily(TEXT, "what's in wishlist.txt that isn't in bought.txt",
          both(last_has("headphones", "monitor"), last_lacks("keyboard", "plant"))),
    daily(TEXT, "wc -w essay.txt", both(value("words", ESSAY_WORDS), lacks("todo.txt"))),
    daily(TEXT, "expenses over 10 bucks in expenses.csv",
          both(last_has("rent", "bus pass", "lunch"), last_lacks("coffee"), rows_between(3, 3))),
    daily(TEXT, "how many food expenses are in expenses.csv", value("count", 2)),
    daily(TEXT, "which categories show up in expenses.csv",
          both(last_has('"food"', '"home"', '"travel"'), rows_between(3, 3))),
    daily(TEXT, 'count how often "sea" appears in essay.txt', value(("total", "count", "match_count"), 2)),
    daily(TEXT, "number the lines of Documents/recipes/pancakes.md",
          both(has('"line_number": 4', "1 cup milk"), keys("line_number"), lacks("hello world"))),
    daily(TEXT, "line count of essay.txt?", both(value("lines", 4), lacks("todo.txt"))),
    daily(TEXT, "convert expenses.csv to json",
          both(json_rows("expenses.json", 4), file_has("expenses.json", "bus pass"))),

    # ---- git -------------------------------------------------------------------------------------------
    daily(GIT, "git status in projects/scraper",
          both(has("requirements.txt", "output.json"), value("worktree", "modified"), lacks('"scrape.py"')),
          setup=git_tree),
    daily(GIT, "last 2 commits in the scraper repo",
          both(has("retry on 429", "pin requests"), lacks("first scraper")), setup=git_tree),
    daily(GIT, "what branches does projects/scraper have", both(has('"main"', '"proxy-support"'), keys("current")),
          setup=git_tree),

    # ---- out-of-scope ----------------------------------------------------------------------------------
    daily(OOS, "send the invoice to accounting@example.com", refused()),
    daily(OOS, "book a table for two at luigi's tonight", refused()),
    daily(OOS, "play something chill on spotify", refused()),
    daily(OOS, "set Pictures/wallpaper.jpg as my desktop background", refused()),
    daily(OOS, "install the driver for my brother printer", refused()),
    daily(OOS, "write me a short poem about mondays", refused()),
    daily(OOS, "whats the weather gonna be like tomorrow", refused()),
    daily(OOS, "order me a pepperoni pizza", refused()),
    daily(OOS, "translate 'where is the train station' into german", refused()),
    daily(OOS, "remind me at 5pm to call the plumber", refused()),
    daily(OOS, "turn bluetooth on", refused()),
    daily(OOS, "tell me a joke", refused()),
    daily(OOS, "connect to the office vpn", refused()),
    daily(OOS, "buy 0.1 bitcoin", refused()),
    daily(OOS, "text my wife that i'm running late", refused()),
    daily(OOS, "schedule a zoom call with the team on friday", refused()),
    daily(OOS, "upload photos/beach.jpg to instagram", refused()),

    # ---- capabilities the registry does not have -------------------------------------------------------
    daily("missing:image", "convert photos/cat.png to a jpg", exists("photos/cat.jpg")),
    daily("missing:write-sorted", "sort guests.txt alphabetically and save it back to the file",
          lines_in_order("guests.txt", ["Ana", "Ana", "Ben", "Ben", "Carl", "Dana"])),
    daily("missing:split", "split Downloads/ubuntu.iso into 2mb pieces", split_into("Downloads/ubuntu.iso", 2 << 20)),
    daily("missing:download", "download https://example.com/report.pdf into Downloads",
          exists("Downloads/report.pdf")),
    daily("missing:line-edit", "delete the header line from expenses.csv",
          both(file_lacks("expenses.csv", "item,category,cost"), file_has("expenses.csv", "coffee,food,3.5"))),
]
