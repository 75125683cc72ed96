"""The registry of syscalls: built-ins and plugins register the same way.

A module (built-in or a plugin package) exposes ``register(registry)`` and
calls ``registry.add(spec)`` for each call it provides; ``@registry.syscall``
builds the spec from a function.  The registry exports one JSON Schema per
call and one for the whole set (a ``oneOf``), which the model path turns into
a grammar.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import Any

from syscalls import schema as S
from syscalls.errors import InvalidRequest
from syscalls.types import Example, Implementation, JSONDict, Risk, SyscallSpec, View

_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_.")


class Registry:
    def __init__(self) -> None:
        self._specs: dict[str, SyscallSpec] = {}
        self.plugin_errors: list[tuple[str, str]] = []

    def add(self, spec: SyscallSpec) -> None:
        if not spec.name or set(spec.name) - _NAME_CHARS:
            raise ValueError(f"syscall name {spec.name!r} must be lower-case letters, digits, '_' or '.'")
        if spec.name in self._specs:
            raise ValueError(f"syscall {spec.name!r} is registered twice "
                             f"({self._specs[spec.name].plugin} and {spec.plugin})")
        if spec.args_schema.get("type") != "object" or spec.args_schema.get("additionalProperties") is not False:
            raise ValueError(f"syscall {spec.name!r}: the args schema must be a closed object")
        if spec.on_directory and (spec.risk is not Risk.READ or "path" not in spec.path_args):
            raise ValueError(f"syscall {spec.name!r}: on_directory needs a read-only call with a path argument")
        if spec.names_existing and not set(spec.names_existing) <= set(spec.path_args):
            raise ValueError(f"syscall {spec.name!r}: names_existing must name two of its path arguments")
        self._specs[spec.name] = spec

    def syscall(
        self,
        name: str,
        doc: str,
        *,
        args: JSONDict,
        result: JSONDict,
        capability: str,
        risk: Risk,
        undoable: bool = False,
        view: View | None = None,
        examples: list[tuple[str, JSONDict]] | None = None,
        plugin: str = "builtin",
        preview: Implementation | None = None,
        phrasings: list[tuple[str, str]] | None = None,
        taints: tuple[str, ...] = (),
        target_args: tuple[str, ...] = (),
        relocates: bool = False,
        on_directory: str = "",
        names_existing: tuple[str, str] | None = None,
    ) -> Callable[[Implementation], Implementation]:
        """Decorator: register the decorated function as the implementation of ``name``."""

        def deco(fn: Implementation) -> Implementation:
            self.add(
                SyscallSpec(
                    name=name,
                    doc=doc,
                    args_schema=args,
                    result_schema=result,
                    capability=capability,
                    risk=risk,
                    undoable=undoable,
                    impl=fn,
                    path_args=S.path_fields(args),
                    new_paths=S.new_path_fields(args),
                    pid_args=S.pid_fields(args),
                    view=view or View(),
                    examples=tuple(Example(i, a) for i, a in (examples or [])),
                    plugin=plugin,
                    preview=preview,
                    phrasings=tuple(phrasings or ()),
                    taints=taints,
                    target_args=target_args,
                    relocates=relocates,
                    on_directory=on_directory,
                    names_existing=names_existing,
                )
            )
            return fn

        return deco

    def add_phrasings(self, name: str, phrasings: list[tuple[str, str]]) -> None:
        """Attach more phrasing templates (request, plan) to the registered call ``name``."""
        spec = self.get(name)
        self._specs[name] = replace(spec, phrasings=spec.phrasings + tuple(phrasings))

    def get(self, name: str) -> SyscallSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise InvalidRequest(
                f"unknown call {name!r}",
                call=name,
                field="call",
                hint="use one of: " + ", ".join(sorted(self._specs)),
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[SyscallSpec]:
        return iter(sorted(self._specs.values(), key=lambda s: s.name))

    def __len__(self) -> int:
        return len(self._specs)

    def names(self) -> list[str]:
        return sorted(self._specs)

    def reads_only(self, calls: Iterable[str]) -> bool:
        """Whether every one of ``calls`` is a known call that only reads (``Risk.READ``)."""
        return all(c in self._specs and self._specs[c].risk is Risk.READ for c in calls)

    def json_schema(self, name: str | None = None) -> JSONDict:
        """The request schema of one call, or of any call (``oneOf``) when ``name`` is None."""
        if name is not None:
            return self.get(name).json_schema()
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "nlshell syscall request",
            "oneOf": [spec.json_schema() for spec in self],
        }


def load_builtins(registry: Registry) -> None:
    from syscalls.builtin import register_all

    register_all(registry)


def load_plugins(registry: Registry, group: str = "nlshell.syscalls") -> list[str]:
    """Load plugin packages from the entry-point group; a broken one is reported and skipped."""
    from importlib.metadata import entry_points

    loaded: list[str] = []
    for ep in entry_points(group=group):
        before = dict(registry._specs)
        try:
            register: Any = ep.load()
            register(registry)
        except Exception as exc:  # a plugin must never take nlshell down
            registry._specs = before
            registry.plugin_errors.append((ep.name, f"{type(exc).__name__}: {exc}"))
            continue
        loaded.append(ep.name)
    return loaded


_default: Registry | None = None


def default_registry(*, plugins: bool = True) -> Registry:
    """The process-wide registry: built-ins, then installed plugins."""
    global _default
    if _default is None:
        reg = Registry()
        load_builtins(reg)
        if plugins:
            load_plugins(reg)
        _default = reg
    return _default
