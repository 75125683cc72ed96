"""Helpers for the built-in syscall tests: run one request through a plain dispatcher.

Every result that comes back ``ok`` is also checked against the call's result schema,
so each test that uses these checks the schema as a side effect.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema

from syscalls.dispatcher import Dispatcher
from syscalls.registry import default_registry
from syscalls.types import Invocation, SyscallResult
from syscalls.validate import validate

REG = default_registry()


def call(name: str, args: dict[str, Any], cwd: Path, *, dispatcher: Dispatcher | None = None,
         **kw: Any) -> SyscallResult:
    """Validate and run ``name(args)`` in ``cwd`` (``kw`` goes to ``Dispatcher.handle``)."""
    d = dispatcher or Dispatcher(REG)
    result = d.handle(validate({"call": name, "args": args}, REG), Invocation(cwd=cwd, **kw))
    if result.status == "ok":
        jsonschema.validate(result.data, REG.get(name).result_schema)
    return result


def ok(name: str, args: dict[str, Any], cwd: Path, **kw: Any) -> dict[str, Any]:
    """The data of a call that must succeed."""
    result = call(name, args, cwd, **kw)
    assert result.status == "ok", result.error
    assert result.data is not None
    return result.data
