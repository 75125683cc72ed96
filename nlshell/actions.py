"""Actions the interactive front ends offer besides intents (``/undo``, ``/policy``, ``/audit``).

Each returns plain data; the front end renders it.  Each reads the kernel the
front end talks to (its dispatcher's journal, audit log and permission gate),
so what is shown is what is in force, not a module-level default.
"""

from __future__ import annotations

from typing import Any


class Unavailable(Exception):
    """The kernel lacks what an action reads (a kernel built without the safe dispatcher)."""


def _dispatcher_part(kernel: object, name: str, what: str) -> Any:
    part = getattr(getattr(kernel, "dispatcher", None), name, None)
    if part is None:
        raise Unavailable(f"this kernel keeps no {what}")
    return part


def undo_last(kernel: object) -> list[dict[str, Any]]:
    """Reverse the last plan in the kernel's journal; returns what was undone."""
    from syscalls.journal import Journal

    journal: Journal = _dispatcher_part(kernel, "journal", "journal")
    return journal.undo(None)


def policy_rules(kernel: object) -> list[dict[str, Any]]:
    """The rules the kernel's permission gate enforces, in evaluation order, then its default."""
    from syscalls.permissions import Policy

    policy = getattr(kernel, "policy", None)
    if not isinstance(policy, Policy):
        if getattr(kernel, "dispatcher", None) is None:
            raise Unavailable("this kernel has no permission gate")
        return [{"action": "allow", "rule": "(everything)", "where": "this kernel's gate has no policy"}]
    rows = [{"action": r.action, "rule": r.text, "where": r.where()} for r in policy.rules]
    rows.append({"action": policy.default, "rule": "(anything else)", "where": f"default ({policy.source})"})
    return rows


def audit_tail(kernel: object, last: int = 20) -> list[dict[str, Any]]:
    """The last ``last`` records of the kernel's audit log."""
    from syscalls import audit
    from syscalls.audit import AuditLog

    log: AuditLog = _dispatcher_part(kernel, "audit", "audit log")
    return audit.show(log.path, last=last, storage=log.storage)
