"""nlshell's model path: intent → validated plan of syscall requests.

Imports stay light: ``llama_cpp`` is only imported when a real backend loads.
"""

from __future__ import annotations

from typing import Any

from models.backend import Backend, Completion, TokenCallback
from models.errors import ModelError, ModelLoadError, ModelOutputError, PlanningError, Unsupported
from models.plan import Plan, PlanStep
from models.planner import Planner

PLANNERS = ("auto", "v1", "v2")


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
    from models.openai_server import is_url, load_openai_backend

    if spec and is_url(spec):
        return load_openai_backend(spec, timeout_s=timeout_s, retries=retries)
    from models.llama import LlamaBackend
    from models.profiles import resolve

    return LlamaBackend(resolve(spec, threads=threads, adapter=planner_kind(planner) != "v1"))


def make_planner(backend: Backend, registry: Any, kind: str | None = None) -> Any:
    """The planner for ``backend``: ``v2`` (the trained planner) when asked or when the backend carries the
    planner adapter (``auto``), else ``v1`` (retrieval + grammar over the base model)."""
    kind = planner_kind(kind)
    if kind == "auto":
        profile = getattr(backend, "profile", None)
        kind = "v2" if getattr(profile, "adapter", None) is not None else "v1"
    if kind == "v2":
        from models.planner_v2 import TrainedPlanner

        return TrainedPlanner(backend, registry)
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
    "load_backend",
    "make_planner",
    "planner_kind",
]
