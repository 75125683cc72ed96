from __future__ import annotations

import json

from models import grammar as G
from syscalls import schema as S


def test_literal_escapes_quotes_and_backslashes() -> None:
    assert G.literal('a"b\\c') == '"a\\"b\\\\c"'
    assert G.json_literal("x") == '"\\"x\\""'


def test_call_grammar_is_a_sorted_choice() -> None:
    g = G.call_grammar(["fs.list", "fs.find", "fs.list"], lead=" ")
    assert g == 'root ::= " " ("fs.find" | "fs.list") "\\n"\n'


def test_intent_spans_are_whole_word_runs() -> None:
    spans = G.intent_spans('find "my file.txt" in /tmp.', max_words=2)
    assert "/tmp" in spans and "my file.txt" in spans and "in /tmp" in spans
    assert "file" not in spans  # never a part of a word
    assert "find my file.txt" not in spans  # longer than max_words


def test_args_grammar_closed_object_in_schema_order() -> None:
    sch = S.obj({"path": S.path(), "type": S.enum(["file", "dir"]), "hidden": S.boolean()}, required=["path"])
    g = G.args_grammar(sch, intent="list /etc", grounded=True)
    assert 'args-f0 ::= "\\"path\\"" ": " args-path args-r1\n' in g  # path is required: no skip branch
    assert "args-f1 ::= " in g and "| args-f2" in g  # type is optional
    assert '("\\"file\\"" | "\\"dir\\"")' in g
    assert '"\\"/etc\\""' in g and '"\\".\\""' in g and '"\\"~\\""' in g


def test_grounded_integer_offers_only_normalised_values() -> None:
    sch = S.obj({"size_min_bytes": S.integer(minimum=0)}, required=["size_min_bytes"])
    g = G.args_grammar(sch, choices={"size_min_bytes": [10485760, "$0.size"]})
    line = next(x for x in g.splitlines() if x.startswith("args-size-min-bytes ::="))
    assert line == 'args-size-min-bytes ::= ("10485760" | "\\"$0.size\\"")'


def test_ungrounded_string_is_free() -> None:
    sch = S.obj({"path": S.path()}, required=["path"])
    g = G.args_grammar(sch, intent="x", grounded=False)
    assert "args-f0 ::= \"\\\"path\\\"\" \": \" string" in g
    assert "string ::=" in g


def test_refs_are_offered_for_paths() -> None:
    sch = S.obj({"path": S.path()}, required=["path"])
    g = G.args_grammar(sch, intent="delete them", refs=["$prev.path"])
    assert json.dumps("$prev.path").replace('"', '\\"') in g


def test_grammars_compile_in_llama_cpp() -> None:
    llama_cpp = __import__("llama_cpp")
    sch = S.obj({"path": S.path(), "n": S.integer(), "tags": S.array(S.string())}, required=["path"])
    for text in (G.args_grammar(sch, intent='a "b c" d\\e', choices={"n": [3]}), G.call_grammar(["a.b"])):
        assert llama_cpp.LlamaGrammar.from_string(text, verbose=False) is not None
