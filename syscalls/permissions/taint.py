"""Taint: after untrusted content entered the model's context, a consequential request needs a fresh
approval, unless every argument appears literally in the person's own words."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from syscalls.types import CallContext, Risk, SyscallSpec


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



def is_tainted(spec: SyscallSpec, args: Mapping[str, Any], ctx: CallContext) -> bool:
    """The request needs a fresh approval: untrusted content came first, the call is not a read, and
    some argument is not in the person's own words."""
    return bool(ctx.tainted_by) and spec.risk is not Risk.READ and not all_args_in_intent(args, ctx.intent)
