"""Golden tests: fs.find / fs.du / fs.wc against GNU find, du -b and wc on the same real tree.

Each find case names the NL2Bash row it was taken from (``/work/shared/eval``,
MIT) and quotes its command; start paths and names are adapted to the fixture
tree.  GNU's numeric rounding is translated by hand, as the model path's
normaliser must: ``-mtime +N`` = older than N+1 whole days, ``-mtime -N`` =
within N days, ``-mmin N`` = (N-1, N] minutes, ``-size +10k`` = more than
10,240 bytes, ``-size -1M`` = 0 bytes (units round up).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from syscalls.dispatcher import Dispatcher
from syscalls.registry import default_registry
from syscalls.validate import validate

pytestmark = pytest.mark.skipif(shutil.which("find") is None or shutil.which("du") is None,
                                reason="GNU find/du are not installed")

ME = os.getuid()

# (source id, the NL2Bash command quoted, the find argv we run, our fs.find args)
CASES: list[tuple[str, str, list[str], dict[str, Any]]] = [
    ("nl2bash:12501", "find .", ["."], {}),
    ("nl2bash:8612", "find -type d", [".", "-type", "d"], {"type": "dir"}),
    ("nl2bash:2955", "find $YOUR_DIR -type f", [".", "-type", "f"], {"type": "file"}),
    ("nl2bash:10272", "find /myfiles -type l", [".", "-type", "l"], {"type": "symlink"}),
    ("nl2bash:2246", "find . -name '*.txt'", [".", "-name", "*.txt"], {"name": "*.txt"}),
    ("nl2bash:2713", 'find -iname "*.c"', [".", "-iname", "*.PY"], {"iname": "*.PY"}),
    ("nl2bash:2041", 'find .  -type f -name "* *"', [".", "-type", "f", "-name", "* *"],
     {"type": "file", "name": "* *"}),
    ("nl2bash:11818", 'find . -type f \\( -name "*.c" -o -name "*.sh" \\)',
     [".", "-type", "f", "(", "-name", "*.py", "-o", "-name", "*.sh", ")"],
     {"type": "file", "any_name": ["*.py", "*.sh"]}),
    ("nl2bash:2216", 'find . -type f -maxdepth 2 -name "*.tex"',
     [".", "-maxdepth", "2", "-type", "f", "-name", "*.py"],
     {"type": "file", "max_depth": 2, "name": "*.py"}),
    ("nl2bash:2790", "find sourceDir -mindepth 1 -maxdepth 1", ["sub", "-mindepth", "1", "-maxdepth", "1"],
     {"path": "sub", "min_depth": 1, "max_depth": 1}),
    ("nl2bash:1748", "find . -path ./misc -prune -o -name '*.txt' -print",
     [".", "-path", "./sub", "-prune", "-o", "-name", "*.txt", "-print"],
     {"exclude_dirs": ["./sub"], "name": "*.txt"}),
    ("nl2bash:12353", "find .  \\( -name work -o -name home \\)  -prune -o -name myfile -type f -print",
     [".", "(", "-name", "sub", "-o", "-name", ".hiddendir", ")", "-prune", "-o", "-name", "*.txt",
      "-type", "f", "-print"],
     {"exclude_dirs": ["sub", ".hiddendir"], "name": "*.txt", "type": "file"}),
    ("nl2bash:4298", "find . -not -path '*/\\.*' -type f -name '*some text*'",
     [".", "-not", "-path", "*/\\.*", "-type", "f", "-name", "*e*"],
     {"not_path": "*/\\.*", "type": "file", "name": "*e*"}),
    ("nl2bash:1745", 'find -name "*.js" -not -path "./directory/*"',
     [".", "-name", "*.py", "-not", "-path", "./sub/*"], {"name": "*.py", "not_path": "./sub/*"}),
    ("nl2bash:1993", 'find . \\! -path "*CVS*" -type f -name "*.css"',
     [".", "!", "-path", "*deep*", "-type", "f", "-name", "*.log"],
     {"not_path": "*deep*", "type": "file", "name": "*.log"}),
    ("nl2bash:3614", "find . -type f -mtime +2", [".", "-type", "f", "-mtime", "+2"],
     {"type": "file", "mtime_min_days": 3}),
    ("nl2bash:11255", "find / -mtime -1", [".", "-mtime", "-1"], {"mtime_max_days": 1}),
    ("nl2bash:11281", "find /opt -mtime +30 -mtime -50", [".", "-mtime", "+30", "-mtime", "-50"],
     {"mtime_min_days": 31, "mtime_max_days": 50}),
    ("nl2bash:10408", "find . -perm 777 -a -mtime 0 -a -print", [".", "-perm", "644", "-a", "-mtime", "0"],
     {"perm": "644", "mtime_min_days": 0, "mtime_max_days": 1}),
    ("nl2bash:3614/2", "find . -type f -mtime 2 (exact day count)", [".", "-type", "f", "-mtime", "2"],
     {"type": "file", "mtime_min_days": 2, "mtime_max_days": 3}),
    ("nl2bash:3772", "find / -mmin -60", [".", "-mmin", "-60"], {"mtime_max_minutes": 60}),
    ("nl2bash:11215", "find -mmin +15 -mmin -25", [".", "-mmin", "+15", "-mmin", "-25"],
     {"mtime_min_minutes": 15, "mtime_max_minutes": 25}),
    ("nl2bash:3317", "find /home/user/ -cmin 10 -print (as -mmin 21)", [".", "-mmin", "21"],
     {"mtime_min_minutes": 20, "mtime_max_minutes": 21}),
    ("nl2bash:3011", "find /dir -amin -60", [".", "-amin", "-60"], {"atime_max_minutes": 60}),
    ("nl2bash:2947", "find /home -atime +100", [".", "-atime", "+100"], {"atime_min_days": 101}),
    ("nl2bash:4137", "find /etc -type f -ctime -1", [".", "-type", "f", "-ctime", "-1"],
     {"type": "file", "ctime_max_days": 1}),
    ("nl2bash:3186", "find / -size 50c", [".", "-size", "50c"], {"size_min_bytes": 50, "size_max_bytes": 50}),
    ("nl2bash:2077", 'find . -type f -size +10 -name "*.err"', [".", "-type", "f", "-size", "+10"],
     {"type": "file", "size_min_bytes": 5121}),
    ("nl2bash:2314", "find /var/www -name *.gif -size +5k -size -10k", [".", "-size", "+5k", "-size", "-30k"],
     {"size_min_bytes": 5121, "size_max_bytes": 29 * 1024}),
    ("nl2bash:2918", "find . -size -100M", [".", "-type", "f", "-size", "-1M"],
     {"type": "file", "size_max_bytes": 0}),
    ("nl2bash:10164", "find . -size 0k", [".", "-size", "0k"], {"size_max_bytes": 0}),
    ("nl2bash:3995", "find .  -perm 775", [".", "-perm", "775"], {"perm": "775"}),
    ("nl2bash:4136", "find / -perm -644", [".", "-perm", "-644"], {"perm": "644", "perm_match": "all"}),
    ("nl2bash:12270", "find . -perm /220", [".", "-perm", "/022"], {"perm": "022", "perm_match": "any"}),
    ("nl2bash:2686", "find / -perm /a=x", [".", "-type", "f", "-perm", "/a=x"],
     {"type": "file", "perm": "111", "perm_match": "any"}),
    ("nl2bash:1327", "find -type d -empty", [".", "-type", "d", "-empty"], {"type": "dir", "empty": True}),
    ("nl2bash:1327/f", "find -type f -empty (files)", [".", "-type", "f", "-empty"],
     {"type": "file", "empty": True}),
    ("nl2bash:2805", "find . -newer some_file", [".", "-newer", "ref.txt"], {"newer_than": "ref.txt"}),
    ("nl2bash:1982", "find . -user daniel -type f -name *.jpg",
     [".", "-user", str(ME), "-type", "f", "-name", "*.py"],
     {"user": str(ME), "type": "file", "name": "*.py"}),
    ("nl2bash:10423", "find / -nouser -print", [".", "-nouser", "-print"], {"nouser": True}),
    ("nl2bash:8880", 'find -type f -regex ".*/.*\\.\\(shtml\\|css\\)"',
     [".", "-type", "f", "-regex", ".*/.*\\.\\(py\\|sh\\)"], {"type": "file", "regex": r".*/.*\.(py|sh)"}),
    ("nl2bash:3161", "find /etc -iregex '.*xt.*'", [".", "-iregex", ".*XT.*"], {"iregex": ".*XT.*"}),
    ("nl2bash:2632", 'find . -regextype posix-extended -type d -regex ".{5}"',
     [".", "-regextype", "posix-extended", "-type", "d", "-regex", ".{5}"], {"type": "dir", "regex": ".{5}"}),
    ("nl2bash:10242", "find . -type f -readable", [".", "-type", "f", "-readable"],
     {"type": "file", "readable": True}),
    ("nl2bash:8805", "find . -type f -executable -print", [".", "-type", "f", "-executable", "-print"],
     {"type": "file", "executable": True}),
    ("nl2bash:4389", "find .  -maxdepth 1 -type f -writable",
     [".", "-maxdepth", "1", "-type", "f", "-writable"],
     {"max_depth": 1, "type": "file", "writable": True}),
    ("nl2bash:2476", "find -L . -type l", ["-L", ".", "-type", "l"],
     {"follow_symlinks": True, "type": "symlink"}),
    ("nl2bash:2472", "find -L $path -maxdepth 1 -type l", ["-L", ".", "-maxdepth", "1", "-type", "f"],
     {"follow_symlinks": True, "max_depth": 1, "type": "file"}),
    ("nl2bash:1956", "find . -path '*/lang/en.css' -prune -o -name '*.css' -print",
     [".", "-path", "*/deep", "-prune", "-o", "-name", "*.log", "-print"],
     {"exclude_dirs": ["*/deep"], "name": "*.log"}),
    ("nl2bash:10972", "find . -type p (fifos), -type s (sockets)",
     [".", "(", "-type", "p", "-o", "-type", "s", ")"], {}),
]


def gnu_find(root: Path, argv: list[str]) -> set[str]:
    proc = subprocess.run(["find", *argv], cwd=root, capture_output=True, text=True, check=False)
    assert proc.returncode in (0, 1), proc.stderr  # 1: some entries (loops, unreadable) reported
    return {os.path.normpath(os.path.join(root, line)) for line in proc.stdout.splitlines() if line}


def ours(root: Path, args: dict[str, Any], reg: Any = None) -> set[str]:
    reg = reg or default_registry()
    res = Dispatcher(reg, max_rows=100_000).handle(validate({"call": "fs.find", "args": args}, reg), root)
    assert res.ok, res.error
    assert res.data is not None
    return {row["path"] for row in res.data["entries"]}


@pytest.mark.parametrize(("source", "quoted", "argv", "args"), CASES, ids=[c[0] for c in CASES])
def test_find_matches_gnu(golden_tree: Path, source: str, quoted: str, argv: list[str],
                          args: dict[str, Any]) -> None:
    if source == "nl2bash:10972":  # two of our calls for one find with -o on types
        got = ours(golden_tree, {"type": "fifo"}) | ours(golden_tree, {"type": "socket"})
    else:
        got = ours(golden_tree, args)
    want = gnu_find(golden_tree, argv)
    assert want, f"{source}: the fixture should give this query something to find"
    assert got == want, f"{source} ({quoted}): only ours {sorted(got - want)}, only find {sorted(want - got)}"


def test_find_cases_are_many_and_distinct() -> None:
    assert len(CASES) >= 30
    assert len({c[0] for c in CASES}) == len(CASES)


def test_du_total_matches_du_b(golden_tree: Path) -> None:
    reg = default_registry()
    for sub in (".", "sub", "empty_dir", "a.txt"):
        res = Dispatcher(reg).handle(validate({"call": "fs.du", "args": {"path": sub}}, reg), golden_tree)
        assert res.ok and res.data is not None, res.error
        out = subprocess.run(["du", "-sb", sub], cwd=golden_tree, capture_output=True, text=True, check=False)
        assert res.data["total_bytes"] == int(out.stdout.split()[0]), sub


def test_du_depth_entries_match_du_b_max_depth(golden_tree: Path) -> None:
    """nl2bash:1660 `du -sb`; with depth 1 our per-directory totals equal du -b -d 1."""
    reg = default_registry()
    res = Dispatcher(reg).handle(validate({"call": "fs.du", "args": {"path": ".", "top": 1000}}, reg),
                                 golden_tree)
    assert res.ok and res.data is not None
    ours_dirs = {os.path.basename(r["path"]): r["size_bytes"]
                 for r in res.data["entries"] if r["type"] == "dir"}
    out = subprocess.run(["du", "-b", "-d", "1", "."], cwd=golden_tree, capture_output=True, text=True,
                         check=False)
    theirs = {}
    for line in out.stdout.splitlines():
        size, name = line.split("\t", 1)
        if name != ".":
            theirs[os.path.basename(name)] = int(size)
    assert ours_dirs == theirs


@pytest.mark.parametrize("name", ["a.txt", "b.py", "ünïcode ñame.md", "empty.txt", "sub/big.bin", "old.log",
                                  "sub/deep/deeper/file.log"])
def test_wc_matches_gnu_wc(golden_tree: Path, name: str) -> None:
    """nl2bash:6824 `wc *.py`: lines, words, bytes (and chars with -m in a UTF-8 locale)."""
    reg = default_registry()
    res = Dispatcher(reg).handle(validate({"call": "fs.wc", "args": {"path": name}}, reg), golden_tree)
    assert res.ok and res.data is not None, res.error
    out = subprocess.run(["wc", "-l", "-w", "-c", "-m", name], cwd=golden_tree, capture_output=True,
                         text=True, check=False, env={**os.environ, "LC_ALL": "C.UTF-8"})
    lines, words, chars, nbytes = (int(x) for x in out.stdout.split()[:4])
    assert (res.data["lines"], res.data["words"], res.data["chars"], res.data["bytes"]) == \
        (lines, words, chars, nbytes)


@pytest.mark.parametrize(("path", "include"), [(".", None), ("sub", None), (".", "*.log"), (".", "*.py")])
def test_wc_of_a_directory_matches_wc_over_find(golden_tree: Path, path: str, include: str | None) -> None:
    """"how many lines of python are in src": wc over `find DIR -type f [-name GLOB]`, file by file and in total
    (version-control folders left out, as the text calls leave them)."""
    reg = default_registry()
    args: dict[str, str] = {"path": path, **({"include": include} if include else {})}
    res = Dispatcher(reg).handle(validate({"call": "fs.wc", "args": args}, reg), golden_tree)
    assert res.ok and res.data is not None, res.error
    find = ["find", path, "-type", "f", "-not", "-path", "*/.git/*", *(["-name", include] if include else [])]
    files = subprocess.run(find, cwd=golden_tree, capture_output=True, text=True, check=True).stdout.split("\n")
    files = sorted(f for f in files if f)
    assert files, "the tree has files to count"
    out = subprocess.run(["wc", "-l", "-w", "-c", "-m", "--", *files], cwd=golden_tree, capture_output=True,
                         text=True, check=False, env={**os.environ, "LC_ALL": "C.UTF-8"})
    theirs = {}
    for line in out.stdout.splitlines():
        lines, words, chars, nbytes, name = line.split(None, 4)
        theirs[name] = (int(lines), int(words), int(chars), int(nbytes))
    total = theirs.pop("total") if len(files) > 1 else next(iter(theirs.values()))
    ours = {os.path.relpath(r["path"], golden_tree): (r["lines"], r["words"], r["chars"], r["bytes"])
            for r in res.data["files"]}
    assert {os.path.normpath(k): v for k, v in theirs.items()} == ours
    assert (res.data["lines"], res.data["words"], res.data["chars"], res.data["bytes"]) == total
    assert res.data["files_counted"] == len(files)
