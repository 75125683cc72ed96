"""The plan text: rendering, parsing with typed values, the grammar llama.cpp compiles, and the v2 planner's
checks on what a (scripted) model wrote."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gbnf_match import Grammar

from models import plantext as PT
from models import values as V
from models.errors import ModelOutputError
from models.plan import PlanStep
from models.planner_v2 import SHOTS_HEAD, TrainedPlanner, drop_unasked, grounded
from models.scripted import ScriptedBackend
from syscalls import schema as S
from syscalls.errors import InvalidRequest
from syscalls.modes import parse_mode
from syscalls.registry import Registry, default_registry
from syscalls.types import Risk, SyscallRequest, SyscallResult

REG = default_registry()


@pytest.mark.parametrize(("text", "size"), [
    ("10M", 10 * 2**20), ("10 megs", 10 * 2**20), ("1.5G", int(1.5 * 2**30)), ("500k", 500 * 1024),
    ("2048", 2048), ("100 bytes", 100), ("a gig", 2**30), ("ten megabytes", 10 * 2**20), ("1000c", 1000),
    ("+10M", 10 * 2**20), ("50MB", 50 * 2**20),
])
def test_sizes(text: str, size: int) -> None:
    assert V.size_bytes(text) == size


@pytest.mark.parametrize(("text", "unit", "value"), [
    ("a week", "days", 7), ("3 days", "days", 3), ("2 weeks", "days", 14), ("7", "days", 7),
    ("yesterday", "days", 1), ("an hour", "minutes", 60), ("2 hours", "minutes", 120), ("30 mins", "minutes", 30),
    ("half an hour", "minutes", 30), ("a month", "days", 30), ("90 minutes", "minutes", 90),
])
def test_durations(text: str, unit: str, value: float) -> None:
    assert V.duration(text, unit) == value


@pytest.mark.parametrize("bad", ["lots", "10 parsecs", "ten elephants"])
def test_values_that_mean_nothing_are_typed_errors(bad: str) -> None:
    with pytest.raises(ValueError, match=bad.split()[-1]):
        V.size_bytes(bad)


def test_render_is_canonical_and_parse_inverts_it() -> None:
    steps = [("fs.find", {"type": "file", "name": "*.tmp", "path": "build"}), ("fs.delete", {"path": "$0.path"})]
    text = PT.render(steps, REG)
    assert text == 'fs.find path="build" name="*.tmp" type="file"\nfs.delete path="$0.path"'
    assert PT.parse(text, REG) == [PlanStep("fs.find", {"path": "build", "name": "*.tmp", "type": "file"}),
                                   PlanStep("fs.delete", {"path": "$0.path"})]


def test_parse_converts_values_the_person_wrote() -> None:
    (step,) = PT.parse('fs.find path="~/Downloads" size_min_bytes="10 megs" mtime_min_days="a week"', REG)
    assert step.args == {"path": "~/Downloads", "size_min_bytes": 10 * 2**20, "mtime_min_days": 7}
    (step,) = PT.parse('fs.list limit="five"', REG)
    assert step.args == {"limit": 5}
    (step,) = PT.parse('proc.signal pid="$0.pid" signal="KILL"', REG)
    assert step.args == {"pid": "$0.pid", "signal": "KILL"}


def test_refusal_gets_its_text() -> None:
    (step,) = PT.parse("answer supported=false", REG, intent="reboot the machine")
    assert step.args == {"text": "This is not something nlshell can do: reboot the machine", "supported": False}


@pytest.mark.parametrize(("text", "match"), [
    ("fs.frobnicate path=\"x\"", "unknown call"),
    ("fs.list colour=\"red\"", "unknown argument 'colour'"),
    ("fs.list path=\"a\" path=\"b\"", "given twice"),
    ("fs.list path=", "not a JSON value"),
    ("fs.list path", "expected key=value"),
    ("fs.find size_min_bytes=\"heaps\"", "size_min_bytes"),
    ("", "empty plan"),
])
def test_parse_errors_are_typed_and_say_what(text: str, match: str) -> None:
    with pytest.raises(ModelOutputError, match=match):
        PT.parse(text, REG)


def test_grammar_compiles_in_llama_cpp_and_covers_every_call() -> None:
    llama_cpp = pytest.importorskip("llama_cpp")
    for text in (PT.grammar(REG), PT.grammar(REG, intent="rename 'Résumé (2019).PDF' to cv.pdf, pid 42"),
                 PT.grammar(REG, intent="?!", previous=False)):
        for name in REG.names():
            assert f'"{name}"' in text
        assert llama_cpp.LlamaGrammar.from_string(text, verbose=False) is not None


def test_prompt_mentions_the_previous_result_only_when_there_is_one() -> None:
    assert PT.prompt("list  files") == "request: list files\nplan:\n"
    assert PT.prompt("delete them", "fs.find 3 rows") == "request: delete them\nprevious: fs.find 3 rows\nplan:\n"


@pytest.mark.parametrize(("value", "intent", "ok"), [
    ("src", "find python files in src", True), ("~/Downloads", "clean my downloads", True),
    (".", "list files", True), ("$0.path", "delete them", True), ("/etc/shadow", "show me notes.txt", False),
    ("My Files/photo.jpg", "open 'My Files/photo.jpg'", True), ("secrets", "list files", False),
    ("/", "find files larger than 2 megabytes", False), ("/", "find files in src/", False),
    ("/", "du -sh /", True), ("/", "search the whole system for core files", True),
    ("ess essay.txt", "line count of essay.txt?", False),  # a piece of a word is not a word of the request
    ("Documents/Taxes", "lock down the taxes folder in documents", True),
    ("core.tar.gz", "tar up core", False),
    ("Downloads/*.mp3", "move the mp3s out of Downloads into Music", True),  # a plural's stem
    ("boxes/box.txt", "open box.txt in the boxes", True), ("mp", "move the mp3s", False),
])
def test_grounded_paths(value: str, intent: str, ok: bool) -> None:
    assert grounded(value, intent) is ok


def test_a_call_may_add_its_declared_suffix_to_a_name_the_request_gives() -> None:
    suffixes = REG.get("archive.create").args_schema["properties"]["path"]["x-suffixes"]
    assert grounded("core.tar.gz", "tar up core", suffixes)
    assert grounded("core.zip", "zip core", suffixes)
    assert not grounded("backup.tar.gz", "tar up core", suffixes)
    assert not grounded(".tar.gz", "tar up core", suffixes)


def test_a_root_the_request_does_not_name_is_left_out_where_the_call_allows(tmp_path: Path) -> None:
    """"find files larger than 2 megabytes" planned over "/": a read-only call looks where the person is; a
    call that needs the path refuses instead of acting on the whole machine."""
    plan = _planner('fs.find path="/" size_min_bytes="2 megabytes"').plan("find files larger than 2 megabytes",
                                                                           cwd=tmp_path)
    assert [s.to_dict() for s in plan.steps] == [{"call": "fs.find", "args": {"size_min_bytes": 2 * 1024 * 1024}}]
    plan = _planner('fs.find path="/" name="core"').plan("search the whole system for core files", cwd=tmp_path)
    assert plan.steps[0].args["path"] == "/"
    with pytest.raises(ModelOutputError, match="not something the request names"):
        _planner('fs.chmod path="/" mode="755"').plan("make it 755", cwd=tmp_path)


def _planner(*outputs: str) -> TrainedPlanner:
    return TrainedPlanner(ScriptedBackend().enqueue(*outputs), REG)


def test_v2_planner_plans_from_the_model_text(tmp_path: Path) -> None:
    planner = _planner('fs.find path="src" name="*.py" type="file"')
    plan = planner.plan("find  python files in src", cwd=tmp_path)
    assert [s.to_dict() for s in plan.steps] == [
        {"call": "fs.find", "args": {"path": "src", "name": "*.py", "type": "file"}}]
    call = planner.backend.calls[0]  # type: ignore[attr-defined]
    assert call.prompt == "request: find python files in src\nplan:\n"
    assert call.grammar == planner.grammar_for("find python files in src")


def test_v2_planner_rejects_paths_the_request_never_named(tmp_path: Path) -> None:
    with pytest.raises(ModelOutputError, match="not something the request names"):
        _planner('fs.delete path="/home/alice/.ssh"').plan("delete old.log", cwd=tmp_path)


def test_v2_planner_rejects_pids_and_ports_the_request_never_gave(tmp_path: Path) -> None:
    with pytest.raises(ModelOutputError, match="pid 1 is not a number the request gives"):
        _planner("proc.signal pid=1").plan("kill the stuck editor", cwd=tmp_path)
    with pytest.raises(ModelOutputError, match="port 80 is not"):
        _planner("proc.port port=80").plan("what is listening on 8080", cwd=tmp_path)
    plan = _planner("proc.port port=8080").plan("what is listening on 8080", cwd=tmp_path)
    assert plan.steps[0].args == {"port": 8080}


def test_v2_planner_never_guesses_a_new_owner(tmp_path: Path) -> None:
    with pytest.raises(ModelOutputError, match="user 'root' is not someone the request names"):
        _planner('fs.chown path="run.py" user="root"').plan("make run.py executable", cwd=tmp_path)
    plan = _planner('fs.chown path="run.py" user="alice"').plan("give run.py to alice", cwd=tmp_path)
    assert plan.steps[0].args == {"path": "run.py", "user": "alice"}


def test_v2_planner_rejects_a_reference_to_a_missing_result(tmp_path: Path) -> None:
    with pytest.raises(ModelOutputError, match=r"no previous|there is none"):
        _planner('fs.delete path="$prev.path"').plan("delete them", cwd=tmp_path)
    with pytest.raises(ModelOutputError, match=r"does not come before"):
        _planner('fs.delete path="$0.path"').plan("delete them", cwd=tmp_path)


def test_v2_planner_reads_step_zero_of_a_follow_up_as_the_previous_result(tmp_path: Path) -> None:
    previous = SyscallResult(request=SyscallRequest("fs.find", {"name": "*.pdf"}), status="ok",
                             data={"matches": [{"path": "a.pdf"}]})
    plan = _planner('fs.move src="$0.path" dest="docs"').plan("move them to docs", cwd=tmp_path, previous=previous)
    assert plan.steps[0].args == {"src": "$prev.path", "dest": "docs"}
    with pytest.raises(ModelOutputError, match=r"refers to step 1, which does not come before"):
        _planner('fs.list path="docs"\nfs.delete path="$1.path"').plan("delete them in docs", cwd=tmp_path,
                                                                        previous=previous)


def test_v2_planner_validates_every_step(tmp_path: Path) -> None:
    with pytest.raises(ModelOutputError, match="invalid"):
        _planner("fs.read path=\"a.txt\" head_lines=-3").plan("first lines of a.txt", cwd=tmp_path)


def test_fallback_decodes_again_under_the_grammar_only_when_the_text_strays(tmp_path: Path) -> None:
    backend = ScriptedBackend().enqueue("Sure! Here is your plan", 'fs.list path="src"', 'fs.list path="docs"')
    planner = TrainedPlanner(backend, REG, constrain="fallback")
    plan = planner.plan("list src", cwd=tmp_path)
    assert plan.steps == [PlanStep("fs.list", {"path": "src"})]
    assert [c.grammar for c in backend.calls] == [None, planner.grammar_for("list src")]
    planner.plan("list docs", cwd=tmp_path)
    assert backend.calls[-1].grammar is None  # in format the first time: no second pass


def test_grammar_lets_a_table_step_take_a_whole_result_and_nothing_else() -> None:
    g = Grammar(PT.grammar(REG))
    assert g.accepts('table.count rows="$prev"')
    assert g.accepts('fs.find\ntable.count rows="$0"')
    assert not g.accepts('fs.find\ntable.count rows="$0.path"')
    assert not g.accepts('fs.find\ntable.count rows="files"')
    (step,) = PT.parse('table.count rows="$0"', REG)
    assert step.args == {"rows": "$0"}


@pytest.mark.parametrize("value", ["1e999", "-1e999", "NaN", "Infinity", "-Infinity"])
def test_a_plan_holds_only_finite_numbers(value: str) -> None:
    with pytest.raises(ModelOutputError, match="not a JSON value"):
        PT.parse(f'fs.find path="a" mtime_max_days={value}', REG)
    (step,) = PT.parse('fs.find path="a" mtime_max_days=1.5', REG)
    assert step.args["mtime_max_days"] == 1.5


@pytest.mark.parametrize("text", ["-Infinity", "inf", "nan", "1e999", "9" * 400 + " megs", "9" * 400 + " days"])
def test_typed_values_are_finite_or_refused(text: str) -> None:
    """The typed parsers refuse what float() would turn into infinity (an OverflowError further on)."""
    for kind in (V.integer, V.number, V.size_bytes, lambda t: V.duration(t, "days")):
        with pytest.raises(ValueError):
            kind(text)
    with pytest.raises(ModelOutputError):
        PT.parse(f'sys.cpu sample_ms="{text}"', REG)


# ------------------------------------------------ strings that are not free text --
GRAMMAR = Grammar(PT.grammar(REG))


@pytest.mark.parametrize(("line", "ok"), [
    ('fs.grep pattern="noon" path="notes.md"', True),
    ('fs.grep pattern=" noon" path="notes.md"', False),   # the space-prefixed token copied from the request
    ('fs.grep pattern="noon " path="notes.md"', False),
    ('fs.grep pattern="meeting at noon"', True),           # spaces inside are the value's own
    ('fs.grep pattern=""', False),                         # minLength 1: never empty
    ('fs.grep pattern="\\tnoon"', False),                  # nor a space escaped
    ('fs.grep pattern="noon\\n"', False),
    ('fs.grep pattern="\\u0020noon"', False),
    ('fs.grep pattern="a\\tb"', True),
    ('fs.grep pattern="caf\\u00e9"', True),
    ('fs.list path=" docs"', False),
    ('fs.list limit=" five"', False),                      # a number in words is no free text either
    ('fs.list limit="five"', True),
    ('proc.run argv=["grep", "noon"]', True),
    ('proc.run argv=["grep", " noon"]', False),
    ('proc.run argv=["printf", ""]', True),                # an argument may be empty (no minLength)
    ('table.filter rows="$prev" column="user" op="eq" value=""', True),
])
def test_strings_that_are_not_free_text_neither_begin_nor_end_with_a_space(line: str, ok: bool) -> None:
    assert GRAMMAR.accepts(line) is ok


@pytest.mark.parametrize("line", [
    'answer text=" Hello there " supported=true',
    'text.prefix path="a.txt" prefix="    "',
    'text.prefix path="a.txt" prefix="# "',
    'text.replace path="a.txt" find="  " replace=" "',
    'text.replace path="a.txt" find="x" replace=""',
    'text.insert path="a.txt" text="  indented\\n"',
    'proc.run argv=["cat"] input=" a\\n"',
])
def test_free_text_keeps_its_spaces(line: str) -> None:
    assert GRAMMAR.accepts(line)


def test_free_text_is_declared_in_the_schema() -> None:
    """Which strings are free text comes from the schema (``x-text``), never from a list of calls."""
    def text_fields() -> set[str]:
        return {f"{name}.{key}" for name in REG.names()
                for key, sub in REG.get(name).args_schema.get("properties", {}).items()
                if isinstance(sub, dict) and S.is_text(sub)}
    assert {"answer.text", "text.insert.text", "text.prefix.prefix", "text.replace.find", "text.replace.replace",
            "proc.run.input"} <= text_fields()
    for name in REG.names():
        for key, sub in REG.get(name).args_schema.get("properties", {}).items():
            if sub.get("x-nlsh") in ("path", "pattern"):
                assert not S.is_text(sub), f"{name}.{key}"
    assert S.is_text(S.text()) and not S.is_text(S.string()) and S.is_text(S.regex(text=True))


def test_the_value_rule_follows_the_schema() -> None:
    reg = Registry()
    reg.syscall("demo.call", "a call for the grammar", args=S.obj({
        "name": S.string(min_length=1), "label": S.string(), "body": S.text(), "tags": S.array(S.string()),
        "notes": S.array(S.text()),
    }), result=S.obj({}), capability="demo", risk=Risk.READ)(lambda ctx, args: {})
    g = PT.grammar(reg)
    assert '(" name=" tstr)?' in g and '(" label=" tstr0)?' in g and '(" body=" str)?' in g
    assert '(" tags=" ("[" tstr0 ("," " "? tstr0)* "]"))?' in g
    assert '(" notes=" ("[" str ("," " "? str)* "]"))?' in g
    gram = Grammar(g)
    assert gram.accepts('demo.call name="x" label="" body=" "')
    assert not gram.accepts('demo.call name=""')
    assert not gram.accepts('demo.call label=" x"')


def test_the_grammar_with_trimmed_strings_compiles_in_llama_cpp() -> None:
    llama_cpp = pytest.importorskip("llama_cpp")
    for rule in ("tstr", "tstr0", "str"):
        text = f'root ::= {rule}\n' + PT._COMMON
        assert llama_cpp.LlamaGrammar.from_string(text, verbose=False) is not None


# ------------------------------------------------ enum values the request asks for --
SIGNAL = REG.get("proc.signal").args_schema["properties"]["signal"]


@pytest.mark.parametrize(("request_text", "value", "asked"), [
    ("terminate process 4242", "STOP", False),
    ("terminate process 4242", "TERM", True),             # the default needs no word
    ("stop process 4242", "STOP", False),                 # "stop" means TERM, as the corpus has it
    ("kill process 4242", "KILL", False),                 # and so does a bare "kill"
    ("pause process 4242", "STOP", True),
    ("Suspend PID 4242", "STOP", True),
    ("kill -STOP 4242", "STOP", True),
    ("puase process 4242", "STOP", True),                 # one slip of the fingers
    ("pass process 4242", "STOP", False),                 # ... but not another word
    ("force kill 4242", "KILL", True),
    ("kill -9 4242", "KILL", True),
    ("kill -9 4242", "kill", True),
    ("send SIGHUP to 4242", "HUP", True),
    ("tell 4242 to reload its config", "HUP", True),
    ("Rseume 4242", "CONT", True),
    ("kill that process 4242", "CONT", False),
    ("interrupt 4242", "INT", True),
    ("send usr1 to 4242", "USR1", True),
])
def test_a_signal_is_one_the_request_asks_for(request_text: str, value: str, asked: bool) -> None:
    assert S.asks_for(SIGNAL, value, request_text) is asked


def test_enum_words_name_values_the_enum_has() -> None:
    with pytest.raises(ValueError, match="NOPE"):
        S.enum(["a", "b"], words={"NOPE": ["x"]})


@pytest.mark.parametrize(("intent", "args"), [
    ("terminate process 4242", {"pid": 4242}),
    ("pause process 4242", {"pid": 4242, "signal": "STOP"}),
    ("force kill 4242", {"pid": 4242, "signal": "KILL"}),
])
def test_v2_planner_drops_a_signal_the_request_does_not_ask_for(tmp_path: Path, intent: str,
                                                                 args: dict[str, Any]) -> None:
    sig = args.get("signal", "STOP")
    plan = _planner(f'proc.signal pid=4242 signal="{sig}"').plan(intent, cwd=tmp_path)
    assert plan.steps == [PlanStep("proc.signal", args)]


def test_a_required_value_the_request_does_not_ask_for_is_a_model_error() -> None:
    reg = Registry()
    reg.syscall("demo.mode", "a call with a required enum", args=S.obj({
        "mode": S.enum(["fast", "slow"], words={"slow": ["slow", "slowly"]}),
        "colour": S.enum(["red", "blue"], words={"blue": ["blue"]}),
    }, required=["mode"]), result=S.obj({}), capability="demo", risk=Risk.READ)(lambda ctx, args: {})
    steps = [PlanStep("demo.mode", {"mode": "fast", "colour": "blue"})]
    assert drop_unasked(steps, reg, "do it fast") == [PlanStep("demo.mode", {"mode": "fast"})]
    assert drop_unasked(steps, reg, "do it fast in blue") == steps
    with pytest.raises(ModelOutputError, match="mode 'slow' is not something the request asks for"):
        drop_unasked([PlanStep("demo.mode", {"mode": "slow"})], reg, "do it fast")


# ------------------------------------------------------------ worked examples (a model without the adapter)
def test_a_grounded_grammar_takes_only_the_requests_words_for_a_path_and_ends_at_the_blank_line() -> None:
    g = Grammar(PT.grammar(REG, end="\n\n", intent="list the files in build"))
    assert g.accepts('fs.list path="build"\n\n')
    assert g.accepts('fs.find path="." name="*.o"\nfs.delete path="$0.path"\n\n')
    assert not g.accepts('fs.list path="release"\n\n')  # a name copied from an example
    assert not g.accepts('fs.list path="build"')  # a plan shown by examples ends where they do
    assert not g.accepts('fs.grep pattern="release" path="build"\n\n')  # nor text to look for


@pytest.mark.parametrize(("plan", "ok"), [
    ('fs.grep pattern="WARN" path="logs/app.log"', True),
    ('fs.grep pattern="warn" path="logs/app.log" ignore_case=true', True),     # any case
    ('fs.grep pattern="WARNING" path="logs/app.log"', False),                  # a longer word than the request's
    ('fs.grep pattern="^WARN [0-9]+\\\\.log$" path="logs"', True),          # digits, spaces, escapes
    ('fs.grep pattern="^\\\\d+$" path="logs"', True),
    ('fs.grep pattern="ERROR" path="logs"', False),
    ('fs.grep pattern=" WARN" path="logs"', False),                            # no space around it
    ('fs.grep pattern="[ \\t]+$" path="logs"', True),                          # but between its pieces
    ('fs.find path="logs" name="*.py"', True),                                 # a wildcard is not grounded
    ('text.count path="logs/app.log" pattern="WARN"', True),
])
def test_text_to_look_for_is_the_requests_own(plan: str, ok: bool) -> None:
    """A regular expression (``x-nlsh: regex``) is made of the request's words, like a path: "lines with
    WARN" never becomes a search for WARNING; the check after decoding (for servers without grammars)
    agrees with the grammar."""
    intent = "find lines with WARN in logs/app.log"
    assert Grammar(PT.grammar(REG, intent=intent, previous=False)).accepts(plan) is ok
    steps = PT.parse(plan, REG, intent=intent)
    for step in steps:
        for key in PT.pattern_keys(REG.get(step.call)):
            if key in step.args:
                assert PT.pattern_grounded(step.args[key], intent) is ok


def test_a_plan_searching_for_text_the_request_does_not_give_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelOutputError, match="'WARNING' is not text the request gives"):
        _planner('fs.grep pattern="WARNING" path="app.log"').plan("lines with WARN in app.log", cwd=tmp_path)
    plan = _planner('fs.grep pattern="WARN" path="app.log"').plan("lines with WARN in app.log", cwd=tmp_path)
    assert plan.steps[0].args["pattern"] == "WARN"


@pytest.mark.parametrize(("plan", "ok"), [
    ('fs.copy src="essay.txt" dest="essay-backup.txt"', True),
    ('fs.copy src="Essay.TXT" dest="~/backup/essay-backup.txt"', True),  # any case, joined by punctuation
    ('fs.copy src="essay.txt" dest="essheet-backup.txt"', False),       # misspelt: not a word of the request
    ('fs.copy src="ess essay.txt" dest="backup"', False),                # a piece of a word
    ('fs.copy src="essay.txt" dest="essay backup"', True),               # words joined by a space
    ('fs.copy src=" essay.txt" dest="backup"', False),
    ('fs.copy src="essay.txt" dest="/"', True),                           # "/" is checked after decoding
    ('fs.copy src="essay.txt" dest="$0.path"', False),                   # step 0 has nothing before it
    ('fs.copy src="essay.txt" dest="$prev.path"', False),                # and there is no previous result
    ('fs.mkdir path="backup"\nfs.copy src="essay.txt" dest="$0.path"', True),
    ('fs.mkdir path="backup"\nfs.copy src="essay.txt" dest="$1.path"', False),  # a step refers to itself
    ('table.sort rows="$0" by="size"', False),                            # rows from no step
    ('fs.find\ntable.sort rows="$0" by="size"\ntable.limit rows="$1" first=3', True),
    ('fs.find\ntable.sort rows="$0" by="size"\ntable.limit rows="$2" first=3', False),
    ('archive.create path="essay.txt.tar.gz" sources=["essay.txt"]', True),  # the call's own suffix
    ('fs.copy src="essay.txt.tar.gz" dest="backup"', False),              # only where the call declares it
    ('fs.copy src="essays/*.txt" dest="backup"', False),                  # "essays" is no word of the request
])
def test_the_grammar_for_a_request_holds_its_words_and_earlier_steps(plan: str, ok: bool) -> None:
    g = Grammar(PT.grammar(REG, intent="cp essay.txt to backup/essay-backup.txt", previous=False))
    assert g.accepts(plan) is ok


def test_a_path_may_take_the_stem_of_a_plural_the_request_uses() -> None:
    g = Grammar(PT.grammar(REG, intent="move the mp3s out of Downloads into Music", previous=False))
    assert g.accepts('fs.move src="Downloads/*.mp3" dest="Music"')
    assert not g.accepts('fs.move src="Downloads/*.mp" dest="Music"')
    assert PT.path_words("the mp3s and boxes") == {"the", "mp3s", "mp3", "and", "boxes", "boxe", "box"}


def test_pids_and_ports_are_numbers_the_request_gives_or_references() -> None:
    g = Grammar(PT.grammar(REG, intent="kill 4242 and whatever is on 8080", previous=True))
    assert g.accepts("proc.signal pid=4242")
    assert not g.accepts("proc.signal pid=4243")
    assert g.accepts('proc.signal pid="$prev.pid"')
    assert g.accepts('proc.port port=8080\nproc.signal pid="$0.pid"')
    assert not g.accepts("proc.port port=80")
    none = Grammar(PT.grammar(REG, intent="kill the server", previous=False))
    assert not none.accepts("proc.signal pid=1")
    assert none.accepts('proc.list name="server"\nproc.signal pid="$0.pid"')


def test_with_shots_the_prompt_holds_the_nearest_examples_then_the_request(tmp_path: Path) -> None:
    planner = TrainedPlanner(ScriptedBackend().enqueue('fs.find path="build" name="*.tmp"\nfs.delete path="$0.path"'),
                             REG, shots=4)
    assert planner.kind == "shots"
    plan = planner.plan("find the .tmp files under build and remove them", cwd=tmp_path)
    assert [s.call for s in plan.steps] == ["fs.find", "fs.delete"]
    call = planner.backend.calls[0]  # type: ignore[attr-defined]
    blocks = call.prompt.split("\n\n")
    assert call.prompt.startswith(SHOTS_HEAD)
    assert call.prompt.endswith("request: find the .tmp files under build and remove them\nplan:\n")
    assert call.prompt.count("request: ") == 5
    assert "$prev" not in call.prompt  # no follow-up example without a previous result
    assert "find the .tmp files under build and delete them" in blocks[-2]  # the nearest goes last
    assert Grammar(call.grammar).accepts(plan.raw + "\n\n")


@pytest.mark.parametrize(("intent", "raw", "want"), [
    ("delete todo.md in ~/Downloads", 'fs.delete path="todo.md"\nfs.delete path="~/Downloads/todo.md"',
     [("fs.delete", {"path": "~/Downloads/todo.md"})]),                   # the model's double delete
    ("remove notes.txt from the docs folder", 'fs.delete path="notes.txt"',
     [("fs.delete", {"path": "docs/notes.txt"})]),
    ("delete todo.md", 'fs.delete path="todo.md"', [("fs.delete", {"path": "todo.md"})]),
    ("grep error in app.log", 'fs.grep pattern="error" path="app.log"',
     [("fs.grep", {"pattern": "error", "path": "app.log"})]),
])
def test_a_file_the_request_places_in_a_folder_is_that_folders(tmp_path: Path, intent: str, raw: str,
                                                                want: list[tuple[str, dict[str, Any]]]) -> None:
    plan = _planner(raw).plan(intent, cwd=tmp_path)
    assert [(s.call, s.args) for s in plan.steps] == want


@pytest.mark.parametrize(("intent", "follows"), [
    ("delete them", True), ("ok kill that", True), ("and how big are those?", True), ("delete the lot", True),
    ("make it read-only", True), ("show me the first one", True), ("how many is that?", True),
    ("how much memory is left", False), ("list the files in docs", False), ("find the log files", False),
])
def test_the_previous_result_is_in_the_prompt_only_when_the_request_points_back(tmp_path: Path, intent: str,
                                                                               follows: bool) -> None:
    previous = SyscallResult(request=SyscallRequest("fs.find", {"name": "*.log"}), status="ok",
                             data={"matches": [{"path": "a.log"}]})
    planner = _planner('answer text="ok"')
    planner.plan(intent, cwd=tmp_path, previous=previous)
    prompt = planner.backend.calls[0].prompt  # type: ignore[attr-defined]
    assert ("previous: fs.find 1 rows" in prompt) is follows


def test_a_pronoun_written_as_a_path_in_a_follow_up_is_the_previous_results_paths(tmp_path: Path) -> None:
    found = SyscallResult(request=SyscallRequest("fs.find", {"name": "*.pdf"}), status="ok",
                          data={"matches": [{"path": "Downloads/invoice.pdf"}]})
    plan = _planner('fs.move src="it" dest="My Documents"').plan("move it to My Documents", cwd=tmp_path,
                                                                 previous=found)
    assert plan.steps[0].args == {"src": "$prev.path", "dest": "My Documents"}
    read = SyscallResult(request=SyscallRequest("fs.read", {"path": "todo.txt"}), status="ok",
                         data={"path": "todo.txt", "content": "buy milk\n"})
    plan = _planner('fs.append path="it" content="water plants"').plan("add 'water plants' to it", cwd=tmp_path,
                                                                      previous=read)
    assert plan.steps[0].args["path"] == "$prev.path"
    procs = SyscallResult(request=SyscallRequest("proc.list", {}), status="ok", data={"processes": [{"pid": 1}]})
    plan = _planner('fs.read path="it"').plan("show it", cwd=tmp_path, previous=procs)
    assert plan.steps[0].args["path"] == "it"  # no paths to point at: left as written (and it will not exist)


def test_a_whole_result_in_a_path_or_pid_argument_means_its_paths_or_pids(tmp_path: Path) -> None:
    found = SyscallResult(request=SyscallRequest("fs.find", {"name": "*.log"}), status="ok",
                          data={"matches": [{"path": "a.log"}]})
    plan = _planner('fs.move src="$prev" dest="/tmp"').plan("move them to /tmp", cwd=tmp_path, previous=found)
    assert plan.steps[0].args == {"src": "$prev.path", "dest": "/tmp"}
    plan = _planner('proc.list name="sleep"\nproc.signal pid="$0"').plan("stop every sleep process", cwd=tmp_path)
    assert plan.steps[1].args["pid"] == "$0.pid"


@pytest.mark.parametrize(("intent", "back"), [
    ("delete them", True), ("delete em", True), ("zip 'em up", True), ("how big are those", True),
    ("kill that", True), ("sort the biggest ones first", True), ("delete the oldest one", True),
    ("show the emails folder", False), ("list my documents", False), ("what time is it", True),
])
def test_what_points_back_at_the_previous_result(intent: str, back: bool) -> None:
    """Only a request that points back gets the previous result ("delete em" after a search does)."""
    assert PT.refers_back(intent) is back


@pytest.mark.parametrize(("plan", "ok"), [
    ('fs.chmod path="todo.txt" mode="g+w"', True), ('fs.chmod path="todo.txt" mode="755"', True),
    ('fs.chmod path="todo.txt" mode="rwxr-xr-x"', True), ('fs.chmod path="todo.txt" mode="write"', False),
    ('fs.chmod path="todo.txt" mode="gw"', False), ('fs.chmod path="todo.txt" mode="u+rw-x,o="', True),
    ('fs.find perm="644"', True), ('fs.find perm="64444"', False), ('fs.find perm="rw"', False),
])
def test_a_mode_is_one_that_parses_and_a_perm_is_made_of_its_character_class(plan: str, ok: bool) -> None:
    """A chmod mode is written in one of the forms ``syscalls.modes`` parses (its ``x-gbnf``), so "give the
    group write permission" never becomes mode="write" or "gw"; a find perm is made of its pattern's
    character class; other patterns are left to validation."""
    g = Grammar(PT.grammar(REG, intent="give the group write permission on todo.txt", previous=False))
    assert g.accepts(plan) is ok
    if plan.startswith("fs.chmod"):
        mode = plan.split('mode="')[1].rstrip('"')
        try:
            parse_mode(mode)
            parses = True
        except InvalidRequest:
            parses = False
        assert parses is ok
    assert PT._class_rule(r"^\.?[^/\x00]*$") is None


# ------------------------------------------------------------ GBNF literals
def test_literal_escapes_quotes_backslashes_and_control_characters() -> None:
    assert PT.literal('a"b\\c') == '"a\\"b\\\\c"'
    assert PT.literal("a\nb\tc\x01") == '"a\\nb\\tc\\x01"'


def test_literal_compiles_in_llama_cpp() -> None:
    llama_cpp = __import__("llama_cpp")
    text = "root ::= " + PT.literal('a "b c" d\\e\n') + "\n"
    assert llama_cpp.LlamaGrammar.from_string(text, verbose=False) is not None
