"""Archive syscalls: create, list, extract and add to tar and zip archives; gzip and gunzip one file.

The formats are the standard library's (``tarfile``, ``zipfile``); nothing is
written by hand.  Conventions are those of ``fs/``: paths resolved with
``ctx.resolve``, the archive opened exactly as the gate checked it (no symlink
followed), ``OSError`` translated at the boundary, every change journaled
(``ctx.effects``) and previewed.

Member names follow ``tar -czf a.tgz dir``: a source is stored under the path
as it was given, relative to ``base`` (default: the current directory); an
absolute source loses its leading ``/`` (as GNU tar does); ``..`` never enters a
name.  Symbolic links are stored as links (never followed), in zip too (as
``zip -y`` does); FIFOs, sockets and devices are skipped and reported.

Extraction refuses, before anything is written, every member that would land
outside ``dest``: absolute names, ``..`` components, symbolic and hard links
that point outside, devices and FIFOs, and a path through a symbolic link that
is already in ``dest`` (nothing is ever written through a link).  Each refusal
is an ``UnsafeMember`` naming the member.  Members are written into a temp file
beside their place and renamed over it, so an overwritten file is a new inode
(its previous version is kept by the journal for undo).

``archive.gzip`` and ``archive.gunzip`` are ``gzip FILE`` and ``gunzip FILE.gz``
for one regular file (the standard library's ``gzip``): the result is made
beside it (``FILE.gz``; ``FILE.gz`` or ``FILE.tgz`` becomes ``FILE`` or
``FILE.tar``), keeps the original's permission bits and times, and the original
is removed (to the trash, through the journal) unless ``keep`` (``gzip -k``).
The gate checked the file named; what is made beside it is held to the floor's
writing rules here (``~/.bashrc.gz`` is not unpacked onto ``~/.bashrc``).  An existing result is
refused unless ``force`` (its previous version is then kept for undo); undo
puts the original back byte for byte and removes what was made.

Reading the sources of ``archive.create`` / ``archive.add`` is held to the
floor's reading rules (credential stores, ``/proc``, ``/sys``, ``/dev``) here,
because the gate checks only top-level path arguments; a credential store met
while walking a directory is skipped and reported.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import gzip
import os
import shutil
import stat
import tarfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from syscalls import schema as S
from syscalls.builtin import _fsutil as U
from syscalls.display import escape_for_display
from syscalls.errors import (
    AlreadyExists,
    FloorViolation,
    InvalidRequest,
    LimitExceeded,
    NotFound,
    OSFailure,
    SyscallError,
    WrongType,
    from_oserror,
)
from syscalls.paths import canonical, checked_path, is_within, safe_open_dir
from syscalls.types import CallContext, JSONDict, Risk, SyscallSpec, View, home_dir

if TYPE_CHECKING:
    from syscalls.registry import Registry

FORMATS = ("tar", "tar.gz", "tar.bz2", "tar.xz", "zip")
_SUFFIXES = ((".tar.gz", "tar.gz"), (".tgz", "tar.gz"), (".tar.bz2", "tar.bz2"), (".tbz2", "tar.bz2"),
             (".tbz", "tar.bz2"), (".tar.xz", "tar.xz"), (".txz", "tar.xz"), (".tar", "tar"), (".zip", "zip"))
_TAR_WRITE = {"tar": "w", "tar.gz": "w:gz", "tar.bz2": "w:bz2", "tar.xz": "w:xz"}
_MAGIC = ((b"\x1f\x8b", "tar.gz"), (b"BZh", "tar.bz2"), (b"\xfd7zXZ\x00", "tar.xz"))
MAX_ENTRIES = 200_000
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_TMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | _O_CLOEXEC
_MEMBER_TYPES = ("file", "dir", "symlink", "hardlink", "fifo", "char_device", "block_device", "other")


class UnsafeMember(FloorViolation):
    """An archive member that would be written outside the destination (or is a device / FIFO)."""

    default_hint = ("nothing was extracted; leave this member out with members=[...] (see archive.list), "
                    "or do not extract an archive you do not trust")


# ---------------------------------------------------------------- small helpers

def _show(name: str) -> str:
    return escape_for_display(name)


def _format_of(ctx: CallContext, path: str, explicit: str | None) -> str:
    if explicit:
        return explicit
    low = path.lower()
    for suffix, fmt in _SUFFIXES:
        if low.endswith(suffix):
            return fmt
    raise InvalidRequest(f"cannot tell the archive format from the name {os.path.basename(path)!r}",
                         call=ctx.call, field="args.format",
                         hint="end the name with .tar, .tar.gz, .tgz, .tar.bz2, .tar.xz or .zip, or give format")


def _floor_check(ctx: CallContext, spec: SyscallSpec, paths: list[str], field_name: str) -> None:
    from syscalls.permissions import Floor

    floor = Floor()
    for p in paths:
        floor.check(spec, {}, [canonical(p, ctx.cwd, call=ctx.call, field=field_name)], [], ctx)


def _credential_roots() -> list[Path]:
    from syscalls.permissions import CREDENTIALS

    out: list[Path] = []
    home = Path(os.path.normpath(home_dir()))
    for h in {home, Path(os.path.realpath(home))}:
        out.extend(h / rel for rel in CREDENTIALS)
    return out


# ---------------------------------------------------------------- sources (create / add)

@dataclass
class _Source:
    path: str  # on disk (lexical, absolute)
    arc: str  # the member name
    st: os.stat_result


@dataclass
class _Collected:
    entries: list[_Source] = field(default_factory=list)
    skipped: list[JSONDict] = field(default_factory=list)
    bytes: int = 0


def _arcname(raw: str, lexical: str, fmt: str) -> str:
    """The member name for a source as given (tar's rules: leading ``/`` and ``../`` removed)."""
    name = lexical if (raw == "~" or raw.startswith("~/")) else raw
    parts = [p for p in name.split("/") if p]
    if ".." in parts:
        parts = [p for p in os.path.normpath("/".join(parts)).split("/") if p not in ("", "..")]
    keep_dot = name.startswith("./") and fmt != "zip"
    parts = [p for p in parts if p != "."]
    if keep_dot:
        parts = [".", *parts]
    return "/".join(parts) or "."


def _collect(ctx: CallContext, args: JSONDict, fmt: str, skip: set[tuple[int, int]]) -> _Collected:
    """Walk the sources (no symlink followed) into member entries; raise before anything is written."""
    call = ctx.call
    base = ctx.resolve(args.get("base", "."))
    out = _Collected()
    creds = _credential_roots()
    read_spec = U.stand_in_spec(call, write=False)
    from syscalls.permissions import Floor

    floor = Floor()
    for raw in args["sources"]:
        target = canonical(raw, base, call=call, field="sources")
        floor.check(read_spec, {}, [target], [], ctx)
        lexical = str(target.lexical)
        try:
            os.lstat(lexical)
        except FileNotFoundError:
            raise NotFound("no such file or directory to archive", call=call, target=lexical,
                           hint="check the spelling of the source, or list its folder first") from None
        except OSError as exc:
            raise from_oserror(exc, call=call, target=lexical) from exc
        root_arc = _arcname(raw, lexical, fmt)
        stack: list[tuple[str, str, str]] = [(lexical, str(target.resolved), root_arc)]
        while stack:
            path, resolved, arc = stack.pop()
            ctx.check_cancel()
            if any(is_within(Path(path), c) or is_within(Path(resolved), c) for c in creds):
                out.skipped.append({"path": path, "reason": "a credential store; never archived"})
                continue
            try:
                st = os.lstat(path)
            except OSError as exc:
                out.skipped.append({"path": path, "reason": exc.strerror or str(exc)})
                continue
            if (st.st_dev, st.st_ino) in skip:
                out.skipped.append({"path": path, "reason": "the archive itself"})
                continue
            mode = st.st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
                out.skipped.append({"path": path,
                                    "reason": f"a {U.type_of(mode).replace('_', ' ')}; only files, "
                                              "directories and links are archived"})
                continue
            if not (fmt == "zip" and arc == "."):
                out.entries.append(_Source(path, arc, st))
                if stat.S_ISREG(mode):
                    out.bytes += st.st_size
            if len(out.entries) > MAX_ENTRIES:
                raise LimitExceeded(f"more than {MAX_ENTRIES} entries to archive", call=call, target=lexical)
            if stat.S_ISDIR(mode):
                try:
                    names = sorted(os.listdir(path))
                except OSError as exc:
                    raise from_oserror(exc, call=call, target=path) from exc
                for name in reversed(names):
                    child_arc = name if (fmt == "zip" and arc == ".") else f"{arc}/{name}"
                    stack.append((U.join(path, name), U.join(resolved, name), child_arc))
    return out


def _open_source(src: _Source, call: str) -> IO[bytes]:
    """The regular file of an entry, opened without following a link (it may have changed since)."""
    try:
        fd = os.open(src.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | _O_CLOEXEC)
    except OSError as exc:
        raise from_oserror(exc, call=call, target=src.path) from exc
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise WrongType("changed into something that is not a regular file while archiving", call=call,
                        target=src.path, hint="run the request again")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def _tar_add(tf: tarfile.TarFile, src: _Source, call: str) -> None:
    if stat.S_ISREG(src.st.st_mode):
        with _open_source(src, call) as fh:
            info = tf.gettarinfo(arcname=src.arc, fileobj=fh)
            tf.addfile(info, fh if info.isreg() else None)
        return
    info = tf.gettarinfo(name=src.path, arcname=src.arc)
    tf.addfile(info)


def _zip_date(mtime: float) -> tuple[int, int, int, int, int, int]:
    t = time.localtime(max(mtime, 315532800.0))
    year = min(max(t.tm_year, 1980), 2107)
    return (year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)


def _zip_add(zf: zipfile.ZipFile, src: _Source, call: str) -> None:
    st = src.st
    date = _zip_date(st.st_mtime)
    if stat.S_ISDIR(st.st_mode):
        info = zipfile.ZipInfo(src.arc.rstrip("/") + "/", date)
        info.external_attr = ((st.st_mode & 0xFFFF) << 16) | 0x10
        zf.writestr(info, b"")
    elif stat.S_ISLNK(st.st_mode):
        info = zipfile.ZipInfo(src.arc, date)
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, os.fsencode(os.readlink(src.path)))
    else:
        info = zipfile.ZipInfo(src.arc, date)
        info.external_attr = (st.st_mode & 0xFFFF) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        info.file_size = st.st_size
        with _open_source(src, call) as fh, zf.open(info, "w", force_zip64=st.st_size > 2**31) as dst:
            shutil.copyfileobj(fh, dst, 1 << 20)


# ---------------------------------------------------------------- the archive file

def _write_members(ctx: CallContext, fh: IO[bytes], fmt: str, entries: list[_Source]) -> None:
    call = ctx.call
    try:
        if fmt == "zip":
            with zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
                for src in entries:
                    ctx.check_cancel()
                    _zip_add(zf, src, call)
        else:
            with tarfile.open(fileobj=fh, mode=_TAR_WRITE[fmt], format=tarfile.PAX_FORMAT) as tf:  # type: ignore[call-overload]
                for src in entries:
                    ctx.check_cancel()
                    _tar_add(tf, src, call)
    except OSError as exc:
        raise from_oserror(exc, call=call, target=getattr(exc, "filename", "") or "") from exc


def archive_create(ctx: CallContext, args: JSONDict) -> JSONDict:
    call = ctx.call
    path = str(ctx.resolve(args["path"]))
    fmt = _format_of(ctx, path, args.get("format"))
    real = str(checked_path(ctx, args["path"]))
    st = U.existing_regular(ctx, path, real, what="an archive file", hint="choose a file name for the archive")
    if st is not None and args.get("no_clobber"):
        raise AlreadyExists("the archive exists", call=call, target=path,
                            hint="set no_clobber=false to replace it, choose another name, or use archive.add")
    skip = {(st.st_dev, st.st_ino)} if st is not None else set()
    collected = _collect(ctx, args, fmt, skip)  # typed errors here, before anything is written
    if st is not None:
        ctx.effects.before_overwrite(ctx, Path(real))
    mode = stat.S_IMODE(st.st_mode) if st is not None else None  # None: a new file, 0666 less the umask
    with U.replacing(ctx, real, mode) as (fh, ino):
        tmp_key = (os.fstat(fh.fileno()).st_dev, ino)
        entries = [e for e in collected.entries if (e.st.st_dev, e.st.st_ino) != tmp_key]
        _write_members(ctx, fh, fmt, entries)
    ctx.effects.record(ctx, {"call": "restore", "args": {"path": path}, "from_backup": True} if st is not None
                       else {"call": "fs.delete", "args": {"path": path}})
    size = os.stat(real).st_size
    return {"path": path, "format": fmt, "members": len(entries), "bytes": collected.bytes,
            "size_bytes": size, "created": st is None, "overwrote": st is not None,
            "skipped": collected.skipped[: ctx.max_rows]}


def pv_create(ctx: CallContext, args: JSONDict) -> JSONDict:
    path = str(ctx.resolve(args["path"]))
    fmt = _format_of(ctx, path, args.get("format"))
    exists = os.path.lexists(path)
    skip: set[tuple[int, int]] = set()
    if exists:
        with contextlib.suppress(OSError):
            st = os.lstat(path)
            skip.add((st.st_dev, st.st_ino))
    collected = _collect(ctx, args, fmt, skip)
    return {"paths": [path], "count": len(collected.entries), "bytes": collected.bytes,
            "exists": {path: exists}, "overwrites": exists, "format": fmt,
            "members": [e.arc for e in collected.entries[:50]], "skipped": collected.skipped[:50]}


# ---------------------------------------------------------------- reading archives

@dataclass
class _Member:
    raw: str  # the name as stored
    name: str  # normalised: no leading ./, no trailing /
    kind: str
    size: int
    mode: int | None
    mtime: float
    link: str
    ref: Any  # TarInfo or ZipInfo


def _tar_kind(ti: tarfile.TarInfo) -> str:
    if ti.isreg():
        return "file"
    if ti.isdir():
        return "dir"
    if ti.issym():
        return "symlink"
    if ti.islnk():
        return "hardlink"
    if ti.isfifo():
        return "fifo"
    if ti.ischr():
        return "char_device"
    if ti.isblk():
        return "block_device"
    return "other"


def _norm(name: str) -> str:
    parts = [p for p in name.split("/") if p not in ("", ".")]
    return "/".join(parts)


def _zip_name(zi: zipfile.ZipInfo) -> str:
    """The member name; Info-ZIP on Unix stores UTF-8 names without the UTF-8 flag (zipfile reads cp437)."""
    if zi.flag_bits & 0x800:
        return zi.filename
    try:
        return zi.filename.encode("cp437").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return zi.filename


def _zip_member(zi: zipfile.ZipInfo) -> _Member:
    unix = (zi.external_attr >> 16) & 0xFFFF if zi.create_system == 3 else 0
    if zi.is_dir():
        kind = "dir"
    elif unix and stat.S_ISLNK(unix):
        kind = "symlink"
    elif unix and stat.S_IFMT(unix) not in (0, stat.S_IFREG):
        kind = {stat.S_IFIFO: "fifo", stat.S_IFCHR: "char_device", stat.S_IFBLK: "block_device",
                stat.S_IFDIR: "dir"}.get(stat.S_IFMT(unix), "other")
    else:
        kind = "file"
    try:
        mtime = time.mktime((*zi.date_time, 0, 0, -1))
    except (OverflowError, ValueError):
        mtime = 0.0
    mode = stat.S_IMODE(unix) if unix else None
    name = _zip_name(zi)
    return _Member(name, _norm(name), kind, zi.file_size if kind == "file" else 0, mode, mtime,
                   "", zi)


class _Archive:
    """An open tar or zip archive, read from a file descriptor the caller checked."""

    def __init__(self, ctx: CallContext, fh: IO[bytes], display: str) -> None:
        self.call = ctx.call
        self.display = display
        self.fh = fh
        self.tar: tarfile.TarFile | None = None
        self.zip: zipfile.ZipFile | None = None
        try:
            if zipfile.is_zipfile(fh):
                fh.seek(0)
                self.zip = zipfile.ZipFile(fh)
                self.format = "zip"
            else:
                fh.seek(0)
                head = fh.read(6)
                fh.seek(0)
                self.format = next((f for m, f in _MAGIC if head.startswith(m)), "tar")
                self.tar = tarfile.open(fileobj=fh, mode="r:*")
        except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as exc:
            raise WrongType(f"is not a tar or zip archive nlshell can read ({exc})", call=self.call,
                            target=display, hint="check the file with fs.stat / fs.read; archives end in "
                                                 ".tar, .tar.gz, .tgz, .tar.bz2, .tar.xz or .zip") from exc

    def members(self) -> list[_Member]:
        out: list[_Member] = []
        try:
            if self.zip is not None:
                for zi in self.zip.infolist():
                    m = _zip_member(zi)
                    if m.kind == "symlink":
                        m.link = self.zip.read(zi).decode("utf-8", "surrogateescape")
                    out.append(m)
                    if len(out) > MAX_ENTRIES:
                        break
                return out
            assert self.tar is not None
            for ti in self.tar:
                kind = _tar_kind(ti)
                mode = stat.S_IMODE(ti.mode) if ti.mode is not None else None
                out.append(_Member(ti.name, _norm(ti.name), kind, ti.size if kind == "file" else 0, mode,
                                   float(ti.mtime), ti.linkname if kind in ("symlink", "hardlink") else "", ti))
                if len(out) > MAX_ENTRIES:
                    break
        except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError, RuntimeError) as exc:
            raise WrongType(f"the archive is damaged ({exc})", call=self.call, target=self.display,
                            hint="check the download or make the archive again") from exc
        if len(out) > MAX_ENTRIES:
            raise LimitExceeded(f"the archive has more than {MAX_ENTRIES} members", call=self.call,
                                target=self.display, hint="extract it with tar or unzip directly")
        return out

    def open(self, m: _Member) -> IO[bytes]:
        if self.zip is not None:
            return self.zip.open(m.ref)
        assert self.tar is not None
        f = self.tar.extractfile(m.ref)
        if f is None:
            raise WrongType("is not a regular file in the archive", call=self.call, target=m.raw)
        return f

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()
        if self.tar is not None:
            self.tar.close()
        self.fh.close()


@contextlib.contextmanager
def _open_archive(ctx: CallContext, raw: str) -> Iterator[_Archive]:
    display = str(ctx.resolve(raw))
    fd, _ = U.open_regular_checked(ctx, raw, display)
    arc = _Archive(ctx, os.fdopen(fd, "rb"), display)
    try:
        yield arc
    finally:
        arc.close()


def archive_list(ctx: CallContext, args: JSONDict) -> JSONDict:
    with _open_archive(ctx, args["path"]) as arc:
        members = arc.members()
        fmt = arc.format
    rows: list[JSONDict] = []
    for m in members:
        row: JSONDict = {"name": m.raw.rstrip("/") or m.raw, "type": m.kind, "size_bytes": m.size,
                         "mtime": m.mtime, "mode": f"{m.mode:04o}" if m.mode is not None else None}
        if m.link:
            row["link_target"] = m.link
        rows.append(row)
    truncated = len(rows) > ctx.max_rows
    return {"path": str(ctx.resolve(args["path"])), "format": fmt, "entries": rows[: ctx.max_rows],
            "count": len(rows), "bytes": sum(m.size for m in members), "truncated": truncated}


# ---------------------------------------------------------------- extraction plan

@dataclass
class _Step:
    member: _Member
    dest: str  # absolute path on disk
    action: str  # "create" | "overwrite" | "exists"


def _unsafe(call: str, m: _Member, why: str, hint: str = "") -> UnsafeMember:
    return UnsafeMember(f"refused archive member '{_show(m.raw)}': {why}", call=call, target=_show(m.raw),
                        hint=hint)


def _check_member(call: str, m: _Member, dest_real: str, is_zip: bool) -> None:
    """Refuse a member that would land outside ``dest`` or is not a file, directory or link."""
    raw = m.raw.replace("\\", "/") if is_zip else m.raw
    if raw.startswith("/") or (is_zip and len(raw) > 1 and raw[1] == ":"):
        raise _unsafe(call, m, "an absolute path; it would be written outside the destination")
    if ".." in raw.split("/"):
        raise _unsafe(call, m, "a '..' component; it would be written outside the destination")
    if m.kind in ("fifo", "char_device", "block_device", "other"):
        raise _unsafe(call, m, f"a {m.kind.replace('_', ' ')}; only files, directories and links are extracted")
    if m.kind == "symlink":
        link = m.link
        if not link or link.startswith("/"):
            raise _unsafe(call, m, f"a symbolic link to the absolute path '{_show(link)}', outside the destination")
        resolved = os.path.normpath(os.path.join(os.path.dirname(m.name) or ".", link))
        if resolved == ".." or resolved.startswith("../"):
            raise _unsafe(call, m, f"a symbolic link to '{_show(link)}', which points outside the destination")
    if m.kind == "hardlink":
        link = m.link
        if not link or link.startswith("/") or ".." in link.split("/"):
            raise _unsafe(call, m, f"a hard link to '{_show(link)}', outside the destination")
    parts = m.name.split("/") if m.name else []
    for i in range(1, len(parts) + 1):
        pre = "/".join(parts[:i])
        on_disk = os.path.join(dest_real, pre)
        if not os.path.islink(on_disk):
            continue
        if i < len(parts):
            raise _unsafe(call, m, f"it goes through the symbolic link '{_show(pre)}' already in the destination; "
                                   "nlshell never writes through a link",
                          hint="remove or rename that link, or extract into an empty directory")
        if not is_within(Path(os.path.realpath(on_disk)), Path(dest_real)):
            raise _unsafe(call, m, f"it would replace the symbolic link '{_show(pre)}' already in the destination, "
                                   "which points outside it",
                          hint="remove or rename that link first, or extract into an empty directory")
    # The standard library's own check (it also resolves links already on disk), as a second opinion.
    ti = tarfile.TarInfo(m.name or ".")
    ti.type = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE}.get(
        m.kind, tarfile.REGTYPE)
    ti.linkname = m.link
    ti.mode = 0o644
    try:
        tarfile.data_filter(ti, dest_real)
    except tarfile.FilterError as exc:
        raise _unsafe(call, m, f"the tarfile data filter refused it ({type(exc).__name__})") from exc


def _select(ctx: CallContext, members: list[_Member], patterns: list[str] | None) -> list[_Member]:
    if not patterns:
        return members
    pats = [_norm(p) or "." for p in patterns]
    used: set[str] = set()
    out = []
    for m in members:
        hit = None
        for p in pats:
            parts = m.name.split("/")
            prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
            if p == "." or any(fnmatch.fnmatchcase(pre, p) for pre in prefixes):
                hit = p
                break
        if hit is not None:
            used.add(hit)
            out.append(m)
    missing = [p for p in pats if p not in used]
    if missing:
        raise NotFound(f"no member of the archive matches {missing[0]!r}", call=ctx.call, target=missing[0],
                       hint="list the archive's members with archive.list and use those names")
    return out


def _plan(ctx: CallContext, arc: _Archive, dest: str, dest_real: str, patterns: list[str] | None,
          no_clobber: bool) -> list[_Step]:
    call = ctx.call
    members = arc.members()
    is_zip = arc.format == "zip"
    for m in members:  # every member, selected or not: an unsafe archive is refused whole
        _check_member(call, m, dest_real, is_zip)
    for m in members:
        if is_zip and m.kind == "file" and m.ref.flag_bits & 0x1:
            raise WrongType(f"archive member '{_show(m.raw)}' is encrypted; nlshell does not decrypt",
                            call=call, target=_show(m.raw), hint="extract it with unzip, which asks for the password")
    selected = _select(ctx, members, patterns)
    write_spec = U.stand_in_spec(call, write=True)
    from syscalls.permissions import Floor

    floor = Floor()
    planned: dict[str, str] = {}  # name → kind, of what this extraction creates
    steps: list[_Step] = []
    for m in selected:
        if not m.name:
            continue  # "./": the destination itself
        parts = m.name.split("/")
        for i in range(1, len(parts)):
            pre = "/".join(parts[:i])
            kind = planned.get(pre)
            if kind is not None and kind != "dir":
                raise _unsafe(call, m, f"it goes through '{_show(pre)}', which this archive makes a {kind}")
            if kind is None:
                try:
                    st = os.lstat(os.path.join(dest, pre))
                except FileNotFoundError:
                    planned[pre] = "dir"
                    continue
                except OSError as exc:
                    raise from_oserror(exc, call=call, target=os.path.join(dest, pre)) from exc
                if stat.S_ISLNK(st.st_mode):
                    raise _unsafe(call, m, f"it goes through the symbolic link '{_show(pre)}' already in the "
                                           "destination; nlshell never writes through a link",
                                  hint="remove or rename that link, or extract into an empty directory")
                if not stat.S_ISDIR(st.st_mode):
                    raise WrongType(f"archive member '{_show(m.raw)}' needs '{_show(pre)}' to be a directory, "
                                    "but a file is there", call=call, target=os.path.join(dest, pre),
                                    hint="move that file away or extract somewhere else")
                planned[pre] = "dir"
        target = os.path.join(dest, m.name)
        floor.check(write_spec, {}, [canonical(target, ctx.cwd, call=call, field="dest")], [], ctx)
        try:
            st = os.lstat(target)
            existing: str | None = U.type_of(st.st_mode)
        except FileNotFoundError:
            existing = None
        except OSError as exc:
            raise from_oserror(exc, call=call, target=target) from exc
        if m.name in planned:
            action = "exists" if m.kind == "dir" and planned[m.name] == "dir" else "overwrite"
            if (m.kind == "dir") != (planned[m.name] == "dir"):
                raise WrongType(f"archive member '{_show(m.raw)}' is a {m.kind} and also a directory",
                                call=call, target=target, hint="extract the members one at a time")
        elif existing is None:
            action = "create"
        elif m.kind == "dir":
            if existing != "dir":
                raise WrongType(f"archive member '{_show(m.raw)}' is a directory, but a {existing} is there",
                                call=call, target=target, hint="move it away or extract somewhere else")
            action = "exists"
        else:
            if existing == "dir":
                raise WrongType(f"archive member '{_show(m.raw)}' is a {m.kind}, but a directory is there",
                                call=call, target=target, hint="move it away or extract somewhere else")
            if existing not in ("file", "symlink"):
                raise WrongType(f"a {existing.replace('_', ' ')} is where archive member '{_show(m.raw)}' goes",
                                call=call, target=target, hint="nlshell never replaces FIFOs, sockets or devices")
            if no_clobber:
                raise AlreadyExists(f"archive member '{_show(m.raw)}' would replace an existing file",
                                    call=call, target=target,
                                    hint="set no_clobber=false to replace it, or extract somewhere else")
            action = "overwrite"
        if m.kind == "hardlink":
            link = _norm(m.link)
            if planned.get(link) is None and not os.path.lexists(os.path.join(dest, link)):
                raise NotFound(f"archive member '{_show(m.raw)}' is a hard link to '{_show(m.link)}', "
                               "which is not extracted", call=call, target=_show(m.raw),
                               hint=f"add {m.link!r} to members")
        planned[m.name] = m.kind
        steps.append(_Step(m, target, action))
    need = sum(s.member.size for s in steps)
    with contextlib.suppress(OSError):
        free = shutil.disk_usage(dest).free
        if need > free:
            raise LimitExceeded(f"extracting needs {need} bytes but only {free} are free", call=call,
                                target=dest, hint="free some space or extract somewhere else")
    return steps


# ---------------------------------------------------------------- extraction

class _DirCache:
    """Directory fds under ``dest``, opened one component at a time without following links."""

    def __init__(self, ctx: CallContext, dest_real: str) -> None:
        self.ctx = ctx
        self.fds: dict[str, int] = {"": safe_open_dir(dest_real, call=ctx.call)}
        self.dest = dest_real
        self.created: set[str] = set()  # directories this extraction made (their contents need no record)
        self.dir_times: list[tuple[str, int, float]] = []

    def get(self, rel: str, make: bool) -> int:
        if rel in self.fds:
            return self.fds[rel]
        parent, _, name = rel.rpartition("/")
        pfd = self.get(parent, make)
        try:
            fd = os.open(name, U.DIR_FLAGS, dir_fd=pfd)
        except FileNotFoundError:
            if not make:
                raise
            os.mkdir(name, 0o700, dir_fd=pfd)
            self.made(rel)
            fd = os.open(name, U.DIR_FLAGS, dir_fd=pfd)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise UnsafeMember(f"'{_show(rel)}' in the destination became a symbolic link or a file "
                                   "while extracting; nothing is written through it", call=self.ctx.call,
                                   target=os.path.join(self.dest, rel)) from exc
            raise
        self.fds[rel] = fd
        return fd

    def made(self, rel: str) -> None:
        """Record a directory this extraction created (undo removes it with what it holds)."""
        parent = rel.rpartition("/")[0]
        if parent not in self.created:
            self.ctx.effects.record(self.ctx, {"call": "fs.delete",
                                               "args": {"path": os.path.join(self.dest, rel), "recursive": True}})
        self.created.add(rel)

    def close(self) -> None:
        for fd in self.fds.values():
            with contextlib.suppress(OSError):
                os.close(fd)


def _place(ctx: CallContext, dirs: _DirCache, step: _Step, make: Callable[[int, str], None]) -> str:
    """Create the member as a temp name in its directory with ``make``, then rename it into place."""
    m = step.member
    parent, _, name = m.name.rpartition("/")
    pfd = dirs.get(parent, True)
    tmp = U.tmp_name()
    make(pfd, tmp)
    try:
        if step.action == "overwrite":
            st = os.stat(name, dir_fd=pfd, follow_symlinks=False)
            if stat.S_ISREG(st.st_mode):
                ctx.effects.before_overwrite(ctx, Path(step.dest))
            elif stat.S_ISLNK(st.st_mode):
                ctx.effects.remove(ctx, Path(step.dest))
            else:
                raise WrongType("is no longer a file or link; nothing replaced", call=ctx.call, target=step.dest)
        os.replace(tmp, name, src_dir_fd=pfd, dst_dir_fd=pfd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=pfd)
        raise
    if step.action == "overwrite":
        ctx.effects.record(ctx, {"call": "restore", "args": {"path": step.dest}, "from_backup": True})
    elif parent not in dirs.created:
        ctx.effects.record(ctx, {"call": "fs.delete", "args": {"path": step.dest}})
    return name


def _extract_one(ctx: CallContext, arc: _Archive, dirs: _DirCache, step: _Step, umask: int) -> None:
    m = step.member
    if m.kind == "dir":
        if step.action == "create":
            dirs.get(m.name, True)
        if m.name in dirs.created:
            mode = ((m.mode if m.mode is not None else 0o777) & 0o777 & ~umask) | 0o700
            dirs.dir_times.append((m.name, mode, m.mtime))
        return
    if m.kind == "file":
        mode = (m.mode if m.mode is not None else 0o666) & 0o777 & ~umask

        def make_file(pfd: int, tmp: str) -> None:
            fd = os.open(tmp, _TMP_FLAGS, 0o600, dir_fd=pfd)
            with os.fdopen(fd, "wb") as out, arc.open(m) as src:
                shutil.copyfileobj(src, out, 1 << 20)
                out.flush()
                os.fchmod(out.fileno(), mode)
                os.utime(out.fileno(), (m.mtime, m.mtime))

        _place(ctx, dirs, step, make_file)
    elif m.kind == "symlink":
        def make_link(pfd: int, tmp: str) -> None:
            os.symlink(m.link, tmp, dir_fd=pfd)
            with contextlib.suppress(OSError, NotImplementedError):
                os.utime(tmp, (m.mtime, m.mtime), dir_fd=pfd, follow_symlinks=False)

        _place(ctx, dirs, step, make_link)
    elif m.kind == "hardlink":
        link = _norm(m.link)
        tparent, _, tname = link.rpartition("/")

        def make_hard(pfd: int, tmp: str) -> None:
            tfd = dirs.get(tparent, False)
            os.link(tname, tmp, src_dir_fd=tfd, dst_dir_fd=pfd, follow_symlinks=False)

        _place(ctx, dirs, step, make_hard)


def _dest_dirs(call: str, dest: str, dest_real: str) -> list[str]:
    """The directories to make for an extraction into ``dest`` (outermost first; none when it is there)."""
    try:
        st = os.stat(dest_real)
    except FileNotFoundError:
        missing: list[str] = []
        p = dest_real
        while not os.path.lexists(p):
            missing.append(p)
            if os.path.dirname(p) == p:
                break
            p = os.path.dirname(p)
        if not os.path.isdir(p):
            raise WrongType("the destination is inside something that is not a directory", call=call,
                            target=p, hint="extract somewhere else") from None
        return missing[::-1]
    except OSError as exc:
        raise from_oserror(exc, call=call, target=dest) from exc
    if not stat.S_ISDIR(st.st_mode):
        raise WrongType("the destination is not a directory", call=call, target=dest,
                        hint="name a directory to extract into, or a new one to make")
    return []


def archive_extract(ctx: CallContext, args: JSONDict) -> JSONDict:
    call = ctx.call
    dest = str(ctx.resolve(args.get("dest", ".")))
    dest_real = str(checked_path(ctx, args.get("dest", ".")))
    missing = _dest_dirs(call, dest, dest_real)
    with _open_archive(ctx, args["path"]) as arc:
        steps = _plan(ctx, arc, dest_real, dest_real, args.get("members"), bool(args.get("no_clobber")))
        for made in missing:  # like unzip -d: the destination is made, with its parents; undo removes them last
            try:
                os.mkdir(made)
            except FileExistsError:
                continue
            except OSError as exc:
                raise from_oserror(exc, call=call, target=made) from exc
            ctx.effects.record(ctx, {"call": "fs.delete", "args": {"path": made, "recursive": False}})
        dirs = _DirCache(ctx, dest_real)
        umask = U.umask()
        try:
            for step in steps:
                ctx.check_cancel()
                try:
                    _extract_one(ctx, arc, dirs, step, umask)
                except SyscallError:
                    raise
                except (tarfile.TarError, zipfile.BadZipFile, EOFError, RuntimeError) as exc:
                    raise OSFailure(f"archive member '{_show(step.member.raw)}' could not be read ({exc})",
                                    call=call, target=_show(step.member.raw),
                                    hint="the archive may be damaged; what was extracted so far can be undone"
                                    ) from exc
                except OSError as exc:
                    raise from_oserror(exc, call=call, target=step.dest) from exc
            for rel, mode, mtime in reversed(dirs.dir_times):  # deepest last-made first: children are done
                with contextlib.suppress(OSError):
                    fd = dirs.get(rel, False)
                    os.fchmod(fd, mode)
                    os.utime(fd, (mtime, mtime))
        finally:
            dirs.close()
    rows = [{"name": s.member.name, "path": s.dest.replace(dest_real, dest, 1), "type": s.member.kind,
             "action": "created" if s.action == "create" else "overwrote" if s.action == "overwrite" else "exists",
             "size_bytes": s.member.size} for s in steps]
    return {"path": str(ctx.resolve(args["path"])), "dest": dest, "entries": rows[: ctx.max_rows],
            "count": len(rows), "bytes": sum(s.member.size for s in steps),
            "created": sum(1 for s in steps if s.action == "create"),
            "overwrote": sum(1 for s in steps if s.action == "overwrite"), "truncated": len(rows) > ctx.max_rows}


def pv_extract(ctx: CallContext, args: JSONDict) -> JSONDict:
    dest = str(ctx.resolve(args.get("dest", ".")))
    dest_real = str(checked_path(ctx, args.get("dest", ".")))
    missing = _dest_dirs(ctx.call, dest, dest_real)
    with _open_archive(ctx, args["path"]) as arc:
        steps = _plan(ctx, arc, dest_real, dest_real, args.get("members"), bool(args.get("no_clobber")))
    creates = missing + [s.dest for s in steps if s.action == "create"]
    overwrites = [s.dest for s in steps if s.action == "overwrite"]
    return {"paths": [dest], "count": len(steps), "bytes": sum(s.member.size for s in steps),
            "exists": {dest: True}, "creates": creates[:200], "overwrites": overwrites[:200],
            "overwrites_count": len(overwrites)}


# ---------------------------------------------------------------- add

def _sniff(ctx: CallContext, path: str, real: str) -> str:
    fd, _ = U.open_regular(real, ctx.call)
    with os.fdopen(fd, "rb") as fh:
        head = fh.read(6)
        for magic, fmt in _MAGIC:
            if head.startswith(magic):
                raise WrongType(f"is a compressed tar archive ({fmt}); a compressed tar cannot be appended to",
                                call=ctx.call, target=path,
                                hint="create a new archive with archive.create from the extracted members "
                                     "and the new sources (or use an uncompressed .tar or a .zip)")
        fh.seek(0)
        if zipfile.is_zipfile(fh):
            return "zip"
        fh.seek(0)
        try:
            with tarfile.open(fileobj=fh, mode="r:"):
                return "tar"
        except tarfile.TarError:
            pass
    raise WrongType("is not a tar or zip archive", call=ctx.call, target=path,
                    hint="archive.add appends to an existing .tar or .zip; use archive.create for a new one")


def _zip_copy_except(src: IO[bytes], dst: IO[bytes], drop: set[str]) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for zi in zin.infolist():
            name = _zip_name(zi)
            if name in drop:
                continue
            info = zipfile.ZipInfo(name, zi.date_time)
            info.external_attr = zi.external_attr
            info.create_system = zi.create_system
            info.compress_type = zi.compress_type
            info.comment = zi.comment
            info.file_size = zi.file_size
            with zin.open(zi) as r, zout.open(info, "w", force_zip64=zi.file_size > 2**31) as w:
                shutil.copyfileobj(r, w, 1 << 20)
        zout.comment = zin.comment


def archive_add(ctx: CallContext, args: JSONDict) -> JSONDict:
    call = ctx.call
    path = str(ctx.resolve(args["path"]))
    real = str(checked_path(ctx, args["path"]))
    st = U.existing_regular(ctx, path, real, what="an archive file", hint="choose a file name for the archive")
    if st is None:
        raise NotFound("the archive does not exist", call=call, target=path,
                       hint="make it first with archive.create")
    fmt = _sniff(ctx, path, real)
    collected = _collect(ctx, args, fmt, {(st.st_dev, st.st_ino)})
    replaced: list[str] = []
    ctx.effects.before_overwrite(ctx, Path(real))
    mode = stat.S_IMODE(st.st_mode)
    try:
        if fmt == "tar":
            with U.replacing(ctx, real, mode, seed=real) as (fh, ino):
                key = (os.fstat(fh.fileno()).st_dev, ino)
                entries = [e for e in collected.entries if (e.st.st_dev, e.st.st_ino) != key]
                with tarfile.open(fileobj=fh, mode="a", format=tarfile.PAX_FORMAT) as tf:
                    for src in entries:
                        ctx.check_cancel()
                        _tar_add(tf, src, call)
        else:
            fd, _ = U.open_regular(real, call)
            with os.fdopen(fd, "rb") as old:
                with zipfile.ZipFile(old) as zin:
                    names = {_zip_name(zi) for zi in zin.infolist()}
                new_names = {e.arc + ("/" if stat.S_ISDIR(e.st.st_mode) else "") for e in collected.entries}
                replaced = sorted(names & new_names)
                old.seek(0)
                with U.replacing(ctx, real, mode, seed=None if replaced else real) as (fh, ino):
                    key = (os.fstat(fh.fileno()).st_dev, ino)
                    entries = [e for e in collected.entries if (e.st.st_dev, e.st.st_ino) != key]
                    if replaced:
                        _zip_copy_except(old, fh, set(replaced))
                        fh.seek(0)
                    with zipfile.ZipFile(fh, "a", zipfile.ZIP_DEFLATED) as zf:
                        for src in entries:
                            ctx.check_cancel()
                            _zip_add(zf, src, call)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, RuntimeError) as exc:
        raise WrongType(f"the archive could not be appended to ({exc})", call=call, target=path,
                        hint="it may be damaged; nothing was changed") from exc
    except OSError as exc:
        raise from_oserror(exc, call=call, target=path) from exc
    ctx.effects.record(ctx, {"call": "restore", "args": {"path": path}, "from_backup": True})
    return {"path": path, "format": fmt, "added": len(entries), "bytes": collected.bytes,
            "replaced": replaced[: ctx.max_rows], "size_bytes": os.stat(real).st_size,
            "skipped": collected.skipped[: ctx.max_rows]}


def pv_add(ctx: CallContext, args: JSONDict) -> JSONDict:
    path = str(ctx.resolve(args["path"]))
    real = str(checked_path(ctx, args["path"]))
    st = U.existing_regular(ctx, path, real, what="an archive file", hint="choose a file name for the archive")
    if st is None:
        raise NotFound("the archive does not exist", call=ctx.call, target=path,
                       hint="make it first with archive.create")
    fmt = _sniff(ctx, path, real)
    collected = _collect(ctx, args, fmt, {(st.st_dev, st.st_ino)})
    return {"paths": [path], "count": len(collected.entries), "bytes": collected.bytes,
            "exists": {path: True}, "overwrites": True, "format": fmt,
            "members": [e.arc for e in collected.entries[:50]], "skipped": collected.skipped[:50]}


# ---------------------------------------------------------------- gzip / gunzip (one file)

GZ_LEVEL = 6  # gzip's default
_GZ_STRIP = ((".tgz", ".tar"), (".gz", ""))  # what gunzip makes of a name: x.gz -> x, x.tgz -> x.tar
_GZ_CHUNK = 1 << 20


@dataclass
class _Gz:
    src: str  # the file as written (absolute)
    dest: str  # what is made beside it
    dest_real: str  # the same, below the directory the gate checked
    st: os.stat_result  # the source's
    exists: bool  # the destination exists (force replaces it)


def _gz_dest(ctx: CallContext, src: str, decompress: bool) -> str:
    name = os.path.basename(src)
    if decompress:
        for suffix, repl in _GZ_STRIP:
            if name.endswith(suffix) and len(name) > len(suffix):
                return src[: -len(suffix)] + repl
        raise WrongType("has no .gz or .tgz suffix, so there is no name to decompress it to", call=ctx.call,
                        target=src, hint="rename it to end in .gz first; a .zip or .tar.* archive is unpacked "
                                         "with archive.extract")
    if name.endswith((".gz", ".tgz")):
        raise WrongType("already has a .gz suffix", call=ctx.call, target=src,
                        hint="it is compressed already; decompress it with archive.gunzip")
    return src + ".gz"


def _gz_plan(ctx: CallContext, args: JSONDict, decompress: bool) -> _Gz:
    """What gzip / gunzip would do, checked; typed errors before anything is written."""
    call = ctx.call
    raw = args["path"]
    src = str(ctx.resolve(raw))
    real = str(checked_path(ctx, raw))
    if os.path.islink(src):
        raise WrongType("is a symbolic link; only regular files are compressed or decompressed", call=call,
                        target=src, hint=f"name the file it points to ({real})")
    what = "a .gz file" if decompress else "a regular file"
    hint = "" if decompress else "gzip compresses one file; make a .tar.gz of a folder with archive.create"
    st = U.existing_regular(ctx, src, real, what=what, hint=hint)
    if st is None:
        raise NotFound("no such file", call=call, target=src,
                       hint="check the spelling, or list the folder first with fs.list")
    dest = _gz_dest(ctx, src, decompress)
    dest_real = U.join(os.path.dirname(real), os.path.basename(dest))
    _floor_check(ctx, U.stand_in_spec(call, write=True), [dest], "path")
    exists = U.existing_regular(ctx, dest, dest_real, hint="move it out of the way first") is not None
    if exists and not args.get("force"):
        raise AlreadyExists(f"{os.path.basename(dest)} exists already; nothing was changed", call=call,
                            target=dest, hint="set force=true to replace it (undo brings it back), or move it "
                                              "out of the way first")
    return _Gz(src, dest, dest_real, st, exists)


def _gz_copy(ctx: CallContext, src: IO[bytes] | gzip.GzipFile, dst: IO[bytes] | gzip.GzipFile) -> None:
    while True:
        ctx.check_cancel()
        chunk = src.read(_GZ_CHUNK)
        if not chunk:
            return
        dst.write(chunk)


def _gz_run(ctx: CallContext, args: JSONDict, decompress: bool) -> JSONDict:
    call = ctx.call
    plan = _gz_plan(ctx, args, decompress)
    keep = bool(args.get("keep"))
    fd, st = U.open_regular_checked(ctx, args["path"], plan.src)
    with os.fdopen(fd, "rb") as fin:
        if decompress and st.st_size == 0:
            raise WrongType("is empty, not gzip data", call=call, target=plan.src)
        if plan.exists:
            ctx.effects.before_overwrite(ctx, Path(plan.dest_real))
        with U.replacing(ctx, plan.dest_real, stat.S_IMODE(st.st_mode), target=plan.dest) as (fh, _ino):
            if decompress:
                try:
                    with gzip.GzipFile(fileobj=fin, mode="rb") as gz:
                        _gz_copy(ctx, gz, fh)
                except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
                    raise WrongType(f"is not gzip data, or is damaged ({exc})", call=call, target=plan.src,
                                    hint="nothing was written; see what it is with fs.read") from exc
            else:
                level = int(args.get("level", GZ_LEVEL))
                # like gzip: the original's name and modification time go into the header
                with gzip.GzipFile(filename=os.path.basename(plan.src), mode="wb", compresslevel=level,
                                   fileobj=fh, mtime=int(st.st_mtime)) as gz:
                    _gz_copy(ctx, fin, gz)
    try:
        # like gzip and gunzip: what is made keeps the original's access and modification times
        os.utime(plan.dest_real, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)
        size = os.lstat(plan.dest_real).st_size
    except OSError as exc:
        raise from_oserror(exc, call=call, target=plan.dest) from exc
    ctx.effects.record(ctx, {"call": "restore", "args": {"path": plan.dest}, "from_backup": True} if plan.exists
                       else {"call": "fs.delete", "args": {"path": plan.dest}})
    if not keep:
        try:
            ctx.effects.remove(ctx, Path(plan.src))
        except OSError as exc:
            err = from_oserror(exc, call=call, target=plan.src)
            err.hint = f"{os.path.basename(plan.dest)} was made but the original stays; undo removes what was made"
            raise err from exc
    return {"path": plan.src, "dest": plan.dest, "input_bytes": st.st_size, "output_bytes": size, "kept": keep,
            "overwrote": plan.exists}


def _gz_preview(ctx: CallContext, args: JSONDict, decompress: bool) -> JSONDict:
    plan = _gz_plan(ctx, args, decompress)
    keep = bool(args.get("keep"))
    return {"paths": [plan.src, plan.dest], "count": 1, "bytes": plan.st.st_size,
            "exists": {plan.src: True, plan.dest: plan.exists}, "overwrites": plan.exists,
            "creates": [plan.dest], "removes": [] if keep else [plan.src]}


def archive_gzip(ctx: CallContext, args: JSONDict) -> JSONDict:
    return _gz_run(ctx, args, False)


def pv_gzip(ctx: CallContext, args: JSONDict) -> JSONDict:
    return _gz_preview(ctx, args, False)


def archive_gunzip(ctx: CallContext, args: JSONDict) -> JSONDict:
    return _gz_run(ctx, args, True)


def pv_gunzip(ctx: CallContext, args: JSONDict) -> JSONDict:
    return _gz_preview(ctx, args, True)


# ---------------------------------------------------------------- registration

_SKIPPED = S.array(S.obj({"path": S.string(), "reason": S.string()}, required=["path", "reason"]),
                   max_items=10**9)


def register(registry: Registry) -> None:
    sources = S.array(S.path("a file or directory to put in the archive"),
                      "files and directories to archive (a directory with everything in it)", max_items=256)
    sources["minItems"] = 1
    base = S.path("the directory the sources are relative to and named from, like tar -C "
                  "(default: the current directory)")

    registry.syscall(
        "archive.create",
        "Make a tar (.tar, .tar.gz/.tgz, .tar.bz2, .tar.xz) or zip archive of files and directories.",
        args=S.obj({
            "path": S.path("the archive to write; its format comes from the name unless format is given", new=True,
                           suffixes=[suffix for suffix, _fmt in _SUFFIXES]),
            "sources": sources,
            "base": base,
            "format": S.enum(list(FORMATS), "the archive format (default: from the name's suffix)"),
            "no_clobber": S.boolean("refuse if the archive already exists"),
        }, required=["path", "sources"]),
        result=S.obj({"path": S.string(), "format": S.enum(list(FORMATS)), "members": S.integer(minimum=0),
                      "bytes": S.integer(minimum=0), "size_bytes": S.integer(minimum=0),
                      "created": S.boolean(), "overwrote": S.boolean(), "skipped": _SKIPPED},
                     required=["path", "format", "members", "bytes", "size_bytes"]),
        capability="fs.write", risk=Risk.WRITE, undoable=True, preview=pv_create, view=View("record"),
        examples=[
            ("zip the reports folder", {"path": "reports.zip", "sources": ["reports"]}),
            ("make a tarball of src", {"path": "src.tar.gz", "sources": ["src"]}),
            ("tar -czf backup.tar.gz docs notes.txt", {"path": "backup.tar.gz", "sources": ["docs", "notes.txt"]}),
            ("archive the logs as logs.tar.xz unless it exists",
             {"path": "logs.tar.xz", "sources": ["logs"], "no_clobber": True}),
            ("pack photos into photos.tar without compression", {"path": "photos.tar", "sources": ["photos"]}),
        ],
        phrasings=[
            ("zip {name}", 'archive.create path="{name}.zip" sources=["{name}"]'),
            ("zip up {name}", 'archive.create path="{name}.zip" sources=["{name}"]'),
            ("compress {name} into a zip file", 'archive.create path="{name}.zip" sources=["{name}"]'),
            ("make a tarball of {name}", 'archive.create path="{name}.tar.gz" sources=["{name}"]'),
            ("tar up {name}", 'archive.create path="{name}.tar.gz" sources=["{name}"]'),
            ("tar -czf backup.tar.gz {dir}", 'archive.create path="backup.tar.gz" sources=[{dir}]'),
            ("tar czf backup.tgz {dir}", 'archive.create path="backup.tgz" sources=[{dir}]'),
            ("tar -cf {name}.tar {dir}", 'archive.create path="{name}.tar" sources=[{dir}]'),
            ("tar -cjf backup.tar.bz2 {dir}", 'archive.create path="backup.tar.bz2" sources=[{dir}]'),
            ("tar -cJf backup.tar.xz {dir}", 'archive.create path="backup.tar.xz" sources=[{dir}]'),
            ("zip -r archive.zip {dir}", 'archive.create path="archive.zip" sources=[{dir}]'),
            ("zip {dir} into {name}.zip", 'archive.create path="{name}.zip" sources=[{dir}]'),
            ("put {file} and {file2} in a zip called {name}.zip",
             'archive.create path="{name}.zip" sources=[{file}, {file2}]'),
            ("archive {dir} as {name}.tar.gz", 'archive.create path="{name}.tar.gz" sources=[{dir}]'),
            ("back up {dir} to backup.tar.gz without overwriting it",
             'archive.create path="backup.tar.gz" sources=[{dir}] no_clobber=true'),
            ("compress {file} into {name}.tar.xz", 'archive.create path="{name}.tar.xz" sources=[{file}]'),
        ],
    )(archive_create)

    registry.syscall(
        "archive.list",
        "List the members of a tar or zip archive: names, types, sizes, times and modes.",
        args=S.obj({"path": S.path("the archive to look into")}, required=["path"]),
        result=S.table(S.obj({"name": S.string(), "type": S.enum(list(_MEMBER_TYPES)),
                              "size_bytes": S.integer(minimum=0), "mtime": S.number(),
                              "mode": S.nullable("string"), "link_target": S.string()},
                             required=["name", "type", "size_bytes", "mtime"]),
                       "entries", {"path": S.string(), "format": S.enum(list(FORMATS)),
                                   "count": S.integer(minimum=0), "bytes": S.integer(minimum=0)}),
        capability="fs.read", risk=Risk.READ, on_directory="fs.list",
        view=View("table", "entries", ("name", "type", "size_bytes", "mtime", "mode")),
        examples=[
            ("what's inside backup.tar.gz", {"path": "backup.tar.gz"}),
            ("list the files in release.zip", {"path": "release.zip"}),
            ("tar -tzf site.tgz", {"path": "site.tgz"}),
            ("show the contents of ~/Downloads/photos.zip", {"path": "~/Downloads/photos.zip"}),
        ],
        phrasings=[
            ("what's inside {name}.tar.gz", 'archive.list path="{name}.tar.gz"'),
            ("list the contents of {name}.zip", 'archive.list path="{name}.zip"'),
            ("what is in {name}.tar.gz", 'archive.list path="{name}.tar.gz"'),
            ("tar -tzf {name}.tar.gz", 'archive.list path="{name}.tar.gz"'),
            ("tar tf {name}.tar", 'archive.list path="{name}.tar"'),
            ("unzip -l {name}.zip", 'archive.list path="{name}.zip"'),
            ("zipinfo {name}.zip", 'archive.list path="{name}.zip"'),
            ("show the files in the archive {name}.zip", 'archive.list path="{name}.zip"'),
            ("which files are in backup.tar.gz", 'archive.list path="backup.tar.gz"'),
            ("peek into {name}.tgz", 'archive.list path="{name}.tgz"'),
        ],
    )(archive_list)

    registry.syscall(
        "archive.extract",
        "Unpack a tar or zip archive into a directory; members that would land outside it are refused.",
        args=S.obj({
            "path": S.path("the archive to unpack"),
            "dest": S.path("the directory to unpack into (default: the current directory; made when missing)",
                           new=True),
            "members": S.array(S.glob("a member name or wildcard (a directory brings what is in it)"),
                               "only these members (default: all)", max_items=256),
            "no_clobber": S.boolean("refuse if a member would replace an existing file"),
        }, required=["path"]),
        result=S.table(S.obj({"name": S.string(), "path": S.string(), "type": S.enum(list(_MEMBER_TYPES)),
                              "action": S.enum(["created", "overwrote", "exists"]),
                              "size_bytes": S.integer(minimum=0)}, required=["name", "path", "type", "action"]),
                       "entries", {"path": S.string(), "dest": S.string(), "count": S.integer(minimum=0),
                                   "bytes": S.integer(minimum=0), "created": S.integer(minimum=0),
                                   "overwrote": S.integer(minimum=0)}),
        capability="fs.write", risk=Risk.WRITE, undoable=True, preview=pv_extract,
        view=View("table", "entries", ("path", "type", "action", "size_bytes")),
        examples=[
            ("unzip photos.zip", {"path": "photos.zip"}),
            ("extract backup.tar.gz into restore", {"path": "backup.tar.gz", "dest": "restore"}),
            ("tar -xzf site.tgz -C /srv/www", {"path": "site.tgz", "dest": "/srv/www"}),
            ("unpack only the docs folder from release.tar.xz", {"path": "release.tar.xz", "members": ["docs"]}),
            ("extract data.zip here without overwriting anything", {"path": "data.zip", "no_clobber": True}),
        ],
        phrasings=[
            ("extract {file} into {dir}", 'archive.extract path={file} dest={dir}'),
            ("unzip {file}", 'archive.extract path={file}'),
            ("unzip {name}.zip", 'archive.extract path="{name}.zip"'),
            ("unzip {name}.zip -d {dir}", 'archive.extract path="{name}.zip" dest={dir}'),
            ("untar {name}.tar.gz", 'archive.extract path="{name}.tar.gz"'),
            ("tar -xzf {name}.tar.gz", 'archive.extract path="{name}.tar.gz"'),
            ("tar xf {name}.tar -C {dir}", 'archive.extract path="{name}.tar" dest={dir}'),
            ("tar -xjf backup.tar.bz2", 'archive.extract path="backup.tar.bz2"'),
            ("unpack {name}.tgz into {dir}", 'archive.extract path="{name}.tgz" dest={dir}'),
            ("extract backup.tar.gz here", 'archive.extract path="backup.tar.gz"'),
            ("decompress {name}.tar.xz", 'archive.extract path="{name}.tar.xz"'),
            ("extract only {file} from {name}.tar.gz", 'archive.extract path="{name}.tar.gz" members=[{file}]'),
            ("extract the {glob} from {name}.zip", 'archive.extract path="{name}.zip" members=[{glob}]'),
            ("unzip -n {name}.zip", 'archive.extract path="{name}.zip" no_clobber=true'),
            ("extract {file} into {dir} without overwriting anything",
             'archive.extract path={file} dest={dir} no_clobber=true'),
        ],
    )(archive_extract)

    registry.syscall(
        "archive.add",
        "Add files or directories to an existing uncompressed .tar or a .zip (a zip member of the same "
        "name is replaced).",
        args=S.obj({
            "path": S.path("the existing .tar or .zip archive"),
            "sources": sources,
            "base": base,
        }, required=["path", "sources"]),
        result=S.obj({"path": S.string(), "format": S.enum(["tar", "zip"]), "added": S.integer(minimum=0),
                      "bytes": S.integer(minimum=0), "replaced": S.array(S.string(), max_items=10**9),
                      "size_bytes": S.integer(minimum=0), "skipped": _SKIPPED},
                     required=["path", "format", "added", "bytes"]),
        capability="fs.write", risk=Risk.WRITE, undoable=True, preview=pv_add, view=View("record"),
        examples=[
            ("add notes.txt to backup.tar", {"path": "backup.tar", "sources": ["notes.txt"]}),
            ("put the docs folder into release.zip too", {"path": "release.zip", "sources": ["docs"]}),
            ("tar -rf logs.tar today.log", {"path": "logs.tar", "sources": ["today.log"]}),
            ("zip -u site.zip index.html style.css", {"path": "site.zip", "sources": ["index.html", "style.css"]}),
        ],
        phrasings=[
            ("add {file} to {name}.zip", 'archive.add path="{name}.zip" sources=[{file}]'),
            ("add {file} to {name}.tar", 'archive.add path="{name}.tar" sources=[{file}]'),
            ("add {file} to {file2}", 'archive.add path={file2} sources=[{file}]'),
            ("put {dir} into {name}.zip as well", 'archive.add path="{name}.zip" sources=[{dir}]'),
            ("append {file} to the archive {name}.tar", 'archive.add path="{name}.tar" sources=[{file}]'),
            ("tar -rf {name}.tar {file}", 'archive.add path="{name}.tar" sources=[{file}]'),
            ("zip -u {name}.zip {file}", 'archive.add path="{name}.zip" sources=[{file}]'),
            ("also include {file} and {file2} in backup.zip",
             'archive.add path="backup.zip" sources=[{file}, {file2}]'),
        ],
    )(archive_add)

    gz_result = S.obj({"path": S.string(), "dest": S.string(), "input_bytes": S.integer(minimum=0),
                       "output_bytes": S.integer(minimum=0), "kept": S.boolean(), "overwrote": S.boolean()},
                      required=["path", "dest", "input_bytes", "output_bytes", "kept", "overwrote"])
    keep = S.boolean("keep the original file too (like gzip -k); by default it goes to the trash")
    force = S.boolean("replace the result if it exists already (like gzip -f); undo brings it back")

    registry.syscall(
        "archive.gzip",
        "Compress one file with gzip into FILE.gz beside it (like gzip FILE); the original goes unless keep.",
        args=S.obj({
            "path": S.path("the file to compress"),
            "keep": keep,
            "force": force,
            "level": S.integer("compression level: 1 fastest to 9 smallest (default 6, like gzip)", minimum=1,
                               maximum=9),
        }, required=["path"]),
        result=gz_result,
        capability="fs.write", risk=Risk.WRITE, undoable=True, preview=pv_gzip, view=View("record"),
        examples=[
            ("gzip access.log", {"path": "access.log"}),
            ("compress dump.sql with gzip but keep the original", {"path": "dump.sql", "keep": True}),
            ("gzip -9 data.json", {"path": "data.json", "level": 9}),
            ("gzip -f report.csv", {"path": "report.csv", "force": True}),
        ],
        phrasings=[
            ("gzip {file}", 'archive.gzip path={file}'),
            ("compress {file} with gzip", 'archive.gzip path={file}'),
            ("gzip {fname} in {dir}", 'archive.gzip path="{dir}/{fname}"'),
            ("gzip -k {file}", 'archive.gzip path={file} keep=true'),
            ("gzip {file} and drop the original", 'archive.gzip path={file}'),
            ("compress {file} with gzip, no need to keep the uncompressed one", 'archive.gzip path={file}'),
            ("gzip {file} but keep the original", 'archive.gzip path={file} keep=true'),
            ("make a .gz copy of {file}", 'archive.gzip path={file} keep=true'),
            ("gzip -9 {file}", 'archive.gzip path={file} level=9'),
            ("compress {file} as small as gzip can", 'archive.gzip path={file} level=9'),
            ("gzip -1 {file}", 'archive.gzip path={file} level=1'),
            ("gzip -f {file}", 'archive.gzip path={file} force=true'),
            ("gzip {file} and overwrite the old .gz", 'archive.gzip path={file} force=true'),
            ("gzip all the {glob} in {dir}", 'fs.find path={dir} name={glob} type="file"\narchive.gzip path="$0.path"'),
            ("compress every {glob} with gzip", 'fs.find name={glob} type="file"\narchive.gzip path="$0.path"'),
            ("gzip the {glob} older than {age} in {dir}",
             'fs.find path={dir} name={glob} type="file" mtime_min_days={age}\narchive.gzip path="$0.path"'),
            ("[prev=fs.find] gzip them", 'archive.gzip path="$prev.path"'),
            ("[prev=fs.find] compress each of them with gzip, keeping the originals",
             'archive.gzip path="$prev.path" keep=true'),
        ],
    )(archive_gzip)

    registry.syscall(
        "archive.gunzip",
        "Decompress one .gz file beside it (like gunzip FILE.gz: FILE.gz becomes FILE, FILE.tgz becomes "
        "FILE.tar); the .gz goes unless keep.",
        args=S.obj({
            "path": S.path("the .gz or .tgz file to decompress"),
            "keep": S.boolean("keep the .gz file too (like gunzip -k); by default it goes to the trash"),
            "force": force,
        }, required=["path"]),
        result=gz_result,
        capability="fs.write", risk=Risk.WRITE, undoable=True, preview=pv_gunzip, view=View("record"),
        examples=[
            ("gunzip access.log.gz", {"path": "access.log.gz"}),
            ("decompress dump.sql.gz but keep the compressed file", {"path": "dump.sql.gz", "keep": True}),
            ("gzip -d site.tgz", {"path": "site.tgz"}),
            ("gunzip -f report.csv.gz", {"path": "report.csv.gz", "force": True}),
        ],
        phrasings=[
            ("gunzip {name}.gz", 'archive.gunzip path="{name}.gz"'),
            ("gzip -d {name}.gz", 'archive.gunzip path="{name}.gz"'),
            ("decompress {name}.gz", 'archive.gunzip path="{name}.gz"'),
            ("uncompress {name}.gz", 'archive.gunzip path="{name}.gz"'),
            ("unzip {name}.gz", 'archive.gunzip path="{name}.gz"'),
            ("extract {name}.gz", 'archive.gunzip path="{name}.gz"'),
            ("gunzip {name}.tgz", 'archive.gunzip path="{name}.tgz"'),
            ("gunzip {name}.gz in {dir}", 'archive.gunzip path="{dir}/{name}.gz"'),
            ("gunzip -k {name}.gz", 'archive.gunzip path="{name}.gz" keep=true'),
            ("decompress {name}.gz but keep the compressed file", 'archive.gunzip path="{name}.gz" keep=true'),
            ("gunzip -f {name}.gz", 'archive.gunzip path="{name}.gz" force=true'),
            ("gunzip {name}.gz and overwrite what is there", 'archive.gunzip path="{name}.gz" force=true'),
            ("gunzip all the .gz files in {dir}",
             'fs.find path={dir} name="*.gz" type="file"\narchive.gunzip path="$0.path"'),
            ("[prev=fs.find] gunzip them", 'archive.gunzip path="$prev.path"'),
            ("[prev=fs.find] decompress those, keeping the .gz files", 'archive.gunzip path="$prev.path" keep=true'),
        ],
    )(archive_gunzip)
