"""Policy file, capability grammar, rule order, fail-closed loading."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from safety_env import Env, make_env

from syscalls.paths import Target, canonical
from syscalls.permissions import Policy, PolicyError


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    return make_env(tmp_path, monkeypatch)


def t(raw: str, cwd: Path) -> list[Target]:
    return [canonical(raw, cwd)]


def test_default_profile(env: Env) -> None:
    pol = Policy.load()
    assert pol.decide("fs.read", t("~/notes.txt", env.cwd)).action == "allow"
    assert pol.decide("fs.read", t("/srv/data/x", env.cwd)).action == "allow"
    assert pol.decide("fs.write", t("~/notes.txt", env.cwd)).action == "ask"
    assert pol.decide("fs.delete", t("~/notes.txt", env.cwd)).action == "ask"
    assert pol.decide("fs.chmod", t("~/notes.txt", env.cwd)).action == "ask"
    assert pol.decide("proc.exec", []).action == "ask"
    assert pol.decide("proc.kill", []).action == "ask"
    assert pol.decide("net.read", []).action == "deny"
    assert pol.decide("fs.read", t("~/proj/.env", env.cwd)).action == "deny"
    assert pol.decide("sys.read", []).action == "allow"


def test_policy_from_file_and_env(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    f = env.tmp / "p.toml"
    f.write_text('allow = ["fs.write:~/tmp/**"]\ndeny = ["fs.read:~/private/**"]\n')
    monkeypatch.setenv("NLSH_POLICY", str(f))
    pol = Policy.load()
    assert pol.source == str(f)
    assert pol.decide("fs.write", t("~/tmp/a/b", env.cwd)).action == "allow"
    assert pol.decide("fs.write", t("~/tmp", env.cwd)).action == "allow"
    assert pol.decide("fs.write", t("~/tmpx", env.cwd)).action == "ask"
    assert pol.decide("fs.read", t("~/private/k", env.cwd)).action == "deny"
    # the config-dir default is used when neither arg nor env is given
    monkeypatch.delenv("NLSH_POLICY")
    cfg = env.home / ".config" / "nlshell"
    cfg.mkdir(parents=True)
    (cfg / "policy.toml").write_text('deny = ["fs.read:~/x/**"]\n')
    assert Policy.load().decide("fs.read", t("~/x/y", env.cwd)).action == "deny"


@pytest.mark.parametrize("text,line,needle", [
    ('allow = ["fs.raed:~/**"]\n', 1, "unknown capability"),
    ('\n\ndeny = ["fs.read:~/a/[b"]\n', 3, "unclosed"),
    ('allow = ["fs.read:~/a/**x"]\n', 1, "whole path segment"),
    ('allow = ["proc.kill:everyone"]\n', 1, "scope of proc.kill"),
    ('allow = ["net.read:/x"]\n', 1, "takes no scope"),
    ('alow = ["fs.read"]\n', 1, "unknown key"),
    ('allow = "fs.read"\n', 1, "must be a list"),
    ('allow = [\n  "fs.read:~/ok/**",\n  "fs.read:~other/**",\n]\n', 3, "another user"),
    ('allow = ["fs.read:~/**"]\nask = [1 2]\n', 2, "not valid TOML"),
    ('defaults = "yes"\n', 1, "true or false"),
])
def test_bad_policy_fails_closed_naming_file_and_line(env: Env, text: str, line: int, needle: str) -> None:
    f = env.tmp / "bad.toml"
    f.write_text(text)
    with pytest.raises(PolicyError) as ei:
        Policy.load(f)
    msg = str(ei.value)
    assert needle in msg
    assert f"{f}:{line}" in msg


def test_missing_explicit_policy_fails_closed(env: Env) -> None:
    with pytest.raises(PolicyError):
        Policy.load(env.tmp / "nope.toml")


def test_deny_beats_allow_and_ask_beats_allow(env: Env) -> None:
    pol = Policy.from_text('allow = ["fs.write:~/**"]\nask = ["fs.write:~/work/ask/**"]\n'
                           'deny = ["fs.write:~/work/no/**"]\n')
    assert pol.decide("fs.write", t("~/work/no/f", env.cwd)).action == "deny"
    assert pol.decide("fs.write", t("~/work/ask/f", env.cwd)).action == "ask"
    assert pol.decide("fs.write", t("~/work/f", env.cwd)).action == "allow"


def test_allow_never_opens_a_hole_through_a_symlink(env: Env) -> None:
    (env.home / "private").mkdir()
    (env.cwd / "public").mkdir()
    os.symlink(env.home / "private", env.cwd / "public" / "door")
    pol = Policy.from_text('defaults = false\nallow = ["fs.read:~/work/**"]\n'
                           'deny = ["fs.read:~/private/**"]\n')
    # lexically inside work/, really inside private/: denied
    d = pol.decide("fs.read", t("public/door/secret", env.cwd))
    assert d.action == "deny"
    # the normpath trap: allowed/link/../x is allowed/x lexically, private/../x = ~/x on disk
    target = canonical("public/door/../x", env.cwd)
    assert target.lexical == env.cwd / "public" / "x"
    assert target.resolved == env.home / "x"
    # resolved form is not covered by the allow rule → not allow (default ask)
    assert pol.decide("fs.read", [target]).action != "allow"


def test_rules_written_four_ways_deny_the_same(env: Env) -> None:
    secret = env.home / "vault"
    secret.mkdir()
    (secret / "k").write_text("x")
    os.symlink(secret, env.home / "vault-link")
    forms = ['"fs.read:~/vault/**"', f'"fs.read:{secret}/**"', '"fs.read:vault/**"',
             '"fs.read:~/vault-link/**"']
    requests = ["~/vault/k", str(secret / "k"), "../vault/k", "~/vault-link/k"]
    for form in forms:
        pol = Policy.from_text(f"deny = [{form}]\n")
        for raw in requests:
            assert pol.decide("fs.read", t(raw, env.cwd)).action == "deny", (form, raw)


def test_proc_scopes(env: Env) -> None:
    from syscalls.permissions import ProcTarget

    pol = Policy.from_text('allow = ["proc.kill:user"]\n')
    mine = ProcTarget(12345, os.getuid())
    other = ProcTarget(12346, os.getuid() + 1)
    assert pol.decide("proc.kill", [], [mine]).action == "allow"
    assert pol.decide("proc.kill", [], [other]).action == "ask"
    assert pol.decide("proc.kill", [], [mine, other]).action == "ask"


def test_defaults_false_drops_builtin_profile(env: Env) -> None:
    pol = Policy.from_text("defaults = false\n")
    assert pol.decide("fs.read", t("~/a", env.cwd)).action == "ask"
    assert pol.decide("net.read", []).action == "ask"


def test_a_left_out_path_is_the_current_directory_for_the_gate(env: Env, tmp_path: Path) -> None:
    """``fs.list`` with no path lists the cwd: the policy decides on the cwd (allowed by the default
    profile, no question), and a rule that denies the cwd denies the listing."""
    (env.cwd / "a.txt").write_text("x")
    res = env.run("fs.list", {})
    assert res.ok and not env.approver.questions
    policy = tmp_path / "deny-work.toml"
    policy.write_text(f'defaults = true\ndeny = ["fs.read:{env.cwd}/**", "fs.read:{env.cwd}"]\n')
    env.rebuild(Policy.load(policy))
    res = env.run("fs.list", {})
    assert res.status == "denied", res.error
