"""Validation of plan steps whose arguments may hold ``$N.field`` references.

A reference stands for a value of an earlier result, so it is replaced by a
placeholder of the type the schema expects (a whole-result reference, ``$N`` or
``$prev``, by an empty list of rows: only an argument that is a list of objects takes one) and the
step validated with ``syscalls.validate.validate`` (the grammar is not a security boundary; this
is).  After expansion, the dispatcher's caller validates the real values again.
"""

from __future__ import annotations

from typing import Any

from models.plan import REF_RE, is_whole_ref
from syscalls.errors import InvalidRequest
from syscalls.registry import Registry
from syscalls.types import JSONDict, SyscallRequest
from syscalls.validate import validate


def _placeholder(schema: JSONDict) -> Any:
    typ = schema.get("type")
    if typ == "integer":
        return max(1, int(schema.get("minimum", 1)))
    if typ == "number":
        return float(schema.get("minimum", 1))
    if "enum" in schema:
        return schema["enum"][0]
    return "placeholder"


def _takes_rows(schema: JSONDict) -> bool:
    items = schema.get("items")
    return schema.get("type") == "array" and isinstance(items, dict) and items.get("type") == "object"


def validate_step(call: str, args: JSONDict, registry: Registry) -> SyscallRequest:
    """Validate one step, references replaced by typed placeholders; raises ``InvalidRequest``."""
    spec = registry.get(call)
    props = spec.args_schema.get("properties", {})
    checked = dict(args)
    for key, value in args.items():
        if is_whole_ref(value) and key in props and not _takes_rows(props[key]):
            raise InvalidRequest(f"{key}={value!r} stands for a whole table of rows, and {key} does not take rows",
                                 call=call, field=f"args.{key}",
                                 hint=f"refer to one field of each row, e.g. \"{value}.path\"")
        if isinstance(value, str) and REF_RE.match(value) and key in props:
            checked[key] = [] if is_whole_ref(value) else _placeholder(props[key])
    validate({"call": call, "args": checked}, registry)
    return SyscallRequest(call=call, args=dict(args))


def step_is_valid(call: str, args: JSONDict, registry: Registry) -> bool:
    try:
        validate_step(call, args, registry)
    except InvalidRequest:
        return False
    return True
