"""Score the everyday set on the cases a training corpus never contained.

    .venv/bin/python bench/everyday_clean.py [--set everyday|daily] CORPUS.jsonl OUTPUT.txt [...]

``CORPUS.jsonl`` is the corpus an adapter was trained on (``python -m models.training.corpus``); each ``OUTPUT.txt``
is the output of ``bench/bench_model.py accuracy --set everyday --planners K`` (or ``--set daily``, with ``--set
daily`` here) for one planner. A case is *contaminated* when some training request contains its words in order
(``models.training.corpus.contains_held_out``: case, punctuation and surrounding words do not matter; a case with a
placeholder is matched on its words before the placeholder, when there are three or more).
Prints, per output, the ordinary (non-``missing:``) cases passed: all, clean and contaminated.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "tests")]

from bench.cases_everyday import EVERYDAY  # noqa: E402
from models.training import corpus as C  # noqa: E402

FAIL = re.compile(r"^FAIL .*?\[(\S+)\] (['\"])(.*?)\2 (?:\(after|->)")


def main(argv: list[str]) -> int:
    cases = EVERYDAY
    if argv[:1] == ["--set"]:
        if argv[1] == "daily":
            from bench.cases_daily import DAILY

            cases = DAILY
        elif argv[1] != "everyday":
            raise SystemExit(f"unknown set {argv[1]!r}: everyday or daily")
        argv = argv[2:]
    requests = [C.request_of(json.loads(line)["prompt"]) for line in Path(argv[0]).open(encoding="utf-8")]
    ordinary = [c for c in cases if not c.category.startswith("missing:")]
    case_of = {key: case.intent for case in ordinary for key in C.held_out_keys({str(case.intent)})}
    dirty = {case_of[key] for r in requests for key in C.held_out_in(r, case_of)}
    for out in argv[1:]:
        fails = [(m.group(1), m.group(3)) for line in Path(out).open(encoding="utf-8") if (m := FAIL.match(line))]

        def passed(case: object, fails: list[tuple[str, str]] = fails) -> bool:
            pat = re.compile("^" + re.sub(r"\\\{[a-z]+\\\}", r"\\S+", re.escape(case.intent)) + "$")  # type: ignore[attr-defined]
            return not any(cat == case.category and pat.match(it) for cat, it in fails)  # type: ignore[attr-defined]

        clean = [c for c in ordinary if c.intent not in dirty]
        print(f"{out}: all {sum(map(passed, ordinary))}/{len(ordinary)}, clean {sum(map(passed, clean))}/{len(clean)}, "
              f"contaminated {sum(passed(c) for c in ordinary if c.intent in dirty)}/{len(dirty)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
