"""System facts, file facts and fs.chown, checked against the real tools (getent, df, file, find, lsof,
ip, stat) on real temp trees and real processes; fs.chown undone through the journal."""

from __future__ import annotations

import errno
import grp
import json
import os
import pwd
import shutil
import stat
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest
from safety_env import Env, make_env
from syscall_support import REG, call, ok

from syscalls import journal as J
from syscalls.builtin import facts as F
from syscalls.dispatcher import Dispatcher
from syscalls.errors import InvalidRequest
from syscalls.permissions import Policy, PolicyGate, default_rules
from syscalls.safety import safe_dispatcher
from syscalls.validate import validate

NEW_CALLS = ("sys.accounts", "sys.shells", "sys.dns", "sys.load", "sys.interfaces", "sys.open_files",
             "fs.df", "fs.type", "fs.tree", "fs.chown")
linux = pytest.mark.skipif(not Path("/proc/loadavg").exists(), reason="needs Linux /proc")
root_only = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown needs root")


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


def run(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    return make_env(tmp_path, monkeypatch)


# ---------------------------------------------------------------- specs

def test_specs_are_complete() -> None:
    for name in NEW_CALLS:
        spec = REG.get(name)
        assert spec.args_schema["additionalProperties"] is False, name
        assert 3 <= len(spec.examples) <= 5, name
        assert 8 <= len(spec.phrasings) <= 20, name
        for ex in spec.examples:
            validate({"call": name, "args": ex.args}, REG)
        if name == "fs.chown":
            assert spec.risk.value == "write" and spec.undoable and spec.preview is not None
            assert spec.capability == "fs.chown"
        else:
            assert spec.risk.value == "read", name
            assert spec.capability == ("fs.read" if name.startswith("fs.") else "sys.read"), name


def test_each_request_has_one_plan() -> None:
    """The phrasings moved here are gone from the calls that had them before."""
    seen: dict[str, set[str]] = {}
    for spec in REG:
        for request, _plan in spec.phrasings:
            seen.setdefault(request, set()).add(spec.name)
    for request in ("what is my ip address", "uptime", "load average", "what type of file is {file}",
                    "chown {user} {file}", "change the owner of {file} to {user}", "chgrp {user} {file}",
                    "how long has the machine been up", "ip a", "show my network interfaces"):
        assert len(seen.get(request, set())) == 1, (request, seen.get(request))
    assert seen["what is my ip address"] == {"sys.interfaces"}
    assert seen["chown {user} {file}"] == {"fs.chown"}


# ---------------------------------------------------------------- the default policy

def test_network_facts_are_allowed_by_the_default_policy(env: Env) -> None:
    """"display the network interfaces" style calls run without asking; reaching out stays denied."""
    env.disp = safe_dispatcher(env.reg, approve=None, state_dir=env.state, data_dir=env.data)
    for request in ("display the network interfaces", "what is my ip address"):
        plans = {s.name for s in REG for r, _ in s.phrasings if r == request}
        assert plans == {"sys.interfaces"}, request
    for name, args in (("sys.interfaces", {}), ("sys.net", {"connections": "listening"}), ("sys.dns", {}),
                       ("sys.load", {}), ("sys.accounts", {}), ("sys.shells", {}),
                       ("sys.open_files", {"limit": 5})):
        r = env.run(name, args)
        assert r.status == "ok", (name, r.error)
    pol = Policy.load()
    assert pol.decide("sys.read", []).action == "allow"
    assert pol.decide("net.read", []).action == "deny"


def test_chown_asks_and_is_never_a_session_grant(env: Env) -> None:
    from syscalls.paths import canonical
    from syscalls.permissions import NO_SESSION_GRANT

    (env.cwd / "f").write_text("x")
    pol = Policy.load()
    assert pol.decide("fs.chown", [canonical("f", env.cwd)]).action == "ask"
    assert "fs.chown" in NO_SESSION_GRANT
    env.disp = safe_dispatcher(env.reg, approve=None, state_dir=env.state, data_dir=env.data)
    r = env.run("fs.chown", {"path": "f", "user": "root"})
    assert r.status == "denied" and r.error is not None and "no terminal" in r.error["message"]


def test_chown_under_a_system_directory_is_refused_by_the_floor(env: Env) -> None:
    r = env.run("fs.chown", {"path": "/etc/passwd", "user": "root"})
    assert r.status == "denied" and r.error is not None and "system directory" in r.error["message"]


# ---------------------------------------------------------------- sys.accounts

def _getent(db: str) -> list[list[str]]:
    return [line.split(":") for line in run(tool("getent"), db).splitlines() if line]


def test_accounts_users_match_getent_passwd(tmp_path: Path) -> None:
    data = ok("sys.accounts", {"kind": "users"}, tmp_path)
    mine = {(r["name"], r["uid"], r["gid"], r["home"], r["shell"] or "") for r in data["accounts"]}
    theirs = {(f[0], int(f[2]), int(f[3]), f[5], f[6]) for f in _getent("passwd")}
    assert mine == theirs
    assert data["count"] == len(data["accounts"]) >= 1


def test_accounts_groups_match_getent_group(tmp_path: Path) -> None:
    data = ok("sys.accounts", {"kind": "groups"}, tmp_path)
    mine = {(r["name"], r["gid"], ",".join(r["members"])) for r in data["accounts"]}
    theirs = {(f[0], int(f[2]), f[3]) for f in _getent("group")}
    assert mine == theirs


def test_accounts_name_filter(tmp_path: Path) -> None:
    me = pwd.getpwuid(os.getuid())
    rows = ok("sys.accounts", {"name": me.pw_name}, tmp_path)["accounts"]
    assert [r["name"] for r in rows] == [me.pw_name] and rows[0]["uid"] == me.pw_uid
    assert rows[0]["group"] == grp.getgrgid(me.pw_gid).gr_name
    first = me.pw_name[0]
    globbed = ok("sys.accounts", {"name": f"{first}*"}, tmp_path)["accounts"]
    assert {r["name"] for r in globbed} == {p.pw_name for p in pwd.getpwall() if p.pw_name.startswith(first)}
    assert ok("sys.accounts", {"name": "no-such-user-xyz"}, tmp_path)["accounts"] == []
    with pytest.raises(InvalidRequest):
        call("sys.accounts", {"kind": "people"}, tmp_path)


# ---------------------------------------------------------------- sys.shells, sys.dns

def test_shells_match_etc_shells(tmp_path: Path) -> None:
    data = ok("sys.shells", {}, tmp_path)
    if not Path("/etc/shells").exists():
        assert data["shells"] == [] and data["file_exists"] is False
        return
    expected = [line.split()[0] for line in Path("/etc/shells").read_text().splitlines()
                if line.strip().startswith("/")]
    assert [r["path"] for r in data["shells"]] == expected
    assert all(r["exists"] == os.path.exists(r["path"]) for r in data["shells"])


def test_shells_parser_follows_getusershell(tmp_path: Path) -> None:
    f = tmp_path / "shells"
    f.write_text("# comment\n/bin/sh\n\n  /bin/bash  # trailing\nnot-a-path\n/usr/bin/zsh\n")
    assert F.read_shells(str(f)) == ["/bin/sh", "/bin/bash", "/usr/bin/zsh"]
    assert F.read_shells(str(tmp_path / "missing")) is None


def test_dns_matches_resolv_conf(tmp_path: Path) -> None:
    data = ok("sys.dns", {}, tmp_path)
    conf = Path("/etc/resolv.conf")
    if not conf.exists():
        assert data["file_exists"] is False and data["servers"] == []
        return
    expected = [line.split()[1] for line in conf.read_text().splitlines()
                if line.split()[:1] == ["nameserver"] and len(line.split()) > 1]
    assert [r["address"] for r in data["servers"] if r["source"] == "/etc/resolv.conf"] == expected


def test_resolv_conf_parser() -> None:
    text = ("# generated\nnameserver 10.0.0.1\nnameserver 10.0.0.2 # second\ndomain old.example\n"
            "search a.example b.example\n; comment\noptions edns0 timeout:2\nnameserver ::1\n")
    parsed = F.parse_resolv_conf(text)
    assert parsed == {"servers": ["10.0.0.1", "10.0.0.2", "::1"], "search": ["a.example", "b.example"],
                      "options": ["edns0", "timeout:2"]}
    assert F.parse_resolv_conf("search x.example\ndomain only.example\n")["search"] == ["only.example"]


# ---------------------------------------------------------------- sys.load

@linux
def test_load_matches_proc_and_uptime(tmp_path: Path) -> None:
    data = ok("sys.load", {}, tmp_path)
    up = float(Path("/proc/uptime").read_text().split()[0])
    assert data["uptime_s"] == pytest.approx(up, abs=5)
    fields = Path("/proc/loadavg").read_text().split()
    for key, value in zip(("load_avg_1m", "load_avg_5m", "load_avg_15m"), fields[:3], strict=True):
        assert data[key] == pytest.approx(float(value), abs=0.5)
    assert data["total_tasks"] is not None and data["total_tasks"] >= 1
    out = run(tool("uptime"))
    averages = [float(x.strip().replace(",", ".")) for x in out.rsplit("load average:", 1)[1].split(", ")]
    assert averages[2] == pytest.approx(data["load_avg_15m"], abs=0.5)
    import psutil

    assert data["boot_time"] == pytest.approx(psutil.boot_time(), abs=2)


# ---------------------------------------------------------------- sys.interfaces

def test_interfaces_match_ip_addr(tmp_path: Path) -> None:
    ip = tool("ip")
    theirs = json.loads(run(ip, "-j", "addr"))
    data = ok("sys.interfaces", {}, tmp_path)
    mine = {r["name"]: r for r in data["interfaces"]}
    assert set(mine) == {i["ifname"] for i in theirs}
    for i in theirs:
        row = mine[i["ifname"]]
        assert row["mtu"] == i["mtu"], i["ifname"]
        v4 = {f"{a['local']}/{a['prefixlen']}" for a in i.get("addr_info", []) if a["family"] == "inet"}
        v6 = {f"{a['local']}/{a['prefixlen']}" for a in i.get("addr_info", []) if a["family"] == "inet6"}
        assert set(row["ipv4"]) == v4, i["ifname"]
        assert set(row["ipv6"]) == v6, i["ifname"]
        if i.get("address") and i.get("link_type") not in ("loopback", "none"):
            assert row["mac"] == i["address"], i["ifname"]
        if row["state"] is not None:
            assert row["state"].upper() == i["operstate"], i["ifname"]
    lo = [r for r in data["interfaces"] if "127.0.0.1/8" in r["ipv4"]]
    assert lo and lo[0]["is_up"] is True


def test_interfaces_name_filter(tmp_path: Path) -> None:
    names = [r["name"] for r in ok("sys.interfaces", {}, tmp_path)["interfaces"]]
    one = ok("sys.interfaces", {"name": names[0]}, tmp_path)["interfaces"]
    assert [r["name"] for r in one] == [names[0]]
    r = call("sys.interfaces", {"name": "nosuchif0"}, tmp_path)
    assert r.status == "failed" and r.error is not None and r.error["type"] == "NotFound"
    assert "nosuchif0" in r.error["message"]


# ---------------------------------------------------------------- sys.open_files

@pytest.fixture
def holder(tmp_path: Path) -> Any:
    held = tmp_path / "held dir"
    held.mkdir()
    (held / "a.log").write_text("x")
    (held / "b.txt").write_text("y")
    code = ("import sys,time\nfs=[open(p,'a') for p in sys.argv[1:]]\nprint('ready',flush=True)\n"
            "sys.stdin.read()\n")
    p = subprocess.Popen([sys.executable, "-c", code, str(held / "a.log"), str(held / "b.txt")],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    yield held, p
    p.stdin.close()  # type: ignore[union-attr]
    p.wait(timeout=10)


def test_open_files_under_a_path_match_lsof(holder: Any, tmp_path: Path) -> None:
    held, proc = holder
    data = ok("sys.open_files", {"path": str(held)}, tmp_path)
    mine = {(r["pid"], r["fd"], r["path"]) for r in data["files"]}
    assert {(proc.pid, r[1], r[2]) for r in mine if r[0] == proc.pid} == mine
    assert {p for _, _, p in mine} == {str(held / "a.log"), str(held / "b.txt")}
    out = subprocess.run([tool("lsof"), "-n", "-P", "-F", "pfn", "-p", str(proc.pid)], capture_output=True,
                         text=True).stdout
    theirs = set()
    pid = fd = None
    for line in out.splitlines():
        if line.startswith("p"):
            pid = int(line[1:])
        elif line.startswith("f"):
            fd = int(line[1:]) if line[1:].isdigit() else None
        elif line.startswith("n") and fd is not None and line[1:].startswith(str(held) + "/"):
            theirs.add((pid, fd, line[1:]))
    assert mine == theirs
    by_pid = ok("sys.open_files", {"pid": proc.pid}, tmp_path)["files"]
    assert {(r["fd"], r["path"]) for r in by_pid} >= {(fd, p) for _, fd, p in mine}
    assert all(r["mode"] == "a" for r in data["files"])


def test_open_files_limit_and_errors(holder: Any, tmp_path: Path) -> None:
    held, _proc = holder
    data = ok("sys.open_files", {"path": str(held), "limit": 1}, tmp_path)
    assert len(data["files"]) == 1 and data["truncated"] is True
    r = call("sys.open_files", {"pid": 4_000_000}, tmp_path)
    assert r.status == "failed" and r.error is not None and r.error["type"] == "NotFound"


# ---------------------------------------------------------------- fs.df

def _df(path: Path, *cols: str) -> list[str]:
    argv = [tool("df"), "-B1", f"--output={','.join(cols)}", str(path)]
    return run(*argv).splitlines()[1].split()


@pytest.mark.parametrize("where", ["tmp", "/", "/dev/shm"])
def test_df_matches_df(where: str, tmp_path: Path) -> None:
    path = tmp_path if where == "tmp" else Path(where)
    if not path.exists():
        pytest.skip(f"{where} is missing")
    data = ok("fs.df", {"path": str(path)}, tmp_path)
    source, fstype, size, used, avail, pcent, target = _df(path, "source", "fstype", "size", "used", "avail",
                                                           "pcent", "target")
    assert data["total_bytes"] == int(size)
    slack = 64 << 20  # the disk is shared: allow for writes between the two readings
    assert abs(data["used_bytes"] - int(used)) <= slack
    assert abs(data["available_bytes"] - int(avail)) <= slack
    assert data["mountpoint"] == target and data["fstype"] == fstype and data["device"] == source
    if abs(data["used_bytes"] - int(used)) == 0 and pcent != "-":
        assert data["percent_used"] == int(pcent.rstrip("%"))
    itotal, iused, ifree = _df(path, "itotal", "iused", "iavail")
    if itotal != "-":
        assert data["inodes_total"] == int(itotal)
        assert abs(data["inodes_used"] - int(iused)) <= 10_000
        assert abs(data["inodes_available"] - int(ifree)) <= 10_000


def test_df_errors(tmp_path: Path) -> None:
    r = call("fs.df", {"path": "missing/dir"}, tmp_path)
    assert r.status == "failed" and r.error is not None and r.error["type"] == "NotFound"
    assert "missing/dir" in r.error["target"]
    assert ok("fs.df", {}, tmp_path)["path"] == str(tmp_path)


# ---------------------------------------------------------------- fs.type

def _png() -> bytes:
    def chunk(t: bytes, d: bytes) -> bytes:
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0\0\0\0")) + chunk(b"IEND", b""))


def make_type_corpus(d: Path) -> None:
    import bz2
    import gzip
    import lzma
    import sqlite3
    import tarfile
    import wave
    import zipfile

    texts = {
        "a.py": "#!/usr/bin/env python3\nprint(1)\n", "plain.py": "import os\nprint(1)\n",
        "c.sh": "#!/bin/sh\necho hi\n", "d.sh": "#!/bin/bash\necho hi\n", "pl": "#!/usr/bin/perl\nprint 1;\n",
        "n.js": "#!/usr/bin/env node\nconsole.log(1)\n", "e.json": '{"a": 1, "b": [1, 2]}\n',
        "f.xml": '<?xml version="1.0"?>\n<a/>\n', "g.html": "<!DOCTYPE html>\n<html><body>hi</body></html>\n",
        "h.csv": "a,b,c\n1,2,3\n4,5,6\n", "i.c": "#include <stdio.h>\nint main(void){return 0;}\n",
        "t.txt": "hello\n", "u.txt": "h\u00e9llo w\u00f6rld\n", "s.svg": '<svg xmlns="http://www.w3.org/2000/svg"/>\n',
        "x.diff": "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n",
        "r.rtf": "{\\rtf1\\ansi hi}\n", "q.ps": "%!PS-Adobe-3.0\n", "crlf.txt": "hello\r\nworld\r\n",
        "esc.txt": "\x1b[31mred\n", "m.md": "# Title\n\nSome *markdown*\n", "y.yaml": "key: value\n",
        "p.php": "<?php echo 1; ?>\n", "mail": "From: a@b\nTo: c@d\nSubject: hi\n\nbody\n",
        "bom.txt": "\ufeffhello\n", "pdf.pdf": "%PDF-1.4\n%\u00e2\u00e3\n",
    }
    for name, text in texts.items():
        (d / name).write_text(text, encoding="utf-8")
    (d / "u16.txt").write_bytes(b"\xff\xfeh\x00i\x00\n\x00")
    (d / "latin1.txt").write_bytes(b"caf\xe9 cr\xe8me\n")
    (d / "nul.bin").write_bytes(b"line\x00nul\n")
    import random

    (d / "random.bin").write_bytes(b"\x00\x00\x00\x00\x01" + random.Random(7).randbytes(2000))
    (d / "empty").write_bytes(b"")
    (d / "a.gz").write_bytes(gzip.compress(b"hi"))
    (d / "a.bz2").write_bytes(bz2.compress(b"hi"))
    (d / "a.xz").write_bytes(lzma.compress(b"hi"))
    (d / "a.png").write_bytes(_png())
    (d / "a.gif").write_bytes(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")
    (d / "a.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9")
    (d / "a.zst").write_bytes(b"\x28\xb5\x2f\xfd" + b"\0" * 10)
    with zipfile.ZipFile(d / "a.zip", "w") as z:
        z.writestr("x.txt", "hi")
    with tarfile.open(d / "a.tar", "w") as t:
        t.add(d / "t.txt", arcname="t.txt")
    con = sqlite3.connect(d / "a.db")
    con.execute("create table t(x)")
    con.commit()
    con.close()
    w = wave.open(str(d / "a.wav"), "wb")
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(8000)
    w.writeframes(b"\0\0" * 100)
    w.close()
    for exe in ("/bin/true", "/usr/bin/true"):
        if os.path.exists(exe):
            shutil.copy(exe, d / "elf")
            break
    (d / "sub").mkdir()
    os.symlink("t.txt", d / "link")
    os.mkfifo(d / "fifo")


def test_type_of_each_file_matches_file(tmp_path: Path) -> None:
    file_tool = tool("file")
    d = tmp_path / "corpus"
    d.mkdir()
    make_type_corpus(d)
    names = sorted(os.listdir(d))
    theirs = dict(zip(names, run(file_tool, "--brief", "--mime-type", "--", *[str(d / n) for n in names])
                      .splitlines(), strict=True))
    data = ok("fs.type", {"path": str(d)}, tmp_path)
    mine = {r["name"]: r["mime_type"] for r in data["entries"]}
    assert set(mine) == set(names)
    disagree = {n: (mine[n], theirs[n]) for n in names if mine[n] != theirs[n]}
    assert not disagree, disagree
    one = ok("fs.type", {"path": str(d / "a.png")}, tmp_path)["entries"]
    assert [r["mime_type"] for r in one] == ["image/png"] and one[0]["description"] == "PNG image"
    link = ok("fs.type", {"path": str(d / "link")}, tmp_path)["entries"][0]
    assert link["mime_type"] == "inode/symlink" and link["link_target"] == "t.txt"


def test_type_charsets_match_file(tmp_path: Path) -> None:
    file_tool = tool("file")
    d = tmp_path / "cs"
    d.mkdir()
    for name, data in (("ascii", b"plain\n"), ("utf8", "h\u00e9\n".encode()), ("latin1", b"caf\xe9\n"),
                       ("bin", b"\x00\x01\x02")):
        (d / name).write_bytes(data)
    rows = {r["name"]: r["charset"] for r in ok("fs.type", {"path": str(d)}, tmp_path)["entries"]}
    for name in rows:
        assert rows[name] == run(file_tool, "--brief", "--mime-encoding", str(d / name)).strip(), name


def test_type_hidden_limit_and_errors(tmp_path: Path) -> None:
    (tmp_path / ".dot").write_text("x")
    (tmp_path / "a").write_text("x")
    (tmp_path / "b").write_text("x")
    assert [r["name"] for r in ok("fs.type", {"path": "."}, tmp_path)["entries"]] == ["a", "b"]
    assert [r["name"] for r in ok("fs.type", {"path": ".", "hidden": True}, tmp_path)["entries"]] == \
        [".dot", "a", "b"]
    limited = ok("fs.type", {"path": ".", "limit": 1}, tmp_path)
    assert len(limited["entries"]) == 1 and limited["truncated"] is True
    r = call("fs.type", {"path": "nope"}, tmp_path)
    assert r.status == "failed" and r.error is not None and r.error["type"] == "NotFound"


def test_sniffer_elf_kinds() -> None:
    head = bytearray(64)
    head[:6] = b"\x7fELF\x02\x01"
    for etype, mime in ((1, "application/x-object"), (2, "application/x-executable"),
                        (4, "application/x-coredump"), (3, "application/x-sharedlib")):
        struct.pack_into("<H", head, 16, etype)
        assert F.sniff(bytes(head))[0] == mime


# ---------------------------------------------------------------- fs.tree

def make_tree(root: Path) -> None:
    for rel in ("a/b/c/d/deep.txt", "a/b/two.txt", "a/one.txt", "x/y.txt", ".hid/z.txt", "a/.dot", "top.txt"):
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(rel)
    (root / "empty").mkdir()
    os.symlink("a", root / "link-to-a")


def _tree_paths(node: dict[str, Any], out: set[str]) -> set[str]:
    for child in node.get("children", []):
        out.add(child["path"])
        _tree_paths(child, out)
    return out


@pytest.mark.parametrize("depth", [1, 2, 3, 5])
def test_tree_matches_find_maxdepth(depth: int, tmp_path: Path) -> None:
    find = tool("find")
    root = tmp_path / "t"
    root.mkdir()
    make_tree(root)
    data = ok("fs.tree", {"path": str(root), "depth": depth, "hidden": True}, tmp_path)
    mine = _tree_paths(data["tree"][0], set())
    theirs = set(run(find, str(root), "-mindepth", "1", "-maxdepth", str(depth)).splitlines())
    assert mine == theirs
    assert data["count"] == len(theirs)
    assert data["dirs"] == len(run(find, str(root), "-mindepth", "1", "-maxdepth", str(depth), "-type", "d")
                               .splitlines())
    visible = _tree_paths(ok("fs.tree", {"path": str(root), "depth": depth}, tmp_path)["tree"][0], set())
    no_dots = set(run(find, str(root), "-mindepth", "1", "-maxdepth", str(depth), "-not", "-path", "*/.*")
                  .splitlines())
    assert visible == no_dots
    dirs = _tree_paths(ok("fs.tree", {"path": str(root), "depth": depth, "dirs_only": True, "hidden": True},
                          tmp_path)["tree"][0], set())
    assert dirs == set(run(find, str(root), "-mindepth", "1", "-maxdepth", str(depth), "-type", "d")
                       .splitlines())


def test_tree_limit_and_errors(tmp_path: Path) -> None:
    make_tree(tmp_path)
    data = ok("fs.tree", {"path": ".", "depth": 10, "limit": 3}, tmp_path)
    assert data["count"] == 3 and data["truncated"] is True
    r = call("fs.tree", {"path": "top.txt"}, tmp_path)
    assert r.status == "failed" and r.error is not None and r.error["type"] == "WrongType"
    with pytest.raises(InvalidRequest):
        call("fs.tree", {"path": ".", "depth": 0}, tmp_path)
    assert call("fs.tree", {"path": "gone"}, tmp_path).status == "failed"
    from rich.console import Console

    from nlshell import render

    console = Console(record=True, width=100)
    console.print(render.result(call("fs.tree", {"path": ".", "depth": 1}, tmp_path), REG.get("fs.tree").view,
                                plain=True))
    shown = console.export_text()
    assert "top.txt" in shown and "one.txt" not in shown


# ---------------------------------------------------------------- fs.chown

def _owner(path: Path, *, deref: bool = False) -> str:
    argv = ["stat", "-c", "%U:%G", str(path)]
    if deref:
        argv.insert(1, "-L")
    return run(*argv).strip()


def _owners(root: Path) -> dict[str, tuple[int, int]]:
    out = {".": (os.lstat(root).st_uid, os.lstat(root).st_gid)}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = os.lstat(p)
            out[str(p.relative_to(root))] = (st.st_uid, st.st_gid)
    return out


def _nobody() -> tuple[str, str]:
    try:
        pw = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user nobody")
    return "nobody", grp.getgrgid(pw.pw_gid).gr_name if pw.pw_gid in {g.gr_gid for g in grp.getgrall()} \
        else str(pw.pw_gid)


@root_only
def test_chown_to_nobody_matches_stat_and_undo_restores(env: Env) -> None:
    user, _group = _nobody()
    f = env.cwd / "notes.txt"
    f.write_text("x")
    before = _owner(f)
    r = env.run("fs.chown", {"path": "notes.txt", "user": user})
    assert r.ok, r.error
    assert _owner(f) == f"{user}:{before.split(':')[1]}"
    assert r.data is not None and r.data["changed"] == 1 and r.data["entries"][0]["new_owner"] == user
    J.undo(state=env.state, data=env.data)
    assert _owner(f) == before


@root_only
def test_chown_recursive_with_group_and_undo(env: Env) -> None:
    user, group = _nobody()
    root = env.cwd / "proj"
    make_tree(root)
    before = _owners(root)
    r = env.run("fs.chown", {"path": "proj", "user": user, "group": group, "recursive": True})
    assert r.ok, r.error
    find = tool("find")
    owners = set(run(find, str(root), "-printf", "%u:%g\n").splitlines())
    assert owners == {f"{user}:{group}"}
    assert r.data is not None and r.data["changed"] == len(before)
    # the link itself changed, not what it points at outside the walk
    assert os.lstat(root / "link-to-a").st_uid == pwd.getpwnam(user).pw_uid
    J.undo(state=env.state, data=env.data)
    assert _owners(root) == before


@root_only
def test_chown_group_only_numeric_and_symlink_argument(env: Env) -> None:
    (env.cwd / "target.txt").write_text("x")
    os.symlink("target.txt", env.cwd / "ln")
    before_link = os.lstat(env.cwd / "ln")
    r = env.run("fs.chown", {"path": "ln", "group": "65534"})
    assert r.ok, r.error
    assert os.stat(env.cwd / "target.txt").st_gid == 65534  # a named link is followed, as chown does
    assert os.lstat(env.cwd / "ln").st_gid == before_link.st_gid
    assert _owner(env.cwd / "target.txt").split(":")[0] == pwd.getpwuid(os.getuid()).pw_name
    J.undo(state=env.state, data=env.data)
    assert os.stat(env.cwd / "target.txt").st_gid == os.getgid()
    again = env.run("fs.chown", {"path": "target.txt", "user": pwd.getpwuid(os.getuid()).pw_name})
    assert again.ok and again.data is not None and again.data["changed"] == 0 and again.data["unchanged"] == 1


def test_chown_preview_and_dry_run_change_nothing(env: Env) -> None:
    f = env.cwd / "f.txt"
    f.write_text("x")
    before = _owners(env.cwd)
    r = env.run("fs.chown", {"path": "f.txt", "user": "nobody" if _has("nobody") else "root"}, dry_run=True)
    assert r.status == "dry-run" and r.data is not None
    assert r.data["paths"] == [str(f)]
    assert _owners(env.cwd) == before


def _has(user: str) -> bool:
    try:
        pwd.getpwnam(user)
    except KeyError:
        return False
    return True


def test_chown_typed_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "f").write_text("x")
    r = call("fs.chown", {"path": "f", "user": "no-such-user-xyz"}, tmp_path)
    assert r.status == "invalid" and r.error is not None and "no-such-user-xyz" in r.error["message"]
    r = call("fs.chown", {"path": "f", "group": "no-such-group-xyz"}, tmp_path)
    assert r.status == "invalid" and r.error is not None and "no-such-group-xyz" in r.error["message"]
    r = call("fs.chown", {"path": "f"}, tmp_path)
    assert r.status == "invalid" and r.error is not None and "user" in r.error["message"]
    r = call("fs.chown", {"path": "missing", "user": "root"}, tmp_path)
    assert r.status == "failed" and r.error is not None and r.error["type"] == "NotFound"

    def refuse(*a: Any, **k: Any) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "chown", refuse)
    other = "nobody" if _has("nobody") else "0"
    if os.lstat(tmp_path / "f").st_uid == pwd.getpwnam(other).pw_uid if _has(other) else False:
        other = "1"
    r = Dispatcher(REG).handle(validate({"call": "fs.chown", "args": {"path": "f", "user": other}}, REG),
                               tmp_path)
    assert r.status == "failed" and r.error is not None and r.error["type"] == "AccessDenied"
    assert "root" in r.error["hint"] and r.error["call"] == "fs.chown" and str(tmp_path / "f") in r.error["target"]


def test_gate_allows_the_read_calls_without_an_approver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("NLSH_POLICY", raising=False)
    gate = PolicyGate(Policy(default_rules()))
    d = Dispatcher(REG, gate=gate)
    for name, args in (("sys.interfaces", {}), ("sys.net", {"connections": "none"}), ("fs.df", {}),
                       ("fs.tree", {"depth": 1}), ("fs.type", {"path": "."})):
        r = d.handle(validate({"call": name, "args": args}, REG), tmp_path)
        assert r.status == "ok", (name, r.error)


def test_stat_of_mode_is_untouched_by_type(tmp_path: Path) -> None:
    f = tmp_path / "x"
    f.write_text("hello")
    before = os.stat(f)
    ok("fs.type", {"path": "x"}, tmp_path)
    after = os.stat(f)
    assert stat.S_IMODE(before.st_mode) == stat.S_IMODE(after.st_mode) and before.st_mtime == after.st_mtime
