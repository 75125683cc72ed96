"""Capabilities and the policy file: rules, their parsing, the built-in profile and the decision.

``Policy`` holds the rules of the built-in profile and of the policy file and decides a capability
over a request's targets: deny → ask → allow → default ("ask"), first match wins.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import tomllib

from syscalls.display import unsafe_char
from syscalls.errors import SyscallError
from syscalls.paths import Target, is_within
from syscalls.permissions.glob import PathGlob, compile_path_glob
from syscalls.types import home_dir

KNOWN_CAPABILITIES = frozenset({
    "fs.read", "fs.write", "fs.delete", "fs.chmod", "fs.chown",
    "proc.read", "proc.kill", "proc.exec",
    "sys.read", "dev.read", "net.read", "answer", "data.read",
})
PATH_SCOPED = frozenset({"fs.read", "fs.write", "fs.delete", "fs.chmod", "fs.chown", "proc.exec"})
PROC_SCOPED = frozenset({"proc.read", "proc.kill"})
ACTIONS = ("deny", "ask", "allow")


class PolicyError(SyscallError):
    """The policy file cannot be used; nlshell refuses to start with it (fails closed)."""

    kind = "policy"
    default_hint = "fix the policy file; nothing runs under a policy that does not load"


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
                # the first allow rule covering each path form and each process; None where one is uncovered
                hits = [next((r for r in allows if self._match_path(r, form)), None) for form in path_forms]
                hits += [next((r for r in allows if self._match_proc(r, proc)), None) for proc in procs]
                if hits and all(h is not None for h in hits):
                    covering = hits[0]
                    assert covering is not None
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

