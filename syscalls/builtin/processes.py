"""Process syscalls: list, inspect, tree, ports, open files, signal and run.

Everything goes through psutil; its errors are translated here, at the
boundary: ``NoSuchProcess`` → ``ProcessGone``, ``AccessDenied`` →
``AccessDenied``.  A zombie is a process that has exited but not been reaped;
fields it can no longer report are ``null`` (and named in ``unavailable``),
and signalling one is reported as such rather than failing.

CPU figures: psutil's ``cpu_percent()`` without an interval returns 0.0 on
its first call for a process, so ``proc.list`` never uses it.  It reports
either the lifetime average (CPU seconds / seconds since start, no waiting) or,
when ``sample_ms`` is given (the default when sorting by CPU), the usage over
one short window shared by all processes: one pass before, one sleep, one
pass after.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal as _signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import psutil

from syscalls import confine
from syscalls import schema as S
from syscalls.errors import (
    AccessDenied,
    Denied,
    FloorViolation,
    InvalidRequest,
    NotFound,
    OSFailure,
    ProcessGone,
    TimedOut,
    WrongType,
    from_oserror,
)
from syscalls.types import CallContext, JSONDict, Risk, View

if TYPE_CHECKING:
    from syscalls.registry import Registry

# --------------------------------------------------------------------------- helpers

STATUSES = [
    "running", "sleeping", "disk-sleep", "stopped", "tracing-stop", "zombie", "dead",
    "wake-kill", "waking", "idle", "locked", "waiting", "parked",
]
SIGNALS: dict[str, int] = {
    "TERM": _signal.SIGTERM,
    "KILL": _signal.SIGKILL,
    "INT": _signal.SIGINT,
    "HUP": _signal.SIGHUP,
    "STOP": _signal.SIGSTOP,
    "CONT": _signal.SIGCONT,
    "USR1": _signal.SIGUSR1,
    "USR2": _signal.SIGUSR2,
}
# Convenience spellings: "terminate" asks politely (TERM), "kill" does not (KILL).
SIGNAL_ALIASES = {"terminate": "TERM", "kill": "KILL"}
# The words of a request that ask for a signal other than TERM (the default, which needs none).  "stop" and a
# bare "kill" are not among them: "stop process 42" and "kill process 42" mean TERM (as the examples and the
# planner's corpus have it); pausing is "pause", "suspend" or "freeze", forcing is "force" or "-9".
_KILL_WORDS = ["force", "forced", "forcing", "forcefully", "forcibly", "-9", "sigkill", "-kill"]
SIGNAL_WORDS: dict[str, list[str]] = {
    "KILL": _KILL_WORDS, "kill": _KILL_WORDS,
    "INT": ["interrupt", "interrupts", "interrupting", "int", "sigint", "-2", "ctrl-c", "ctrl+c", "control-c",
            "^c"],
    "HUP": ["hup", "sighup", "hang up", "hangs up", "hung up", "hangup", "reload", "reloads", "reloading",
            "re-read", "reread", "-1"],
    "STOP": ["pause", "pauses", "paused", "pausing", "suspend", "suspends", "suspending", "freeze", "freezes",
             "freezing", "sigstop", "-stop", "-19"],
    "CONT": ["continue", "continues", "continuing", "resume", "resumes", "resuming", "unpause", "unfreeze",
             "thaw", "wake", "cont", "sigcont", "-18"],
    "USR1": ["usr1", "sigusr1", "user signal 1", "user-defined signal 1"],
    "USR2": ["usr2", "sigusr2", "user signal 2", "user-defined signal 2"],
}
CREATE_TIME_TOLERANCE_S = 0.01
_ENV_FORBIDDEN = ("LD_", "DYLD_")
_STDERR_TAIL = 2000  # characters of a run's stderr kept in the audit log

_users: dict[int, str] = {}


def _user_of(uid: int | None) -> str | None:
    """User name of ``uid`` (cached: a pwd lookup per process is the slow part of a listing)."""
    if uid is None:
        return None
    name = _users.get(uid)
    if name is None:
        try:
            import pwd

            name = pwd.getpwuid(uid).pw_name
        except (KeyError, ImportError):
            name = str(uid)
        _users[uid] = name
    return name


def _uid(uids: Any) -> int | None:
    return int(uids.real) if uids is not None else None


@contextmanager
def _boundary(call: str, pid: int) -> Iterator[None]:
    """Translate psutil's errors for ``pid`` into ours."""
    try:
        yield
    except psutil.ZombieProcess as exc:
        raise ProcessGone(f"pid {pid} is a zombie (exited, not yet reaped by its parent)",
                          call=call, target=f"pid {pid}",
                          hint="its parent must reap it; signal or restart the parent") from exc
    except psutil.NoSuchProcess as exc:
        raise ProcessGone(f"no process with pid {pid}", call=call, target=f"pid {pid}") from exc
    except psutil.AccessDenied as exc:
        raise AccessDenied(f"access to pid {pid} denied", call=call, target=f"pid {pid}",
                           hint="the process belongs to another user; run nlshell as that user") from exc


def _process(call: str, pid: int) -> psutil.Process:
    with _boundary(call, pid):
        return psutil.Process(pid)


def _check_create_time(call: str, proc: psutil.Process, expected: float | None) -> float:
    """The process's start time; ``ProcessGone`` if it differs from ``expected`` (pid reused)."""
    with _boundary(call, proc.pid):
        actual = proc.create_time()
    if expected is not None and abs(actual - expected) > CREATE_TIME_TOLERANCE_S:
        raise ProcessGone(
            f"pid {proc.pid} now names a different process (started at {actual:.2f}, "
            f"expected {expected:.2f}); the original has exited and its pid was reused",
            call=call, target=f"pid {proc.pid}",
            hint="nothing was signalled; list processes again and pick the new pid")
    return actual


def _addr(a: Any) -> str | None:
    if not a:
        return None
    if isinstance(a, str):
        return a
    host, port = a[0], a[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _proto(conn: Any) -> str:
    return "tcp" if conn.type == socket.SOCK_STREAM else "udp" if conn.type == socket.SOCK_DGRAM else "other"


def _family(conn: Any) -> str:
    return {socket.AF_INET: "ipv4", socket.AF_INET6: "ipv6"}.get(conn.family, "unix")


# --------------------------------------------------------------------------- schemas

_PROC_ROW = S.obj(
    {
        "pid": S.integer(minimum=0),
        "ppid": S.nullable("integer"),
        "name": S.nullable("string"),
        "user": S.nullable("string"),
        "status": S.nullable("string"),
        "cpu_percent": S.number("percent of one CPU (can exceed 100 for multi-threaded work)", minimum=0),
        "rss_bytes": S.nullable("integer"),
        "memory_percent": S.nullable("number"),
        "create_time": S.nullable("number"),
        "cmdline": S.string("the command line, arguments joined by spaces", max_length=10**6),
    },
    required=["pid", "name", "cmdline"],
)

_CONN_ROW = S.obj(
    {
        "pid": S.nullable("integer"),
        "name": S.nullable("string"),
        "proto": S.enum(["tcp", "udp", "other"]),
        "family": S.enum(["ipv4", "ipv6", "unix"]),
        "laddr": S.nullable("string"),
        "raddr": S.nullable("string"),
        "status": S.string(),
    },
    required=["pid", "proto", "laddr", "status"],
)

_TREE_NODE: JSONDict = {
    "type": "object",
    "properties": {
        "pid": S.integer(minimum=0),
        "name": S.nullable("string"),
        "user": S.nullable("string"),
        "status": S.nullable("string"),
        "cmdline": S.string(max_length=10**6),
        "children": {"type": "array", "items": {"$ref": "#/$defs/node"}},
    },
    "required": ["pid", "children"],
}

_TARGET = S.obj(
    {
        "pid": S.integer(minimum=1),
        "name": S.nullable("string"),
        "user": S.nullable("string"),
        "create_time": S.number(),
        "cmdline": S.string(max_length=10**6),
    },
    required=["pid", "create_time"],
)

# --------------------------------------------------------------------------- proc.list

_LIST_ATTRS = ["pid", "ppid", "name", "uids", "status", "create_time", "cpu_times", "memory_info", "cmdline"]


def _cpu_seconds(ct: Any) -> float:
    return float(ct.user + ct.system) if ct is not None else 0.0


def _snapshot_cpu(ctx: CallContext) -> dict[int, tuple[float, float]]:
    """pid → (create_time, cpu seconds) for every visible process."""
    return {i["pid"]: (i["create_time"], i["cpu_s"]) for i in scan_processes()
            if i["create_time"] is not None}


_LINUX_STATUS = {
    "R": "running", "S": "sleeping", "D": "disk-sleep", "T": "stopped", "t": "tracing-stop",
    "Z": "zombie", "X": "dead", "x": "dead", "K": "wake-kill", "W": "waking", "I": "idle", "P": "parked",
}
_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_FAST_PROC = sys.platform.startswith("linux") and os.path.exists("/proc/self/stat")


def _read_small(path: str, limit: int = 1 << 17) -> bytes:
    fd = os.open(path, os.O_RDONLY)
    try:
        chunks = []
        size = 0
        while size < limit:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _split_cmdline(raw: bytes) -> list[str]:
    """Arguments from /proc/<pid>/cmdline, split the way psutil does (NUL or, if rewritten, spaces)."""
    if not raw:
        return []
    data = raw.decode("utf-8", errors="replace")
    sep = "\x00" if data.endswith("\x00") else " "
    if data.endswith(sep):
        data = data[:-1]
    argv = data.split(sep)
    if sep == "\x00" and len(argv) == 1 and " " in data:
        argv = data.split(" ")
    return argv


def _scan_linux() -> Iterator[JSONDict]:
    """Every process's listing fields straight from /proc: two reads and one stat per process.

    The same values psutil computes (create_time = starttime ticks / CLK_TCK + boot
    time, rss = VmRSS, user = the real uid), without its
    per-attribute file reads; ``proc.info`` and the tests cross-check it against psutil.
    """
    boot = psutil.boot_time()
    for entry in os.scandir("/proc"):
        name = entry.name
        if not name.isdigit():
            continue
        base = "/proc/" + name
        try:
            stat = _read_small(base + "/stat", 4096)
        except OSError:  # exited meanwhile, or hidden from us (hidepid)
            continue
        rpar = stat.rfind(b")")
        comm = stat[stat.find(b"(") + 1:rpar].decode("utf-8", errors="replace")
        f = stat[rpar + 2:].split()
        try:
            argv = _split_cmdline(_read_small(base + "/cmdline"))
        except OSError:
            argv = []
        uid: int | None = None
        rss: int | None = None
        try:
            status = _read_small(base + "/status", 8192)
            i = status.find(b"\nUid:")
            uid = int(status[i + 5:status.find(b"\n", i + 5)].split()[0]) if i >= 0 else None
            # VmRSS is what statm (and so psutil) reports; stat's rss field is a cheaper estimate.
            i = status.find(b"\nVmRSS:")
            rss = int(status[i + 7:status.find(b"\n", i + 7)].split()[0]) * 1024 if i >= 0 else 0
        except (OSError, ValueError, IndexError):
            pass
        if len(comm) >= 15 and argv:
            exe = os.path.basename(argv[0])
            if exe.startswith(comm):
                comm = exe
        yield {
            "pid": int(name),
            "ppid": int(f[1]),
            "name": comm,
            "uid": uid,
            "status": _LINUX_STATUS.get(f[0].decode(), f[0].decode()),
            "create_time": int(f[19]) / _CLK_TCK + boot,
            "cpu_s": (int(f[11]) + int(f[12])) / _CLK_TCK,
            "rss": rss,
            "argv": argv,
        }


def _scan_psutil() -> Iterator[JSONDict]:
    for p in psutil.process_iter(_LIST_ATTRS, ad_value=None):
        i = p.info
        mem = i["memory_info"]
        yield {
            "pid": p.pid,
            "ppid": i["ppid"],
            "name": i["name"] or "",
            "uid": _uid(i["uids"]),
            "status": i["status"],
            "create_time": i["create_time"],
            "cpu_s": _cpu_seconds(i["cpu_times"]),
            "rss": int(mem.rss) if mem is not None else None,
            "argv": i["cmdline"] or [],
        }


def scan_processes(fast: bool = _FAST_PROC) -> Iterator[JSONDict]:
    """pid, ppid, name, uid, status, create_time, cpu_s, rss, argv for every visible process."""
    return _scan_linux() if fast else _scan_psutil()


def proc_list(ctx: CallContext, args: JSONDict) -> JSONDict:
    name = (args.get("name") or "").lower()
    user = args.get("user")
    cmd = (args.get("cmdline") or "").lower()
    status = args.get("status")
    ppid_filter = args.get("ppid")
    sort = args.get("sort", "pid")
    limit = args.get("limit")
    sample_ms = args.get("sample_ms")
    if sample_ms is None:
        sample_ms = 200 if sort == "cpu" else 0

    before: dict[int, tuple[float, float]] = {}
    t0 = 0.0
    if sample_ms > 0:
        before = _snapshot_cpu(ctx)
        t0 = time.monotonic()
        if ctx.cancel.wait(sample_ms / 1000):
            ctx.check_cancel()
    window = time.monotonic() - t0
    now = time.time()
    total_mem = psutil.virtual_memory().total or 1

    rows: list[JSONDict] = []
    for info in scan_processes():
        pid = info["pid"]
        pname: str = info["name"]
        if name and name not in pname.lower():
            continue
        cmdline = " ".join(info["argv"])
        if cmd and cmd not in cmdline.lower():
            continue
        if status and info["status"] != status:
            continue
        if ppid_filter is not None and info["ppid"] != ppid_filter:
            continue
        uname = _user_of(info["uid"])
        if user and uname != user:
            continue
        created = info["create_time"]
        cpu_s = info["cpu_s"]
        if sample_ms > 0:
            prev = before.get(pid)
            if prev is not None and created is not None and prev[0] == created and window > 0:
                cpu = (cpu_s - prev[1]) / window * 100
            else:  # started during the window: its whole usage fell inside it
                cpu = cpu_s / window * 100 if window > 0 else 0.0
        else:
            age = now - created if created else 0.0
            cpu = cpu_s / age * 100 if age > 0 else 0.0
        rss = info["rss"]
        rows.append({
            "pid": pid,
            "ppid": info["ppid"],
            "name": pname,
            "user": uname,
            "status": info["status"],
            "cpu_percent": round(max(cpu, 0.0), 1),
            "rss_bytes": rss,
            "memory_percent": round(rss / total_mem * 100, 2) if rss is not None else None,
            "create_time": created,
            "cmdline": cmdline,
        })
        if len(rows) % 256 == 0:
            ctx.check_cancel()

    reverse = bool(args.get("reverse", False))
    if sort == "cpu":
        rows.sort(key=lambda r: (r["cpu_percent"], r["rss_bytes"] or 0), reverse=not reverse)
    elif sort == "memory":
        rows.sort(key=lambda r: r["rss_bytes"] or 0, reverse=not reverse)
    elif sort == "start":
        rows.sort(key=lambda r: r["create_time"] or 0.0, reverse=not reverse)
    elif sort == "name":
        rows.sort(key=lambda r: (r["name"].lower(), r["pid"]), reverse=reverse)
    else:
        rows.sort(key=lambda r: r["pid"], reverse=reverse)
    matched = len(rows)
    truncated = False
    if limit is not None and matched > limit:
        rows = rows[:limit]
        truncated = True
    return {
        "processes": rows,
        "matched": matched,
        "truncated": truncated,
        "cpu_window": f"sample {sample_ms} ms" if sample_ms > 0 else "lifetime average",
    }


# --------------------------------------------------------------------------- proc.info

def proc_info(ctx: CallContext, args: JSONDict) -> JSONDict:
    call, pid = ctx.call, int(args["pid"])
    p = _process(call, pid)
    unavailable: list[str] = []
    out: JSONDict = {"pid": pid}

    def field(key: str, fn: Any) -> Any:
        try:
            return fn()
        except (psutil.AccessDenied, psutil.ZombieProcess):
            unavailable.append(key)
            return None

    with _boundary(call, pid), p.oneshot():
        out["name"] = p.name()
        out["ppid"] = p.ppid()
        out["status"] = p.status()
        out["create_time"] = p.create_time()
        argv = field("cmdline", p.cmdline)
        out["cmdline"] = " ".join(argv) if argv else ""
        out["argv"] = list(argv or [])
        out["exe"] = field("exe", p.exe) or None
        out["cwd"] = field("cwd", p.cwd)
        uids = field("user", p.uids)
        out["user"] = _user_of(_uid(uids))
        out["threads"] = field("threads", p.num_threads)
        mem = field("memory", p.memory_info)
        out["rss_bytes"] = int(mem.rss) if mem is not None else None
        out["vms_bytes"] = int(mem.vms) if mem is not None else None
        out["memory_percent"] = round(p.memory_percent(), 2) if mem is not None else None
        ct = field("cpu", p.cpu_times)
        age = time.time() - out["create_time"]
        out["cpu_user_s"] = float(ct.user) if ct is not None else None
        out["cpu_system_s"] = float(ct.system) if ct is not None else None
        out["cpu_percent"] = round(_cpu_seconds(ct) / age * 100, 1) if ct is not None and age > 0 else None
        out["nice"] = field("nice", p.nice)
        out["terminal"] = field("terminal", p.terminal) if hasattr(p, "terminal") else None
    files = field("open_files", p.open_files) if out["status"] != "zombie" else None
    out["open_files"] = [{"path": f.path, "fd": f.fd} for f in files or []][: ctx.max_rows]
    conns = field("connections", lambda: p.net_connections("inet"))
    out["connections"] = [
        {"proto": _proto(c), "family": _family(c), "laddr": _addr(c.laddr), "raddr": _addr(c.raddr),
         "status": c.status}
        for c in conns or []
    ][: ctx.max_rows]
    kids: list[JSONDict] = []
    with _boundary(call, pid):
        for child in p.children():
            try:
                kids.append({"pid": child.pid, "name": child.name()})
            except psutil.Error:
                kids.append({"pid": child.pid, "name": None})
    out["children"] = kids
    out["unavailable"] = unavailable
    return out


# --------------------------------------------------------------------------- proc.tree

def proc_tree(ctx: CallContext, args: JSONDict) -> JSONDict:
    root_pid = args.get("pid")
    depth_cap = int(args.get("depth", 32))
    info: dict[int, JSONDict] = {}
    kids: dict[int, list[int]] = {}
    for i in scan_processes():
        pid = i["pid"]
        info[pid] = {
            "pid": pid,
            "name": i["name"],
            "user": _user_of(i["uid"]),
            "status": i["status"],
            "cmdline": " ".join(i["argv"]),
        }
        ppid = i["ppid"]
        if ppid is not None and ppid != pid:
            kids.setdefault(ppid, []).append(pid)
    if root_pid is not None:
        if root_pid not in info:
            _process(ctx.call, root_pid)  # raises ProcessGone / AccessDenied naming the pid
            raise ProcessGone(f"no process with pid {root_pid}", call=ctx.call, target=f"pid {root_pid}")
        roots = [root_pid]
    else:
        parent_of = {c: pp for pp, cs in kids.items() for c in cs}
        roots = sorted(pid for pid in info if parent_of.get(pid) not in info)

    seen: set[int] = set()
    count = 0
    truncated = False

    def build(pid: int, depth: int) -> JSONDict:
        nonlocal count, truncated
        seen.add(pid)
        count += 1
        node = dict(info[pid])
        children: list[JSONDict] = []
        for c in sorted(kids.get(pid, [])):
            if c in seen or c not in info:
                continue
            if depth >= depth_cap:
                truncated = True
                continue
            children.append(build(c, depth + 1))
        node["children"] = children
        return node

    tree = [build(r, 0) for r in roots if r not in seen]
    return {"processes": tree, "count": count, "truncated": truncated}


# --------------------------------------------------------------------------- proc.port

@dataclass(frozen=True)
class _Conn:
    family: int
    type: int
    laddr: Any
    raddr: Any
    status: str
    pid: int | None


def _connections(kind: str) -> list[Any]:
    """All sockets of ``kind``; falls back to per-process listing where the global one is refused."""
    try:
        return list(psutil.net_connections(kind))
    except psutil.AccessDenied:  # macOS without root: ask process by process
        out: list[Any] = []
        for p in psutil.process_iter():
            try:
                for c in p.net_connections(kind):
                    out.append(_Conn(c.family, c.type, c.laddr, c.raddr, c.status, p.pid))
            except psutil.Error:
                continue
        return out


def proc_port(ctx: CallContext, args: JSONDict) -> JSONDict:
    port = int(args["port"])
    proto = args.get("proto", "any")
    state = args.get("state", "any")
    kind = {"tcp": "tcp", "udp": "udp"}.get(proto, "inet")
    names: dict[int, str | None] = {}
    rows: list[JSONDict] = []
    for c in _connections(kind):
        lport = c.laddr[1] if c.laddr else None
        rport = c.raddr[1] if c.raddr else None
        listening = c.status == psutil.CONN_LISTEN or (c.type == socket.SOCK_DGRAM and not c.raddr)
        if state == "listening":
            if not (listening and lport == port):
                continue
        elif state == "connected":
            if listening or port not in (lport, rport):
                continue
        elif port not in (lport, rport):
            continue
        pid = c.pid
        if pid is not None and pid not in names:
            try:
                names[pid] = psutil.Process(pid).name()
            except psutil.Error:
                names[pid] = None
        rows.append({
            "pid": pid,
            "name": names.get(pid) if pid is not None else None,
            "proto": _proto(c),
            "family": _family(c),
            "laddr": _addr(c.laddr),
            "raddr": _addr(c.raddr),
            "status": "LISTEN" if listening and c.status == psutil.CONN_NONE else c.status,
        })
    rows.sort(key=lambda r: (r["status"] != "LISTEN", r["pid"] or 0, r["laddr"] or ""))
    hidden = sum(1 for r in rows if r["pid"] is None)
    return {"connections": rows, "port": port, "pids_hidden": hidden, "truncated": False}


# --------------------------------------------------------------------------- proc.open_file

def proc_open_file(ctx: CallContext, args: JSONDict) -> JSONDict:
    lexical = ctx.resolve(args["path"])
    if not os.path.lexists(lexical):
        raise NotFound("no such file or directory", call=ctx.call, target=str(lexical))
    target = os.path.realpath(lexical)
    is_dir = os.path.isdir(target)
    under = bool(args.get("under", False)) and is_dir
    prefix = target.rstrip("/") + "/"

    def hit(path: str) -> bool:
        return path == target or (under and path.startswith(prefix))

    rows: list[JSONDict] = []
    denied = 0
    for i, p in enumerate(psutil.process_iter(["name", "uids"], ad_value=None)):
        if i % 64 == 0:
            ctx.check_cancel()
        try:
            files = p.open_files()
            cwd = p.cwd() if is_dir else None
        except psutil.AccessDenied:
            denied += 1
            continue
        except psutil.NoSuchProcess:  # exited meanwhile (zombies included)
            continue
        base = {"pid": p.pid, "name": p.info["name"], "user": _user_of(_uid(p.info["uids"]))}
        for f in files:
            if hit(f.path):
                rows.append({**base, "fd": f.fd, "use": "open", "path": f.path})
        if cwd is not None and hit(cwd):
            rows.append({**base, "fd": None, "use": "cwd", "path": cwd})
    rows.sort(key=lambda r: (r["pid"], r["fd"] if r["fd"] is not None else -1))
    return {"processes": rows, "path": target, "skipped_access_denied": denied, "truncated": False}


# --------------------------------------------------------------------------- proc.signal

def _signal_target(ctx: CallContext, args: JSONDict) -> tuple[psutil.Process, JSONDict]:
    pid = int(args["pid"])
    if pid == os.getpid():
        raise Denied("refusing to signal nlshell's own process", call=ctx.call, target=f"pid {pid}")
    p = _process(ctx.call, pid)
    created = _check_create_time(ctx.call, p, args.get("create_time"))
    # the start time the permission gate saw when it checked (and the person approved) this pid
    _check_create_time(ctx.call, p, ctx.checked_pids.get(pid))
    with _boundary(ctx.call, pid):
        name = p.name()
        uids = p.uids()
        status = p.status()
    try:
        cmdline = " ".join(p.cmdline())
    except psutil.Error:
        cmdline = ""
    return p, {"pid": pid, "name": name, "user": _user_of(_uid(uids)), "create_time": created,
               "cmdline": cmdline, "status": status}


def _signal_name(args: JSONDict) -> str:
    raw = str(args.get("signal", "TERM"))
    return SIGNAL_ALIASES.get(raw, raw)


def pv_signal(ctx: CallContext, args: JSONDict) -> JSONDict:
    _, target = _signal_target(ctx, args)
    status = target.pop("status")
    return {"signal": _signal_name(args), "targets": [target], "zombie": status == "zombie"}


@contextmanager
def open_pidfd(call: str, pid: int) -> Iterator[int | None]:
    """A pidfd for ``pid``, closed afterwards; None where the kernel has no ``pidfd_open`` (ENOSYS).

    A pidfd names one process for as long as it is open: once that process has
    exited, signalling through it fails with ESRCH even if its pid has been
    given to a new process.
    """
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError as exc:
        raise ProcessGone(f"pid {pid} has exited: no process has that pid now", call=call, target=f"pid {pid}",
                          hint="nothing was signalled; list processes again and pick the pid") from exc
    except OSError as exc:
        if exc.errno == errno.ENOSYS:
            yield None
            return
        if exc.errno == errno.EINVAL:
            raise WrongType(f"pid {pid} is not a process (a thread of one?)", call=call, target=f"pid {pid}",
                            hint="give the pid of the process, not of one of its threads") from exc
        raise from_oserror(exc, call=call, target=f"pid {pid}") from exc
    try:
        yield fd
    finally:
        os.close(fd)


def pidfd_signal(call: str, pid: int, fd: int, sig: int) -> None:
    """Send ``sig`` (0 checks that it is still there) to the process behind ``fd``, which had ``pid``."""
    try:
        _signal.pidfd_send_signal(fd, sig)
    except ProcessLookupError as exc:
        raise ProcessGone(f"pid {pid} exited before it was signalled", call=call, target=f"pid {pid}",
                          hint="nothing was signalled; list processes again if another process is meant") from exc
    except OSError as exc:
        raise from_oserror(exc, call=call, target=f"pid {pid}") from exc


def proc_signal(ctx: CallContext, args: JSONDict) -> JSONDict:
    sig_name = _signal_name(args)
    pid = int(args["pid"])
    # The pidfd is opened before the identity check, and the signal goes through it: the process
    # checked is the one signalled, even if it exits and its pid is reused in between.
    with open_pidfd(ctx.call, pid) as fd:
        p, target = _signal_target(ctx, args)
        if fd is not None:
            # Still alive through the pidfd after the check: the pid named the pidfd's process while it
            # was checked (a live process's pid names no other).
            pidfd_signal(ctx.call, pid, fd, 0)
        status = target.pop("status")
        if status == psutil.STATUS_ZOMBIE:
            return {**target, "signal": sig_name, "sent": False, "alive": False, "zombie": True,
                    "note": "the process has already exited; its parent has not reaped it yet"}
        if fd is not None:
            pidfd_signal(ctx.call, pid, fd, SIGNALS[sig_name])
        else:
            # No pidfd_open on this kernel (ENOSYS): os.kill by pid, after psutil checks the start time again.
            with _boundary(ctx.call, p.pid):
                p.send_signal(SIGNALS[sig_name])
    wait_s = float(args.get("wait_s", 0.0))
    alive = _alive(p)
    deadline = time.monotonic() + wait_s
    while alive and time.monotonic() < deadline:
        if ctx.cancel.wait(0.02):
            break
        alive = _alive(p)
    return {**target, "signal": sig_name, "sent": True, "alive": alive, "zombie": False, "note": ""}


def _alive(p: psutil.Process) -> bool:
    """Still running (a zombie counts as exited; it is not reaped here, that is its parent's job)."""
    try:
        return bool(p.is_running() and p.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


# --------------------------------------------------------------------------- proc.run

def _run_env(ctx: CallContext, args: JSONDict) -> dict[str, str]:
    extra: dict[str, str] = dict(args.get("env") or {})
    for key in extra:
        if key.upper().startswith(_ENV_FORBIDDEN):
            raise FloorViolation(f"refusing to set {key}: loader variables can inject code into the program",
                                 call=ctx.call, target=f"env {key}")
        if not key or "=" in key or "\0" in key or "\0" in extra[key]:
            raise InvalidRequest(f"invalid environment variable name {key!r}", call=ctx.call,
                                 field=f"args.env.{key}")
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(_ENV_FORBIDDEN)}
    env.update(extra)
    return env


def _run_plan(ctx: CallContext, args: JSONDict) -> tuple[list[str], str, Path, dict[str, str], float]:
    argv = [str(a) for a in args["argv"]]
    for a in argv:
        if "\0" in a:
            raise InvalidRequest("an argument contains a NUL byte", call=ctx.call, field="args.argv")
    env = _run_env(ctx, args)
    cwd = ctx.resolve(args["cwd"]) if args.get("cwd") else ctx.cwd
    if not cwd.exists():
        raise NotFound("working directory does not exist", call=ctx.call, target=str(cwd))
    if not cwd.is_dir():
        raise WrongType("working directory is not a directory", call=ctx.call, target=str(cwd))
    prog = argv[0]
    if "/" in prog:
        exe = str(ctx.resolve(prog)) if not os.path.isabs(prog) else prog
        found: str | None = exe if os.path.exists(exe) else None
    else:
        found = shutil.which(prog, path=env.get("PATH", os.defpath))
    if found is None:
        hint = ("give the program and each argument as separate argv items, e.g. [\"ls\", \"-l\"]"
                if " " in prog.strip() else "check the name, or give its full path")
        raise NotFound(f"program {prog!r} not found", call=ctx.call, target=prog, hint=hint)
    timeout = float(args.get("timeout_s", ctx.timeout_s))
    return argv, found, cwd, env, timeout


def _sandbox(ctx: CallContext) -> tuple[confine.Plan | None, JSONDict]:
    """The Landlock plan to run under (None: unconfined) and how the result describes it."""
    plan = ctx.sandbox
    if plan is None:
        return None, {"confined": False, "landlock_abi": None, "writable": [],
                      "note": "no permission gate set a confinement for this run: unconfined"}
    abi = confine.abi()
    info: JSONDict = {"confined": abi is not None, "landlock_abi": abi, "writable": list(plan.write),
                      "note": plan.describe(abi)}
    return (plan if abi is not None else None), info


def pv_run(ctx: CallContext, args: JSONDict) -> JSONDict:
    argv, exe, cwd, _, timeout = _run_plan(ctx, args)
    return {"argv": argv, "executable": exe, "cwd": str(cwd), "timeout_s": timeout,
            "env_set": sorted((args.get("env") or {}).keys()), "sandbox": _sandbox(ctx)[1]}


class _Capped:
    """Drains a pipe in a thread, keeping the first ``cap`` bytes and counting the rest."""

    def __init__(self, stream: IO[bytes], cap: int) -> None:
        self.stream, self.cap = stream, cap
        self.chunks: list[bytes] = []
        self.kept = 0
        self.total = 0
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        try:
            while True:
                chunk = self.stream.read1(65536) if hasattr(self.stream, "read1") else self.stream.read(65536)
                if not chunk:
                    break
                self.total += len(chunk)
                room = self.cap - self.kept
                if room > 0:
                    self.chunks.append(chunk[:room])
                    self.kept += min(room, len(chunk))
        except (OSError, ValueError):
            pass

    def text(self) -> str:
        return b"".join(self.chunks).decode("utf-8", errors="replace")


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    # By pid, not pidfd: a pidfd cannot signal a process group, and this is our own child, not yet
    # waited for, so neither its pid nor its group id can have been reused.
    try:
        os.killpg(proc.pid, _signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def _outcome(ctx: CallContext, sandbox: JSONDict, code: int | None, err: _Capped | None,
             **extra: Any) -> None:
    """What the audit log's step record keeps of the run."""
    tail = err.text()[-_STDERR_TAIL:] if err is not None else ""
    ctx.outcome = {"exit_code": code, "confined": sandbox["confined"], "landlock_abi": sandbox["landlock_abi"],
                   "writable": sandbox["writable"], "stderr_tail": tail, **extra}


def proc_run(ctx: CallContext, args: JSONDict) -> JSONDict:
    argv, exe, cwd, env, timeout = _run_plan(ctx, args)
    stdin_text: str | None = args.get("input")
    plan, sandbox = _sandbox(ctx)
    command = [exe, *argv[1:]]
    if plan is not None:
        # A helper interpreter applies the ruleset and execs the program (see syscalls.confine).
        command = confine.command(plan, exe, command)
    try:
        proc = subprocess.Popen(
            command, executable=command[0], cwd=cwd, env=env,
            stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        )
    except OSError as exc:
        raise from_oserror(exc, call=ctx.call, target=argv[0]) from exc
    assert proc.stdout is not None and proc.stderr is not None
    out = _Capped(proc.stdout, ctx.max_bytes)
    err = _Capped(proc.stderr, ctx.max_bytes)
    if stdin_text is not None and proc.stdin is not None:
        def feed(stream: IO[bytes], data: bytes) -> None:
            try:
                stream.write(data)
                stream.close()
            except OSError:
                pass

        threading.Thread(target=feed, args=(proc.stdin, stdin_text.encode()), daemon=True).start()
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                proc.wait(timeout=0.05)
                break
            except subprocess.TimeoutExpired:
                pass
            if ctx.cancel.is_set():
                _kill_group(proc)
                proc.wait()
                _outcome(ctx, sandbox, proc.returncode, err, cancelled=True)
                ctx.check_cancel()
            if time.monotonic() >= deadline:
                _kill_group(proc)
                proc.wait()
                _outcome(ctx, sandbox, proc.returncode, err, timed_out=True)
                raise TimedOut(f"{argv[0]} ran past {timeout:g} s and was killed (pid {proc.pid})",
                               call=ctx.call, target=" ".join(argv)[:200])
    finally:
        if proc.returncode is None:
            _kill_group(proc)
            proc.wait()
    for reader in (out, err):
        reader.thread.join(timeout=2.0)
    code = proc.returncode
    sig = _signal.Signals(-code).name if code < 0 else None
    _outcome(ctx, sandbox, code, err, killed_by=sig)
    if plan is not None and code == confine.EXIT_NOT_CONFINED and err.text().startswith(confine.PREFIX):
        raise OSFailure(err.text()[len(confine.PREFIX):].strip(), call=ctx.call, target=argv[0],
                        hint="Landlock refused this ruleset; `nlsh doctor` shows what the kernel offers")
    return {
        "argv": argv,
        "executable": exe,
        "cwd": str(cwd),
        "pid": proc.pid,
        "exit_code": code,
        "killed_by": sig,
        "stdout": out.text(),
        "stderr": err.text(),
        "stdout_bytes": out.total,
        "stderr_bytes": err.total,
        "stdout_truncated": out.total > out.kept,
        "stderr_truncated": err.total > err.kept,
        "truncated": out.total > out.kept or err.total > err.kept,
        "sandbox": sandbox,
    }


# --------------------------------------------------------------------------- registration

def register(registry: Registry) -> None:
    registry.syscall(
        "proc.list",
        "List running processes, filtered by name, user, command line or status, sorted and limited.",
        args=S.obj({
            "name": S.string("part of the process name (case-insensitive)", min_length=1, max_length=256),
            "user": S.string("owner's user name", min_length=1, max_length=256),
            "cmdline": S.string("part of the command line (case-insensitive)", min_length=1, max_length=1024),
            "status": S.enum(STATUSES, "process state"),
            "ppid": S.pid("only children of this parent pid"),
            "sort": S.enum(["pid", "cpu", "memory", "start", "name"],
                           "cpu/memory/start sort highest or newest first; pid/name ascending"),
            "reverse": S.boolean("reverse the sort order"),
            "limit": S.integer("at most this many rows", minimum=1, maximum=10_000),
            "sample_ms": S.integer("measure CPU over this window; 0 = lifetime average "
                                   "(default 200 when sorting by cpu, else 0)", minimum=0, maximum=5000),
        }),
        result=S.table(_PROC_ROW, "processes", {"matched": S.integer(minimum=0),
                                                "cpu_window": S.string()}),
        capability="proc.read",
        risk=Risk.READ,
        view=View("table", "processes",
                  ("pid", "ppid", "user", "name", "status", "cpu_percent", "rss_bytes",
                   "memory_percent", "create_time", "cmdline")),
        examples=[
            ("show all running processes", {"sort": "pid"}),
            ("what is eating my cpu", {"sort": "cpu", "limit": 10}),
            ("top 5 processes by memory use", {"sort": "memory", "limit": 5}),
            ("is nginx running?", {"name": "nginx"}),
            ("processes owned by postgres", {"user": "postgres"}),
            ("find the python jobs that were started with train.py", {"cmdline": "train.py"}),
        ],
    )(proc_list)

    registry.syscall(
        "proc.info",
        "Show one process in detail: command line, executable, cwd, owner, memory, CPU, threads, "
        "open files, connections and children.",
        args=S.obj({"pid": S.pid("the process to inspect")}, required=["pid"]),
        result=S.obj({
            "pid": S.integer(), "name": S.string(), "ppid": S.integer(), "status": S.string(),
            "create_time": S.number(), "cmdline": S.string(max_length=10**6),
            "argv": S.array(S.string(max_length=10**6), max_items=10**6),
            "exe": S.nullable("string"), "cwd": S.nullable("string"), "user": S.nullable("string"),
            "threads": S.nullable("integer"), "rss_bytes": S.nullable("integer"),
            "vms_bytes": S.nullable("integer"), "memory_percent": S.nullable("number"),
            "cpu_user_s": S.nullable("number"), "cpu_system_s": S.nullable("number"),
            "cpu_percent": S.nullable("number"), "nice": S.nullable("integer"),
            "terminal": S.nullable("string"),
            "open_files": S.array(S.obj({"path": S.string(), "fd": S.integer()}), max_items=10**9),
            "connections": S.array(S.obj({k: v for k, v in _CONN_ROW["properties"].items()
                                          if k not in ("pid", "name")}, required=["proto", "status"]),
                                   max_items=10**9),
            "children": S.array(S.obj({"pid": S.integer(), "name": S.nullable("string")}), max_items=10**9),
            "unavailable": S.array(S.string(), doc="fields the OS would not disclose"),
        }, required=["pid", "name", "status", "create_time", "cmdline"]),
        taints=("pid",),
        capability="proc.read",
        risk=Risk.READ,
        view=View("record"),
        examples=[
            ("tell me about process 4242", {"pid": 4242}),
            ("what is pid 1 running", {"pid": 1}),
            ("which directory is process 813 working in", {"pid": 813}),
            ("how much memory does pid 2201 use", {"pid": 2201}),
        ],
    )(proc_info)

    registry.syscall(
        "proc.tree",
        "Show processes as a parent/child tree, rooted at one pid or covering all processes.",
        args=S.obj({
            "pid": S.pid("root of the tree (default: every top-level process)"),
            "depth": S.integer("how many levels below the root", minimum=1, maximum=64),
        }),
        result={"type": "object",
                "$defs": {"node": _TREE_NODE},
                "properties": {"processes": {"type": "array", "items": {"$ref": "#/$defs/node"}},
                               "count": S.integer(minimum=0), "truncated": S.boolean()},
                "required": ["processes", "count"]},
        capability="proc.read",
        risk=Risk.READ,
        view=View("tree", "processes"),
        examples=[
            ("show the process tree", {}),
            ("what did process 1200 spawn", {"pid": 1200}),
            ("children of pid 1, two levels deep", {"pid": 1, "depth": 2}),
        ],
    )(proc_tree)

    registry.syscall(
        "proc.port",
        "Find which processes listen on or are connected to a network port (TCP or UDP).",
        args=S.obj({
            "port": S.integer("the port number", minimum=1, maximum=65535),
            "proto": S.enum(["tcp", "udp", "any"], "protocol (default any)"),
            "state": S.enum(["listening", "connected", "any"], "socket state (default any)"),
        }, required=["port"]),
        result=S.table(_CONN_ROW, "connections", {"port": S.integer(), "pids_hidden": S.integer(minimum=0)}),
        target_args=("port",),
        capability="proc.read",
        risk=Risk.READ,
        view=View("table", "connections", ("pid", "name", "proto", "laddr", "raddr", "status")),
        examples=[
            ("what is using port 8080", {"port": 8080}),
            ("who is listening on tcp 22", {"port": 22, "proto": "tcp", "state": "listening"}),
            ("which program holds udp port 53", {"port": 53, "proto": "udp"}),
            ("show connections to port 5432", {"port": 5432, "state": "connected"}),
        ],
    )(proc_port)

    registry.syscall(
        "proc.open_file",
        "Find which processes have a file open (or use a directory as their working directory).",
        args=S.obj({
            "path": S.path("the file or directory"),
            "under": S.boolean("for a directory: also match files anywhere beneath it"),
        }, required=["path"]),
        result=S.table(
            S.obj({"pid": S.integer(), "name": S.nullable("string"), "user": S.nullable("string"),
                   "fd": S.nullable("integer"), "use": S.enum(["open", "cwd"]), "path": S.string()},
                  required=["pid", "path", "use"]),
            "processes", {"path": S.string(), "skipped_access_denied": S.integer(minimum=0)}),
        taints=("pid", "path"),
        capability="proc.read",
        risk=Risk.READ,
        view=View("table", "processes", ("pid", "name", "user", "fd", "use", "path")),
        examples=[
            ("which process has app.log open", {"path": "app.log"}),
            ("who is holding /var/lib/dpkg/lock", {"path": "/var/lib/dpkg/lock"}),
            ("what is keeping /mnt/usb busy", {"path": "/mnt/usb", "under": True}),
        ],
    )(proc_open_file)

    registry.syscall(
        "proc.signal",
        "Send a signal to one process by pid (TERM asks it to stop, KILL forces it); "
        "give create_time from a listing to guard against a reused pid.",
        args=S.obj({
            "pid": S.pid("the process to signal"),
            "signal": S.enum([*SIGNALS, *SIGNAL_ALIASES],
                             "TERM (default) asks to stop, KILL forces, INT interrupts, HUP reloads, "
                             "STOP/CONT pause/resume; terminate = TERM, kill = KILL", words=SIGNAL_WORDS),
            "create_time": S.number("start time (epoch seconds) from proc.list; "
                                    "refuses if the pid was reused", minimum=0),
            "wait_s": {"type": "number", "minimum": 0, "maximum": 30,
                       "description": "wait up to this long for the process to exit"},
        }, required=["pid"]),
        result=S.obj({
            "pid": S.integer(), "name": S.nullable("string"), "user": S.nullable("string"),
            "create_time": S.number(), "cmdline": S.string(max_length=10**6),
            "signal": S.string(), "sent": S.boolean(), "alive": S.boolean(), "zombie": S.boolean(),
            "note": S.string(),
        }, required=["pid", "signal", "sent", "alive"]),
        capability="proc.kill",
        risk=Risk.DESTRUCTIVE,
        view=View("record"),
        examples=[
            ("kill process 4242", {"pid": 4242, "signal": "TERM"}),
            ("force kill pid 999 now", {"pid": 999, "signal": "KILL"}),
            ("tell pid 310 to reload its config", {"pid": 310, "signal": "HUP"}),
            ("pause process 5120", {"pid": 5120, "signal": "STOP"}),
            ("resume process 5120", {"pid": 5120, "signal": "CONT"}),
        ],
        preview=pv_signal,
    )(proc_signal)

    registry.syscall(
        "proc.run",
        "Run a program with an argument list (no shell), capture its output and exit code.",
        args=S.obj({
            "argv": {"type": "array", "items": S.string(max_length=4096), "minItems": 1, "maxItems": 256,
                     "description": "the program and its arguments, one item each"},
            "cwd": S.path("working directory (default: the current one)"),
            "timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 3600,
                          "description": "kill the program after this many seconds"},
            "env": {"type": "object", "additionalProperties": S.string(max_length=32768), "maxProperties": 64,
                    "description": "extra environment variables (LD_* and DYLD_* are refused)"},
            "input": S.text("text fed to the program's standard input", max_length=1_000_000),
        }, required=["argv"]),
        result=S.obj({
            "argv": S.array(S.string()), "executable": S.string(), "cwd": S.string(), "pid": S.integer(),
            "exit_code": S.integer(), "killed_by": S.nullable("string"),
            "stdout": S.string(max_length=10**9), "stderr": S.string(max_length=10**9),
            "stdout_bytes": S.integer(minimum=0), "stderr_bytes": S.integer(minimum=0),
            "stdout_truncated": S.boolean(), "stderr_truncated": S.boolean(), "truncated": S.boolean(),
            "sandbox": S.obj({
                "confined": S.boolean("the program ran under Landlock"),
                "landlock_abi": S.nullable("integer"),
                "writable": S.array(S.string(), doc="the directories it could write in"),
                "note": S.string(),
            }, required=["confined", "writable", "note"]),
        }, required=["argv", "exit_code", "stdout", "stderr"]),
        taints=("argv", "command", "program"),
        capability="proc.exec",
        risk=Risk.EXEC,
        view=View("record"),
        examples=[
            ("run make in the build directory", {"argv": ["make"], "cwd": "build"}),
            ("run the tests with pytest", {"argv": ["pytest", "-q"]}),
            ("run git status", {"argv": ["git", "status"]}),
            ("run ./deploy.sh staging with a 60 second limit",
             {"argv": ["./deploy.sh", "staging"], "timeout_s": 60}),
            ("run python script.py with DEBUG=1", {"argv": ["python", "script.py"], "env": {"DEBUG": "1"}}),
        ],
        preview=pv_run,
    )(proc_run)
