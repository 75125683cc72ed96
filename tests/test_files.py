"""The file syscalls against a real tree, through validation and the dispatcher."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syscalls.dispatcher import Dispatcher
from syscalls.errors import InvalidRequest
from syscalls.registry import default_registry
from syscalls.types import CallContext, Invocation, JSONDict, SyscallResult, resolve_path
from syscalls.validate import validate

REG = default_registry()


class RecordingEffects:
    """Real removal (like PlainEffects) that also records what the journal would see."""

    def __init__(self) -> None:
        self.removed: list[str] = []
        self.overwritten: list[str] = []
        self.inverses: list[JSONDict] = []

    def remove(self, ctx: CallContext, path: Path) -> JSONDict:
        from syscalls.dispatcher import PlainEffects

        self.removed.append(str(path))
        return PlainEffects().remove(ctx, path)

    def before_overwrite(self, ctx: CallContext, path: Path) -> None:
        self.overwritten.append(str(path))

    def record(self, ctx: CallContext, inverse: JSONDict) -> None:
        self.inverses.append(inverse)


def run(cwd: Path, call: str, effects: Any = None, dry_run: bool = False, **args: Any) -> SyscallResult:
    d = Dispatcher(REG, effects=effects) if effects is not None else Dispatcher(REG)
    return d.handle(validate({"call": call, "args": args}, REG), Invocation(cwd=cwd, dry_run=dry_run))


def ok(cwd: Path, call: str, **args: Any) -> JSONDict:
    res = run(cwd, call, **args)
    assert res.ok, res.error
    assert res.data is not None
    return res.data


def err(cwd: Path, call: str, **args: Any) -> str:
    res = run(cwd, call, **args)
    assert not res.ok and res.error is not None, res.data
    return str(res.error["type"])


# ---------------------------------------------------------------- registry shape

def test_every_fs_call_is_registered_with_schema_examples_and_preview() -> None:
    names = ["fs.list", "fs.stat", "fs.read", "fs.find", "fs.grep", "fs.du", "fs.wc", "fs.checksum", "fs.write",
             "fs.append", "fs.touch", "fs.mkdir", "fs.copy", "fs.move", "fs.delete", "fs.chmod", "fs.symlink",
             "fs.realpath"]
    for name in names:
        spec = REG.get(name)
        assert spec.args_schema["additionalProperties"] is False
        assert 3 <= len(spec.examples) <= 6, name
        for ex in spec.examples:  # every example is itself a valid request
            validate({"call": name, "args": ex.args}, REG)
        if spec.risk.value != "read":
            assert spec.preview is not None and spec.undoable, name


# ---------------------------------------------------------------- reading calls

def test_list_hides_dotfiles_and_sorts(tree: Path) -> None:
    names = [r["name"] for r in ok(tree, "fs.list")["entries"]]
    assert "a.txt" in names and "ünïcode ñame.md" in names and ".hidden" not in names
    assert names == sorted(names)
    assert ".hidden" in [r["name"] for r in ok(tree, "fs.list", hidden=True)["entries"]]
    by_size = ok(tree, "fs.list", path="sub", sort="size", limit=1)["entries"]
    assert [r["name"] for r in by_size] == ["big.bin"]
    oldest = ok(tree, "fs.list", sort="mtime", reverse=True, limit=1)["entries"][0]
    assert oldest["name"] == "old.log"


def test_list_without_long_gives_types_from_the_directory_only(tree: Path) -> None:
    rows = {r["name"]: r for r in ok(tree, "fs.list", hidden=True)["entries"]}
    assert all(set(r) == {"name", "path", "type"} for r in rows.values())
    assert rows["a.txt"]["type"] == "file" and rows["sub"]["type"] == "dir"
    assert rows["link_to_a"]["type"] == "symlink" and rows["fifo"]["type"] == "fifo"
    assert rows["a.txt"]["path"] == str(tree / "a.txt")
    assert set(rows) == set(os.listdir(tree))
    # the sort by size needs sizes: they are there
    assert all("size_bytes" in r for r in ok(tree, "fs.list", sort="size")["entries"])


def test_list_long_has_modes_owners_and_link_targets(tree: Path) -> None:
    rows = {r["name"]: r for r in ok(tree, "fs.list", long=True)["entries"]}
    assert rows["exec.sh"]["mode"] == "-rwxr-xr-x"
    assert rows["link_to_a"]["type"] == "symlink" and rows["link_to_a"]["link_target"] == "a.txt"
    assert rows["fifo"]["type"] == "fifo"
    assert rows["empty_dir"]["type"] == "dir"


def test_list_errors(tree: Path) -> None:
    assert err(tree, "fs.list", path="missing") == "NotFound"
    assert ok(tree, "fs.list", path="a.txt")["entries"][0]["name"] == "a.txt"


def test_stat_reports_link_and_target(tree: Path) -> None:
    data = ok(tree, "fs.stat", path="link_to_a")
    assert data["type"] == "symlink" and data["link_target"] == "a.txt"
    data = ok(tree, "fs.stat", path="link_to_a", follow=True)
    assert data["type"] == "file" and data["size_bytes"] == len("hello world\nsecond line\n")
    assert data["mode"] == "0644" and data["mtime_iso"].startswith("20")
    assert err(tree, "fs.stat", path="dangling", follow=True) == "NotFound"
    assert err(tree, "fs.stat", path="loop_a", follow=True) == "WrongType"


def test_read_whole_head_tail_and_range(tree: Path) -> None:
    p = tree / "lines.txt"
    p.write_text("".join(f"line {i}\n" for i in range(1, 101)))
    assert ok(tree, "fs.read", path="a.txt")["text"] == "hello world\nsecond line\n"
    assert ok(tree, "fs.read", path="lines.txt", head_lines=2)["text"] == "line 1\nline 2\n"
    assert ok(tree, "fs.read", path="lines.txt", tail_lines=2)["text"] == "line 99\nline 100\n"
    assert ok(tree, "fs.read", path="lines.txt", line_start=50, line_end=51)["text"] == "line 50\nline 51\n"
    assert ok(tree, "fs.read", path="link_to_a")["text"].startswith("hello")
    assert ok(tree, "fs.read", path="ünïcode ñame.md")["text"] == "naïve café — ünïcode\n"
    assert ok(tree, "fs.read", path="empty.txt")["text"] == ""


def test_read_tail_of_file_without_final_newline(tree: Path) -> None:
    (tree / "nonl.txt").write_text("a\nb\nc")
    assert ok(tree, "fs.read", path="nonl.txt", tail_lines=2)["text"] == "b\nc"
    assert ok(tree, "fs.read", path="nonl.txt", tail_lines=10)["text"] == "a\nb\nc"


def test_read_binary_gives_a_summary_not_bytes(tree: Path) -> None:
    data = ok(tree, "fs.read", path="sub/big.bin")
    assert data["binary"] is True and data["text"] == ""
    assert data["head_hex"].startswith("00 01 02")
    assert data["size_bytes"] == 102400


def test_read_refuses_fifo_socket_device_and_dir_without_blocking(tree: Path) -> None:
    # a FIFO with no writer would block a plain open() forever; this returns at once
    assert err(tree, "fs.read", path="fifo") == "WrongType"
    if (tree / "sock").exists():
        assert err(tree, "fs.read", path="sock") in ("WrongType", "OSFailure")
    assert err(tree, "fs.read", path="/dev/zero") == "WrongType"
    assert err(tree, "fs.read", path="sub") == "WrongType"
    assert err(tree, "fs.read", path="dangling") == "NotFound"
    assert err(tree, "fs.read", path="loop_a") == "WrongType"


def test_read_caps_a_huge_sparse_file(tree: Path) -> None:
    big = tree / "sparse.txt"
    with open(big, "wb") as fh:
        fh.write(b"x" * 100 + b"\n")
        fh.truncate(10 * 1024**3)  # 10 GiB, sparse: no disk used
    data = ok(tree, "fs.read", path="sparse.txt")
    assert data["size_bytes"] == 10 * 1024**3
    # the NULs after the first line make it binary: a summary, no content
    assert data["binary"] is True
    text = tree / "long.txt"
    text.write_bytes(b"abc\n" * 500_000)  # 2 MB of text, above the 1 MB cap
    data = ok(tree, "fs.read", path="long.txt")
    assert data["truncated"] is True and len(data["text"]) == 1_000_000


def test_read_permission_error_is_typed(tree: Path) -> None:
    # Root reads mode-000 files, so use a place the kernel refuses even to root.
    if os.geteuid() == 0:
        assert err(tree, "fs.write", path="/proc/sys/kernel/no_such_knob", content="1") in (
            "AccessDenied", "OSFailure", "NotFound")
    else:
        assert err(tree, "fs.read", path="secret.txt") == "AccessDenied"


@pytest.mark.skipif(os.geteuid() == 0, reason="root bypasses file modes: chmod 000 does not stop it")
def test_read_unreadable_file_as_non_root(tree: Path) -> None:
    assert err(tree, "fs.read", path="secret.txt") == "AccessDenied"


def test_find_basic_and_caps(tree: Path) -> None:
    rows = ok(tree, "fs.find", name="*.py")["entries"]
    assert {Path(r["path"]).name for r in rows} == {"b.py", "x.py"}
    # no stat unless asked: names and d_type give path and type
    assert all(set(r) == {"path", "type"} for r in rows)
    detailed = ok(tree, "fs.find", name="*.py", details=True)["entries"]
    sizes = {Path(r["path"]).name: r["size_bytes"] for r in detailed}
    assert sizes == {"b.py": (tree / "b.py").stat().st_size, "x.py": (tree / "sub/x.py").stat().st_size}
    assert all(r["mtime"] == os.lstat(r["path"]).st_mtime for r in detailed)
    # a stat-based test stats every row anyway, so the rows carry what it saw
    sized = ok(tree, "fs.find", name="*.py", size_min_bytes=0)["entries"]
    assert all({"path", "type", "size_bytes", "mtime"} <= set(r) for r in sized)
    top = ok(tree, "fs.find", type="file", sort="size", limit=2)["entries"]
    assert [Path(r["path"]).name for r in top] == ["big.bin", "medium.dat"]
    d = Dispatcher(REG, max_rows=3)
    res = d.handle(validate({"call": "fs.find", "args": {}}, REG), tree)
    assert res.ok and res.truncated and res.data is not None and len(res.data["entries"]) == 3
    assert err(tree, "fs.find", path="missing") == "NotFound"
    assert err(tree, "fs.find", regex="(") == "InvalidRequest"


DEEP = 10_000


@pytest.fixture
def deep_tree(tmp_path: Path) -> Any:
    """``tmp_path/d/d/.../d/leaf.txt``, 10,000 levels; removed here, iteratively, whatever the test did.

    pytest's own clean-up of old temp dirs uses shutil.rmtree, which recurses once per
    level: a tree this deep must never be left behind.
    """
    try:
        fd = os.open(tmp_path, os.O_RDONLY)
        try:
            for _ in range(DEEP):
                os.mkdir("d", dir_fd=fd)
                nfd = os.open("d", os.O_RDONLY, dir_fd=fd)
                os.close(fd)
                fd = nfd
            os.close(os.open("leaf.txt", os.O_WRONLY | os.O_CREAT, dir_fd=fd))
        finally:
            os.close(fd)
        yield tmp_path
    finally:
        _remove_deep(tmp_path)
    assert os.listdir(tmp_path) == []


def _remove_deep(top: Path) -> None:
    """Bottom-up with os.rmdir, holding two fds at a time (the way up is ``..``)."""
    if not os.path.lexists(top / "d"):
        return
    fd = os.open(top, os.O_RDONLY)
    depth = 0
    while os.path.isdir(f"/proc/self/fd/{fd}/d"):
        nfd = os.open("d", os.O_RDONLY | os.O_NOFOLLOW, dir_fd=fd)
        os.close(fd)
        fd, depth = nfd, depth + 1
    for name in os.listdir(fd):
        os.unlink(name, dir_fd=fd)
    while depth > 0:
        parent = os.open("..", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd, depth = parent, depth - 1
        os.rmdir("d", dir_fd=fd)
    os.close(fd)


def test_find_walks_a_very_deep_tree_iteratively(deep_tree: Path) -> None:
    # 10,000 levels: a recursive walk would hit RecursionError, path strings would pass PATH_MAX
    # (about 2,000 levels here); the fd-relative walk goes all the way down
    data = ok(deep_tree, "fs.find", name="leaf.txt")
    assert data["scanned"] == DEEP + 1
    assert "errors" not in data
    assert len(data["entries"]) == 1
    assert data["entries"][0]["path"] == str(deep_tree) + "/d" * DEEP + "/leaf.txt"
    du = ok(deep_tree, "fs.du", top=1)
    assert du["dirs"] == DEEP + 1 and du["files"] == 1


def test_find_keeps_walking_when_deep_ancestors_are_parked(tmp_path: Path) -> None:
    # deeper than the walk keeps fds open (128): the way back up re-opens parents through ..
    chain = tmp_path
    for i in range(300):
        chain = chain / f"c{i}"
    chain.mkdir(parents=True)
    (chain / "leaf").touch()
    for i in (5, 150, 299):
        (tmp_path.joinpath(*[f"c{j}" for j in range(i + 1)]) / f"side{i}").touch()
    names = {Path(r["path"]).name for r in ok(tmp_path, "fs.find", type="file")["entries"]}
    assert names == {"leaf", "side5", "side150", "side299"}


class _CountingScan:
    """``os.scandir`` whose entries count their stat calls (what fs.find pays per entry)."""

    def __init__(self, it: Any, stats: list[str]) -> None:
        self._it = it
        self._stats = stats

    def __iter__(self) -> _CountingScan:
        return self

    def __next__(self) -> _CountingEntry:
        return _CountingEntry(next(self._it), self._stats)

    def __enter__(self) -> _CountingScan:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._it.close()


class _CountingEntry:
    def __init__(self, e: os.DirEntry[str], stats: list[str]) -> None:
        self._e = e
        self._stats = stats
        self.name = e.name

    def is_symlink(self) -> bool:
        return self._e.is_symlink()

    def is_file(self, *, follow_symlinks: bool = True) -> bool:
        return self._e.is_file(follow_symlinks=follow_symlinks)

    def is_dir(self, *, follow_symlinks: bool = True) -> bool:
        return self._e.is_dir(follow_symlinks=follow_symlinks)

    def stat(self, *, follow_symlinks: bool = True) -> os.stat_result:
        self._stats.append(self.name)
        return self._e.stat(follow_symlinks=follow_symlinks)


def test_find_stats_an_entry_only_when_the_query_or_the_rows_need_it(
        tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stats: list[str] = []
    real_scandir = os.scandir
    monkeypatch.setattr(os, "scandir", lambda fd: _CountingScan(real_scandir(fd), stats))

    def find(**args: Any) -> tuple[list[JSONDict], list[str]]:
        stats.clear()
        return ok(tree, "fs.find", **args)["entries"], sorted(stats)

    # names, types and the access tests: d_type answers (os.DirEntry shows no FIFO or socket, so
    # those two are stat'ed when their type word goes in a row, and only then)
    rows, stat_calls = find()
    assert len(rows) > 30 and stat_calls == ["fifo", "sock"]
    for args in ({"name": "*.py"}, {"type": "file"}, {"type": "dir", "max_depth": 1}, {"type": "symlink"},
                 {"readable": True, "name": "*.txt"}):
        rows, stat_calls = find(**args)
        assert rows and stat_calls == [], args
    rows, stat_calls = find(type="fifo")
    assert [Path(r["path"]).name for r in rows] == ["fifo"] and stat_calls == ["fifo", "sock"]
    # details: a stat for each entry whose name matched, none for the rest
    rows, stat_calls = find(name="*.py", details=True)
    assert sorted(Path(r["path"]).name for r in rows) == stat_calls == ["b.py", "x.py"]
    assert all("size_bytes" in r for r in rows)
    # a size test on files: d_type rules out the directories, links and specials first
    rows, stat_calls = find(type="file", size_min_bytes=20_000)
    assert sorted(Path(r["path"]).name for r in rows) == ["big.bin", "medium.dat"]
    assert "sub" not in stat_calls and "link_to_a" not in stat_calls and "fifo" not in stat_calls
    files = find(type="file")[0]
    assert len(stat_calls) == len(files)


def test_find_cancellation_and_progress(tree: Path) -> None:
    for i in range(3000):
        (tree / "empty_dir" / f"f{i}").touch()
    seen: list[int] = []
    res = Dispatcher(REG).handle(validate({"call": "fs.find", "args": {}}, REG),
                                 Invocation(cwd=tree, progress=lambda call, n: seen.append(n)))
    assert res.ok and seen and seen[0] == 2048
    cancel = threading.Event()
    cancel.set()
    res = Dispatcher(REG).handle(validate({"call": "fs.find", "args": {}}, REG),
                                 Invocation(cwd=tree, cancel=cancel))
    assert res.status == "cancelled"


def test_grep_modes(tree: Path) -> None:
    rows = ok(tree, "fs.grep", pattern="error", ignore_case=True)["matches"]
    assert {(Path(r["path"]).name, r["line_number"]) for r in rows} >= {("old.log", 1), ("file.log", 2)}
    counts = ok(tree, "fs.grep", pattern="ERROR", count_only=True)["matches"]
    assert {Path(r["path"]).name: r["count"] for r in counts} == {"old.log": 3}
    files = ok(tree, "fs.grep", pattern="TODO", fixed=True, files_with_matches=True)["matches"]
    assert [Path(r["path"]).name for r in files] == ["b.py"]
    ctx_rows = ok(tree, "fs.grep", pattern="getcwd", path="b.py", context_lines=1)["matches"]
    assert ctx_rows[0]["before"] == ["import os"] and ctx_rows[0]["after"] == ["# TODO: tidy"]
    assert ok(tree, "fs.grep", pattern=".", include="*.py", max_matches=1)["match_count"] == 1
    data = ok(tree, "fs.grep", pattern="\\x01")
    assert data["skipped_binary"] >= 1 and data["matches"] == []
    assert not ok(tree, "fs.grep", pattern="deep", recursive=False)["matches"]
    assert err(tree, "fs.grep", pattern="[") == "InvalidRequest"


def test_du_and_wc_and_checksum(tree: Path) -> None:
    data = ok(tree, "fs.du", path="sub", top=2)
    assert [Path(r["path"]).name for r in data["entries"]] == ["big.bin", "medium.dat"]
    assert data["total_bytes"] > 120_000
    wc = ok(tree, "fs.wc", path="a.txt")
    assert (wc["lines"], wc["words"], wc["bytes"]) == (2, 4, 24)
    digest = hashlib.sha256((tree / "a.txt").read_bytes()).hexdigest()
    assert ok(tree, "fs.checksum", path="a.txt")["digest"] == digest
    md5 = hashlib.md5((tree / "a.txt").read_bytes()).hexdigest()
    assert ok(tree, "fs.checksum", path="a.txt", algorithm="md5")["digest"] == md5
    assert err(tree, "fs.checksum", path="fifo") == "WrongType"
    assert err(tree, "fs.wc", path="fifo") == "WrongType"
    in_sub = ok(tree, "fs.wc", path="sub")  # a directory: each file, and the totals
    assert in_sub["files_counted"] == len(in_sub["files"]) >= 2
    assert in_sub["bytes"] == sum(r["bytes"] for r in in_sub["files"]) > 120_000


def test_realpath(tree: Path) -> None:
    data = ok(tree, "fs.realpath", path="link_to_sub")
    assert data["realpath"] == str((tree / "sub").resolve()) and data["link_target"] == "sub"
    assert err(tree, "fs.realpath", path="loop_a") == "WrongType"
    assert err(tree, "fs.realpath", path="dangling") == "NotFound"


# ---------------------------------------------------------------- changing calls

def test_write_is_atomic_records_inverse_and_keeps_mode(tree: Path) -> None:
    fx = RecordingEffects()
    assert run(tree, "fs.write", fx, path="new.txt", content="one\n").ok
    assert (tree / "new.txt").read_text() == "one\n"
    assert fx.inverses[-1] == {"call": "fs.delete", "args": {"path": str(tree / "new.txt")}}
    assert run(tree, "fs.write", fx, path="exec.sh", content="#!/bin/sh\n").ok
    assert stat.S_IMODE(os.stat(tree / "exec.sh").st_mode) == 0o755
    assert fx.overwritten == [str(tree / "exec.sh")]
    assert fx.inverses[-1]["args"]["content"] == "#!/bin/sh\necho hi\n"
    assert not [p for p in os.listdir(tree) if p.startswith(".nlsh-")]  # no temp file left
    res = run(tree, "fs.write", fx, path="a.txt", content="x", no_clobber=True)
    assert res.error and res.error["type"] == "AlreadyExists"
    assert err(tree, "fs.write", path="sub", content="x") == "WrongType"
    assert err(tree, "fs.write", path="fifo", content="x") == "WrongType"
    assert err(tree, "fs.write", path="nodir/x.txt", content="x") == "NotFound"


def test_append_and_touch(tree: Path) -> None:
    fx = RecordingEffects()
    assert run(tree, "fs.append", fx, path="a.txt", content="third\n").ok
    assert (tree / "a.txt").read_text().endswith("second line\nthird\n")
    assert fx.inverses[-1]["args"]["content"] == "hello world\nsecond line\n"
    assert run(tree, "fs.touch", fx, path="brand_new").ok and (tree / "brand_new").exists()
    old = os.stat(tree / "old.log").st_mtime
    assert run(tree, "fs.touch", fx, path="old.log").ok
    assert os.stat(tree / "old.log").st_mtime > old
    assert fx.inverses[-1] == {"call": "fs.touch", "args": {"path": str(tree / "old.log"), "mtime": old}}
    assert ok(tree, "fs.touch", path="never", no_create=True)["created"] is False
    assert not (tree / "never").exists()


def test_mkdir(tree: Path) -> None:
    fx = RecordingEffects()
    assert run(tree, "fs.mkdir", fx, path="p/q/r", parents=True).ok
    assert (tree / "p/q/r").is_dir()
    assert [i["args"]["path"] for i in fx.inverses] == [str(tree / "p"), str(tree / "p/q"), str(tree / "p/q/r")]
    assert err(tree, "fs.mkdir", path="sub") == "AlreadyExists"
    assert err(tree, "fs.mkdir", path="x/y") == "NotFound"
    assert ok(tree, "fs.mkdir", path="sub", parents=True)["created"] == []


def test_copy_file_and_tree(tree: Path) -> None:
    assert ok(tree, "fs.copy", src="a.txt", dest="empty_dir")["dest"] == str(tree / "empty_dir/a.txt")
    assert (tree / "empty_dir/a.txt").read_text().startswith("hello")
    data = ok(tree, "fs.copy", src="sub", dest="sub2", recursive=True)
    assert (tree / "sub2/deep/deeper/file.log").exists() and os.path.islink(tree / "sub2/deep/up")
    assert data["entries"] >= 7
    assert err(tree, "fs.copy", src="sub", dest="sub3", recursive=False) == "WrongType"
    assert not (tree / "sub3").exists()
    # a folder is copied whole without the flag ("copy the docs folder to docs_old"), never over anything
    assert ok(tree, "fs.copy", src="sub", dest="sub4")["entries"] == data["entries"]
    assert (tree / "sub4/deep/deeper/file.log").read_bytes() == (tree / "sub/deep/deeper/file.log").read_bytes()
    assert err(tree, "fs.copy", src="sub", dest=".") == "AlreadyExists"  # ./sub is there
    assert err(tree, "fs.copy", src="b.py", dest="a.txt", no_clobber=True) == "AlreadyExists"
    assert err(tree, "fs.copy", src="sub", dest="sub/inside", recursive=True) == "InvalidRequest"
    assert err(tree, "fs.copy", src="fifo", dest="fifo2") == "WrongType"


def test_move_records_inverse(tree: Path) -> None:
    fx = RecordingEffects()
    assert run(tree, "fs.move", fx, src="a.txt", dest="renamed.txt").ok
    assert (tree / "renamed.txt").exists() and not (tree / "a.txt").exists()
    assert fx.inverses[-1] == {"call": "fs.move", "args": {"src": str(tree / "renamed.txt"),
                                                          "dest": str(tree / "a.txt")}}
    assert err(tree, "fs.move", src="b.py", dest="renamed.txt", no_clobber=True) == "AlreadyExists"
    assert err(tree, "fs.move", src="sub", dest="sub/deep") in ("InvalidRequest", "AlreadyExists")


def test_delete_goes_through_effects_and_never_follows_links(tree: Path) -> None:
    fx = RecordingEffects()
    assert run(tree, "fs.delete", fx, path="link_to_sub").ok
    assert (tree / "sub/x.py").exists() and not os.path.lexists(tree / "link_to_sub")
    assert run(tree, "fs.delete", fx, path="dangling").ok
    assert run(tree, "fs.delete", fx, path="empty_dir").ok
    res = run(tree, "fs.delete", fx, path="sub")
    assert res.error and res.error["type"] == "AlreadyExists" and "not empty" in res.error["hint"]
    assert (tree / "sub").exists()
    assert run(tree, "fs.delete", fx, path="sub", recursive=True).ok
    assert fx.removed == [str(tree / p) for p in ("link_to_sub", "dangling", "empty_dir", "sub")]
    assert err(tree, "fs.delete", path="missing") == "NotFound"


def test_chmod_octal_symbolic_and_refuses_setuid(tree: Path) -> None:
    fx = RecordingEffects()
    assert run(tree, "fs.chmod", fx, path="a.txt", mode="600").ok
    assert stat.S_IMODE(os.stat(tree / "a.txt").st_mode) == 0o600
    assert fx.inverses[-1] == {"call": "fs.chmod", "args": {"path": str(tree / "a.txt"), "mode": "0644"}}
    assert ok(tree, "fs.chmod", path="a.txt", mode="u+x,go+r")["entries"][0]["new_mode"] == "0744"
    assert ok(tree, "fs.chmod", path="a.txt", mode="a=r")["entries"][0]["new_mode"] == "0444"
    assert err(tree, "fs.chmod", path="a.txt", mode="4755") == "InvalidRequest"
    assert err(tree, "fs.chmod", path="a.txt", mode="u+s") == "InvalidRequest"
    assert err(tree, "fs.chmod", path="a.txt", mode="2755") == "InvalidRequest"
    assert stat.S_IMODE(os.stat(tree / "a.txt").st_mode) == 0o444
    data = ok(tree, "fs.chmod", path="sub", mode="go-r", recursive=True)
    assert data["count"] >= 6 and stat.S_IMODE(os.stat(tree / "sub/x.py").st_mode) == 0o600


def test_symlink(tree: Path) -> None:
    fx = RecordingEffects()
    data = run(tree, "fs.symlink", fx, path="ln", target="sub/x.py").data
    assert data is not None and data["dangling"] is False
    assert os.readlink(tree / "ln") == "sub/x.py"
    assert fx.inverses[-1] == {"call": "fs.delete", "args": {"path": str(tree / "ln")}}
    assert err(tree, "fs.symlink", path="a.txt", target="b.py") == "AlreadyExists"


def test_previews_change_nothing(tree: Path) -> None:
    before = sorted(os.listdir(tree))
    res = run(tree, "fs.delete", dry_run=True, path="sub", recursive=True)
    assert res.status == "dry-run" and res.data is not None
    assert res.data["count"] >= 8 and res.data["bytes"] >= 122_000 and res.data["exists"][str(tree / "sub")]
    res = run(tree, "fs.write", dry_run=True, path="a.txt", content="xyz")
    assert res.data is not None and res.data["overwrites"] is True and res.data["bytes"] == 3
    res = run(tree, "fs.mkdir", dry_run=True, path="n1/n2", parents=True)
    assert res.data is not None and res.data["count"] == 2
    res = run(tree, "fs.chmod", dry_run=True, path="a.txt", mode="u+x")
    assert res.data is not None and res.data["new_mode"] == "0744"
    for call, args in [("fs.copy", {"src": "sub", "dest": "c", "recursive": True}),
                       ("fs.move", {"src": "a.txt", "dest": "m"}), ("fs.touch", {"path": "t"}),
                       ("fs.append", {"path": "a.txt", "content": "x"}),
                       ("fs.symlink", {"path": "s", "target": "a.txt"})]:
        res = run(tree, call, dry_run=True, **args)
        assert res.status == "dry-run" and res.data is not None and res.data["paths"], call
    assert sorted(os.listdir(tree)) == before
    assert stat.S_IMODE(os.stat(tree / "a.txt").st_mode) == 0o644


# ---------------------------------------------------------------- validation

BAD_REQUESTS: list[tuple[Any, str]] = [
    ({"call": "fs.nope", "args": {}}, "call"),
    ({"call": "fs.read", "args": {"path": "a", "colour": 1}}, "args.colour"),
    ({"call": "fs.read", "args": {"path": 3}}, "args.path"),
    ({"call": "fs.find", "args": {"max_depth": "2"}}, "args.max_depth"),
    ({"call": "fs.find", "args": {"max_depth": True}}, "args.max_depth"),
    ({"call": "fs.find", "args": {"type": "files"}}, "args.type"),
    ({"call": "fs.find", "args": {"size_min_bytes": -1}}, "args.size_min_bytes"),
    ({"call": "fs.find", "args": {"perm": "999"}}, "args.perm"),
    ({"call": "fs.read", "args": {}}, "args.path"),
    ('{"call": "fs.read", "args": {"path": "a", "path": "b"}}', "path"),
    ({"call": "fs.read", "args": {"path": "a\x00b"}}, "args.path"),
    ({"call": "fs.delete", "args": {"path": "a\nb"}}, "args.path"),
    ({"call": "fs.write", "args": {"path": "\x1b[31mred", "content": ""}}, "args.path"),
    ({"call": "fs.copy", "args": {"src": "~other/x", "dest": "y"}}, "args.src"),
    ({"call": "fs.chmod", "args": {"path": "a", "mode": "rm -rf"}}, "args.mode"),
    ({"call": "fs.checksum", "args": {"path": "a", "algorithm": "crc32"}}, "args.algorithm"),
    ({"call": "fs.list", "args": {"path": ""}}, "args.path"),
]


@pytest.mark.parametrize(("request_", "field"), BAD_REQUESTS)
def test_bad_requests_name_the_field(request_: Any, field: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        validate(request_, REG)
    assert info.value.field == field


def test_bad_json_text_is_invalid_request() -> None:
    with pytest.raises(InvalidRequest):
        validate('{"call": "fs.read", "args": {"path": "a"}', REG)
    validate(json.dumps({"call": "fs.read", "args": {"path": "a"}}), REG)


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                     lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids,
                                                                                max_size=3), max_leaves=8)
_FS_CALLS = [n for n in REG.names() if n.startswith("fs.")]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(call=st.sampled_from(_FS_CALLS), args=st.dictionaries(
    st.sampled_from(["path", "src", "dest", "content", "name", "type", "mode", "limit", "recursive", "x"]),
    _json, max_size=4))
def test_random_args_only_ever_raise_invalid_request(call: str, args: dict[str, Any]) -> None:
    try:
        req = validate({"call": call, "args": args}, REG)
    except InvalidRequest:
        return
    assert req.call == call


@settings(max_examples=300, deadline=None)
@given(raw=st.text(alphabet=st.sampled_from(list("ab./~ -")), min_size=1, max_size=20))
def test_resolve_path_properties(raw: str) -> None:
    cwd = Path("/work/cwd")
    out = resolve_path(raw, cwd)
    assert out.is_absolute()
    assert os.path.normpath(out) == str(out)  # canonical: no "." or ".." parts, no "//"
    assert ".." not in out.parts and "." not in out.parts
    assert resolve_path(str(out), Path("/elsewhere")) == out  # idempotent, cwd-independent once absolute
    if not raw.startswith("~") and not raw.startswith("/"):
        assert out == Path(os.path.normpath(os.path.join(cwd, raw)))
    if raw == "~" or raw.startswith("~/"):
        assert str(out).startswith(os.path.expanduser("~").rstrip("/")) or str(out) == "/"


# ---------------------------------------------------------------- fd-relative walks

def test_walk_refuses_a_directory_swapped_for_a_symlink(tmp_path: Path) -> None:
    from syscalls.builtin.fs.walk import frames

    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret").write_text("x")
    (tmp_path / "top").mkdir()
    os.symlink(tmp_path / "outside", tmp_path / "top" / "box")  # stands for "box" swapped after the scan
    errors: list[str] = []
    fd = os.open(tmp_path / "top", os.O_RDONLY | os.O_DIRECTORY)
    seen = []
    for frame in frames(fd, str(tmp_path / "top"), "top", errors):
        seen.append(frame.path)
        if frame.depth == 0:
            frame.subdirs.append("box")
    assert seen == [str(tmp_path / "top")]
    assert len(errors) == 1 and errors[0].startswith(str(tmp_path / "top" / "box"))
    # every fd the walk opened is closed again (the root one included)
    with pytest.raises(OSError):
        os.fstat(fd)


def test_walk_closes_its_fds_when_the_consumer_stops(tmp_path: Path) -> None:
    from syscalls.builtin.fs.walk import frames

    (tmp_path / "a" / "b" / "c").mkdir(parents=True)
    before = len(os.listdir("/proc/self/fd"))
    walker = frames(os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY), str(tmp_path), ".", [])
    for frame in walker:
        frame.subdirs.extend(e.name for e in os.scandir(frame.fd) if e.is_dir())
        if frame.depth == 2:
            break
    walker.close()
    assert len(os.listdir("/proc/self/fd")) == before


def test_walk_hands_over_batches_that_end_before_each_check(tmp_path: Path) -> None:
    from syscalls.builtin.fs.walk import Walk
    from syscalls.errors import CallCancelled

    for d, n in (("a", 3), ("b", 6), ("c", 2)):
        (tmp_path / d).mkdir()
        for i in range(n):
            (tmp_path / d / f"{d}{i}").touch()
    seen: list[int] = []
    cancel = threading.Event()
    ctx = Dispatcher(REG).context("fs.find", Invocation(cwd=tmp_path, cancel=cancel,
                                                          progress=lambda call, n: seen.append(n)))
    got: list[tuple[str, list[str]]] = []
    with Walk(ctx, os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY), str(tmp_path), sort=True, every=4) as walk:
        for frame in walk:
            for batch in walk.scan(frame):
                got.append((os.path.basename(frame.path), [e.name for e in batch]))
                frame.subdirs.extend(e.name for e in batch if e.is_dir())
    # the start (3 directories), then a, b, c in name order; a check and a report before entries 4, 8, 12
    assert got == [(tmp_path.name, ["a", "b", "c"]), ("a", ["a0", "a1", "a2"]), ("b", ["b0"]),
                   ("b", ["b1", "b2", "b3", "b4"]), ("b", ["b5"]), ("c", ["c0", "c1"])]
    assert walk.scanned == 14 and seen == [4, 8, 12] and walk.errors == []
    cancel.set()
    with pytest.raises(CallCancelled), \
            Walk(ctx, os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY), str(tmp_path)) as walk:
        next(iter(walk))


def test_walk_closes_its_fds_unstarted_or_stopped_early(tmp_path: Path) -> None:
    from syscalls.builtin.fs.walk import Walk

    (tmp_path / "a" / "b").mkdir(parents=True)
    ctx = Dispatcher(REG).context("fs.find", tmp_path)
    before = len(os.listdir("/proc/self/fd"))
    with Walk(ctx, os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY), str(tmp_path)):
        pass
    with Walk(ctx, os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY), str(tmp_path)) as walk:
        for frame in walk:
            for batch in walk.scan(frame):
                frame.subdirs.extend(e.name for e in batch)
                break
            if frame.depth == 1:
                break
    assert len(os.listdir("/proc/self/fd")) == before


def test_remove_tree_at_takes_a_deep_tree_bottom_up(tmp_path: Path) -> None:
    from syscalls.builtin import _fsutil as U

    top = tmp_path / "t"
    d = top
    for i in range(50):
        d = d / "d"
        (d.parent / f"f{i}").parent.mkdir(parents=True, exist_ok=True)
        (d.parent / f"f{i}").write_text("x")
    d.mkdir(parents=True)
    (top / "side" / "deeper").mkdir(parents=True)
    os.symlink(tmp_path / "keep", top / "side" / "ln")
    (tmp_path / "keep").write_text("keep")
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        U.remove_tree_at(fd, "t")
    finally:
        os.close(fd)
    assert sorted(os.listdir(tmp_path)) == ["keep"] and (tmp_path / "keep").read_text() == "keep"


def test_write_goes_to_the_checked_path_only(tree: Path) -> None:
    # the gate's record decides where a write lands (here: no gate, so the call canonicalises itself)
    assert ok(tree, "fs.write", path="sub/new.txt", content="hi\n")["created"] is True
    assert (tree / "sub" / "new.txt").read_text() == "hi\n"
    assert not [n for n in os.listdir(tree / "sub") if n.startswith(".nlsh-")]
    assert ok(tree, "fs.append", path="link_to_a", content="more\n")["created"] is False
    assert (tree / "a.txt").read_text().endswith("more\n") and os.path.islink(tree / "link_to_a")
    assert err(tree, "fs.write", path="nowhere/x.txt", content="x") == "NotFound"
