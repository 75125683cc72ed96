"""Shared set-up for the safety tests: a throw-away home, XDG dirs and state dir.

Nothing here touches the real home: HOME, XDG_* and NLSH_STATE_DIR point
into ``tmp_path``; NLSH_POLICY is unset unless a test writes one; the trash
listing scans no mounted file system's per-volume trash (NLSH_TRASH_VOLUMES).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from syscalls import schema as S
from syscalls.audit import read_records
from syscalls.dispatcher import Dispatcher
from syscalls.paths import open_checked
from syscalls.permissions import Policy
from syscalls.registry import Registry, load_builtins
from syscalls.safety import safe_dispatcher
from syscalls.types import Answer, CallContext, Invocation, JSONDict, Question, Risk, SyscallResult
from syscalls.validate import validate


@dataclass
class Approver:
    """A scripted person: answers from a list (default ONCE) and keeps every question."""

    answers: list[Answer] = field(default_factory=list)
    default: Answer = Answer.ONCE
    questions: list[Question] = field(default_factory=list)
    on_ask: Callable[[Question], None] | None = None

    def __call__(self, q: Question) -> Answer:
        self.questions.append(q)
        if self.on_ask is not None:
            self.on_ask(q)
        return self.answers.pop(0) if self.answers else self.default


def add_test_calls(reg: Registry) -> None:
    """A reading call that opens exactly what the gate checked (``open_checked``)."""

    @reg.syscall("test.read_checked", "read a file through open_checked",
                 args=S.obj({"path": S.path()}, required=["path"]), result=S.obj({}),
                 capability="fs.read", risk=Risk.READ)
    def read_checked(ctx: CallContext, args: JSONDict) -> JSONDict:
        fd = open_checked(ctx, args["path"])
        try:
            return {"text": os.read(fd, 4096).decode("utf-8", "replace")}
        finally:
            os.close(fd)


@dataclass
class Env:
    tmp: Path
    home: Path
    cwd: Path
    state: Path
    data: Path
    reg: Registry
    approver: Approver
    disp: Dispatcher

    def run(self, call: str, args: dict[str, Any], **kw: Any) -> SyscallResult:
        req = validate({"call": call, "args": args}, self.reg)
        kw.setdefault("cwd", self.cwd)
        return self.disp.handle(req, Invocation(**kw))

    def records(self) -> list[JSONDict]:
        return read_records(self.state / "audit.jsonl")

    def last(self, kind: str) -> JSONDict:
        return [r for r in self.records() if r.get("kind") == kind][-1]

    def rebuild(self, policy: Policy | Path | None = None, approver: Approver | None = None) -> None:
        self.approver = approver or Approver()
        self.disp = safe_dispatcher(self.reg, approve=self.approver, state_dir=self.state, data_dir=self.data,
                                    policy=policy)


def make_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    home = tmp_path / "home"
    cwd = home / "work"
    state = tmp_path / "state"
    data = home / ".local" / "share"
    cwd.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("NLSH_STATE_DIR", str(state))
    monkeypatch.delenv("NLSH_POLICY", raising=False)
    monkeypatch.setenv("NLSH_TRASH_VOLUMES", "")  # nlsh trash sees this home trash, no real disk's trash
    monkeypatch.chdir(cwd)
    reg = Registry()
    load_builtins(reg)
    add_test_calls(reg)
    approver = Approver()
    disp = safe_dispatcher(reg, approve=approver, state_dir=state, data_dir=data)
    return Env(tmp_path, home, cwd, state, data, reg, approver, disp)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    return make_env(tmp_path, monkeypatch)


def dump(obj: Any) -> str:
    return json.dumps(obj, default=str)
