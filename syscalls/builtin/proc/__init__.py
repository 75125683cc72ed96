"""Process syscalls: list, inspect, tree, ports, open files, signal and run.

Everything goes through psutil; its errors are translated at the boundary
(``common._boundary``): ``NoSuchProcess`` → ``ProcessGone``, ``AccessDenied`` →
``AccessDenied``.  A zombie is a process that has exited but not been reaped;
fields it can no longer report are ``null`` (and named in ``unavailable``),
and signalling one is reported as such rather than failing.

Each call is registered next to its implementation: ``listing`` (list, info,
tree), ``net`` (port, open_file), ``signals`` (signal, through a pidfd) and
``run`` (run, with its sandbox, capped output and timeout); ``scan`` reads every
process's listing fields in one pass, and ``common`` is what they share.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from syscalls.builtin.proc import listing, net, run, signals

if TYPE_CHECKING:
    from syscalls.registry import Registry


def register(registry: Registry) -> None:
    """The proc.* calls, in the order they have always been registered."""
    listing.register_list(registry)
    listing.register_info(registry)
    listing.register_tree(registry)
    net.register_port(registry)
    net.register_open_file(registry)
    signals.register(registry)
    run.register(registry)
