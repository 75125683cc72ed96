"""The trained planner (v2): the model writes the whole plan in the plan text, under its grammar.

The prompt is only the request and, when there is one, a line about the
previous result (``models.plantext.prompt``): the task lives in the LoRA adapter
trained for it (``models/adapters/``), so a cold start evaluates a few dozen
tokens.  Decoding is greedy under the grammar generated from the registry
(known calls, their keys in order, typed values); the text is then parsed with
the typed value parsers, every path is checked against the words of the
request, an enum value the request has no word for (``signal="STOP"`` for
"terminate process 42") is dropped so its default applies, and every step is
validated.  The model's own probability of the
call name it wrote is the plan's confidence; below ``min_confidence`` the plan
is an honest refusal instead of a guess.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from pathlib import Path

from models import plantext as PT
from models.backend import Backend, Completion, TokenCallback
from models.bank import build_bank
from models.errors import ModelOutputError
from models.examples import Bank
from models.locate import Located, locate
from models.plan import REF_RE, Plan, PlanStep, has_field, request_text
from models.validation import validate_step
from models.words import joined_paths, path_tokens
from syscalls import schema as S
from syscalls.errors import CallCancelled, InvalidRequest
from syscalls.registry import Registry
from syscalls.types import JSONDict, Risk, SyscallResult

_BARE = {".", "..", "~"}  # and "/" when the request names the whole machine (names_root)
# Below this probability of the call it names, a plan is an honest refusal (and a suggestion a person may
# accept), chosen on dev rows only: bench/threshold.py over the NL2Bash dev rows (`bench/eval_nl2bash.py --split
# dev --per-family 40 --planners v2 --min-confidence 0 --json`) and the two bench dev sets (`bench/bench_model.py
# accuracy --set dev|dev2 --planners v2 --min-confidence 0 --json`), 273 plans with the shipped adapter.  Right
# plans kept minus wrong actions: for plans that change something, 63 at 0.70 and 62 at 0.60-0.65 (one more
# wrong action); for plans that only read (every step ``Risk.READ``), 94 at 0.65 and 91 at 0.70 (three more
# right, no more wrong).  So a plan that only reads is held to 0.65, one that changes something to 0.70.
DEFAULT_MIN_CONFIDENCE = 0.70
DEFAULT_MIN_CONFIDENCE_READ = 0.65
# A model planning from worked examples (``shots``): its threshold and how many examples it sees, chosen on
# NL2Bash dev rows with the bundled base model (bench/threshold.py, bench/eval_nl2bash.py --split dev).
DEFAULT_MIN_CONFIDENCE_SHOTS = 0.0
DEFAULT_SHOTS = 8
SHOTS_HEAD = ("Each request becomes a plan: one syscall a line, the call's name, then key=value arguments "
              "with JSON values. A request nothing here can do becomes answer supported=false.\n\n")


def drop_unasked(steps: list[PlanStep], registry: Registry, intent: str, raw: str = "") -> list[PlanStep]:
    """Each step without the enum values the request does not ask for (``syscalls.schema.asks_for``).

    An optional argument falls back to its default; a required one the request does not ask for is a
    ``ModelOutputError``.  The words come from the schema (``x-words``), so plugins declare theirs alike.
    """
    out = []
    for step in steps:
        schema = registry.get(step.call).args_schema
        props: dict[str, JSONDict] = schema.get("properties", {})
        args = dict(step.args)
        for key, value in step.args.items():
            sub = props.get(key, {})
            if S.asks_for(sub, value, intent):
                continue
            if key in schema.get("required", []):
                raise ModelOutputError(f"{step.call}: {key} {value!r} is not something the request asks for",
                                       raw=raw, call=step.call, hint=f"say which {key} you mean")
            del args[key]
        out.append(PlanStep(step.call, args))
    return out


def place_named_files(steps: list[PlanStep], registry: Registry, intent: str) -> list[PlanStep]:
    """A file the request places in a folder ("delete todo.md in ~/Downloads") is that folder's file: a
    path argument naming it bare (which would act on ``./todo.md``) becomes ``~/Downloads/todo.md``; a
    step that then repeats an earlier one is dropped (unless steps refer to each other by number)."""
    joined = {j.rsplit("/", 1)[1]: j for j in joined_paths(intent, path_tokens(intent))}
    if not joined:
        return steps
    numbered = any(isinstance(v, str) and (m := REF_RE.match(v)) is not None and m.group("step") != "prev"
                   for step in steps for v in step.args.values())
    out: list[PlanStep] = []
    for step in steps:
        args = dict(step.args)
        for key in registry.get(step.call).path_args:
            value = args.get(key)
            if isinstance(value, str) and value in joined:
                args[key] = joined[value]
        placed = PlanStep(step.call, args)
        if numbered or placed not in out:
            out.append(placed)
    return out


_PRONOUNS = {"it", "them", "em", "those", "these", "that", "they", "this", "this one", "that one"}


def pronouns_to_previous(steps: list[PlanStep], registry: Registry, previous: SyscallResult | None) -> list[PlanStep]:
    """What a path or pid argument refers to, said as the reference it has to be.

    A whole result (``src="$prev"``, ``path="$0"``) in a path argument means its rows' paths
    (``$prev.path``), in a pid argument their pids; a path argument the model filled with the pronoun
    itself ("move it to docs" → ``src="it"``) means the previous result's paths when its rows have paths.
    """
    paths_back = previous is not None and has_field(previous, "path", registry)
    out = []
    for step in steps:
        args = dict(step.args)
        spec = registry.get(step.call)
        for keys, fld in ((spec.path_args, "path"), (spec.pid_args, "pid")):
            for key in keys:
                value = args.get(key)
                if not isinstance(value, str):
                    continue
                m = REF_RE.match(value)
                if m is not None and m.group("field") is None:
                    args[key] = f"{value}.{fld}"
                elif fld == "path" and paths_back and value.lower() in _PRONOUNS:
                    args[key] = "$prev.path"
        out.append(PlanStep(step.call, args))
    return out


# Words that name the whole machine: "/" is a path only a request with one of them (or "/" itself) names.
_ROOT = re.compile(r"(?:^|\s)/(?:\s|$)|\b(?:root|system|everywhere|anywhere|entire|whole|computer|machine|disk|"
                   r"drive|filesystem|file system)\b")


def names_root(intent: str) -> bool:
    """The request speaks of the whole machine (or writes ``/`` alone)."""
    return _ROOT.search(intent.lower()) is not None


def unnamed_root(steps: list[PlanStep], registry: Registry, intent: str) -> list[PlanStep]:
    """Each step without a ``/`` the request does not name, where the call may leave that path out (a
    read-only call's optional path: it then looks where the person is, as they asked)."""
    if names_root(intent):
        return steps
    out = []
    for step in steps:
        spec = registry.get(step.call)
        needed = set(spec.args_schema.get("required", ()))
        drop = {k for k in spec.path_args if step.args.get(k) == "/" and k not in needed and spec.risk is Risk.READ}
        out.append(PlanStep(step.call, {k: v for k, v in step.args.items() if k not in drop}) if drop else step)
    return out


def grounded(value: str, intent: str, suffixes: Sequence[str] = ()) -> bool:
    """A path the request names: a reference, ``.``/``~``, ``/`` when the request speaks of the whole
    machine, or made only of the request's own words (whole words or a plural's stem, any case), joined by
    punctuation and spaces, as the grammar writes them (``models.plantext.grammar``); one of the call's
    ``suffixes`` (an archive's format) may end it."""
    if value == "/":
        return names_root(intent)
    if value in _BARE or REF_RE.match(value):
        return True
    value = next((value[:-len(x)] for x in suffixes if value.endswith(x) and len(value) > len(x)), value)
    words = PT.path_words(intent)
    return all(w in words for w in PT.ALNUM.findall(value.lower()))


class TrainedPlanner:
    """Plans intents with a backend that carries the planner adapter (or a model that knows the format).

    With ``shots`` it plans with a model that was never trained on the format (a base model, a user's
    GGUF, a remote server): the prompt then begins with ``shots`` worked examples in the same plan text,
    the nearest to the request retrieved from the example bank (``models.bank``), and the grammar ends
    the plan at the blank line that separates them.
    """


    def __init__(self, backend: Backend, registry: Registry, *,
                 min_confidence: float | None = None, max_tokens: int = 160,
                 constrain: str = "always", shots: int = 0, bank: Bank | None = None) -> None:
        if constrain not in ("always", "fallback"):
            raise ValueError(f"constrain must be 'always' or 'fallback', not {constrain!r}")
        self.backend = backend
        self.registry = registry
        self.kind = "shots" if shots else "v2"
        self.shots = shots
        self.bank = (bank or build_bank(registry)) if shots else None
        # the thresholds for a plan that changes something and for one that only reads (one given: both)
        defaults = (DEFAULT_MIN_CONFIDENCE_SHOTS,) * 2 if shots else \
            (DEFAULT_MIN_CONFIDENCE, DEFAULT_MIN_CONFIDENCE_READ)
        self.min_confidence, self.read_min_confidence = \
            (min_confidence, min_confidence) if min_confidence is not None else defaults
        self.max_tokens = max_tokens
        # "always": every plan is decoded under the grammar; "fallback": greedy first, and again under the
        # grammar only when the text does not parse (the trained model rarely strays; the grammar costs time)
        self.constrain = constrain
        self.end = "\n\n" if shots else ""

    def threshold(self, steps: Sequence[PlanStep]) -> float:
        """The confidence ``steps`` need to run: lower for a plan that only reads (every step ``Risk.READ``)."""
        return self.read_min_confidence if self.registry.reads_only(s.call for s in steps) else self.min_confidence

    def grammar_for(self, intent: str, previous: bool = False) -> str:
        """The plan grammar for ``intent``: its paths are the request's words, its pids and ports the
        request's numbers, and ``$prev`` only with a ``previous`` result."""
        return PT.grammar(self.registry, end=self.end, intent=intent, previous=previous)

    def prompt(self, intent: str, previous: SyscallResult | None = None) -> str:
        """The whole prompt for ``intent``: the request (after the worked examples, with ``shots``)."""
        text = PT.prompt(intent, PT.summary(previous))
        if self.bank is None:
            return text
        before = previous.request.call if previous is not None else None
        examples = self.bank.nearest(intent, self.shots, previous=before)
        return SHOTS_HEAD + "".join(PT.shot(ex.intent, ex.steps, self.registry,
                                            f"{ex.previous or before} 3 rows" if ex.follows else None)
                                    for ex in examples) + text

    def warm(self) -> float:
        """Load the grammar and run one tiny plan so the first request pays no set-up; seconds taken."""
        start = time.perf_counter()
        self._generate(self.prompt("list files"), None, self.grammar_for("list files"))
        return time.perf_counter() - start

    def _generate(self, prompt: str, on_token: TokenCallback | None, grammar: str | None = None) -> Completion:
        generate = getattr(self.backend, "generate", None)
        if generate is not None:
            comp: Completion = generate(prompt, grammar=grammar, max_tokens=self.max_tokens, on_token=on_token)
        else:
            comp = self.backend.complete(prompt, grammar=grammar, max_tokens=self.max_tokens, on_token=on_token)
        if comp.stopped == "cancelled":
            raise CallCancelled("planning was cancelled", call="plan")
        return comp

    def _decode(self, prompt: str, intent: str, on_token: TokenCallback | None,
                previous: bool) -> tuple[Completion, list[PlanStep]]:
        if self.constrain == "fallback":
            comp = self._generate(prompt, on_token)
            try:
                return comp, PT.parse(comp.text, self.registry, intent=intent)
            except ModelOutputError:
                pass  # off the format: decode again under the grammar
        comp = self._generate(prompt, on_token, self.grammar_for(intent, previous))
        return comp, PT.parse(comp.text, self.registry, intent=intent)

    def _check_refs(self, steps: list[PlanStep], previous: SyscallResult | None, raw: str) -> None:
        for i, step in enumerate(steps):
            for key, value in step.args.items():
                if not isinstance(value, str):
                    continue
                m = REF_RE.match(value)
                if m and m.group("step") == "prev" and previous is None:
                    raise ModelOutputError(f"{step.call}: {key} refers to a previous result, and there is none",
                                           raw=raw, call=step.call,
                                           hint="say which files or processes you mean")
                if m and m.group("step") != "prev" and int(m.group("step")) >= i and i == 0 \
                        and previous is not None:
                    # the first step of a follow-up has nothing before it but the previous result
                    step.args[key] = "$prev" + value[len(m.group("step")) + 1:]
                    continue
                if m and m.group("step") != "prev" and int(m.group("step")) >= i:
                    raise ModelOutputError(f"{step.call}: {key} refers to step {m.group('step')}, which does not "
                                           "come before it", raw=raw, call=step.call)

    def _check_grounded(self, steps: list[PlanStep], intent: str, raw: str) -> None:
        """Paths, pids and ports come from the request: a plan never acts on one the person did not name."""
        numbers = PT.request_numbers(intent)
        for step in steps:
            spec = self.registry.get(step.call)
            props = spec.args_schema.get("properties", {})
            for key in spec.path_args:
                value = step.args.get(key)
                if isinstance(value, str) and not grounded(value, intent, props[key].get("x-suffixes", ())):
                    raise ModelOutputError(f"{step.call}: {key} {value!r} is not something the request names",
                                           raw=raw, call=step.call,
                                           hint="name the file or folder as it is spelled")
            for key in PT.pattern_keys(spec):
                given = step.args.get(key)
                for value in given if isinstance(given, list) else [given]:
                    if isinstance(value, str) and not REF_RE.match(value) and not PT.pattern_grounded(value, intent):
                        raise ModelOutputError(f"{step.call}: {key} {value!r} is not text the request gives",
                                               raw=raw, call=step.call, hint="quote the text to look for")
            for key in PT.number_keys(spec):
                value = step.args.get(key)
                if isinstance(value, int) and str(value) not in numbers:
                    raise ModelOutputError(f"{step.call}: {key} {value} is not a number the request gives",
                                           raw=raw, call=step.call, hint=f"say which {key} you mean")
            if spec.capability == "fs.chown":  # whom a file is given to is never a guess
                for key in ("user", "group"):
                    value = step.args.get(key)
                    if isinstance(value, str) and not grounded(value, intent):
                        raise ModelOutputError(f"{step.call}: {key} {value!r} is not someone the request names",
                                               raw=raw, call=step.call, hint=f"name the {key}")

    def plan(self, intent: str, *, cwd: Path, previous: SyscallResult | None = None,
             on_token: TokenCallback | None = None) -> Plan:
        """A validated plan for ``intent``; raises ``PlanningError`` / ``ModelOutputError``."""
        t0 = time.perf_counter()
        intent = request_text(intent)
        if previous is not None and not PT.refers_back(intent):
            previous = None  # a request that does not point back stands on its own
        prompt = self.prompt(intent, previous)
        comp, steps = self._decode(prompt, intent, on_token, previous is not None)
        raw = comp.text
        confidence = comp.extra.get("call_prob")
        suggestion: list[PlanStep] = []
        found = Located([])
        if confidence is not None and confidence < self.threshold(steps) and steps[0].call != "answer":
            # too unsure to act: an honest refusal, and the plan kept as a suggestion if it holds up
            try:
                suggestion = self._checked(steps, intent, previous, raw, cwd).steps
            except ModelOutputError:
                suggestion = []
            steps = [PlanStep("answer", {"text": PT.REFUSAL_TEXT.format(intent=intent) +
                                         " (the model was unsure what you meant; try naming the file, folder "
                                         "or process)", "supported": False})]
        else:
            found = self._checked(steps, intent, previous, raw, cwd)
            steps = found.steps
        timings = {"total_s": time.perf_counter() - t0, "prompt_tokens": float(comp.prompt_tokens),
                   "cached_tokens": float(comp.cached_tokens), "completion_tokens": float(comp.completion_tokens)}
        return Plan(intent=intent, steps=steps, raw=raw, model=self.backend.name, timings=timings,
                    confidence=confidence, located=found.notes, suggestion=suggestion)

    def _checked(self, steps: list[PlanStep], intent: str, previous: SyscallResult | None, raw: str,
                 cwd: Path) -> Located:
        """``steps`` made whole and checked: pronouns to the previous result, references, grounding, named
        files placed, unasked steps dropped, loose paths located, each step validated."""
        steps = pronouns_to_previous(steps, self.registry, previous)
        self._check_refs(steps, previous, raw)
        steps = unnamed_root(steps, self.registry, intent)
        self._check_grounded(steps, intent, raw)
        steps = place_named_files(steps, self.registry, intent)
        steps = drop_unasked(steps, self.registry, intent, raw)
        found = locate(steps, self.registry, cwd)
        for step in found.steps:
            try:
                validate_step(step.call, step.args, self.registry)
            except InvalidRequest as exc:
                raise ModelOutputError(f"the proposed request is invalid: {exc}", raw=raw, call=step.call) from exc
        return found
