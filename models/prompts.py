"""The prompt builder (pure; tested as strings).

Layout, so that the static part can be evaluated once and its KV state reused::

    <static prefix: instructions + the call list>      never changes per intent
    <retrieved examples, nearest last>
    [Previous: <call>]                                 only for follow-ups
    Request: <intent>
    Call:                                              ← the model picks a call (grammar)
    Args: {...}                                        ← one line per step (grammar)

``completion`` is plain text; ``chatml`` wraps the same content in a
SmolLM2-style chat turn (measured against ``completion`` in the benchmark).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from models.examples import Bank, Shot
from syscalls.registry import Registry
from syscalls.types import JSONDict

INSTRUCTIONS = (
    "Translate each request into nlshell calls. A call is a name and JSON arguments. "
    "Copy file names, paths and words from the request; use \".\" for the current directory. "
    "\"$0.path\" means the path of each row of step 0; \"$prev.path\" each row of the previous result. "
    "If no call can do it, use answer with supported false.\n"
)


def dumps(args: JSONDict) -> str:
    return json.dumps(args, ensure_ascii=False)


def prefix_shots(bank: Bank, registry: Registry, per_call: int = 1) -> list[Shot]:
    """The fixed examples of the static prefix: ``per_call`` per call, then the multi-step plans and refusals."""
    out: list[Shot] = []
    seen: dict[str, int] = {}
    for shot in bank.shots:
        if shot.previous is not None:
            continue
        multi = "+" in shot.label
        if shot.label == "answer" and shot.steps[0][1].get("supported", True) is not False:
            continue
        if not multi and shot.label != "answer" and seen.get(shot.label, 0) >= per_call:
            continue
        if multi and seen.get(shot.label, 0) >= 1:
            continue
        seen[shot.label] = seen.get(shot.label, 0) + 1
        out.append(shot)
    return out


def static_prefix(registry: Registry, *, fmt: str = "completion", shots: Sequence[Shot] | None = None) -> str:
    """The part of every prompt that never changes: instructions and the call list, or a fixed example block."""
    lines = [INSTRUCTIONS]
    if shots is None:
        lines.append("Calls:")
        for spec in registry:
            lines.append(f"- {spec.name}: {spec.doc}")
        body = "\n".join(lines) + "\n\n"
    else:
        body = "\n".join(lines) + "\n" + "".join(render_shot(s) for s in shots)
    if fmt == "chatml":
        return "<|im_start|>system\n" + body + "<|im_end|>\n<|im_start|>user\n"
    return body


def render_shot(shot: Shot) -> str:
    out = f"Previous: {shot.previous}\n" if shot.previous else ""
    out += f"Request: {shot.intent}\nCall: {shot.label}\n"
    for _, args in shot.steps:
        out += f"Args: {dumps(args)}\n"
    return out + "\n"


def query(intent: str, *, previous: str | None = None, fmt: str = "completion") -> str:
    intent = " ".join(intent.split())
    out = f"Previous: {previous}\n" if previous else ""
    out += f"Request: {intent}\nCall:"
    if fmt == "chatml":
        return out.replace("Call:", "<|im_end|>\n<|im_start|>assistant\nCall:")
    return out


def build(prefix: str, shots: Sequence[Shot], intent: str, *, previous: str | None = None,
          fmt: str = "completion") -> str:
    """The full stage-one prompt: ``prefix`` + examples (nearest last) + the request, ending in ``Call:``."""
    return prefix + "".join(render_shot(s) for s in shots) + query(intent, previous=previous, fmt=fmt)
