"""Ctrl-C while a job runs is a flag, never a KeyboardInterrupt inside a lock: the handler, the
one-shot CLI's insistence rule, and the line mode cancelling a running step for real (SIGINT sent
to this very process, the scripted model's plan run by the real kernel)."""

from __future__ import annotations

import io
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from models.scripted import ScriptedBackend
from nlshell.events import Cancelled, Intent
from nlshell.interrupts import sigint_flag
from nlshell.kernel import Kernel
from nlshell.line import LineShell
from tests.kernel_support import Gate, TinyPlanner, dispatcher_with, req, say


def interrupt_me() -> None:
    os.kill(os.getpid(), signal.SIGINT)


def test_sigint_sets_the_flag_and_the_action_runs_off_the_main_thread() -> None:
    before = signal.getsignal(signal.SIGINT)
    ran_on: list[str] = []
    done = threading.Event()

    def action() -> None:
        ran_on.append(threading.current_thread().name)
        done.set()

    with sigint_flag(action) as flag:
        interrupt_me()
        assert done.wait(5) and flag.is_set()
    assert ran_on == ["nlsh-sigint"]
    assert signal.getsignal(signal.SIGINT) is before  # the old handler is back


def test_a_second_sigint_raises_only_when_the_person_may_insist() -> None:
    with sigint_flag() as flag:
        interrupt_me()
        interrupt_me()  # ignored: the line mode stays up
        assert flag.is_set()
    with pytest.raises(KeyboardInterrupt), sigint_flag(insist=True) as flag:
        interrupt_me()
        assert flag.is_set()
        interrupt_me()
        time.sleep(1)  # the signal is delivered at the next bytecode; never reached


def test_off_the_main_thread_nothing_is_installed() -> None:
    seen: list[object] = []

    def body() -> None:
        with sigint_flag() as flag:
            seen.append(signal.getsignal(signal.SIGINT))
            seen.append(flag.is_set())

    before = signal.getsignal(signal.SIGINT)
    t = threading.Thread(target=body)
    t.start()
    t.join()
    assert seen == [before, False]


def test_ctrl_c_in_the_line_mode_cancels_the_running_step_and_the_shell_goes_on(tmp_path: Path) -> None:
    gate = Gate()  # a step that runs until it is released or cancelled
    backend = ScriptedBackend().enqueue(req("test.wait", label="long"), say("still here"))
    kernel = Kernel(TinyPlanner(backend), dispatcher_with(gate))
    buf = io.StringIO()
    con = Console(file=buf, width=100, color_system=None)

    def interrupt_when_running() -> None:
        if gate.entered.wait(30):
            interrupt_me()

    try:
        with create_pipe_input() as pipe:
            shell = LineShell(kernel, input=pipe, output=DummyOutput(), console=con, cwd=tmp_path,
                              history_file=tmp_path / "hist")
            threading.Thread(target=interrupt_when_running, daemon=True).start()
            outcome = shell.run_intent("wait for a long time")
            assert gate.entered.is_set() and gate.cancelled.is_set()  # the running step saw the cancel
            assert outcome == "cancelled", buf.getvalue()
            assert "cancelling…" in buf.getvalue()
            # the shell is still there, and the next intent runs
            assert shell.run_intent("say something") == "ok", buf.getvalue()
            assert "still here" in buf.getvalue()
    finally:
        gate.release.set()
        kernel.close()


def test_a_sigint_the_os_hands_to_another_thread_still_cancels_a_job_the_main_thread_waits_on() -> None:
    """Python runs signal handlers in the main thread only.  Here the signal lands on a helper thread
    (pthread_kill) while the main thread waits for the job's next event, as the one-shot CLI does; the
    wait must wake for the handler, and the job must end cancelled, not when the step gives up."""
    gate = Gate()
    kernel = Kernel(TinyPlanner(ScriptedBackend().enqueue(req("test.wait", label="long"))), dispatcher_with(gate))

    def interrupt_from_here_when_running() -> None:
        if gate.entered.wait(30):
            signal.pthread_kill(threading.get_ident(), signal.SIGINT)
        time.sleep(10)
        gate.release.set()  # the failing case: the step ends by itself, not by the cancel

    try:
        submitted: list[Any] = []
        with sigint_flag(lambda: [j.cancel() for j in submitted]) as flag:
            job = kernel.submit(Intent("wait for a long time", cwd=Path.cwd()))
            submitted.append(job)
            threading.Thread(target=interrupt_from_here_when_running, daemon=True).start()
            terminal = [e for e in job.events() if e.terminal][-1]
        assert flag.is_set()
        assert gate.cancelled.is_set() and not gate.release.is_set()
        assert isinstance(terminal, Cancelled), terminal
    finally:
        gate.release.set()
        kernel.close()
