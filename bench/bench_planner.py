"""Planner latency, v2 against shots and against bare llama-cpp-python on the same prompts, in one run.

    .venv/bin/python bench/bench_planner.py [--n 30] [--cold 3]

* **warm**: request → validated plan, p50 / p90 over ``--n`` development intents, each planner in this
  process after its model is loaded and warmed: ``v2`` (the bundled model with its adapter, a prompt of
  a few dozen tokens) beside ``shots`` (the model without it, the prompt led by worked examples: what a
  model without the adapter pays per plan);
* **bare**: the same v2 prompts through a plain ``llama_cpp.Llama.create_completion`` with the same
  adapter, greedy, no grammar, no parsing, as many tokens as each plan had — what the planner's own
  work (grammar, probabilities, checks, the kernel's sequence engine) adds is the ratio;
* **cold one-shot**: a fresh ``nlsh --dry-run`` process per request (``NLSH_PLANNER`` v2 / shots, an
  empty ``HOME``, the modules' bytecode written by one untimed run first, as an installed package has
  it), median of ``--cold`` runs: imports, model load, planning and rendering.

The machine is shared: the load average is printed with the figures; ratios from the same run are what
to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bench.bench_model import DEV  # noqa: E402
from models import load_backend, make_planner  # noqa: E402
from models import plantext as PT  # noqa: E402
from models.errors import ModelError  # noqa: E402
from syscalls.registry import default_registry  # noqa: E402


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


def warm(kind: str, intents: list[str]) -> tuple[dict[str, Any], Any]:
    t = time.perf_counter()
    backend = load_backend(None, planner=kind)
    planner = make_planner(backend, default_registry(), kind)
    load_s = time.perf_counter() - t
    warm_s = planner.warm()
    times: list[float] = []
    failed = 0
    backend.written = []  # completion tokens of each plan, for the bare peer
    for it in intents:
        t = time.perf_counter()
        try:
            plan = planner.plan(it, cwd=Path("."))
            backend.written.append(int(plan.timings.get("completion_tokens", 0)))
        except ModelError:
            failed += 1
            backend.written.append(0)
        times.append(time.perf_counter() - t)
    return {"load_s": round(load_s, 2), "warm_s": round(warm_s, 2), "p50_s": round(statistics.median(times), 3),
            "p90_s": round(pct(times, 0.9), 3), "no_plan": failed}, backend


def bare(backend: Any, intents: list[str]) -> dict[str, Any]:
    """The same prompts through a plain ``llama_cpp.Llama`` with the same model and adapter, greedy, no
    grammar, each writing as many tokens as the planner's plan had, so both sides write the same amount."""
    import llama_cpp

    profile = backend.profile
    llm = llama_cpp.Llama(model_path=str(backend.path), n_ctx=512, n_threads=profile.n_threads,
                          n_threads_batch=profile.n_threads, verbose=False,
                          **({"lora_path": str(profile.adapter)} if profile.adapter is not None else {}))
    times = []
    for it, n in zip(intents, backend.written, strict=True):
        t = time.perf_counter()
        llm.create_completion(PT.prompt(it), max_tokens=max(1, n), temperature=0.0, top_k=1)
        times.append(time.perf_counter() - t)
    llm.close()
    return {"p50_s": round(statistics.median(times), 3), "p90_s": round(pct(times, 0.9), 3)}


def cold(kind: str, intents: list[str], runs: int) -> dict[str, Any]:
    nlsh = Path(sys.executable).with_name("nlsh")
    times = []
    with tempfile.TemporaryDirectory(prefix="nlsh-cold-") as home:
        env = {**os.environ, "HOME": home, "NLSH_PLANNER": kind, "XDG_CACHE_HOME": f"{home}/.cache",
               "XDG_CONFIG_HOME": f"{home}/.config", "XDG_DATA_HOME": f"{home}/.local/share",
               "XDG_STATE_HOME": f"{home}/.local/state"}
        # As installed: Python keeps the modules' bytecode (pip compiles a wheel's; an editable install's
        # is written on first use), so one run first, not timed, and no PYTHONDONTWRITEBYTECODE.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run([str(nlsh), "--dry-run", intents[0]], cwd=home, env=env, capture_output=True, timeout=300,
                       check=False)
        for it in intents[:runs]:
            t = time.perf_counter()
            subprocess.run([str(nlsh), "--dry-run", it], cwd=home, env=env, capture_output=True, timeout=300,
                           check=False)
            times.append(time.perf_counter() - t)
    return {"median_s": round(statistics.median(times), 3), "runs": len(times)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--cold", type=int, default=3)
    a = ap.parse_args(argv)
    intents = [c.intent.format(pid=os.getpid(), port=8080) for c in DEV if not c.before][: a.n]
    out: dict[str, Any] = {"loadavg_start": os.getloadavg()[0], "intents": len(intents)}
    out["shots_warm"], b1 = warm("shots", intents)
    b1.close()
    out["v2_warm"], b2 = warm("v2", intents)
    b2.close()  # before the peer runs: two llama.cpp contexts' thread pools in one process slow each other
    out["bare_v2_prompt"] = bare(b2, intents)
    out["v2_vs_shots_p50"] = round(out["shots_warm"]["p50_s"] / max(out["v2_warm"]["p50_s"], 1e-9), 2)
    out["v2_vs_bare_p50"] = round(out["v2_warm"]["p50_s"] / max(out["bare_v2_prompt"]["p50_s"], 1e-9), 2)
    if a.cold:
        out["shots_cold_oneshot"] = cold("shots", intents, a.cold)
        out["v2_cold_oneshot"] = cold("v2", intents, a.cold)
    out["loadavg_end"] = os.getloadavg()[0]
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
