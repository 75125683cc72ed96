"""The training corpus: deterministic, every plan valid, every call phrased, no evaluation request inside."""

from __future__ import annotations

import csv
import json
from collections import Counter

import pytest
from gbnf_match import Grammar

from models import plantext as PT
from models.planner_v2 import drop_unasked
from models.training import corpus as C
from syscalls.registry import default_registry

REG = default_registry()
TRAIN = C.SHARED / "nl2bash" / "train.tsv"
needs_data = pytest.mark.skipif(not TRAIN.is_file(), reason="the shared NL2Bash data is not beside the checkout")


def test_generated_corpus_is_deterministic_and_valid() -> None:
    a = C.build(REG, seed=3, per_template=3, real_data=False)
    b = C.build(REG, seed=3, per_template=3, real_data=False)
    assert C.digest(a) == C.digest(b)
    assert C.digest(a) != C.digest(C.build(REG, seed=4, per_template=3, real_data=False))
    for ex in a:  # build() already refuses invalid templates; this re-checks what it returned
        C.check(ex.plan, REG, C.request_of(ex.prompt))
        assert ex.prompt.startswith("request: ") and ex.prompt.endswith("plan:\n")


def test_the_grammar_allows_every_plan_the_corpus_teaches() -> None:
    """What the planner learns is what it may write: no plan of the corpus is refused by the grammar of its
    own request (paths of the request's words, its numbers, references to earlier steps only), and no enum
    value in one is dropped for want of a word of its request (``syscalls.schema.asks_for``)."""
    grammar = Grammar(PT.grammar(REG))
    for ex in C.build(REG, seed=5, per_template=4, real_data=False):
        assert grammar.accepts(ex.plan), ex.plan
        request = C.request_of(ex.prompt)
        calls = sorted({line.split(" ", 1)[0] for line in ex.plan.splitlines()})
        own = Grammar(PT.grammar(REG, calls, intent=request, previous="\nprevious: " in ex.prompt))
        assert own.accepts(ex.plan), (request, ex.plan)
        steps = PT.parse(ex.plan, REG, intent=request)
        assert drop_unasked(steps, REG, request) == steps, (request, ex.plan)


def test_every_call_is_phrased() -> None:
    examples = C.build(REG, seed=1, per_template=2, real_data=False)
    called = Counter(line.split(" ", 1)[0] for ex in examples for line in ex.plan.splitlines())
    missing = [name for name in REG.names() if called[name] == 0]
    assert missing == []


def test_follow_ups_refer_back_and_others_do_not() -> None:
    examples = C.build(REG, seed=2, per_template=6, real_data=False)
    with_prev = [ex for ex in examples if "\nprevious: " in ex.prompt]
    assert any("$prev." in ex.plan for ex in with_prev)
    assert any("$prev." not in ex.plan for ex in with_prev)  # an unrelated previous result is ignored
    assert all("previous: " in ex.prompt for ex in examples if "$prev." in ex.plan)


def test_refusals_are_in_the_corpus() -> None:
    examples = C.build(REG, seed=2, per_template=2, real_data=False)
    assert sum(ex.plan == "answer supported=false" for ex in examples) >= 40


@needs_data
def test_no_evaluation_request_and_only_train_rows_enter() -> None:
    examples = C.build(REG, seed=7, per_template=4, real_data=True, exclude=C.evaluation_requests())
    held_out = C.evaluation_requests()
    assert len(held_out) > 2000  # dev + test rows and the bench sets were found
    assert "any usb sticks plugged in?" in held_out  # bench/cases_dev2.py too
    keys = C.held_out_keys(held_out)
    assert not [ex for ex in examples if C.contains_held_out(C.request_of(ex.prompt), keys)]
    ids = {row["id"] for row in csv.DictReader(TRAIN.open(encoding="utf-8"), delimiter="\t")}
    real = [ex.source for ex in examples if ex.source.startswith("nl2bash:")]
    assert len(real) > 1000
    assert set(real) <= ids
    assert any(ex.source.startswith("tldr:") for ex in examples)


def test_an_evaluation_request_is_held_out_inside_other_words_too() -> None:
    keys = C.held_out_keys({"pwd", "who's hogging the cpu", "kill the python thing on port {port}", "kill {pid}"})
    for request in ("please pwd", "PWD?", "Who's hogging the CPU? thx", "now kill the python thing on port 8080"):
        assert C.contains_held_out(request, keys), request
    for request in ("pwdx", "kill 4242", "what's hogging the cpu", "password"):
        assert not C.contains_held_out(request, keys), request


def test_cli_writes_jsonl(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "c.jsonl"
    assert C.main(["--out", str(out), "--per-template", "2", "--no-real"]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows and set(rows[0]) == {"prompt", "plan", "source"}
