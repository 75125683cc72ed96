"""The Python API: drive nlshell from a program.

::

    from nlshell import Session, approve_calls

    with Session("smollm2", cwd="~/project", approve=approve_calls("fs.mkdir")) as s:
        out = s.submit("list the python files here").wait()
        for row in out.data["entries"]:
            print(row["path"])

        plan = s.plan("delete the build directory")      # inspect before anything changes
        if [st.call for st in plan.steps] == ["fs.delete"]:
            s.execute(plan).wait()

        s.run("fs.mkdir", path="out")                    # a request directly, no model

Results are data (``SyscallResult``); ``Outcome.envelope()`` is the same JSON
envelope ``nlsh --json`` prints (``nlshell.envelope``).  Approval is a callback
``(Question) -> Answer``; without one the session answers with ``auto``
(``"deny"`` by default, like a front end without a terminal).

Versioning: ``API_VERSION`` follows semver independently of the package
version; names exported in ``__all__`` change only with a major bump.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nlshell.envelope import envelope, overall_status
from nlshell.events import Cancelled, Event, Failed, Finished, Intent, Priority
from syscalls.errors import SyscallError
from syscalls.types import Answer, Approver, Invocation, JSONDict, Question, SyscallRequest, SyscallResult

if TYPE_CHECKING:
    from models.backend import Backend
    from models.plan import Plan
    from nlshell.config import Config
    from nlshell.kernel import Kernel, KernelJob
    from syscalls.dispatcher import Dispatcher
    from syscalls.registry import Registry
    from syscalls.storage import StorageSettings

API_VERSION = "1.0.0"

AUTO_ANSWERS = {"deny": Answer.DENY, "once": Answer.ONCE, "session": Answer.SESSION}


class ApiError(SyscallError):
    """A misuse of the API (bad argument, a closed session)."""

    kind = "error"


def approve_all(question: Question) -> Answer:
    """An approver that allows every request once (like ``--yes``); a plan the model was unsure of
    (``Question.unsure``) is not a request anyone made, and is denied."""
    return Answer.DENY if question.unsure is not None else Answer.ONCE


def deny_all(question: Question) -> Answer:
    """An approver that denies every request that needs approval (the default)."""
    return Answer.DENY


def approve_calls(*calls: str, answer: Answer = Answer.ONCE) -> Approver:
    """An approver that allows the named calls and denies everything else."""
    allowed = frozenset(calls)

    def approver(question: Question) -> Answer:
        return answer if question.request.call in allowed and question.unsure is None else Answer.DENY

    return approver


@dataclass
class Outcome:
    """What became of one intent: the plan, every result, or why it failed."""

    intent: str
    status: str
    plan: Plan | None = None
    results: list[SyscallResult] = field(default_factory=list)
    error: JSONDict | None = None
    timings: dict[str, float] = field(default_factory=dict)
    model: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def data(self) -> JSONDict | None:
        """The last result's data (the answer to the intent), or None."""
        return self.results[-1].data if self.results else None

    def envelope(self) -> JSONDict:
        """The ``--json`` envelope for this outcome (see ``nlsh-json(5)``)."""
        return envelope(self.intent, self.plan, self.results, self.error, self.timings, self.model)

    @classmethod
    def from_event(cls, intent: str, event: Event, model: str = "") -> Outcome:
        results: list[SyscallResult] = list(getattr(event, "results", []) or [])
        plan = getattr(event, "plan", None)
        error: JSONDict | None = None
        if isinstance(event, Failed):
            error = dict(event.error) or {"type": "Error", "message": "failed"}
        elif isinstance(event, Cancelled):
            error = {"type": "Cancelled", "kind": "cancelled", "message": f"cancelled ({event.stage})",
                     "hint": "nothing more ran after the cancellation"}
        elif not isinstance(event, Finished):
            raise ApiError(f"not a terminal event: {type(event).__name__}", call="api")
        timings = dict(plan.timings) if plan is not None else {}
        if results:
            timings["run_s"] = sum(r.elapsed_s for r in results)
        status = overall_status(results, error)
        if isinstance(event, Cancelled):
            status = "cancelled"
        return cls(intent=intent, status=status, plan=plan, results=results, error=error,
                   timings=timings, model=(plan.model if plan is not None and plan.model else model))


class Job:
    """A submitted intent: stream its events, wait for its ``Outcome``, or cancel it."""

    def __init__(self, inner: KernelJob, model: str = "") -> None:
        self._inner = inner
        self._model = model

    @property
    def id(self) -> int:
        return self._inner.id

    @property
    def intent(self) -> str:
        return self._inner.intent.text

    @property
    def plan(self) -> Plan | None:
        """The plan once the model has made it (None before)."""
        return self._inner.plan

    @property
    def done(self) -> bool:
        return self._inner.done

    def events(self, timeout: float | None = None) -> Iterator[Event]:
        """Events as they happen, ending with the terminal one (see ``nlshell.events``)."""
        return self._inner.events(timeout)

    def wait(self, timeout: float | None = None) -> Outcome:
        """Block until the job ends; ``TimedOut`` if it does not within ``timeout`` seconds."""
        return Outcome.from_event(self.intent, self._inner.result(timeout), self._model)

    def cancel(self) -> bool:
        """Stop the job (queued: at once; planning: at the next token; running: between steps)."""
        return self._inner.cancel()


class Session:
    """One conversation with nlshell: a model, a working directory, an approval policy.

    ``model`` is a profile name, a ``.gguf`` path, an ``http(s)://`` URL of an
    OpenAI-compatible server (``models.openai_server``),
    ``scripted:FILE`` or a ready ``Backend``; it is loaded on the first
    ``submit``/``plan`` (``run`` never needs it).  ``approve`` answers approval
    questions; without it ``auto`` does (``deny``, ``once`` or ``session``).
    ``dispatcher`` defaults to the safe one (policy, journal for undo, audit
    log; ``policy`` and ``state_dir`` are passed to it); what it keeps follows
    ``[storage]`` of the configuration (sealed at rest with ``encrypt = true``).
    """

    def __init__(
        self,
        model: str | Backend | None = None,
        *,
        cwd: Path | str | None = None,
        approve: Approver | None = None,
        auto: str = "deny",
        name: str = "api",
        registry: Registry | None = None,
        dispatcher: Dispatcher | None = None,
        policy: Path | str | None = None,
        state_dir: Path | str | None = None,
        threads: int | None = None,
        timeout_s: float | None = None,
    ) -> None:
        if auto not in AUTO_ANSWERS:
            raise ApiError(f"auto must be one of {', '.join(AUTO_ANSWERS)}, not {auto!r}", call="api",
                           target="auto")
        self.model_spec = model
        self.cwd = Path(cwd).expanduser().resolve() if cwd is not None else Path.cwd()
        self.name = name
        self.auto = AUTO_ANSWERS[auto]
        self.timeout_s = timeout_s
        self.questions: list[Question] = []   # every approval question asked, in order
        self._approve = approve
        self._registry = registry
        self._dispatcher = dispatcher
        self._policy = policy
        self._state_dir = state_dir
        self._threads = threads
        self._backend_timeout_s = 60.0
        self._backend_retries = 2
        self._storage: StorageSettings | None = None  # from_config's [storage]; else the file's, when used
        self._kernel: Kernel | None = None
        self._lock = threading.Lock()
        self._closed = False

    # --- wiring -------------------------------------------------------------------------

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            from syscalls.registry import default_registry

            self._registry = default_registry()
        return self._registry

    @property
    def dispatcher(self) -> Dispatcher:
        if self._dispatcher is None:
            from nlshell.config import use_for_storage
            from syscalls.safety import safe_dispatcher
            from syscalls.storage import Storage

            use_for_storage()
            storage = Storage(self._state_dir, self._storage) if self._storage is not None else None
            self._dispatcher = safe_dispatcher(self.registry, policy=self._policy, state_dir=self._state_dir,
                                               storage=storage)
        return self._dispatcher

    @property
    def kernel(self) -> Kernel:
        """The kernel (loads the model on first use)."""
        with self._lock:
            if self._closed:
                raise ApiError("the session is closed", call="api", hint="create a new Session")
            if self._kernel is None:
                from models import make_planner
                from nlshell.kernel import Kernel

                backend = self._backend()
                self._kernel = Kernel(make_planner(backend, self.registry), self.dispatcher,
                                      default_timeout_s=self.timeout_s,
                                      warm=not backend.name.startswith("scripted"))
            return self._kernel

    def _backend(self) -> Backend:
        spec = self.model_spec
        if spec is not None and not isinstance(spec, str):
            return spec
        from nlshell.session_factory import open_backend

        return open_backend(spec, threads=self._threads, timeout_s=self._backend_timeout_s,
                            retries=self._backend_retries)

    @classmethod
    def from_config(cls, config: Config | None = None, **kwargs: Any) -> Session:
        """A session set up from the user's configuration (``nlsh config show``); keyword
        arguments override it."""
        from nlshell.config import load_config
        from syscalls.storage import StorageSettings

        cfg = config or load_config()
        kwargs.setdefault("threads", cfg.threads or None)
        kwargs.setdefault("policy", cfg.policy or None)
        session = cls(kwargs.pop("model", cfg.model_spec), **kwargs)
        session._backend_timeout_s = cfg.backend.timeout_s
        session._backend_retries = cfg.backend.retries
        session._storage = StorageSettings(encrypt=cfg.storage.encrypt, key=cfg.storage.key)
        return session

    @property
    def model(self) -> str:
        k = self._kernel
        if k is not None and k.planner is not None:
            return k.planner.backend.name
        return self.model_spec if isinstance(self.model_spec, str) else getattr(self.model_spec, "name", "")

    def approver(self, question: Question) -> Answer:
        """The session's answer to an approval question (recorded in ``questions``)."""
        self.questions.append(question)
        if self._approve is not None:
            return self._approve(question)
        return Answer.DENY if question.unsure is not None else self.auto

    # --- use ----------------------------------------------------------------------------

    def submit(self, text: str, *, dry_run: bool = False, priority: Priority = Priority.INTERACTIVE,
               timeout_s: float | None = None, on_event: Callable[[Event], None] | None = None) -> Job:
        """Plan ``text`` with the model and run the plan; returns at once with a ``Job``."""
        intent = Intent(text, session=self.name, cwd=self.cwd, priority=priority, dry_run=dry_run,
                        timeout_s=timeout_s)
        kernel = self.kernel
        return Job(kernel.submit(intent, approve=self.approver, on_event=on_event), self.model)

    async def asubmit(self, text: str, *, dry_run: bool = False, timeout_s: float | None = None) -> Outcome:
        """``submit`` and await the outcome without blocking the event loop; cancelling the
        awaiting task cancels the job."""
        job = self.submit(text, dry_run=dry_run, timeout_s=timeout_s)
        try:
            return await asyncio.to_thread(job.wait)
        except asyncio.CancelledError:
            job.cancel()
            raise

    def plan(self, text: str, *, timeout: float | None = None) -> Plan:
        """The plan the model makes for ``text``, without changing anything.

        It runs as a dry run: steps that change something only report what
        they would do; read-only steps run, so later steps can refer to them.
        Raises ``PlanFailed`` when no plan could be made.
        """
        outcome = self.submit(text, dry_run=True).wait(timeout)
        if outcome.plan is None:
            err = outcome.error or {}
            raise PlanFailed(str(err.get("message", "no plan")), call="plan", target=text,
                             hint=str(err.get("hint", "")))
        return outcome.plan

    def execute(self, plan: Plan, *, dry_run: bool = False) -> Job:
        """Run a plan (from ``plan()``, possibly edited) without asking the model again."""
        intent = Intent(plan.intent, session=self.name, cwd=self.cwd, dry_run=dry_run, plan=plan)
        return Job(self.kernel.submit(intent, approve=self.approver), self.model)

    def run(self, call: str, /, *, dry_run: bool = False, **args: Any) -> SyscallResult:
        """Run one request directly (no model): validated, permission-checked, journaled, audited.

        Never raises for the request's failure: the result's ``status`` says
        ``ok`` / ``failed`` / ``denied`` / ``invalid`` / ``dry-run``.
        """
        if self._closed:
            raise ApiError("the session is closed", call=call, hint="create a new Session")
        # the dispatcher validates it: an invalid request comes back with status "invalid"
        how = Invocation(cwd=self.cwd, session=self.name, dry_run=dry_run, approve=self.approver,
                         intent=f"{call} (api)")
        return self.dispatcher.handle(SyscallRequest(call, dict(args)), how)

    def run_many(self, requests: Iterable[JSONDict]) -> list[SyscallResult]:
        """Run ``[{"call": ..., "args": {...}}, ...]`` in order; stops after a step that is not ok."""
        out: list[SyscallResult] = []
        for req in requests:
            res = self.run(str(req.get("call", "")), **dict(req.get("args", {})))
            out.append(res)
            if not res.ok:
                break
        return out

    def calls(self) -> list[str]:
        """The names of every syscall this session can run (built-ins and plugins)."""
        return self.registry.names()

    def close(self) -> None:
        """Stop the kernel and release the model; further use raises ``ApiError``."""
        with self._lock:
            self._closed = True
            kernel, self._kernel = self._kernel, None
        if kernel is not None:
            kernel.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PlanFailed(ApiError):
    """The model could not make a plan for the intent."""

    default_hint = "rephrase the request, or run the call directly with Session.run"


__all__ = [
    "API_VERSION",
    "ApiError",
    "Job",
    "Outcome",
    "PlanFailed",
    "Session",
    "approve_all",
    "approve_calls",
    "deny_all",
]
