"""Small builders for the JSON Schemas of syscall arguments and results.

Every object schema is closed (``additionalProperties: false``) so the
grammar generated from it cannot invent keys, and validation rejects them.
Path arguments carry ``"x-nlsh": "path"`` so validation, permissions and the
grammar (which grounds them in the user's words) can find them.  Free text
(``text``: a file's content, a reply, a prefix) carries ``"x-text": true``: its
spaces at either end are part of the value, where any other string a planner
writes (a path, a pattern, a name) begins and ends with something else.  An
enum may say which words of a request ask for each of its values
(``"x-words"``), so a planner never picks one the person did not ask for.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
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


def path(doc: str = "a file system path", *, new: bool = False, suffixes: Sequence[str] = (),
         **extra: Any) -> JSONDict:
    """A path argument; ``new=True`` when it may name what is not there yet (what the call creates, a link's
    target, a file gone from the working tree): such a path is never looked for elsewhere (``models.locate``).
    ``suffixes``: endings a planner may add to a name the request gives (an archive's format, ``.tar.gz``),
    the only words of such a path that need not be the request's."""
    return string(doc, min_length=1, **{"x-nlsh": "path", **({"x-new": True} if new else {}),
                                        **({"x-suffixes": list(suffixes)} if suffixes else {}), **extra})


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


def enum(values: list[str], doc: str = "", *, words: dict[str, list[str]] | None = None) -> JSONDict:
    """One of ``values``; ``words`` maps a value to the words of a request that ask for it (see ``asks_for``).

    A value with words is one a planner may write only when the request has one of them; a value without
    is always allowed (the default, say).
    """
    schema: JSONDict = {"type": "string", "enum": list(values)}
    if doc:
        schema["description"] = doc
    if words:
        unknown = set(words) - set(values)
        if unknown:
            raise ValueError(f"words for values the enum does not have: {sorted(unknown)}")
        schema["x-words"] = {k: list(v) for k, v in words.items()}
    return schema


def _slip(typed: str, word: str) -> bool:
    """``typed`` is ``word`` with one slip past its first letter: a letter dropped or doubled, or two swapped."""
    n = len(word)
    if len(typed) == n - 1:
        return any(word[:i] + word[i + 1:] == typed for i in range(1, n))
    if len(typed) == n + 1:
        return any(typed[i] == typed[i - 1] and typed[:i] + typed[i + 1:] == word for i in range(2, n + 1))
    if len(typed) == n:
        return any(typed[:i] + typed[i + 1] + typed[i] + typed[i + 2:] == word for i in range(1, n - 1))
    return False


def asks_for(schema: JSONDict, value: Any, request: str) -> bool:
    """Whether ``request`` asks for the enum ``value``: the schema declares no words for it, or the request
    has one of them (a whole word or phrase, any case; a word of four letters or more also with one slip of
    the kind people make when typing, as the planner's corpus has them: "puase", "rseume")."""
    words = schema.get("x-words", {}).get(value) if isinstance(value, str) else None
    if not words:
        return True
    low = " ".join(request.lower().split())
    if any(re.search(r"(?<!\w)" + re.escape(w.lower()) + r"(?!\w)", low) for w in words):
        return True
    typed = re.findall(r"[^\W\d_]+", low)
    return any(_slip(t, w.lower()) for w in words if len(w) >= 4 and w.isalpha() for t in typed)


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


def new_path_fields(schema: JSONDict) -> tuple[str, ...]:
    """Names of the top-level path properties that may name what is not there yet."""
    props = schema.get("properties", {})
    return tuple(k for k, v in props.items() if isinstance(v, dict) and v.get("x-new") is True)


def pid_fields(schema: JSONDict) -> tuple[str, ...]:
    props = schema.get("properties", {})
    return tuple(k for k, v in props.items() if isinstance(v, dict) and v.get("x-nlsh") == "pid")
