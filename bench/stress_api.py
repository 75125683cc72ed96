"""Stress the Python API: many mixed requests from several threads, some cancelled, against real files.

A stand-in model answers each request with a fixed plan for its wording (reads, listings, finds over a
tree, writes and deletes inside a scratch folder, refusals, invalid plans), streamed a few characters a
token so that cancellation can land while planning as well as while running.  Every plan runs for real
through the safe dispatcher (policy, journal, audit log) inside a throwaway folder; the approver answers
"once" for writes there.  What it reports:

  sent, answered (exactly one terminal event), lost (none within the timeout), deadlocks (threads still
  waiting at the end), terminal events by kind, peak RSS and wall time.

    python bench/stress_api.py --requests 1000 --threads 8
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.backend import (
    Completion,
    TokenCallback,
)
from nlshell.api import Session
from nlshell.events import Event
from syscalls.types import Answer, Question

PLANS = {
    "list the files here": 'fs.list path="."',
    "read notes.txt": 'fs.read path="notes.txt"',
    "find the text files in tree": 'fs.find path="tree" name="*.txt" type="file"',
    "how big is tree": 'fs.du path="tree"',
    "count the lines of notes.txt": 'fs.wc path="notes.txt"',
    "write hello to scratch/out.txt": 'fs.write path="scratch/out.txt" content="hello"',
    "append bye to scratch/log.txt": 'fs.append path="scratch/log.txt" content="bye"',
    "make the folder scratch/new": 'fs.mkdir path="scratch/new" parents=true',
    "delete scratch/out.txt": 'fs.delete path="scratch/out.txt"',
    "how much memory is left": "sys.memory",
    "list processes": "proc.list limit=20",
    "book me a flight": 'answer text="not something nlshell can do" supported=false',
    "read the file nobody named": 'fs.read path="/etc/shadow-nope"',
    "garbage": "fs.frobnicate path=1",
}


class PlanBackend:
    """A stand-in model: the plan for a request depends only on its wording, streamed in small pieces."""

    name = "stress"
    n_ctx = 4096

    def __init__(self, piece: int = 6, delay_s: float = 0.0005) -> None:
        self.piece, self.delay_s = piece, delay_s

    def complete(self, prompt: str, *, grammar: str | None = None, max_tokens: int = 256,
                 stop: list[str] | None = None, on_token: TokenCallback | None = None) -> Completion:
        request = prompt.split("request: ", 1)[-1].split("\n", 1)[0]
        text = PLANS.get(request, "fs.list")
        out = ""
        for i in range(0, len(text), self.piece):
            out += text[i:i + self.piece]
            time.sleep(self.delay_s)
            if on_token is not None and on_token(text[i:i + self.piece]) is False:
                return Completion(text=out, stopped="cancelled", extra={"call_prob": 1.0})
        return Completion(text=out, extra={"call_prob": 1.0})

    def tokenize(self, text: str) -> list[int]:
        return [len(w) for w in text.split()]

    def save_state(self) -> Any:
        return None

    def load_state(self, state: Any) -> None:
        return None

    def close(self) -> None:
        return None


def _fixture(root: Path) -> None:
    (root / "notes.txt").write_text("one\ntwo\nthree\n")
    (root / "scratch").mkdir()
    for d in range(20):
        sub = root / "tree" / f"d{d}"
        sub.mkdir(parents=True)
        for f in range(50):
            (sub / f"f{f}.txt").write_text("x" * f)


def run(requests: int, threads: int, cancel_share: float, seed: int, timeout_s: float) -> dict[str, Any]:
    rng = random.Random(seed)
    intents = [rng.choice(list(PLANS)) for _ in range(requests)]
    cancels = [rng.random() < cancel_share for _ in range(requests)]
    delays = [rng.uniform(0, 0.02) for _ in range(requests)]
    outcomes: Counter[str] = Counter()
    terminal_counts: list[int] = [0] * requests
    lost: list[int] = []
    lock = threading.Lock()
    next_index = iter(range(requests))

    def approve(question: Question) -> Answer:
        return Answer.ONCE

    with tempfile.TemporaryDirectory(prefix="nlsh-stress-") as tmp:
        root = Path(tmp) / "work"
        root.mkdir()
        _fixture(root)
        import os

        os.environ["NLSH_PLANNER"] = "v2"
        session = Session(PlanBackend(), cwd=root, approve=approve, state_dir=Path(tmp) / "state",
                          policy=None)

        def worker() -> None:
            while True:
                with lock:
                    i = next(next_index, None)
                if i is None:
                    return
                seen: list[Event] = []
                job = session.submit(intents[i], on_event=seen.append)
                if cancels[i]:
                    time.sleep(delays[i])
                    job.cancel()
                try:
                    outcome = job.wait(timeout_s)
                except Exception as exc:  # a job that never ends is what this counts
                    with lock:
                        lost.append(i)
                        outcomes[f"lost: {type(exc).__name__}"] += 1
                    continue
                with lock:
                    terminal_counts[i] = sum(1 for e in seen if e.terminal)
                    outcomes[outcome.status] += 1

        t0 = time.perf_counter()
        pool = [threading.Thread(target=worker, name=f"stress-{n}", daemon=True) for n in range(threads)]
        for th in pool:
            th.start()
        for th in pool:
            th.join(timeout_s * requests / threads + 60)
        wall = time.perf_counter() - t0
        deadlocked = sum(th.is_alive() for th in pool)
        session.close()
    answered = sum(1 for c in terminal_counts if c == 1)
    return {"sent": requests, "threads": threads, "cancel_share": cancel_share,
            "answered": answered, "lost": len(lost),
            "more_than_one_terminal_event": sum(1 for c in terminal_counts if c > 1),
            "deadlocked_threads": deadlocked, "outcomes": dict(outcomes.most_common()),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "wall_s": round(wall, 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--cancel-share", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds one request may take")
    args = ap.parse_args(argv)
    report = run(args.requests, args.threads, args.cancel_share, args.seed, args.timeout)
    print(json.dumps(report, indent=1))
    ok = report["answered"] == report["sent"] and not report["deadlocked_threads"]
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
