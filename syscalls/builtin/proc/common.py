"""What the proc.* calls share: psutil's errors translated at the boundary, the check that a pid
still names the process it did, user names, and how a socket is described."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psutil

from syscalls import schema as S
from syscalls.errors import AccessDenied, ProcessGone

CREATE_TIME_TOLERANCE_S = 0.01

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


def socket_addr(a: Any) -> str | None:
    """A psutil socket address as text: ``host:port``, ``[v6]:port``, a Unix socket's path, or None."""
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
