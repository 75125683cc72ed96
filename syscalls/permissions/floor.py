"""The hard floor: refusals no rule, grant, approval or ``--yes`` can lift.

The floor is an ordered list of named rules, ``RULES``.  Each rule says which calls it concerns, as a
predicate on the spec's declared properties (capability, risk, ``relocates``), and what it looks at:

* a path rule looks at each form (as given, as resolved on disk) of each path a request names;
* a process rule looks at each process a request names;
* a request rule looks at the request's arguments once.

``Floor.check`` runs the path rules form by form, then the process rules process by process, then the
request rules, and raises ``FloorViolation`` with the first refusal.  The HARD FLOOR section of
nlsh-policy(5) is generated from ``RULES``: each rule's name and one-line doc.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from syscalls.display import escape_for_display
from syscalls.errors import FloorViolation
from syscalls.modes import parse_mode
from syscalls.mounts import is_mount_point
from syscalls.paths import Target, is_within
from syscalls.permissions.policy import ProcTarget
from syscalls.types import CallContext, Risk, SyscallSpec, home_dir

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
    pkg_root = Path(__file__).resolve().parents[2]
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
        return _both([h / rel for h in _homes() for rel in CREDENTIALS])

    def unwritable(self) -> list[Path]:
        """What the floor never lets a call write, as paths: nlshell's state, the credential stores
        and login hooks in the home directory, and the system directories.  A program ``proc.run``
        starts cannot write them either (``syscalls.confine``); a repository's .git hooks and config,
        which the floor refuses by name wherever they are, stay writable for a program that may write
        in the repository, since git itself writes in .git."""
        return _both([*self.protected_state(), *(h / rel for h in _homes() for rel in (*CREDENTIALS, *PERSISTENCE)),
                      *(Path(d) for d in SYSTEM_DIRS)])

    def refusal(self, spec: SyscallSpec, args: Mapping[str, Any], targets: list[Target],
                procs: list[ProcTarget], ctx: CallContext) -> tuple[FloorRule, Refusal] | None:
        """The first rule that refuses the request, with its refusal; None when the floor lets it pass."""
        rules = [rule for rule in RULES if rule.applies(spec)]
        for t in targets:
            for form in t.forms():
                for rule in rules:
                    if isinstance(rule, PathRule) and (found := rule.check(self, spec, t, form, ctx)) is not None:
                        return rule, found
        for proc in procs:
            for rule in rules:
                if isinstance(rule, ProcessRule) and (found := rule.check(spec, proc)) is not None:
                    return rule, found
        for rule in rules:
            if isinstance(rule, RequestRule) and (found := rule.check(spec, args)) is not None:
                return rule, found
        return None

    def check(self, spec: SyscallSpec, args: Mapping[str, Any], targets: list[Target],
              procs: list[ProcTarget], ctx: CallContext) -> None:
        """Raise ``FloorViolation`` with the first refusal of ``RULES`` (see the module docstring)."""
        hit = self.refusal(spec, args, targets, procs, ctx)
        if hit is not None:
            _, found = hit
            raise FloorViolation(found.message, call=spec.name, target=found.target, hint=found.hint)


# --------------------------------------------------------------------------- the rules


class Refusal(NamedTuple):
    """Why a rule refuses: the ``FloorViolation``'s message, its target, and a hint ("" for the default)."""

    message: str
    target: str
    hint: str = ""


PathCheck = Callable[[Floor, SyscallSpec, Target, Path, CallContext], Refusal | None]
ProcessCheck = Callable[[SyscallSpec, ProcTarget], Refusal | None]
RequestCheck = Callable[[SyscallSpec, Mapping[str, Any]], Refusal | None]


@dataclass(frozen=True)
class FloorRule:
    """A rule of the floor: its name, a one-line doc, and which calls it concerns."""

    name: str
    doc: str
    applies: Callable[[SyscallSpec], bool]


@dataclass(frozen=True)
class PathRule(FloorRule):
    """Looks at each form (as given, as resolved on disk) of each path a request names."""

    check: PathCheck


@dataclass(frozen=True)
class ProcessRule(FloorRule):
    """Looks at each process a request names."""

    check: ProcessCheck


@dataclass(frozen=True)
class RequestRule(FloorRule):
    """Looks at the request's arguments once."""

    check: RequestCheck


def _doc(check: Callable[..., Refusal | None]) -> str:
    return " ".join((check.__doc__ or "").split())


def path_rule(name: str, applies: Callable[[SyscallSpec], bool], check: PathCheck) -> PathRule:
    return PathRule(name, _doc(check), applies, check)


def process_rule(name: str, applies: Callable[[SyscallSpec], bool], check: ProcessCheck) -> ProcessRule:
    return ProcessRule(name, _doc(check), applies, check)


def request_rule(name: str, applies: Callable[[SyscallSpec], bool], check: RequestCheck) -> RequestRule:
    return RequestRule(name, _doc(check), applies, check)


# Which calls a rule concerns: predicates on the spec's declared properties.

def file_call(spec: SyscallSpec) -> bool:
    """A call on files (capability ``fs.*``)."""
    return spec.capability.startswith("fs.")


def writes_files(spec: SyscallSpec) -> bool:
    """A file call that changes something: fs.write, fs.delete, fs.chmod, or any ``fs.*`` not a read."""
    cap = spec.capability
    return cap in ("fs.write", "fs.delete", "fs.chmod") or (spec.risk is not Risk.READ and cap.startswith("fs."))


def reads_files(spec: SyscallSpec) -> bool:
    """A file call that only reads."""
    return file_call(spec) and not writes_files(spec)


def takes_away(spec: SyscallSpec) -> bool:
    """A file call that takes what it names away: fs.delete, a destructive one, or one that relocates."""
    return writes_files(spec) and (spec.capability == "fs.delete" or spec.risk is Risk.DESTRUCTIVE
                                   or spec.relocates)


def signals(spec: SyscallSpec) -> bool:
    """A call that acts on processes: proc.kill, or any ``proc.*`` not a read."""
    return spec.capability == "proc.kill" or (spec.capability.startswith("proc.") and spec.risk is not Risk.READ)


def sets_modes(spec: SyscallSpec) -> bool:
    """A call that sets permission bits (fs.chmod)."""
    return spec.capability == "fs.chmod"


def starts_programs(spec: SyscallSpec) -> bool:
    """A call that starts a program (proc.exec)."""
    return spec.capability == "proc.exec"


def _homes() -> list[Path]:
    return _both([Path(os.path.normpath(home_dir()))])


def _shown(target: Target) -> str:
    return escape_for_display(target.raw)


def _home_entry(form: Path, rels: tuple[str, ...] | list[str]) -> str | None:
    """The entry of ``rels`` (relative to a home directory) that ``form`` lies within, if any."""
    for h in _homes():
        for rel in rels:
            if is_within(form, h / rel):
                return rel
    return None


# Path rules.

def credential_store(floor: Floor, spec: SyscallSpec, target: Target, form: Path,
                     ctx: CallContext) -> Refusal | None:
    """No file call touches a credential store in the home directory (~/.ssh, ~/.aws, browser profiles...)."""
    rel = _home_entry(form, CREDENTIALS)
    return Refusal(f"{_shown(target)} is a credential store ({rel})", str(form)) if rel else None


def kernel_files(floor: Floor, spec: SyscallSpec, target: Target, form: Path,
                 ctx: CallContext) -> Refusal | None:
    """A file call that reads does not read under /proc, /sys or /dev: the sys.* and dev.* calls do."""
    for nd in NO_READ_DIRS:
        if is_within(form, Path(nd)):
            return Refusal(f"{_shown(target)} is under {nd}; kernel and device files are not read through "
                           "file calls", str(form), "use the sys.* and dev.* calls for system information")
    return None


def nlshell_state(floor: Floor, spec: SyscallSpec, target: Target, form: Path,
                  ctx: CallContext) -> Refusal | None:
    """No file call changes nlshell's own state or installation (journal, audit log, trash, policy, code)."""
    for d in floor.protected_state():
        if is_within(form, d):
            return Refusal(f"{_shown(target)} is nlshell's own state or installation ({d})", str(form))
    return None


def login_hook(floor: Floor, spec: SyscallSpec, target: Target, form: Path,
               ctx: CallContext) -> Refusal | None:
    """No file call changes a login or autostart hook in the home directory (~/.bashrc, ~/.config/autostart...)."""
    rel = _home_entry(form, PERSISTENCE)
    return Refusal(f"{_shown(target)} is a login / autostart hook ({rel})", str(form)) if rel else None


def git_hook(floor: Floor, spec: SyscallSpec, target: Target, form: Path,
             ctx: CallContext) -> Refusal | None:
    """No file call changes a repository's .git/hooks or .git/config, wherever it is (they run code)."""
    if ".git" in form.parts:
        i = form.parts.index(".git")
        if form.parts[i + 1:i + 2] == ("hooks",) or (form.name == "config" and len(form.parts) == i + 2):
            return Refusal(f"{_shown(target)} is a git hook or git config (runs code)", str(form))
    return None


def root_directory(floor: Floor, spec: SyscallSpec, target: Target, form: Path,
                   ctx: CallContext) -> Refusal | None:
    """No file call changes the root directory or an entry directly under it."""
    if form == Path("/") or form.parent == Path("/"):
        return Refusal(f"{_shown(target)} is the root directory or directly under it", str(form))
    return None


def system_directory(floor: Floor, spec: SyscallSpec, target: Target, form: Path,
                     ctx: CallContext) -> Refusal | None:
    """No file call changes anything under a system directory (/etc, /usr, /boot, ...)."""
    for sd in SYSTEM_DIRS:
        if is_within(form, Path(sd)):
            return Refusal(f"{_shown(target)} is under the system directory {sd}", str(form))
    return None


def home_or_cwd(floor: Floor, spec: SyscallSpec, target: Target, form: Path,
                ctx: CallContext) -> Refusal | None:
    """Nothing deletes or moves away the home or working directory or one of their parents."""
    for keep in _both([Path(os.path.normpath(home_dir())), Path(os.path.normpath(ctx.cwd))]):
        if is_within(keep, form):
            return Refusal(f"{_shown(target)} is the home or working directory or one of their parents",
                           str(form))
    return None


def mount_point(floor: Floor, spec: SyscallSpec, target: Target, form: Path,
                ctx: CallContext) -> Refusal | None:
    """Nothing deletes or moves away a mount point (judged on the target as resolved on disk)."""
    if form == target.resolved and is_mount_point(form):
        return Refusal(f"{_shown(target)} is a mount point", str(form))
    return None


# Process rules.

def signal_init(spec: SyscallSpec, proc: ProcTarget) -> Refusal | None:
    """Pid 1 (init), or a pid below it, is never signalled."""
    if proc.pid <= 1:
        return Refusal("pid 1 (init) is never signalled", f"pid {proc.pid}")
    return None


def signal_self(spec: SyscallSpec, proc: ProcTarget) -> Refusal | None:
    """nlshell does not signal itself."""
    if proc.pid == os.getpid():
        return Refusal("nlshell does not signal itself", f"pid {proc.pid}")
    return None


def signal_parent(spec: SyscallSpec, proc: ProcTarget) -> Refusal | None:
    """nlshell does not signal its own parent processes (the shell or terminal it runs in)."""
    import psutil

    try:
        ancestors = {p.pid for p in psutil.Process(os.getpid()).parents()}
    except psutil.Error:
        ancestors = set()
    if proc.pid in ancestors:
        return Refusal("nlshell does not signal its own parent processes", f"pid {proc.pid}")
    return None


def signal_other_user(spec: SyscallSpec, proc: ProcTarget) -> Refusal | None:
    """Only the user's own processes are signalled (not another user's, nor one whose owner is unknown)."""
    if proc.uid is None or proc.uid != os.getuid():
        return Refusal("the process belongs to another user (or its owner is unknown)", f"pid {proc.pid}")
    return None


# Request rules.

def setuid_setgid(spec: SyscallSpec, args: Mapping[str, Any]) -> Refusal | None:
    """No mode sets the setuid or setgid bit (a mode fs.chmod would not parse is refused as invalid)."""
    # the parse fs.chmod applies: a mode it would refuse is refused here too (InvalidRequest)
    if parse_mode(args.get("mode"), call=spec.name).special:
        return Refusal("setting setuid / setgid bits is never allowed", f"mode {escape_for_display(args.get('mode'))}")
    return None


def loader_environment(spec: SyscallSpec, args: Mapping[str, Any]) -> Refusal | None:
    """A started program's environment never gets an LD_* or DYLD_* variable."""
    env = args.get("env")
    if isinstance(env, Mapping):
        for key in env:
            if _ENV_FORBIDDEN.match(str(key)):
                return Refusal(f"{escape_for_display(key)} in a spawned environment is never allowed",
                               f"env {escape_for_display(key)}")
    return None


def loader_assignment(spec: SyscallSpec, args: Mapping[str, Any]) -> Refusal | None:
    """A command line never carries an LD_*=... or DYLD_*=... assignment (argv, args or command)."""
    for key in ("argv", "args", "command"):
        value = args.get(key)
        items = value if isinstance(value, list) else [value] if isinstance(value, str) else []
        for item in items:
            if isinstance(item, str) and _ENV_FORBIDDEN.match(item.lstrip()) and "=" in item:
                return Refusal("LD_* / DYLD_* assignments are never allowed", escape_for_display(item))
    return None


# The floor, in the order ``Floor.check`` runs it (path rules form by form, then process rules, then
# request rules).
RULES: tuple[FloorRule, ...] = (
    path_rule("credential-store", file_call, credential_store),
    path_rule("kernel-files", reads_files, kernel_files),
    path_rule("nlshell-state", writes_files, nlshell_state),
    path_rule("login-hook", writes_files, login_hook),
    path_rule("git-hook", writes_files, git_hook),
    path_rule("root-directory", writes_files, root_directory),
    path_rule("system-directory", writes_files, system_directory),
    path_rule("home-or-cwd", takes_away, home_or_cwd),
    path_rule("mount-point", takes_away, mount_point),
    process_rule("signal-init", signals, signal_init),
    process_rule("signal-self", signals, signal_self),
    process_rule("signal-parent", signals, signal_parent),
    process_rule("signal-other-user", signals, signal_other_user),
    request_rule("setuid-setgid", sets_modes, setuid_setgid),
    request_rule("loader-environment", starts_programs, loader_environment),
    request_rule("loader-assignment", starts_programs, loader_assignment),
)
