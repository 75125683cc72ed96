"""The hard floor: refusals no rule, grant, approval or ``--yes`` can lift.

No file call touches the credential stores in the home directory or reads kernel and device files;
no call writes nlshell's own state, login and autostart hooks, a repository's git hooks and config,
the root directory or the system directories; nothing deletes or moves away the home or working
directory, one of their parents or a mount point; no mode gets setuid / setgid bits; no process
signals init, nlshell itself, its parents or another user's processes; no started program gets
``LD_*`` / ``DYLD_*`` in its environment.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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

