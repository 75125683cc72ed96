from __future__ import annotations

from pathlib import Path

import pytest
from model_fixtures import small_registry

from models.errors import ModelOutputError
from models.planner import Planner
from models.scripted import ScriptedBackend
from syscalls.errors import CallCancelled
from syscalls.types import SyscallRequest, SyscallResult


def planner(*outputs: str) -> tuple[Planner, ScriptedBackend]:
    backend = ScriptedBackend().enqueue(*outputs)
    return Planner(backend, small_registry(), k=3), backend


def test_two_stage_single_call() -> None:
    p, b = planner(" fs.find\n", ' {"path": "/var/tmp"}\n')
    plan = p.plan("log files older than a week under /var/tmp", cwd=Path("."))
    # code fills what the intent determines (glob, age, type); the model only points at the path
    assert [s.to_dict() for s in plan.steps] == [
        {"call": "fs.find", "args": {"path": "/var/tmp", "name": "*.log", "type": "file", "mtime_min_days": 7}}]
    call_prompt, args_prompt = b.prompts
    assert call_prompt.endswith("Request: log files older than a week under /var/tmp\nCall:")
    assert args_prompt == call_prompt + " fs.find\nArgs:"
    # the call grammar is a choice among the retrieved candidates; the args grammar offers only the path
    assert '"fs.find"' in (b.grammars[0] or "") and '"answer"' in (b.grammars[0] or "")
    g = b.grammars[1] or ""
    assert '"\\"/var/tmp\\""' in g and "mtime" not in g and "name" not in g


def test_multi_step_plan_with_refs() -> None:
    p, b = planner(" proc.port+proc.signal\n")
    plan = p.plan("force kill whatever listens on port 8080", cwd=Path("."))
    assert [s.call for s in plan.steps] == ["proc.port", "proc.signal"]
    # every argument is determined by the intent, so the model is asked nothing after the call
    assert plan.steps[0].args == {"port": 8080}
    assert plan.steps[1].args == {"pid": "$0.pid", "signal": "KILL"}
    assert len(b.prompts) == 1


def test_follow_up_offers_previous_refs() -> None:
    prev = SyscallResult(SyscallRequest("fs.find", {"path": "."}), "ok", data={"entries": [{"path": "a"}]})
    p, b = planner(" fs.delete\n", ' {"path": "$prev.path"}\n')
    plan = p.plan("now delete them", cwd=Path("."), previous=prev)
    assert plan.steps[0].args == {"path": "$prev.path"}
    assert "Previous: fs.find\nRequest: now delete them\nCall:" in b.prompts[0]


def test_refusal_is_the_answer_call() -> None:
    p, _ = planner(" answer\n")
    plan = p.plan("send a fax to bob", cwd=Path("."))
    assert plan.steps[0].call == "answer" and plan.steps[0].args["supported"] is False


def test_invalid_arguments_raise_with_raw_text() -> None:
    p, _ = planner(" fs.delete\n", ' {"recursive": true}\n')
    with pytest.raises(ModelOutputError) as info:
        p.plan("delete", cwd=Path("."))
    assert "recursive" in info.value.raw and info.value.call == "fs.delete"


def test_unknown_call_raises() -> None:
    p, _ = planner(" rm\n")
    with pytest.raises(ModelOutputError):
        p.plan("rm it", cwd=Path("."))


def test_cancellation_through_on_token() -> None:
    p, _ = planner(" fs.list\n")
    with pytest.raises(CallCancelled):
        p.plan("what is in /etc", cwd=Path("."), on_token=lambda piece: False)


def test_warm_saves_and_reloads_prefix_state() -> None:
    p, b = planner("x", " fs.list\n", ' {"path": "/etc"}\n')
    p.warm()
    assert b.state_saves == 1
    p.plan("what is in /etc", cwd=Path("."))
    assert b.state_loads == 1
    assert b.prompts[1].startswith(b.prompts[0])  # every plan starts with the cached static prefix
