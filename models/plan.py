"""A plan: the short list of syscall requests the model proposes for one intent.

Arguments may refer to earlier results: a string argument of the form
``"$N.field"`` takes ``field`` from the result of step ``N`` (0-based) of the
same plan, and ``"$prev.field"`` from the session's previous result.  When the
referenced result is a table, the step fans out: it runs once per row (and not
at all when the table is empty: "kill whatever listens on 8080" with nothing
listening does nothing, successfully).

An argument that is exactly ``"$N"`` or ``"$prev"`` (a whole-result reference)
receives the referenced result's rows as one list of row dicts, with no fan-out:
``table.sort rows="$0" by="size_bytes"``.

The rows of a result are the table its call declares (the spec's view key);
for a result whose call is not known, or whose data does not hold that key
(a fanned-out step's merged results), the top-level list whose rows have the
requested field, else the first list of rows, else the record itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from models.errors import PlanningError
from syscalls.types import JSONDict, SyscallResult

if TYPE_CHECKING:
    from syscalls.registry import Registry

# ``$N.field`` / ``$prev.field`` (a field of each row), or ``$N`` / ``$prev`` alone (the whole table):
# ``field`` is None for a whole-result reference.
REF_RE = re.compile(r"^\$(?P<step>\d+|prev)(?:\.(?P<field>[a-z_][a-z0-9_]*))?$")


def is_whole_ref(value: object) -> bool:
    """True for ``"$N"`` / ``"$prev"``: a reference to a whole result's rows."""
    if not isinstance(value, str):
        return False
    m = REF_RE.match(value)
    return m is not None and m.group("field") is None


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
    # What the planner found in the file system for paths the request named loosely ("downloads →
    # Downloads"; ``models.locate``), shown with the plan before anything runs.
    located: list[str] = field(default_factory=list)
    # The plan the model wrote when it was too unsure of it to act (``steps`` is then an honest refusal): a
    # front end may offer it ("did you mean …?"), and it runs only if the person says yes.
    suggestion: list[PlanStep] = field(default_factory=list)

    def to_dict(self) -> JSONDict:
        return {
            "intent": self.intent,
            "steps": [s.to_dict() for s in self.steps],
            "model": self.model,
            "confidence": self.confidence,
            **({"located": list(self.located)} if self.located else {}),
            **({"suggestion": [s.to_dict() for s in self.suggestion]} if self.suggestion else {}),
        }


def _declared(call: str, registry: Registry | None) -> tuple[str, set[str]] | None:
    """(the key of the table ``call`` declares, or ``""`` for a record; its result's fields), None when unknown."""
    if not call:
        return None
    if registry is None:
        from syscalls.registry import default_registry

        registry = default_registry()
    if call not in registry:
        return None
    spec = registry.get(call)
    key = spec.view.key if spec.view.kind in ("table", "tree") and spec.view.key else ""
    return key, set(spec.result_schema.get("properties", {}))


def _is_rows(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(r, dict) for r in value)


def _rows(result: SyscallResult, fld: str | None = None, registry: Registry | None = None) -> list[JSONDict]:
    """The rows of a table result (possibly none), else the record itself as one row.

    The call's declared table comes first (so ``proc.info``'s nested ``open_files`` is not taken for
    its rows, and a record stays one row); without one (a call the registry does not know, or a
    fanned-out step's merged results), a top-level list whose rows have ``fld``, then the first list
    of rows (an empty table: nothing to act on), then the record.
    """
    data = result.data or {}
    declared = _declared(result.request.call, registry)
    if declared is not None:
        key, fields = declared
        if key and _is_rows(data.get(key)):
            return list(data[key])
        shaped = not fields or bool(set(data) & fields)  # not a fanned-out step's merged results
        if not key and shaped and (fld is None or fld in data):
            return [data]
    tables = [v for v in data.values() if _is_rows(v)]
    if fld is not None:
        for table in tables:
            if any(fld in row for row in table):
                return list(table)
    if tables:
        return list(tables[0])
    return [data]


def has_field(result: SyscallResult, fld: str, registry: Registry | None = None) -> bool:
    """Whether ``$N.fld`` / ``$prev.fld`` on ``result`` names something: one of its rows has ``fld``."""
    return any(fld in row for row in _rows(result, fld, registry))


ROWS_CUT = "rows_cut"
"""Marks a kept result whose table was cut (``nlshell.session.cap_result``); its value is the full count."""


def expand_refs(
    args: JSONDict, done: list[SyscallResult], previous: SyscallResult | None = None,
    registry: Registry | None = None,
) -> list[JSONDict]:
    """Resolve references: ``$N`` / ``$prev`` become the rows of that result (one list, no fan-out);
    ``$N.field`` / ``$prev.field`` fan a table result out to one args per row.

    ``registry`` tells each result's declared table (default: the process-wide registry).
    """
    refs: dict[str, tuple[SyscallResult | None, str | None]] = {}
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
        if ROWS_CUT in src.data:
            raise LookupError(f"argument {key!r} refers to the previous result, which had {src.data[ROWS_CUT]} rows, "
                              "more than a session keeps: a follow-up would act on only part of it; ask for it in "
                              "one request instead (for example 'find the .tmp files and delete them')")
        if fld is None:
            table = _rows(src, None, registry)
            fanout = [{**a, key: table} for a in fanout]
            continue
        rows = _rows(src, fld, registry)
        if not rows:
            return []  # an empty table: the step has nothing to act on and runs zero times
        values: list[Any] = [row[fld] for row in rows if fld in row]
        if not values:
            raise LookupError(f"argument {key!r}: the referenced result has no field {fld!r}")
        fanout = [{**a, key: v} for a in fanout for v in values]
    return fanout


def request_text(intent: str) -> str:
    """The request with its whitespace collapsed; an empty one is a ``PlanningError`` (both planners)."""
    text = " ".join(intent.split())
    if not text:
        raise PlanningError("the request is empty", intent=text, hint="say what you want done")
    return text
