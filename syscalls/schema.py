"""Small builders for the JSON Schemas of syscall arguments and results.

Every object schema is closed (``additionalProperties: false``) so the
grammar generated from it cannot invent keys, and validation rejects them.
Path arguments carry ``"x-nlsh": "path"`` so validation, permissions and the
grammar (which grounds them in the user's words) can find them.  Free text
(``text``: a file's content, a reply, a prefix) carries ``"x-text": true``: its
spaces at either end are part of the value, where any other string a planner
writes (a path, a pattern, a name) begins and ends with something else.
"""

from __future__ import annotations

from typing import Any

from syscalls.types import JSONDict


def obj(properties: dict[str, JSONDict], required: list[str] | None = None, doc: str = "") -> JSONDict:
    schema: JSONDict = {
        "type": "object",
        "properties": properties,
        "required": list(required or []),
        "additionalProperties": False,
    }
    if doc:
        schema["description"] = doc
    return schema


def string(doc: str = "", *, min_length: int | None = None, max_length: int = 4096, **extra: Any) -> JSONDict:
    schema: JSONDict = {"type": "string", "maxLength": max_length}
    if min_length is not None:
        schema["minLength"] = min_length
    if doc:
        schema["description"] = doc
    schema.update(extra)
    return schema


def text(doc: str = "", *, min_length: int | None = None, max_length: int = 4096, **extra: Any) -> JSONDict:
    """Free text: a space or newline at either end is part of the value (see ``is_text``)."""
    return string(doc, min_length=min_length, max_length=max_length, **{"x-text": True, **extra})


def is_text(schema: JSONDict) -> bool:
    """Whether a string schema is free text, whose ends may be spaces; any other string never is."""
    return schema.get("x-text") is True


def path(doc: str = "a file system path", **extra: Any) -> JSONDict:
    return string(doc, min_length=1, **{"x-nlsh": "path", **extra})


def glob(doc: str = "a shell-style wildcard pattern, e.g. *.py") -> JSONDict:
    return string(doc, min_length=1, max_length=1024, **{"x-nlsh": "pattern"})


def regex(doc: str = "a Python regular expression", *, text: bool = False) -> JSONDict:
    """A pattern; ``text=True`` when it is also free text (what a text edit finds, spaces included)."""
    return string(doc, min_length=1, max_length=1024, **{"x-nlsh": "regex", **({"x-text": True} if text else {})})


def integer(doc: str = "", *, minimum: int | None = None, maximum: int | None = None, **extra: Any) -> JSONDict:
    schema: JSONDict = {"type": "integer"}
    if minimum is not None:
        schema["minimum"] = minimum
    if maximum is not None:
        schema["maximum"] = maximum
    if doc:
        schema["description"] = doc
    schema.update(extra)
    return schema


def number(doc: str = "", *, minimum: float | None = None, **extra: Any) -> JSONDict:
    schema: JSONDict = {"type": "number"}
    if minimum is not None:
        schema["minimum"] = minimum
    if doc:
        schema["description"] = doc
    schema.update(extra)
    return schema


def size(doc: str = "") -> JSONDict:
    """A byte count; a planner may write it as a person does ("10 megs"), see ``x-nlsh``."""
    schema = integer(doc, minimum=0)
    schema["x-nlsh"] = "size"
    return schema


def duration(doc: str, unit: str) -> JSONDict:
    """A length of time in ``unit`` (days or minutes); a planner may write "a week"."""
    return number(doc, minimum=0, **{"x-nlsh": "duration", "x-unit": unit})


def boolean(doc: str = "") -> JSONDict:
    schema: JSONDict = {"type": "boolean"}
    if doc:
        schema["description"] = doc
    return schema


def nullable(type_: str) -> JSONDict:
    """A result field of JSON type ``type_`` that may be null (the OS did not say)."""
    return {"type": [type_, "null"]}


def enum(values: list[str], doc: str = "") -> JSONDict:
    schema: JSONDict = {"type": "string", "enum": list(values)}
    if doc:
        schema["description"] = doc
    return schema


def array(items: JSONDict, doc: str = "", *, max_items: int = 256) -> JSONDict:
    schema: JSONDict = {"type": "array", "items": items, "maxItems": max_items}
    if doc:
        schema["description"] = doc
    return schema


def rows(doc: str = "the rows of an earlier result: write \"$0\" for step 0's table, \"$prev\" for the "
         "previous result's") -> JSONDict:
    """A table argument: a list of row objects, filled by a whole-result reference (``"$N"``, ``"$prev"``)."""
    schema = array({"type": "object"}, doc, max_items=10**7)
    schema["x-nlsh"] = "rows"
    return schema


def pid(doc: str = "a process id") -> JSONDict:
    return integer(doc, minimum=1, maximum=2**22, **{"x-nlsh": "pid"})


def table(row: JSONDict, key: str = "entries", extra: dict[str, JSONDict] | None = None) -> JSONDict:
    """Result schema of a table: rows under ``key`` plus ``truncated``."""
    props: dict[str, JSONDict] = {key: array(row, max_items=10**9), "truncated": boolean()}
    props.update(extra or {})
    return {"type": "object", "properties": props, "required": [key]}


def path_fields(schema: JSONDict) -> tuple[str, ...]:
    """Names of the top-level properties marked as paths."""
    props = schema.get("properties", {})
    return tuple(k for k, v in props.items() if isinstance(v, dict) and v.get("x-nlsh") == "path")


def pid_fields(schema: JSONDict) -> tuple[str, ...]:
    props = schema.get("properties", {})
    return tuple(k for k, v in props.items() if isinstance(v, dict) and v.get("x-nlsh") == "pid")
