"""The gate: floor, rules, taint, session grants, and the approver for "ask" (the order is in the
package's docstring).  It also plans the Landlock confinement of a program ``proc.run`` starts."""

from __future__ import annotations

import json
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from syscalls.confine import Plan
from syscalls.display import escape_for_display
from syscalls.errors import Denied, FloorViolation, SyscallError
from syscalls.paths import Target, canonical
from syscalls.permissions.floor import Floor
from syscalls.permissions.policy import PATH_SCOPED, Decision, Policy, ProcTarget
from syscalls.permissions.radius import effects, escape_deep
from syscalls.permissions.taint import is_tainted
from syscalls.types import Answer, CallContext, JSONDict, Question, SyscallRequest, SyscallSpec

# Approvals for these are never remembered for the session: they ask every time.
NO_SESSION_GRANT = frozenset({"fs.chmod", "fs.chown", "proc.kill", "proc.exec"})
# Temporary directories a started program may also write in, where the policy allows fs.write there.
SCRATCH_DIRS = ("/tmp", "/var/tmp")


class DecisionSink(Protocol):
    """Where the gate reports each decision (the audit log implements this)."""

    def decision(self, request: SyscallRequest, ctx: CallContext, *, capability: str, action: str,
                 by: str, reason: str, targets: list[JSONDict]) -> None: ...


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
        tainted = is_tainted(spec, args, ctx)
        if decision.action == "allow" and not tainted:
            rule = f"rule {decision.rule} ({decision.where})"
            self._report(request, ctx, cap, "allow", "policy", rule, targets)
            return
        if granted and not tainted:
            self._report(request, ctx, cap, "allow", "grant", f"session grant {cap_key}", targets)
            return
        self._ask(request, spec, ctx, targets, procs, exe, decision, tainted, scope, deny_key)

    def sandbox_plan(self, args: Mapping[str, Any], ctx: CallContext) -> Plan:
        """What a program this request starts may touch (see the package docstring)."""
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
        radius = effects(spec, ctx, request, targets, procs)
        if ctx.dry_run:
            # Nothing will run: report that approval would be needed instead of asking for it.
            self._report(request, ctx, cap, "would-ask", "dry-run", reason, targets)
            ctx.would_ask = escape_for_display(reason)
            return
        for _ in range(self.max_asks):
            question = Question(
                request=SyscallRequest(request.call, escape_deep(dict(request.args)), request.id),
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
            now = effects(spec, ctx, request, targets, now_procs)
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

    def forget_session(self, session: str) -> None:
        with self._lock:
            self._grants = {g for g in self._grants if g[0] != session}
            self._denials = {d for d in self._denials if d[0] != session}
