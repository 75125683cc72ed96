"""SVG snapshots of the TUI's main screens, built with ``create_app`` and the scripted fake kernel.

Deterministic: fixed cwd string, fixed monitor sample, no clock, spinners stopped before the shot.
Update with ``pytest tests/test_tui_snapshots.py --snapshot-update`` after a deliberate change.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pytest_textual_snapshot")

from frontend_fakes import FakeKernel, delete_file, list_files
from textual.pilot import Pilot

from nlshell.tui.app import NlshApp, PromptInput, create_app
from nlshell.tui.screens import ApprovalScreen
from nlshell.tui.widgets import JobView, Monitor, MonitorSample

CWD = "/srv/demo"


def sample() -> MonitorSample:
    return MonitorSample(42.0, "1.0 GiB / 2.0 GiB", [{"mountpoint": "/", "percent": 63.5}],
                         [{"pid": 1, "name": "init", "cpu_percent": 0.5},
                          {"pid": 77, "name": "busy", "cpu_percent": 99.0}])


def app_for(tmp_path: Path, scenarios: dict[str, Any]) -> NlshApp:
    return create_app(FakeKernel(scenarios), cwd=CWD, history_file=tmp_path / "history",
                      monitor_source=sample, monitor_interval=3600, model="fake-135m")


async def until(pilot: Pilot[None], cond: Callable[[], bool]) -> None:
    for _ in range(300):
        if cond():
            await pilot.pause()
            return
        await pilot.pause(0.02)
    raise AssertionError("the screen did not settle")


async def submit(pilot: Pilot[None], text: str) -> None:
    prompt = pilot.app.query_one(PromptInput)
    prompt.value = text
    await pilot.press("enter")


def test_transcript_with_table(snap_compare: Any, tmp_path: Path) -> None:
    app = app_for(tmp_path, {"list files": list_files()})

    async def run_before(pilot: Pilot[None]) -> None:
        await submit(pilot, "list files")
        await until(pilot, lambda: any(v.status == "ok" for v in app.query(JobView).results(JobView)))

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_approval_modal(snap_compare: Any, tmp_path: Path) -> None:
    app = app_for(tmp_path, {"delete notes": delete_file("notes.txt", size=4096, tainted_by="/srv/demo/README")})

    async def run_before(pilot: Pilot[None]) -> None:
        await submit(pilot, "delete notes")
        await until(pilot, lambda: isinstance(app.screen, ApprovalScreen))

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_side_panel(snap_compare: Any, tmp_path: Path) -> None:
    app = app_for(tmp_path, {})

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press("f2")
        await until(pilot, lambda: app.query_one(Monitor).samples >= 1)

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)
