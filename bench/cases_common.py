"""Cases, checks and the runner shared by the model-path accuracy sets (``bench_model.py``).

A case is an intent plus a check of what executing its plan did to a throwaway fixture tree (files
gone, created, changed, their modes) or what the results contain (expected items present and
unexpected ones absent), never of the plan's text.  ``run_case`` plans the intent over a fresh tree,
runs the plan through ``model_devtree.sandboxed`` (every path must stay inside the tree, no
``proc.run``, signals only to processes the case spawned) and applies the check.

Sets: ``bench_model.DEV`` (the development set) and ``bench/cases_everyday.py`` (held-out, phrased
the way people type at a terminal).
"""

from __future__ import annotations

import itertools
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))

from model_devtree import DAY as DAY  # noqa: E402  (for the case sets)
from model_devtree import Executed, build_tree, execute, gone, listener, sandboxed, sleeper  # noqa: E402

from bench.eval_common import home_at  # noqa: E402
from models.plan import Plan  # noqa: E402
from syscalls.registry import Registry, default_registry  # noqa: E402
from syscalls.types import SyscallResult  # noqa: E402

Check = Callable[[Path, Executed, Any], bool]
"""(fixture root, what ran, the case's process or None) -> passed."""

MISSING = "missing:"
"""Category prefix of cases that need a capability the registry does not have yet."""


class PlannerLike(Protocol):
    def plan(self, intent: str, *, cwd: Path, previous: SyscallResult | None = None) -> Plan: ...


@dataclass
class Case:
    intent: str                # may name {pid}, {port} (the case's process) and {root} (the fixture root)
    labels: tuple[str, ...]    # acceptable call labels ("fs.find+fs.delete"); () = not scored for the call
    check: Check
    needs: str = ""            # "" | "sleeper" | "listener"
    before: str = ""           # an intent run first; this one is its follow-up
    category: str = ""
    setup: Callable[[Path], None] | None = None   # builds the fixture (default: model_devtree.build_tree)
    home: bool = False         # $HOME is the fixture root while the plan runs ("~/Downloads")


# ---- checks -------------------------------------------------------------------------------------------

def text(root: Path, ex: Executed) -> str:
    """The results as JSON, the fixture root's own path replaced by ``<root>``.

    A random temporary directory name must never satisfy, or spoil, a substring check.
    """
    return _rooted(root, ex.data_text())


def _rooted(root: Path, out: str) -> str:
    for r in {str(root.resolve()), str(root)}:
        out = out.replace(r, "<root>")
    return out


def has(*needles: str) -> Check:
    return lambda root, ex, ctx: ex.ok and all(n in text(root, ex) for n in needles)


def lacks(*needles: str) -> Check:
    return lambda root, ex, ctx: all(n not in text(root, ex) for n in needles)


def both(*checks: Check) -> Check:
    return lambda root, ex, ctx: all(c(root, ex, ctx) for c in checks)


def either(*checks: Check) -> Check:
    return lambda root, ex, ctx: any(c(root, ex, ctx) for c in checks)


def ok() -> Check:
    return lambda root, ex, ctx: ex.ok


def file_has(rel: str, *texts: str) -> Check:
    return lambda root, ex, ctx: (root / rel).is_file() and all(t in (root / rel).read_text() for t in texts)


def file_lacks(rel: str, *texts: str) -> Check:
    return lambda root, ex, ctx: (root / rel).is_file() and all(t not in (root / rel).read_text() for t in texts)


def exists(*rels: str) -> Check:
    return lambda root, ex, ctx: all((root / r).exists() or (root / r).is_symlink() for r in rels)


def missing(*rels: str) -> Check:
    return lambda root, ex, ctx: all(not (root / r).exists() and not (root / r).is_symlink() for r in rels)


def mode(rel: str, bits: int) -> Check:
    return lambda root, ex, ctx: (root / rel).stat().st_mode & 0o777 == bits


def mode_bits(rel: str, set_bits: int = 0, clear_bits: int = 0) -> Check:
    """``set_bits`` are all on and ``clear_bits`` all off in the mode of ``rel``."""
    def check(root: Path, ex: Executed, ctx: Any) -> bool:
        m = (root / rel).stat().st_mode & 0o7777
        return m & set_bits == set_bits and not m & clear_bits
    return check


def executable(*rels: str) -> Check:
    return lambda root, ex, ctx: all((root / r).stat().st_mode & 0o100 for r in rels)


def not_executable(*rels: str) -> Check:
    return lambda root, ex, ctx: all(not (root / r).stat().st_mode & 0o111 for r in rels)


def is_link(rel: str, target: str) -> Check:
    return lambda root, ex, ctx: (root / rel).is_symlink() and (root / rel).resolve() == (root / target).resolve()


def refused() -> Check:
    """A single ``answer`` step saying the request is not supported (or the planner raising Unsupported)."""
    return lambda root, ex, ctx: ex.refused() or ex.error.startswith("Unsupported:")


def pid_in_data() -> Check:
    """A ``pid`` field of the results is the case's process (a number inside a size does not count)."""
    return lambda root, ex, ctx: ex.ok and any(k == "pid" and v == ctx.pid for k, v in _pairs(ex))


def killed() -> Check:
    return lambda root, ex, ctx: gone(ctx, 5.0)


def process_state(ok: Callable[[str, Any], bool], within_s: float = 5.0) -> Check:
    """The case's process reaches a state ``ok`` accepts (its /proc stat letter, and the process), polled for
    up to ``within_s``: the kernel may take a moment on a busy machine.  Gone is never accepted."""
    def check(root: Path, ex: Executed, ctx: Any) -> bool:
        deadline = time.monotonic() + within_s
        while True:
            try:
                state = Path(f"/proc/{ctx.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                return False
            if ok(state, ctx):
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
    return check


def stopped(within_s: float = 5.0) -> Check:
    """The case's process is stopped (SIGSTOP), not gone."""
    return process_state(lambda state, proc: state in ("T", "t"), within_s)


def _walk(value: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair of nested dicts, at any depth (rows of tables included)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield str(k), v
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)


def _pairs(ex: Executed) -> Iterator[tuple[str, Any]]:
    for r in ex.results:
        yield from _walk(r.data)


def keys(*names: str) -> Check:
    """Every result succeeded and each of ``names`` is a field somewhere in the results."""
    return lambda root, ex, ctx: ex.ok and set(names) <= {k for k, _ in _pairs(ex)}


def value(names: str | tuple[str, ...], expected: Any) -> Check:
    """Some field called ``names`` (or one of them) equals ``expected``."""
    wanted = (names,) if isinstance(names, str) else names
    return lambda root, ex, ctx: ex.ok and any(k in wanted and v == expected and not isinstance(v, bool)
                                               for k, v in _pairs(ex))


def at_least(name: str, minimum: float) -> Check:
    """Some field called ``name`` is a number of at least ``minimum``."""
    return lambda root, ex, ctx: ex.ok and any(k == name and isinstance(v, (int, float)) and not isinstance(v, bool)
                                               and v >= minimum for k, v in _pairs(ex))


def top_value(name: str, expected: Callable[[], Any]) -> Check:
    """The top-level field ``name`` of a result (not a row of a table) equals ``expected()``."""
    return lambda root, ex, ctx: ex.ok and any(isinstance(r.data, dict) and r.data.get(name) == expected()
                                               for r in ex.results)


def answered_by(*calls: str) -> Check:
    """Every step succeeded and the last result came from one of ``calls`` (machine-dependent answers)."""
    return lambda root, ex, ctx: ex.ok and ex.results[-1].request.call in calls


def used(*calls: str) -> Check:
    """Some step of the plan is one of ``calls`` (a count may end the plan that lists what it counts)."""
    return lambda root, ex, ctx: any(r.request.call in calls for r in ex.results)


def last_text(root: Path, ex: Executed) -> str:
    """The last result (what the plan ends by showing) as JSON, the fixture root replaced by ``<root>``."""
    return _rooted(root, json.dumps(ex.results[-1].data, default=str, ensure_ascii=False)) if ex.results else ""


def in_order(*needles: str) -> Check:
    """Each needle appears in the last result (what the plan ends by showing: a step that reads the
    unsorted rows may come before the one that sorts them), each first occurrence after the previous one's."""
    def check(root: Path, ex: Executed, ctx: Any) -> bool:
        if not ex.results:
            return False
        body = last_text(root, ex)
        at = [body.find(n) for n in needles]
        return ex.ok and all(i >= 0 for i in at) and at == sorted(at) and len(set(at)) == len(at)
    return check


def first_rows(ex: Executed) -> list[dict[str, Any]]:
    """The rows of the first table in the last result (fanned-out results count as one table)."""
    if not ex.results or not isinstance(ex.results[-1].data, dict):
        return []
    for v in ex.results[-1].data.values():
        if isinstance(v, list) and all(isinstance(r, dict) for r in v):
            return list(v)
    return []


def rows_between(lo: int, hi: int) -> Check:
    return lambda root, ex, ctx: ex.ok and lo <= len(first_rows(ex)) <= hi


def first_row_has(text: str) -> Check:
    def check(root: Path, ex: Executed, ctx: Any) -> bool:
        rows = first_rows(ex)
        return ex.ok and bool(rows) and text in _rooted(root, json.dumps(rows[0], default=str, ensure_ascii=False))
    return check


def sorted_desc(field: str) -> Check:
    """At least two rows, and ``field`` never increases from one row to the next."""
    def check(root: Path, ex: Executed, ctx: Any) -> bool:
        vals = [r.get(field) for r in first_rows(ex)]
        if not ex.ok or len(vals) < 2 or not all(isinstance(v, (int, float)) for v in vals):
            return False
        return all(a >= b for a, b in itertools.pairwise(vals))
    return check


def root_shown() -> Check:
    """The fixture root's own path is in the results (where am I)."""
    return lambda root, ex, ctx: ex.ok and (str(root) in ex.data_text() or str(root.resolve()) in ex.data_text())


# ---- running ------------------------------------------------------------------------------------------

@contextmanager
def _home(root: Path | None) -> Iterator[None]:
    """``$HOME`` is ``root`` inside the block (nothing changes when ``root`` is None)."""
    if root is None:
        yield
        return
    with home_at(root):
        yield


def _plan(planner: PlannerLike, intent: str, root: Path, previous: SyscallResult | None) -> Plan | str:
    """The plan, or the planner's exception as text ("Unsupported: ...") — never raises."""
    try:
        with home_at(root):  # the fixture is the home a planner looks in for named places, whatever the case
            return planner.plan(intent, cwd=root, previous=previous)
    except Exception as exc:  # a wrong or crashing planner is a failed case, not a stopped run
        return f"{type(exc).__name__}: {exc}"


def run_case(planner: PlannerLike, case: Case, work: Path,
             registry: Registry | None = None, *, confirm: bool = False) -> tuple[bool, Executed, float]:
    """Plan ``case`` over a fresh tree under ``work``, execute it in the sandbox, check it.

    Returns (passed, execution, planning seconds).  The tree and any process the case started are
    gone afterwards.  ``confirm``: a plan the model was unsure of runs its suggestion, as when a person
    says yes to it on a terminal.
    """
    root = Path(tempfile.mkdtemp(dir=work))
    (case.setup or build_tree)(root)
    pids: set[int] = set()
    disp = sandboxed(registry or default_registry(), root, pids)
    home = root if case.home else None
    try:
        ctx_mgr: Any = sleeper() if case.needs == "sleeper" else listener() if case.needs == "listener" else None
        ctx: Any = ctx_mgr.__enter__() if ctx_mgr is not None else None
        try:
            proc = ctx[0] if isinstance(ctx, tuple) else ctx
            if proc is not None:
                pids.add(proc.pid)
            fields = {"pid": getattr(proc, "pid", 0), "port": ctx[1] if isinstance(ctx, tuple) else 0,
                      "root": str(root)}
            previous = None
            if case.before:
                prev_plan = _plan(planner, case.before.format(**fields), root, None)
                if isinstance(prev_plan, Plan):
                    with _home(home):
                        prev_ex = execute(prev_plan, disp, root)
                    previous = prev_ex.results[-1] if prev_ex.results else None
            t = time.perf_counter()
            plan = _plan(planner, case.intent.format(**fields), root, previous)
            dt = time.perf_counter() - t
            if confirm and isinstance(plan, Plan) and plan.suggestion:
                plan = replace(plan, steps=plan.suggestion, suggestion=[])
            if not isinstance(plan, Plan):
                ex = Executed(None, error=plan)
            else:
                with _home(home):
                    ex = execute(plan, disp, root, previous)
            with _home(home):
                try:
                    good = bool(case.check(root, ex, proc))
                except Exception:  # e.g. the mode of a file the plan deleted
                    good = False
            return good, ex, dt
        finally:
            if ctx_mgr is not None:
                ctx_mgr.__exit__(None, None, None)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def select(cases: list[Case], only: str) -> list[Case]:
    """Cases whose intent contains ``only`` or whose category is ``only`` (all when empty)."""
    return [c for c in cases if not only or only in c.intent or c.category == only]


def score(planner: PlannerLike, cases: list[Case], *, verbose: bool = False,
          registry: Registry | None = None, out: Callable[[str], None] = print) -> dict[str, Any]:
    """Run ``cases``; overall and per-category pass rates, the failures, planning time.

    Categories starting with ``missing:`` need capabilities that do not exist yet: they are left out
    of the overall rate and reported on their own (how many pass, how many were refused honestly).
    """
    per: dict[str, list[int]] = {}
    passed = right_call = labelled = 0
    times: list[float] = []
    fails: list[str] = []
    miss = {"cases": 0, "passed": 0, "refused": 0}
    unsure = {"suggested": 0, "right_if_confirmed": 0}
    records: list[dict[str, Any]] = []  # one per scored case, in bench/threshold.py's form
    with tempfile.TemporaryDirectory(prefix="nlsh-eval-") as tmp:
        for case in cases:
            good, ex, dt = run_case(planner, case, Path(tmp), registry)
            times.append(dt)
            cat = case.category or "uncategorised"
            if ex.plan is not None and ex.plan.suggestion and not cat.startswith(MISSING):
                # what a person who says yes to the unsure plan gets (scored apart: the run above refused)
                unsure["suggested"] += 1
                unsure["right_if_confirmed"] += run_case(planner, case, Path(tmp), registry, confirm=True)[0]
            if cat.startswith(MISSING):
                miss["cases"] += 1
                miss["passed"] += good
                miss["refused"] += ex.refused() or ex.error.startswith("Unsupported:")
            else:
                passed += good
                if case.labels:
                    labelled += 1
                    right_call += ex.labels in case.labels
            per.setdefault(cat, [0, 0])
            per[cat][0] += good
            per[cat][1] += 1
            conf = ex.plan.confidence if ex.plan else None
            if not cat.startswith(MISSING):
                records.append({"intent": case.intent, "category": cat, "verdict": "pass" if good else "fail",
                                "confidence": conf, "plan": [s.to_dict() for s in ex.plan.steps] if ex.plan else [],
                                "kind": "refusal" if ex.refused() else ""})
            line = (f"{'PASS' if good else 'FAIL'} {dt:5.2f}s conf={conf if conf is None else round(conf, 2)} "
                    f"[{cat}] {ex.plan.intent if ex.plan else case.intent!r}"
                    + (f" (after {case.before!r})" if case.before else "")
                    + f" -> {[s.to_dict() for s in ex.plan.steps] if ex.plan else ex.error}")
            if not good:
                errs = [r.error.get("message", "") for r in ex.results if r.error]
                fails.append(line + (f" errors={errs[:2]}" if errs else "") + (f" error={ex.error}"
                                                                                 if ex.plan and ex.error else ""))
            if verbose:
                out(line)
    n = sum(1 for c in cases if not (c.category or "").startswith(MISSING))
    res: dict[str, Any] = {"cases": n, "passed": passed, "accuracy": round(passed / max(1, n), 3)}
    if labelled:
        res["right_call"] = f"{right_call}/{labelled}"
    res["plan_p50_s"] = round(statistics.median(times), 3) if times else None
    res["categories"] = {c: f"{p}/{k} ({p / k:.0%})" for c, (p, k) in sorted(per.items())
                         if not c.startswith(MISSING)}
    if unsure["suggested"]:
        res["unsure_suggestions"] = unsure
    if miss["cases"]:
        res["missing_capabilities"] = {**miss, "categories": {c: f"{p}/{k}" for c, (p, k) in sorted(per.items())
                                                              if c.startswith(MISSING)}}
    res["failures"] = fails
    res["records"] = records
    return res
