"""Actions the interactive front ends offer besides intents (``/undo``, ``/policy``, ``/audit``).

Each returns plain data; the front end renders it.
"""

from __future__ import annotations

from typing import Any


def undo_last() -> list[dict[str, Any]]:
    """Reverse the last journaled plan; returns what was undone (empty when nothing was)."""
    from syscalls import journal

    return journal.undo(None)


def policy_rules() -> list[dict[str, Any]]:
    """The effective policy rules, in evaluation order."""
    from syscalls.permissions import Policy

    policy = Policy.load(None)
    rows = [{"action": r.action, "rule": r.text, "where": r.where()} for r in policy.rules]
    rows.append({"action": policy.default, "rule": "(anything else)", "where": "default"})
    return rows


def audit_tail(last: int = 20) -> list[dict[str, Any]]:
    from syscalls import audit

    return audit.show(last=last)
