"""The hash-chained audit log: records, permissions, tamper and truncation detection."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from safety_env import Env, make_env

from syscalls import audit
from syscalls.audit import AuditLog, verify


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    return make_env(tmp_path, monkeypatch)


def _fill(log: AuditLog, n: int) -> None:
    for i in range(n):
        log.append({"kind": "step", "call": "fs.read", "args": {"path": f"/x/{i}"}, "status": "ok"})


def test_records_chain_and_files_are_private(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "s")
    _fill(log, 5)
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.head_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.dir.stat().st_mode) == 0o700
    recs = log.records()
    assert [r["seq"] for r in recs] == [1, 2, 3, 4, 5]
    assert recs[0]["prev"] == audit.GENESIS
    assert all(recs[i]["prev"] == recs[i - 1]["hash"] for i in range(1, 5))
    assert verify(log.path).ok and verify(log.path).records == 5
    assert verify(log.dir).ok  # a directory is accepted too


def test_edited_record_detected(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)
    _fill(log, 6)
    lines = log.path.read_text().splitlines()
    rec = json.loads(lines[3])
    rec["status"] = "denied"
    lines[3] = json.dumps(rec, sort_keys=True, separators=(",", ":"))
    log.path.write_text("\n".join(lines) + "\n")
    rep = verify(log.path)
    assert not rep.ok and rep.first_bad == 4 and "edited" in rep.reason


def test_removed_record_detected(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)
    _fill(log, 6)
    lines = log.path.read_text().splitlines()
    del lines[2]
    log.path.write_text("\n".join(lines) + "\n")
    rep = verify(log.path)
    assert not rep.ok and rep.first_bad == 3


def test_truncated_log_detected_by_head(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)
    _fill(log, 6)
    lines = log.path.read_text().splitlines()
    log.path.write_text("\n".join(lines[:4]) + "\n")
    rep = verify(log.path)
    assert not rep.ok and "truncated" in rep.reason and rep.first_bad == 5


def test_recomputed_chain_still_fails_against_head(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)
    _fill(log, 3)
    # an attacker rewrites record 3 AND recomputes its hash: the head no longer matches
    lines = log.path.read_text().splitlines()
    rec = json.loads(lines[2])
    rec["call"] = "fs.stat"
    rec["hash"] = audit.record_hash(rec)
    lines[2] = audit.canonical_json(rec)
    log.path.write_text("\n".join(lines) + "\n")
    rep = verify(log.path)
    assert not rep.ok and "head" in rep.reason


def test_missing_head_and_garbage_line(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)
    _fill(log, 2)
    log.head_path.unlink()
    assert not verify(log.path).ok
    log2 = AuditLog(tmp_path / "b")
    _fill(log2, 2)
    with open(log2.path, "a") as fh:
        fh.write("{not json\n")
    rep = verify(log2.path)
    assert not rep.ok and rep.first_bad == 3


def test_dispatcher_writes_decision_and_step(env: Env) -> None:
    (env.cwd / "f.txt").write_text("hi")
    r = env.run("fs.read", {"path": "f.txt"}, session="s1")
    assert r.ok
    dec = env.last("decision")
    step = env.last("step")
    assert dec["decision"] == "allow" and dec["by"] == "policy" and dec["session"] == "s1"
    assert dec["targets"][0]["resolved"] == str(env.cwd / "f.txt")
    assert step["status"] == "ok" and step["call"] == "fs.read" and step["args"] == {"path": "f.txt"}
    assert step["taint"] is None
    assert audit.show(env.state, last=1)[0]["hash"] == step["hash"]
    assert verify(env.state).ok
