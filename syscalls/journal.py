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

Trash (``syscalls.trash``): the home trash ``$XDG_DATA_HOME/Trash``, or, for a
path on another file system, the per-volume trash at the top of that file
system (``$topdir/.Trash/$uid`` or ``$topdir/.Trash-$uid``), so nothing is
copied across file systems.  A ``trash`` effect records the trash directory it
used (``trash``, ``topdir``); undo takes the item back from there.

Encryption at rest (``[storage] encrypt = true``, ``syscalls.storage``): a
journal line keeps ``op``, ``step``, ``plan``, ``kind``, ``status``, ``call``
and ``time`` in clear and seals the rest (arguments, paths, trash names,
inverses) into ``sealed``, bound to its step, op and kind; a backup is written
as ``backups/STEP-ID.sealed`` (no file name in it), sealed in chunks, with
the file's mode and times in the sealed part of its effect.  Undo opens the
copy beside the file before anything is moved, so a wrong key or an altered
copy stops it with everything as it was and the step still undoable.
Lines and backups written without encryption stay readable.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import stat
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from syscalls import trash as T
from syscalls.errors import NotFound, OSFailure, SealedDataError, SyscallError, from_oserror
from syscalls.fsmeasure import tree_size
from syscalls.storage import Storage, sealed_fields
from syscalls.trash import beside
from syscalls.trash import move as _move
from syscalls.types import CallContext, JSONDict

JOURNAL_NAME = "journal.jsonl"

# The fields of a journal line kept in clear when encryption is on (what undo needs to find a step).
CLEAR_FIELDS = frozenset({"op", "step", "plan", "kind", "status", "call", "time"})
SEALED_BACKUP = "sealed"


def state_dir(override: Path | str | None = None) -> Path:
    if override is not None:
        return Path(override)
    env = os.environ.get("NLSH_STATE_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_state_dir("nlshell"))


# --------------------------------------------------------------------------- journal


class Journal:
    """The write-ahead journal file and the undo / recover logic."""

    def __init__(self, state: Path | str | None = None, data: Path | str | None = None, *,
                 storage: Storage | None = None) -> None:
        self.dir = state_dir(state)
        self.path = self.dir / JOURNAL_NAME
        self.backups = self.dir / "backups"
        self.trash = T.home(data)
        self.storage = storage if storage is not None else Storage(self.dir)
        self._lock = threading.Lock()
        self._local = threading.local()
        try:
            self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        except OSError as exc:
            raise OSFailure(f"cannot create the journal: {exc.strerror}", target=str(self.path)) from exc

    # ------------------------------------------------------------ writing

    def write(self, entry: JSONDict) -> None:
        record: JSONDict = {**entry, "time": time.time()}
        if self.storage.encrypt:
            kept, hidden = sealed_fields(record, CLEAR_FIELDS)
            if hidden:
                plain = json.dumps(hidden, sort_keys=True, default=str)
                record = {**kept, "sealed": self.storage.seal_text(plain, _purpose(kept))}
        line = json.dumps(record, sort_keys=True, default=str) + "\n"
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
                for number, line in enumerate(fh, 1):
                    try:
                        obj = json.loads(line)
                    except ValueError:
                        continue  # a line cut by a crash
                    if isinstance(obj, dict):
                        out.append(self._open(obj, number) if "sealed" in obj else obj)
        except FileNotFoundError:
            pass
        return out

    def _open(self, obj: JSONDict, number: int) -> JSONDict:
        """A sealed line with its sealed fields back (``SealedDataError`` when they do not open)."""
        kept = {k: v for k, v in obj.items() if k != "sealed"}
        where = f"{self.path}:{number}"
        token = obj["sealed"]
        if not isinstance(token, str):
            raise SealedDataError("a sealed journal line is damaged", call="undo", target=where)
        hidden = json.loads(self.storage.open_text(token, _purpose(kept), where=where))
        if not isinstance(hidden, dict):
            raise SealedDataError("a sealed journal line is damaged", call="undo", target=where)
        return {**hidden, **kept}

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

    def to_trash(self, path: Path, call: str) -> JSONDict:
        """Move ``path`` into its trash (``syscalls.trash.reserve`` decides which); what ``Slot.record`` says."""
        slot = T.reserve(path, self.trash, size=tree_size(path)[1], call=call)
        slot.can.put(path, slot.name)
        return {**slot.record(), **({"note": slot.note} if slot.note else {})}

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
            except SealedDataError:
                raise  # the step stays undoable once the key is right
            except (OSError, SyscallError) as exc:
                out.append({"step": st["step"], "kind": eff.get("kind"), "status": "failed",
                            "error": str(exc)})
        return out

    def _reverse_one(self, eff: JSONDict) -> JSONDict:
        kind = eff.get("kind")
        if kind == "trash":
            name = str(eff["trash_name"])
            original = Path(eff["path"])
            can = T.from_record(eff, self.trash)
            if not os.path.lexists(can.files / name):
                # The crash came before the move (or it was restored already): drop the reservation.
                if os.path.lexists(original):
                    can.forget(name)
                    return {"kind": "trash", "path": str(original), "status": "nothing to do"}
                return {"kind": "trash", "path": str(original), "status": "missing from trash",
                        "trash": str(can.root)}
            dest = can.restore(name, original)
            return {"kind": "trash", "path": str(original), "restored_to": str(dest), "status": "restored"}
        if kind == "backup":
            path = Path(eff["path"])
            backup = Path(eff["backup"])
            if not backup.exists():
                return {"kind": "backup", "path": str(path), "status": "no backup (nothing was overwritten)"}
            if eff.get("backup_format") == SEALED_BACKUP:
                return self._restore_sealed(path, backup, eff)
            moved_aside = None
            if os.path.lexists(path):
                moved_aside = self.to_trash(path, "undo")["trash_name"]
            _move(backup, path)
            return {"kind": "backup", "path": str(path), "restored_to": str(path), "status": "restored",
                    "current_version_trashed_as": moved_aside}
        if kind == "inverse":
            return self._apply_inverse(eff.get("inverse") or {})
        return {"kind": str(kind), "status": "skipped (unknown effect)"}

    def _restore_sealed(self, path: Path, backup: Path, eff: JSONDict) -> JSONDict:
        # Open the copy beside its destination first: a wrong key or an altered copy stops here, with the
        # current version and the sealed copy as they were.
        tmp = path.with_name(f".nlsh-restore-{uuid.uuid4().hex[:8]}")
        self.storage.open_file(backup, tmp, f"backup:{backup.name}")
        try:
            os.chmod(tmp, int(eff.get("mode", 0o600)) & 0o7777)
            if "mtime_ns" in eff:
                mtime = int(eff["mtime_ns"])
                os.utime(tmp, ns=(int(eff.get("atime_ns", mtime)), mtime))
            moved_aside = None
            if os.path.lexists(path):
                moved_aside = self.to_trash(path, "undo")["trash_name"]
            _move(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        backup.unlink()
        return {"kind": "backup", "path": str(path), "restored_to": str(path), "status": "restored",
                "current_version_trashed_as": moved_aside}

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
            return {"kind": "create", "path": str(path), "status": "moved to trash",
                    **self.to_trash(path, "undo")}
        if call in ("fs.write", "restore"):
            # Content changes are undone by the "backup" effect of the same step.
            return {"kind": "content", "path": str(args.get("path", "")), "status": "covered by the backup"}
        return {"kind": str(call), "status": "skipped (no inverse for this call)"}


def _purpose(kept: JSONDict) -> str:
    """What a sealed journal line is bound to: its step, op and kind."""
    return f"journal:{kept.get('step')}:{kept.get('op')}:{kept.get('kind')}"


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
        try:
            slot = T.reserve(path, self.journal.trash, size=size, call=ctx.call)
        except OSError as exc:
            raise from_oserror(exc, call=ctx.call, target=str(path)) from exc
        step, plan, implicit = self.journal.current(ctx)
        self.journal.write({"op": "effect", "step": step, "plan": plan, "kind": "trash", "path": str(path),
                            **slot.record(), "entries": count, "bytes": size})
        try:
            slot.can.put(path, slot.name)
        except OSError as exc:
            raise from_oserror(exc, call=ctx.call, target=str(path)) from exc
        finally:
            if implicit:
                self.journal.commit(step, "ok")
        out: JSONDict = {"path": str(path), "entries": count, "bytes": size, "trashed": True,
                         "trash_name": slot.name, "trash": str(slot.can.root)}
        if slot.note:
            out["note"] = slot.note
        return out

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
        storage = self.journal.storage
        if storage.encrypt:
            # Sealed, and named without the file's name; mode and times go into the sealed effect.
            backup = self.journal.backups / f"{step}-{uuid.uuid4().hex[:6]}.{SEALED_BACKUP}"
            self.journal.write({"op": "effect", "step": step, "plan": plan, "kind": "backup",
                                "path": str(path), "backup": str(backup), "backup_format": SEALED_BACKUP,
                                "mode": stat.S_IMODE(st.st_mode), "atime_ns": st.st_atime_ns,
                                "mtime_ns": st.st_mtime_ns})
        else:
            backup = self.journal.backups / f"{step}-{uuid.uuid4().hex[:6]}-{path.name}"
            self.journal.write({"op": "effect", "step": step, "plan": plan, "kind": "backup",
                                "path": str(path), "backup": str(backup)})
        try:
            if storage.encrypt:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
                try:
                    storage.seal_file(fd, backup, f"backup:{backup.name}")
                finally:
                    os.close(fd)
            else:
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
    """``nlsh trash list``: the home trash and the per-volume trashes (``syscalls.trash.list_all``)."""
    return T.list_all(data)


def trash_restore(name: str, *, data: Path | str | None = None) -> JSONDict:
    """``nlsh trash restore NAME``: back to its original place, or beside it."""
    return T.restore(name, data)


def trash_empty(*, older_than_s: float | None = None, data: Path | str | None = None) -> JSONDict:
    """``nlsh trash empty``: every trash ``nlsh trash list`` shows."""
    return T.empty(older_than_s=older_than_s, data=data)
