"""The planner: intent → validated ``Plan`` of syscall requests.

Two-stage decoding over one growing prompt (so llama.cpp reuses the KV cache
of everything before the new tokens):

1. **Call**: the static prefix, the nearest examples (nearest last) and the
   request, ending in ``Call:``; a grammar restricts the answer to a call
   name or a multi-step label seen in the bank (``fs.find+fs.delete``).
2. **Arguments**: one ``Args:`` line per step, each constrained by that call's
   argument grammar, whose strings are grounded in the intent and whose
   integers are the values code normalised from it (``models.normalize``);
   later steps may refer to earlier rows (``$0.path``, ``$0.pid``) and
   follow-ups to the previous result (``$prev.path``).

Each step is then validated (``models.validation.validate_step``): the
grammar is a guide, not a security boundary.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from models import grammar as G
from models import prompts as P
from models.backend import Backend, TokenCallback
from models.errors import ModelOutputError, PlanningError
from models.examples import Bank, build_bank
from models.normalize import Facts, normalize
from models.plan import Plan, PlanStep
from models.validation import validate_step
from syscalls.errors import Cancelled, InvalidRequest
from syscalls.registry import Registry
from syscalls.types import JSONDict, SyscallResult


def integer_choices(key: str, schema: JSONDict, facts: Facts) -> list[int]:
    """The integers code read from the intent that fit argument ``key``."""
    k = key.lower()
    if schema.get("x-nlsh") == "pid" or k == "pid":
        return facts.pids + facts.numbers
    if "port" in k:
        return facts.ports + facts.numbers
    if "size" in k or "bytes" in k:
        lo = [b for op, b in facts.sizes if op != "<"]
        hi = [b for op, b in facts.sizes if op == "<"]
        return (hi + lo) if "max" in k else (lo + hi)
    want = ">" if "_min_" in k else "<" if "_max_" in k else ""
    ages = [(op, m) for op, m in facts.ages_min if not want or op in (want, "=")]
    if "minute" in k:
        return [m for _, m in ages]
    if "day" in k:
        return [max(1, round(m / 1440)) for _, m in ages if m >= 1440]
    return facts.numbers


def string_choices(key: str, schema: JSONDict, facts: Facts) -> list[str]:
    tag = schema.get("x-nlsh")
    if tag == "path":
        return facts.quoted + facts.paths
    if tag in ("pattern", "regex") or key in ("name", "iname"):
        return facts.globs + facts.quoted
    return list(facts.quoted)


class Planner:
    """Plans intents with ``backend`` over the calls of ``registry``."""

    def __init__(self, backend: Backend, registry: Registry, *, k: int = 6, method: str = "bm25",
                 grounded: bool = True, fmt: str = "completion", bank: Bank | None = None) -> None:
        self.backend = backend
        self.registry = registry
        self.k = k
        self.method = method
        self.grounded = grounded
        self.fmt = fmt
        self.bank = bank or build_bank(registry)
        self.prefix = P.static_prefix(registry, fmt=fmt)
        labels = set(self.bank.labels()) | set(registry.names())
        self.labels = sorted(lab for lab in labels if all(c in registry for c in lab.split("+")))
        self._call_grammar = G.call_grammar(self.labels, lead=" ")
        self._prefix_state: Any = None

    def warm(self) -> float:
        """Evaluate the static prefix once so every plan starts from its cached state; seconds taken."""
        start = time.perf_counter()
        self.backend.complete(self.prefix, max_tokens=1)
        self._prefix_state = self.backend.save_state()
        return time.perf_counter() - start

    def _choices(self, call: str, facts: Facts, step: int,
                 previous: SyscallResult | None) -> dict[str, list[Any]]:
        props: dict[str, JSONDict] = self.registry.get(call).args_schema.get("properties", {})
        out: dict[str, list[Any]] = {}
        for key, schema in props.items():
            refs: list[str] = []
            if schema.get("x-nlsh") in ("path", "pid") or key in ("path", "pid"):
                fld = "pid" if schema.get("type") == "integer" else "path"
                refs = [f"${j}.{fld}" for j in range(step)]
                if previous is not None:
                    refs.append(f"$prev.{fld}")
            if schema.get("type") in ("integer", "number"):
                out[key] = [*integer_choices(key, schema, facts), *refs]
            elif schema.get("type") == "string" and "enum" not in schema:
                out[key] = [*refs, *string_choices(key, schema, facts)]
        return out

    def _args_grammar(self, call: str, intent: str, facts: Facts, step: int,
                      previous: SyscallResult | None) -> str:
        schema = self.registry.get(call).args_schema
        return G.args_grammar(schema, intent=intent, choices=self._choices(call, facts, step, previous),
                              grounded=self.grounded, lead=" ", suffix="\n",
                              ground_all=call != "answer")

    def plan(self, intent: str, *, cwd: Path, previous: SyscallResult | None = None,
             on_token: TokenCallback | None = None) -> Plan:
        """A validated plan for ``intent``; raises ``PlanningError`` / ``ModelOutputError``."""
        t0 = time.perf_counter()
        intent = " ".join(intent.split())
        if not intent:
            raise PlanningError("the request is empty", intent=intent, hint="say what you want done")
        facts = normalize(intent)
        prev_call = previous.request.call if previous is not None else None
        shots = self.bank.nearest(intent, self.k, method=self.method, previous=prev_call)
        prompt = P.build(self.prefix, shots, intent, previous=prev_call, fmt=self.fmt)
        if self._prefix_state is not None:
            self.backend.load_state(self._prefix_state)
        first = self.backend.complete(prompt, grammar=self._call_grammar, max_tokens=24, on_token=on_token)
        if first.stopped == "cancelled":
            raise Cancelled("planning was cancelled", call="plan")
        label = first.text.strip()
        raw = first.text
        timings = {"call_s": first.total_s, "call_prompt_s": first.prompt_s,
                   "prompt_tokens": float(first.prompt_tokens), "cached_tokens": float(first.cached_tokens)}
        calls = label.split("+")
        if not label or any(c not in self.registry for c in calls):
            raise ModelOutputError("the model did not name a known call", raw=raw)
        text = prompt + " " + label + "\n"
        steps: list[PlanStep] = []
        for i, call in enumerate(calls):
            text += "Args:"
            if call == "answer":
                args: JSONDict = {"text": f"This is not something nlshell can do: {intent}",
                                  "supported": False}
                piece = " " + P.dumps(args) + "\n"
            else:
                gram = self._args_grammar(call, intent, facts, i, previous)
                comp = self.backend.complete(text, grammar=gram, max_tokens=160, on_token=on_token)
                if comp.stopped == "cancelled":
                    raise Cancelled("planning was cancelled", call=call)
                piece = comp.text
                timings[f"args{i}_s"] = comp.total_s
                try:
                    parsed = json.loads(piece)
                except json.JSONDecodeError as exc:
                    raise ModelOutputError("the arguments are not valid JSON", raw=piece, call=call) from exc
                if not isinstance(parsed, dict):
                    raise ModelOutputError("the arguments are not a JSON object", raw=piece, call=call)
                args = parsed
            raw += "Args:" + piece
            text += piece if piece.endswith("\n") else piece + "\n"
            try:
                validate_step(call, args, self.registry)
            except InvalidRequest as exc:
                raise ModelOutputError(f"the proposed request is invalid: {exc}", raw=raw, call=call) from exc
            steps.append(PlanStep(call=call, args=args))
        timings["total_s"] = time.perf_counter() - t0
        return Plan(intent=intent, steps=steps, raw=raw, model=self.backend.name,
                    examples=[s.intent for s in shots], timings=timings, confidence=None)
