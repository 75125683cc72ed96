"""How big a file or tree is: one walk shared by the file calls, the undo journal and the policy gate.

The walk is iterative (no recursion limit on deep trees), never follows symbolic links, and skips
what it cannot read: a directory that cannot be listed adds nothing below it, and an entry whose
metadata cannot be read is still counted as one entry of 0 bytes.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Generator
from pathlib import Path


def entry_sizes(path: str | Path, *, regular_only: bool = True) -> Generator[int, None, None]:
    """Yield one byte count per entry of the tree at ``path``, ``path`` itself first.

    Nothing is yielded when ``path`` does not exist. Directories yield 0. With ``regular_only``
    only regular files add their size; without it every non-directory (a symlink's target
    length, say) adds its ``lstat`` size. The walk is lazy: a caller that stops early (an
    entry cap) stops the listing too.
    """
    try:
        st = os.lstat(path)
    except OSError:
        return
    if not stat.S_ISDIR(st.st_mode):
        yield st.st_size if stat.S_ISREG(st.st_mode) or not regular_only else 0
        return
    yield 0
    stack = [str(path)]
    while stack:
        d = stack.pop()
        try:
            with os.scandir(d) as it:
                for entry in it:
                    size = 0
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
                        elif not regular_only or entry.is_file(follow_symlinks=False):
                            size = entry.stat(follow_symlinks=False).st_size
                    except OSError:
                        pass
                    yield size
        except OSError:
            pass


def tree_size(path: str | Path, *, regular_only: bool = True) -> tuple[int, int]:
    """(entries, bytes) of a file, link or tree; see :func:`entry_sizes` for what counts."""
    count = size = 0
    for n in entry_sizes(path, regular_only=regular_only):
        count += 1
        size += n
    return count, size
