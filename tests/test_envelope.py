from __future__ import annotations

import json

import jsonschema
import pytest

from models.plan import Plan, PlanStep
from nlshell import envelope as E
from syscalls.errors import NotFound
from syscalls.types import SyscallRequest, SyscallResult


def result(status: str, **kw: object) -> SyscallResult:
    return SyscallResult(request=SyscallRequest("fs.list", {"path": "."}), status=status, **kw)  # type: ignore[arg-type]


def test_envelope_validates_against_schema() -> None:
    plan = Plan("list files", [PlanStep("fs.list", {"path": "."})], model="smollm2")
    env = E.envelope("list files", plan, [result("ok", data={"entries": []})], None,
                     {"plan_s": 0.1, "run_s": 0.002}, "smollm2")
    E.validate_envelope(env)
    assert env["status"] == "ok" and env["envelope_version"] == E.ENVELOPE_VERSION
    assert env["plan"]["steps"] == [{"call": "fs.list", "args": {"path": "."}}]
    assert json.loads(E.dumps(env)) == env


def test_status_is_the_worst_step() -> None:
    err = NotFound("no such file", call="fs.list", target="x").to_dict()
    env = E.envelope("x", None, [result("ok", data={}), result("failed", error=err)], None, {}, "")
    assert env["status"] == "failed"
    E.validate_envelope(env)
    assert E.envelope("x", None, [result("denied"), result("failed")])["status"] == "denied"


def test_planning_error_envelope() -> None:
    env = E.envelope("fly to the moon", None, [], ValueError("no plan"), {"plan_s": 0.3}, "m")
    assert env["status"] == "error" and env["error"]["type"] == "ValueError"
    E.validate_envelope(env)


def test_schema_rejects_unknown_fields_and_bad_status() -> None:
    env = E.envelope("x", None, [])
    with pytest.raises(jsonschema.ValidationError):
        E.validate_envelope({**env, "extra": 1})
    with pytest.raises(jsonschema.ValidationError):
        E.validate_envelope({**env, "status": "fine"})
    jsonschema.Draft202012Validator.check_schema(E.envelope_schema())
