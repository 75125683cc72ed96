"""Reading calls: proc.list, proc.info and proc.tree.

CPU figures: psutil's ``cpu_percent()`` without an interval returns 0.0 on
its first call for a process, so ``proc.list`` never uses it.  It reports
either the lifetime average (CPU seconds / seconds since start, no waiting) or,
when ``sample_ms`` is given (the default when sorting by CPU), the usage over
one short window shared by all processes: one pass before, one sleep, one
pass after.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import psutil

from syscalls import schema as S
from syscalls.builtin.proc.common import _CONN_ROW, _boundary, _family, _process, _proto, _uid, _user_of, socket_addr
from syscalls.builtin.proc.scan import _cpu_seconds, scan_processes
from syscalls.errors import ProcessGone
from syscalls.types import CallContext, JSONDict, Risk, View

if TYPE_CHECKING:
    from syscalls.registry import Registry

# --------------------------------------------------------------------------- proc.list

STATUSES = [
    "running", "sleeping", "disk-sleep", "stopped", "tracing-stop", "zombie", "dead",
    "wake-kill", "waking", "idle", "locked", "waiting", "parked",
]

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


def _snapshot_cpu(ctx: CallContext) -> dict[int, tuple[float, float]]:
    """pid → (create_time, cpu seconds) for every visible process."""
    return {i["pid"]: (i["create_time"], i["cpu_s"]) for i in scan_processes()
            if i["create_time"] is not None}


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


def register_list(registry: Registry) -> None:
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
        {"proto": _proto(c), "family": _family(c), "laddr": socket_addr(c.laddr), "raddr": socket_addr(c.raddr),
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


def register_info(registry: Registry) -> None:
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


# --------------------------------------------------------------------------- proc.tree

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


def register_tree(registry: Registry) -> None:
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
