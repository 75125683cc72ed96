"""nlshell: a natural-language shell over typed, permission-checked syscalls.

``import nlshell`` stays light (no model runtime, no TUI): the Python API
(``Session``, ``Outcome``, ...) is imported on first use.  ``__version__`` is
the package version; ``API_VERSION`` the semver of the Python API and
``ENVELOPE_VERSION`` that of the ``--json`` envelope.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from nlshell.api import (
        API_VERSION,
        ApiError,
        Job,
        Outcome,
        PlanFailed,
        Session,
        approve_all,
        approve_calls,
        deny_all,
    )
    from nlshell.envelope import ENVELOPE_VERSION

_LAZY = {
    "API_VERSION": "nlshell.api", "ApiError": "nlshell.api", "Job": "nlshell.api",
    "Outcome": "nlshell.api", "PlanFailed": "nlshell.api", "Session": "nlshell.api",
    "approve_all": "nlshell.api", "approve_calls": "nlshell.api", "deny_all": "nlshell.api",
    # (the builder itself is nlshell.envelope.envelope: the submodule keeps that name)
    "ENVELOPE_VERSION": "nlshell.envelope",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nlshell' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "API_VERSION", "ENVELOPE_VERSION", "ApiError", "Job", "Outcome", "PlanFailed", "Session",
    "__version__", "approve_all", "approve_calls", "deny_all",
]
