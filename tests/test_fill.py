"""Code-side argument filling: what the intent decides, and what is left to the model."""

from __future__ import annotations

import pytest

from models.fill import split
from models.normalize import normalize
from models.words import path_tokens
from syscalls.registry import default_registry

REG = default_registry()


def fill(call: str, intent: str, **kw: object) -> tuple[dict[str, object], dict[str, list[object]]]:
    s = split(call, REG.get(call).args_schema, intent, normalize(intent), **kw)  # type: ignore[arg-type]
    return s.fixed, s.ask


@pytest.mark.parametrize(("call", "intent", "want"), [
    ("fs.find", "find python files bigger than 1M in src",
     {"name": "*.py", "type": "file", "size_min_bytes": 1024 * 1024}),
    ("fs.find", "log files older than 30 days", {"name": "*.log", "mtime_min_days": 30, "type": "file"}),
    ("fs.find", "files changed in the last 10 minutes", {"mtime_max_minutes": 10, "type": "file"}),
    ("fs.find", "find empty directories", {"type": "dir", "empty": True}),
    ("fs.read", "show the first 3 lines of error.log", {"head_lines": 3}),
    ("fs.read", "last 20 lines of syslog", {"tail_lines": 20}),
    ("fs.read", "print lines 5 to 9 of main.py", {"line_start": 5, "line_end": 9}),
    ("fs.checksum", "md5 of a.txt", {"algorithm": "md5"}),
    ("fs.chmod", "set permissions of data.csv to 600", {"mode": "600"}),
    ("fs.chmod", "make run.sh executable", {"mode": "+x"}),
    ("fs.copy", "copy a.txt to b.txt", {"src": "a.txt", "dest": "b.txt"}),
    ("fs.move", "rename notes.md to todo.md", {"src": "notes.md", "dest": "todo.md"}),
    ("proc.port", "who listens on port 5432", {"port": 5432}),
    ("proc.signal", "force kill process 77", {"pid": 77, "signal": "KILL"}),
    ("proc.signal", "pause pid 12", {"pid": 12, "signal": "STOP"}),
    ("proc.list", "top 5 processes by memory", {"sort": "memory", "limit": 5}),
])
def test_fixed_arguments(call: str, intent: str, want: dict[str, object]) -> None:
    fixed, _ = fill(call, intent)
    assert {k: fixed.get(k) for k in want} == want


def test_later_steps_and_follow_ups_refer_to_rows() -> None:
    assert fill("fs.delete", "find tmp files and delete them", step=1)[0]["path"] == "$0.path"
    assert fill("proc.signal", "kill it", previous_call="proc.port")[0]["pid"] == "$prev.pid"
    # without a previous result a pronoun refers to nothing
    assert "path" not in fill("fs.delete", "delete it")[0]


def test_model_is_asked_only_what_code_cannot_decide() -> None:
    fixed, ask = fill("fs.read", "show the last 5 lines of error.log")
    assert set(ask) == {"path"} and "error.log" in ask["path"] and fixed == {"tail_lines": 5}
    _, ask = fill("fs.find", "find python files in src")
    assert set(ask) == {"path"} and ask["path"] == ["src"]
    _, ask = fill("fs.grep", "search for TODO in src")
    assert ask["pattern"][0] == "TODO"


def test_path_tokens_are_pathlike_or_after_a_preposition() -> None:
    assert path_tokens("move a.txt into docs") == ["a.txt", "docs"]
    assert path_tokens("what is inside the docs folder") == ["docs"]
    assert path_tokens("show the process tree") == []
    assert path_tokens("list ~/Downloads and /tmp") == ["~/Downloads", "/tmp"]


def test_state_changing_calls_need_a_cue_word() -> None:
    from models.fill import allowed

    assert not allowed("fs.find+fs.delete", "find all python files", REG)
    assert allowed("fs.find+fs.delete", "find the tmp files and remove them", REG)
    assert not allowed("proc.port+proc.signal", "which process listens on port 80", REG)
    assert allowed("proc.port+proc.signal", "kill whatever listens on port 80", REG)
    assert allowed("fs.find", "find all python files", REG)


def test_home_and_root_are_offered_only_when_named() -> None:
    from models.fill import canonical_paths

    assert canonical_paths(normalize("list the files here")) == ["."]
    assert canonical_paths(normalize("what is in my home directory")) == [".", "~"]
    assert canonical_paths(normalize("search the whole system for core files")) == [".", "/"]


def test_a_pid_or_port_call_needs_a_number_unless_it_follows_up() -> None:
    from models.fill import allowed

    intent = "show information about big.bin"
    assert not allowed("proc.info", intent, REG, normalize(intent))
    assert allowed("proc.info", "show process 42", REG, normalize("show process 42"))
    assert allowed("proc.signal", "kill it", REG, normalize("kill it"), follow_up=True)


def test_quoted_text_is_content_not_a_path() -> None:
    _, ask = fill("fs.append", "add the line 'bye' to a.txt")
    assert ask["path"] == ["a.txt"] and ask["content"] == ["bye"]


@pytest.mark.parametrize(("intent", "argv"), [
    ("run sleep 30", ["sleep", "30"]),
    ('run "ls -la /tmp"', ["ls", "-la", "/tmp"]),
    ("execute the program uname -a", ["uname", "-a"]),
    ('run python3 -c "print(1)" in the folder src', ["python3", "-c", "print(1)"]),
    ('please do "echo hi"', ["echo", "hi"]),
])
def test_proc_run_argv_comes_from_the_words(intent: str, argv: list[str]) -> None:
    schema = default_registry().get("proc.run").args_schema
    assert split("proc.run", schema, intent, normalize(intent)).fixed["argv"] == argv


@pytest.mark.parametrize(("intent", "limit"), [
    ("show the 5 largest files in ~/Downloads", 5),
    ("the three biggest files here", 3),
    ("top 7 largest files in src", 7),
])
def test_find_takes_the_count_before_a_superlative(intent: str, limit: int) -> None:
    fixed = split("fs.find", default_registry().get("fs.find").args_schema, intent, normalize(intent)).fixed
    assert fixed["limit"] == limit and fixed["sort"] == "size"


def test_a_file_in_a_folder_is_offered_joined_first() -> None:
    intent = "delete todo.md in ~/Downloads"
    ask = split("fs.delete", default_registry().get("fs.delete").args_schema, intent, normalize(intent)).ask
    assert ask["path"][0] == "~/Downloads/todo.md"
    assert "todo.md" not in ask["path"]  # the bare name would resolve against the cwd instead


def test_a_quoted_single_word_names_a_file() -> None:
    intent = "remove the file 'junk1'"
    ask = split("fs.delete", default_registry().get("fs.delete").args_schema, intent, normalize(intent)).ask
    assert "junk1" in ask["path"]


def test_counting_is_only_offered_when_asked_for() -> None:
    from models.fill import allowed

    assert not allowed("fs.find+fs.wc", "find every javascript file in the site directory", REG)
    assert allowed("fs.find+fs.wc", "count the lines of every javascript file in site", REG)
    assert allowed("fs.checksum", "sha256 of the iso", REG)


@pytest.mark.parametrize(("label", "intent"), [
    ("fs.delete", "show the dropdown config"),
    ("fs.delete", "open the cleanroom notes"),
    ("fs.move", "list the movies folder"),
    ("proc.run", "show the startup log"),
    ("proc.run", "read the runbook"),
    ("proc.signal", "show the endpoints file"),
    ("fs.append", "show the address book"),
    ("fs.copy", "read the copyright notice"),
    ("fs.symlink", "show the linker script"),
])
def test_cues_match_words_not_substrings(label: str, intent: str) -> None:
    from models.fill import allowed

    assert not allowed(label, intent, REG)


@pytest.mark.parametrize(("label", "intent"), [
    ("fs.delete", "drop the old logs"),
    ("fs.delete", "delet the iso in downloads"),
    ("fs.delete", "rm junk1"),
    ("fs.move", "rename a.txt to b.txt"),
    ("proc.run", "start the backup script"),
    ("proc.signal", "stop process 42"),
    ("fs.chmod", "chmod u+x run.sh"),
    ("fs.chmod", "make run.sh executable"),
    ("fs.copy", "back up notes.md"),
    ("fs.checksum", "sha256sum the iso"),
])
def test_cue_words_in_their_usual_forms(label: str, intent: str) -> None:
    from models.fill import allowed

    assert allowed(label, intent, REG)


def test_a_plugin_call_declares_its_cue_and_gets_its_limit_and_pid_from_its_argument_kinds() -> None:
    from models.fill import allowed
    from syscalls import schema as S
    from syscalls.registry import Registry
    from syscalls.types import Risk

    reg = Registry()

    @reg.syscall("demo.prune", "Prune old snapshots of a process.", plugin="demo",
                 args=S.obj({"pid": S.pid("the process"), "limit": S.integer("at most", minimum=1)}),
                 result=S.obj({}), capability="proc.signal", risk=Risk.DESTRUCTIVE, cue=r"\bprune\b")
    def prune(ctx, args):  # type: ignore[no-untyped-def]
        return {}

    assert not allowed("demo.prune", "show the snapshots of 4242", reg)
    assert allowed("demo.prune", "prune the snapshots of 4242", reg)
    intent = "prune the last 3 snapshots of process 4242"
    got = split("demo.prune", reg.get("demo.prune").args_schema, intent, normalize(intent))
    assert got.fixed == {"pid": 4242, "limit": 3}
