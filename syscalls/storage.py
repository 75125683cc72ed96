"""Encryption at rest for what nlshell keeps about a person's work.

With ``[storage] encrypt = true`` in the configuration, the intent history,
the journal's copies of overwritten files (``backups/``), the journal's
arguments and paths, and the detail fields of audit records are sealed before
they reach the disk.  The trash is not: it follows the freedesktop.org layout
and stays plain files.  Saved model states are kept in memory only (the one
state on disk, the prompt prefix in the cache directory, holds no request).

Sealing is AES-256-GCM from the ``cryptography`` package, nothing hand-made:

- a record (``seal`` / ``open``): ``b"NLS1" + nonce(12) + ciphertext+tag``,
  a fresh random 96-bit nonce each time, and associated data naming what the
  record is (``purpose``: ``"history"``, ``"journal:STEP:OP:KIND"``,
  ``"audit:SEQ"``, ``"backup:NAME"``), so a record moved to another place
  does not open;
- a file (``seal_file`` / ``open_file``): ``b"NLSF1"`` then chunks of up to
  1 MiB, each ``length(4) + nonce(12) + ciphertext+tag`` with the chunk's
  number and whether it is the last in its associated data, so a cut,
  reordered or extended file does not open.

The key, one per state directory, described by ``<state dir>/storage.key``
(JSON, 0600; it holds no secret):

- ``source = "keyring"``: a random 256-bit key kept in the OS keyring (the
  ``keyring`` package; service ``nlshell``, the user name is in the file);
- ``source = "passphrase"``: derived with scrypt (``cryptography``'s
  ``Scrypt``; the salt and the cost are in the file) from ``$NLSH_PASSPHRASE``
  or a passphrase asked for on the terminal.

``[storage] key = "auto"`` takes the keyring when one is usable, else a
passphrase; the choice is made once, when the key file is created, and read
from the file afterwards.  The file also holds a sealed check value, so a
wrong key is told apart from altered data and refused before anything is
written with it.  Every failure to open is a ``SealedDataError`` naming the
file; nothing that could not be opened is ever rewritten or cut.

Turning encryption on does not rewrite what was stored before: older plain
records stay readable as they are, and sealed ones are read whenever they are
met (with the key), whatever the setting says now.

The settings come from ``configure()`` (nlshell's configuration installs
itself there); without it encryption is off.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import json
import os
import secrets
import struct
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from syscalls.errors import SealedDataError

KEY_NAME = "storage.key"
KEY_SOURCES = ("auto", "keyring", "passphrase")
PASSPHRASE_ENV = "NLSH_PASSPHRASE"
KEYRING_SERVICE = "nlshell"

RECORD_MAGIC = b"NLS1"
FILE_MAGIC = b"NLSF1"
NONCE_BYTES = 12
TAG_BYTES = 16
CHUNK_BYTES = 1 << 20
_AAD_PREFIX = b"nlshell-storage\x00v1\x00"
_CHECK_PURPOSE = "key-check"
_CHECK_PLAIN = b"nlshell storage key check"

# scrypt cost (OWASP's figures for scrypt: N=2^17, r=8, p=1: about 128 MiB and well under a second)
SCRYPT_N = 1 << 17
SCRYPT_R = 8
SCRYPT_P = 1
_SALT_BYTES = 16

_PASSPHRASE_HINT = (f"set {PASSPHRASE_ENV} to the passphrase chosen when encryption was turned on "
                    "(or run nlsh on a terminal to be asked); nothing was changed")


@dataclass(frozen=True)
class StorageSettings:
    """``[storage]`` of the configuration: seal new records (``encrypt``) and where the key comes from."""

    encrypt: bool = False
    key: str = "auto"  # auto | keyring | passphrase


_settings_source: Callable[[], StorageSettings] | None = None


def configure(source: StorageSettings | Callable[[], StorageSettings] | None) -> None:
    """Where the settings come from: fixed settings, a callable asked each time a ``Storage`` is made
    (nlshell's configuration), or None (encryption off)."""
    global _settings_source
    if source is None or callable(source):
        _settings_source = source
    else:
        fixed = source
        _settings_source = lambda: fixed  # noqa: E731


def current_settings() -> StorageSettings:
    return _settings_source() if _settings_source is not None else StorageSettings()


def default_dir() -> Path:
    """The state directory (``$NLSH_STATE_DIR`` or the platform's), where the key file lives."""
    env = os.environ.get("NLSH_STATE_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_state_dir("nlshell"))


def _aesgcm(key: bytes) -> Any:
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError as exc:
        raise SealedDataError("encryption at rest needs the cryptography package, which is not installed",
                              call="storage",
                              hint="pip install 'nlshell[encrypt]' (or set [storage] encrypt = false); "
                                   "nothing was written") from exc
    return AESGCM(key)


def _invalid_tag() -> type[Exception]:
    from cryptography.exceptions import InvalidTag

    return InvalidTag


def _aad(purpose: str) -> bytes:
    return _AAD_PREFIX + purpose.encode("utf-8")


def keyring_backend() -> Any | None:
    """The OS keyring when one is usable (the ``keyring`` package and a real backend), else None."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None
    try:
        kr = keyring.get_keyring()
        priority = float(kr.priority)
    except Exception:  # a broken keyring install counts as none
        return None
    if isinstance(kr, fail.Keyring) or priority <= 0:
        return None
    return kr


def ask_passphrase(prompt: str, *, confirm: bool = False) -> str | None:
    """``$NLSH_PASSPHRASE``, else asked for on the terminal (twice for a new one); None when neither."""
    env = os.environ.get(PASSPHRASE_ENV)
    if env:
        return env
    if not sys.stdin.isatty():
        return None
    first = getpass.getpass(prompt)
    if confirm and getpass.getpass("again: ") != first:
        raise SealedDataError("the two passphrases differ", call="storage",
                              hint="run the command again and type the same passphrase twice")
    return first


# One derived key per key file (its path and contents), so the passphrase is asked for and scrypt runs
# once per process.
_keys: dict[tuple[str, str], bytes] = {}
_keys_lock = threading.Lock()


class Storage:
    """Seal and open records and files with the key of one state directory."""

    def __init__(self, directory: Path | str | None = None, settings: StorageSettings | None = None, *,
                 passphrase: Callable[..., str | None] = ask_passphrase) -> None:
        self.dir = Path(directory) if directory is not None else default_dir()
        self._settings = settings
        self.key_path = self.dir / KEY_NAME
        self._ask = passphrase
        self._lock = threading.Lock()

    @property
    def settings(self) -> StorageSettings:
        """The settings given, else ``current_settings()`` at first use (then kept)."""
        if self._settings is None:
            self._settings = current_settings()
        return self._settings

    @property
    def encrypt(self) -> bool:
        """Whether new records are sealed (sealed ones are opened whenever they are met)."""
        return self.settings.encrypt

    # ------------------------------------------------------------ records

    def seal(self, data: bytes, purpose: str) -> bytes:
        """``data`` sealed for ``purpose`` (creates the key on first use)."""
        aes = _aesgcm(self.unlock(create=True))
        nonce = secrets.token_bytes(NONCE_BYTES)
        return RECORD_MAGIC + nonce + bytes(aes.encrypt(nonce, data, _aad(purpose)))

    def open(self, data: bytes, purpose: str, *, where: Path | str = "") -> bytes:
        """The plain bytes of a sealed record; ``SealedDataError`` naming ``where`` when it does not open."""
        where = str(where or self.key_path)
        head = len(RECORD_MAGIC) + NONCE_BYTES
        if not data.startswith(RECORD_MAGIC) or len(data) < head + TAG_BYTES:
            raise _altered(where, purpose)
        aes = _aesgcm(self.unlock(create=False, where=where))
        try:
            return bytes(aes.decrypt(data[len(RECORD_MAGIC):head], data[head:], _aad(purpose)))
        except _invalid_tag() as exc:
            raise _altered(where, purpose) from exc

    def seal_text(self, text: str, purpose: str) -> str:
        """``seal`` for a line of text: base64 of the sealed UTF-8."""
        return base64.b64encode(self.seal(text.encode("utf-8"), purpose)).decode("ascii")

    def open_text(self, token: str, purpose: str, *, where: Path | str = "") -> str:
        try:
            raw = base64.b64decode(token.encode("ascii"), validate=True)
        except (ValueError, UnicodeEncodeError) as exc:
            raise _altered(str(where or self.key_path), purpose) from exc
        data = self.open(raw, purpose, where=where)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _altered(str(where or self.key_path), purpose) from exc

    # ------------------------------------------------------------ files

    def seal_file(self, src_fd: int, dest: Path, purpose: str) -> int:
        """Write the content read from ``src_fd`` to a new file ``dest`` (0600, never replacing one),
        sealed in chunks; returns the plain size."""
        aes = _aesgcm(self.unlock(create=True))
        total = 0
        with _new_file(dest) as out:
            out.write(FILE_MAGIC)
            index = 0
            chunk = _read_chunk(src_fd)
            while True:
                following = _read_chunk(src_fd) if len(chunk) == CHUNK_BYTES else b""
                last = not following
                nonce = secrets.token_bytes(NONCE_BYTES)
                body = nonce + bytes(aes.encrypt(nonce, chunk, _chunk_aad(purpose, index, last)))
                out.write(struct.pack(">I", len(body)) + body)
                total += len(chunk)
                if last:
                    break
                chunk, index = following, index + 1
        return total

    def open_file(self, src: Path, dest: Path, purpose: str) -> int:
        """Write the plain content of the sealed file ``src`` to a new file ``dest`` (0600, never replacing
        one); returns its size.  On any failure ``dest`` is removed and ``src`` is left as it was."""
        aes = _aesgcm(self.unlock(create=False, where=src))
        invalid = _invalid_tag()
        total = 0
        with _new_file(dest) as out, open(src, "rb") as fh:
            if fh.read(len(FILE_MAGIC)) != FILE_MAGIC:
                raise _altered(str(src), purpose)
            index = 0
            while True:
                size_bytes = fh.read(4)
                if len(size_bytes) != 4:
                    raise _altered(str(src), purpose)  # cut before the last chunk
                (size,) = struct.unpack(">I", size_bytes)
                if size < NONCE_BYTES + TAG_BYTES or size > CHUNK_BYTES + NONCE_BYTES + TAG_BYTES:
                    raise _altered(str(src), purpose)
                body = fh.read(size)
                if len(body) != size:
                    raise _altered(str(src), purpose)
                plain = None
                for last in (False, True):
                    try:
                        plain = aes.decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:],
                                            _chunk_aad(purpose, index, last))
                    except invalid:
                        continue
                    break
                if plain is None:
                    raise _altered(str(src), purpose)
                out.write(plain)
                total += len(plain)
                if last:
                    if fh.read(1):
                        raise _altered(str(src), purpose)  # something after the last chunk
                    break
                index += 1
        return total

    # ------------------------------------------------------------ the key

    def unlock(self, *, create: bool = False, where: Path | str = "") -> bytes:
        """The key: from the process's cache, the keyring or the passphrase; created (with the key file)
        when ``create`` and there is none yet.  ``SealedDataError`` when it cannot be had or is wrong."""
        with self._lock:
            info = self._read_key_file()
            if info is None:
                if not create:
                    raise SealedDataError(
                        f"sealed data was found but the key file {self.key_path} is missing", call="storage",
                        target=str(where or self.key_path),
                        hint="put back storage.key from a copy of the state directory; nothing was changed")
                return self._create_key()
            return self._key_from(info)

    def _read_key_file(self) -> tuple[dict[str, Any], str] | None:
        try:
            raw = self.key_path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise SealedDataError(f"cannot read the key file: {exc.strerror}", call="storage",
                                  target=str(self.key_path), hint="check its permissions") from exc
        try:
            info = json.loads(raw)
            if not isinstance(info, dict) or info.get("source") not in ("keyring", "passphrase"):
                raise ValueError("not a key file")
        except ValueError as exc:
            raise SealedDataError("the key file is damaged", call="storage", target=str(self.key_path),
                                  hint="put it back from a copy of the state directory; nothing was "
                                       "changed") from exc
        return info, hashlib.sha256(raw).hexdigest()

    def _key_from(self, found: tuple[dict[str, Any], str]) -> bytes:
        info, fingerprint = found
        cache_key = (str(self.key_path.resolve()), fingerprint)
        with _keys_lock:
            cached = _keys.get(cache_key)
        if cached is not None:
            return cached
        if info["source"] == "keyring":
            key = self._keyring_key(info)
        else:
            phrase = self._ask("Passphrase for nlshell's encrypted storage: ")
            if not phrase:
                raise SealedDataError("no passphrase for the encrypted storage", call="storage",
                                      target=str(self.key_path), hint=_PASSPHRASE_HINT)
            key = _derive(phrase, info, self.key_path)
        check = _b64(info.get("check"), self.key_path)
        try:
            opened = self._check_opens(key, check)
        except ValueError:
            opened = False
        if not opened:
            if info["source"] == "keyring":
                raise SealedDataError("the key in the OS keyring does not open nlshell's encrypted storage",
                                      call="storage", target=str(self.key_path),
                                      hint="the keyring entry was replaced; put back the original one; "
                                           "nothing was changed")
            raise SealedDataError("wrong passphrase: it does not open nlshell's encrypted storage",
                                  call="storage", target=str(self.key_path), hint=_PASSPHRASE_HINT)
        with _keys_lock:
            _keys[cache_key] = key
        return key

    def _check_opens(self, key: bytes, check: bytes) -> bool:
        head = len(RECORD_MAGIC) + NONCE_BYTES
        if not check.startswith(RECORD_MAGIC) or len(check) < head + TAG_BYTES:
            raise ValueError("a damaged check value")
        try:
            plain = _aesgcm(key).decrypt(check[len(RECORD_MAGIC):head], check[head:], _aad(_CHECK_PURPOSE))
        except _invalid_tag():
            return False
        return bool(plain == _CHECK_PLAIN)

    def _keyring_key(self, info: dict[str, Any]) -> bytes:
        kr = keyring_backend()
        user = str(info.get("keyring_user", ""))
        if kr is None:
            raise SealedDataError("the key is kept in the OS keyring, and no keyring is usable here",
                                  call="storage", target=str(self.key_path),
                                  hint="run nlsh where the keyring is unlocked (install the keyring "
                                       "package and its backend); nothing was changed")
        try:
            value = kr.get_password(str(info.get("keyring_service", KEYRING_SERVICE)), user)
        except Exception as exc:  # keyring backends raise their own errors
            raise SealedDataError(f"the OS keyring refused: {exc}", call="storage", target=str(self.key_path),
                                  hint="unlock the keyring and try again; nothing was changed") from exc
        if not value:
            raise SealedDataError(f"the key {user!r} is not in the OS keyring", call="storage",
                                  target=str(self.key_path),
                                  hint="put the keyring entry back (service nlshell); nothing was changed")
        return _b64(value, self.key_path)

    def _create_key(self) -> bytes:
        source = self.settings.key
        if source == "auto":
            source = "keyring" if keyring_backend() is not None else "passphrase"
        info: dict[str, Any] = {"version": 1, "source": source}
        if source == "keyring":
            kr = keyring_backend()
            if kr is None:
                raise SealedDataError("[storage] key = \"keyring\", and no keyring is usable here",
                                      call="storage", target=str(self.key_path),
                                      hint='install the keyring package and a backend, or set [storage] '
                                           'key = "passphrase"; nothing was written')
            key = bytes(_aesgcm_generate())
            user = f"storage-{uuid.uuid4().hex}"
            try:
                kr.set_password(KEYRING_SERVICE, user, base64.b64encode(key).decode("ascii"))
            except Exception as exc:  # keyring backends raise their own errors
                raise SealedDataError(f"the OS keyring refused to store the key: {exc}", call="storage",
                                      target=str(self.key_path),
                                      hint="unlock the keyring, or set [storage] key = \"passphrase\"; "
                                           "nothing was written") from exc
            info.update(keyring_service=KEYRING_SERVICE, keyring_user=user)
        else:
            phrase = self._ask("New passphrase for nlshell's encrypted storage: ", confirm=True)
            if not phrase:
                raise SealedDataError("encryption is on and there is no passphrase to make the key from",
                                      call="storage", target=str(self.key_path),
                                      hint=f"set {PASSPHRASE_ENV} or run nlsh on a terminal once to choose "
                                           "one; nothing was written")
            info["scrypt"] = {"salt": base64.b64encode(secrets.token_bytes(_SALT_BYTES)).decode("ascii"),
                              "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P}
            key = _derive(phrase, info, self.key_path)
        nonce = secrets.token_bytes(NONCE_BYTES)
        check = RECORD_MAGIC + nonce + bytes(_aesgcm(key).encrypt(nonce, _CHECK_PLAIN, _aad(_CHECK_PURPOSE)))
        info["check"] = base64.b64encode(check).decode("ascii")
        raw = (json.dumps(info, indent=1, sort_keys=True) + "\n").encode("ascii")
        try:
            self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = self.key_path.with_name(f".{KEY_NAME}.{uuid.uuid4().hex[:8]}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            try:
                os.write(fd, raw)
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(tmp, self.key_path)  # never replaces a key file another process made meanwhile
            finally:
                tmp.unlink(missing_ok=True)
        except FileExistsError:
            found = self._read_key_file()
            if found is None:
                raise
            return self._key_from(found)
        except OSError as exc:
            raise SealedDataError(f"cannot write the key file: {exc.strerror}", call="storage",
                                  target=str(self.key_path), hint="check that the state directory is "
                                                                  "writable; nothing was written") from exc
        with _keys_lock:
            _keys[(str(self.key_path.resolve()), hashlib.sha256(raw).hexdigest())] = key
        return key

    # ------------------------------------------------------------ for nlsh doctor

    def status(self) -> dict[str, Any]:
        """On/off, the key source, whether the key is available; never asks for anything.

        ``available`` is True (the key opens the check value), False (it cannot be had, or is wrong) or
        None (it will be asked for on a terminal)."""
        out: dict[str, Any] = {"encrypt": self.encrypt, "key_file": str(self.key_path), "setting": self.settings.key}
        try:
            _aesgcm(bytes(32))
        except SealedDataError as exc:
            return {**out, "source": None, "available": False, "detail": exc.message, "fix": exc.hint}
        try:
            found = self._read_key_file()
        except SealedDataError as exc:
            return {**out, "source": None, "available": False, "detail": f"{exc.message} ({self.key_path})",
                    "fix": exc.hint}
        if found is None:
            planned = self.settings.key
            if planned == "auto":
                planned = "keyring" if keyring_backend() is not None else "passphrase"
            out.update(source=planned, key_file_exists=False)
            if planned == "keyring":
                ok = keyring_backend() is not None
                if ok:
                    return {**out, "available": True, "detail": "a new key goes into the OS keyring at first use"}
                return {**out, "available": False, "detail": "no keyring is usable here",
                        "fix": 'install the keyring package and a backend, or set [storage] key = "passphrase"'}
            if os.environ.get(PASSPHRASE_ENV):
                return {**out, "available": True,
                        "detail": f"the key is made from {PASSPHRASE_ENV} (scrypt) at first use"}
            return {**out, "available": None,
                    "detail": f"a passphrase is asked for at first use ({PASSPHRASE_ENV} is not set)"}
        info, _ = found
        out.update(source=info["source"], key_file_exists=True)
        if info["source"] == "passphrase" and not os.environ.get(PASSPHRASE_ENV):
            with _keys_lock:
                cached = any(k[0] == str(self.key_path.resolve()) for k in _keys)
            if not cached:
                return {**out, "available": None,
                        "detail": f"the passphrase is asked for on a terminal ({PASSPHRASE_ENV} is not set)"}
        probe = Storage(self.dir, self.settings, passphrase=lambda *a, **k: os.environ.get(PASSPHRASE_ENV))
        try:
            probe.unlock()
        except SealedDataError as exc:
            return {**out, "available": False, "detail": exc.message, "fix": exc.hint}
        via = "the OS keyring" if info["source"] == "keyring" else f"the passphrase (scrypt, salt in {self.key_path})"
        return {**out, "available": True, "detail": f"the key from {via} opens the storage"}


def _aesgcm_generate() -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return bytes(AESGCM.generate_key(bit_length=256))


def _derive(passphrase: str, info: dict[str, Any], where: Path) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    params = info.get("scrypt")
    try:
        if not isinstance(params, dict):
            raise ValueError("no scrypt parameters")
        salt = base64.b64decode(str(params["salt"]), validate=True)
        n, r, p = int(params["n"]), int(params["r"]), int(params["p"])
        return bytes(Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8")))
    except (KeyError, TypeError, ValueError) as exc:
        raise SealedDataError("the key file's scrypt parameters are damaged", call="storage",
                              target=str(where), hint="put storage.key back from a copy of the state "
                                                      "directory; nothing was changed") from exc


def _b64(value: Any, where: Path) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except ValueError as exc:
        raise SealedDataError("the key file is damaged", call="storage", target=str(where),
                              hint="put it back from a copy of the state directory; nothing was changed") from exc


def _chunk_aad(purpose: str, index: int, last: bool) -> bytes:
    return _aad(purpose) + f"\x00chunk={index}\x00last={int(last)}".encode("ascii")



@contextmanager
def _new_file(dest: Path) -> Iterator[BinaryIO]:
    """A new file ``dest`` (0600, never replacing one), synced to disk when the block ends; removed when
    the block fails, so a half-written file is never left behind."""
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        dest.unlink(missing_ok=True)
        raise

def _read_chunk(fd: int) -> bytes:
    parts: list[bytes] = []
    want = CHUNK_BYTES
    while want:
        got = os.read(fd, want)
        if not got:
            break
        parts.append(got)
        want -= len(got)
    return b"".join(parts)


def _altered(where: str, purpose: str) -> SealedDataError:
    return SealedDataError(
        f"a sealed record ({purpose}) does not open: it was altered, cut, moved, or sealed with another key",
        call="storage", target=where,
        hint="nothing was changed; keep the file for inspection, or put it back from a copy of the state "
             "directory")


def sealed_fields(record: dict[str, Any], clear: frozenset[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a record into the fields kept in clear and the rest (to be sealed)."""
    kept = {k: v for k, v in record.items() if k in clear}
    hidden = {k: v for k, v in record.items() if k not in clear}
    return kept, hidden

