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
    """One session on a tmux server of its own (``-L``), so killing the server touches nothing else."""

    def __init__(self, name: str, env: dict[str, str]) -> None:
        self.name = name
        self.env = env
        self.tmux = ["tmux", "-L", name, "-f", "/dev/null"]

    def start(self, argv: list[str], cwd: Path) -> None:
        envs = [f"{k}={v}" for k, v in self.env.items()]
        cmd = " ".join(["env", *(_q(e) for e in envs), *(_q(a) for a in argv)])
        subprocess.run([*self.tmux, "new-session", "-d", "-s", self.name, "-x", "100", "-y", "30", "-c", str(cwd),
                        cmd + "; echo NLSH-EXIT=$?; sleep 600"], check=True)

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", self.name, *keys], check=True)

    def screen(self) -> str:
        return subprocess.run([*self.tmux, "capture-pane", "-p", "-t", self.name], check=True,
                              capture_output=True, text=True).stdout

    def wait(self, cond: Callable[[str], bool], what: str, tries: int = 300) -> str:
        screen = ""
        for _ in range(tries):
            screen = self.screen()
            if cond(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; the screen shows:\n{screen}")

    def kill_pane(self) -> None:
        subprocess.run([*self.tmux, "kill-pane", "-t", self.name], check=True)

    def kill(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], check=False, capture_output=True)


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


def test_terminal_watch_sees_a_hang_up_and_sighup() -> None:
    """The watch behind both front ends: the pty's other side closing, and SIGHUP, each call on_lost once."""
    import pty
    import signal
    import threading

    from nlshell.tui.common import TerminalWatch

    master, slave = pty.openpty()
    calls: list[str] = []
    called = threading.Event()

    def lost() -> None:
        calls.append("lost")
        called.set()

    try:
        with TerminalWatch(lost, fd=slave, grace_s=None, interval_s=0.05) as watch:
            assert not called.wait(0.3)  # a live terminal is not lost
            os.close(master)
            master = -1
            assert called.wait(15), "the hang-up was not noticed"
            assert watch.reason == "the terminal hung up"
    finally:
        if master >= 0:
            os.close(master)
        os.close(slave)
    assert calls == ["lost"]

    before = signal.getsignal(signal.SIGHUP)
    if before is not signal.SIG_DFL:  # run under nohup: the watch leaves an ignored SIGHUP ignored
        return
    master, slave = pty.openpty()
    called.clear()
    try:
        with TerminalWatch(lost, fd=slave, grace_s=None, interval_s=0.05) as watch:
            os.kill(os.getpid(), signal.SIGHUP)
            assert called.wait(15), "SIGHUP was not noticed"
            assert watch.reason == "SIGHUP"
        assert signal.getsignal(signal.SIGHUP) == before
    finally:
        os.close(master)
        os.close(slave)
    assert calls == ["lost", "lost"]


def test_tui_table_approval_and_monitor(tmp_path: Path, work: Path, tmux: Tmux) -> None:
    s = script(tmp_path, 'fs.list path="." long=true', 'fs.delete path="victim.txt"')
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
    s = script(tmp_path, 'fs.list path="."', 'fs.delete path="victim.txt"')
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


# A front end started where SIGHUP does not reach it (nohup; runuser and sudo -u do not pass it on).
IGNORING_SIGHUP = ("import os, signal, sys; signal.signal(signal.SIGHUP, signal.SIG_IGN); "
                   "open(sys.argv[1], 'w').write(str(os.getpid())); os.execv(sys.argv[2], sys.argv[2:])")


def _ended(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.slow
@pytest.mark.parametrize("waiting", ["idle", "asking"])
@pytest.mark.parametrize("kill", ["pane", "server"])
@pytest.mark.parametrize("front", ["tui", "line"])
def test_front_end_exits_when_its_terminal_goes_away(tmp_path: Path, work: Path, tmux: Tmux, front: str,
                                                     kill: str, waiting: str) -> None:
    """The pane (or the whole tmux server) is killed while SIGHUP is ignored: the front end notices the
    hang-up, cancels the job waiting for approval (nothing is deleted) and exits, not spins."""
    s = script(tmp_path, 'fs.delete path="victim.txt"')
    pid_file = tmp_path / "nlsh.pid"
    module = "nlshell.tui" if front == "tui" else "nlshell.line"
    tmux.start([sys.executable, "-c", IGNORING_SIGHUP, str(pid_file),
                sys.executable, "-m", module, "--scripted", str(s), "--cwd", str(work)], work)
    ready = (lambda sc: "say what you want" in sc) if front == "tui" else (lambda sc: "›" in sc)
    tmux.wait(ready, "the prompt")
    pid = int(pid_file.read_text())
    if waiting == "asking":
        time.sleep(0.5)
        tmux.keys("delete victim.txt", "Enter")
        tmux.wait(lambda sc: "Approve fs.delete?" in sc or "approve?" in sc, "the approval question")
    if kill == "pane":
        tmux.kill_pane()
    else:
        tmux.kill()
    for _ in range(150):  # a busy machine: allow 15 s, the front end needs about one
        if _ended(pid):
            break
        time.sleep(0.1)
    else:
        os.kill(pid, 9)
        raise AssertionError(f"the {front} front end (pid {pid}) is still running after its terminal went away")
    assert (work / "victim.txt").exists()
    if waiting == "asking":
        assert "delete victim.txt" in (tmp_path / "state" / "history").read_text()
