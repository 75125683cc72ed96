"""One chmod-mode parser (syscalls.modes): the floor's view of a mode and the bits fs.chmod applies agree.

The property tests run the real floor (``Floor.check``) and the real call (a
dispatcher with no gate, so the call's own checks are what refuse) on a real
file and directory, for random strings over the schema's mode alphabet and for
arbitrary text.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syscalls.dispatcher import Dispatcher, PlainEffects
from syscalls.errors import FloorViolation, InvalidRequest
from syscalls.modes import ALPHABET, chmod_bits, parse_mode
from syscalls.paths import canonical
from syscalls.permissions import Floor
from syscalls.types import CallContext, Invocation, SyscallRequest
from syscalls.validate import validate
from tests.syscall_support import REG

SPEC = REG.get("fs.chmod")


def test_schema_pattern_is_the_parser_alphabet() -> None:
    pattern = SPEC.args_schema["properties"]["mode"]["pattern"]
    assert {chr(c) for c in range(0x20, 0x7F) if re.fullmatch(pattern, chr(c))} == set(ALPHABET)


def floor_verdict(cwd: Path, path: Path, mode: Any) -> str:
    """"ok", or the type of the floor's refusal of chmod ``mode`` on ``path``."""
    ctx = CallContext(call="fs.chmod", cwd=cwd, effects=PlainEffects())
    try:
        Floor().check(SPEC, {"path": str(path), "mode": mode}, [canonical(str(path), cwd, call="fs.chmod")],
                      [], ctx)
    except (FloorViolation, InvalidRequest) as exc:
        return type(exc).__name__
    return "ok"


def agree(cwd: Path, target: Path, mode: Any, start: int) -> None:
    """The floor accepts ``mode`` iff the call applies it, and then the floor's parse, the preview the
    person is shown and the bits on disk are the same."""
    is_dir = target.is_dir()
    os.chmod(target, start)
    verdict = floor_verdict(cwd, target, mode)
    d = Dispatcher(REG)
    preview = d.handle(SyscallRequest("fs.chmod", {"path": str(target), "mode": mode}),
                        Invocation(cwd=cwd, dry_run=True))
    res = d.handle(SyscallRequest("fs.chmod", {"path": str(target), "mode": mode}), cwd)
    on_disk = stat.S_IMODE(os.stat(target).st_mode)
    try:
        validate({"call": "fs.chmod", "args": {"path": str(target), "mode": mode}}, REG)
    except InvalidRequest:  # the schema refuses it (type, length) before the floor or the call see it
        assert res.status == "invalid" and preview.status == "invalid" and on_disk == start, res
        return
    if verdict != "ok":
        assert res.status == "invalid" and res.error is not None and res.error["target"] == "args.mode", res
        assert preview.status == "invalid"
        assert on_disk == start  # nothing was applied
        special = isinstance(mode, str) and _parses(mode) and parse_mode(mode).special
        assert verdict == ("FloorViolation" if special else "InvalidRequest")
        return
    assert res.status == "ok", res.error
    floor_view = parse_mode(mode).apply(start, is_dir)
    assert not floor_view & (stat.S_ISUID | stat.S_ISGID)
    assert on_disk == floor_view
    assert res.data is not None and res.data["entries"][0]["new_mode"] == f"{floor_view:04o}"
    assert preview.data is not None and preview.data["new_mode"] == f"{floor_view:04o}"


def _parses(mode: str) -> bool:
    try:
        parse_mode(mode)
    except InvalidRequest:
        return False
    return True


@pytest.fixture
def targets(tmp_path: Path) -> tuple[Path, Path, Path]:
    f = tmp_path / "file.txt"
    f.write_text("x")
    d = tmp_path / "dir"
    d.mkdir()
    return tmp_path, f, d


_SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_SETTINGS
@given(mode=st.text(alphabet=ALPHABET, max_size=14), start=st.integers(0, 0o7777), on_dir=st.booleans())
def test_floor_and_call_agree_on_mode_alphabet_strings(targets: tuple[Path, Path, Path], mode: str, start: int,
                                                       on_dir: bool) -> None:
    cwd, f, d = targets
    agree(cwd, d if on_dir else f, mode, start)


@_SETTINGS
@given(mode=st.one_of(st.text(max_size=10), st.integers(), st.booleans(), st.none()),
       start=st.integers(0, 0o7777))
def test_floor_and_call_agree_on_anything(targets: tuple[Path, Path, Path], mode: Any, start: int) -> None:
    cwd, f, _ = targets
    agree(cwd, f, mode, start)


@_SETTINGS
@given(mode=st.lists(st.tuples(st.sampled_from(["", "u", "g", "o", "a", "ug", "go", "ugo"]),
                               st.lists(st.tuples(st.sampled_from("+-="), st.text("rwxXt", max_size=4)),
                                        min_size=1, max_size=3)),
                     min_size=1, max_size=3).map(
           lambda cs: ",".join(w + "".join(o + p for o, p in acts) for w, acts in cs)),
       start=st.integers(0, 0o7777), on_dir=st.booleans())
def test_well_formed_symbolic_modes_are_applied(targets: tuple[Path, Path, Path], mode: str, start: int,
                                                on_dir: bool) -> None:
    """Random strings rarely parse; these always do, so the agreement is exercised on applied bits."""
    cwd, f, d = targets
    assert floor_verdict(cwd, f, mode) == "ok"
    agree(cwd, d if on_dir else f, mode, start)


# ----------------------------------------------------------------- the forms people use


@pytest.mark.parametrize(("mode", "start", "is_dir", "want"), [
    ("600", 0o644, False, 0o600),
    ("0755", 0o600, False, 0o755),
    ("1777", 0o755, True, 0o1777),
    ("u+x,go+r", 0o644, False, 0o744),
    ("a=r", 0o644, False, 0o444),
    ("go-r", 0o644, True, 0o600),
    ("+x", 0o644, False, 0o755),
    ("u+rw-x,o=", 0o757, False, 0o650),
    ("a+X", 0o644, False, 0o644),        # a file nobody may execute stays so
    ("a+X", 0o744, False, 0o755),
    ("a+X", 0o600, True, 0o711),         # directories always get X
    ("u+x,g+X", 0o644, False, 0o754),    # X sees the mode as it stands at that action
    ("+t", 0o755, True, 0o1755),
    ("u-s", 0o4755, False, 0o755),
    ("u+x", 0o4644, False, 0o744),       # nlshell's result never keeps setuid
    ("rwxr-xr-x", 0o600, False, 0o755),  # as ls -l shows a mode
    ("-rw-r-----", 0o777, False, 0o640),
    ("rw-------", 0o644, False, 0o600),
    ("rwxrwxrwt", 0o755, True, 0o1777),
    ("---------", 0o644, False, 0o000),
])
def test_valid_forms_keep_their_bits(mode: str, start: int, is_dir: bool, want: int) -> None:
    assert chmod_bits(mode, start, is_dir, "fs.chmod") == want
    assert parse_mode(mode).apply(start, is_dir) == want


@pytest.mark.parametrize("mode", ["4755", "2755", "6755", "u+s", "g=s", "+s", "u+x,g+s", "o+s", "rwsr-xr-x",
                                  "rwxr-Sr--"])
def test_setuid_and_setgid_are_refused_by_both(tmp_path: Path, mode: str) -> None:
    f = tmp_path / "tool"
    f.write_text("x")
    assert parse_mode(mode).special
    assert floor_verdict(tmp_path, f, mode) == "FloorViolation"
    with pytest.raises(InvalidRequest, match="setuid/setgid"):
        chmod_bits(mode, 0o644, False, "fs.chmod")


@pytest.mark.parametrize("mode", ["", "7", "75", "07555", "0o755", "u", "u+x,", ",u+x", "g=u", "x+u", "rwx",
                                  "u+x ,g+w", "8", "s", "rwxr-xr-", "rwxr-xr-xx", "drwxr-xr-x"])
def test_malformed_modes_are_refused_by_both(tmp_path: Path, mode: str) -> None:
    f = tmp_path / "f"
    f.write_text("x")
    assert floor_verdict(tmp_path, f, mode) == "InvalidRequest"
    with pytest.raises(InvalidRequest) as exc:
        chmod_bits(mode, 0o644, False, "fs.chmod")
    assert exc.value.field == "args.mode" and exc.value.call == "fs.chmod"


def test_validated_request_with_a_bad_mode_is_refused_before_anything_runs(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_text("x")
    os.chmod(f, 0o644)
    req = validate({"call": "fs.chmod", "args": {"path": str(f), "mode": "0o755"}}, REG)  # in the alphabet
    res = Dispatcher(REG).handle(req, tmp_path)
    assert res.status == "invalid" and stat.S_IMODE(f.stat().st_mode) == 0o644
