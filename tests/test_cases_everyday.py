"""The everyday evaluation set and its runner (bench/cases_everyday.py, bench/cases_common.py), no model.

A fake planner returns hand-written plans: a right plan must pass, a wrong one must fail, a plan that
does nothing must fail every case except the refusals, and nothing a plan does may leave the fixture.
The set itself: at least 150 cases, unique intents, none of them in the example bank or the dev set.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench import cases_common
from bench.cases_common import MISSING, Case, run_case, score, select
from bench.cases_everyday import EVERYDAY
from models.bank import build_bank
from models.errors import ModelOutputError
from models.plan import Plan, PlanStep
from syscalls.registry import default_registry
from syscalls.types import SyscallResult

REG = default_registry()
CATEGORIES = {"files-find", "files-read", "files-write", "files-delete", "files-move-copy", "chmod", "grep",
              "du/space", "processes", "system", "devices", "follow-up", "out-of-scope", "multi-step"}
Steps = list[tuple[str, dict[str, Any]]]


class FakePlanner:
    """Plans from a table: intent (after formatting) -> steps, or a function of the intent -> steps."""

    def __init__(self, table: dict[str, Steps | Callable[[str], Steps]], default: Steps | None = None) -> None:
        self.table = table
        self.default = default
        self.seen: list[tuple[str, SyscallResult | None]] = []

    def plan(self, intent: str, *, cwd: Path, previous: SyscallResult | None = None) -> Plan:
        self.seen.append((intent, previous))
        entry = self.table.get(intent, self.default)
        if entry is None:
            raise ModelOutputError("no plan for this intent")
        steps = entry(intent) if callable(entry) else entry
        return Plan(intent, [PlanStep(call, dict(args)) for call, args in steps])


def by_intent(intent: str) -> Case:
    (found,) = [c for c in EVERYDAY if c.intent == intent]
    return found


def run(intent: str, steps: Steps | Callable[[str], Steps], tmp_path: Path, **extra: Steps) -> bool:
    c = by_intent(intent)
    table: dict[str, Any] = {c.intent: steps, **extra}
    good, _ex, _dt = run_case(_Formatting(table), c, tmp_path, REG)
    return good


class _Formatting(FakePlanner):
    """Looks intents up by their template: '{pid}', '{port}' and '{root}' are filled in at run time."""

    def plan(self, intent: str, *, cwd: Path, previous: SyscallResult | None = None) -> Plan:
        for template, entry in self.table.items():
            pattern = "^" + re.sub(r"\\\{(pid|port|root)\\\}", ".+", re.escape(template)) + "$"
            if re.match(pattern, intent):
                steps = entry(intent) if callable(entry) else entry
                return Plan(intent, [PlanStep(call, dict(args)) for call, args in steps])
        raise ModelOutputError("no plan for this intent")


NOTHING: Steps = [("answer", {"text": "not supported", "supported": False})]


# ---- the set ------------------------------------------------------------------------------------------

def _norm(s: str) -> str:
    return " ".join(s.lower().split()).rstrip("?.! ")


def test_size_categories_and_unique_intents() -> None:
    in_scope = [c for c in EVERYDAY if not c.category.startswith(MISSING)]
    assert len(in_scope) >= 150
    assert 15 <= len(EVERYDAY) - len(in_scope) <= 30
    cats = Counter(c.category for c in in_scope)
    assert set(cats) == CATEGORIES
    assert cats["out-of-scope"] >= 15
    intents = [_norm(c.intent) for c in EVERYDAY]
    assert [i for i, n in Counter(intents).items() if n > 1] == []
    for c in EVERYDAY:
        c.intent.format(pid=1, port=2, root="/r")
        c.before.format(pid=1, port=2, root="/r")
        assert c.needs in ("", "sleeper", "listener")
        assert c.setup is not None and c.home


def test_held_out_from_the_example_bank_and_the_dev_set() -> None:
    """The set measures requests the model has not seen: none is an example it retrieves or a dev case."""
    from bench.bench_model import DEV

    seen = {_norm(s.intent) for s in build_bank(REG).shots} | {_norm(c.intent) for c in DEV}
    assert [c.intent for c in EVERYDAY if _norm(c.intent) in seen] == []


# ---- the runner ---------------------------------------------------------------------------------------

def test_right_plans_pass(tmp_path: Path) -> None:
    assert run("rm old.log", [("fs.delete", {"path": "old.log"})], tmp_path)
    assert run("cat todo.txt", [("fs.read", {"path": "todo.txt"})], tmp_path)
    assert run("read ~/.bashrc", [("fs.read", {"path": "~/.bashrc"})], tmp_path)   # ~ is the fixture
    assert run("chmod +x scripts/backup.sh", [("fs.chmod", {"path": "scripts/backup.sh", "mode": "u+x"})], tmp_path)
    assert run("grep TODO in src", [("fs.grep", {"pattern": "TODO", "path": "src"})], tmp_path)
    assert run("files over 2 megs", [("fs.find", {"size_min_bytes": 2 * 1024 * 1024, "type": "file"})], tmp_path)
    assert run("ls -S ~/Downloads", [("fs.list", {"path": "~/Downloads", "sort": "size"})], tmp_path)
    assert run("list {root}/photos", lambda i: [("fs.list", {"path": i.split()[-1]})], tmp_path)
    assert run("delete 'notes (1).txt' from Downloads", [("fs.delete", {"path": "Downloads/notes (1).txt"})],
               tmp_path)
    assert run("clean out the .tmp junk from tmp",
               [("fs.find", {"path": "tmp", "name": "*.tmp"}), ("fs.delete", {"path": "$0.path"})], tmp_path)
    assert run("kill {pid}", lambda i: [("proc.signal", {"pid": int(i.split()[-1])})], tmp_path)
    assert run("pause pid {pid}", lambda i: [("proc.signal", {"pid": int(i.split()[-1]), "signal": "STOP"})],
               tmp_path)
    assert run("free up port {port}", lambda i: [("proc.port", {"port": int(i.split()[-1])}),
                                                  ("proc.signal", {"pid": "$0.pid"})], tmp_path)
    assert run("how many cores do i have", [("sys.cpu", {"sample_ms": 0})], tmp_path)
    assert run("pwd", [("fs.realpath", {"path": "."})], tmp_path)
    assert run("restart my laptop pls", NOTHING, tmp_path)


def test_a_follow_up_acts_on_the_previous_result(tmp_path: Path) -> None:
    assert run("ok remove those", [("fs.delete", {"path": "$prev.path"})], tmp_path,
               **{"find .log files in logs": [("fs.find", {"path": "logs", "name": "*.log"})]})
    # without the earlier step there is no previous result: the reference fails, and so does the case
    assert not run("ok remove those", [("fs.delete", {"path": "$prev.path"})], tmp_path)


def test_wrong_plans_fail(tmp_path: Path) -> None:
    assert not run("rm old.log", [("fs.delete", {"path": "error.log"})], tmp_path)        # wrong file
    assert not run("cat todo.txt", [("fs.read", {"path": "notes.md"})], tmp_path)
    assert not run("tail -n 5 logs/app.log", [("fs.read", {"path": "logs/app.log"})], tmp_path)  # all of it
    assert not run("files over 2 megs", [("fs.find", {"type": "file"})], tmp_path)       # no size filter
    assert not run("ls -S ~/Downloads", [("fs.list", {"path": "~/Downloads"})], tmp_path)  # by name
    assert not run("grep TODO in src", [("fs.grep", {"pattern": "TODO"})], tmp_path)     # the whole tree
    assert not run("chmod 644 keys/server.key", [("fs.chmod", {"path": "keys/server.key", "mode": "600"})],
                   tmp_path)
    assert not run("restart my laptop pls", [("fs.list", {"path": "."})], tmp_path)      # not refused
    assert not run("kill {pid}", lambda i: [("proc.info", {"pid": int(i.split()[-1])})], tmp_path)


def test_a_plan_reaching_outside_the_fixture_is_denied(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me\n")
    work = tmp_path / "work"
    work.mkdir()
    for path in (str(outside), "../outside.txt"):
        assert not run("rm old.log", [("fs.delete", {"path": path})], work)
    assert outside.read_text() == "keep me\n"
    assert not run("kill {pid}", [("proc.signal", {"pid": 1})], work)   # not the case's process


def test_every_check_fails_when_the_plan_does_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A refusal passes the out-of-scope cases and nothing else; a listing passes none of those."""
    real_gone = cases_common.gone
    monkeypatch.setattr(cases_common, "gone", lambda proc, timeout: real_gone(proc, 0.05))
    refusing = FakePlanner({}, default=NOTHING)
    passed = [c.intent for c in EVERYDAY if run_case(refusing, c, tmp_path, REG)[0]]
    assert sorted(passed) == sorted(c.intent for c in EVERYDAY if c.category == "out-of-scope")
    listing = FakePlanner({}, default=[("fs.list", {"path": "."})])
    oos = [c for c in EVERYDAY if c.category == "out-of-scope"]
    assert [c.intent for c in oos if run_case(listing, c, tmp_path, REG)[0]] == []


def test_score_reports_categories_failures_and_missing_capabilities(tmp_path: Path) -> None:
    cases = [by_intent("rm old.log"), by_intent("cat todo.txt"), by_intent("sort names.txt"),
             by_intent("gzip error.log")]
    planner = FakePlanner({"rm old.log": [("fs.delete", {"path": "old.log"})],
                           "cat todo.txt": [("fs.read", {"path": "a.txt"})],
                           "gzip error.log": NOTHING})
    lines: list[str] = []
    res = score(planner, cases, verbose=True, registry=REG, out=lines.append)
    assert (res["cases"], res["passed"], res["accuracy"]) == (2, 1, 0.5)
    assert res["categories"] == {"files-delete": "1/1 (100%)", "files-read": "0/1 (0%)"}
    assert res["missing_capabilities"]["cases"] == 2
    assert res["missing_capabilities"]["passed"] == 0
    assert res["missing_capabilities"]["refused"] == 1
    assert len(res["failures"]) == 3 and any("cat todo.txt" in f for f in res["failures"])
    assert len(lines) == 4 and lines[0].startswith("PASS")
    assert [c.intent for c in select(EVERYDAY, "chmod")] == [c.intent for c in EVERYDAY if c.category == "chmod"
                                                            or "chmod" in c.intent]


def test_score_runs_an_unsure_plans_suggestion_apart_as_a_person_who_says_yes_would(tmp_path: Path) -> None:
    """The refusal is what the run scores; the suggestion is run on a fresh tree and counted on its own."""
    refusal = PlanStep("answer", {"text": "unsure", "supported": False})

    class Unsure(FakePlanner):
        def plan(self, intent: str, *, cwd: Path, previous: SyscallResult | None = None) -> Plan:
            plan = super().plan(intent, cwd=cwd, previous=previous)
            return Plan(intent, [refusal], suggestion=plan.steps)

    planner = Unsure({"rm old.log": [("fs.delete", {"path": "old.log"})],
                      "cat todo.txt": [("fs.read", {"path": "a.txt"})]})
    res = score(planner, [by_intent("rm old.log"), by_intent("cat todo.txt")], registry=REG)
    assert (res["cases"], res["passed"]) == (2, 0)
    assert res["unsure_suggestions"] == {"suggested": 2, "right_if_confirmed": 1}
    assert "unsure_suggestions" not in score(FakePlanner({}, default=NOTHING), [by_intent("rm old.log")],
                                             registry=REG)
