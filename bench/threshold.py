"""Choose the trained planner's refusal threshold on dev rows (never on test).

    .venv/bin/python bench/eval_nl2bash.py --split dev --planners v2 --per-family 8 --min-confidence 0 \
        --json dev.json
    .venv/bin/python bench/threshold.py dev-v2.json

For each candidate threshold t, a plan whose confidence is below t becomes an honest refusal: rows that
passed are lost, rows that failed by acting wrongly are saved from a wrong action.  Prints, per t, how
many right plans are kept and how many wrong actions remain, and the t that maximises
``kept - wrong`` (ties: the lowest t).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def table(records: list[dict[str, object]]) -> list[tuple[float, int, int, int]]:
    scored = [r for r in records if r.get("verdict") in ("pass", "fail") and r.get("confidence") is not None]
    out = []
    for t in [x / 20 for x in range(0, 20)]:
        kept = sum(1 for r in scored if r["verdict"] == "pass" and float(r["confidence"]) >= t)  # type: ignore[arg-type]
        wrong = sum(1 for r in scored if r["verdict"] == "fail" and r.get("kind") != "refusal"
                    and float(r["confidence"]) >= t)  # type: ignore[arg-type]
        out.append((t, kept, wrong, len(scored)))
    return out


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    data = json.loads(Path(args[0]).read_text())
    rows = table(data["cases"])
    best = max(rows, key=lambda r: (r[1] - r[2], -r[0]))
    print("threshold  right-kept  wrong-acted  of")
    for t, kept, wrong, n in rows:
        print(f"{t:9.2f}  {kept:10d}  {wrong:11d}  {n}{'   <- best' if (t, kept, wrong, n) == best else ''}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
