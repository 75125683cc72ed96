from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

# Make the plugin importable when it is not pip-installed (running from a checkout).
_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))


def run_git(repo: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-c", "user.name=Ada Lovelace", "-c", "user.email=ada@example.org",
         "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", "-C", str(repo), *args],
        capture_output=True, text=True, check=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(repo), "GIT_CONFIG_NOSYSTEM": "1",
             "GIT_AUTHOR_DATE": "2024-01-02T03:04:05Z", "GIT_COMMITTER_DATE": "2024-01-02T03:04:05Z"},
    )
    return proc.stdout


Git = Callable[..., str]


@pytest.fixture
def git() -> Git:
    """``git(repo, *args)``: run the real git with a fixed identity and dates."""
    return run_git


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A real repository: two commits on main, a feature branch, and a dirty work tree."""
    r = tmp_path / "repo"
    r.mkdir()
    run_git(r, "init", "-q")
    (r / "README.md").write_text("hello\n")
    (r / "old.txt").write_text("old\n")
    run_git(r, "add", "README.md", "old.txt")
    run_git(r, "commit", "-q", "-m", "first commit")
    (r / "README.md").write_text("hello world\n")
    run_git(r, "commit", "-q", "-am", "expand the readme")
    run_git(r, "branch", "feature")
    # dirty state: a modified file, a staged rename, an untracked file with a space
    (r / "README.md").write_text("changed\n")
    run_git(r, "mv", "old.txt", "new.txt")
    (r / "notes here.txt").write_text("x\n")
    return r
