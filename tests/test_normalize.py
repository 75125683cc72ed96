from __future__ import annotations

import pytest

from models.normalize import normalize, parse_ages, parse_globs, parse_paths, parse_sizes


@pytest.mark.parametrize(("text", "want"), [
    ("bigger than 10 megs", [(">", 10 * 1024**2)]),
    ("larger than 1.5G", [(">", int(1.5 * 1024**3))]),
    ("over 100k", [(">", 100 * 1024)]),
    ("smaller than 2 kb", [("<", 2048)]),
    ("what is listening on port 8080", []),
])
def test_sizes(text: str, want: list[tuple[str, int]]) -> None:
    assert parse_sizes(text) == want


@pytest.mark.parametrize(("text", "want"), [
    ("older than a week", [(">", 7 * 1440)]),
    ("modified in the last 2 days", [("<", 2 * 1440)]),
    ("more than 30 minutes ago", [(">", 30)]),
    ("changed yesterday", [("<", 2 * 1440)]),
    ("older than two weeks", [(">", 14 * 1440)]),
])
def test_ages(text: str, want: list[tuple[str, int]]) -> None:
    assert parse_ages(text) == want


def test_places_and_globs() -> None:
    assert parse_paths("python files in my downloads") == ["~/Downloads"]
    assert parse_paths("list the current directory") == ["."]
    assert parse_paths("under /var/tmp, please") == ["/var/tmp"]
    assert parse_globs("python files") == ["*.py"]
    assert parse_globs("all the pdfs") == ["*.pdf"]
    assert parse_globs("find .log files") == ["*.log"]
    assert parse_globs("files starting with report") == ["report*"]


def test_ports_pids_signals_numbers() -> None:
    f = normalize("kill process 1234 forcefully")
    assert f.pids == [1234] and f.signals == ["SIGKILL"]
    f = normalize("what listens on port 8080")
    assert f.ports == [8080] and f.sizes == []
    assert normalize("show the first three lines").numbers == [3]
    assert normalize('a file named "x y.txt"').quoted == ["x y.txt"]
    assert normalize("older than a week").days == [7]
