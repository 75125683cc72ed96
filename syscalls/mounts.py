"""Mount points, decided from the mount table (``/proc/self/mountinfo``).

``os.path.ismount`` compares a path's ``st_dev`` with its parent's; on overlay
file systems that report a lower layer's device for non-directories, it calls
ordinary files mount points.  The mount table is the authority: a path is a
mount point iff its resolved absolute form is one of the table's mount points.

The table is read on every call (it is small, and a cached copy would go stale
as soon as something is mounted or unmounted).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

MOUNTINFO = Path("/proc/self/mountinfo")

_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")


def unescape(field: str) -> str:
    """Undo the mount table's octal escapes (``\\040`` for a space, ``\\134`` for a backslash, ...)."""
    if "\\" not in field:
        return field
    return _OCTAL_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), field)


def mount_points(path: Path = MOUNTINFO) -> frozenset[str] | None:
    """Every mount point in the table at ``path`` (field 5, unescaped), or None if it cannot be read."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    points: set[str] = set()
    for line in raw.splitlines():
        fields = line.split(b" ")
        if len(fields) > 4:
            # os.fsdecode: a mount point that is not UTF-8 compares equal to the os.path form of its name
            points.add(unescape(os.fsdecode(fields[4])))
    return frozenset(points)


def is_mount_point(path: str | os.PathLike[str], table: Path = MOUNTINFO) -> bool:
    """Whether the resolved absolute form of ``path`` is a mount point in the mount table.

    Where the table cannot be read (no ``/proc``), this falls back to
    ``os.path.ismount``, which errs towards calling a path a mount point.
    """
    points = mount_points(table)
    if points is None:
        return os.path.ismount(path)
    return os.path.realpath(path) in points


@dataclass(frozen=True)
class Mount:
    """One mounted file system: where it is mounted, its type, and whether it is mounted read-only."""

    point: str
    fstype: str = ""
    read_only: bool = False


def mount_table(path: Path = MOUNTINFO) -> list[Mount] | None:
    """The table's mounts in its order (a later mount on the same point hides an earlier one), or None."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    rows: list[Mount] = []
    for line in raw.splitlines():
        left, sep, right = line.partition(b" - ")
        a, b = left.split(b" "), right.split(b" ")
        if not sep or len(a) < 6 or not b[0]:
            continue
        read_only = b"ro" in a[5].split(b",") or (len(b) > 2 and b"ro" in b[2].split(b","))
        rows.append(Mount(unescape(os.fsdecode(a[4])), os.fsdecode(b[0]), read_only))
    return rows


def _within(path: str, point: str) -> bool:
    return path == point or path.startswith(point.rstrip("/") + "/")


def mount_of(path: str | os.PathLike[str], table: Path = MOUNTINFO) -> Mount:
    """The mount that holds ``path`` (resolved): the table's entry with the longest mount point over it.

    Two paths are on the same mount iff their ``mount_of(...).point`` are equal; that is also when a
    rename between them cannot fail with ``EXDEV`` (a bind mount of the same file system is another
    mount).  Where the table cannot be read, the mount point is found by walking up to where
    ``os.path.ismount`` says yes.
    """
    real = os.path.realpath(path)
    rows = mount_table(table)
    if rows is None:
        point = real
        while not os.path.ismount(point) and os.path.dirname(point) != point:
            point = os.path.dirname(point)
        return Mount(point)
    best: Mount | None = None
    for m in rows:
        if _within(real, m.point) and (best is None or len(m.point) >= len(best.point)):
            best = m
    return best or Mount("/")
