"""A plan the model was unsure of: refused, kept as a suggestion, and run only when a person says yes.

The model is a ``ScriptedBackend`` reporting a low confidence (the real model's confidences are the
subject of ``bench/threshold.py``, not of these tests); the plans run for real in temporary folders
through the API session's dispatcher.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from models.plan import PlanStep
from models.planner_v2 import DEFAULT_MIN_CONFIDENCE, DEFAULT_MIN_CONFIDENCE_READ, TrainedPlanner
from models.scripted import ScriptedBackend
from nlshell import Session
from nlshell.api import approve_all, approve_calls
from nlshell.approval import describe_question, unsure_note
from syscalls.registry import default_registry
from syscalls.types import Answer, Question

REG = default_registry()
UNSURE = DEFAULT_MIN_CONFIDENCE_READ / 2
REPO = Path(__file__).resolve().parents[1]


def unsure_backend(*outputs: str) -> ScriptedBackend:
    return ScriptedBackend(call_prob=UNSURE).enqueue(*outputs)


def test_an_unsure_plan_is_a_refusal_that_keeps_the_checked_plan_as_a_suggestion(tmp_path: Path) -> None:
    (tmp_path / "Downloads").mkdir()
    planner = TrainedPlanner(unsure_backend('fs.list path="downloads"'), REG)
    plan = planner.plan("what is in downloads", cwd=tmp_path)
    assert [s.call for s in plan.steps] == ["answer"] and plan.steps[0].args["supported"] is False
    assert "unsure" in plan.steps[0].args["text"]
    # the suggestion went through the same checks as any plan: here the folder was located
    assert plan.suggestion == [PlanStep("fs.list", {"path": "Downloads"})]
    assert plan.to_dict()["suggestion"] == [{"call": "fs.list", "args": {"path": "Downloads"}}]


def test_a_sure_plan_has_no_suggestion_and_an_unsure_one_that_fails_its_checks_none(tmp_path: Path) -> None:
    sure = TrainedPlanner(ScriptedBackend(call_prob=0.99).enqueue('fs.list path="."'), REG)
    plan = sure.plan("list files", cwd=tmp_path)
    assert plan.steps == [PlanStep("fs.list", {"path": "."})] and plan.suggestion == []
    assert "suggestion" not in plan.to_dict()
    ungrounded = TrainedPlanner(unsure_backend('fs.delete path="secrets"'), REG)
    plan = ungrounded.plan("tidy up", cwd=tmp_path)
    assert plan.steps[0].call == "answer" and plan.suggestion == []  # a path the request never named


def test_a_plan_that_only_reads_is_held_to_a_lower_threshold(tmp_path: Path) -> None:
    """Between the two thresholds (chosen on dev rows: bench/threshold.py), a listing runs and a mkdir is a
    suggestion; one threshold given to the planner holds for both."""
    between = (DEFAULT_MIN_CONFIDENCE_READ + DEFAULT_MIN_CONFIDENCE) / 2
    assert DEFAULT_MIN_CONFIDENCE_READ < DEFAULT_MIN_CONFIDENCE
    reads = TrainedPlanner(ScriptedBackend(call_prob=between).enqueue('fs.list path="."'), REG)
    assert reads.plan("list files", cwd=tmp_path).steps == [PlanStep("fs.list", {"path": "."})]
    changes = TrainedPlanner(ScriptedBackend(call_prob=between).enqueue('fs.mkdir path="out"'), REG)
    plan = changes.plan("make a folder out", cwd=tmp_path)
    assert plan.steps[0].call == "answer" and plan.suggestion == [PlanStep("fs.mkdir", {"path": "out"})]
    one = TrainedPlanner(ScriptedBackend(call_prob=between).enqueue('fs.list path="."'), REG, min_confidence=0.9)
    assert one.plan("list files", cwd=tmp_path).steps[0].call == "answer"
    assert not (tmp_path / "out").exists()


def _session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, approve: object, *outputs: str) -> Session:
    monkeypatch.setenv("NLSH_PLANNER", "v2")
    return Session(unsure_backend(*outputs), cwd=tmp_path, approve=approve,  # type: ignore[arg-type]
                   state_dir=tmp_path / ".state")


def test_the_suggestion_runs_when_the_person_says_yes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[Question] = []

    def person(q: Question) -> Answer:
        asked.append(q)
        return Answer.ONCE

    with _session(tmp_path, monkeypatch, person, 'fs.mkdir path="reports"\nfs.touch path="reports/a.txt"') as s:
        outcome = s.submit("make reports and a file a.txt in it").wait(10)
    assert (tmp_path / "reports" / "a.txt").is_file()
    q = asked[0]
    assert q.unsure == pytest.approx(UNSURE)
    assert [(r.call, r.args) for r in q.steps] == [("fs.mkdir", {"path": "reports"}),
                                                 ("fs.touch", {"path": "reports/a.txt"})]
    rows = describe_question(q)
    assert [label for label, _ in rows] == ["plan", "plan", "risk", "why asked"]
    assert "unsure" in rows[-1][1] and "reports/a.txt" in rows[1][1]
    assert outcome.plan is not None and [s.call for s in outcome.plan.steps] == ["fs.mkdir", "fs.touch"]


@pytest.mark.parametrize("approver", [lambda q: Answer.DENY, approve_all, approve_calls("fs.mkdir")],
                         ids=["person-says-no", "approve_all", "approve_calls"])
def test_nothing_runs_unless_a_person_says_yes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               approver: object) -> None:
    with _session(tmp_path, monkeypatch, approver, 'fs.mkdir path="reports"') as s:
        outcome = s.submit("make reports").wait(10)
    assert not (tmp_path / "reports").exists()
    assert [r.request.call for r in outcome.results] == ["answer"]  # the honest refusal
    assert outcome.data is not None and outcome.data["supported"] is False


def test_the_line_prompts_offer_once_or_deny_for_an_unsure_plan() -> None:
    from nlshell.approval import answer_keys
    from syscalls.types import Risk, SyscallRequest

    step = SyscallRequest("fs.list", {})
    q = Question(request=step, capability="fs.read", risk=Risk.READ, scope="", unsure=0.5, steps=(step,))
    assert answer_keys(q) == "run this plan? [o]nce / [d]eny (default deny)"
    assert "[s]ession" in answer_keys(Question(request=step, capability="fs.read", risk=Risk.READ, scope=""))


def test_the_note_says_what_the_plan_was_and_what_to_do() -> None:
    from syscalls.types import Risk, SyscallRequest

    step = SyscallRequest("fs.delete", {"path": "old"})
    q = Question(request=step, capability="fs.delete", risk=Risk.DESTRUCTIVE, scope="",
                 reason="the model was unsure what you meant (confidence 0.41)", unsure=0.41, steps=(step,))
    note = unsure_note(q)
    assert "confidence 0.41" in note and "fs.delete" in note and "'old'" in note
    assert "Nothing ran" in note and "Rephrase" in note


def test_one_shot_yes_without_a_terminal_refuses_and_says_why(tmp_path: Path) -> None:
    """``nlsh --yes`` in a script: a plan the model was unsure of never runs (exit 4, the note on stderr)."""
    script = tmp_path / "model.json"
    script.write_text(json.dumps({"outputs": ['fs.mkdir path="reports"'], "call_prob": UNSURE}))
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("NLSH_", "XDG_"))},
           "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "NLSH_PLANNER": "v2",
           "NLSH_STATE_DIR": str(tmp_path / "state"), "NO_COLOR": "1"}
    nlsh = [str(Path(sys.executable).with_name("nlsh")), "--model", f"scripted:{script}", "--yes"]
    proc = subprocess.run([*nlsh, "make reports"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=120)
    assert proc.returncode == 4, proc.stderr
    assert "unsure" in proc.stderr and "Nothing ran" in proc.stderr and "fs.mkdir" in proc.stderr
    assert not (tmp_path / "reports").exists()
    proc = subprocess.run([*nlsh, "--json", "make reports"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=120)
    envelope = json.loads(proc.stdout)
    assert proc.returncode == 4 and not (tmp_path / "reports").exists()
    assert envelope["plan"]["suggestion"] == [{"call": "fs.mkdir", "args": {"path": "reports"}}]
