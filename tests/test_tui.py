"""Pilot tests of the Textual TUI against a scripted kernel (tests/frontend_fakes.py)."""

from __future__ import annotations

import asyncio
import functools
import io
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

pytest.importorskip("textual")

from frontend_fakes import FakeKernel, delete_file, list_files, slow, text_answer
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Button, DataTable, Static

from nlshell.tui.app import NlshApp, PromptInput, create_app
from nlshell.tui.screens import ApprovalScreen, HistorySearchScreen
from nlshell.tui.widgets import JobView, Monitor, MonitorSample, ResultTable
from syscalls.types import Answer


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """/undo, /policy and /audit use the real journal and policy: keep them inside tmp_path."""
    monkeypatch.setenv("HOME", str(tmp_path))
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    monkeypatch.setenv("NLSH_STATE_DIR", str(tmp_path / "nlsh-state"))


def sync(fn: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """Run an async pilot test on its own event loop (no async pytest plugin needed)."""

    @functools.wraps(fn)
    def wrapper(*args: object, **kwargs: object) -> None:
        asyncio.run(fn(*args, **kwargs))  # type: ignore[arg-type]

    return wrapper


def plain(widget: Static) -> str:
    """The text a Static shows, rendered the way a terminal would (no styles)."""
    console = Console(width=120, file=io.StringIO(), record=True, color_system=None)
    console.print(widget.content)
    return console.export_text()


def sample() -> MonitorSample:
    return MonitorSample(42.0, "1.0 GiB / 2.0 GiB", [{"mountpoint": "/", "percent": 63.5}],
                         [{"pid": 1, "name": "init", "cpu_percent": 0.5},
                          {"pid": 77, "name": "busy", "cpu_percent": 99.0}])


def make_app(kernel: FakeKernel, tmp_path: Path, **kw: object) -> NlshApp:
    return create_app(kernel, cwd=tmp_path, history_file=tmp_path / "state" / "history",
                      monitor_source=sample, monitor_interval=0.05, **kw)  # type: ignore[arg-type]


async def type_and_enter(pilot: Pilot[None], text: str) -> None:
    prompt = pilot.app.query_one(PromptInput)
    prompt.focus()
    prompt.value = text
    await pilot.press("enter")


async def wait_for(pilot: Pilot[None], cond: Callable[[], bool], tries: int = 200) -> None:
    for _ in range(tries):
        if cond():
            return
        await pilot.pause(0.02)
    raise AssertionError("condition not reached")


def job_views(app: NlshApp) -> list[JobView]:
    return list(app.query(JobView).results(JobView))


@sync
async def test_intent_shows_a_sortable_table(tmp_path: Path) -> None:
    kernel = FakeKernel({"list files": list_files()})
    app = make_app(kernel, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_enter(pilot, "list files")
        await wait_for(pilot, lambda: bool(app.query(ResultTable)))
        await wait_for(pilot, lambda: job_views(app)[0].status == "ok")
        assert kernel.submitted[0].text == "list files"
        assert kernel.submitted[0].cwd == tmp_path
        table = app.query_one(ResultTable)
        dt = table.query_one(DataTable)
        assert dt.row_count == 3
        names = [str(dt.get_row_at(i)[0]) for i in range(dt.row_count)]
        assert names == ["beta.py", "alpha.txt", "gamma.log"]
        # sort by size (raw bytes, not the formatted text) with the keyboard
        dt.focus()
        dt.move_cursor(column=table.columns.index("size_bytes"))
        await pilot.press("s")
        names = [str(dt.get_row_at(i)[0]) for i in range(dt.row_count)]
        assert names == ["alpha.txt", "beta.py", "gamma.log"]
        await pilot.press("s")
        names = [str(dt.get_row_at(i)[0]) for i in range(dt.row_count)]
        assert names == ["gamma.log", "beta.py", "alpha.txt"]
        # cells use the shared unit formatting
        assert str(dt.get_row_at(0)[table.columns.index("size_bytes")]) == "488.3 KiB"
        # the plan is shown in plain words
        plan = job_views(app)[0].query_one(".plan", Static)
        assert "fs.list" in plain(plan)


@sync
async def test_long_table_renders_a_page_then_more(tmp_path: Path) -> None:
    rows = [{"name": f"f{i:04d}", "size_bytes": i} for i in range(250)]
    kernel = FakeKernel({"list many": list_files(rows)})
    app = make_app(kernel, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_enter(pilot, "list many")
        await wait_for(pilot, lambda: bool(app.query(ResultTable)))
        table = app.query_one(ResultTable)
        await wait_for(pilot, lambda: table.query_one(DataTable).row_count == 100)
        more = table.query_one("#more", Button)
        assert "150 more" in str(more.label)
        more.press()
        await wait_for(pilot, lambda: table.query_one(DataTable).row_count == 200)
        table.action_more()
        await wait_for(pilot, lambda: table.query_one(DataTable).row_count == 250)
        await wait_for(pilot, lambda: not table.query("#more"))


@sync
async def test_approval_deny_then_once(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("x" * 1234)
    kernel = FakeKernel({"delete victim": delete_file("victim.txt", on_once=victim.unlink),
                         "delete it again": delete_file("victim.txt", on_once=victim.unlink)})
    app = make_app(kernel, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_enter(pilot, "delete victim")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        details = plain(app.screen.query_one("#approval-details", Static))
        assert "fs.delete" in details and "destructive" in details and "1.2 KiB" in details
        assert str(victim) in details
        await pilot.press("d")
        await wait_for(pilot, lambda: job_views(app)[0].status == "denied")
        assert kernel.jobs[0].answers == [Answer.DENY]
        assert victim.exists()
        await type_and_enter(pilot, "delete it again")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.click("#once")
        await wait_for(pilot, lambda: len(job_views(app)) == 2 and job_views(app)[1].status == "ok")
        assert kernel.jobs[1].answers == [Answer.ONCE]
        assert not victim.exists()


@sync
async def test_a_plan_the_model_was_unsure_of_is_asked_about_whole_and_runs_once_or_not(tmp_path: Path) -> None:
    """The kernel's question for an unsure plan (``Question.unsure``): every step shown, no session answer."""
    from frontend_fakes import FakeJob

    from nlshell import events as ev
    from syscalls.types import Question, Risk, SyscallRequest

    steps = (SyscallRequest("fs.find", {"path": "~", "sort": "size", "limit": 5}),
             SyscallRequest("fs.delete", {"path": "$0.path"}))

    def unsure(job: FakeJob) -> None:
        q = Question(request=steps[0], capability="fs.delete", risk=Risk.DESTRUCTIVE, scope="",
                     reason="the model was unsure what you meant (confidence 0.52)", unsure=0.52, steps=steps)
        job.ask(q)
        job.emit(ev.Finished(job.id, results=[]))

    kernel = FakeKernel({"the 5 biggest files under ~": unsure})
    app = make_app(kernel, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_enter(pilot, "the 5 biggest files under ~")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        assert "unsure" in str(app.screen.query_one("#approval-title").render())
        details = plain(app.screen.query_one("#approval-details", Static))
        assert "fs.find" in details and "fs.delete" in details and "confidence 0.52" in details
        assert not app.screen.query("#session")
        await pilot.press("o")
        await wait_for(pilot, lambda: bool(kernel.jobs) and kernel.jobs[0].answers == [Answer.ONCE])


@sync
async def test_approval_escape_denies_and_shows_taint(tmp_path: Path) -> None:
    kernel = FakeKernel({"clean up": delete_file("notes.txt", tainted_by="/tmp/README.md")})
    app = make_app(kernel, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await type_and_enter(pilot, "clean up")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        details = plain(app.screen.query_one("#approval-details", Static))
        assert "proposed after reading /tmp/README.md" in details
        await pilot.press("escape")
        await wait_for(pilot, lambda: job_views(app)[0].status == "denied")
        assert kernel.jobs[0].answers == [Answer.DENY]


@sync
async def test_escape_cancels_the_running_job_and_app_keeps_running(tmp_path: Path) -> None:
    kernel = FakeKernel({"think hard": slow, "hello": text_answer("hi there")})
    app = make_app(kernel, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_enter(pilot, "think hard")
        await wait_for(pilot, lambda: bool(app.running))
        await pilot.press("escape")
        await wait_for(pilot, lambda: job_views(app)[0].status == "cancelled")
        assert kernel.jobs[0].cancel_event.is_set()
        assert app.is_running
        # ctrl+c cancels too, without quitting
        await type_and_enter(pilot, "think hard")
        await wait_for(pilot, lambda: len(app.running) == 1)
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: job_views(app)[1].status == "cancelled")
        assert app.is_running
        await type_and_enter(pilot, "hello")
        await wait_for(pilot, lambda: job_views(app)[2].status == "ok")


@sync
async def test_cancel_while_approval_is_open_denies(tmp_path: Path) -> None:
    kernel = FakeKernel({"delete x": delete_file("x")})
    app = make_app(kernel, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_enter(pilot, "delete x")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: job_views(app)[0].status == "cancelled")
        assert not isinstance(app.screen, ApprovalScreen)
        assert kernel.jobs[0].answers == [Answer.DENY]


@sync
async def test_slash_commands(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    kernel = FakeKernel({"list files": list_files()})
    app = make_app(kernel, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_enter(pilot, "/help")
        notes = app.query(".help")
        assert notes and "/undo" in plain(notes.first(Static))
        await type_and_enter(pilot, "/cd sub")
        assert app.cwd == tmp_path / "sub"
        assert app.sub_title == str(tmp_path / "sub")
        await type_and_enter(pilot, "/cd nowhere")
        assert app.cwd == tmp_path / "sub"
        assert "no such directory" in plain(list(app.query(".note").results(Static))[-1])
        await type_and_enter(pilot, "list files")
        await wait_for(pilot, lambda: bool(kernel.submitted))
        assert kernel.submitted[0].cwd == tmp_path / "sub"
        await type_and_enter(pilot, "/model")
        await wait_for(pilot, lambda: "fake-135m" in plain(list(app.query(".note").results(Static))[-1]))
        await type_and_enter(pilot, "/bogus")
        assert "unknown command /bogus" in plain(list(app.query(".note").results(Static))[-1])
        await type_and_enter(pilot, "/undo")
        await wait_for(pilot, lambda: "undo" in plain(list(app.query(".note").results(Static))[-1]))
        await type_and_enter(pilot, "/clear")
        await pilot.pause()
        assert not app.query(JobView) and not app.query(".note")
        assert len(kernel.submitted) == 1  # slash commands never reach the kernel


@sync
async def test_history_persists_and_is_searchable(tmp_path: Path) -> None:
    kernel = FakeKernel({"hello": text_answer("hi"), "list files": list_files()})
    app = make_app(kernel, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_and_enter(pilot, "hello")
        await type_and_enter(pilot, "list files")
        await wait_for(pilot, lambda: len(job_views(app)) == 2 and job_views(app)[1].status == "ok")
    assert (tmp_path / "state" / "history").exists()
    app2 = make_app(kernel, tmp_path)
    async with app2.run_test(size=(100, 30)) as pilot:
        prompt = app2.query_one(PromptInput)
        await pilot.press("up")
        assert prompt.value == "list files"
        await pilot.press("up")
        assert prompt.value == "hello"
        await pilot.press("down", "down")
        assert prompt.value == ""
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: isinstance(app2.screen, HistorySearchScreen))
        await pilot.press("h", "e", "l")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app2.screen, HistorySearchScreen))
        assert prompt.value == "hello"


@sync
async def test_tab_completes_paths(tmp_path: Path) -> None:
    (tmp_path / "reports").mkdir()
    (tmp_path / "readme.md").write_text("x")
    (tmp_path / "zeta.txt").write_text("x")
    app = make_app(FakeKernel(), tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        prompt = app.query_one(PromptInput)
        prompt.value = "show ze"
        prompt.cursor_position = len(prompt.value)
        await pilot.press("tab")
        assert prompt.value == "show zeta.txt"
        assert prompt.has_focus
        prompt.value = "list re"
        prompt.cursor_position = len(prompt.value)
        await pilot.press("tab")
        assert prompt.value == "list re"
        hint = plain(app.query_one("#hint", Static))
        assert "reports/" in hint and "readme.md" in hint
        prompt.value = "/un"
        prompt.cursor_position = 3
        await pilot.press("tab")
        assert prompt.value == "/undo"


@sync
async def test_side_panel_toggles_and_samples(tmp_path: Path) -> None:
    app = make_app(FakeKernel(), tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        monitor = app.query_one(Monitor)
        assert not monitor.display
        await pilot.press("f2")
        assert monitor.display
        await wait_for(pilot, lambda: monitor.samples >= 1)
        procs = monitor.query_one(".procs", DataTable)
        assert [str(procs.get_row_at(i)[1]) for i in range(procs.row_count)] == ["init", "busy"]
        await pilot.press("f2")
        assert not monitor.display


@sync
async def test_failed_intent_shows_the_error(tmp_path: Path) -> None:
    app = make_app(FakeKernel(), tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await type_and_enter(pilot, "frobnicate the flux")
        await wait_for(pilot, lambda: job_views(app)[0].status == "failed")
        text = " ".join(plain(s) for s in job_views(app)[0].query(Static).results(Static))
        assert "no scenario" in text and "rephrase" in text


@sync
async def test_policy_shows_the_configured_policy_file(tmp_path: Path) -> None:
    """/policy lists the rules of the file the configuration names (the policy the kernel's gate enforces)."""
    from nlshell.session_factory import open_kernel

    policy = tmp_path / "site-policy.toml"
    policy.write_text('defaults = true\ndeny = ["fs.read:~/vault-7f3/**"]\n')
    cfg = tmp_path / "xdg_config_home" / "nlshell"
    cfg.mkdir(parents=True)
    (cfg / "config.toml").write_text(f'policy = "{policy}"\n')
    script = tmp_path / "script.json"
    script.write_text("[]")
    kernel = open_kernel(model=f"scripted:{script}")
    try:
        app = create_app(kernel, cwd=tmp_path, history_file=tmp_path / "state" / "history",
                         monitor_source=sample, monitor_interval=0.05)
        async with app.run_test(size=(100, 30)) as pilot:
            await type_and_enter(pilot, "/policy")
            await wait_for(pilot, lambda: "vault-7f3" in "".join(plain(n) for n in app.query(".note").results(Static)))
            shown = "".join(plain(n) for n in app.query(".note").results(Static))
            assert "fs.read:~/vault-7f3/**" in shown and "deny" in shown
    finally:
        kernel.close()
