"""The everyday evaluation set: requests phrased the way people really type them at a terminal.

HELD OUT — NEVER USE FOR TRAINING.  Do not copy these intents (or close paraphrases of them) into the
example bank (``models/bank.py``), a registry call's ``examples``, prompts, fine-tuning data or any
other material the model learns or retrieves from: the set exists to measure the model path on
requests it has not seen.  ``tests/test_cases_everyday.py`` fails if an intent here appears in the
bank or in the development set.

    nice -n 19 .venv/bin/python bench/bench_model.py accuracy --set everyday [--model smollm2] [--verbose]

Terse shell-minded commands ("ls -la docs"), questions ("what's eating my disk"), polite and sloppy
phrasing, ``~`` (the fixture root is ``$HOME``) / relative / absolute (``{root}``) / quoted paths, names
with spaces, sizes and ages with units, two-step plans, follow-ups (``before=``) and requests nothing
can do (they must be refused). Every case runs in a fresh copy of ``everyday_tree``
(``model_devtree.build_tree`` plus the files below) through the sandbox gate, and is checked by what it
did to the tree or by what its results contain *and* do not contain. Cases whose category starts with
``missing:`` need a capability the registry does not have yet (archives, text replacement, sorting or
aggregating content, ...); they are scored separately.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import socket
import tarfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.cases_common import (
    DAY,
    Case,
    Check,
    Executed,
    answered_by,
    at_least,
    both,
    build_tree,
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
    missing,
    mode,
    mode_bits,
    not_executable,
    pid_in_data,
    refused,
    root_shown,
    rows_between,
    sorted_desc,
    stopped,
    top_value,
    used,
    value,
)
from bench.cases_common import text as result_text

APP_LOG = ("INFO started\nINFO listening on 8080\nWARN slow request /api\nERROR disk full\nINFO retry\n"
           "ERROR timeout talking to db\nINFO recovered\nWARN memory high\n")

# path: (text, or an int = a sparse file of that many bytes; age in days; mode or None)
EXTRA: dict[str, tuple[str | int, float, int | None]] = {
    "My Documents/letter to bob.txt": ("Dear Bob,\nthanks for the bike.\nSee you in June.\n", 12, None),
    "My Documents/budget 2024.csv": ("month,amount\njan,1200\nfeb,950\n", 60, None),
    "photos/beach.jpg": (2_621_440, 100, None),
    "photos/cat.png": (307_200, 10, None),
    "photos/old/trip.jpg": (1_258_291, 400, None),
    "Downloads/ubuntu.iso": (6_291_456, 4, None),
    "Downloads/song.mp3": (4_718_592, 20, None),
    "Downloads/invoice.pdf": (204_800, 1.5, None),
    "Downloads/notes (1).txt": ("duplicate notes\n", 6, None),
    "logs/app.log": (APP_LOG, 0.03, None),
    "logs/access.log": ("GET / 200\nGET /api 500\n", 2, None),
    "logs/app.log.1": ("INFO rotated\nERROR old failure\n", 8, None),
    "logs/debug.log": ("debug stuff\n", 20, None),
    "src/app.js": ("const port = 8080;\n// TODO: handle errors\nconsole.log('up');\n", 2, None),
    "src/config.json": ('{"port": 8080, "debug": false}\n', 9, None),
    "scripts/backup.sh": ("#!/bin/sh\ncp -r docs /backup\n", 6.5, 0o644),
    "scripts/deploy.py": ("#!/usr/bin/env python3\nprint('deploy')\n", 6.5, 0o644),
    "scripts/cleanup.sh": ("#!/bin/sh\nrm -f /tmp/x\n", 6.5, 0o755),
    ".config/app.conf": ("theme=dark\n", 30, None),
    ".bashrc": ("alias ll='ls -la'\nexport EDITOR=vim\n", 50, None),
    "todo.txt": ("buy milk\ncall mom\nfix bike\n", 0.02, None),
    "keys/server.key": ("-----BEGIN KEY-----\n", 25, 0o600),
    "tmp/cache1.tmp": ("c1", 3, None),
    "tmp/cache2.tmp": ("c2", 3, None),
    "empty.txt": ("", 1.5, None),
    "names.txt": ("zoe\nadam\nmia\nadam\nbob\nzoe\nmia\n", 2, None),
    "public/index.html": ("<h1>hi</h1>\n", 5, 0o600),
}


def everyday_tree(root: Path) -> None:
    """``model_devtree.build_tree`` plus a home-like layout: Downloads, photos, logs, names with spaces."""
    build_tree(root)
    write_files(root, EXTRA, headers=True)
    age_files(root, EXTRA)


Files = dict[str, tuple[str | int, float, int | None]]  # path -> (text, or a size in bytes; age in days; mode)


def write_files(root: Path, files: Files, *, headers: bool) -> None:
    """Write ``files`` under ``root``: text as given, a size as a sparse file (starting with a .pdf's or a .jpg's
    magic bytes when ``headers``), with the mode when one is given."""
    for rel, (content, _age, bits) in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, int):
            with p.open("wb") as f:
                head = b"%PDF-1.4\n" if p.suffix == ".pdf" else b"\xff\xd8" if p.suffix == ".jpg" else b"\0"
                f.write(head if headers else b"\0")
                f.truncate(content)
        else:
            p.write_text(content)
        if bits is not None:
            p.chmod(bits)


def age_files(root: Path, files: Files) -> None:
    """Give each of ``files`` its age: modified (and accessed) that many days ago."""
    now = time.time()
    for rel, (_content, age, _bits) in files.items():
        os.utime(root / rel, (now - age * DAY, now - age * DAY))


def with_extra(make: Callable[[Path], None]) -> Callable[[Path], None]:
    """``everyday_tree`` and then ``make`` (files only one case needs)."""
    def setup(root: Path) -> None:
        everyday_tree(root)
        make(root)
    return setup


def _tar_backup(root: Path) -> None:
    src = root / "restored.txt"
    src.write_text("restored\n")
    with tarfile.open(root / "backup.tar.gz", "w:gz") as t:
        t.add(src, arcname="restored.txt")
    src.unlink()


def _zip_archive(root: Path) -> None:
    with zipfile.ZipFile(root / "archive.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("inner.txt", "inside\n")
        z.writestr("second.txt", "also inside\n")


def _dupe(root: Path) -> None:
    (root / "docs" / "copy_of_a.txt").write_bytes((root / "a.txt").read_bytes())


# ---- checks only this set needs -------------------------------------------------------------------------

def digest(*rels: str, algo: str = "sha256") -> Check:
    """The ``algo`` digest of each file (as it is when checked) is in the results."""
    return lambda root, ex, ctx: ex.ok and all(
        hashlib.new(algo, (root / r).read_bytes()).hexdigest() in ex.data_text() for r in rels)


def archive_has(rel: str, member: str) -> Check:
    """``rel`` is a zip or tar archive with a member whose name ends with ``member``."""
    def check(root: Path, ex: Executed, ctx: Any) -> bool:
        p = root / rel
        if zipfile.is_zipfile(p):
            with zipfile.ZipFile(p) as z:
                return any(n.endswith(member) for n in z.namelist())
        if p.is_file() and tarfile.is_tarfile(p):
            with tarfile.open(p) as t:
                return any(n.endswith(member) for n in t.getnames())
        return False
    return check


def mtime_in(rel: str, year: int, month: int) -> Check:
    def check(root: Path, ex: Executed, ctx: Any) -> bool:
        t = time.localtime((root / rel).stat().st_mtime)
        return (t.tm_year, t.tm_mon) == (year, month)
    return check


def lines_are(rel: str, expected: list[str]) -> Check:
    """``rel`` holds exactly these lines, in any order."""
    return lambda root, ex, ctx: (root / rel).is_file() and sorted((root / rel).read_text().split()) == expected


def json_rows(rel: str, n: int) -> Check:
    def check(root: Path, ex: Executed, ctx: Any) -> bool:
        data = json.loads((root / rel).read_text())
        return isinstance(data, list) and len(data) == n
    return check


def diff_shown(minus: str, plus: str) -> Check:
    """A unified diff: the removed line with '-', the added one with '+'."""
    return lambda root, ex, ctx: ex.ok and f"-{minus}" in result_text(root, ex) and f"+{plus}" in result_text(root, ex)


def case(category: str, intent: str, check: Check, **kw: Any) -> Case:
    """A case of this set.  The fixture root is ``$HOME`` while the plan runs: the tree is laid out like
    a home folder, so ``~/Downloads`` or "my home" name a place inside it (and nothing outside)."""
    setup = kw.pop("setup", everyday_tree)
    return Case(intent, (), check, category=category, setup=setup, home=True, **kw)


FIND, READ, WRITE, DELETE, MOVE = "files-find", "files-read", "files-write", "files-delete", "files-move-copy"
CHMOD, GREP, DU, PROC, SYS, DEV = "chmod", "grep", "du/space", "processes", "system", "devices"
FOLLOW, OOS, MULTI = "follow-up", "out-of-scope", "multi-step"

EVERYDAY: list[Case] = [
    # ---- finding and listing files ---------------------------------------------------------------
    case(FIND, "find . -name '*.py'", both(has("main.py", "util.py", "core.py"), lacks("app.js", "a.txt"))),
    case(FIND, "where are my pdfs", both(has("invoice.pdf"), lacks("ubuntu.iso", "notes.md"))),
    case(FIND, "find all the jpgs", both(has("beach.jpg", "trip.jpg"), lacks("cat.png"))),
    case(FIND, "any images in photos?", both(has("beach.jpg", "cat.png"), lacks("invoice.pdf"))),
    case(FIND, "files over 2 megs", both(has("big.bin", "ubuntu.iso", "song.mp3", "beach.jpg"),
                                        lacks("cat.png", "trip.jpg", "invoice.pdf"))),
    case(FIND, "files under 1kb in Downloads", both(has("notes (1).txt"), lacks("invoice.pdf", "ubuntu.iso"))),
    case(FIND, "what did I change in the last week",
         both(has("notes.md", "todo.txt"), lacks("old.log", "readme.md", "letter to bob", "util.py"))),
    case(FIND, "files modified today", both(has("todo.txt", "app.log"), lacks("notes.md", "data.csv"))),
    case(FIND, "what changed in the last hour?", both(has("todo.txt", "app.log"), lacks("error.log", "a.txt"))),
    case(FIND, "find stuff older than a year", both(has("trip.jpg"), lacks("beach.jpg", "old.log", "budget"))),
    case(FIND, "find empty files", both(has("empty.txt"), lacks("a.txt", "todo.txt"))),
    case(FIND, "shwo me the biggest fiels", first_row_has("ubuntu.iso")),
    case(FIND, "top 2 biggest files in ~/Downloads", both(has("ubuntu.iso", "song.mp3"), lacks("invoice.pdf"))),
    case(FIND, "any .md files around here?", both(has("notes.md", "readme.md"), lacks("a.txt", "guide.txt"))),
    case(FIND, "find -type d -empty", both(has("empty_dir"), lacks("src", "a.txt"))),
    case(FIND, "locate config.json", both(has("config.json"), lacks("app.js"))),
    case(FIND, "where's the file called letter to bob", both(has("letter to bob.txt"), lacks("budget"))),
    case(FIND, "find shell scripts", both(has("run.sh", "build.sh", "backup.sh"), lacks("deploy.py"))),
    case(FIND, "list every log file including the rotated ones",
         both(has("app.log.1", "error.log", "old.log", "debug.log"), lacks("a.txt"))),
    case(FIND, "find files with backup in the name", both(has("backup.sh"), lacks("deploy.py"))),
    case(FIND, "which files in src were changed in the last 3 days",
         both(has("main.py", "app.js"), lacks("util.py", "core.py", "config.json", "notes.md"))),
    case(FIND, "ls -la docs", both(has("readme.md", "guide.txt"), lacks("a.txt"))),
    case(FIND, "whats in here", both(has("a.txt", "todo.txt", "My Documents"), lacks("main.py"))),
    case(FIND, "show me everything in my home folder, hidden stuff too",
         both(has(".bashrc", ".hidden", "todo.txt"), lacks("main.py"))),
    case(FIND, "ls ~/Downloads", both(has("ubuntu.iso", "invoice.pdf"), lacks("a.txt"))),
    case(FIND, "list {root}/photos", both(has("beach.jpg", "cat.png"), lacks("a.txt"))),
    case(FIND, "what's inside 'My Documents'", both(has("letter to bob.txt", "budget 2024.csv"), lacks("a.txt"))),
    case(FIND, "ls -lt logs", in_order('app.log"', "access.log")),
    case(FIND, "ls -S ~/Downloads", in_order("ubuntu.iso", "song.mp3", "invoice.pdf")),
    case(FIND, "lsit the files in docs pls", both(has("readme.md", "guide.txt"), lacks("notes.md"))),
    case(FIND, "how many files are in src", value("count", 5)),
    case(FIND, "find files bigger than 1.5 MB in photos", both(has("beach.jpg"), lacks("cat.png", "trip.jpg"))),

    # ---- reading files ------------------------------------------------------------------------------
    case(READ, "cat todo.txt", has("buy milk", "fix bike")),
    case(READ, "whats in notes.md", has("meeting at noon")),
    case(READ, "show me the first 10 lines of error.log", both(has("line 10"), lacks("line 11", "line 50"))),
    case(READ, "tail -n 5 logs/app.log", both(has("ERROR disk full", "WARN memory high"),
                                              lacks("INFO started", "slow request"))),
    case(READ, "open 'My Documents/letter to bob.txt'", has("thanks for the bike")),
    case(READ, "read ~/.bashrc", has("alias ll")),
    case(READ, "show {root}/src/config.json", both(has("8080", "debug"), lacks("console.log"))),
    case(READ, "print lines 20 to 25 of error.log", both(has("line 20", "line 25"), lacks("line 19", "line 26"))),
    case(READ, "what does the readme say", has("read me")),
    case(READ, "head data.csv", has("ann", "dee")),
    case(READ, "could you show me the guide in docs", has("with two lines")),
    case(READ, "what's the last line of todo.txt", both(has("fix bike"), lacks("buy milk"))),
    case(READ, "read the conf file in .config", has("theme=dark")),
    case(READ, "how many lines in logs/app.log", has('"lines": 8')),
    case(READ, "word count of letter to bob.txt in My Documents", has('"words": 10')),
    case(READ, "how big is big.bin", has("3145728")),
    case(READ, "when did i last touch todo.txt", both(has("todo.txt", "mtime"), lacks("a.txt"))),
    case(READ, "sha256sum Downloads/invoice.pdf", digest("Downloads/invoice.pdf")),
    case(READ, "md5 for the budget 2024.csv file in My Documents", digest("My Documents/budget 2024.csv", algo="md5")),

    # ---- writing and creating -----------------------------------------------------------------------
    case(WRITE, "make a new folder called projects", lambda root, ex, ctx: (root / "projects").is_dir()),
    case(WRITE, "mkdir -p work/2024/jan", lambda root, ex, ctx: (root / "work/2024/jan").is_dir()),
    case(WRITE, "create a file named 'meeting notes.txt'", exists("meeting notes.txt")),
    case(WRITE, "touch build/.keep", exists("build/.keep")),
    case(WRITE, "write 'remember the milk' into reminder.txt", file_has("reminder.txt", "remember the milk")),
    case(WRITE, "add 'call the dentist' to todo.txt", file_has("todo.txt", "call the dentist", "buy milk")),
    case(WRITE, "append export PATH=$PATH:~/bin to ~/.bashrc", file_has(".bashrc", "export PATH", "alias ll")),
    case(WRITE, "put the text hello there in greeting.txt", file_has("greeting.txt", "hello there")),
    case(WRITE, "create an empty folder named archive inside docs",
         lambda root, ex, ctx: (root / "docs/archive").is_dir()),
    case(WRITE, "can you make a symlink named current that points to src", is_link("current", "src")),
    case(WRITE, "new file shopping.txt with eggs and bread", file_has("shopping.txt", "eggs", "bread")),
    case(WRITE, "overwrite a.txt with 'bye'", both(file_has("a.txt", "bye"), file_lacks("a.txt", "hello world"))),
    case(WRITE, "touch a file called .env in the src dir", exists("src/.env")),
    case(WRITE, "set the date of a.txt to 1 jan 2020", mtime_in("a.txt", 2020, 1)),

    # ---- deleting -----------------------------------------------------------------------------------
    case(DELETE, "rm old.log", both(missing("old.log"), exists("error.log"))),
    case(DELETE, "could you please delete empty.txt", both(missing("empty.txt"), exists("a.txt"))),
    case(DELETE, "get rid of the tmp folder", both(missing("tmp"), exists("build/x.tmp"))),
    case(DELETE, "rm -rf build", both(missing("build"), exists("src/main.py"))),
    case(DELETE, "delete 'notes (1).txt' from Downloads",
         both(missing("Downloads/notes (1).txt"), exists("Downloads/invoice.pdf", "notes.md"))),
    case(DELETE, "remove the empty directory", both(missing("empty_dir"), exists("src"))),
    case(DELETE, "delet the iso in downloads", both(missing("Downloads/ubuntu.iso"), exists("Downloads/song.mp3"))),
    case(DELETE, "trash ~/Downloads/song.mp3", both(missing("Downloads/song.mp3"), exists("Downloads/ubuntu.iso"))),
    case(DELETE, "delete {root}/logs/debug.log", both(missing("logs/debug.log"), exists("logs/app.log"))),
    case(DELETE, "remove the symlink called link", both(missing("link"), exists("a.txt"))),
    case(DELETE, "erase photos/old", both(missing("photos/old"), exists("photos/beach.jpg"))),
    case(DELETE, "del data.csv pls", both(missing("data.csv"), exists("a.txt"))),
    case(DELETE, "remove .hidden", both(missing(".hidden"), exists(".bashrc"))),

    # ---- moving and copying -------------------------------------------------------------------------
    case(MOVE, "mv todo.txt done.txt", both(file_has("done.txt", "buy milk"), missing("todo.txt"))),
    case(MOVE, "cp data.csv data_backup.csv", both(file_has("data_backup.csv", "ann"), exists("data.csv"))),
    case(MOVE, "move invoice.pdf from Downloads into My Documents",
         both(exists("My Documents/invoice.pdf"), missing("Downloads/invoice.pdf"))),
    case(MOVE, "copy the whole docs folder to docs_old",
         both(exists("docs_old/readme.md", "docs_old/guide.txt"), exists("docs/readme.md"))),
    case(MOVE, "rename 'letter to bob.txt' in My Documents to letter.txt",
         both(file_has("My Documents/letter.txt", "Dear Bob"), missing("My Documents/letter to bob.txt"))),
    case(MOVE, "put a copy of notes.md in docs", both(file_has("docs/notes.md", "meeting"), exists("notes.md"))),
    case(MOVE, "back up ~/.bashrc to ~/.bashrc.bak", both(file_has(".bashrc.bak", "alias ll"), exists(".bashrc"))),
    case(MOVE, "move {root}/big.bin to {root}/build", both(exists("build/big.bin"), missing("big.bin"))),
    case(MOVE, "rename the scripts folder to tools", both(exists("tools/backup.sh"), missing("scripts"))),
    case(MOVE, "copy cat.png from photos to here", both(exists("cat.png"), exists("photos/cat.png"))),
    case(MOVE, "mv error.log logs/", both(file_has("logs/error.log", "line 50"), missing("error.log"))),

    # ---- permissions --------------------------------------------------------------------------------
    case(CHMOD, "chmod +x scripts/backup.sh", executable("scripts/backup.sh")),
    case(CHMOD, "chmod 644 keys/server.key", mode("keys/server.key", 0o644)),
    case(CHMOD, "make deploy.py in scripts runnable", executable("scripts/deploy.py")),
    case(CHMOD, "make data.csv readable only by me", mode_bits("data.csv", 0o400, 0o077)),
    case(CHMOD, "set permissions 755 on bin/run.sh", mode("bin/run.sh", 0o755)),
    case(CHMOD, "chmod 600 'My Documents/budget 2024.csv'", mode("My Documents/budget 2024.csv", 0o600)),
    case(CHMOD, "let everyone read public/index.html", mode_bits("public/index.html", 0o444)),
    case(CHMOD, "take away execute permission on scripts/cleanup.sh", not_executable("scripts/cleanup.sh")),
    case(CHMOD, "chmod -R g+w scripts",
         both(mode_bits("scripts/backup.sh", 0o020), mode_bits("scripts/deploy.py", 0o020))),
    case(CHMOD, "can you make bin/build.sh executable for everyone", mode_bits("bin/build.sh", 0o111)),

    # ---- searching inside files ---------------------------------------------------------------------
    case(GREP, "grep TODO in src", both(has("main.py", "app.js"), lacks("notes.md"))),
    case(GREP, "grep -ri error logs", both(has("disk full", "old failure", "timeout talking"), lacks("INFO retry"))),
    case(GREP, "which files mention 8080", both(has("config.json", "app.js", "app.log"), lacks("todo.txt"))),
    case(GREP, "find where i wrote about the meeting", both(has("notes.md"), lacks("a.txt", "todo.txt"))),
    case(GREP, "search my docs for 'guide'", both(has("guide.txt"), lacks("readme.md", "notes.md"))),
    case(GREP, "count the ERROR lines in logs/app.log", value(("count", "match_count"), 2)),
    case(GREP, "grep -n milk todo.txt", both(has("buy milk"), lacks("call mom"))),
    case(GREP, "is the word bike anywhere in My Documents", both(has("letter to bob.txt"), lacks("todo.txt"))),
    case(GREP, "search python files for import", both(has("main.py"), lacks("app.js", "notes.md"))),
    case(GREP, "look for console.log in the js files", both(has("app.js"), lacks("main.py"))),
    case(GREP, "grep for alias in ~/.bashrc", both(has("alias ll"), lacks("EDITOR"))),
    case(GREP, "which files contain the string theme", both(has("app.conf"), lacks("a.txt"))),
    case(GREP, "find lines with WARN in logs/app.log", both(has("slow request", "memory high"), lacks("disk full"))),
    case(GREP, "how many times does ERROR show up in the logs folder", value("match_count", 3)),

    # ---- disk usage and free space ------------------------------------------------------------------
    case(DU, "what's eating my disk", either(has("Downloads"), has("ubuntu.iso"))),
    case(DU, "du -sh src", both(keys("total_bytes"), has("src"), lacks("Downloads", "big.bin"))),
    case(DU, "how big is the Downloads folder", both(keys("total_bytes"), has("Downloads"), lacks("a.txt"))),
    case(DU, "how much space is left on the disk?", keys("free_bytes", "mountpoint")),
    case(DU, "df -h", keys("free_bytes", "total_bytes", "mountpoint")),
    case(DU, "which folders here are the biggest", first_row_has("Downloads")),
    case(DU, "is my disk almost full", keys("percent", "free_bytes")),
    case(DU, "size of photos incl subfolders", both(keys("total_bytes"), has("photos"), lacks("Downloads"))),
    case(DU, "what are the 3 largest things in ~", both(has("Downloads"), lacks("a.txt", "todo.txt"))),
    case(DU, "how much space do the logs take up", both(keys("total_bytes"), has("logs"), lacks("Downloads"))),
    case(DU, "total size of the current dir", at_least("total_bytes", 18_000_000)),

    # ---- processes ----------------------------------------------------------------------------------
    case(PROC, "is sleep running?", pid_in_data(), needs="sleeper"),
    case(PROC, "ps aux | grep sleep", pid_in_data(), needs="sleeper"),
    case(PROC, "whats pid {pid}", both(pid_in_data(), has("sleep")), needs="sleeper"),
    case(PROC, "kill {pid}", killed(), needs="sleeper"),
    case(PROC, "kill -9 {pid}", killed(), needs="sleeper"),
    case(PROC, "pls stop process {pid}, it's stuck", killed(), needs="sleeper"),
    case(PROC, "pause pid {pid}", stopped(), needs="sleeper"),
    case(PROC, "how much memory is {pid} using", both(pid_in_data(), keys("rss_bytes")), needs="sleeper"),
    case(PROC, "what command started pid {pid}?", both(pid_in_data(), keys("cmdline"), has("sleep")),
         needs="sleeper"),
    case(PROC, "pstree", pid_in_data(), needs="sleeper"),
    case(PROC, "who is the parent of process {pid}", value("ppid", os.getpid()), needs="sleeper"),
    case(PROC, "what's running on port {port}", pid_in_data(), needs="listener"),
    case(PROC, "lsof -i :{port}", pid_in_data(), needs="listener"),
    case(PROC, "list python processes", pid_in_data(), needs="listener"),
    case(PROC, "who's hogging the cpu", sorted_desc("cpu_percent")),
    case(PROC, "top 5 memory hogs", both(rows_between(1, 5), sorted_desc("rss_bytes"))),
    case(PROC, "how many processes are running right now",
         both(used("proc.list", "proc.tree"), answered_by("proc.list", "proc.tree", "table.count"),
              either(keys("matched"), keys("count")))),

    # ---- system -------------------------------------------------------------------------------------
    case(SYS, "how much ram is free?", keys("available_bytes")),
    case(SYS, "free -h", keys("available_bytes", "swap_total_bytes")),
    case(SYS, "whats my hostname", has(socket.gethostname())),
    case(SYS, "uname -r", has(os.uname().release)),
    case(SYS, "how long has this box been up", keys("uptime_s")),
    case(SYS, "how many cores do i have", value("logical_count", os.cpu_count())),
    case(SYS, "whats the load average", keys("load_avg_1m")),
    case(SYS, "which linux distro is this", keys("distribution")),
    case(SYS, "what's my ip address?", both(keys("interfaces"), has("127.0.0.1"))),
    case(SYS, "who else is logged in", keys("users")),
    case(SYS, "is the cpu overheating", keys("temperatures")),
    case(SYS, "whoami", top_value("user", getpass.getuser)),
    case(SYS, "pwd", both(root_shown(), lacks("a.txt"))),
    case(SYS, "what version of python is this", keys("python")),
    case(SYS, "battery level?", keys("battery")),
    case(SYS, "which ports are listening", keys("connections")),
    case(SYS, "what os am i on", keys("os", "kernel_release")),

    # ---- devices ------------------------------------------------------------------------------------
    case(DEV, "lsblk", answered_by("dev.block")),
    case(DEV, "what disks are connected", answered_by("dev.block", "sys.disks")),
    case(DEV, "lsusb", answered_by("dev.usb")),
    case(DEV, "is my usb stick plugged in?", answered_by("dev.block", "dev.usb")),
    case(DEV, "what graphics card is in here", answered_by("dev.pci")),
    case(DEV, "lspci -k", answered_by("dev.pci")),
    case(DEV, "where is everything mounted", answered_by("dev.mounts", "sys.disks")),
    case(DEV, "show only the ext4 mounts", both(answered_by("dev.mounts", "sys.disks"), lacks('"fstype": "proc"'))),
    case(DEV, "any removable drives attached?", both(answered_by("dev.block"), lacks('"removable": false'))),
    case(DEV, "which network card does this machine have", answered_by("dev.pci", "sys.net", "sys.interfaces")),
    case(DEV, "show the partitions", answered_by("dev.block")),

    # ---- follow-ups on the previous result ----------------------------------------------------------
    case(FOLLOW, "ok remove those", both(missing("logs/app.log", "logs/debug.log", "logs/access.log"),
                                        exists("error.log", "logs/app.log.1")),
         before="find .log files in logs"),
    case(FOLLOW, "now delete all of them", both(missing("tmp/cache1.tmp", "tmp/cache2.tmp"), exists("build/x.tmp")),
         before="find the tmp files in the tmp folder"),
    case(FOLLOW, "ok kill that", killed(), needs="listener", before="what's listening on {port}"),
    case(FOLLOW, "kill it please", killed(), needs="sleeper", before="look for a process called sleep"),
    case(FOLLOW, "make them executable", both(executable("scripts/backup.sh", "scripts/cleanup.sh"),
                                              not_executable("scripts/deploy.py")),
         before="find the shell scripts in scripts"),
    case(FOLLOW, "move it to My Documents", both(exists("My Documents/invoice.pdf"), missing("Downloads/invoice.pdf")),
         before="any pdfs in Downloads?"),
    case(FOLLOW, "and how big are those?", has("2621440", "1258291"), before="list the jpg files in photos"),
    case(FOLLOW, "copy them into docs", exists("docs/data.csv", "docs/budget 2024.csv"), before="find the csv files"),
    case(FOLLOW, "add 'water plants' to it", file_has("todo.txt", "water plants", "buy milk"), before="cat todo.txt"),
    case(FOLLOW, "make it read-only", mode_bits("notes.md", 0o400, 0o222), before="show details of notes.md"),
    case(FOLLOW, "open them", has("fix the parser", "handle errors"), before="grep -l TODO src"),
    case(FOLLOW, "get rid of them", both(missing("empty.txt"), exists("a.txt")), before="find empty files in here"),
    case(FOLLOW, "delete the lot", both(missing("Downloads/ubuntu.iso", "Downloads/song.mp3"),
                                       exists("Downloads/invoice.pdf")),
         before="find files bigger than 4 megs in Downloads"),

    # ---- two or more steps --------------------------------------------------------------------------
    case(MULTI, "clean out the .tmp junk from tmp", both(missing("tmp/cache1.tmp", "tmp/cache2.tmp"),
                                                         exists("build/x.tmp"))),
    case(MULTI, "delete every .tmp file under build", both(missing("build/x.tmp", "build/y.tmp"),
                                                           exists("build/keep.o", "tmp/cache1.tmp"))),
    case(MULTI, "kill the python thing on port {port}", killed(), needs="listener"),
    case(MULTI, "free up port {port}", killed(), needs="listener"),
    case(MULTI, "make every .sh file in scripts executable", both(executable("scripts/backup.sh"),
                                                                  not_executable("scripts/deploy.py"))),
    case(MULTI, "remove all logs older than 2 weeks", both(missing("old.log", "logs/debug.log"),
                                                           exists("error.log", "logs/app.log", "logs/access.log"))),
    case(MULTI, "move every png in photos to Downloads", both(exists("Downloads/cat.png", "photos/beach.jpg"),
                                                              missing("photos/cat.png"))),
    case(MULTI, "delete the empty files and folders", both(missing("empty.txt", "empty_dir"), exists("a.txt"))),
    case(MULTI, "stop all the sleep processes", killed(), needs="sleeper"),
    case(MULTI, "chmod 644 all .key files", mode("keys/server.key", 0o644)),
    case(MULTI, "count lines in each .log file in logs", has("app.log", '"lines": 8')),
    case(MULTI, "sha256 every file in docs", digest("docs/readme.md", "docs/guide.txt")),

    # ---- nothing can do these: they must be refused -------------------------------------------------
    case(OOS, "restart my laptop pls", refused()),
    case(OOS, "send an email to bob saying I'm late", refused()),
    case(OOS, "pip install requests", refused()),
    case(OOS, "open google.com in the browser", refused()),
    case(OOS, "format /dev/sdb as ext4", refused()),
    case(OOS, "write me a poem about cats", refused()),
    case(OOS, "what's the weather tomorrow", refused()),
    case(OOS, "shutdown -h now", refused()),
    case(OOS, "apt-get upgrade", refused()),
    case(OOS, "connect to the wifi called HomeNet", refused()),
    case(OOS, "set my wallpaper to beach.jpg", refused()),
    case(OOS, "play song.mp3", refused()),
    case(OOS, "order a pizza", refused()),
    case(OOS, "translate good morning into french", refused()),
    case(OOS, "add a user account for my brother", refused()),
    case(OOS, "change my password", refused()),
    case(OOS, "schedule a backup every night at 2am", refused()),
    case(OOS, "mount the usb stick at /mnt/usb", refused()),
    case(OOS, "turn on the firewall", refused()),
    case(OOS, "post 'hello world' on twitter", refused()),

    # ---- capabilities that do not exist yet (scored separately) -------------------------------------
    case("missing:archive", "zip up the docs folder into docs.zip", archive_has("docs.zip", "readme.md")),
    case("missing:archive", "tar czf src.tgz src", archive_has("src.tgz", "main.py")),
    case("missing:archive", "extract backup.tar.gz here", file_has("restored.txt", "restored"),
         setup=with_extra(_tar_backup)),
    case("missing:archive", "what's inside archive.zip?", both(has("inner.txt", "second.txt"),
                                                              lacks('"binary": true')),
         setup=with_extra(_zip_archive)),
    case("missing:archive", "gzip error.log", both(exists("error.log.gz"), missing("error.log"))),
    case("missing:archive", "compress the photos folder into photos.tar.gz", archive_has("photos.tar.gz", "beach.jpg")),
    case("missing:replace", "replace TODO with DONE in notes.md",
         both(file_has("notes.md", "DONE: write the report"), file_lacks("notes.md", "TODO"))),
    case("missing:replace", "sed -i 's/8080/9090/' src/config.json",
         both(file_has("src/config.json", "9090"), file_lacks("src/config.json", "8080"))),
    case("missing:replace", "change every hello to hi in a.txt",
         both(file_has("a.txt", "hi world"), file_lacks("a.txt", "hello"))),
    case("missing:sort", "sort names.txt", in_order("adam", "bob", "mia", "zoe")),
    case("missing:sort", "sort data.csv by name, z to a", in_order("dee", "cy", "bob", "ann")),
    case("missing:count", "how many unique names in names.txt",
         value(("count", "unique", "distinct", "unique_lines", "lines"), 4)),
    case("missing:uniq", "remove duplicate lines from names.txt",
         lines_are("names.txt", ["adam", "bob", "mia", "zoe"])),
    case("missing:aggregate", "total size of all the jpg files", has("3879731")),
    case("missing:aggregate", "how many lines of python in src altogether",
         value(("lines", "total_lines", "total"), 7)),
    case("missing:aggregate", "find duplicate files", both(has("a.txt", "copy_of_a.txt"), lacks("notes.md")),
         setup=with_extra(_dupe)),
    case("missing:count", "how many is that?", value(("count", "total", "rows"), 3),
         before="find all python files in src"),
    case("missing:diff", "diff a.txt and docs/guide.txt", diff_shown("hello world", "a guide")),
    case("missing:cut", "show just the name column of data.csv", both(has("ann", "dee"), lacks("id,name", "1,ann"))),
    case("missing:convert", "convert data.csv to json and save it as data.json", json_rows("data.json", 4)),
    case("missing:rename", "rename all the .txt files in Downloads to .md",
         both(exists("Downloads/notes (1).md"), missing("Downloads/notes (1).txt"))),
    case("missing:concat", "merge a.txt and todo.txt into both.txt", file_has("both.txt", "hello world", "buy milk")),
]
