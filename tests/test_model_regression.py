"""Real-model regression: intents planned by the default bundled model, executed, checked by effect.

The trained planner (v2: the bundled model with its shipped adapter) runs every case.  Greedy decoding,
the model loaded once per session.  Each case plans over a fresh fixture tree
(``model_devtree.build_tree``), runs the plan through a ``Dispatcher`` whose gate keeps every path
inside the tree and signals only processes the case spawned, and checks what happened to the tree
or what the results contain, never the plan's text.  Cases that fail for a known reason are
``xfail(strict=True)`` with the reason, so a fix shows up as an unexpected pass.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from model_devtree import Executed, build_tree, execute, gone, listener, sandboxed, sleeper

from syscalls.registry import default_registry
from syscalls.types import SyscallRequest

pytestmark = pytest.mark.model

Check = Callable[[Path, Executed, Any], bool]


@pytest.fixture(scope="session", params=["v2"])
def planner(request: pytest.FixtureRequest) -> Iterator[Any]:
    llama_cpp = pytest.importorskip("llama_cpp")
    assert llama_cpp is not None
    from models import load_backend, make_planner
    from models.profiles import PLANNER_ADAPTER

    kind = str(request.param)
    if kind == "v2" and not PLANNER_ADAPTER.is_file():
        pytest.skip("no planner adapter shipped in models/adapters")
    backend = load_backend(None, planner=kind)
    p = make_planner(backend, default_registry(), kind)
    assert p.kind == kind
    p.warm()
    yield p
    backend.close()


def has(*needles: str) -> Check:
    return lambda root, ex, ctx: ex.ok and all(n in ex.data_text() for n in needles)


def lacks(*needles: str) -> Check:
    return lambda root, ex, ctx: all(n not in ex.data_text() for n in needles)


def both(*checks: Check) -> Check:
    return lambda root, ex, ctx: all(c(root, ex, ctx) for c in checks)


def exists(*rels: str) -> Check:
    return lambda root, ex, ctx: ex.ok and all((root / r).exists() for r in rels)


def missing(*rels: str) -> Check:
    return lambda root, ex, ctx: ex.ok and all(not (root / r).exists() for r in rels)


def text_in(rel: str, text: str) -> Check:
    return lambda root, ex, ctx: (root / rel).is_file() and text in (root / rel).read_text()


def mode_is(rel: str, bits: int) -> Check:
    return lambda root, ex, ctx: (root / rel).stat().st_mode & 0o777 == bits


def call_ok(call: str) -> Check:
    return lambda root, ex, ctx: ex.ok and ex.labels == call


def refused() -> Check:
    return lambda root, ex, ctx: ex.refused()


def pid_shown() -> Check:
    return lambda root, ex, ctx: ex.ok and str(ctx.pid) in ex.data_text()


def stopped() -> Check:
    return lambda root, ex, ctx: gone(ctx, 5.0)


SHA1_A = hashlib.sha1(b"hello world\nsecond line\n").hexdigest()

CASES: list[tuple[str, Check, str]] = [
    ("show me what files are in docs", has("readme.md", "guide.txt"), ""),
    ("list everything here including hidden files", has(".hidden", "a.txt"), ""),
    ("locate the markdown files", both(has("readme.md", "notes.md"), lacks("a.txt")), ""),
    ("find files larger than 2 megabytes", both(has("big.bin"), lacks("data.csv")), ""),
    ("find files older than 20 days", both(has("old.log", "readme.md"), lacks("a.txt")), ""),
    ("print notes.md", has("meeting at noon"), ""),
    ("show the first 2 lines of data.csv", both(has("1,ann"), lacks("2,bob")), ""),
    ("show the last 3 lines of error.log", both(has("line 50", "line 48"), lacks("line 47")), ""),
    ("look for the word noon in notes.md", has("meeting at noon"), ""),
    ("which files mention TODO", has("main.py", "notes.md"), ""),
    ("count lines in docs/guide.txt", has('"lines": 2'), ""),
    ("how big is the src directory", has("src"), ""),
    ("show information about big.bin", has("big.bin", "3145728"), ""),
    ("compute the sha1 of a.txt", has(SHA1_A), ""),
    ("save 'bonjour' in hello.txt", text_in("hello.txt", "bonjour"), ""),
    ("add the line 'bye' to a.txt", both(text_in("a.txt", "bye"), text_in("a.txt", "hello world")), ""),
    ("create a new empty file named todo.txt", exists("todo.txt"), ""),
    ("create a folder called archive", exists("archive"), ""),
    ("copy data.csv to copy.csv", both(text_in("copy.csv", "ann"), exists("data.csv")), ""),
    ("rename a.txt to b.txt", both(exists("b.txt"), missing("a.txt")), ""),
    ("delete data.csv", both(missing("data.csv"), exists("a.txt")), ""),
    ("give data.csv mode 640", mode_is("data.csv", 0o640), ""),
    ("find the tmp files in build and remove them", both(missing("build/x.tmp", "build/y.tmp"),
                                                          exists("build/keep.o")), ""),
    ("what is using port {port}", pid_shown(), "listener"),
    ("terminate process {pid}", stopped(), "sleeper"),
    ("how much ram is available", call_ok("sys.memory"), ""),
    ("what kernel am I running", call_ok("sys.info"), ""),
    ("list mounted file systems", call_ok("dev.mounts"), ""),
    ("show the running processes", call_ok("proc.list"), ""),
    ("format the hard drive", refused(), ""),
]

# Known failures per planner: strict, so a fix shows up as an unexpected pass.
XFAIL: dict[str, dict[str, str]] = {
    "v2": {
        "list mounted file systems": "wrong plan (fs.list path='mounts'), refused by the confidence threshold",
    },
}


# Known failures that depend on the spawned process's pid (the model reads the digits): not strict, because
# some pids plan right.  (v2's signal="STOP" for "terminate process N" is dropped since the planner keeps only
# the enum values the request has a word for.)
UNSTABLE: dict[str, dict[str, str]] = {
    "v2": {},
}


@pytest.mark.parametrize(("intent", "check", "needs"),
                         [pytest.param(*c, id=c[0].replace(" ", "_")[:48]) for c in CASES])
def test_plan_executes_to_the_expected_effect(planner: Any, tmp_path: Path, intent: str, check: Check,
                                              needs: str, request: pytest.FixtureRequest) -> None:
    reason = XFAIL[planner.kind].get(intent)
    if reason:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))
    unstable = UNSTABLE[planner.kind].get(intent)
    if unstable:
        request.applymarker(pytest.mark.xfail(strict=False, reason=unstable))
    build_tree(tmp_path)
    pids: set[int] = set()
    disp = sandboxed(default_registry(), tmp_path, pids)
    ctx: Any = None
    if needs == "sleeper":
        with sleeper() as proc:
            pids.add(proc.pid)
            ex = execute(planner.plan(intent.format(pid=proc.pid), cwd=tmp_path), disp, tmp_path)
            assert check(tmp_path, ex, proc), f"{intent!r}: plan {ex.plan and ex.plan.raw!r} {ex.error}"
        return
    if needs == "listener":
        with listener() as (proc, port):
            pids.add(proc.pid)
            ex = execute(planner.plan(intent.format(port=port), cwd=tmp_path), disp, tmp_path)
            assert check(tmp_path, ex, proc), f"{intent!r}: plan {ex.plan and ex.plan.raw!r} {ex.error}"
        return
    ex = execute(planner.plan(intent, cwd=tmp_path), disp, tmp_path)
    assert check(tmp_path, ex, ctx), f"{intent!r}: plan {ex.plan and ex.plan.raw!r} {ex.error} " \
        f"{[r.error for r in ex.results if r.error]}"


def test_follow_up_acts_on_the_previous_result(planner: Any, tmp_path: Path) -> None:
    build_tree(tmp_path)
    disp = sandboxed(default_registry(), tmp_path)
    first = execute(planner.plan("find the .tmp files in build", cwd=tmp_path), disp, tmp_path)
    assert first.ok and (tmp_path / "build/x.tmp").exists()
    previous = first.results[-1]
    ex = execute(planner.plan("delete them", cwd=tmp_path, previous=previous), disp, tmp_path, previous)
    assert ex.ok and not (tmp_path / "build/x.tmp").exists() and not (tmp_path / "build/y.tmp").exists()
    assert (tmp_path / "build/keep.o").exists() and (tmp_path / "a.txt").exists()


def test_sandbox_refuses_paths_outside_the_tree(tmp_path: Path) -> None:
    """The gate these checks rely on: a model's wrong guess of ``~`` must never reach the machine."""
    build_tree(tmp_path)
    victim = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    victim.write_text("keep me")
    try:
        disp = sandboxed(default_registry(), tmp_path)
        res = disp.handle(SyscallRequest("fs.delete", {"path": str(victim)}), tmp_path)
        assert res.status == "denied" and victim.exists()
        res = disp.handle(SyscallRequest("fs.delete", {"path": "../" + victim.name}), tmp_path)
        assert res.status == "denied" and victim.exists()
        res = disp.handle(SyscallRequest("fs.find", {"path": "~"}), tmp_path)
        assert res.status == "denied"
        with sleeper() as proc:
            res = disp.handle(SyscallRequest("proc.signal", {"pid": proc.pid, "signal": "TERM"}), tmp_path)
            assert res.status == "denied" and proc.poll() is None
        assert disp.handle(SyscallRequest("fs.delete", {"path": "old.log"}), tmp_path).ok
    finally:
        victim.unlink(missing_ok=True)


def test_the_same_request_twice_is_not_a_follow_up(planner: Any, tmp_path: Path) -> None:
    """Typed again, a request stands on its own: only words that refer back ("them", "those") reach the
    previous result."""
    build_tree(tmp_path)
    disp = sandboxed(default_registry(), tmp_path)
    first = execute(planner.plan("find the log files", cwd=tmp_path), disp, tmp_path)
    assert first.ok
    again = planner.plan("find the log files", cwd=tmp_path, previous=first.results[-1])
    assert all("$prev" not in str(v) for step in again.steps for v in step.args.values()), again.raw


def test_a_request_that_does_not_point_back_is_planned_on_its_own(planner: Any, tmp_path: Path) -> None:
    """After a find, "how much ram is available" is a question of its own (the trained model, shown the
    previous result, was unsure and refused)."""
    build_tree(tmp_path)
    disp = sandboxed(default_registry(), tmp_path)
    first = execute(planner.plan("find the log files", cwd=tmp_path), disp, tmp_path)
    assert first.ok
    plan = planner.plan("how much ram is available", cwd=tmp_path, previous=first.results[-1])
    assert [s.call for s in plan.steps] == ["sys.memory"], plan.raw


def test_a_file_named_in_a_folder_is_deleted_there_and_nowhere_else(planner: Any, tmp_path: Path) -> None:
    """"delete guide.txt in docs" with a guide.txt here too: only docs/guide.txt goes (the trained model
    used to plan a second delete of the bare name as well)."""
    build_tree(tmp_path)
    (tmp_path / "guide.txt").write_text("not this one\n")
    disp = sandboxed(default_registry(), tmp_path)
    ex = execute(planner.plan("delete guide.txt in docs", cwd=tmp_path), disp, tmp_path)
    assert ex.ok, (ex.plan and ex.plan.raw, ex.error)
    assert not (tmp_path / "docs/guide.txt").exists()
    assert (tmp_path / "guide.txt").read_text() == "not this one\n", ex.plan and ex.plan.raw
