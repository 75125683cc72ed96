"""The ``--json`` envelope: one JSON object per intent, shared by the CLI and the Python API.

The envelope is versioned (``ENVELOPE_VERSION``, semver: a new optional field
is a minor bump, a removed or renamed field a major one) and described by a
JSON Schema shipped with the package (``nlshell/schemas/envelope.schema.json``,
see ``nlsh-json(5)``).  The shape::

    {
      "envelope_version": "1.1.0",
      "nlshell_version": "0.1.0",
      "intent": "list python files",
      "status": "ok",              # ok | failed | denied | cancelled | invalid | dry-run | error
      "plan": {"intent": ..., "steps": [{"call": ..., "args": {...}}], "model": ..., "confidence": ...},
      "results": [SyscallResult.to_dict(), ...],
      "error": null,               # or {"type", "kind", "message", "hint", ...}
      "timings": {"plan_s": 0.21, "run_s": 0.003},
      "model": "smollm2-135m"
    }
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Any

from syscalls.types import JSONDict, SyscallResult

ENVELOPE_VERSION = "1.1.0"  # 1.1: plan.located, plan.suggestion

# Overall status, worst first: the first status present among the results wins.
_SEVERITY = ("invalid", "denied", "failed", "cancelled", "dry-run", "ok")

STATUSES = (*_SEVERITY, "error")


def overall_status(results: Iterable[SyscallResult], error: Mapping[str, Any] | None = None) -> str:
    """One word for the whole intent: ``error`` when planning failed, else the worst step status."""
    seen = {r.status for r in results}
    if error is not None:
        return "error" if not seen else _worst(seen | {"failed"})
    if not seen:
        return "ok"
    return _worst(seen)


def _worst(seen: set[str]) -> str:
    for status in _SEVERITY:
        if status in seen:
            return status
    return "failed"


def _plan_dict(plan: Any) -> JSONDict | None:
    if plan is None:
        return None
    if isinstance(plan, Mapping):
        return dict(plan)
    to_dict = getattr(plan, "to_dict", None)
    if callable(to_dict):
        out = to_dict()
        if isinstance(out, dict):
            return out
    raise TypeError(f"plan must be a Plan, a mapping or None, not {type(plan).__name__}")


def _error_dict(error: Any) -> JSONDict | None:
    if error is None:
        return None
    if isinstance(error, Mapping):
        return dict(error)
    to_dict = getattr(error, "to_dict", None)
    if callable(to_dict):
        out = to_dict()
        if isinstance(out, dict):
            return out
    if isinstance(error, BaseException):
        return {"type": type(error).__name__, "kind": "error", "message": str(error), "hint": ""}
    return {"type": "Error", "kind": "error", "message": str(error), "hint": ""}


def envelope(
    intent: str,
    plan: Any,
    results: Iterable[SyscallResult],
    error: Any = None,
    timings: Mapping[str, float] | None = None,
    model: str = "",
) -> JSONDict:
    """Build the JSON envelope for one intent.

    ``plan`` is a ``models.plan.Plan`` (anything with ``to_dict()``), a mapping
    or None; ``error`` is a typed error (``to_dict()``), an exception, a
    mapping or None.  The result is plain JSON-compatible data.
    """
    from nlshell import __version__

    results = list(results)
    err = _error_dict(error)
    return {
        "envelope_version": ENVELOPE_VERSION,
        "nlshell_version": __version__,
        "intent": intent,
        "status": overall_status(results, err),
        "plan": _plan_dict(plan),
        "results": [r.to_dict() for r in results],
        "error": err,
        "timings": {k: round(float(v), 6) for k, v in (timings or {}).items()},
        "model": model,
    }


@cache
def _schema_text() -> str:
    return resources.files("nlshell").joinpath("schemas/envelope.schema.json").read_text(encoding="utf-8")


def envelope_schema() -> JSONDict:
    """The JSON Schema (draft 2020-12) every envelope satisfies."""
    schema: JSONDict = json.loads(_schema_text())
    return schema


def validate_envelope(data: Mapping[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` when ``data`` is not a valid envelope."""
    from jsonschema import Draft202012Validator

    Draft202012Validator(envelope_schema()).validate(dict(data))


def dumps(data: Mapping[str, Any]) -> str:
    """Serialise an envelope the way the CLI prints it (one line, UTF-8 kept, stable key order)."""
    return json.dumps(data, ensure_ascii=False, default=str)
