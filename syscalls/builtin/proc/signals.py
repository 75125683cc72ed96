"""proc.signal: one process by pid, checked to be the process meant, signalled through a pidfd.

The pidfd is opened before the identity check (the start time from a listing and the one the
permission gate saw) and the signal goes through it, so a pid reused in between is never
signalled.  A zombie is reported as such (not sent) rather than signalled or failed.
"""

from __future__ import annotations

import errno
import os
import signal as _signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import psutil

from syscalls import schema as S
from syscalls.builtin.proc.common import _boundary, _check_create_time, _process, _uid, _user_of
from syscalls.errors import Denied, ProcessGone, WrongType, from_oserror
from syscalls.types import CallContext, JSONDict, Risk, View

if TYPE_CHECKING:
    from syscalls.registry import Registry

SIGNALS: dict[str, int] = {
    "TERM": _signal.SIGTERM,
    "KILL": _signal.SIGKILL,
    "INT": _signal.SIGINT,
    "HUP": _signal.SIGHUP,
    "STOP": _signal.SIGSTOP,
    "CONT": _signal.SIGCONT,
    "USR1": _signal.SIGUSR1,
    "USR2": _signal.SIGUSR2,
}
# Convenience spellings: "terminate" asks politely (TERM), "kill" does not (KILL).
SIGNAL_ALIASES = {"terminate": "TERM", "kill": "KILL"}
# The words of a request that ask for a signal other than TERM (the default, which needs none).  "stop" and a
# bare "kill" are not among them: "stop process 42" and "kill process 42" mean TERM (as the examples and the
# planner's corpus have it); pausing is "pause", "suspend" or "freeze", forcing is "force" or "-9".
_KILL_WORDS = ["force", "forced", "forcing", "forcefully", "forcibly", "-9", "sigkill", "-kill"]
SIGNAL_WORDS: dict[str, list[str]] = {
    "KILL": _KILL_WORDS, "kill": _KILL_WORDS,
    "INT": ["interrupt", "interrupts", "interrupting", "int", "sigint", "-2", "ctrl-c", "ctrl+c", "control-c",
            "^c"],
    "HUP": ["hup", "sighup", "hang up", "hangs up", "hung up", "hangup", "reload", "reloads", "reloading",
            "re-read", "reread", "-1"],
    "STOP": ["pause", "pauses", "paused", "pausing", "suspend", "suspends", "suspending", "freeze", "freezes",
             "freezing", "sigstop", "-stop", "-19"],
    "CONT": ["continue", "continues", "continuing", "resume", "resumes", "resuming", "unpause", "unfreeze",
             "thaw", "wake", "cont", "sigcont", "-18"],
    "USR1": ["usr1", "sigusr1", "user signal 1", "user-defined signal 1"],
    "USR2": ["usr2", "sigusr2", "user signal 2", "user-defined signal 2"],
}

def _signal_target(ctx: CallContext, args: JSONDict) -> tuple[psutil.Process, JSONDict]:
    pid = int(args["pid"])
    if pid == os.getpid():
        raise Denied("refusing to signal nlshell's own process", call=ctx.call, target=f"pid {pid}")
    p = _process(ctx.call, pid)
    created = _check_create_time(ctx.call, p, args.get("create_time"))
    # the start time the permission gate saw when it checked (and the person approved) this pid
    _check_create_time(ctx.call, p, ctx.checked_pids.get(pid))
    with _boundary(ctx.call, pid):
        name = p.name()
        uids = p.uids()
        status = p.status()
    try:
        cmdline = " ".join(p.cmdline())
    except psutil.Error:
        cmdline = ""
    return p, {"pid": pid, "name": name, "user": _user_of(_uid(uids)), "create_time": created,
               "cmdline": cmdline, "status": status}


def _signal_name(args: JSONDict) -> str:
    raw = str(args.get("signal", "TERM"))
    return SIGNAL_ALIASES.get(raw, raw)


def pv_signal(ctx: CallContext, args: JSONDict) -> JSONDict:
    _, target = _signal_target(ctx, args)
    status = target.pop("status")
    return {"signal": _signal_name(args), "targets": [target], "zombie": status == "zombie"}


@contextmanager
def open_pidfd(call: str, pid: int) -> Iterator[int | None]:
    """A pidfd for ``pid``, closed afterwards; None where the kernel has no ``pidfd_open`` (ENOSYS).

    A pidfd names one process for as long as it is open: once that process has
    exited, signalling through it fails with ESRCH even if its pid has been
    given to a new process.
    """
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError as exc:
        raise ProcessGone(f"pid {pid} has exited: no process has that pid now", call=call, target=f"pid {pid}",
                          hint="nothing was signalled; list processes again and pick the pid") from exc
    except OSError as exc:
        if exc.errno == errno.ENOSYS:
            yield None
            return
        if exc.errno == errno.EINVAL:
            raise WrongType(f"pid {pid} is not a process (a thread of one?)", call=call, target=f"pid {pid}",
                            hint="give the pid of the process, not of one of its threads") from exc
        raise from_oserror(exc, call=call, target=f"pid {pid}") from exc
    try:
        yield fd
    finally:
        os.close(fd)


def pidfd_signal(call: str, pid: int, fd: int, sig: int) -> None:
    """Send ``sig`` (0 checks that it is still there) to the process behind ``fd``, which had ``pid``."""
    try:
        _signal.pidfd_send_signal(fd, sig)
    except ProcessLookupError as exc:
        raise ProcessGone(f"pid {pid} exited before it was signalled", call=call, target=f"pid {pid}",
                          hint="nothing was signalled; list processes again if another process is meant") from exc
    except OSError as exc:
        raise from_oserror(exc, call=call, target=f"pid {pid}") from exc


def proc_signal(ctx: CallContext, args: JSONDict) -> JSONDict:
    sig_name = _signal_name(args)
    pid = int(args["pid"])
    # The pidfd is opened before the identity check, and the signal goes through it: the process
    # checked is the one signalled, even if it exits and its pid is reused in between.
    with open_pidfd(ctx.call, pid) as fd:
        p, target = _signal_target(ctx, args)
        if fd is not None:
            # Still alive through the pidfd after the check: the pid named the pidfd's process while it
            # was checked (a live process's pid names no other).
            pidfd_signal(ctx.call, pid, fd, 0)
        status = target.pop("status")
        if status == psutil.STATUS_ZOMBIE:
            return {**target, "signal": sig_name, "sent": False, "alive": False, "zombie": True,
                    "note": "the process has already exited; its parent has not reaped it yet"}
        if fd is not None:
            pidfd_signal(ctx.call, pid, fd, SIGNALS[sig_name])
        else:
            # No pidfd_open on this kernel (ENOSYS): os.kill by pid, after psutil checks the start time again.
            with _boundary(ctx.call, p.pid):
                p.send_signal(SIGNALS[sig_name])
    wait_s = float(args.get("wait_s", 0.0))
    alive = _alive(p)
    deadline = time.monotonic() + wait_s
    while alive and time.monotonic() < deadline:
        if ctx.cancel.wait(0.02):
            break
        alive = _alive(p)
    return {**target, "signal": sig_name, "sent": True, "alive": alive, "zombie": False, "note": ""}


def _alive(p: psutil.Process) -> bool:
    """Still running (a zombie counts as exited; it is not reaped here, that is its parent's job)."""
    try:
        return bool(p.is_running() and p.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def register(registry: Registry) -> None:
    registry.syscall(
        "proc.signal",
        "Send a signal to one process by pid (TERM asks it to stop, KILL forces it); "
        "give create_time from a listing to guard against a reused pid.",
        args=S.obj({
            "pid": S.pid("the process to signal"),
            "signal": S.enum([*SIGNALS, *SIGNAL_ALIASES],
                             "TERM (default) asks to stop, KILL forces, INT interrupts, HUP reloads, "
                             "STOP/CONT pause/resume; terminate = TERM, kill = KILL", words=SIGNAL_WORDS),
            "create_time": S.number("start time (epoch seconds) from proc.list; "
                                    "refuses if the pid was reused", minimum=0),
            "wait_s": {"type": "number", "minimum": 0, "maximum": 30,
                       "description": "wait up to this long for the process to exit"},
        }, required=["pid"]),
        result=S.obj({
            "pid": S.integer(), "name": S.nullable("string"), "user": S.nullable("string"),
            "create_time": S.number(), "cmdline": S.string(max_length=10**6),
            "signal": S.string(), "sent": S.boolean(), "alive": S.boolean(), "zombie": S.boolean(),
            "note": S.string(),
        }, required=["pid", "signal", "sent", "alive"]),
        capability="proc.kill",
        risk=Risk.DESTRUCTIVE,
        view=View("record"),
        examples=[
            ("kill process 4242", {"pid": 4242, "signal": "TERM"}),
            ("force kill pid 999 now", {"pid": 999, "signal": "KILL"}),
            ("tell pid 310 to reload its config", {"pid": 310, "signal": "HUP"}),
            ("pause process 5120", {"pid": 5120, "signal": "STOP"}),
            ("resume process 5120", {"pid": 5120, "signal": "CONT"}),
        ],
        preview=pv_signal,
    )(proc_signal)
