"""models.locate: loosely named paths found in real temporary trees, and the located plans run for real."""

from __future__ import annotations

from pathlib import Path

import pytest
from model_devtree import execute, sandboxed
from rich.console import Console

from models.locate import BUDGET, locate
from models.plan import Plan, PlanStep
from nlshell import render
from syscalls.registry import default_registry

REG = default_registry()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A lived-in home, which is also the working directory unless a test says otherwise."""
    h = tmp_path / "home"
    for rel in ["Downloads/ubuntu.iso", "Downloads/a.png", "Desktop/shot 1.png", "Desktop/shot 2.png",
                "Desktop/notes.txt", "projects/scraper/scrape.py", "projects/webapp/.env", "logs/nginx/access.log",
                "Documents/notes.txt", "node_modules/left-pad/index.js", "tmp/a.tmp", "tmp/b.tmp", "tmp/keep.txt"]:
        p = h / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(rel + "\n")
    monkeypatch.setenv("HOME", str(h))
    return h


def one(call: str, **args: object) -> list[PlanStep]:
    return [PlanStep(call, dict(args))]


def test_letter_case_is_taken_from_what_is_there(home: Path) -> None:
    got = locate(one("fs.find", path="downloads", name="*.pdf"), REG, home)
    assert got.steps == one("fs.find", path="Downloads", name="*.pdf")
    assert got.notes == ["downloads → Downloads"]
    got = locate(one("fs.read", path="~/documents/NOTES.txt"), REG, home / "Desktop")
    assert got.steps == one("fs.read", path="~/Documents/notes.txt")


def test_shell_options_copied_into_a_path_are_cut_off(home: Path) -> None:
    found = locate(one("fs.tree", path="projects -L 2"), REG, home)
    assert found.steps == one("fs.tree", path="projects") and found.notes == ["projects -L 2 → projects"]
    assert locate(one("fs.list", path="nowhere -la"), REG, home).steps == one("fs.list", path="nowhere -la")
    assert locate(one("fs.delete", path="tmp/a.tmp -f"), REG, home).steps == one("fs.delete", path="tmp/a.tmp")


def test_my_and_the_before_a_name_are_dropped(home: Path) -> None:
    found = locate(one("fs.du", path="my projects", depth=1), REG, home)
    assert found.steps == one("fs.du", path="projects", depth=1) and found.notes == ["my projects → projects"]
    assert locate(one("fs.list", path="the downloads"), REG, home).steps == one("fs.list", path="Downloads")
    assert locate(one("fs.read", path="the scraper/scrape.py"), REG, home).steps == \
        one("fs.read", path="projects/scraper/scrape.py")
    assert locate(one("fs.delete", path="my tmp"), REG, home).steps == one("fs.delete", path="my tmp")  # as said
    (home / "the end").mkdir()
    assert locate(one("fs.list", path="the end"), REG, home).steps == one("fs.list", path="the end")


def test_a_name_is_found_where_it_is_when_it_is_in_one_place(home: Path) -> None:
    got = locate(one("fs.copy", src="scraper", dest="~/backup/scraper"), REG, home)
    assert got.steps == one("fs.copy", src="projects/scraper", dest="~/backup/scraper")
    assert locate(one("fs.read", path="webapp/.env"), REG, home).steps == one("fs.read", path="projects/webapp/.env")
    assert locate(one("fs.grep", pattern="timed out", path="nginx"), REG, home).steps == \
        one("fs.grep", pattern="timed out", path="logs/nginx")
    # from a working directory elsewhere, the home directory is looked in next, and written with ~
    work = home / "projects" / "webapp"
    assert locate(one("fs.stat", path="ubuntu.iso"), REG, work).steps == one("fs.stat", path="~/Downloads/ubuntu.iso")


def test_nothing_is_guessed(home: Path) -> None:
    """Two notes.txt: the plan stays as written (and fails with the call's own error); a name inside a
    dependency folder, an absolute path and a parent reference are never looked for."""
    for steps in (one("fs.read", path="notes.txt"), one("fs.read", path="index.js"), one("fs.list", path="~downloads"),
                  one("fs.read", path="/nope/notes.txt"), one("fs.read", path="../ubuntu.iso"),
                  one("fs.read", path="$prev.path")):
        got = locate(steps, REG, home)
        assert got.steps == steps and got.notes == []


def test_what_a_call_creates_is_never_moved_elsewhere(home: Path) -> None:
    """fs.write's path, a copy's destination and a link's target may name what is not there yet."""
    for steps in (one("fs.write", path="scrape.py", content="x"), one("fs.copy", src="Downloads/a.png", dest="a.png"),
                  one("fs.symlink", path="Desktop/iso", target="ubuntu.iso"), one("fs.mkdir", path="nginx")):
        assert locate(steps, REG, home).steps == steps


def test_a_delete_acts_only_where_the_request_says(home: Path) -> None:
    assert locate(one("fs.delete", path="ubuntu.iso"), REG, home).steps == one("fs.delete", path="ubuntu.iso")
    assert locate(one("fs.delete", path="downloads/UBUNTU.iso"), REG, home).steps == \
        one("fs.delete", path="Downloads/ubuntu.iso")
    # nor the folder of a wildcard: nginx/*.log is not logs/nginx/*.log for a delete (it is for a read)
    assert locate(one("fs.delete", path="nginx/*.log"), REG, home).steps == one("fs.delete", path="nginx/*.log")
    assert locate(one("fs.chmod", path="nginx/*.log", mode="600"), REG, home).steps[0] == \
        PlanStep("fs.find", {"path": "logs/nginx", "name": "*.log", "min_depth": 1, "max_depth": 1})


def test_a_wildcard_becomes_a_find_step_and_later_references_move_on(home: Path) -> None:
    steps = [PlanStep("fs.copy", {"src": "desktop/*.png", "dest": "Downloads"}),
             PlanStep("fs.stat", {"path": "$0.dest"})]
    got = locate(steps, REG, home)
    assert got.steps == [
        PlanStep("fs.find", {"path": "Desktop", "name": "*.png", "min_depth": 1, "max_depth": 1}),
        PlanStep("fs.copy", {"src": "$0.path", "dest": "Downloads"}),
        PlanStep("fs.stat", {"path": "$1.dest"})]
    assert got.notes == ["desktop/*.png → each match of *.png in Desktop"]
    # a literal name with a star that is there is left alone
    (home / "a*b").write_text("odd name")
    assert locate(one("fs.read", path="a*b"), REG, home).steps == one("fs.read", path="a*b")


def test_a_folder_given_to_a_file_reader_is_listed(home: Path) -> None:
    """"what's in downloads" planned as a read (or an archive listing) lists the folder; a file stays a read."""
    for call in ("fs.read", "archive.list"):
        found = locate(one(call, path="downloads"), REG, home)
        assert found.steps == one("fs.list", path="Downloads"), call
        assert found.notes == ["downloads → Downloads", "Downloads is a folder → fs.list"]
    assert locate(one("fs.read", path="Desktop/notes.txt", head_lines=3), REG, home).steps == \
        one("fs.read", path="Desktop/notes.txt", head_lines=3)
    assert locate(one("fs.read", path="$0.path"), REG, home).steps == one("fs.read", path="$0.path")
    ex = execute(Plan("t", locate(one("fs.read", path="projects"), REG, home).steps), sandboxed(REG, home, set()),
                 home)
    assert ex.ok and sorted(r["name"] for r in ex.results[0].data["entries"]) == ["scraper", "webapp"]


def test_located_plans_run_in_the_sandbox(home: Path) -> None:
    """The plans the lookup writes do what was asked: the pngs move, the temp files go (and nothing else)."""
    disp = sandboxed(REG, home, set())
    for steps in ([PlanStep("fs.move", {"src": "Desktop/*.png", "dest": "Downloads"})],
                  [PlanStep("fs.delete", {"path": "tmp/*.tmp"})],
                  [PlanStep("fs.copy", {"src": "scraper", "dest": "backup", "recursive": True})]):
        plan = Plan("t", locate(steps, REG, home).steps)
        ex = execute(plan, disp, home)
        assert ex.ok, ex.results
    assert sorted(p.name for p in (home / "Downloads").iterdir()) == ["a.png", "shot 1.png", "shot 2.png",
                                                                     "ubuntu.iso"]
    assert not list((home / "Desktop").glob("*.png")) and (home / "Desktop" / "notes.txt").exists()
    assert sorted(p.name for p in (home / "tmp").iterdir()) == ["keep.txt"]
    assert (home / "backup" / "scrape.py").read_text() == "projects/scraper/scrape.py\n"


def test_the_lookup_is_bounded(home: Path) -> None:
    wide = home / "wide"
    wide.mkdir()
    for i in range(BUDGET + 10):
        (wide / f"f{i}").mkdir()
    (wide / f"f{BUDGET + 5}" / "deep.txt").write_text("x")
    assert locate(one("fs.read", path="deep.txt"), REG, home).notes == []


def test_the_plan_shows_what_was_found(home: Path) -> None:
    found = locate(one("fs.list", path="downloads"), REG, home)
    plan = Plan("what's in downloads", found.steps, located=found.notes)
    console = Console(width=100, record=True)
    console.print(render.plan(plan, plain=True))
    text = console.export_text()
    assert "found: downloads → Downloads" in text
    assert plan.to_dict()["located"] == ["downloads → Downloads"]
    assert "located" not in Plan("x", one("fs.list")).to_dict()


def test_a_name_without_its_extension_is_the_one_entry_with_that_stem_or_extension(home: Path) -> None:
    """"the readme", "the iso in downloads", "the conf file": one entry of the folder, else nothing."""
    (home / "docs").mkdir()
    (home / "docs" / "readme.md").write_text("hi\n")
    (home / "docs" / "README.old.txt").write_text("old\n")
    (home / "conf").mkdir()
    (home / "conf" / "app.conf").write_text("x=1\n")
    assert locate(one("fs.stat", path="downloads/iso"), REG, home).steps == one("fs.stat", path="Downloads/ubuntu.iso")
    assert locate(one("fs.read", path="conf/conf"), REG, home).steps == one("fs.read", path="conf/app.conf")
    got = locate(one("fs.delete", path="Downloads/iso"), REG, home)  # in the folder the request names
    assert got.steps == one("fs.delete", path="Downloads/ubuntu.iso")
    assert got.notes == ["Downloads/iso → Downloads/ubuntu.iso"]
    # two entries with that stem (readme.md, README.old.txt), two pictures on the desktop: nothing is guessed
    for steps in (one("fs.read", path="docs/readme"), one("fs.read", path="Desktop/png"),
                  one("fs.read", path="nope/x")):
        assert locate(steps, REG, home).steps == steps
    # by its first words: one entry begins with "ubuntu", none other; two begin with "shot"
    (home / "Downloads" / "ubuntu.iso").rename(home / "Downloads" / "ubuntu-26.04-desktop.iso")
    assert locate(one("fs.delete", path="downloads/ubuntu"), REG, home).steps == \
        one("fs.delete", path="Downloads/ubuntu-26.04-desktop.iso")
    assert locate(one("fs.read", path="Desktop/shot"), REG, home).steps == one("fs.read", path="Desktop/shot")
    # a dotfile named without its dot; an extension alone (".iso": the one iso there, nothing among pngs)
    (home / ".bashrc").write_text("alias ll='ls -l'\n")
    assert locate(one("fs.read", path="my bashrc"), REG, home).steps == one("fs.read", path=".bashrc")
    # a path a call may create is never looked up: an append to "bashrc" does not become one to .bashrc
    assert locate(one("fs.append", path="bashrc", content="x"), REG, home).steps == \
        one("fs.append", path="bashrc", content="x")
    assert locate(one("fs.move", src="Downloads/.iso", dest="tmp"), REG, home).steps == \
        one("fs.move", src="Downloads/ubuntu-26.04-desktop.iso", dest="tmp")
    for steps in (one("fs.read", path="Desktop/.png"), one("fs.read", path="Downloads/.tar.gz")):
        assert locate(steps, REG, home).steps == steps
    (home / "docs" / "README.old.txt").unlink()
    assert locate(one("fs.read", path="docs/readme"), REG, home).steps == one("fs.read", path="docs/readme.md")
    ex = execute(Plan("t", locate(one("fs.read", path="docs/readme"), REG, home).steps), sandboxed(REG, home, set()),
                 home)
    assert ex.ok and "hi" in str(ex.results[-1].data)


def test_a_destination_folder_takes_the_letter_case_of_the_one_there(home: Path) -> None:
    """"copy those to the desktop": ``Desktop``, not a new file called desktop beside it; a rename that only
    changes case, a new name and a call that names no source stay as written."""
    got = locate([PlanStep("fs.copy", {"src": "$prev.path", "dest": "desktop"})], REG, home)
    assert got.steps == [PlanStep("fs.copy", {"src": "$prev.path", "dest": "Desktop"})]
    assert got.notes == ["desktop → Desktop"]
    assert locate(one("fs.move", src="logs", dest="~/documents/"), REG, home).steps == \
        one("fs.move", src="logs", dest="~/Documents")
    for steps in (one("fs.move", src="Downloads", dest="downloads"), one("fs.copy", src="logs", dest="logs-old"),
                  one("fs.mkdir", path="desktop"), one("fs.write", path="documents", content="x")):
        assert locate(steps, REG, home).steps == steps
    plan = Plan("t", locate(one("fs.copy", src="Downloads/a.png", dest="desktop"), REG, home).steps)
    assert execute(plan, sandboxed(REG, home, set()), home).ok
    assert (home / "Desktop" / "a.png").exists() and not (home / "desktop").exists()


def test_a_name_without_its_extension_is_looked_for_below_when_nothing_has_the_name_itself(home: Path) -> None:
    """"what categories are in the budget csv" → ``Documents/budget.csv``; a name found as written wins; a
    delete never looks elsewhere; two stems are two places, and nothing is guessed."""
    (home / "Documents" / "budget.csv").write_text("type,amount\nrent,900\n")
    assert locate(one("text.csv", path="budget"), REG, home).steps == one("text.csv", path="Documents/budget.csv")
    assert locate(one("fs.read", path="reports/budget"), REG, home).steps == one("fs.read", path="reports/budget")
    assert locate(one("fs.delete", path="budget"), REG, home).steps == one("fs.delete", path="budget")
    (home / "logs" / "budget").mkdir()
    assert locate(one("fs.list", path="budget"), REG, home).steps == one("fs.list", path="logs/budget")
    (home / "logs" / "budget").rmdir()
    (home / "Desktop" / "budget.ods").write_text("x")
    assert locate(one("text.csv", path="budget"), REG, home).steps == one("text.csv", path="budget")


def test_a_link_given_the_other_way_round_is_swapped(home: Path) -> None:
    """"ln -s ~/projects/scraper ~/Desktop/scraper" planned as a link at the project: the link's path is there
    and its target is not, which fs.symlink would refuse, so the two are swapped; a link whose path is free,
    or whose target is there too, stays as written."""
    got = locate(one("fs.symlink", path="~/projects/scraper", target="~/Desktop/scraper"), REG, home)
    assert got.steps == one("fs.symlink", path="~/Desktop/scraper", target="~/projects/scraper")
    assert got.notes == ["path ~/projects/scraper and target ~/Desktop/scraper swapped: ~/projects/scraper is "
                         "there, ~/Desktop/scraper is not"]
    for steps in (one("fs.symlink", path="latest", target="projects"), one("fs.symlink", path="logs", target="tmp"),
                  one("fs.symlink", path="$0.path", target="x")):
        assert locate(steps, REG, home).steps == steps
    plan = Plan("t", got.steps)
    assert execute(plan, sandboxed(REG, home, set()), home).ok
    assert (home / "Desktop" / "scraper").is_symlink() and (home / "Desktop" / "scraper" / "scrape.py").is_file()
