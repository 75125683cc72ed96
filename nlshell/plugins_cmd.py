"""Data for ``nlsh plugins``: which plugin packages are installed, what they add, what broke.

Each entry point of the group ``nlshell.syscalls`` is one plugin.  The report
loads every plugin into a scratch registry (so one plugin's calls are told
apart from another's), keeps the error of a broken one, and names the
distribution and version it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from syscalls.registry import Registry

GROUP = "nlshell.syscalls"


@dataclass(frozen=True)
class PluginInfo:
    name: str                      # the entry point's name
    target: str                    # "module:callable"
    distribution: str              # the installed package that declares it
    version: str
    syscalls: tuple[str, ...] = ()
    error: str | None = None       # "ExcType: message" when it failed to load
    conflicts: tuple[str, ...] = field(default=())  # calls also provided by a built-in

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "target": self.target, "distribution": self.distribution,
                "version": self.version, "syscalls": list(self.syscalls), "error": self.error,
                "conflicts": list(self.conflicts), "ok": self.ok}


def _dist(ep: EntryPoint) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "", ""
    return str(dist.metadata["Name"] or ""), str(dist.version or "")


def plugin_report(group: str = GROUP, builtins: Registry | None = None) -> list[PluginInfo]:
    """One ``PluginInfo`` per entry point in ``group``, sorted by name; never raises for a plugin."""
    taken = set(builtins.names()) if builtins is not None else set()
    out: list[PluginInfo] = []
    seen: set[tuple[str, str]] = set()
    for ep in entry_points(group=group):
        key = (ep.name, ep.value)
        if key in seen:  # the same distribution visible twice on sys.path
            continue
        seen.add(key)
        dist, version = _dist(ep)
        scratch = Registry()
        try:
            register: Any = ep.load()
            register(scratch)
        except Exception as exc:  # a plugin must never take nlshell down
            out.append(PluginInfo(ep.name, ep.value, dist, version, error=f"{type(exc).__name__}: {exc}"))
            continue
        names = tuple(scratch.names())
        out.append(PluginInfo(ep.name, ep.value, dist, version, names,
                              conflicts=tuple(n for n in names if n in taken)))
    return sorted(out, key=lambda p: p.name)


def report_rows(plugins: list[PluginInfo]) -> list[dict[str, Any]]:
    """Table rows for the renderer (``nlsh plugins``, ``--json``)."""
    return [p.to_dict() for p in plugins]


def render(plugins: list[PluginInfo]) -> Any:
    """A Rich table of the plugins (imported lazily so ``import nlshell`` stays light)."""
    from rich.table import Table

    table = Table(title="nlshell plugins", show_lines=False)
    for col in ("plugin", "package", "version", "syscalls", "status"):
        table.add_column(col)
    if not plugins:
        table.add_row("(none)", "", "", "", "install one, e.g. pip install -e plugins/nlshell-git")
    for p in plugins:
        status = "[green]ok[/]" if p.ok else f"[red]failed[/] {p.error}"
        if p.conflicts:
            status = f"[yellow]conflicts with built-ins:[/] {', '.join(p.conflicts)}"
        table.add_row(p.name, p.distribution, p.version, ", ".join(p.syscalls), status)
    return table
