"""Build the one kernel a front end talks to: model backend + planner + safe dispatcher.

``model`` is a bundled name (``smollm2``, ``gemma3-270m``), a GGUF path, an
OpenAI-compatible server URL, or ``scripted:FILE`` — a JSON list of model
outputs replayed in order, for deterministic end-to-end tests and demos of a
front end without a model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from models.backend import Backend
from models.errors import ModelLoadError
from nlshell.kernel import Kernel


def open_backend(model: str | None = None, *, profile: str | None = None,
                 threads: int | None = None) -> Backend:
    if model and model.startswith("scripted:"):
        from models.scripted import ScriptedBackend

        path = Path(model.removeprefix("scripted:"))
        try:
            outputs = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelLoadError(f"cannot read scripted outputs: {exc}", path=str(path),
                                 hint="give a JSON list of strings") from exc
        if not isinstance(outputs, list) or not all(isinstance(o, str) for o in outputs):
            raise ModelLoadError("scripted outputs must be a JSON list of strings", path=str(path),
                                 hint="give a JSON list of strings")
        return ScriptedBackend(name=f"scripted:{path.name}").enqueue(*outputs)
    from models import load_backend

    spec = model if model else profile
    return load_backend(spec, threads=threads)


def open_kernel(model: str | None = None, *, profile: str | None = None, threads: int | None = None,
                **kernel_args: Any) -> Kernel:
    """The kernel with the configured model, the default registry and the safe dispatcher."""
    from models.planner import Planner
    from syscalls.registry import default_registry
    from syscalls.safety import safe_dispatcher

    backend = open_backend(model, profile=profile, threads=threads)
    registry = default_registry()
    planner = Planner(backend, registry)
    scripted = backend.name.startswith("scripted")
    kernel_args.setdefault("warm", not scripted)
    return Kernel(planner, safe_dispatcher(registry), **kernel_args)
