"""One call to get a dispatcher with every safety layer wired in.

``safe_dispatcher(registry)`` returns a ``Dispatcher`` with the policy gate
(floor, rules, taint, approvals), the journal (trash, backups, inverses, and
``JournalStep``'s write-ahead begin/commit around each consequential step) and
the hash-chained audit log.  The kernel groups a plan's steps with ``dispatcher.journal.plan()``
so ``undo`` reverses them together.

``drain_typeahead(fd)`` is for front ends: call it right before showing an
approval prompt so keys typed ahead (for the previous prompt) cannot answer it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syscalls.audit import AuditLog
from syscalls.dispatcher import Dispatcher
from syscalls.journal import Journal, JournalEffects
from syscalls.permissions import Floor, Policy, PolicyGate
from syscalls.storage import Storage
from syscalls.types import Approver, Invocation, Risk
from syscalls.validate import ValidatedRequest

if TYPE_CHECKING:
    from syscalls.registry import Registry


@dataclass
class JournalStep:
    """The journal's step around dispatch: a write-ahead ``begin`` before a consequential (not read-only,
    not dry-run) call runs, and its ``commit`` with the outcome (``interrupted`` when dispatch raised)."""

    journal: Journal

    def begin(self, request: ValidatedRequest, how: Invocation) -> object:
        if how.dry_run or request.spec.risk is Risk.READ:
            return None
        return self.journal.begin(request.call, dict(request.args), step_id=request.id)

    def end(self, token: object, status: str) -> None:
        if isinstance(token, str):
            self.journal.commit(token, status)


def safe_dispatcher(registry: Registry, *, approve: Approver | None = None,
                    state_dir: Path | str | None = None, policy: Policy | Path | str | None = None,
                    data_dir: Path | str | None = None, floor: Floor | None = None,
                    storage: Storage | None = None, **kwargs: Any) -> Dispatcher:
    """A dispatcher with ``PolicyGate`` + ``JournalEffects`` + ``AuditLog``.

    ``state_dir`` (default ``$NLSH_STATE_DIR`` or the platform state dir) holds
    the journal, backups and audit log; ``data_dir`` (default ``$XDG_DATA_HOME``)
    holds the trash; ``policy`` is a ``Policy`` or the path of a policy file
    (default ``$NLSH_POLICY`` or the config dir's ``policy.toml``); ``storage``
    seals what the journal and the audit log keep (default: ``syscalls.storage``'s
    settings, for the state dir).
    """
    pol = policy if isinstance(policy, Policy) else Policy.load(policy)
    journal = Journal(state_dir, data_dir, storage=storage)
    audit = AuditLog(journal.dir, storage=journal.storage)
    extra = [journal.dir, journal.trash.root]
    fl = floor or Floor()
    fl.extra_protected.extend(extra)
    if isinstance(policy, (str, Path)):
        fl.extra_protected.append(Path(policy))
    gate = PolicyGate(pol, floor=fl, audit=audit)
    return Dispatcher(registry=registry, gate=gate, effects=JournalEffects(journal), auditor=audit,
                      steps=[JournalStep(journal)], journal=journal, audit=audit, default_approve=approve, **kwargs)


def drain_typeahead(fd: int | None = None) -> bool:
    """Discard input typed before a prompt appeared; True when ``fd`` is a terminal that was flushed."""
    import termios

    if fd is None:
        try:
            fd = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
        except OSError:
            return False
        try:
            return drain_typeahead(fd)
        finally:
            os.close(fd)
    if not os.isatty(fd):
        return False
    termios.tcflush(fd, termios.TCIFLUSH)
    return True
