"""The walk the tree calls share: the start path, directory fds, entry types and stats."""

from __future__ import annotations

import os

from syscalls.builtin import _fsutil as U
from syscalls.errors import ExecutionError
from syscalls.types import CallContext

PROGRESS_EVERY = 2048
"""Cancellation is checked, and progress reported, every this many entries."""


def open_start(ctx: CallContext, raw: str, display: str) -> tuple[int, os.stat_result]:
    """O_PATH fd and fstat of the start path the gate checked (errors name ``display``)."""
    try:
        return U.open_path_checked(ctx, raw)
    except ExecutionError as exc:
        exc.target = display
        raise


def dir_fd_of(path_fd: int) -> int:
    """A readable directory fd (for ``os.scandir``) for an ``O_PATH`` fd of a directory."""
    return os.open(".", U.DIR_FLAGS, dir_fd=path_fd)


def dtype_kind(e: os.DirEntry[str], follow: bool) -> str | None:
    """The type word from the directory entry's d_type; a stat only for the rare other kinds."""
    try:
        if e.is_dir(follow_symlinks=follow):
            return "dir"
        if not follow and e.is_symlink():
            return "symlink"
        if e.is_file(follow_symlinks=follow):
            return "file"
    except OSError:
        pass
    st = entry_stat(e, follow)
    return None if st is None else U.type_of(st.st_mode)


def entry_stat(e: os.DirEntry[str], follow: bool) -> os.stat_result | None:
    """stat of a scanned entry; under ``follow`` a dangling link is the link itself, a loop is None."""
    try:
        return e.stat(follow_symlinks=follow)
    except FileNotFoundError:
        if follow:
            try:
                return e.stat(follow_symlinks=False)
            except OSError:
                return None
        return None
    except OSError:
        return None


def dtype_hint(e: os.DirEntry[str], is_dir: bool, follow: bool) -> str | None:
    """dir / symlink / file from d_type alone, None when only a stat can tell."""
    try:
        if is_dir:
            return "dir"
        if not follow and e.is_symlink():
            return "symlink"
        return "file" if e.is_file(follow_symlinks=follow) else None
    except OSError:  # a link loop under follow_symlinks
        return None
