from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from models.errors import ModelLoadError
from models.scripted import ScriptedBackend
from nlshell import doctor as D


def test_config_check(tmp_path: Path) -> None:
    good = D.check_config({"NLSH_CONFIG": str(tmp_path / "none.toml")})
    assert good.status == "ok" and "defaults in use" in good.detail
    bad = tmp_path / "bad.toml"
    bad.write_text("threads = 'lots'\n")
    c = D.check_config({"NLSH_CONFIG": str(bad)})
    assert c.status == "fail" and not c.ok
    assert f"{bad}:1: threads" in c.detail and "nlsh config edit" in c.fix


def test_policy_check(tmp_path: Path) -> None:
    p = tmp_path / "policy.toml"
    p.write_text('deny = ["fs.read:~/private/**"]\n')
    ok = D.check_policy(str(p))
    assert ok.status == "ok" and ok.data["file"] is True and ok.data["rules"] >= 1
    p.write_text('allow = ["fs.frobnicate:~/x"]\n')
    bad = D.check_policy(str(p))
    assert bad.status == "fail" and str(p) in bad.detail


def test_journal_check(tmp_path: Path) -> None:
    from syscalls.journal import Journal

    state = tmp_path / "state"
    assert D.check_journal(state).detail.startswith("no journal yet")
    j = Journal(state, tmp_path / "data")
    step = j.begin("fs.write", {"path": "x"})
    j.commit(step, "ok")
    c = D.check_journal(state)
    assert c.status == "ok" and c.data["entries"] == 2
    j.begin("fs.delete", {"path": "y"})        # began, never committed: what a crash leaves
    c = D.check_journal(state)
    assert c.status == "warn" and c.data["open_steps"] == 1
    with open(j.path, "a") as fh:
        fh.write('{"op": "beg')                 # a line cut short
    assert D.check_journal(state).data["unreadable_lines"] == 1


def test_audit_check_detects_tampering(tmp_path: Path) -> None:
    from syscalls.audit import AuditLog

    log = AuditLog(tmp_path)
    for i in range(3):
        log.append({"event": "test", "n": i})
    c = D.check_audit(tmp_path)
    assert c.status == "ok" and c.data["records"] == 3
    lines = log.path.read_text().splitlines()
    rec = json.loads(lines[1])
    rec["n"] = 99
    lines[1] = json.dumps(rec)
    log.path.write_text("\n".join(lines) + "\n")
    bad = D.check_audit(tmp_path)
    assert bad.status == "fail" and bad.data["first_bad"] == 2 and "chain broken" in bad.detail


def test_landlock_agrees_with_the_kernel(tmp_path: Path) -> None:
    c = D.check_landlock()
    lsm = Path("/sys/kernel/security/lsm")
    abi = D.landlock_abi()
    if abi:
        assert c.status == "ok" and f"ABI v{abi}" in c.detail
    else:
        assert c.status in ("warn", "skip")
    if lsm.exists() and "landlock" not in lsm.read_text().split(","):
        assert abi is None
    fake = tmp_path / "lsm"
    fake.write_text("capability,yama\n")
    if abi is None:
        assert "active LSMs: capability,yama" in D.check_landlock(fake).detail


def test_terminal_check_on_a_real_pty() -> None:
    master, slave = os.openpty()
    try:
        with open(slave, "w", closefd=False) as tty:
            c = D.check_terminal({"TERM": "xterm-256color", "COLORTERM": "truecolor"}, tty)
        assert c.data["tty"] is True and c.data["colours"] == "truecolor"
        with open(slave, "w", closefd=False) as tty:
            assert D.check_terminal({"TERM": "xterm", "NO_COLOR": "1"}, tty).data["colours"] == "none (NO_COLOR)"
    finally:
        os.close(master)
        os.close(slave)
    with open(os.devnull, "w") as null:
        c = D.check_terminal({"TERM": "dumb"}, null)
    assert c.data["tty"] is False and c.data["colours"] == "none" and c.status == "ok"


def test_model_check_with_scripted_and_failing_loaders() -> None:
    # the scripted backend stands in for a model here: the check's arithmetic is the subject
    ok = D.check_model("scripted",
                       load=lambda spec, threads=None: ScriptedBackend().enqueue(" red", " red, green, blue"))
    assert ok.status in ("ok", "warn") and ok.data["tokens"] > 0 and "tokens/s" in ok.detail

    def broken(spec: str | None, threads: int | None = None) -> ScriptedBackend:
        raise ModelLoadError("no such model file", path="/nowhere.gguf")

    bad = D.check_model("/nowhere.gguf", load=broken)
    assert bad.status == "fail" and "no such model file" in bad.detail and bad.fix


def test_model_check_missing_gguf_through_the_real_loader(tmp_path: Path) -> None:
    c = D.check_model(str(tmp_path / "missing.gguf"))
    assert c.status == "fail" and "missing.gguf" in c.detail


def test_run_checks_fast_and_render(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NLSH_STATE_DIR", str(tmp_path / "state"))
    checks = D.run_checks(model=False, env={"NLSH_CONFIG": str(tmp_path / "c.toml"), "TERM": "dumb"})
    names = [c.name for c in checks]
    assert names == ["python", "config", "model", "policy", "journal", "audit log", "storage", "plugins", "landlock",
                     "terminal"]
    assert all(c.status in D.STATUSES for c in checks)
    assert json.loads(json.dumps([c.to_dict() for c in checks]))
    from rich.console import Console

    console = Console(width=120, record=True, color_system=None)
    console.print(D.render([*checks, D.Check("x", "fail", "broke", "do this")]))
    text = console.export_text()
    assert "nlsh doctor" in text and "fix: do this" in text and "audit log" in text


def test_a_crashing_check_is_reported() -> None:
    def boom() -> D.Check:
        raise RuntimeError("kaput")

    c = D._guard("boom", boom)
    assert c.status == "fail" and "kaput" in c.detail


@pytest.mark.model
def test_real_model_speed() -> None:
    pytest.importorskip("llama_cpp")
    from models.profiles import PLANNER_ADAPTER

    c = D.check_model("smollm2", threads=2)
    assert c.status in ("ok", "warn") and c.data["tokens"] > 0 and c.data["tokens_per_s"] > 0
    if PLANNER_ADAPTER.is_file():  # the bundled model is checked the way it plans: with its adapter
        assert c.data["adapter"] == str(PLANNER_ADAPTER) and "planner adapter" in c.detail
