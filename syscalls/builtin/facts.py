"""(being written)"""

from __future__ import annotations

from syscalls.registry import Registry


def register(registry: Registry) -> None:
    """Registers nothing yet."""
