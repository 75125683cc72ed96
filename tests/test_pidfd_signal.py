"""proc.signal through a pidfd, against real processes this test spawns and reaps.

The pidfd is opened before the identity check and the signal goes through it,
so a pid that is reused after the check is never signalled.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from syscalls.builtin.proc.signals import open_pidfd, pidfd_signal
from syscalls.dispatcher import Dispatcher
from syscalls.errors import ProcessGone
from syscalls.permissions import Policy, PolicyGate
from syscalls.types import CallContext, SyscallRequest
from tests.syscall_support import REG, call, ok

LAST_PID = Path("/proc/sys/kernel/ns_last_pid")


@pytest.fixture
def sleepers() -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []

    def spawn() -> subprocess.Popen[bytes]:
        p = subprocess.Popen(["sleep", "30"])
        procs.append(p)
        return p

    yield spawn
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait()


def reaped_pid(spawn: Callable[[], subprocess.Popen[bytes]]) -> int:
    p = spawn()
    p.kill()
    p.wait()
    if psutil.pid_exists(p.pid):
        pytest.skip(f"pid {p.pid} was reused by another process at once")
    return p.pid


def reuse(pid: int, spawn: Callable[[], subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    """A new process that has ``pid`` (the old one must be reaped); skips where pids cannot be steered."""
    if not os.access(LAST_PID, os.W_OK):
        pytest.skip("cannot steer pid allocation here (needs root and a writable ns_last_pid)")
    for _ in range(50):
        LAST_PID.write_text(str(pid - 1))
        p = spawn()
        if p.pid == pid:
            return p
        p.kill()
        p.wait()
    pytest.skip("the pid was not reused (other processes took it)")


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def test_signal_is_sent_and_the_pidfd_closed(sleepers: Callable[[], subprocess.Popen[bytes]],
                                             tmp_path: Path) -> None:
    p = sleepers()
    before = open_fds()
    data = ok("proc.signal", {"pid": p.pid, "signal": "TERM", "wait_s": 10}, tmp_path)
    assert data["sent"] is True and data["alive"] is False and data["name"] == "sleep"
    assert p.wait(timeout=10) == -signal.SIGTERM
    assert open_fds() <= before


def test_stop_and_continue_through_the_pidfd(sleepers: Callable[[], subprocess.Popen[bytes]],
                                              tmp_path: Path) -> None:
    p = sleepers()
    ok("proc.signal", {"pid": p.pid, "signal": "STOP"}, tmp_path)
    deadline = time.monotonic() + 10
    while psutil.Process(p.pid).status() != psutil.STATUS_STOPPED:
        assert time.monotonic() < deadline, "never stopped"
        time.sleep(0.02)
    ok("proc.signal", {"pid": p.pid, "signal": "CONT"}, tmp_path)
    assert p.poll() is None


def test_reaped_process_is_a_typed_error_naming_the_pid(sleepers: Callable[[], subprocess.Popen[bytes]],
                                                        tmp_path: Path) -> None:
    pid = reaped_pid(sleepers)
    with pytest.raises(ProcessGone) as exc:
        with open_pidfd("proc.signal", pid):
            pass
    err = exc.value
    assert err.call == "proc.signal" and err.target == f"pid {pid}"
    assert f"pid {pid}" in err.message and "exited" in err.message
    assert "list processes" in err.hint
    r = call("proc.signal", {"pid": pid, "signal": "KILL"}, tmp_path)
    assert r.status == "failed" and r.error is not None
    assert r.error["type"] == "ProcessGone" and r.error["target"] == f"pid {pid}"


def test_a_held_pidfd_never_signals_the_pids_next_owner(sleepers: Callable[[], subprocess.Popen[bytes]]) -> None:
    first = sleepers()
    pid = first.pid
    with open_pidfd("proc.signal", pid) as fd:
        if fd is None:
            pytest.skip("this kernel has no pidfd_open")
        pidfd_signal("proc.signal", pid, fd, 0)  # there
        first.kill()
        first.wait()
        # reused at once, possibly within the same clock tick: start times could not tell them apart
        second = reuse(pid, sleepers)
        with pytest.raises(ProcessGone) as exc:
            pidfd_signal("proc.signal", pid, fd, signal.SIGKILL)
        assert exc.value.target == f"pid {pid}" and "exited before it was signalled" in exc.value.message
    assert second.poll() is None


class _ReuseAfterCheck:
    """The real policy gate, then the checked process exits and its pid goes to a new one before the call."""

    def __init__(self, spawn: Callable[[], subprocess.Popen[bytes]], victim: subprocess.Popen[bytes]) -> None:
        self.inner = PolicyGate(Policy.from_text('allow = ["proc.kill:user"]\n'))
        self.spawn, self.victim = spawn, victim
        self.successor: subprocess.Popen[bytes] | None = None

    def authorize(self, request: SyscallRequest, spec: object, ctx: CallContext) -> None:
        self.inner.authorize(request, spec, ctx)  # type: ignore[arg-type]
        assert ctx.checked_pids.get(self.victim.pid) is not None
        self.victim.kill()
        self.victim.wait()
        time.sleep(0.05)  # a later clock tick: the successor's start time differs
        self.successor = reuse(self.victim.pid, self.spawn)


def test_pid_reused_after_the_gate_checked_it_is_not_signalled(
        sleepers: Callable[[], subprocess.Popen[bytes]], tmp_path: Path) -> None:
    victim = sleepers()
    gate = _ReuseAfterCheck(sleepers, victim)
    r = Dispatcher(REG, gate=gate).handle(SyscallRequest("proc.signal", {"pid": victim.pid, "signal": "KILL"}),
                                          tmp_path)
    assert gate.successor is not None and gate.successor.pid == victim.pid
    assert r.status == "failed" and r.error is not None and r.error["type"] == "ProcessGone", r.error
    assert r.error["target"] == f"pid {victim.pid}" and "reused" in r.error["message"]
    assert gate.successor.poll() is None  # the new owner of the pid was not signalled
