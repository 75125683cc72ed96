"""proc.* syscalls against real processes this test spawns and reaps."""

from __future__ import annotations

import getpass
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from syscalls.builtin.proc import scan
from syscalls.dispatcher import Dispatcher
from syscalls.errors import InvalidRequest
from syscalls.validate import validate
from tests.syscall_support import REG, call, ok

PY = sys.executable


def wait_until(pred: Callable[[], bool], what: str, limit_s: float = 10.0) -> None:
    """Poll a condition (a bound on waiting, not a timing assertion)."""
    deadline = time.monotonic() + limit_s
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


class Spawner:
    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[str]] = []

    def __call__(self, code: str, *, cwd: Path | None = None, ready: bool = False,
                 group: bool = False, settle: bool = True) -> subprocess.Popen[str]:
        p = subprocess.Popen([PY, "-c", code], cwd=cwd, stdout=subprocess.PIPE, text=True,
                             start_new_session=group)
        self.procs.append(p)
        if ready:
            assert p.stdout is not None
            line = p.stdout.readline()
            assert line, "child exited before it was ready"
            p.ready_line = line.strip()  # type: ignore[attr-defined]
            if settle:  # past the print, into its sleep
                wait_until(lambda: psutil.Process(p.pid).status() == psutil.STATUS_SLEEPING, "sleeping")
        return p

    def cleanup(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                try:
                    if p.pid == os.getpgid(p.pid):
                        os.killpg(p.pid, signal.SIGKILL)
                    else:
                        p.kill()
                except ProcessLookupError:
                    pass
            p.wait()
            if p.stdout:
                p.stdout.close()


@pytest.fixture
def spawn() -> Iterator[Spawner]:
    s = Spawner()
    try:
        yield s
    finally:
        s.cleanup()


def sleeper_code(marker: str, extra: str = "") -> str:
    return f"import time, sys\n{extra}\nprint('ready', flush=True)\ntime.sleep(120)  # {marker}"


def free_pid() -> int:
    pid = 2**22 - 1
    while psutil.pid_exists(pid):
        pid -= 1
    return pid


# --------------------------------------------------------------------------- proc.list

def test_list_filters_find_spawned_children(spawn: Spawner, tmp_path: Path) -> None:
    marker = f"nlsh-{uuid.uuid4().hex}"
    kids = {spawn(sleeper_code(marker), ready=True).pid for _ in range(3)}
    rows = ok("proc.list", {"cmdline": marker}, tmp_path)["processes"]
    assert {r["pid"] for r in rows} == kids
    for r in rows:
        assert r["ppid"] == os.getpid()
        assert r["user"] == getpass.getuser()
        assert marker in r["cmdline"]
        assert r["rss_bytes"] > 0
        assert r["create_time"] == pytest.approx(psutil.Process(r["pid"]).create_time())
    by_user = ok("proc.list", {"user": getpass.getuser(), "cmdline": marker.upper()}, tmp_path)
    assert {r["pid"] for r in by_user["processes"]} == kids
    nobody = ok("proc.list", {"user": "no-such-user-xyz", "cmdline": marker}, tmp_path)
    assert nobody["processes"] == []
    name = psutil.Process(next(iter(kids))).name()
    by_name = ok("proc.list", {"name": name[:4].upper()}, tmp_path)["processes"]
    assert kids <= {r["pid"] for r in by_name}
    sleeping = ok("proc.list", {"cmdline": marker, "status": "sleeping"}, tmp_path)["processes"]
    assert {r["pid"] for r in sleeping} == kids
    assert ok("proc.list", {"cmdline": marker, "status": "zombie"}, tmp_path)["processes"] == []


def test_list_matches_ps_golden(spawn: Spawner, tmp_path: Path) -> None:
    for _ in range(3):
        spawn(sleeper_code("golden"), ready=True)
    ps = subprocess.Popen(["ps", "-e", "-o", "pid=,ppid="], stdout=subprocess.PIPE, text=True)
    out, _ = ps.communicate()
    me = os.getpid()
    ps_kids = {int(pid) for pid, ppid in (line.split() for line in out.splitlines())
               if int(ppid) == me and int(pid) != ps.pid}
    assert len(ps_kids) >= 3
    listed = ok("proc.list", {}, tmp_path)["processes"]
    assert ps_kids <= {r["pid"] for r in listed}
    by_parent = ok("proc.list", {"ppid": me}, tmp_path)["processes"]
    assert {r["pid"] for r in by_parent} == ps_kids


def test_fast_proc_scan_agrees_with_psutil(spawn: Spawner, tmp_path: Path) -> None:
    if not scan._FAST_PROC:
        pytest.skip("the direct /proc reader is Linux-only")
    longname = tmp_path / "a-rather-long-program-name"
    longname.symlink_to(PY)
    p = subprocess.Popen([str(longname), "-c", sleeper_code("long")], stdout=subprocess.PIPE, text=True)
    spawn.procs.append(p)
    assert p.stdout is not None and p.stdout.readline()
    wait_until(lambda: psutil.Process(p.pid).status() == psutil.STATUS_SLEEPING, "sleeping")
    mine = {spawn(sleeper_code("scan"), ready=True).pid, p.pid}
    fast = {r["pid"]: r for r in scan.scan_processes(fast=True)}
    slow = {r["pid"]: r for r in scan.scan_processes(fast=False)}
    common = fast.keys() & slow.keys()
    assert mine <= common and len(common) >= len(slow) - 5
    for pid in common:
        if pid == 2 or slow[pid]["ppid"] == 2:
            continue  # kernel threads rename themselves as they work (kworker/1:2-events -> -mm_percpu_wq)
        for key in ("ppid", "name", "uid", "create_time", "argv"):
            assert fast[pid][key] == slow[pid][key], (pid, key)
    for pid in mine:
        assert fast[pid]["rss"] == slow[pid]["rss"] and fast[pid]["status"] == slow[pid]["status"]
    assert fast[p.pid]["name"] == "a-rather-long-program-name"


def test_list_sort_and_limit(tmp_path: Path) -> None:
    data = ok("proc.list", {"sort": "memory", "limit": 5}, tmp_path)
    rss = [r["rss_bytes"] or 0 for r in data["processes"]]
    assert len(rss) == 5 and rss == sorted(rss, reverse=True)
    assert data["matched"] > 5 and data["truncated"] is True
    pids = [r["pid"] for r in ok("proc.list", {"sort": "pid", "reverse": True}, tmp_path)["processes"]]
    assert pids == sorted(pids, reverse=True)
    names = [r["name"].lower() for r in ok("proc.list", {"sort": "name"}, tmp_path)["processes"]]
    assert names == sorted(names)
    starts = [r["create_time"] for r in ok("proc.list", {"sort": "start"}, tmp_path)["processes"]]
    assert starts == sorted(starts, reverse=True)


def test_list_cpu_sample_separates_busy_from_idle(spawn: Spawner, tmp_path: Path) -> None:
    marker = f"nlsh-{uuid.uuid4().hex}"
    busy = spawn(f"print('ready', flush=True)\nwhile True: pass  # {marker} busy", ready=True,
                 settle=False)
    idle = spawn(sleeper_code(marker), ready=True)
    data = ok("proc.list", {"cmdline": marker, "sort": "cpu", "sample_ms": 300}, tmp_path)
    assert data["cpu_window"] == "sample 300 ms"
    cpu = {r["pid"]: r["cpu_percent"] for r in data["processes"]}
    assert cpu[busy.pid] > 0.0
    assert cpu[busy.pid] > cpu[idle.pid]
    assert data["processes"][0]["pid"] == busy.pid
    lifetime = ok("proc.list", {"cmdline": marker, "sample_ms": 0}, tmp_path)
    assert lifetime["cpu_window"] == "lifetime average"


# --------------------------------------------------------------------------- proc.info / tree

def test_info_shows_cmdline_cwd_and_owner(spawn: Spawner, tmp_path: Path) -> None:
    code = sleeper_code("info")
    p = spawn(code, cwd=tmp_path, ready=True)
    info = ok("proc.info", {"pid": p.pid}, tmp_path)
    assert info["argv"] == [PY, "-c", code]
    assert info["cwd"] == os.path.realpath(tmp_path)
    assert info["exe"] == os.path.realpath(PY)
    assert info["ppid"] == os.getpid()
    assert info["user"] == getpass.getuser()
    assert info["threads"] >= 1
    assert info["rss_bytes"] > 0
    assert info["status"] == "sleeping"
    assert info["unavailable"] == []


def test_info_lists_children_open_files_and_connections(spawn: Spawner, tmp_path: Path) -> None:
    target = tmp_path / "held.txt"
    target.write_text("x")
    me = ok("proc.info", {"pid": os.getpid()}, tmp_path)
    with open(target) as fh, socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        kid = spawn(sleeper_code("child"), ready=True)
        me = ok("proc.info", {"pid": os.getpid()}, tmp_path)
        assert {"path": str(target), "fd": fh.fileno()} in me["open_files"]
        port = srv.getsockname()[1]
        assert any(c["laddr"] == f"127.0.0.1:{port}" and c["status"] == "LISTEN" for c in me["connections"])
    assert kid.pid in {c["pid"] for c in me["children"]}


def test_tree_shows_spawned_child_under_parent(spawn: Spawner, tmp_path: Path) -> None:
    code = ("import subprocess, sys, time\n"
            "c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
            "print(c.pid, flush=True)\ntime.sleep(120)")
    parent = spawn(code, ready=True, group=True)
    child_pid = int(parent.ready_line)  # type: ignore[attr-defined]
    data = ok("proc.tree", {"pid": parent.pid}, tmp_path)
    (root,) = data["processes"]
    assert root["pid"] == parent.pid
    assert [c["pid"] for c in root["children"]] == [child_pid]
    assert root["children"][0]["children"] == []

    def find(nodes: list[dict[str, Any]], pid: int) -> dict[str, Any] | None:
        for n in nodes:
            if n["pid"] == pid:
                return n
            hit = find(n["children"], pid)
            if hit:
                return hit
        return None

    forest = ok("proc.tree", {}, tmp_path)
    me = find(forest["processes"], os.getpid())
    assert me is not None
    node = find(me["children"], parent.pid)
    assert node is not None and child_pid in [c["pid"] for c in node["children"]]
    shallow = ok("proc.tree", {"pid": os.getpid(), "depth": 1}, tmp_path)
    assert shallow["truncated"] is True
    assert all(c["children"] == [] for c in shallow["processes"][0]["children"])


# --------------------------------------------------------------------------- proc.port / open_file

def test_port_finds_listener_and_connection(spawn: Spawner, tmp_path: Path) -> None:
    code = ("import socket, time\ns = socket.socket()\ns.bind(('127.0.0.1', 0))\ns.listen()\n"
            "print(s.getsockname()[1], flush=True)\nc, _ = s.accept()\ntime.sleep(120)")
    srv = spawn(code, ready=True)
    port = int(srv.ready_line)  # type: ignore[attr-defined]
    data = ok("proc.port", {"port": port, "state": "listening"}, tmp_path)
    assert [(r["pid"], r["proto"], r["laddr"], r["status"]) for r in data["connections"]] == [
        (srv.pid, "tcp", f"127.0.0.1:{port}", "LISTEN")]
    assert data["connections"][0]["name"] == psutil.Process(srv.pid).name()
    with socket.create_connection(("127.0.0.1", port)) as cli:
        mine = f"127.0.0.1:{cli.getsockname()[1]}"
        wait_until(lambda: len(ok("proc.port", {"port": port, "state": "connected"}, tmp_path)
                               ["connections"]) == 2, "both ends of the connection")
        rows = ok("proc.port", {"port": port, "state": "connected", "proto": "tcp"}, tmp_path)["connections"]
        ends = {(r["pid"], r["laddr"], r["raddr"]) for r in rows}
        assert ends == {(os.getpid(), mine, f"127.0.0.1:{port}"), (srv.pid, f"127.0.0.1:{port}", mine)}
        assert len(ok("proc.port", {"port": port}, tmp_path)["connections"]) == 3
    assert ok("proc.port", {"port": port, "proto": "udp"}, tmp_path)["connections"] == []


def test_port_finds_udp_socket(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        rows = ok("proc.port", {"port": port, "proto": "udp", "state": "listening"}, tmp_path)["connections"]
        got = [(r["pid"], r["proto"], r["laddr"]) for r in rows]
        assert got == [(os.getpid(), "udp", f"127.0.0.1:{port}")]


def test_open_file_finds_holder(spawn: Spawner, tmp_path: Path) -> None:
    held = tmp_path / "held.log"
    held.write_text("data")
    holder = spawn(sleeper_code("holder", f"f = open({str(held)!r})"), ready=True)
    other = spawn(sleeper_code("other"), ready=True)
    rows = ok("proc.open_file", {"path": "held.log"}, tmp_path)["processes"]
    pids = {r["pid"] for r in rows}
    assert holder.pid in pids and other.pid not in pids
    row = next(r for r in rows if r["pid"] == holder.pid)
    assert row["use"] == "open" and row["path"] == str(held) and isinstance(row["fd"], int)


def test_open_file_directory_cwd_and_under(spawn: Spawner, tmp_path: Path) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "inner.txt").write_text("x")
    in_dir = spawn(sleeper_code("cwd"), cwd=sub, ready=True)
    inner = spawn(sleeper_code("inner", f"f = open({str(sub / 'inner.txt')!r})"), ready=True)
    flat = ok("proc.open_file", {"path": str(sub)}, tmp_path)["processes"]
    assert (in_dir.pid, "cwd") in {(r["pid"], r["use"]) for r in flat}
    assert inner.pid not in {r["pid"] for r in flat}
    deep = ok("proc.open_file", {"path": str(sub), "under": True}, tmp_path)["processes"]
    assert inner.pid in {r["pid"] for r in deep}


def test_open_file_missing_path_is_not_found(tmp_path: Path) -> None:
    r = call("proc.open_file", {"path": "nope.txt"}, tmp_path)
    assert r.status == "failed" and r.error is not None
    assert r.error["type"] == "NotFound" and r.error["target"] == str(tmp_path / "nope.txt")


# --------------------------------------------------------------------------- proc.signal

def test_signal_term_ends_sleeper(spawn: Spawner, tmp_path: Path) -> None:
    marker = f"nlsh-{uuid.uuid4().hex}"
    p = spawn(sleeper_code(marker), ready=True)
    (row,) = ok("proc.list", {"cmdline": marker}, tmp_path)["processes"]
    data = ok("proc.signal", {"pid": p.pid, "signal": "TERM", "create_time": row["create_time"],
                              "wait_s": 10}, tmp_path)
    assert data["sent"] is True and data["alive"] is False and data["signal"] == "TERM"
    assert p.wait(timeout=10) == -signal.SIGTERM


def test_signal_alias_kill(spawn: Spawner, tmp_path: Path) -> None:
    p = spawn(sleeper_code("alias"), ready=True)
    data = ok("proc.signal", {"pid": p.pid, "signal": "kill", "wait_s": 10}, tmp_path)
    assert data["signal"] == "KILL"
    assert p.wait(timeout=10) == -signal.SIGKILL


def test_signal_stop_and_cont(spawn: Spawner, tmp_path: Path) -> None:
    p = spawn(sleeper_code("stopcont"), ready=True)
    ok("proc.signal", {"pid": p.pid, "signal": "STOP"}, tmp_path)
    wait_until(lambda: psutil.Process(p.pid).status() == psutil.STATUS_STOPPED, "stopped")
    ok("proc.signal", {"pid": p.pid, "signal": "CONT"}, tmp_path)
    wait_until(lambda: psutil.Process(p.pid).status() != psutil.STATUS_STOPPED, "resumed")
    assert p.poll() is None


def test_signal_wrong_create_time_is_process_gone_and_spares_it(spawn: Spawner, tmp_path: Path) -> None:
    p = spawn(sleeper_code("reuse"), ready=True)
    real = psutil.Process(p.pid).create_time()
    r = call("proc.signal", {"pid": p.pid, "signal": "KILL", "create_time": real - 100}, tmp_path)
    assert r.status == "failed" and r.error is not None
    assert r.error["type"] == "ProcessGone"
    assert str(p.pid) in r.error["target"] and "reused" in r.error["message"]
    assert p.poll() is None and psutil.Process(p.pid).status() != psutil.STATUS_ZOMBIE
    preview = call("proc.signal", {"pid": p.pid, "create_time": real - 100}, tmp_path, dry_run=True)
    assert preview.status == "failed" and preview.error is not None
    assert preview.error["type"] == "ProcessGone"


def test_signal_preview_describes_without_signalling(spawn: Spawner, tmp_path: Path) -> None:
    code = sleeper_code("preview")
    p = spawn(code, ready=True)
    r = call("proc.signal", {"pid": p.pid, "signal": "KILL"}, tmp_path, dry_run=True)
    assert r.status == "dry-run" and r.data is not None
    (t,) = r.data["targets"]
    assert t["pid"] == p.pid and t["user"] == getpass.getuser()
    assert t["cmdline"] == " ".join([PY, "-c", code])
    assert t["create_time"] == pytest.approx(psutil.Process(p.pid).create_time())
    assert r.data["signal"] == "KILL"
    assert p.poll() is None


def test_signal_zombie_is_reported(tmp_path: Path) -> None:
    p = subprocess.Popen([PY, "-c", "pass"])
    try:
        wait_until(lambda: psutil.Process(p.pid).status() == psutil.STATUS_ZOMBIE, "zombie")
        info = ok("proc.info", {"pid": p.pid}, tmp_path)
        assert info["status"] == "zombie"
        data = ok("proc.signal", {"pid": p.pid}, tmp_path)
        assert data["zombie"] is True and data["sent"] is False and data["alive"] is False
    finally:
        p.wait()


def test_signal_refuses_own_process(tmp_path: Path) -> None:
    r = call("proc.signal", {"pid": os.getpid(), "signal": "TERM"}, tmp_path)
    assert r.status == "denied" and r.error is not None and str(os.getpid()) in r.error["target"]


def test_missing_pid_errors_are_typed_and_name_the_pid(tmp_path: Path) -> None:
    pid = free_pid()
    for name, args in [("proc.info", {"pid": pid}), ("proc.signal", {"pid": pid}),
                       ("proc.tree", {"pid": pid})]:
        r = call(name, args, tmp_path)
        assert r.status == "failed" and r.error is not None, name
        assert r.error["type"] == "ProcessGone", name
        assert r.error["target"] == f"pid {pid}" and str(pid) in r.error["message"], name


def test_bad_signal_name_is_invalid() -> None:
    with pytest.raises(InvalidRequest):
        validate({"call": "proc.signal", "args": {"pid": 5, "signal": "BOGUS"}}, REG)
    with pytest.raises(InvalidRequest):
        validate({"call": "proc.signal", "args": {"name": "firefox"}}, REG)


# --------------------------------------------------------------------------- proc.run

def test_run_captures_output_and_exit_code(tmp_path: Path) -> None:
    code = "import sys, os; print('out', os.getcwd()); print('err', file=sys.stderr); sys.exit(3)"
    data = ok("proc.run", {"argv": [PY, "-c", code]}, tmp_path)
    assert data["exit_code"] == 3 and data["killed_by"] is None
    assert data["stdout"] == f"out {os.path.realpath(tmp_path)}\n"
    assert data["stderr"] == "err\n"
    assert data["stdout_truncated"] is False and data["truncated"] is False


def test_run_finds_program_on_path_and_uses_cwd_input_env(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    data = ok("proc.run", {"argv": ["pwd"], "cwd": "d"}, tmp_path)
    assert data["stdout"].strip() == str(tmp_path / "d") and data["executable"].endswith("/pwd")
    code = "import os, sys; print(os.environ['NLSH_T'], sys.stdin.read().upper())"
    data = ok("proc.run", {"argv": [PY, "-c", code], "env": {"NLSH_T": "42"}, "input": "hello"}, tmp_path)
    assert data["stdout"] == "42 HELLO\n"


def test_run_timeout_kills_child_and_group(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    code = ("import os, subprocess, sys, time\n"
            "g = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
            f"open({str(pids)!r}, 'w').write(f'{{os.getpid()}} {{g.pid}}')\n"
            "time.sleep(120)")
    r = call("proc.run", {"argv": [PY, "-c", code], "timeout_s": 1.5}, tmp_path)
    assert r.status == "failed" and r.error is not None
    assert r.error["type"] == "TimedOut" and "killed" in r.error["message"]
    child, grandchild = (int(x) for x in pids.read_text().split())

    def gone(pid: int) -> bool:
        try:
            return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    assert not psutil.pid_exists(child) or gone(child)
    wait_until(lambda: gone(grandchild), "grandchild killed with the group")


def test_run_caps_output(tmp_path: Path) -> None:
    d = Dispatcher(REG, max_bytes=1000)
    code = "import sys; sys.stdout.write('x' * 100000); sys.stderr.write('e' * 10)"
    data = ok("proc.run", {"argv": [PY, "-c", code]}, tmp_path, dispatcher=d)
    assert data["stdout"] == "x" * 1000 and data["stdout_bytes"] == 100000
    assert data["stdout_truncated"] is True and data["truncated"] is True
    assert data["stderr"] == "e" * 10 and data["stderr_truncated"] is False


def test_run_refuses_loader_variables_and_strips_inherited(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "ran"
    code = f"open({str(marker)!r}, 'w')"
    r = call("proc.run", {"argv": [PY, "-c", code], "env": {"LD_PRELOAD": "/tmp/evil.so"}}, tmp_path)
    assert r.status == "denied" and r.error is not None
    assert r.error["type"] == "FloorViolation" and "LD_PRELOAD" in r.error["target"]
    assert not marker.exists()
    r = call("proc.run", {"argv": [PY, "-c", code], "env": {"DYLD_INSERT_LIBRARIES": "x"}}, tmp_path,
             dry_run=True)
    assert r.status == "denied"
    monkeypatch.setenv("LD_NLSH_TEST", "1")
    code = "import os; print(sorted(k for k in os.environ if k.startswith('LD_')))"
    assert ok("proc.run", {"argv": [PY, "-c", code]}, tmp_path)["stdout"] == "[]\n"


def test_run_missing_program_and_shell_string(tmp_path: Path) -> None:
    r = call("proc.run", {"argv": ["no-such-program-xyz"]}, tmp_path)
    assert r.status == "failed" and r.error is not None
    assert r.error["type"] == "NotFound" and r.error["target"] == "no-such-program-xyz"
    r = call("proc.run", {"argv": ["ls -la /tmp"]}, tmp_path)
    assert r.error is not None and "argv" in r.error["hint"]
    r = call("proc.run", {"argv": ["ls"], "cwd": "missing-dir"}, tmp_path)
    assert r.error is not None and r.error["type"] == "NotFound"
    with pytest.raises(InvalidRequest):
        validate({"call": "proc.run", "args": {"argv": []}}, REG)
    with pytest.raises(InvalidRequest):
        validate({"call": "proc.run", "args": {"argv": "ls -la"}}, REG)


def test_run_preview_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    r = call("proc.run", {"argv": [PY, "-c", f"open({str(marker)!r}, 'w')"], "timeout_s": 5}, tmp_path,
             dry_run=True)
    assert r.status == "dry-run" and r.data is not None
    assert r.data["executable"] == PY and r.data["timeout_s"] == 5 and r.data["cwd"] == str(tmp_path)
    assert not marker.exists()


def test_run_cancel_kills_child(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    code = f"import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(120)"
    cancel = threading.Event()

    def trip() -> None:
        wait_until(lambda: pidfile.exists() and pidfile.read_text() != "", "child started")
        cancel.set()

    t = threading.Thread(target=trip)
    t.start()
    r = call("proc.run", {"argv": [PY, "-c", code]}, tmp_path, cancel=cancel)
    t.join()
    assert r.status == "cancelled"
    assert not psutil.pid_exists(int(pidfile.read_text()))


def test_specs_have_examples_and_risks() -> None:
    expected = {"proc.list": "read", "proc.info": "read", "proc.tree": "read", "proc.port": "read",
                "proc.open_file": "read", "proc.signal": "destructive", "proc.run": "exec"}
    for name, risk in expected.items():
        spec = REG.get(name)
        assert spec.risk.value == risk
        assert 3 <= len(spec.examples) <= 6
        for ex in spec.examples:
            validate({"call": name, "args": ex.args}, REG)
    assert REG.get("proc.signal").preview is not None and REG.get("proc.run").preview is not None
    assert REG.get("proc.signal").pid_args == ("pid",)
