"""Kernel benchmarks with the bundled model (SmolLM2-135M, greedy, CPU): sessions as llama.cpp sequences.

Prints figures and ratios; each is measured against its own peer in the same process:

1. time to first token on the planners' real prompts: a session that borrows the cells of a warm-up plan's
   prompt (``llama_memory_seq_cp``) vs a cold one (empty cache, the whole prompt evaluated), for shots
   (worked examples first, base model: the instruction line before them is shared) and v2 (the trained
   planner's short prompt);
2. a session switch between two sessions with a 230-token history: the session's own sequence vs the
   history re-evaluated vs its saved per-sequence state loaded back; and the state's size against the KV
   bytes of its tokens;
3. latency of an interactive intent submitted behind 20 background jobs, with and without preemption;
4. throughput of N intents over 4 and over 16 sessions through the kernel (batched across sessions) vs
   the same generations called directly one after another; RSS with 16 live sessions.

Run: ``.venv/bin/python bench/bench_kernel.py [--n 100] [--threads 2] [--only 1234]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models import load_backend
from models.backend import Backend, TokenCallback, sequence
from models.plan import Plan, PlanStep
from models.planner_v2 import DEFAULT_SHOTS, TrainedPlanner
from nlshell.events import Finished, Intent, Priority
from nlshell.kernel import Kernel
from syscalls.dispatcher import Dispatcher
from syscalls.registry import default_registry
from syscalls.types import SyscallResult

CWD = Path(tempfile.gettempdir())


class TextPlanner:
    """Free greedy text after a fixed prefix and a per-session history (the bench's own prompt)."""

    PREFIX = ("You are a helpful assistant on a Linux machine. Answer each request with a short, "
              "concrete explanation in plain words.\n\n")

    def __init__(self, backend: Backend, max_tokens: int, history: dict[str, str] | None = None) -> None:
        self.backend = backend
        self.max_tokens = max_tokens
        self.history = history or {}

    def warm(self) -> None:
        self.backend.complete(self.PREFIX, max_tokens=1)

    def plan(self, intent: str, *, cwd: Path, previous: SyscallResult | None = None,
             on_token: TokenCallback | None = None) -> Plan:
        session, _, text = intent.partition("|")
        prompt = f"{self.PREFIX}{self.history.get(session, '')}Request: {text}\nAnswer:"
        comp = self.backend.complete(prompt, max_tokens=self.max_tokens, on_token=on_token)
        if comp.stopped == "cancelled":
            from syscalls.errors import CallCancelled

            raise CallCancelled("planning was cancelled", call="plan")
        return Plan(intent, [PlanStep("answer", {"text": comp.text.strip()[:2000] or "."})])


def forget_all(backend: Any) -> None:
    """Empty the cache: every session's cells go."""
    eng = backend.engine
    eng.run(lambda: [eng.drop(k) for k in eng.keys_held()])


def ttft(kind: str, backend: Any, intents: list[str]) -> None:
    registry = default_registry()
    planner = TrainedPlanner(backend, registry, shots=DEFAULT_SHOTS if kind == "shots" else 0)
    cold, shared = [], []
    n_prompt = 0
    for i, intent in enumerate(intents):
        for mode in ("cold", "shared"):
            forget_all(backend)
            if mode == "shared":
                planner.warm()  # one tiny plan, whose prompt's cells a new session may borrow
            first: list[float] = []
            t0 = time.perf_counter()
            with sequence(f"{mode}-{i}"):
                plan = planner.plan(intent, cwd=CWD,
                                    on_token=lambda _t, f=first: f.append(time.perf_counter()) or True)
            (cold if mode == "cold" else shared).append((first[0] if first else time.perf_counter()) - t0)
            n_prompt = max(n_prompt, len(backend.tokenize(planner.prompt(intent))))
            del plan
    c, s = statistics.median(cold), statistics.median(shared)
    what = f"prompt up to {n_prompt} tokens" + (", worked examples first" if kind == "shots" else "")
    print(f"1. time to first token, {kind} planner ({what}; median of {len(intents)}): cold {c:.3f} s, "
          f"prefix shared {s:.3f} s, ratio cold/shared {c / s:.2f}x", flush=True)


def session_switch(backend: Any, rounds: int) -> None:
    """Time to the first token of a request in a session with a long history, alternating two sessions.

    Each way keeps its own copy of the histories (a first line names the way), so no way borrows another's
    cells: ``sequence`` keeps the session's cells in its sequence; ``re-evaluate`` drops them before each
    request; ``restore`` drops them and loads the per-sequence state saved after the previous request.
    """
    hist = {
        "a": "".join(f"Request: list the files in project {i}\nAnswer: use ls in that folder.\n"
                     for i in range(12)),
        "b": "".join(f"Request: how busy is cpu core {i}\nAnswer: look at the load with top.\n"
                     for i in range(12)),
    }
    modes = ("sequence", "re-evaluate", "restore")
    planner = TextPlanner(backend, max_tokens=4,
                          history={f"{s}-{m}": f"Kept by way {m}.\n{h}" for s, h in hist.items() for m in modes})
    eng = backend.engine
    forget_all(backend)
    times: dict[str, list[float]] = {m: [] for m in modes}
    states: dict[str, Any] = {}
    for r in range(rounds + 1):
        for s in ("a", "b"):
            for mode in modes:
                key = f"{s}-{mode}"
                first: list[float] = []
                t0 = time.perf_counter()
                with sequence(key):
                    if mode != "sequence":
                        eng.run(lambda k=key: eng.drop(k))
                    if mode == "restore" and key in states:
                        backend.load_state(states[key])
                    planner.plan(f"{key}|request {r}", cwd=CWD,
                                 on_token=lambda _t, f=first: f.append(time.perf_counter()) or True)
                    took = first[0] - t0
                    if mode == "restore":
                        t1 = time.perf_counter()
                        states[key] = backend.save_state()
                        took += time.perf_counter() - t1
                if r > 0:  # round 0 fills the sequences
                    times[mode].append(took)
    med = {m: statistics.median(v) for m, v in times.items()}
    st = backend.sequence_stats()
    kv = st["kv_bytes_per_token"]
    held = st["sessions"]["a-sequence"]
    print(f"2. session switch, time to first token ({held['tokens']}-token session, {rounds} rounds A/B): own "
          f"sequence {med['sequence']:.3f} s, re-evaluate {med['re-evaluate']:.3f} s, per-sequence state "
          f"saved and loaded {med['restore']:.3f} s; re-evaluate/sequence "
          f"{med['re-evaluate'] / med['sequence']:.2f}x, restore/sequence {med['restore'] / med['sequence']:.2f}x",
          flush=True)
    print(f"   state of one session: {held['tokens']} tokens, {held['state_bytes'] / 1e6:.2f} MB per-sequence "
          f"state vs {held['tokens'] * kv / 1e6:.2f} MB of KV ({kv} B/token): "
          f"{held['state_bytes'] / (held['tokens'] * kv):.2f}x", flush=True)


def interactive_latency(backend: Backend, n_bg: int) -> None:
    out = {}
    for preempt in (None, False, True):  # None: the same intent with nothing behind it, the peer
        planner = TextPlanner(backend, max_tokens=48)
        k = Kernel(planner, Dispatcher(default_registry()), preempt=bool(preempt))
        try:
            bgs = [k.submit(Intent(f"bg|explain topic number {i} in detail", session=f"bg{i}", cwd=CWD,
                                   priority=Priority.BACKGROUND)) for i in range(n_bg if preempt is not None else 0)]
            time.sleep(0.5)  # the background generations are under way
            t0 = time.perf_counter()
            fg = k.run(Intent("fg|what is my user name", session="fg", cwd=CWD), timeout=600)
            lat = time.perf_counter() - t0
            assert isinstance(fg, Finished)
            for b in bgs:
                b.cancel()
            for b in bgs:
                b.result(600)
            out[preempt] = (lat, k.stats().counters.get("preemptions", 0))
        finally:
            k.close(close_model=False)
    seq = getattr(backend, "sequence_stats", lambda: {})()
    print(f"3. interactive intent behind {n_bg} background jobs: without preemption {out[False][0]:.3f} s, "
          f"with preemption {out[True][0]:.3f} s, ratio {out[False][0] / out[True][0]:.2f}x "
          f"(preemptions {out[True][1]}); alone {out[None][0]:.3f} s, behind/alone "
          f"{out[True][0] / out[None][0]:.2f}x; decodes that left background streams out: "
          f"{seq.get('counters', {}).get('left_out', 'n/a')}", flush=True)


def throughput(backend: Any, n: int, sessions: int) -> None:
    planner = TextPlanner(backend, max_tokens=8)
    forget_all(backend)
    planner.warm()
    t0 = time.perf_counter()
    for i in range(n):
        with sequence(f"s{i % sessions}"):
            planner.plan(f"s{i % sessions}|say hello number {i}", cwd=CWD)
    native = time.perf_counter() - t0
    k = Kernel(planner, Dispatcher(default_registry()))
    try:
        t0 = time.perf_counter()
        jobs = [k.submit(Intent(f"s{i % sessions}|say hello number {i}", session=f"s{i % sessions}", cwd=CWD,
                                priority=Priority(i % 3))) for i in range(n)]
        ends = [j.result(600) for j in jobs]
        kern = time.perf_counter() - t0
        stats = k.stats()
    finally:
        k.close(close_model=False)
    ok = sum(isinstance(e, Finished) for e in ends)
    seq = backend.sequence_stats()
    c = seq["counters"]
    print(f"4. throughput, {n} intents over {sessions} sessions (8 tokens each): direct sequential calls "
          f"{n / native:.2f} intents/s, kernel {n / kern:.2f} intents/s ({ok} finished), kernel/direct "
          f"{native / kern:.2f}x; widest batch {c['max_batch_streams']} sequences, "
          f"{c['batched_tokens'] / max(1, c['decodes']):.1f} tokens/decode over the process", flush=True)
    held = seq["sessions"]
    print(f"   live sessions {len(held)} holding {sum(h['tokens'] for h in held.values())} tokens, "
          f"{sum(h['state_bytes'] for h in held.values()) / 1e6:.1f} MB of per-sequence state; "
          f"RSS {stats.rss_bytes / 1e6:.0f} MB", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--bg", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--only", default="1234")
    args = ap.parse_args()
    t0 = time.perf_counter()
    backend: Any = load_backend("smollm2", threads=args.threads)
    print(f"model {backend.name} n_ctx {backend.n_ctx}, {backend.parallel} sequences, loaded in "
          f"{time.perf_counter() - t0:.2f} s", flush=True)
    intents = ["list the files in /tmp", "which process uses port 8080", "how much disk space is free"]
    if "1" in args.only:
        base: Any = load_backend("smollm2", threads=args.threads, planner="shots")
        ttft("shots", base, intents)
        base.close()
        ttft("v2", backend, intents)
    if "2" in args.only:
        session_switch(backend, args.rounds)
    if "3" in args.only:
        interactive_latency(backend, args.bg)
    if "4" in args.only:
        throughput(backend, args.n, 4)
        throughput(backend, args.n, 16)
    backend.close()


if __name__ == "__main__":
    main()
