"""Real-terminal tests: the TUI and the line mode in tmux, driven by keys, read back with capture-pane.

The model is the scripted backend (``--scripted FILE``) except in the ``model``-marked test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)")


class Tmux:
    def __init__(self, name: str, env: dict[str, str]) -> None:
        self.name = name
        self.env = env

    def start(self, argv: list[str], cwd: Path) -> None:
        envs = [f"{k}={v}" for k, v in self.env.items()]
        cmd = " ".join(["env", *(_q(e) for e in envs), *(_q(a) for a in argv)])
        subprocess.run(["tmux", "new-session", "-d", "-s", self.name, "-x", "100", "-y", "30", "-c", str(cwd),
                        cmd + "; echo NLSH-EXIT=$?; sleep 600"], check=True)

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def screen(self) -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name], check=True,
                              capture_output=True, text=True).stdout

    def wait(self, cond: Callable[[str], bool], what: str, tries: int = 300) -> str:
        screen = ""
        for _ in range(tries):
            screen = self.screen()
            if cond(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; the screen shows:\n{screen}")

    def kill(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], check=False, capture_output=True)


def _q(s: str) -> str:
    return "'" + s.replace("'", "'\\''") + "'"


@pytest.fixture
def work(tmp_path: Path) -> Path:
    w = tmp_path / "home" / "work"
    w.mkdir(parents=True)
    (w / "a.txt").write_text("alpha\n")
    (w / "big.bin").write_bytes(b"\0" * 50_000)
    (w / "victim.txt").write_text("bye\n")
    return w


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    env = {"HOME": str(tmp_path / "home"), "NLSH_STATE_DIR": str(tmp_path / "state"),
           "XDG_STATE_HOME": str(tmp_path / "xs"), "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
           "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "TERM": "xterm-256color", "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    t = Tmux(f"nlsh-test-{os.getpid()}-{time.monotonic_ns()}", env)
    yield t
    t.kill()


def script(tmp_path: Path, *outputs: str) -> Path:
    p = tmp_path / "script.json"
    p.write_text(json.dumps(list(outputs)))
    return p


def test_tui_table_approval_and_monitor(tmp_path: Path, work: Path, tmux: Tmux) -> None:
    s = script(tmp_path, " fs.list\n", ' {"path": ".", "long": true}\n', " fs.delete\n", ' {"path": "victim.txt"}\n')
    tmux.start([sys.executable, "-m", "nlshell.tui", "--scripted", str(s), "--cwd", str(work)], work)
    tmux.wait(lambda sc: "say what you want" in sc, "the prompt")
    tmux.keys("list the files here", "Enter")
    screen = tmux.wait(lambda sc: "48.8 KiB" in sc and "count" in sc, "the table")
    # the cwd is shown (folded when the terminal is narrower than the path)
    assert "48.8 KiB" in screen and "size_bytes" in screen and "test_tui_table_approval" in screen
    tmux.keys("delete victim.txt", "Enter")
    screen = tmux.wait(lambda sc: "Approve fs.delete?" in sc, "the approval modal")
    assert "destructive" in screen and "victim.txt" in screen and "Deny" in screen
    time.sleep(0.5)  # a person reads the question first; keys sent while it mounts may be dropped
    tmux.keys("o")
    tmux.wait(lambda sc: "trashed" in sc and "Approve" not in sc, "the deletion")
    assert not (work / "victim.txt").exists()
    tmux.keys("/undo", "Enter")
    tmux.wait(lambda _: (work / "victim.txt").exists(), "undo to bring the file back")
    assert (work / "victim.txt").read_text() == "bye\n"
    tmux.keys("F2")
    screen = tmux.wait(lambda sc: "top processes" in sc and "pid" in sc, "the monitor")
    assert "memory" in screen and "disks" in screen
    tmux.keys("C-q")
    tmux.wait(lambda sc: "NLSH-EXIT=0" in sc, "the app to quit")


def test_line_mode_table_and_one_key_approval(tmp_path: Path, work: Path, tmux: Tmux) -> None:
    s = script(tmp_path, " fs.list\n", ' {"path": "."}\n', " fs.delete\n", ' {"path": "victim.txt"}\n')
    tmux.start([sys.executable, "-m", "nlshell.line", "--scripted", str(s), "--cwd", str(work)], work)
    tmux.wait(lambda sc: "›" in sc, "the prompt")
    tmux.keys("list the files here", "Enter")
    tmux.wait(lambda sc: "big.bin" in sc and "victim.txt" in sc, "the table")
    tmux.keys("delete victim.txt", "Enter")
    screen = tmux.wait(lambda sc: "approve?" in sc, "the one-key question")
    assert "destructive" in screen
    tmux.keys("o")
    tmux.wait(lambda sc: "→ once" in sc, "the answer")
    tmux.wait(lambda _: not (work / "victim.txt").exists(), "the deletion")
    tmux.keys("/undo", "Enter")
    tmux.wait(lambda _: (work / "victim.txt").exists(), "undo to bring the file back")
    tmux.wait(lambda sc: "restored" in sc and sc.rstrip().endswith("›"), "the prompt after undo")
    tmux.keys("C-d")
    tmux.wait(lambda sc: "NLSH-EXIT=0" in sc, "Ctrl-D to exit")


@pytest.mark.model
def test_tui_with_the_real_model(tmp_path: Path, work: Path, tmux: Tmux) -> None:
    tmux.start([sys.executable, "-m", "nlshell.tui", "--cwd", str(work)], work)
    # model load + warm-up take minutes on a busy 2-core machine
    tmux.wait(lambda sc: "say what you want" in sc, "the prompt", tries=3000)
    tmux.keys("list the files here", "Enter")
    screen = tmux.wait(lambda sc: "plan for: list the files here" in sc and "tok/s" in sc, "a plan", tries=3000)
    assert "› list the files here" in screen
