"""The execution-based evaluation harness itself (bench/eval_nl2bash.py, bench/cases_system.py).

The planner is replaced by a fixed plan per case: the subject here is the
harness's verdict, not the model.  A right plan must pass; a wrong call, a
wrong argument, a refusal and an unrefused unsupported intent must fail with
the right kind; gold-invalid rows must be skipped; nothing a wrong plan does
may leave the case's fixture.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.cases_system import CASES, SLEEPER_NAME, Case
from bench.cases_system import evaluate as evaluate_system
from bench.eval_common import CaseRecord, SandboxGate, execute, summarize
from bench.eval_nl2bash import TSV, _words, concrete, evaluate, family_of, in_scope, layout_for, sample
from models.errors import ModelOutputError
from models.plan import Plan, PlanStep
from syscalls.dispatcher import Dispatcher
from syscalls.registry import default_registry

REG = default_registry()


class FixedPlanner:
    """Returns the same plan for any intent (or raises the given model error)."""

    def __init__(self, *steps: tuple[str, dict[str, Any]], error: Exception | None = None) -> None:
        self.steps = steps
        self.error = error
        self.calls = 0

    def plan(self, intent: str, *, cwd: Path) -> Plan:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return Plan(intent=intent, steps=[PlanStep(c, dict(a)) for c, a in self.steps])


def run(tmp_path: Path, bash: str, nl: str, *steps: tuple[str, dict[str, Any]],
        planner: FixedPlanner | None = None) -> CaseRecord:
    words = bash.split()
    fam = family_of(words) if words[0] != "find" else "find"
    assert fam is not None
    case = {"id": "t", "nl": nl, "bash": bash, "family": fam}
    return evaluate(case, planner or FixedPlanner(*steps), REG, tmp_path)


RIGHT = [
    ("wc -l file", "Count the lines of 'file'", [("fs.wc", {"path": "file"})]),
    ("find . -name '*.md'", "find markdown files", [("fs.find", {"name": "*.md"})]),
    ("find . -type d -name build", "find directories named build",
     [("fs.find", {"name": "build", "type": "dir"})]),
    ("cat order.txt", "show order.txt", [("fs.read", {"path": "order.txt"})]),
    ("head -n 3 notes.txt", "first 3 lines of notes.txt", [("fs.read", {"path": "notes.txt", "head_lines": 3})]),
    ("grep -r texthere .", "search texthere recursively", [("fs.grep", {"pattern": "texthere", "path": "."})]),
    ("grep -rl texthere .", "files containing texthere", [("fs.grep", {"pattern": "texthere", "path": "."})]),
    ("ls", "list files", [("fs.list", {})]),
    ("du -a docs", "disk usage of everything in docs", [("fs.du", {"path": "docs"})]),
    ("mkdir foo", "make a directory foo", [("fs.mkdir", {"path": "foo"})]),
    ("mkdir -p a/b/c", "make a/b/c with parents", [("fs.mkdir", {"path": "a/b/c", "parents": True})]),
    ("rm foo.txt", "delete foo.txt", [("fs.delete", {"path": "foo.txt"})]),
    ("rm -r classes", "delete the classes directory", [("fs.delete", {"path": "classes", "recursive": True})]),
    ("chmod +x rr.sh", "make rr.sh executable", [("fs.chmod", {"path": "rr.sh", "mode": "+x"})]),
    ("touch index.html", "create index.html", [("fs.touch", {"path": "index.html"})]),
    ("cp report.txt copy.txt", "copy report.txt to copy.txt", [("fs.copy", {"src": "report.txt", "dest": "copy.txt"})]),
    ("mv blah1 blah1-new", "rename blah1 to blah1-new", [("fs.move", {"src": "blah1", "dest": "blah1-new"})]),
    ("ln -s target.txt lnk", "link lnk to target.txt", [("fs.symlink", {"path": "lnk", "target": "target.txt"})]),
    ("readlink -f mylink", "resolve mylink", [("fs.realpath", {"path": "mylink"})]),
    ("pwd", "print the working directory", [("sys.info", {})]),
    ("mount /dev/sdb1 /mnt", "mount the usb disk on /mnt", [("answer", {"text": "no", "supported": False})]),
    ("find . -name '*.tmp' -delete", "delete the .tmp files",
     [("fs.find", {"name": "*.tmp"}), ("fs.delete", {"path": "$0.path"})]),
    # calls that joined the registry after the families: numbered lines and file types
    ("cat -n notes.txt", "show notes.txt with line numbers", [("text.number", {"path": "notes.txt"})]),
    ("nl notes.txt", "number the lines of notes.txt", [("text.number", {"path": "notes.txt", "skip_blank": True})]),
    ("file notes.txt", "what type of file is notes.txt", [("fs.type", {"path": "notes.txt"})]),
    ("file -i notes.txt", "show the mime type of notes.txt", [("fs.type", {"path": "notes.txt"})]),
    ("file -bi big.bin", "only the mime type of big.bin", [("fs.type", {"path": "big.bin"})]),
]


@pytest.mark.parametrize(("bash", "nl", "steps"), RIGHT, ids=[r[0] for r in RIGHT])
def test_right_plan_passes(tmp_path: Path, bash: str, nl: str, steps: list[tuple[str, dict[str, Any]]]) -> None:
    rec = run(tmp_path, bash, nl, *steps)
    assert rec.verdict == "pass", (rec.kind, rec.detail, rec.missing, rec.extra)


WRONG = [
    # the case that used to pass: the wrong call echoes the file name of the intent
    ("wc -l file", "Count the lines of 'file'", [("fs.grep", {"pattern": "line", "path": "file"})], "wrong call"),
    ("wc -l file", "Count the lines of 'file'", [("fs.wc", {"path": "a.txt"})], "wrong argument"),
    ("find . -name '*.md'", "find markdown files", [("fs.find", {})], "wrong argument"),          # superset
    ("find . -name '*.md'", "find markdown files", [("fs.find", {"name": "*.txt"})], "wrong argument"),
    ("cat order.txt", "show order.txt", [("fs.read", {"path": "order.txt", "head_lines": 2})], "wrong argument"),
    ("head -n 3 notes.txt", "first 3 lines of notes.txt", [("fs.read", {"path": "notes.txt"})], "wrong argument"),
    ("grep -r texthere .", "search texthere", [("fs.grep", {"pattern": "line", "path": "."})], "wrong argument"),
    ("ls", "list files", [("fs.list", {"hidden": True})], "wrong argument"),                      # extra rows
    ("mkdir foo", "make a directory foo", [("fs.mkdir", {"path": "bar"})], "wrong argument"),
    ("mkdir foo", "make a directory foo", [("fs.list", {})], "wrong call"),
    # finds only the top-level "build" (the root of its own search), not nested/build
    ("find . -type d -name build", "find directories named build", [("fs.find", {"path": "build", "type": "dir"})],
     "wrong argument"),
    ("rm foo.txt", "delete foo.txt", [("fs.delete", {"path": "a.txt"})], "wrong argument"),
    ("rm foo.txt", "delete foo.txt", [("fs.read", {"path": "foo.txt"})], "wrong call"),
    ("chmod +x rr.sh", "make rr.sh executable", [("fs.chmod", {"path": "rr.sh", "mode": "+w"})], "wrong argument"),
    ("touch index.html", "create index.html", [("fs.touch", {"path": "index.htm"})], "wrong argument"),
    ("mv blah1 blah1-new", "rename blah1", [("fs.copy", {"src": "blah1", "dest": "blah1-new"})], "wrong call"),
    ("readlink -f mylink", "resolve mylink", [("fs.realpath", {"path": "a.txt"})], "wrong argument"),
    ("cat order.txt", "show order.txt", [("answer", {"text": "no", "supported": False})], "refusal"),
    ("cat order.txt", "show order.txt", [("fs.read", {"path": "missing.txt"})], "wrong argument"),
    ("mount /dev/sdb1 /mnt", "mount the usb disk on /mnt", [("fs.chmod", {"path": "file", "mode": "600"})],
     "wrong call"),
    # a step referring to a result that does not exist is an invalid plan
    ("rm foo.txt", "delete foo.txt", [("fs.delete", {"path": "$3.path"})], "invalid plan"),
    # numbered lines are information: a plain read lacks the numbers, a wrong start has others
    ("cat -n notes.txt", "show notes.txt with line numbers", [("fs.read", {"path": "notes.txt"})], "wrong argument"),
    ("nl notes.txt", "number the lines of notes.txt", [("text.number", {"path": "notes.txt", "start": 0})],
     "wrong argument"),
    ("cat notes.txt", "show notes.txt", [("text.number", {"path": "notes.txt"})], "wrong call"),
    # a MIME type is information fs.stat does not give
    ("file -i notes.txt", "show the mime type of notes.txt", [("fs.stat", {"path": "notes.txt"})], "wrong argument"),
    ("file notes.txt", "what type of file is notes.txt", [("fs.read", {"path": "notes.txt"})], "wrong call"),
]


@pytest.mark.parametrize(("bash", "nl", "steps", "kind"), WRONG,
                         ids=[f"{w[0]}:{w[3]}:{i}" for i, w in enumerate(WRONG)])
def test_wrong_plan_fails_with_its_kind(tmp_path: Path, bash: str, nl: str,
                                        steps: list[tuple[str, dict[str, Any]]], kind: str) -> None:
    rec = run(tmp_path, bash, nl, *steps)
    assert rec.verdict == "fail"
    assert rec.kind == kind, (rec.detail, rec.missing, rec.extra)


def test_planner_errors_are_invalid_plans(tmp_path: Path) -> None:
    planner = FixedPlanner(error=ModelOutputError("not JSON", raw="{"))
    rec = run(tmp_path, "cat order.txt", "show order.txt", planner=planner)
    assert (rec.verdict, rec.kind, rec.plan) == ("fail", "invalid plan", None)
    assert rec.latency_s is not None


@pytest.mark.parametrize("bash", ["du --summary docs", "chmod -R a+rX docs", "grep -q nothing-at-all a.txt",
                                  "cat definitely/../x"])
def test_gold_invalid_rows_are_skipped_without_planning(tmp_path: Path, bash: str) -> None:
    planner = FixedPlanner(("fs.list", {}))
    rec = run(tmp_path, bash, "whatever", planner=planner)
    assert rec.verdict == "gold-invalid", rec.detail
    assert planner.calls == 0


def test_wrong_plan_cannot_leave_the_fixture(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    rec = run(tmp_path, "rm foo.txt", "delete foo.txt", ("fs.delete", {"path": str(outside)}))
    assert rec.verdict == "fail"
    assert outside.read_text() == "keep me"
    assert "denied" in rec.steps_status


def test_sandbox_refuses_signals_to_processes_the_case_did_not_spawn(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        disp = Dispatcher(REG, gate=SandboxGate(tmp_path, pids={child.pid}))
        plan = Plan("kill", [PlanStep("proc.signal", {"pid": other.pid, "signal": "KILL"})])
        ex = execute(plan, disp, tmp_path)
        assert [r.status for r in ex.results] == ["denied"]
        assert other.poll() is None
        plan = Plan("kill", [PlanStep("proc.signal", {"pid": child.pid, "signal": "KILL"})])
        ex = execute(plan, disp, tmp_path)
        assert [r.status for r in ex.results] == ["ok"]
        assert child.wait(timeout=10) != 0
        ex = execute(Plan("run", [PlanStep("proc.run", {"argv": ["true"]})]), disp, tmp_path)
        assert [r.status for r in ex.results] == ["denied"]
    finally:
        for p in (child, other):
            p.kill()
            p.wait()


def test_fixture_holds_what_the_row_names() -> None:
    lay = layout_for(["cp", "-r", "src_dir", "dest_dir"])
    assert "src_dir" in lay.dirs and "dest_dir" in lay.absent
    lay = layout_for(["grep", "-w", "-v", "-f", "blacklist", "file"])
    assert {"blacklist", "file"} <= lay.files
    lay = layout_for(["mkdir", "a/b"])
    assert "a/b" in lay.absent and "a" in lay.empty_dirs
    lay = layout_for(["find", "wordpress", "-maxdepth", "1", "-name", "*js"])
    assert {"wordpress/samplejs", "wordpress/nested/samplejs"} <= lay.files
    lay = layout_for(["find", ".", "-type", "d", "-name", "build"])
    assert {"build", "nested/build"} <= lay.empty_dirs
    assert concrete("[!.]*.p?") == "zsample.px"


def test_sampling_is_fixed_and_in_scope() -> None:
    a = sample(3, 7)
    assert a == sample(3, 7)
    assert a != sample(3, 8)
    test_ids = {row["id"] for row in csv.DictReader(TSV.open(), delimiter="\t") if row["split"] == "test"}
    for case in a:
        assert case["id"] in test_ids  # only held-out test rows are reported
        words = _words(case["bash"])
        assert words is not None
        fam = family_of(words)
        assert fam == case["family"]
        assert in_scope(words, fam)
    assert {"chown", "mount", "find", "read", "grep"} <= {c["family"] for c in a}
    assert not in_scope(["rm", "-rf", "/tmp/x"], "delete")
    assert not in_scope(["mv", "x", ".."], "move")


def test_summary_counts_covered_families_only() -> None:
    recs = [CaseRecord("1", "read", "i", "g", verdict="pass", latency_s=2.0, cold=True),
            CaseRecord("2", "read", "i", "g", verdict="fail", kind="wrong call", latency_s=1.0),
            CaseRecord("3", "read", "i", "g", verdict="gold-invalid"),
            CaseRecord("4", "chown", "i", "g", verdict="pass", latency_s=3.0)]
    text, summary = summarize(recs, {"model": "x"}, unsupported=("chown",))
    assert summary["overall"] == {"pass": 1, "n": 2, "accuracy": 0.5, "failures": {"wrong call": 1}}
    assert summary["gold_invalid"] == 1
    assert summary["unsupported"] == {"refused": 1, "n": 1}
    assert summary["latency"]["cold_s"] == 2.0 and summary["latency"]["warm_n"] == 2
    assert "overall" in text and "loadavg" in text


def test_the_bench_directory_is_importable_from_the_repo_root() -> None:
    root = Path(__file__).resolve().parent.parent
    assert (root / "bench" / "eval_nl2bash.py").is_file()
    assert os.fspath(root) in sys.path or any(Path(p).resolve() == root for p in sys.path if p)


# ------------------------------------------------------------ system cases --

def _right_system_plan(case_id: str, intent: str) -> list[tuple[str, dict[str, Any]]]:
    words = intent.split()
    num = next((int(w) for w in words if w.isdigit()), 0)
    path = next((w for w in words if w.startswith("/")), "")
    return {
        "port-1": [("proc.port", {"port": num})], "port-2": [("proc.port", {"port": num})],
        "port-3": [("sys.net", {"connections": "listening"})],
        "name-1": [("proc.list", {"name": SLEEPER_NAME})], "name-2": [("proc.list", {"name": SLEEPER_NAME})],
        "kill-1": [("proc.list", {"name": SLEEPER_NAME}), ("proc.signal", {"pid": "$0.pid"})],
        "kill-2": [("proc.signal", {"pid": num})], "stop-1": [("proc.signal", {"pid": num, "signal": "STOP"})],
        "info-1": [("proc.info", {"pid": num})], "tree-1": [("proc.tree", {"pid": num})],
        "open-1": [("proc.open_file", {"path": path})],
        "mem-1": [("sys.memory", {})], "mem-2": [("sys.memory", {})], "cpu-1": [("sys.cpu", {"sample_ms": 0})],
        "cpu-2": [("sys.cpu", {"sample_ms": 50})], "host-1": [("sys.info", {})], "kern-1": [("sys.info", {})],
        "up-1": [("sys.info", {})], "who-1": [("sys.info", {})], "disk-1": [("sys.disks", {})],
        "disk-2": [("sys.disks", {})], "blk-1": [("dev.block", {})], "mnt-1": [("dev.mounts", {})],
        "pci-1": [("dev.pci", {})],
    }[case_id]


class IntentPlanner:
    def __init__(self, make: Any) -> None:
        self.make = make

    def plan(self, intent: str, *, cwd: Path) -> Plan:
        return Plan(intent=intent, steps=[PlanStep(c, dict(a)) for c, a in self.make(intent)])


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_system_case_right_plan_passes(tmp_path: Path, case: Case) -> None:
    rec = evaluate_system(case, IntentPlanner(lambda i: _right_system_plan(case.id, i)), REG, tmp_path)
    assert rec.verdict == "pass", (rec.kind, rec.detail, rec.plan)


WRONG_SYSTEM = {
    "port-1": ([("proc.port", {"port": 1})], "wrong argument"),
    "name-1": ([("proc.list", {"name": "python"})], "wrong argument"),
    "kill-1": ([("proc.list", {"name": SLEEPER_NAME})], "wrong call"),   # listed, not killed
    "mem-1": ([("sys.cpu", {})], "wrong call"),
    "cpu-1": ([("sys.memory", {})], "wrong call"),
    "mem-2": ([("sys.disks", {})], "wrong call"),
    "host-1": ([("answer", {"text": "no", "supported": False})], "refusal"),
}


@pytest.mark.parametrize("case_id", sorted(WRONG_SYSTEM))
def test_system_case_wrong_plan_fails(tmp_path: Path, case_id: str) -> None:
    case = next(c for c in CASES if c.id == case_id)
    steps, kind = WRONG_SYSTEM[case_id]
    rec = evaluate_system(case, IntentPlanner(lambda i: steps), REG, tmp_path)
    assert (rec.verdict, rec.kind) == ("fail", kind), rec.detail


def test_system_kill_of_an_unrelated_process_is_refused(tmp_path: Path) -> None:
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        case = next(c for c in CASES if c.id == "kill-2")
        rec = evaluate_system(case, IntentPlanner(lambda i: [("proc.signal", {"pid": other.pid})]), REG, tmp_path)
        assert (rec.verdict, rec.steps_status) == ("fail", ["denied"])
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


def test_nl2bash_reads_outside_the_fixture_are_refused(tmp_path: Path) -> None:
    rec = run(tmp_path, "find . -name '*.md'", "find markdown files", ("fs.find", {"path": "~", "name": "*.md"}))
    assert (rec.verdict, rec.kind, rec.steps_status) == ("fail", "wrong argument", ["denied"])


def test_ls_escapes_are_undone_before_comparing(tmp_path: Path) -> None:
    rec = run(tmp_path, "ls -b", "list files with escapes", ("fs.list", {}))
    assert rec.verdict == "pass", (rec.missing, rec.extra)


def test_vacuous_only_when_gold_neither_changed_nor_told_anything_new(tmp_path: Path) -> None:
    rec = run(tmp_path, "mkdir foo", "make a directory foo", ("fs.mkdir", {"path": "foo"}))
    assert (rec.verdict, rec.info_vacuous) == ("pass", False)
    rec = run(tmp_path, "file file-name", "describe file-name", ("fs.stat", {"path": "file-name"}))
    assert (rec.verdict, rec.info_vacuous) == ("pass", True)
    rec = run(tmp_path, "wc -l file", "count lines of file", ("fs.wc", {"path": "file"}))
    assert (rec.verdict, rec.info_vacuous) == ("pass", False)


def test_compare_puts_runs_side_by_side(tmp_path: Path) -> None:
    from bench.eval_common import compare, write_json

    for name, verdict in (("a", "pass"), ("b", "fail")):
        recs = [CaseRecord("1", "read", "i", "g", verdict=verdict, kind="" if verdict == "pass" else "wrong call")]
        meta = {"model": name}
        write_json(tmp_path / f"{name}.json", meta, summarize(recs, meta)[1], recs)
    table = compare([tmp_path / "a.json", tmp_path / "b.json"])
    assert table.splitlines()[1].split() == ["read", "1/1", "0/1"]
