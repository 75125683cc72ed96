"""Strict validation: raw JSON text or a mapping → a typed ``SyscallRequest``.

Rejected with ``InvalidRequest`` naming the field: malformed JSON, duplicate
keys, unknown call, unknown or extra fields, wrong types or ranges, and
NUL / control / bidi characters or another user's ``~name`` in paths.
The grammar used in decoding is not a security boundary; this is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import jsonschema
from jsonschema import Draft202012Validator

from syscalls.display import unsafe_char
from syscalls.errors import InvalidRequest
from syscalls.types import JSONDict, SyscallRequest, SyscallSpec

if TYPE_CHECKING:
    from syscalls.registry import Registry

_validators: dict[int, Draft202012Validator] = {}
_SEAL = object()  # only validate() holds it, so only validate() builds a ValidatedRequest


@dataclass(frozen=True)
class ValidatedRequest:
    """A request checked against its call's schema and path rules, with the spec it was checked against.

    ``validate`` is the only way to get one (the constructor refuses anyone else), and
    ``Dispatcher.handle`` runs nothing else: the validate → dispatch boundary is a type, not a convention.
    """

    request: SyscallRequest
    spec: SyscallSpec
    _seal: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._seal is not _SEAL:
            raise TypeError("a ValidatedRequest comes only from syscalls.validate.validate()")

    @property
    def call(self) -> str:
        return self.request.call

    @property
    def args(self) -> JSONDict:
        return self.request.args

    @property
    def id(self) -> str:
        return self.request.id


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise InvalidRequest(f"duplicate key {key!r}", field=key, hint="each key may appear once")
        out[key] = value
    return out


def loads_strict(text: str) -> Any:
    """``json.loads`` that rejects duplicate keys, NaN/Infinity and trailing garbage."""

    def bad_constant(name: str) -> Any:
        raise InvalidRequest(f"{name} is not valid JSON", field="", hint="use a finite number")

    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=bad_constant)
    except json.JSONDecodeError as exc:
        raise InvalidRequest(f"not valid JSON: {exc.msg} at offset {exc.pos}", field="") from exc


def _check_path(call: str, field: str, value: str) -> None:
    bad = unsafe_char(value)
    if bad is not None:
        raise InvalidRequest(
            f"path contains the control character U+{ord(bad):04X}",
            call=call,
            field=f"args.{field}",
            hint="paths may not contain NUL, newlines, escapes or bidi controls",
        )
    if value.startswith("~") and not (value == "~" or value.startswith("~/")):
        raise InvalidRequest(
            "another user's home (~name) is not expanded",
            call=call,
            field=f"args.{field}",
            hint="write the absolute path instead",
        )


def _validator(schema: JSONDict) -> Draft202012Validator:
    key = id(schema)
    v = _validators.get(key)
    if v is None:
        v = Draft202012Validator(schema)
        _validators[key] = v
    return v


def _field_of(err: jsonschema.ValidationError) -> str:
    path = ".".join(str(p) for p in err.absolute_path)
    schema: Any = err.schema
    instance: Any = err.instance
    if err.validator == "additionalProperties":
        extra = sorted(set(instance) - set(schema.get("properties", {})))
        if extra:
            return ".".join(filter(None, [path, extra[0]]))
    if err.validator == "required":
        required: Any = err.validator_value
        missing = [r for r in required if r not in instance]
        if missing:
            return ".".join(filter(None, [path, missing[0]]))
    return path


def validate(raw: str | Mapping[str, Any] | SyscallRequest, registry: Registry) -> ValidatedRequest:
    """Parse and validate one request: ``{"call": name, "args": {...}}`` as JSON text or a mapping, or a
    ``SyscallRequest`` (its id is kept)."""
    if isinstance(raw, SyscallRequest):
        raw = raw.to_dict()
    data = loads_strict(raw) if isinstance(raw, str) else raw
    if not isinstance(data, Mapping):
        raise InvalidRequest("a request must be a JSON object", field="")
    extra = sorted(set(data) - {"call", "args", "id"})
    if extra:
        raise InvalidRequest(f"unknown field {extra[0]!r}", field=extra[0], hint="a request has only call and args")
    call = data.get("call")
    if not isinstance(call, str):
        raise InvalidRequest("missing or non-string 'call'", field="call")
    spec = registry.get(call)
    args = data.get("args", {})
    if not isinstance(args, Mapping):
        raise InvalidRequest("'args' must be an object", call=call, field="args")
    args = dict(args)
    for err in sorted(_validator(spec.args_schema).iter_errors(args), key=lambda e: list(e.absolute_path)):
        field = _field_of(err)
        raise InvalidRequest(err.message, call=call, field=f"args.{field}" if field else "args")
    for name in spec.path_args:
        value = args.get(name)
        if isinstance(value, str):
            _check_path(call, name, value)
    # bools are ints in Python; the schema validator already refuses them for "integer".
    req_id = data.get("id")
    if req_id is not None:
        if not isinstance(req_id, str) or unsafe_char(req_id) or len(req_id) > 64:
            raise InvalidRequest("id must be a short printable string", call=call, field="id")
        return ValidatedRequest(SyscallRequest(call=call, args=args, id=req_id), spec, _SEAL)
    return ValidatedRequest(SyscallRequest(call=call, args=args), spec, _SEAL)
