"""System and file facts people ask for, and ownership changes.

``sys.accounts`` (the passwd / group databases), ``sys.shells`` (/etc/shells),
``sys.dns`` (/etc/resolv.conf), ``sys.load`` (uptime and load averages),
``sys.interfaces`` (addresses, state, MTU and counters), ``sys.open_files``
(what ``lsof`` lists for the processes one may see), ``fs.df`` (free space and
inodes of the file system holding a path), ``fs.type`` (file type by content),
``fs.tree`` (a directory tree to a depth) and ``fs.chown`` (owner and group,
undoable).

Listing interfaces, addresses and sockets opens no connection, so these are
``sys.read`` like the other machine facts; ``net.read`` stays for calls that
reach out over the network.

File types come from a small content sniffer (``sniff``) rather than libmagic:
it needs no native library, and on the common formats it agrees with
``file --brief --mime-type`` (tests/test_facts.py measures it).
"""

from __future__ import annotations

import errno
import fnmatch
import grp
import ipaddress
import json
import os
import pwd
import re
import socket
import stat
import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

from syscalls import schema as S
from syscalls.builtin import _fsutil as U
from syscalls.errors import AccessDenied, InvalidRequest, NotFound, SyscallError, WrongType, from_oserror
from syscalls.paths import checked_path, open_nofollow, safe_open_dir
from syscalls.types import CallContext, JSONDict, Risk, View

if TYPE_CHECKING:
    from syscalls.registry import Registry

_NINT = S.nullable("integer")
_NNUM = S.nullable("number")
_NSTR = S.nullable("string")

SHELLS_FILE = "/etc/shells"
RESOLV_CONF = "/etc/resolv.conf"


def _matches(pattern: str | None, name: str) -> bool:
    if not pattern:
        return True
    if set(pattern) & set("*?["):
        return fnmatch.fnmatchcase(name, pattern)
    return name == pattern


# ---------------------------------------------------------------- sys.accounts

def sys_accounts(ctx: CallContext, args: JSONDict) -> JSONDict:
    kind = args.get("kind", "users")
    pattern = args.get("name")
    rows: list[JSONDict] = []
    if kind == "users":
        for pw in pwd.getpwall():
            if not _matches(pattern, pw.pw_name):
                continue
            rows.append({"name": pw.pw_name, "uid": pw.pw_uid, "gid": pw.pw_gid,
                         "group": U.group_name(pw.pw_gid), "gecos": pw.pw_gecos or None,
                         "home": pw.pw_dir, "shell": pw.pw_shell or None})
    else:
        for gr in grp.getgrall():
            if not _matches(pattern, gr.gr_name):
                continue
            rows.append({"name": gr.gr_name, "gid": gr.gr_gid, "members": list(gr.gr_mem)})
    return {"kind": kind, "accounts": rows, "count": len(rows), "truncated": False}


# ---------------------------------------------------------------- sys.shells

def read_shells(path: str = SHELLS_FILE) -> list[str] | None:
    """Login shells as ``getusershell(3)`` reads them; None when the file is missing."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except FileNotFoundError:
        return None
    out: list[str] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        token = line.split()[0]
        if token.startswith("/"):
            out.append(token)
    return out


def sys_shells(ctx: CallContext, args: JSONDict) -> JSONDict:
    try:
        shells = read_shells()
    except OSError as exc:
        raise from_oserror(exc, call=ctx.call, target=SHELLS_FILE) from exc
    try:
        mine: str | None = pwd.getpwuid(os.getuid()).pw_shell
    except KeyError:
        mine = None
    rows = [{"path": s, "exists": os.path.exists(s), "yours": s == mine} for s in shells or []]
    return {"shells": rows, "file": SHELLS_FILE, "file_exists": shells is not None, "your_shell": mine,
            "truncated": False}


# ---------------------------------------------------------------- sys.dns

def parse_resolv_conf(text: str) -> JSONDict:
    """Name servers, search domains and options as the C library reads them (last search/domain wins)."""
    servers: list[str] = []
    search: list[str] = []
    options: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        key, _, rest = line.partition(" ") if " " in line else line.partition("\t")
        words = rest.split()
        if key == "nameserver" and words:
            servers.append(words[0])
        elif key in ("search", "domain"):
            search = words if key == "search" else words[:1]
        elif key == "options":
            options.extend(words)
    return {"servers": servers, "search": search, "options": options}


def sys_dns(ctx: CallContext, args: JSONDict) -> JSONDict:
    try:
        text = Path(RESOLV_CONF).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        text = None
    except OSError as exc:
        raise from_oserror(exc, call=ctx.call, target=RESOLV_CONF) from exc
    parsed = parse_resolv_conf(text or "")
    rows: list[JSONDict] = []
    for i, addr in enumerate(parsed["servers"]):
        rows.append({"address": addr, "source": RESOLV_CONF, "used": i < 3,
                     "local_stub": addr.startswith("127.") or addr == "::1"})
    upstream = "/run/systemd/resolve/resolv.conf"
    if any(r["local_stub"] for r in rows) and os.path.exists(upstream):
        try:
            up = parse_resolv_conf(Path(upstream).read_text(encoding="utf-8", errors="replace"))
        except OSError:
            up = {"servers": []}
        for addr in up["servers"]:
            rows.append({"address": addr, "source": upstream, "used": True, "local_stub": False})
    return {"servers": rows, "search": parsed["search"], "options": parsed["options"], "file": RESOLV_CONF,
            "file_exists": text is not None, "truncated": False}


# ---------------------------------------------------------------- sys.load

def sys_load(ctx: CallContext, args: JSONDict) -> JSONDict:
    boot = psutil.boot_time()
    try:
        with open("/proc/uptime", encoding="ascii") as fh:
            uptime = float(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        uptime = time.time() - boot
    load = [round(x, 2) for x in os.getloadavg()]
    running: int | None = None
    total: int | None = None
    try:
        with open("/proc/loadavg", encoding="ascii") as fh:
            run_s, _, tot_s = fh.read().split()[3].partition("/")
            running, total = int(run_s), int(tot_s)
    except (OSError, ValueError, IndexError):
        pass
    try:
        users = len({u.name for u in psutil.users()})
    except (OSError, psutil.Error):
        users = None
    return {
        "uptime_s": round(uptime, 1),
        "boot_time": boot,
        "boot_time_iso": U.iso(boot),
        "load_avg_1m": load[0],
        "load_avg_5m": load[1],
        "load_avg_15m": load[2],
        "cpus": psutil.cpu_count() or 1,
        "running_tasks": running,
        "total_tasks": total,
        "users": users,
    }


# ---------------------------------------------------------------- sys.interfaces

def _prefixlen(family: int, netmask: str | None) -> int | None:
    if not netmask:
        return None
    try:
        bits = int(ipaddress.ip_address(netmask))
    except ValueError:
        return None
    width = 128 if family == socket.AF_INET6 else 32
    ones = bin(bits).count("1")
    return ones if bits == ((1 << ones) - 1) << (width - ones) else None


def _operstate(name: str) -> str | None:
    try:
        with open(f"/sys/class/net/{name}/operstate", encoding="ascii") as fh:
            return fh.read().strip() or None
    except OSError:
        return None


def sys_interfaces(ctx: CallContext, args: JSONDict) -> JSONDict:
    pattern = args.get("name")
    addrs = psutil.net_if_addrs()
    stats = psutil.net_if_stats()
    io = psutil.net_io_counters(pernic=True)
    link_family = getattr(psutil, "AF_LINK", -1)
    rows: list[JSONDict] = []
    for name in sorted(set(addrs) | set(stats)):
        if not _matches(pattern, name):
            continue
        st = stats.get(name)
        c = io.get(name)
        ipv4: list[str] = []
        ipv6: list[str] = []
        mac: str | None = None
        for a in addrs.get(name, []):
            if a.family == link_family:
                mac = a.address or None
            elif a.family in (socket.AF_INET, socket.AF_INET6):
                address = a.address.split("%", 1)[0]
                plen = _prefixlen(a.family, a.netmask)
                text = f"{address}/{plen}" if plen is not None else address
                (ipv4 if a.family == socket.AF_INET else ipv6).append(text)
        flags = getattr(st, "flags", "") if st else ""
        rows.append({
            "name": name,
            "state": _operstate(name),
            "is_up": bool(st.isup) if st else None,
            "flags": [f for f in flags.split(",") if f] if flags else [],
            "mtu": st.mtu if st else None,
            "speed_mbps": st.speed if st and st.speed else None,
            "mac": mac,
            "ipv4": ipv4,
            "ipv6": ipv6,
            "bytes_sent": c.bytes_sent if c else None,
            "bytes_recv": c.bytes_recv if c else None,
            "packets_sent": c.packets_sent if c else None,
            "packets_recv": c.packets_recv if c else None,
            "errors_in": c.errin if c else None,
            "errors_out": c.errout if c else None,
            "drops_in": c.dropin if c else None,
            "drops_out": c.dropout if c else None,
        })
    if pattern and not rows:
        raise NotFound(f"no network interface named {pattern!r}", call=ctx.call, target=pattern,
                       hint="run sys.interfaces without a name to see them all")
    return {"interfaces": rows, "count": len(rows), "truncated": False}


# ---------------------------------------------------------------- sys.open_files

def sys_open_files(ctx: CallContext, args: JSONDict) -> JSONDict:
    prefix: str | None = None
    if args.get("path"):
        prefix = os.path.realpath(ctx.resolve(args["path"])).rstrip("/") or "/"
    want_pid = args.get("pid")
    want_user = args.get("user")
    limit = int(args.get("limit", 1000))
    rows: list[JSONDict] = []
    denied = 0
    truncated = False
    procs: Iterator[psutil.Process]
    if want_pid is not None:
        try:
            procs = iter([psutil.Process(int(want_pid))])
        except psutil.NoSuchProcess:
            raise NotFound(f"no process with pid {want_pid}", call=ctx.call, target=f"pid {want_pid}",
                           hint="list processes with proc.list") from None
    else:
        procs = psutil.process_iter(["name", "username"], ad_value=None)

    def under(path: str) -> bool:
        if prefix is None:
            return True
        return prefix == "/" or path == prefix or path.startswith(prefix + "/")

    for i, p in enumerate(procs):
        if i % 64 == 0:
            ctx.check_cancel()
        try:
            info = p.info if hasattr(p, "info") else {"name": p.name(), "username": p.username()}
            if want_user and info.get("username") != want_user:
                continue
            files = p.open_files()
        except psutil.AccessDenied:
            denied += 1
            continue
        except psutil.NoSuchProcess:
            continue
        for f in files:
            if not under(f.path):
                continue
            if len(rows) >= limit:
                truncated = True
                break
            rows.append({"pid": p.pid, "name": info.get("name"), "user": info.get("username"), "fd": f.fd,
                         "mode": getattr(f, "mode", None), "path": f.path})
        if truncated:
            break
    rows.sort(key=lambda r: (r["pid"], r["fd"]))
    return {"files": rows, "count": len(rows), "path": prefix, "skipped_access_denied": denied,
            "truncated": truncated}


# ---------------------------------------------------------------- fs.df

def _mount_of(path: str) -> JSONDict:
    """The mount holding ``path``: longest mount point that is a prefix of its real path."""
    real = os.path.realpath(path)
    best: Any = None
    for part in psutil.disk_partitions(all=True):
        mp = part.mountpoint
        if real == mp or real.startswith(mp.rstrip("/") + "/") or mp == "/":
            if best is None or len(mp) >= len(best.mountpoint):
                best = part
    if best is None:
        return {"device": None, "mountpoint": None, "fstype": None}
    return {"device": best.device, "mountpoint": best.mountpoint, "fstype": best.fstype}


def _ceil_percent(used: int, avail: int) -> int | None:
    total = used + avail
    if total <= 0:
        return None
    return -(-used * 100 // total)


def fs_df(ctx: CallContext, args: JSONDict) -> JSONDict:
    raw = args.get("path", ".")
    path = str(ctx.resolve(raw))
    real = str(checked_path(ctx, raw))
    try:
        sv = os.statvfs(real)
    except OSError as exc:
        raise from_oserror(exc, call=ctx.call, target=path) from exc
    size = sv.f_blocks * sv.f_frsize
    free = sv.f_bfree * sv.f_frsize
    avail = sv.f_bavail * sv.f_frsize
    used = size - free
    inodes_used = sv.f_files - sv.f_ffree
    return {
        "path": path,
        **_mount_of(real),
        "total_bytes": size,
        "used_bytes": used,
        "free_bytes": free,
        "available_bytes": avail,
        "percent_used": _ceil_percent(used, avail),
        "block_size": sv.f_frsize,
        "inodes_total": sv.f_files,
        "inodes_used": inodes_used,
        "inodes_free": sv.f_ffree,
        "inodes_available": sv.f_favail,
        "inodes_percent_used": _ceil_percent(inodes_used, sv.f_ffree) if sv.f_files else None,
        "read_only": bool(sv.f_flag & os.ST_RDONLY),
    }


# ---------------------------------------------------------------- fs.type: the sniffer

SNIFF_BYTES = 1 << 20

_SIGNATURES: tuple[tuple[int, bytes, str, str], ...] = (
    (0, b"\x89PNG\r\n\x1a\n", "image/png", "PNG image"),
    (0, b"\xff\xd8\xff", "image/jpeg", "JPEG image"),
    (0, b"GIF87a", "image/gif", "GIF image"),
    (0, b"GIF89a", "image/gif", "GIF image"),
    (0, b"%PDF-", "application/pdf", "PDF document"),
    (0, b"\x1f\x8b", "application/gzip", "gzip compressed data"),
    (0, b"BZh", "application/x-bzip2", "bzip2 compressed data"),
    (0, b"\xfd7zXZ\x00", "application/x-xz", "XZ compressed data"),
    (0, b"\x28\xb5\x2f\xfd", "application/zstd", "Zstandard compressed data"),
    (0, b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed", "7-zip archive"),
    (0, b"Rar!\x1a\x07", "application/x-rar", "RAR archive"),
    (0, b"SQLite format 3\x00", "application/vnd.sqlite3", "SQLite 3 database"),
    (0, b"\xca\xfe\xba\xbe", "application/x-java-applet", "compiled Java class data"),
    (0, b"%!PS", "application/postscript", "PostScript document"),
    (0, b"{\\rtf", "text/rtf", "Rich Text Format"),
    (0, b"OggS", "audio/ogg", "Ogg data"),
    (0, b"fLaC", "audio/flac", "FLAC audio"),
    (0, b"ID3", "audio/mpeg", "MP3 audio (ID3)"),
    (0, b"\x00\x00\x01\x00", "image/vnd.microsoft.icon", "MS Windows icon"),
    (0, b"wOFF", "font/woff", "Web Open Font Format"),
    (0, b"wOF2", "font/woff2", "Web Open Font Format 2"),
    (0, b"\x00asm", "application/wasm", "WebAssembly binary"),
    (0, b"!<arch>\n", "application/x-archive", "ar archive"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage", "OLE 2 compound document"),
    (0, b"\xde\x12\x04\x95", "application/x-gettext-translation", "GNU message catalog"),
    (0, b"\x95\x04\x12\xde", "application/x-gettext-translation", "GNU message catalog"),
    (0, b"\xfe\xed\xfe\xed", "application/x-java-keystore", "Java KeyStore"),
    (0, b"MZ", "application/x-dosexec", "DOS/Windows executable"),
)

_TEXT_BAD = frozenset([*range(0, 7), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])
_SCRIPTS = (
    ("python", "text/x-script.python", "Python script"),
    ("bash", "text/x-shellscript", "Bourne-Again shell script"),
    ("zsh", "text/x-shellscript", "Zsh script"),
    ("dash", "text/x-shellscript", "shell script"),
    ("ksh", "text/x-shellscript", "Korn shell script"),
    ("sh", "text/x-shellscript", "POSIX shell script"),
    ("perl", "text/x-perl", "Perl script"),
    ("ruby", "text/x-ruby", "Ruby script"),
    ("node", "application/javascript", "Node.js script"),
    ("php", "text/x-php", "PHP script"),
    ("awk", "text/x-awk", "awk script"),
    ("lua", "text/x-lua", "Lua script"),
    ("tclsh", "text/x-tcl", "Tcl script"),
    ("make", "text/x-makefile", "makefile script"),
)
_HTML_TAGS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<title", b"<script", b"<h1", b"<table")


ReadAt = Callable[[int, int], bytes]


def _elf(head: bytes, read_at: ReadAt | None = None) -> tuple[str, str]:
    if len(head) < 20:
        return "application/octet-stream", "truncated ELF"
    cls, data = head[4], head[5]
    end = "<" if data == 1 else ">"
    etype = struct.unpack_from(end + "H", head, 16)[0]
    if etype == 1:
        return "application/x-object", "ELF relocatable"
    if etype == 2:
        return "application/x-executable", "ELF executable"
    if etype == 4:
        return "application/x-coredump", "ELF core file"
    if etype != 3:
        return "application/octet-stream", "ELF"
    try:  # a shared object is a PIE executable when DT_FLAGS_1 has DF_1_PIE
        if cls == 2:
            phoff = struct.unpack_from(end + "Q", head, 32)[0]
            phentsize, phnum = struct.unpack_from(end + "HH", head, 54)
            dyn_fmt, dyn_size = end + "qQ", 16
        else:
            phoff = struct.unpack_from(end + "I", head, 28)[0]
            phentsize, phnum = struct.unpack_from(end + "HH", head, 42)
            dyn_fmt, dyn_size = end + "iI", 8
        for i in range(phnum):
            o = phoff + i * phentsize
            if struct.unpack_from(end + "I", head, o)[0] != 2:  # PT_DYNAMIC
                continue
            if cls == 2:
                off, _va, _pa, filesz = struct.unpack_from(end + "QQQQ", head, o + 8)
            else:
                off, _va, _pa, filesz = struct.unpack_from(end + "IIII", head, o + 4)
            seg = head[off:off + filesz]
            if len(seg) < filesz and read_at is not None:  # the dynamic section lies past what was read
                seg = read_at(off, min(filesz, 1 << 16))
            for j in range(0, len(seg) - dyn_size + 1, dyn_size):
                tag, val = struct.unpack_from(dyn_fmt, seg, j)
                if tag == 0:
                    break
                if tag == 0x6FFFFFFB and val & 0x08000000:
                    return "application/x-pie-executable", "ELF pie executable"
    except struct.error:
        pass
    return "application/x-sharedlib", "ELF shared object"


def _zip(head: bytes) -> tuple[str, str]:
    name_len = struct.unpack_from("<H", head, 26)[0] if len(head) >= 30 else 0
    first = head[30:30 + name_len]
    if first == b"mimetype":
        extra = struct.unpack_from("<H", head, 28)[0]
        start = 30 + name_len + extra
        mime = head[start:start + 80].split(b"PK", 1)[0].decode("ascii", "replace").strip()
        if mime:
            return mime, "document (zip container)"
    if b"[Content_Types].xml" in head[:4096] or first.startswith((b"word/", b"xl/", b"ppt/", b"_rels/")):
        for marker, mime in ((b"word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
                             (b"xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                             (b"ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation")):
            if marker in head:
                return mime, "Microsoft OOXML"
    if first == b"META-INF/MANIFEST.MF" or first == b"META-INF/":
        return "application/java-archive", "Java archive"
    return "application/zip", "Zip archive"


def _riff(head: bytes) -> tuple[str, str] | None:
    kind = head[8:12]
    if kind == b"WAVE":
        return "audio/x-wav", "RIFF WAVE audio"
    if kind == b"WEBP":
        return "image/webp", "RIFF WebP image"
    if kind == b"AVI ":
        return "video/x-msvideo", "RIFF AVI video"
    return None


def _charset(data: bytes) -> str | None:
    """The text encoding of ``data`` the way libmagic decides "text", or None for binary."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) and len(data) >= 2:
        codec = "utf-16-le" if data[:2] == b"\xff\xfe" else "utf-16-be"
        try:
            text = data[2:len(data) - (len(data) % 2)].decode(codec)
        except UnicodeDecodeError:
            return None
        if not any(ord(ch) in _TEXT_BAD for ch in text if ord(ch) < 0x80):
            return codec
        return None
    if any(b in _TEXT_BAD for b in data):
        return None
    if all(b < 0x80 for b in data):
        return "us-ascii"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3 and len(data) >= SNIFF_BYTES:
            return "utf-8"
    return "iso-8859-1" if all(b < 0x80 or b >= 0xA0 for b in data) else "unknown-8bit"


def _is_json(text: str) -> bool:
    s = text.strip()
    if not s or s[0] not in "{[":
        return False
    try:
        json.loads(s)
    except ValueError:
        return False
    return True


def _is_csv(text: str) -> bool:
    lines = [ln for ln in text.splitlines()[:10] if ln.strip()]
    if len(lines) < 2:
        return False
    for sep in (",", "\t", ";"):
        counts = {ln.count(sep) for ln in lines}
        if len(counts) == 1 and next(iter(counts)) >= 1 and (sep != "\t" or len(lines) >= 3):
            return sep == ","
    return False


_CXX = re.compile(r"^(?:namespace\s+[A-Za-z_]\w*\s*\{|template\s*<.*>\s*$|"
                  r"class[ \t]+[A-Za-z_]\w*[ \t]*(?::[^;{\n]*)?\{|(?:public|private|protected):\s*$)", re.M)
_C = re.compile(r"^#\s*include\s*[<\"]", re.M)
_PY_FROM = re.compile(r"^from\s+[\w.]+\s+import.*$", re.M)
_PY_DEF = re.compile(r"^[ \t]{0,50}def +[_a-zA-Z]{1,100}\(([_a-zA-Z]\w*(, [_a-zA-Z]\w*)*)?\):$", re.M)
_PY_TRY = re.compile(r"^\s*except.*:$", re.M)
_TROFF = re.compile(r"^(?:\.\\\"|'\\\"|'\.\\\"|\\\")")
_TROFF_REQ = re.compile(r"^\.[A-Za-z0-9][A-Za-z0-9][ \t]", re.M)
_MAKE = re.compile(r"^(?:CFLAGS|VPATH|LDFLAGS|all:|\.PRECIOUS|\.BEGIN|\.include|SUBDIRS)", re.M)


def _python_like(text: str) -> bool:
    """libmagic's Python heuristics for a script without a #! line (a module that opens with a
    docstring matches another of its rules first, one without a MIME type: text/plain)."""
    if text.lstrip().startswith(('"""', "'''")):
        return False
    if "import" in text and _PY_FROM.search(text):
        return True
    i = text.find("def __init__")
    if i >= 0 and "self" in text[i:i + 76]:
        return True
    j = text.find("try:")
    if j >= 0 and (_PY_TRY.search(text, j) or "finally:" in text[j:]):
        return True
    return bool(_PY_DEF.search(text))


def _text_kind(data: bytes, charset: str) -> tuple[str, str]:
    if charset.startswith("utf-16"):
        return "text/plain", "Unicode text, UTF-16"
    text = data.decode("utf-8" if charset in ("us-ascii", "utf-8") else "latin-1", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    first = text.split("\n", 1)[0]
    if first.startswith("#!"):
        words = first[2:].strip().split()
        interp = os.path.basename(words[0]) if words else ""
        if interp == "env" and len(words) > 1:
            interp = os.path.basename(next((w for w in words[1:] if not w.startswith("-")), ""))
        for name, mime, desc in _SCRIPTS:
            if interp.startswith(name):
                return mime, desc
        return "text/plain", "script text"
    stripped = text.lstrip()
    low = stripped[:512].lower().encode("utf-8", "replace")
    if stripped.startswith("<?php"):
        return "text/x-php", "PHP script"
    if stripped.startswith("<?xml"):
        if "<svg" in stripped[:4096]:
            return "image/svg+xml", "SVG image"
        return "text/xml", "XML document"
    if stripped.startswith("<svg"):
        return "image/svg+xml", "SVG image"
    if any(low.startswith(tag) for tag in _HTML_TAGS):
        return "text/html", "HTML document"
    if _is_json(text):
        return "application/json", "JSON data"
    if first.startswith(("diff ", "Index: ")) or (first.startswith("--- ") and "\n+++ " in text[:4096]):
        return "text/x-diff", "unified diff output"
    head = text[:8192]
    if _CXX.search(head):
        return "text/x-c++", "C++ source"
    if _C.search(head):
        return "text/x-c", "C source"
    if _python_like(head):
        return "text/x-script.python", "Python script"
    if _TROFF.match(head) or _TROFF_REQ.search("\n".join(head.splitlines()[:20])):
        return "text/troff", "troff or preprocessor input"
    if _MAKE.search("\n".join(head.splitlines()[:100])):
        return "text/x-makefile", "makefile script"
    if first.startswith(("From:", "Return-Path:", "Received:", "Delivered-To:")) or \
            (first.startswith("From ") and "\n" in text):
        return "message/rfc822", "mail message"
    if _is_csv(text):
        return "text/csv", "CSV text"
    return "text/plain", "text"


def sniff(data: bytes, read_at: ReadAt | None = None) -> tuple[str, str, str]:
    """(mime type, description, charset) of content ``data`` (its first ``SNIFF_BYTES``);
    ``read_at(offset, size)`` reads further where a format keeps what decides past them."""
    if not data:
        return "inode/x-empty", "empty", "binary"
    if len(data) == 1:
        return "application/octet-stream", "very short file (no magic)", "binary"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        utf16 = _charset(data)
        if utf16 is not None:
            return "text/plain", "Unicode text, UTF-16", utf16
    if data.startswith(b"\x7fELF"):
        mime, desc = _elf(data, read_at)
        return mime, desc, "binary"
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        mime, desc = _zip(data)
        return mime, desc, "binary"
    if data.startswith(b"RIFF") and len(data) >= 12:
        hit = _riff(data)
        if hit:
            return hit[0], hit[1], "binary"
    if len(data) > 262 and data[257:262] == b"ustar":
        return "application/x-tar", "tar archive", "binary"
    if data[4:8] == b"ftyp" and len(data) >= 12:
        brand = data[8:12]
        if brand in (b"M4A ", b"M4B "):
            return "audio/x-m4a", "MPEG-4 audio", "binary"
        if brand in (b"qt  ",):
            return "video/quicktime", "QuickTime video", "binary"
        return "video/mp4", "ISO Media, MP4", "binary"
    if len(data) >= 2 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0 and data[1] & 0x06:
        if not data.startswith(b"\xff\xd8"):
            return "audio/mpeg", "MPEG audio", "binary"
    if len(data) >= 16 and data[2:4] == b"\r\n" and data[:2] in (b"\x55\x0d", b"\x6f\x0d", b"\xa7\x0d",
                                                                      b"\xcb\x0d", b"\xef\x0d"):
        return "application/x-bytecode.python", "Python byte-compiled", "binary"
    if data.startswith(b"BM") and len(data) >= 26 and struct.unpack_from("<I", data, 14)[0] in (12, 40, 56, 108, 124):
        return "image/bmp", "PC bitmap", "binary"
    for offset, magic, mime, desc in _SIGNATURES:
        if data[offset:offset + len(magic)] == magic:
            return mime, desc, "binary"
    if b"%PDF-" in data[:1024]:
        return "application/pdf", "PDF document", "binary"
    charset = _charset(data)
    if charset is None:
        return "application/octet-stream", "data", "binary"
    mime, desc = _text_kind(data, charset)
    return mime, desc, charset


_INODE_TYPES = {"dir": "inode/directory", "symlink": "inode/symlink", "fifo": "inode/fifo",
                "socket": "inode/socket", "char_device": "inode/chardevice", "block_device": "inode/blockdevice"}


def _type_row(ctx: CallContext, path: str, display: str) -> JSONDict:
    """The type of one path (not following a symlink, as ``file`` does)."""
    try:
        st = os.lstat(path)
    except OSError as exc:
        raise from_oserror(exc, call=ctx.call, target=display) from exc
    kind = U.type_of(st.st_mode)
    row: JSONDict = {"path": display, "name": os.path.basename(display) or display, "type": kind,
                     "size_bytes": st.st_size}
    if kind != "file":
        row.update(mime_type=_INODE_TYPES.get(kind, "inode/x-unknown"), charset="binary",
                   description=kind.replace("_", " "))
        if kind == "symlink":
            try:
                row["link_target"] = os.readlink(path)
            except OSError:
                pass
        return row
    if st.st_size == 0:
        row.update(mime_type="inode/x-empty", charset="binary", description="empty")
        return row
    try:
        fd = open_nofollow(path, call=ctx.call)
    except SyscallError as exc:
        row.update(mime_type=None, charset=None, description=None, error=exc.message)
        return row
    try:
        data = U.read_prefix(fd, SNIFF_BYTES)
        mime, desc, charset = sniff(data, lambda off, size: os.pread(fd, size, off))
    except OSError as exc:
        row.update(mime_type=None, charset=None, description=None, error=exc.strerror or str(exc))
        return row
    finally:
        os.close(fd)
    row.update(mime_type=mime, charset=charset, description=desc)
    return row


def fs_type(ctx: CallContext, args: JSONDict) -> JSONDict:
    raw = args["path"]
    path = str(ctx.resolve(raw))
    hidden = bool(args.get("hidden", False))
    limit = int(args.get("limit", 1000))
    try:
        st = os.lstat(path)
    except OSError as exc:
        raise from_oserror(exc, call=ctx.call, target=path) from exc
    if not stat.S_ISDIR(st.st_mode):
        return {"path": path, "entries": [_type_row(ctx, path, path)], "count": 1, "truncated": False}
    real = str(checked_path(ctx, raw))
    dfd = safe_open_dir(real, call=ctx.call)
    try:
        names = sorted(e.name for e in os.scandir(dfd) if hidden or not e.name.startswith("."))
    except OSError as exc:
        raise from_oserror(exc, call=ctx.call, target=path) from exc
    finally:
        os.close(dfd)
    rows: list[JSONDict] = []
    for i, name in enumerate(names[:limit]):
        if i % 64 == 0:
            ctx.check_cancel()
        try:
            rows.append(_type_row(ctx, os.path.join(real, name), os.path.join(path, name)))
        except SyscallError:
            continue  # vanished meanwhile
    return {"path": path, "entries": rows, "count": len(rows), "truncated": len(names) > limit}


# ---------------------------------------------------------------- fs.tree

def fs_tree(ctx: CallContext, args: JSONDict) -> JSONDict:
    raw = args.get("path", ".")
    path = str(ctx.resolve(raw))
    real = str(checked_path(ctx, raw))
    depth = int(args.get("depth", 2))
    hidden = bool(args.get("hidden", False))
    dirs_only = bool(args.get("dirs_only", False))
    limit = int(args.get("limit", 2000))
    try:
        st = os.stat(real)
    except OSError as exc:
        raise from_oserror(exc, call=ctx.call, target=path) from exc
    if not stat.S_ISDIR(st.st_mode):
        raise WrongType("is not a directory", call=ctx.call, target=path,
                        hint="give a directory; use fs.stat for one file")
    root: JSONDict = {"name": os.path.basename(path.rstrip("/")) or path, "path": path, "type": "dir",
                      "children": []}
    counts = {"dirs": 0, "files": 0, "entries": 0}
    errors: list[str] = []
    truncated = False
    # (node, real dir, displayed dir, level of its children)
    stack: list[tuple[JSONDict, str, str, int]] = [(root, real, path, 1)]
    while stack:
        node, rdir, ddir, level = stack.pop()
        ctx.check_cancel()
        try:
            dfd = safe_open_dir(rdir, call=ctx.call)
        except SyscallError as exc:
            errors.append(f"{ddir}: {exc.message}")
            continue
        try:
            with os.scandir(dfd) as it:
                entries = sorted(it, key=lambda e: e.name)
                kids: list[tuple[str, int, int]] = []
                for e in entries:
                    if not hidden and e.name.startswith("."):
                        continue
                    try:
                        est = e.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    kids.append((e.name, est.st_mode, est.st_size))
        except OSError as exc:
            errors.append(f"{ddir}: {exc.strerror}")
            continue
        finally:
            os.close(dfd)
        for name, mode, size in kids:
            kind = U.type_of(mode)
            if dirs_only and kind != "dir":
                continue
            if counts["entries"] >= limit:
                truncated = True
                break
            child: JSONDict = {"name": name, "path": os.path.join(ddir, name), "type": kind}
            counts["entries"] += 1
            if kind == "dir":
                counts["dirs"] += 1
                child["children"] = []
                if level < depth:
                    stack.append((child, os.path.join(rdir, name), child["path"], level + 1))
            else:
                counts["files"] += 1
                child["size_bytes"] = size
            node["children"].append(child)
        if truncated:
            break
    out: JSONDict = {"path": path, "depth": depth, "tree": [root], "dirs": counts["dirs"],
                     "files": counts["files"], "count": counts["entries"], "truncated": truncated}
    if errors:
        out["errors"] = errors[:20]
    return out


# ---------------------------------------------------------------- fs.chown

def _chown_ids(ctx: CallContext, args: JSONDict) -> tuple[int, int]:
    user, group = args.get("user"), args.get("group")
    if not user and not group:
        raise InvalidRequest("say the new owner (user), the new group (group), or both", call=ctx.call,
                             field="args.user", hint="e.g. fs.chown path=\"x\" user=\"alice\"")
    uid = U.lookup_uid(user, ctx.call) if user else -1
    gid = U.lookup_gid(group, ctx.call) if group else -1
    return uid, gid


def _chown_targets(ctx: CallContext, args: JSONDict) -> tuple[str, list[str]]:
    """The checked top path (a symlink given by name is followed, as chown does) and, when
    recursive, every entry below it (symlinks themselves, never followed)."""
    path = str(ctx.resolve(args["path"]))
    top = str(checked_path(ctx, args["path"]))
    try:
        st = os.stat(top)
    except OSError as exc:
        raise from_oserror(exc, call=ctx.call, target=path) from exc
    targets = [top]
    if args.get("recursive") and stat.S_ISDIR(st.st_mode):
        targets += U.entries_below(ctx, top, symlinks=True)  # chown changes a link itself (lchown)
    return path, targets


def _chown_error(exc: OSError, call: str, target: str) -> SyscallError:
    if exc.errno in (errno.EPERM, errno.EACCES):
        return AccessDenied("not permitted to change the owner or group", call=call, target=target,
                            hint="changing the owner needs root (CAP_CHOWN); a user may only set the group "
                                 "to one they belong to, on files they own")
    return from_oserror(exc, call=call, target=target)


def fs_chown(ctx: CallContext, args: JSONDict) -> JSONDict:
    uid, gid = _chown_ids(ctx, args)
    path, targets = _chown_targets(ctx, args)
    changed: list[JSONDict] = []
    unchanged = 0
    for t in targets:
        ctx.check_cancel()
        try:
            st = os.lstat(t)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise from_oserror(exc, call=ctx.call, target=t) from exc
        new_uid = st.st_uid if uid < 0 else uid
        new_gid = st.st_gid if gid < 0 else gid
        if (new_uid, new_gid) == (st.st_uid, st.st_gid):
            unchanged += 1
            continue
        try:
            os.chown(t, new_uid, new_gid, follow_symlinks=False)
        except OSError as exc:
            raise _chown_error(exc, ctx.call, t) from exc
        ctx.effects.record(ctx, {"call": "fs.chown", "args": {"path": t, "uid": st.st_uid, "gid": st.st_gid}})
        changed.append({"path": t, "old_owner": U.user_name(st.st_uid), "old_group": U.group_name(st.st_gid),
                        "new_owner": U.user_name(new_uid), "new_group": U.group_name(new_gid)})
    return {"path": path, "entries": changed[: ctx.max_rows], "changed": len(changed), "unchanged": unchanged,
            "truncated": len(changed) > ctx.max_rows}


def pv_chown(ctx: CallContext, args: JSONDict) -> JSONDict:
    uid, gid = _chown_ids(ctx, args)
    path = str(ctx.resolve(args["path"]))
    if not os.path.lexists(path):
        return {"paths": [path], "count": 0, "exists": {path: False}}
    _, targets = _chown_targets(ctx, args)
    changes: list[JSONDict] = []
    needs_root = False
    count = 0
    for t in targets:
        try:
            st = os.lstat(t)
        except OSError:
            continue
        new_uid = st.st_uid if uid < 0 else uid
        new_gid = st.st_gid if gid < 0 else gid
        if (new_uid, new_gid) == (st.st_uid, st.st_gid):
            continue
        count += 1
        needs_root = needs_root or (new_uid != st.st_uid and os.geteuid() != 0)
        if len(changes) < 50:
            changes.append({"path": t, "old": f"{U.user_name(st.st_uid)}:{U.group_name(st.st_gid)}",
                            "new": f"{U.user_name(new_uid)}:{U.group_name(new_gid)}"})
    return {"paths": [path], "count": count, "exists": {path: True}, "changes": changes,
            "needs_root": needs_root}


# ---------------------------------------------------------------- registration

def register(registry: Registry) -> None:
    registry.syscall(
        "sys.accounts",
        "List the user accounts or the groups of this system (the passwd and group databases, not only "
        "who is logged in), optionally only those whose name matches.",
        args=S.obj({
            "kind": S.enum(["users", "groups"], "users (default) or groups"),
            "name": S.string("only this name, or a shell-style pattern such as 'www*'", min_length=1,
                             max_length=256),
        }),
        result=S.table(S.obj({
            "name": S.string(), "uid": S.integer(), "gid": S.integer(), "group": S.string(),
            "gecos": _NSTR, "home": S.string(), "shell": _NSTR,
            "members": S.array(S.string(), max_items=10**6),
        }, required=["name"]), "accounts", {"kind": S.enum(["users", "groups"]), "count": S.integer(minimum=0)}),
        capability="sys.read",
        risk=Risk.READ,
        view=View("table", "accounts", ("name", "uid", "gid", "group", "home", "shell", "members")),
        examples=[
            ("list all users on this system", {"kind": "users"}),
            ("which groups exist", {"kind": "groups"}),
            ("who is in the docker group", {"kind": "groups", "name": "docker"}),
            ("what is the home directory of user www-data", {"kind": "users", "name": "www-data"}),
        ],
        phrasings=[
            ("list all users on this system", 'sys.accounts kind="users"'),
            ("which user accounts exist", 'sys.accounts kind="users"'),
            ("show every user account", 'sys.accounts kind="users"'),
            ("cat /etc/passwd as a table", 'sys.accounts kind="users"'),
            ("getent passwd", 'sys.accounts kind="users"'),
            ("which groups exist", 'sys.accounts kind="groups"'),
            ("list the groups on this machine", 'sys.accounts kind="groups"'),
            ("getent group", 'sys.accounts kind="groups"'),
            ("does a user called {user} exist", 'sys.accounts kind="users" name={user}'),
            ("what is the uid of {user}", 'sys.accounts kind="users" name={user}'),
            ("show the home directory and shell of {user}", 'sys.accounts kind="users" name={user}'),
            ("who is in the {user} group", 'sys.accounts kind="groups" name={user}'),
            ("members of the group {user}", 'sys.accounts kind="groups" name={user}'),
        ],
    )(sys_accounts)

    registry.syscall(
        "sys.shells",
        "List the login shells this system allows (/etc/shells), which exist, and which one is yours.",
        args=S.obj({}),
        result=S.table(S.obj({"path": S.string(), "exists": S.boolean(), "yours": S.boolean()},
                             required=["path", "exists"]), "shells",
                       {"file": S.string(), "file_exists": S.boolean(), "your_shell": _NSTR}),
        capability="sys.read",
        risk=Risk.READ,
        view=View("table", "shells", ("path", "exists", "yours")),
        examples=[
            ("what shells are available", {}),
            ("which login shells can I use", {}),
            ("cat /etc/shells", {}),
        ],
        phrasings=[
            ("what shells are available", 'sys.shells'),
            ("which login shells can I use", 'sys.shells'),
            ("list the installed shells", 'sys.shells'),
            ("cat /etc/shells", 'sys.shells'),
            ("which shells does this system allow", 'sys.shells'),
            ("is zsh an allowed login shell", 'sys.shells'),
            ("what is my login shell", 'sys.shells'),
            ("show valid shells", 'sys.shells'),
        ],
    )(sys_shells)

    registry.syscall(
        "sys.dns",
        "Show the DNS servers and search domains this machine uses (/etc/resolv.conf; behind a local "
        "stub resolver, its upstream servers too).",
        args=S.obj({}),
        result=S.table(S.obj({"address": S.string(), "source": S.string(), "used": S.boolean(),
                              "local_stub": S.boolean()}, required=["address", "source"]), "servers",
                       {"search": S.array(S.string()), "options": S.array(S.string()), "file": S.string(),
                        "file_exists": S.boolean()}),
        capability="sys.read",
        risk=Risk.READ,
        view=View("table", "servers", ("address", "source", "used", "local_stub")),
        examples=[
            ("what dns servers am I using", {}),
            ("show the search domains", {}),
            ("cat /etc/resolv.conf", {}),
        ],
        phrasings=[
            ("what dns servers am I using", 'sys.dns'),
            ("which name servers are configured", 'sys.dns'),
            ("show my dns settings", 'sys.dns'),
            ("cat /etc/resolv.conf", 'sys.dns'),
            ("what is my dns", 'sys.dns'),
            ("show the search domains", 'sys.dns'),
            ("which resolver does this machine use", 'sys.dns'),
            ("dns config", 'sys.dns'),
        ],
    )(sys_dns)

    registry.syscall(
        "sys.load",
        "Show how long the machine has been up, when it booted, and the 1, 5 and 15 minute load averages.",
        args=S.obj({}),
        result=S.obj({
            "uptime_s": S.number(minimum=0), "boot_time": S.number("epoch seconds"), "boot_time_iso": S.string(),
            "load_avg_1m": S.number(minimum=0), "load_avg_5m": S.number(minimum=0),
            "load_avg_15m": S.number(minimum=0), "cpus": S.integer(minimum=1), "running_tasks": _NINT,
            "total_tasks": _NINT, "users": _NINT,
        }, required=["uptime_s", "boot_time", "load_avg_1m", "load_avg_5m", "load_avg_15m"]),
        capability="sys.read",
        risk=Risk.READ,
        view=View("record"),
        examples=[
            ("what's the load average", {}),
            ("how long since boot", {}),
            ("uptime", {}),
            ("when did the system boot", {}),
        ],
        phrasings=[
            ("what's the load average", 'sys.load'),
            ("load average", 'sys.load'),
            ("how long since boot", 'sys.load'),
            ("uptime", 'sys.load'),
            ("how long has the machine been up", 'sys.load'),
            ("when did the system boot", 'sys.load'),
            ("how loaded is the system", 'sys.load'),
            ("show the system load", 'sys.load'),
            ("when was the last reboot", 'sys.load'),
            ("cat /proc/loadavg", 'sys.load'),
        ],
    )(sys_load)

    registry.syscall(
        "sys.interfaces",
        "Show the network interfaces with their IPv4 / IPv6 addresses, MAC, state, MTU and traffic "
        "counters (nothing is sent on the network).",
        args=S.obj({"name": S.string("only this interface, or a shell-style pattern such as 'eth*'",
                                     min_length=1, max_length=64)}),
        result=S.table(S.obj({
            "name": S.string(), "state": _NSTR, "is_up": {"type": ["boolean", "null"]},
            "flags": S.array(S.string()), "mtu": _NINT, "speed_mbps": _NINT, "mac": _NSTR,
            "ipv4": S.array(S.string()), "ipv6": S.array(S.string()),
            "bytes_sent": _NINT, "bytes_recv": _NINT, "packets_sent": _NINT, "packets_recv": _NINT,
            "errors_in": _NINT, "errors_out": _NINT, "drops_in": _NINT, "drops_out": _NINT,
        }, required=["name", "ipv4", "ipv6"]), "interfaces", {"count": S.integer(minimum=0)}),
        capability="sys.read",
        risk=Risk.READ,
        view=View("table", "interfaces", ("name", "state", "ipv4", "ipv6", "mac", "mtu", "bytes_recv",
                                          "bytes_sent")),
        examples=[
            ("show network interfaces and their addresses", {}),
            ("what is my ip address", {}),
            ("what is the mtu of eth0", {"name": "eth0"}),
            ("ip a", {}),
        ],
        phrasings=[
            ("show network interfaces and their addresses", 'sys.interfaces'),
            ("display the network interfaces", 'sys.interfaces'),
            ("show my network interfaces", 'sys.interfaces'),
            ("what is my ip address", 'sys.interfaces'),
            ("what's my ip", 'sys.interfaces'),
            ("ip a", 'sys.interfaces'),
            ("ip addr", 'sys.interfaces'),
            ("ifconfig", 'sys.interfaces'),
            ("what is my mac address", 'sys.interfaces'),
            ("which network interfaces are up", 'sys.interfaces'),
            ("how much traffic went through the network cards", 'sys.interfaces'),
            ("show the mtu of eth0", 'sys.interfaces name="eth0"'),
            ("ip address of wlan0", 'sys.interfaces name="wlan0"'),
        ],
    )(sys_interfaces)

    registry.syscall(
        "sys.open_files",
        "List open files system-wide (what lsof shows for the processes you may see), optionally only "
        "those under a path, of one process or of one user.",
        args=S.obj({
            "path": S.path("only files at or below this path"),
            "pid": S.pid("only this process"),
            "user": S.string("only processes of this user", min_length=1, max_length=64),
            "limit": S.integer("at most this many rows (default 1000)", minimum=1, maximum=100_000),
        }),
        result=S.table(S.obj({"pid": S.integer(), "name": _NSTR, "user": _NSTR, "fd": S.integer(),
                              "mode": _NSTR, "path": S.string()}, required=["pid", "fd", "path"]), "files",
                       {"count": S.integer(minimum=0), "path": _NSTR,
                        "skipped_access_denied": S.integer(minimum=0)}),
        capability="sys.read",
        risk=Risk.READ,
        view=View("table", "files", ("pid", "name", "user", "fd", "mode", "path")),
        examples=[
            ("list open files", {}),
            ("which files are open under /var/log", {"path": "/var/log"}),
            ("what files does process 1234 have open", {"pid": 1234}),
            ("lsof +D ~/projects", {"path": "~/projects"}),
        ],
        phrasings=[
            ("list open files", 'sys.open_files'),
            ("lsof", 'sys.open_files'),
            ("show all open files", 'sys.open_files'),
            ("which files are open under {dir}", 'sys.open_files path={dir}'),
            ("lsof +D {dir}", 'sys.open_files path={dir}'),
            ("what files are open in {dir}", 'sys.open_files path={dir}'),
            ("what files does process {pid} have open", 'sys.open_files pid={pid}'),
            ("lsof -p {pid}", 'sys.open_files pid={pid}'),
            ("which files has {user} got open", 'sys.open_files user={user}'),
            ("lsof -u {user}", 'sys.open_files user={user}'),
            ("show the first {n} open files", 'sys.open_files limit={n}'),
        ],
    )(sys_open_files)

    registry.syscall(
        "fs.df",
        "Show the free and used space and the inodes of the file system that holds a path (like df).",
        args=S.obj({"path": S.path("a file or directory on the file system (default: the current "
                                   "directory)")}),
        result=S.obj({
            "path": S.string(), "device": _NSTR, "mountpoint": _NSTR, "fstype": _NSTR,
            "total_bytes": S.integer(minimum=0), "used_bytes": S.integer(minimum=0),
            "free_bytes": S.integer(minimum=0), "available_bytes": S.integer(minimum=0), "percent_used": _NINT,
            "block_size": S.integer(minimum=0), "inodes_total": S.integer(minimum=0),
            "inodes_used": S.integer(minimum=0), "inodes_free": S.integer(minimum=0),
            "inodes_available": S.integer(minimum=0), "inodes_percent_used": _NINT, "read_only": S.boolean(),
        }, required=["path", "total_bytes", "used_bytes", "available_bytes", "inodes_total", "inodes_free"]),
        capability="fs.read",
        risk=Risk.READ,
        view=View("record"),
        examples=[
            ("how much space is free on the disk holding ~/Downloads", {"path": "~/Downloads"}),
            ("how many inodes are left", {}),
            ("df -h /srv", {"path": "/srv"}),
            ("is /var nearly full", {"path": "/var"}),
        ],
        phrasings=[
            ("how much space is free on the disk holding {dir}", 'fs.df path={dir}'),
            ("how much room is left where {dir} lives", 'fs.df path={dir}'),
            ("df {dir}", 'fs.df path={dir}'),
            ("df -h {dir}", 'fs.df path={dir}'),
            ("df -i {dir}", 'fs.df path={dir}'),
            ("how many inodes are left", 'fs.df'),
            ("how many inodes are free on {dir}", 'fs.df path={dir}'),
            ("is the file system with {dir} full", 'fs.df path={dir}'),
            ("free space here", 'fs.df path="."'),
            ("df .", 'fs.df path="."'),
            ("which file system is {dir} on", 'fs.df path={dir}'),
            ("can I fit more files in {dir}", 'fs.df path={dir}'),
        ],
    )(fs_df)

    registry.syscall(
        "fs.type",
        "Tell a file's type from its content (like `file`): the MIME type, a description and the text "
        "encoding; for a directory, the type of each entry.",
        args=S.obj({
            "path": S.path("a file, or a directory whose entries to type"),
            "hidden": S.boolean("for a directory: include dot files"),
            "limit": S.integer("for a directory: at most this many entries (default 1000)", minimum=1,
                               maximum=100_000),
        }, required=["path"]),
        result=S.table(S.obj({
            "path": S.string(), "name": S.string(), "type": S.enum([*U.TYPE_WORDS, "other"]),
            "size_bytes": S.integer(minimum=0), "mime_type": _NSTR, "charset": _NSTR, "description": _NSTR,
            "link_target": S.string(), "error": S.string(),
        }, required=["path", "type", "mime_type"]), "entries", {"path": S.string(), "count": S.integer()}),
        capability="fs.read",
        risk=Risk.READ,
        view=View("table", "entries", ("path", "mime_type", "description", "charset")),
        examples=[
            ("what type of file is data.bin", {"path": "data.bin"}),
            ("what kind of files are in ~/Downloads", {"path": "~/Downloads"}),
            ("file report", {"path": "report"}),
            ("is setup.exe really an executable", {"path": "setup.exe"}),
        ],
        phrasings=[
            ("what type of file is {file}", 'fs.type path={file}'),
            ("what kind of file is {file}", 'fs.type path={file}'),
            ("file {file}", 'fs.type path={file}'),
            ("what format is {file} in", 'fs.type path={file}'),
            ("is {file} a text file or binary", 'fs.type path={file}'),
            ("what's the mime type of {file}", 'fs.type path={file}'),
            ("what encoding is {file}", 'fs.type path={file}'),
            ("identify the file types in {dir}", 'fs.type path={dir}'),
            ("what kinds of files are in {dir}", 'fs.type path={dir}'),
            ("file {dir}/*", 'fs.type path={dir}'),
            ("detect the type of every file in {dir} including hidden ones", 'fs.type path={dir} hidden=true'),
        ],
    )(fs_type)

    registry.syscall(
        "fs.tree",
        "Show a directory as a tree, a given number of levels deep (like `tree -L N`).",
        args=S.obj({
            "path": S.path("the directory (default: the current one)"),
            "depth": S.integer("how many levels below it (default 2)", minimum=1, maximum=1000),
            "hidden": S.boolean("include dot files and dot directories"),
            "dirs_only": S.boolean("directories only"),
            "limit": S.integer("at most this many entries (default 2000)", minimum=1, maximum=200_000),
        }),
        result=S.obj({
            "path": S.string(), "depth": S.integer(),
            "tree": S.array({"type": "object"}, "one root node; each node has name, path, type and, "
                            "for directories, children", max_items=1),
            "dirs": S.integer(minimum=0), "files": S.integer(minimum=0), "count": S.integer(minimum=0),
            "truncated": S.boolean(), "errors": S.array(S.string()),
        }, required=["path", "tree", "count"]),
        capability="fs.read",
        risk=Risk.READ,
        view=View("tree", "tree"),
        examples=[
            ("show the tree of src 3 levels deep", {"path": "src", "depth": 3}),
            ("tree", {}),
            ("tree -d ~/projects", {"path": "~/projects", "dirs_only": True}),
            ("show the folder structure here including hidden ones", {"path": ".", "hidden": True}),
        ],
        phrasings=[
            ("show the tree of {dir} {n} levels deep", 'fs.tree path={dir} depth={n}'),
            ("tree -L {n} {dir}", 'fs.tree path={dir} depth={n}'),
            ("tree {dir}", 'fs.tree path={dir}'),
            ("tree", 'fs.tree'),
            ("show the folder structure of {dir}", 'fs.tree path={dir}'),
            ("draw the directory tree of {dir}", 'fs.tree path={dir}'),
            ("tree -d {dir}", 'fs.tree path={dir} dirs_only=true'),
            ("show only the subfolders of {dir} as a tree", 'fs.tree path={dir} dirs_only=true'),
            ("tree -a {dir}", 'fs.tree path={dir} hidden=true'),
            ("show the layout of this project", 'fs.tree path="."'),
            ("the structure of {dir} down to {n} levels", 'fs.tree path={dir} depth={n}'),
        ],
    )(fs_tree)

    registry.syscall(
        "fs.chown",
        "Change the owner and / or group of a file or directory (recursively on request); needs root to "
        "give a file to another user. Undo restores the previous owner and group.",
        args=S.obj({
            "path": S.path("the file or directory"),
            "user": S.string("the new owner: a user name or numeric uid", min_length=1, max_length=64),
            "group": S.string("the new group: a group name or numeric gid", min_length=1, max_length=64),
            "recursive": S.boolean("also everything below a directory (symbolic links are changed "
                                   "themselves, never followed)"),
        }, required=["path"]),
        result=S.table(S.obj({"path": S.string(), "old_owner": S.string(), "old_group": S.string(),
                              "new_owner": S.string(), "new_group": S.string()}, required=["path"]),
                       "entries", {"path": S.string(), "changed": S.integer(minimum=0),
                                   "unchanged": S.integer(minimum=0)}),
        capability="fs.chown",
        risk=Risk.WRITE,
        undoable=True,
        view=View("table", "entries", ("path", "old_owner", "old_group", "new_owner", "new_group")),
        preview=pv_chown,
        examples=[
            ("chown alice notes.txt", {"path": "notes.txt", "user": "alice"}),
            ("change the owner of /srv/www to www-data", {"path": "/srv/www", "user": "www-data"}),
            ("give the group staff to reports recursively", {"path": "reports", "group": "staff",
                                                             "recursive": True}),
            ("chown -R bob:bob build", {"path": "build", "user": "bob", "group": "bob", "recursive": True}),
        ],
        phrasings=[
            ("chown {user} {file}", 'fs.chown path={file} user={user}'),
            ("change the owner of {file} to {user}", 'fs.chown path={file} user={user}'),
            ("make {user} the owner of {file}", 'fs.chown path={file} user={user}'),
            ("give {file} to {user}", 'fs.chown path={file} user={user}'),
            ("chgrp {user} {file}", 'fs.chown path={file} group={user}'),
            ("change the group of {file} to {user}", 'fs.chown path={file} group={user}'),
            ("chown -R {user} {dir}", 'fs.chown path={dir} user={user} recursive=true'),
            ("make {user} own everything in {dir}", 'fs.chown path={dir} user={user} recursive=true'),
            ("chown {user}:{user2} {file}", 'fs.chown path={file} user={user} group={user2}'),
            ("set owner and group of {dir} to {user} recursively",
             'fs.chown path={dir} user={user} group={user} recursive=true'),
        ],
    )(fs_chown)
