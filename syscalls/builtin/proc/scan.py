"""Every visible process's listing fields in one pass (``scan_processes``): straight from /proc on
Linux, through psutil elsewhere."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any

import psutil

from syscalls.builtin.proc.common import _uid
from syscalls.types import JSONDict

_LIST_ATTRS = ["pid", "ppid", "name", "uids", "status", "create_time", "cpu_times", "memory_info", "cmdline"]


def _cpu_seconds(ct: Any) -> float:
    return float(ct.user + ct.system) if ct is not None else 0.0


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
