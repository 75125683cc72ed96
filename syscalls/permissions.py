"""Permissions: capabilities, the policy file, the hard floor, taint and the gate.

A capability is ``domain.verb[:scope]``: ``fs.read:~/**``, ``fs.delete:~/tmp/**``,
``proc.kill:user``, ``proc.exec:/usr/bin/git``, ``net.read``.  A request needs
its spec's capability over every target it names (path arguments, pids, the
executable).

Order of evaluation for one request:

1. the hard floor (``Floor``) — raises ``FloorViolation``; no rule, grant or
   approval lifts it;
2. policy rules, deny → ask → allow → default (ask), first match wins; a deny
   on ANY form (lexical or resolved) of ANY target wins, an allow needs every
   form of every target, so an allow never opens a hole in a deny;
3. a sticky session denial (the same canonical request was denied before);
4. taint: after untrusted content entered the model's context, a
   consequential request needs a fresh approval, unless every argument
   appears literally in the person's own words;
5. a session grant (keyed by capability + canonical targets) answers an "ask";
6. otherwise the approver is asked (no approver → deny).

The policy file (TOML) lives at ``platformdirs.user_config_dir("nlshell")/policy.toml``,
or ``$NLSH_POLICY``, or a path given to ``Policy.load``::

    defaults = true                     # keep the built-in profile (default)
    deny  = ["fs.read:~/private/**"]
    ask   = ["fs.read:~/work/hr/**"]
    allow = ["fs.write:~/tmp/**", "fs.delete:~/tmp/**", "proc.kill:user"]

Relative rule paths are relative to the home directory.  A typo, an unknown
capability or a bad glob fails closed: ``PolicyError`` names the file and line.

A program that ``proc.run`` starts is confined by Landlock where the kernel
offers it (``syscalls.confine``): it may write only beneath its working
directory and the temporary directories (``$TMPDIR``, /tmp, /var/tmp) that
the policy allows ``fs.write`` in without asking, less what the hard floor
never lets a call write (but a repository's .git, where git writes) and less
the literal part of every ``fs.write`` deny or ask rule that could match
inside them; it may write to /dev/null and the
terminal; and it cannot read the floor's credential stores.  Landlock cannot
leave a hole in a grant, so a directory that holds something withheld (the
home directory holds ~/.ssh) is granted entry by entry: the program can
neither list it nor create anything directly in it.  To let programs
write where they run, allow it: ``allow = ["fs.write:~/src/**"]``.  Where the
kernel has no Landlock the approval question and the result say that the
program runs unconfined, and ``nlsh doctor`` warns.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import tomllib

from syscalls.confine import Plan
from syscalls.confine import abi as landlock_abi
from syscalls.display import escape_for_display, unsafe_char
from syscalls.errors import Denied, FloorViolation, SyscallError
from syscalls.fsmeasure import entry_sizes
from syscalls.modes import parse_mode
from syscalls.mounts import is_mount_point
from syscalls.paths import Target, canonical, is_within
from syscalls.types import (
    Answer,
    CallContext,
    JSONDict,
    Question,
    Risk,
    SyscallRequest,
    SyscallSpec,
    home_dir,
)

KNOWN_CAPABILITIES = frozenset({
    "fs.read", "fs.write", "fs.delete", "fs.chmod", "fs.chown",
    "proc.read", "proc.kill", "proc.exec",
    "sys.read", "dev.read", "net.read", "answer", "data.read",
})
PATH_SCOPED = frozenset({"fs.read", "fs.write", "fs.delete", "fs.chmod", "fs.chown", "proc.exec"})
PROC_SCOPED = frozenset({"proc.read", "proc.kill"})
ACTIONS = ("deny", "ask", "allow")
# Approvals for these are never remembered for the session: they ask every time.
NO_SESSION_GRANT = frozenset({"fs.chmod", "fs.chown", "proc.kill", "proc.exec"})


class PolicyError(SyscallError):
    """The policy file cannot be used; nlshell refuses to start with it (fails closed)."""

    kind = "policy"
    default_hint = "fix the policy file; nothing runs under a policy that does not load"


class DecisionSink(Protocol):
    """Where the gate reports each decision (the audit log implements this)."""

    def decision(self, request: SyscallRequest, ctx: CallContext, *, capability: str, action: str,
                 by: str, reason: str, targets: list[JSONDict]) -> None: ...


# --------------------------------------------------------------------------- globs

_GLOB_CHARS = set("*?[")


def _glob_to_regex(pattern: str) -> str:
    """Translate a path glob (``*``, ``?``, ``[..]``, ``**`` as a whole segment) to a regex."""
    if pattern == "/":
        return "/"
    segments = pattern.split("/")
    out: list[str] = []
    n = len(segments)
    for idx, seg in enumerate(segments):
        last = idx == n - 1
        if seg == "**":
            if last:
                # ``dir/**`` matches the directory itself and everything below it.
                if out and out[-1] == "/":
                    out.pop()
                out.append("(?:/.*)?")
            else:
                out.append("(?:[^/]*/)*" if idx else "/(?:[^/]*/)*")
            continue
        if "**" in seg:
            raise ValueError(f"'**' must be a whole path segment in {pattern!r}")
        i = 0
        buf = ""
        while i < len(seg):
            ch = seg[i]
            if ch == "*":
                buf += "[^/]*"
            elif ch == "?":
                buf += "[^/]"
            elif ch == "[":
                j = seg.find("]", i + 2 if i + 1 < len(seg) and seg[i + 1] in "!^" else i + 1)
                if j < 0:
                    raise ValueError(f"unclosed '[' in {pattern!r}")
                body = seg[i + 1:j]
                if body.startswith(("!", "^")):
                    body = "^" + body[1:]
                buf += "[" + body.replace("\\", "\\\\") + "]"
                i = j
            elif ch == "]":
                raise ValueError(f"unmatched ']' in {pattern!r}")
            else:
                buf += re.escape(ch)
            i += 1
        out.append(buf)
        if not last:
            out.append("/")
    return "".join(out)


def _literal_prefix(pattern: str) -> tuple[str, str]:
    """Split a glob into its leading glob-free directory part and the rest."""
    parts = pattern.split("/")
    for i, part in enumerate(parts):
        if set(part) & _GLOB_CHARS:
            return "/".join(parts[:i]) or "/", "/".join(parts[i:])
    return pattern, ""


@dataclass(frozen=True)
class PathGlob:
    text: str
    regexes: tuple[re.Pattern[str], ...]
    # the glob-free leading directories (lexical and resolved): everything it matches is beneath them
    prefixes: tuple[Path, ...] = ()

    def matches(self, path: Path) -> bool:
        s = str(path)
        return any(r.fullmatch(s) for r in self.regexes)


def compile_path_glob(scope: str, base: Path) -> PathGlob:
    """Compile a rule's path scope: ``~``, absolute or relative (to ``base``), also via symlinks.

    Both the lexical form and the form with its literal prefix resolved on disk
    are kept, so a rule written through a symlink matches the real place too.
    """
    if scope.startswith("~") and not (scope == "~" or scope.startswith("~/")):
        raise ValueError(f"another user's home is not allowed in a rule: {scope!r}")
    text = scope
    if text == "~" or text.startswith("~/"):
        text = str(home_dir()) + text[1:]
    if not text.startswith("/"):
        text = str(base) + "/" + text
    trailing = text.endswith("/**")
    prefix, rest = _literal_prefix(text)
    norm_prefix = os.path.normpath(prefix)
    forms = {norm_prefix + ("/" + rest if rest else "")}
    real_prefix = os.path.realpath(norm_prefix)
    forms.add(real_prefix + ("/" + rest if rest else ""))
    regexes = []
    for form in sorted(forms):
        form = form.replace("//", "/")
        regexes.append(re.compile(_glob_to_regex(form)))
    del trailing
    return PathGlob(scope, tuple(regexes), tuple(sorted({Path(norm_prefix), Path(real_prefix)})))


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Rule:
    action: str
    capability: str
    scope: str | None
    text: str
    source: str = "<built-in>"
    line: int = 0
    glob: PathGlob | None = None

    def where(self) -> str:
        return f"{self.source}:{self.line}" if self.line else self.source


@dataclass(frozen=True)
class ProcTarget:
    pid: int
    uid: int | None
    name: str = ""
    create_time: float | None = None


def parse_capability(text: str) -> tuple[str, str | None]:
    if not isinstance(text, str):
        raise ValueError(f"a capability must be a string, not {type(text).__name__}")
    cap, sep, scope = text.partition(":")
    cap = cap.strip()
    if cap not in KNOWN_CAPABILITIES:
        raise ValueError(f"unknown capability {cap!r} (known: {', '.join(sorted(KNOWN_CAPABILITIES))})")
    if not sep:
        return cap, None
    if not scope:
        raise ValueError(f"empty scope after ':' in {text!r}")
    if unsafe_char(scope) is not None:
        raise ValueError(f"control character in scope of {text!r}")
    return cap, scope


def make_rule(action: str, text: str, *, base: Path, source: str = "<built-in>", line: int = 0) -> Rule:
    cap, scope = parse_capability(text)
    glob: PathGlob | None = None
    if scope is not None and scope != "*":
        if cap in PATH_SCOPED:
            glob = compile_path_glob(scope, base)
        elif cap in PROC_SCOPED:
            if scope not in ("user", "any"):
                raise ValueError(f"scope of {cap} must be 'user', 'any' or '*', not {scope!r}")
        else:
            raise ValueError(f"{cap} takes no scope (got {scope!r})")
    return Rule(action, cap, scope, text, source, line, glob)


def default_rules() -> list[Rule]:
    """The built-in profile: read what is yours, ask before changing, deny network and raw devices.

    Machine facts are ``sys.read`` and allowed, the network ones included
    (interfaces, addresses, routes and sockets: listing them opens no
    connection); ``net.read`` is for calls that reach out over the network
    and is denied.  Writes, moves, deletes (to the trash), chmod, chown, exec
    and kill match no rule and fall to the default, which is "ask".
    """
    base = home_dir()
    rules: list[tuple[str, str]] = [
        ("deny", "net.read"),
        ("deny", "fs.read:~/**/.env"),
        ("deny", "fs.read:~/.config/**/*token*"),
        ("allow", "answer"),
        ("allow", "data.read"),
        ("allow", "sys.read"),
        ("allow", "dev.read"),
        ("allow", "proc.read"),
        ("allow", "fs.read:~/**"),
        ("allow", "fs.read:/**"),
    ]
    return [make_rule(a, t, base=base) for a, t in rules]


def _find_line(text: str, needle: str) -> int:
    for quoted in (json.dumps(needle), f"'{needle}'", needle):
        for i, line in enumerate(text.splitlines(), 1):
            if quoted in line:
                return i
    return 0


@dataclass(frozen=True)
class Decision:
    action: str  # "allow" | "ask" | "deny"
    rule: str  # the matching rule's text, or "default"
    where: str  # file:line of the rule
    reason: str = ""


class Policy:
    """Rules from the built-in profile and the policy file, evaluated deny → ask → allow → default."""

    def __init__(self, rules: Iterable[Rule], *, source: str = "<built-in>", default: str = "ask") -> None:
        self.rules = list(rules)
        self.source = source
        self.default = default

    @staticmethod
    def default_path() -> Path:
        env = os.environ.get("NLSH_POLICY")
        if env:
            return Path(env)
        import platformdirs

        return Path(platformdirs.user_config_dir("nlshell")) / "policy.toml"

    @classmethod
    def load(cls, path: Path | str | None = None) -> Policy:
        """Load the policy file (a missing file means the built-in profile only)."""
        p = Path(path) if path is not None else cls.default_path()
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            if path is not None or os.environ.get("NLSH_POLICY"):
                raise PolicyError(f"policy file {p} does not exist", target=str(p),
                                  hint="create it or unset NLSH_POLICY") from None
            return cls(default_rules())
        except (OSError, UnicodeDecodeError) as exc:
            raise PolicyError(f"cannot read policy file {p}: {exc}", target=str(p)) from exc
        return cls.from_text(text, source=str(p))

    @classmethod
    def from_text(cls, text: str, *, source: str = "<string>", base: Path | None = None) -> Policy:
        base = base or home_dir()
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            m = re.search(r"line (\d+)", str(exc))
            line = int(m.group(1)) if m else max(1, text.count("\n"))
            raise PolicyError(f"{source}:{line}: not valid TOML: {exc}", target=f"{source}:{line}") from exc
        unknown = sorted(set(data) - {"defaults", *ACTIONS})
        if unknown:
            line = _find_line(text, unknown[0])
            raise PolicyError(f"{source}:{line}: unknown key {unknown[0]!r} (use deny, ask, allow, defaults)",
                              target=f"{source}:{line}")
        use_defaults = data.get("defaults", True)
        if not isinstance(use_defaults, bool):
            line = _find_line(text, "defaults")
            raise PolicyError(f"{source}:{line}: 'defaults' must be true or false", target=f"{source}:{line}")
        rules: list[Rule] = []
        for action in ACTIONS:
            entries = data.get(action, [])
            if not isinstance(entries, list):
                line = _find_line(text, action)
                raise PolicyError(f"{source}:{line}: '{action}' must be a list of capability strings",
                                  target=f"{source}:{line}")
            for entry in entries:
                line = _find_line(text, entry) if isinstance(entry, str) else _find_line(text, action)
                try:
                    rules.append(make_rule(action, entry, base=base, source=source, line=line))
                except (ValueError, re.error) as exc:
                    raise PolicyError(f"{source}:{line}: {exc}", target=f"{source}:{line}") from exc
        if use_defaults:
            rules.extend(default_rules())
        return cls(rules, source=source)

    # ------------------------------------------------------------------ decide

    def decide(self, capability: str, targets: list[Target], procs: list[ProcTarget] | None = None,
               exe: Target | None = None) -> Decision:
        procs = procs or []
        path_forms: list[Path] = [f for t in targets for f in t.forms()]
        if capability == "proc.exec" and exe is not None:
            path_forms = [f for f in exe.forms()]
        for action in ("deny", "ask"):
            for rule in self.rules:
                if rule.action == action and rule.capability == capability and \
                        self._any_match(rule, path_forms, procs):
                    return Decision(action, rule.text, rule.where())
        # allow: every form of every target must be covered by some allow rule
        allows = [r for r in self.rules if r.action == "allow" and r.capability == capability]
        if allows:
            if path_forms or procs:
                covering: Rule | None = None
                ok = True
                for form in path_forms:
                    hit = next((r for r in allows if self._match_path(r, form)), None)
                    if hit is None:
                        ok = False
                        break
                    covering = covering or hit
                for proc in procs:
                    hit = next((r for r in allows if self._match_proc(r, proc)), None)
                    if hit is None:
                        ok = False
                        break
                    covering = covering or hit
                if ok and covering is not None:
                    return Decision("allow", covering.text, covering.where())
            else:
                hit = next((r for r in allows if r.scope in (None, "*")), None)
                if hit is not None:
                    return Decision("allow", hit.text, hit.where())
        return Decision(self.default, "default", "<built-in>", "no rule matched")

    def write_holes(self, roots: list[Path]) -> list[Path]:
        """Where a deny or ask rule for fs.write could match within ``roots``: the glob-free part of
        its path (or the root itself, when that part lies above it)."""
        holes: list[Path] = []
        for rule in self.rules:
            if rule.capability != "fs.write" or rule.action == "allow" or rule.glob is None:
                continue
            for prefix in rule.glob.prefixes:
                for root in roots:
                    if is_within(prefix, root):
                        holes.append(prefix)
                    elif is_within(root, prefix):
                        holes.append(root)
        return holes

    def _any_match(self, rule: Rule, forms: list[Path], procs: list[ProcTarget]) -> bool:
        if rule.scope in (None, "*"):
            return True
        return any(self._match_path(rule, f) for f in forms) or any(self._match_proc(rule, p) for p in procs)

    @staticmethod
    def _match_path(rule: Rule, path: Path) -> bool:
        if rule.scope in (None, "*"):
            return True
        return rule.glob is not None and rule.glob.matches(path)

    @staticmethod
    def _match_proc(rule: Rule, proc: ProcTarget) -> bool:
        if rule.scope in (None, "*", "any"):
            return True
        if rule.scope == "user":
            return proc.uid is not None and proc.uid == os.getuid()
        return False


# --------------------------------------------------------------------------- floor

CREDENTIALS = (
    ".ssh", ".gnupg", ".aws", ".netrc", ".git-credentials", ".pgpass", ".password-store",
    ".local/share/keyrings", ".mozilla", ".thunderbird", ".config/google-chrome", ".config/chromium",
    ".config/BraveSoftware", ".config/microsoft-edge", ".config/vivaldi", ".config/opera",
    "snap/firefox", "snap/chromium", ".docker/config.json", ".kube/config", ".config/gcloud",
    ".azure", ".config/gh/hosts.yml", ".cargo/credentials", ".cargo/credentials.toml", ".pypirc",
    ".npmrc", ".vault-token",
)
PERSISTENCE = (
    ".bashrc", ".bash_profile", ".bash_login", ".bash_logout", ".profile", ".zshrc", ".zprofile",
    ".zshenv", ".zlogin", ".zlogout", ".cshrc", ".tcshrc", ".kshrc", ".mkshrc", ".config/fish",
    ".xprofile", ".xinitrc", ".xsession", ".xsessionrc", ".pam_environment", ".config/autostart",
    ".config/systemd", ".local/share/systemd", ".config/environment.d", ".config/plasma-workspace",
    ".inputrc", ".ssh", ".local/bin", "bin",
)
SYSTEM_DIRS = ("/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot", "/sys",
               "/proc", "/dev", "/var/spool/cron", "/var/spool/anacron")
NO_READ_DIRS = ("/proc", "/sys", "/dev")
# Temporary directories a started program may also write in, where the policy allows fs.write there.
SCRATCH_DIRS = ("/tmp", "/var/tmp")
_ENV_FORBIDDEN = re.compile(r"^(LD_|DYLD_)")


def _state_dirs() -> list[Path]:
    import platformdirs

    dirs = [Path(platformdirs.user_config_dir("nlshell")), Path(platformdirs.user_state_dir("nlshell")),
            Path(platformdirs.user_data_dir("nlshell")), Path(platformdirs.user_cache_dir("nlshell"))]
    for env in ("NLSH_STATE_DIR",):
        if os.environ.get(env):
            dirs.append(Path(os.environ[env]))
    if os.environ.get("NLSH_POLICY"):
        dirs.append(Path(os.environ["NLSH_POLICY"]))
    data_home = os.environ.get("XDG_DATA_HOME") or str(home_dir() / ".local/share")
    dirs.append(Path(data_home) / "Trash")
    pkg_root = Path(__file__).resolve().parent.parent
    for pkg in ("syscalls", "models", "nlshell"):
        dirs.append(pkg_root / pkg)
    if sys.prefix not in ("/", "/usr", "/usr/local") and sys.prefix != sys.base_prefix:
        dirs.append(Path(sys.prefix))
    return dirs


def _both(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        ap = Path(os.path.normpath(os.path.abspath(p)))
        out.append(ap)
        rp = Path(os.path.realpath(ap))
        if rp != ap:
            out.append(rp)
    return out


@dataclass
class Floor:
    """The hard floor: refusals no rule, grant, approval or ``--yes`` can lift."""

    extra_protected: list[Path] = field(default_factory=list)

    def protected_state(self) -> list[Path]:
        return _both([*_state_dirs(), *self.extra_protected])

    @staticmethod
    def unreadable() -> list[Path]:
        """The credential stores in the home directory (each also as resolved on disk): what no
        call reads, and what a program ``proc.run`` starts cannot read (``syscalls.confine``)."""
        homes = _both([Path(os.path.normpath(home_dir()))])
        return _both([h / rel for h in homes for rel in CREDENTIALS])

    def unwritable(self) -> list[Path]:
        """What the floor never lets a call write, as paths: nlshell's state, the credential stores
        and login hooks in the home directory, and the system directories.  A program ``proc.run``
        starts cannot write them either (``syscalls.confine``); a repository's .git hooks and config,
        which the floor refuses by name wherever they are, stay writable for a program that may write
        in the repository, since git itself writes in .git."""
        homes = _both([Path(os.path.normpath(home_dir()))])
        return _both([*self.protected_state(), *(h / rel for h in homes for rel in (*CREDENTIALS, *PERSISTENCE)),
                      *(Path(d) for d in SYSTEM_DIRS)])

    def check(self, spec: SyscallSpec, args: Mapping[str, Any], targets: list[Target],
              procs: list[ProcTarget], ctx: CallContext) -> None:
        cap = spec.capability
        call = spec.name
        home = Path(os.path.normpath(home_dir()))
        homes = _both([home])
        writes = cap in ("fs.write", "fs.delete", "fs.chmod") or (spec.risk is not Risk.READ and
                                                                   cap.startswith("fs."))
        for t in targets:
            for form in t.forms():
                shown = escape_for_display(t.raw)
                for h in homes:
                    for rel in CREDENTIALS:
                        if cap.startswith("fs.") and is_within(form, h / rel):
                            raise FloorViolation(f"{shown} is a credential store ({rel})", call=call,
                                                 target=str(form))
                if cap.startswith("fs.") and not writes:
                    for nd in NO_READ_DIRS:
                        if is_within(form, Path(nd)):
                            raise FloorViolation(f"{shown} is under {nd}; kernel and device files are not "
                                                 "read through file calls", call=call, target=str(form),
                                                 hint="use the sys.* and dev.* calls for system information")
                if not writes:
                    continue
                for d in self.protected_state():
                    if is_within(form, d):
                        raise FloorViolation(f"{shown} is nlshell's own state or installation ({d})",
                                             call=call, target=str(form))
                for h in homes:
                    for rel in PERSISTENCE:
                        if is_within(form, h / rel):
                            raise FloorViolation(f"{shown} is a login / autostart hook ({rel})", call=call,
                                                 target=str(form))
                if ".git" in form.parts:
                    i = form.parts.index(".git")
                    if form.parts[i + 1:i + 2] == ("hooks",) or (form.name == "config" and
                                                                 len(form.parts) == i + 2):
                        raise FloorViolation(f"{shown} is a git hook or git config (runs code)", call=call,
                                             target=str(form))
                if form == Path("/") or form.parent == Path("/"):
                    raise FloorViolation(f"{shown} is the root directory or directly under it", call=call,
                                         target=str(form))
                for sd in SYSTEM_DIRS:
                    if is_within(form, Path(sd)):
                        raise FloorViolation(f"{shown} is under the system directory {sd}", call=call,
                                             target=str(form))
                if cap == "fs.delete" or spec.risk is Risk.DESTRUCTIVE or call == "fs.move":
                    cwd = Path(os.path.normpath(ctx.cwd))
                    for keep in _both([home, cwd]):
                        if is_within(keep, form):
                            raise FloorViolation(f"{shown} is the home or working directory or one of "
                                                 "their parents", call=call, target=str(form))
                    if form == t.resolved and is_mount_point(form):
                        raise FloorViolation(f"{shown} is a mount point", call=call, target=str(form))
        if cap == "fs.chmod":
            # the parse fs.chmod applies: a mode it would refuse is refused here too (InvalidRequest)
            if parse_mode(args.get("mode"), call=call).special:
                raise FloorViolation("setting setuid / setgid bits is never allowed", call=call,
                                     target=f"mode {escape_for_display(args.get('mode'))}")
        if cap == "proc.kill" or (cap.startswith("proc.") and spec.risk is not Risk.READ and procs):
            self._check_signal(call, procs)
        if cap == "proc.exec":
            self._check_exec(call, args)

    @staticmethod
    def _check_signal(call: str, procs: list[ProcTarget]) -> None:
        import psutil

        me = os.getpid()
        try:
            ancestors = {p.pid for p in psutil.Process(me).parents()}
        except psutil.Error:
            ancestors = set()
        for proc in procs:
            if proc.pid <= 1:
                raise FloorViolation("pid 1 (init) is never signalled", call=call, target=f"pid {proc.pid}")
            if proc.pid == me:
                raise FloorViolation("nlshell does not signal itself", call=call, target=f"pid {proc.pid}")
            if proc.pid in ancestors:
                raise FloorViolation("nlshell does not signal its own parent processes", call=call,
                                     target=f"pid {proc.pid}")
            if proc.uid is None or proc.uid != os.getuid():
                raise FloorViolation("the process belongs to another user (or its owner is unknown)",
                                     call=call, target=f"pid {proc.pid}")

    @staticmethod
    def _check_exec(call: str, args: Mapping[str, Any]) -> None:
        env = args.get("env")
        if isinstance(env, Mapping):
            for key in env:
                if _ENV_FORBIDDEN.match(str(key)):
                    raise FloorViolation(f"{escape_for_display(key)} in a spawned environment is never "
                                         "allowed",
                                         call=call, target=f"env {escape_for_display(key)}")
        for key in ("argv", "args", "command"):
            value = args.get(key)
            items = value if isinstance(value, list) else [value] if isinstance(value, str) else []
            for item in items:
                if isinstance(item, str) and _ENV_FORBIDDEN.match(item.lstrip()) and "=" in item:
                    raise FloorViolation("LD_* / DYLD_* assignments are never allowed", call=call,
                                         target=escape_for_display(item))


# --------------------------------------------------------------------------- gate


def proc_target(pid: int) -> ProcTarget:
    import psutil

    try:
        p = psutil.Process(pid)
        with p.oneshot():
            return ProcTarget(pid, p.uids().real, p.name(), p.create_time())
    except psutil.Error:
        return ProcTarget(pid, None)


def exe_target(args: Mapping[str, Any], ctx: CallContext) -> Target | None:
    argv = args.get("argv")
    exe = argv[0] if isinstance(argv, list) and argv and isinstance(argv[0], str) else args.get("program")
    if not isinstance(exe, str) or not exe:
        cmd = args.get("command")
        if isinstance(cmd, str) and cmd.strip():
            exe = cmd.split()[0]
        else:
            return None
    if "/" not in exe:
        import shutil

        found = shutil.which(exe)
        exe = found or exe
    if "/" not in exe:
        return Target(exe, Path("/nonexistent") / exe, Path("/nonexistent") / exe)
    return canonical(exe, ctx.cwd, call=ctx.call, field="argv")


def _leaves(value: Any) -> Iterable[Any]:
    if isinstance(value, Mapping):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


def all_args_in_intent(args: Mapping[str, Any], intent: str) -> bool:
    """Every string / number argument appears literally in the person's own words."""
    if not intent:
        return False
    for leaf in _leaves(args):
        if isinstance(leaf, bool) or leaf is None:
            continue
        if str(leaf) not in intent:
            return False
    return True


def _escape_deep(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {escape_for_display(k): _escape_deep(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_escape_deep(v) for v in value]
    if isinstance(value, str):
        return escape_for_display(value)
    return value


def blast_radius(targets: list[Target], procs: list[ProcTarget], *, max_entries: int = 200_000) -> JSONDict:
    """How much a request would touch: entries and bytes under each target, and the pids."""
    count = 0
    size = 0
    capped = False
    for t in targets:
        sizes = entry_sizes(t.lexical)
        first = next(sizes, None)  # the target itself: counted even once the cap is reached
        if first is None:
            continue
        count += 1
        size += first
        if not capped:
            for n in sizes:
                count += 1
                if count >= max_entries:
                    capped = True
                    break
                size += n
        sizes.close()
    pids = [{"pid": pr.pid, "name": escape_for_display(pr.name), "start_time": pr.create_time, "uid": pr.uid}
            for pr in procs]
    out: JSONDict = {"count": count, "bytes": size,
                     "paths": [escape_for_display(str(t.lexical)) for t in targets]}
    if capped:
        out["count_capped"] = True
    if pids:
        out["pids"] = pids
    return out


class PolicyGate:
    """The dispatcher's ``Gate``: floor, rules, taint, grants, and the approver for "ask"."""

    def __init__(self, policy: Policy | None = None, *, floor: Floor | None = None,
                 audit: DecisionSink | None = None, max_asks: int = 3) -> None:
        self.policy = policy if policy is not None else Policy.load()
        self.floor = floor or Floor()
        self.audit = audit
        self.max_asks = max_asks
        self._grants: set[tuple[str, str, str]] = set()
        self._denials: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    # ------------------------------------------------------------ helpers

    def _targets(self, spec: SyscallSpec, args: Mapping[str, Any], ctx: CallContext) -> list[Target]:
        out = []
        for name in spec.path_args:
            value = args.get(name)
            if isinstance(value, str):
                t = canonical(value, ctx.cwd, call=spec.name, field=name)
                out.append(t)
                ctx.checked_paths[value] = t.resolved
        if not out and spec.path_args and spec.capability in PATH_SCOPED:
            # a path left out means the current directory (``fs.list``, ``fs.find``...): that is what is touched
            out.append(canonical(".", ctx.cwd, call=spec.name, field=spec.path_args[0]))
        return out

    @staticmethod
    def _procs(spec: SyscallSpec, args: Mapping[str, Any]) -> list[ProcTarget]:
        return [proc_target(int(args[n])) for n in spec.pid_args
                if isinstance(args.get(n), int) and not isinstance(args.get(n), bool)]

    @staticmethod
    def _scope(targets: list[Target], procs: list[ProcTarget], exe: Target | None) -> str:
        parts = [str(t.resolved) for t in targets]
        parts += [f"pid:{p.pid}@{p.create_time}" for p in procs]
        if exe is not None:
            parts.append(f"exe:{exe.resolved}")
        return "|".join(sorted(parts))

    @staticmethod
    def _canonical_request(request: SyscallRequest, targets: list[Target]) -> str:
        args = dict(request.args)
        for t in targets:
            for k, v in args.items():
                if v == t.raw:
                    args[k] = str(t.resolved)
        return request.call + json.dumps(args, sort_keys=True, default=str)

    def _report(self, request: SyscallRequest, ctx: CallContext, capability: str, action: str, by: str,
                reason: str, targets: list[Target]) -> None:
        if self.audit is None:
            return
        self.audit.decision(request, ctx, capability=capability, action=action, by=by, reason=reason,
                            targets=[{"requested": t.raw, "lexical": str(t.lexical),
                                      "resolved": str(t.resolved)} for t in targets])

    # ------------------------------------------------------------ authorize

    def authorize(self, request: SyscallRequest, spec: SyscallSpec, ctx: CallContext) -> None:
        args = request.args
        cap = spec.capability
        targets: list[Target] = []
        try:
            targets = self._targets(spec, args, ctx)
            procs = self._procs(spec, args)
            ctx.checked_pids.update({p.pid: p.create_time for p in procs if p.create_time is not None})
            exe = exe_target(args, ctx) if cap == "proc.exec" else None
            self.floor.check(spec, args, targets + ([exe] if exe else []), procs, ctx)
            if cap == "proc.exec":
                ctx.sandbox = self.sandbox_plan(args, ctx)
        except FloorViolation as exc:
            self._report(request, ctx, cap, "deny", "floor", exc.message, targets)
            raise
        except SyscallError as exc:
            self._report(request, ctx, cap, "deny", "gate", exc.message, targets)
            raise
        decision = self.policy.decide(cap, targets, procs, exe)
        scope = self._scope(targets, procs, exe)
        cap_key = f"{cap}:{scope}" if scope else cap
        deny_key = (ctx.session, self._canonical_request(request, targets))
        if decision.action == "deny":
            rule = f"rule {decision.rule} ({decision.where})"
            self._report(request, ctx, cap, "deny", "policy", rule, targets)
            raise Denied(f"policy denies {cap} here ({escape_for_display(rule)})",
                         call=spec.name, target=escape_for_display(scope))
        with self._lock:
            sticky = deny_key in self._denials
            granted = (ctx.session, cap, scope) in self._grants
        if sticky:
            self._report(request, ctx, cap, "deny", "sticky", "denied earlier in this session", targets)
            raise Denied("this request was denied earlier in this session", call=spec.name,
                         target=escape_for_display(scope), hint="start a new session to be asked again")
        tainted = bool(ctx.tainted_by) and spec.risk is not Risk.READ and \
            not all_args_in_intent(args, ctx.intent)
        if decision.action == "allow" and not tainted:
            rule = f"rule {decision.rule} ({decision.where})"
            self._report(request, ctx, cap, "allow", "policy", rule, targets)
            return
        if granted and not tainted:
            self._report(request, ctx, cap, "allow", "grant", f"session grant {cap_key}", targets)
            return
        self._ask(request, spec, ctx, targets, procs, exe, decision, tainted, scope, deny_key)

    def sandbox_plan(self, args: Mapping[str, Any], ctx: CallContext) -> Plan:
        """What a program this request starts may touch (see the module docstring)."""
        raw = args.get("cwd")
        places = [raw if isinstance(raw, str) and raw else ".", tempfile.gettempdir(), *SCRATCH_DIRS]
        write: list[Path] = []
        for place in places:
            t = canonical(place, ctx.cwd, call=ctx.call, field="cwd")
            if t.resolved not in write and self.policy.decide("fs.write", [t]).action == "allow":
                write.append(t.resolved)
        no_write = dict.fromkeys([*self.floor.unwritable(), *self.policy.write_holes(write)])
        return Plan(write=tuple(map(str, write)), no_write=tuple(map(str, no_write)),
                    no_read=tuple(map(str, self.floor.unreadable())))

    def _ask(self, request: SyscallRequest, spec: SyscallSpec, ctx: CallContext, targets: list[Target],
             procs: list[ProcTarget], exe: Target | None, decision: Decision, tainted: bool, scope: str,
             deny_key: tuple[str, str]) -> None:
        cap = spec.capability
        reason = decision.reason or f"rule {decision.rule}"
        if tainted:
            reason = f"proposed after reading {ctx.tainted_by}"
        radius = self._radius(spec, ctx, request, targets, procs)
        if ctx.dry_run:
            # Nothing will run: report that approval would be needed instead of asking for it.
            self._report(request, ctx, cap, "would-ask", "dry-run", reason, targets)
            ctx.would_ask = escape_for_display(reason)
            return
        for _ in range(self.max_asks):
            question = Question(
                request=SyscallRequest(request.call, _escape_deep(dict(request.args)), request.id),
                capability=cap,
                risk=spec.risk,
                scope=escape_for_display(scope),
                targets=tuple((escape_for_display(t.raw), escape_for_display(str(t.resolved)))
                              for t in targets + ([exe] if exe else [])),
                effects=radius,
                tainted_by=escape_for_display(ctx.tainted_by) if ctx.tainted_by else None,
                reason=escape_for_display(reason),
            )
            if ctx.approve is None:
                self._report(request, ctx, cap, "deny", "no-approver", reason, targets)
                raise Denied("approval needed and no one can be asked (no terminal)", call=spec.name,
                             target=escape_for_display(scope),
                             hint="run interactively, or add an allow rule to the policy file")
            try:
                answer = Answer(ctx.approve(question))
            except ValueError:
                answer = Answer.DENY
            if answer is Answer.DENY:
                with self._lock:
                    self._denials.add(deny_key)
                self._report(request, ctx, cap, "deny", "user", reason, targets)
                raise Denied("not approved", call=spec.name, target=escape_for_display(scope))
            # Re-check what the approval was about: the world may have moved while the person read it.
            now_procs = self._procs(spec, request.args)
            for before, after in zip(procs, now_procs, strict=False):
                if before.create_time != after.create_time or before.uid != after.uid:
                    self._report(request, ctx, cap, "deny", "gate", f"pid {before.pid} changed identity",
                                 targets)
                    raise Denied(f"pid {before.pid} now names a different process than the one approved",
                                 call=spec.name, target=f"pid {before.pid}",
                                 hint="list processes again and ask for the one you mean")
            fresh = [canonical(t.raw, ctx.cwd, call=spec.name) for t in targets]
            if [t.resolved for t in fresh] != [t.resolved for t in targets]:
                self._report(request, ctx, cap, "deny", "gate", "a target moved after approval", targets)
                raise Denied("a target now resolves somewhere else than when it was approved", call=spec.name,
                             target=escape_for_display(scope), hint="run the request again")
            now = self._radius(spec, ctx, request, targets, now_procs)
            if now.get("count") != radius.get("count") or now.get("bytes") != radius.get("bytes"):
                radius = now
                reason = f"changed since you were asked: {escape_for_display(reason)}"
                continue
            by = "user-session" if answer is Answer.SESSION else "user-once"
            if answer is Answer.SESSION and cap not in NO_SESSION_GRANT and not tainted:
                with self._lock:
                    self._grants.add((ctx.session, cap, scope))
            self._report(request, ctx, cap, "allow", by, reason, targets)
            return
        self._report(request, ctx, cap, "deny", "gate", "targets kept changing while asked", targets)
        raise Denied("the targets kept changing while you were asked", call=spec.name,
                     target=escape_for_display(scope), hint="run the request again when they are stable")

    @staticmethod
    def _radius(spec: SyscallSpec, ctx: CallContext, request: SyscallRequest, targets: list[Target],
                procs: list[ProcTarget]) -> JSONDict:
        radius = blast_radius(targets, procs)
        if ctx.sandbox is not None:
            radius["sandbox"] = ctx.sandbox.describe(landlock_abi())
        if spec.preview is not None:
            try:
                radius["preview"] = _escape_deep(spec.preview(ctx, dict(request.args)))
            except Exception as exc:  # a preview must never decide; report what broke
                radius["preview_error"] = escape_for_display(f"{type(exc).__name__}: {exc}")
        return radius

    def forget_session(self, session: str) -> None:
        with self._lock:
            self._grants = {g for g in self._grants if g[0] != session}
            self._denials = {d for d in self._denials if d[0] != session}
