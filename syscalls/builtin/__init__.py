"""Built-in syscalls; each module registers itself the way a plugin would."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from syscalls.registry import Registry



def register_all(registry: Registry) -> None:
    from . import answer, archives, devices, facts, fs, proc, shell, system, tables, textedit
    from .phrasings import PHRASINGS

    for module in (fs, proc, system, devices, answer, tables, archives, textedit, facts, shell):
        module.register(registry)
    for name, phrasings in PHRASINGS.items():
        registry.add_phrasings(name, phrasings)
