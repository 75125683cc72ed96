from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path

import pytest

from nlshell import manpages as M
from syscalls.registry import Registry, load_builtins

MAN = Path(__file__).resolve().parent.parent / "man"


@pytest.mark.parametrize("page", list(M.PAGES))
def test_committed_page_matches_the_code(page: str) -> None:
    filename = M.PAGES[page][0]
    committed = (MAN / filename).read_text(encoding="utf-8")
    assert committed == M.generate(page), (
        f"man/{filename} is out of date: run `python -m nlshell.manpages --write` and commit it")


def test_check_command_reports_drift(tmp_path: Path) -> None:
    M.write(tmp_path)
    assert M.main(["--check", "--dir", str(tmp_path)]) == 0
    page = tmp_path / "nlsh.1"
    page.write_text(page.read_text().replace("dry\\-run", "dry\\-rum"))
    assert M.stale(tmp_path) == ["nlsh.1"]
    assert M.main(["--check", "--dir", str(tmp_path)]) == 1


def test_cli_page_is_generated_from_the_parser() -> None:
    from nlshell.parsers import build_parser

    parser = build_parser()
    text = M.nlsh_page(parser)
    for action in parser._actions:
        for opt in action.option_strings:
            assert M.esc(opt) in text, opt
    parser.add_argument("--frobnicate", help="a brand new option")
    changed = M.nlsh_page(parser)
    assert "\\-\\-frobnicate" in changed and "a brand new option" in changed
    assert "EXIT STATUS" in text and "\\fB130\\fR" in text
    assert "NLSH_BACKEND_URL" in text  # environment from the config module


def test_syscalls_page_lists_every_call_with_arguments() -> None:
    reg = Registry()
    load_builtins(reg)
    text = M.syscalls_page(reg)
    for spec in reg:
        assert f"\\fB{M.esc(spec.name)}\\fR" in text, spec.name
        for arg in spec.args_schema.get("properties", {}):
            assert f"\\fI{M.esc(arg)}\\fR" in text, (spec.name, arg)
        assert f"risk \\fB{spec.risk.value}\\fR" in text


def test_syscalls_page_includes_a_plugin_registry() -> None:
    from syscalls import schema as S
    from syscalls.types import Risk

    reg = Registry()

    @reg.syscall("demo.thing", "Do a demo thing.", args=S.obj({"n": S.integer("how many", minimum=1, maximum=9)},
                 required=["n"]), result=S.obj({}), capability="fs.read", risk=Risk.READ,
                 examples=[("do the thing twice", {"n": 2})])
    def thing(ctx: object, args: dict) -> dict:
        return {}

    text = M.syscalls_page(reg)
    assert "\\fIn\\fR (integer 1..9, required)" in text and "how many" in text
    assert 'do the thing twice' in text and '{"call": "demo.thing", "args": {"n": 2}}' in text


def test_json_page_covers_every_schema_field() -> None:
    from nlshell.envelope import envelope_schema

    text = M.json_page()
    schema = envelope_schema()
    for name in schema["properties"]:
        assert f"\\fB{M.esc(name)}\\fR" in text
    for d in schema["$defs"].values():
        for name in d.get("properties", {}):
            assert f"\\fB{M.esc(name)}\\fR" in text


def test_policy_page_has_capabilities_and_profile() -> None:
    from syscalls.permissions import KNOWN_CAPABILITIES

    text = M.policy_page()
    for cap in KNOWN_CAPABILITIES:
        assert f"\\fB{M.esc(cap)}\\fR" in text
    assert "fs.read:~/**" in text.replace("\\-", "-") and "HARD FLOOR" in text


def test_policy_page_lists_the_floor_rules_in_order() -> None:
    from syscalls.permissions.floor import RULES

    text = M.policy_page()
    floor = text[text.index(".SH HARD FLOOR"):text.index(".SH EXAMPLE")]
    places = [floor.index(f".TP\n\\fB{M.esc(rule.name)}\\fR\n{M.esc(rule.doc)}\n") for rule in RULES]
    assert places == sorted(places) and len(RULES) > 10


def test_escaping() -> None:
    assert M.esc(".hidden\n'quoted") == "\\&.hidden\n\\&'quoted"
    assert M.esc("a\\b-c") == "a\\eb\\-c"
    assert M.esc("x → y — z ☃") == "x \\(-> y \\(em z \\[u2603]"


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff is not installed")
@pytest.mark.parametrize("page", list(M.PAGES))
def test_groff_renders_without_warnings(page: str) -> None:
    proc = subprocess.run(["groff", "-man", "-ww", "-z"], input=M.generate(page), capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0 and proc.stderr == ""


def test_unknown_page() -> None:
    with pytest.raises(ValueError, match="unknown manual page"):
        M.generate("nlsh-nope")
    assert isinstance(argparse.ArgumentParser, type)
