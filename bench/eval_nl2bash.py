"""Execution-based evaluation of the model path on NL2Bash single commands.

One command:  .venv/bin/python bench/eval_nl2bash.py [--model smollm2] [--per-family 6] [--seed 7]

Rows are sampled per command family (fixed seed), keeping only rows whose
command stays inside the working directory (no absolute paths, ``~`` or
variables), so destructive gold commands only touch the fixture.  For each row
a fixture tree is built twice; the gold bash runs in copy A, nlshell's plan
(planner + ``Dispatcher`` with an allow-all gate) in copy B.  A row passes when
the resulting trees are equal (effects) and the lines gold printed appear in
our result data (information).  Failures are classified as refusal / crash /
invalid / wrong call / wrong argument.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models import load_backend
from models.errors import ModelError
from models.plan import Plan, expand_refs
from models.planner import Planner
from syscalls.dispatcher import Dispatcher
from syscalls.errors import SyscallError
from syscalls.registry import default_registry
from syscalls.types import SyscallResult
from syscalls.validate import validate

TSV = Path("/work/shared/eval/nl2bash-single-commands.tsv")
FAMILIES = {"find": "find", "ls": "list", "du": "du", "wc": "wc", "cat": "read", "head": "read",
            "tail": "read", "grep": "grep", "egrep": "grep", "mkdir": "mkdir", "rm": "delete", "rmdir": "delete",
            "cp": "copy", "mv": "move", "touch": "touch", "chmod": "chmod", "readlink": "realpath",
            "tree": "list", "stat": "stat", "file": "stat"}
DAY = 86400


def build_fixture(root: Path) -> None:
    now = time.time()
    files: dict[str, tuple[int, float]] = {
        "a.txt": (120, 1), "b.txt": (3000, 3), "notes.md": (800, 10), "report.pdf": (50_000, 40),
        "main.c": (400, 2), "util.h": (90, 2), "app.java": (700, 5), "index.html": (1500, 20),
        "style.css": (300, 20), "data.csv": (2_000_000, 60), "error.log": (20_000, 1), "old.log": (9000, 45),
        "big.bin": (12_000_000, 100), "script.sh": (200, 7), "backup.bak": (100, 200), "empty.txt": (0, 0),
        "src/main.py": (1000, 1), "src/util.py": (500, 8), "src/lib/core.py": (3000, 15),
        "src/lib/core.pyc": (2000, 15), "docs/readme.md": (600, 30), "docs/guide.txt": (7000, 2),
        "logs/app.log": (100_000, 3), "logs/app.log.1": (90_000, 33), "logs/old/x.log": (5000, 90),
        ".hidden": (10, 5), ".config/settings.ini": (40, 5), "tmp/cache.tmp": (64, 1), "tmp/a.tmp": (10, 12),
        "My Files/photo.jpg": (300_000, 25), "images/pic.png": (120_000, 6), "images/pic2.jpg": (80_000, 70),
    }
    for rel, (size, age_days) in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        with open(p, "wb") as fh:
            line = f"hello world {rel}\nfoo bar baz\nerror: something failed\n".encode()
            data = (line * (size // len(line) + 1))[:size]
            fh.write(data)
        os.utime(p, (now - age_days * DAY, now - age_days * DAY))
    (root / "emptydir").mkdir()
    os.symlink("a.txt", root / "link_to_a")
    os.chmod(root / "script.sh", 0o755)


def snapshot(root: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            rel = str(p.relative_to(root))
            kind = "l" if p.is_symlink() else "d" if p.is_dir() else "f"
            out[rel] = (kind, st.st_mode & 0o7777, st.st_size if kind == "f" else 0)
    return out


def sample(per_family: int, seed: int) -> list[dict[str, str]]:
    rows = list(csv.DictReader(TSV.open(), delimiter="\t"))
    by: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        try:
            words = shlex.split(r["bash"])
        except ValueError:
            continue
        if not words or words[0] not in FAMILIES:
            continue
        if any(w.startswith(("/", "~")) or "$" in w or "`" in w for w in words[1:]):
            continue
        if any(w in ("-exec", "-delete", "-ok", "-fprint", "-printf") for w in words) and words[0] == "find":
            if "-delete" not in words:
                continue
        by[FAMILIES[words[0]]].append(r)
    rng = random.Random(seed)
    out: list[dict[str, str]] = []
    for fam in sorted(by):
        group = by[fam]
        rng.shuffle(group)
        out += [{**r, "family": fam} for r in group[:per_family]]
    return out


def run_plan(plan: Plan, disp: Dispatcher, cwd: Path) -> list[SyscallResult]:
    done: list[SyscallResult] = []
    reg = disp.registry
    for step in plan.steps:
        rows = expand_refs(step.args, done)
        last: SyscallResult | None = None
        merged: list[Any] = []
        for args in rows[:500]:
            req = validate({"call": step.call, "args": args}, reg)
            last = disp.handle(req, cwd=cwd)
            merged.append(last.data)
        assert last is not None
        if len(rows) > 1:
            last = SyscallResult(last.request, last.status, data={"rows": merged})
        done.append(last)
    return done


def classify(plan: Plan | None, results: list[SyscallResult], gold_family: str) -> str:
    if plan is None:
        return "invalid"
    if plan.steps and plan.steps[0].call == "answer":
        return "refusal"
    calls = [s.call.split(".")[-1] for s in plan.steps]
    if gold_family not in calls and not (gold_family == "list" and "find" in calls):
        return "wrong call"
    if any(not r.ok for r in results):
        return "failed call"
    return "wrong argument"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None)
    ap.add_argument("--per-family", type=int, default=6)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--k", type=int, default=6)
    ap.add_argument("--method", default="bm25")
    ap.add_argument("--ungrounded", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    reg = default_registry()
    t = time.perf_counter()
    backend = load_backend(a.model)
    load_s = time.perf_counter() - t
    planner = Planner(backend, reg, k=a.k, method=a.method, grounded=not a.ungrounded)
    cold = time.perf_counter()
    planner.warm()
    warm_s = time.perf_counter() - cold
    disp = Dispatcher(reg)
    cases = sample(a.per_family, a.seed)
    per_fam: dict[str, list[bool]] = defaultdict(list)
    kinds: Counter[str] = Counter()
    lat: list[float] = []
    for case in cases:
        with tempfile.TemporaryDirectory() as tmp:
            ga, gb = Path(tmp, "a"), Path(tmp, "b")
            ga.mkdir()
            gb.mkdir()
            build_fixture(ga)
            build_fixture(gb)
            try:
                gold = subprocess.run(["bash", "-c", case["bash"]], cwd=ga, capture_output=True, text=True,
                                      timeout=10, stdin=subprocess.DEVNULL)
                gold_out = gold.stdout
            except subprocess.TimeoutExpired:
                gold_out = ""
            plan: Plan | None = None
            results: list[SyscallResult] = []
            err = ""
            t0 = time.perf_counter()
            try:
                plan = planner.plan(case["nl"], cwd=gb)
                lat.append(time.perf_counter() - t0)
                results = run_plan(plan, disp, gb)
            except (ModelError, SyscallError, LookupError) as exc:
                err = f"{type(exc).__name__}: {exc}"
            effects_ok = snapshot(ga) == snapshot(gb)
            blob = json.dumps([r.data for r in results], default=str)
            lines = [ln.strip().removeprefix("./") for ln in gold_out.splitlines() if ln.strip()]
            lines = [ln for ln in lines if ln != "."]
            found = sum(1 for ln in lines if ln in blob or ln.split()[-1] in blob)
            info_ok = (found >= 0.8 * len(lines)) if lines else True
            ok = plan is not None and effects_ok and info_ok and all(r.ok for r in results) \
                and not (plan.steps and plan.steps[0].call == "answer")
            per_fam[case["family"]].append(ok)
            if not ok:
                kinds["crash" if err and plan is not None else classify(plan, results, case["family"])] += 1
            if a.verbose:
                steps = [s.to_dict() for s in plan.steps] if plan else err
                print(f"{'PASS' if ok else 'FAIL'} [{case['family']}] {case['nl']!r}\n   gold: {case['bash']}\n"
                      f"   plan: {steps}\n   effects={effects_ok} info={found}/{len(lines)}", flush=True)
    total = [x for v in per_fam.values() for x in v]
    print(f"\nmodel={backend.name} load={load_s:.2f}s prefix-warm={warm_s:.2f}s k={a.k} method={a.method} "
          f"grounded={not a.ungrounded} seed={a.seed}")
    print(f"{'family':10} {'pass':>5} {'n':>4} {'acc':>6}")
    for fam, v in sorted(per_fam.items()):
        print(f"{fam:10} {sum(v):5d} {len(v):4d} {sum(v) / len(v):6.0%}")
    print(f"{'overall':10} {sum(total):5d} {len(total):4d} {sum(total) / max(1, len(total)):6.0%}")
    print("failures:", dict(kinds))
    if lat:
        lat.sort()
        print(f"latency intent→validated plan (warm): p50={statistics.median(lat):.3f}s "
              f"p90={lat[int(0.9 * (len(lat) - 1))]:.3f}s n={len(lat)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
