"""The audit log: append-only JSONL, hash-chained, with the chain head kept apart.

One record per permission decision (``kind: "decision"``) and one per executed
step (``kind: "step"``): time, session, call, canonical arguments, decision and
who decided, taint, result status, what came of it where the call says so
(``outcome``: ``proc.run``'s exit status, confinement and the end of its
stderr), the hash of the previous record and the record's own hash (SHA-256
over the canonical JSON of everything else).  The
head (last sequence number and hash) is written to a separate file after each
append, so cutting records off the end is detected as well as editing one.
Files are created 0600 in a 0700 directory.

``verify(path)`` returns a ``VerifyReport`` naming the first bad record;
``show(path, last=20)`` returns the last records as data.

Encryption at rest (``[storage] encrypt = true``, ``syscalls.storage``): the
chain fields and the record's outline stay in clear (``seq``, ``time``,
``kind``, ``session``, ``request_id``, ``call``, ``capability``,
``decision``, ``by``, ``status``, ``error``, ``elapsed_s``, ``truncated``,
``prev``, ``hash``); the details (``args``, ``targets``, ``reason``,
``taint``, ``error_message``, ``outcome``, and any field added later) are
sealed into ``sealed``, bound to the record's sequence number.  The hash is
taken over the record as stored, sealed part included, so ``verify`` needs no
key and still detects any change to a sealed part (which would not open
either); ``show`` and ``records`` open the details with the key.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from syscalls.errors import OSFailure, SealedDataError
from syscalls.storage import Storage, sealed_fields
from syscalls.types import CallContext, JSONDict, SyscallRequest, SyscallResult

GENESIS = "0" * 64
LOG_NAME = "audit.jsonl"
HEAD_NAME = "audit.head"

# The fields of a record kept in clear when encryption is on; every other field is sealed.
CLEAR_FIELDS = frozenset({"seq", "time", "kind", "session", "request_id", "call", "capability", "decision",
                          "by", "status", "error", "elapsed_s", "truncated", "prev", "hash"})


def default_state_dir() -> Path:
    env = os.environ.get("NLSH_STATE_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_state_dir("nlshell"))


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)


def record_hash(record: JSONDict) -> str:
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(canonical_json(body).encode("ascii")).hexdigest()


def _open_private(path: Path, flags: int) -> int:
    return os.open(path, flags | getattr(os, "O_CLOEXEC", 0), 0o600)


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    records: int
    first_bad: int | None = None  # 1-based line number of the first bad record
    reason: str = ""

    def to_dict(self) -> JSONDict:
        return {"ok": self.ok, "records": self.records, "first_bad": self.first_bad, "reason": self.reason}


class AuditLog:
    """The dispatcher's ``Auditor`` and the gate's ``DecisionSink``."""

    def __init__(self, state_dir: Path | str | None = None, *, storage: Storage | None = None) -> None:
        self.dir = Path(state_dir) if state_dir is not None else default_state_dir()
        self.path = self.dir / LOG_NAME
        self.head_path = self.dir / HEAD_NAME
        self.storage = storage if storage is not None else Storage(self.dir)
        self._lock = threading.Lock()
        try:
            self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.close(_open_private(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND))
        except OSError as exc:
            raise OSFailure(f"cannot create the audit log: {exc.strerror}", target=str(self.path),
                            hint="check that the state directory is writable") from exc

    # ------------------------------------------------------------ writing

    def append(self, record: JSONDict) -> JSONDict:
        """Append one record to the chain (thread- and process-safe); return it as stored, with
        seq/prev/hash (its details sealed when encryption is on)."""
        with self._lock:
            fd = _open_private(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                seq, prev = self._read_head()
                rec = {"seq": seq + 1, "time": time.time(), **record, "prev": prev}
                if self.storage.encrypt:
                    kept, hidden = sealed_fields(rec, CLEAR_FIELDS)
                    if hidden:
                        plain = canonical_json(hidden)
                        rec = {**kept, "sealed": self.storage.seal_text(plain, _purpose(rec["seq"]))}
                rec["hash"] = record_hash(rec)
                os.write(fd, (canonical_json(rec) + "\n").encode("ascii"))
                os.fsync(fd)
                self._write_head(rec["seq"], rec["hash"])
            except OSError as exc:
                raise OSFailure(f"cannot append to the audit log: {exc.strerror}",
                                target=str(self.path)) from exc
            finally:
                os.close(fd)
        return rec

    def _read_head(self) -> tuple[int, str]:
        try:
            data = json.loads(self.head_path.read_text(encoding="ascii"))
            return int(data["seq"]), str(data["hash"])
        except FileNotFoundError:
            return 0, GENESIS
        except (ValueError, KeyError, TypeError, OSError):
            # A damaged head: continue the chain from the log's own last record;
            # verify() will still report the mismatch that caused this.
            last = _last_record(self.path)
            if last is None:
                return 0, GENESIS
            return int(last.get("seq", 0)), str(last.get("hash", GENESIS))

    def _write_head(self, seq: int, digest: str) -> None:
        tmp = self.head_path.with_name(HEAD_NAME + ".tmp")
        fd = _open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        try:
            os.write(fd, json.dumps({"seq": seq, "hash": digest}).encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.head_path)

    # ------------------------------------------------------------ protocols

    def decision(self, request: SyscallRequest, ctx: CallContext, *, capability: str, action: str,
                 by: str, reason: str, targets: list[JSONDict]) -> None:
        self.append({
            "kind": "decision",
            "session": ctx.session,
            "request_id": request.id,
            "call": request.call,
            "args": request.args,
            "capability": capability,
            "targets": targets,
            "decision": action,
            "by": by,
            "reason": reason,
            "taint": ctx.tainted_by,
        })

    def step(self, result: SyscallResult, ctx: CallContext) -> None:
        err = result.error or {}
        self.append({
            "kind": "step",
            "session": ctx.session,
            "request_id": result.request.id,
            "call": result.request.call,
            "args": result.request.args,
            "status": result.status,
            "error": err.get("type"),
            "error_message": err.get("message"),
            "taint": ctx.tainted_by,
            "elapsed_s": round(result.elapsed_s, 6),
            "truncated": result.truncated,
            **({"outcome": ctx.outcome} if ctx.outcome is not None else {}),
        })

    # ------------------------------------------------------------ reading

    def records(self) -> list[JSONDict]:
        return read_records(self.path, storage=self.storage)

    def verify(self) -> VerifyReport:
        return verify(self.path)


def _last_record(path: Path) -> JSONDict | None:
    last: JSONDict | None = None
    try:
        with open(path, "rb") as fh:
            for line in fh:
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                if isinstance(obj, dict):
                    last = obj
    except OSError:
        return None
    return last


def _purpose(seq: Any) -> str:
    return f"audit:{seq}"


def open_record(record: JSONDict, storage: Storage, *, where: str = "") -> JSONDict:
    """``record`` with its sealed details back in place (``hash`` stays the stored record's)."""
    if "sealed" not in record:
        return record
    token = record["sealed"]
    if not isinstance(token, str):
        raise SealedDataError("a sealed audit record is damaged", call="audit", target=where)
    hidden = json.loads(storage.open_text(token, _purpose(record.get("seq")), where=where))
    if not isinstance(hidden, dict):
        raise SealedDataError("a sealed audit record is damaged", call="audit", target=where)
    kept = {k: v for k, v in record.items() if k != "sealed"}
    return {**hidden, **kept}


def read_records(path: Path | str, *, storage: Storage | None = None) -> list[JSONDict]:
    """Every record; with ``storage``, sealed details are opened (``SealedDataError`` when they do not)."""
    out: list[JSONDict] = []
    with open(path, "rb") as fh:
        for number, line in enumerate(fh, 1):
            try:
                obj = json.loads(line)
            except ValueError:
                obj = {"unreadable": line.decode("utf-8", "replace")}
            if isinstance(obj, dict) and storage is not None:
                obj = open_record(obj, storage, where=f"{path}:{number}")
            out.append(obj if isinstance(obj, dict) else {"unreadable": repr(obj)})
    return out


def verify(path: Path | str | None = None) -> VerifyReport:
    """Check the chain: every record's hash, every link, and the head file against the last record."""
    log = Path(path) if path is not None else default_state_dir() / LOG_NAME
    if log.is_dir():
        log = log / LOG_NAME
    head_path = log.with_name(HEAD_NAME)
    prev = GENESIS
    n = 0
    try:
        fh = open(log, "rb")
    except OSError as exc:
        return VerifyReport(False, 0, 1, f"cannot read {log}: {exc.strerror}")
    with fh:
        for n, line in enumerate(fh, 1):
            try:
                rec = json.loads(line)
            except ValueError:
                return VerifyReport(False, n - 1, n, "not valid JSON (edited or cut)")
            if not isinstance(rec, dict):
                return VerifyReport(False, n - 1, n, "not a record")
            if rec.get("seq") != n:
                return VerifyReport(False, n - 1, n, f"sequence number {rec.get('seq')!r}, expected {n}")
            if rec.get("prev") != prev:
                return VerifyReport(False, n - 1, n,
                                    "does not link to the previous record (removed or reordered)")
            if rec.get("hash") != record_hash(rec):
                return VerifyReport(False, n - 1, n, "hash mismatch (the record was edited)")
            prev = rec["hash"]
    try:
        head = json.loads(head_path.read_text(encoding="ascii"))
    except FileNotFoundError:
        if n == 0:
            return VerifyReport(True, 0)
        return VerifyReport(False, n, n, "the head file is missing")
    except (ValueError, OSError):
        return VerifyReport(False, n, n, "the head file is unreadable")
    if not isinstance(head, dict) or head.get("seq") != n or head.get("hash") != prev:
        seq = head.get("seq") if isinstance(head, dict) else None
        if isinstance(seq, int) and seq > n:
            return VerifyReport(False, n, n + 1,
                                f"the log was truncated: the head says {seq} records, found {n}")
        return VerifyReport(False, n, n or 1, "the head does not match the last record")
    return VerifyReport(True, n)


def show(path: Path | str | None = None, *, last: int = 20, storage: Storage | None = None) -> list[JSONDict]:
    """The last ``last`` records (for ``nlsh audit show``), sealed details opened with the key of the
    log's directory (or ``storage``)."""
    log = Path(path) if path is not None else default_state_dir() / LOG_NAME
    if log.is_dir():
        log = log / LOG_NAME
    records = read_records(log)
    chosen = records[-last:] if last > 0 else records
    store = storage if storage is not None else Storage(log.parent)
    first = len(records) - len(chosen) + 1
    return [open_record(r, store, where=f"{log}:{first + i}") for i, r in enumerate(chosen)]
