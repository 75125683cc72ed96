"""The kernel: every front end submits intents here and reads events back.

Message passing
    ``Kernel.submit(intent, approve=..., on_event=...) -> KernelJob``.  A job's events
    arrive on a thread-safe queue (``KernelJob.events()``) and, when given, through a
    callback (the TUI posts them as messages).  Every job ends in exactly one
    terminal event: ``Finished`` (with every result, including a failed or
    denied last step), ``Failed`` (no plan, a kernel error, a timeout) or
    ``Cancelled``.

Scheduling
    Planning jobs wait in a ``Scheduler`` (INTERACTIVE before FOLLOW_UP before
    BACKGROUND, FIFO within a priority, aging).  A backend that holds sessions
    as sequences of one context (``parallel`` > 1, the in-process llama.cpp
    backend) is served by that many planning threads: the jobs they plan at
    the same time decode together in one batch, each in its session's
    sequence (``models.backend.sequence``).  Any other backend is served by ONE
    inference thread.  Plans run on a bounded thread pool, so a slow
    ``fs.find`` never blocks planning.  Jobs of one session run in order: a
    session's next intent is not planned while its previous one is planned or
    its plan still runs, so a follow-up sees the result it follows.

Preemption and context switches
    While a job is being planned, each token checks whether a more urgent job
    waits and no planning thread is free; if so the generation stops at that
    token (its sequence leaves the batch), the job goes back to its place in
    line and the urgent one is served.  On resume the same prompt is run
    again: decoding is greedy, so the text is the one an uninterrupted run
    gives, and the tokens already streamed are not streamed twice.  With
    sequences a session's cells stay where they are, so neither a switch nor a
    resume saves or loads anything.  With a single-context backend, switching
    sessions saves the outgoing session's state and restores the incoming
    one's, and a preempted job's state is saved for its resume.

Cancellation and timeouts
    ``KernelJob.cancel()`` removes a queued job at once; a job being planned stops at
    the next token; a running plan stops between steps and the running call
    sees the same cancel event (``CallContext.check_cancel``).  A per-job
    timeout (``Intent.timeout_s`` or the kernel's default) cancels the same way
    and ends in ``Failed`` with a ``TimedOut`` error.
"""

from __future__ import annotations

import heapq
import itertools
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from models.backend import Backend, Completion, TokenCallback, parallel, sequence
from models.plan import Plan, PlanStep, expand_refs
from nlshell.events import (
    AwaitingApproval,
    Cancelled,
    Event,
    Failed,
    Finished,
    Intent,
    Planning,
    PlanReady,
    Priority,
    Progress,
    Queued,
    Stats,
    StepFinished,
    StepStarted,
    Token,
)
from nlshell.scheduler import Entry, QueueClosed, Scheduler
from nlshell.session import SessionContext, SessionTable, StateCache, rough_tokens
from syscalls import errors as E
from syscalls.dispatcher import Dispatcher
from syscalls.permissions import Policy
from syscalls.registry import Registry, default_registry
from syscalls.types import Answer, Approver, Invocation, Question, Risk, SyscallRequest, SyscallResult
from syscalls.validate import validate

_OK = ("ok", "dry-run")
_WAKE_S = 0.1  # how often a thread waiting for a job's next event wakes (see KernelJob.events)


class KernelClosed(E.ExecutionError):
    """The kernel was closed; nothing more can be submitted to it."""

    default_hint = "start a new Kernel (or restart nlsh)"


class PlannerLike(Protocol):
    """What the kernel needs of a planner: a backend to manage and a ``plan`` call.

    ``plan`` streams through ``on_token`` and must stop soon after it returns
    False (cancellation or preemption); it may then raise or return anything,
    the kernel discards it.  ``warm`` readies the planner before the first request.
    """

    @property
    def backend(self) -> Backend: ...

    def plan(self, intent: str, *, cwd: Path, previous: SyscallResult | None = None,
             on_token: TokenCallback | None = None) -> Plan: ...

    def warm(self) -> object: ...


EventCallback = Callable[[Event], None]


class StateGuard:
    """A backend proxy that lets a restored state stand in for a state it covers.

    A planner restores its warmed prefix state before each plan.  When the
    kernel has just restored a longer state that begins with that same prefix
    (a suspended job's, a session's), loading the prefix would throw that work
    away; the guard skips such a load.  llama.cpp then reuses the longest
    common token prefix, so the output is the one a fresh evaluation gives.
    """

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.name = inner.name
        self.n_ctx = inner.n_ctx
        self.pinned: Any = None
        self.loads_requested = 0
        self.loads_skipped = 0

    def complete(self, prompt: str, *, grammar: str | None = None, max_tokens: int = 256,
                 stop: list[str] | None = None, on_token: TokenCallback | None = None) -> Completion:
        return self.inner.complete(prompt, grammar=grammar, max_tokens=max_tokens, stop=stop,
                                   on_token=on_token)

    def tokenize(self, text: str) -> list[int]:
        return self.inner.tokenize(text)

    def save_state(self) -> Any:
        return self.inner.save_state()

    def load_state(self, state: Any) -> None:
        self.loads_requested += 1
        if self.pinned is not None and covers(self.pinned, state):
            self.loads_skipped += 1
            return
        self.pinned = None
        self.inner.load_state(state)

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def covers(longer: Any, shorter: Any) -> bool:
    """Whether saved state ``longer`` holds every token of ``shorter`` at the same positions."""
    if longer is shorter:
        return True
    if isinstance(longer, dict) and isinstance(shorter, dict):
        a, b = longer.get("context"), shorter.get("context")
        return isinstance(a, str) and isinstance(b, str) and a.startswith(b)
    ids_a, n_a = getattr(longer, "input_ids", None), getattr(longer, "n_tokens", None)
    ids_b, n_b = getattr(shorter, "input_ids", None), getattr(shorter, "n_tokens", None)
    if ids_a is None or ids_b is None or not isinstance(n_a, int) or not isinstance(n_b, int):
        return False
    if n_a < n_b:
        return False
    return [int(x) for x in ids_a[:n_b]] == [int(x) for x in ids_b[:n_b]]


def _guard(planner: PlannerLike) -> StateGuard | None:
    backend = planner.backend
    if isinstance(backend, StateGuard):
        return backend
    guard = StateGuard(backend)
    try:
        setattr(planner, "backend", guard)  # noqa: B010 - the protocol's property may be a plain attribute
    except AttributeError:
        return None
    return guard if planner.backend is guard else None


@dataclass(eq=False)
class KernelJob:
    """One submitted intent: its event stream, its cancel switch, its outcome."""

    id: int
    intent: Intent
    approve: Approver | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)
    submitted: float = field(default_factory=time.monotonic)
    # Filled in as the job moves along.
    stage: str = "queued"  # queued | planning | suspended | executing | done
    plan: Plan | None = None
    preemptions: int = 0
    tokens: int = 0
    timed_out: bool = False
    callback_errors: list[str] = field(default_factory=list)
    _kernel: Kernel | None = field(default=None, repr=False)
    _events: queue.Queue[Event] = field(default_factory=queue.Queue, repr=False)
    _listeners: list[EventCallback] = field(default_factory=list, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _done: threading.Event = field(default_factory=threading.Event, repr=False)
    _terminal: Event | None = field(default=None, repr=False)
    # Preemption bookkeeping (worker thread only).
    _entry: Entry[KernelJob] | None = field(default=None, repr=False)
    _stop: str = field(default="", repr=False)
    _streamed: int = field(default=0, repr=False)
    _seen: int = field(default=0, repr=False)
    _model_gen: int = field(default=-1, repr=False)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def session(self) -> str:
        return self.intent.session

    @property
    def priority(self) -> Priority:
        return self.intent.priority

    def emit(self, event: Event) -> bool:
        """Deliver one event; after the terminal event nothing more is delivered."""
        with self._lock:
            if self._terminal is not None:
                return False
            if event.terminal:
                self._terminal = event
                self.stage = "done"
            self._events.put(event)
            for cb in list(self._listeners):
                try:
                    cb(event)
                except Exception as exc:  # a front end's bug must not stop the kernel
                    self.callback_errors.append(f"{type(exc).__name__}: {exc}")
            if event.terminal:
                self._done.set()
            return True

    def subscribe(self, callback: EventCallback) -> None:
        """Also deliver events to ``callback`` (called on kernel threads, in order)."""
        with self._lock:
            self._listeners.append(callback)

    def events(self, timeout: float | None = None) -> Iterator[Event]:
        """The job's events, ending with its terminal event; one consumer per job.

        ``timeout`` bounds the wait for each next event (``TimedOut`` after it).  The wait is taken in
        slices of ``_WAKE_S``: Python runs signal handlers only in the main thread, and a main thread
        blocked on a lock does not wake when the OS hands a SIGINT to another thread of the process, so
        a front end waiting here would never see its Ctrl-C (the one-shot CLI hung until the step ended).
        """
        while True:
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                left = _WAKE_S if deadline is None else min(_WAKE_S, deadline - time.monotonic())
                try:
                    event = self._events.get(timeout=max(left, 0.0))
                    break
                except queue.Empty:
                    if deadline is not None and time.monotonic() >= deadline:
                        raise E.TimedOut(f"no event from job {self.id} in {timeout} s", call="kernel",
                                         target=f"job {self.id}",
                                         hint="cancel the job or wait longer") from None
            yield event
            if event.terminal:
                return

    def result(self, timeout: float | None = None) -> Event:
        """Wait for and return the terminal event (Finished, Failed or Cancelled)."""
        if not self._done.wait(timeout):
            raise E.TimedOut(f"job {self.id} did not finish in {timeout} s", call="kernel",
                             target=f"job {self.id}", hint="cancel the job or wait longer")
        assert self._terminal is not None
        return self._terminal

    @property
    def terminal(self) -> Event | None:
        return self._terminal

    def cancel(self) -> bool:
        """Ask the job to stop; False when it had already ended."""
        if self.done:
            return False
        self.cancel_event.set()
        if self._kernel is not None:
            self._kernel._cancel_waiting(self)
        return True


class Kernel:
    """The LLM kernel: planning threads (one per generation the backend runs at once), a syscall pool,
    sessions and, for a single-context backend, saved states."""

    def __init__(
        self,
        planner: PlannerLike | None = None,
        dispatcher: Dispatcher | None = None,
        *,
        executor_workers: int = 4,
        default_timeout_s: float | None = None,
        preempt: bool = True,
        aging_passes: int = 8,
        max_queue: int = 10_000,
        max_saved_states: int = 8,
        max_saved_bytes: int = 256 * 1024 * 1024,
        session_budget_tokens: int | None = None,
        max_intent_tokens: int | None = None,
        session_states: bool = True,
        planning_threads: int | None = None,
        warm: bool = True,
        start: bool = True,
    ) -> None:
        self.dispatcher = dispatcher if dispatcher is not None else Dispatcher(default_registry())
        self.preempt = preempt
        self.default_timeout_s = default_timeout_s
        self.session_states = session_states
        self._planner = planner
        # Planning threads: as many as the backend serves generations at once (sessions as sequences),
        # or fewer when asked.
        width = parallel(planner.backend) if planner is not None else 1
        self._threads_n = max(1, min(width, planning_threads or width))
        self._slots = self._threads_n
        self._sequences = width > 1  # sessions are sequences of the backend: no state to save or load
        self._guard = _guard(planner) if planner is not None and not self._sequences else None
        self._warm_on_start = warm
        n_ctx = planner.backend.n_ctx if planner is not None else 2048
        self._max_intent_tokens = max_intent_tokens or max(16, n_ctx // 4)
        self.sessions = SessionTable(budget_tokens=session_budget_tokens or max(64, n_ctx // 2),
                                     count_tokens=self._count_tokens)
        self.states = StateCache(max_count=max_saved_states, max_bytes=max_saved_bytes)
        self._sched: Scheduler[KernelJob] = Scheduler(aging_passes=aging_passes, max_depth=max_queue)
        self._pool = ThreadPoolExecutor(max_workers=executor_workers, thread_name_prefix="nlsh-exec")
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._jobs: dict[int, KernelJob] = {}
        self._executing: Counter[str] = Counter()
        self._subscribers: list[EventCallback] = []
        self._closed = False
        # Worker-thread state.
        self._holder: str | None = None  # the session whose context the model holds
        self._model_gen = 0
        self._warm_ok = False
        self.warm_error: str | None = None
        self.counters: Counter[str] = Counter()
        self._gen_tokens = 0
        self._gen_s = 0.0
        # Planning threads' shared state, under _plan_cond.
        self._plan_cond = threading.Condition()
        self._planning: set[str] = set()  # sessions whose job a planning thread has taken
        self._serving = 0  # planning threads inside a plan
        self._idle = 0  # planning threads waiting for a job
        self._yielding = 0  # threads giving their job up for a more urgent one
        # Control tasks (the warm-up, a model switch) waiting for the planning threads to leave the model;
        # the warm-up counts from the start so that no thread plans before it.
        self._op_waiting = 1 if warm else 0
        self._pop_lock = threading.Lock()
        # Timeouts.
        self._wd_cond = threading.Condition()
        self._deadlines: list[tuple[float, int, KernelJob]] = []
        self._workers = [threading.Thread(target=self._run_worker, args=(i,), name=f"nlsh-inference-{i}",
                                          daemon=True) for i in range(self._threads_n)]
        self._watchdog = threading.Thread(target=self._run_watchdog, name="nlsh-watchdog", daemon=True)
        self._started = False
        if start:
            self.start()

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> None:
        if not self._started:
            self._started = True
            for w in self._workers:
                w.start()
            self._watchdog.start()

    def close(self, timeout: float | None = 30.0, *, close_model: bool = True) -> None:
        """Cancel what waits, let running plans stop, and stop the threads."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            jobs = list(self._jobs.values())
        for job in jobs:
            job.cancel_event.set()
        for job in self._sched.close():
            self._end_cancelled(job, "shutdown")
        with self._wd_cond:
            self._wd_cond.notify_all()
        if self._started:
            for w in self._workers:
                w.join(timeout)
            self._watchdog.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=False)
        for job in jobs:  # anything that slipped between the cracks still ends once
            self._end_cancelled(job, "shutdown")
        if close_model and self._planner is not None:
            self._planner.backend.close()

    def __enter__(self) -> Kernel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def planner(self) -> PlannerLike | None:
        return self._planner

    @property
    def registry(self) -> Registry:
        """The calls this kernel plans and runs: its dispatcher's registry."""
        return self.dispatcher.registry

    @property
    def policy(self) -> Policy | None:
        """The policy the dispatcher's permission gate enforces; None when the gate has no policy."""
        policy = getattr(self.dispatcher.gate, "policy", None)
        return policy if isinstance(policy, Policy) else None

    # -- message passing -----------------------------------------------------
    def submit(self, intent: Intent | str, *, approve: Approver | None = None,
               on_event: EventCallback | None = None) -> KernelJob:
        """Queue an intent; its events start with ``Queued`` and end with one terminal event."""
        if isinstance(intent, str):
            intent = Intent(intent)
        job = KernelJob(id=next(self._ids), intent=intent, approve=approve, _kernel=self)
        if on_event is not None:
            job.subscribe(on_event)
        with self._lock:
            if self._closed:
                raise KernelClosed("the kernel is closed", call="kernel", target=f"job {job.id}")
            self._jobs[job.id] = job
        timeout = intent.timeout_s if intent.timeout_s is not None else self.default_timeout_s
        if timeout is not None:
            self._add_deadline(job, time.monotonic() + timeout)
        if intent.plan is not None:
            # A precomputed plan skips the model: straight to the syscall pool.
            job.emit(Queued(job.id, position=0))
            job.plan = intent.plan
            self._start_execution(job, intent.plan)
            return job
        try:
            entry = self._sched.push(job, intent.priority)
        except QueueClosed:
            self._forget(job)
            raise KernelClosed("the kernel is closed", call="kernel", target=f"job {job.id}") from None
        except OverflowError as exc:
            self._forget(job)
            raise E.LimitExceeded(str(exc), call="kernel", target=f"job {job.id}",
                                  hint="wait for queued intents to finish or cancel some") from exc
        job._entry = entry
        job.emit(Queued(job.id, position=max(0, self._sched.position(job))))
        return job

    def run(self, intent: Intent | str, *, approve: Approver | None = None,
            timeout: float | None = None) -> Event:
        """Submit and wait: the terminal event."""
        return self.submit(intent, approve=approve).result(timeout)

    def subscribe(self, callback: EventCallback) -> None:
        """Kernel-wide events (``Stats`` with job 0 after each plan and model switch)."""
        with self._lock:
            self._subscribers.append(callback)

    def job(self, job_id: int) -> KernelJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    def session(self, name: str = "default") -> SessionContext:
        return self.sessions.get(name)

    # -- system management ---------------------------------------------------
    def stats(self, job_id: int = 0) -> Stats:
        rss = 0
        try:
            import psutil

            rss = int(psutil.Process().memory_info().rss)
        except Exception:  # psutil can fail in odd sandboxes; RSS is then unknown (0)
            rss = 0
        planner = self._planner
        tps = self._gen_tokens / self._gen_s if self._gen_s > 0 else 0.0
        return Stats(
            job_id,
            queue_depth=len(self._sched),
            tokens_per_s=round(tps, 2),
            prefix_cache_hits=self.prefix_cache_hits,
            saved_states=len(self.states),
            saved_state_bytes=self.states.nbytes,
            rss_bytes=rss,
            model=planner.backend.name if planner is not None else "",
            counters=dict(self.counters),
        )

    @property
    def prefix_cache_hits(self) -> int:
        """Plans served from the warmed prefix (the planner's own count when it keeps one)."""
        planner = self._planner
        own = getattr(planner, "prefix_cache_hits", None) if planner is not None else None
        if isinstance(own, int):
            return own
        return self.counters["prefix_cache_hits"]

    def switch_model(self, factory: Callable[[], PlannerLike], timeout: float | None = 120.0) -> Stats:
        """Drain the running generation, unload the model, load and warm another.

        Queued jobs stay queued and are planned by the new model; saved states
        (which belong to the old model) are dropped.
        """
        done: Future[Stats] = Future()

        def op() -> None:
            try:
                old = self._planner
                self.states.clear()
                self._holder = None
                self._planner = None
                if old is not None:
                    old.backend.close()
                new = factory()
                self._slots = min(self._threads_n, parallel(new.backend))
                self._sequences = parallel(new.backend) > 1
                self._guard = _guard(new) if not self._sequences else None
                self._planner = new
                self._model_gen += 1
                self._warm_ok = False
                self._warm()
                self.counters["model_switches"] += 1
                stats = self.stats()
                self._broadcast(stats)
                done.set_result(stats)
            except Exception as exc:
                done.set_exception(exc)

        try:
            self._sched.call_soon(op)
        except QueueClosed:
            raise KernelClosed("the kernel is closed", call="kernel.switch_model") from None
        try:
            return done.result(timeout)
        except TimeoutError as exc:
            raise E.TimedOut(f"the model switch did not finish in {timeout} s", call="kernel.switch_model",
                             hint="a long generation may still be draining; try again") from exc

    # -- internals: bookkeeping ---------------------------------------------
    def _count_tokens(self, text: str) -> int:
        planner = self._planner
        if planner is None:
            return rough_tokens(text)
        return len(planner.backend.tokenize(text))

    def _broadcast(self, event: Event) -> None:
        with self._lock:
            subs = list(self._subscribers)
        for cb in subs:
            try:
                cb(event)
            except Exception as exc:  # a subscriber's bug must not stop the kernel
                self.counters["subscriber_errors"] += 1
                self.warm_error = self.warm_error or f"subscriber: {exc}"

    def _forget(self, job: KernelJob) -> None:
        with self._lock:
            self._jobs.pop(job.id, None)

    def _finish(self, job: KernelJob, event: Event) -> bool:
        ok = job.emit(event)
        if ok:
            self._forget(job)
            self.states.discard(f"job:{job.id}")
            self.counters["jobs_" + type(event).__name__.lower()] += 1
        return ok

    def _end_cancelled(self, job: KernelJob, stage: str, results: list[SyscallResult] | None = None,
                       plan: Plan | None = None) -> None:
        if job.timed_out:
            err = E.TimedOut(f"the intent did not finish in its time limit (stopped while {stage})",
                             call="kernel", target=f"job {job.id}",
                             hint="raise the timeout or narrow the request")
            self._finish(job, Failed(job.id, error=err.to_dict(), plan=plan, results=list(results or [])))
        else:
            self._finish(job, Cancelled(job.id, stage=stage, results=list(results or [])))

    def _cancel_waiting(self, job: KernelJob) -> None:
        if self._sched.remove(job):
            self._end_cancelled(job, "suspended" if job.stage == "suspended" else "queued")

    # -- internals: timeouts -------------------------------------------------
    def _add_deadline(self, job: KernelJob, deadline: float) -> None:
        with self._wd_cond:
            heapq.heappush(self._deadlines, (deadline, job.id, job))
            self._wd_cond.notify_all()

    def _run_watchdog(self) -> None:
        while True:
            with self._wd_cond:
                while not self._deadlines and not self._closed:
                    self._wd_cond.wait()
                if self._closed:
                    return
                deadline, _, job = self._deadlines[0]
                now = time.monotonic()
                if deadline > now:
                    self._wd_cond.wait(deadline - now)
                    continue
                heapq.heappop(self._deadlines)
            if not job.done:
                job.timed_out = True
                self.counters["timeouts"] += 1
                job.cancel()

    # -- internals: the inference worker -------------------------------------
    def _eligible(self, job: KernelJob) -> bool:
        # Called under the scheduler's lock; reads state guarded by self._lock and self._plan_cond.
        return (self._executing[job.session] == 0 and job.session not in self._planning
                and len(self._planning) < self._slots)

    def _warm(self) -> None:
        planner = self._planner
        if planner is None:
            return
        try:
            planner.warm()
            self._warm_ok = True
            self._holder = None
            self.counters["warmups"] += 1
        except Exception as exc:  # planning still works without the prefix cache, only slower
            self._warm_ok = False
            self.warm_error = f"{type(exc).__name__}: {exc}"

    def _run_worker(self, index: int = 0) -> None:
        if index == 0 and self._warm_on_start:
            try:
                self._warm()
            finally:
                with self._plan_cond:
                    self._op_waiting -= 1
                    self._plan_cond.notify_all()
        while True:
            with self._plan_cond:
                self._idle += 1
            with self._pop_lock:
                item = self._sched.pop(self._eligible)
                with self._plan_cond:
                    self._idle -= 1
                    if isinstance(item, Entry):
                        self._planning.add(item.item.session)
            if item is None:
                return
            if not isinstance(item, Entry):
                self._exclusive(item)
                continue
            job = item.item
            try:
                with self._plan_cond:
                    while self._op_waiting:
                        self._plan_cond.wait()
                    self._serving += 1
                try:
                    self._serve(job, item)
                finally:
                    with self._plan_cond:
                        self._serving -= 1
                        self._plan_cond.notify_all()
            except Exception as exc:  # the worker must survive anything a job does
                err = {"type": type(exc).__name__, "kind": "kernel", "call": "kernel",
                       "target": f"job {job.id}", "message": str(exc),
                       "hint": "this is a bug in nlshell; please report it"}
                self._finish(job, Failed(job.id, error=err))
            finally:
                with self._plan_cond:
                    self._planning.discard(job.session)
                    if job._stop == "preempt":
                        self._yielding -= 1
                    self._plan_cond.notify_all()
                self._sched.notify()

    def _exclusive(self, fn: Callable[[], object]) -> None:
        """Run a control task once no job is being planned, and hold new plans back until it is done."""
        with self._plan_cond:
            self._op_waiting += 1
            while self._serving:
                self._plan_cond.wait()
        try:
            fn()
        finally:
            with self._plan_cond:
                self._op_waiting -= 1
                self._plan_cond.notify_all()

    def _serve(self, job: KernelJob, entry: Entry[KernelJob]) -> None:
        if job.done:
            return
        if job.cancel_event.is_set():
            self._end_cancelled(job, "suspended" if job.stage == "suspended" else "queued")
            return
        planner = self._planner
        if planner is None:
            err = E.OSFailure("no model is loaded", call="kernel", target=f"job {job.id}",
                              hint="start nlsh with a model, or submit a precomputed plan")
            self._finish(job, Failed(job.id, error=err.to_dict()))
            return
        resumed = job.stage == "suspended"
        job.stage = "planning"
        if not resumed:
            job.emit(Planning(job.id, model=planner.backend.name))
            try:
                n = len(planner.backend.tokenize(job.intent.text))
            except Exception:  # an odd tokenizer error: estimate instead
                n = rough_tokens(job.intent.text)
            if n > self._max_intent_tokens:
                too_long = E.LimitExceeded(
                    f"the intent is {n} tokens; at most {self._max_intent_tokens} fit the model's context",
                    call="kernel", target=f"job {job.id}", hint="shorten the request or split it")
                self._finish(job, Failed(job.id, error=too_long.to_dict()))
                return
        restored = self._switch_context(job, planner.backend, resumed)
        guard = self._guard
        loads_before = guard.loads_requested if guard is not None else 0
        if guard is not None:
            guard.pinned = restored
        session = self.sessions.get(job.session)
        with session.lock:
            previous = session.previous
        job._stop = ""
        job._seen = 0
        if job._model_gen != self._model_gen:
            job._streamed = 0  # another model: what was streamed before is not what comes now
        job._model_gen = self._model_gen
        t0 = time.perf_counter()
        plan: Plan | None = None
        error: BaseException | None = None
        try:
            with sequence(job.session, int(job.priority)):
                plan = planner.plan(job.intent.text, cwd=job.intent.cwd, previous=previous,
                                    on_token=lambda text: self._on_token(job, text))
        except Exception as exc:
            error = exc
        elapsed = time.perf_counter() - t0
        with self._lock:
            self._gen_s += elapsed
            self._gen_tokens += job._seen
        self._holder = job.session
        if guard is not None:
            guard.pinned = None
            if self._warm_ok and guard.loads_requested > loads_before:
                self.counters["prefix_cache_hits"] += 1
        elif self._warm_ok:
            self.counters["prefix_cache_hits"] += 1
        if job._stop == "preempt" and not job.cancel_event.is_set():
            self._suspend(job, entry, planner.backend)
            return
        if job.cancel_event.is_set() or job._stop == "cancel":
            self._end_cancelled(job, "planning", plan=plan)
            return
        if error is not None:
            self._finish(job, Failed(job.id, error=_error_dict(error, job)))
            return
        assert plan is not None
        job.plan = plan
        if not self._offers(job, plan):  # else the plan is shown once the person has chosen (_execute)
            job.emit(PlanReady(job.id, plan=plan))
        stats = self.stats(job.id)
        job.emit(stats)
        self._broadcast(self.stats())
        self._start_execution(job, plan)

    def _on_token(self, job: KernelJob, text: str) -> bool:
        job._seen += 1
        if job._seen > job._streamed:
            job._streamed = job._seen
            job.tokens += 1
            job.emit(Token(job.id, text=text))
        if job.cancel_event.is_set():
            job._stop = "cancel"
            return False
        if self.preempt and self._should_yield(job):
            job._stop = "preempt"
            return False
        return True

    def _should_yield(self, job: KernelJob) -> bool:
        """Whether ``job`` gives its planning thread up: a more urgent job waits, no thread is free for
        it, and no other thread is already giving its job up."""
        with self._plan_cond:
            if self._idle > 0 or self._yielding > 0:
                return False
        # Eligibility counts slots; the yielding job's own slot is the one the urgent job would take.
        urgent = self._sched.more_urgent_than(job.priority, lambda j: self._executing[j.session] == 0
                                              and j.session not in self._planning, job._entry)
        if urgent:
            with self._plan_cond:
                self._yielding += 1
        return urgent

    def _suspend(self, job: KernelJob, entry: Entry[KernelJob], backend: Backend) -> None:
        if not self._sequences:  # with sequences the job's cells stay in its session's sequence
            try:
                state = backend.save_state()
            except Exception:  # no state: the resume re-evaluates; the output is the same
                state = None
            if state is not None and self.states.put(f"job:{job.id}", state):
                self.counters["states_saved"] += 1
            self._holder = None  # what the model holds now is saved under the job, not the session
        job.stage = "suspended"
        job.preemptions += 1
        self.counters["preemptions"] += 1
        job.emit(Progress(job.id, message="suspended for a more urgent intent", count=job._streamed))
        try:
            self._sched.requeue(entry)
        except QueueClosed:
            self._end_cancelled(job, "shutdown")

    def _switch_context(self, job: KernelJob, backend: Backend, resumed: bool) -> Any:
        """Restore the job's saved state on resume, else the session's if another one ran; the state."""
        if self._sequences:
            return None  # a session is a sequence: nothing to save or load
        if resumed:
            state = self.states.pop(f"job:{job.id}")
            if state is not None and self._load(backend, state, "resumes_restored"):
                self._holder = job.session
                return state
            self.counters["resumes_reevaluated"] += 1
        if not self.session_states or self._holder == job.session:
            return None
        if self._holder is not None:
            try:
                if self.states.put(f"session:{self._holder}", backend.save_state()):
                    self.counters["states_saved"] += 1
            except Exception:  # losing a saved state only costs a re-evaluation later
                self.counters["state_errors"] += 1
        self._holder = job.session
        state = self.states.get(f"session:{job.session}")
        if state is not None and self._load(backend, state, "session_switches_restored"):
            return state
        return None

    def _load(self, backend: Backend, state: Any, counter: str) -> bool:
        try:
            backend.load_state(state)
        except Exception:  # a state that does not load: evaluate from scratch instead
            self.counters["state_errors"] += 1
            return False
        self.counters[counter] += 1
        return True

    # -- internals: execution ------------------------------------------------
    def _start_execution(self, job: KernelJob, plan: Plan) -> None:
        job.stage = "executing"
        with self._lock:
            self._executing[job.session] += 1
        try:
            self._pool.submit(self._execute, job, plan)
        except RuntimeError:  # the pool is shut down (closing)
            self._release(job)
            self._end_cancelled(job, "shutdown", plan=plan)

    def _release(self, job: KernelJob) -> None:
        with self._lock:
            self._executing[job.session] -= 1
            if self._executing[job.session] <= 0:
                del self._executing[job.session]
        self._sched.notify()

    def _approver(self, job: KernelJob) -> Approver | None:
        approve = job.approve
        if approve is None:
            return None

        def wrapped(question: Question) -> Answer:
            job.emit(AwaitingApproval(job.id, question=question))
            return approve(question)

        return wrapped

    @staticmethod
    def _offers(job: KernelJob, plan: Plan) -> bool:
        """Whether the person is asked to run the plan the model was unsure of (someone can answer)."""
        return bool(plan.suggestion) and job.approve is not None

    def _offer(self, job: KernelJob, plan: Plan) -> Plan:
        """The plan to run when the model was unsure: its suggestion if the person says yes, else the
        refusal it planned."""
        approve = self._approver(job)
        if approve is None:
            return plan
        registry = self.dispatcher.registry
        specs = [registry.get(step.call) for step in plan.suggestion]
        worst = max(specs, key=lambda spec: list(Risk).index(spec.risk))
        steps = tuple(SyscallRequest(step.call, dict(step.args)) for step in plan.suggestion)
        confidence = plan.confidence if plan.confidence is not None else 0.0
        question = Question(request=steps[0], capability=worst.capability, risk=worst.risk, scope="",
                            reason=f"the model was unsure what you meant (confidence {confidence:.2f})",
                            unsure=confidence, steps=steps)
        if approve(question) is Answer.DENY:
            return plan  # the refusal runs; the suggestion stays on the plan, for the record (--json)
        return replace(plan, steps=list(plan.suggestion), suggestion=[])

    def _execute(self, job: KernelJob, plan: Plan) -> None:
        results: list[SyscallResult] = []
        try:
            if self._offers(job, plan):
                plan = job.plan = self._offer(job, plan)
                job.emit(PlanReady(job.id, plan=plan))
            self._execute_steps(job, plan, results)
        except Exception as exc:  # never leave a job without its terminal event
            self._finish(job, Failed(job.id, error=_error_dict(exc, job), plan=plan, results=results))
        finally:
            self._release(job)

    def _execute_steps(self, job: KernelJob, plan: Plan, results: list[SyscallResult]) -> None:
        session = self.sessions.get(job.session)
        registry = self.dispatcher.registry
        approve = self._approver(job)
        by_step: list[SyscallResult] = []
        with session.lock:
            previous = session.previous

        def progress(message: str, count: int) -> None:
            job.emit(Progress(job.id, message=message, count=count))

        for index, step in enumerate(plan.steps):
            if job.cancel_event.is_set():
                self._end_cancelled(job, "executing", results, plan)
                return
            step_results: list[SyscallResult] = []
            try:
                arg_sets = expand_refs(step.args, by_step, previous, registry)
            except LookupError as exc:
                arg_sets = []
                res = _invalid(step, step.args, E.InvalidRequest(str(exc), call=step.call, field="args",
                                                                 hint="the plan refers to a result it cannot use"))
                job.emit(StepStarted(job.id, index=index, request=res.request))
                job.emit(StepFinished(job.id, index=index, result=res))
                results.append(res)
                step_results.append(res)
            stop = bool(step_results)
            for args in arg_sets:
                if job.cancel_event.is_set():
                    self._end_cancelled(job, "executing", results, plan)
                    return
                try:
                    request = validate({"call": step.call, "args": args}, registry)
                except E.InvalidRequest as exc:
                    res = _invalid(step, args, exc)
                    job.emit(StepStarted(job.id, index=index, request=res.request))
                else:
                    job.emit(StepStarted(job.id, index=index, request=request.request))
                    with session.lock:
                        tainted_by = session.tainted_by
                    res = self.dispatcher.handle(request, Invocation(
                        cwd=job.intent.cwd, session=job.session, dry_run=job.intent.dry_run,
                        cancel=job.cancel_event, progress=progress, approve=approve, intent=job.intent.text,
                        tainted_by=tainted_by))
                job.emit(StepFinished(job.id, index=index, result=res))
                results.append(res)
                step_results.append(res)
                if res.status == "ok":
                    # a call whose output is untrusted content (``SyscallSpec.taints``) taints the session:
                    # later requests are shown to the permission gate as influenced by it
                    source = registry.get(res.request.call).taint_source(res.request.args)
                    if source is not None:
                        session.taint(source)
                if res.status == "cancelled" or job.cancel_event.is_set():
                    self._end_cancelled(job, "executing", results, plan)
                    return
                if res.status not in _OK:
                    stop = True
                    break
            by_step.append(_merge(step_results))
            if stop:
                break
        session.record(job.intent.text, results)
        self._finish(job, Finished(job.id, results=list(results), plan=plan))


def _invalid(step: PlanStep, args: dict[str, Any], exc: E.SyscallError) -> SyscallResult:
    return SyscallResult(request=SyscallRequest(call=step.call, args=dict(args)), status="invalid",
                         error=exc.to_dict())


def _merge(results: list[SyscallResult]) -> SyscallResult:
    """One result per step for ``$N`` references; a fanned-out step's rows are its results."""
    if len(results) == 1:
        return results[0]
    if not results:
        return SyscallResult(request=SyscallRequest(call="", args={}), status="ok", data={"results": []})
    status = "ok" if all(r.status in _OK for r in results) else results[-1].status
    rows = [r.data for r in results if r.data is not None]
    return SyscallResult(request=results[0].request, status=status, data={"results": rows})


def _error_dict(exc: BaseException, job: KernelJob) -> dict[str, Any]:
    to_dict = getattr(exc, "to_dict", None)
    if callable(to_dict):
        d = to_dict()
        if isinstance(d, dict):
            return d
    return {
        "type": type(exc).__name__,
        "kind": "planning" if type(exc).__module__.startswith("models") else "kernel",
        "call": "",
        "target": f"job {job.id}",
        "message": getattr(exc, "message", str(exc)),
        "hint": getattr(exc, "hint", "") or "rephrase the request, or report this as a bug",
    }
