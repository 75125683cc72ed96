"""Undo: a write-ahead journal, a freedesktop trash, and ``JournalEffects``.

Journal (JSONL, ``<state dir>/journal.jsonl``, 0600), one line per event::

    {"op": "begin",  "step": s, "plan": p, "call": ..., "args": ...}   before the step runs
    {"op": "effect", "step": s, "plan": p, "kind": "trash" | "backup" | "inverse", ...}
    {"op": "commit", "step": s, "status": "ok" | "failed" | ...}      after it ran
    {"op": "undone" | "aborted", "step": s}

A trash or backup effect is written BEFORE the file is touched, an inverse
right after the change it undoes; what actually happened is read back from
the disk, so a ``kill -9`` at any point leaves something ``recover()`` can
make consistent (it rolls back every step that began and never committed).

Side-effect classes and how they are undone:

- ``trash``   (``Effects.remove``): the file, link or tree was moved to the trash
  → moved back;
- ``backup``  (``Effects.before_overwrite``): the previous version was copied
  → the current version goes to the trash, the copy comes back;
- ``inverse`` (``Effects.record``): a request that undoes the change, one of
  ``fs.move {src, dest}`` (moves, renames), ``fs.chmod {path, mode}``,
  ``fs.chown {path, uid, gid}`` (the previous owner and group, not following a link),
  ``fs.delete {path}`` (undoes a creation — mkdir, touch, write, copy, symlink;
  the created thing goes to the trash, an empty directory is removed),
  ``fs.touch {path, atime, mtime}`` (restores times).

Restoring onto an occupied path restores beside it (``name (restored)``),
never over it.

Trash: ``$XDG_DATA_HOME/Trash/{files,info}`` with ``<name>.trashinfo``
(``Path=`` percent-encoded, ``DeletionDate=``), unique names on collision.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import fcntl
import json
import os
import shutil
import stat
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from syscalls.errors import AlreadyExists, NotFound, OSFailure, from_oserror
from syscalls.fsmeasure import tree_size
from syscalls.types import CallContext, JSONDict

JOURNAL_NAME = "journal.jsonl"


def state_dir(override: Path | str | None = None) -> Path:
    if override is not None:
        return Path(override)
    env = os.environ.get("NLSH_STATE_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_state_dir("nlshell"))


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


def _move(src: Path, dest: Path) -> None:
    """Rename, or copy+remove across file systems; never replaces ``dest``."""
    if os.path.lexists(dest):
        raise FileExistsError(errno.EEXIST, "destination exists", str(dest))
    try:
        os.rename(src, dest)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        shutil.move(str(src), str(dest))


# --------------------------------------------------------------------------- trash


class Trash:
    """A freedesktop.org trash can (home trash)."""

    def __init__(self, data_dir: Path | str | None = None) -> None:
        self.root = data_home(data_dir) / "Trash"
        self.files = self.root / "files"
        self.info = self.root / "info"

    def _ensure(self) -> None:
        for d in (self.root, self.files, self.info):
            d.mkdir(parents=True, exist_ok=True, mode=0o700)

    def reserve(self, original: Path) -> str:
        """Reserve a unique name by creating its ``.trashinfo`` exclusively (the spec's way)."""
        self._ensure()
        base = original.name or "root"
        stamp = _dt.datetime.now().strftime("%Y-%m-%dT%H:%M:%S")
        body = (f"[Trash Info]\nPath={urllib.parse.quote(str(original), safe='/')}\n"
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
            _move(path, self.files / name)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(self.info / f"{name}.trashinfo")
            raise

    def original(self, name: str) -> Path | None:
        try:
            text = (self.info / f"{name}.trashinfo").read_text(encoding="ascii", errors="replace")
        except OSError:
            return None
        for line in text.splitlines():
            if line.startswith("Path="):
                return Path(urllib.parse.unquote(line[5:]))
        return None

    def list(self) -> list[JSONDict]:
        """Everything in the trash: name, original path, deletion date, entries, bytes."""
        out: list[JSONDict] = []
        if not self.info.is_dir():
            return out
        for info in sorted(self.info.glob("*.trashinfo")):
            name = info.name[: -len(".trashinfo")]
            text = info.read_text(encoding="ascii", errors="replace")
            deleted = ""
            for line in text.splitlines():
                if line.startswith("DeletionDate="):
                    deleted = line[len("DeletionDate="):]
            count, size = tree_size(self.files / name)
            out.append({"name": name, "original_path": str(self.original(name) or ""), "deleted": deleted,
                        "entries": count, "bytes": size, "present": os.path.lexists(self.files / name)})
        return out

    def restore(self, name: str, dest: Path | None = None) -> Path:
        """Move ``name`` back to where it came from (or ``dest``); beside it if that is occupied."""
        src = self.files / name
        if not os.path.lexists(src):
            raise NotFound(f"{name!r} is not in the trash", call="trash.restore", target=name,
                           hint="list the trash to see what it holds")
        target = dest or self.original(name)
        if target is None:
            raise NotFound(f"no .trashinfo for {name!r}; the original place is unknown", call="trash.restore",
                           target=name, hint="give a destination")
        if os.path.lexists(target):
            target = beside(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            _move(src, target)
        except OSError as exc:
            raise from_oserror(exc, call="trash.restore", target=str(target)) from exc
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.info / f"{name}.trashinfo")
        return target

    def empty(self, *, older_than_s: float | None = None) -> JSONDict:
        """Permanently delete what is in the trash (optionally only what is older than ``older_than_s``)."""
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
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.info / f"{name}.trashinfo")
            removed += 1
            size += int(item["bytes"])
        return {"removed": removed, "bytes": size}


# --------------------------------------------------------------------------- journal


class Journal:
    """The write-ahead journal file and the undo / recover logic."""

    def __init__(self, state: Path | str | None = None, data: Path | str | None = None) -> None:
        self.dir = state_dir(state)
        self.path = self.dir / JOURNAL_NAME
        self.backups = self.dir / "backups"
        self.trash = Trash(data)
        self._lock = threading.Lock()
        self._local = threading.local()
        try:
            self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        except OSError as exc:
            raise OSFailure(f"cannot create the journal: {exc.strerror}", target=str(self.path)) from exc

    # ------------------------------------------------------------ writing

    def write(self, entry: JSONDict) -> None:
        line = json.dumps({**entry, "time": time.time()}, sort_keys=True, default=str) + "\n"
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                os.write(fd, line.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)

    def entries(self) -> list[JSONDict]:
        out: list[JSONDict] = []
        try:
            with open(self.path, encoding="utf-8") as fh:
                for line in fh:
                    try:
                        obj = json.loads(line)
                    except ValueError:
                        continue  # a line cut by a crash
                    if isinstance(obj, dict):
                        out.append(obj)
        except FileNotFoundError:
            pass
        return out

    @contextlib.contextmanager
    def plan(self, plan_id: str | None = None) -> Iterator[str]:
        """Group the steps run inside the block into one plan (undone together)."""
        pid = plan_id or uuid.uuid4().hex[:12]
        prev = getattr(self._local, "plan", None)
        self._local.plan = pid
        try:
            yield pid
        finally:
            self._local.plan = prev

    def begin(self, call: str, args: JSONDict, *, step_id: str | None = None) -> str:
        step = step_id or uuid.uuid4().hex[:12]
        plan = getattr(self._local, "plan", None) or step
        self.write({"op": "begin", "step": step, "plan": plan, "call": call, "args": args})
        self._local.step = (step, plan)
        return step

    def commit(self, step: str, status: str) -> None:
        self.write({"op": "commit", "step": step, "status": status})
        if getattr(self._local, "step", (None,))[0] == step:
            self._local.step = None

    def current(self, ctx: CallContext) -> tuple[str, str, bool]:
        """(step, plan, implicit): the running step, or a one-effect step of its own."""
        cur = getattr(self._local, "step", None)
        if cur:
            return cur[0], cur[1], False
        step = self.begin(ctx.call, {})
        self._local.step = None
        plan = getattr(self._local, "plan", None) or step
        return step, plan, True

    # ------------------------------------------------------------ undo

    def _steps(self) -> dict[str, JSONDict]:
        steps: dict[str, JSONDict] = {}
        order = 0
        for e in self.entries():
            sid = e.get("step")
            if not isinstance(sid, str):
                continue
            op = e.get("op")
            st = steps.setdefault(sid, {"step": sid, "plan": e.get("plan", sid), "effects": [],
                                        "state": "open", "order": order, "call": e.get("call", "")})
            order += 1
            if op == "begin":
                st["plan"] = e.get("plan", sid)
                st["call"] = e.get("call", "")
            elif op == "effect":
                st["effects"].append(e)
            elif op == "commit":
                st["state"] = "committed"
                st["status"] = e.get("status")
            elif op in ("undone", "aborted"):
                st["state"] = op
        return steps

    def history(self) -> list[JSONDict]:
        """Steps with their plan, call, state and number of effects (newest last)."""
        steps = sorted(self._steps().values(), key=lambda s: s["order"])
        return [{"step": s["step"], "plan": s["plan"], "call": s["call"], "state": s["state"],
                 "effects": len(s["effects"])} for s in steps]

    def undo(self, plan_or_step_id: str | None = None) -> list[JSONDict]:
        """Reverse the last plan (or the plan / step named); return what was done, effect by effect."""
        steps = sorted(self._steps().values(), key=lambda s: s["order"])
        undoable = [s for s in steps if s["state"] == "committed" and s["effects"]]
        if plan_or_step_id is None:
            if not undoable:
                raise NotFound("there is nothing to undo", call="undo",
                               hint="the journal has no undoable step")
            chosen_plan = undoable[-1]["plan"]
            chosen = [s for s in undoable if s["plan"] == chosen_plan]
        else:
            chosen = [s for s in undoable if plan_or_step_id in (s["step"], s["plan"])]
            if not chosen:
                raise NotFound(f"no undoable step or plan {plan_or_step_id!r}", call="undo",
                               target=plan_or_step_id, hint="see the journal history for ids")
        report: list[JSONDict] = []
        for st in reversed(chosen):
            report.extend(self._reverse(st))
            self.write({"op": "undone", "step": st["step"], "plan": st["plan"]})
        return report

    def recover(self) -> list[JSONDict]:
        """After a crash: roll back every step that began and never committed; report what was done."""
        report: list[JSONDict] = []
        for st in sorted(self._steps().values(), key=lambda s: s["order"], reverse=True):
            if st["state"] != "open":
                continue
            actions = self._reverse(st)
            report.append({"step": st["step"], "plan": st["plan"], "call": st["call"],
                           "rolled_back": actions})
            self.write({"op": "aborted", "step": st["step"], "plan": st["plan"]})
        return report

    def _reverse(self, st: JSONDict) -> list[JSONDict]:
        out: list[JSONDict] = []
        for eff in reversed(st["effects"]):
            try:
                out.append({"step": st["step"], **self._reverse_one(eff)})
            except (OSError, AlreadyExists, NotFound) as exc:
                out.append({"step": st["step"], "kind": eff.get("kind"), "status": "failed",
                            "error": str(exc)})
        return out

    def _reverse_one(self, eff: JSONDict) -> JSONDict:
        kind = eff.get("kind")
        if kind == "trash":
            name = str(eff["trash_name"])
            original = Path(eff["path"])
            if not os.path.lexists(self.trash.files / name):
                # The crash came before the move (or it was restored already): drop the reservation.
                if os.path.lexists(original):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(self.trash.info / f"{name}.trashinfo")
                    return {"kind": "trash", "path": str(original), "status": "nothing to do"}
                return {"kind": "trash", "path": str(original), "status": "missing from trash"}
            dest = self.trash.restore(name, original)
            return {"kind": "trash", "path": str(original), "restored_to": str(dest), "status": "restored"}
        if kind == "backup":
            path = Path(eff["path"])
            backup = Path(eff["backup"])
            if not backup.exists():
                return {"kind": "backup", "path": str(path), "status": "no backup (nothing was overwritten)"}
            moved_aside = None
            if os.path.lexists(path):
                name = self.trash.reserve(path)
                self.trash.put(path, name)
                moved_aside = name
            _move(backup, path)
            return {"kind": "backup", "path": str(path), "restored_to": str(path), "status": "restored",
                    "current_version_trashed_as": moved_aside}
        if kind == "inverse":
            return self._apply_inverse(eff.get("inverse") or {})
        return {"kind": str(kind), "status": "skipped (unknown effect)"}

    def _apply_inverse(self, inverse: JSONDict) -> JSONDict:
        call = inverse.get("call")
        args: dict[str, Any] = dict(inverse.get("args") or {})
        if call == "fs.move":
            src, dest = Path(args["src"]), Path(args["dest"])
            if not os.path.lexists(src):
                return {"kind": "move", "path": str(src), "status": "gone (nothing to move back)"}
            target = beside(dest) if os.path.lexists(dest) else dest
            target.parent.mkdir(parents=True, exist_ok=True)
            _move(src, target)
            return {"kind": "move", "path": str(src), "restored_to": str(target), "status": "restored"}
        if call == "fs.chmod":
            path = Path(args["path"])
            mode = args["mode"]
            num = int(mode, 8) if isinstance(mode, str) else int(mode)
            if os.path.islink(path):
                return {"kind": "chmod", "path": str(path), "status": "skipped (now a symlink)"}
            os.chmod(path, num & 0o1777)
            return {"kind": "chmod", "path": str(path), "mode": oct(num & 0o1777), "status": "restored"}
        if call == "fs.chown":
            path = Path(args["path"])
            if not os.path.lexists(path):
                return {"kind": "chown", "path": str(path), "status": "gone"}
            os.chown(path, int(args["uid"]), int(args["gid"]), follow_symlinks=False)
            return {"kind": "chown", "path": str(path), "uid": int(args["uid"]), "gid": int(args["gid"]),
                    "status": "restored"}
        if call == "fs.touch":
            path = Path(args["path"])
            mtime = float(args["mtime"])
            os.utime(path, (float(args.get("atime", mtime)), mtime), follow_symlinks=False)
            return {"kind": "touch", "path": str(path), "status": "restored"}
        if call == "fs.delete":
            path = Path(args["path"])
            if not os.path.lexists(path):
                return {"kind": "create", "path": str(path), "status": "gone already"}
            if os.path.isdir(path) and not os.path.islink(path):
                try:
                    os.rmdir(path)
                    return {"kind": "create", "path": str(path), "status": "removed (empty directory)"}
                except OSError:
                    pass
            name = self.trash.reserve(path)
            self.trash.put(path, name)
            return {"kind": "create", "path": str(path), "status": "moved to trash", "trash_name": name}
        if call in ("fs.write", "restore"):
            # Content changes are undone by the "backup" effect of the same step.
            return {"kind": "content", "path": str(args.get("path", "")), "status": "covered by the backup"}
        return {"kind": str(call), "status": "skipped (no inverse for this call)"}


class JournalEffects:
    """``Effects`` that keep everything undoable: trash instead of unlink, backups, inverses."""

    def __init__(self, journal: Journal | None = None, *, state: Path | str | None = None,
                 data: Path | str | None = None) -> None:
        self.journal = journal or Journal(state, data)

    def remove(self, ctx: CallContext, path: Path) -> JSONDict:
        path = Path(os.path.normpath(path))
        if not os.path.lexists(path):
            raise NotFound("no such file or directory", call=ctx.call, target=str(path))
        count, size = tree_size(path)
        step, plan, implicit = self.journal.current(ctx)
        trash = self.journal.trash
        name = trash.reserve(path)
        self.journal.write({"op": "effect", "step": step, "plan": plan, "kind": "trash", "path": str(path),
                            "trash_name": name, "entries": count, "bytes": size})
        try:
            trash.put(path, name)
        except OSError as exc:
            raise from_oserror(exc, call=ctx.call, target=str(path)) from exc
        finally:
            if implicit:
                self.journal.commit(step, "ok")
        return {"path": str(path), "entries": count, "bytes": size, "trashed": True, "trash_name": name}

    def before_overwrite(self, ctx: CallContext, path: Path) -> None:
        path = Path(os.path.normpath(path))
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return
        if not stat.S_ISREG(st.st_mode):
            return
        step, plan, implicit = self.journal.current(ctx)
        self.journal.backups.mkdir(parents=True, exist_ok=True, mode=0o700)
        backup = self.journal.backups / f"{step}-{uuid.uuid4().hex[:6]}-{path.name}"
        self.journal.write({"op": "effect", "step": step, "plan": plan, "kind": "backup", "path": str(path),
                            "backup": str(backup)})
        try:
            shutil.copy2(path, backup, follow_symlinks=False)
        except OSError as exc:
            raise from_oserror(exc, call=ctx.call, target=str(path)) from exc
        finally:
            if implicit:
                self.journal.commit(step, "ok")

    def record(self, ctx: CallContext, inverse: JSONDict) -> None:
        step, plan, implicit = self.journal.current(ctx)
        self.journal.write({"op": "effect", "step": step, "plan": plan, "kind": "inverse",
                            "inverse": inverse})
        if implicit:
            self.journal.commit(step, "ok")


# ------------------------------------------------------------------- CLI entry points


def undo(plan_or_step_id: str | None = None, *, state: Path | str | None = None,
         data: Path | str | None = None) -> list[JSONDict]:
    """``nlsh undo [ID]``: reverse the last plan (or the one named)."""
    return Journal(state, data).undo(plan_or_step_id)


def recover(*, state: Path | str | None = None, data: Path | str | None = None) -> list[JSONDict]:
    """Roll back steps left open by a crash (run at start-up)."""
    return Journal(state, data).recover()


def trash_list(*, data: Path | str | None = None) -> list[JSONDict]:
    """``nlsh trash list``."""
    return Trash(data).list()


def trash_restore(name: str, *, data: Path | str | None = None) -> JSONDict:
    """``nlsh trash restore NAME``: back to its original place, or beside it."""
    dest = Trash(data).restore(name)
    return {"name": name, "restored_to": str(dest)}


def trash_empty(*, older_than_s: float | None = None, data: Path | str | None = None) -> JSONDict:
    """``nlsh trash empty``."""
    return Trash(data).empty(older_than_s=older_than_s)
