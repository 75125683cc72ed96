"""Cold one-shot wall time: ``nlsh --json "…"`` against the peer ``llm -m SmolLM2 "…"``.

Both run the same bundled SmolLM2-135M weights, cold (a fresh process each time),
for the same five read-only intents, alternating so machine load hits both alike.
Also times ``nlsh --help`` / ``--version`` start-up.  Prints medians and ratios.

    .venv/bin/python bench/bench_oneshot.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

INTENTS = [
    "how much memory is left?",
    "list the files in this folder",
    "show the 5 largest files here",
    "what is the hostname of this machine?",
    "show the running python processes",
]


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int]:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0, r.returncode


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    bindir = Path(sys.executable).parent
    nlsh = str(bindir / "nlsh")
    llm = shutil.which("llm", path=str(bindir)) or shutil.which("llm")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for i in range(20):
            (work / f"file{i}.txt").write_bytes(b"x" * (i * 1000))
        env = dict(os.environ)
        env.update(HOME=str(work), XDG_STATE_HOME=str(work / ".state"), XDG_DATA_HOME=str(work / ".data"),
                   XDG_CONFIG_HOME=str(work / ".config"), XDG_CACHE_HOME=str(work / ".cache"))
        llm_env = dict(os.environ)  # the peer keeps its own config and logs database
        for flag in ("--help", "--version"):
            times = [timed([nlsh, flag], work, env)[0] for _ in range(args.runs)]
            print(f"nlsh {flag:<10} median {statistics.median(times) * 1000:7.1f} ms")
        print()
        print(f"{'intent':<40} {'nlsh s':>8} {'llm s':>8} {'ratio':>6}  nlsh exit codes")
        ours_all: list[float] = []
        peer_all: list[float] = []
        for intent in INTENTS:
            ours: list[float] = []
            peer: list[float] = []
            codes: list[int] = []
            for _ in range(args.runs):
                t, code = timed([nlsh, "--json", intent], work, env)
                ours.append(t)
                codes.append(code)
                if llm:
                    peer.append(timed([llm, "-m", "SmolLM2", intent], work, llm_env)[0])
            mo = statistics.median(ours)
            mp = statistics.median(peer) if peer else float("nan")
            ours_all.append(mo)
            peer_all.append(mp)
            print(f"{intent:<40} {mo:8.2f} {mp:8.2f} {mo / mp:6.2f}  {sorted(set(codes))}")
        mo = statistics.median(ours_all)
        mp = statistics.median(peer_all)
        print(f"{'median over intents':<40} {mo:8.2f} {mp:8.2f} {mo / mp:6.2f}")


if __name__ == "__main__":
    main()
