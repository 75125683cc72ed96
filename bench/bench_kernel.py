"""Kernel benchmarks with the bundled model (SmolLM2-135M, greedy, CPU).

Prints figures and ratios; each is measured against its own baseline in the same process:

1. time to first token of a real plan: cold (empty context) vs prefix-cached (``warm()``);
2. a session switch: saved state restored vs the prompt re-evaluated;
3. latency of an interactive intent submitted behind 20 background jobs, with and without preemption;
4. throughput of N intents through the kernel vs the same plans called directly (native peer).

Run: ``.venv/bin/python bench/bench_kernel.py [--n 100] [--threads 2]``
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
from models.backend import Backend, TokenCallback
from models.plan import Plan, PlanStep
from models.planner import Planner
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
        self.session = "default"
        self._prefix_state: Any = None

    def warm(self) -> None:
        self.backend.complete(self.PREFIX, max_tokens=1)
        self._prefix_state = self.backend.save_state()

    def plan(self, intent: str, *, cwd: Path, previous: SyscallResult | None = None,
             on_token: TokenCallback | None = None) -> Plan:
        session, _, text = intent.partition("|")
        if self._prefix_state is not None:
            self.backend.load_state(self._prefix_state)
        prompt = f"{self.PREFIX}{self.history.get(session, '')}Request: {text}\nAnswer:"
        comp = self.backend.complete(prompt, max_tokens=self.max_tokens, on_token=on_token)
        if comp.stopped == "cancelled":
            from syscalls.errors import CallCancelled

            raise CallCancelled("planning was cancelled", call="plan")
        return Plan(intent, [PlanStep("answer", {"text": comp.text.strip()[:2000] or "."})])


def ttft(backend: Backend, registry: Any, intents: list[str]) -> None:
    cold, warm = [], []
    for intent in intents:
        planner = Planner(backend, registry)
        backend.llm.reset()  # type: ignore[attr-defined]  # an empty context: nothing cached
        t0 = time.perf_counter()
        first: list[float] = []
        planner.plan(intent, cwd=CWD, on_token=lambda _t, f=first: f.append(time.perf_counter()) or True)
        cold.append((first[0] if first else time.perf_counter()) - t0)
        planner.warm()
        backend.llm.reset()  # type: ignore[attr-defined]
        first.clear()
        t0 = time.perf_counter()
        planner.plan(intent, cwd=CWD, on_token=lambda _t, f=first: f.append(time.perf_counter()) or True)
        warm.append((first[0] if first else time.perf_counter()) - t0)
    c, w = statistics.median(cold), statistics.median(warm)
    print(f"1. time to first token (real planner, median of {len(intents)}): cold {c:.3f} s, "
          f"prefix-cached {w:.3f} s, ratio cold/cached {c / w:.2f}x")


def session_switch(backend: Backend, rounds: int) -> None:
    hist = {
        "a": "".join(f"Request: list the files in project {i}\nAnswer: use ls in that folder.\n"
                     for i in range(12)),
        "b": "".join(f"Request: how busy is cpu core {i}\nAnswer: look at the load with top.\n"
                     for i in range(12)),
    }
    res = {}
    for states in (False, True):
        planner = TextPlanner(backend, max_tokens=4, history=hist)
        k = Kernel(planner, Dispatcher(default_registry()), session_states=states)
        times = []
        try:
            for r in range(rounds):
                for s in ("a", "b"):
                    t0 = time.perf_counter()
                    end = k.run(Intent(f"{s}|request {r}", session=s, cwd=CWD), timeout=300)
                    assert isinstance(end, Finished), end
                    times.append(time.perf_counter() - t0)
            stats = k.stats()
        finally:
            k.close(close_model=False)
        res[states] = (statistics.median(times[2:]), stats)
    n_hist = len(backend.tokenize(hist["a"]))
    re_eval, restored = res[False][0], res[True][0]
    st = res[True][1]
    print(f"2. session switch ({n_hist}-token history per session, {rounds} rounds A/B): re-evaluate "
          f"{re_eval:.3f} s, restore saved state {restored:.3f} s, ratio {re_eval / restored:.2f}x "
          f"(saved states {st.saved_states}, {st.saved_state_bytes / 1e6:.1f} MB, "
          f"restores {st.counters.get('session_switches_restored', 0)})")


def interactive_latency(backend: Backend, n_bg: int) -> None:
    out = {}
    for preempt in (False, True):
        planner = TextPlanner(backend, max_tokens=48)
        k = Kernel(planner, Dispatcher(default_registry()), preempt=preempt)
        try:
            bgs = [k.submit(Intent(f"bg|explain topic number {i} in detail", session=f"bg{i}", cwd=CWD,
                                   priority=Priority.BACKGROUND)) for i in range(n_bg)]
            time.sleep(0.5)  # the first background generation is under way
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
    print(f"3. interactive intent behind {n_bg} background jobs: without preemption {out[False][0]:.3f} s, "
          f"with preemption {out[True][0]:.3f} s, ratio {out[False][0] / out[True][0]:.2f}x "
          f"(preemptions {out[True][1]})")


def throughput(backend: Backend, n: int) -> None:
    planner = TextPlanner(backend, max_tokens=8)
    planner.warm()
    t0 = time.perf_counter()
    for i in range(n):
        planner.plan(f"s{i % 4}|say hello number {i}", cwd=CWD)
    native = time.perf_counter() - t0
    print(f"4. throughput, {n} intents over 4 sessions (8 tokens each): direct planner calls "
          f"{n / native:.2f} intents/s")
    for states in (True, False):
        k = Kernel(planner, Dispatcher(default_registry()), session_states=states)
        try:
            t0 = time.perf_counter()
            jobs = [k.submit(Intent(f"s{i % 4}|say hello number {i}", session=f"s{i % 4}", cwd=CWD,
                                    priority=Priority(i % 3))) for i in range(n)]
            ends = [j.result(600) for j in jobs]
            kern = time.perf_counter() - t0
            stats = k.stats()
        finally:
            k.close(close_model=False)
        ok = sum(isinstance(e, Finished) for e in ends)
        print(f"   kernel, session states {'on ' if states else 'off'}: {n / kern:.2f} intents/s "
              f"({ok} finished), kernel/direct {native / kern:.2f}x; tokens/s {stats.tokens_per_s}, "
              f"prefix hits {stats.prefix_cache_hits}, states saved {stats.counters.get('states_saved', 0)}, "
              f"RSS {stats.rss_bytes / 1e6:.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--bg", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--only", default="1234")
    args = ap.parse_args()
    t0 = time.perf_counter()
    backend = load_backend("smollm2", threads=args.threads)
    print(f"model {backend.name} n_ctx {backend.n_ctx}, loaded in {time.perf_counter() - t0:.2f} s")
    if "1" in args.only:
        ttft(backend, default_registry(), ["list the files in /tmp", "which process uses port 8080",
                                           "how much disk space is free"])
    if "2" in args.only:
        session_switch(backend, args.rounds)
    if "3" in args.only:
        interactive_latency(backend, args.bg)
    if "4" in args.only:
        throughput(backend, args.n)
    backend.close()


if __name__ == "__main__":
    main()
