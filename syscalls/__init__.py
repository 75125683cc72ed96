"""nlshell's syscall layer: typed requests, validation, permissions and dispatch.

This package imports nothing else of nlshell's.  Its names below are imported when first used, so that
importing one module of it (``syscalls.types``, ``syscalls.errors``) does not import them all.  Requests are
validated by ``syscalls.validate.validate``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from syscalls.dispatcher import Dispatcher
    from syscalls.errors import InvalidRequest, SyscallError
    from syscalls.registry import Registry, default_registry
    from syscalls.types import CallContext, Risk, SyscallRequest, SyscallResult, SyscallSpec, View

_HOME = {"Dispatcher": "dispatcher", "InvalidRequest": "errors", "SyscallError": "errors", "Registry": "registry",
         "default_registry": "registry", "CallContext": "types", "Risk": "types", "SyscallRequest": "types",
         "SyscallResult": "types", "SyscallSpec": "types", "View": "types"}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(importlib.import_module(f"syscalls.{_HOME[name]}"), name)
    raise AttributeError(f"module 'syscalls' has no attribute {name!r}")


__all__ = [
    "CallContext",
    "Dispatcher",
    "InvalidRequest",
    "Registry",
    "Risk",
    "SyscallError",
    "SyscallRequest",
    "SyscallResult",
    "SyscallSpec",
    "View",
    "default_registry",
]
