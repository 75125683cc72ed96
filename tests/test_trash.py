"""Per-volume trash: a deletion on another file system stays on it (freedesktop.org Trash spec).

The real tests mount a tmpfs on a temp dir (root only; skipped with the reason otherwise) so the
deleted path is on a second file system; the home trash is a throw-away one (``safety_env``).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from safety_env import Env, make_env

from syscalls import journal as J
from syscalls import trash as T
from syscalls.errors import InvalidRequest

UID = os.getuid()
NLSH = str(Path(sys.executable).with_name("nlsh"))


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    return make_env(tmp_path, monkeypatch)


@pytest.fixture
def vol(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs mounted on a temp dir: a second file system, unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root; the per-volume trash tests need a second file system")
    if shutil.which("mount") is None:
        pytest.skip("no mount(8) here; the per-volume trash tests need a second file system")
    mnt = tmp_path / "vol"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=755", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip() or r.returncode}); "
                    "the per-volume trash tests need a second file system")
    try:
        yield mnt
    finally:
        if subprocess.run(["umount", str(mnt)], capture_output=True).returncode:
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def home_items(env: Env) -> list[str]:
    files = env.data / "Trash" / "files"
    return sorted(os.listdir(files)) if files.is_dir() else []


def test_cross_device_delete_lands_in_the_volume_trash_and_undo_brings_it_back(
        env: Env, vol: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (vol / "data").mkdir()
    (vol / "data" / "big file.bin").write_bytes(b"x" * 4096)
    r = env.run("fs.delete", {"path": str(vol / "data" / "big file.bin")})
    assert r.ok, r.error
    can = vol / f".Trash-{UID}"
    assert r.data is not None and r.data["trash"] == str(can) and r.data["trash_name"] == "big file.bin"
    assert "note" not in r.data
    assert stat.S_IMODE(os.lstat(can).st_mode) == 0o700
    assert (can / "files" / "big file.bin").read_bytes() == b"x" * 4096
    info = (can / "info" / "big file.bin.trashinfo").read_text()
    assert info.startswith("[Trash Info]\n")
    assert "\nPath=data/big%20file.bin\n" in info and "\nDeletionDate=" in info  # relative to the top dir
    assert home_items(env) == []                                               # nothing crossed over
    effect = [e for e in env.disp.journal.entries() if e.get("op") == "effect"][-1]  # type: ignore[union-attr]
    assert effect["trash"] == str(can) and effect["topdir"] == str(vol)

    # nlsh trash sees it: the volume named in NLSH_TRASH_VOLUMES, and the mount table's scan
    monkeypatch.setenv("NLSH_TRASH_VOLUMES", str(vol))
    listing = J.trash_list(data=env.data)
    assert [(i["name"], i["original_path"], i["trash"]) for i in listing] == [
        ("big file.bin", str(vol / "data" / "big file.bin"), str(can))]
    monkeypatch.delenv("NLSH_TRASH_VOLUMES")
    assert str(can) in {i["trash"] for i in J.trash_list(data=env.data)}

    report = J.undo(state=env.state, data=env.data)
    assert [e["status"] for e in report] == ["restored"]
    assert (vol / "data" / "big file.bin").read_bytes() == b"x" * 4096
    assert os.listdir(can / "files") == [] and os.listdir(can / "info") == []


def test_same_device_delete_still_uses_the_home_trash(env: Env, vol: Path) -> None:
    (env.cwd / "here.txt").write_text("home")
    r = env.run("fs.delete", {"path": "here.txt"})
    assert r.ok and r.data is not None and r.data["trash"] == str(env.data / "Trash")
    assert home_items(env) == ["here.txt"]
    info = (env.data / "Trash" / "info" / "here.txt.trashinfo").read_text()
    assert f"\nPath={env.cwd / 'here.txt'}\n" in info                          # absolute in the home trash
    assert not (vol / f".Trash-{UID}").exists()


def test_a_sticky_shared_trash_is_used_a_plain_one_ignored(env: Env, vol: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    shared = vol / ".Trash"
    (shared / str(UID)).mkdir(parents=True, mode=0o700)
    os.chmod(shared, 0o777)                                  # not sticky: the spec says never use it
    (vol / "f").write_text("one")
    r = env.run("fs.delete", {"path": str(vol / "f")})
    assert r.ok and r.data is not None and r.data["trash"] == str(vol / f".Trash-{UID}")
    assert os.listdir(shared / str(UID)) == []

    shutil.rmtree(shared / str(UID))
    os.chmod(shared, 0o1777)                                 # sticky: $topdir/.Trash/$uid, made 0700
    (vol / "f").write_text("two")
    r = env.run("fs.delete", {"path": str(vol / "f")})
    assert r.ok and r.data is not None and r.data["trash"] == str(shared / str(UID))
    assert (shared / str(UID) / "files" / "f").read_text() == "two"
    assert stat.S_IMODE(os.lstat(shared / str(UID)).st_mode) == 0o700
    assert "\nPath=f\n" in (shared / str(UID) / "info" / "f.trashinfo").read_text()

    # both are listed; the same name in two trashes is restored by its place
    monkeypatch.setenv("NLSH_TRASH_VOLUMES", str(vol))
    assert sorted(i["trash"] for i in J.trash_list(data=env.data)) == sorted(
        [str(shared / str(UID)), str(vol / f".Trash-{UID}")])
    with pytest.raises(InvalidRequest, match="more than one trash"):
        J.trash_restore("f", data=env.data)
    out = J.trash_restore(str(shared / str(UID) / "files" / "f"), data=env.data)
    assert out["restored_to"] == str(vol / "f") and (vol / "f").read_text() == "two"
    out = J.trash_restore("f", data=env.data)
    assert out["restored_to"] == str(vol / "f (restored)") and (vol / "f (restored)").read_text() == "one"
    assert J.trash_list(data=env.data) == []


def test_shared_trash_rules_without_a_mount(tmp_path: Path) -> None:
    top = tmp_path / "top"
    top.mkdir()
    assert T.volume(top).root == top / f".Trash-{UID}"            # no .Trash: the per-user one, made
    assert stat.S_IMODE(os.lstat(top / f".Trash-{UID}").st_mode) == 0o700
    os.symlink(tmp_path, top / ".Trash")                         # a symbolic link is never a .Trash
    os.chmod(tmp_path, 0o1777)
    try:
        assert T.volume(top).root == top / f".Trash-{UID}"
    finally:
        os.chmod(tmp_path, 0o755)
    os.unlink(top / ".Trash")
    (top / ".Trash").mkdir(mode=0o777)
    os.chmod(top / ".Trash", 0o777)
    assert T.volume(top).root == top / f".Trash-{UID}"            # not sticky: ignored
    os.chmod(top / ".Trash", 0o1777)
    assert T.volume(top).root == top / ".Trash" / str(UID)        # sticky: used
    # a per-user trash that is a symbolic link is never used, nor listed
    other = tmp_path / "other"
    other.mkdir()
    (other / ".Trash-x").mkdir()
    os.symlink(other / ".Trash-x", other / f".Trash-{UID}")
    with pytest.raises(OSError):
        T.volume(other)
    assert T.at(other / f".Trash-{UID}", T.home(tmp_path / "data")) is None


def test_no_usable_volume_trash_falls_back_to_home_or_refuses_a_big_copy(
        env: Env, vol: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (vol / f".Trash-{UID}").write_text("not a directory")        # the per-user trash cannot be made
    (vol / "small").write_text("s")
    r = env.run("fs.delete", {"path": str(vol / "small")})
    assert r.ok and r.data is not None and r.data["trash"] == str(env.data / "Trash")
    assert "no usable trash" in r.data["note"] and str(vol) in r.data["note"]
    assert home_items(env) == ["small"]
    assert J.undo(state=env.state, data=env.data)[0]["status"] == "restored"
    assert (vol / "small").read_text() == "s"

    monkeypatch.setattr(T, "FALLBACK_COPY_LIMIT", 0)
    r = env.run("fs.delete", {"path": str(vol / "small")})
    assert r.status == "failed" and r.error is not None and r.error["type"] == "LimitExceeded"
    assert str(vol / "small") in r.error["message"] and f".Trash-{UID}" in r.error["hint"]
    assert (vol / "small").read_text() == "s" and home_items(env) == []
    assert os.listdir(env.data / "Trash" / "info") == []


def test_a_volume_trash_is_not_trashed_into_itself(env: Env, vol: Path) -> None:
    (vol / "f").write_text("x")
    assert env.run("fs.delete", {"path": str(vol / "f")}).ok
    r = env.run("fs.delete", {"path": str(vol / f".Trash-{UID}" / "files" / "f")})
    assert r.status == "invalid" and r.error is not None and "trash" in r.error["message"]
    assert (vol / f".Trash-{UID}" / "files" / "f").exists()


def test_nlsh_delete_trash_list_and_undo_end_to_end(tmp_path: Path, vol: Path) -> None:
    home = tmp_path / "home"
    (home / "work").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NLSH_", "XDG_"))}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(tmp_path / "cfg"), XDG_DATA_HOME=str(tmp_path / "data"),
               XDG_STATE_HOME=str(tmp_path / "state"), XDG_CACHE_HOME=str(tmp_path / "cache"),
               NLSH_STATE_DIR=str(tmp_path / "state" / "nlshell"), COLUMNS="120", NO_COLOR="1")
    (vol / "photo.raw").write_bytes(b"raw")
    script = tmp_path / f"script-{time.monotonic_ns()}.json"
    script.write_text(json.dumps([f"fs.delete path={json.dumps(str(vol / 'photo.raw'))}"]))

    def nlsh(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([NLSH, *args], env=env, cwd=home / "work", input="", capture_output=True,
                              text=True, timeout=120)

    r = nlsh("--yes", "--json", "--model", f"scripted:{script}", f"delete {vol / 'photo.raw'}")
    assert r.returncode == 0, r.stdout + r.stderr
    can = vol / f".Trash-{UID}"
    assert (can / "files" / "photo.raw").read_bytes() == b"raw"
    assert not (tmp_path / "data" / "Trash" / "files" / "photo.raw").exists()
    r = nlsh("trash", "list", "--json")                          # the mount table's scan finds it
    assert r.returncode == 0, r.stderr
    mine = [i for i in json.loads(r.stdout) if i["trash"] == str(can)]
    assert [(i["name"], i["original_path"]) for i in mine] == [("photo.raw", str(vol / "photo.raw"))]
    r = nlsh("undo", "--json")
    assert r.returncode == 0, r.stderr
    assert (vol / "photo.raw").read_bytes() == b"raw" and os.listdir(can / "files") == []
    # nlsh trash restore takes the item's place in its trash, TRASH/files/NAME, as well as a name
    r = nlsh("--yes", "--json", "--model", f"scripted:{script}", f"delete {vol / 'photo.raw'}")
    assert r.returncode == 0 and not (vol / "photo.raw").exists(), r.stdout + r.stderr
    r = nlsh("trash", "restore", "--json", str(can / "files" / "photo.raw"))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["restored_to"] == str(vol / "photo.raw")
    assert (vol / "photo.raw").read_bytes() == b"raw"
    r = nlsh("trash", "restore", str(can / "files" / "photo.raw"))
    assert r.returncode == 1 and "not an item of a trash" in r.stderr
