"""The planner: intent → validated ``Plan`` of syscall requests.

Two-stage decoding over one growing prompt (so llama.cpp reuses the KV cache
of everything before the new tokens):

0. **Retrieval** (code): BM25 over the example bank ranks the examples; the
   labels of the best ones are the *candidates* and the ``k`` nearest
   examples go into the prompt (nearest last).  The static prefix (the
   instruction and one example per call) is the same for every intent, so its
   KV state is evaluated once (``warm``) and reused.
1. **Call**: the model chooses among the candidate labels (``fs.find``,
   ``fs.find+fs.delete``, ``answer``...) after ``Call:``; a backend with
   ``choose`` also reports the choice's probability among the candidates,
   the plan's confidence.  Below ``fallback`` the best-retrieved example's
   call wins over an unsure model; below ``min_confidence`` the plan is an
   honest refusal instead of a guess.
2. **Arguments**: code fills every argument the intent determines
   (``models.fill``: sizes, ages, counts, ports, pids, signals, globs,
   flags, ``$0.path`` / ``$prev.path`` references); the model writes only
   the rest, one ``Args:`` line per step, under a grammar whose values are
   grounded candidates (path-like words of the intent, ``.``, ``~``...).

Each step is then validated (``models.validation.validate_step``): the
grammar is a guide, not a security boundary.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from models import fill
from models import grammar as G
from models import prompts as P
from models.backend import Backend, TokenCallback
from models.bank import build_bank
from models.errors import ModelOutputError
from models.examples import Bank
from models.locate import locate
from models.normalize import Facts, normalize
from models.plan import Plan, PlanStep, request_text
from models.plantext import refers_back
from models.validation import validate_step
from syscalls.errors import CallCancelled, InvalidRequest
from syscalls.registry import Registry
from syscalls.types import JSONDict, SyscallResult


class Planner:
    """Plans intents with ``backend`` over the calls of ``registry``."""

    kind = "v1"
    warm_saves_work = True  # the static prefix it evaluates is shared by every plan (and cached on disk)

    def __init__(self, backend: Backend, registry: Registry, *, k: int = 2, method: str = "bm25",
                 grounded: bool = True, fmt: str = "completion", bank: Bank | None = None,
                 candidates: int = 5, min_confidence: float = 0.0, prefix_shots: int = 1,
                 cache: Path | bool | None = True, fallback: float = 0.7) -> None:
        self.backend = backend
        self.registry = registry
        self.k = k
        self.method = method
        self.grounded = grounded
        self.fmt = fmt
        self.candidates = candidates
        self.min_confidence = min_confidence
        self.fallback = fallback
        self.bank = bank or build_bank(registry)
        self.prefix = P.static_prefix(registry, fmt=fmt, shots=P.prefix_shots(self.bank, registry, prefix_shots))
        labels = set(self.bank.labels()) | set(registry.names())
        self.labels = sorted(lab for lab in labels if all(c in registry for c in lab.split("+")))
        self._prefix_state: Any = None
        self.prefix_loaded = False
        if cache is True:
            from models.profiles import cache_dir

            cache = cache_dir() / "states"
        self.cache: Path | None = cache if isinstance(cache, Path) else None

    def warm(self) -> float:
        """Evaluate the static prefix once so every plan starts from its cached state; seconds taken.

        A backend with ``warm_prefix`` persists that state in the cache directory (keyed by the model
        file and the prefix), so a new process loads it instead of evaluating the prefix again.
        """
        start = time.perf_counter()
        warm_prefix = getattr(self.backend, "warm_prefix", None)
        if warm_prefix is not None:  # kept by the backend, which every session borrows it from
            self.prefix_loaded = bool(warm_prefix(self.prefix, self.cache))
        else:
            self.backend.complete(self.prefix, max_tokens=1)
            self._prefix_state = self.backend.save_state()
        return time.perf_counter() - start

    def candidate_labels(self, intent: str, previous: str | None, facts: Facts | None = None) -> list[str]:
        """The labels of the best-ranked examples that can serve the intent, best first (every such label
        when nothing matches)."""
        facts = facts if facts is not None else normalize(intent)
        fu = previous is not None
        ranked = list(reversed(self.bank.nearest(intent, len(self.bank.shots), method=self.method,
                                                 previous=previous, scored=True)))
        out: list[str] = []
        for shot, score in ranked:
            if score <= 0:
                break
            if shot.label in self.labels and shot.label not in out \
                    and fill.allowed(shot.label, intent, self.registry, facts, follow_up=fu):
                out.append(shot.label)
            if len(out) >= self.candidates:
                break
        if not out:
            return [lab for lab in self.labels if fill.allowed(lab, intent, self.registry, facts, follow_up=fu)]
        if "answer" not in out:
            out.append("answer")
        return out

    def _choose_call(self, prompt: str, cands: list[str],
                     on_token: TokenCallback | None) -> tuple[str, float | None, JSONDict]:
        choose = getattr(self.backend, "choose", None)
        if choose is not None and on_token is None:
            ch = choose(prompt, [f" {c}\n" for c in cands])
            return ch.text.strip(), ch.prob, {"call_s": ch.total_s, "prompt_tokens": float(ch.prompt_tokens),
                                              "cached_tokens": float(ch.cached_tokens)}
        first = self.backend.complete(prompt, grammar=G.call_grammar(cands, lead=" "), max_tokens=24,
                                      on_token=on_token)
        if first.stopped == "cancelled":
            raise CallCancelled("planning was cancelled", call="plan")
        return first.text.strip(), None, {"call_s": first.total_s, "prompt_tokens": float(first.prompt_tokens),
                                          "cached_tokens": float(first.cached_tokens)}

    def _args_grammar(self, call: str, ask: dict[str, list[Any]], step: int,
                      previous: SyscallResult | None, facts: Facts) -> str:
        schema = self.registry.get(call).args_schema
        props: dict[str, JSONDict] = schema.get("properties", {})
        sub: JSONDict = {"type": "object", "properties": {k: props[k] for k in props if k in ask},
                         "required": [k for k in schema.get("required", []) if k in ask]}
        refs: list[str] = []
        for j in range(step):
            refs.append(f"${j}.path")
        if previous is not None:
            refs.append("$prev.path")
        return G.args_grammar(sub, intent="", choices=ask, refs=refs, grounded=self.grounded, lead=" ",
                              suffix="\n", ground_all=call != "answer", canonical=fill.canonical_paths(facts))

    def _can_point(self, call: str, ask: dict[str, list[Any]]) -> bool:
        """Whether every asked value can be a pointed-at candidate (no free text, no grammar)."""
        if getattr(self.backend, "choose", None) is None:
            return False
        props: dict[str, JSONDict] = self.registry.get(call).args_schema.get("properties", {})
        for key, values in ask.items():
            sub = props.get(key, {})
            if sub.get("x-nlsh") == "path":
                continue
            if not values or sub.get("type") not in ("string", "integer"):
                return False
        return True

    def _point(self, text: str, call: str, ask: dict[str, list[Any]], step: int,
               previous: SyscallResult | None, facts: Facts) -> tuple[JSONDict, float]:
        """The model picks each asked value among its candidates, one key after another, in schema order."""
        start = time.perf_counter()
        props: dict[str, JSONDict] = self.registry.get(call).args_schema.get("properties", {})
        out: JSONDict = {}
        text += " {"
        for key in (k for k in props if k in ask):
            values: list[Any] = []
            for v in ask[key]:
                if v not in values:
                    values.append(v)
            if props[key].get("x-nlsh") == "path":
                refs = [f"${j}.path" for j in range(step)] + (["$prev.path"] if previous is not None else [])
                values += [v for v in (*refs, *fill.canonical_paths(facts)) if v not in values]
            opts = [" " + json.dumps(v, ensure_ascii=False) for v in values]
            text += ("" if not out else ", ") + json.dumps(key) + ":"
            ch = self.backend.choose(text, opts)  # type: ignore[attr-defined]
            value = values[opts.index(ch.text)]
            out[key] = value
            text += ch.text
        return out, time.perf_counter() - start

    def plan(self, intent: str, *, cwd: Path, previous: SyscallResult | None = None,
             on_token: TokenCallback | None = None) -> Plan:
        """A validated plan for ``intent``; raises ``PlanningError`` / ``ModelOutputError``."""
        t0 = time.perf_counter()
        intent = request_text(intent)
        if previous is not None and not refers_back(intent):
            previous = None  # a request that does not point back stands on its own
        facts = normalize(intent)
        prev_call = previous.request.call if previous is not None else None
        shots = self.bank.nearest(intent, self.k, method=self.method, previous=prev_call)
        cands = self.candidate_labels(intent, prev_call, facts)
        prompt = P.build(self.prefix, shots, intent, previous=prev_call, fmt=self.fmt)
        if self._prefix_state is not None and getattr(self.backend, "choose", None) is None:
            self.backend.load_state(self._prefix_state)
        label, confidence, timings = self._choose_call(prompt, cands, on_token)
        if confidence is not None and confidence < self.fallback and label != cands[0]:
            # an unsure model defers to the best-retrieved example's call
            label, confidence = cands[0], confidence * 0.5
        raw = " " + label + "\n"
        calls = label.split("+")
        if not label or any(c not in self.registry for c in calls):
            raise ModelOutputError("the model did not name a known call", raw=raw)
        if confidence is not None and confidence < self.min_confidence and label != "answer":
            calls, label = ["answer"], "answer"
        text = prompt + " " + label + "\n"
        steps: list[PlanStep] = []
        for i, call in enumerate(calls):
            text += "Args:"
            if call == "answer":
                args: JSONDict = {"text": f"This is not something nlshell can do: {intent}",
                                  "supported": False}
                piece = " " + P.dumps(args) + "\n"
            else:
                schema = self.registry.get(call).args_schema
                split = fill.split(call, schema, intent, facts, step=i, previous_call=prev_call)
                args = {}
                if split.ask and self._can_point(call, split.ask):
                    args, t = self._point(text, call, split.ask, i, previous, facts)
                    timings[f"args{i}_s"] = t
                elif split.ask:
                    gram = self._args_grammar(call, split.ask, i, previous, facts)
                    comp = self.backend.complete(text, grammar=gram, max_tokens=96, on_token=on_token)
                    if comp.stopped == "cancelled":
                        raise CallCancelled("planning was cancelled", call=call)
                    timings[f"args{i}_s"] = comp.total_s
                    try:
                        parsed = json.loads(comp.text)
                    except json.JSONDecodeError as exc:
                        raise ModelOutputError("the arguments are not valid JSON", raw=comp.text,
                                               call=call) from exc
                    if not isinstance(parsed, dict):
                        raise ModelOutputError("the arguments are not a JSON object", raw=comp.text, call=call)
                    args = parsed
                props = list(schema.get("properties", {}))
                merged = {**args, **split.fixed}
                args = {k: merged[k] for k in props if k in merged}
                piece = " " + P.dumps(args) + "\n"
            raw += "Args:" + piece
            text += piece
            try:
                validate_step(call, args, self.registry)
            except InvalidRequest as exc:
                raise ModelOutputError(f"the proposed request is invalid: {exc}", raw=raw, call=call) from exc
            steps.append(PlanStep(call=call, args=args))
        found = locate(steps, self.registry, cwd)
        timings["total_s"] = time.perf_counter() - t0
        return Plan(intent=intent, steps=found.steps, raw=raw, model=self.backend.name,
                    examples=[s.intent for s in shots], timings=timings, confidence=confidence,
                    located=found.notes)
