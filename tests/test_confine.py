"""Landlock confinement of proc.run: the sibling walk, the ABI masks, and real confined runs.

The runs go the whole way: validation, the dispatcher, ``PolicyGate`` with a policy that
allows proc.exec and fs.write in the working directory only, the helper, the kernel, and
the audit log.  HOME points at a throw-away directory holding .ssh/id_rsa (safety_env), so
the floor's credential list resolves there.  They are skipped where the kernel has no
Landlock (ENOSYS / EOPNOTSUPP).
"""

from __future__ import annotations

import errno
import json
import os
import sys
from pathlib import Path

import jsonschema
import pytest
from safety_env import Env, make_env

from syscalls import confine
from syscalls.permissions import Policy

ABI = confine.abi()
needs_landlock = pytest.mark.skipif(ABI is None, reason="the kernel offers no Landlock (ENOSYS or EOPNOTSUPP)")

# Tries each "w:PATH" (write) or "r:PATH" (read) in order; prints one JSON line per try and exits with
# the errno of the first failure (0 when all worked).
SCRIPT = """\
import json, sys
first = 0
for op in sys.argv[1:]:
    kind, path = op.split(":", 1)
    try:
        if kind == "w":
            with open(path, "w") as fh:
                fh.write("written under Landlock")
        else:
            with open(path) as fh:
                fh.read()
        print(json.dumps({"op": op, "errno": 0}))
    except OSError as exc:
        print(json.dumps({"op": op, "errno": exc.errno}))
        sys.stderr.write(f"{op}: errno={exc.errno} {exc.strerror}\\n")
        first = first or exc.errno
sys.exit(first)
"""


# --------------------------------------------------------------------------- the walk

def _tree(root: Path) -> None:
    (root / "a").mkdir(parents=True)
    (root / "b.txt").write_text("b")
    home = root / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("key")
    (home / "docs").mkdir()
    (home / ".bashrc").write_text("")
    (home / "deep" / "x" / "secret").mkdir(parents=True)
    (home / "deep" / "x" / "keep").write_text("")
    (home / "deep" / "y").mkdir()
    (home / "to_ssh").symlink_to(home / ".ssh")


def test_grant_except_grants_the_siblings_on_the_way_to_each_denied_path(tmp_path: Path) -> None:
    _tree(tmp_path)
    r = str(tmp_path)
    got = confine.grant_except([r], [f"{r}/home/.ssh", f"{r}/home/deep/x/secret"])
    assert sorted(got) == sorted([f"{r}/a", f"{r}/b.txt", f"{r}/home/docs", f"{r}/home/.bashrc",
                                  f"{r}/home/deep/x/keep", f"{r}/home/deep/y"])
    # the denied paths, everything in them, their ancestors and the symlink into one are not granted
    for p in (r, f"{r}/home", f"{r}/home/.ssh", f"{r}/home/.ssh/id_rsa", f"{r}/home/deep", f"{r}/home/to_ssh"):
        assert p not in got


def test_grant_except_edges(tmp_path: Path) -> None:
    _tree(tmp_path)
    r = str(tmp_path)
    assert confine.grant_except([r], []) == [r]                         # nothing denied: the root whole
    assert confine.grant_except([r], ["/elsewhere/.ssh"]) == [r]        # denied outside the root
    assert confine.grant_except([f"{r}/home"], [r]) == []               # the root itself is inside a denied one
    assert confine.grant_except([f"{r}/home/.ssh"], [f"{r}/home/.ssh"]) == []
    # a denied path that does not exist still keeps its ancestors out; its absent parent is never listed
    got = confine.grant_except([r], [f"{r}/home/.gnupg", f"{r}/nowhere/.aws"])
    assert r not in got and f"{r}/home" not in got and f"{r}/home/.ssh" in got and f"{r}/a" in got
    # written with a trailing slash or dots, still the same path
    assert f"{r}/home/.ssh" not in confine.grant_except([r + "/"], [f"{r}/home/./.ssh/"])
    with pytest.raises(confine.ConfineError, match="more than 3"):
        confine.grant_except([r], [f"{r}/home/.ssh"], limit=3)


def test_abi_masks() -> None:
    base = (1 << 13) - 1
    assert confine.handled_access(1) == base
    assert confine.handled_access(2) == base | confine.REFER
    assert confine.handled_access(3) == confine.handled_access(4) == base | confine.REFER | confine.TRUNCATE
    assert confine.handled_access(7) == confine.handled_access(5) == \
        base | confine.REFER | confine.TRUNCATE | confine.IOCTL_DEV
    assert confine.write_access(1) & confine.READ_ACCESS == 0
    assert confine.write_access(3) & confine.TRUNCATE and not confine.write_access(2) & confine.TRUNCATE
    assert confine.device_access(1) == confine.WRITE_FILE


def test_plan_round_trips_and_says_when_unconfined() -> None:
    plan = confine.Plan(write=("/w",), no_write=("/w/.git/hooks",), no_read=("/h/.ssh",))
    assert confine.Plan.from_json(plan.to_json()) == plan
    assert confine.Plan.from_json('{"write": ["/w"]}').devices == confine.DEVICES
    with pytest.raises(ValueError):
        confine.Plan.from_json('{"write": ["relative"]}')
    assert "unconfined" in plan.describe(None)
    assert "/w" in plan.describe(7) and "Landlock ABI 7" in plan.describe(7)


# --------------------------------------------------------------------------- real confined runs

@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    e = make_env(tmp_path, monkeypatch)
    (e.home / ".ssh").mkdir(mode=0o700)
    (e.home / ".ssh" / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    (e.cwd / "prog.py").write_text(SCRIPT)
    e.rebuild(Policy.from_text(f'allow = ["proc.exec", "fs.write:{e.cwd}/**"]\n'))
    return e


def _run(env: Env, *ops: str) -> tuple[dict[str, object], list[dict[str, int]]]:
    r = env.run("proc.run", {"argv": [sys.executable, "prog.py", *ops], "timeout_s": 60})
    assert r.status == "ok", r.error
    assert r.data is not None
    jsonschema.validate(r.data, env.reg.get("proc.run").result_schema)
    return r.data, [json.loads(line) for line in str(r.data["stdout"]).splitlines()]


@needs_landlock
def test_confined_program_writes_in_its_directory_only(env: Env, tmp_path: Path) -> None:
    data, tries = _run(env, f"w:{env.cwd}/out.txt", "w:sub.txt")
    assert data["exit_code"] == 0 and [t["errno"] for t in tries] == [0, 0]
    assert (env.cwd / "out.txt").read_text() == "written under Landlock"
    sandbox = data["sandbox"]
    assert isinstance(sandbox, dict)
    assert sandbox["confined"] is True and sandbox["landlock_abi"] == ABI
    assert sandbox["writable"] == [str(env.cwd)]
    assert env.approver.questions == []  # the policy allowed it: nobody was asked

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    data, tries = _run(env, f"w:{elsewhere}/x.txt", f"w:{env.home}/.bashrc", f"w:{env.state}/audit.jsonl",
                       "w:/tmp/x.txt")
    assert data["exit_code"] == errno.EACCES
    assert [t["errno"] for t in tries] == [errno.EACCES] * 4
    assert f"errno={errno.EACCES}" in str(data["stderr"])
    assert not (elsewhere / "x.txt").exists() and not (env.home / ".bashrc").exists()

    step = env.last("step")
    assert step["call"] == "proc.run" and step["status"] == "ok"
    outcome = step["outcome"]
    assert outcome["exit_code"] == errno.EACCES and outcome["confined"] is True
    assert outcome["landlock_abi"] == ABI and outcome["writable"] == [str(env.cwd)]
    assert f"w:{elsewhere}/x.txt: errno={errno.EACCES}" in outcome["stderr_tail"]
    assert env.disp.audit is not None and env.disp.audit.verify().ok


@needs_landlock
def test_a_deny_rule_inside_the_directory_is_carved_out(env: Env) -> None:
    (env.cwd / "locked").mkdir()
    (env.cwd / "build").mkdir()
    env.rebuild(Policy.from_text(f'allow = ["proc.exec", "fs.write:{env.cwd}/**"]\n'
                                 f'deny = ["fs.write:{env.cwd}/locked/**"]\n'))
    data, tries = _run(env, "w:build/out.o", "w:locked/x.txt", "w:new.txt")
    # build/ is granted whole; locked/ not at all; the directory itself holds a hole, so nothing new
    # can be made directly in it (the sibling walk's limit, see syscalls.confine)
    assert [t["errno"] for t in tries] == [0, errno.EACCES, errno.EACCES]
    assert (env.cwd / "build" / "out.o").exists() and not (env.cwd / "locked" / "x.txt").exists()
    assert data["sandbox"]["writable"] == [str(env.cwd)]  # type: ignore[index]


@needs_landlock
def test_confined_program_cannot_read_credential_stores(env: Env) -> None:
    (env.home / "notes.txt").write_text("fine")
    key = env.home / ".ssh" / "id_rsa"
    data, tries = _run(env, f"r:{env.home}/notes.txt", f"r:{key}", "r:/etc/hostname")
    assert [t["errno"] for t in tries] == [0, errno.EACCES, 0]
    assert data["exit_code"] == errno.EACCES
    step = env.last("step")
    assert step["outcome"]["exit_code"] == errno.EACCES
    assert f"r:{key}: errno={errno.EACCES}" in step["outcome"]["stderr_tail"]


@needs_landlock
def test_approval_question_shows_the_confinement(env: Env) -> None:
    env.rebuild(Policy.from_text(f'allow = ["fs.write:{env.cwd}/**"]\n'))  # proc.exec: asked
    data, _ = _run(env, "w:ok.txt")
    assert data["exit_code"] == 0
    (q,) = env.approver.questions
    assert q.effects["sandbox"].startswith(f"Landlock ABI {ABI}: the program may write only in {env.cwd}")
    # without an fs.write grant the program may write nowhere, and the question says so
    env.rebuild(Policy.from_text(""))
    data, _ = _run(env, "w:ok.txt")
    assert data["exit_code"] == errno.EACCES and data["sandbox"]["writable"] == []  # type: ignore[index]
    assert "may write only to /dev/null and the terminal" in env.approver.questions[0].effects["sandbox"]


def test_unconfined_without_a_policy_gate(tmp_path: Path) -> None:
    from tests.syscall_support import ok

    data = ok("proc.run", {"argv": [sys.executable, "-c", "print(1)"]}, tmp_path)
    assert data["sandbox"]["confined"] is False and "unconfined" in data["sandbox"]["note"]
    assert os.path.exists(confine.__file__)
