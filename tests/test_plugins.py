"""Plugins load through entry points; a broken one is reported and skipped.

The plugins here are real distributions: a package and its ``.dist-info``
(METADATA + entry_points.txt) written into a temporary directory that is put
on ``sys.path``, which is what ``pip install --target`` produces.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from nlshell.plugins_cmd import plugin_report, render
from syscalls.builtin import answer
from syscalls.dispatcher import Dispatcher
from syscalls.registry import Registry, load_plugins
from syscalls.validate import validate

GROUP = "nlshell.syscalls.testing"

GOOD = '''
from syscalls import schema as S
from syscalls.types import Risk, View

def register(registry):
    @registry.syscall("demo.echo", "Echo the text back.",
                      args=S.obj({"text": S.string(min_length=1)}, required=["text"]),
                      result=S.obj({"text": S.string()}), capability="fs.read", risk=Risk.READ,
                      view=View("record"), plugin="demo-good")
    def echo(ctx, args):
        return {"text": args["text"]}
'''

BROKEN_IMPORT = "raise ImportError('needs a library that is not installed')\n"

BROKEN_REGISTER = '''
from syscalls import schema as S
from syscalls.types import Risk

def register(registry):
    @registry.syscall("demo.half", "Registered before the failure.", args=S.obj({}),
                      result=S.obj({}), capability="fs.read", risk=Risk.READ)
    def half(ctx, args):
        return {}
    raise RuntimeError("plugin bug")
'''

CLASH = '''
from syscalls.builtin import answer

def register(registry):
    answer.register(registry)   # "answer" is already a built-in
'''


def make_dist(site: Path, dist: str, module: str, source: str, group: str = GROUP,
              ep_name: str | None = None) -> None:
    (site / f"{module}.py").write_text(source)
    info = site / f"{dist.replace('-', '_')}-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text(f"[{group}]\n{ep_name or module} = {module}:register\n")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Path]:
    site = tmp_path / "site"
    site.mkdir()
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    yield site
    sys.path.remove(str(site))
    for mod in ("demo_good", "demo_broken_import", "demo_broken_register", "demo_clash"):
        sys.modules.pop(mod, None)
    importlib.invalidate_caches()


def base_registry() -> Registry:
    reg = Registry()
    answer.register(reg)
    return reg


def test_good_plugin_goes_through_validation_and_dispatch(site: Path, tmp_path: Path) -> None:
    make_dist(site, "demo-good", "demo_good", GOOD)
    reg = base_registry()
    assert load_plugins(reg, group=GROUP) == ["demo_good"]
    assert "demo.echo" in reg and reg.plugin_errors == []
    req = validate('{"call": "demo.echo", "args": {"text": "hi"}}', reg)
    res = Dispatcher(reg).handle(req, tmp_path)
    assert res.ok and res.data == {"text": "hi"}
    assert any(s.get("title") == "demo.echo" for s in reg.json_schema()["oneOf"])


def test_broken_plugins_are_reported_and_skipped(site: Path) -> None:
    make_dist(site, "demo-good", "demo_good", GOOD)
    make_dist(site, "demo-broken-import", "demo_broken_import", BROKEN_IMPORT)
    make_dist(site, "demo-broken-register", "demo_broken_register", BROKEN_REGISTER)
    reg = base_registry()
    loaded = load_plugins(reg, group=GROUP)
    assert loaded == ["demo_good"]
    errors = dict(reg.plugin_errors)
    assert errors["demo_broken_import"] == "ImportError: needs a library that is not installed"
    assert errors["demo_broken_register"] == "RuntimeError: plugin bug"
    # the half-registered call of the failing plugin was rolled back
    assert "demo.half" not in reg and "demo.echo" in reg and "answer" in reg


def test_plugin_report(site: Path) -> None:
    make_dist(site, "demo-good", "demo_good", GOOD)
    make_dist(site, "demo-broken-register", "demo_broken_register", BROKEN_REGISTER)
    make_dist(site, "demo-clash", "demo_clash", CLASH)
    report = {p.name: p for p in plugin_report(GROUP, builtins=base_registry())}
    good = report["demo_good"]
    assert (good.distribution, good.version, good.syscalls, good.ok) == ("demo-good", "1.2.3",
                                                                          ("demo.echo",), True)
    bad = report["demo_broken_register"]
    assert not bad.ok and bad.error == "RuntimeError: plugin bug" and bad.syscalls == ()
    assert report["demo_clash"].conflicts == ("answer",)
    assert bad.to_dict()["ok"] is False

    from rich.console import Console

    console = Console(width=160, record=True, color_system=None)
    console.print(render(list(report.values())))
    text = console.export_text()
    assert "demo.echo" in text and "RuntimeError: plugin bug" in text and "conflicts" in text


def test_broken_plugin_in_the_real_group(site: Path) -> None:
    make_dist(site, "demo-broken-import", "demo_broken_import", BROKEN_IMPORT, group="nlshell.syscalls")
    reg = base_registry()
    load_plugins(reg)
    assert ("demo_broken_import", "ImportError: needs a library that is not installed") in reg.plugin_errors
    names = [p.name for p in plugin_report() if not p.ok]
    assert "demo_broken_import" in names


def test_installed_git_plugin_is_listed() -> None:
    report = {p.name: p for p in plugin_report()}
    if "git" not in report:
        pytest.skip("nlshell-git is not installed (pip install -e plugins/nlshell-git)")
    git = report["git"]
    assert git.ok and git.distribution == "nlshell-git"
    assert git.syscalls == ("git.branches", "git.log", "git.status")
