"""User configuration: a TOML file plus environment overrides.

Where: ``$NLSH_CONFIG`` if set, else ``platformdirs.user_config_dir("nlshell")/config.toml``.
A missing file means defaults.  Precedence, lowest first: defaults, the file,
the environment (``NLSH_MODEL``, ``NLSH_PROFILE``, ``NLSH_BACKEND_URL``,
``NLSH_THREADS``, ``NLSH_THEME``, ``NLSH_POLICY``, ``NLSH_HISTORY_SIZE``,
``NLSH_TIMEOUT``, ``NLSH_PLANNER``, ``NLSH_ENCRYPT``).  Every error is a ``ConfigError`` naming the file, the line
(when the TOML parser knows it) and the key.

The file::

    model = "smollm2"             # a profile name, a .gguf path or an http(s):// URL
    threads = 2                   # 0 = all cores
    theme = "dark"                # dark | light | mono
    policy = "~/.config/nlshell/policy.toml"
    history_size = 1000
    planner = "auto"              # auto | v2 (trained) | shots (examples)

    [backend]
    url = "http://127.0.0.1:8080" # use a running OpenAI-compatible server instead
    timeout_s = 60.0
    retries = 2

    [storage]
    encrypt = false               # seal history, journal copies and audit details at rest
    key = "auto"                  # auto | keyring | passphrase ($NLSH_PASSPHRASE or asked)

``[storage]`` goes to ``syscalls.storage``: ``use_for_storage()`` installs
this file as the source of its settings, so every journal, audit log and
history nlshell opens follows it.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models import check_planner
from models.errors import UnknownPlanner

if TYPE_CHECKING:
    from syscalls.storage import StorageSettings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

THEMES = ("dark", "light", "mono")
KEY_SOURCES = ("auto", "keyring", "passphrase")


class ConfigError(Exception):
    """The configuration is wrong: names the file, line and key, and what to write instead."""

    def __init__(self, message: str, *, path: Path | str | None = None, key: str = "",
                 line: int | None = None, hint: str = "") -> None:
        self.message = message
        self.path = str(path) if path is not None else ""
        self.key = key
        self.line = line
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path
        if where and self.line is not None:
            where += f":{self.line}"
        parts = [p for p in (where, self.key) if p]
        head = ": ".join(parts)
        hint = f" — {self.hint}" if self.hint else ""
        return f"{head}: {self.message}{hint}" if head else f"{self.message}{hint}"


@dataclass(frozen=True)
class BackendConfig:
    url: str = ""
    timeout_s: float = 60.0
    retries: int = 2


@dataclass(frozen=True)
class StorageConfig:
    encrypt: bool = False
    key: str = "auto"


@dataclass(frozen=True)
class Config:
    model: str = "smollm2"
    threads: int = 0
    theme: str = "dark"
    policy: str = ""
    history_size: int = 1000
    planner: str = "auto"
    backend: BackendConfig = field(default_factory=BackendConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    # Where each value came from: "default", the file path, or "env NLSH_X".
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    path: str = ""

    @property
    def model_spec(self) -> str:
        """What to hand to ``models.load_backend``: the backend URL when set, else ``model``."""
        return self.backend.url or self.model

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "threads": self.threads,
            "theme": self.theme,
            "policy": self.policy,
            "history_size": self.history_size,
            "planner": self.planner,
            "backend": {"url": self.backend.url, "timeout_s": self.backend.timeout_s,
                        "retries": self.backend.retries},
            "storage": {"encrypt": self.storage.encrypt, "key": self.storage.key},
        }


# key -> (type, check, hint)
_TOP: dict[str, type] = {"model": str, "threads": int, "theme": str, "policy": str, "history_size": int,
                         "planner": str}
_BACKEND: dict[str, type] = {"url": str, "timeout_s": float, "retries": int}
_STORAGE: dict[str, type] = {"encrypt": bool, "key": str}
# [table] -> its keys and their types
_TABLES: dict[str, dict[str, type]] = {"backend": _BACKEND, "storage": _STORAGE}

ENV: dict[str, str] = {
    "NLSH_MODEL": "model",
    "NLSH_PROFILE": "model",
    "NLSH_THREADS": "threads",
    "NLSH_THEME": "theme",
    "NLSH_POLICY": "policy",
    "NLSH_HISTORY_SIZE": "history_size",
    "NLSH_BACKEND_URL": "backend.url",
    "NLSH_TIMEOUT": "backend.timeout_s",
    "NLSH_PLANNER": "planner",
    "NLSH_ENCRYPT": "storage.encrypt",
}

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """The configuration file's path (it need not exist)."""
    env = os.environ if env is None else env
    override = env.get("NLSH_CONFIG")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("nlshell")) / "config.toml"


def _line_of(text: str, key: str, section: str | None) -> int | None:
    """The 1-based line where ``key`` is assigned (inside ``[section]`` when given)."""
    current: str | None = None
    pat = re.compile(r"^\s*(?:\"?)" + re.escape(key) + r"(?:\"?)\s*=")
    for no, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        m = re.match(r"^\[\s*([^\]]+?)\s*\]", stripped)
        if m:
            current = m.group(1)
            continue
        if current == section and pat.match(line):
            return no
    return None


def _coerce(value: Any, want: type, *, key: str, path: str, line: int | None) -> Any:
    if want is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, want) or (want is int and isinstance(value, bool)):
        raise ConfigError(f"expected {want.__name__}, got {type(value).__name__} {value!r}",
                          path=path, key=key, line=line,
                          hint=f"write e.g. {key.split('.')[-1]} = {_example(want)}")
    return value


def _example(want: type) -> str:
    return {int: "2", float: "60.0", str: '"text"', bool: "true"}.get(want, "...")


def _check(values: dict[str, Any], *, key: str, path: str, line: int | None) -> None:
    v = values
    if key == "threads" and v["threads"] < 0:
        raise ConfigError("threads must be 0 (all cores) or more", path=path, key=key, line=line)
    if key == "history_size" and v["history_size"] < 0:
        raise ConfigError("history_size must be 0 or more", path=path, key=key, line=line)
    if key == "theme" and v["theme"] not in THEMES:
        raise ConfigError(f"unknown theme {v['theme']!r}", path=path, key=key, line=line,
                          hint="use one of: " + ", ".join(THEMES))
    if key == "backend.url" and v["backend.url"] and not re.match(r"^https?://", v["backend.url"]):
        raise ConfigError(f"not an http(s) URL: {v['backend.url']!r}", path=path, key=key, line=line,
                          hint='write e.g. url = "http://127.0.0.1:8080"')
    if key == "backend.timeout_s" and v["backend.timeout_s"] <= 0:
        raise ConfigError("timeout_s must be positive", path=path, key=key, line=line)
    if key == "backend.retries" and not 0 <= v["backend.retries"] <= 10:
        raise ConfigError("retries must be between 0 and 10", path=path, key=key, line=line)
    if key == "planner":
        try:
            check_planner(v["planner"])
        except UnknownPlanner as exc:
            raise ConfigError(exc.message, path=path, key=key, line=line, hint=exc.hint) from exc
    if key == "storage.key" and v["storage.key"] not in KEY_SOURCES:
        raise ConfigError(f"unknown key source {v['storage.key']!r}", path=path, key=key, line=line,
                          hint="use auto (the OS keyring where one is usable, else a passphrase), keyring "
                               "or passphrase")
    if key == "model" and not v["model"].strip():
        raise ConfigError("model must not be empty", path=path, key=key, line=line,
                          hint='write e.g. model = "smollm2"')


def _defaults() -> dict[str, Any]:
    c, b, st = Config(), BackendConfig(), StorageConfig()
    out: dict[str, Any] = {f.name: getattr(c, f.name) for f in fields(c) if f.name in _TOP}
    out.update({f"backend.{f.name}": getattr(b, f.name) for f in fields(b)})
    out.update({f"storage.{f.name}": getattr(st, f.name) for f in fields(st)})
    return out


def load_config(path: Path | str | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read the configuration: defaults, then the file (if it exists), then the environment."""
    env = os.environ if env is None else env
    p = Path(path) if path is not None else config_path(env)
    values = _defaults()
    sources = dict.fromkeys(values, "default")
    if p.exists():
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read the file: {exc}", path=p) from exc
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            m = re.search(r"line (\d+)", str(exc))
            raise ConfigError(f"not valid TOML: {exc}", path=p, line=int(m.group(1)) if m else None,
                              hint="fix the syntax; `nlsh config edit` opens the file") from exc
        for key, value in data.items():
            if key in _TABLES:
                table = _TABLES[key]
                if not isinstance(value, dict):
                    raise ConfigError(f"expected a [{key}] table", path=p, key=key,
                                      line=_line_of(text, key, None))
                for bkey, bval in value.items():
                    full = f"{key}.{bkey}"
                    line = _line_of(text, bkey, key)
                    if bkey not in table:
                        raise ConfigError("unknown key", path=p, key=full, line=line,
                                          hint=f"[{key}] takes: " + ", ".join(table))
                    values[full] = _coerce(bval, table[bkey], key=full, path=str(p), line=line)
                    sources[full] = str(p)
                    _check(values, key=full, path=str(p), line=line)
                continue
            line = _line_of(text, key, None)
            if key not in _TOP:
                raise ConfigError("unknown key", path=p, key=key, line=line,
                                  hint="known keys: " + ", ".join([*_TOP, *(f"[{t}]" for t in _TABLES)]))
            values[key] = _coerce(value, _TOP[key], key=key, path=str(p), line=line)
            sources[key] = str(p)
            _check(values, key=key, path=str(p), line=line)
    for var, key in ENV.items():
        raw = env.get(var)
        if raw is None or raw == "":
            continue
        section, _, sub = key.rpartition(".")
        want = _TABLES[section][sub] if section else _TOP[key]
        env_value: Any = raw
        if want is bool:
            if raw.strip().lower() not in (*_TRUE, *_FALSE):
                raise ConfigError(f"expected true or false, got {raw!r}", path=f"env {var}", key=key,
                                  hint=f"write {var}=1 or {var}=0")
            env_value = raw.strip().lower() in _TRUE
        elif want in (int, float):
            try:
                env_value = want(raw)
            except ValueError as exc:
                raise ConfigError(f"expected {want.__name__}, got {raw!r}", path=f"env {var}",
                                  key=key) from exc
        values[key] = env_value
        sources[key] = f"env {var}"
        _check(values, key=key, path=f"env {var}", line=None)
    backend = BackendConfig(url=values["backend.url"], timeout_s=values["backend.timeout_s"],
                            retries=values["backend.retries"])
    storage = StorageConfig(encrypt=values["storage.encrypt"], key=values["storage.key"])
    return Config(model=values["model"], threads=values["threads"], theme=values["theme"],
                  policy=values["policy"], history_size=values["history_size"], planner=values["planner"],
                  backend=backend, storage=storage,
                  sources=sources, path=str(p))


# --- `nlsh config show | path | edit` -------------------------------------------------------

def show(config: Config) -> str:
    """The effective configuration as TOML, each value annotated with where it came from."""
    lines = [f"# {config.path}"]
    d = config.to_dict()
    for key in _TOP:
        lines.append(f"{key} = {_toml_value(d[key])}  # {config.sources.get(key, 'default')}")
    for table, keys in _TABLES.items():
        lines.append("")
        lines.append(f"[{table}]")
        for key in keys:
            full = f"{table}.{key}"
            lines.append(f"{key} = {_toml_value(d[table][key])}  # {config.sources.get(full, 'default')}")
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    s = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{s}"'


TEMPLATE = """\
# nlshell configuration (see `nlsh config show` for the effective values)
# model = "smollm2"          # a profile name, a .gguf path or an http(s):// URL
# threads = 0                # 0 = all cores
# theme = "dark"             # dark | light | mono
# policy = ""                # path of a policy file (nlsh-policy(5))
# history_size = 1000
# planner = "auto"           # auto | v2 (trained, the adapter) | shots (examples in the prompt)

# [backend]
# url = "http://127.0.0.1:8080"   # an OpenAI-compatible server (llama-server, vLLM, Ollama)
# timeout_s = 60.0
# retries = 2

# [storage]
# encrypt = false            # seal the intent history, the journal's copies of overwritten files and the
#                            # audit records' details at rest (needs the cryptography package)
# key = "auto"               # auto (the OS keyring where usable, else a passphrase) | keyring | passphrase
#                            # (from $NLSH_PASSPHRASE, or asked for on the terminal)
"""


def ensure_file(path: Path) -> Path:
    """Create ``path`` with a commented template when it does not exist."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(TEMPLATE, encoding="utf-8")
    return path


def editor_command(path: Path, env: Mapping[str, str] | None = None) -> list[str]:
    """argv to edit ``path``: ``$VISUAL``, ``$EDITOR``, else the first of nano / vi found."""
    env = os.environ if env is None else env
    for var in ("VISUAL", "EDITOR"):
        if env.get(var):
            return [*shlex.split(env[var]), str(path)]
    for name in ("nano", "vi"):
        found = shutil.which(name)
        if found:
            return [found, str(path)]
    raise ConfigError("no editor found", path=path, hint="set $EDITOR, e.g. EDITOR=nano")


def edit(path: Path | None = None, env: Mapping[str, str] | None = None) -> int:
    """Open the configuration in an editor (creating it from a template); then re-check it."""
    p = ensure_file(path or config_path(env))
    rc = subprocess.call(editor_command(p, env))
    load_config(p, env={})
    return rc


# --- [storage] for the syscall layer -------------------------------------------------------

def storage_settings(env: Mapping[str, str] | None = None) -> StorageSettings:
    """``[storage]`` of the configuration as ``syscalls.storage.StorageSettings``."""
    from syscalls.storage import StorageSettings

    cfg = load_config(env=env)
    return StorageSettings(encrypt=cfg.storage.encrypt, key=cfg.storage.key)


def use_for_storage() -> None:
    """Make the configuration the source of ``syscalls.storage``'s settings (read afresh each time a
    journal, an audit log or the history opens its storage).  Idempotent."""
    from syscalls import storage

    storage.configure(storage_settings)
