"""Shared pieces of the execution-based evaluations (``eval_nl2bash.py``, ``cases_system.py``).

* ``SandboxGate``: the gate the evaluation dispatches through.  A wrong plan
  must not touch anything outside the case's fixture: it refuses ``proc.run``,
  signals to any pid the case did not spawn, and changing calls whose path
  arguments leave the fixture root.  A refusal shows up as a ``denied`` result,
  so the case fails as a wrong argument / wrong call; nothing ran.
* ``execute``: runs a ``Plan`` step by step like the kernel does (``$N.field``
  fan-out, validation of the expanded arguments, ``Dispatcher.handle``).
* ``CaseRecord`` / ``summarize``: one verdict per case and the summary table
  (accuracy per family, overall, failures by kind, latency p50/p90 with the
  load average next to it).

Failure kinds: ``wrong call`` (no acceptable call in the plan), ``wrong
argument`` (an acceptable call, but effects or information differ, or a step
failed), ``refusal`` (``answer`` / Unsupported for a supported intent),
``invalid plan`` (the model's output could not become a valid request),
``crash`` (an unexpected exception in planning or execution).
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from models.errors import ModelError, Unsupported
from models.plan import Plan, expand_refs
from syscalls.dispatcher import Dispatcher
from syscalls.errors import Denied, InvalidRequest, SyscallError
from syscalls.types import CallContext, JSONDict, Risk, SyscallRequest, SyscallResult, SyscallSpec
from syscalls.validate import validate

MAX_FANOUT = 500


class PlannerLike(Protocol):
    def plan(self, intent: str, *, cwd: Path) -> Plan: ...


class SandboxGate:
    """Changes only under ``root``; signals only to ``pids``; never ``proc.run``.

    Reads go anywhere unless ``confine_reads`` (the NL2Bash rows never read
    outside their fixture, so a plan that scans ``~`` is wrong and only slow).
    """

    def __init__(self, root: Path | None = None, pids: Iterable[int] = (), *, confine_reads: bool = False) -> None:
        self.root = root
        self.pids = set(pids)
        self.confine_reads = confine_reads

    def authorize(self, request: SyscallRequest, spec: SyscallSpec, ctx: CallContext) -> None:
        if request.call == "proc.run":
            raise Denied("the evaluation never runs programs", call=request.call, target="proc.run",
                         hint="plan a syscall that does the job directly")
        for key in spec.pid_args:
            pid = request.args.get(key)
            if request.call == "proc.signal" and pid is not None and int(pid) not in self.pids:
                raise Denied("the evaluation only signals processes its case spawned",
                             call=request.call, target=f"pid {pid}", hint="name the case's process")
        if self.root is None or (spec.risk is Risk.READ and not self.confine_reads):
            return
        for key in spec.path_args:
            raw = request.args.get(key)
            if not isinstance(raw, str):
                continue
            p = ctx.resolve(raw)
            if p != self.root and self.root not in p.parents:
                raise Denied("the evaluation only touches files inside the case's fixture",
                             call=request.call, target=str(p), hint=f"use a path under {self.root}")


@dataclass
class Execution:
    results: list[SyscallResult] = field(default_factory=list)
    error: str = ""           # a plan-level problem: bad reference, invalid expanded arguments
    error_kind: str = ""      # "invalid plan" | "crash" | ""


def open_planner(model: str | None, registry: Any, kind: str | None = None,
                 min_confidence: float | None = None) -> tuple[Any, JSONDict]:
    """Load ``model`` for the planner ``kind`` (v2, shots or auto), warm it, and return it with the run's
    metadata.  ``min_confidence`` replaces the planner's refusal threshold (0: never refuse an unsure plan,
    as ``bench/threshold.py`` needs)."""
    from models import load_backend, make_planner

    load0 = os.getloadavg()
    t = time.perf_counter()
    backend = load_backend(model, planner=kind)
    load_s = time.perf_counter() - t
    planner = make_planner(backend, registry, kind)
    if min_confidence is not None:
        planner.min_confidence = planner.read_min_confidence = min_confidence
    warm_s = planner.warm()
    return planner, {"model": backend.name, "planner": planner.kind, "load_s": round(load_s, 2),
                     "prefix_warm_s": round(warm_s, 2), "loadavg_start": "/".join(f"{x:.2f}" for x in load0)}


def side_by_side(kinds: list[str], model: str | None, registry: Any, cases: list[Any],
                 evaluate: Callable[[Any, Any, Any, Path], CaseRecord], *, meta: JSONDict,
                 json_path: Path | None = None, unsupported: Iterable[str] = (),
                 show: Callable[[str, CaseRecord], None] | None = None, prefix: str = "eval-",
                 min_confidence: float | None = None) -> None:
    """Evaluate ``cases`` with each planner of ``kinds`` (each case in a fresh fixture per planner, in this
    one run), then print each planner's summary; ``json_path`` gets one file per planner."""
    planners = {k: open_planner(model, registry, k, min_confidence) for k in kinds}
    records: dict[str, list[CaseRecord]] = {k: [] for k in kinds}
    first = dict.fromkeys(kinds, True)
    with tempfile.TemporaryDirectory(prefix=prefix) as work:
        for case in cases:
            for kind, (planner, _) in planners.items():
                rec = evaluate(case, planner, registry, Path(work))
                if rec.latency_s is not None:
                    rec.cold, first[kind] = first[kind], False
                records[kind].append(rec)
                if show is not None:
                    show(kind, rec)
    for kind, (_, run_meta) in planners.items():
        m = {"model": run_meta["model"], "planner": kind, **meta,
             **{k: v for k, v in run_meta.items() if k not in ("model", "planner")}}
        text, summary = summarize(records[kind], m, unsupported=unsupported)
        print(f"===== planner {kind} =====")
        print(text)
        if json_path is not None:
            write_json(json_path.with_name(f"{json_path.stem}-{kind}{json_path.suffix}"), m, summary, records[kind])


def execute(plan: Plan, disp: Dispatcher, cwd: Path) -> Execution:
    """Run ``plan`` like the kernel: expand references, validate, dispatch; stop after a failed step."""
    out = Execution()
    by_step: list[SyscallResult] = []
    for step in plan.steps:
        try:
            arg_sets = expand_refs(step.args, by_step)
        except LookupError as exc:
            out.error, out.error_kind = f"reference: {exc}", "invalid plan"
            return out
        rows: list[Any] = []
        last: SyscallResult | None = None
        for args in arg_sets[:MAX_FANOUT]:
            try:
                req = validate({"call": step.call, "args": args}, disp.registry)
            except InvalidRequest as exc:
                out.error, out.error_kind = f"invalid: {exc}", "invalid plan"
                return out
            try:
                last = disp.handle(req, cwd)
            except Exception as exc:
                out.error, out.error_kind = f"{type(exc).__name__}: {exc}", "crash"
                return out
            out.results.append(last)
            rows.append(last.data)
            if not last.ok:
                return out
        if last is None:  # a reference to an empty table: nothing to do
            last = SyscallResult(SyscallRequest(step.call, dict(step.args)), "ok", data={"rows": []})
        elif len(arg_sets) > 1:
            last = SyscallResult(last.request, last.status, data={"rows": rows})
        by_step.append(last)
    return out


@contextmanager
def home_at(root: Path) -> Iterator[None]:
    """``$HOME`` is ``root`` inside the block: a planner looking for a named place (``models.locate``)
    looks in the fixture, never in the home of whoever runs the benchmark."""
    old = os.environ.get("HOME")
    os.environ["HOME"] = str(root)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = old


def plan_with_timing(planner: PlannerLike, intent: str, cwd: Path) -> tuple[Plan | None, float, str, str]:
    """(plan, seconds, error text, failure kind) — the planner's exceptions become data.  The planner sees
    the fixture ``cwd`` as its home."""
    t0 = time.perf_counter()
    try:
        with home_at(cwd):
            plan = planner.plan(intent, cwd=cwd)
    except Unsupported as exc:
        return None, time.perf_counter() - t0, f"Unsupported: {exc}", "refusal"
    except (ModelError, SyscallError) as exc:
        return None, time.perf_counter() - t0, f"{type(exc).__name__}: {exc}", "invalid plan"
    except Exception as exc:
        return None, time.perf_counter() - t0, f"{type(exc).__name__}: {exc}", "crash"
    return plan, time.perf_counter() - t0, "", ""


def is_refusal(plan: Plan | None) -> bool:
    return plan is not None and bool(plan.steps) and plan.steps[0].call == "answer" \
        and plan.steps[0].args.get("supported") is False


def walk(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    """Every (key, scalar) leaf of a JSON value."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from walk(v, str(k))
    elif isinstance(value, list):
        for v in value:
            yield from walk(v, key)
    else:
        yield key, value


def result_data(results: list[SyscallResult]) -> list[Any]:
    return [r.data for r in results if r.ok and r.data is not None]


@dataclass
class CaseRecord:
    id: str
    family: str
    intent: str
    gold: str
    verdict: str = "fail"            # pass | fail | gold-invalid
    kind: str = ""                   # failure kind when verdict == fail
    detail: str = ""
    plan: list[JSONDict] | None = None
    error: str = ""
    latency_s: float | None = None
    cold: bool = False
    effects_ok: bool | None = None
    info_ok: bool | None = None
    info_vacuous: bool = False       # gold printed nothing the intent did not already contain
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    steps_status: list[str] = field(default_factory=list)
    confidence: float | None = None  # the planner's, when it gives one

    def to_dict(self) -> JSONDict:
        return asdict(self)


def failure_kind(plan: Plan | None, plan_kind: str, acceptable: set[str], executed: Execution | None) -> str:
    if plan is None:
        return plan_kind or "invalid plan"
    if is_refusal(plan) or (plan.steps and plan.steps[0].call == "answer"):
        return "refusal"
    if not acceptable & {s.call for s in plan.steps}:
        return "wrong call"
    if executed is not None and executed.error_kind:
        return executed.error_kind
    return "wrong argument"


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def summarize(records: list[CaseRecord], meta: JSONDict, *, unsupported: Iterable[str] = ()) -> tuple[str, JSONDict]:
    """The summary table (text) and the same figures as JSON."""
    unsup = set(unsupported)
    by: dict[str, list[CaseRecord]] = defaultdict(list)
    for r in records:
        by[r.family].append(r)
    lines = [" ".join(f"{k}={v}" for k, v in meta.items())]
    lines.append(f"{'family':12} {'pass':>4} {'n':>3} {'acc':>5} {'gold-inv':>8}  failures")
    fams: JSONDict = {}
    covered = [r for r in records if r.verdict != "gold-invalid" and r.family not in unsup]
    for fam in sorted(by, key=lambda f: (f in unsup, f)):
        rs = [r for r in by[fam] if r.verdict != "gold-invalid"]
        inv = len(by[fam]) - len(rs)
        ok = sum(r.verdict == "pass" for r in rs)
        kinds = Counter(r.kind for r in rs if r.verdict == "fail")
        acc = ok / len(rs) if rs else 0.0
        fams[fam] = {"pass": ok, "n": len(rs), "accuracy": acc, "gold_invalid": inv, "failures": dict(kinds),
                     "vacuous_passes": sum(r.verdict == "pass" and r.info_vacuous for r in rs)}
        label = fam + (" (unsup)" if fam in unsup else "")
        lines.append(f"{label:12} {ok:4d} {len(rs):3d} {acc:5.0%} {inv:8d}  "
                     + ", ".join(f"{k}: {v}" for k, v in sorted(kinds.items())))
    ok = sum(r.verdict == "pass" for r in covered)
    kinds = Counter(r.kind for r in covered if r.verdict == "fail")
    lines.append(f"{'overall':12} {ok:4d} {len(covered):3d} {ok / max(1, len(covered)):5.0%} "
                 f"{sum(r.verdict == 'gold-invalid' for r in records):8d}  "
                 + ", ".join(f"{k}: {v}" for k, v in sorted(kinds.items())))
    us = [r for r in records if r.family in unsup and r.verdict != "gold-invalid"]
    summary: JSONDict = {"families": fams, "overall": {"pass": ok, "n": len(covered),
                                                       "accuracy": ok / max(1, len(covered)),
                                                       "failures": dict(kinds)},
                         "gold_invalid": sum(r.verdict == "gold-invalid" for r in records),
                         "vacuous_passes": sum(r.verdict == "pass" and r.info_vacuous for r in covered)}
    if us:
        uok = sum(r.verdict == "pass" for r in us)
        lines.append(f"unsupported intents refused correctly: {uok}/{len(us)}")
        summary["unsupported"] = {"refused": uok, "n": len(us)}
    lines.append(f"passes whose information check was vacuous (effects / call only): {summary['vacuous_passes']}")
    warm = [r.latency_s for r in records if r.latency_s is not None and not r.cold]
    cold = [r.latency_s for r in records if r.latency_s is not None and r.cold]
    lat: JSONDict = {}
    if cold:
        lat["cold_s"] = cold[0]
    if warm:
        lat.update({"warm_p50_s": statistics.median(warm), "warm_p90_s": percentile(warm, 0.9), "warm_n": len(warm)})
    load = os.getloadavg()
    lat["loadavg_end"] = [round(x, 2) for x in load]
    lines.append("latency intent→validated plan: "
                 + (f"cold(first plan)={lat['cold_s']:.2f}s " if "cold_s" in lat else "")
                 + (f"warm p50={lat['warm_p50_s']:.2f}s p90={lat['warm_p90_s']:.2f}s n={lat['warm_n']} "
                    if warm else "")
                 + f"loadavg(1/5/15m at end)={'/'.join(str(x) for x in lat['loadavg_end'])}")
    summary["latency"] = lat
    return "\n".join(lines), summary


def write_json(path: Path, meta: JSONDict, summary: JSONDict, records: list[CaseRecord]) -> None:
    path.write_text(json.dumps({"meta": meta, "summary": summary, "cases": [r.to_dict() for r in records]},
                               indent=1, default=str))


def compare(paths: list[Path]) -> str:
    """Per-family accuracy of several ``--json`` outputs side by side."""
    runs = [json.loads(p.read_text()) for p in paths]
    fams = sorted({f for r in runs for f in r["summary"]["families"]})
    head = f"{'family':12}" + "".join(f" {str(r['meta'].get('model', '?'))[:18]:>18}" for r in runs)
    lines = [head]
    for fam in fams:
        cells = []
        for r in runs:
            f = r["summary"]["families"].get(fam)
            cells.append(f"{f['pass']}/{f['n']}" if f else "-")
        lines.append(f"{fam:12}" + "".join(f" {c:>18}" for c in cells))
    lines.append(f"{'overall':12}" + "".join(
        f" {r['summary']['overall']['pass']}/{r['summary']['overall']['n']} "
        f"({r['summary']['overall']['accuracy']:.0%})".rjust(19) for r in runs))
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    print(compare([Path(a) for a in sys.argv[1:]]))
