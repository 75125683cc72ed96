from __future__ import annotations

from models import grammar as G


def test_literal_escapes_quotes_backslashes_and_control_characters() -> None:
    assert G.literal('a"b\\c') == '"a\\"b\\\\c"'
    assert G.literal("a\nb\tc\x01") == '"a\\nb\\tc\\x01"'


def test_literal_compiles_in_llama_cpp() -> None:
    llama_cpp = __import__("llama_cpp")
    text = "root ::= " + G.literal('a "b c" d\\e\n') + "\n"
    assert llama_cpp.LlamaGrammar.from_string(text, verbose=False) is not None
