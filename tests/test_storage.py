"""Encryption at rest (``syscalls/storage.py``, ``[storage] encrypt = true``): real files, the real journal,
audit log, history and line mode with a scripted model; the passphrase key (and the keyring key where a
keyring backend is usable)."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from syscalls import storage as S
from syscalls.errors import ExecutionError, SealedDataError, SyscallError
from syscalls.storage import Storage, StorageSettings

pytest.importorskip("cryptography", reason="encryption at rest needs the cryptography package")

ROOT = Path(__file__).resolve().parent.parent
ON = StorageSettings(encrypt=True, key="passphrase")
SECRET = "zebra-quartz-7731-oxide"


@pytest.fixture
def cheap_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """A low scrypt cost for the unit tests (the cost is kept in the key file, so it still round-trips)."""
    monkeypatch.setattr(S, "SCRYPT_N", 1 << 12)


def fresh_process() -> None:
    """Forget the derived keys, as a new process would."""
    with S._keys_lock:
        S._keys.clear()


# --------------------------------------------------------------------------- the module


def test_seal_and_open_a_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cheap_scrypt: None) -> None:
    monkeypatch.setenv(S.PASSPHRASE_ENV, "correct horse")
    st = Storage(tmp_path, ON)
    a, b = st.seal(b"hello " + SECRET.encode(), "history"), st.seal(b"hello " + SECRET.encode(), "history")
    assert a != b and a[4:16] != b[4:16]  # a fresh 96-bit nonce each time
    assert a.startswith(S.RECORD_MAGIC) and SECRET.encode() not in a
    assert st.open(a, "history") == b"hello " + SECRET.encode()
    # bound to its purpose: the same bytes do not open as another record
    with pytest.raises(SealedDataError) as wrong_place:
        st.open(a, "audit:1", where="somewhere.jsonl:3")
    assert wrong_place.value.target == "somewhere.jsonl:3" and "nothing was changed" in wrong_place.value.hint
    flipped = bytearray(a)
    flipped[-1] ^= 1
    with pytest.raises(SealedDataError, match="altered"):
        st.open(bytes(flipped), "history")
    assert issubclass(SealedDataError, ExecutionError) and issubclass(SealedDataError, SyscallError)
    # the key file holds the salt, the cost and a check value, not the passphrase or the key
    info = json.loads((tmp_path / S.KEY_NAME).read_text())
    assert info["source"] == "passphrase" and info["scrypt"]["n"] == 1 << 12
    assert len(base64.b64decode(info["scrypt"]["salt"])) == 16
    assert b"correct horse" not in (tmp_path / S.KEY_NAME).read_bytes()
    assert (tmp_path / S.KEY_NAME).stat().st_mode & 0o777 == 0o600


def test_a_wrong_passphrase_is_told_apart_and_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              cheap_scrypt: None) -> None:
    monkeypatch.setenv(S.PASSPHRASE_ENV, "right")
    token = Storage(tmp_path, ON).seal_text("a line", "history")
    key_file = (tmp_path / S.KEY_NAME).read_bytes()
    fresh_process()
    monkeypatch.setenv(S.PASSPHRASE_ENV, "wrong")
    for attempt in (lambda: Storage(tmp_path, ON).open_text(token, "history"),
                    lambda: Storage(tmp_path, ON).seal_text("new", "history")):
        with pytest.raises(SealedDataError, match="wrong passphrase") as err:
            attempt()
        assert err.value.target == str(tmp_path / S.KEY_NAME) and S.PASSPHRASE_ENV in err.value.hint
    assert (tmp_path / S.KEY_NAME).read_bytes() == key_file  # never rewritten
    monkeypatch.delenv(S.PASSPHRASE_ENV)
    with pytest.raises(SealedDataError, match="no passphrase"):  # stdin is no terminal under pytest
        Storage(tmp_path, ON).open_text(token, "history")
    monkeypatch.setenv(S.PASSPHRASE_ENV, "right")
    assert Storage(tmp_path, ON).open_text(token, "history") == "a line"


def test_files_are_sealed_in_chunks_and_a_cut_or_swap_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  cheap_scrypt: None) -> None:
    monkeypatch.setenv(S.PASSPHRASE_ENV, "pw")
    monkeypatch.setattr(S, "CHUNK_BYTES", 64)
    st = Storage(tmp_path / "state", ON)
    for size in (0, 1, 64, 65, 1000):
        src = tmp_path / f"src{size}"
        src.write_bytes(os.urandom(size))
        sealed = tmp_path / f"sealed{size}"
        fd = os.open(src, os.O_RDONLY)
        try:
            assert st.seal_file(fd, sealed, "backup:x") == size
        finally:
            os.close(fd)
        out = tmp_path / f"out{size}"
        assert st.open_file(sealed, out, "backup:x") == size
        assert out.read_bytes() == src.read_bytes()
    sealed = tmp_path / "sealed1000"
    whole = sealed.read_bytes()
    cut = tmp_path / "cut"
    cut.write_bytes(whole[: len(whole) - 80])  # the last chunk gone: the others still open, the end does not
    for bad, purpose in ((cut, "backup:x"), (sealed, "backup:y")):
        with pytest.raises(SealedDataError):
            st.open_file(bad, tmp_path / "never", purpose)
        assert not (tmp_path / "never").exists()  # nothing half-written is left
    assert sealed.read_bytes() == whole


def test_config_and_doctor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cheap_scrypt: None) -> None:
    from nlshell import doctor as D
    from nlshell.config import ConfigError, load_config, show

    cfg_file = tmp_path / "c.toml"
    assert load_config(cfg_file, env={}).storage.encrypt is False
    cfg_file.write_text('[storage]\nencrypt = true\nkey = "passphrase"\n')
    cfg = load_config(cfg_file, env={})
    assert cfg.storage.encrypt is True and cfg.storage.key == "passphrase"
    assert "[storage]\nencrypt = true" in show(cfg)
    assert load_config(cfg_file, env={"NLSH_ENCRYPT": "0"}).storage.encrypt is False
    for text, words in (('[storage]\nencrypt = "yes"\n', "expected bool"),
                        ('[storage]\nkey = "usb"\n', "unknown key source"),
                        ('[storage]\nsalt = "x"\n', "unknown key")):
        cfg_file.write_text(text)
        with pytest.raises(ConfigError, match=words) as err:
            load_config(cfg_file, env={})
        assert err.value.line == 2
    with pytest.raises(ConfigError, match="true or false"):
        load_config(tmp_path / "none.toml", env={"NLSH_ENCRYPT": "maybe"})

    state = tmp_path / "state"
    off = D.check_storage(False, "auto", state)
    assert off.status == "ok" and "off" in off.detail
    monkeypatch.delenv(S.PASSPHRASE_ENV, raising=False)
    first = D.check_storage(True, "passphrase", state)
    assert first.status == "warn" and "passphrase" in first.detail and first.fix
    monkeypatch.setenv(S.PASSPHRASE_ENV, "pw")
    Storage(state, ON).seal(b"x", "history")
    fresh_process()
    ok = D.check_storage(True, "passphrase", state)
    assert ok.status == "ok" and ok.data["available"] is True and ok.data["source"] == "passphrase"
    monkeypatch.setenv(S.PASSPHRASE_ENV, "not it")
    fresh_process()
    bad = D.check_storage(True, "passphrase", state)
    assert bad.status == "fail" and "wrong passphrase" in bad.detail and S.PASSPHRASE_ENV in bad.fix


# --------------------------------------------------------------------------- the keyring key


def _keyring_roundtrip(tmp_path: Path) -> None:
    st = Storage(tmp_path, StorageSettings(encrypt=True, key="keyring"))
    token = st.seal_text(SECRET, "history")
    info = json.loads((tmp_path / S.KEY_NAME).read_text())
    assert info["source"] == "keyring" and "scrypt" not in info
    fresh_process()
    assert Storage(tmp_path, StorageSettings(encrypt=True)).open_text(token, "history") == SECRET


def test_the_os_keyring_key(tmp_path: Path) -> None:
    if S.keyring_backend() is None:
        pytest.skip("no usable OS keyring backend here (keyring reports its fail/null backend)")
    import keyring

    try:
        _keyring_roundtrip(tmp_path)
    finally:  # the test's entry leaves the user's keyring again
        key_file = tmp_path / S.KEY_NAME
        info = json.loads(key_file.read_text()) if key_file.exists() else {}
        if info.get("keyring_user"):
            keyring.delete_password(S.KEYRING_SERVICE, info["keyring_user"])


def test_the_keyring_key_through_an_in_memory_backend(tmp_path: Path) -> None:
    """The keyring path of ``syscalls.storage`` through keyring's own API, with a backend kept in memory (so
    it runs where no OS keyring is usable)."""
    keyring = pytest.importorskip("keyring")
    from keyring.backend import KeyringBackend

    class Memory(KeyringBackend):
        priority = 1  # type: ignore[assignment]
        entries: ClassVar[dict[tuple[str, str], str]] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.entries.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.entries[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self.entries.pop((service, username), None)

    before = keyring.get_keyring()
    keyring.set_keyring(Memory())
    try:
        _keyring_roundtrip(tmp_path)
        (user,) = [u for (_, u) in Memory.entries]
        Memory.entries[(S.KEYRING_SERVICE, user)] = base64.b64encode(os.urandom(32)).decode()
        fresh_process()
        with pytest.raises(SealedDataError, match="keyring does not open"):
            Storage(tmp_path).unlock()
        Memory.entries.clear()
        fresh_process()
        with pytest.raises(SealedDataError, match="not in the OS keyring"):
            Storage(tmp_path).unlock()
    finally:
        keyring.set_keyring(before)


# --------------------------------------------------------------------------- end to end


def _files_under(roots: list[Path]) -> dict[Path, bytes]:
    out: dict[Path, bytes] = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            for name in [*filenames, *dirnames]:
                p = Path(dirpath) / name
                if p.is_symlink() or p.is_dir():
                    out[p] = b"<dir or link>"
                    continue
                out[p] = p.read_bytes()
    return out


def _where_secret(files: dict[Path, bytes], secret: bytes) -> list[str]:
    return [str(p) for p, data in files.items() if secret in data or secret in str(p).encode()]


def _nlsh(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nlshell.cli", *argv], env=env, capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Path]]:
    dirs = {"home": tmp_path / "home", "config": tmp_path / "config", "data": tmp_path / "data",
            "state": tmp_path / "xstate", "cache": tmp_path / "cache"}
    for d in dirs.values():
        d.mkdir()
    monkeypatch.setenv("HOME", str(dirs["home"]))
    for var, key in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"), ("XDG_STATE_HOME", "state"),
                     ("XDG_CACHE_HOME", "cache")):
        monkeypatch.setenv(var, str(dirs[key]))
    monkeypatch.setenv("NLSH_STATE_DIR", str(dirs["state"] / "nlshell"))
    for var in ("NLSH_CONFIG", "NLSH_POLICY", "NLSH_HISTORY_FILE", "NLSH_CACHE", "NLSH_ENCRYPT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NLSH_TRASH_VOLUMES", "")
    yield dirs
    fresh_process()


def _run_session(home: dict[str, Path], tmp_path: Path, *, encrypt: bool) -> tuple[Path, Path, bytes, str, Path]:
    """One line-mode session (scripted model) whose intent names the secret and whose plan writes over
    notes.txt, which holds it; returns the work dir, notes.txt, its old content, the intent, the script."""
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput
    from rich.console import Console

    from nlshell.line import LineShell
    from nlshell.session_factory import open_kernel

    work = home["home"] / "work"
    work.mkdir()
    notes = work / "notes.txt"
    original = f"launch code: {SECRET}\nkeep this safe\n".encode()
    notes.write_bytes(original)
    notes.chmod(0o640)
    then = time.time() - 3 * 86400
    os.utime(notes, (then, then))
    (home["config"] / "nlshell").mkdir()
    policy = tmp_path / "policy.toml"
    policy.write_text(f'defaults = true\nallow = ["fs.write:{work}/**"]\n')
    (home["config"] / "nlshell" / "config.toml").write_text(
        f'policy = "{policy}"\n\n[storage]\nencrypt = {str(encrypt).lower()}\nkey = "passphrase"\n')
    intent = f"replace notes.txt, which holds the launch code {SECRET}, with a shopping list"
    script = tmp_path / "script.json"
    script.write_text(json.dumps(['fs.write path="notes.txt" content="milk\\neggs\\n"']))
    kernel = open_kernel(model=f"scripted:{script}")
    out = io.StringIO()
    try:
        with create_pipe_input() as pipe:
            pipe.send_text(intent + "\n\x04")
            shell = LineShell(kernel, input=pipe, output=DummyOutput(),
                              console=Console(file=out, width=100, color_system=None), cwd=work)
            assert shell.run() == 0
    finally:
        kernel.close()
    assert notes.read_bytes() == b"milk\neggs\n", out.getvalue()
    return work, notes, original, intent, script


def test_the_search_finds_the_secret_when_encryption_is_off(home: dict[str, Path], tmp_path: Path) -> None:
    """The control for the test below: the same session and the same search, encryption off."""
    _run_session(home, tmp_path, encrypt=False)
    found = {Path(p).name for p in _where_secret(_files_under([home["state"], home["cache"], home["data"]]),
                                                  SECRET.encode())}
    assert {"history", "journal.jsonl"} <= found
    assert any(name.endswith("-notes.txt") for name in found)  # the journal's copy


def test_a_session_leaves_no_secret_at_rest_and_undo_and_verify_still_work(
        home: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nlshell.session_factory import open_kernel
    from nlshell.tui import common
    from syscalls import audit, journal

    monkeypatch.setenv(S.PASSPHRASE_ENV, "a long passphrase")
    state = home["state"] / "nlshell"
    work, notes, original, intent, script = _run_session(home, tmp_path, encrypt=True)
    # What was kept is there, sealed: the history entry, the journal (with its copy) and the audit records.
    history = (state / "history").read_text()
    assert "\n=" in history and "\n+" not in history
    (backup,) = (state / "backups").iterdir()
    assert backup.name.endswith(".sealed") and "notes" not in backup.name
    lines = [json.loads(x) for x in (state / "journal.jsonl").read_text().splitlines()]
    assert lines and all(set(x) <= journal.CLEAR_FIELDS | {"sealed"} for x in lines)
    records = audit.read_records(state / "audit.jsonl")
    assert records and all("sealed" in r and "args" not in r for r in records)

    # No byte sequence of the secret anywhere under nlshell's state, cache and data directories.
    roots = [home["state"], home["cache"], home["data"]]
    at_rest = _files_under(roots)
    assert len(at_rest) >= 6  # history, journal, backup, audit log and head, key file
    assert _where_secret(at_rest, SECRET.encode()) == []
    assert _where_secret(at_rest, SECRET.encode("utf-16-le")) == []

    # ... and it all opens with the key: the history, the audit details, the journal's copy.
    fresh_process()
    assert intent in list(common.open_history(state / "history").load_history_strings())
    shown = audit.show(state, last=50)
    assert any(r.get("args", {}).get("path") == "notes.txt" for r in shown if r.get("kind") == "step")

    # The audit chain verifies without the key.
    no_key = {k: v for k, v in os.environ.items() if k != S.PASSPHRASE_ENV}
    verify = _nlsh("audit", "verify", "--json", env=no_key)
    assert verify.returncode == 0, verify.stderr
    assert json.loads(verify.stdout)["ok"] is True

    # A wrong passphrase: the clear typed error, and every file byte-identical afterwards.
    before = _files_under([*roots, work])
    wrong = {**os.environ, S.PASSPHRASE_ENV: "not the passphrase"}
    refused = _nlsh("undo", env=wrong)
    assert refused.returncode == 1
    assert "wrong passphrase" in refused.stderr and str(state / S.KEY_NAME) in refused.stderr
    assert S.PASSPHRASE_ENV in refused.stderr
    shown_wrong = _nlsh("audit", "show", env=wrong)
    assert shown_wrong.returncode == 1 and "wrong passphrase" in shown_wrong.stderr
    fresh_process()
    monkeypatch.setenv(S.PASSPHRASE_ENV, "not the passphrase")
    with pytest.raises(SealedDataError, match="wrong passphrase"):
        journal.undo()
    with pytest.raises(SealedDataError, match="wrong passphrase"):
        list(common.open_history(state / "history").load_history_strings())
    with pytest.raises(SealedDataError, match="wrong passphrase"):
        open_kernel(model=f"scripted:{script}")
    assert _files_under([*roots, work]) == before

    # Undo with the right one restores the original file, content, mode and time.
    fresh_process()
    monkeypatch.setenv(S.PASSPHRASE_ENV, "a long passphrase")
    done = _nlsh("undo", "--json", env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    assert any(r.get("status") == "restored" for r in json.loads(done.stdout))
    assert notes.read_bytes() == original
    assert notes.stat().st_mode & 0o777 == 0o640
    assert abs(notes.stat().st_mtime - (time.time() - 3 * 86400)) < 600  # its time of three days ago
    assert not list((state / "backups").iterdir())
    assert _nlsh("audit", "verify", env=no_key).returncode == 0
    assert _where_secret(_files_under(roots), SECRET.encode()) == []


def test_plain_records_from_before_stay_readable(home: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
                                                 cheap_scrypt: None) -> None:
    from syscalls import audit, journal
    from syscalls.types import CallContext

    state = home["state"] / "nlshell"
    f = home["home"] / "f.txt"
    f.write_text("one\n")
    off = Storage(state, StorageSettings())
    log = audit.AuditLog(state, storage=off)
    log.append({"kind": "step", "call": "fs.write", "args": {"path": "plain"}})
    j = journal.Journal(state, home["data"], storage=off)
    eff = journal.JournalEffects(j)
    ctx = CallContext(call="fs.write", cwd=home["home"], effects=eff)
    with j.plan():
        step = j.begin("fs.write", {"path": str(f)})
        eff.before_overwrite(ctx, f)
        j.commit(step, "ok")
    f.write_text("two\n")
    monkeypatch.setenv(S.PASSPHRASE_ENV, "pw")
    on = Storage(state, ON)
    log = audit.AuditLog(state, storage=on)
    log.append({"kind": "step", "call": "fs.write", "args": {"path": "sealed"}})
    assert [r["args"]["path"] for r in log.records()] == ["plain", "sealed"]
    assert audit.verify(state).ok
    j2 = journal.Journal(state, home["data"], storage=on)
    step2 = j2.begin("fs.write", {"path": str(f)})
    journal.JournalEffects(j2).before_overwrite(ctx, f)
    j2.commit(step2, "ok")
    f.write_text("three\n")
    j2.undo()  # the sealed copy
    assert f.read_text() == "two\n"
    j2.undo()  # the plain copy
    assert f.read_text() == "one\n"
