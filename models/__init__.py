"""nlshell's model path: intent → validated plan of syscall requests.

Imports stay light: ``llama_cpp`` is only imported when a real backend loads.
"""

from __future__ import annotations

from models.backend import Backend, Completion, TokenCallback
from models.errors import ModelError, ModelLoadError, ModelOutputError, PlanningError, Unsupported
from models.plan import Plan, PlanStep
from models.planner import Planner


def load_backend(spec: str | None = None, *, threads: int | None = None) -> Backend:
    """A backend for ``spec``: a bundled name, a ``.gguf`` path, or None for the default."""
    if spec and spec.startswith(("http://", "https://")):
        raise ModelLoadError("remote (OpenAI-compatible) model servers are not supported yet", path=spec,
                             hint="use a bundled model (smollm2, gemma3-270m) or a local .gguf file")
    from models.llama import LlamaBackend
    from models.profiles import resolve

    return LlamaBackend(resolve(spec, threads=threads))


__all__ = [
    "Backend", "Completion", "ModelError", "ModelLoadError", "ModelOutputError", "Plan", "PlanStep",
    "Planner", "PlanningError", "TokenCallback", "Unsupported", "load_backend",
]
