"""nlshell's model path: intent → validated plan of syscall requests.

Imports stay light: ``llama_cpp`` is only imported when a real backend loads, and the planners (with the
syscall layer they validate against) when first named, so a model can start loading in a thread before
they are imported (``nlshell.session_factory.BackendLoad``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from models.backend import Backend, Completion, TokenCallback, is_url
from models.errors import ModelError, ModelLoadError, ModelOutputError, PlanningError, UnknownPlanner, Unsupported

if TYPE_CHECKING:
    from models.plan import Plan, PlanStep
    from models.planner_v2 import TrainedPlanner

_LAZY = {"Plan": "models.plan", "PlanStep": "models.plan", "TrainedPlanner": "models.planner_v2"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'models' has no attribute {name!r}")

PLANNERS = ("auto", "v2", "shots")
# Planners that were removed, and what to say instead of "unknown".
REMOVED_PLANNERS = {"v1": "the v1 planner (retrieval, the model choosing among labels, code filling the "
                          "arguments) was removed"}


def check_planner(kind: str) -> str:
    """``kind`` when it is one of ``PLANNERS``; else an ``UnknownPlanner`` that says so (and, for ``v1``,
    that it was removed).  The one check for the CLI, ``NLSH_PLANNER`` and the config file."""
    if kind not in PLANNERS:
        raise UnknownPlanner(REMOVED_PLANNERS.get(kind, f"unknown planner {kind!r}"))
    return kind


def planner_kind(kind: str | None = None) -> str:
    """``kind``, else ``NLSH_PLANNER``, else ``auto``; checked (``check_planner``)."""
    import os

    return check_planner(kind or os.environ.get("NLSH_PLANNER") or "auto")


def load_backend(spec: str | None = None, *, threads: int | None = None, timeout_s: float = 60.0,
                 retries: int = 2, planner: str | None = None) -> Backend:
    """A backend for ``spec``: a bundled name, a ``.gguf`` path, an OpenAI-compatible server URL,
    or None for the default.  The bundled model comes with its planner adapter unless ``planner`` is
    ``shots`` (the base model, planning from worked examples)."""
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
    """``v2`` for a model carrying the planner adapter; else ``shots`` (the same plan text, learnt from
    worked examples retrieved into the prompt): a local GGUF without the adapter, a remote server."""
    return "v2" if getattr(getattr(backend, "profile", None), "adapter", None) is not None else "shots"


def make_planner(backend: Backend, registry: Any, kind: str | None = None) -> TrainedPlanner:
    """The planner for ``backend`` (``kind``, else ``NLSH_PLANNER``, else ``auto``: see ``_auto_kind``)."""
    kind = planner_kind(kind)
    if kind == "auto":
        kind = _auto_kind(backend)
    from models.planner_v2 import DEFAULT_SHOTS, TrainedPlanner

    return TrainedPlanner(backend, registry, shots=DEFAULT_SHOTS if kind == "shots" else 0)


__all__ = [
    "PLANNERS",
    "REMOVED_PLANNERS",
    "Backend",
    "Completion",
    "ModelError",
    "ModelLoadError",
    "ModelOutputError",
    "Plan",
    "PlanStep",
    "PlanningError",
    "TokenCallback",
    "TrainedPlanner",
    "UnknownPlanner",
    "Unsupported",
    "check_planner",
    "import_backend",
    "load_backend",
    "make_planner",
    "planner_kind",
]
