"""Socket and file calls: proc.port (who listens on or is connected to a port) and proc.open_file
(who has a file open, or a directory as its working directory)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psutil

from syscalls import schema as S
from syscalls.builtin.proc.common import _CONN_ROW, _family, _proto, _uid, _user_of, socket_addr
from syscalls.errors import NotFound
from syscalls.types import CallContext, JSONDict, Risk, View

if TYPE_CHECKING:
    from syscalls.registry import Registry

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
            "laddr": socket_addr(c.laddr),
            "raddr": socket_addr(c.raddr),
            "status": "LISTEN" if listening and c.status == psutil.CONN_NONE else c.status,
        })
    rows.sort(key=lambda r: (r["status"] != "LISTEN", r["pid"] or 0, r["laddr"] or ""))
    hidden = sum(1 for r in rows if r["pid"] is None)
    return {"connections": rows, "port": port, "pids_hidden": hidden, "truncated": False}


def register_port(registry: Registry) -> None:
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


def register_open_file(registry: Registry) -> None:
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
