from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from nlshell import completions as C


def complete_bash(script: Path, *words: str) -> list[str]:
    """Run the generated completion function in a real bash and return COMPREPLY."""
    quoted = " ".join(f"'{w}'" for w in words)
    prog = (f"source {script}; COMP_WORDS=({quoted}); COMP_CWORD=$((${{#COMP_WORDS[@]}}-1)); "
            "COMPREPLY=(); _nlsh; printf '%s\\n' \"${COMPREPLY[@]}\"")
    out = subprocess.run(["bash", "--norc", "-c", prog], capture_output=True, text=True, check=True)
    return [line for line in out.stdout.splitlines() if line]


@pytest.fixture(scope="module")
def bash_script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("comp") / "nlsh.bash"
    p.write_text(C.script("bash"))
    return p


def test_spec_comes_from_the_parsers() -> None:
    spec = C.cli_spec()
    flags = {f for o in spec.options for f in o.flags}
    assert {"--json", "--dry-run", "--model", "--yes"} <= flags
    assert {"config", "completions", "man", "audit"} <= set(spec.subcommands)
    assert spec.subcommands["completions"].positional_choices == ("bash", "zsh", "fish")
    assert set(spec.subcommands["audit"].subcommands) == {"verify", "show"}


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completes_for_real(bash_script: Path, tmp_path: Path) -> None:
    subprocess.run(["bash", "-n", str(bash_script)], check=True)
    assert complete_bash(bash_script, "nlsh", "co") == ["config", "completions"]
    assert complete_bash(bash_script, "nlsh", "config", "") == ["-h", "--help", "show", "path", "edit"]
    assert complete_bash(bash_script, "nlsh", "audit", "v") == ["verify"]
    assert "--last" in complete_bash(bash_script, "nlsh", "audit", "show", "--")
    assert complete_bash(bash_script, "nlsh", "--dry") == ["--dry-run"]
    assert complete_bash(bash_script, "nlsh", "--model", "sm") == ["smollm2"]
    assert complete_bash(bash_script, "nlsh", "completions", "z") == ["zsh"]
    assert complete_bash(bash_script, "nlsh", "man", "nlsh-j") == ["nlsh-json"]


def test_a_new_option_appears_in_every_shell() -> None:
    spec = C.cli_spec()
    spec.options.append(C.Opt(("--frobnicate",), "a new option", True, "choices", ("lo", "hi")))
    assert "--frobnicate" in C.script("bash", spec)
    assert "'--frobnicate[a new option]:value:(lo hi)'" in C.script("zsh", spec)
    assert "complete -c nlsh -l frobnicate -r -a 'lo hi' -d 'a new option'" in C.script("fish", spec)


def test_zsh_and_fish_structure() -> None:
    z = C.script("zsh")
    assert z.startswith("#compdef nlsh") and "'config:the configuration file'" in z
    assert "config) _arguments" in z and "(show path edit)" in z
    f = C.script("fish")
    assert "complete -c nlsh -f -n '__fish_use_subcommand' -a doctor" in f
    assert "__fish_seen_subcommand_from audit; and not __fish_seen_subcommand_from verify show" in f
    # quotes in help text are escaped for fish
    assert "(\\'-\\' = stdin)" in f


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_syntax(tmp_path: Path) -> None:
    p = tmp_path / "_nlsh"
    p.write_text(C.script("zsh"))
    subprocess.run(["zsh", "-n", str(p)], check=True)


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_syntax(tmp_path: Path) -> None:
    p = tmp_path / "nlsh.fish"
    p.write_text(C.script("fish"))
    subprocess.run(["fish", "--no-execute", str(p)], check=True)


def test_unknown_shell() -> None:
    with pytest.raises(ValueError, match="unknown shell"):
        C.script("tcsh")
