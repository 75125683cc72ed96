"""The mount table: which mount holds a path (the per-volume trash and the floor decide with it)."""

from __future__ import annotations

import os
from pathlib import Path

from syscalls.mounts import Mount, mount_of, mount_table

TABLE = (
    "22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
    "30 22 0:30 / /srv/data rw,relatime - xfs /dev/vdb rw\n"
    "31 22 0:31 / /media/my\\040disk ro,nosuid - vfat /dev/sdb1 rw\n"
    "32 30 0:32 / /srv/data/ro rw - tmpfs tmpfs ro\n"
    "33 30 0:33 / /srv/data rw - tmpfs tmpfs rw\n"  # mounted over /srv/data: hides the xfs
    "garbage line\n"
)


def test_mount_table_parses_escapes_and_read_only(tmp_path: Path) -> None:
    t = tmp_path / "mountinfo"
    t.write_text(TABLE)
    rows = mount_table(t)
    assert rows is not None
    assert [m.point for m in rows] == ["/", "/srv/data", "/media/my disk", "/srv/data/ro", "/srv/data"]
    assert rows[2] == Mount("/media/my disk", "vfat", True)      # per-mount ro
    assert rows[3].read_only and not rows[1].read_only            # superblock ro
    assert mount_table(tmp_path / "missing") is None


def test_mount_of_takes_the_longest_and_topmost_mount(tmp_path: Path) -> None:
    t = tmp_path / "mountinfo"
    t.write_text(TABLE)
    assert mount_of("/srv/data/x/y", t) == Mount("/srv/data", "tmpfs", False)
    assert mount_of("/srv/data", t).fstype == "tmpfs"
    assert mount_of("/srv/data/ro/f", t).point == "/srv/data/ro"
    assert mount_of("/srv/database", t).point == "/"                # a prefix of the name is not a parent
    assert mount_of("/media/my disk/photos", t).point == "/media/my disk"


def test_mount_of_the_real_table_holds_the_path(tmp_path: Path) -> None:
    m = mount_of(tmp_path)
    assert os.path.isabs(m.point) and os.path.ismount(m.point)
    assert tmp_path.resolve().is_relative_to(m.point)
