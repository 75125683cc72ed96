"""Front-end helpers shared by the TUI and the line mode (no Textual imports).

History files, slash commands and path completion live here so both front
ends behave the same way (the approval question's rows are in
``nlshell.approval``, shared with the one-shot prompt).
"""

from __future__ import annotations

import datetime
import importlib
import inspect
import os
import select
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from nlshell.events import Event, Intent
from syscalls.registry import Registry
from syscalls.types import Answer, Approver, View

HISTORY_ENV = "NLSH_HISTORY_FILE"
HISTORY_PURPOSE = "history"
STATE_ENV = "NLSH_STATE_DIR"
MAX_COMPLETIONS = 200


class JobLike(Protocol):
    def events(self) -> Iterator[Event]: ...

    def cancel(self) -> None: ...


class KernelLike(Protocol):
    """What a front end needs from the kernel: submit an intent, get a job."""

    def submit(self, intent: Intent, *, approve: Approver | None = None) -> Any: ...

    def close(self) -> None: ...


def history_path(override: Path | str | None = None) -> Path:
    """Where the input history lives: ``override``, ``$NLSH_HISTORY_FILE``,
    ``$NLSH_STATE_DIR/history`` or the user's state dir (platformdirs)."""
    if override is not None:
        return Path(override)
    if os.environ.get(HISTORY_ENV):
        return Path(os.environ[HISTORY_ENV])
    if os.environ.get(STATE_ENV):
        return Path(os.environ[STATE_ENV]) / "history"
    from platformdirs import user_state_dir

    return Path(user_state_dir("nlshell")) / "history"


def open_history(path: Path) -> Any:
    """A prompt-toolkit ``FileHistory`` (one format for both front ends); creates the directory.

    With ``[storage] encrypt = true`` each new entry is sealed (``syscalls.storage``, the state
    directory's key): a line ``=BASE64`` instead of the ``+text`` lines; sealed and plain entries are
    read back alike.
    """
    from prompt_toolkit.history import FileHistory

    from nlshell.config import use_for_storage
    from syscalls.storage import Storage

    use_for_storage()
    storage = Storage()

    class SealedFileHistory(FileHistory):
        def load_history_strings(self) -> Iterable[str]:
            strings: list[str] = []
            lines: list[str] = []

            def add() -> None:
                if lines:
                    strings.append("".join(lines)[:-1])  # joined, less the last newline
                    lines.clear()

            if os.path.exists(self.filename):
                with open(self.filename, "rb") as fh:
                    for number, raw in enumerate(fh, 1):
                        line = raw.decode("utf-8", errors="replace")
                        if line.startswith("+"):
                            lines.append(line[1:])
                            continue
                        add()
                        if line.startswith("="):
                            strings.append(storage.open_text(line[1:].strip(), HISTORY_PURPOSE,
                                                             where=f"{self.filename!s}:{number}"))
                add()
            return reversed(strings)

        def store_string(self, string: str) -> None:
            if not storage.encrypt:
                super().store_string(string)
                return
            token = storage.seal_text(string, HISTORY_PURPOSE)
            fd = os.open(self.filename, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
            with os.fdopen(fd, "ab") as fh:
                fh.write(f"\n# {datetime.datetime.now()}\n={token}\n".encode("ascii"))

    path.parent.mkdir(parents=True, exist_ok=True)
    return SealedFileHistory(str(path))


HANGUP_STATUS = 129  # 128 + SIGHUP: how a shell reports a process ended by a hang-up


def terminal_fd() -> int | None:
    """The first of stdin, stdout and stderr that is a terminal; None when none is."""
    for fd in (0, 1, 2):
        try:
            if os.isatty(fd):
                return fd
        except OSError:
            continue
    return None


class TerminalWatch:
    """Notices the terminal going away and calls ``on_lost`` once, from its own thread.

    Closing the window, pane or connection hangs the terminal up: ``poll`` on it
    then reports POLLHUP / POLLERR, and that is seen even when no SIGHUP comes
    (ignored under ``nohup``, not passed on by ``sudo -u`` or ``runuser``).  A
    SIGHUP that is not ignored means the same.  ``on_lost`` should cancel what
    runs and make the front end return; when the process is still alive
    ``grace_s`` seconds later (a thread stuck on the dead terminal), it ends
    with status 129 (``grace_s=None``: no deadline).  History needs no saving then: both front ends write each
    entry as it is entered.
    """

    def __init__(self, on_lost: Callable[[], None], *, fd: int | None = None, grace_s: float | None = 3.0,
                 interval_s: float = 0.25) -> None:
        self.on_lost = on_lost
        self.fd = terminal_fd() if fd is None else fd
        self.grace_s = grace_s
        self.interval_s = interval_s
        self.lost = threading.Event()
        self.reason = ""
        self._hup = threading.Event()
        self._stopped = threading.Event()
        self._old_hup: Any = None

    def start(self) -> TerminalWatch:
        """Watch (nothing to do when no terminal is attached)."""
        if self.fd is None:
            return self
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGHUP) is signal.SIG_DFL):
            self._old_hup = signal.signal(signal.SIGHUP, self._sighup)
        threading.Thread(target=self._watch, name="nlsh-terminal-watch", daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop watching and restore SIGHUP (a lost terminal's deadline stays armed)."""
        self._stopped.set()
        if self._old_hup is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGHUP, self._old_hup)
            self._old_hup = None

    def __enter__(self) -> TerminalWatch:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _sighup(self, signum: int, frame: object) -> None:
        self._hup.set()  # the watcher thread acts on it: nothing else is safe in a handler

    def _watch(self) -> None:
        assert self.fd is not None
        poller = select.poll()
        poller.register(self.fd, select.POLLHUP | select.POLLERR)
        gone = select.POLLHUP | select.POLLERR | select.POLLNVAL
        while not self._stopped.is_set():
            if self._hup.is_set():
                self._lose("SIGHUP")
                return
            try:
                ready = poller.poll(self.interval_s * 1000)
            except OSError:
                ready = [(self.fd, select.POLLERR)]
            if any(mask & gone for _, mask in ready):
                self._lose("the terminal hung up")
                return

    def _lose(self, reason: str) -> None:
        self.reason = reason
        self.lost.set()
        if self.grace_s is not None:
            threading.Thread(target=self._deadline, args=(self.grace_s,), name="nlsh-terminal-deadline",
                             daemon=True).start()
        try:
            self.on_lost()
        except Exception:  # the front end is already ending; the deadline still applies
            pass

    @staticmethod
    def _deadline(grace_s: float) -> None:
        time.sleep(grace_s)
        os._exit(HANGUP_STATUS)


SLASH_COMMANDS: dict[str, str] = {
    "/help": "show this help",
    "/undo": "undo the last change (files moved back from the trash, copies removed)",
    "/model": "show the active model and kernel statistics",
    "/policy": "show the permission rules in force",
    "/audit": "show the latest entries of the audit log",
    "/cd": "change the working directory: /cd DIR",
    "/clear": "clear the transcript",
}


@dataclass(frozen=True)
class Slash:
    name: str
    arg: str


def parse_slash(text: str) -> Slash | None:
    """``"/cd  src"`` → ``Slash("/cd", "src")``; text that is not a slash command → None."""
    text = text.strip()
    if not text.startswith("/") or text.startswith("//"):
        return None
    head, _, arg = text.partition(" ")
    # "/tmp/x" is a path, not a command: commands have no further slash.
    if "/" in head[1:]:
        return None
    return Slash(head.lower(), arg.strip())


def help_rows() -> list[dict[str, str]]:
    keys = [
        ("Enter", "run the intent"), ("Tab", "complete a path or command"),
        ("Up/Down", "history"), ("Ctrl-R", "search history"),
        ("Esc / Ctrl-C", "cancel the running job"), ("F2", "process and disk monitor"),
        ("Ctrl-Q", "quit"),
    ]
    rows = [{"command": k, "what": v} for k, v in SLASH_COMMANDS.items()]
    rows += [{"command": k, "what": v} for k, v in keys]
    return rows


def change_dir(cwd: Path, arg: str) -> Path:
    """The new cwd for ``/cd arg``; raises ``NotADirectoryError``/``FileNotFoundError`` with the path."""
    raw = arg or "~"
    target = Path(os.path.expanduser(raw))
    if not target.is_absolute():
        target = cwd / target
    target = Path(os.path.normpath(target))
    if not target.exists():
        raise FileNotFoundError(f"/cd: no such directory: {target}")
    if not target.is_dir():
        raise NotADirectoryError(f"/cd: not a directory: {target}")
    return target


def complete_path(token: str, cwd: Path, *, dirs_only: bool = False) -> list[str]:
    """Completions of a path ``token`` (relative to ``cwd``, ``~`` expanded), as replacement tokens.

    Directories end in ``/``; hidden entries appear only when the prefix starts with ``.``.
    """
    head, sep, prefix = token.rpartition("/")
    base_raw = head + sep
    if token.startswith("~") and not sep:
        return ["~/"] if token == "~" else []
    base = Path(os.path.expanduser(base_raw)) if base_raw else Path()
    if not base.is_absolute():
        base = cwd / base
    try:
        entries = sorted(os.scandir(base), key=lambda e: e.name)
    except OSError:
        return []
    out: list[str] = []
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        if entry.name.startswith(".") and not prefix.startswith("."):
            continue
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        if dirs_only and not is_dir:
            continue
        out.append(base_raw + entry.name + ("/" if is_dir else ""))
        if len(out) >= MAX_COMPLETIONS:
            break
    return out


def complete_slash(token: str) -> list[str]:
    return [name for name in SLASH_COMMANDS if name.startswith(token.lower())]


def common_prefix(options: Sequence[str]) -> str:
    """The longest common leading text (character-wise: completions share partial names)."""
    if not options:
        return ""
    first, last = min(options), max(options)
    n = 0
    while n < len(first) and n < len(last) and first[n] == last[n]:
        n += 1
    return first[:n]


def complete_line(text: str, cwd: Path) -> tuple[str, list[str]]:
    """Complete the last word of ``text``: returns (new text, candidates shown to the user)."""
    if text.startswith("/") and " " not in text and parse_slash(text) is not None:
        options = complete_slash(text)
        token = text
    else:
        token = text.rsplit(" ", 1)[-1] if text and not text.endswith(" ") else ""
        slash = parse_slash(text)
        options = complete_path(token, cwd, dirs_only=slash is not None and slash.name == "/cd")
    if not options:
        return text, []
    stem = text[: len(text) - len(token)]
    if len(options) == 1:
        return stem + options[0], options
    prefix = common_prefix(options)
    return stem + (prefix if len(prefix) > len(token) else token), options


def kernel_registry(kernel: object) -> Registry | None:
    """The registry ``kernel`` plans and runs calls from; None for a kernel that exposes none."""
    registry = getattr(kernel, "registry", None)
    return registry if isinstance(registry, Registry) else None


def registry_view(registry: Registry | None, call: str) -> View | None:
    """How ``registry`` renders ``call``'s result; None (a record) for a call it does not know."""
    if registry is None or call not in registry:
        return None
    return registry.get(call).view


def registry_risk(registry: Registry | None, call: str) -> str:
    """``registry``'s risk class for ``call``; "" for a call it does not know."""
    if registry is None or call not in registry:
        return ""
    return registry.get(call).risk.value


def registry_undoable(registry: Registry | None, call: str) -> bool:
    """Whether ``registry`` journals ``call`` so that ``/undo`` can reverse it."""
    return registry is not None and call in registry and bool(registry.get(call).undoable)


ANSWER_KEYS: dict[str, Answer] = {"o": Answer.ONCE, "s": Answer.SESSION, "d": Answer.DENY, "n": Answer.DENY}


def optional_action(name: str) -> Callable[..., Any] | None:
    """``nlshell.actions.<name>`` when the lead has wired it, else None."""
    try:
        mod = importlib.import_module("nlshell.actions")
    except ImportError:
        return None
    fn = getattr(mod, name, None)
    return fn if callable(fn) else None


def call_action(fn: Callable[..., Any], **available: Any) -> Any:
    """Call ``fn`` with those of ``available`` (session, cwd, kernel) its signature names."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return fn()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return fn(**available)
    return fn(**{k: v for k, v in available.items() if k in params})


UNAVAILABLE = {
    "undo_last": "undo is not available",
    "policy_rules": "the policy view is not available",
    "audit_tail": "the audit view is not available",
}
