"""Choose the trained planner's refusal thresholds on dev rows (never on test).

    .venv/bin/python bench/eval_nl2bash.py --split dev --planners v2 --per-family 8 --min-confidence 0 \
        --json dev.json
    .venv/bin/python bench/bench_model.py accuracy --set dev2 --min-confidence 0 --json dev2.json
    .venv/bin/python bench/threshold.py dev-v2.json [dev2-v2.json ...]

For each candidate threshold t, a plan whose confidence is below t becomes an honest refusal: rows that
passed are lost, rows that failed by acting wrongly are saved from a wrong action (a plan that is an
answer, a refusal among them, is never held back, so it is not counted).  Prints, per t, how
many right plans are kept and how many wrong actions remain, and the t that maximises
``kept - wrong`` (ties: the lowest t): once over all plans, then for plans that only read (every step a
read-only call, ``Risk.READ``) and for plans that change something, which the planner may hold to
different thresholds.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from syscalls.registry import default_registry  # noqa: E402

Record = dict[str, Any]


def reads_only(record: Record) -> bool:
    """Whether the record's plan only reads: every step is a read-only call (a refusal is no plan)."""
    steps = record.get("plan") or []
    return bool(steps) and default_registry().reads_only(s["call"] for s in steps)


def table(records: list[Record]) -> list[tuple[float, int, int, int]]:
    scored = [r for r in records if r.get("verdict") in ("pass", "fail") and r.get("confidence") is not None
              and (r.get("plan") or [{}])[0].get("call") != "answer"]  # an answer is never held back
    out = []
    for t in [x / 20 for x in range(0, 20)]:
        kept = sum(1 for r in scored if r["verdict"] == "pass" and float(r["confidence"]) >= t)
        wrong = sum(1 for r in scored if r["verdict"] == "fail" and r.get("kind") != "refusal"
                    and float(r["confidence"]) >= t)
        out.append((t, kept, wrong, len(scored)))
    return out


def show(title: str, records: list[Record]) -> None:
    rows = table(records)
    best = max(rows, key=lambda r: (r[1] - r[2], -r[0]))
    print(title)
    print("threshold  right-kept  wrong-acted  of")
    for t, kept, wrong, n in rows:
        print(f"{t:9.2f}  {kept:10d}  {wrong:11d}  {n}{'   <- best' if (t, kept, wrong, n) == best else ''}")


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    records: list[Record] = []
    for name in args:
        records += json.loads(Path(name).read_text())["cases"]
    show("all plans", records)
    show("\nplans that only read", [r for r in records if reads_only(r)])
    show("\nplans that change something", [r for r in records if not reads_only(r)])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
