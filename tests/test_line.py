"""The line mode end to end: prompt-toolkit pipe input + DummyOutput, the real kernel with the
scripted backend (the exact text a model would produce), real files in tmp_path."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.input.base import PipeInput
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from nlshell.line import LineShell, run_line
from nlshell.session_factory import open_kernel


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var, sub in (("XDG_CONFIG_HOME", "cfg"), ("XDG_DATA_HOME", "data"), ("XDG_STATE_HOME", "state"),
                     ("XDG_CACHE_HOME", "cache")):
        monkeypatch.setenv(var, str(tmp_path / sub))
    monkeypatch.setenv("NLSH_STATE_DIR", str(tmp_path / "state" / "nlshell"))


@pytest.fixture
def work(tmp_path: Path) -> Path:
    w = tmp_path / "home" / "work"
    w.mkdir()
    (w / "a.txt").write_text("alpha\n")
    (w / "big.bin").write_bytes(b"\0" * 50_000)
    (w / "victim.txt").write_text("bye\n")
    return w


@pytest.fixture
def pipe() -> Iterator[PipeInput]:
    with create_pipe_input() as inp:
        yield inp


def kernel_for(tmp_path: Path, *outputs: str):  # type: ignore[no-untyped-def]
    script = tmp_path / f"script-{time.monotonic_ns()}.json"
    script.write_text(json.dumps(list(outputs)))
    return open_kernel(model=f"scripted:{script}")


def console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=100, color_system=None), buf


def typed(tmp_path: Path, work: Path, pipe: PipeInput, keys: str, *outputs: str) -> tuple[LineShell, str]:
    """Run the line mode over ``keys`` with a scripted model giving ``outputs``: the shell and what it printed."""
    kernel = kernel_for(tmp_path, *outputs)
    con, buf = console()
    pipe.send_text(keys)
    shell = LineShell(kernel, input=pipe, output=DummyOutput(), console=con, cwd=work,
                      history_file=tmp_path / "hist")
    try:
        assert shell.run() == 0
    finally:
        kernel.close()
    return shell, buf.getvalue()


def wait(cond, what: str, tries: int = 500) -> None:  # type: ignore[no-untyped-def]
    for _ in range(tries):
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def test_intent_prints_a_table_and_ctrl_d_exits(tmp_path: Path, work: Path, pipe: PipeInput) -> None:
    kernel = kernel_for(tmp_path, 'fs.list path="."')
    con, buf = console()
    pipe.send_text("list the files here\n\x04")
    try:
        rc = run_line(kernel, input=pipe, output=DummyOutput(), console=con, cwd=work,
                      history_file=tmp_path / "hist")
    finally:
        kernel.close()
    out = buf.getvalue()
    assert rc == 0
    assert "a.txt" in out and "big.bin" in out and "plan for: list the files here" in out
    assert "list the files here" in (tmp_path / "hist").read_text()


def test_approval_ignores_typed_ahead_keys_then_deny_and_once(tmp_path: Path, work: Path,
                                                              pipe: PipeInput) -> None:
    keep, victim = work / "a.txt", work / "victim.txt"
    kernel = kernel_for(tmp_path, 'fs.delete path="a.txt"',
                        'fs.delete path="victim.txt"')
    con, buf = console()
    shell = LineShell(kernel, input=pipe, output=DummyOutput(), console=con, cwd=work,
                      history_file=tmp_path / "hist")
    rc: list[int] = []
    t = threading.Thread(target=lambda: rc.append(shell.run()), daemon=True)
    t.start()
    try:
        # "o" typed before the question appears must not answer it
        pipe.send_text("delete a.txt\no")
        wait(shell.asking.is_set, "the first question")
        assert str(keep) in buf.getvalue() and "destructive" in buf.getvalue()
        pipe.send_text("d")
        wait(lambda: "not approved" in buf.getvalue(), "the denial:\n" + buf.getvalue())
        assert keep.exists()
        pipe.send_text("delete victim.txt\n")
        wait(shell.asking.is_set, "the second question")
        pipe.send_text("o")
        wait(lambda: not victim.exists(), "the deletion")
        pipe.send_text("\x04")
        t.join(10)
    finally:
        kernel.close()
    assert rc == [0]
    out = buf.getvalue()
    assert "→ deny" in out and "→ once" in out
    assert keep.exists()


def test_slash_commands(tmp_path: Path, work: Path, pipe: PipeInput) -> None:
    (work / "sub").mkdir()
    shell, out = typed(tmp_path, work, pipe, "/help\n/cd sub\n/cd nowhere\n/model\n/bogus\n\x04")
    assert "/undo" in out and "Ctrl-R" in out
    assert shell.cwd == work / "sub"
    assert "no such directory" in out
    assert "scripted" in out  # the model line from the kernel's stats
    assert "unknown command /bogus" in out


def test_completion_of_paths_and_commands(tmp_path: Path, work: Path) -> None:
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document

    from nlshell.line import LineCompleter

    comp = LineCompleter(lambda: work)
    got = [c.text for c in comp.get_completions(Document("show bi"), CompleteEvent())]
    assert got == ["big.bin"]
    got = [c.text for c in comp.get_completions(Document("/un"), CompleteEvent())]
    assert got == ["/undo"]
    (work / "sub").mkdir()
    got = [c.text for c in comp.get_completions(Document("/cd s"), CompleteEvent())]
    assert got == ["sub/"]


def test_saying_cd_moves_the_session_and_the_next_intent_runs_there(tmp_path: Path, work: Path,
                                                                     pipe: PipeInput) -> None:
    (work / "sub").mkdir()
    (work / "sub" / "inner.txt").write_text("x\n")
    shell, out = typed(tmp_path, work, pipe, "change the working directory to sub\nlist the files\n\x04",
                       'shell.cd path="sub"', 'fs.list')
    assert shell.cwd == work / "sub"
    assert "inner.txt" in out  # the second intent listed the new directory


def test_policy_shows_the_configured_policy_file_the_gate_enforces(tmp_path: Path, work: Path,
                                                                    pipe: PipeInput) -> None:
    """``policy =`` in the configuration names a file; /policy lists its rules, and the gate enforces them."""
    vault = work / "vault-7f3"
    vault.mkdir()
    (vault / "key.txt").write_text("k\n")
    policy = tmp_path / "site-policy.toml"
    policy.write_text('defaults = true\ndeny = ["fs.read:~/work/vault-7f3/**"]\n')
    cfg = tmp_path / "cfg" / "nlshell"
    cfg.mkdir(parents=True)
    (cfg / "config.toml").write_text(f'policy = "{policy}"\n')
    con, buf = console()
    con.width = 240
    kernel = kernel_for(tmp_path, 'fs.read path="vault-7f3/key.txt"')
    pipe.send_text("/policy\nshow vault-7f3/key.txt\n\x04")
    try:
        assert LineShell(kernel, input=pipe, output=DummyOutput(), console=con, cwd=work,
                         history_file=tmp_path / "hist").run() == 0
    finally:
        kernel.close()
    shown, ran = buf.getvalue().split("plan for: show vault-7f3/key.txt", 1)
    assert "fs.read:~/work/vault-7f3/**" in shown and f"{policy}:2" in shown  # the rule, from the configured file
    assert "policy denies" in ran and "vault-7f3/**" in ran  # and the gate enforces it
