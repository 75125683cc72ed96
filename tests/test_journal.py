"""Undo journal and trash: every side-effect class is reversed; crashes recover."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import urllib.parse
from pathlib import Path

import pytest
from safety_env import Env, make_env

from syscalls import journal as J


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    return make_env(tmp_path, monkeypatch)


def snapshot(root: Path) -> dict[str, tuple[str, int, bytes | str, int]]:
    out: dict[str, tuple[str, int, bytes | str, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in (".local",)]
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = os.lstat(p)
            rel = str(p.relative_to(root))
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", 0, os.readlink(p), 0)
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", stat.S_IMODE(st.st_mode), b"", 0)
            else:
                out[rel] = ("file", stat.S_IMODE(st.st_mode), p.read_bytes(), int(st.st_mtime))
    return out


def test_undo_restores_every_side_effect_class(env: Env) -> None:
    w = env.cwd
    (w / "keep.txt").write_text("original")
    (w / "old.txt").write_text("to be moved")
    (w / "mode.sh").write_text("#!/bin/sh\n")
    os.chmod(w / "mode.sh", 0o644)
    (w / "stamp").write_text("t")
    os.utime(w / "stamp", (1_000_000, 1_000_000))
    (w / "gone").mkdir()
    (w / "gone" / "a").write_text("aaa")
    (w / "src.txt").write_text("copy me")
    before = snapshot(w)
    with env.disp.journal.plan() as plan:  # type: ignore[union-attr]
        steps = [
            ("fs.write", {"path": "keep.txt", "content": "clobbered"}),
            ("fs.write", {"path": "new.txt", "content": "fresh"}),
            ("fs.append", {"path": "keep.txt", "content": "+more"}),
            ("fs.move", {"src": "old.txt", "dest": "moved.txt"}),
            ("fs.chmod", {"path": "mode.sh", "mode": "755"}),
            ("fs.mkdir", {"path": "made/deeper", "parents": True}),
            ("fs.touch", {"path": "stamp"}),
            ("fs.touch", {"path": "created-by-touch"}),
            ("fs.delete", {"path": "gone", "recursive": True}),
            ("fs.copy", {"src": "src.txt", "dest": "copy.txt"}),
            ("fs.symlink", {"path": "lnk", "target": "src.txt"}),
        ]
        for call, args in steps:
            r = env.run(call, args)
            assert r.ok, (call, r.error)
    assert snapshot(w) != before
    report = J.undo(state=env.state, data=env.data)
    assert report, "undo reported nothing"
    assert {e["step"] for e in report} <= {h["step"] for h in env.disp.journal.history()}  # type: ignore[union-attr]
    after = snapshot(w)
    assert after == before, {k: (before.get(k), after.get(k)) for k in set(before) | set(after)
                             if before.get(k) != after.get(k)}
    hist = env.disp.journal.history()  # type: ignore[union-attr]
    assert all(h["state"] == "undone" for h in hist if h["plan"] == plan and h["effects"])
    with pytest.raises(J.NotFound):
        J.undo(plan, state=env.state, data=env.data)


def test_delete_goes_to_freedesktop_trash_and_restore_beside(env: Env) -> None:
    f = env.cwd / "my file%.txt"
    f.write_text("v1")
    assert env.run("fs.delete", {"path": "my file%.txt"}).ok
    info = env.data / "Trash" / "info" / "my file%.txt.trashinfo"
    text = info.read_text()
    assert text.startswith("[Trash Info]\n")
    assert f"Path={urllib.parse.quote(str(f), safe='/')}" in text and "%25" in text and "%20" in text
    assert "DeletionDate=" in text
    # a second file of the same name gets a unique trash name
    f.write_text("v2")
    r = env.run("fs.delete", {"path": "my file%.txt"})
    assert r.ok and r.data and r.data["trash_name"] == "my file%.txt.2"
    listing = J.trash_list(data=env.data)
    assert sorted(i["name"] for i in listing) == ["my file%.txt", "my file%.txt.2"]
    assert all(i["original_path"] == str(f) for i in listing)
    # restoring onto an occupied path restores beside it
    f.write_text("v3")
    out = J.trash_restore("my file%.txt", data=env.data)
    assert out["restored_to"] == str(env.cwd / "my file%.txt (restored)")
    assert f.read_text() == "v3" and (env.cwd / "my file%.txt (restored)").read_text() == "v1"
    assert J.trash_empty(data=env.data) == {"removed": 1, "bytes": 2}
    assert J.trash_list(data=env.data) == []


def test_undo_move_onto_occupied_path_restores_beside(env: Env) -> None:
    (env.cwd / "a").write_text("A")
    assert env.run("fs.move", {"src": "a", "dest": "b"}).ok
    (env.cwd / "a").write_text("squatter")
    J.undo(state=env.state, data=env.data)
    assert (env.cwd / "a").read_text() == "squatter"
    assert (env.cwd / "a (restored)").read_text() == "A"
    assert not (env.cwd / "b").exists()


CRASH_SCRIPT = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from syscalls.registry import Registry, load_builtins
    from syscalls.safety import safe_dispatcher
    from syscalls.types import Answer
    from syscalls.validate import validate
    reg = Registry(); load_builtins(reg)
    d = safe_dispatcher(reg, approve=lambda q: Answer.ONCE, state_dir=sys.argv[1], data_dir=sys.argv[2])
    cwd = Path(sys.argv[3])
    real_put = d.journal.trash.put
    def slow_put(path, name):
        real_put(path, name)
        if path.name == "f2":
            print("MIDSTEP", flush=True)
            time.sleep(60)   # killed here: moved to the trash, step never committed
    d.journal.trash.put = slow_put
    with d.journal.plan("crashplan"):
        for name in ("f0", "f1", "f2", "f3"):
            r = d.handle(validate({"call": "fs.delete", "args": {"path": name}}, reg), cwd)
            assert r.ok, r.error
""")


def test_kill_9_mid_plan_then_recover_and_undo(env: Env) -> None:
    for i in range(4):
        (env.cwd / f"f{i}").write_text(f"content {i}")
    before = snapshot(env.cwd)
    proc = subprocess.Popen([sys.executable, "-c", CRASH_SCRIPT, str(env.state), str(env.data), str(env.cwd)],
                            stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == "MIDSTEP"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert not (env.cwd / "f2").exists() and (env.cwd / "f3").exists()
    rep = J.recover(state=env.state, data=env.data)
    assert len(rep) == 1 and rep[0]["call"] == "fs.delete"
    assert rep[0]["rolled_back"][0]["status"] == "restored"
    assert (env.cwd / "f2").read_text() == "content 2"
    assert J.recover(state=env.state, data=env.data) == []  # idempotent
    J.undo("crashplan", state=env.state, data=env.data)
    assert snapshot(env.cwd) == before
    assert J.trash_list(data=env.data) == []
