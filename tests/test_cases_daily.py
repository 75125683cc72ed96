"""The daily evaluation set (bench/cases_daily.py), checked without any model.

Hand-written plans go through the same runner a model's plans do (``run_case``: a fresh fixture, the
sandbox gate, the case's check): the right plan of every in-scope case passes, a plan that does nothing
fails every case except the refusals, a few near-miss plans fail, and nothing a plan does leaves the
fixture.  The set itself: at least 160 unique intents, none of them one of the everyday set, the
development set or the example bank.
"""

from __future__ import annotations

import os
import re
import shutil
import string
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from model_devtree import assert_outside_denied
from test_cases_everyday import NOTHING, FakePlanner, _Formatting

from bench import cases_common
from bench.cases_common import MISSING, Case, run_case, score, select
from bench.cases_daily import DAILY
from bench.cases_everyday import EVERYDAY
from syscalls.registry import default_registry

REG = default_registry()
CATEGORIES = {"files-find", "files-read", "files-write", "files-delete", "files-move-copy", "chmod", "grep",
              "du/space", "processes", "system", "devices", "follow-up", "out-of-scope", "multi-step", "text", "git"}
MB = 1024 * 1024
Steps = list[tuple[str, dict[str, Any]]]
Plan = Steps | Callable[[str], Steps]


def _pid(intent: str) -> int:
    """The pid (or port) the runner filled into an intent: its only number-like word."""
    (n,) = [int(w) for w in re.findall(r"(?<![\w.-])\d+(?![\w.-])", intent) if int(w) > 10]
    return n


def _sig(signal: str = "") -> Callable[[str], Steps]:
    return lambda i: [("proc.signal", {"pid": _pid(i), **({"signal": signal} if signal else {})})]


def _info(i: str) -> Steps:
    return [("proc.info", {"pid": _pid(i)})]


def _port(i: str) -> Steps:
    return [("proc.port", {"port": _pid(i)})]


# The right plan of every in-scope case (and of each follow-up's earlier request), by intent template.
RIGHT: dict[str, Plan] = {
    # files-find
    'find ~ -name "*.mp3"': [("fs.find", {"path": "~", "name": "*.mp3"})],
    "where did i put my résumé?": [("fs.find", {"path": "~", "iname": "*résumé*"})],
    "got any pdf files sitting in downloads": [("fs.find", {"path": "~/Downloads", "iname": "*.pdf"})],
    "which files are north of 5 megabytes": [("fs.find", {"type": "file", "size_min_bytes": 5 * MB})],
    "what have i touched in the last hour": [("fs.find", {"path": "~", "type": "file", "mtime_max_minutes": 60})],
    "stuff i haven't modified in over a year": [("fs.find", {"path": "~", "type": "file", "mtime_min_days": 365})],
    "are there any empty folders lying around?": [("fs.find", {"type": "dir", "empty": True})],
    "list zero byte files": [("fs.find", {"type": "file", "empty": True})],
    "find package.json files in projects but not the ones inside node_modules":
        [("fs.find", {"path": "projects", "name": "package.json", "exclude_dirs": ["node_modules"]})],
    "all my python files, skip the venv folder": [("fs.find", {"path": "~", "name": "*.py", "exclude_dirs": ["venv"]})],
    ".log files in logs/ changed in the past 3 days":
        [("fs.find", {"path": "logs", "name": "*.log", "mtime_max_days": 3})],
    "screenshots on my desktop": [("fs.find", {"path": "~/Desktop", "iname": "*screenshot*"})],
    "find csv files in Documents, upper or lower case extension":
        [("fs.find", {"path": "Documents", "iname": "*.csv"})],
    "find . -type l": [("fs.find", {"path": ".", "type": "symlink"})],
    "r there any world-writable files in here":
        [("fs.find", {"type": "file", "perm": "002", "perm_match": "any"})],
    "look for leftover *.tmp or *.bak files": [("fs.find", {"any_name": ["*.tmp", "*.bak"]})],
    "pics in photos between 100k and 1 meg":
        [("fs.find", {"path": "photos", "type": "file", "size_min_bytes": 100 * 1024, "size_max_bytes": MB})],
    "javascript files under projects excluding node_modules":
        [("fs.find", {"path": "projects", "name": "*.js", "exclude_dirs": ["node_modules"]})],
    "ls ~/Desktop": [("fs.list", {"path": "~/Desktop"})],
    "ls -a Desktop": [("fs.list", {"path": "Desktop", "hidden": True})],
    "ls -lt Downloads": [("fs.list", {"path": "Downloads", "long": True, "sort": "mtime"})],
    "the three most recently modified files in Documents":
        [("fs.find", {"path": "Documents", "type": "file", "sort": "mtime", "limit": 3})],
    "tree projects -L 2": [("fs.tree", {"path": "projects", "depth": 2})],
    "which folders are in my home dir": [("fs.find", {"path": "~", "type": "dir", "min_depth": 1, "max_depth": 1})],
    "how many jpgs have i got": [("fs.find", {"path": "~", "iname": "*.jpg", "type": "file"})],
    "songs in Music bigger than 3mb": [("fs.find", {"path": "Music", "name": "*.mp3", "size_min_bytes": 3 * MB})],
    "any duplicate files in Downloads?": [("fs.duplicates", {"path": "Downloads"})],
    "what's in {root}/inbox": lambda i: [("fs.list", {"path": i.split(" ", 2)[2]})],
    # files-read
    'cat "Desktop/meeting notes.txt"': [("fs.read", {"path": "Desktop/meeting notes.txt"})],
    "head -2 Documents/taxes/2025/receipts.csv":
        [("fs.read", {"path": "Documents/taxes/2025/receipts.csv", "head_lines": 2})],
    "last line of logs/nginx/error.log pls": [("fs.read", {"path": "logs/nginx/error.log", "tail_lines": 1})],
    "show lines 2 thru 3 of essay.txt": [("fs.read", {"path": "essay.txt", "line_start": 2, "line_end": 3})],
    "show me my ssh config": [("fs.read", {"path": "~/.ssh/config"})],
    "what's in the webapp's .env": [("fs.read", {"path": "projects/webapp/.env"})],
    "cat 'Documents/café menu.txt'": [("fs.read", {"path": "Documents/café menu.txt"})],
    "md5sum Downloads/ubuntu.iso": [("fs.checksum", {"path": "Downloads/ubuntu.iso", "algorithm": "md5"})],
    "what's the sha1 hash of the résumé pdf in Documents":
        [("fs.checksum", {"path": "Documents/résumé.pdf", "algorithm": "sha1"})],
    "what kind of file is Downloads/mystery, it has no extension": [("fs.type", {"path": "Downloads/mystery"})],
    "the 'webapp shortcut' thing on my desktop, what does it link to":
        [("fs.realpath", {"path": "~/Desktop/webapp shortcut"})],
    "todo.txt — when did i last edit it": [("fs.stat", {"path": "todo.txt"})],
    "what are the permissions on ~/.ssh/id_ed25519": [("fs.stat", {"path": "~/.ssh/id_ed25519"})],
    "cat -n tools/sync.sh": [("text.number", {"path": "tools/sync.sh"})],
    "print Music/playlist.m3u in reverse order": [("text.reverse", {"path": "Music/playlist.m3u"})],
    "show me the package.json of projects/webapp": [("fs.read", {"path": "projects/webapp/package.json"})],
    "whats inside Downloads/archive-old.zip": [("archive.list", {"path": "Downloads/archive-old.zip"})],
    "read the scraper's requirements.txt": [("fs.read", {"path": "projects/scraper/requirements.txt"})],
    "peek at the top of logs/app.log, like 5 lines": [("fs.read", {"path": "logs/app.log", "head_lines": 5})],
    "file Downloads/invoice.pdf": [("fs.type", {"path": "Downloads/invoice.pdf"})],
    "stat ~/.bashrc": [("fs.stat", {"path": "~/.bashrc"})],
    # files-write
    'echo "milk, eggs, bread" > shopping.txt':
        [("fs.write", {"path": "shopping.txt", "content": "milk, eggs, bread\n"})],
    "add 'pay rent' at the end of todo.txt": [("fs.append", {"path": "todo.txt", "content": "pay rent\n"})],
    "mkdir -p projects/newsite/css": [("fs.mkdir", {"path": "projects/newsite/css", "parents": True})],
    'new folder called "Tax Stuff" inside Documents': [("fs.mkdir", {"path": "Documents/Tax Stuff"})],
    "touch Desktop/.keep": [("fs.touch", {"path": "Desktop/.keep"})],
    "create notes/ideas.md containing '# Ideas'": [("fs.write", {"path": "notes/ideas.md", "content": "# Ideas\n"})],
    "ln -s ~/projects/scraper ~/Desktop/scraper":
        [("fs.symlink", {"path": "~/Desktop/scraper", "target": "~/projects/scraper"})],
    "put DRAFT as the very first line of essay.txt":
        [("text.insert", {"path": "essay.txt", "text": "DRAFT", "at": "top"})],
    "change port 8000 to 9000 in config/settings.ini":
        [("text.replace", {"path": "config/settings.ini", "find": "8000", "replace": "9000"})],
    'replace every "colour" with "color" in essay.txt':
        [("text.replace", {"path": "essay.txt", "find": "colour", "replace": "color"})],
    "zip the photos folder into photos.zip": [("archive.create", {"path": "photos.zip", "sources": ["photos"]})],
    "tar czf scraper.tgz projects/scraper":
        [("archive.create", {"path": "scraper.tgz", "sources": ["projects/scraper"]})],
    "unzip Downloads/archive-old.zip into Downloads/old-stuff":
        [("fs.mkdir", {"path": "Downloads/old-stuff", "parents": True}),
         ("archive.extract", {"path": "Downloads/archive-old.zip", "dest": "Downloads/old-stuff"})],
    "stick part1.txt and part2.txt together into book.txt":
        [("fs.concat", {"path": "book.txt", "sources": ["part1.txt", "part2.txt"]})],
    'quote the letter to bob in My Documents: put "> " in front of every line':
        [("text.prefix", {"path": "My Documents/letter to bob.txt", "prefix": "> "})],
    "bump the modified time of todo.txt to right now": [("fs.touch", {"path": "todo.txt"})],
    "decompress logs/nginx/access.log.2.gz": [("archive.gunzip", {"path": "logs/nginx/access.log.2.gz"})],
    "compress logs/debug.log with gzip, don't keep the original": [("archive.gzip", {"path": "logs/debug.log"})],
    "append alias gs='git status' to my .bashrc": [("fs.append", {"path": "~/.bashrc",
                                                                   "content": "alias gs='git status'\n"})],
    # files-delete
    "rm {root}/Desktop/.DS_Store": lambda i: [("fs.delete", {"path": i.split(" ", 1)[1]})],
    "empty the build folder but keep the folder itself":
        [("fs.find", {"path": "build", "min_depth": 1, "max_depth": 1}),
         ("fs.delete", {"path": "$0.path", "recursive": True})],
    "get rid of node_modules in the webapp project":
        [("fs.delete", {"path": "projects/webapp/node_modules", "recursive": True})],
    "delete all teh .bak files": [("fs.find", {"name": "*.bak", "type": "file"}), ("fs.delete", {"path": "$0.path"})],
    "remove the .log files in logs/ that are older than 2 weeks":
        [("fs.find", {"path": "logs", "name": "*.log", "type": "file", "mtime_min_days": 14}),
         ("fs.delete", {"path": "$0.path"})],
    "delete screenshots older than a week from Downloads":
        [("fs.find", {"path": "Downloads", "iname": "*screenshot*", "mtime_min_days": 7}),
         ("fs.delete", {"path": "$0.path"})],
    "trash the ubuntu iso, im done with it": [("fs.delete", {"path": "Downloads/ubuntu.iso"})],
    "rm -rf projects/webapp/dist": [("fs.delete", {"path": "projects/webapp/dist", "recursive": True})],
    "clean up the empty files in my home folder":
        [("fs.find", {"path": "~", "type": "file", "empty": True}), ("fs.delete", {"path": "$0.path"})],
    "delete emails in inbox older than 90 days":
        [("fs.find", {"path": "inbox", "name": "*.eml", "mtime_min_days": 90}), ("fs.delete", {"path": "$0.path"})],
    "Downloads has 'invoice (1).pdf', a dupe of invoice.pdf - bin it":
        [("fs.delete", {"path": "Downloads/invoice (1).pdf"})],
    # files-move-copy
    "mv Desktop/*.png Pictures/": [("fs.find", {"path": "Desktop", "name": "*.png", "max_depth": 1}),
                                   ("fs.move", {"src": "$0.path", "dest": "Pictures"})],
    'call "Desktop/meeting notes.txt" meeting-2026-11-30.txt instead':
        [("fs.move", {"src": "Desktop/meeting notes.txt", "dest": "Desktop/meeting-2026-11-30.txt"})],
    "cp essay.txt essay-backup.txt": [("fs.copy", {"src": "essay.txt", "dest": "essay-backup.txt"})],
    "copy the whole scraper project to ~/backup/scraper":
        [("fs.copy", {"src": "projects/scraper", "dest": "~/backup/scraper", "recursive": True})],
    "move the mp3s out of Downloads into Music": [("fs.find", {"path": "Downloads", "name": "*.mp3"}),
                                                  ("fs.move", {"src": "$0.path", "dest": "Music"})],
    "mv Downloads/invoice.pdf Documents/taxes/2025/":
        [("fs.move", {"src": "Downloads/invoice.pdf", "dest": "Documents/taxes/2025/"})],
    "make a copy of .bashrc called .bashrc.orig": [("fs.copy", {"src": ".bashrc", "dest": ".bashrc.orig"})],
    "cp -r Documents/recipes ~/Desktop": [("fs.copy", {"src": "Documents/recipes", "dest": "~/Desktop",
                                                       "recursive": True})],
    "rename the 'Road Trip (2019)' folder in Music to road-trip-2019":
        [("fs.move", {"src": "Music/Road Trip (2019)", "dest": "Music/road-trip-2019"})],
    "clone the webapp project folder to projects/webapp-v2":
        [("fs.copy", {"src": "projects/webapp", "dest": "projects/webapp-v2", "recursive": True})],
    "todo.txt belongs in Documents, move it there": [("fs.move", {"src": "todo.txt", "dest": "Documents"})],
    "copy every .csv file in Documents and its subfolders to the Desktop":
        [("fs.find", {"path": "Documents", "name": "*.csv", "type": "file"}),
         ("fs.copy", {"src": "$0.path", "dest": "Desktop"})],
    "rename all the .tmp files in tmp to .bak":
        [("fs.rename_ext", {"path": "tmp", "from_ext": "tmp", "to_ext": "bak"})],
    "copy config.json from src into tools": [("fs.copy", {"src": "src/config.json", "dest": "tools"})],
    "rename the 'webapp shortcut' link on my desktop to just webapp":
        [("fs.move", {"src": "~/Desktop/webapp shortcut", "dest": "~/Desktop/webapp"})],
    "could you copy wishlist.txt into the notes foler please": [("fs.copy", {"src": "wishlist.txt", "dest": "notes"})],
    # chmod
    "my ssh private key is too open, make it readable only by me":
        [("fs.chmod", {"path": "~/.ssh/id_ed25519", "mode": "600"})],
    "tools/sync.sh won't run, permission denied - fix it": [("fs.chmod", {"path": "tools/sync.sh", "mode": "u+x"})],
    "take away write access for others on everything in shared, recursively":
        [("fs.chmod", {"path": "shared", "mode": "o-w", "recursive": True})],
    "remove the execute bit from scripts/cleanup.sh": [("fs.chmod", {"path": "scripts/cleanup.sh", "mode": "a-x"})],
    "let everyone read Documents/recipes/pancakes.md":
        [("fs.chmod", {"path": "Documents/recipes/pancakes.md", "mode": "a+r"})],
    "set tools/resize.py to rwxr-xr-x": [("fs.chmod", {"path": "tools/resize.py", "mode": "755"})],
    "tools/*.sh should all be runnable": [("fs.find", {"path": "tools", "name": "*.sh"}),
                                                  ("fs.chmod", {"path": "$0.path", "mode": "+x"})],
    "nobody but me should be able to get into my taxes folder":
        [("fs.chmod", {"path": "Documents/taxes", "mode": "go-rwx", "recursive": True})],
    # grep
    "grep -rn FIXME projects": [("fs.grep", {"pattern": "FIXME", "path": "projects"})],
    "grep -i error logs/app.log": [("fs.grep", {"pattern": "error", "path": "logs/app.log", "ignore_case": True})],
    "serach my notes for #idea": [("fs.grep", {"pattern": "#idea", "path": "notes", "fixed": True})],
    "how mnay WARN lines in logs/app.log": [("fs.grep", {"pattern": "WARN", "path": "logs/app.log",
                                                         "count_only": True})],
    "which .py files do `import requests`":
        [("fs.grep", {"pattern": "import requests", "include": "*.py", "files_with_matches": True})],
    "grep -rl TODO .": [("fs.grep", {"pattern": "TODO", "path": ".", "files_with_matches": True})],
    'show "disk full" in logs/app.log with one line of context either side':
        [("fs.grep", {"pattern": "disk full", "path": "logs/app.log", "context_lines": 1})],
    "is a password hardcoded anywhere in projects?":
        [("fs.grep", {"pattern": "password", "path": "projects", "ignore_case": True})],
    'grep -i bob "My Documents"': [("fs.grep", {"pattern": "bob", "path": "My Documents", "ignore_case": True})],
    "lines starting with # in Music/playlist.m3u": [("fs.grep", {"pattern": "^#", "path": "Music/playlist.m3u"})],
    "which files in ~/.ssh mention HostName":
        [("fs.grep", {"pattern": "HostName", "path": "~/.ssh", "files_with_matches": True})],
    "look for 'timed out' in the nginx logs": [("fs.grep", {"pattern": "timed out", "path": "logs/nginx"})],
    "grep listen {root}/projects/webapp/server.js":
        lambda i: [("fs.grep", {"pattern": "listen", "path": i.split()[-1]})],
    # du/space
    "du -sh Downloads": [("fs.du", {"path": "Downloads"})],
    "what's eating all the space in my home folder?": [("fs.du", {"path": "~"})],
    "the 5 biggest files under ~": [("fs.find", {"path": "~", "type": "file", "sort": "size", "limit": 5})],
    "photos folder size?": [("fs.du", {"path": "photos"})],
    "how large is Downloads/ubuntu.iso": [("fs.stat", {"path": "Downloads/ubuntu.iso"})],
    "which of my projects takes up the most room": [("fs.du", {"path": "~/projects", "depth": 1})],
    "is the drive my home is on nearly full": [("fs.df", {"path": "~"})],
    "how many files are in Documents, counting subfolders": [("fs.find", {"path": "Documents", "type": "file"})],
    "du -h --max-depth=1 ~/projects": [("fs.du", {"path": "~/projects", "depth": 1})],
    "whats taking up space in ~/.cache": [("fs.du", {"path": "~/.cache"})],
    "is Music bigger than photos?": [("fs.du", {"path": "Music"}), ("fs.du", {"path": "photos"})],
    # processes
    "force kill {pid}, it won't die": _sig("KILL"),
    "process {pid} is hung, please end it": _sig(),
    "who's on port {port}?": _port,
    "lsof -nP -i :{port}": _port,
    "something's squatting on port {port}, get rid of it": lambda i: [*_port(i), ("proc.signal", {"pid": "$0.pid"})],
    "is {pid} still running": _info,
    "suspend {pid} for now, don't kill it": _sig("STOP"),
    "ps -ef | grep sleep": [("proc.list", {"name": "sleep"})],
    "full command line of pid {pid}": _info,
    "how much ram is pid {pid} eating": _info,
    "what started process {pid}? who's its parent": _info,
    "top three cpu hogs right now": [("proc.list", {"sort": "cpu", "limit": 3})],
    "send a hangup signal to {pid}": _sig("HUP"),
    "how many processes are running at the moment": [("proc.list", {}), ("table.count", {"rows": "$0"})],
    "pstree for {pid}": lambda i: [("proc.tree", {"pid": _pid(i)})],
    # system
    "am i running low on memory": [("sys.memory", {})],
    "which kernel release is this box running": [("sys.info", {})],
    "how long since the last reboot": [("sys.load", {})],
    "what user am i running as right now": [("sys.info", {})],
    "whats this machine called": [("sys.info", {})],
    "nproc": [("sys.cpu", {"sample_ms": 0})],
    "am i using any swap": [("sys.memory", {})],
    "what's the load average looking like": [("sys.load", {})],
    "what distro + version is installed here": [("sys.info", {})],
    "df -h but only the real disks": [("sys.disks", {})],
    "what python version do i have": [("sys.info", {})],
    "what's my default shell": [("sys.shells", {})],
    "which dns servers am i using": [("sys.dns", {})],
    "what's the ip of this machine on the network": [("sys.interfaces", {})],
    "show every user account on this box": [("sys.accounts", {})],
    "is the processor overheating": [("sys.sensors", {})],
    "what cpu model is in this thing": [("sys.cpu", {"sample_ms": 0})],
    "anyone else on this machine besides me?": [("sys.users", {})],
    "what groups exist on this system": [("sys.accounts", {"kind": "groups"})],
    # devices
    "lsblk, show me all disks and partitions": [("dev.block", {})],
    "is there a usb stick plugged in?": [("dev.block", {"removable_only": True})],
    "what kind of graphics card does this pc have": [("dev.pci", {})],
    "mount | grep ext4": [("dev.mounts", {"fstype": "ext4"})],
    "lsusb, what is connected over usb": [("dev.usb", {})],
    "list my drives and how big they are": [("dev.block", {})],
    # follow-up: the earlier request, then the follow-up
    "screenshots anywhere in my home?": [("fs.find", {"path": "~", "iname": "*screenshot*"})],
    "delete em": [("fs.delete", {"path": "$prev.path"})],
    "pdfs in Documents?": [("fs.find", {"path": "Documents", "name": "*.pdf"})],
    "copy those to the desktop": [("fs.copy", {"src": "$prev.path", "dest": "Desktop"})],
    "what is pid {pid} doing": _info,
    "ok kill it": [("proc.signal", {"pid": "$prev.pid"})],
    "open todo.txt": [("fs.read", {"path": "todo.txt"})],
    "add 'water the plants' to it": [("fs.append", {"path": "$prev.path", "content": "water the plants\n"})],
    "which files under src have a TODO": [("fs.grep", {"pattern": "TODO", "path": "src", "files_with_matches": True})],
    "how many lines is each of those": [("fs.wc", {"path": "$prev.path"})],
    "find the shell scripts in tools": [("fs.find", {"path": "tools", "name": "*.sh"})],
    "chmod +x all of those": [("fs.chmod", {"path": "$prev.path", "mode": "u+x"})],
    "ls photos": [("fs.list", {"path": "photos"})],
    "what about Music?": [("fs.list", {"path": "Music"})],
    "anything bound to port {port}?": _port,
    "kill that": [("proc.signal", {"pid": "$prev.pid"})],
    "freeze {pid} for a sec": _sig("STOP"),
    "ok let it continue": [("proc.signal", {"pid": "$prev.pid", "signal": "CONT"})],
    "files older than a year": [("fs.find", {"type": "file", "mtime_min_days": 365})],
    "yeah get rid of all of those": [("fs.delete", {"path": "$prev.path"})],
    # multi-step
    "make a backup folder and put a copy of .bashrc in it":
        [("fs.mkdir", {"path": "backup"}), ("fs.copy", {"src": ".bashrc", "dest": "backup"})],
    "line counts for each .log in logs/":
        [("fs.find", {"path": "logs", "name": "*.log"}), ("fs.wc", {"path": "$0.path"})],
    'create tools/hello.sh with "echo hi" in it and make it executable':
        [("fs.write", {"path": "tools/hello.sh", "content": "echo hi\n"}),
         ("fs.chmod", {"path": "tools/hello.sh", "mode": "u+x"})],
    "copy ubuntu.iso to the desktop and then delete the one in Downloads":
        [("fs.copy", {"src": "Downloads/ubuntu.iso", "dest": "Desktop"}),
         ("fs.delete", {"path": "Downloads/ubuntu.iso"})],
    "find jpgs in photos over 1mb and move them into a new folder photos/big":
        [("fs.mkdir", {"path": "photos/big"}),
         ("fs.find", {"path": "photos", "iname": "*.jpg", "size_min_bytes": MB}),
         ("fs.move", {"src": "$1.path", "dest": "photos/big"})],
    "make inbox/archive and move the emails older than 90 days into it":
        [("fs.mkdir", {"path": "inbox/archive"}),
         ("fs.find", {"path": "inbox", "name": "*.eml", "mtime_min_days": 90, "max_depth": 1}),
         ("fs.move", {"src": "$1.path", "dest": "inbox/archive"})],
    "what's the biggest file in Downloads? delete it":
        [("fs.find", {"path": "Downloads", "type": "file", "sort": "size", "limit": 1}),
         ("fs.delete", {"path": "$0.path"})],
    "how many lines of python are in src altogether":
        [("fs.find", {"path": "src", "name": "*.py"}), ("fs.wc", {"path": "$0.path"}),
         ("table.sum", {"rows": "$1", "column": "lines"})],
    "zip up the logs folder as logs.zip and then remove the logs folder":
        [("archive.create", {"path": "logs.zip", "sources": ["logs"]}),
         ("fs.delete", {"path": "logs", "recursive": True})],
    "save every TODO line in src to todo-report.txt":
        [("fs.grep", {"pattern": "TODO", "path": "src"}),
         ("table.save", {"rows": "$0", "path": "todo-report.txt", "format": "csv"})],
    "tar up Documents into docs-backup.tar.gz and show me what's in it":
        [("archive.create", {"path": "docs-backup.tar.gz", "sources": ["Documents"]}),
         ("archive.list", {"path": "docs-backup.tar.gz"})],
    # text
    "sort scores.txt numerically": [("text.sort", {"path": "scores.txt", "numeric": True})],
    "sort guests.txt z to a": [("text.sort", {"path": "guests.txt", "reverse": True})],
    "unique names in guests.txt, sorted": [("text.sort", {"path": "guests.txt", "unique": True})],
    "remove the duplicate lines in guests.txt": [("text.dedupe", {"path": "guests.txt"})],
    "add up the cost column in expenses.csv":
        [("text.csv", {"path": "expenses.csv"}), ("table.sum", {"rows": "$0", "column": "cost"})],
    "what's my most expensive expense in expenses.csv":
        [("text.csv", {"path": "expenses.csv"}), ("table.sort", {"rows": "$0", "by": "cost", "order": "desc"})],
    "show just the item and cost columns of expenses.csv":
        [("text.csv", {"path": "expenses.csv"}), ("table.select", {"rows": "$0", "columns": ["item", "cost"]})],
    "diff config/settings.old.ini config/settings.ini":
        [("text.diff", {"path": "config/settings.old.ini", "other": "config/settings.ini"})],
    "what's in wishlist.txt that isn't in bought.txt":
        [("text.compare", {"path": "wishlist.txt", "other": "bought.txt", "show": "first"})],
    "wc -w essay.txt": [("fs.wc", {"path": "essay.txt"})],
    "expenses over 10 bucks in expenses.csv":
        [("text.csv", {"path": "expenses.csv"}),
         ("table.filter", {"rows": "$0", "column": "cost", "op": "gt", "value": "10"})],
    "how many food expenses are in expenses.csv":
        [("text.csv", {"path": "expenses.csv"}),
         ("table.filter", {"rows": "$0", "column": "category", "op": "eq", "value": "food"}),
         ("table.count", {"rows": "$1"})],
    "which categories show up in expenses.csv":
        [("text.csv", {"path": "expenses.csv"}), ("table.unique", {"rows": "$0", "column": "category"})],
    'count how often "sea" appears in essay.txt': [("text.count", {"path": "essay.txt", "pattern": "sea"})],
    "number the lines of Documents/recipes/pancakes.md": [("text.number", {"path": "Documents/recipes/pancakes.md"})],
    "line count of essay.txt?": [("fs.wc", {"path": "essay.txt"})],
    "convert expenses.csv to json": [("table.save", {"source": "expenses.csv", "path": "expenses.json"})],
    # git
    "git status in projects/scraper": [("git.status", {"path": "projects/scraper"})],
    "last 2 commits in the scraper repo": [("git.log", {"path": "projects/scraper", "limit": 2})],
    "what branches does projects/scraper have": [("git.branches", {"path": "projects/scraper"})],
}


def by_intent(intent: str) -> Case:
    (found,) = [c for c in DAILY if c.intent == intent]
    return found


def run(intent: str, steps: Plan, work: Path, **extra: Plan) -> bool:
    """Run the case ``intent`` with ``steps`` as its plan (and the right plan of its earlier request)."""
    c = by_intent(intent)
    table: dict[str, Any] = {c.intent: steps, **extra}
    if c.before and c.before not in table:
        table[c.before] = RIGHT[c.before]
    good, _ex, _dt = run_case(_Formatting(table), c, work, REG)
    return good


def _calls(plan: Plan) -> set[str]:
    steps = plan("a b 4242") if callable(plan) else plan
    return {call for call, _ in steps}


IN_SCOPE = [c for c in DAILY if c.category != "out-of-scope" and not c.category.startswith(MISSING)]


# ---- the set ------------------------------------------------------------------------------------------

def _norm(s: str) -> str:
    """Lower case, punctuation gone, whitespace collapsed: 'ls -la, docs!' and 'LS la docs' are one intent."""
    s = s.lower().translate(str.maketrans(string.punctuation, " " * len(string.punctuation)))
    return " ".join(s.split())


def test_size_categories_and_unique_intents() -> None:
    assert len(DAILY) >= 160
    cats = Counter(c.category for c in DAILY)
    assert {c for c in cats if not c.startswith(MISSING)} == CATEGORIES
    assert 1 <= sum(n for c, n in cats.items() if c.startswith(MISSING)) <= 10
    assert cats["out-of-scope"] >= 15
    intents = [_norm(c.intent) for c in DAILY]
    assert [i for i, n in Counter(intents).items() if n > 1] == []
    assert not {_norm(c.before) for c in DAILY if c.before} & set(intents)
    for c in DAILY:
        c.intent.format(pid=1, port=2, root="/r")
        c.before.format(pid=1, port=2, root="/r")
        assert c.needs in ("", "sleeper", "listener")
        assert c.needs or ("{pid}" not in c.intent + c.before and "{port}" not in c.intent + c.before)
        assert c.setup is not None and c.home and c.labels == ()


def test_blind_to_the_everyday_set_the_dev_set_and_the_example_bank() -> None:
    """No intent (or earlier request) of this set is, once normalised, one the model was built or tuned on."""
    from bench.bench_model import DEV
    from models.bank import build_bank

    seen = ({_norm(c.intent) for c in EVERYDAY} | {_norm(c.before) for c in EVERYDAY if c.before}
            | {_norm(c.intent) for c in DEV} | {_norm(c.before) for c in DEV if c.before}
            | {_norm(s.intent) for s in build_bank(REG).shots}
            | {_norm(e.intent) for name in REG.names() for e in REG.get(name).examples})
    ours = [c.intent for c in DAILY] + [c.before for c in DAILY if c.before]
    clashes = [i for i in ours if _norm(i) in seen]
    assert len(clashes) == 0, f"{len(clashes)} intents of the daily set are not new: {clashes}"


def test_every_in_scope_case_has_a_right_plan() -> None:
    befores = {c.before for c in DAILY if c.before}
    assert set(RIGHT) == {c.intent for c in IN_SCOPE} | befores
    assert not [c.intent for c in DAILY if c not in IN_SCOPE and c.intent in RIGHT]


# ---- the runner ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("intent", [c.intent for c in IN_SCOPE])
def test_the_right_plan_passes_and_stays_in_the_fixture(intent: str, tmp_path: Path) -> None:
    plan = RIGHT[intent]
    c = by_intent(intent)
    absent = (_calls(plan) | (_calls(RIGHT[c.before]) if c.before else set())) - set(REG.names())
    if absent:
        pytest.skip(f"not in this registry: {sorted(absent)}")
    if c.setup.__name__ == "git_tree" and shutil.which("git") is None:
        pytest.skip("no git binary")
    home = os.environ.get("HOME")
    beside = tmp_path / "beside.txt"   # next to the fixture root: no plan may reach it
    beside.write_text("keep me\n")
    work = tmp_path / "work"
    work.mkdir()
    assert run(intent, plan, work)
    assert beside.read_text() == "keep me\n" and sorted(tmp_path.iterdir()) == sorted([beside, work])
    assert list(work.iterdir()) == []           # the fixture is gone, nothing else was made
    assert os.environ.get("HOME") == home       # $HOME was the fixture only while the plan ran


def test_a_follow_up_needs_its_earlier_result(tmp_path: Path) -> None:
    assert run("delete em", RIGHT["delete em"], tmp_path)
    table = {"delete em": RIGHT["delete em"]}   # no plan for the earlier request: no previous result
    assert not run_case(_Formatting(table), by_intent("delete em"), tmp_path, REG)[0]


def test_wrong_plans_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_gone = cases_common.gone
    monkeypatch.setattr(cases_common, "gone", lambda proc, timeout: real_gone(proc, 0.05))
    wrong: list[tuple[str, Plan]] = [
        ("ls ~/Desktop", [("fs.list", {"path": "~"})]),                                    # wrong folder
        ("ls ~/Desktop", [("fs.list", {"path": "Desktop", "hidden": True})]),              # ls, not ls -a
        ("got any pdf files sitting in downloads", [("fs.find", {"path": "~", "iname": "*.pdf"})]),  # the whole home
        ('cat "Desktop/meeting notes.txt"', [("fs.read", {"path": "Desktop/.DS_Store"})]),  # wrong file
        ("last line of logs/nginx/error.log pls", [("fs.read", {"path": "logs/nginx/error.log"})]),  # all of it
        ("get rid of node_modules in the webapp project",                                  # not recursive
         [("fs.delete", {"path": "projects/webapp/node_modules"})]),
        ("take away write access for others on everything in shared, recursively",         # not recursive
         [("fs.chmod", {"path": "shared", "mode": "o-w"})]),
        ("tools/sync.sh won't run, permission denied - fix it",                           # the whole folder
         [("fs.chmod", {"path": "tools", "mode": "u+x", "recursive": True})]),
        ("delete all teh .bak files", [("fs.find", {"path": "Documents", "name": "*.bak"}),  # one folder only
                                       ("fs.delete", {"path": "$0.path"})]),
        ("remove the .log files in logs/ that are older than 2 weeks",                     # no age test
         [("fs.find", {"path": "logs", "name": "*.log"}), ("fs.delete", {"path": "$0.path"})]),
        ("mv Desktop/*.png Pictures/", [("fs.find", {"path": "Desktop", "name": "*.png"}),  # copied, not moved
                                        ("fs.copy", {"src": "$0.path", "dest": "Pictures"})]),
        ("grep -rl TODO .", [("fs.grep", {"pattern": "TODO", "path": "."})]),             # lines, not names
        ("which .py files do `import requests`", [("fs.grep", {"pattern": "import requests"})]),  # any file
        ("sort scores.txt numerically", [("text.sort", {"path": "scores.txt"})]),         # as text
        ("du -sh Downloads", [("fs.du", {"path": "~"})]),                                 # wrong folder
        ("the 5 biggest files under ~", [("fs.find", {"path": "Downloads", "type": "file", "sort": "size",
                                                      "limit": 5})]),
        ("how many jpgs have i got", [("fs.find", {"path": "photos", "iname": "*.jpg"})]),  # one folder only
        ("how many files are in Documents, counting subfolders", [("fs.find", {"path": "Documents"})]),  # + dirs
        ("expenses over 10 bucks in expenses.csv", [("text.csv", {"path": "expenses.csv"})]),  # not filtered
        ("show just the item and cost columns of expenses.csv", [("text.csv", {"path": "expenses.csv"})]),
        ("add 'pay rent' at the end of todo.txt", [("fs.write", {"path": "todo.txt", "content": "pay rent\n"})]),
        ("put DRAFT as the very first line of essay.txt", [("text.insert", {"path": "essay.txt", "text": "DRAFT",
                                                                            "at": "bottom"})]),
        ("bump the modified time of todo.txt to right now", [("fs.find", {"type": "file"}),   # every file
                                                             ("fs.touch", {"path": "$0.path"})]),
        ("take away write access for others on everything in shared, recursively",
         [("fs.chmod", {"path": "shared", "mode": "700", "recursive": True})]),          # more than asked
        ("what are the permissions on ~/.ssh/id_ed25519",                                # changed them
         [("fs.chmod", {"path": "~/.ssh/id_ed25519", "mode": "600"})]),
        ("force kill {pid}, it won't die", _info),  # looked, did not kill
        ("ps -ef | grep sleep", [("proc.list", {})]),                                     # every process
        ("suspend {pid} for now, don't kill it", _sig("KILL")),                           # killed, not stopped
        ("mount | grep ext4", [("dev.mounts", {})]),                                      # not only ext4
        ("how many lines of python are in src altogether", [("fs.wc", {"path": "src"})]),  # every file
        ("write me a short poem about mondays", [("answer", {"text": "Mondays...", "supported": True})]),
    ]
    passed = [intent for intent, plan in wrong if run(intent, plan, tmp_path)]
    assert passed == []


def test_a_folder_count_by_fs_wc_is_a_total(tmp_path: Path) -> None:
    """fs.wc counts a folder itself (its lines over the files it counted): as right as a sum over rows."""
    assert run("how many lines of python are in src altogether", [("fs.wc", {"path": "src", "include": "*.py"})],
               tmp_path)


def test_a_plan_reaching_outside_the_fixture_is_denied(tmp_path: Path) -> None:
    assert_outside_denied(run, tmp_path, delete="rm {root}/Desktop/.DS_Store", copy="cp essay.txt essay-backup.txt",
                          copy_src="essay.txt", kill="force kill {pid}, it won't die")
    work = tmp_path / "work"
    assert not run("ps -ef | grep sleep", [("proc.run", {"argv": ["ps", "aux"]})], work)     # never runs programs


def test_doing_nothing_passes_only_the_refusals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A refusal passes every out-of-scope case and nothing else; a listing passes none of those."""
    real_gone = cases_common.gone
    monkeypatch.setattr(cases_common, "gone", lambda proc, timeout: real_gone(proc, 0.05))
    refusing = FakePlanner({}, default=NOTHING)
    passed = [c.intent for c in DAILY if run_case(refusing, c, tmp_path, REG)[0]]
    assert sorted(passed) == sorted(c.intent for c in DAILY if c.category == "out-of-scope")
    listing = FakePlanner({}, default=[("fs.list", {"path": "."})])
    oos = [c for c in DAILY if c.category == "out-of-scope"]
    assert [c.intent for c in oos if run_case(listing, c, tmp_path, REG)[0]] == []


def test_bench_model_scores_the_daily_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``bench_model.py accuracy --set daily`` scores this set by the same path as ``everyday``."""
    from bench.bench_model import accuracy, main

    with pytest.raises(SystemExit):
        main(["accuracy", "--set", "nonsense"])
    assert "daily" in capsys.readouterr().err
    res = accuracy(_Formatting(dict(RIGHT)), False, "chmod", "daily")
    n = len(select(DAILY, "chmod"))
    assert (res["cases"], res["passed"], res["categories"]["chmod"]) == (n, n, "8/8 (100%)")
    res = score(FakePlanner({}, default=NOTHING), [by_intent("set tools/resize.py to rwxr-xr-x"),
                                                   by_intent("tell me a joke"),
                                                   by_intent("convert photos/cat.png to a jpg")], registry=REG,
                out=lambda line: None)
    assert (res["cases"], res["passed"], res["missing_capabilities"]["refused"]) == (2, 1, 1)
