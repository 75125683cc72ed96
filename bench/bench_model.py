"""Model-path benchmark: accuracy on a case set by execution.

    .venv/bin/python bench/bench_model.py accuracy [--set dev|dev2|everyday|daily] [--model smollm2] [--verbose]
                                                   [--only WORD] [--planners v2,shots]

``accuracy`` plans each intent of the set (``dev``, below, by default; ``dev2``: the larger development
set ``bench/cases_dev2.py``, for choosing adapters and thresholds, never for training; ``everyday``: the
held-out ``bench/cases_everyday.py``; ``daily``: the blind ``bench/cases_daily.py``) over a fresh fixture tree
(``tests/model_devtree.py``), runs the plan through a ``Dispatcher`` whose gate keeps every path inside
that tree and signals only the processes the case spawned (``tests/model_devtree.SandboxGate``), and
checks what the plan did or returned (``bench/cases_common.py``).  It prints the overall and
per-category pass rates, then the failures;
``--only WORD`` keeps the cases whose intent contains WORD or whose category is WORD.

``--planners`` (default ``v2``) scores each planner named, one after another in this run; ``shots`` is the
bundled model without its adapter, planning from worked examples.  Planner latency against bare
llama-cpp-python is ``bench/bench_planner.py``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
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
from bench.eval_common import open_planner  # noqa: E402
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=["accuracy"])
    ap.add_argument("--model", default=None)
    ap.add_argument("--only", default="")
    ap.add_argument("--set", dest="which", choices=["dev", "dev2", "everyday", "daily"], default="dev")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--planners", default="v2",
                    help="comma-separated planners scored side by side in this run (v2, shots)")
    ap.add_argument("--min-confidence", type=float, default=None,
                    help="the planners' refusal threshold for this run (0 for bench/threshold.py)")
    ap.add_argument("--json", default="", help="write every case (bench/threshold.py's form) to JSON-v2.json "
                    "(one file per planner: the planner's name replaces v2)")
    a = ap.parse_args(argv)

    for kind in [k for k in a.planners.split(",") if k]:
        planner, meta = open_planner(a.model, default_registry(), kind, a.min_confidence)
        res: dict[str, Any] = {**meta, "set": a.which}
        res.update(accuracy(planner, a.verbose, a.only, a.which))
        res["loadavg_end"] = round(os.getloadavg()[0], 2)
        fails = res.pop("failures", [])
        records = res.pop("records", [])
        if a.json:
            Path(f"{a.json.removesuffix('.json')}-{kind}.json").write_text(json.dumps({"cases": records}, indent=1))
        print(f"===== planner {kind} =====")
        print(json.dumps(res, indent=1))
        for f in fails:
            print(f)
        planner.backend.close()
    return 0

if __name__ == "__main__":
    raise SystemExit(main())
