"""Benchmark: fs.find / fs.du / fs.list through the dispatcher against GNU find, du -sb and ls -la.

Like for like: plain fs.find (path and type, from d_type) against ``find .``; with
``details=true`` (size and mtime, a stat per entry) against ``find -printf '%p %y %s %T@'``.

Builds a tree of 100,000 files once (kept in the temp dir between runs), then
times each of ours and its native peer (a subprocess writing to a pipe, so
the peer pays its output cost as we pay ours), median of 5, in one process.

    .venv/bin/python bench/bench_files.py [--files 100000] [--repeat 5] [--root DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from syscalls.dispatcher import Dispatcher
from syscalls.registry import default_registry
from syscalls.validate import validate


def build(root: Path, files: int) -> Path:
    """100 top dirs x 10 sub dirs x (files/1000) files, plus one flat dir of 10,000 for listing."""
    marker = root / f".built-{files}"
    if marker.exists():
        return root
    root.mkdir(parents=True, exist_ok=True)
    per = max(1, files // 1000)
    n = 0
    payload = b"x" * 100
    for i in range(100):
        for j in range(10):
            d = root / f"d{i:03d}" / f"s{j}"
            d.mkdir(parents=True, exist_ok=True)
            for k in range(per):
                name = f"f{k:04d}.py" if k % 10 == 0 else f"f{k:04d}.txt"
                with open(d / name, "wb") as fh:
                    fh.write(payload[: (n % 100) + 1])
                n += 1
    flat = root / "flat"
    flat.mkdir(exist_ok=True)
    for k in range(10_000):
        (flat / f"e{k:05d}").touch()
    marker.touch()
    return root


def paired_times(a: Callable[[], object], b: Callable[[], object], repeat: int) -> tuple[float, float, float]:
    """Median time of ``a``, of ``b``, and median of the ratios a/b of back-to-back runs: the two sides
    alternate, so a neighbour's burst on this shared machine weighs on both alike."""
    ta, tb, ratios = [], [], []
    for _ in range(repeat):
        t = time.perf_counter()
        a()
        t1 = time.perf_counter()
        b()
        t2 = time.perf_counter()
        ta.append(t1 - t)
        tb.append(t2 - t1)
        ratios.append((t1 - t) / (t2 - t1))
    return statistics.median(ta), statistics.median(tb), statistics.median(ratios)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--root", default=os.path.join(tempfile.gettempdir(), "nlsh-bench-files"))
    opts = ap.parse_args()
    root = build(Path(opts.root), opts.files)
    reg = default_registry()
    # max_rows above the tree size: both sides produce every row
    disp = Dispatcher(reg, max_rows=10**7)

    def ours(call: str, **args: object) -> Callable[[], object]:
        req = validate({"call": call, "args": args}, reg)

        def go() -> object:
            res = disp.handle(req, root)
            assert res.ok, res.error
            return res.data

        return go

    def native(*argv: str) -> Callable[[], object]:
        def go() -> object:
            return subprocess.run(argv, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True)

        return go

    cases = [
        ("find all", ours("fs.find"), native("find", ".")),
        ("find all, same fields", ours("fs.find", details=True),
         native("find", ".", "-printf", "%p\t%y\t%s\t%T@\n")),
        ("find -name '*.py'", ours("fs.find", name="*.py"), native("find", ".", "-name", "*.py")),
        ("find -type f -size +50c", ours("fs.find", type="file", size_min_bytes=51),
         native("find", ".", "-type", "f", "-size", "+50c")),
        ("find -mtime -1", ours("fs.find", mtime_max_days=1), native("find", ".", "-mtime", "-1")),
        ("du -sb", ours("fs.du"), native("du", "-sb", ".")),
        ("ls -la flat (10k)", ours("fs.list", path="flat", hidden=True, long=True),
         native("ls", "-la", "flat")),
        ("ls flat (10k)", ours("fs.list", path="flat"), native("ls", "flat")),
        ("ls -l flat (10k)", ours("fs.list", path="flat", long=True), native("ls", "-l", "flat")),
    ]
    # sanity: both sides agree on the counts before timing
    found = ours("fs.find")()
    assert isinstance(found, dict)
    peer = subprocess.run(["find", "."], cwd=root, stdout=subprocess.PIPE, check=True).stdout.count(b"\n")
    assert found["count"] == peer, (found["count"], peer)
    print(f"tree: {root} ({opts.files} files + 10,000 in flat/), median of {opts.repeat} alternating runs "
          "(ratio: median of back-to-back pairs), "
          f"python {sys.version.split()[0]}, {os.cpu_count()} cpus")
    print(f"{'case':28} {'ours ms':>10} {'native ms':>10} {'ratio':>7}")
    for name, ours_fn, native_fn in cases:
        ours_fn()
        native_fn()  # warm the dentry cache for both
        a, b, ratio = paired_times(ours_fn, native_fn, opts.repeat)
        print(f"{name:28} {a * 1000:10.1f} {b * 1000:10.1f} {ratio:7.2f}")


if __name__ == "__main__":
    main()
