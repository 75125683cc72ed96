"""The model boundary under random and adversarial model outputs (a short run of ``bench/fuzz_boundary.py``).

The full run (100,000 outputs) is a benchmark command; here a few hundred keep the harness and the
invariants alive: no exception escapes the kernel, every job ends with one typed terminal event, and
no request that validation rejects reaches the gate.  Nothing the fuzz plans ever runs: a gate behind
the real policy gate denies everything.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.fuzz_boundary import REGISTRY, DenyAfterGate, Report, run
from syscalls.dispatcher import Dispatcher
from syscalls.errors import Denied
from syscalls.permissions import Policy, PolicyGate
from syscalls.types import SyscallRequest


def test_a_short_fuzz_run_finds_no_violation() -> None:
    report = run(400)
    assert report.examples >= 400
    assert report.violations == []
    assert report.reached_gate > 0  # some plans get all the way to the policy gate
    assert report.outcomes["failed"] > 0 and report.reasons  # and most are refused, each with a reason


def test_the_harness_notices_an_invalid_request_at_the_gate(tmp_path: Path) -> None:
    report = Report()
    gate = DenyAfterGate(PolicyGate(Policy.load(None)), REGISTRY, report)
    bad = SyscallRequest("fs.read", {"path": "a.txt", "head_lines": -3})
    # Through the dispatcher it never gets there: a plain request is validated first.
    result = Dispatcher(REGISTRY, gate=gate).handle(bad, tmp_path)
    assert result.status == "invalid" and report.reached_gate == 0 and report.violations == []
    # Handed to the gate some other way, the harness reports it (and still nothing runs).
    with pytest.raises(Denied):
        gate.authorize(bad, REGISTRY.get("fs.read"), Dispatcher(REGISTRY).context("fs.read", tmp_path))
    assert len(report.violations) == 1 and "head_lines" in report.violations[0]
