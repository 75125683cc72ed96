"""text.*: differential against sed -i, nl, cat -n, tac, comm and grep on the same real temp files;
undo of a 100-file replace through the journal, byte for byte; typed errors; previews; phrasings."""

from __future__ import annotations

import os
import random
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safety_env import Env, make_env
from syscall_support import REG, call, ok

from syscalls import journal as J
from syscalls.builtin.textedit import split_lines, unified_diff

TOOLS = ("sed", "nl", "cat", "tac", "comm", "grep", "sort", "wc")
needs_tools = pytest.mark.skipif(not all(shutil.which(t) for t in TOOLS), reason="GNU text tools are missing")

C_ENV = {**os.environ, "LC_ALL": "C"}

# name -> content; every awkward shape of text a line tool meets
SAMPLES: dict[str, bytes] = {
    "plain.txt": b"foo bar\nbaz foo foo\nnothing here\nFOO upper\n",
    "empty_lines.txt": b"first\n\n\nfoo after blanks\n   \nlast foo\n",
    "no_newline.txt": b"foo one\nfoo two\nfoo three",
    "crlf.txt": b"foo\r\nbar foo\r\n\r\nend\r\n",
    "unicode.txt": "caf\u00e9 foo\n\u00fcber foo \u00e9t\u00e9\n\u65e5\u672c foo\n".encode(),
    "single.txt": b"foo\n",
    "numbers.txt": b"v1.2.3 and 10.20.30\nno numbers\n42 foo 7\n",
    "tabs.txt": b"\tfoo\tbar\n\t\n  foo  \n",
}


def write_samples(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for name, data in SAMPLES.items():
        (root / name).write_bytes(data)


def run(cmd: list[str], cwd: Path | None = None) -> bytes:
    return subprocess.run(cmd, cwd=cwd, env=C_ENV, check=True, capture_output=True).stdout


def lines_of(data: bytes) -> list[str]:
    return [line.rstrip("\n") for line in split_lines(data.decode("utf-8"))]


# ---------------------------------------------------------------- text.replace vs sed -i

REPLACE_CASES: list[tuple[dict[str, Any], list[str]]] = [
    ({"find": "foo", "replace": "bar"}, ["s/foo/bar/g"]),
    ({"find": "foo", "replace": ""}, ["s/foo//g"]),
    ({"find": "foo", "replace": "bar", "ignore_case": True}, ["s/foo/bar/gI"]),
    ({"find": "o", "replace": "00"}, ["s/o/00/g"]),
    ({"find": "a.", "replace": "X"}, ["s/a\\./X/g"]),  # literal: the dot is a dot
    ({"find": "[0-9]+", "replace": "N", "regex": True}, ["-E", "s/[0-9]+/N/g"]),
    ({"find": "^foo", "replace": "FOO", "regex": True}, ["-E", "s/^foo/FOO/g"]),
    ({"find": "foo$", "replace": "end", "regex": True}, ["-E", "s/foo$/end/g"]),
    ({"find": "(f)(o+)", "replace": "\\2\\1", "regex": True}, ["-E", "s/(f)(o+)/\\2\\1/g"]),
    ({"find": "[ \t]+$", "replace": "", "regex": True}, ["-E", "s/[ \t]+$//g"]),
    ({"find": "\u00e9", "replace": "e"}, ["s/\u00e9/e/g"]),
    ({"find": "foo", "replace": "&amp;"}, ["s/foo/\\&amp;/g"]),  # sed's & is plain text here
]


@needs_tools
@pytest.mark.parametrize(("args", "sed"), REPLACE_CASES, ids=[str(i) for i in range(len(REPLACE_CASES))])
def test_replace_agrees_with_sed_i(tmp_path: Path, args: dict[str, Any], sed: list[str]) -> None:
    ours, gold = tmp_path / "ours", tmp_path / "gold"
    write_samples(ours)
    write_samples(gold)
    for name in SAMPLES:
        subprocess.run(["sed", "-i", *sed, name], cwd=gold, check=True,
                       env={**os.environ, "LC_ALL": "C.UTF-8"})
        data = ok("text.replace", {"path": name, **args}, ours)
        assert data["files_changed"] == (1 if (gold / name).read_bytes() != SAMPLES[name] else 0)
    for name in SAMPLES:
        assert (ours / name).read_bytes() == (gold / name).read_bytes(), (name, args)


@needs_tools
def test_replace_over_a_directory_agrees_with_find_exec_sed(tmp_path: Path) -> None:
    for root in (tmp_path / "ours", tmp_path / "gold"):
        write_samples(root)
        write_samples(root / "sub" / "deeper")
        (root / "skip.md").write_bytes(b"foo in markdown\n")
    subprocess.run("find . -type f -name '*.txt' -exec sed -i 's/foo/qux/g' {} +", shell=True,
                   cwd=tmp_path / "gold", check=True)
    data = ok("text.replace", {"path": ".", "find": "foo", "replace": "qux", "include": "*.txt"},
              tmp_path / "ours")
    for dirpath, _dirs, files in os.walk(tmp_path / "gold"):
        for name in files:
            rel = Path(dirpath, name).relative_to(tmp_path / "gold")
            assert (tmp_path / "ours" / rel).read_bytes() == (tmp_path / "gold" / rel).read_bytes(), rel
    expected = sum(b.count(b"foo") for b in SAMPLES.values()) * 2
    assert data["replacements"] == expected
    assert (tmp_path / "ours" / "skip.md").read_bytes() == b"foo in markdown\n"
    flat = ok("text.replace", {"path": ".", "find": "qux", "replace": "foo", "include": "*.txt",
                               "recursive": False}, tmp_path / "ours")
    assert {Path(r["path"]).parent for r in flat["files"]} == {tmp_path / "ours"}


def test_replace_count_limits_replacements_per_file(tmp_path: Path) -> None:
    write_samples(tmp_path)
    data = ok("text.replace", {"path": "plain.txt", "find": "foo", "replace": "X", "count": 2}, tmp_path)
    assert data["replacements"] == 2
    assert (tmp_path / "plain.txt").read_bytes() == b"X bar\nbaz X foo\nnothing here\nFOO upper\n"


@given(st.text(alphabet="ab\n\r \u00e9", max_size=60), st.sampled_from(["a", "ab", "b ", "\u00e9"]),
       st.sampled_from(["", "z", "ab", "\u00fc\u00fc"]))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_replace_property_matches_sed(tmp_path: Path, text: str, find: str, repl: str) -> None:
    if shutil.which("sed") is None:
        pytest.skip("sed missing")
    for name in ("ours", "gold"):
        (tmp_path / name).write_bytes(text.encode())
    ok("text.replace", {"path": "ours", "find": find, "replace": repl}, tmp_path)
    subprocess.run(["sed", "-i", f"s/{find}/{repl}/g", "gold"], cwd=tmp_path, check=True,
                   env={**os.environ, "LC_ALL": "C.UTF-8"})
    assert (tmp_path / "ours").read_bytes() == (tmp_path / "gold").read_bytes()


# ---------------------------------------------------------------- text.prefix / text.insert vs sed -i

@needs_tools
@pytest.mark.parametrize(("skip_blank", "script"), [(False, "s/^/> /"), (True, "/^$/!s/^/> /")])
def test_prefix_agrees_with_sed(tmp_path: Path, skip_blank: bool, script: str) -> None:
    ours, gold = tmp_path / "ours", tmp_path / "gold"
    write_samples(ours)
    write_samples(gold)
    for name in SAMPLES:
        run(["sed", "-i", script, name], cwd=gold)
        ok("text.prefix", {"path": name, "prefix": "> ", "skip_blank": skip_blank}, ours)
        assert (ours / name).read_bytes() == (gold / name).read_bytes(), name


@needs_tools
@pytest.mark.parametrize(("args", "script"), [
    ({"text": "# header", "at": "top"}, "1i # header"),
    ({"text": "# header"}, "1i # header"),
    ({"text": "inserted", "line": 2}, "2i inserted"),
    ({"text": "inserted", "line": 3}, "3i inserted"),
    ({"text": "the end", "at": "bottom"}, "$a the end"),
])
def test_insert_agrees_with_sed(tmp_path: Path, args: dict[str, Any], script: str) -> None:
    ours, gold = tmp_path / "ours", tmp_path / "gold"
    write_samples(ours)
    write_samples(gold)
    agreed = 0
    for name, data in SAMPLES.items():
        n_lines = len(split_lines(data.decode()))
        if "line" in args and args["line"] > n_lines:
            continue  # sed's address never matches; text.insert refuses (tested below)
        run(["sed", "-i", script, name], cwd=gold)
        ok("text.insert", {"path": name, **args}, ours)
        assert (ours / name).read_bytes() == (gold / name).read_bytes(), name
        agreed += 1
    assert agreed >= 6


@needs_tools
def test_insert_at_top_of_every_glob_in_a_directory(tmp_path: Path) -> None:
    for root in (tmp_path / "ours", tmp_path / "gold"):
        (root / "pkg").mkdir(parents=True)
        (root / "a.py").write_text("print(1)\n")
        (root / "pkg" / "b.py").write_text("x = 1\ny = 2\n")
        (root / "notes.txt").write_text("leave me\n")
    subprocess.run("find . -name '*.py' -exec sed -i '1i # SPDX: MIT' {} +", shell=True,
                   cwd=tmp_path / "gold", check=True)
    data = ok("text.insert", {"path": ".", "text": "# SPDX: MIT", "at": "top", "include": "*.py"},
              tmp_path / "ours")
    assert data["files_changed"] == 2 and data["lines_inserted"] == 2
    for rel in ("a.py", "pkg/b.py", "notes.txt"):
        assert (tmp_path / "ours" / rel).read_bytes() == (tmp_path / "gold" / rel).read_bytes(), rel


def test_insert_edges(tmp_path: Path) -> None:
    (tmp_path / "empty").write_bytes(b"")
    ok("text.insert", {"path": "empty", "text": "only"}, tmp_path)  # sed '1i' would do nothing here
    assert (tmp_path / "empty").read_bytes() == b"only\n"
    (tmp_path / "two").write_bytes(b"a\nb")
    ok("text.insert", {"path": "two", "text": "c\nd\n", "line": 3}, tmp_path)  # one past the end = bottom
    assert (tmp_path / "two").read_bytes() == b"a\nb\nc\nd\n"
    r = call("text.insert", {"path": "two", "text": "x", "line": 9}, tmp_path)
    assert r.status == "invalid" and r.error is not None and r.error["target"] == "args.line"
    assert "two" in r.error["message"]
    r = call("text.insert", {"path": "two", "text": "x", "line": 1, "at": "top"}, tmp_path)
    assert r.status == "invalid"


# ---------------------------------------------------------------- reading calls vs nl / cat -n / tac / grep / comm

def parse_numbered(out: bytes) -> list[tuple[int | None, str]]:
    rows: list[tuple[int | None, str]] = []
    for line in out.decode().split("\n")[:-1] if out.endswith(b"\n") else out.decode().split("\n"):
        head, tab, rest = line.partition("\t")
        if tab and head.strip().isdigit():
            rows.append((int(head), rest))
        else:
            rows.append((None, line[7:]))  # nl pads an unnumbered line with width + separator
    return rows


@needs_tools
@pytest.mark.parametrize(("cmd", "args"), [
    (["cat", "-n"], {}),
    (["nl", "-ba"], {}),
    (["nl"], {"skip_blank": True}),
    (["nl", "-ba", "-v", "0"], {"start": 0}),
    (["nl", "-v", "100"], {"start": 100, "skip_blank": True}),
])
def test_number_agrees_with_cat_n_and_nl(tmp_path: Path, cmd: list[str], args: dict[str, Any]) -> None:
    write_samples(tmp_path)
    for name in SAMPLES:
        gold = parse_numbered(run([*cmd, name], cwd=tmp_path))
        data = ok("text.number", {"path": name, **args}, tmp_path)
        ours = [(r["line_number"], r["line"]) for r in data["lines"]]
        assert ours == gold, (name, cmd)


@needs_tools
def test_reverse_agrees_with_tac(tmp_path: Path) -> None:
    write_samples(tmp_path)
    for name, content in SAMPLES.items():
        if not content.endswith(b"\n"):
            continue  # tac glues an unterminated last line to the next; text.reverse keeps lines apart
        data = ok("text.reverse", {"path": name}, tmp_path)
        assert [r["line"] for r in data["lines"]] == lines_of(run(["tac", name], cwd=tmp_path)), name
        assert [r["line_number"] for r in data["lines"]] == list(range(data["count"], 0, -1))
    data = ok("text.reverse", {"path": "no_newline.txt"}, tmp_path)
    assert [r["line"] for r in data["lines"]] == ["foo three", "foo two", "foo one"]


@needs_tools
@pytest.mark.parametrize("pattern", ["foo", "o", "e", " ", "FOO", "\u00e9", "foo foo", "zzz"])
@pytest.mark.parametrize("ignore_case", [False, True])
def test_count_agrees_with_grep(tmp_path: Path, pattern: str, ignore_case: bool) -> None:
    write_samples(tmp_path)
    flags = ["-F"] + (["-i"] if ignore_case else [])
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    for name in SAMPLES:
        o = subprocess.run(["grep", "-o", *flags, "--", pattern, name], cwd=tmp_path, env=env,
                           capture_output=True).stdout
        c = subprocess.run(["grep", "-c", *flags, "--", pattern, name], cwd=tmp_path, env=env,
                           capture_output=True).stdout
        occ = ok("text.count", {"path": name, "pattern": pattern, "ignore_case": ignore_case}, tmp_path)
        lines = ok("text.count", {"path": name, "pattern": pattern, "ignore_case": ignore_case,
                                  "what": "lines"}, tmp_path)
        assert occ["total"] == len(o.splitlines()), (name, pattern)
        assert lines["total"] == int(c), (name, pattern)


@needs_tools
@pytest.mark.parametrize(("pattern", "ere"), [("[0-9]+", "[0-9]+"), ("fo+", "fo+"), ("^foo", "^foo"),
                                              ("o\\b", "o\\b"), ("[a-z]{3}", "[a-z]{3}")])
def test_count_regex_agrees_with_grep_oE(tmp_path: Path, pattern: str, ere: str) -> None:
    write_samples(tmp_path)
    for name in SAMPLES:
        o = subprocess.run(["grep", "-oE", ere, name], cwd=tmp_path, env=C_ENV, capture_output=True).stdout
        data = ok("text.count", {"path": name, "pattern": pattern, "regex": True}, tmp_path)
        assert data["total"] == len(o.splitlines()), (name, pattern)


def test_count_over_a_directory_lists_files_that_match(tmp_path: Path) -> None:
    write_samples(tmp_path / "d")
    (tmp_path / "d" / "blob.bin").write_bytes(b"foo\x00foo")
    data = ok("text.count", {"path": "d", "pattern": "foo"}, tmp_path)
    assert data["total"] == sum(b.count(b"foo") for b in SAMPLES.values())
    assert all(r["count"] > 0 for r in data["files"])
    assert any(s["path"].endswith("blob.bin") for s in data["skipped"])


COMM_FILES = [
    (b"apple\nbanana\ncherry\ncherry\nkiwi\n", b"banana\ncherry\ndate\nkiwi\nkiwi\n"),
    (b"a\nb\nc\n", b"a\nb\nc\n"),
    (b"", b"x\ny\n"),
    (b"b\nd\nf", b"a\nb\nc\nd\n"),
    ("\u00e9t\u00e9\nhiver\n".encode(), "hiver\n\u00e9t\u00e9\nprintemps\n".encode()),
    (b"z\ny\nx\nx\n", b"x\nq\nz\n"),  # unsorted: compared against comm of the sorted files
]


@needs_tools
@pytest.mark.parametrize("idx", range(len(COMM_FILES)))
def test_compare_agrees_with_comm(tmp_path: Path, idx: int) -> None:
    a, b = COMM_FILES[idx]
    (tmp_path / "a").write_bytes(a)
    (tmp_path / "b").write_bytes(b)
    run(["sh", "-c", "sort a > a.s && sort b > b.s"], cwd=tmp_path)
    sorted_input = (tmp_path / "a.s").read_bytes() == a and (tmp_path / "b.s").read_bytes() == b
    for flag, show in (("-12", "both"), ("-23", "first"), ("-13", "second")):
        gold = lines_of(run(["comm", flag, "a.s", "b.s"], cwd=tmp_path))
        data = ok("text.compare", {"path": "a", "other": "b", "show": show}, tmp_path)
        ours = [r["line"] for r in data["lines"]]
        assert all(r["where"] == show for r in data["lines"])
        if sorted_input:
            assert ours == gold, (flag, idx)
        else:
            assert sorted(ours) == gold, (flag, idx)
    full = ok("text.compare", {"path": "a", "other": "b"}, tmp_path)
    assert full["both"] + full["only_first"] == len(lines_of(a))
    assert full["both"] + full["only_second"] == len(lines_of(b))
    if sorted_input:
        assert full["sorted_first"] and full["sorted_second"]


@needs_tools
def test_compare_distinct_is_comm_of_sort_u(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"x\nx\ny\nz\n")
    (tmp_path / "b").write_bytes(b"z\nx\nx\nx\n")
    run(["sh", "-c", "sort -u a > a.s && sort -u b > b.s"], cwd=tmp_path)
    for flag, show in (("-12", "both"), ("-23", "first"), ("-13", "second")):
        gold = lines_of(run(["comm", flag, "a.s", "b.s"], cwd=tmp_path))
        data = ok("text.compare", {"path": "a", "other": "b", "show": show, "distinct": True}, tmp_path)
        assert sorted(r["line"] for r in data["lines"]) == gold


# ---------------------------------------------------------------- undo through the journal

@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    return make_env(tmp_path, monkeypatch)


def tree_bytes(root: Path) -> dict[str, tuple[int, bytes]]:
    out: dict[str, tuple[int, bytes]] = {}
    for dirpath, dirnames, files in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".local"]
        for name in files:
            p = Path(dirpath, name)
            out[str(p.relative_to(root))] = (stat.S_IMODE(os.lstat(p).st_mode), p.read_bytes())
    return out


def test_replace_over_100_files_is_undone_byte_for_byte(env: Env) -> None:
    rng = random.Random(5)
    proj = env.cwd / "proj"
    for i in range(100):
        d = proj / f"pkg{i % 7}" / ("deep" if i % 3 == 0 else "")
        d.mkdir(parents=True, exist_ok=True)
        body = "".join(rng.choice(["old_name = 1\n", "x\r\n", "caf\u00e9 old_name\n", "\n", "  old_name()"])
                       for _ in range(rng.randint(1, 30)))
        p = d / f"m{i}.py"
        p.write_bytes(body.encode() + b"# old_name\n")
        os.chmod(p, 0o755 if i % 5 == 0 else 0o640)
    (proj / "readme.txt").write_text("old_name stays\n")
    before = tree_bytes(env.cwd)
    r = env.run("text.replace", {"path": "proj", "find": "old_name", "replace": "new_name", "include": "*.py"})
    assert r.ok, r.error
    assert r.data is not None and r.data["files_changed"] == 100
    after = tree_bytes(env.cwd)
    assert after != before
    changed = [k for k in before if before[k] != after[k]]
    assert len(changed) == 100 and all(k.endswith(".py") for k in changed)
    assert all(after[k][0] == before[k][0] for k in before)  # modes kept by the edit
    J.undo(state=env.state, data=env.data)
    assert tree_bytes(env.cwd) == before


def test_insert_and_prefix_are_undone(env: Env) -> None:
    (env.cwd / "f.txt").write_bytes(b"a\n\nb")
    before = tree_bytes(env.cwd)
    with env.disp.journal.plan():  # type: ignore[union-attr]
        assert env.run("text.insert", {"path": "f.txt", "text": "top"}).ok
        assert env.run("text.prefix", {"path": "f.txt", "prefix": "- "}).ok
    assert (env.cwd / "f.txt").read_bytes() == b"- top\n- a\n\n- b"
    J.undo(state=env.state, data=env.data)
    assert tree_bytes(env.cwd) == before


def test_a_replace_with_no_match_writes_nothing_and_leaves_nothing_to_undo(env: Env) -> None:
    (env.cwd / "f.txt").write_text("abc\n")
    ino = os.stat(env.cwd / "f.txt").st_ino
    r = env.run("text.replace", {"path": "f.txt", "find": "zzz", "replace": "y"})
    assert r.ok and r.data is not None and r.data["files_changed"] == 0
    assert os.stat(env.cwd / "f.txt").st_ino == ino
    with pytest.raises(J.NotFound):
        J.undo(state=env.state, data=env.data)


# ---------------------------------------------------------------- previews (dry run)

def test_dry_run_shows_a_unified_diff_and_changes_nothing(tmp_path: Path) -> None:
    write_samples(tmp_path)
    r = call("text.replace", {"path": ".", "find": "foo", "replace": "bar", "include": "*.txt"}, tmp_path,
             dry_run=True)
    assert r.status == "dry-run" and r.data is not None
    assert r.data["count"] == sum(1 for b in SAMPLES.values() if b"foo" in b)
    assert "\n-foo bar\n-baz foo foo\n" in r.data["diff"] and "\n+bar bar\n+baz bar bar\n" in r.data["diff"]
    assert "\\ No newline at end of file" in r.data["diff"]
    for name, data in SAMPLES.items():
        assert (tmp_path / name).read_bytes() == data
    r = call("text.insert", {"path": "single.txt", "text": "hdr"}, tmp_path, dry_run=True)
    assert r.data is not None and r.data["diff"].endswith("@@ -1 +1,2 @@\n+hdr\n foo\n")


@needs_tools
def test_unified_diff_body_agrees_with_diff_u(tmp_path: Path) -> None:
    if shutil.which("diff") is None:
        pytest.skip("diff missing")
    old = "a\nb\nc\nd\ne\nf\ng\nh\n"
    new = "a\nB\nc\nd\ne\nf\ng\nH\nextra"
    (tmp_path / "old").write_text(old)
    (tmp_path / "new").write_text(new)
    gold = subprocess.run(["diff", "-u", "old", "new"], cwd=tmp_path, capture_output=True, text=True).stdout
    ours = unified_diff("x", old, new)
    assert ours.splitlines()[2:] == gold.splitlines()[2:]


# ---------------------------------------------------------------- typed errors and refusals

@pytest.mark.parametrize("name", ["text.replace", "text.insert", "text.prefix", "text.number", "text.count",
                                  "text.reverse", "text.compare"])
def test_missing_file_is_not_found_naming_it(tmp_path: Path, name: str) -> None:
    args: dict[str, Any] = {"text.replace": {"find": "a", "replace": "b"}, "text.insert": {"text": "a"},
                            "text.prefix": {"prefix": "a"}, "text.count": {"pattern": "a"},
                            "text.compare": {"other": "nope.txt"}}.get(name, {})
    r = call(name, {"path": "nope.txt", **args}, tmp_path)
    assert r.status == "failed" and r.error is not None
    assert r.error["type"] == "NotFound" and r.error["target"] == str(tmp_path / "nope.txt")


def test_bad_regex_and_bad_replacement_are_invalid(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("abc\n")
    r = call("text.replace", {"path": "f", "find": "(", "replace": "x", "regex": True}, tmp_path)
    assert r.status == "invalid" and r.error is not None and r.error["target"] == "args.find"
    for bad in ("\\9", "\\g<nope>"):
        r = call("text.replace", {"path": "f", "find": "(a)", "replace": bad, "regex": True}, tmp_path)
        assert r.status == "invalid" and r.error is not None and r.error["target"] == "args.replace", bad
    r = call("text.count", {"path": "f", "pattern": "[", "regex": True}, tmp_path)
    assert r.status == "invalid" and r.error is not None and r.error["target"] == "args.pattern"
    assert ok("text.replace", {"path": "f", "find": "(", "replace": "x"}, tmp_path)["replacements"] == 0
    assert (tmp_path / "f").read_text() == "abc\n"


@pytest.mark.parametrize("content", [b"abc\x00def\n", b"caf\xe9 latin-1\n", b"\xff\xfe\x00a"])
@pytest.mark.parametrize("name", ["text.replace", "text.number", "text.count", "text.reverse"])
def test_binary_and_non_utf8_files_are_refused_naming_the_file(tmp_path: Path, content: bytes,
                                                                name: str) -> None:
    (tmp_path / "blob").write_bytes(content)
    args: dict[str, Any] = {"text.replace": {"find": "a", "replace": "b"},
                            "text.count": {"pattern": "a"}}.get(name, {})
    r = call(name, {"path": "blob", **args}, tmp_path)
    assert r.status == "failed" and r.error is not None
    assert r.error["type"] == "NotText" and r.error["target"] == str(tmp_path / "blob")
    assert (tmp_path / "blob").read_bytes() == content


def test_a_directory_walk_skips_binary_links_and_vcs_metadata(tmp_path: Path) -> None:
    d = tmp_path / "d"
    (d / ".git").mkdir(parents=True)
    (d / ".git" / "note.txt").write_text("foo\n")
    (d / "bin.txt").write_bytes(b"foo\x00")
    (d / "latin.txt").write_bytes(b"foo \xe9\n")
    (d / "ok.txt").write_text("foo\n")
    (tmp_path / "outside.txt").write_text("foo\n")
    os.symlink(tmp_path / "outside.txt", d / "link.txt")
    data = ok("text.replace", {"path": "d", "find": "foo", "replace": "bar"}, tmp_path)
    assert [r["path"] for r in data["files"]] == [str(d / "ok.txt")]
    reasons = {Path(s["path"]).name: s["reason"] for s in data["skipped"]}
    assert set(reasons) == {"bin.txt", "latin.txt", "link.txt"}
    assert "symbolic link" in reasons["link.txt"]
    assert (d / ".git" / "note.txt").read_text() == "foo\n"
    assert (tmp_path / "outside.txt").read_text() == "foo\n"
    assert (d / "bin.txt").read_bytes() == b"foo\x00"


def test_a_named_symlink_edits_its_target_and_keeps_the_link(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_text("foo\n")
    os.symlink("real.txt", tmp_path / "ln")
    ok("text.replace", {"path": "ln", "find": "foo", "replace": "bar"}, tmp_path)
    assert os.path.islink(tmp_path / "ln") and (tmp_path / "real.txt").read_text() == "bar\n"


def test_mode_is_kept_and_the_reading_calls_refuse_a_directory(tmp_path: Path) -> None:
    p = tmp_path / "run.sh"
    p.write_text("echo foo\n")
    os.chmod(p, 0o751)
    ok("text.replace", {"path": "run.sh", "find": "foo", "replace": "bar"}, tmp_path)
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o751
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".nlsh-")]  # no temp file left
    for name in ("text.number", "text.reverse"):
        r = call(name, {"path": "."}, tmp_path)
        assert r.error is not None and r.error["type"] == "WrongType"


def test_the_floor_is_applied_to_each_file_of_a_walk(env: Env) -> None:
    home = env.home
    (home / ".bashrc").write_text("alias foo=bar\n")
    (home / "plain.rc").write_text("foo\n")
    r = env.run("text.replace", {"path": "~", "find": "foo", "replace": "x", "include": "*rc",
                                 "recursive": False})
    assert r.ok, r.error
    assert r.data is not None
    assert (home / ".bashrc").read_text() == "alias foo=bar\n"
    assert any(s["path"].endswith(".bashrc") and "protected" in s["reason"] for s in r.data["skipped"])
    assert (home / "plain.rc").read_text() == "x\n"


# ---------------------------------------------------------------- registration

TEXT_CALLS = ["text.replace", "text.insert", "text.prefix", "text.number", "text.count", "text.compare",
              "text.reverse"]


def test_specs_phrasings_and_examples() -> None:
    from models.training.corpus import check, generated

    for name in TEXT_CALLS:
        spec = REG.get(name)
        assert 8 <= len(spec.phrasings) <= 20, name
        assert 3 <= len(spec.examples) <= 5, name
        writes = name in ("text.replace", "text.insert", "text.prefix")
        assert spec.undoable is writes and (spec.preview is not None) is writes
        assert spec.capability == ("fs.write" if writes else "fs.read")
    n = 0
    for ex in generated(REG, 3, 3):
        if ex.source.startswith("template:text."):
            check(ex.plan, REG, ex.prompt)
            n += 1
    assert n > 100


def test_examples_validate() -> None:
    from syscalls.validate import validate

    for name in TEXT_CALLS:
        for ex in REG.get(name).examples:
            validate({"call": name, "args": ex.args}, REG)
