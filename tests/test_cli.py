"""The one-shot CLI end to end: the real ``nlsh`` console script in a subprocess, real temp trees.

The model is replaced by the scripted backend (``--model scripted:FILE`` replays the
exact text a model would produce) except in the ``model``-marked tests at the end,
which run the real bundled model.  Exit codes are checked for every class.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from nlshell.envelope import validate_envelope

NLSH = str(Path(sys.executable).with_name("nlsh"))


def tree_hash(root: Path) -> str:
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            p = Path(dirpath, name)
            st = p.lstat()
            h.update(f"{p.relative_to(root)}|{st.st_mode:o}|{st.st_size}|{st.st_mtime_ns}\n".encode())
            if p.is_file() and not p.is_symlink():
                h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    (home / "work").mkdir(parents=True)
    e = {k: v for k, v in os.environ.items() if not k.startswith(("NLSH_", "XDG_"))}
    e.update(HOME=str(home), XDG_CONFIG_HOME=str(tmp_path / "cfg"), XDG_DATA_HOME=str(tmp_path / "data"),
             XDG_STATE_HOME=str(tmp_path / "state"), XDG_CACHE_HOME=str(tmp_path / "cache"),
             NLSH_STATE_DIR=str(tmp_path / "state" / "nlshell"), COLUMNS="120", NO_COLOR="1")
    return e


@pytest.fixture
def work(env: dict[str, str]) -> Path:
    w = Path(env["HOME"]) / "work"
    (w / "a.txt").write_text("alpha\n")
    (w / "big.bin").write_bytes(b"\0" * 50_000)
    (w / "notes").mkdir()
    (w / "notes" / "n1.md").write_text("# note\n")
    return w


def script(tmp_path: Path, *outputs: str) -> str:
    p = tmp_path / f"script-{time.monotonic_ns()}.json"
    p.write_text(json.dumps(list(outputs)))
    return f"scripted:{p}"


def nlsh(args: list[str], env: dict[str, str], cwd: Path, stdin: str | None = None,
         timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NLSH, *args], env=env, cwd=cwd, input=stdin if stdin is not None else "",
                          capture_output=True, text=True, timeout=timeout)


def test_help_and_version(env: dict[str, str], tmp_path: Path) -> None:
    r = nlsh(["--help"], env, tmp_path)
    assert r.returncode == 0 and "exit codes" in r.stdout and "--dry-run" in r.stdout
    r = nlsh(["--version"], env, tmp_path)
    assert r.returncode == 0 and r.stdout.startswith("nlsh ")


def test_help_does_not_import_heavy_modules(env: dict[str, str], tmp_path: Path) -> None:
    code = ("import sys; from nlshell.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('llama_cpp', 'textual', 'rich', 'psutil', 'jsonschema') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert "HEAVY []" in r.stdout, r.stdout + r.stderr


@pytest.mark.parametrize("argv", [["--bogus"], ["--threads", "0", "x"], ["-f", "/nonexistent/intents.txt"],
                                  ["--cwd", "/nonexistent", "x"]])
def test_usage_errors_exit_2(argv: list[str], env: dict[str, str], tmp_path: Path) -> None:
    r = nlsh(argv, env, tmp_path)
    assert r.returncode == 2, r.stderr
    assert r.stdout == ""
    assert "error" in r.stderr


def test_read_only_intent_prints_a_plain_table(env: dict[str, str], work: Path, tmp_path: Path) -> None:
    m = script(tmp_path, 'fs.list path="." long=true')
    r = nlsh(["--model", m, "list the files here with sizes"], env, work)
    assert r.returncode == 0, r.stderr
    assert "a.txt" in r.stdout and "big.bin" in r.stdout and "48.8 KiB" in r.stdout
    assert "│" not in r.stdout and "\x1b[" not in r.stdout  # plain: stdout is a pipe
    assert "plan for" not in r.stderr  # read-only plans run without being shown


def test_json_envelope_validates_and_is_alone_on_stdout(env: dict[str, str], work: Path, tmp_path: Path) -> None:
    m = script(tmp_path, 'fs.list path="."')
    r = nlsh(["--json", "--model", m, "list the files here"], env, work)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    validate_envelope(data)
    assert data["status"] == "ok" and data["plan"]["steps"][0]["call"] == "fs.list"
    names = {e["name"] for e in data["results"][0]["data"]["entries"]}
    assert names == {"a.txt", "big.bin", "notes"}


def test_no_tty_denies_what_needs_asking(env: dict[str, str], work: Path, tmp_path: Path) -> None:
    before = tree_hash(work)
    m = script(tmp_path, 'fs.delete path="a.txt"')
    r = nlsh(["--model", m, "delete a.txt"], env, work)
    assert r.returncode == 3, r.stdout + r.stderr
    assert "--yes" in r.stderr and "denied" in (r.stdout + r.stderr)
    assert "plan for: delete a.txt" in r.stderr  # a non-read plan is shown before anything runs
    assert tree_hash(work) == before


def test_without_a_terminal_a_successful_run_writes_only_its_results(env: dict[str, str], work: Path,
                                                                     tmp_path: Path) -> None:
    m = script(tmp_path, 'fs.delete path="a.txt"')
    r = nlsh(["--yes", "--model", m, "delete a.txt"], env, work)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not (work / "a.txt").exists() and "a.txt" in r.stdout
    assert r.stderr == ""  # no plan echo without a terminal; -v or --dry-run ask for it
    m = script(tmp_path, 'fs.delete path="notes"')
    r = nlsh(["--yes", "-v", "--model", m, "delete notes"], env, work)
    assert "plan for: delete notes" in r.stderr


def test_yes_approves_and_delete_goes_to_trash(env: dict[str, str], work: Path, tmp_path: Path) -> None:
    m = script(tmp_path, 'fs.delete path="a.txt"')
    r = nlsh(["--yes", "--json", "--model", m, "delete a.txt"], env, work)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not (work / "a.txt").exists()
    trashed = list((Path(env["XDG_DATA_HOME"]) / "Trash" / "files").iterdir())
    assert [p.read_text() for p in trashed] == ["alpha\n"]
    validate_envelope(json.loads(r.stdout))


def test_dry_run_changes_nothing_and_shows_effects(env: dict[str, str], work: Path, tmp_path: Path) -> None:
    before = tree_hash(work)
    m = script(tmp_path, 'fs.delete path="notes" recursive=true')
    r = nlsh(["--dry-run", "--json", "--model", m, "delete the notes folder"], env, work)
    assert tree_hash(work) == before
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    validate_envelope(data)
    res = data["results"][0]
    assert res["status"] == "dry-run"
    assert res["data"]["count"] == 2 and res["data"]["bytes"] == len("# note\n")
    assert str(work / "notes") in res["data"]["paths"]
    assert res["data"]["needs_approval"]  # policy would ask; a dry run reports it instead


def test_failed_action_exits_1_with_typed_error(env: dict[str, str], work: Path, tmp_path: Path) -> None:
    m = script(tmp_path, 'fs.read path="missing.txt"')
    r = nlsh(["--json", "--model", m, "show missing.txt"], env, work)
    assert r.returncode == 1
    err = json.loads(r.stdout)["results"][0]["error"]
    assert err["type"] == "NotFound" and "missing.txt" in err["target"] and err["hint"]


def test_invalid_model_output_exits_4(env: dict[str, str], work: Path, tmp_path: Path) -> None:
    m = script(tmp_path, 'fs.read nonsense=1')
    r = nlsh(["--json", "--model", m, "show it"], env, work)
    assert r.returncode == 4, r.stderr
    data = json.loads(r.stdout)
    validate_envelope(data)
    assert data["error"] is not None


def test_unsupported_request_exits_4(env: dict[str, str], work: Path, tmp_path: Path) -> None:
    m = script(tmp_path, 'answer text="Sending faxes is not supported." supported=false')
    r = nlsh(["--model", m, "send a fax to bob"], env, work)
    assert r.returncode == 4, r.stderr
    assert "fax" in r.stdout  # the honest refusal names what was asked


def test_model_load_failure_exits_5(env: dict[str, str], work: Path) -> None:
    r = nlsh(["--model", str(work / "nope.gguf"), "list files"], env, work)
    assert r.returncode == 5
    assert "nope.gguf" in r.stderr


def test_several_intents_from_stdin_each_its_own_plan(env: dict[str, str], work: Path, tmp_path: Path) -> None:
    m = script(tmp_path, 'fs.list path="notes"', 'fs.read path="a.txt"')
    r = nlsh(["--json", "--model", m, "-"], env, work, stdin="list notes\n\nshow a.txt\n")
    assert r.returncode == 0, r.stderr
    envs = [json.loads(line) for line in r.stdout.splitlines()]
    assert [e["intent"] for e in envs] == ["list notes", "show a.txt"]
    assert "alpha" in json.dumps(envs[1]["results"][0]["data"])


def test_intents_from_file(env: dict[str, str], work: Path, tmp_path: Path) -> None:
    f = tmp_path / "intents.txt"
    f.write_text("# a comment\nlist notes\n")
    m = script(tmp_path, 'fs.list path="notes"')
    r = nlsh(["--model", m, "-f", str(f)], env, work)
    assert r.returncode == 0 and "n1.md" in r.stdout


def test_sigint_cancels_a_running_step(env: dict[str, str], work: Path, tmp_path: Path) -> None:
    before = tree_hash(work)
    m = script(tmp_path, f'proc.run argv={json.dumps([sys.executable, "-c", "import time; time.sleep(30)"])}')
    p = subprocess.Popen([NLSH, "--yes", "--model", m, f"run {sys.executable} -c 'import time; time.sleep(30)'"],
                         env=env, cwd=work,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        # wait until the child python is running, then interrupt nlsh
        import psutil

        while time.monotonic() < deadline:
            kids = psutil.Process(p.pid).children(recursive=True)
            if any("time.sleep(30)" in " ".join(k.cmdline()) for k in kids):
                break
            time.sleep(0.1)
        else:
            pytest.fail("the step never started")
        p.send_signal(signal.SIGINT)
        _out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 130, err
    assert tree_hash(work) == before


def _real_model_env(env: dict[str, str]) -> dict[str, Any]:
    return env


@pytest.mark.model
@pytest.mark.parametrize(
    ("intent", "check"),
    [
        ("how much memory is left?", lambda d: d["results"][0]["data"]["total_bytes"] > 0),
        ("list the files in notes", lambda d: "n1.md" in json.dumps(d["results"][0]["data"])),
        ("show me a.txt", lambda d: "alpha" in json.dumps(d["results"][0]["data"])),
    ],
)
def test_real_model_one_shot(intent: str, check: Any, env: dict[str, str], work: Path) -> None:
    r = nlsh(["--json", intent], env, work, timeout=240)
    assert r.returncode == 0, r.stdout + r.stderr
    data = json.loads(r.stdout)
    validate_envelope(data)
    assert check(data), data["plan"]


@pytest.mark.model
def test_real_model_finds_a_loosely_named_folder(env: dict[str, str], work: Path) -> None:
    """"downloads", said from ~/work, is ~/Downloads: the plan says what it found, and the listing is of it."""
    (Path(env["HOME"]) / "Downloads").mkdir()
    (Path(env["HOME"]) / "Downloads" / "report.pdf").write_text("%PDF-1.4\n")
    r = nlsh(["--json", "list the files in downloads"], env, work, timeout=240)
    assert r.returncode == 0, r.stdout + r.stderr
    data = json.loads(r.stdout)
    validate_envelope(data)
    assert data["plan"]["located"] == ["downloads → ~/Downloads"], data["plan"]
    assert "report.pdf" in json.dumps(data["results"][-1]["data"])
    r = nlsh(["--dry-run", "list the files in downloads"], env, work, timeout=240)
    assert "found: downloads → ~/Downloads" in r.stderr, r.stderr


def _run_in_pty(argv: list[str], env: dict[str, str], cwd: Path, *, early: bytes = b"",
                answer: bytes = b"", timeout: float = 60) -> tuple[int, str]:
    """Run nlsh on a real pseudo-terminal; type ``early`` at once and ``answer`` at the prompt."""
    import pty
    import select

    pid, fd = pty.fork()
    if pid == 0:  # child
        os.chdir(cwd)
        os.execve(NLSH, [NLSH, *argv], env)
    out = b""
    if early:
        os.write(fd, early)
    answered = False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            if not answered and b"approve?" in out:
                time.sleep(0.2)
                os.write(fd, answer)
                answered = True
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


@pytest.mark.parametrize(("key", "code"), [(b"o", 0), (b"d", 3), (b"x", 3)])
def test_tty_prompt_answers(key: bytes, code: int, env: dict[str, str], work: Path, tmp_path: Path) -> None:
    m = script(tmp_path, 'fs.delete path="a.txt"')
    rc, screen = _run_in_pty(["--model", m, "delete a.txt"], env, work, answer=key)
    assert "approve? [o]nce / [s]ession / [d]eny" in screen
    assert "fs.delete" in screen and str(work / "a.txt") in screen  # the resolved target is shown
    assert rc == code, screen
    assert (work / "a.txt").exists() == (code != 0)


def test_typed_ahead_input_does_not_answer(env: dict[str, str], work: Path, tmp_path: Path) -> None:
    m = script(tmp_path, 'fs.delete path="a.txt"')
    # "o" typed before the question exists is flushed; the real answer, "d", then denies.
    rc, screen = _run_in_pty(["--model", m, "delete a.txt"], env, work, early=b"o", answer=b"d")
    assert rc == 3, screen
    assert (work / "a.txt").exists()


def test_config_error_names_file_and_line(env: dict[str, str], work: Path, tmp_path: Path) -> None:
    cfg = Path(env["XDG_CONFIG_HOME"]) / "nlshell" / "config.toml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text('model = "smollm2"\nthreads = "many"\n')
    r = nlsh(["list files"], env, work)
    assert r.returncode == 2
    assert f"{cfg}:2" in r.stderr and "threads" in r.stderr


def test_config_supplies_the_model(env: dict[str, str], work: Path, tmp_path: Path) -> None:
    cfg = Path(env["XDG_CONFIG_HOME"]) / "nlshell" / "config.toml"
    cfg.parent.mkdir(parents=True)
    spec = script(tmp_path, 'fs.list path="notes"')
    cfg.write_text(f"model = {json.dumps(spec)}\n")
    r = nlsh(["--json", "list the notes"], env, work)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["model"].startswith("scripted:")


def test_unreachable_model_server_exits_5(env: dict[str, str], work: Path) -> None:
    import socket

    with socket.socket() as s:  # a loopback port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = nlsh(["--model", f"http://127.0.0.1:{port}", "list files"], env, work)
    assert r.returncode == 5
    assert f"127.0.0.1:{port}" in r.stderr


@pytest.mark.model
@pytest.mark.parametrize(("planner", "once", "warmups"), [("v2", True, 0), ("v2", False, 1), ("shots", True, 0)])
def test_a_one_shot_warms_up_only_where_that_saves_its_plan_work(planner: str, once: bool, warmups: int,
                                                                  tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A plan's prompt shares no prefix a warm-up could evaluate ahead: for a single intent a warm-up would
    be a second plan before the first, with the adapter (v2) or from worked examples (shots)."""
    from nlshell.events import Finished, Intent
    from nlshell.session_factory import open_kernel

    for var, sub in (("HOME", "home"), ("XDG_CONFIG_HOME", "cfg"), ("XDG_DATA_HOME", "data"),
                     ("XDG_STATE_HOME", "state"), ("XDG_CACHE_HOME", "cache")):
        monkeypatch.setenv(var, str(tmp_path / sub))
    monkeypatch.setenv("NLSH_PLANNER", planner)
    k = open_kernel(once=once)
    try:
        end = k.run(Intent("list the files here", cwd=tmp_path, dry_run=True), timeout=240)
        assert isinstance(end, Finished)
        assert k.stats().counters.get("warmups", 0) == warmups
    finally:
        k.close()


def test_the_backend_loaded_in_a_thread_plans_and_its_load_error_is_raised_by_open_kernel(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The model loads in a thread while the kernel's modules are imported; what the load raised comes out of
    open_kernel as it did before."""
    from models.errors import ModelLoadError
    from nlshell.events import Finished, Intent
    from nlshell.session_factory import open_kernel

    for var, sub in (("HOME", "home"), ("XDG_CONFIG_HOME", "cfg"), ("XDG_DATA_HOME", "data"),
                     ("XDG_STATE_HOME", "state"), ("XDG_CACHE_HOME", "cache")):
        monkeypatch.setenv(var, str(tmp_path / sub))
    script = tmp_path / "plans.json"
    script.write_text(json.dumps(['fs.list path="."']))
    k = open_kernel(model=f"scripted:{script}")
    try:
        end = k.run(Intent("list the files here", cwd=tmp_path, dry_run=True), timeout=60)
        assert isinstance(end, Finished)
        assert [r.request.call for r in end.results] == ["fs.list"]
    finally:
        k.close()
    missing = tmp_path / "no-such-model.gguf"
    with pytest.raises(ModelLoadError) as info:
        open_kernel(model=str(missing))
    assert str(missing) in str(info.value)
