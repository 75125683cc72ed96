"""Code-side argument filling: what the intent determines with certainty, and what is left to the model.

A 135M model is good at pointing and bad at arithmetic, so code sets every
argument the normalised facts decide (sizes, ages, line counts, limits, ports,
pids, signals, globs, sort orders, flags named by a cue word) and the model
only chooses among a few grounded candidates for the rest (mostly paths and
free strings).  ``split(call, ...)`` returns both halves.  Pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from models.normalize import Facts, number
from models.words import joined_paths, path_tokens, word_tokens
from syscalls.registry import Registry
from syscalls.types import JSONDict, SyscallSpec

PRONOUNS = re.compile(r"\b(them|those|these|they|it|its|that|this one|each|all of them|ones?)\b", re.I)
_N = r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|fifty|hundred)"


# Calls whose quoted words are content (text to write, a pattern to search), not file names.
_QUOTES_CONTENT = {"fs.write", "fs.append", "fs.grep"}

def needs_number(spec: SyscallSpec) -> bool:
    """The call cannot run without a pid or a port, which only a number in the request can give."""
    required = set(spec.args_schema.get("required", []))
    return bool(required & {*spec.pid_args, "port"})


def allowed(label: str, intent: str, registry: Registry, facts: Facts | None = None, *,
            follow_up: bool = False) -> bool:
    """Whether ``label`` can serve ``intent``: every call with a cue (``SyscallSpec.cue``: those that
    change something, and counting and hashing) is asked for by it, and a first step that needs a pid or
    port has a number in the intent to take it from."""
    low = intent.lower()
    specs = [registry.get(c) for c in label.split("+")]
    if not all(re.search(spec.cue, low) is not None for spec in specs if spec.cue):
        return False
    if facts is not None and not follow_up and needs_number(specs[0]):
        return bool(facts.numbers or facts.pids or facts.ports)
    return True


def canonical_paths(facts: Facts) -> list[str]:
    """``.`` always; ``~`` and ``/`` only when the intent names the home or root directory."""
    return ["."] + [p for p in ("~", "/") if p in facts.paths]


@dataclass
class Split:
    """``fixed``: arguments code decided; ``ask``: property → candidate values for the model."""

    fixed: JSONDict = field(default_factory=dict)
    ask: dict[str, list[Any]] = field(default_factory=dict)


def _num(text: str) -> int | None:
    n = number(text)
    return int(n) if n is not None else None


def _has(low: str, pattern: str) -> bool:
    return re.search(pattern, low) is not None


def _count(low: str, before: str, after: str = "") -> int | None:
    m = re.search(before + r"\s+" + _N + (r"\s+" + after if after else r"\b"), low)
    return _num(m.group(m.lastindex or 1)) if m else None


_RANKED = r"(?:largest|biggest|smallest|newest|oldest|most recent|latest|heaviest)"


def _ranked_count(low: str) -> int | None:
    """N in "the 5 largest files" / "top 3 biggest" (the number before the superlative)."""
    m = re.search(r"\b" + _N + r"\s+" + _RANKED + r"\b", low)
    return _num(m.group(1)) if m else None


def quoted_or_words(intent: str, facts: Facts, max_words: int = 3) -> list[str]:
    if facts.quoted:
        return list(facts.quoted)
    words = [w.strip("\"'`,;:!?()[]{}") for w in intent.split()]
    words = [w for w in words if w]
    spans: list[str] = []
    for i in range(len(words)):
        for j in range(i + 1, min(len(words), i + max_words) + 1):
            s = " ".join(words[i:j]).rstrip(".")
            if s and s not in spans:
                spans.append(s)
    return spans


def _signal(low: str) -> str | None:
    if _has(low, r"\b(force|forcefully|-9|sigkill|hard)\b|kill -9"):
        return "KILL"
    if _has(low, r"\b(pause|suspend|freeze|sigstop)\b"):
        return "STOP"
    if _has(low, r"\b(resume|continue|unpause|sigcont)\b"):
        return "CONT"
    if _has(low, r"\b(hangup|reload|sighup)\b"):
        return "HUP"
    if _has(low, r"\b(interrupt|sigint|ctrl-c)\b"):
        return "INT"
    if _has(low, r"\b(kill|terminate|stop|end|quit|sigterm)\b"):
        return "TERM"
    return None


def _ref(key: str, schema: JSONDict, step: int, previous_call: str | None, low: str) -> str | None:
    fld = "pid" if schema.get("type") == "integer" else "path"
    if step > 0:
        return f"$0.{fld}"
    if previous_call is not None and PRONOUNS.search(low):
        return f"$prev.{fld}"
    return None


def _find(intent: str, low: str, facts: Facts, fixed: JSONDict) -> None:
    for op, b in facts.sizes:
        if op in (">", "=") and "size_min_bytes" not in fixed:
            fixed["size_min_bytes"] = b
        elif op == "<" and "size_max_bytes" not in fixed:
            fixed["size_max_bytes"] = b
    kind = "atime" if _has(low, r"\baccess") else "ctime" if _has(low, r"status|ctime|metadata") else "mtime"
    for op, minutes in facts.ages_min:
        days = minutes % 1440 == 0
        unit = "days" if days else "minutes"
        value: int = minutes // 1440 if days else minutes
        key = f"{kind}_{'min' if op in ('>', '=') else 'max'}_{unit}"
        fixed.setdefault(key, value)
    dirs = _has(low, r"\b(directories|directory|folders?|dirs?|subdirectories)\b")
    files = _has(low, r"\bfiles?\b")
    if dirs and not files and not _has(low, r"\b(in|under|inside|within|of)\s+(the\s+)?(directory|folder)"):
        fixed["type"] = "dir"
    elif files and not dirs and not _has(low, r"\b(empty|link)"):
        fixed["type"] = "file"
    elif _has(low, r"\b(symlinks?|symbolic links?|soft links?)\b"):
        fixed["type"] = "symlink"
    if _has(low, r"\bempty\b"):
        fixed["empty"] = True
    m = re.search(r"\bnewer than\s+['\"]?([\w./~-]+)", intent)
    if m and not re.match(r"\d", m.group(1)):
        fixed["newer_than"] = m.group(1)
    if facts.globs:
        ci = _has(low, r"case[- ]?insensitive|ignor\w* case|any case|upper or lower")
        if len(facts.globs) == 1:
            fixed["iname" if ci else "name"] = facts.globs[0]
        else:
            fixed["any_name"] = list(facts.globs)
    depth = _count(low, r"(?:depth|at most|max(?:imum)? depth of|up to)", r"levels?") or \
        _count(low, r"depth(?: of)?")
    if depth is not None:
        fixed["max_depth"] = depth
    elif _has(low, r"not recursiv|non-?recursiv|only (?:in )?(?:the )?(?:top|current)|directly in|top level"):
        fixed["max_depth"] = 1
    if _has(low, r"\bexecutable\b"):
        fixed["executable"] = True
    if _has(low, r"\b(largest|biggest)\b"):
        fixed["sort"] = "size"
    elif _has(low, r"\b(newest|most recent|latest|recently)\b"):
        fixed["sort"] = "mtime"
    m = re.search(r"\bperm(?:ission)?s?\s+(?:of\s+)?([0-7]{3,4})\b", low)
    if m:
        fixed["perm"] = m.group(1)
    n = _count(low, r"\b(?:top|first|largest|biggest|newest|oldest)") or _ranked_count(low)
    if n is not None:
        fixed["limit"] = n


def _read(low: str, fixed: JSONDict) -> None:
    head = _count(low, r"\b(?:first|top|head|beginning)", r"lines?") or _count(low, r"\bhead -n?")
    tail = _count(low, r"\b(?:last|final|bottom|tail)", r"lines?") or _count(low, r"\btail -n?")
    if head is not None:
        fixed["head_lines"] = head
    elif re.search(r"\b(first lines|head of|beginning of)\b", low):
        fixed["head_lines"] = 10
    if tail is not None:
        fixed["tail_lines"] = tail
    elif re.search(r"\b(last lines|end of|tail of)\b", low):
        fixed["tail_lines"] = 10
    m = re.search(r"\blines?\s+(\d+)\s*(?:-|to|through|and|until)\s*(\d+)", low)
    if m:
        fixed["line_start"], fixed["line_end"] = int(m.group(1)), int(m.group(2))


def _grep(low: str, facts: Facts, fixed: JSONDict) -> None:
    if _has(low, r"case[- ]?insensitive|ignor\w* case|any case|regardless of case|upper or lower"):
        fixed["ignore_case"] = True
    if _has(low, r"\b(which|what|names? of( the)?|list( the)?) files\b|files (that )?(contain|mention|have)"):
        fixed["files_with_matches"] = True
    elif _has(low, r"\bhow many (lines|times)|\bcount (the )?(lines|matches|occurrences)"):
        fixed["count_only"] = True
    if _has(low, r"recursiv|every file|all files|subdirector|files? (in|under) "):
        fixed["recursive"] = True
    if facts.globs:
        fixed["include"] = facts.globs[0]
        fixed["recursive"] = True
    ctx = _count(low, r"\bwith", r"lines? (?:of )?(?:context|around)") or \
        _count(low, r"\b", r"lines? (?:of )?(?:context|around)")
    if ctx is not None:
        fixed["context_lines"] = ctx


def _grep_patterns(intent: str, facts: Facts) -> list[str]:
    if facts.quoted:
        return list(facts.quoted)
    m = re.search(r"\b(?:containing|contain|contains|mention(?:s|ing)?|for|matching|with|word|string|"
                  r"pattern|says?|saying)\s+(?:the\s+(?:word|string|text)\s+)?([\w.@:/-]+)", intent, re.I)
    cands = [m.group(1)] if m else []
    return cands + [w for w in quoted_or_words(intent, facts, 2) if w not in cands]


def _mode(low: str) -> str | None:
    m = re.search(r"(?<![\w.])([0-7]{3,4})(?![\w.])", low)
    if m:
        return m.group(1)
    m = re.search(r"(?<![\w])([ugoa]*[+=-][rwxX]+)\b", low)
    if m:
        return m.group(1)
    if _has(low, r"\b(not executable|non-executable|remove (the )?execut)"):
        return "a-x"
    if _has(low, r"\bexecutable\b|\brunnable\b"):
        return "u+x" if _has(low, r"\b(only me|only for me|for me|owner)\b") else "+x"
    if _has(low, r"read[- ]only"):
        return "a-w"
    if _has(low, r"\bprivate\b|only (by )?me"):
        return "600"
    return None


_RUN_VERB = re.compile(r"\b(?:run|execute|launch|start|invoke)\b\s+(?:the\s+(?:program|command)\s+)?", re.I)
_RUN_STOP = re.compile(r"\s+(?:in|inside|from|with(?:in)?|for|and show|and print|and tell)\s+(?:the\s+)?"
                       r"(?:folder|directory|dir|a|an|timeout|at most|\d)", re.I)


def _argv(intent: str, facts: Facts) -> list[str]:
    """The program and its arguments, as the person wrote them: a quoted command, else the words after
    "run" / "execute" / "launch" (up to a clause such as "in the folder ..." or "with a timeout ...")."""
    import shlex

    m = _RUN_VERB.search(intent)
    if m is not None:
        rest = intent[m.end():]
        stop = _RUN_STOP.search(rest)
        if stop is not None:
            rest = rest[: stop.start()]
        try:
            words = shlex.split(rest.strip().rstrip(".?!"))
        except ValueError:
            words = rest.split()
        if len(words) == 1 and " " in words[0]:  # the whole command was quoted
            words = words[0].split()
        if words:
            return words
    for q in facts.quoted:
        try:
            words = shlex.split(q)
        except ValueError:
            continue
        if words:
            return words
    return []


@dataclass
class _Words:
    """What a filler reads: the request as written and lower-cased, its facts, the call's properties,
    the step's index; it writes ``out``."""

    intent: str
    low: str
    facts: Facts
    props: dict[str, JSONDict]
    step: int
    out: Split


_Filler = Callable[[_Words], object]
FILLERS: dict[str, _Filler] = {}


def fills(*calls: str) -> Callable[[_Filler], _Filler]:
    """Decorator: the function sets what ``calls``' requests determine.  A call without one of its own
    (a plugin's) gets ``_generic``: a count for its ``limit`` and a pid or port from the numbers."""

    def deco(fn: _Filler) -> _Filler:
        for call in calls:
            FILLERS[call] = fn
        return fn

    return deco


@fills("proc.run")
def _fill_run(w: _Words) -> None:
    argv = _argv(w.intent, w.facts)
    if argv:
        w.out.fixed["argv"] = argv


@fills("fs.find")
def _fill_find(w: _Words) -> None:
    _find(w.intent, w.low, w.facts, w.out.fixed)


@fills("fs.read")
def _fill_read(w: _Words) -> None:
    _read(w.low, w.out.fixed)


@fills("fs.grep")
def _fill_grep(w: _Words) -> None:
    _grep(w.low, w.facts, w.out.fixed)
    if "pattern" not in w.out.fixed:
        w.out.ask["pattern"] = _grep_patterns(w.intent, w.facts)


@fills("fs.list")
def _fill_list(w: _Words) -> None:
    low, fixed = w.low, w.out.fixed
    if _has(low, r"\bhidden|dot ?files|including (all|dot)|\ball files\b|-a\b"):
        fixed["hidden"] = True
    if _has(low, r"\b(permissions?|owners?|details?|long|detailed)\b"):
        fixed["long"] = True
    if _has(low, r"\b(size|largest|biggest|smallest)\b"):
        fixed["sort"] = "size"
    elif _has(low, r"\b(date|time|newest|recent|recently|modified|latest|oldest)\b"):
        fixed["sort"] = "mtime"
    if _has(low, r"\b(smallest|oldest|reverse)\b") and "sort" in fixed:
        fixed["reverse"] = True
    n = _top_count(low)
    if n is not None:
        fixed["limit"] = n


@fills("fs.du")
def _fill_du(w: _Words) -> None:
    n = _top_count(w.low)
    if n is not None:
        w.out.fixed["top"] = n
    d = _count(w.low, r"\b(?:depth(?: of)?|up to|max(?:imum)? depth)", r"(?:levels?)?")
    if d is not None and "depth" in w.props:
        w.out.fixed["depth"] = d


def _top_count(low: str) -> int | None:
    return _count(low, r"\b(?:top|first|largest|biggest|newest|oldest|smallest)") or _ranked_count(low)


@fills("fs.checksum")
def _fill_checksum(w: _Words) -> None:
    for alg in ("md5", "sha1", "sha256"):
        if alg in w.low.replace("-", ""):
            w.out.fixed["algorithm"] = alg


@fills("fs.chmod")
def _fill_chmod(w: _Words) -> None:
    mode = _mode(w.low)
    if mode is not None:
        w.out.fixed["mode"] = mode
    if _has(w.low, r"recursiv|everything (in|under)|and (all )?(its )?contents"):
        w.out.fixed["recursive"] = True


@fills("fs.move")
def _fill_move(w: _Words) -> bool:
    """src and dest from "A to B" (both path-like words); False when the step is not the first or its
    source is a reference."""
    fixed = w.out.fixed
    if w.step != 0 or "src" in fixed:
        return False
    pt = path_tokens(w.intent)
    m = re.search(r"(\S+)\s+(?:to|into|as|in|under|over to)\s+(?:the\s+)?(\S+)\s*$", w.intent.rstrip(".!"))
    if m and len(pt) >= 2:
        a, b = (x.strip("\"'`,;:!?()[]{}") for x in m.groups())
        if a in pt and b in pt:
            fixed["src"], fixed["dest"] = a, b
    return True


@fills("fs.copy")
def _fill_copy(w: _Words) -> None:
    if _fill_move(w) and _has(w.low, r"recursiv|\b(directory|folder|dir|tree)\b"):
        w.out.fixed["recursive"] = True


@fills("fs.write", "fs.append")
def _fill_write(w: _Words) -> None:
    w.out.ask["content"] = quoted_or_words(w.intent, w.facts, 6)


@fills("proc.list")
def _fill_proc_list(w: _Words) -> None:
    low, fixed = w.low, w.out.fixed
    if _has(low, r"\b(cpu|processor)\b"):
        fixed["sort"] = "cpu"
    elif _has(low, r"\b(memory|ram|mem)\b"):
        fixed["sort"] = "memory"
    elif _has(low, r"\b(newest|recently started|latest)\b"):
        fixed["sort"] = "start"
    n = _count(low, r"\b(?:top|first)")
    if n is not None:
        fixed["limit"] = n
    if _has(low, r"\bzombies?\b"):
        fixed["status"] = "zombie"
    m = re.search(r"\b(?:owned by|user|run by|belonging to)\s+([a-z_][\w-]*)", low)
    if m and m.group(1) not in ("the", "a", "me"):
        fixed["user"] = m.group(1)
    m = re.search(r"\b(?:named|called)\s+['\"]?([\w.-]+)", w.intent)
    if m:
        fixed["name"] = m.group(1)
    elif "user" not in fixed and "status" not in fixed and "sort" not in fixed:
        w.out.ask["name"] = word_tokens(w.intent)


@fills("proc.port")
def _fill_port(w: _Words) -> None:
    _generic(w)
    if _has(w.low, r"\budp\b"):
        w.out.fixed["proto"] = "udp"


@fills("proc.signal")
def _fill_signal(w: _Words) -> None:
    _generic(w)
    sig = _signal(w.low)
    if sig is not None:
        w.out.fixed["signal"] = sig


def _set_on_words(call: str, *rules: tuple[str, str, Any]) -> None:
    """``call``'s filler: each ``(pattern, key, value)`` sets ``key`` when the request matches ``pattern``
    (the first rule that matches a key wins)."""

    def fill(w: _Words) -> None:
        for pattern, key, value in rules:
            if key not in w.out.fixed and _has(w.low, pattern):
                w.out.fixed[key] = value

    FILLERS[call] = fill


_set_on_words("fs.mkdir", (r"\b(parents?|nested|-p)\b", "parents", True))
_set_on_words("fs.delete", (r"recursiv|\b(directory|folder|dir|tree)\b|and (all )?(its )?contents", "recursive", True))
_set_on_words("dev.block", (r"\b(removable|usb|external|thumb|stick)\b", "removable_only", True))
_set_on_words("sys.net", (r"\blisten", "connections", "listening"), (r"\bconnections?\b", "connections", "all"))


def _generic(w: _Words) -> None:
    """What any call's argument kinds let code decide: a pid (the first pid or number of the request), a
    port (the first port or number that can be one), a ``limit`` ("the last 5", "top 3")."""
    fixed, facts = w.out.fixed, w.facts
    for key, sub in w.props.items():
        if key in fixed:
            continue
        if sub.get("x-nlsh") == "pid" and sub.get("type") == "integer":
            pids = facts.pids or facts.numbers
            if pids:
                fixed[key] = pids[0]
        elif key == "port" and sub.get("type") == "integer":
            ports = facts.ports or [n for n in facts.numbers if 0 < n < 65536]
            if ports:
                fixed[key] = ports[0]
        elif key == "limit" and sub.get("type") == "integer":
            n = _count(w.low, r"\b(?:top|first|last|latest|recent)")
            if n is not None:
                fixed[key] = n


def split(call: str, schema: JSONDict, intent: str, facts: Facts, *, step: int = 0,
          previous_call: str | None = None) -> Split:
    """The certain arguments of ``call`` for ``intent`` and, for the rest, the candidates the model picks from."""
    low = intent.lower()
    props: dict[str, JSONDict] = schema.get("properties", {})
    required = set(schema.get("required", []))
    out = Split()
    fixed = out.fixed
    for key, sub in props.items():
        if sub.get("x-nlsh") in ("path", "pid") or key in ("path", "pid", "src"):
            ref = _ref(key, sub, step, previous_call, low)
            if ref is not None and key in ("path", "pid", "src"):
                fixed[key] = ref
    FILLERS.get(call, _generic)(_Words(intent, low, facts, props, step, out))
    # what is left: paths and required strings go to the model, with grounded candidates
    tokens = path_tokens(intent, quoted_names=call not in _QUOTES_CONTENT)
    joined = joined_paths(intent, tokens)
    named = {j.rsplit("/", 1)[1] for j in joined}  # a bare name that was joined would point elsewhere
    paths = joined + [t for t in tokens if t not in named] + [p for p in facts.paths if p not in tokens]
    for key, sub in props.items():
        if key in fixed or key in out.ask:
            continue
        if sub.get("x-nlsh") == "path":
            if key in required or key == "path":
                out.ask[key] = paths
        elif key in required and sub.get("type") == "string" and "enum" not in sub:
            out.ask[key] = quoted_or_words(intent, facts, 4)
        elif key in required and sub.get("type") in ("integer", "number"):
            out.ask[key] = list(facts.numbers)
    return out
