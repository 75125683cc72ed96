"""A fixture tree, helper processes and a plan executor for the model-path accuracy checks.

Shared by ``tests/test_model_regression.py`` and ``bench/bench_model.py``: a
case is an intent plus a check of what executing its plan did (effects on the
tree) or returned (information in the result data), never of the plan's text.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.plan import Plan, expand_refs
from syscalls.dispatcher import Dispatcher
from syscalls.errors import Denied
from syscalls.registry import Registry
from syscalls.types import CallContext, SyscallRequest, SyscallResult, SyscallSpec

DAY = 86400.0


def build_tree(root: Path) -> None:
    """A small project: text files, logs of two ages, sources, a build dir, scripts, a link, a dotfile."""
    now = time.time()
    files: dict[str, tuple[str | bytes, float]] = {
        "a.txt": ("hello world\nsecond line\n", 1),
        "notes.md": ("# notes\nTODO: write the report\nmeeting at noon\n", 3),
        "error.log": ("".join(f"line {i}\n" for i in range(1, 51)), 0.5),
        "old.log": ("rotated\n", 40),
        "big.bin": (b"\0" * (3 * 1024 * 1024), 2),
        "data.csv": ("id,name\n1,ann\n2,bob\n3,cy\n4,dee\n", 5),
        "src/main.py": ("import os\n# TODO fix the parser\nprint('hi')\n", 1),
        "src/util.py": ("def helper():\n    return 42\n", 8),
        "src/lib/core.py": ("class Core:\n    pass\n", 15),
        "docs/readme.md": ("read me\n", 30),
        "docs/guide.txt": ("a guide\nwith two lines\n", 2),
        "build/x.tmp": ("x", 1),
        "build/y.tmp": ("y", 1),
        "build/keep.o": ("o", 1),
        "bin/run.sh": ("#!/bin/sh\necho run\n", 4),
        "bin/build.sh": ("#!/bin/sh\necho build\n", 4),
        ".hidden": ("secret\n", 9),
    }
    for rel, (content, age_days) in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content)
        os.utime(p, (now - age_days * DAY, now - age_days * DAY))
    for rel in ("bin/run.sh", "bin/build.sh", "data.csv"):
        (root / rel).chmod(0o644)
    (root / "empty_dir").mkdir()
    (root / "link").symlink_to("a.txt")


class SandboxGate:
    """Allows only what stays inside ``root`` and signals only the processes the check spawned.

    Plans come from a small model: a wrong guess such as ``{"path": "~"}`` followed by ``fs.delete``
    must hit this gate, never the machine.  Every path-typed argument (after ``$N.path`` expansion)
    must resolve, symlinks included, inside ``root``; ``proc.run`` is refused; ``proc.signal`` only
    reaches pids in ``pids``.
    """

    def __init__(self, root: Path, pids: set[int] | None = None) -> None:
        self.root = root.resolve()
        self.pids = pids if pids is not None else set()

    def _inside(self, p: Path) -> bool:
        try:
            real = p.resolve()
        except OSError:
            return False
        return real == self.root or self.root in real.parents

    def authorize(self, request: SyscallRequest, spec: SyscallSpec, ctx: CallContext) -> None:
        if request.call == "proc.run":
            raise Denied("the model check never runs programs", call=request.call)
        if request.call == "proc.signal" and request.args.get("pid") not in self.pids:
            raise Denied(f"pid {request.args.get('pid')} was not spawned by the check", call=request.call,
                         target=f"pid {request.args.get('pid')}")
        props = spec.args_schema.get("properties", {})
        for key, value in request.args.items():
            if props.get(key, {}).get("x-nlsh") == "path" and isinstance(value, str):
                if not self._inside(ctx.resolve(value)):
                    raise Denied(f"{key} {value!r} is outside the fixture tree", call=request.call,
                                 target=f"{key} {value}")
        if request.call.startswith("fs.") and "path" in props and "path" not in request.args \
                and not self._inside(ctx.cwd):
            raise Denied("the default path is outside the fixture tree", call=request.call)


def sandboxed(registry: Registry, root: Path, pids: set[int] | None = None) -> Dispatcher:
    """A dispatcher for model-planned requests over the fixture tree at ``root``."""
    return Dispatcher(registry, gate=SandboxGate(root, pids))


@dataclass
class Executed:
    plan: Plan | None
    results: list[SyscallResult] = field(default_factory=list)
    error: str = ""

    @property
    def labels(self) -> str:
        return "+".join(s.call for s in self.plan.steps) if self.plan else ""

    @property
    def ok(self) -> bool:
        return not self.error and bool(self.results) and all(r.ok for r in self.results)

    def data_text(self) -> str:
        return json.dumps([r.data for r in self.results], default=str, ensure_ascii=False)

    def refused(self) -> bool:
        return self.plan is not None and len(self.plan.steps) == 1 and self.plan.steps[0].call == "answer" \
            and self.plan.steps[0].args.get("supported") is False


def execute(plan: Plan, dispatcher: Dispatcher, cwd: Path, previous: SyscallResult | None = None) -> Executed:
    """Run every step (fanning out over referenced rows) the way the kernel does."""
    out = Executed(plan)
    done: list[SyscallResult] = []
    for step in plan.steps:
        try:
            fan = expand_refs(step.args, done, previous)
        except LookupError as exc:
            out.error = str(exc)
            return out
        rows: list[Any] = []
        last: SyscallResult | None = None
        for args in fan:
            res = dispatcher.handle(SyscallRequest(step.call, args), cwd)
            out.results.append(res)
            last = res
            if res.ok and res.data:
                for v in res.data.values():
                    if isinstance(v, list):
                        rows.extend(v)
                        break
                else:
                    rows.append(res.data)
        if last is None:
            out.error = "no rows to act on"
            return out
        done.append(SyscallResult(SyscallRequest(step.call, step.args), "ok",
                                  data={"rows": rows} if len(fan) > 1 else last.data))
    return out


def last_result(ex: Executed) -> SyscallResult | None:
    if not ex.results:
        return None
    if len(ex.results) == 1:
        return ex.results[0]
    return ex.results[-1]


def _default_signals() -> None:
    """In a case's child, before exec: the default action for SIGHUP, which a parent started under ``nohup``
    (or any runner that ignores hang-ups) would otherwise pass down as ignored, so a hang-up would not end it."""
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


@contextmanager
def sleeper(seconds: int = 300) -> Iterator[subprocess.Popen[bytes]]:
    """A real child process to inspect and signal; always reaped.  Yielded once it runs ``sleep`` (on a busy
    machine the child can still be the forked Python for a while, and a case must not signal that)."""
    proc = subprocess.Popen(["sleep", str(seconds)], preexec_fn=_default_signals)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{proc.pid}/comm").read_text().strip() == "sleep":
                break
        except OSError:
            break
        time.sleep(0.01)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def listener() -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """A child process listening on a free TCP port; always reaped."""
    port = free_port()
    code = ("import socket,time;s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);"
            f"s.bind(('127.0.0.1',{port}));s.listen();print('up',flush=True);time.sleep(300)")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, preexec_fn=_default_signals)
    try:
        assert proc.stdout is not None
        proc.stdout.readline()
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def gone(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> bool:
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return False
    return True


Check = Callable[[Path, Executed], bool]


def assert_outside_denied(run: Callable[[str, list[Any], Path], bool], tmp_path: Path, *, delete: str,
                          copy: str, copy_src: str, kill: str) -> None:
    """A case set's plans cannot reach past their fixture: ``run(intent, steps, work)`` (the set's own runner,
    which plans ``intent`` as ``steps``) fails for a delete or a copy aimed outside ``work`` and for a signal to
    a process the case did not start, and the file outside is untouched."""
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me\n")
    work = tmp_path / "work"
    work.mkdir()
    for path in (str(outside), "../outside.txt", "~/../outside.txt"):
        assert not run(delete, [("fs.delete", {"path": path})], work)
        assert not run(copy, [("fs.copy", {"src": copy_src, "dest": path})], work)
    assert outside.read_text() == "keep me\n"
    assert not run(kill, [("proc.signal", {"pid": 1, "signal": "KILL"})], work)  # not the case's process
