"""The freedesktop.org trash: the home trash and the per-volume trashes (Trash specification 1.0).

One implementation for ``fs.delete`` (through the journal's ``Effects.remove``), undo and
``nlsh trash``.

Where a deleted thing goes, decided by ``reserve``:

- on the mount that holds the home trash: the home trash ``$XDG_DATA_HOME/Trash``;
- on any other mount, with top directory ``$topdir``: a trash on that file system, so nothing is
  copied across file systems -- ``$topdir/.Trash/$uid`` when ``$topdir/.Trash`` is a directory,
  not a symbolic link, with the sticky bit (an administrator's shared trash; the ``$uid``
  directory is made 0700 when missing), else ``$topdir/.Trash-$uid`` (made 0700 when missing).
  A ``.Trash`` that fails a check is ignored; a per-user directory that is a symbolic link, not a
  directory, or someone else's is never used;
- when neither can be used (the top directory is not writable, a bad ``.Trash-$uid``): the home
  trash after all, which copies the item across file systems.  That is allowed up to
  ``FALLBACK_COPY_LIMIT`` bytes, and only when the home trash's file system has room; the result
  says so (``note``).  Anything bigger is refused (``LimitExceeded``) before anything is touched,
  naming the path and the trash directory to create.  On a read-only file system nothing can
  be deleted: refused (``OSFailure``) before anything is touched.

Each trash holds ``files/NAME`` and ``info/NAME.trashinfo`` (``Path=`` percent-encoded -- absolute
in the home trash, relative to ``$topdir`` in a per-volume trash, so it survives mounting the
disk elsewhere -- and ``DeletionDate=``); a name is reserved by creating its ``.trashinfo``
exclusively, with ``NAME.2``, ``NAME.3``, ... on collision.

The journal records which trash got each item (``trash``, ``topdir``), so undo does not search.
``nlsh trash`` (``cans``) sees the home trash and the per-volume trashes of every mounted file
system (pseudo file systems skipped; missing, foreign or unreadable ones skipped quietly);
``$NLSH_TRASH_VOLUMES``, a colon-separated list of mount points, narrows that scan (a slow
network mount left out, say; set and empty: the home trash only).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import os
import shutil
import stat
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from syscalls.errors import InvalidRequest, LimitExceeded, NotFound, from_oserror
from syscalls.fsmeasure import tree_size
from syscalls.mounts import mount_of, mount_table
from syscalls.types import JSONDict

FALLBACK_COPY_LIMIT = 1 << 30
"""Bytes the home trash takes from another file system (a copy) when that one has no usable trash."""

VOLUMES_ENV = "NLSH_TRASH_VOLUMES"

# Mounts that never hold a user's files: not scanned for trashes.
PSEUDO_FS = frozenset({
    "autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs", "devpts", "devtmpfs",
    "efivarfs", "fusectl", "hugetlbfs", "mqueue", "nsfs", "proc", "pstore", "rpc_pipefs", "securityfs",
    "selinuxfs", "sysfs", "tracefs",
})


def data_home(override: Path | str | None = None) -> Path:
    if override is not None:
        return Path(override)
    env = os.environ.get("XDG_DATA_HOME")
    if env:
        return Path(env)
    return Path(os.path.expanduser("~")) / ".local" / "share"


def beside(path: Path) -> Path:
    """A free name next to ``path``: ``name (restored)``, ``name (restored 2)``, ..."""
    candidate = path.with_name(f"{path.name} (restored)")
    n = 2
    while os.path.lexists(candidate):
        candidate = path.with_name(f"{path.name} (restored {n})")
        n += 1
    return candidate


def move(src: Path, dest: Path) -> None:
    """Rename, or copy+remove across file systems; never replaces ``dest``."""
    if os.path.lexists(dest):
        raise FileExistsError(errno.EEXIST, "destination exists", str(dest))
    try:
        os.rename(src, dest)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        shutil.move(str(src), str(dest))


# --------------------------------------------------------------------------- one trash can


class TrashCan:
    """One trash directory: the home trash (``topdir`` None) or a per-volume one on ``topdir``."""

    def __init__(self, root: Path, topdir: Path | None = None) -> None:
        self.root = root
        self.topdir = topdir
        self.files = root / "files"
        self.info = root / "info"

    def __repr__(self) -> str:
        return f"TrashCan({str(self.root)!r}, topdir={str(self.topdir) if self.topdir else None!r})"

    def _ensure(self) -> None:
        if self.topdir is None:
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        for d in (self.files, self.info):
            d.mkdir(exist_ok=True, mode=0o700)

    def _stored_path(self, original: Path) -> str:
        """``Path=`` of the spec: relative to ``topdir`` in a per-volume trash, else absolute."""
        if self.topdir is not None:
            real = Path(os.path.realpath(original.parent)) / original.name
            rel = os.path.relpath(real, self.topdir)
            if rel != ".." and not rel.startswith("../"):
                return rel
        return str(original)

    def reserve(self, original: Path) -> str:
        """Reserve a unique name by creating its ``.trashinfo`` exclusively (the spec's way)."""
        self._ensure()
        base = original.name or "root"
        stamp = _dt.datetime.now().strftime("%Y-%m-%dT%H:%M:%S")
        body = (f"[Trash Info]\nPath={urllib.parse.quote(self._stored_path(original), safe='/')}\n"
                f"DeletionDate={stamp}\n").encode("ascii")
        n = 1
        while True:
            name = base if n == 1 else f"{base}.{n}"
            try:
                fd = os.open(self.info / f"{name}.trashinfo", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                n += 1
                continue
            try:
                os.write(fd, body)
                os.fsync(fd)
            finally:
                os.close(fd)
            if os.path.lexists(self.files / name):  # an orphan file: keep looking
                os.unlink(self.info / f"{name}.trashinfo")
                n += 1
                continue
            return name

    def put(self, path: Path, name: str) -> None:
        try:
            move(path, self.files / name)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(self.info / f"{name}.trashinfo")
            raise

    def _info(self, name: str) -> dict[str, str]:
        try:
            text = (self.info / f"{name}.trashinfo").read_text(encoding="ascii", errors="replace")
        except OSError:
            return {}
        out: dict[str, str] = {}
        for line in text.splitlines():
            key, sep, value = line.partition("=")
            if sep and key in ("Path", "DeletionDate"):
                out[key] = value
        return out

    def original(self, name: str) -> Path | None:
        """Where ``name`` came from; a relative ``Path=`` is taken from ``topdir`` (or the trash's parent)."""
        raw = self._info(name).get("Path")
        if raw is None:
            return None
        p = Path(urllib.parse.unquote(raw))
        if p.is_absolute():
            return p
        return (self.topdir or self.root.parent) / p

    def list(self) -> list[JSONDict]:
        """Everything in this trash: name, original path, deletion date, entries, bytes, and the trash."""
        out: list[JSONDict] = []
        try:
            infos = sorted(self.info.glob("*.trashinfo"))
        except OSError:
            return out
        for info in infos:
            name = info.name[: -len(".trashinfo")]
            fields = self._info(name)
            count, size = tree_size(self.files / name)
            out.append({"name": name, "original_path": str(self.original(name) or ""),
                        "deleted": fields.get("DeletionDate", ""), "entries": count, "bytes": size,
                        "present": os.path.lexists(self.files / name), "trash": str(self.root)})
        return out

    def restore(self, name: str, dest: Path | None = None) -> Path:
        """Move ``name`` back to where it came from (or ``dest``); beside it if that is occupied."""
        src = self.files / name
        if not os.path.lexists(src):
            raise NotFound(f"{name!r} is not in the trash {self.root}", call="trash.restore", target=name,
                           hint="list the trash to see what it holds")
        target = dest or self.original(name)
        if target is None:
            raise NotFound(f"no .trashinfo for {name!r}; the original place is unknown", call="trash.restore",
                           target=name, hint="give a destination")
        if os.path.lexists(target):
            target = beside(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            move(src, target)
        except OSError as exc:
            raise from_oserror(exc, call="trash.restore", target=str(target)) from exc
        self.forget(name)
        return target

    def forget(self, name: str) -> None:
        """Drop ``name``'s ``.trashinfo`` (its file is gone or was never moved in)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.info / f"{name}.trashinfo")

    def empty(self, *, older_than_s: float | None = None) -> JSONDict:
        """Permanently delete what is in this trash (optionally only what is older than ``older_than_s``)."""
        removed = 0
        size = 0
        now = time.time()
        for item in self.list():
            name = item["name"]
            if older_than_s is not None:
                try:
                    when = _dt.datetime.strptime(item["deleted"], "%Y-%m-%dT%H:%M:%S").timestamp()
                except ValueError:
                    continue
                if now - when < older_than_s:
                    continue
            p = self.files / name
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p)
            elif os.path.lexists(p):
                os.unlink(p)
            self.forget(name)
            removed += 1
            size += int(item["bytes"])
        return {"removed": removed, "bytes": size}


def home(data: Path | str | None = None) -> TrashCan:
    """The home trash, ``$XDG_DATA_HOME/Trash`` (or ``data``/Trash)."""
    return TrashCan(data_home(data) / "Trash")


# --------------------------------------------------------------------------- per-volume trashes


def _shared_ok(shared: Path) -> bool:
    """``$topdir/.Trash`` is usable: a directory, not a symbolic link, sticky."""
    try:
        st = os.lstat(shared)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and bool(st.st_mode & stat.S_ISVTX)


def _own_dir(path: Path, *, create: bool) -> None:
    """``path`` is (or, with ``create``, is made) a real directory of this user; OSError if not."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        if not create:
            raise
        os.mkdir(path, 0o700)
        st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        raise OSError(errno.ENOTDIR, "not a directory (or a symbolic link)", str(path))
    if st.st_uid != os.getuid():
        raise OSError(errno.EPERM, "owned by another user", str(path))


def _candidates(topdir: Path) -> list[Path]:
    """The per-user trash directories the spec allows on ``topdir``, in order of preference."""
    uid = os.getuid()
    out = [topdir / ".Trash" / str(uid)] if _shared_ok(topdir / ".Trash") else []
    return [*out, topdir / f".Trash-{uid}"]


def volume(topdir: Path) -> TrashCan:
    """This user's trash on the file system mounted at ``topdir``, made if missing; OSError if none can be."""
    why: OSError | None = None
    for root in _candidates(topdir):
        try:
            _own_dir(root, create=True)
        except OSError as exc:
            why = why or exc
            continue
        return TrashCan(root, topdir)
    assert why is not None
    raise why


def at(root: Path, home_can: TrashCan) -> TrashCan | None:
    """The trash whose directory is ``root``, if it is the home trash or a valid per-volume trash."""
    real = Path(os.path.realpath(root))
    if real == Path(os.path.realpath(home_can.root)):
        return home_can
    uid = os.getuid()
    if real.name == f".Trash-{uid}":
        topdir = real.parent
    elif real.name == str(uid) and real.parent.name == ".Trash" and _shared_ok(real.parent):
        topdir = real.parent.parent
    else:
        return None
    try:
        _own_dir(real, create=False)
    except OSError:
        return None
    return TrashCan(real, topdir)


def scanned_mounts() -> list[Path]:
    """The mount points ``cans`` looks at: ``$NLSH_TRASH_VOLUMES`` when set, else the mount table."""
    env = os.environ.get(VOLUMES_ENV)
    if env is not None:
        return [Path(p) for p in env.split(":") if p]
    rows = mount_table() or []
    return [Path(p) for p in dict.fromkeys(m.point for m in rows if m.fstype not in PSEUDO_FS)]


def cans(data: Path | str | None = None, *, home_can: TrashCan | None = None) -> list[TrashCan]:
    """The home trash, then every per-volume trash of this user on the scanned mounts."""
    first = home_can or home(data)
    out = [first]
    seen = {Path(os.path.realpath(first.root))}
    for topdir in scanned_mounts():
        for root in _candidates(topdir):
            can = at(root, first) if os.path.isdir(root) else None
            if can is None or Path(os.path.realpath(can.root)) in seen:
                continue
            seen.add(Path(os.path.realpath(can.root)))
            out.append(can)
    return out


# --------------------------------------------------------------------------- where a deletion goes


@dataclass(frozen=True)
class Slot:
    """A reserved place in a trash: ``can.files / name``; ``note`` says why it is not the usual trash."""

    can: TrashCan
    name: str
    note: str = ""

    def record(self) -> JSONDict:
        """What the journal and the result keep: the name, the trash, and its top directory."""
        out: JSONDict = {"trash_name": self.name, "trash": str(self.can.root)}
        if self.can.topdir is not None:
            out["topdir"] = str(self.can.topdir)
        return out


def _free_bytes(path: Path) -> int | None:
    p = path
    while not p.exists() and p.parent != p:
        p = p.parent
    try:
        return shutil.disk_usage(p).free
    except OSError:
        return None


def _read_only(directory: str) -> bool:
    try:
        return bool(os.statvfs(directory).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def choose(path: Path, home_can: TrashCan, *, size: int, call: str = "fs.delete") -> tuple[TrashCan, str]:
    """The trash for ``path`` (``size`` bytes) and a note when it is the home trash across file systems."""
    parent = os.path.realpath(path.parent)
    mount = mount_of(parent)
    if mount.point == mount_of(home_can.root).point:
        return home_can, ""
    if _read_only(parent):
        raise from_oserror(OSError(errno.EROFS, "read-only file system", str(path)), call=call,
                           target=str(path))
    topdir = Path(mount.point)
    if is_inside_trash(path, topdir):
        raise InvalidRequest(f"{path} is a trash directory or inside one", call=call, field=str(path),
                             hint="restore it or empty the trash with nlsh trash")
    try:
        return volume(topdir), ""
    except OSError as exc:
        why = f"{exc.filename or topdir}: {exc.strerror or exc}"
    made = topdir / f".Trash-{os.getuid()}"
    free = _free_bytes(home_can.root)
    if size > FALLBACK_COPY_LIMIT or (free is not None and size > free):
        raise LimitExceeded(
            f"{path} is on another file system ({topdir}) with no usable trash ({why}); putting its "
            f"{size} bytes in the home trash would copy them across file systems",
            call=call, target=str(path),
            hint=f"make a trash there (mkdir -m 700 {made}, as a user who may write {topdir}) or move "
                 "it somewhere on the same file system yourself; nothing was changed")
    return home_can, (f"no usable trash on the file system of {path} ({topdir}: {why}); "
                      f"copied into the home trash {home_can.root}")


def is_inside_trash(path: Path, topdir: Path) -> bool:
    """Whether ``path`` is one of ``topdir``'s trash directories or inside one."""
    real = Path(os.path.realpath(path.parent)) / path.name
    trashes = [topdir / ".Trash", *_candidates(topdir)]
    return any(real == t or real.is_relative_to(t) for t in trashes)


def reserve(path: Path, home_can: TrashCan, *, size: int, call: str = "fs.delete") -> Slot:
    """Choose the trash for ``path`` and reserve its name there (``Slot.can.put`` moves it in)."""
    can, note = choose(path, home_can, size=size, call=call)
    return Slot(can, can.reserve(path), note)


def from_record(record: Mapping[str, Any], home_can: TrashCan) -> TrashCan:
    """The trash a journal record names (records without one are from the home trash)."""
    root = record.get("trash")
    if not root or Path(str(root)) == home_can.root:
        return home_can
    topdir = record.get("topdir")
    return TrashCan(Path(str(root)), Path(str(topdir)) if topdir else None)


# --------------------------------------------------------------------------- nlsh trash


def find(name: str, data: Path | str | None = None) -> tuple[TrashCan, str]:
    """The trash holding ``name``, or the one ``TRASH/files/NAME`` names; an error if ambiguous."""
    home_can = home(data)
    if "/" in name:
        p = Path(os.path.abspath(os.path.expanduser(name)))
        can = at(p.parent.parent, home_can) if p.parent.name == "files" else None
        if can is None or not os.path.lexists(can.files / p.name):
            raise NotFound(f"{name} is not an item of a trash", call="trash.restore", target=name,
                           hint="give a name, or TRASH/files/NAME as nlsh trash list shows them")
        return can, p.name
    hits = [c for c in cans(home_can=home_can) if os.path.lexists(c.files / name)]
    if not hits:
        raise NotFound(f"{name!r} is not in the trash", call="trash.restore", target=name,
                       hint="list the trash to see what it holds")
    if len(hits) > 1:
        where = ", ".join(str(c.root) for c in hits)
        raise InvalidRequest(f"{name!r} is in more than one trash ({where})", call="trash.restore",
                             field=name, hint=f"name it by its place, e.g. {hits[0].files / name}")
    return hits[0], name


def list_all(data: Path | str | None = None) -> list[JSONDict]:
    """``nlsh trash list``: every trash's items, the home trash first."""
    out: list[JSONDict] = []
    for can in cans(data):
        out.extend(can.list())
    return out


def restore(name: str, data: Path | str | None = None) -> JSONDict:
    """``nlsh trash restore NAME``: back to its original place, or beside it."""
    can, item = find(name, data)
    dest = can.restore(item)
    return {"name": item, "trash": str(can.root), "restored_to": str(dest)}


def empty(*, older_than_s: float | None = None, data: Path | str | None = None) -> JSONDict:
    """``nlsh trash empty``: every trash (only what is older than ``older_than_s``, if given)."""
    removed = 0
    size = 0
    for can in cans(data):
        got = can.empty(older_than_s=older_than_s)
        removed += int(got["removed"])
        size += int(got["bytes"])
    return {"removed": removed, "bytes": size}
