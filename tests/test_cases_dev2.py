"""The second development set (bench/cases_dev2.py), checked without any model.

Every case's gold plan goes through the same runner a model's plans do (``run_case``: a fresh
``dev2_tree``, the sandbox gate, the case's check) and must pass; a planner that always refuses must
fail every case but the out-of-scope ones, a plain listing of the working folder must fail every case
whose check is about files, and a list of near-miss plans must fail.  The set itself: at least 150
unique intents over the sixteen categories, none of them (once normalised) one of the held-out sets,
the first development set, the example bank or a call's examples.
"""

from __future__ import annotations

import os
import re
import string
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from model_devtree import assert_outside_denied

from bench import cases_common
from bench.cases_common import Case, run_case, select
from bench.cases_dev2 import DEV2, GOLD, REFUSE, Steps
from models.errors import ModelOutputError
from models.plan import Plan, PlanStep
from syscalls.registry import default_registry
from syscalls.types import SyscallResult

REG = default_registry()
CATEGORIES = {"files-find", "files-read", "files-write", "files-delete", "files-move-copy", "chmod", "grep",
              "du/space", "text", "archives", "processes", "system", "devices", "follow-up", "multi-step",
              "out-of-scope"}
FIELDS = ("pid", "port", "root")


def _fill(value: Any, found: dict[str, str]) -> Any:
    """``"{pid}"``/``"{port}"`` -> the number the runner filled in; ``{root}`` inside a string -> the root."""
    if isinstance(value, str):
        if value in ("{pid}", "{port}"):
            return int(found[value[1:-1]])
        return value.replace("{root}", found.get("root", "{root}"))
    if isinstance(value, list):
        return [_fill(v, found) for v in value]
    return value


def _pattern(template: str) -> str:
    """A regex of ``template``: each field a named group the first time, the same text again after that."""
    named: set[str] = set()

    def group(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in named:
            return f"(?P={name})"
        named.add(name)
        return f"(?P<{name}>.+)"

    return re.sub(r"\\\{(pid|port|root)\\\}", group, re.escape(template))


class GoldPlanner:
    """Plans from a table keyed by intent template; ``{pid}``, ``{port}``, ``{root}`` match what was filled in."""

    def __init__(self, table: dict[str, Steps]) -> None:
        self.table = table
        self.seen: list[tuple[str, SyscallResult | None]] = []

    def plan(self, intent: str, *, cwd: Path, previous: SyscallResult | None = None) -> Plan:
        self.seen.append((intent, previous))
        for template, steps in self.table.items():
            m = re.fullmatch(_pattern(template), intent)
            if m:
                found = {k: v for k, v in m.groupdict().items() if v is not None}
                return Plan(intent, [PlanStep(call, {k: _fill(v, found) for k, v in args.items()})
                                     for call, args in steps])
        raise ModelOutputError("no plan for this intent")


class Always:
    """The same plan whatever the request."""

    def __init__(self, steps: Steps) -> None:
        self.steps = steps

    def plan(self, intent: str, *, cwd: Path, previous: SyscallResult | None = None) -> Plan:
        return Plan(intent, [PlanStep(call, dict(args)) for call, args in self.steps])


def by_intent(intent: str) -> Case:
    (found,) = [c for c in DEV2 if c.intent == intent]
    return found


def run(intent: str, steps: Steps, work: Path) -> bool:
    """Run the case ``intent`` with ``steps`` as its plan (and the gold plan of its earlier request)."""
    c = by_intent(intent)
    table = {c.intent: steps}
    if c.before:
        table[c.before] = GOLD[c.before]
    return run_case(GoldPlanner(table), c, work, REG)[0]


def _norm(s: str) -> str:
    """Lower case, punctuation gone, whitespace collapsed: 'ls -la, docs!' and 'LS la docs' are one intent."""
    s = s.lower().translate(str.maketrans(string.punctuation, " " * len(string.punctuation)))
    return " ".join(s.split())


@pytest.fixture
def quick_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wrong plan leaves the case's process running: do not wait five seconds to see it."""
    real_gone = cases_common.gone
    monkeypatch.setattr(cases_common, "gone", lambda proc, timeout: real_gone(proc, 0.05))


# ---- the set ------------------------------------------------------------------------------------------

def test_size_categories_and_unique_intents() -> None:
    assert len(DEV2) >= 150
    cats = Counter(c.category for c in DEV2)
    assert set(cats) == CATEGORIES
    assert min(cats.values()) >= 6 and cats["out-of-scope"] >= 12
    intents = [_norm(c.intent) for c in DEV2]
    assert [i for i, n in Counter(intents).items() if n > 1] == []
    befores = [_norm(c.before) for c in DEV2 if c.before]
    assert len(set(befores)) == len(befores) and not set(befores) & set(intents)
    assert sum(1 for c in DEV2 if c.needs) <= 10
    for c in DEV2:
        c.intent.format(pid=1, port=2, root="/r")
        c.before.format(pid=1, port=2, root="/r")
        assert c.needs in ("", "sleeper", "listener")
        assert c.needs or ("{pid}" not in c.intent + c.before and "{port}" not in c.intent + c.before)
        assert c.home and c.labels and c.setup is not None and c.setup.__name__ == "dev2_tree"


def test_gold_plans_cover_the_set_and_use_real_calls() -> None:
    assert set(GOLD) == {c.intent for c in DEV2} | {c.before for c in DEV2 if c.before}
    for c in DEV2:
        assert (GOLD[c.intent] == REFUSE) == (c.category == "out-of-scope"), c.intent
        if c.category != "out-of-scope":
            assert "+".join(call for call, _ in GOLD[c.intent]) in c.labels, c.intent
    for steps in GOLD.values():
        for call, args in steps:
            assert call in REG.names(), call
            props = REG.get(call).args_schema.get("properties", {})
            assert set(args) <= set(props), (call, set(args) - set(props))


def test_blind_to_the_held_out_sets_the_dev_set_and_the_example_bank() -> None:
    """No intent (or earlier request) of this set is, once normalised, one the model was built, tuned or
    tested on."""
    from bench.bench_model import DEV
    from bench.cases_daily import DAILY
    from bench.cases_everyday import EVERYDAY
    from models.bank import build_bank

    seen: set[str] = set()
    for cases in (EVERYDAY, DAILY, DEV):
        seen |= {_norm(c.intent) for c in cases} | {_norm(c.before) for c in cases if c.before}
    seen |= {_norm(s.intent) for s in build_bank(REG).shots}
    seen |= {_norm(e.intent) for name in REG.names() for e in REG.get(name).examples}
    ours = [c.intent for c in DEV2] + [c.before for c in DEV2 if c.before]
    clashes = [i for i in ours if _norm(i) in seen]
    assert clashes == [], f"{len(clashes)} intents of dev2 are not new: {clashes}"


# ---- the gold plans -----------------------------------------------------------------------------------

@pytest.mark.parametrize("intent", [c.intent for c in DEV2])
def test_the_gold_plan_passes_and_stays_in_the_fixture(intent: str, tmp_path: Path) -> None:
    home = os.environ.get("HOME")
    beside = tmp_path / "beside.txt"   # next to the fixture root: no plan may reach it
    beside.write_text("keep me\n")
    work = tmp_path / "work"
    work.mkdir()
    assert run(intent, GOLD[intent], work)
    assert beside.read_text() == "keep me\n" and sorted(tmp_path.iterdir()) == sorted([beside, work])
    assert list(work.iterdir()) == []           # the fixture is gone, nothing else was made
    assert os.environ.get("HOME") == home       # $HOME was the fixture only while the plan ran


def test_a_follow_up_needs_its_earlier_result(tmp_path: Path) -> None:
    c = by_intent("delete those")
    assert run(c.intent, GOLD[c.intent], tmp_path)
    planner = GoldPlanner({c.intent: GOLD[c.intent]})     # no plan for the earlier request: no $prev
    assert not run_case(planner, c, tmp_path, REG)[0]


# ---- wrong plans --------------------------------------------------------------------------------------

def test_refusing_passes_only_the_out_of_scope_cases(tmp_path: Path, quick_gone: None) -> None:
    passed = [c.intent for c in DEV2 if run_case(Always(REFUSE), c, tmp_path, REG)[0]]
    assert sorted(passed) == sorted(c.intent for c in DEV2 if c.category == "out-of-scope")


def test_listing_the_folder_fails_every_case(tmp_path: Path, quick_gone: None) -> None:
    """``fs.list .`` answers no question of the set: not the out-of-scope ones (it is not a refusal), not the
    ones about the machine (wrong call), not the file ones (wrong content or nothing changed)."""
    listing = Always([("fs.list", {"path": "."})])
    passed = {c.intent for c in DEV2 if run_case(listing, c, tmp_path, REG)[0]}
    assert passed == set()


NEAR_MISSES: list[tuple[str, Steps]] = [
    ("any jpegs in my downloads folder?", [("fs.find", {"path": "Downloads", "name": "*.jpg"})]),  # misses .JPG
    ("files over 100 megs in my home", [("fs.find", {"path": "~", "size_min_bytes": 10 * 1024 * 1024})]),
    ("what changed in Documents in the last 3 days?", [("fs.find", {"path": "Documents", "type": "file"})]),
    ("ls -la ~", [("fs.list", {"path": "~"})]),                                               # no dotfiles
    ("ls -la ~", [("fs.find", {"path": "~"})]),                                               # everything
    ("tail -3 logs/app.log", [("fs.read", {"path": "logs/app.log", "head_lines": 3})]),
    ("print lines 2 to 4 of Documents/guests.txt", [("fs.read", {"path": "Documents/guests.txt"})]),
    ("2 largest files in ~/Downloads?", [("fs.find", {"path": "Downloads", "type": "file", "sort": "size",
                                                       "reverse": True, "limit": 2})]),   # the smallest
    ("echo 'call mom' >> Documents/todo.txt", [("fs.write", {"path": "Documents/todo.txt", "content": "call mom\n"})]),
    ("put a '# errands' heading at the top of Documents/todo.txt",
     [("fs.append", {"path": "Documents/todo.txt", "content": "# errands\n"})]),
    ("rm -r projects/site/build", [("fs.delete", {"path": "projects/site"})]),               # not empty: refused
    ("wipe out the whole tmp folder", [("fs.find", {"path": "tmp", "type": "file"}),          # files only
                                       ("fs.delete", {"path": "$0.path"})]),
    ("move paper draft.pdf from downloads to documents",                                     # copied
     [("fs.copy", {"src": "Downloads/paper draft.pdf", "dest": "Documents"})]),
    ("only I should be able to read my ssh key", [("fs.chmod", {"path": "~/.ssh/id_rsa", "mode": "644"})]),
    ("chmod -R go-w projects/site", [("fs.chmod", {"path": "projects/site", "mode": "go-w"})]),  # not recursive
    ("chmod -R go-w projects/site", [("fs.chmod", {"path": "projects/site", "mode": "600",     # too much
                                                   "recursive": True})]),
    ("make every script in bin runnable", [("fs.chmod", {"path": "bin/backup.sh", "mode": "+x"})]),  # one of two
    ("grep -r FIXME projects", [("fs.grep", {"pattern": "TODO", "path": "projects"})]),
    ("search my documents for the word confidential, any case",                               # case-sensitive
     [("fs.grep", {"pattern": "confidential", "path": "Documents"})]),
    ("how many lines in logs/app.log say error, ignoring case",
     [("fs.grep", {"pattern": "error", "path": "logs/app.log", "count_only": True})]),
    ("grep -c ERROR logs/app.log", [("fs.grep", {"pattern": "ERROR", "path": "logs/app.log"})]),  # lines, not a count
    ("du -sh ~/Music", [("fs.du", {"path": "~"})]),
    ("sort -n Documents/scores.txt", [("text.sort", {"path": "Documents/scores.txt"})]),     # as text
    ("sort the scores in Documents biggest first", [("text.sort", {"path": "Documents/scores.txt",
                                                                   "numeric": True})]),
    ("total of the amount column in budget.csv", [("text.csv", {"path": "Documents/budget.csv"})]),
    ("show only the rent rows of Documents/budget.csv", [("text.csv", {"path": "Documents/budget.csv"})]),
    ("dedupe the guest list in Documents", [("text.sort", {"path": "Documents/guests.txt", "unique": True})]),
    ("gzip logs/app-2026-09.log", [("archive.gzip", {"path": "logs/app-2026-09.log", "keep": True})]),
    ("gzip -k Documents/budget.csv", [("archive.gzip", {"path": "Documents/budget.csv"})]),
    ("tar czf weather.tar.gz projects/weather", [("archive.create", {"path": "weather.tar.gz",
                                                                     "sources": ["projects/site"]})]),
    ("kill -KILL {pid} right now", [("proc.info", {"pid": "{pid}"})]),   # looked, did not kill
    ("pause process {pid}, i'll resume it later", [("proc.signal", {"pid": "{pid}", "signal": "KILL"})]),
    ("free up port {port}, kill whatever holds it", [("proc.port", {"port": "{port}"})]),
    ("top 3 cpu hogs", [("proc.list", {"sort": "cpu"})]),                                     # every process
    ("total ram on this box?", [("fs.df", {})]),
    ("list only the tmpfs mounts", [("dev.mounts", {})]),
    ("show removable drives", [("dev.block", {})]),
    ("how big are those", [("fs.du", {"path": "Music"})]),                                    # not those
    ("ok remove all of those", [("fs.delete", {"path": "Downloads/old-driver.deb"})]),        # one of two
    ("get rid of zero byte files under tmp", [("fs.find", {"path": "~", "type": "file", "empty": True}),
                                              ("fs.delete", {"path": "$0.path"})]),           # the whole home
    ("gzip every .log in logs that's over a month old", [("fs.find", {"path": "logs", "name": "*.log"}),
                                                         ("archive.gzip", {"path": "$0.path"})]),  # no age test
    ("move all the jpgs from Downloads into Pictures", [("fs.find", {"path": "Downloads", "iname": "*.jpg"}),
                                                        ("fs.copy", {"src": "$0.path", "dest": "Pictures"})]),
    ("copy Documents/todo.txt to todo.txt.bak in the same folder, then empty the original",
     [("fs.copy", {"src": "Documents/todo.txt", "dest": "Documents/todo.txt.bak"})]),
    ("pip install numpy", [("answer", {"text": "Run pip install numpy.", "supported": True})]),
]


def test_near_miss_plans_fail(tmp_path: Path, quick_gone: None) -> None:
    passed = [intent for intent, steps in NEAR_MISSES if run(intent, steps, tmp_path)]
    assert passed == []


def test_a_plan_reaching_outside_the_fixture_is_denied(tmp_path: Path) -> None:
    assert_outside_denied(run, tmp_path, delete="delete {root}/logs/app-2026-08.log",
                          copy="back up .bashrc as .bashrc.bak", copy_src=".bashrc", kill="kill -KILL {pid} right now")


# ---- the bench ----------------------------------------------------------------------------------------

def test_bench_model_scores_dev2(capsys: pytest.CaptureFixture[str]) -> None:
    from bench.bench_model import accuracy, main

    with pytest.raises(SystemExit):
        main(["accuracy", "--set", "nonsense"])
    assert "dev2" in capsys.readouterr().err
    res = accuracy(GoldPlanner(GOLD), False, "chmod", "dev2")
    n = len(select(DEV2, "chmod"))                          # the category, and intents that say chmod
    k = sum(1 for c in DEV2 if c.category == "chmod")
    assert n > k and (res["cases"], res["passed"], res["categories"]["chmod"]) == (n, n, f"{k}/{k} (100%)")
    # every scored case, in the form bench/threshold.py reads (--json)
    assert len(res["records"]) == n and {r["verdict"] for r in res["records"]} == {"pass"}
    assert all(r["plan"] and r["plan"][0]["call"] for r in res["records"])
