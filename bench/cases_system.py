"""Fixture-based cases for process, system and device intents (the NL2Bash rows barely cover them).

One command:  .venv/bin/python bench/cases_system.py --model smollm2 --json out.json

Each case sets up what it asks about (a python process listening on a
loopback port, a sleeper with a distinctive name, a process holding a file
open, a parent with a child), plans the intent, runs the plan through
``SandboxGate`` (signals only to the case's own processes, never
``proc.run``) and checks the result against the system's own account:
``/proc/meminfo``, ``os.cpu_count()``, ``/sys/block``, ``/proc/uptime``,
``socket.gethostname()``, ``os.uname()``, ``statvfs("/")``, ``/sys/bus/pci``.
Effects are checked too ("kill the X process" → it is gone).  Verdicts and
the summary use the same format as ``eval_nl2bash.py``.  ``--planners``
defaults to ``v2``; ``v2,shots`` runs the base model planning from worked
examples beside it.
"""

from __future__ import annotations

import argparse
import getpass
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.eval_common import (
    CaseRecord,
    PlannerLike,
    SandboxGate,
    execute,
    failure_kind,
    plan_with_timing,
    result_data,
    side_by_side,
    walk,
)
from syscalls.dispatcher import Dispatcher
from syscalls.registry import Registry, default_registry

# Distinctive (no other process is called this) and distinct per evaluating process, so two
# concurrent runs never see each other's sleeper; letters only, under the 15-byte comm limit.
SLEEPER_NAME = "zebrasleep" + "".join("abcdefghij"[int(d)] for d in f"{os.getpid() % 1000:03d}")


@dataclass
class Env:
    """What a case set up: its processes, a port, a file, a scratch directory."""

    tmp: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    port: int = 0
    path: Path | None = None
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def pids(self) -> set[int]:
        return {p.pid for p in self.procs} | set(self.values.get("child_pids", ()))

    def spawn(self, argv: list[str], **kw: Any) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, **kw)
        self.procs.append(proc)
        return proc

    def close(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
            if p.stdout:
                p.stdout.close()
        for pid in self.values.get("child_pids", ()):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


Check = Callable[[list[Any], Env], tuple[bool, str]]


@dataclass
class Case:
    id: str
    family: str
    intent: str                                 # formatted with Env: {port}, {pid}, {name}, {path}
    accept: set[str]
    check: Check
    setup: Callable[[Env], None] = lambda env: None


# ------------------------------------------------------------------ setups --

def listener(env: Env) -> None:
    code = ("import socket,sys,time\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen()\n"
            "print(s.getsockname()[1],flush=True)\ntime.sleep(120)\n")
    proc = env.spawn([sys.executable, "-c", code])
    assert proc.stdout is not None
    env.port = int(proc.stdout.readline())


def sleeper(env: Env) -> None:
    exe = env.tmp / SLEEPER_NAME
    shutil.copy(shutil.which("sleep") or "/bin/sleep", exe)
    env.spawn([str(exe), "120"])
    _wait_exec(env.procs[-1].pid, SLEEPER_NAME)


def _wait_exec(pid: int, name: str) -> None:
    for _ in range(200):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == name:
                return
        except OSError:
            pass
        time.sleep(0.01)


def holder(env: Env) -> None:
    env.path = env.tmp / "held-open.log"
    env.path.write_text("open\n")
    code = f"import time\nf=open({str(env.path)!r})\nprint('ok',flush=True)\ntime.sleep(120)\n"
    proc = env.spawn([sys.executable, "-c", code])
    assert proc.stdout is not None
    proc.stdout.readline()


def parent_child(env: Env) -> None:
    code = ("import subprocess,sys,time\nc=subprocess.Popen(['sleep','120'])\nprint(c.pid,flush=True)\n"
            "time.sleep(120)\n")
    proc = env.spawn([sys.executable, "-c", code])
    assert proc.stdout is not None
    env.values["child_pids"] = [int(proc.stdout.readline())]


# ------------------------------------------------------------------ checks --

def _numbers(data: list[Any], keys: tuple[str, ...] = ()) -> list[tuple[str, float]]:
    return [(k, float(v)) for k, v in walk(data)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and (not keys or any(s in k for s in keys))]


def _strings(data: list[Any]) -> set[str]:
    return {str(v) for _k, v in walk(data) if isinstance(v, str)}


def _rows_with(data: list[Any], key: str) -> list[Any]:
    return [v for k, v in walk(data) if k == key]


def _meminfo(field_name: str) -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return float(line.split()[1]) * 1024
    raise KeyError(field_name)


def pid_in(which: Callable[[Env], set[int]]) -> Check:
    def check(data: list[Any], env: Env) -> tuple[bool, str]:
        want = which(env)
        got = {int(v) for v in _rows_with(data, "pid") if isinstance(v, int)}
        return want <= got, f"want pids {sorted(want)} in result, got {sorted(got)[:10]}"
    return check


def own_pid(env: Env) -> set[int]:
    return {env.procs[0].pid}


def child_pid(env: Env) -> set[int]:
    return set(env.values["child_pids"])


def close_to(source: Callable[[], float], keys: tuple[str, ...], rel: float) -> Check:
    def check(data: list[Any], env: Env) -> tuple[bool, str]:
        want = source()
        nums = _numbers(data, keys)
        ok = any(abs(v - want) <= rel * max(1.0, abs(want)) for _k, v in nums)
        return ok, f"want ≈{want:.0f} (±{rel:.0%}) under keys {keys}, got {nums[:6]}"
    return check


def equals(source: Callable[[], float], keys: tuple[str, ...]) -> Check:
    return close_to(source, keys, 0.0)


def contains_string(source: Callable[[], str]) -> Check:
    def check(data: list[Any], env: Env) -> tuple[bool, str]:
        want = source()
        return want in _strings(data), f"want {want!r} in the result"
    return check


def superset_of(source: Callable[[], set[str]], key: str) -> Check:
    def check(data: list[Any], env: Env) -> tuple[bool, str]:
        want = source()
        got = {str(v) for v in _rows_with(data, key)}
        return want <= got, f"want {key} ⊇ {sorted(want)[:8]}, missing {sorted(want - got)[:8]}"
    return check


def gone(data: list[Any], env: Env) -> tuple[bool, str]:
    proc = env.procs[0]
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        return False, f"pid {proc.pid} is still running"
    return True, ""


def stopped(data: list[Any], env: Env) -> tuple[bool, str]:
    pid = env.procs[0].pid
    for _ in range(100):
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if state in ("T", "t"):
            return True, ""
        time.sleep(0.02)
    return False, f"pid {pid} is in state {state}, not stopped"


def uptime_s() -> float:
    return float(Path("/proc/uptime").read_text().split()[0])


def block_devices() -> set[str]:
    return {p.name for p in Path("/sys/block").iterdir()}


def pci_slots() -> set[str]:
    base = Path("/sys/bus/pci/devices")
    return {p.name for p in base.iterdir()} if base.is_dir() else set()


def disk_free() -> float:
    st = os.statvfs("/")
    return float(st.f_bavail * st.f_frsize)


def disk_total() -> float:
    st = os.statvfs("/")
    return float(st.f_blocks * st.f_frsize)


def mounted_root(data: list[Any], env: Env) -> tuple[bool, str]:
    points = {str(v) for v in _rows_with(data, "mountpoint")}
    return "/" in points, f"mountpoints {sorted(points)[:6]}"


def cpu_percent(data: list[Any], env: Env) -> tuple[bool, str]:
    nums = _numbers(data, ("percent",))
    return bool(nums) and all(0 <= v <= 100 for _k, v in nums), f"percent values {nums[:4]}"


def listening_port(data: list[Any], env: Env) -> tuple[bool, str]:
    ports = {v for k, v in walk(data) if k in ("port", "local_port", "lport")}
    addrs = {str(v) for k, v in walk(data) if "addr" in k}
    ok = env.port in ports or any(a.endswith(f":{env.port}") for a in addrs)
    return ok, f"want port {env.port} among the listening sockets"


CASES: list[Case] = [
    Case("port-1", "proc", "what is listening on port {port}", {"proc.port", "sys.net"}, pid_in(own_pid), listener),
    Case("port-2", "proc", "which process uses port {port}", {"proc.port", "sys.net"}, pid_in(own_pid), listener),
    Case("port-3", "sys", "show listening ports", {"sys.net", "proc.port"}, listening_port, listener),
    Case("name-1", "proc", "show processes named {name}", {"proc.list"}, pid_in(own_pid), sleeper),
    Case("name-2", "proc", "find the pid of {name}", {"proc.list"}, pid_in(own_pid), sleeper),
    Case("kill-1", "proc", "kill the {name} process", {"proc.signal"}, gone, sleeper),
    Case("kill-2", "proc", "kill process {pid}", {"proc.signal"}, gone, sleeper),
    Case("stop-1", "proc", "pause process {pid}", {"proc.signal"}, stopped, sleeper),
    Case("info-1", "proc", "show details of process {pid}", {"proc.info", "proc.list"}, pid_in(own_pid), sleeper),
    Case("tree-1", "proc", "show the process tree of {pid}", {"proc.tree"}, pid_in(child_pid), parent_child),
    Case("open-1", "proc", "which process has {path} open", {"proc.open_file"}, pid_in(own_pid), holder),
    Case("mem-1", "sys", "how much memory is free", {"sys.memory"},
         close_to(lambda: _meminfo("MemAvailable"), ("available", "free"), 0.10)),
    Case("mem-2", "sys", "how much RAM does this machine have", {"sys.memory"},
         close_to(lambda: _meminfo("MemTotal"), ("total",), 0.01)),
    Case("cpu-1", "sys", "how many CPUs are there", {"sys.cpu", "sys.info"},
         equals(lambda: float(os.cpu_count() or 0), ("count", "cpus", "logical"))),
    Case("cpu-2", "sys", "what is the CPU usage", {"sys.cpu"}, cpu_percent),
    Case("host-1", "sys", "what is the hostname", {"sys.info"}, contains_string(socket.gethostname)),
    Case("kern-1", "sys", "which kernel version is running", {"sys.info"},
         contains_string(lambda: os.uname().release)),
    Case("up-1", "sys", "how long has the system been up", {"sys.info", "sys.load"},
         close_to(uptime_s, ("uptime",), 0.05)),
    Case("who-1", "sys", "who am I", {"sys.info", "sys.users"}, contains_string(getpass.getuser)),
    Case("disk-1", "sys", "how much disk space is free", {"sys.disks"},
         close_to(disk_free, ("free",), 0.05)),
    Case("disk-2", "sys", "how big is the disk", {"sys.disks", "dev.block"},
         close_to(disk_total, ("total", "size"), 0.05)),
    Case("blk-1", "dev", "list block devices", {"dev.block"}, superset_of(block_devices, "name")),
    Case("mnt-1", "dev", "show mounted file systems", {"dev.mounts", "sys.disks"}, mounted_root),
    Case("pci-1", "dev", "list PCI devices", {"dev.pci"}, superset_of(pci_slots, "slot")),
]


def evaluate(case: Case, planner: PlannerLike, registry: Registry, workdir: Path) -> CaseRecord:
    env = Env(tmp=Path(tempfile.mkdtemp(prefix="sys-", dir=workdir)))
    rec = CaseRecord(id=case.id, family=case.family, intent=case.intent, gold="(fixture check)")
    try:
        case.setup(env)
        pid = env.procs[0].pid if env.procs else 0
        rec.intent = case.intent.format(port=env.port, pid=pid, name=SLEEPER_NAME, path=env.path)
        plan, rec.latency_s, rec.error, kind = plan_with_timing(planner, rec.intent, env.tmp)
        if plan is None:
            rec.kind = kind
            return rec
        rec.plan = [s.to_dict() for s in plan.steps]
        disp = Dispatcher(registry, gate=SandboxGate(env.tmp, pids=env.pids))
        ex = execute(plan, disp, env.tmp)
        rec.steps_status = [r.status for r in ex.results]
        right_call = bool(case.accept & {s.call for s in plan.steps})
        all_ok = not ex.error and bool(ex.results) and all(r.ok for r in ex.results)
        ok, detail = case.check(result_data(ex.results), env) if all_ok else (False, "")
        rec.info_ok = ok
        if right_call and all_ok and ok:
            rec.verdict = "pass"
        else:
            rec.kind = failure_kind(plan, kind, case.accept, ex)
            errs = [f"{r.request.call}: {r.status} {(r.error or {}).get('message', '')}" for r in ex.results
                    if not r.ok]
            rec.detail = "; ".join(filter(None, [ex.error, *errs, detail]))
        return rec
    finally:
        env.close()
        shutil.rmtree(env.tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=None, help="bundled name (smollm2, gemma3-270m) or a .gguf path")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--planners", default="v2", help="comma-separated planners run side by side (v2, shots)")
    a = ap.parse_args(argv)

    def show(kind: str, rec: CaseRecord) -> None:
        print(f"{kind} {rec.verdict.upper():5} [{rec.family}] {rec.intent!r}\n   plan: {rec.plan or rec.error}\n"
              f"   {rec.kind} {rec.detail[:200]}", flush=True)

    cases = CASES[: a.limit]
    side_by_side([k for k in a.planners.split(",") if k], a.model, default_registry(), cases, evaluate,
                 meta={"cases": len(cases)}, json_path=a.json, show=show if a.verbose else None,
                 prefix="sys-eval-")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
