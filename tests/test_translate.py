"""models.training.translate: bash → plan translation, grounding, the corpus, and agreement by execution.

The table quotes the NL2Bash id of each command taken from the data
(/work/shared/data/nl2bash, MIT).  The differential test runs the gold bash
and the translated plan on two identical fixtures (bench/eval_nl2bash.py's
``layout_for``/``build``/``snapshot``/``diff``) and compares effects and, for
listings, reads, grep and wc, what was printed; the plan runs through the
dispatcher with the evaluation's ``SandboxGate`` confined to the case's copy.
"""

from __future__ import annotations

import csv
import os
import random
import re
import shlex
import shutil
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("bashlex")

from bench.eval_common import SandboxGate, execute, result_data
from bench.eval_nl2bash import (
    LONG_RE,
    _rel,
    build,
    check_information,
    diff,
    gold_items,
    layout_for,
    run_gold,
    snapshot,
)
from models.plan import Plan, PlanStep
from models.plantext import parse
from models.training.translate import (
    TRAIN_TSV,
    OutOfScope,
    Stats,
    Untranslatable,
    corpus_pairs,
    grounded,
    plan_text,
    surface,
    tldr_examples,
    translate,
)
from syscalls.dispatcher import Dispatcher
from syscalls.registry import default_registry

REG = default_registry()

# (source, bash, the plan text)
TABLE: list[tuple[str, str, str]] = [
    ("nl2bash:10829", "find . -size 300M", 'fs.find size_min_bytes=313524225 size_max_bytes="300M"'),
    ("nl2bash:3971", "find /var/log/ -mmin +60", 'fs.find path="/var/log" mtime_min_minutes=60'),
    ("nl2bash:2555", "find . -mtime -7 -type d", 'fs.find type="dir" mtime_max_days=7'),
    ("nl2bash:8670", "find /mnt/raid/upload -mtime +5 -print", 'fs.find path="/mnt/raid/upload" mtime_min_days=6'),
    ("nl2bash:10505", "find . -type f -size +10k", 'fs.find type="file" size_min_bytes=10241'),
    ("nl2bash:11806", "find . -name '*.txt' -o -name '*.html'", 'fs.find any_name=["*.txt", "*.html"]'),
    ("nl2bash:1748", "find . -path ./misc -prune -o -name '*.txt' -print",
     'fs.find name="*.txt" exclude_dirs=["./misc"]'),
    ("nl2bash:8486", "find . -name '*foo*' ! -name '*.bar' -type d -print",
     'fs.find name="*foo*" not_name="*.bar" type="dir"'),
    ("nl2bash:3676", "find /data -type f -perm 400 -print", 'fs.find path="/data" type="file" perm="400"'),
    ("nl2bash:7462", "find . -name vmware-*.log -delete", 'fs.find name="vmware-*.log"\nfs.delete path="$0.path"'),
    ("nl2bash:7417", "find /home -name Trash -exec rm {} \\;",
     'fs.find path="/home" name="Trash"\nfs.delete path="$0.path"'),
    ("nl2bash:7262", 'find . -name "._*" -print0 | xargs -0 rm -rf',
     'fs.find name="._*"\nfs.delete path="$0.path" recursive=true'),
    ("nl2bash:9086", "find . -type f -print | xargs chmod 444",
     'fs.find type="file"\nfs.chmod path="$0.path" mode="444"'),
    ("nl2bash:952", 'find . -name "*.rb" -type f -exec wc -l \\{\\} \\;',
     'fs.find name="*.rb" type="file"\nfs.wc path="$0.path"'),
    ("nl2bash:4096", "find . -type f -print | xargs    grep -il 'bin/ksh'",
     'fs.find type="file"\nfs.grep pattern="bin/ksh" path="$0.path" ignore_case=true files_with_matches=true'),
    ("nl2bash:1333", "find directory -mindepth 1 -type d -empty -delete",
     'fs.find path="directory" type="dir" min_depth=1 empty=true sort="name" reverse=true\n'
     'fs.delete path="$0.path"'),
    ("nl2bash:11251", "find / -group root | head", 'fs.find path="/" group="root" limit=10'),
    ("nl2bash:962", "find . -type f -perm 755 | wc -l", 'fs.find type="file" perm="755"'),
    ("nl2bash:2686", "find . -perm /a=x", 'fs.find perm="111" perm_match="any"'),
    ("regex, emacs syntax", "find . -regex '.*\\.\\(c\\|h\\)'", 'fs.find regex=".*\\\\.(c|h)"'),
    ("find -delete never acts on '.', and deletes contents first", "find . -mtime +30 -delete",
     'fs.find mtime_min_days=31 min_depth=1 sort="name" reverse=true\nfs.delete path="$0.path"'),
    ("size units round up", "find . -type f -mmin -60 -size -1M",
     'fs.find type="file" size_max_bytes=0 mtime_max_minutes=60'),
    ("-o of names, -exec ... +", 'find . \\( -name "*.c" -o -name "*.h" \\) -exec grep -l main {} +',
     'fs.find any_name=["*.c", "*.h"]\nfs.grep pattern="main" path="$0.path" files_with_matches=true'),
    ("nl2bash:11419", "find . -type f -mtime -1 -exec ls -l {} \\;",
     'fs.find type="file" mtime_max_days=1 details=true'),
    ("ls of each directory found", "find . -type d -exec ls -l {} \\;",
     'fs.find type="dir"\nfs.list path="$0.path" long=true'),
    ("-printf of sizes", "find . -type f -printf '%s %p\\n'", 'fs.find type="file" details=true'),
    ("nl2bash:2628", "find . -type d | grep DIRNAME", 'fs.find path_glob="*DIRNAME*" type="dir"'),
    ("nl2bash:2687", "find . -perm -111 -type f | sort -r",
     'fs.find type="file" perm="111" perm_match="all" sort="name" reverse=true'),
    ("several start paths", 'find a b -name "*.o" -delete',
     'fs.find path="a" name="*.o"\nfs.delete path="$0.path"\nfs.find path="b" name="*.o"\nfs.delete path="$2.path"'),
    ("ls flags", "ls -ltr", 'fs.list long=true sort="mtime" reverse=true'),
    ("nl2bash:997", "ls -1 | wc -l", "fs.list"),
    ("nl2bash:6813", "ls -al file.ext", 'fs.list path="file.ext" hidden=true long=true'),
    ("ls | head", "ls -S | head -n 3", 'fs.list sort="size" limit=3'),
    ("nl2bash:1027", "cat myfile.txt | wc -l", 'fs.wc path="myfile.txt"'),
    ("nl2bash:4306", "cat /var/run/dmesg.boot | grep Features",
     'fs.grep pattern="Features" path="/var/run/dmesg.boot"'),
    ("nl2bash:5807", "tail -n +1000001 huge-file.log", 'fs.read path="huge-file.log" line_start=1000001'),
    ("nl2bash:6534", "tail /var/log/syslog", 'fs.read path="/var/log/syslog" tail_lines=10'),
    ("head -n", "head -n 20 notes.txt", 'fs.read path="notes.txt" head_lines=20'),
    ("nl2bash:7206", 'grep -r --include "*.txt" texthere .', 'fs.grep pattern="texthere" include="*.txt"'),
    ("nl2bash:4449", 'grep -Ril "text-to-find-here" /',
     'fs.grep pattern="text-to-find-here" path="/" ignore_case=true files_with_matches=true'),
    ("grep -c", "grep -c error app.log", 'fs.grep pattern="error" path="app.log" count_only=true'),
    ("basic regex alternation, glob operand", "grep 'foo\\|bar' *.txt",
     'fs.grep pattern="foo|bar" include="*.txt" recursive=false'),
    ("nl2bash:1990", "du -hsx * | sort -rh | head -10", "fs.du top=10"),
    ("du --max-depth", "du -h --max-depth=2 /var", 'fs.du path="/var" depth=2'),
    ("nl2bash:6824", "wc *.py", 'fs.find path="." name="*.py" min_depth=1 max_depth=1\nfs.wc path="$0.path"'),
    ("nl2bash:5408", "mkdir /tmp/A /tmp/B", 'fs.mkdir path="/tmp/A"\nfs.mkdir path="/tmp/B"'),
    ("nl2bash:5436", "mkdir -p ./some/path", 'fs.mkdir path="./some/path" parents=true'),
    ("touch -c", "touch -c Makefile", 'fs.touch path="Makefile" no_create=true'),
    ("nl2bash:878", "cp -R t1/ t2", 'fs.copy src="t1" dest="t2" recursive=true'),
    ("nl2bash:854", "cp -n src dest", 'fs.copy src="src" dest="dest" no_clobber=true'),
    ("nl2bash:5563", "mv /usr/bin/openssl /root/", 'fs.move src="/usr/bin/openssl" dest="/root/"'),
    ("cp -t keeps 'a directory'", "cp -t backup a.txt b.txt",
     'fs.copy src="a.txt" dest="backup/"\nfs.copy src="b.txt" dest="backup/"'),
    ("nl2bash:7672", "rm junk1 junk2 junk3",
     'fs.delete path="junk1"\nfs.delete path="junk2"\nfs.delete path="junk3"'),
    ("nl2bash:7634", "rm -rf folderName", 'fs.delete path="folderName" recursive=true'),
    ("rm glob", "rm *.tmp", 'fs.find path="." name="*.tmp" min_depth=1 max_depth=1\nfs.delete path="$0.path"'),
    ("nl2bash:7286", "chmod 755 /folder -R", 'fs.chmod path="/folder" mode="755" recursive=true'),
    ("symbolic chmod", "chmod -R go-w shared", 'fs.chmod path="shared" mode="go-w" recursive=true'),
    ("nl2bash:1112", 'ln -s "../config/init"', 'fs.symlink path="init" target="../config/init"'),
    ("nl2bash:9943", "ln -s /usr/share/editor /usr/bin/my-editor",
     'fs.symlink path="/usr/bin/my-editor" target="/usr/share/editor"'),
    ("readlink -f", "readlink -f foo", 'fs.realpath path="foo"'),
    ("md5sum", "md5sum a.iso", 'fs.checksum path="a.iso" algorithm="md5"'),
    ("stat -L", "stat -L x", 'fs.stat path="x" follow=true'),
    ("nl2bash:6444", "pwd -P", 'fs.realpath path="."'),
    ("nl2bash:9229", "ps aux | grep postgres", 'proc.list cmdline="postgres"'),
    ("ps -u", "ps -u alice", 'proc.list user="alice"'),
    ("nl2bash:9034", "kill -9 18581 18582 18583",
     'proc.signal pid=18581 signal="KILL"\nproc.signal pid=18582 signal="KILL"\nproc.signal pid=18583 signal="KILL"'),
    ("pkill", "pkill -9 firefox", 'proc.list name="firefox"\nproc.signal pid="$0.pid" signal="KILL"'),
    ("killall", "killall -HUP nginx", 'proc.list name="nginx"\nproc.signal pid="$0.pid" signal="HUP"'),
    ("df", "df -h", "sys.disks"),
    ("free", "free -m", "sys.memory"),
    ("uname", "uname -a", "sys.info"),
    ("lsblk", "lsblk", "dev.block"),
    ("mount -t", "mount -t ext4", 'dev.mounts fstype="ext4"'),
    ("who", "who", "sys.users"),
    ("nproc", "nproc", "sys.cpu"),
    ("sudo is dropped", "sudo lspci", "dev.pci"),
]
# calls that joined the registry after the first table (kept while the registry has them)
LATER: list[tuple[str, str, str]] = [
    ("nl2bash:9821", "find . -type f -user root -exec chown tom {} \\;",
     'fs.find type="file" user="root"\nfs.chown path="$0.path" user="tom"'),
    ("chown user:group -R", "chown -R tom:staff /var/www",
     'fs.chown path="/var/www" user="tom" group="staff" recursive=true'),
    ("chgrp", "chgrp users a.txt", 'fs.chown path="a.txt" group="users"'),
    ("tree", "tree -L 2 -d src", 'fs.tree path="src" depth=2 dirs_only=true'),
    ("uptime", "uptime", "sys.load"),
    ("df of a path", "df -h /home", 'fs.df path="/home"'),
    ("tac", "tac log.txt", 'text.reverse path="log.txt"'),
]
TABLE += [t for t in LATER if t[2].split()[0] in REG]

UNTRANSLATABLE: list[tuple[str, str]] = [
    ("find . -name $a", "variable"),
    ("cat $(ls)", "command substitution"),
    ("echo hi", "cmd: echo"),
    ("tar czf a.tgz dir", "cmd: tar"),
    ("ls | sed s/a/b/", "pipeline: sed"),
    ("find . -printf '%m %p\\n'", "find: -printf"),
    ("find . -type d -exec ls -R {} \\;", "exec ls: options"),
    ("cd /tmp && ls", "list"),
    ("ls > out.txt", "redirect"),
    ("find . -exec sed -i s/a/b/ {} \\;", "exec sed"),
    ("ln foo bar", "ln: hard link"),
    ("chmod 4755 x", "chmod: special bits"),
    ("find /tmp -mtime +7 -delete", "find: the start path may match"),
    ("tail -f log", "tail: -f"),
    ("grep foo", "grep: stdin"),
    ("mkdir -p a/{b,c}", "brace expansion"),
    ("find -mtime +0 -mtime -1", "find: empty time range"),
    ("find . -name '*.c' -o -type d", "find: -o"),
    ("find . -type d -name proc -prune -o -name '*.js'", "find: -prune without an action"),
    ('find . -name "*.sql" -print0 -type f | xargs -0 grep "expression"', "find: test after an action"),
    ("ls -R", "ls: -R"),
    ("find . -empty -exec rm {} \\;", "find: rm of directories"),
    ("rm *", "rm: glob of directories"),
    ("find . -name '*.c' -print0 | xargs rm", "pipeline: -print0 and xargs -0 disagree"),
]


@pytest.mark.parametrize(("source", "bash", "want"), TABLE, ids=[f"{i}:{t[0]}" for i, t in enumerate(TABLE)])
def test_translation_table(source: str, bash: str, want: str) -> None:
    steps = translate(bash)
    text = plan_text(steps)
    assert text == want, source
    for step in parse(text, REG):  # the text is a valid plan
        assert step.call in REG


def test_table_is_large() -> None:
    assert len(TABLE) >= 40
    assert sum(s.startswith("nl2bash:") for s, _b, _w in TABLE) >= 25


@pytest.mark.parametrize(("bash", "reason"), UNTRANSLATABLE)
def test_untranslatable_reasons(bash: str, reason: str) -> None:
    with pytest.raises(Untranslatable) as info:
        translate(bash)
    assert info.value.reason == reason


def test_surface_uses_the_requests_words() -> None:
    steps = translate("find . -mtime -7 -size +10M")
    nl = "files changed in the last week that are bigger than 10 MB"
    out = surface(nl, steps)
    assert out[0][1]["mtime_max_days"] == "week"
    assert out[0][1]["size_min_bytes"] == "10 MB"  # one byte under GNU's 10485761: the one liberty
    assert grounded(nl, out)
    assert plan_text(out) == 'fs.find size_min_bytes="10 MB" mtime_max_days="week"'


def test_surface_keeps_gnu_values_the_request_does_not_state() -> None:
    steps = translate("find . -mtime +5")  # six whole days: "5 days" would be a different query
    out = surface("files not modified in the last 5 days", steps)
    assert out[0][1]["mtime_min_days"] == 6
    assert not grounded("files not modified in the last 5 days", out)


@pytest.mark.parametrize(("nl", "bash", "ok"), [
    ("Find all .txt files", "find . -name '*.txt'", True),
    ("Find all text files", "find . -name '*.txt'", True),
    ("Find all python files under src", "find src -name '*.py'", True),
    ("Find all files", "find . -name '*.txt'", False),
    ("Remove junk1 and junk2", "rm junk1 junk2", True),
    ("Remove the junk", "rm junk1 junk2", False),
    ("Show the first 20 lines of notes.txt", "head -n 20 notes.txt", True),
    ("Show the first twenty lines of notes.txt", "head -n 20 notes.txt", True),
    ("Show the first lines of notes.txt", "head -n 20 notes.txt", False),
    ("Make deploy.sh executable for its owner", "chmod u+x deploy.sh", True),
    ("Change the mode of deploy.sh", "chmod u+x deploy.sh", False),
    ("Find files at most 2 levels down", "find . -maxdepth 2", True),
    ("Find files in this directory only", "find . -maxdepth 1", True),
    ("Kill process 4242", "kill 4242", True),
    ("Kill firefox", "pkill firefox", True),
    ("Kill the browser", "pkill firefox", False),
])
def test_grounded(nl: str, bash: str, ok: bool) -> None:
    assert grounded(nl, surface(nl, translate(bash))) is ok


def test_corpus_refuses_dev_and_test(tmp_path: Path) -> None:
    for name in ("dev.tsv", "test.tsv"):
        p = tmp_path / name
        p.write_text("id\tnl\tbash\nnl2bash:1\tList files\tls\n")
        with pytest.raises(ValueError):
            next(corpus_pairs(p, None))


def test_corpus_pairs_and_stats(tmp_path: Path) -> None:
    p = tmp_path / "train.tsv"
    p.write_text("id\tnl\tbash\n"
                 "nl2bash:1\tRemove junk1\trm junk1\n"
                 "nl2bash:2\tRemove the files\trm junk1\n"
                 "nl2bash:3\tPrint hi\techo hi\n"
                 "nl2bash:4\tfind files named $a\tfind . -name $a\n")
    st = Stats()
    pairs = list(corpus_pairs(p, None, st))
    assert [(x.nl, x.plan, x.source) for x in pairs] == [("Remove junk1", 'fs.delete path="junk1"', "nl2bash:1")]
    assert (st.seen, st.translated, st.grounded) == (4, 2, 1)
    assert st.reasons == Counter({"cmd: echo": 1, "variable": 1})
    assert "top Untranslatable reasons" in st.report()


def test_out_of_scope_rows_become_refusals(tmp_path: Path) -> None:
    """A train row that logs into another machine or mounts a disk is a request the planner must refuse: it
    joins the corpus as the refusal, in its own words.  Listing the mounts stays a plan."""
    p = tmp_path / "train.tsv"
    p.write_text("id\tnl\tbash\n"
                 "nl2bash:1\tSSH into \"host\" as user \"me\"\tssh me@host\n"
                 "nl2bash:2\tMount \"/dev/sdb1\" on \"/mnt\"\tmount /dev/sdb1 /mnt\n"
                 "nl2bash:3\tShow the mounted filesystems\tmount\n"
                 "nl2bash:4\tBring eth0 up\tifconfig eth0 up\n")
    st = Stats()
    pairs = {x.source: x.plan for x in corpus_pairs(p, None, st)}
    assert pairs == {"nl2bash:1": "answer supported=false", "nl2bash:2": "answer supported=false",
                     "nl2bash:3": "dev.mounts", "nl2bash:4": "answer supported=false"}
    assert st.refused == 3 and "out of scope (kept as refusals): 3" in st.report()
    with pytest.raises(OutOfScope):
        translate("mount --rbind /dev /var/x/dev")


def test_tldr_placeholders_are_filled(tmp_path: Path) -> None:
    p = tmp_path / "pairs.tsv"
    p.write_text("id\tutility\tdescription\tcommand\n"
                 "tldr:common/cat\tcat\tPrint the contents of a file to `stdout`\tcat {{path/to/file}}\n"
                 "tldr:common/rm\trm\tRemove specific files\trm {{[-f|--force]}} {{path/to/file1 path/to/file2 ...}}\n"
                 "tldr:common/tar\ttar\tPack a [c]ompressed archive\ttar czf {{target.tar.gz}} {{path}}\n")
    got = list(tldr_examples(p, {"cat", "rm"}))
    assert got == [("tldr:common/cat", "Print the contents of notes.txt to stdout", "cat notes.txt"),
                   ("tldr:common/rm", "Remove notes.txt and todo.txt", "rm -f notes.txt todo.txt")]
    for _src, nl, bash in got:
        assert grounded(nl, surface(nl, translate(bash)))


# ------------------------------------------------------------------ differential by execution --

SEED = 20240611
READING = {"fs.find", "fs.list", "fs.read", "fs.grep", "fs.wc", "fs.du"}
PER_FAMILY = {"find": 10, "find-delete": 6, "find-exec": 6, "ls": 4, "cat": 3, "head": 3, "tail": 3, "grep": 5,
              "du": 3, "wc": 3, "mkdir": 4, "cp": 4, "mv": 4, "rm": 4, "chmod": 4, "ln": 3, "touch": 2,
              "rmdir": 2}


def _local(bash: str) -> list[str] | None:
    """The shell words when every path operand stays inside the working directory, else None."""
    try:
        lex = shlex.shlex(bash, posix=True, punctuation_chars="|")
        lex.whitespace_split = True
        words = list(lex)
    except ValueError:
        return None
    for w in words:
        if w.startswith(("/", "~")) or "$" in w or "`" in w or ".." in w:
            return None
    if words and words[0] == "sudo":
        return None
    return words


def _family(steps: list[tuple[str, dict[str, Any]]], words: list[str]) -> str:
    if words[0] != "find":
        return words[0]
    if all(call == "fs.find" for call, _a in steps):
        return "find"
    return "find-delete" if steps[1][0] == "fs.delete" else "find-exec"


def sample_rows() -> list[dict[str, Any]]:
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    with TRAIN_TSV.open(newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            words = _local(row["bash"])
            if not words:
                continue
            try:
                steps = translate(row["bash"])
            except Untranslatable:
                continue
            fam = _family(steps, words)
            if fam in PER_FAMILY and shutil.which(words[0]):
                by[fam].append({**row, "family": fam, "words": words, "steps": steps})
    rng = random.Random(SEED)
    out = []
    for fam in sorted(by):
        group = sorted(by[fam], key=lambda r: r["id"])
        rng.shuffle(group)
        out += group[:PER_FAMILY[fam]]
    return out


def _first_command(words: list[str]) -> list[str]:
    return words[: words.index("|")] if "|" in words else words


def _our_count(data: list[Any]) -> int:
    for d in data:
        for key in ("entries", "matches"):
            if isinstance(d, dict) and isinstance(d.get(key), list):
                return len(d[key])
    return -1


def compare(row: dict[str, Any], work: Path) -> tuple[str, str]:
    """('agree' | 'disagree' | 'gold-failed', detail) for one row."""
    words: list[str] = row["words"]
    first = _first_command(words)
    text = plan_text(surface(row["nl"], row["steps"]))
    steps = parse(text, REG)
    tmp = work / row["id"].replace(":", "_")
    a, b = tmp / "a", tmp / "b"
    a.mkdir(parents=True)
    b.mkdir()
    # The fixture's ages are whole days and GNU find allows a second of slack at a day's boundary
    # (-mtime -1 keeps an entry 86400.9 s old): five seconds keep every entry off the boundaries.
    now = time.time() - 5
    try:
        lay = layout_for(first)
        last = row["steps"][-1]
        if last[0] in ("fs.move", "fs.copy") and last[1]["src"] == "$0.path":
            lay.empty_dirs.add(last[1]["dest"].rstrip("/"))  # found files go into a directory the row names
        build(a, lay, now)
        build(b, lay, now)
        build(tmp / "c", lay, now)  # the state before gold ran, read without touching a's access times
    except (OSError, ValueError, IndexError) as exc:
        return "gold-failed", f"fixture: {exc}"
    touch = row["family"] == "touch"
    fresh_after = time.time() - 1
    before = snapshot(tmp / "c", fresh_after, mtimes=touch)
    # NL2Bash's find patterns are often unquoted (find -name *.c): they are patterns, not the shell's globs
    rc, out = run_gold(("set -f; " if words[0] == "find" else "") + row["bash"], a)
    ok_rc = rc == 0 or (rc == 1 and row["family"] in ("grep",) and not out)
    if not ok_rc:
        return "gold-failed", f"gold exit {rc}"
    gold_after = snapshot(a, fresh_after, mtimes=touch)
    if gold_after == before and not out.strip() and (len(steps) > 1 or steps[0].call not in READING):
        return "gold-failed", "gold changed nothing and printed nothing"  # like bench/eval_nl2bash.py
    disp = Dispatcher(REG, gate=SandboxGate(b), max_rows=100_000)
    ex = execute(Plan(intent=row["nl"], steps=[PlanStep(s.call, s.args) for s in steps]), disp, b)
    if ex.error or not all(r.ok for r in ex.results):
        bad = next((r for r in ex.results if not r.ok), None)
        return "disagree", f"plan failed: {ex.error or (bad.error if bad else '')}"
    ours_after = snapshot(b, fresh_after, mtimes=touch)
    last = row["steps"][-1]
    if last[0] in ("fs.move", "fs.copy") and last[1]["src"] == "$0.path":
        # several found files with one name land on one name in the directory: which one wins is order
        into = last[1]["dest"].rstrip("/") + "/"
        for snap in (gold_after, ours_after):
            for k in snap:
                if k.startswith(into):
                    snap[k] = snap[k][:1]
    effects = diff(gold_after, ours_after)
    if effects:
        return "disagree", "effects: " + "; ".join(effects[:5])
    data = result_data(ex.results)
    last_call, last_args = steps[-1].call, steps[-1].args
    tail = words[len(first):]
    if tail[:3] == ["|", "wc", "-l"] and last_call in ("fs.find", "fs.list"):
        ours = _our_count(data)
        return ("agree", "") if str(ours) == out.strip() else ("disagree", f"count {ours} vs {out.strip()}")
    if last_call == "fs.wc" and len(steps) == 1:
        nums = {int(t) for t in re.findall(r"\d+", out)}
        ours_n = {v for d in data for k, v in d.items() if k in ("lines", "words", "bytes")}
        return ("agree", "") if nums <= ours_n | {0} else ("disagree", f"wc {sorted(nums - ours_n)}")
    if "limit" in last_args:
        ours = _our_count(data)
        n = len([ln for ln in out.splitlines() if ln.strip()])
        return ("agree", "") if ours == n else ("disagree", f"limited count {ours} vs {n}")
    if row["family"] == "find":
        names = re.split(r"[\n\0]", out)
        if "-ls" in words:
            names = [re.sub(r"\\(.)", r"\1", ln.split(None, 10)[-1].split(" -> ")[0]) for ln in names if ln]
        elif "ls" in words:  # -exec ls -l {} / xargs ls -l: long listings of the found files
            names = [(m.group(1) if (m := LONG_RE.match(ln)) else ln).split(" -> ")[0] for ln in names if ln]
        rows = [r for d in data for r in d.get("entries", [])]
        ours_paths = {_rel(str(r["path"]), b) for r in rows} - {"."}
        if "echo" in words or ("-printf" in words and not re.search(r"[\n\0]", out)):
            # names joined by spaces (xargs echo, -printf '%p '): compare the words printed
            printed = [_rel(str(r["path"]), b) for r in rows]
            ours_words = {w for p in printed for w in (p if p == "." else "./" + p).split()} | {"."}
            gold_words = set(out.split()) | {"."}
            return ("agree", "") if gold_words == ours_words else \
                ("disagree", f"words {sorted(gold_words ^ ours_words)[:4]}")
        if "-printf" in words:  # formatted: the number of entries printed
            n = len(re.findall(r"[\n\0]", out))
            return ("agree", "") if n == len(rows) else ("disagree", f"printf records {n} vs {len(rows)}")
        gold_paths = {_rel(os.path.normpath(p), a) for p in names if p} - {".", ""}
        if gold_paths != ours_paths:
            return "disagree", f"paths only gold {sorted(gold_paths - ours_paths)[:4]} " \
                               f"only ours {sorted(ours_paths - gold_paths)[:4]}"
        return "agree", ""
    if len(steps) > 1:
        if last_call == "fs.grep" and last_args.get("files_with_matches"):
            gold_paths = {_rel(ln.strip(), a) for ln in out.splitlines() if ln.strip()}
            ours_paths = {_rel(str(m["path"]), b) for d in data for r in d.get("rows", [d])
                          for m in r.get("matches", [])}
            return ("agree", "") if gold_paths == ours_paths else \
                ("disagree", f"paths {sorted(gold_paths ^ ours_paths)[:5]}")
        if last_call == "fs.wc":
            parsed = [re.match(r"^\s*((?:\d+\s+)*\d+)(?:\s(.*))?$", ln) for ln in out.splitlines() if ln.strip()]
            gold_wc = {(tuple(int(t) for t in m.group(1).split()), _rel(m.group(2), a))
                       for m in parsed if m and m.group(2) not in (None, "total")}
            ours_wc = {((r["lines"],) if "-l" in words else (r["lines"], r["words"], r["bytes"]), _rel(r["path"], b))
                       for d in data for r in d.get("rows", [d]) if "lines" in r}
            return ("agree", "") if gold_wc == ours_wc else ("disagree", f"wc {sorted(gold_wc ^ ours_wc)[:4]}")
        if last_call == "fs.list":
            gold_names = set()
            for ln in out.splitlines():
                if ln.strip() and not ln.startswith("total ") and not ln.endswith(":"):  # ls a b: "a:" heads
                    name = (m.group(1) if (m := LONG_RE.match(ln)) else ln).split(" -> ")[0]
                    gold_names.add(os.path.basename(name.rstrip("/")))
            listed = [r.data for r in ex.results if r.request.call == "fs.list" and r.data]
            ours_names = {str(e["name"]) for d in listed for e in d.get("entries", [])}
            gold_names -= {".", ".."}
            return ("agree", "") if gold_names == ours_names else \
                ("disagree", f"names {sorted(gold_names ^ ours_names)[:5]}")
        return "agree", ""  # a changing action: the effects are the comparison
    if row["family"] in ("du",):
        return "agree", ""  # du prints block counts; fs.du measures bytes: effects and success only
    if first[0] in ("mkdir", "cp", "mv", "rm", "rmdir", "chmod", "ln", "touch"):
        return "agree", ""
    gold = gold_items(first, out, a)
    ok, _vacuous, missing, extra = check_information(first, gold, data, b, row["nl"])
    return ("agree", "") if ok else ("disagree", f"missing {missing[:4]} extra {extra[:4]}")


@pytest.mark.slow
@pytest.mark.skipif(not TRAIN_TSV.exists() or shutil.which("find") is None, reason="NL2Bash train split not here")
def test_translations_agree_with_bash_by_execution(tmp_path: Path) -> None:
    rows = sample_rows()
    fams = Counter(r["family"] for r in rows)
    for fam in ("find", "find-delete", "ls", "cat", "grep", "mkdir", "cp", "mv", "rm", "chmod", "ln"):
        assert fams[fam], f"the sample has no {fam} row"
    results: dict[str, list[tuple[dict[str, Any], str]]] = defaultdict(list)
    old = os.umask(0o022)
    try:
        for row in rows:
            verdict, detail = compare(row, tmp_path)
            results[verdict].append((row, detail))
    finally:
        os.umask(old)
    kept = len(results["agree"]) + len(results["disagree"])
    report = [f"rows {len(rows)}: agree {len(results['agree'])}, disagree {len(results['disagree'])}, "
              f"gold failed (excluded) {len(results['gold-failed'])}",
              "per family: " + ", ".join(f"{f} {n}" for f, n in sorted(fams.items()))]
    report += [f"  DISAGREE {r['id']} [{r['family']}] {r['bash']!r}: {d}" for r, d in results["disagree"]]
    report += [f"  gold failed {r['id']} {r['bash']!r}: {d}" for r, d in results["gold-failed"]]
    print("\n".join(report))
    assert kept >= 40, "\n".join(report)
    assert not results["disagree"], "\n".join(report)
