"""``nlsh doctor``: is everything nlshell needs in working order, and if not, what to do.

Each check returns a ``Check`` (name, status, detail, fix, data).  Status is
``ok``, ``warn`` (works, but worth knowing), ``fail`` (something will not
work) or ``skip`` (not applicable or not available).  Checks never raise;
a check that crashes reports ``fail`` with the error.

Checks: Python and nlshell versions, the configuration file, the model (loads,
and how fast it decodes: tokens/s), the policy file, the journal (undo) and
the audit log chain, encryption at rest (``[storage]``: on or off, where the
key comes from, whether it is there), plugins, Landlock (the kernel sandbox),
the terminal.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STATUSES = ("ok", "warn", "fail", "skip")


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str = ""
    fix: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """False only for a failure (a warning or a skip does not fail ``nlsh doctor``)."""
        return self.status != "fail"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "detail": self.detail, "fix": self.fix,
                "data": dict(self.data)}


# --- individual checks ----------------------------------------------------------------

def check_python() -> Check:
    from nlshell import __version__

    v = sys.version_info
    detail = f"Python {platform.python_version()}, nlshell {__version__}, {platform.system()} {platform.machine()}"
    if v < (3, 10):
        return Check("python", "fail", detail, "use Python 3.10 or newer")
    return Check("python", "ok", detail, data={"python": platform.python_version(), "nlshell": __version__})


def check_config(env: Mapping[str, str] | None = None) -> Check:
    from nlshell.config import ConfigError, config_path, load_config

    path = config_path(env)
    try:
        cfg = load_config(path, env=env)
    except ConfigError as exc:
        return Check("config", "fail", str(exc), f"fix the file ({path}) or run `nlsh config edit`",
                     data={"path": str(path)})
    where = str(path) if path.exists() else f"{path} (not created; defaults in use)"
    return Check("config", "ok", where, data={"path": str(path), **cfg.to_dict()})


def check_model(spec: str | None = None, *, threads: int | None = None,
                load: Callable[..., Any] | None = None, tokens: int = 32) -> Check:
    """Load the model (or connect to the server) and time a short greedy completion."""
    from models.errors import ModelError

    loader: Callable[..., Any]
    if load is None:
        from models.backend import is_url
        from models.openai_server import load_openai_backend
        from nlshell.session_factory import open_backend

        loader = (lambda s, threads=None: load_openai_backend(s)) if is_url(spec) else open_backend
    else:
        loader = load
    name = spec or "default model"
    t0 = time.perf_counter()
    try:
        backend = loader(spec, threads=threads)
    except ModelError as exc:
        return Check("model", "fail", f"{name}: {exc}", getattr(exc, "hint", "") or
                     "pass --model with a bundled name or a .gguf path")
    except Exception as exc:  # a broken install must be reported, not crash the doctor
        return Check("model", "fail", f"{name}: {type(exc).__name__}: {exc}",
                     "reinstall: pip install -e . (llama-cpp-python must import)")
    load_s = time.perf_counter() - t0
    # A planner's prompt: the base model continues it with text, the adapted one with a plan.
    prompt = "request: list the files here\nplan:\n"
    try:
        backend.complete(prompt, max_tokens=1)  # warm-up: first-call costs
        comp = backend.complete(prompt, max_tokens=tokens)
    except ModelError as exc:
        return Check("model", "fail", f"{backend.name} loaded in {load_s:.2f} s but cannot complete: {exc}",
                     getattr(exc, "hint", ""))
    finally:
        try:
            backend.close()
        except Exception:  # closing is best effort here
            pass
    n = comp.completion_tokens or len(comp.text.split())
    decode_s = max(comp.total_s - comp.prompt_s, 1e-9)
    tps = n / decode_s if n else 0.0
    adapter = getattr(getattr(backend, "profile", None), "adapter", None)
    data = {"model": backend.name, "load_s": round(load_s, 3), "tokens": n,
            "total_s": round(comp.total_s, 3), "tokens_per_s": round(tps, 1),
            "adapter": str(adapter) if adapter is not None else None}
    with_adapter = f" + planner adapter {adapter.parent.name}" if adapter is not None else ""
    detail = (f"{backend.name}{with_adapter}: loaded in {load_s:.2f} s, {tps:.0f} tokens/s "
              f"({n} tokens in {comp.total_s:.2f} s)")
    if n == 0:
        return Check("model", "warn", detail + "; it produced no tokens", "try another model", data=data)
    if tps < 5:
        return Check("model", "warn", detail, "slow: use more threads (-t) or a smaller model", data=data)
    return Check("model", "ok", detail, data=data)


def check_policy(path: str | None = None) -> Check:
    try:
        from syscalls.permissions import Policy, PolicyError
    except ImportError:
        return Check("policy", "skip", "the policy engine is not available in this build")
    try:
        pol = Policy.load(path or None)
    except PolicyError as exc:
        return Check("policy", "fail", str(exc), exc.hint or "fix the policy file (see nlsh-policy(5))")
    rules = getattr(pol, "rules", [])
    src = path or os.environ.get("NLSH_POLICY") or str(Policy.default_path())
    exists = Path(src).exists()
    detail = f"{src}: {len(rules)} rules" if exists else f"built-in profile ({len(rules)} rules); no file at {src}"
    return Check("policy", "ok", detail, data={"path": src, "rules": len(rules), "file": exists})


def check_journal(state_dir: Path | str | None = None) -> Check:
    try:
        from syscalls import journal as J
    except ImportError:
        return Check("journal", "skip", "not available in this build")
    directory = J.state_dir(state_dir)
    path = directory / getattr(J, "JOURNAL_NAME", "journal.jsonl")
    if not path.exists():
        return Check("journal", "ok", f"no journal yet ({path})", data={"path": str(path), "entries": 0})
    bad = 0
    entries = 0
    try:
        with open(path, "rb") as fh:
            for line in fh:
                try:
                    json.loads(line)
                    entries += 1
                except ValueError:
                    bad += 1
    except OSError as exc:
        return Check("journal", "fail", f"cannot read {path}: {exc.strerror}", "check the file's permissions")
    open_steps: list[str] = []
    try:
        steps = J.Journal(directory)._steps()
        open_steps = [s["step"] for s in steps.values() if s.get("state") == "open"]
    except Exception:  # the summary is a bonus; the line count above is the check
        pass
    data = {"path": str(path), "entries": entries, "unreadable_lines": bad, "open_steps": len(open_steps)}
    if open_steps:
        return Check("journal", "warn", f"{len(open_steps)} step(s) began and never finished (a crash?)",
                     "they are rolled back at the next start; or run `nlsh undo --list` to review", data=data)
    if bad:
        return Check("journal", "warn", f"{entries} entries, {bad} unreadable line(s) (cut by a crash)",
                     "harmless: unreadable lines are skipped", data=data)
    return Check("journal", "ok", f"{entries} entries in {path}", data=data)


def check_audit(state_dir: Path | str | None = None) -> Check:
    try:
        from syscalls import audit as A
    except ImportError:
        return Check("audit log", "skip", "not available in this build")
    directory = Path(state_dir) if state_dir is not None else A.default_state_dir()
    log = directory / A.LOG_NAME
    if not log.exists():
        return Check("audit log", "ok", f"no audit log yet ({log})", data={"path": str(log), "records": 0})
    report = A.verify(log)
    data = {"path": str(log), **report.to_dict()}
    if not report.ok:
        return Check("audit log", "fail",
                     f"chain broken at record {report.first_bad}: {report.reason}",
                     "the log was edited, cut or corrupted; keep a copy for inspection and "
                     "`nlsh audit show` to see the records", data=data)
    return Check("audit log", "ok", f"{report.records} records, hash chain intact", data=data)


def check_storage(encrypt: bool = False, key: str = "auto", state_dir: Path | str | None = None) -> Check:
    """``[storage]``: on or off, the key's source, and whether the key is available (never asks)."""
    from syscalls.storage import KEY_NAME, PASSPHRASE_ENV, Storage, StorageSettings, default_dir

    directory = Path(state_dir) if state_dir is not None else default_dir()
    if not encrypt:
        detail = "encryption at rest: off (history, journal copies and audit details are plain files)"
        if (directory / KEY_NAME).exists():
            detail += f"; records sealed earlier still open with the key described in {directory / KEY_NAME}"
        return Check("storage", "ok", detail, data={"encrypt": False, "key_file": str(directory / KEY_NAME)})
    st = Storage(directory, StorageSettings(encrypt=True, key=key)).status()
    words = {"keyring": "the OS keyring", "passphrase": "a passphrase (scrypt)"}
    source = words.get(str(st.get("source")), "no usable source")
    detail = f"encryption at rest: on, key from {source} ([storage] key = {key!r}); {st.get('detail', '')}"
    if st.get("available") is True:
        return Check("storage", "ok", detail, data=st)
    if st.get("available") is None:
        return Check("storage", "warn", detail,
                     f"nlsh asks for it on a terminal; set {PASSPHRASE_ENV} for scripts and one-shot use", data=st)
    return Check("storage", "fail", detail, str(st.get("fix") or "see `nlsh doctor --json` for the details"),
                 data=st)


def check_plugins() -> Check:
    from nlshell.plugins_cmd import plugin_report

    report = plugin_report()
    broken = [p for p in report if not p.ok]
    names = ", ".join(f"{p.name} {p.version}".strip() for p in report) or "none"
    data = {"plugins": [p.to_dict() for p in report]}
    if broken:
        return Check("plugins", "warn", "; ".join(f"{p.name}: {p.error}" for p in broken),
                     "upgrade or uninstall the broken plugin (pip uninstall ...)", data=data)
    return Check("plugins", "ok", names, data=data)


def landlock_abi() -> int | None:
    """The kernel's Landlock ABI version, or None when the syscall is unavailable or disabled."""
    from syscalls.confine import abi

    return abi()


def check_landlock(lsm_path: Path = Path("/sys/kernel/security/lsm")) -> Check:
    if sys.platform != "linux":
        return Check("landlock", "skip", f"Landlock is a Linux feature (this is {sys.platform})")
    try:
        lsms = lsm_path.read_text().strip().split(",")
    except OSError:
        lsms = []
    abi = landlock_abi()
    data = {"abi": abi, "lsm": lsms, "kernel": platform.release()}
    if abi:
        return Check("landlock", "ok", f"available, ABI v{abi} (kernel {platform.release()}): programs "
                     "proc.run starts are confined", data=data)
    if lsms and "landlock" not in lsms:
        detail = f"not enabled (active LSMs: {','.join(lsms)})"
    else:
        detail = "not available (the landlock syscall is missing or disabled)"
    return Check("landlock", "warn", detail + "; programs proc.run starts run unconfined: they can read and "
                 "write whatever you can",
                 "nlshell's own checks still apply to its calls; for the kernel sandbox use Linux ≥ 5.13 with "
                 "lsm=landlock,... on the kernel command line", data=data)


def check_terminal(env: Mapping[str, str] | None = None, stdout: Any = None) -> Check:
    env = os.environ if env is None else env
    stdout = stdout or sys.stdout
    tty = bool(getattr(stdout, "isatty", lambda: False)())
    size = shutil.get_terminal_size((0, 0))
    term = env.get("TERM", "")
    colorterm = env.get("COLORTERM", "")
    no_color = "NO_COLOR" in env
    if no_color:
        colours = "none (NO_COLOR)"
    elif colorterm in ("truecolor", "24bit"):
        colours = "truecolor"
    elif "256color" in term:
        colours = "256"
    elif term and term != "dumb":
        colours = "16"
    else:
        colours = "none"
    data = {"tty": tty, "term": term, "colorterm": colorterm, "colours": colours,
            "columns": size.columns, "lines": size.lines, "encoding": getattr(stdout, "encoding", "") or ""}
    detail = f"{'a terminal' if tty else 'not a terminal'}, TERM={term or '(unset)'}, colours: {colours}"
    if tty:
        detail += f", {size.columns}×{size.lines}"
    if not tty:
        return Check("terminal", "ok", detail + " (one-shot and --json work; the TUI needs a terminal)", data=data)
    if size.columns and size.columns < 60:
        return Check("terminal", "warn", detail, "widen the window to at least 60 columns for the TUI", data=data)
    enc = str(data["encoding"]).lower()
    if enc and "utf" not in enc:
        return Check("terminal", "warn", detail + f", encoding {enc}", "use a UTF-8 locale (LANG=C.UTF-8)",
                     data=data)
    return Check("terminal", "ok", detail, data=data)


def _guard(name: str, fn: Callable[[], Check]) -> Check:
    try:
        return fn()
    except Exception as exc:  # a crashing check is itself a finding
        return Check(name, "fail", f"the check crashed: {type(exc).__name__}: {exc}",
                     "this is a bug in nlshell; please report it")


def run_checks(*, model: bool = True, model_spec: str | None = None, threads: int | None = None,
               env: Mapping[str, str] | None = None) -> list[Check]:
    """Every check, in order; ``model=False`` skips loading the model (fast)."""
    cfg_check = _guard("config", lambda: check_config(env))
    spec = model_spec
    policy = None
    state = None
    storage: dict[str, Any] = {}
    if cfg_check.status == "ok":
        storage = dict(cfg_check.data.get("storage") or {})
        spec = spec or str(cfg_check.data.get("backend", {}).get("url") or cfg_check.data.get("model") or "")
        policy = str(cfg_check.data.get("policy") or "") or None
        threads = threads or int(cfg_check.data.get("threads") or 0) or None
    checks = [_guard("python", check_python), cfg_check]
    if model:
        checks.append(_guard("model", lambda: check_model(spec or None, threads=threads)))
    else:
        checks.append(Check("model", "skip", "not loaded (this run skipped the model check)"))
    checks += [
        _guard("policy", lambda: check_policy(policy)),
        _guard("journal", lambda: check_journal(state)),
        _guard("audit log", lambda: check_audit(state)),
        _guard("storage", lambda: check_storage(bool(storage.get("encrypt")), str(storage.get("key") or "auto"),
                                                state)),
        _guard("plugins", check_plugins),
        _guard("landlock", check_landlock),
        _guard("terminal", lambda: check_terminal(env)),
    ]
    return checks


_STYLE = {"ok": ("✓", "green"), "warn": ("!", "yellow"), "fail": ("✗", "red"), "skip": ("-", "dim")}


def render(checks: list[Check]) -> Any:
    """A Rich table: one row per check, with the fix under a failing or warning one."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title="nlsh doctor", show_header=True, header_style="bold", expand=False)
    table.add_column("", width=1)
    table.add_column("check")
    table.add_column("result")
    for c in checks:
        mark, style = _STYLE.get(c.status, ("?", ""))
        body = Text(c.detail)
        if c.fix and c.status in ("warn", "fail"):
            body.append("\nfix: ", style="bold")
            body.append(c.fix)
        table.add_row(Text(mark, style=style), Text(c.name, style=style), body)
    return table
