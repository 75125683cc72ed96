"""Build the one kernel a front end talks to: model backend + planner + safe dispatcher.

``model`` is a bundled name (``smollm2``, ``gemma3-270m``), a GGUF path, an
OpenAI-compatible server URL, or ``scripted:FILE`` — a JSON list of model
outputs replayed in order, for deterministic end-to-end tests and demos of a
front end without a model.  What is not given comes from the configuration
file and ``NLSH_*`` variables (``nlsh config show``), ``[storage]`` included: with
``encrypt = true`` the key is had (or made) when the kernel opens, so a wrong
passphrase stops it before anything is planned.
"""

from __future__ import annotations

import functools
import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.backend import Backend
from models.errors import ModelLoadError

if TYPE_CHECKING:
    from nlshell.config import Config
    from nlshell.kernel import Kernel


def open_backend(model: str | None = None, *, profile: str | None = None, threads: int | None = None,
                 timeout_s: float = 60.0, retries: int = 2, planner: str | None = None) -> Backend:
    if model and model.startswith("scripted:"):
        from models.scripted import ScriptedBackend

        # a JSON list of outputs, or {"outputs": [...], "call_prob": 0.4}: the confidence they report
        path = Path(model.removeprefix("scripted:"))
        hint = 'give a JSON list of strings, or {"outputs": [...], "call_prob": 0.5}'
        try:
            spec = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelLoadError(f"cannot read scripted outputs: {exc}", path=str(path), hint=hint) from exc
        outputs = spec.get("outputs") if isinstance(spec, dict) else spec
        call_prob = spec.get("call_prob") if isinstance(spec, dict) else None
        if not isinstance(outputs, list) or not all(isinstance(o, str) for o in outputs) \
                or not (call_prob is None or isinstance(call_prob, (int, float))):
            raise ModelLoadError("scripted outputs must be a JSON list of strings (and call_prob a number)",
                                 path=str(path), hint=hint)
        return ScriptedBackend(name=f"scripted:{path.name}", call_prob=call_prob).enqueue(*outputs)
    from models import load_backend

    return load_backend(model or profile, threads=threads, timeout_s=timeout_s, retries=retries, planner=planner)


class BackendLoad:
    """A backend loading in a thread from the moment it is asked for.  Its modules are imported first, in
    the caller's thread; the load itself is mostly C code that releases the GIL (reading and mapping the
    weights, building the contexts), so it overlaps the Python imports a front end and the kernel still
    have to do.  ``result()`` waits for it and raises what the load raised."""

    def __init__(self, model: str | None, *, profile: str | None, threads: int | None, config: Config) -> None:
        spec = model or (None if profile else config.model_spec)
        if not (spec or "").startswith("scripted:"):
            from models import import_backend

            import_backend(spec)  # here: the thread below starts with the part that releases the GIL
        self._open = functools.partial(open_backend, spec, profile=profile, threads=threads or config.threads or None,
                                       timeout_s=config.backend.timeout_s, retries=config.backend.retries,
                                       planner=config.planner)
        self._backend: Backend | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._load, name="nlsh-model-load", daemon=True)
        self._thread.start()

    def _load(self) -> None:
        try:
            self._backend = self._open()
        except BaseException as exc:  # handed to the thread that waits in result()
            self._error = exc

    def result(self) -> Backend:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._backend is not None
        return self._backend


def open_kernel(model: str | None = None, *, profile: str | None = None, threads: int | None = None,
                config: Config | None = None, once: bool = False, **kernel_args: Any) -> Kernel:
    """The kernel with the configured model, the default registry and the safe dispatcher.  ``once``: it
    will plan a single intent (the one-shot CLI), so a warm-up that saves that plan nothing is left out.
    The backend loads in a thread while the kernel's own modules are imported."""
    from nlshell.config import load_config, use_for_storage
    from syscalls.storage import Storage, StorageSettings

    cfg = config or load_config()
    use_for_storage()
    storage = Storage(settings=StorageSettings(encrypt=cfg.storage.encrypt, key=cfg.storage.key))
    if storage.encrypt:
        storage.unlock(create=True)  # before the model loads: a wrong passphrase stops here
    loading = BackendLoad(model, profile=profile, threads=threads, config=cfg)

    from models import make_planner
    from nlshell.kernel import Kernel
    from syscalls.registry import default_registry
    from syscalls.safety import safe_dispatcher

    registry = default_registry()
    dispatcher = safe_dispatcher(registry, policy=cfg.policy or None, storage=storage)
    backend = loading.result()
    planner = make_planner(backend, registry, cfg.planner)
    # A warm-up is one tiny plan that loads the grammar: it pays for a session, but for a single plan
    # (``once``) it is a second plan before the first.
    warm = not backend.name.startswith("scripted") and not once
    kernel_args.setdefault("warm", warm)
    return Kernel(planner, dispatcher, **kernel_args)
