from __future__ import annotations

from model_fixtures import small_registry

from models import prompts as P
from models.examples import Bank, Shot


def test_static_prefix_lists_every_call_and_is_stable() -> None:
    reg = small_registry()
    a = P.static_prefix(reg)
    assert a == P.static_prefix(reg)
    for name in reg.names():
        assert f"- {name}: " in a
    assert a.endswith("\n\n")


def test_shots_render_nearest_last_and_multi_step() -> None:
    shot = Shot("kill it on 80", (("proc.port", {"port": 80}), ("proc.signal", {"pid": "$0.pid"})))
    assert P.render_shot(shot) == (
        'Request: kill it on 80\nCall: proc.port+proc.signal\nArgs: {"port": 80}\n'
        'Args: {"pid": "$0.pid"}\n\n')
    prompt = P.build("PREFIX\n", [shot], "  find   logs ", previous="fs.find")
    assert prompt.endswith("Args: {\"pid\": \"$0.pid\"}\n\nPrevious: fs.find\nRequest: find logs\nCall:")


def test_retrieval_puts_the_nearest_last() -> None:
    bank = Bank([Shot("list the directory", (("fs.list", {"path": "."}),)),
                 Shot("find python files", (("fs.find", {"path": ".", "name": "*.py"}),)),
                 Shot("who listens on port 80", (("proc.port", {"port": 80}),))])
    for method in ("bm25", "ngram"):
        got = bank.nearest("which process is on port 443", k=2, method=method)
        assert got[-1].intent == "who listens on port 80"
    follow = Shot("delete them", (("fs.delete", {"path": "$prev.path"}),), previous="fs.find")
    bank2 = Bank([*bank.shots, follow])
    assert follow not in bank2.nearest("delete them", k=4)  # follow-ups only with a previous result
    assert bank2.nearest("delete them", k=4, previous="fs.find")[-1] == follow
