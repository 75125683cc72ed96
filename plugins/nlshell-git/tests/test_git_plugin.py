from __future__ import annotations

from pathlib import Path
from typing import Any

import nlshell_git
import pytest

from syscalls.builtin import answer
from syscalls.dispatcher import Dispatcher
from syscalls.errors import InvalidRequest
from syscalls.registry import Registry
from syscalls.types import Risk
from syscalls.validate import validate


@pytest.fixture
def registry() -> Registry:
    reg = Registry()
    answer.register(reg)
    nlshell_git.register(reg)
    return reg


def run(registry: Registry, cwd: Path, call: str, **args: object) -> dict:
    req = validate({"call": call, "args": args}, registry)
    result = Dispatcher(registry).handle(req, cwd)
    return result.to_dict()


def test_registers_three_read_only_calls(registry: Registry) -> None:
    names = [n for n in registry.names() if n.startswith("git.")]
    assert names == ["git.branches", "git.log", "git.status"]
    for name in names:
        spec = registry.get(name)
        assert spec.risk is Risk.READ
        assert spec.capability == "fs.read"
        assert spec.plugin == "nlshell-git"
        assert "path" in spec.path_args
        assert spec.examples and spec.view.kind == "table"
    assert registry.get("git.log").path_args == ("path", "file")


def test_status_of_a_dirty_repo(registry: Registry, repo: Path) -> None:
    out = run(registry, repo, "git.status")
    assert out["status"] == "ok", out
    data = out["data"]
    assert data["branch"] == "main" and data["upstream"] is None
    assert data["clean"] is False
    rows = {r["path"]: r for r in data["entries"]}
    assert rows["README.md"]["worktree"] == "modified" and rows["README.md"]["index"] == "unmodified"
    assert rows["new.txt"]["index"] == "renamed" and rows["new.txt"]["orig_path"] == "old.txt"
    assert rows["notes here.txt"]["index"] == "untracked"
    assert set(rows) == {"README.md", "new.txt", "notes here.txt"}


def test_status_clean_and_path_argument(registry: Registry, repo: Path, tmp_path: Path, git: Any) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "tidy")
    out = run(registry, tmp_path, "git.status", path="repo")
    assert out["status"] == "ok"
    assert out["data"]["clean"] is True and out["data"]["entries"] == []
    assert out["data"]["repo"] == str(repo)


def test_log_limit_and_file_filter(registry: Registry, repo: Path) -> None:
    out = run(registry, repo, "git.log")
    rows = out["data"]["entries"]
    assert [r["subject"] for r in rows] == ["expand the readme", "first commit"]
    assert rows[0]["author"] == "Ada Lovelace" and rows[0]["email"] == "ada@example.org"
    assert rows[0]["date"] == "2024-01-02T03:04:05+00:00" and len(rows[0]["commit"]) == 40
    assert [r["subject"] for r in run(registry, repo, "git.log", limit=1)["data"]["entries"]] == [
        "expand the readme"]
    only_old = run(registry, repo, "git.log", file="old.txt")["data"]["entries"]
    assert [r["subject"] for r in only_old] == ["first commit"]


def test_log_of_an_empty_repo_is_empty(registry: Registry, tmp_path: Path, git: Any) -> None:
    git(tmp_path, "init", "-q")
    out = run(registry, tmp_path, "git.log")
    assert out["status"] == "ok" and out["data"]["entries"] == []


def test_branches(registry: Registry, repo: Path) -> None:
    rows = run(registry, repo, "git.branches")["data"]["entries"]
    by_name = {r["name"]: r for r in rows}
    assert set(by_name) == {"main", "feature"}
    assert by_name["main"]["current"] is True and by_name["feature"]["current"] is False
    assert by_name["feature"]["subject"] == "expand the readme"
    assert all(r["remote"] is False for r in rows)


def test_not_a_repository_is_a_typed_failure(registry: Registry, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    out = run(registry, plain, "git.status")
    assert out["status"] == "failed"
    assert out["error"]["type"] == "WrongType"
    assert out["error"]["target"] == str(plain)
    assert "git checkout" in out["error"]["hint"]
    missing = run(registry, tmp_path, "git.log", path="nope")
    assert missing["status"] == "failed" and missing["error"]["type"] == "NotFound"


def test_validation_applies_to_plugin_calls(registry: Registry) -> None:
    with pytest.raises(InvalidRequest) as exc:
        validate({"call": "git.log", "args": {"limit": 0}}, registry)
    assert exc.value.field == "args.limit"
    with pytest.raises(InvalidRequest) as exc:
        validate({"call": "git.status", "args": {"path": ".", "shell": "rm -rf /"}}, registry)
    assert exc.value.field == "args.shell"
    with pytest.raises(InvalidRequest):
        validate({"call": "git.status", "args": {"path": "a\nb"}}, registry)


def test_repository_fsmonitor_hook_is_not_run(registry: Registry, repo: Path, tmp_path: Path,
                                               git: Any) -> None:
    # A repository's own config can name a program for core.fsmonitor; a read-only
    # status must not execute it.
    marker = tmp_path / "ran"
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    git(repo, "config", "core.fsmonitor", str(hook))
    out = run(registry, repo, "git.status")
    assert out["status"] == "ok"
    assert not marker.exists()


def test_parse_status_branch_header() -> None:
    out = "# branch.oid abc\0# branch.head topic\0# branch.upstream origin/topic\0# branch.ab +2 -3\0"
    data = nlshell_git.parse_status(out)
    assert (data["branch"], data["upstream"]) == ("topic", "origin/topic")
    assert (data["ahead"], data["behind"]) == (2, 3)
    assert data["clean"] is True
    assert nlshell_git.parse_status("# branch.head (detached)\0")["branch"] is None
