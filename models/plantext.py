"""The plan text: the one format the trained planner writes, its prompt, and its grammar.

A plan is one step a line: the call's name, then ``key=value`` pairs in the
order of the call's argument schema (only the keys given, each once)::

    fs.find path="build" name="*.tmp" type="file"
    fs.delete path="$0.path"

Values are JSON: strings quoted (``"$0.path"`` refers to step 0's rows,
``"$prev.path"`` to the previous result's), integers and numbers bare,
``true``/``false``, arrays of strings.  A field whose schema declares a value
kind (``x-nlsh``: ``size``, ``duration``) may instead hold the words the person
used (``size_min_bytes="10 megs"``), and any integer field a number word
(``limit="five"``); ``parse`` turns them into the schema's units with the
typed parsers of ``models.values``.  The grammar generated from the registry
(``grammar``) allows exactly this: known calls, their keys in order, values of
the declared types, and no string that begins or ends with a space unless its
field is free text (``syscalls.schema.text``); validation after decoding stays
the boundary.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

from models import values as V
from models.errors import ModelOutputError
from models.plan import REF_RE, PlanStep
from syscalls import schema as S
from syscalls.registry import Registry
from syscalls.types import JSONDict, SyscallResult, SyscallSpec

REFUSAL_TEXT = "This is not something nlshell can do: {intent}"
def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is not a finite number")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a plan may hold")


# JSON as a plan writes it: no NaN / Infinity, and no number too large to be finite (1e999)
_DECODER = json.JSONDecoder(parse_float=_finite, parse_constant=_no_constant)


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


# ------------------------------------------------------------------ prompt --
def summary(previous: SyscallResult | None) -> str | None:
    """One line about the previous result: its call and how many rows it had."""
    if previous is None:
        return None
    data = previous.data or {}
    rows = next((v for v in data.values() if isinstance(v, list) and all(isinstance(r, dict) for r in v)), None)
    if previous.error:
        return f"{previous.request.call} failed"
    if rows is None:
        return f"{previous.request.call} 1 record"
    return f"{previous.request.call} {len(rows)} rows"


def shot(intent: str, steps: Iterable[tuple[str, JSONDict] | PlanStep], registry: Registry,
         previous: str | None = None) -> str:
    """One worked example for a model shown the format: its prompt, its plan, a blank line."""
    return prompt(intent, previous) + render(steps, registry) + "\n\n"


_REFERS_BACK = re.compile(r"\b(them|em|those|these|they|it|its|that|this one|each of them|each|both|all of them|"
                          r"the lot|ones?|the same|the (?:first|last|biggest|largest|smallest|newest|oldest)"
                          r"(?: \w+)? one)\b", re.I)


def refers_back(intent: str) -> bool:
    """Whether the request points at a previous result ("delete them", "kill that", "how big are those")."""
    return _REFERS_BACK.search(intent) is not None


def prompt(intent: str, previous: str | None = None) -> str:
    """The planner's whole prompt: the request, a line about the previous result, then ``plan:``."""
    text = "request: " + " ".join(intent.split()) + "\n"
    if previous:
        text += "previous: " + previous + "\n"
    return text + "plan:\n"


# ------------------------------------------------------------------ render --
def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def render_step(call: str, args: JSONDict, registry: Registry) -> str:
    props = registry.get(call).args_schema.get("properties", {})
    unknown = set(args) - set(props)
    if unknown:
        raise ValueError(f"{call}: unknown argument(s) {sorted(unknown)}")
    return " ".join([call, *(f"{k}={_value(args[k])}" for k in props if k in args)])


def render(steps: Iterable[tuple[str, JSONDict] | PlanStep], registry: Registry) -> str:
    out = []
    for step in steps:
        call, args = (step.call, step.args) if isinstance(step, PlanStep) else step
        out.append(render_step(call, args, registry))
    return "\n".join(out)


# ------------------------------------------------------------------- parse --
def convert(call: str, key: str, value: Any, schema: JSONDict) -> Any:
    """``value`` as the schema of ``key`` wants it: kinds with units and number words turned into numbers."""
    kind = schema.get("x-nlsh")
    typ = schema.get("type")
    if not isinstance(value, str) or typ not in ("integer", "number") or REF_RE.match(value):
        return value
    try:
        if kind == "size":
            return V.size_bytes(value)
        if kind == "duration":
            return V.duration(value, str(schema.get("x-unit", "days")))
        return V.integer(value) if typ == "integer" else V.number(value)
    except ValueError as exc:
        raise ModelOutputError(f"{call}: {key}: {exc}", raw=value, call=call) from exc


def parse_line(line: str, registry: Registry, *, intent: str = "", convert_values: bool = True) -> PlanStep:
    """One step; ``convert_values=False`` keeps values as written (sizes, ages and number words unconverted)."""
    call, _, rest = line.strip().partition(" ")
    if call not in registry:
        raise ModelOutputError(f"the model named an unknown call {call!r}", raw=line)
    props: dict[str, JSONDict] = registry.get(call).args_schema.get("properties", {})
    args: JSONDict = {}
    i = 0
    while i < len(rest):
        if rest[i] == " ":
            i += 1
            continue
        eq = rest.find("=", i)
        if eq < 0:
            raise ModelOutputError(f"{call}: expected key=value at {rest[i:]!r}", raw=line, call=call)
        key = rest[i:eq]
        if key not in props:
            raise ModelOutputError(f"{call}: unknown argument {key!r}", raw=line, call=call)
        if key in args:
            raise ModelOutputError(f"{call}: argument {key!r} given twice", raw=line, call=call)
        try:
            value, i = _DECODER.raw_decode(rest, eq + 1)
        except ValueError as exc:  # json.JSONDecodeError is one, and so are the non-finite numbers
            raise ModelOutputError(f"{call}: {key}: not a JSON value", raw=line, call=call) from exc
        args[key] = convert(call, key, value, props[key]) if convert_values else value
    if call == "answer" and convert_values:
        args.setdefault("text", REFUSAL_TEXT.format(intent=intent) if args.get("supported") is False else "")
    return PlanStep(call=call, args={k: args[k] for k in props if k in args})


def parse(text: str, registry: Registry, *, intent: str = "") -> list[PlanStep]:
    """The steps of a plan text; ``ModelOutputError`` names what is wrong (validation is separate)."""
    steps = [parse_line(line, registry, intent=intent) for line in text.strip().splitlines() if line.strip()]
    if not steps:
        raise ModelOutputError("the model wrote an empty plan", raw=text)
    return steps


# ----------------------------------------------------------------- grammar --
# ``str`` is any JSON string: free text (``syscalls.schema.text``), whose ends may be spaces.  Every other
# string is a ``tstr``: its first and last characters are neither spaces nor control characters, raw or
# escaped (``\n``, ``\u0020``; ``tcode`` is a ``\u`` code above 0020), so a value the model copies from the
# request never keeps the space of a space-prefixed token (" noon"); ``tstr0`` may also be empty, for a
# field without a minimum length.
_COMMON = r'''
str ::= "\"" chr* "\""
chr ::= [^"\\\x00-\x1f] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F])
tstr ::= "\"" tchr (gap* tchr)* "\""
tstr0 ::= "\"\"" | tstr
tchr ::= [^"\\\x00-\x20] | "\\" (["\\/] | "u" tcode)
tcode ::= ([1-9a-fA-F] hex | "0" [1-9a-fA-F]) hex hex | "00" ([3-9a-fA-F] hex | "2" [1-9a-fA-F])
gap ::= " " | "\\" ([bfnrt] | "u00" ([01] hex | "20"))
hex ::= [0-9a-fA-F]
int ::= "-"? [0-9] [0-9]? [0-9]? [0-9]? [0-9]? [0-9]? [0-9]? [0-9]? [0-9]? [0-9]? [0-9]? [0-9]?
num ::= int ("." [0-9] [0-9]? [0-9]? [0-9]?)?
bool ::= "true" | "false"
'''


# A schema pattern that is one character class repeated (``^[0-7ugoa+=,rwxXtsST-]+$``, ``^[0-7]{1,4}$``)
_CLASS_PATTERN = re.compile(r"\^(\[[^\]\\\"]+\])(?:\+|\{(\d+),(\d+)\})\$")


def _class_rule(pattern: str) -> str | None:
    """GBNF for a string of ``pattern`` when it is one character class repeated; else None (left to
    validation)."""
    m = _CLASS_PATTERN.fullmatch(pattern)
    if m is None:
        return None
    cls = m.group(1)
    if cls.endswith("-]"):
        cls = cls[:-2] + "\\-]"
    if m.group(2) is None:
        return f'"\\"" {cls}+ "\\""'
    lo, hi = int(m.group(2)), int(m.group(3))
    if not 1 <= lo <= hi <= 16:
        return None
    return '"\\"" ' + " ".join([cls] * lo + [f"{cls}?"] * (hi - lo)) + ' "\\""'


def _string_rule(schema: JSONDict) -> str:
    """Free text is any string; any other neither begins nor ends with a space, and is empty only if allowed;
    one whose schema gives its GBNF (``x-gbnf``: a chmod mode) is made by it, and one whose pattern is a
    repeated character class (a find perm) of that class."""
    rule = schema.get("x-gbnf") or (_class_rule(schema["pattern"]) if "pattern" in schema else None)
    if rule is not None:
        return f"({rule})"
    if S.is_text(schema):
        return "str"
    return "tstr" if int(schema.get("minLength", 0)) >= 1 else "tstr0"


def _value_rule(schema: JSONDict) -> str | None:
    """The rule for one argument's value; None for what a plan never writes (objects such as ``env``)."""
    typ = schema.get("type")
    if "enum" in schema:
        return "(" + " | ".join(literal(json.dumps(v)) for v in schema["enum"]) + ")"
    if typ == "string":
        return _string_rule(schema)
    if typ == "integer":
        return "(int | tstr)"  # or the words the person used: "five", "10 megs"
    if typ == "number":
        return "(num | tstr)"
    if typ == "boolean":
        return "bool"
    if typ == "array":
        item = _string_rule(schema.get("items", {}))
        return f'("[" {item} ("," " "? {item})* "]")'
    return None


# Paths name only what the request names: runs of letters and digits, each one of the request's own (any
# case, or a plural's stem: ``path_words``), joined by punctuation (``/``, ``.``, ``-``, ``(``...) or
# spaces; never beginning or ending with a space.  ``.``, ``~`` and ``/`` are punctuation alone.  A
# reference names only a step before it.
_PATH_PUNCT = r"""[!#%&'()*+,./:;<=>?@^_`{|}~\[\]-]"""
# A regular expression (``x-nlsh`` ``regex``: what to search for) is made the same way, and may also hold
# digits, ``$`` and escapes (``"^[0-9]+$"``, ``"\\.log$"``), and spaces between, never around, its pieces:
# the text looked for is the request's.
# Wildcards are not grounded: "python files" is ``*.py``, a name the request does not spell.
_PATTERN_KINDS = ("regex",)
_PATTERN_EXTRA = r'[0-9$] | "\\" ("\\" [a-zA-Z]? | [tnr])'  # a JSON escape: "\\." "\\d" "\t"
_REF_STEPS = 4  # steps 0-3 refer only to the steps before them; a later step may name any
ALNUM = re.compile(r"[^\W_]+")


def path_words(intent: str) -> set[str]:
    """The words a path may be made of: each run of letters and digits of ``intent``, lower-cased, and the
    stem of a plural ("the mp3s" → ``*.mp3``, "boxes" → ``box``)."""
    out = set()
    for word in ALNUM.findall(intent.lower()):
        out.add(word)
        if len(word) > 2 and word.endswith("s"):
            out.add(word[:-1])
            if word.endswith("es") and len(word) > 3:
                out.add(word[:-2])
    return out


_ESCAPE = re.compile(r"\\[a-zA-Z]?")


def pattern_grounded(value: str, intent: str) -> bool:
    """Whether a regular expression is made as the grammar makes it (``_PATTERN_KINDS``): each run of letters
    and digits, once escapes (``\\d``) are set aside, is the request's words and digits, and no space begins
    or ends it."""
    if value != value.strip(" "):
        return False
    words = sorted(path_words(intent), key=len, reverse=True)
    run = re.compile("(?:" + "|".join([*map(re.escape, words), r"\d"]) + ")+")
    return all(run.fullmatch(r) for r in ALNUM.findall(_ESCAPE.sub(" ", value.lower())))


def pattern_keys(spec: SyscallSpec) -> tuple[str, ...]:
    """The arguments of ``spec`` that hold text to look for (a string or array of ``_PATTERN_KINDS``)."""
    props: dict[str, JSONDict] = spec.args_schema.get("properties", {})
    return tuple(k for k, v in props.items()
                 if (v.get("items", {}) if v.get("type") == "array" else v).get("x-nlsh") in _PATTERN_KINDS)


def request_numbers(intent: str) -> set[str]:
    """The numbers a request gives, as written: the only values a pid or port may take (``number_keys``)."""
    return set(re.findall(r"\d+", intent))


def number_keys(spec: SyscallSpec) -> tuple[str, ...]:
    """The arguments of ``spec`` that hold a number the request must give: its pids and its port."""
    return tuple(k for k in (*spec.pid_args, "port") if k in spec.args_schema.get("properties", {}))


def _nocase(word: str) -> str:
    """GBNF matching ``word`` in any case, letter by letter."""
    out = []
    for ch in word:
        lo, up = ch.lower(), ch.upper()
        out.append(f"[{lo}{up}]" if lo != up and len(lo) == len(up) == 1 else literal(ch))
    return " ".join(out)


def _steps_before(k: int, previous: bool) -> str | None:
    """What a reference in step ``k`` may name: ``prev`` (with a previous result) and the steps before."""
    alts = ['"prev"'] if previous else []
    if k >= _REF_STEPS:
        alts.append("[0-9] [0-9]?")
    elif k > 0:
        alts.append(f"[0-{k - 1}]")
    return " | ".join(alts) or None


def grammar(registry: Registry, calls: Sequence[str] | None = None, *, end: str = "",
            intent: str | None = None, previous: bool = True) -> str:
    """GBNF for a plan over ``calls`` (default: every call of the registry), closed by ``end``.

    A model that learnt the format ends a plan with its end-of-text token; a model shown the format in
    examples (``end="\\n\\n"``, the blank line between them) ends where the grammar does.  A reference
    (``"$0.path"``, ``"$0"``) names only a step before its own, or ``$prev`` when there is a previous
    result (``previous``).  With ``intent``, a path argument is made of the request's own words, and a
    pid or port is a number the request gives: the model copies them and never misspells or invents one.
    """
    names = tuple(calls) if calls is not None else tuple(registry.names())
    numbers = sorted(request_numbers(intent)) if intent is not None else []
    close = f" {literal(end)}" if end else ""
    text = _steps(registry, names, previous, intent is not None, bool(numbers)).replace(" ROOT_END", close, 1)
    if intent is None:
        return text + _COMMON
    words = " | ".join(_nocase(w) for w in sorted(path_words(intent))) or '"."'
    return text + "\n".join([
        'gpath ::= "\\"" gbody "\\""',
        'gbody ::= gp+ | gp* gw ((gp | " ")+ gw)* gp*',
        f"gp ::= {_PATH_PUNCT}",
        'gpat ::= "\\"" pbody "\\""',
        'pbody ::= ptok (" "+ ptok)*',
        'ptok ::= pp+ | pp* gw (pp+ gw)* pp*',
        f"pp ::= {_PATH_PUNCT} | {_PATTERN_EXTRA}",
        f"gw ::= {words}",
        *([f"gnum ::= {' | '.join(literal(n) for n in numbers)}"] if numbers else []),
    ]) + _COMMON


@functools.lru_cache(maxsize=16)
def _steps(registry: Registry, names: tuple[str, ...], previous: bool, grounded: bool, numbers: bool) -> str:
    """The grammar's root and step rules, the same for every request (its words and numbers come after:
    ``gw``, ``gnum``): one copy of each call per step position, so that references name earlier steps."""
    rules: list[str] = []
    steps: list[str] = []
    for k in range(_REF_STEPS + 1):
        before = _steps_before(k, previous)
        if before is not None:
            rules.append(f"rows{k} ::= \"\\\"$\" ({before}) \"\\\"\"")
            rules.append(f"ref{k} ::= \"\\\"$\" ({before}) \".\" [a-z_]+ \"\\\"\"")
        ref = f"ref{k}" if before else None
        alts = []
        for n, name in enumerate(names):
            spec = registry.get(name)
            required = set(spec.args_schema.get("required", ()))
            parts = [literal(name)]
            for key, sub in spec.args_schema.get("properties", {}).items():
                rule = _arg_rule(spec, key, sub, ref=ref, rows=f"rows{k}" if before else None,
                                 grounded=grounded, numbers=numbers)
                if rule is None:
                    if key in required:
                        break  # a value this step cannot have (rows before any step): the call cannot be here
                    continue
                parts.append(f"({literal(' ' + key + '=')} {rule})?")
            else:
                rules.append(f"c{n}s{k} ::= " + " ".join(parts))
                alts.append(f"c{n}s{k}")
        steps.append(f"s{k} ::= " + " | ".join(alts))
    tail = f'("\\n" s{_REF_STEPS})*'
    for k in range(_REF_STEPS - 1, 0, -1):
        tail = f'("\\n" s{k} {tail})?'
    return "\n".join([f"root ::= s0 {tail} ROOT_END", *steps, *rules, ""])


def _arg_rule(spec: SyscallSpec, key: str, sub: JSONDict, *, ref: str | None, rows: str | None, grounded: bool,
              numbers: bool) -> str | None:
    """The rule for argument ``key`` of ``spec`` in a step whose references may be ``ref``/``rows`` (None:
    nothing before it); None when the step cannot hold it."""
    if sub.get("x-nlsh") == "rows":
        return rows
    if key in spec.path_args and sub.get("type") == "string":
        path = " | ".join(x for x in ("gpath" if grounded else "tstr", ref) if x)
        suffixes = " | ".join(literal(x) for x in sub.get("x-suffixes", ()))
        return f'("\\"" gbody ({suffixes})? "\\"" | {path})' if grounded and suffixes else f"({path})"
    if grounded and key in pattern_keys(spec):
        one = f"(gpat | {ref})" if ref else "gpat"
        return '("[" gpat ("," " "? gpat)* "]")' if sub.get("type") == "array" else one
    if grounded and key in number_keys(spec) and sub.get("type") == "integer":
        alts = [x for x in ("gnum" if numbers else None, ref) if x]
        return f"({' | '.join(alts)})" if alts else None
    return _value_rule(sub)
