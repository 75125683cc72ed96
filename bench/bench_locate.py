"""What finding a loosely named place costs (``models.locate``), against ``find -iname`` on the same tree.

    .venv/bin/python bench/bench_locate.py [--entries 25000] [--n 20]

Builds a throwaway tree (a small home-like one, then one wider than the lookup's budget), and times the
lookup of a path that is there, one whose letter case differs, one found three levels down, one that is
nowhere (the whole budget walked) and a wildcard.  The peer is ``find ROOT -maxdepth 3 -iname NAME``, the
shell way to look for the same name.  Prints JSON: medians in milliseconds and the ratio to the peer.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.eval_common import home_at
from models.locate import BUDGET, locate
from models.plan import PlanStep
from syscalls.registry import Registry, default_registry


def median_ms(fn: Callable[[], object], n: int) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return round(statistics.median(times) * 1000, 3)


def home_like(root: Path) -> None:
    for rel in ["Downloads/ubuntu.iso", "Desktop/a.png", "Desktop/b.png", "Documents/notes.txt",
                "projects/scraper/scrape.py", "logs/nginx/access.log"]:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(rel)


def wide(root: Path, entries: int) -> None:
    home_like(root)
    per = 250
    for i in range(entries // per):
        d = root / f"d{i}" / "sub"
        d.mkdir(parents=True)
        for j in range(per):
            (d / f"f{j}.txt").touch()


def figures_for(root: Path, reg: Registry, n: int) -> dict[str, object]:
    figures: dict[str, object] = {"entries": sum(1 for _ in root.rglob("*"))}
    for what, call, key, value, name in (
            ("there", "fs.stat", "path", "Documents", None),
            ("letter case", "fs.list", "path", "downloads", "downloads"),
            ("found below", "fs.stat", "path", "access.log", "access.log"),
            ("nowhere", "fs.stat", "path", "no-such-thing.txt", "no-such-thing.txt"),
            ("wildcard", "fs.move", "src", "Desktop/*.png", None)):
        steps = [PlanStep(call, {key: value, **({"dest": "Pictures"} if call == "fs.move" else {})})]
        ours = median_ms(lambda steps=steps: locate(steps, reg, root), n)
        row: dict[str, object] = {"locate_ms": ours}
        if name is not None:
            peer = median_ms(lambda name=name: subprocess.run(
                ["find", str(root), "-maxdepth", "3", "-iname", name], capture_output=True, check=False),
                max(3, n // 4))
            row.update(find_ms=peer, ratio_to_find=round(ours / peer, 3) if peer else None)
        figures[what] = row
    return figures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entries", type=int, default=25_000, help="files in the wide tree")
    ap.add_argument("--n", type=int, default=20, help="timed runs per figure")
    args = ap.parse_args(argv)
    reg = default_registry()
    out: dict[str, object] = {"budget": BUDGET, "cpus": len(os.sched_getaffinity(0))}
    base = Path(tempfile.mkdtemp(prefix="nlsh-bench-locate-"))
    try:
        for label, build in (("home-like", home_like), ("wide", lambda r: wide(r, args.entries))):
            root = base / label
            root.mkdir()
            build(root)
            with home_at(root):  # the lookup's second place is the fixture, never the real home
                out[label] = figures_for(root, reg, args.n)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
