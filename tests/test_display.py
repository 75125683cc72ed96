"""Hostile file names, created for real, shown inertly: by the table renderer and by the approval question.

One function escapes untrusted text for every layer (``syscalls.display.escape_for_display``).
"""

from __future__ import annotations

import io
import os
import unicodedata
from pathlib import Path

import pytest
from rich.console import Console
from safety_env import Env, make_env

from nlshell import render
from nlshell.approval import question_lines
from nlshell.tui.screens import question_table
from syscalls.display import escape_for_display
from syscalls.types import Answer

UNSAFE = {"Cc", "Cf", "Cs", "Zl", "Zp"}

# name → how it must read on the screen
HOSTILE = {
    "nl\nfake-line": "nl\\nfake-line",
    "cr\roverwrite": "cr\\roverwrite",
    "esc\x1b[31mred": "esc\\e[31mred",
    "osc\x1b]0;title\x07": "osc\\e]0;title\\x07",
    "csi\x9b2J": "csi\\x9b2J",
    "nel\x85del\x7f": "nel\\x85del\\x7f",
    "tab\there": "tab\\there",
    "lre\u202a": "lre\\u202a",
    "rle\u202b": "rle\\u202b",
    "pdf\u202c": "pdf\\u202c",
    "lro\u202d": "lro\\u202d",
    "rlo\u202etxt.exe": "rlo\\u202etxt.exe",
    "lri\u2066": "lri\\u2066",
    "rli\u2067": "rli\\u2067",
    "fsi\u2068": "fsi\\u2068",
    "pdi\u2069": "pdi\\u2069",
    "lrm\u200e": "lrm\\u200e",
    "rlm\u200f": "rlm\\u200f",
    "alm\u061c": "alm\\u061c",
    "ls\u2028ps\u2029": "ls\\u2028ps\\u2029",
    "café-日本.txt": "café-日本.txt",
}
RAW_CSI = b"raw\x9b2J"  # a lone byte 0x9b, not UTF-8: CSI on an 8-bit terminal
RAW_SHOWN = "raw\\udc9b2J"


def inert(text: str) -> bool:
    """No character that could drive the terminal (the console's own line breaks aside)."""
    return not [ch for ch in text if ch != "\n" and unicodedata.category(ch) in UNSAFE]


def shown(renderable: object) -> str:
    buf = io.StringIO()
    Console(file=buf, width=250, color_system=None, force_terminal=False).print(renderable)
    return buf.getvalue()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    e = make_env(tmp_path, monkeypatch)
    d = e.cwd / "d"
    d.mkdir()
    for name in HOSTILE:
        (d / name).write_text("x")
    fd = os.open(os.fsencode(d) + b"/" + RAW_CSI, os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)
    return e


def test_escape_for_display_is_inert_keeps_text_and_is_idempotent() -> None:
    for name, expected in HOSTILE.items():
        assert escape_for_display(name) == expected
        assert escape_for_display(expected) == expected  # escaping what is already shown changes nothing
    assert escape_for_display(os.fsdecode(RAW_CSI)) == RAW_SHOWN
    assert escape_for_display("a\\b \u00e9 日本 \U0001f600") == "a\\b \u00e9 日本 \U0001f600"
    assert escape_for_display(12) == "12"


def test_table_of_a_listing_shows_every_hostile_name_escaped(env: Env) -> None:
    res = env.run("fs.list", {"path": "d"})
    assert res.ok, res.error
    out = shown(render.result(res, env.reg.get("fs.list").view))
    assert inert(out), [ch for ch in out if ch != "\n" and unicodedata.category(ch) in UNSAFE]
    for expected in [*HOSTILE.values(), RAW_SHOWN]:
        assert expected in out
    assert "café-日本.txt" in out


def test_approval_names_the_real_hostile_file_escaped(env: Env) -> None:
    """A plain-looking link that resolves to a hostile name: the question names the real file, inertly."""
    d = env.cwd / "d"
    names = [*HOSTILE, os.fsdecode(RAW_CSI)]
    for i, name in enumerate(names):
        os.symlink(d / name, env.cwd / f"pick-{i}")
    env.approver.default = Answer.DENY
    seen: list[str] = []
    for i, name in enumerate(names):
        r = env.run("fs.write", {"path": f"pick-{i}", "content": "y"})
        assert r.status == "denied"
        q = env.approver.questions[-1]
        lines = "".join(shown(line) for line in question_lines(q))
        table = shown(question_table(q))
        for text in (lines, table):
            assert inert(text), [ch for ch in text if ch != "\n" and unicodedata.category(ch) in UNSAFE]
        target = [line for line in lines.splitlines() if "target:" in line]
        assert len(target) == 1, lines
        real = escape_for_display(str(d / name))
        assert target[0].strip() == f"target: pick-{i} → {real}"
        assert f"pick-{i} → {real}" in table  # the TUI's approval modal
        seen.append(target[0].split("→", 1)[1])
    assert len(set(seen)) == len(names)  # each question tells its file apart from the others
    assert (d / "nl\nfake-line").read_text() == "x"  # denied: nothing was written
