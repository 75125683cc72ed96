"""The hard floor's rules, one by one: for each, a request it refuses and a near miss it lets pass.

``Floor.refusal`` names the rule that refused; every case also goes through ``Floor.check``, which must
raise ``FloorViolation`` with that rule's message (or nothing when no rule refuses).  The home directory,
the XDG directories and nlshell's state directory are a scratch tree, so nothing real is looked at
beyond the system directories and this process's own family.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import psutil
import pytest

from syscalls.dispatcher import PlainEffects
from syscalls.errors import FloorViolation, InvalidRequest
from syscalls.paths import canonical
from syscalls.permissions import Floor, ProcTarget, proc_target
from syscalls.permissions import floor as floor_module
from syscalls.permissions.floor import RULES, mount_point
from syscalls.registry import default_registry
from syscalls.types import CallContext, Risk, SyscallSpec

REG = default_registry(plugins=False)
ME = os.getuid()


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    (home / "work").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("NLSH_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("NLSH_POLICY", raising=False)
    return home


@pytest.fixture
def child() -> Iterator[ProcTarget]:
    """A process of this user that is neither nlshell nor one of its parents."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield proc_target(proc.pid)
    finally:
        proc.kill()
        proc.wait()


def verdict(call: str | SyscallSpec, cwd: Path, *paths: str, procs: tuple[ProcTarget, ...] = (),
            args: Mapping[str, Any] | None = None) -> str | None:
    """The name of the rule that refuses the request, or None; ``Floor.check`` must agree."""
    spec = REG.get(call) if isinstance(call, str) else call
    ctx = CallContext(call=spec.name, cwd=cwd, effects=PlainEffects())
    targets = [canonical(p, cwd, call=spec.name) for p in paths]
    floor = Floor()
    hit = floor.refusal(spec, args or {}, targets, list(procs), ctx)
    try:
        floor.check(spec, args or {}, targets, list(procs), ctx)
    except FloorViolation as exc:
        assert hit is not None and (exc.message, exc.target, exc.call) == (hit[1].message, hit[1].target, spec.name)
        if hit[1].hint:
            assert exc.hint == hit[1].hint
        return hit[0].name
    assert hit is None
    return None


def stand_in(capability: str, risk: Risk) -> SyscallSpec:
    return SyscallSpec(name="x.test", doc="", args_schema={}, result_schema={}, capability=capability, risk=risk,
                       undoable=False, impl=lambda c, a: {})


# --------------------------------------------------------------------------- the list itself


def test_rules_are_named_documented_and_in_order() -> None:
    names = [rule.name for rule in RULES]
    assert names == [
        "credential-store", "kernel-files", "nlshell-state", "login-hook", "git-hook", "root-directory",
        "system-directory", "home-or-cwd", "mount-point",
        "signal-init", "signal-self", "signal-parent", "signal-other-user",
        "setuid-setgid", "loader-environment", "loader-assignment",
    ]
    for rule in RULES:
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", rule.name), rule.name
        assert rule.doc and "\n" not in rule.doc and rule.doc.endswith("."), rule.name


def test_every_rule_has_its_own_test() -> None:
    tests = {name for name in globals() if name.startswith("test_")}
    assert {f"test_{rule.name.replace('-', '_')}" for rule in RULES} <= tests


def test_only_fs_move_relocates() -> None:
    assert [spec.name for spec in REG if spec.relocates] == ["fs.move"]


def test_a_symlinked_path_is_judged_form_by_form(home: Path) -> None:
    # ~/bin is a login hook as given and a credential store as resolved: the form as given comes first
    (home / ".ssh").mkdir()
    (home / "bin").symlink_to(home / ".ssh")
    assert verdict("fs.write", home / "work", "~/bin/key") == "login-hook"
    assert verdict("fs.read", home / "work", "~/bin/key") == "credential-store"


# --------------------------------------------------------------------------- path rules


def test_credential_store(home: Path) -> None:
    assert verdict("fs.read", home / "work", "~/.ssh/id_ed25519") == "credential-store"
    assert verdict("fs.stat", home / "work", "~/.config/gh/hosts.yml") == "credential-store"
    assert verdict("fs.read", home / "work", "~/.ssh-notes.txt") is None


def test_kernel_files(home: Path) -> None:
    assert verdict("fs.read", home / "work", "/proc/self/environ") == "kernel-files"
    assert verdict("fs.read", home / "work", "proc/self/environ") is None  # a proc folder in the working directory


def test_nlshell_state(home: Path, tmp_path: Path) -> None:
    journal = str(tmp_path / "state" / "journal.db")
    assert verdict("fs.write", home / "work", journal) == "nlshell-state"
    assert verdict("fs.read", home / "work", journal) is None  # reading it changes nothing


def test_login_hook(home: Path) -> None:
    assert verdict("fs.append", home / "work", "~/.bashrc") == "login-hook"
    assert verdict("fs.write", home / "work", "~/.bashrc.orig") is None


def test_git_hook(home: Path) -> None:
    cwd = home / "work"
    assert verdict("fs.write", cwd, "repo/.git/hooks/pre-commit") == "git-hook"
    assert verdict("fs.write", cwd, "repo/.git/config") == "git-hook"
    assert verdict("fs.write", cwd, "repo/hooks/pre-commit") is None
    assert verdict("fs.write", cwd, "repo/.git/info/exclude") is None


def test_root_directory(home: Path) -> None:
    assert verdict("fs.mkdir", home / "work", "/scratch") == "root-directory"
    assert verdict("fs.list", home / "work", "/") is None  # listing it changes nothing


def test_system_directory(home: Path) -> None:
    assert verdict("fs.write", home / "work", "/etc/cron.d/job") == "system-directory"
    assert verdict("fs.write", home / "work", "/etcetera/job") is None


def test_home_or_cwd(home: Path) -> None:
    cwd = home / "work"
    assert verdict("fs.delete", cwd, "~") == "home-or-cwd"
    assert verdict("fs.delete", cwd, "..") == "home-or-cwd"
    assert verdict("fs.move", cwd, str(cwd), "~/elsewhere") == "home-or-cwd"  # fs.move relocates
    assert verdict("fs.copy", cwd, str(cwd), "~/elsewhere") is None
    assert verdict("fs.delete", cwd, "old.txt") is None


def test_mount_point(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cwd = home / "work"
    mnt = cwd / "mnt"
    mnt.mkdir()
    monkeypatch.setattr(floor_module, "is_mount_point", lambda p: Path(p) == mnt)
    assert verdict("fs.delete", cwd, "mnt") == "mount-point"
    assert verdict("fs.move", cwd, "mnt", "mnt-old") == "mount-point"
    assert verdict("fs.delete", cwd, "mnt/file") is None
    assert verdict("fs.copy", cwd, "a.txt", "mnt") is None


def test_mount_point_reads_the_real_mount_table(home: Path) -> None:
    spec = REG.get("fs.delete")
    ctx = CallContext(call="fs.delete", cwd=home, effects=PlainEffects())
    root = canonical("/", home)
    assert mount_point(Floor(), spec, root, Path("/"), ctx) is not None
    assert mount_point(Floor(), spec, canonical(str(home), home), home, ctx) is None


# --------------------------------------------------------------------------- process rules


def test_signal_init(home: Path, child: ProcTarget) -> None:
    assert verdict("proc.signal", home, procs=(ProcTarget(1, ME),)) == "signal-init"
    assert verdict("proc.info", home, procs=(ProcTarget(1, ME),)) is None  # looking at it is fine
    assert verdict("proc.signal", home, procs=(child,)) is None


def test_signal_self(home: Path, child: ProcTarget) -> None:
    assert verdict("proc.signal", home, procs=(proc_target(os.getpid()),)) == "signal-self"
    assert verdict("proc.signal", home, procs=(child,)) is None


def test_signal_parent(home: Path, child: ProcTarget) -> None:
    parents = [p.pid for p in psutil.Process().parents() if p.pid > 1]
    if not parents:
        pytest.skip("this process has no parent other than init")
    assert verdict("proc.signal", home, procs=(ProcTarget(parents[0], ME),)) == "signal-parent"
    assert verdict("proc.signal", home, procs=(child,)) is None  # a child is no parent


def test_signal_other_user(home: Path, child: ProcTarget) -> None:
    assert verdict("proc.signal", home, procs=(ProcTarget(child.pid, ME + 1),)) == "signal-other-user"
    assert verdict("proc.signal", home, procs=(ProcTarget(child.pid, None),)) == "signal-other-user"
    assert verdict("proc.signal", home, procs=(child,)) is None


def test_process_rules_concern_only_calls_that_act_on_processes(home: Path) -> None:
    stranger = ProcTarget(4_000_000, ME + 1)
    assert verdict(stand_in("proc.read", Risk.READ), home, procs=(stranger,)) is None
    assert verdict(stand_in("proc.exec", Risk.EXEC), home, procs=(stranger,)) == "signal-other-user"


# --------------------------------------------------------------------------- request rules


def test_setuid_setgid(home: Path) -> None:
    assert verdict("fs.chmod", home, "f", args={"path": "f", "mode": "4755"}) == "setuid-setgid"
    assert verdict("fs.chmod", home, "f", args={"path": "f", "mode": "g+s"}) == "setuid-setgid"
    assert verdict("fs.chmod", home, "f", args={"path": "f", "mode": "1777"}) is None  # sticky bit only
    with pytest.raises(InvalidRequest):  # a mode fs.chmod would not parse is not let through
        verdict("fs.chmod", home, "f", args={"path": "f", "mode": "u+z"})


def test_loader_environment(home: Path) -> None:
    args = {"argv": ["ls"], "env": {"LD_PRELOAD": "/tmp/x.so"}}
    assert verdict("proc.run", home, args=args) == "loader-environment"
    assert verdict("proc.run", home, args={"argv": ["ls"], "env": {"MY_LD_PRELOAD": "1"}}) is None


def test_loader_assignment(home: Path) -> None:
    assert verdict("proc.run", home, args={"argv": ["DYLD_INSERT_LIBRARIES=x.dylib", "ls"]}) == "loader-assignment"
    assert verdict("proc.run", home, args={"argv": ["echo", "LD_PRELOAD"]}) is None  # no assignment
