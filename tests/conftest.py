"""Shared fixtures: a real file tree with every awkward kind of entry."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

DAY = 86400
NOUSER_UID = 54321  # a uid with no passwd entry (checked in the fixture)


def _age(path: Path, seconds: float, *, follow: bool = True) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t), follow_symlinks=follow)


def build_tree(root: Path) -> dict[str, Any]:
    """Build the fixture tree under ``root``; returns notes about what could be made.

    Layout (ages are modification and access times):
      a.txt (2 lines, now) · b.py · "with space.txt" · "ünïcode ñame.md" · empty.txt (0 B)
      .hidden · .hiddendir/inner.txt · exec.sh (755) · shared.txt (666) · group.txt (775)
      old.log (40 d) · week.txt (8 d) · twodays.txt (2.5 d) · recent.txt (20 min) · fresh.txt (5 min)
      ancient.txt (accessed 150 d ago) · ref.txt (1 h, the -newer reference)
      sub/x.py · sub/medium.dat (20 KiB) · sub/big.bin (100 KiB, binary) · sub/exact50.txt (50 B)
      sub/deep/deeper/file.log · sub/deep/up -> ../.. (a directory loop under -L)
      empty_dir/ · link_to_a -> a.txt · link_to_sub -> sub · dangling -> nowhere
      loop_a -> loop_b -> loop_a · secret.txt (000) · fifo · sock (a listening unix socket)
      orphan.txt (owned by a uid with no user, when running as root)
    """
    notes: dict[str, Any] = {}
    root.mkdir(parents=True, exist_ok=True)

    def w(rel: str, data: bytes | str = b"", age: float | None = None, mode: int | None = None) -> Path:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data.encode() if isinstance(data, str) else data)
        if mode is not None:
            p.chmod(mode)
        if age is not None:
            _age(p, age)
        return p

    w("a.txt", "hello world\nsecond line\n", mode=0o644)
    w("b.py", "import os\nprint(os.getcwd())\n# TODO: tidy\n", mode=0o644)
    w("with space.txt", "spaces in the name\n", mode=0o644)
    w("ünïcode ñame.md", "naïve café — ünïcode\n", mode=0o644)
    w("empty.txt", b"", mode=0o644)
    w(".hidden", "dot file\n", mode=0o600)
    w(".hiddendir/inner.txt", "inside a hidden dir\n", mode=0o644)
    w("exec.sh", "#!/bin/sh\necho hi\n", mode=0o755)
    w("shared.txt", "everyone may write\n", mode=0o666)
    w("group.txt", "group writable\n", mode=0o775)
    w("old.log", "ERROR old failure\nINFO fine\n" * 3, age=40 * DAY, mode=0o644)
    w("week.txt", "a week old\n", age=8 * DAY, mode=0o644)
    w("twodays.txt", "two and a half days\n", age=2.5 * DAY, mode=0o644)
    w("recent.txt", "twenty minutes\n", age=20 * 60, mode=0o644)
    w("fresh.txt", "five minutes\n", age=5 * 60, mode=0o644)
    anc = w("ancient.txt", "accessed long ago\n", mode=0o644)
    t = time.time()
    os.utime(anc, (t - 150 * DAY, t - 3 * 3600))
    w("ref.txt", "reference\n", age=3600, mode=0o644)
    w("sub/x.py", "def f():\n    return 42\n", age=3 * 3600, mode=0o644)
    w("sub/medium.dat", b"m" * 20 * 1024, age=3 * DAY, mode=0o644)
    w("sub/big.bin", bytes(range(256)) * 400, age=12 * DAY, mode=0o640)
    w("sub/exact50.txt", "x" * 49 + "\n", mode=0o644)
    w("sub/deep/deeper/file.log", "WARN deep\nerror deep\n", age=45 * 60, mode=0o644)
    os.symlink("../..", root / "sub/deep/up")
    (root / "empty_dir").mkdir()
    os.symlink("a.txt", root / "link_to_a")
    os.symlink("sub", root / "link_to_sub")
    os.symlink("nowhere", root / "dangling")
    os.symlink("loop_b", root / "loop_a")
    os.symlink("loop_a", root / "loop_b")
    w("secret.txt", "top secret\n", mode=0o000)
    os.mkfifo(root / "fifo")
    sock_path = root / "sock"
    notes["socket"] = None
    if len(str(sock_path)) < 100:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(str(sock_path))
        notes["socket"] = s
    orphan = w("orphan.txt", "no owner\n", mode=0o644)
    notes["orphan"] = False
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwuid(NOUSER_UID)
        except KeyError:
            os.chown(orphan, NOUSER_UID, NOUSER_UID)
            notes["orphan"] = True
    # directories last, so creating their entries does not reset their times
    _age(root / "sub/deep/deeper", 2 * DAY)
    return notes


@pytest.fixture
def tree(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "tree"
    notes = build_tree(root)
    yield root
    if notes["socket"] is not None:
        notes["socket"].close()


@pytest.fixture(scope="module")
def golden_tree(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("golden") / "tree"
    notes = build_tree(root)
    yield root
    if notes["socket"] is not None:
        notes["socket"].close()
