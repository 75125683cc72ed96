"""A plan: the short list of syscall requests the model proposes for one intent.

Arguments may refer to earlier results: a string argument of the form
``"$N.field"`` takes ``field`` from the result of step ``N`` (0-based) of the
same plan, and ``"$prev.field"`` from the session's previous result.  When the
referenced result is a table, the step fans out: it runs once per row (and not
at all when the table is empty: "kill whatever listens on 8080" with nothing
listening does nothing, successfully).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from syscalls.types import JSONDict, SyscallResult

REF_RE = re.compile(r"^\$(?P<step>\d+|prev)\.(?P<field>[a-z_][a-z0-9_]*)$")


@dataclass
class PlanStep:
    call: str
    args: JSONDict

    def to_dict(self) -> JSONDict:
        return {"call": self.call, "args": dict(self.args)}


@dataclass
class Plan:
    intent: str
    steps: list[PlanStep]
    raw: str = ""
    model: str = ""
    examples: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    confidence: float | None = None

    def to_dict(self) -> JSONDict:
        return {
            "intent": self.intent,
            "steps": [s.to_dict() for s in self.steps],
            "model": self.model,
            "confidence": self.confidence,
        }


def _rows(result: SyscallResult) -> list[JSONDict]:
    """The rows of a table result (possibly none), else the record itself as one row."""
    data = result.data or {}
    for value in data.values():
        if isinstance(value, list) and all(isinstance(r, dict) for r in value):
            return list(value)
    return [data]


def expand_refs(
    args: JSONDict, done: list[SyscallResult], previous: SyscallResult | None = None
) -> list[JSONDict]:
    """Resolve ``$N.field`` / ``$prev.field`` references; a table result fans out to one args per row."""
    refs: dict[str, tuple[SyscallResult | None, str]] = {}
    for key, value in args.items():
        if isinstance(value, str):
            m = REF_RE.match(value)
            if m:
                step = m.group("step")
                src = previous if step == "prev" else (done[int(step)] if int(step) < len(done) else None)
                refs[key] = (src, m.group("field"))
    if not refs:
        return [dict(args)]
    fanout: list[JSONDict] = [dict(args)]
    for key, (src, fld) in refs.items():
        if src is None or src.data is None:
            raise LookupError(f"argument {key!r} refers to a result that does not exist")
        rows = _rows(src)
        if not rows:
            return []  # an empty table: the step has nothing to act on and runs zero times
        values: list[Any] = [row[fld] for row in rows if fld in row]
        if not values:
            raise LookupError(f"argument {key!r}: the referenced result has no field {fld!r}")
        fanout = [{**a, key: v} for a in fanout for v in values]
    return fanout
