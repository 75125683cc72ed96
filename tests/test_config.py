from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from nlshell import config as C


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "config.toml"
    p.write_text(text)
    return p


def test_defaults_when_no_file(tmp_path: Path) -> None:
    cfg = C.load_config(tmp_path / "missing.toml", env={})
    assert cfg.model == "smollm2" and cfg.threads == 0 and cfg.theme == "dark"
    assert cfg.backend.url == "" and cfg.model_spec == "smollm2"
    assert set(cfg.sources.values()) == {"default"}


def test_file_values_and_sources(tmp_path: Path) -> None:
    p = write(tmp_path, 'model = "gemma3-270m"\nthreads = 2\n\n[backend]\nurl = "http://127.0.0.1:9"\n'
                        'timeout_s = 5\n')
    cfg = C.load_config(p, env={})
    assert cfg.model == "gemma3-270m" and cfg.threads == 2
    assert cfg.backend.url == "http://127.0.0.1:9" and cfg.backend.timeout_s == 5.0
    assert cfg.model_spec == "http://127.0.0.1:9"
    assert cfg.sources["threads"] == str(p) and cfg.sources["theme"] == "default"


def test_env_overrides_file(tmp_path: Path) -> None:
    p = write(tmp_path, "threads = 2\n")
    cfg = C.load_config(p, env={"NLSH_THREADS": "4", "NLSH_MODEL": "/m/x.gguf",
                                "NLSH_BACKEND_URL": "https://h:1"})
    assert cfg.threads == 4 and cfg.model == "/m/x.gguf" and cfg.backend.url == "https://h:1"
    assert cfg.sources["threads"] == "env NLSH_THREADS"


def test_path_from_env_and_platformdirs(tmp_path: Path) -> None:
    assert C.config_path({"NLSH_CONFIG": str(tmp_path / "c.toml")}) == tmp_path / "c.toml"
    default = C.config_path({})
    assert default.name == "config.toml" and default.parent.name == "nlshell"


def test_wrong_type_names_file_line_and_key(tmp_path: Path) -> None:
    p = write(tmp_path, '# comment\nmodel = "smollm2"\n\n[backend]\nretries = "many"\n')
    with pytest.raises(C.ConfigError) as exc:
        C.load_config(p, env={})
    err = exc.value
    assert (err.path, err.line, err.key) == (str(p), 5, "backend.retries")
    assert str(err).startswith(f"{p}:5: backend.retries: expected int")


def test_unknown_key_and_bad_values(tmp_path: Path) -> None:
    with pytest.raises(C.ConfigError) as exc:
        C.load_config(write(tmp_path, 'model = "x"\nthred = 2\n'), env={})
    assert exc.value.key == "thred" and exc.value.line == 2 and "threads" in exc.value.hint
    with pytest.raises(C.ConfigError, match="unknown theme"):
        C.load_config(write(tmp_path, 'theme = "neon"\n'), env={})
    with pytest.raises(C.ConfigError, match="not an http"):
        C.load_config(write(tmp_path, '[backend]\nurl = "ftp://x"\n'), env={})
    with pytest.raises(C.ConfigError, match="threads must be"):
        C.load_config(write(tmp_path, "threads = -1\n"), env={})
    with pytest.raises(C.ConfigError, match="expected int") as exc:
        C.load_config(write(tmp_path, "threads = true\n"), env={})


def test_syntax_error_has_line(tmp_path: Path) -> None:
    p = write(tmp_path, 'model = "a"\nthreads = = 3\n')
    with pytest.raises(C.ConfigError) as exc:
        C.load_config(p, env={})
    assert exc.value.line == 2 and "not valid TOML" in str(exc.value)


def test_bad_env_value_names_variable(tmp_path: Path) -> None:
    with pytest.raises(C.ConfigError) as exc:
        C.load_config(tmp_path / "none.toml", env={"NLSH_THREADS": "two"})
    assert exc.value.path == "env NLSH_THREADS" and exc.value.key == "threads"


def test_the_removed_v1_planner_is_named_as_removed_from_the_file_and_the_environment(tmp_path: Path) -> None:
    with pytest.raises(C.ConfigError) as exc:
        C.load_config(write(tmp_path, 'planner = "v1"\n'), env={})
    assert "v1 planner" in str(exc.value) and "removed" in str(exc.value) and "shots" in str(exc.value)
    assert exc.value.line == 1
    with pytest.raises(C.ConfigError, match="removed") as exc:
        C.load_config(tmp_path / "none.toml", env={"NLSH_PLANNER": "v1"})
    assert "NLSH_PLANNER" in str(exc.value)
    with pytest.raises(C.ConfigError, match="unknown planner 'v3'"):
        C.load_config(tmp_path / "none.toml", env={"NLSH_PLANNER": "v3"})
    assert C.load_config(tmp_path / "none.toml", env={"NLSH_PLANNER": "shots"}).planner == "shots"


def test_models_refuses_the_removed_v1_planner_with_a_typed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from models import UnknownPlanner, make_planner, planner_kind
    from models.errors import ModelError
    from models.scripted import ScriptedBackend
    from syscalls.registry import default_registry

    monkeypatch.setenv("NLSH_PLANNER", "v1")
    with pytest.raises(UnknownPlanner, match=r"v1 planner .* was removed") as exc:
        planner_kind()
    assert isinstance(exc.value, ModelError) and isinstance(exc.value, ValueError) and "shots" in exc.value.hint
    monkeypatch.delenv("NLSH_PLANNER")
    # auto: a model without the planner adapter (here a scripted one) plans from worked examples
    assert make_planner(ScriptedBackend(), default_registry()).kind == "shots"


def test_show_round_trips(tmp_path: Path) -> None:
    p = write(tmp_path, 'theme = "light"\n[backend]\nretries = 3\n')
    cfg = C.load_config(p, env={"NLSH_THREADS": "3"})
    text = C.show(cfg)
    assert f"theme = \"light\"  # {p}" in text and "threads = 3  # env NLSH_THREADS" in text
    again = write(tmp_path, text)
    assert C.load_config(again, env={}).to_dict() == cfg.to_dict()


def test_edit_creates_template_and_runs_editor(tmp_path: Path) -> None:
    # The "editor" is a real program: a script that appends a setting to the file.
    editor = tmp_path / "ed.sh"
    editor.write_text('#!/bin/sh\necho \'theme = "mono"\' >> "$1"\n')
    editor.chmod(0o755)
    target = tmp_path / "sub" / "config.toml"
    rc = C.edit(target, env={"EDITOR": str(editor)})
    assert rc == 0
    assert C.load_config(target, env={}).theme == "mono"
    assert "[backend]" in target.read_text()


def test_editor_command_prefers_visual() -> None:
    cmd = C.editor_command(Path("/x.toml"), {"VISUAL": "code --wait", "EDITOR": "vi"})
    assert cmd == ["code", "--wait", "/x.toml"]


@pytest.mark.skipif(os.geteuid() == 0 or sys.platform != "linux", reason="root can read any file")
def test_unreadable_file(tmp_path: Path) -> None:
    p = write(tmp_path, "threads = 1\n")
    p.chmod(0)
    with pytest.raises(C.ConfigError, match="cannot read"):
        C.load_config(p, env={})
