"""shell.cd: checks the directory and names it; the one-shot CLI says it cannot move the calling shell."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from syscalls.dispatcher import Dispatcher
from syscalls.registry import default_registry
from syscalls.types import SyscallRequest

REG = default_registry()


def run(path: str, cwd: Path) -> tuple[str, dict]:  # type: ignore[type-arg]
    res = Dispatcher(REG).handle(SyscallRequest("shell.cd", {"path": path}), cwd)
    return res.status, (res.data if res.ok else res.error) or {}


def test_cd_names_the_canonical_directory(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    os.symlink(tmp_path / "a" / "b", tmp_path / "link")
    assert run("a/b", tmp_path) == ("ok", {"cwd": str((tmp_path / "a" / "b").resolve()), "previous": str(tmp_path)})
    assert run("link", tmp_path)[1]["cwd"] == str((tmp_path / "a" / "b").resolve())
    assert run("..", tmp_path / "a")[1]["cwd"] == str(tmp_path.resolve())


@pytest.mark.parametrize(("name", "kind"), [("missing", "NotFound"), ("file.txt", "WrongType")])
def test_cd_to_what_is_not_a_directory_is_a_typed_error(tmp_path: Path, name: str, kind: str) -> None:
    (tmp_path / "file.txt").write_text("x")
    status, err = run(name, tmp_path)
    assert status == "failed" and err["type"] == kind and name in err["target"]


def test_cd_result_picks_the_last_successful_cd(tmp_path: Path) -> None:
    from nlshell.events import cd_result

    (tmp_path / "x").mkdir()
    ok = Dispatcher(REG).handle(SyscallRequest("shell.cd", {"path": "x"}), tmp_path)
    bad = Dispatcher(REG).handle(SyscallRequest("shell.cd", {"path": "nope"}), tmp_path)
    listing = Dispatcher(REG).handle(SyscallRequest("fs.list", {"path": "."}), tmp_path)
    assert cd_result([ok, bad, listing]) == (tmp_path / "x").resolve()
    assert cd_result([listing, bad]) is None
