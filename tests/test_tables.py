"""table.* calls: differential against sort/head/tail/wc -l/grep/cut/uniq -c on real trees, properties,
typed errors, whole-result references ($N / $prev) and a plan run end to end."""

from __future__ import annotations

import fnmatch
import itertools
import os
import random
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.plan import Plan, PlanStep, expand_refs, is_whole_ref
from models.scripted import ScriptedBackend
from models.validation import validate_step
from nlshell.events import Finished, Intent
from nlshell.kernel import Kernel
from syscalls.builtin import tables as T
from syscalls.dispatcher import Dispatcher
from syscalls.errors import InvalidRequest
from syscalls.permissions import KNOWN_CAPABILITIES, Policy, PolicyGate, default_rules
from syscalls.registry import default_registry
from syscalls.types import Answer, CallContext, Invocation, Question, Risk, SyscallRequest, SyscallResult
from syscalls.validate import validate
from tests.kernel_support import TinyPlanner
from tests.model_devtree import execute, sandboxed, sleeper

REG = default_registry()
CALLS = ["table.sort", "table.limit", "table.filter", "table.select", "table.count", "table.unique"]
C = {"LC_ALL": "C", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
GNU = shutil.which("find") is not None and shutil.which("sort") is not None

needs_gnu = pytest.mark.skipif(not GNU, reason="GNU find/sort are not installed")


def run(call: str, **args: Any) -> SyscallResult:
    return Dispatcher(REG, max_rows=10**6).handle(validate({"call": call, "args": args}, REG), Path.cwd())


def ok(call: str, **args: Any) -> dict[str, Any]:
    res = run(call, **args)
    assert res.ok, res.error
    assert res.data is not None
    return res.data


def sh(cmd: str, cwd: Path) -> list[str]:
    out = subprocess.run(["bash", "-c", cmd], cwd=cwd, env=C, capture_output=True,
                         text=True, check=True)
    return out.stdout.splitlines()


# ------------------------------------------------------------------ fixture tree

NAMES = ["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta", "iota", "kappa", "Lambda", "mu",
         "nu_2", "xi-3", "omicron", "pi"]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Files in three folders with repeated and distinct sizes, several extensions, a link and empty dirs."""
    root = tmp_path_factory.mktemp("tables")
    rng = random.Random(1234)
    for sub in ("", "src", "src/deep", "logs", "empty"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    sizes = [0, 1, 7, 7, 100, 100, 100, 512, 4096, 4097, 10_000, 33, 33, 250_000]
    n = 0
    for folder in ("", "src", "src/deep", "logs"):
        for name in rng.sample(NAMES, 8):
            ext = rng.choice([".dat", ".log", ".txt", ".py", ".DAT"])
            (root / folder / f"{name}{ext}").write_bytes(b"x" * rng.choice(sizes))
            n += 1
    (root / "link.dat").symlink_to("src")
    return root


def find_rows(root: Path, **args: Any) -> list[dict[str, Any]]:
    data = ok("fs.find", path=str(root), details=True, **args)
    return list(data["entries"])


# ------------------------------------------------------------------ registration

def test_every_table_call_is_registered_as_a_read_of_data() -> None:
    assert "data.read" in KNOWN_CAPABILITIES
    for name in CALLS:
        spec = REG.get(name)
        assert spec.capability == "data.read" and spec.risk is Risk.READ and not spec.undoable, name
        assert spec.preview is None  # a read: --dry-run runs it
        assert spec.view.kind in ("table", "record")
        assert 3 <= len(spec.examples) <= 6, name
        for ex in spec.examples:  # each example is a valid step (its rows are a reference)
            assert any(is_whole_ref(v) for v in ex.args.values())
            validate_step(name, ex.args, REG)
        assert 8 <= len(spec.phrasings) <= 20, (name, len(spec.phrasings))
        assert spec.args_schema["properties"]["rows"]["x-nlsh"] == "rows"


def test_the_default_policy_allows_table_calls_without_asking(tmp_path: Path) -> None:
    def never(q: Question) -> Answer:
        raise AssertionError(f"asked about {q.request.call}")

    disp = Dispatcher(REG, gate=PolicyGate(Policy(default_rules())))
    req = validate({"call": "table.count", "args": {"rows": [{"a": 1}]}}, REG)
    res = disp.handle(req, Invocation(cwd=tmp_path, approve=never))
    assert res.ok and res.data == {"count": 1}
    dry = disp.handle(req, Invocation(cwd=tmp_path, approve=never, dry_run=True))
    assert dry.status == "ok" and dry.data == {"count": 1}  # a read runs under --dry-run


# ------------------------------------------------------------------ differential

@needs_gnu
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_sort_by_path_is_sort(tree: Path, order: str) -> None:
    rows = find_rows(tree)
    got = [r["path"] for r in ok("table.sort", rows=rows, by="path", order=order)["rows"]]
    assert got == sh(f"find {tree} | sort" + (" -r" if order == "desc" else ""), tree)


@needs_gnu
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_sort_by_size_then_path_is_sort_n(tree: Path, order: str) -> None:
    rows = find_rows(tree, type="file")
    by_path = ok("table.sort", rows=rows, by="path", order=order)["rows"]
    data = ok("table.sort", rows=by_path, by="size_bytes", order=order)  # stable: path order within a size
    got = [f"{r['size_bytes']} {r['path']}" for r in data["rows"]]
    flag = "r" if order == "desc" else ""
    assert got == sh(f"find {tree} -type f -printf '%s %p\\n' | sort -k1,1n{flag} -k2{flag}", tree)
    assert data["count"] == len(rows)


@needs_gnu
@pytest.mark.parametrize("n", [0, 1, 3, 10, 1000])
def test_limit_first_and_last_are_head_and_tail(tree: Path, n: int) -> None:
    rows = ok("table.sort", rows=find_rows(tree), by="path")["rows"]
    head = [r["path"] for r in ok("table.limit", rows=rows, first=n)["rows"]]
    tail = [r["path"] for r in ok("table.limit", rows=rows, last=n)["rows"]]
    assert head == sh(f"find {tree} | sort | head -n {n}", tree)
    assert tail == sh(f"find {tree} | sort | tail -n {n}", tree)


@needs_gnu
@pytest.mark.parametrize("args", [{}, {"type": "file"}, {"name": "*.dat"}, {"type": "dir"}])
def test_count_is_wc_l(tree: Path, args: dict[str, str]) -> None:
    flags = {"type": {"file": "-type f", "dir": "-type d"}, "name": {"*.dat": "-name '*.dat'"}}
    expr = " ".join(flags[k][v] for k, v in args.items())
    assert ok("table.count", rows=find_rows(tree, **args))["count"] == int(sh(f"find {tree} {expr} | wc -l", tree)[0])


# (our op, value, the shell filter over `find ROOT | sort`)
FILTERS = [
    ("contains", "/src/", "grep -F /src/"),
    ("not_contains", "/src/", "grep -vF /src/"),
    ("contains", "a", "grep -F a"),
    ("not_contains", "a", "grep -vF a"),
    ("regex", r"\.(dat|log)$", r"grep -E '\.(dat|log)$'"),
    ("not_regex", r"\.(dat|log)$", r"grep -vE '\.(dat|log)$'"),
    ("regex", r"/[a-e][a-z]*\.", r"grep -E '/[a-e][a-z]*\.'"),
    ("glob", "*/src/*", None),  # find -path
    ("not_glob", "*/src/*", None),
    ("glob", "*.[dD]??", None),
    ("eq", "", "grep -x ''"),
]


@needs_gnu
@pytest.mark.parametrize(("op", "value", "shell"), FILTERS)
def test_filter_on_text_is_grep_or_find_path(tree: Path, op: str, value: str, shell: str | None) -> None:
    rows = ok("table.sort", rows=find_rows(tree), by="path")["rows"]
    got = [r["path"] for r in ok("table.filter", rows=rows, column="path", op=op, value=value)["rows"]]
    if shell is None:
        neg = "! " if op == "not_glob" else ""
        want = sh(f"find {tree} {neg}-path '{value}' | sort", tree)
    else:
        want = sh(f"find {tree} | sort | {{ {shell} || true; }}", tree)
    assert got == want


@needs_gnu
@pytest.mark.parametrize(("op", "n", "find_size"), [("gt", 100, "+100c"), ("lt", 100, "-100c"),
                                                    ("eq", 100, "100c"), ("ge", 4096, "+4095c"),
                                                    ("le", 33, "-34c"), ("gt", 0, "+0c")])
def test_numeric_filter_is_find_size(tree: Path, op: str, n: int, find_size: str) -> None:
    rows = find_rows(tree, type="file")
    got = sorted(r["path"] for r in ok("table.filter", rows=rows, column="size_bytes", op=op, value=str(n))["rows"])
    assert got == sh(f"find {tree} -type f -size {find_size} | sort", tree)


@needs_gnu
def test_select_is_cut(tree: Path) -> None:
    rows = ok("table.sort", rows=find_rows(tree, type="file"), by="path")["rows"]
    sel = ok("table.select", rows=rows, columns=["size_bytes", "path"])["rows"]
    assert all(list(r) == ["size_bytes", "path"] for r in sel)
    lines = sh(f"find {tree} -type f -printf '%s %p\\n' | sort -k2", tree)
    assert [str(r["size_bytes"]) for r in sel] == sh(f"find {tree} -type f -printf '%s %p\\n' | sort -k2 | "
                                                      "cut -d' ' -f1", tree)
    assert [f"{r['size_bytes']} {r['path']}" for r in sel] == lines
    only = ok("table.select", rows=rows, columns=["path"])["rows"]
    assert [r["path"] for r in only] == sh(f"find {tree} -type f -printf '%s %p\\n' | sort -k2 | cut -d' ' -f2",
                                           tree)


@needs_gnu
def test_unique_is_sort_uniq_c(tree: Path) -> None:
    rows = find_rows(tree, type="file")
    got = {r["size_bytes"]: r["count"] for r in ok("table.unique", rows=rows, column="size_bytes")["rows"]}
    want = {int(v): int(c) for c, v in (line.split() for line in
                                        sh(f"find {tree} -type f -printf '%s\\n' | sort | uniq -c", tree))}
    assert got == want and sum(got.values()) == len(rows)
    words = {"f": "file", "d": "dir", "l": "symlink"}
    types = {r["type"]: r["count"] for r in ok("table.unique", rows=find_rows(tree), column="type")["rows"]}
    assert types == {words[v]: int(c) for c, v in (line.split() for line in
                                                    sh(f"find {tree} -printf '%y\\n' | sort | uniq -c", tree))}


@needs_gnu
def test_unique_whole_rows_is_sort_uniq_c(tree: Path) -> None:
    rows = ok("table.select", rows=find_rows(tree, type="file"), columns=["size_bytes"])["rows"]
    got = ok("table.unique", rows=rows)["rows"]
    want = sh(f"find {tree} -type f -printf '%s\\n' | sort | uniq -c", tree)
    assert sorted((r["count"], r["size_bytes"]) for r in got) == sorted(
        (int(c), int(v)) for c, v in (line.split() for line in want))


# ------------------------------------------------------------------ properties

CELL = st.one_of(st.none(), st.integers(-1000, 1000), st.text(max_size=6),
                 st.floats(allow_nan=False, allow_infinity=False, width=32))
ROWS = st.lists(st.fixed_dictionaries({"k": CELL}, optional={"v": st.integers(0, 5), "t": st.text(max_size=3)}),
                max_size=30)
NUM_ROWS = st.lists(st.fixed_dictionaries({"k": st.one_of(st.none(), st.integers(-50, 50)), "i": st.integers()}),
                    max_size=30)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _ctx(call: str) -> CallContext:
    return Dispatcher(REG).context(call, Path.cwd())


def _fill(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every row has column k (the check for unknown columns looks at the union)."""
    return rows if not rows or any("k" in r for r in rows) else [{"k": None}, *rows]


@SETTINGS
@given(ROWS, st.sampled_from(["asc", "desc"]))
def test_sort_is_an_ordered_permutation(rows: list[dict[str, Any]], order: str) -> None:
    rows = _fill(rows)
    out = T.table_sort(_ctx("table.sort"), {"rows": rows, "by": "k", "order": order})["rows"]
    assert Counter(map(repr, out)) == Counter(map(repr, rows))
    present = [r for r in out if r.get("k") is not None]
    assert out[len(present):] == [r for r in rows if r.get("k") is None]  # nulls last, in their order
    numeric = all(T._is_number(r["k"]) for r in present)
    keys = [float(r["k"]) if numeric else T.text(r["k"]) for r in present]
    assert keys == sorted(keys, reverse=order == "desc")


@SETTINGS
@given(NUM_ROWS)
def test_sort_is_stable(rows: list[dict[str, Any]]) -> None:
    rows = [{**r, "i": i} for i, r in enumerate(_fill(rows))]
    out = T.table_sort(_ctx("table.sort"), {"rows": rows, "by": "k"})["rows"]
    for a, b in itertools.pairwise(out):
        if a["k"] == b["k"]:
            assert a["i"] < b["i"]


@SETTINGS
@given(ROWS, st.integers(0, 40))
def test_limit_is_a_prefix_or_suffix_of_at_most_n(rows: list[dict[str, Any]], n: int) -> None:
    first = T.table_limit(_ctx("table.limit"), {"rows": rows, "first": n})
    last = T.table_limit(_ctx("table.limit"), {"rows": rows, "last": n})
    assert first["count"] == len(first["rows"]) == min(n, len(rows)) == last["count"]
    assert first["rows"] == rows[: len(first["rows"])]
    assert last["rows"] == rows[len(rows) - len(last["rows"]):]


def _oracle(op: str, cell: Any, value: str) -> bool:
    """The filter's meaning written out once more, by cases."""
    if cell is None:
        return False
    s = T.text(cell)
    if op == "eq":
        return s == value
    if op == "contains":
        return value in s
    if op == "glob":
        return fnmatch.fnmatchcase(s, value)
    if op == "regex":
        return re.search(value, s) is not None
    raise AssertionError(op)


@SETTINGS
@given(st.lists(st.fixed_dictionaries({"k": st.one_of(st.none(), st.text(alphabet="ab*.", max_size=4))}),
                max_size=25),
       st.sampled_from(["eq", "contains", "glob", "regex"]), st.text(alphabet="ab*.", max_size=3))
def test_filter_keeps_exactly_the_matching_rows_and_its_negation_the_rest(
        rows: list[dict[str, Any]], op: str, value: str) -> None:
    rows = _fill(rows)
    neg = {"eq": "ne", "contains": "not_contains", "glob": "not_glob", "regex": "not_regex"}[op]
    if op == "regex":
        value = re.escape(value)
    pos = T.table_filter(_ctx("table.filter"), {"rows": rows, "column": "k", "op": op, "value": value})["rows"]
    rest = T.table_filter(_ctx("table.filter"), {"rows": rows, "column": "k", "op": neg, "value": value})["rows"]
    assert pos == [r for r in rows if _oracle(op, r.get("k"), value)]
    assert rest == [r for r in rows if not _oracle(op, r.get("k"), value)]


@SETTINGS
@given(NUM_ROWS, st.sampled_from(["lt", "le", "gt", "ge", "eq", "ne"]), st.integers(-60, 60))
def test_numeric_filter_compares_numbers(rows: list[dict[str, Any]], op: str, n: int) -> None:
    rows = _fill(rows)
    import operator
    fn = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge, "eq": operator.eq}
    out = T.table_filter(_ctx("table.filter"), {"rows": rows, "column": "k", "op": op, "value": str(n)})["rows"]
    if op == "ne":
        assert out == [r for r in rows if r.get("k") is None or r["k"] != n]
    else:
        assert out == [r for r in rows if r.get("k") is not None and fn[op](r["k"], n)]


@SETTINGS
@given(ROWS)
def test_unique_counts_add_up_and_count_counts(rows: list[dict[str, Any]]) -> None:
    rows = _fill(rows)
    out = T.table_unique(_ctx("table.unique"), {"rows": rows, "column": "k"})["rows"]
    assert sum(r["count"] for r in out) == len(rows)
    assert len({repr(r["k"]) for r in out}) == len(out)
    assert T.table_count(_ctx("table.count"), {"rows": rows}) == {"count": len(rows)}
    whole = T.table_unique(_ctx("table.unique"), {"rows": rows})["rows"]
    assert sum(r.get("count", r.get("occurrences", 0)) for r in whole) == len(rows)


# ------------------------------------------------------------------ typed errors

def test_an_unknown_column_names_the_columns_that_exist() -> None:
    rows = [{"path": "/a", "type": "file"}, {"path": "/b", "type": "dir", "size_bytes": 3}]
    cases: list[tuple[str, dict[str, Any]]] = [
        ("table.sort", {"by": "size"}),
        ("table.filter", {"column": "nme", "op": "eq", "value": "x"}),
        ("table.select", {"columns": ["path", "owner"]}),
        ("table.unique", {"column": "kind"}),
    ]
    for call, args in cases:
        res = run(call, rows=rows, **args)
        assert res.status == "invalid", call
        assert res.error is not None
        assert res.error["call"] == call and "no column" in res.error["message"]
        assert "path, type, size_bytes" in res.error["hint"]
    assert ok("table.sort", rows=[], by="anything") == {"rows": [], "count": 0}  # nothing to get wrong


@pytest.mark.parametrize(("call", "args", "match"), [
    ("table.limit", {}, "exactly one of first or last"),
    ("table.limit", {"first": 1, "last": 1}, "exactly one of first or last"),
    ("table.filter", {"column": "n", "op": "gt", "value": "ten"}, "not a number"),
    ("table.filter", {"column": "s", "op": "regex", "value": "(unclosed"}, "not a valid regular expression"),
    ("table.sort", {"by": "s", "numeric": True}, "not a number"),
])
def test_bad_arguments_are_typed(call: str, args: dict[str, Any], match: str) -> None:
    res = run(call, rows=[{"n": 5, "s": "abc"}, {"n": 7, "s": "12"}], **args)
    assert res.status == "invalid" and res.error is not None and match in res.error["message"], res.error
    assert res.error["type"] == "InvalidRequest" and res.error["call"] == call


def test_rows_must_be_rows() -> None:
    for bad in ("$0", [1, 2], [{"a": 1}, "x"]):
        with pytest.raises(InvalidRequest):
            validate({"call": "table.count", "args": {"rows": bad}}, REG)
    with pytest.raises(InvalidRequest, match="non-empty"):
        validate({"call": "table.select", "args": {"rows": [], "columns": []}}, REG)


def test_numeric_text_and_mixed_columns() -> None:
    rows = [{"v": "10"}, {"v": "9"}, {"v": "100"}, {"v": None}, {}]
    assert [r.get("v") for r in ok("table.sort", rows=rows, by="v")["rows"]] == ["10", "100", "9", None, None]
    assert [r.get("v") for r in ok("table.sort", rows=rows, by="v", numeric=True)["rows"]] == \
        ["9", "10", "100", None, None]
    assert [r.get("v") for r in ok("table.sort", rows=rows, by="v", numeric=True, order="desc")["rows"]] == \
        ["100", "10", "9", None, None]
    mixed = [{"v": 2}, {"v": "b"}, {"v": 10}, {"v": True}]
    assert [r["v"] for r in ok("table.sort", rows=mixed, by="v")["rows"]] == [10, 2, "b", True]  # as text
    assert [r["v"] for r in ok("table.filter", rows=rows, column="v", op="eq", value="9")["rows"]] == ["9"]
    assert [r["name"] for r in ok("table.filter", rows=[{"name": "README"}, {"name": "x"}], column="name",
                                  op="glob", value="read*", ignore_case=True)["rows"]] == ["README"]
    dup = ok("table.unique", rows=[{"count": 1}, {"count": 1}])["rows"]
    assert dup == [{"count": 1, "occurrences": 2}]


# ------------------------------------------------------------------ references

def _res(call: str, data: dict[str, Any], **args: Any) -> SyscallResult:
    return SyscallResult(SyscallRequest(call, args), "ok", data=data)


def test_whole_references_receive_the_rows_without_fan_out() -> None:
    found = _res("fs.find", {"path": "/t", "entries": [{"path": "/t/a"}, {"path": "/t/b"}], "count": 2})
    assert expand_refs({"rows": "$0", "by": "path"}, [found]) == \
        [{"rows": [{"path": "/t/a"}, {"path": "/t/b"}], "by": "path"}]
    assert expand_refs({"rows": "$prev"}, [], found) == [{"rows": found.data["entries"]}]  # type: ignore[index]
    empty = _res("fs.find", {"path": "/t", "entries": [], "count": 0})
    assert expand_refs({"rows": "$0"}, [empty]) == [{"rows": []}]  # an empty table still runs (count 0)
    assert expand_refs({"path": "$0.path"}, [empty]) == []  # a fan-out over nothing runs zero times
    with pytest.raises(LookupError):
        expand_refs({"rows": "$1"}, [found])
    record = _res("sys.memory", {"total_bytes": 5, "available_bytes": 2})
    assert expand_refs({"rows": "$0"}, [record]) == [{"rows": [record.data]}]


def test_a_record_with_nested_tables_is_one_row_for_field_references() -> None:
    """proc.info has open_files / connections / children tables; $prev.pid is the process's own pid."""
    info = _res("proc.info", {"pid": 42, "name": "x", "open_files": [{"path": "/f", "fd": 3}],
                              "connections": [], "children": [{"pid": 43, "name": "c"}]}, pid=42)
    assert expand_refs({"pid": "$prev.pid"}, [], info) == [{"pid": 42}]
    no_files = _res("proc.info", {"pid": 42, "name": "x", "open_files": [], "connections": [], "children": []})
    assert expand_refs({"pid": "$prev.pid"}, [], no_files) == [{"pid": 42}]
    assert expand_refs({"rows": "$prev"}, [], info) == [{"rows": [info.data]}]


def test_without_a_known_spec_the_list_with_the_field_is_preferred() -> None:
    odd = _res("plugin.thing", {"notes": [{"text": "a"}], "items": [{"pid": 1}, {"pid": 2}]})
    assert expand_refs({"pid": "$0.pid"}, [odd]) == [{"pid": 1}, {"pid": 2}]
    merged = _res("fs.stat", {"results": [{"path": "/a", "size_bytes": 1}, {"path": "/b", "size_bytes": 2}]})
    assert expand_refs({"rows": "$0"}, [merged]) == [{"rows": merged.data["results"]}]  # type: ignore[index]


def test_a_real_proc_info_follow_up_acts_on_the_process(tmp_path: Path) -> None:
    """This process, with an open file and a child: both nested tables are there, and $prev.pid is us."""
    (tmp_path / "held").write_text("x")
    with sleeper() as child, open(tmp_path / "held"):
        res = run("proc.info", pid=os.getpid())
        assert res.ok and res.data is not None
        assert res.data["open_files"] and child.pid in [c["pid"] for c in res.data["children"]]
        assert expand_refs({"pid": "$prev.pid"}, [], res) == [{"pid": os.getpid()}]


def test_validation_of_whole_references() -> None:
    validate_step("table.sort", {"rows": "$0", "by": "size_bytes"}, REG)
    validate_step("table.count", {"rows": "$prev"}, REG)
    with pytest.raises(InvalidRequest, match="whole table"):
        validate_step("fs.delete", {"path": "$0"}, REG)
    with pytest.raises(InvalidRequest, match="whole table"):
        validate_step("table.select", {"rows": "$0", "columns": "$1"}, REG)
    with pytest.raises(InvalidRequest):
        validate_step("table.sort", {"rows": "$0.path", "by": "x"}, REG)  # a field is not a table
    validate_step("fs.delete", {"path": "$0.path"}, REG)  # field references as before


# ------------------------------------------------------------------ end to end

def _dat_tree(root: Path) -> None:
    rng = random.Random(7)
    sizes = rng.sample(range(1, 5000), 12)
    for i, size in enumerate(sizes):
        sub = root / ("a" if i % 3 == 0 else "b/c" if i % 3 == 1 else "")
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"f{i}.dat").write_bytes(b"d" * size)
        (sub / f"g{i}.txt").write_bytes(b"t" * (size // 2))


PLAN = [
    PlanStep("fs.find", {"path": ".", "name": "*.dat", "details": True}),
    PlanStep("table.sort", {"rows": "$0", "by": "size_bytes"}),
    PlanStep("table.limit", {"rows": "$1", "first": 3}),
]


@needs_gnu
def test_find_sort_head_plan_through_the_dispatcher(tmp_path: Path) -> None:
    _dat_tree(tmp_path)
    for step in PLAN:
        validate_step(step.call, step.args, REG)
    ex = execute(Plan("the three smallest .dat files", PLAN), sandboxed(REG, tmp_path), tmp_path)
    assert ex.ok, ex.error or [r.error for r in ex.results]
    assert [r.request.call for r in ex.results] == ["fs.find", "table.sort", "table.limit"]
    last = ex.results[-1].data
    assert last is not None
    got = [r["path"] for r in last["rows"]]
    want = [line.split(" ", 1)[1] for line in
            sh(f"find {tmp_path} -name '*.dat' -printf '%s %p\\n' | sort -n | head -3", tmp_path)]
    assert got == want and len(got) == 3


@needs_gnu
def test_the_kernel_runs_a_table_plan_and_a_follow_up_without_asking(tmp_path: Path) -> None:
    _dat_tree(tmp_path)

    def never(q: Question) -> Answer:
        raise AssertionError(f"asked about {q.request.call}")

    disp = Dispatcher(REG, gate=PolicyGate(Policy(default_rules())))
    k = Kernel(TinyPlanner(ScriptedBackend()), disp)  # type: ignore[arg-type]
    with k:
        end = k.run(Intent("three smallest", cwd=tmp_path, plan=Plan("three smallest", PLAN)), approve=never,
                    timeout=30)
        assert isinstance(end, Finished), end
        assert [r.status for r in end.results] == ["ok", "ok", "ok"]
        assert end.results[-1].data is not None
        got = [r["path"] for r in end.results[-1].data["rows"]]
        want = [line.split(" ", 1)[1] for line in
                sh(f"find {tmp_path} -name '*.dat' -printf '%s %p\\n' | sort -n | head -3", tmp_path)]
        assert got == want
        follow = Plan("how many are there", [PlanStep("table.count", {"rows": "$prev"})])
        end2 = k.run(Intent("how many are there", cwd=tmp_path, plan=follow), approve=never, timeout=30)
        assert isinstance(end2, Finished) and end2.results[0].data == {"count": 3}
