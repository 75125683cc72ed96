"""File syscalls: list, stat, read, find, grep, du, wc, checksum, duplicates and the changes.

Every implementation resolves its paths with ``ctx.resolve``, translates
``OSError`` at the boundary with ``from_oserror`` and returns data only.
Changing calls have a ``preview`` (the exact effects, nothing changed), go
through ``ctx.effects`` for removal and overwrite, and record their inverse.

Each call is registered next to its implementation: ``read`` (list, stat, read,
wc, checksum, realpath), ``find``, ``grep``, ``du``, ``dupes`` (fs.duplicates),
``mutate`` (the changes and their previews) and ``renames`` (fs.rename_ext);
``walk`` is what the tree walks share.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from syscalls.builtin.fs import du, dupes, find, grep, mutate, read, renames

if TYPE_CHECKING:
    from syscalls.registry import Registry


def register(registry: Registry) -> None:
    """The fs.* calls, in the order they have always been registered."""
    read.register_list(registry)
    read.register_stat(registry)
    read.register_read(registry)
    find.register(registry)
    grep.register(registry)
    du.register(registry)
    read.register_wc(registry)
    read.register_checksum(registry)
    mutate.register(registry)
    read.register_realpath(registry)
    dupes.register(registry)
    renames.register(registry)
