"""The shared tree walk behind fs.copy/move/delete, the undo journal and the gate's blast radius."""

from __future__ import annotations

import os
from pathlib import Path

from syscalls.fsmeasure import entry_sizes, tree_size
from syscalls.paths import Target
from syscalls.permissions import blast_radius


def _tree(root: Path) -> Path:
    (root / "t" / "sub").mkdir(parents=True)
    (root / "t" / "a").write_bytes(b"x" * 10)
    (root / "t" / "sub" / "b").write_bytes(b"y" * 5)
    os.symlink("a-twelve-chr", root / "t" / "ln")  # dangling on purpose: never followed
    os.mkfifo(root / "t" / "fifo")
    return root / "t"


def test_counts_every_entry_and_only_regular_bytes_by_default(tmp_path: Path) -> None:
    t = _tree(tmp_path)
    # t, a, sub, sub/b, ln, fifo
    assert tree_size(t) == (6, 15)
    assert tree_size(t, regular_only=False) == (6, 15 + len("a-twelve-chr"))


def test_single_entries_and_missing_paths(tmp_path: Path) -> None:
    t = _tree(tmp_path)
    assert tree_size(t / "a") == (1, 10)
    assert tree_size(t / "ln") == (1, 0)
    assert tree_size(t / "ln", regular_only=False) == (1, len("a-twelve-chr"))
    assert tree_size(tmp_path / "missing") == (0, 0)
    assert list(entry_sizes(tmp_path / "missing")) == []


def test_links_to_directories_are_not_walked(tmp_path: Path) -> None:
    t = _tree(tmp_path)
    os.symlink(t, tmp_path / "loop")
    os.symlink(tmp_path, t / "sub" / "up")  # a cycle if links were followed
    assert tree_size(tmp_path / "loop") == (1, 0)
    assert tree_size(t) == (7, 15)


def test_blast_radius_caps_the_walk_but_counts_each_target(tmp_path: Path) -> None:
    t = _tree(tmp_path)
    f = tmp_path / "f"
    f.write_bytes(b"z" * 3)
    targets = [Target(str(p), p, p) for p in (t, f)]
    assert blast_radius(targets, []) == {"count": 7, "bytes": 18, "paths": [str(t), str(f)]}
    capped = blast_radius(targets, [], max_entries=3)
    # t and two of its entries (the second reaches the cap and adds no bytes), then f at its top level only
    assert capped["count"] == 4 and capped["count_capped"] is True
