"""Mount points from the mount table (``syscalls.mounts.is_mount_point``) and the floor's
"never delete a mount point" rule.

The mounting tests run a small script inside ``unshare -m`` (a private mount
namespace): its tmpfs and overlay mounts vanish with it and never touch this
machine's mount table.  They need root and a kernel that lets it mount.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from syscalls.mounts import is_mount_point, mount_points, unescape

REPO = Path(__file__).resolve().parent.parent


# ----------------------------------------------------------------- the table, read here


def test_ordinary_files_and_dirs_are_not_mount_points(tmp_path: Path) -> None:
    f = tmp_path / "plain.txt"
    f.write_text("x")
    d = tmp_path / "dir"
    d.mkdir()
    for p in (f, d, tmp_path / "missing"):
        assert not is_mount_point(p), p


def test_root_is_a_mount_point_by_any_spelling(tmp_path: Path) -> None:
    (tmp_path / "to-root").symlink_to("/")
    assert is_mount_point("/")
    assert is_mount_point(tmp_path / "to-root")  # the resolved form is what counts
    assert is_mount_point("/./")


def test_table_is_this_process_mountinfo() -> None:
    points = mount_points()
    assert points is not None and "/" in points
    assert points == {unescape(line.split(" ")[4])
                      for line in Path("/proc/self/mountinfo").read_text().splitlines()}


def test_octal_escapes_are_decoded(tmp_path: Path) -> None:
    odd = tmp_path / "my disk\\x\tz"
    odd.mkdir()
    escaped = os.path.realpath(odd).replace("\\", "\\134").replace(" ", "\\040").replace("\t", "\\011")
    table = tmp_path / "mountinfo"
    table.write_text(f"36 35 98:0 / {escaped} rw,noatime master:1 - ext4 /dev/sdb1 rw\n"
                     "37 35 0:5 / / rw - ext4 /dev/sda1 rw\n")
    assert unescape("/mnt/my\\040disk\\134x") == "/mnt/my disk\\x"
    assert is_mount_point(odd, table)
    assert not is_mount_point(tmp_path, table)
    assert is_mount_point(tmp_path / "." / odd.name, table)


def test_unreadable_table_falls_back_to_ismount(tmp_path: Path) -> None:
    assert mount_points(tmp_path / "absent") is None
    assert is_mount_point("/", tmp_path / "absent")
    assert not is_mount_point(tmp_path, tmp_path / "absent")


# ----------------------------------------------------------------- real mounts in a private namespace

_PRELUDE = """
import json, os, subprocess, sys
from pathlib import Path

def out(**kw):
    print(json.dumps(kw))
    sys.exit(0)

def mount(*argv):
    r = subprocess.run(["mount", *argv], capture_output=True, text=True)
    return r.returncode, (r.stderr or r.stdout).strip()

def floor_refusal(path, cwd):
    # the floor's verdict on deleting ``path``: None when it allows it, else its message
    from syscalls.dispatcher import PlainEffects
    from syscalls.errors import FloorViolation
    from syscalls.paths import canonical
    from syscalls.permissions import Floor
    from syscalls.registry import default_registry
    from syscalls.types import CallContext

    spec = default_registry(plugins=False).get("fs.delete")
    ctx = CallContext(call="fs.delete", cwd=Path(cwd), effects=PlainEffects())
    try:
        Floor().check(spec, {"path": str(path)}, [canonical(str(path), Path(cwd), call="fs.delete")], [], ctx)
    except FloorViolation as exc:
        return exc.message
    return None
"""


def in_mount_namespace(script: str, base: Path) -> dict[str, Any]:
    """Run ``script`` (after the prelude) as root in a private mount namespace; its JSON line, parsed."""
    if os.geteuid() != 0:
        pytest.skip("mounting needs root; this test runs as an ordinary user")
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        pytest.skip("unshare(1) or mount(8) is not installed")
    probe = subprocess.run(["unshare", "-m", "--propagation", "private", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a private mount namespace here: {probe.stderr.strip()}")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    r = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable, "-c",
                        _PRELUDE + textwrap.dedent(script), str(base)],
                       capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
    assert r.returncode == 0, r.stderr
    result: dict[str, Any] = json.loads(r.stdout.strip().splitlines()[-1])
    if "skip" in result:
        pytest.skip(result["skip"])
    return result


def test_tmpfs_mount_point_is_detected(tmp_path: Path) -> None:
    res = in_mount_namespace("""
        base = Path(sys.argv[1])
        mnt = base / "mnt with space\\\\and backslash"
        mnt.mkdir()
        rc, err = mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt))
        if rc:
            out(skip=f"mount -t tmpfs failed: {err}")
        (mnt / "inside.txt").write_text("x")
        (mnt / "sub").mkdir()
        (base / "link").symlink_to(mnt)
        from syscalls.mounts import is_mount_point
        out(points={name: is_mount_point(p) for name, p in [
                ("mnt", mnt), ("inside", mnt / "inside.txt"), ("sub", mnt / "sub"),
                ("link", base / "link"), ("base", base)]},
            floor={"mnt": floor_refusal(mnt, base), "inside": floor_refusal(mnt / "inside.txt", base)})
    """, tmp_path)
    assert res["points"] == {"mnt": True, "inside": False, "sub": False, "link": True, "base": False}
    assert res["floor"]["mnt"] is not None and "mount point" in res["floor"]["mnt"]
    assert res["floor"]["inside"] is None


def test_files_on_an_overlay_are_not_mount_points(tmp_path: Path) -> None:
    """tmpfs upper over the lower dir's file system: os.path.ismount says True for files; the table says no."""
    res = in_mount_namespace("""
        base = Path(sys.argv[1])
        lower, upper_fs, merged = base / "lower", base / "upper-fs", base / "merged"
        for d in (lower, upper_fs, merged):
            d.mkdir()
        (lower / "from-lower.txt").write_text("lower")
        rc, err = mount("-t", "tmpfs", "-o", "size=4m", "tmpfs", str(upper_fs))
        if rc:
            out(skip=f"mount -t tmpfs failed: {err}")
        (upper_fs / "up").mkdir()
        (upper_fs / "wk").mkdir()
        opts = f"lowerdir={lower},upperdir={upper_fs}/up,workdir={upper_fs}/wk"
        # xino=off: files report the st_dev of the layer they live on (the default where layers differ)
        rc, err = mount("-t", "overlay", "overlay", "-o", opts + ",xino=off", str(merged))
        if rc:
            rc, err = mount("-t", "overlay", "overlay", "-o", opts, str(merged))
        if rc:
            out(skip=f"mount -t overlay failed: {err}")
        made = merged / "made-in-overlay.txt"
        made.write_text("upper")
        files = {"made": made, "lower": merged / "from-lower.txt"}
        from syscalls.mounts import is_mount_point
        out(ismount={k: os.path.ismount(p) for k, p in files.items()},
            table={k: is_mount_point(p) for k, p in files.items()},
            merged_is_mount_point=is_mount_point(merged),
            floor={**{k: floor_refusal(p, base) for k, p in files.items()}, "merged": floor_refusal(merged, base)})
    """, tmp_path)
    # the bug: overlay files carry their layer's st_dev, unlike the overlay's root directory
    assert res["ismount"] == {"made": True, "lower": True}, res
    assert res["table"] == {"made": False, "lower": False}
    assert res["merged_is_mount_point"] is True
    assert res["floor"]["made"] is None and res["floor"]["lower"] is None
    assert res["floor"]["merged"] is not None and "mount point" in res["floor"]["merged"]
