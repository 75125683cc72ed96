"""Fuzz the model boundary: random and adversarial model outputs through the real kernel path.

Each generated text is what the model "said" (a ``ScriptedBackend`` replays it); the real trained-planner
code parses, grounds and validates it, the kernel expands references and validates each request again,
and the dispatcher hands it to the real policy gate.  A wrapping gate then denies everything, so no
request ever runs: the fuzz exercises every check between the model and an effect, and nothing else.

What counts as a failure:
  - a job that ends without exactly one terminal event, or with an error that is not a typed one;
  - a request reaching the gate that ``validate`` rejects (the boundary let something through);
  - any exception escaping the kernel.

    python bench/fuzz_boundary.py --examples 100000      # prints counts, outcomes and time
"""

from __future__ import annotations

import argparse
import json
import re
import string
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.errors import ModelError
from models.planner_v2 import TrainedPlanner
from models.scripted import ScriptedBackend
from nlshell.events import Event, Failed, Finished, Intent
from nlshell.kernel import Kernel
from syscalls.dispatcher import Dispatcher
from syscalls.errors import Denied, InvalidRequest, SyscallError
from syscalls.permissions import Policy, PolicyGate
from syscalls.registry import Registry, default_registry
from syscalls.types import Answer, CallContext, Question, SyscallRequest, SyscallSpec
from syscalls.validate import validate

REGISTRY = default_registry()


def _subclasses(cls: type) -> set[str]:
    return {cls.__name__}.union(*(_subclasses(c) for c in cls.__subclasses__()))


# The project's own errors: anything else reaching a job's Failed event escaped a check as a bare exception.
TYPED = _subclasses(SyscallError) | _subclasses(ModelError)
CALLS = sorted(spec.name for spec in REGISTRY)
KEYS = sorted({k for spec in REGISTRY for k in spec.args_schema.get("properties", {})})
_PATHISH = ["a.txt", "docs", "~", "/", ".", "..", "../..", "/etc/passwd", "~/.ssh/id_rsa", "/proc/1/mem",
            "src/*.py", "My Documents/letter to bob.txt", "a\nb", "\x1b[31mred", "\u202eevil.txt", "-rf",
            "$HOME", "`id`", "$(id)", "a;rm -rf ~", "*", "**", "/dev/sda", "nul\x00byte"]


_REF = st.builds(lambda n, f: f"\"${n}{f}\"", st.one_of(st.integers(0, 30).map(str), st.just("prev")),
                 st.sampled_from(["", ".path", ".pid", ".name", ".nope", ".", ".path.path"]))
# One value as the model might spell it, well formed or not.
VALUES = st.one_of(
    st.sampled_from(_PATHISH).map(json.dumps),
    st.text(max_size=40).map(json.dumps),
    _REF,
    st.integers(-(10 ** 30), 10 ** 30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["true", "false", "null", "[]", "{}", '["a", 1]', '{"a": 1}', "NaN", "-", "\"",
                     "\"unterminated", "1e999", "0x10", "\"10 megs\"", "\"a week\"", "\"u+x\"", "644"]),
    st.text(alphabet=string.printable, max_size=20),
    st.text(min_size=2000, max_size=6000, alphabet="ab/").map(json.dumps),
)
_TYPED = {"string": st.one_of(st.sampled_from(_PATHISH), st.text(max_size=30)).map(json.dumps),
          "integer": st.integers(-(10 ** 13), 10 ** 13).map(str),
          "number": st.floats(-1e6, 1e6).map(repr),
          "boolean": st.sampled_from(["true", "false"])}
_NAME = st.text(alphabet=string.ascii_lowercase + "._", min_size=1, max_size=12)
_KEY = st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=8)


def _typed_value(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    kind = schema.get("type")
    if "enum" in schema:
        return st.sampled_from([json.dumps(v) for v in schema["enum"]])
    return _TYPED.get(kind if isinstance(kind, str) else "", VALUES) if kind else VALUES


def _call_steps(spec: SyscallSpec) -> st.SearchStrategy[str]:
    """Steps of one known call: its own keys with values of their type (mostly), or anything."""
    props: dict[str, Any] = spec.args_schema.get("properties", {})
    if not props:
        return st.just(spec.name)
    pairs = [st.tuples(st.just(k), st.one_of(_typed_value(v), _typed_value(v), VALUES)) for k, v in props.items()]
    # keys mostly unique (a repeated key is one more malformed case, drawn now and then)
    keyed = st.one_of(st.lists(st.one_of(*pairs), max_size=len(props), unique_by=lambda kv: kv[0]),
                      st.lists(st.one_of(*pairs), max_size=len(props), unique_by=lambda kv: kv[0]),
                      st.lists(st.one_of(*pairs), max_size=len(props) + 1))
    return keyed.map(
        lambda kvs: " ".join([spec.name] + [f"{k}={v}" for k, v in kvs]))


_KNOWN = st.one_of(*[_call_steps(spec) for spec in REGISTRY])
_WILD = st.builds(lambda c, kvs: " ".join([c] + [f"{k}={v}" for k, v in kvs]),
                  st.one_of(st.sampled_from(CALLS), st.sampled_from(CALLS).map(lambda c: c + "x"), _NAME),
                  st.lists(st.tuples(st.one_of(st.sampled_from(KEYS), _KEY), VALUES), max_size=6))
STEP = st.one_of(_KNOWN, _KNOWN, _KNOWN, _WILD)


@st.composite
def model_outputs(draw: st.DrawFn) -> tuple[str, str]:
    """(what the model said, what the person asked)."""
    kind = draw(st.sampled_from(["plan", "plan", "plan", "text", "truncated"]))
    if kind == "text":
        text = draw(st.text(max_size=300))
    else:
        text = "\n".join(draw(st.lists(STEP, min_size=1, max_size=5)))
        if kind == "truncated":
            text = text[: draw(st.integers(0, len(text)))]
    echo = draw(st.booleans())  # the request names every value, so grounding lets the plan go deeper
    intent = text.replace('"', " ").replace("=", " ") if echo else draw(st.text(min_size=1, max_size=80))
    return text, intent


@dataclass
class Report:
    examples: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    reached_gate: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)


class DenyAfterGate:
    """The real policy gate, then a denial: nothing generated by the fuzz ever runs."""

    def __init__(self, inner: PolicyGate, registry: Registry, report: Report) -> None:
        self.inner, self.registry, self.report = inner, registry, report

    def authorize(self, request: SyscallRequest, spec: SyscallSpec, ctx: CallContext) -> None:
        self.report.reached_gate += 1
        try:
            validate({"call": request.call, "args": dict(request.args)}, self.registry)
        except InvalidRequest as exc:
            self.report.violations.append(f"reached the gate though invalid: {request.call} {exc}")
        self.inner.authorize(request, spec, ctx)
        raise Denied("the fuzz runs nothing", call=request.call, hint="none: this is a fuzz run")


def _reason(message: str) -> str:
    """A failure message without its particulars, to count failures by kind."""
    message = re.sub(r"'[^']*'|\"[^\"]*\"|\(model said.*|\d+", "_", message)
    return message.split(":")[-1].strip()[:60] if ":" in message else message[:60]


def _deny(_question: Question) -> Answer:
    return Answer.DENY


def run(examples: int, seed: int = 0) -> Report:
    report = Report()
    backend = ScriptedBackend()
    with tempfile.TemporaryDirectory(prefix="nlsh-fuzz-") as tmp:
        cwd = Path(tmp)
        (cwd / "a.txt").write_text("hello\n")
        (cwd / "docs").mkdir()
        gate = DenyAfterGate(PolicyGate(Policy.load(None)), REGISTRY, report)
        kernel = Kernel(TrainedPlanner(backend, REGISTRY), Dispatcher(REGISTRY, gate=gate),
                        session_states=False, warm=False)
        try:
            @settings(max_examples=examples, database=None, deadline=None, derandomize=seed == 0,
                      phases=[Phase.generate], suppress_health_check=list(HealthCheck))
            @given(model_outputs())
            def one(case: tuple[str, str]) -> None:
                text, intent = case
                report.examples += 1
                backend.outputs.clear()
                backend.calls.clear()
                backend.enqueue(text)
                seen: list[Event] = []
                try:
                    job = kernel.submit(Intent(intent, cwd=cwd), approve=_deny, on_event=seen.append)
                    event = job.result(60)
                except SyscallError as exc:  # refused at submission (an empty request): typed
                    report.outcomes["refused at submit"] += 1
                    report.errors[type(exc).__name__] += 1
                    return
                except Exception as exc:  # anything else escaping the kernel is what the fuzz looks for
                    report.violations.append(f"{type(exc).__name__} escaped: {exc!r} for {text!r}")
                    return
                terminal = [e for e in seen if e.terminal]
                if len(terminal) != 1:
                    report.violations.append(f"{len(terminal)} terminal events for {text!r}")
                if isinstance(event, Failed):
                    kind = str((event.error or {}).get("kind", ""))
                    if not kind or not (event.error or {}).get("message") \
                            or (event.error or {}).get("type") not in TYPED:
                        report.violations.append(f"untyped failure {event.error!r} for {text!r} / {intent!r}")
                    report.outcomes["failed"] += 1
                    report.errors[kind or "untyped"] += 1
                    report.reasons[_reason(str((event.error or {}).get("message", "")))] += 1
                elif isinstance(event, Finished):
                    statuses = Counter(r.status for r in event.results)
                    report.outcomes["planned" if event.results else "planned, nothing to run"] += 1
                    for status in statuses:
                        report.errors[f"step {status}"] += statuses[status]
                else:
                    report.outcomes[type(event).__name__] += 1

            one()
        finally:
            kernel.close()
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--examples", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0, help="0: derandomized (reproducible)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    report = run(args.examples, args.seed)
    seconds = time.perf_counter() - t0
    out: dict[str, Any] = {"examples": report.examples, "seconds": round(seconds, 1),
                           "per_s": round(report.examples / seconds, 1), "reached_gate": report.reached_gate,
                           "outcomes": dict(report.outcomes.most_common()),
                           "errors": dict(report.errors.most_common()),
                           "failure_kinds": dict(report.reasons.most_common(12)),
                           "violations": len(report.violations), "first_violations": report.violations[:10]}
    print(json.dumps(out, indent=1))
    return 1 if report.violations else 0


if __name__ == "__main__":
    raise SystemExit(main())
