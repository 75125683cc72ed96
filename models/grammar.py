"""GBNF grammars from the registry's JSON Schemas (pure; tested as strings).

Two kinds of grammar:

* ``call_grammar(names)``: one constrained choice among call names.
* ``args_grammar(schema, ...)``: the JSON arguments of one call, with exactly
  the schema's properties (no extra keys), in schema order, enums as literal
  choices, integers as digits.  With grounding, string values tagged
  ``x-nlsh`` (paths, patterns) may only be *spans of the intent* (runs of
  whole words) or canonical values (``.``, ``~``, ``/``, references such as
  ``$0.path``, and values normalised by code); integers may be restricted to
  the values code read from the intent.

The output is canonical JSON as ``json.dumps`` writes it (``", "`` and
``": "`` separators), the same form as the examples in the prompt.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from syscalls.types import JSONDict

CANONICAL_PATHS = (".", "~", "/")
_WORD_RE = re.compile(r"\S+")
_STRIP = "\"'`,;:!?()[]{}"


def literal(text: str) -> str:
    """A GBNF string literal matching ``text`` exactly."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def json_literal(value: Any) -> str:
    """A GBNF literal matching the canonical JSON of ``value``."""
    return literal(json.dumps(value, ensure_ascii=False))


def alternatives(options: Iterable[str]) -> str:
    seen: list[str] = []
    for o in options:
        if o not in seen:
            seen.append(o)
    return "(" + " | ".join(seen) + ")" if len(seen) > 1 else seen[0]


def call_grammar(names: Sequence[str], *, suffix: str = "\n", lead: str = "") -> str:
    """A choice among call names, after ``lead`` and followed by ``suffix``."""
    if not names:
        raise ValueError("call_grammar needs at least one name")
    rhs = alternatives(literal(n) for n in sorted(set(names)))
    head = f"{literal(lead)} " if lead else ""
    return f"root ::= {head}{rhs}" + (f" {literal(suffix)}" if suffix else "") + "\n"


def intent_spans(intent: str, *, max_words: int = 6) -> list[str]:
    """Runs of up to ``max_words`` whole words of the intent, quotes and punctuation trimmed."""
    words = [w.strip(_STRIP) for w in _WORD_RE.findall(intent)]
    words = [w for w in words if w]
    spans: list[str] = []
    for i in range(len(words)):
        for j in range(i + 1, min(len(words), i + max_words) + 1):
            span = " ".join(words[i:j])
            # a trailing full stop ends a sentence, not a file name
            for s in (span, span.rstrip(".")):
                if s and s not in spans:
                    spans.append(s)
    for quoted in re.findall(r"\"([^\"]+)\"|'([^']+)'", intent):
        q = quoted[0] or quoted[1]
        if q not in spans:
            spans.append(q)
    return spans


_GENERIC = r'''
string ::= "\"" char* "\""
char ::= [^"\\\x00-\x1f] | "\\" ["\\/bfnrt]
integer ::= "-"? [0-9] [0-9]{0,11}
number ::= integer ("." [0-9] [0-9]{0,6})?
boolean ::= "true" | "false"
'''


class _Builder:
    def __init__(self, choices: Mapping[str, Sequence[Any]], grounded_strings: Sequence[str],
                 refs: Sequence[str], grounded: bool) -> None:
        self.rules: dict[str, str] = {}
        self.choices = choices
        self.grounded_strings = list(grounded_strings)
        self.refs = list(refs)
        self.grounded = grounded
        self.ground_all = False
        self.canonical = list(CANONICAL_PATHS)
        self.uses_generic = False

    def rule(self, name: str, rhs: str) -> str:
        name = re.sub(r"[^a-zA-Z0-9-]", "-", name)
        base, n = name, 1
        while name in self.rules and self.rules[name] != rhs:
            n += 1
            name = f"{base}-{n}"
        self.rules[name] = rhs
        return name

    def generic(self, kind: str) -> str:
        self.uses_generic = True
        return kind

    def value(self, schema: JSONDict, name: str, key: str) -> str:
        typ = schema.get("type")
        options: list[str] = []
        offered = list(self.choices.get(key, ()))
        if "const" in schema:
            return json_literal(schema["const"])
        if "enum" in schema:
            return alternatives(json_literal(v) for v in schema["enum"])
        if typ == "string":
            tagged = "x-nlsh" in schema or self.ground_all
            if self.grounded and tagged:
                values = offered + self.grounded_strings
                if schema.get("x-nlsh") == "path":
                    values += self.canonical
                    values += self.refs
                options = [json_literal(v) for v in values if isinstance(v, str) and v]
                return self.rule(name, alternatives(options)) if options else self.generic("string")
            if offered:
                options = [json_literal(v) for v in offered if isinstance(v, str) and v]
                return self.rule(name, alternatives([*options, self.generic("string")]))
            return self.generic("string")
        if typ in ("integer", "number"):
            values = [v for v in offered if isinstance(v, (int, float)) and not isinstance(v, bool)]
            lo, hi = schema.get("minimum"), schema.get("maximum")
            values = [v for v in values if (lo is None or v >= lo) and (hi is None or v <= hi)]
            refs = [v for v in offered if isinstance(v, str)]
            options = [json_literal(v) for v in values] + [json_literal(r) for r in refs]
            if self.grounded and values:
                return self.rule(name, alternatives(options))
            kind = "integer" if typ == "integer" else "number"
            return self.rule(name, alternatives([*options, self.generic(kind)])) if options \
                else self.generic(kind)
        if typ == "boolean":
            return self.generic("boolean")
        if typ == "array":
            item = self.value(schema.get("items", {}), name + "-item", key)
            return self.rule(name, f'"[" ({item} (", " {item})*)? "]"')
        if typ == "object":
            return self.obj(schema, name)
        return self.generic("string")

    def obj(self, schema: JSONDict, name: str) -> str:
        props: dict[str, JSONDict] = dict(schema.get("properties", {}))
        required = set(schema.get("required", []))
        keys = list(props)
        pair = [f"{json_literal(k)} \": \" {self.value(props[k], f'{name}-{k}', k)}" for k in keys]
        n = len(keys)
        # F_i: properties from i on, nothing emitted yet; R_i: after something was emitted.
        for i in range(n, -1, -1):
            if i == n:
                self.rules[f"{name}-f{i}"] = '""'
                self.rules[f"{name}-r{i}"] = '""'
                continue
            opt = keys[i] not in required
            f = f"{pair[i]} {name}-r{i + 1}" + (f" | {name}-f{i + 1}" if opt else "")
            r = f"\", \" {pair[i]} {name}-r{i + 1}" + (f" | {name}-r{i + 1}" if opt else "")
            self.rules[f"{name}-f{i}"] = f
            self.rules[f"{name}-r{i}"] = r
        return self.rule(name, f'"{{" {name}-f0 "}}"')


def args_grammar(
    schema: JSONDict,
    *,
    intent: str = "",
    choices: Mapping[str, Sequence[Any]] | None = None,
    refs: Sequence[str] = (),
    grounded: bool = True,
    suffix: str = "\n",
    lead: str = "",
    max_words: int = 6,
    ground_all: bool = False,
    canonical: Sequence[str] = CANONICAL_PATHS,
) -> str:
    """The GBNF of one call's arguments (a closed JSON object), grounded in ``intent``."""
    b = _Builder(choices or {}, intent_spans(intent, max_words=max_words) if grounded else [], refs, grounded)
    b.ground_all = ground_all
    b.canonical = list(canonical)
    top = b.value(schema, "args", "")
    head = f"{literal(lead)} " if lead else ""
    lines = [f"root ::= {head}{top}" + (f" {literal(suffix)}" if suffix else "")]
    lines += [f"{k} ::= {v}" for k, v in b.rules.items()]
    text = "\n".join(lines) + "\n"
    if b.uses_generic:
        text += _GENERIC.lstrip("\n")
    return text
