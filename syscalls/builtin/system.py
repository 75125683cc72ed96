"""System syscalls: OS and host, CPU, memory, disks, network, users, sensors.

All read-only, all from psutil and the standard library.  A figure the
platform does not provide is ``null``; a section with nothing to report is an
empty list (``sys.sensors`` says ``available: false`` rather than inventing).
"""

from __future__ import annotations

import getpass
import os
import platform
import socket
import sys
import time
from typing import TYPE_CHECKING

import psutil

from syscalls import schema as S
from syscalls.builtin.proc.common import socket_addr
from syscalls.types import CallContext, JSONDict, Risk, View

if TYPE_CHECKING:
    from syscalls.registry import Registry

_PSEUDO_FS = frozenset({
    "proc", "sysfs", "devtmpfs", "devpts", "tmpfs", "cgroup", "cgroup2", "securityfs", "pstore",
    "debugfs", "tracefs", "mqueue", "hugetlbfs", "configfs", "fusectl", "bpf", "autofs", "binfmt_misc",
    "rpc_pipefs", "nsfs", "overlay", "squashfs", "efivarfs", "ramfs", "selinuxfs",
})


def _os_release() -> str | None:
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        try:
            with open(path, encoding="utf-8") as fh:
                for line in fh:
                    if line.startswith("PRETTY_NAME="):
                        return line.split("=", 1)[1].strip().strip('"')
        except OSError:
            continue
    if sys.platform == "darwin":
        return f"macOS {platform.mac_ver()[0]}"
    return None


def _current_user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def sys_info(ctx: CallContext, args: JSONDict) -> JSONDict:
    boot = psutil.boot_time()
    uname = platform.uname()
    return {
        "os": uname.system,
        "distribution": _os_release(),
        "kernel_release": uname.release,
        "kernel_version": uname.version,
        "machine": uname.machine,
        "hostname": socket.gethostname(),
        "boot_time": boot,
        "uptime_s": round(time.time() - boot, 1),
        "user": _current_user(),
        "uid": os.getuid() if hasattr(os, "getuid") else None,
        "cwd": str(ctx.cwd),
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "pid": os.getpid(),
    }


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith(("model name", "Hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def sys_cpu(ctx: CallContext, args: JSONDict) -> JSONDict:
    sample_ms = int(args.get("sample_ms", 200))
    if sample_ms > 0:
        psutil.cpu_percent(percpu=True)  # starts the window
        if ctx.cancel.wait(sample_ms / 1000):
            ctx.check_cancel()
    per_cpu = [float(x) for x in psutil.cpu_percent(percpu=True)]
    try:
        freqs = psutil.cpu_freq(percpu=True) or []
    except (OSError, NotImplementedError, AttributeError):
        freqs = []
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):
        load = [0.0, 0.0, 0.0]
    cpus = []
    for i, pct in enumerate(per_cpu):
        f = freqs[i] if i < len(freqs) else None
        cpus.append({"cpu": i, "percent": pct, "freq_mhz": round(f.current, 1) if f else None})
    total = psutil.cpu_freq() if freqs else None
    return {
        "cpus": cpus,
        "logical_count": psutil.cpu_count() or len(per_cpu),
        "physical_count": psutil.cpu_count(logical=False),
        "percent": round(sum(per_cpu) / len(per_cpu), 1) if per_cpu else 0.0,
        "sample_ms": sample_ms,
        "load_avg_1m": load[0],
        "load_avg_5m": load[1],
        "load_avg_15m": load[2],
        "freq_mhz": round(total.current, 1) if total else None,
        "freq_min_mhz": round(total.min, 1) if total and total.min else None,
        "freq_max_mhz": round(total.max, 1) if total and total.max else None,
        "model": _cpu_model(),
    }


def sys_memory(ctx: CallContext, args: JSONDict) -> JSONDict:
    vm = psutil.virtual_memory()
    sw = psutil.swap_memory()

    def opt(name: str) -> int | None:
        value = getattr(vm, name, None)
        return int(value) if value is not None else None

    return {
        "total_bytes": int(vm.total),
        "available_bytes": int(vm.available),
        "used_bytes": int(vm.used),
        "free_bytes": int(vm.free),
        "percent": float(vm.percent),
        "buffers_bytes": opt("buffers"),
        "cached_bytes": opt("cached"),
        "shared_bytes": opt("shared"),
        "swap_total_bytes": int(sw.total),
        "swap_used_bytes": int(sw.used),
        "swap_free_bytes": int(sw.free),
        "swap_percent": float(sw.percent),
    }


def sys_disks(ctx: CallContext, args: JSONDict) -> JSONDict:
    show_all = bool(args.get("all", False))
    rows: list[JSONDict] = []
    seen: set[str] = set()
    for part in psutil.disk_partitions(all=show_all):
        if part.mountpoint in seen:
            continue
        if not show_all and part.fstype in _PSEUDO_FS:
            continue
        seen.add(part.mountpoint)
        row: JSONDict = {
            "device": part.device,
            "mountpoint": part.mountpoint,
            "fstype": part.fstype,
            "options": part.opts,
            "total_bytes": None, "used_bytes": None, "free_bytes": None, "percent": None,
        }
        try:
            u = psutil.disk_usage(part.mountpoint)
            row.update(total_bytes=int(u.total), used_bytes=int(u.used), free_bytes=int(u.free),
                       percent=float(u.percent))
        except OSError:  # unreadable or vanished mount: report it without figures
            pass
        rows.append(row)
    rows.sort(key=lambda r: r["mountpoint"])
    return {"disks": rows, "truncated": False}


_FAMILIES: dict[int, str] = {socket.AF_INET: "ipv4", socket.AF_INET6: "ipv6"}
if hasattr(psutil, "AF_LINK"):
    _FAMILIES[psutil.AF_LINK] = "link"


def sys_net(ctx: CallContext, args: JSONDict) -> JSONDict:
    which = args.get("connections", "listening")
    addrs = psutil.net_if_addrs()
    stats = psutil.net_if_stats()
    io = psutil.net_io_counters(pernic=True)
    interfaces: list[JSONDict] = []
    for name in sorted(set(addrs) | set(stats)):
        st = stats.get(name)
        c = io.get(name)
        interfaces.append({
            "name": name,
            "is_up": bool(st.isup) if st else None,
            "mtu": st.mtu if st else None,
            "speed_mbps": st.speed if st and st.speed else None,
            "addresses": [
                {"family": _FAMILIES.get(a.family, str(int(a.family))), "address": a.address,
                 "netmask": a.netmask, "broadcast": a.broadcast}
                for a in addrs.get(name, [])
            ],
            "bytes_sent": c.bytes_sent if c else None,
            "bytes_recv": c.bytes_recv if c else None,
            "packets_sent": c.packets_sent if c else None,
            "packets_recv": c.packets_recv if c else None,
            "errors_in": c.errin if c else None,
            "errors_out": c.errout if c else None,
            "drops_in": c.dropin if c else None,
            "drops_out": c.dropout if c else None,
        })
    conns: list[JSONDict] = []
    hidden = False
    if which != "none":
        try:
            raw = psutil.net_connections("inet")
        except psutil.AccessDenied:  # macOS without root
            raw = []
            hidden = True
        names: dict[int, str | None] = {}
        for k in raw:
            listening = k.status == psutil.CONN_LISTEN or (k.type == socket.SOCK_DGRAM and not k.raddr)
            if which == "listening" and not listening:
                continue
            if k.pid is not None and k.pid not in names:
                try:
                    names[k.pid] = psutil.Process(k.pid).name()
                except psutil.Error:
                    names[k.pid] = None
            conns.append({
                "proto": "tcp" if k.type == socket.SOCK_STREAM else "udp",
                "family": _FAMILIES.get(k.family, "other"),
                "laddr": socket_addr(k.laddr),
                "raddr": socket_addr(k.raddr),
                "status": "LISTEN" if listening else k.status,
                "pid": k.pid,
                "name": names.get(k.pid) if k.pid is not None else None,
            })
        conns.sort(key=lambda r: (r["proto"], r["laddr"] or "", r["raddr"] or ""))
    return {"interfaces": interfaces, "connections": conns, "connections_hidden": hidden, "truncated": False}


def sys_users(ctx: CallContext, args: JSONDict) -> JSONDict:
    rows = [
        {"name": u.name, "terminal": u.terminal, "host": u.host or None, "started": u.started,
         "pid": getattr(u, "pid", None)}
        for u in psutil.users()
    ]
    return {"users": rows, "truncated": False}


def sys_sensors(ctx: CallContext, args: JSONDict) -> JSONDict:
    temps: list[JSONDict] = []
    fans: list[JSONDict] = []
    battery: JSONDict | None = None
    try:
        for chip, entries in (psutil.sensors_temperatures() if hasattr(psutil, "sensors_temperatures")
                              else {}).items():
            for e in entries:
                temps.append({"sensor": chip, "label": e.label or None, "current_c": e.current,
                              "high_c": e.high, "critical_c": e.critical})
    except (OSError, NotImplementedError):
        pass
    try:
        for chip, fan_entries in (psutil.sensors_fans() if hasattr(psutil, "sensors_fans") else {}).items():
            for f in fan_entries:
                fans.append({"sensor": chip, "label": f.label or None, "rpm": f.current})
    except (OSError, NotImplementedError):
        pass
    try:
        b = psutil.sensors_battery() if hasattr(psutil, "sensors_battery") else None
    except (OSError, NotImplementedError):
        b = None
    if b is not None:
        secs = b.secsleft
        battery = {
            "percent": float(b.percent),
            "plugged_in": b.power_plugged,
            "seconds_left": None if secs in (psutil.POWER_TIME_UNKNOWN, psutil.POWER_TIME_UNLIMITED)
            else int(secs),
        }
    return {
        "temperatures": temps,
        "fans": fans,
        "battery": battery,
        "available": bool(temps or fans or battery),
    }


_NINT = S.nullable("integer")
_NNUM = S.nullable("number")
_NSTR = S.nullable("string")


def register(registry: Registry) -> None:
    registry.syscall(
        "sys.info",
        "Show the operating system, kernel, host name, uptime, current user and Python version.",
        args=S.obj({}),
        result=S.obj({
            "os": S.string(), "distribution": _NSTR, "kernel_release": S.string(),
            "kernel_version": S.string(), "machine": S.string(), "hostname": S.string(),
            "boot_time": S.number("epoch seconds"), "uptime_s": S.number(), "user": _NSTR, "uid": _NINT,
            "cwd": S.string(), "python": S.string(), "python_executable": S.string(), "pid": S.integer(),
        }, required=["os", "kernel_release", "hostname", "uptime_s", "boot_time"]),
        capability="sys.read",
        risk=Risk.READ,
        view=View("record"),
        examples=[
            ("what operating system is this", {}),
            ("which kernel version am I running", {}),
            ("what is this computer's hostname", {}),
        ],
    )(sys_info)

    registry.syscall(
        "sys.cpu",
        "Show CPU count, per-CPU usage, load average, frequency and model.",
        args=S.obj({"sample_ms": S.integer("measure usage over this window (default 200; 0 = since the "
                                           "previous call)", minimum=0, maximum=5000)}),
        result=S.table(
            S.obj({"cpu": S.integer(minimum=0), "percent": S.number(minimum=0), "freq_mhz": _NNUM},
                  required=["cpu", "percent"]),
            "cpus",
            {"logical_count": S.integer(minimum=1), "physical_count": _NINT, "percent": S.number(),
             "sample_ms": S.integer(), "load_avg_1m": S.number(), "load_avg_5m": S.number(),
             "load_avg_15m": S.number(), "freq_mhz": _NNUM, "freq_min_mhz": _NNUM, "freq_max_mhz": _NNUM,
             "model": _NSTR}),
        capability="sys.read",
        risk=Risk.READ,
        view=View("table", "cpus", ("cpu", "percent", "freq_mhz")),
        examples=[
            ("how many cpu cores do I have", {}),
            ("how busy is the processor right now", {"sample_ms": 500}),
            ("what cpu model is in this machine", {}),
        ],
    )(sys_cpu)

    registry.syscall(
        "sys.memory",
        "Show RAM and swap: total, used, free and available, in bytes and percent.",
        args=S.obj({}),
        result=S.obj({
            "total_bytes": S.integer(minimum=0), "available_bytes": S.integer(minimum=0),
            "used_bytes": S.integer(minimum=0), "free_bytes": S.integer(minimum=0), "percent": S.number(),
            "buffers_bytes": _NINT, "cached_bytes": _NINT, "shared_bytes": _NINT,
            "swap_total_bytes": S.integer(minimum=0), "swap_used_bytes": S.integer(minimum=0),
            "swap_free_bytes": S.integer(minimum=0), "swap_percent": S.number(),
        }, required=["total_bytes", "available_bytes", "used_bytes", "percent"]),
        capability="sys.read",
        risk=Risk.READ,
        view=View("record"),
        examples=[
            ("how much memory is free", {}),
            ("show ram usage", {}),
            ("is the machine swapping", {}),
            ("how much RAM does this box have", {}),
        ],
    )(sys_memory)

    registry.syscall(
        "sys.disks",
        "Show mounted disks and partitions with their size, used and free space.",
        args=S.obj({"all": S.boolean("include pseudo and virtual file systems (proc, tmpfs, ...)")}),
        result=S.table(S.obj({
            "device": S.string(), "mountpoint": S.string(), "fstype": S.string(), "options": S.string(),
            "total_bytes": _NINT, "used_bytes": _NINT, "free_bytes": _NINT, "percent": _NNUM,
        }, required=["device", "mountpoint", "fstype"]), "disks"),
        capability="sys.read",
        risk=Risk.READ,
        view=View("table", "disks",
                  ("device", "mountpoint", "fstype", "total_bytes", "used_bytes", "free_bytes", "percent")),
        examples=[
            ("how much disk space is left", {}),
            ("show disk usage of all mounted file systems", {}),
            ("is any disk nearly full", {}),
            ("list every mount including tmpfs", {"all": True}),
        ],
    )(sys_disks)

    registry.syscall(
        "sys.net",
        "Show network interfaces with their addresses and traffic counters, and listening sockets.",
        args=S.obj({"connections": S.enum(["none", "listening", "all"],
                                          "which sockets to list (default listening)")}),
        result=S.table(
            S.obj({"name": S.string(), "is_up": {"type": ["boolean", "null"]}, "mtu": _NINT,
                   "speed_mbps": _NINT,
                   "addresses": S.array(S.obj({"family": S.string(), "address": S.string(),
                                               "netmask": _NSTR, "broadcast": _NSTR})),
                   "bytes_sent": _NINT, "bytes_recv": _NINT, "packets_sent": _NINT, "packets_recv": _NINT,
                   "errors_in": _NINT, "errors_out": _NINT, "drops_in": _NINT, "drops_out": _NINT},
                  required=["name", "addresses"]),
            "interfaces",
            {"connections": S.array(S.obj({
                "proto": S.enum(["tcp", "udp"]), "family": S.string(), "laddr": _NSTR, "raddr": _NSTR,
                "status": S.string(), "pid": _NINT, "name": _NSTR}), max_items=10**9),
             "connections_hidden": S.boolean("the OS refused to list sockets (needs root here)")}),
        capability="sys.read",  # listing interfaces and sockets opens no connection
        risk=Risk.READ,
        view=View("table", "interfaces", ("name", "is_up", "addresses", "bytes_sent", "bytes_recv")),
        examples=[
            ("show the interfaces together with the listening sockets", {"connections": "listening"}),
            ("which ports are open on this machine", {"connections": "listening"}),
            ("list all network connections", {"connections": "all"}),
        ],
    )(sys_net)

    registry.syscall(
        "sys.users",
        "Show the users logged in now, their terminals and when they logged in.",
        args=S.obj({}),
        result=S.table(S.obj({"name": S.string(), "terminal": _NSTR, "host": _NSTR,
                              "started": S.number("epoch seconds"), "pid": _NINT},
                             required=["name", "started"]), "users"),
        capability="sys.read",
        risk=Risk.READ,
        view=View("table", "users", ("name", "terminal", "host", "started")),
        examples=[
            ("who is logged in", {}),
            ("show logged in users", {}),
            ("is anyone else on this machine", {}),
        ],
    )(sys_users)

    registry.syscall(
        "sys.sensors",
        "Show hardware sensors: temperatures, fan speeds and the battery, where the machine has them.",
        args=S.obj({}),
        result=S.obj({
            "temperatures": S.array(S.obj({"sensor": S.string(), "label": _NSTR, "current_c": S.number(),
                                           "high_c": _NNUM, "critical_c": _NNUM}), max_items=10**6),
            "fans": S.array(S.obj({"sensor": S.string(), "label": _NSTR, "rpm": S.integer()}),
                            max_items=10**6),
            "battery": {"type": ["object", "null"]},
            "available": S.boolean("false when the machine exposes no sensors"),
        }, required=["temperatures", "fans", "battery", "available"]),
        capability="sys.read",
        risk=Risk.READ,
        view=View("record"),
        examples=[
            ("how hot is the cpu", {}),
            ("show the temperatures", {}),
            ("how much battery is left", {}),
            ("are the fans spinning", {}),
        ],
    )(sys_sensors)
