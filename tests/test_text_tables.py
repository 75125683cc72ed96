"""text.sort, text.dedupe, text.csv and table.sum: each checked against the GNU tool (or Python's csv
module) it stands for, on real files; text.dedupe's edit is undone byte for byte through the journal."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from safety_env import Env, make_env
from syscall_support import REG, call, ok

from syscalls import journal as J
from syscalls.builtin import tables as T
from syscalls.dispatcher import Dispatcher
from syscalls.errors import InvalidRequest
from syscalls.types import CallContext

C_ENV = {**os.environ, "LC_ALL": "C"}
needs_tools = pytest.mark.skipif(not all(shutil.which(t) for t in ("sort", "awk", "uniq", "find", "wc")),
                                 reason="GNU sort/awk/uniq/find/wc are missing")

NAMES = b"zoe\nbob\nmia\nadam\nbob\nzoe\nBob\n10 apples\n9 pears\n-3 debts\n\nbob\n"


def sh(cmd: str, cwd: Path) -> bytes:
    return subprocess.run(["bash", "-c", cmd], cwd=cwd, env=C_ENV, check=True, capture_output=True).stdout


def lines(data: bytes) -> list[str]:
    return data.decode().splitlines()


@needs_tools
@pytest.mark.parametrize(("args", "flags"), [
    ({}, ""), ({"reverse": True}, "-r"), ({"numeric": True}, "-n"), ({"numeric": True, "reverse": True}, "-rn"),
    ({"unique": True}, "-u"), ({"ignore_case": True}, "-f"),
])
def test_text_sort_agrees_with_sort(tmp_path: Path, args: dict[str, Any], flags: str) -> None:
    (tmp_path / "names.txt").write_bytes(NAMES)
    got = ok("text.sort", {"path": "names.txt", **args}, tmp_path)
    want = lines(sh(f"sort {flags} names.txt", tmp_path))
    assert [r["line"] for r in got["lines"]] == want
    assert got["count"] == len(want)
    assert (tmp_path / "names.txt").read_bytes() == NAMES  # only shown, never changed


@needs_tools
def test_text_sort_unique_counts_the_distinct_lines(tmp_path: Path) -> None:
    (tmp_path / "names.txt").write_bytes(b"mia\nbob\nadam\nbob\nzoe\nmia\n")
    got = ok("text.sort", {"path": "names.txt", "unique": True}, tmp_path)
    assert got["count"] == int(sh("sort -u names.txt | wc -l", tmp_path)) == 4
    assert [r["line_number"] for r in got["lines"]] == [3, 2, 1, 5]  # where each first appears


@needs_tools
@pytest.mark.parametrize(("args", "script"), [
    ({}, "awk '!seen[$0]++' f.txt"), ({"adjacent": True}, "uniq f.txt"),
])
def test_text_dedupe_agrees_with_awk_and_uniq(tmp_path: Path, args: dict[str, Any], script: str) -> None:
    (tmp_path / "f.txt").write_bytes(NAMES)
    want = sh(script, tmp_path)
    got = ok("text.dedupe", {"path": "f.txt", **args}, tmp_path)
    assert (tmp_path / "f.txt").read_bytes() == want
    assert got["lines_removed"] == NAMES.count(b"\n") - want.count(b"\n")


def test_text_dedupe_ignore_case_and_an_unterminated_last_line(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_bytes(b"Bob\nbob\nann\nBOB")
    ok("text.dedupe", {"path": "f.txt", "ignore_case": True}, tmp_path)
    assert (tmp_path / "f.txt").read_bytes() == b"Bob\nann\n"
    (tmp_path / "g.txt").write_bytes(b"a\na\nb")
    ok("text.dedupe", {"path": "g.txt"}, tmp_path)
    assert (tmp_path / "g.txt").read_bytes() == b"a\nb"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    return make_env(tmp_path, monkeypatch)


def test_text_dedupe_is_undone_byte_for_byte(env: Env) -> None:
    (env.cwd / "f.txt").write_bytes(NAMES)
    os.chmod(env.cwd / "f.txt", 0o640)
    r = env.run("text.dedupe", {"path": "f.txt"})
    assert r.ok, r.error
    assert (env.cwd / "f.txt").read_bytes() != NAMES
    J.undo(state=env.state, data=env.data)
    assert (env.cwd / "f.txt").read_bytes() == NAMES
    assert os.stat(env.cwd / "f.txt").st_mode & 0o777 == 0o640


CSV = 'id,name,price,zip\n1,ann,3.5,007\n2,"dee, jr",10,12345\n3,bob,,999\n4,cy,2\n'


def test_text_csv_reads_records_as_rows_like_the_csv_module(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text(CSV)
    got = ok("text.csv", {"path": "data.csv"}, tmp_path)
    want = list(csv.DictReader(io.StringIO(CSV)))
    assert got["columns"] == ["id", "name", "price", "zip"]
    assert [r["name"] for r in got["rows"]] == [w["name"] for w in want]
    assert got["rows"][0] == {"id": 1, "name": "ann", "price": 3.5, "zip": "007"}  # 007 stays text
    assert got["rows"][2]["price"] == ""
    assert got["rows"][3]["zip"] is None  # a short record: the missing cell is null
    assert got["count"] == 4


def test_text_csv_then_table_sort_and_select_and_sum(tmp_path: Path) -> None:
    (tmp_path / "data.tsv").write_text("name\tscore\nann\t10\ndee\t7\nbob\t12\n")
    rows = ok("text.csv", {"path": "data.tsv"}, tmp_path)["rows"]
    assert rows == [{"name": "ann", "score": 10}, {"name": "dee", "score": 7}, {"name": "bob", "score": 12}]
    desc = T.table_sort(_ctx("table.sort"), {"rows": rows, "by": "name", "order": "desc"})
    assert [r["name"] for r in desc["rows"]] == ["dee", "bob", "ann"]
    sel = T.table_select(_ctx("table.select"), {"rows": rows, "columns": ["name"]})
    assert sel["rows"] == [{"name": "ann"}, {"name": "dee"}, {"name": "bob"}]
    assert T.table_sum(_ctx("table.sum"), {"rows": rows, "column": "score"}) == {
        "column": "score", "total": 29, "count": 3, "min": 7, "max": 12, "mean": 29 / 3}


def test_text_csv_semicolons_are_guessed_and_a_bad_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_text("a;b\n1;2\n")
    assert ok("text.csv", {"path": "e.csv"}, tmp_path)["rows"] == [{"a": 1, "b": 2}]
    (tmp_path / "bin.csv").write_bytes(b"a,b\n\x00\x01\n")
    err = call("text.csv", {"path": "bin.csv"}, tmp_path).error
    assert err is not None and "bin.csv" in err["target"]


def _ctx(name: str) -> CallContext:
    return Dispatcher(REG).context(name, Path.cwd())


@needs_tools
def test_table_sum_of_sizes_and_line_counts_agrees_with_du_and_wc(tmp_path: Path) -> None:
    for i in range(7):
        (tmp_path / f"f{i}.py").write_bytes(b"x\n" * (i * 3 + 1) + b"y" * (i * 1000))
    (tmp_path / "other.txt").write_bytes(b"zzz\n" * 50)
    found = ok("fs.find", {"name": "*.py", "type": "file", "details": True}, tmp_path)["entries"]
    total = T.table_sum(_ctx("table.sum"), {"rows": found, "column": "size_bytes"})
    want = int(sh("find . -name '*.py' -type f -printf '%s\\n' | awk '{s+=$1} END {print s}'", tmp_path))
    assert total["total"] == want and total["count"] == 7
    counts = [ok("fs.wc", {"path": r["path"]}, tmp_path) for r in found]
    lines_total = T.table_sum(_ctx("table.sum"), {"rows": counts, "column": "lines"})["total"]
    assert lines_total == int(sh("cat *.py | wc -l", tmp_path))


def test_table_sum_refuses_text_naming_the_cell(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest, match="'ann'"):
        T.table_sum(_ctx("table.sum"), {"rows": [{"v": 1}, {"v": "ann"}], "column": "v"})
    assert T.table_sum(_ctx("table.sum"), {"rows": [], "column": "v"}) == {"column": "v", "total": 0, "count": 0}


@pytest.mark.skipif(shutil.which("diff") is None, reason="diff is missing")
@pytest.mark.parametrize("context", [0, 1, 3])
def test_text_diff_agrees_with_diff_u(tmp_path: Path, context: int) -> None:
    (tmp_path / "a.txt").write_bytes(b"hello world\nsame\nx\ny\nz\nold tail\n")
    (tmp_path / "b.txt").write_bytes(b"a guide\nsame\nx\ny\nz\nnew tail")
    got = ok("text.diff", {"path": "a.txt", "other": "b.txt", "context": context}, tmp_path)
    proc = subprocess.run(["diff", f"-U{context}", "a.txt", "b.txt"], cwd=tmp_path, env=C_ENV, capture_output=True)
    want = proc.stdout.decode().splitlines()[2:]  # the hunks; the two header lines carry times
    assert got["diff"].splitlines()[2:] == want
    assert "-hello world" in got["diff"] and "+a guide" in got["diff"]
    assert (got["lines_removed"], got["lines_added"], got["same"]) == (2, 2, False)
    (tmp_path / "c.txt").write_bytes((tmp_path / "a.txt").read_bytes())
    assert ok("text.diff", {"path": "a.txt", "other": "c.txt"}, tmp_path)["same"] is True


def test_fs_concat_agrees_with_cat_and_is_undone(env: Env) -> None:
    (env.cwd / "a.txt").write_bytes(b"hello world\n")
    (env.cwd / "b.txt").write_bytes(b"buy milk\nno newline")
    (env.cwd / "c.txt").write_bytes("caf\u00e9\n".encode())
    r = env.run("fs.concat", {"path": "both.txt", "sources": ["a.txt", "b.txt", "c.txt"]})
    assert r.ok, r.error
    want = subprocess.run(["cat", "a.txt", "b.txt", "c.txt"], cwd=env.cwd, capture_output=True, check=True).stdout
    assert (env.cwd / "both.txt").read_bytes() == want
    assert r.data is not None and r.data["created"] is True and r.data["sources"] == 3
    J.undo(state=env.state, data=env.data)
    assert not (env.cwd / "both.txt").exists()
    # over an existing file: replaced, and undo gives the old bytes back
    (env.cwd / "out.txt").write_bytes(b"old\n")
    assert env.run("fs.concat", {"path": "out.txt", "sources": ["b.txt", "a.txt"]}).ok
    assert (env.cwd / "out.txt").read_bytes() == b"buy milk\nno newlinehello world\n"
    J.undo(state=env.state, data=env.data)
    assert (env.cwd / "out.txt").read_bytes() == b"old\n"


def test_fs_concat_names_a_missing_source_and_writes_nothing(env: Env) -> None:
    (env.cwd / "a.txt").write_bytes(b"x\n")
    r = env.run("fs.concat", {"path": "out.txt", "sources": ["a.txt", "nope.txt"]})
    assert not r.ok and r.error is not None and r.error["target"].endswith("nope.txt")
    assert not (env.cwd / "out.txt").exists()
    r = env.run("fs.concat", {"path": "a.txt", "sources": ["a.txt"], "no_clobber": True})
    assert not r.ok and r.error is not None and r.error["target"].endswith("a.txt")


@needs_tools
@pytest.mark.parametrize("bash", ["sort names.txt", "sort -r names.txt", "sort -n names.txt", "sort -rn names.txt",
                                  "sort -u names.txt", "diff a.txt b.txt"])
def test_translated_sort_and_diff_show_what_the_command_prints(tmp_path: Path, bash: str) -> None:
    """The corpus translator's plans for sort and diff, run: the same lines as the command's output."""
    from models.training.translate import translate

    (tmp_path / "names.txt").write_bytes(NAMES)
    (tmp_path / "a.txt").write_bytes(b"hello world\nsame\n")
    (tmp_path / "b.txt").write_bytes(b"a guide\nsame\n")
    ((name, args),) = translate(bash)
    got = ok(name, args, tmp_path)
    out = subprocess.run(["bash", "-c", bash], cwd=tmp_path, env=C_ENV, capture_output=True).stdout
    if name == "text.diff":  # diff's normal format: the changed lines, with < and >
        changed = [ln[2:] for ln in lines(out) if ln[:2] in ("< ", "> ")]
        ours = [ln[1:] for ln in got["diff"].splitlines()[2:] if ln[:1] in "-+"]
        assert ours == changed
    else:
        assert [r["line"] for r in got["lines"]] == lines(out)


def test_text_diff_counts_lines_that_look_like_headers(tmp_path: Path) -> None:
    """Only the first two lines are the --- and +++ headers: a changed line that starts with ++ or -- counts."""
    (tmp_path / "a.txt").write_bytes(b"--flag\nkeep\n")
    (tmp_path / "b.txt").write_bytes(b"++x\nkeep\n")
    got = ok("text.diff", {"path": "a.txt", "other": "b.txt"}, tmp_path)
    assert (got["lines_removed"], got["lines_added"]) == (1, 1)
    assert "\n---flag\n" in got["diff"] and "\n+++x\n" in got["diff"]
