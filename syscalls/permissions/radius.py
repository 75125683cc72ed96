"""Blast radius: what an approval question shows a request would touch (entries, bytes, processes,
the confinement of a started program and the call's own preview)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from syscalls.confine import abi as landlock_abi
from syscalls.display import escape_for_display
from syscalls.fsmeasure import entry_sizes
from syscalls.paths import Target
from syscalls.permissions.policy import ProcTarget
from syscalls.types import CallContext, JSONDict, SyscallRequest, SyscallSpec


def escape_deep(value: Any) -> Any:
    """``value`` with every string in it (keys too) made safe to show."""
    if isinstance(value, Mapping):
        return {escape_for_display(k): escape_deep(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [escape_deep(v) for v in value]
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



def effects(spec: SyscallSpec, ctx: CallContext, request: SyscallRequest, targets: list[Target],
            procs: list[ProcTarget]) -> JSONDict:
    """The ``effects`` of an approval question: the blast radius, how a started program is confined,
    and the call's preview (or what broke in it)."""
    radius = blast_radius(targets, procs)
    if ctx.sandbox is not None:
        radius["sandbox"] = ctx.sandbox.describe(landlock_abi())
    if spec.preview is not None:
        try:
            radius["preview"] = escape_deep(spec.preview(ctx, dict(request.args)))
        except Exception as exc:  # a preview must never decide; report what broke
            radius["preview_error"] = escape_for_display(f"{type(exc).__name__}: {exc}")
    return radius
