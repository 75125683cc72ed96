"""A scripted stand-in for ``nlshell.kernel.Kernel`` used by the front-end tests.

It has the kernel's interface (``submit(intent, approve=...) -> Job``,
``Job.events()``, ``Job.cancel()``, ``stats()``, ``close()``) and emits the
same event types, so the TUI and line mode are exercised exactly as with the
real kernel, but without a model: each intent text maps to a scenario that
runs on the job's own thread (like the kernel's worker) and emits events.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from models.plan import Plan, PlanStep
from nlshell import events as ev
from syscalls.registry import default_registry
from syscalls.types import Answer, Approver, Question, Risk, SyscallRequest, SyscallResult


@dataclass
class FakeJob:
    id: int
    intent: ev.Intent
    approve: Approver | None
    cancel_event: threading.Event = field(default_factory=threading.Event)
    answers: list[Answer] = field(default_factory=list)
    _q: queue.Queue[ev.Event] = field(default_factory=queue.Queue)

    def ask(self, question: Question) -> Answer:
        """Ask the front end on this (the kernel's) thread, as the permission gate does."""
        self.emit(ev.AwaitingApproval(self.id, question=question))
        answer = self.approve(question) if self.approve else Answer.DENY
        self.answers.append(answer)
        return answer

    def emit(self, event: ev.Event) -> None:
        self._q.put(event)

    def events(self) -> Iterator[ev.Event]:
        while True:
            event = self._q.get()
            yield event
            if event.terminal:
                return

    def cancel(self) -> None:
        self.cancel_event.set()


Scenario = Callable[[FakeJob], None]


class FakeKernel:
    """Maps intent text to a scenario; an unknown intent fails the way the kernel reports it."""

    model_name = "fake-135m"

    def __init__(self, scenarios: dict[str, Scenario] | None = None) -> None:
        self.registry = default_registry()  # the kernel's registry: how results render, which calls undo
        self.scenarios = dict(scenarios or {})
        self.submitted: list[ev.Intent] = []
        self.jobs: list[FakeJob] = []
        self.closed = False
        self._next = 1

    def submit(self, intent: ev.Intent, *, approve: Approver | None = None) -> FakeJob:
        if self.closed:
            raise RuntimeError("the kernel is closed")
        job = FakeJob(self._next, intent, approve)
        self._next += 1
        self.submitted.append(intent)
        self.jobs.append(job)
        scenario = self.scenarios.get(intent.text, unknown)
        threading.Thread(target=self._run, args=(scenario, job), daemon=True).start()
        return job

    def _run(self, scenario: Scenario, job: FakeJob) -> None:
        job.emit(ev.Queued(job.id, position=0))
        job.emit(ev.Planning(job.id, model=self.model_name))
        scenario(job)

    def stats(self) -> dict[str, Any]:
        return {"queue_depth": 0, "tokens_per_s": 96.5}

    def close(self) -> None:
        self.closed = True


def unknown(job: FakeJob) -> None:
    job.emit(ev.Failed(job.id, error={"kind": "failed", "message": f"no scenario for {job.intent.text!r}",
                                      "hint": "rephrase the request"}))


def result(call: str, args: dict[str, Any], data: dict[str, Any] | None, status: str = "ok",
           error: dict[str, Any] | None = None) -> SyscallResult:
    return SyscallResult(request=SyscallRequest(call, args), status=status, data=data, error=error,
                         started=1_700_000_000.0, elapsed_s=0.001)


FILES = [
    {"name": "beta.py", "type": "file", "size_bytes": 2048, "mode": "0644"},
    {"name": "alpha.txt", "type": "file", "size_bytes": 10, "mode": "0644"},
    {"name": "gamma.log", "type": "file", "size_bytes": 500_000, "mode": "0600"},
]


def list_files(rows: list[dict[str, Any]] | None = None) -> Scenario:
    """A read-only plan: ``fs.list`` with a table of rows."""
    data_rows = FILES if rows is None else rows

    def run(job: FakeJob) -> None:
        plan = Plan(job.intent.text, [PlanStep("fs.list", {"path": "."})], model="fake-135m")
        job.emit(ev.PlanReady(job.id, plan=plan))
        req = SyscallRequest("fs.list", {"path": "."})
        job.emit(ev.StepStarted(job.id, index=0, request=req))
        res = SyscallResult(request=req, status="ok", data={"path": str(job.intent.cwd), "entries": data_rows},
                            started=1_700_000_000.0)
        job.emit(ev.StepFinished(job.id, index=0, result=res))
        job.emit(ev.Stats(job.id, queue_depth=0, tokens_per_s=96.5, model="fake-135m"))
        job.emit(ev.Finished(job.id, results=[res], plan=plan))

    return run


def delete_file(path: str, size: int = 1234, tainted_by: str | None = None,
                on_once: Callable[[], None] | None = None) -> Scenario:
    """A destructive plan that asks for approval; ``on_once`` runs the real change when allowed."""

    def run(job: FakeJob) -> None:
        req = SyscallRequest("fs.delete", {"path": path})
        plan = Plan(job.intent.text, [PlanStep("fs.delete", {"path": path})], model="fake-135m")
        job.emit(ev.PlanReady(job.id, plan=plan))
        resolved = str(job.intent.cwd / path)
        q = Question(request=req, capability="fs.delete", risk=Risk.DESTRUCTIVE, scope=resolved,
                     targets=((path, resolved),), effects={"count": 1, "bytes": size, "paths": [resolved]},
                     tainted_by=tainted_by, reason="deleting needs approval")
        job.emit(ev.StepStarted(job.id, index=0, request=req))
        answer = job.ask(q)
        if job.cancel_event.is_set():
            job.emit(ev.Cancelled(job.id, stage="approval"))
            return
        if answer is Answer.DENY:
            res = SyscallResult(request=req, status="denied",
                                error={"kind": "denied", "message": "you said no", "target": resolved,
                                       "hint": "nothing was deleted"})
        else:
            if on_once is not None:
                on_once()
            res = SyscallResult(request=req, status="ok",
                                data={"path": resolved, "entries": 1, "bytes": size, "trashed": True})
        job.emit(ev.StepFinished(job.id, index=0, result=res))
        job.emit(ev.Finished(job.id, results=[res], plan=plan))

    return run


def slow(job: FakeJob) -> None:
    """Plans forever until cancelled, then reports ``Cancelled`` (like a long generation)."""
    job.cancel_event.wait(30)
    job.emit(ev.Cancelled(job.id, stage="planning"))


def text_answer(message: str) -> Scenario:
    def run(job: FakeJob) -> None:
        req = SyscallRequest("answer", {"text": message})
        res = SyscallResult(request=req, status="ok", data={"text": message, "supported": True})
        job.emit(ev.StepFinished(job.id, index=0, result=res))
        job.emit(ev.Finished(job.id, results=[res]))

    return run
