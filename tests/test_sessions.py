"""Sessions, saved states, memory caps, a 1,000-intent stress run, and preemption on the real model."""

from __future__ import annotations

import random
import threading
from pathlib import Path
from typing import Any

import pytest

from models.backend import Backend, TokenCallback, parallel
from models.plan import Plan, PlanStep
from nlshell.events import Cancelled, Event, Failed, Finished, Intent, PlanReady, Priority, Token
from nlshell.kernel import Kernel, covers
from nlshell.session import SessionContext, StateCache, cap_result
from syscalls.registry import default_registry
from syscalls.types import SyscallRequest, SyscallResult
from tests.kernel_support import EchoBackend, SequenceEchoBackend, TinyPlanner, dispatcher_with

T = 20.0


# -- state cache --------------------------------------------------------------
def test_state_cache_is_lru_by_count_and_by_bytes() -> None:
    c = StateCache(max_count=2, max_bytes=100)
    c.put("a", b"x" * 10)
    c.put("b", b"x" * 10)
    assert c.get("a") is not None  # a is now the most recent
    c.put("c", b"x" * 10)
    assert c.keys() == ["a", "c"] and c.evictions == 1
    c.put("d", b"x" * 95)  # over the byte cap together: the oldest go
    assert c.keys() == ["d"] and c.nbytes == 95
    assert not c.put("huge", b"x" * 101)  # larger than the cap: not kept at all
    assert "huge" not in c and c.pop("d") is not None and len(c) == 0 and c.nbytes == 0


def test_covers_compares_token_prefixes() -> None:
    class S:
        def __init__(self, ids: list[int]) -> None:
            self.input_ids, self.n_tokens = ids, len(ids)

    assert covers(S([1, 2, 3]), S([1, 2])) and not covers(S([1, 2]), S([1, 2, 3]))
    assert not covers(S([1, 9, 3]), S([1, 2]))
    assert covers({"context": "abc"}, {"context": "ab"}) and not covers({"context": "ab"}, {"context": "x"})
    assert not covers(object(), object())


# -- session context ------------------------------------------------------------
def _result(n_rows: int, text: str = "") -> SyscallResult:
    rows = [{"name": f"f{i}", "path": f"/tmp/f{i}"} for i in range(n_rows)]
    return SyscallResult(request=SyscallRequest("fs.list", {"path": "/tmp"}), status="ok",
                         data={"entries": rows, "note": text})


def test_results_kept_in_context_are_capped() -> None:
    r = _result(1000, "y" * 10_000)
    capped = cap_result(r, max_rows=10, max_chars=100)
    assert capped.data is not None and len(capped.data["entries"]) == 10
    assert len(capped.data["note"]) == 100 and capped.truncated
    assert r.data is not None and len(r.data["entries"]) == 1000  # the original is untouched
    s = SessionContext("s", max_result_rows=5)
    s.record("list", [r])
    assert s.previous is not None and s.previous.data is not None and len(s.previous.data["entries"]) == 5


def test_a_follow_up_never_acts_on_part_of_a_cut_table() -> None:
    """A kept result whose rows were cut refuses ``$prev`` references (acting on 5 of 1000 found files, say,
    unawares); one cut only in its text, or not cut at all, still fans out."""
    from models.plan import expand_refs

    s = SessionContext("s", max_result_rows=5)
    s.record("list", [_result(1000)])
    with pytest.raises(LookupError, match="1000 rows"):
        expand_refs({"path": "$prev.path"}, [], s.previous)
    with pytest.raises(LookupError, match="1000 rows"):
        expand_refs({"rows": "$prev"}, [], s.previous)
    s.record("list", [_result(5, "y" * 10_000)])
    assert s.previous is not None and s.previous.truncated  # the note was cut, the rows were not
    assert [a["path"] for a in expand_refs({"path": "$prev.path"}, [], s.previous)] == [f"/tmp/f{i}" for i in range(5)]
    assert SessionContext("s").max_result_rows >= 10_000  # rows are kept for follow-ups, not shown to a model


def test_budget_overflow_folds_old_turns_and_never_exceeds() -> None:
    s = SessionContext("s", budget_tokens=60)
    for n in range(200):
        s.record(f"intent number {n} " + "word " * (n % 7), [_result(n % 4)])
        assert s.context_tokens <= 60
    assert s.dropped_turns > 150
    assert s.turns[0].intent.startswith("[earlier:")
    assert s.turns[-1].intent.startswith("intent number 199")


def test_one_huge_turn_is_shortened_not_crashed() -> None:
    s = SessionContext("s", budget_tokens=20)
    s.record("x" * 100_000, [])
    assert s.context_tokens <= 20 and len(s.turns) == 1


def test_sessions_are_isolated_and_switches_restore_state(tmp_path: Path) -> None:
    backend = EchoBackend()
    k = Kernel(TinyPlanner(backend), dispatcher_with())
    with k:
        for n in range(3):
            for name in ("a", "b"):
                end = k.run(Intent(f"{name}{n}", session=name, cwd=tmp_path), timeout=T)
                assert isinstance(end, Finished)
        a, b = k.session("a"), k.session("b")
        stats = k.stats()
    assert [t.intent for t in a.turns] == ["a0", "a1", "a2"]
    assert [t.intent for t in b.turns] == ["b0", "b1", "b2"]
    assert a.previous is not None and a.previous.data is not None and a.previous.data["text"] == "a2"
    # Every switch after the first visit restored the incoming session's saved state.
    assert stats.counters["session_switches_restored"] == 4
    assert stats.saved_states == 2 and stats.saved_state_bytes > 0


def test_state_cap_zero_still_plans_correctly(tmp_path: Path) -> None:
    backend = EchoBackend()
    k = Kernel(TinyPlanner(backend), dispatcher_with(), max_saved_states=0)
    with k:
        for n in range(4):
            end = k.run(Intent(f"s{n}", session=f"s{n % 2}", cwd=tmp_path), timeout=T)
            assert isinstance(end, Finished) and end.results[0].data == {"text": f"s{n}", "supported": True}
        assert k.stats().saved_states == 0


# -- stress ---------------------------------------------------------------------
@pytest.mark.parametrize("width", [1, 4], ids=["one-context", "four-sequences"])
def test_stress_1000_mixed_intents_with_random_cancels(tmp_path: Path, width: int) -> None:
    backend: Any = EchoBackend(piece=8) if width == 1 else SequenceEchoBackend(parallel=width, piece=8)
    k = Kernel(TinyPlanner(backend), dispatcher_with(), executor_workers=4, aging_passes=16)
    rng = random.Random(1234)
    terminals: dict[int, list[Event]] = {}
    lock = threading.Lock()

    def on_event(e: Event) -> None:
        if e.terminal:
            with lock:
                terminals.setdefault(e.job, []).append(e)

    jobs = []
    texts: dict[int, str] = {}
    submit_lock = threading.Lock()

    def submitter(worker: int) -> None:
        r = random.Random(worker)
        for n in range(250):
            text = f"w{worker} n{n}"
            prio = Priority(r.randrange(3))
            if r.random() < 0.1:
                intent = Intent(text, session=f"s{worker}", cwd=tmp_path, priority=prio,
                                plan=Plan(text, [PlanStep("answer", {"text": text})]))
            else:
                intent = Intent(text, session=f"s{r.randrange(6)}", cwd=tmp_path, priority=prio)
            job = k.submit(intent, on_event=on_event)
            with submit_lock:
                jobs.append(job)
                texts[job.id] = text

    def canceller() -> None:
        for _ in range(300):
            with submit_lock:
                pick = rng.choice(jobs) if jobs else None
            if pick is not None:
                pick.cancel()

    threads = [threading.Thread(target=submitter, args=(w,)) for w in range(4)]
    threads += [threading.Thread(target=canceller) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
        assert not t.is_alive(), "a submitting thread hung"
    try:
        ends = {job.id: job.result(60) for job in jobs}
    finally:
        k.close()
    assert len(jobs) == 1000
    counts = {"Finished": 0, "Cancelled": 0, "Failed": 0}
    for job in jobs:
        assert len(terminals[job.id]) == 1, f"job {job.id} ended {len(terminals[job.id])} times"
        end = ends[job.id]
        counts[type(end).__name__] += 1
        if isinstance(end, Finished):
            assert end.results[0].data is not None and end.results[0].data["text"] == texts[job.id]
        else:
            assert isinstance(end, Cancelled), end
        # The event stream agrees with the callback: one terminal, and it is the last.
        evs = list(job.events(timeout=1))
        assert sum(e.terminal for e in evs) == 1 and evs[-1] is end
    assert counts["Failed"] == 0 and counts["Cancelled"] > 0 and counts["Finished"] > 0
    if width > 1:  # planned side by side, each in its own session's sequence, with no state saved or loaded
        assert backend.most > 1 and k.counters["states_saved"] == 0 and len(k.states) == 0
        assert backend.sessions_seen >= {f"s{i}" for i in range(6)}


# -- the real model -------------------------------------------------------------
class RawPlanner:
    """A planner over a real backend: a fixed prefix (warmed), the intent, free greedy text."""

    PREFIX = ("You are a helpful assistant on a Linux machine. Answer each request with a short, "
              "concrete explanation in plain words.\n\n")

    def __init__(self, backend: Backend, max_tokens: int = 40) -> None:
        self.backend = backend
        self.max_tokens = max_tokens
        self._prefix_state: Any = None
        self.texts: list[str] = []

    def warm(self) -> None:
        self.backend.complete(self.PREFIX, max_tokens=1)
        self._prefix_state = self.backend.save_state()

    def plan(self, intent: str, *, cwd: Path, previous: SyscallResult | None = None,
             on_token: TokenCallback | None = None) -> Plan:
        if self._prefix_state is not None and parallel(self.backend) == 1:
            # a backend that holds sessions as sequences shares the prefix by itself
            self.backend.load_state(self._prefix_state)
        comp = self.backend.complete(f"{self.PREFIX}Request: {intent}\nAnswer:", max_tokens=self.max_tokens,
                                     on_token=on_token)
        if comp.stopped == "cancelled":
            from syscalls.errors import CallCancelled as Stop

            raise Stop("planning was cancelled", call="plan")
        self.texts.append(comp.text)
        return Plan(intent, [PlanStep("answer", {"text": comp.text.strip()[:2000] or "."})], raw=comp.text)


@pytest.fixture(scope="module")
def real_backend() -> Backend:
    from models import load_backend

    return load_backend("smollm2")


@pytest.mark.model
def test_preempted_generation_resumes_identically_on_the_real_model(real_backend: Backend,
                                                                    tmp_path: Path) -> None:
    # One planning thread, so the urgent intent finds none free and must take the running job's place.
    planner = RawPlanner(real_backend)
    k = Kernel(planner, dispatcher_with(), planning_threads=1)
    long = Intent("explain how to find large files in a directory tree", session="bg", cwd=tmp_path,
                  priority=Priority.BACKGROUND)
    try:
        alone = k.run(long, timeout=120)
        assert isinstance(alone, Finished)
        uninterrupted = planner.texts[-1]
        urgent: list[Any] = []
        tokens: list[str] = []

        ready: list[str] = []  # whose plan was ready, in order

        def on_event(e: Event) -> None:
            if isinstance(e, PlanReady):
                ready.append("bg")
            if isinstance(e, Token):
                tokens.append(e.text)
                if len(tokens) == 8 and not urgent:
                    urgent.append(k.submit(Intent("what is a process id", session="fg", cwd=tmp_path),
                                           on_event=lambda u: ready.append("fg") if isinstance(u, PlanReady) else None))

        job = k.submit(Intent(long.text, session="bg2", cwd=tmp_path, priority=Priority.BACKGROUND),
                       on_event=on_event)
        end = job.result(120)
        u_end = urgent[0].result(120)
    finally:
        k.close(close_model=False)
    assert isinstance(end, Finished) and isinstance(u_end, Finished)
    assert job.preemptions == 1
    assert ready == ["fg", "bg"]  # steps run on the executor pool: the plans' order is the planner's
    assert end.results[0].data is not None and alone.results[0].data is not None
    assert end.results[0].data["text"] == alone.results[0].data["text"]
    assert planner.texts[-1] == uninterrupted
    assert "".join(tokens) == uninterrupted  # each token streamed once, in order
    counters = k.stats().counters
    if parallel(real_backend) > 1:  # the job's cells stayed in its sequence: nothing saved or loaded
        assert counters.get("states_saved", 0) == 0 and counters.get("resumes_restored", 0) == 0
    else:
        assert counters["resumes_restored"] == 1


@pytest.mark.model
def test_switching_sessions_on_the_real_model_gives_the_same_plans(real_backend: Backend,
                                                                   tmp_path: Path) -> None:
    intents = [("a", "list the files here"), ("b", "how much memory is free"), ("a", "show the disks")]
    outs: dict[bool, list[str]] = {}
    for session_states in (False, True):
        planner = RawPlanner(real_backend, max_tokens=16)
        k = Kernel(planner, dispatcher_with(), session_states=session_states)
        try:
            for name, text in intents:
                assert isinstance(k.run(Intent(text, session=name, cwd=tmp_path), timeout=120), Finished)
        finally:
            k.close(close_model=False)
        outs[session_states] = planner.texts
    assert outs[True] == outs[False]




@pytest.mark.model
def test_sessions_planned_at_once_batch_and_plan_as_they_do_one_at_a_time(real_backend: Backend,
                                                                          tmp_path: Path) -> None:
    from models.planner_v2 import TrainedPlanner

    assert parallel(real_backend) > 1, "the bundled model's backend holds sessions as sequences"
    texts = ["list the files here", "how much memory is free", "show the disks", "what time is it",
             "count the lines in notes.txt", "who am i"]
    plans: dict[int, list[str]] = {}
    for threads in (1, 6):
        planner = TrainedPlanner(real_backend, default_registry())
        k = Kernel(planner, dispatcher_with(), planning_threads=threads)
        try:
            jobs = [k.submit(Intent(t, session=f"s{i}", cwd=tmp_path)) for i, t in enumerate(texts)]
            ends = [j.result(120) for j in jobs]
        finally:
            k.close(close_model=False)
        plans[threads] = [" | ".join(f"{s.call} {s.args}" for s in (j.plan.steps if j.plan else [])) for j in jobs]
        assert all(isinstance(e, (Finished, Failed)) for e in ends)
    engine: Any = getattr(real_backend, "engine")  # noqa: B009 - the llama backend's own attribute
    assert engine.counters["max_batch_streams"] >= 2
    assert plans[6] == plans[1]
