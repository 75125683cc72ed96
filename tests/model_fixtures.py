"""A small registry with the shapes of the file and process calls, for pure model-path tests.

The real built-ins are exercised by their own tests; the grammar, prompt and
planner tests only need stable schemas they can assert on as strings.
"""

from __future__ import annotations

from syscalls import schema as S
from syscalls.builtin import answer
from syscalls.registry import Registry
from syscalls.types import CallContext, JSONDict, Risk, View


def _noop(ctx: CallContext, args: JSONDict) -> JSONDict:
    return {"entries": []}


def small_registry() -> Registry:
    reg = Registry()
    table = S.table(S.obj({"path": S.string()}))
    reg.syscall("fs.find", "Find files by name, type, size and age under a directory.",
                args=S.obj({"path": S.path(), "name": S.glob(), "type": S.enum(["file", "dir"]),
                            "size_min_bytes": S.integer(minimum=0), "mtime_min_days": S.integer(minimum=0)},
                           required=["path"]),
                result=table, capability="fs.read", risk=Risk.READ, view=View("table", "entries"),
                examples=[("find the markdown files in docs", {"path": "docs", "name": "*.md"}),
                          ("directories under src", {"path": "src", "type": "dir"})])(_noop)
    reg.syscall("fs.delete", "Delete files or directories.",
                args=S.obj({"path": S.path(), "recursive": S.boolean()}, required=["path"]),
                result=table, capability="fs.delete", risk=Risk.DESTRUCTIVE,
                examples=[("delete notes.txt", {"path": "notes.txt"})])(_noop)
    reg.syscall("fs.list", "List a directory.",
                args=S.obj({"path": S.path(), "hidden": S.boolean()}, required=["path"]),
                result=table, capability="fs.read", risk=Risk.READ,
                examples=[("what is in /etc", {"path": "/etc"}), ("ls", {"path": "."})])(_noop)
    reg.syscall("proc.port", "Which process listens on a port.",
                args=S.obj({"port": S.integer(minimum=1, maximum=65535)}, required=["port"]),
                result=table, capability="proc.read", risk=Risk.READ,
                examples=[("who uses port 22", {"port": 22})])(_noop)
    reg.syscall("proc.signal", "Send a signal to a process.",
                args=S.obj({"pid": S.pid(), "signal": S.enum(["TERM", "KILL", "HUP"])}, required=["pid"]),
                result=table, capability="proc.kill", risk=Risk.DESTRUCTIVE,
                examples=[("kill 4242", {"pid": 4242, "signal": "KILL"})])(_noop)
    answer.register(reg)
    return reg
