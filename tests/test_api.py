"""The Python API end to end: real planner, real kernel, real safe dispatcher, real files.

The model is a ``ScriptedBackend`` in the unit tests (the real model's choices
are not the subject here, and it is too slow for them); one ``model`` test
drives the real bundled model.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import nlshell
from models import plantext as PT
from models.scripted import ScriptedBackend
from nlshell import envelope as E
from nlshell.api import ApiError, Outcome, PlanFailed, Session, approve_all, approve_calls
from nlshell.events import Finished, PlanReady
from syscalls.registry import Registry, load_builtins
from syscalls.types import Answer

T = 30.0


@pytest.fixture(autouse=True)
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # journal, audit log and trash live under tmp_path, never in the user's home
    monkeypatch.setenv("NLSH_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    policy = tmp_path / "policy.toml"
    policy.write_text("defaults = true\n")
    monkeypatch.setenv("NLSH_POLICY", str(policy))


@pytest.fixture
def registry() -> Registry:
    reg = Registry()
    load_builtins(reg)
    return reg


@pytest.fixture
def work(tmp_path: Path) -> Path:
    w = tmp_path / "work"
    w.mkdir()
    (w / "a.py").write_text("print(1)\n")
    (w / "b.txt").write_text("b\n")
    return w


def session(registry: Registry, work: Path, *outputs: str, **kw: object) -> tuple[Session, ScriptedBackend]:
    backend = ScriptedBackend().enqueue(*outputs)
    return Session(backend, cwd=work, registry=registry, **kw), backend  # type: ignore[arg-type]


def test_import_is_light() -> None:
    code = ("import sys, nlshell; assert nlshell.__version__; "
            "bad = [m for m in ('llama_cpp', 'textual', 'rich', 'psutil', 'nlshell.kernel') if m in sys.modules]; "
            "assert not bad, bad; s = nlshell.Session; assert nlshell.API_VERSION.count('.') == 2; "
            "assert 'llama_cpp' not in sys.modules and 'textual' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
    assert set(nlshell.__all__) <= set(dir(nlshell))
    with pytest.raises(AttributeError):
        _ = nlshell.NoSuchThing  # type: ignore[attr-defined]


def test_run_directly_without_a_model(registry: Registry, work: Path) -> None:
    with Session(None, cwd=work, registry=registry) as s:
        res = s.run("fs.list", path=".")
        assert res.ok and {e["name"] for e in res.data["entries"]} == {"a.py", "b.txt"}  # type: ignore[index]
        bad = s.run("fs.list", path=".", colour="red")
        assert bad.status == "invalid" and bad.error["target"] == "args.colour"  # type: ignore[index]
        missing = s.run("fs.stat", path="nope")
        assert missing.status == "failed" and missing.error["type"] == "NotFound"  # type: ignore[index]
        assert "fs.list" in s.calls() and s._kernel is None  # no model was loaded


def test_run_asks_approval_and_default_denies(registry: Registry, work: Path) -> None:
    with Session(None, cwd=work, registry=registry) as s:
        res = s.run("fs.delete", path="b.txt")
        assert res.status == "denied" and (work / "b.txt").exists()
        assert [q.request.call for q in s.questions] == ["fs.delete"]
    with Session(None, cwd=work, registry=registry, approve=approve_calls("fs.delete")) as s:
        res = s.run("fs.delete", path="b.txt")
        assert res.ok and not (work / "b.txt").exists()


def test_submit_plans_and_runs(registry: Registry, work: Path) -> None:
    s, backend = session(registry, work, 'fs.list path="."')
    with s:
        job = s.submit("list the files here")
        events = list(job.events(timeout=T))
        assert isinstance(events[-1], Finished) and any(isinstance(e, PlanReady) for e in events)
        out = Outcome.from_event(job.intent, events[-1])
        assert out.ok and [st.call for st in out.plan.steps] == ["fs.list"]  # type: ignore[union-attr]
        assert {e["name"] for e in out.data["entries"]} == {"a.py", "b.txt"}  # type: ignore[index]
        env = out.envelope()
        E.validate_envelope(env)
        assert env["status"] == "ok" and env["model"] == "scripted" and env["plan"]["steps"][0]["call"] == "fs.list"
        assert backend.prompts[0].endswith(PT.prompt("list the files here"))


def test_plan_then_execute_with_programmatic_approval(registry: Registry, work: Path) -> None:
    s, _ = session(registry, work, 'fs.delete path="b.txt"', approve=approve_all)
    with s:
        plan = s.plan("delete b.txt")
        assert [(st.call, st.args) for st in plan.steps] == [("fs.delete", {"path": "b.txt"})]
        assert (work / "b.txt").exists()  # planning changed nothing
        out = s.execute(plan).wait(T)
        assert out.ok and not (work / "b.txt").exists()
        assert s.questions and s.questions[-1].request.call == "fs.delete"


def test_denied_plan_outcome(registry: Registry, work: Path) -> None:
    s, _ = session(registry, work, 'fs.delete path="a.py"', auto="deny")
    with s:
        out = s.submit("delete a.py").wait(T)
    assert out.status == "denied" and (work / "a.py").exists()
    assert out.envelope()["results"][0]["status"] == "denied"


def test_plan_failure_raises_typed_error(registry: Registry, work: Path) -> None:
    s, _ = session(registry, work, "no.such.call")
    with s, pytest.raises(PlanFailed) as exc:
        s.plan("do something odd")
    assert exc.value.target == "do something odd"


def test_asubmit(registry: Registry, work: Path) -> None:
    s, _ = session(registry, work, 'fs.list path="."')

    async def main() -> Outcome:
        return await s.asubmit("list files")

    with s:
        out = asyncio.run(main())
    assert out.ok and out.data is not None


def test_session_grant_answer(registry: Registry, work: Path) -> None:
    answers: list[str] = []

    def approver(q: object) -> Answer:
        answers.append("asked")
        return Answer.SESSION

    with Session(None, cwd=work, registry=registry, approve=approver) as s:
        assert s.run("fs.mkdir", path="x").ok and s.run("fs.mkdir", path="x/y").ok
    assert (work / "x" / "y").is_dir() and answers


def test_closed_session_and_bad_auto(registry: Registry, work: Path) -> None:
    s = Session(None, cwd=work, registry=registry)
    s.close()
    with pytest.raises(ApiError):
        s.run("fs.list", path=".")
    with pytest.raises(ApiError, match="auto"):
        Session(None, auto="sometimes")


@pytest.fixture
def real_session(registry: Registry, work: Path) -> Iterator[Session]:
    pytest.importorskip("llama_cpp")
    with Session("smollm2", cwd=work, registry=registry, threads=2) as s:
        yield s


@pytest.mark.model
def test_real_model_lists_files(real_session: Session, work: Path) -> None:
    out = real_session.submit("list the files in this directory").wait(120)
    assert out.plan is not None and out.plan.steps
    assert out.status in ("ok", "failed", "denied")
    E.validate_envelope(out.envelope())


def test_from_config_and_url_spec(tmp_path: Path, work: Path, registry: Registry) -> None:
    from nlshell.config import load_config

    port_holder = __import__("socket").socket()
    port_holder.bind(("127.0.0.1", 0))
    port = port_holder.getsockname()[1]
    port_holder.close()  # nothing listens there now
    cfg_file = tmp_path / "config.toml"
    cfg_file.write_text(f'threads = 1\n[backend]\nurl = "http://127.0.0.1:{port}"\nretries = 0\ntimeout_s = 2\n')
    cfg = load_config(cfg_file, env={})
    s = Session.from_config(cfg, cwd=work, registry=registry)
    assert s.model_spec == f"http://127.0.0.1:{port}" and s._backend_retries == 0
    from models.errors import ModelLoadError

    with pytest.raises(ModelLoadError) as exc:
        s.submit("list files")
    assert str(port) in str(exc.value) and "llama_cpp.server" in exc.value.hint
    assert s.run("fs.list", path=".").ok  # direct requests still work without the server
    s.close()
