"""nlshell's syscall layer: typed requests, validation, permissions and dispatch.

This package imports nothing else of nlshell's.
"""

from syscalls.dispatcher import Dispatcher
from syscalls.errors import InvalidRequest, SyscallError
from syscalls.registry import Registry, default_registry
from syscalls.types import CallContext, Risk, SyscallRequest, SyscallResult, SyscallSpec, View
from syscalls.validate import validate

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
    "validate",
]
