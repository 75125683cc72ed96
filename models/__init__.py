"""nlshell's model path: intent → validated plan of syscall requests.

Imports stay light: ``llama_cpp`` is only imported when a real backend loads.
"""

from __future__ import annotations

from models.backend import Backend, Completion, TokenCallback
from models.errors import ModelError, ModelLoadError, ModelOutputError, PlanningError, Unsupported
from models.plan import Plan, PlanStep
from models.planner import Planner


def load_backend(spec: str | None = None, *, threads: int | None = None, timeout_s: float = 60.0,
                 retries: int = 2) -> Backend:
    """A backend for ``spec``: a bundled name, a ``.gguf`` path, an OpenAI-compatible server URL,
    or None for the default."""
    from models.openai_server import is_url, load_openai_backend

    if spec and is_url(spec):
        return load_openai_backend(spec, timeout_s=timeout_s, retries=retries)
    from models.llama import LlamaBackend
    from models.profiles import resolve

    return LlamaBackend(resolve(spec, threads=threads))


__all__ = [
    "Backend", "Completion", "ModelError", "ModelLoadError", "ModelOutputError", "Plan", "PlanStep",
    "Planner", "PlanningError", "TokenCallback", "Unsupported", "load_backend",
]
