"""nlshell's model path: intent → validated plan of syscall requests.

Imports stay light: ``llama_cpp`` is only imported when a real backend loads, and the planners (with the
syscall layer they validate against) when first named, so a model can start loading in a thread before
they are imported (``nlshell.session_factory.BackendLoad``).
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

from models.backend import Backend, Completion, TokenCallback, is_url
from models.errors import ModelError, ModelLoadError, ModelOutputError, PlanningError, Unsupported

if TYPE_CHECKING:
    from models.plan import Plan, PlanStep
    from models.planner import Planner

_LAZY = {"Plan": "models.plan", "PlanStep": "models.plan", "Planner": "models.planner"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'models' has no attribute {name!r}")

PLANNERS = ("auto", "v1", "v2", "shots")


def planner_kind(kind: str | None = None) -> str:
    """``kind``, else ``NLSH_PLANNER``, else ``auto``; one of ``PLANNERS``."""
    import os

    kind = kind or os.environ.get("NLSH_PLANNER") or "auto"
    if kind not in PLANNERS:
        raise ValueError(f"unknown planner {kind!r}: use one of {', '.join(PLANNERS)}")
    return kind


def load_backend(spec: str | None = None, *, threads: int | None = None, timeout_s: float = 60.0,
                 retries: int = 2, planner: str | None = None) -> Backend:
    """A backend for ``spec``: a bundled name, a ``.gguf`` path, an OpenAI-compatible server URL,
    or None for the default.  The bundled model comes with its planner adapter unless ``planner`` is
    ``v1`` (the retrieval planner drives the base model)."""
    if spec and is_url(spec):
        from models.openai_server import load_openai_backend

        return load_openai_backend(spec, timeout_s=timeout_s, retries=retries)
    from models.llama import LlamaBackend
    from models.profiles import resolve

    return LlamaBackend(resolve(spec, threads=threads, adapter=planner_kind(planner) in ("auto", "v2")))


def import_backend(spec: str | None = None) -> None:
    """Import what loading ``spec`` needs.  That part of a load is Python and holds the GIL; the rest (reading
    the weights, building the contexts) is mostly C that releases it, so a caller that imports first and
    then loads in a thread overlaps the load with its own imports (``nlshell.session_factory.BackendLoad``).
    A module that is missing is left for the load to report."""
    if spec and is_url(spec):
        importlib.import_module("models.openai_server")
        return
    try:
        importlib.import_module("models.llama").bindings()
    except ImportError:
        pass


def _auto_kind(backend: Backend) -> str:
    """``v2`` for a model carrying the planner adapter; ``shots`` (the same plan text, learnt from retrieved
    examples in the prompt) for a remote server, whose model is unknown and may be large; else ``v1``
    (retrieval, the model choosing the call, code filling the arguments), which a small base model follows
    better than examples (NL2Bash dev rows, bundled SmolLM2 without the adapter: v1 11/37, shots 4/37)."""
    if getattr(getattr(backend, "profile", None), "adapter", None) is not None:
        return "v2"
    # a server backend's module is imported by whoever made it; a local load need not import its HTTP client
    server = sys.modules.get("models.openai_server")
    return "shots" if server is not None and isinstance(backend, server.OpenAIServerBackend) else "v1"


def make_planner(backend: Backend, registry: Any, kind: str | None = None) -> Any:
    """The planner for ``backend`` (``kind``, else ``NLSH_PLANNER``, else ``auto``: see ``_auto_kind``)."""
    kind = planner_kind(kind)
    if kind == "auto":
        kind = _auto_kind(backend)
    if kind in ("v2", "shots"):
        from models.planner_v2 import DEFAULT_SHOTS, TrainedPlanner

        return TrainedPlanner(backend, registry, shots=DEFAULT_SHOTS if kind == "shots" else 0)
    from models.planner import Planner

    return Planner(backend, registry)


__all__ = [
    "PLANNERS",
    "Backend",
    "Completion",
    "ModelError",
    "ModelLoadError",
    "ModelOutputError",
    "Plan",
    "PlanStep",
    "Planner",
    "PlanningError",
    "TokenCallback",
    "Unsupported",
    "import_backend",
    "load_backend",
    "make_planner",
    "planner_kind",
]
