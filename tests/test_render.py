"""Rendering is tested as strings at a fixed width (results are data; this is the only text)."""

from __future__ import annotations

import io
import time

from rich.console import Console

from models.plan import Plan, PlanStep
from nlshell import render
from syscalls.display import escape_for_display
from syscalls.types import SyscallRequest, SyscallResult, View


def text_of(renderable: object, width: int = 100) -> str:
    buf = io.StringIO()
    Console(file=buf, width=width, color_system=None, force_terminal=False).print(renderable)
    return buf.getvalue()


def test_human_size_units() -> None:
    assert render.human_size(0) == "0 B"
    assert render.human_size(1023) == "1023 B"
    assert render.human_size(1536) == "1.5 KiB"
    assert render.human_size(10 * 1024**3) == "10.0 GiB"


def test_time_fields_show_absolute_and_relative() -> None:
    now = 1_700_000_000.0
    out = render.format_value("mtime", now - 3 * 86400, now)
    assert "(3 d ago)" in out and out.startswith("2023-11-")


def test_control_and_bidi_characters_are_escaped() -> None:
    evil = "a\x1b[31mred\x07\u202eevil"
    out = escape_for_display(evil)
    assert "\x1b" not in out and "\u202e" not in out and "\x07" not in out
    assert "\\e[31m" in out and "\\u202e" in out


def test_table_view_renders_rows_with_units() -> None:
    now = time.time()
    res = SyscallResult(
        request=SyscallRequest("fs.list", {"path": "."}),
        status="ok",
        data={"entries": [{"name": "big.iso", "size_bytes": 3 * 1024**3, "mtime": now - 60},
                          {"name": "x\x1b]0;pwned\x07.txt", "size_bytes": 10, "mtime": now - 7200}]},
    )
    out = text_of(render.result(res, View("table", "entries")))
    assert "3.0 GiB" in out and "10 B" in out and "big.iso" in out
    assert "\x1b" not in out and "x\\e]0;pwned\\x07.txt" in out
    assert "1 min ago" in out and "2 h ago" in out


def test_plain_table_has_no_box_characters() -> None:
    res = SyscallResult(SyscallRequest("proc.list", {}), "ok",
                        data={"entries": [{"pid": 1, "name": "init"}]})
    out = text_of(render.result(res, View("table", "entries"), plain=True))
    assert "─" not in out and "│" not in out
    assert out.split()[:4] == ["pid", "name", "1", "init"]


def test_empty_table_says_no_matches() -> None:
    res = SyscallResult(SyscallRequest("fs.find", {}), "ok", data={"entries": []})
    assert "(no matches)" in text_of(render.result(res, View("table", "entries")))


def test_error_shows_target_and_hint() -> None:
    res = SyscallResult(SyscallRequest("fs.read", {"path": "/nope"}), "failed",
                        error={"message": "No such file or directory", "target": "/nope",
                               "hint": "check the spelling"})
    out = text_of(render.result(res))
    assert "failed: No such file or directory [/nope]" in out and "check the spelling" in out


def test_deep_tree_renders_without_recursion_error() -> None:
    node: dict[str, object] = {"name": "leaf"}
    for i in range(3000):
        node = {"name": f"n{i}", "children": [node]}
    tree = render.tree([node])
    assert tree.children  # built iteratively


def test_plan_describes_steps_in_plain_words() -> None:
    plan = Plan("delete old logs", [PlanStep("fs.find", {"path": "/var/tmp", "name": "*.log"}),
                                    PlanStep("fs.delete", {"path": "$0.path"})])
    out = text_of(render.plan(plan, plain=True, risks={"fs.find": "read", "fs.delete": "destructive"}))
    assert "plan for: delete old logs" in out
    assert "fs.find  path='/var/tmp' name='*.log'" in out
    assert "destructive" in out
