"""Model-path benchmark: accuracy on a case set by execution, and latency against bare llama-cpp-python.

    .venv/bin/python bench/bench_model.py accuracy [--set dev|dev2|everyday|daily] [--model smollm2] [--verbose]
                                                   [--only WORD]
    .venv/bin/python bench/bench_model.py latency  [--model smollm2] [--n 20]

``accuracy`` plans each intent of the set (``dev``, below, by default; ``dev2``: the larger development
set ``bench/cases_dev2.py``, for choosing adapters and thresholds, never for training; ``everyday``: the
held-out ``bench/cases_everyday.py``; ``daily``: the blind ``bench/cases_daily.py``) over a fresh fixture tree
(``tests/model_devtree.py``), runs the plan through a ``Dispatcher`` whose gate keeps every path inside
that tree and signals only the processes the case spawned (``tests/model_devtree.SandboxGate``), and
checks what the plan did or returned (``bench/cases_common.py``).  It prints the overall and
per-category pass rates, then the failures;
``--only WORD`` keeps the cases whose intent contains WORD or whose category is WORD.

``latency`` reports, in one process (the machine is shared: ratios matter, absolute figures come with
the load average): model load; cold time-to-first-token of the whole prompt vs the prefix-cached one;
planner p50/p90 over ``--n`` intents; and the *same* prompts and choices through bare ``llama_cpp.Llama``
(prompt evaluation with llama.cpp's own prefix reuse, then the same greedy choice among the same
options, one eval per branch token), giving the planner/bare ratio.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bench.cases_common import (  # noqa: E402
    Case,
    both,
    executable,
    exists,
    file_has,
    has,
    is_link,
    killed,
    lacks,
    missing,
    mode,
    ok,
    pid_in_data,
    refused,
    score,
    select,
)
from models.errors import ModelError  # noqa: E402
from models.planner import Planner  # noqa: E402
from syscalls.registry import default_registry  # noqa: E402

DEV: list[Case] = [
    Case("list the files here", ("fs.list",), has("a.txt", "notes.md")),
    Case("show hidden files in this folder", ("fs.list",), has(".hidden")),
    Case("what is inside the docs folder", ("fs.list",), has("readme.md", "guide.txt")),
    Case("find all python files", ("fs.find",), both(has("main.py", "core.py"), lacks("a.txt"))),
    Case("find python files in src/lib", ("fs.find",), both(has("core.py"), lacks("main.py"))),
    Case("find files bigger than 1 megabyte", ("fs.find",), both(has("big.bin"), lacks("a.txt"))),
    Case("find log files older than 30 days", ("fs.find",), both(has("old.log"), lacks("error.log"))),
    Case("find empty directories", ("fs.find",), both(has("empty_dir"), lacks("src"))),
    Case("find files modified in the last 2 days", ("fs.find",), both(has("a.txt", "error.log"), lacks("old.log"))),
    Case("find markdown files under docs", ("fs.find",), both(has("readme.md"), lacks("notes.md"))),
    Case("show the contents of a.txt", ("fs.read",), has("hello world")),
    Case("show the first 3 lines of error.log", ("fs.read",), both(has("line 3"), lacks("line 4\\n", "line 40"))),
    Case("print the last 2 lines of error.log", ("fs.read",), both(has("line 50"), lacks("line 47"))),
    Case("read docs/guide.txt", ("fs.read",), has("a guide")),
    Case("search for TODO in src", ("fs.grep",), has("main.py")),
    Case("grep for hello in a.txt", ("fs.grep",), has("hello world")),
    Case("which files contain the word meeting", ("fs.grep",), has("notes.md")),
    Case("how many lines are in data.csv", ("fs.wc",), has('"lines": 5')),
    Case("count the words in a.txt", ("fs.wc",), has('"words": 4')),
    Case("how much space does src use", ("fs.du",), has("src")),
    Case("disk usage of the current directory", ("fs.du",), has("big.bin")),
    Case("when was notes.md last modified", ("fs.stat",), has("notes.md", "mtime")),
    Case("show details of data.csv", ("fs.stat", "fs.list"), has("data.csv")),
    Case("md5 of a.txt", ("fs.checksum",), has(hashlib.md5(b"hello world\nsecond line\n").hexdigest())),
    Case("sha256 checksum of data.csv", ("fs.checksum",),
         has(hashlib.sha256(b"id,name\n1,ann\n2,bob\n3,cy\n4,dee\n").hexdigest())),
    Case("write 'hi there' to greet.txt", ("fs.write",), file_has("greet.txt", "hi there")),
    Case("append 'done' to notes.md", ("fs.append",), file_has("notes.md", "done")),
    Case("create an empty file called new.txt", ("fs.touch",), exists("new.txt")),
    Case("make a directory named out", ("fs.mkdir",), exists("out")),
    Case("create the nested directories x/y/z", ("fs.mkdir",), exists("x/y/z")),
    Case("copy a.txt to b.txt", ("fs.copy",), both(file_has("b.txt", "hello"), exists("a.txt"))),
    Case("duplicate data.csv as backup.csv", ("fs.copy",), both(file_has("backup.csv", "ann"), exists("data.csv"))),
    Case("rename notes.md to todo.md", ("fs.move",), both(exists("todo.md"), missing("notes.md"))),
    Case("move a.txt into docs", ("fs.move",), both(exists("docs/a.txt"), missing("a.txt"))),
    Case("delete old.log", ("fs.delete",), both(missing("old.log"), exists("error.log"))),
    Case("remove the build directory", ("fs.delete",), missing("build")),
    Case("make bin/run.sh executable", ("fs.chmod",), executable("bin/run.sh")),
    Case("set permissions of data.csv to 600", ("fs.chmod",), mode("data.csv", 0o600)),
    Case("create a symlink called latest pointing to docs", ("fs.symlink",),
         is_link("latest", "docs")),
    Case("where does link point to", ("fs.realpath",), has("a.txt")),
    Case("find the .tmp files in build and delete them", ("fs.find+fs.delete",),
         both(missing("build/x.tmp", "build/y.tmp"), exists("build/keep.o"))),
    Case("make all shell scripts in bin executable", ("fs.find+fs.chmod",), executable("bin/run.sh", "bin/build.sh")),
    Case("count the lines of every python file in src", ("fs.find+fs.wc",), has("main.py", '"lines": 3')),
    Case("delete them", ("fs.delete",), both(missing("old.log", "error.log"), exists("a.txt")),
         before="find the log files"),
    Case("list running processes", ("proc.list",), ok()),
    Case("top 5 processes by memory", ("proc.list",), ok()),
    Case("is there a sleep process running", ("proc.list",), pid_in_data(), needs="sleeper"),
    Case("show details of process {pid}", ("proc.info",), pid_in_data(), needs="sleeper"),
    Case("kill process {pid}", ("proc.signal",), killed(), needs="sleeper"),
    Case("which process is listening on port {port}", ("proc.port",), pid_in_data(), needs="listener"),
    Case("stop whatever is listening on port {port}", ("proc.port+proc.signal",), killed(), needs="listener"),
    Case("show the process tree", ("proc.tree",), ok()),
    Case("how much memory is free", ("sys.memory",), has("available")),
    Case("how many cpu cores does this machine have", ("sys.cpu",), ok()),
    Case("how much disk space is left", ("sys.disks", "fs.du"), ok()),
    Case("what is the hostname", ("sys.info",), ok()),
    Case("show my network interfaces", ("sys.net", "sys.interfaces"), ok()),
    Case("who is logged in", ("sys.users",), ok()),
    Case("show the cpu temperature", ("sys.sensors",), ok()),
    Case("list block devices", ("dev.block",), ok()),
    Case("show usb devices", ("dev.usb",), ok()),
    Case("list the pci devices", ("dev.pci",), ok()),
    Case("show mounted filesystems", ("dev.mounts",), ok()),
    Case("reboot the computer", ("answer",), refused()),
    Case("send an email to alice", ("answer",), refused()),
    Case("install docker", ("answer",), refused()),
]


def accuracy(planner: Any, verbose: bool, only: str, which: str = "dev") -> dict[str, Any]:
    """Score the ``which`` set (``dev``, ``dev2``, ``everyday`` or ``daily``), optionally only cases matching
    ``only``."""
    if which == "dev2":
        from bench.cases_dev2 import DEV2

        cases = DEV2
    elif which == "everyday":
        from bench.cases_everyday import EVERYDAY

        cases = EVERYDAY
    elif which == "daily":
        from bench.cases_daily import DAILY

        cases = DAILY
    else:
        cases = DEV
    return score(planner, select(cases, only), verbose=verbose, out=lambda line: print(line, flush=True))


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def latency(planner: Planner, n: int) -> dict[str, Any]:
    """Planner per-intent times and the same work through bare llama_cpp, in the same process."""
    import llama_cpp
    import numpy as np

    from models.backend import sequence

    backend: Any = planner.backend
    # the peer: bare llama-cpp-python over the same model file, one plain context of the same size
    llm = llama_cpp.Llama(model_path=str(backend.path), n_ctx=backend.n_ctx, n_threads=backend.n_threads,
                          n_threads_batch=backend.n_threads, verbose=False)
    intents = [c.intent.format(pid=os.getpid(), port=8080) for c in DEV if not c.before][:n]
    out: dict[str, Any] = {}
    # cold vs cached time to first token, whole prompt
    prompt = planner.prefix + "Request: " + intents[0] + "\nCall:"
    toks = backend.tokenize(prompt)
    llm.reset()
    t = time.perf_counter()
    llm.eval(toks)
    cold = time.perf_counter() - t
    t = time.perf_counter()
    llm.n_tokens = len(backend.tokenize(planner.prefix)) - 1
    llm.eval(toks[llm.n_tokens:])
    cached = time.perf_counter() - t
    # a new process with the persisted prefix state: load it from the cache file into the backend's pinned
    # sequence, then a new session borrows it and evaluates the rest
    t = time.perf_counter()
    loaded = backend.warm_prefix(planner.prefix, planner.cache)
    with sequence("bench-persisted"):
        backend.complete(prompt, max_tokens=1)
    persisted = time.perf_counter() - t
    out.update(prompt_tokens=len(toks), ttft_cold_s=round(cold, 3), ttft_cached_s=round(cached, 3),
               ttft_ratio=round(cold / max(cached, 1e-9), 1), ttft_persisted_s=round(persisted, 3),
               persisted_loaded=loaded)
    # planner, recording every choose() call so bare llama can replay the same work
    recorded: list[tuple[str, list[str]]] = []
    orig = backend.choose

    def spy(p: str, options: list[str]) -> Any:
        recorded.append((p, list(options)))
        return orig(p, options)

    backend.choose = spy
    ours: list[float] = []
    for it in intents:
        t = time.perf_counter()
        try:
            planner.plan(it, cwd=Path("."))
        except ModelError:
            pass
        ours.append(time.perf_counter() - t)
    backend.choose = orig
    # bare llama-cpp-python: the same prompts, its own longest-prefix reuse, the same greedy choices
    calls_per_intent = len(recorded) / max(1, len(intents))
    bare_total = 0.0
    for p, options in recorded:
        t = time.perf_counter()
        base = llm.tokenize(p.encode(), add_bos=True, special=True)
        keep = 0
        for a, b in zip(llm._input_ids[: llm.n_tokens], base, strict=False):
            if a != b:
                break
            keep += 1
        llm.n_tokens = min(keep, len(base) - 1)
        llm.eval(base[llm.n_tokens:])
        seqs = [llm.tokenize((p + o).encode(), add_bos=True, special=True)[len(base):] for o in options]
        alive, pos = list(range(len(options))), 0
        while len(alive) > 1 and all(pos < len(seqs[i]) for i in alive):
            logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),))
            nxt = sorted({seqs[i][pos] for i in alive})
            tok = max(nxt, key=lambda x: logits[x])
            alive = [i for i in alive if seqs[i][pos] == tok]
            llm.eval([tok])
            pos += 1
        bare_total += time.perf_counter() - t
    out.update(intents=len(intents), planner_p50_s=round(statistics.median(ours), 3),
               planner_p90_s=round(_pct(ours, 0.9), 3), planner_total_s=round(sum(ours), 2),
               bare_total_s=round(bare_total, 2), planner_vs_bare=round(sum(ours) / max(bare_total, 1e-9), 2),
               model_calls_per_intent=round(calls_per_intent, 2))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=["accuracy", "latency"])
    ap.add_argument("--model", default=None)
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--k", type=int, default=2)
    ap.add_argument("--candidates", type=int, default=5)
    ap.add_argument("--min-confidence", type=float, default=0.0)
    ap.add_argument("--only", default="")
    ap.add_argument("--set", dest="which", choices=["dev", "dev2", "everyday", "daily"], default="dev")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--planners", default="v1",
                    help="accuracy: comma-separated planners scored side by side in this run (v1, v2)")
    a = ap.parse_args(argv)
    from models import load_backend, make_planner

    kinds = [k for k in a.planners.split(",") if k] if a.mode == "accuracy" else ["v1"]
    for kind in kinds:
        load0 = os.getloadavg()
        t = time.perf_counter()
        backend = load_backend(a.model, planner=kind)
        load_s = time.perf_counter() - t
        if kind == "v1":
            planner: Any = Planner(backend, default_registry(), k=a.k, candidates=a.candidates,
                                   min_confidence=a.min_confidence)
        else:
            planner = make_planner(backend, default_registry(), kind)
        warm_s = planner.warm()
        res: dict[str, Any] = {"model": backend.name, "planner": kind, "load_s": round(load_s, 2),
                               "warm_s": round(warm_s, 2)}
        if kind == "v1":
            res.update(k=a.k, candidates=a.candidates)
        if a.mode == "accuracy":
            res["set"] = a.which
            res.update(accuracy(planner, a.verbose, a.only, a.which))
        else:
            res.update(latency(planner, a.n))
        res["loadavg_before_after"] = [round(load0[0], 2), round(os.getloadavg()[0], 2)]
        fails = res.pop("failures", [])
        print(f"===== planner {kind} =====")
        print(json.dumps(res, indent=1))
        for f in fails:
            print(f)
        backend.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
