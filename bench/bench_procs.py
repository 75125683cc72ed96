"""Process and system syscalls against their native peers, measured in the same process.

    .venv/bin/python bench/bench_procs.py [--runs 5]

Compares (median of N runs, wall time):
  proc.list (through validate + Dispatcher, all processes, sorted by pid)  vs  ps aux
  sys.memory                                                                  vs  free -b
  sys.disks                                                                   vs  df -B1
The two "path" rows time the process scan alone (no dispatcher, no sorting):
psutil's process_iter(attrs=...) versus the direct /proc reader proc.list uses
on Linux.  The native peers run as subprocesses writing to a pipe (what a shell user would
pay); ours run in-process through the same path the shell uses.  Ratio = ours /
native; the goal is <= 1.5.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from syscalls.builtin.proc import scan
from syscalls.dispatcher import Dispatcher
from syscalls.registry import default_registry
from syscalls.validate import validate


def median_s(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm up: imports, caches, page cache
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def native(argv: list[str]) -> Callable[[], object]:
    def run() -> object:
        return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout

    return run


def ours(call: str, args: dict[str, object]) -> Callable[[], object]:
    reg = default_registry()
    d = Dispatcher(reg)

    def run() -> object:
        r = d.handle(validate({"call": call, "args": args}, reg))
        if not r.ok:
            raise SystemExit(f"{call} failed: {r.error}")
        return r.data

    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    opts = ap.parse_args()
    rows_n = len(ours("proc.list", {"sort": "pid"})()["processes"])  # type: ignore[index]
    pairs = [
        (f"proc.list sort=pid ({rows_n} procs)", ours("proc.list", {"sort": "pid"}), "ps aux",
         native(["ps", "aux"])),
        ("  psutil.process_iter path", lambda: list(scan.scan_processes(fast=False)), "ps aux",
         native(["ps", "aux"])),
        ("  direct /proc path", lambda: list(scan.scan_processes(fast=True)), "ps aux",
         native(["ps", "aux"])),
        ("sys.memory", ours("sys.memory", {}), "free -b", native(["free", "-b"])),
        ("sys.disks", ours("sys.disks", {}), "df -B1", native(["df", "-B1"])),
    ]
    print(f"median of {opts.runs} runs, wall time")
    print(f"{'ours':<34}{'ms':>9}   {'native':<10}{'ms':>9}   ratio")
    for name, fn, peer_name, peer in pairs:
        a = median_s(fn, opts.runs)
        b = median_s(peer, opts.runs)
        print(f"{name:<34}{a * 1000:>9.2f}   {peer_name:<10}{b * 1000:>9.2f}   {a / b:5.2f}x")


if __name__ == "__main__":
    main()
