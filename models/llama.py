"""In-process llama.cpp backend (the only module that imports ``llama_cpp``).

``llama_cpp`` is imported lazily so that importing nlshell (``nlsh --help``)
stays fast.  The model is loaded once; every generation runs on a
``models.sequences.SequenceEngine`` over it: each session (``models.backend.SEQUENCE``)
is a llama.cpp sequence of one shared context, so sessions keep their cells
between requests, share a common prompt prefix, and decode together in one
batch when several generate at once.  Decoding is greedy.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import re
import sys
import time
from dataclasses import dataclass
from typing import Any

from models.backend import PRIORITY, SEQUENCE, Completion, TokenCallback
from models.errors import ModelLoadError, ModelOutputError
from models.profiles import Profile, default_threads
from models.sequences import EngineError, SequenceEngine, Stream


def _silence_logging(llama_cpp: Any) -> None:
    """llama.cpp's (and ggml's) log lines go to a callback that drops them.  Nothing else is silenced:
    fd 2 is the process's, and the TUI draws on it while the model loads and plans."""
    try:
        cb_type = llama_cpp.llama_log_callback

        @cb_type  # type: ignore[untyped-decorator,misc]
        def _log(level: int, text: bytes, user_data: Any) -> None:
            return None

        llama_cpp.llama_log_set(_log, None)
        _silence_logging.keep = _log  # type: ignore[attr-defined]  # keep the ctypes callback alive
    except AttributeError:
        pass


@dataclass(frozen=True)
class SeqState:
    """A session's saved state: its tokens and llama.cpp's per-sequence state of them."""

    key: str
    tokens: tuple[int, ...]
    data: bytes

    @property
    def nbytes(self) -> int:
        return len(self.data)


def bindings() -> Any:
    """llama.cpp's C bindings (``llama_cpp.llama_cpp``), without running the package's ``__init__`` yet.

    The package's ``__init__`` also imports its high-level layer (``Llama``, chat formats: numpy, jinja2,
    diskcache), which nlshell does not use: the bindings alone make a cold one-shot shorter
    (``bench/bench_planner.py --cold``).  The package module is put in place unexecuted, and runs its
    ``__init__`` the first time anything asks it for a name it lacks (``llama_cpp.Llama`` in a test or a
    benchmark), so other code sees the whole package as usual.
    """
    loaded = sys.modules.get("llama_cpp.llama_cpp")
    if loaded is not None:
        return loaded
    if "llama_cpp" not in sys.modules:
        spec = importlib.util.find_spec("llama_cpp")
        if spec is None or spec.loader is None or not spec.submodule_search_locations:
            raise ImportError("no llama_cpp package")
        package = importlib.util.module_from_spec(spec)
        loader = spec.loader

        def rest(name: str) -> Any:
            del package.__getattr__
            loader.exec_module(package)
            return package.__dict__[name] if name in package.__dict__ else \
                object.__getattribute__(package, name)

        package.__getattr__ = rest  # type: ignore[method-assign]
        sys.modules["llama_cpp"] = package
    return importlib.import_module("llama_cpp.llama_cpp")


@functools.cache
def _backend_init(C: Any) -> None:
    """llama.cpp's one-time initialisation, once per process."""
    C.llama_backend_init()


class LlamaBackend:
    """A ``Backend`` over llama.cpp: the model (and its LoRA adapter) loaded through the C bindings, generations on a
    ``SequenceEngine`` with ``profile.sequences`` sessions (``parallel`` generations at once)."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.name = profile.name
        self.n_ctx = profile.n_ctx
        path = profile.path()
        try:
            C = bindings()
        except ImportError as exc:
            raise ModelLoadError("llama-cpp-python is not installed", path=str(path),
                                 hint="pip install 'llama-cpp-python>=0.3.36'") from exc
        self._llama_cpp: Any = C
        _silence_logging(C)
        self.parallel = max(1, profile.sequences)
        self.n_threads = profile.n_threads or default_threads()
        self.path = path
        self._adapter: Any = None
        _backend_init(C)
        params = C.llama_model_default_params()
        params.n_gpu_layers = profile.n_gpu_layers
        params.use_mmap = profile.use_mmap
        self._model: Any = C.llama_model_load_from_file(str(path).encode(), params) if path.is_file() else None
        if not self._model:
            raise ModelLoadError("llama.cpp could not load the model", path=str(path),
                                 hint="check that the file is a complete GGUF model")
        self._vocab: Any = C.llama_model_get_vocab(self._model)
        try:
            if profile.adapter is not None:
                self._adapter = C.llama_adapter_lora_init(self._model, str(profile.adapter).encode())
                if not self._adapter:
                    raise ModelLoadError("llama.cpp could not load the LoRA adapter", path=str(profile.adapter),
                                         hint="the adapter must be a GGUF LoRA made for this model")
            self.engine = SequenceEngine(C, self._model, self._vocab, n_ctx=profile.n_ctx,
                                         n_seq=self.parallel + 1, n_batch=profile.n_batch,
                                         n_threads=self.n_threads, adapter=self._adapter)
        except EngineError as exc:
            self._free()
            raise ModelLoadError(f"llama.cpp could not load the model: {exc}", path=str(path),
                                 hint="check that the file is a complete GGUF model") from exc
        except BaseException:
            self._free()
            raise
        self._eos = int(C.llama_vocab_eos(self._vocab))

    # -- generation -----------------------------------------------------------------
    def _stream(self, prompt: str, grammar: str | None, max_tokens: int, want_probs: bool,
                on_piece: Any) -> Stream:
        tokens = self.tokenize(prompt)
        stream = Stream(key=SEQUENCE.get(), prompt=tokens, max_tokens=max_tokens, grammar=grammar,
                        on_token=on_piece, priority=PRIORITY.get(), want_probs=want_probs)
        try:
            return self.engine.generate(stream)
        except EngineError as exc:
            raise ModelOutputError(f"llama.cpp failed while decoding: {exc}", raw=prompt[-200:],
                                   hint="a grammar that does not parse is a bug in nlshell; a full "
                                        "context: shorten the request") from exc

    @staticmethod
    def _completion(s: Stream, text: str, stopped: str) -> Completion:
        end = time.perf_counter()
        return Completion(text=text, prompt_tokens=len(s.prompt), completion_tokens=len(s.out),
                          prompt_s=(s.first_token_s or end) - s.started, total_s=end - s.started,
                          cached_tokens=s.reused, stopped=stopped)

    def complete(
        self,
        prompt: str,
        *,
        grammar: str | None = None,
        max_tokens: int = 256,
        stop: list[str] | None = None,
        on_token: TokenCallback | None = None,
    ) -> Completion:
        """Greedy completion of ``prompt`` (under ``grammar``), ending at the end-of-text token, at one of
        ``stop`` (cut there) or after ``max_tokens``."""
        raw = b""
        why = ""

        def piece(_tok: int, data: bytes) -> bool:
            nonlocal raw, why
            raw += data
            if stop and any(x in raw.decode("utf-8", errors="ignore") for x in stop):
                why = "stop"
                return False
            if on_token is not None and on_token(data.decode("utf-8", errors="replace")) is False:
                why = "cancelled"
                return False
            return True

        s = self._stream(prompt, grammar, max_tokens, False, piece)
        text = raw.decode("utf-8", errors="replace")
        if why == "stop" and stop:
            cut = min(i for i in (text.find(x) for x in stop) if i >= 0)
            text = text[:cut]
        return self._completion(s, text, why or s.stopped)

    def generate(
        self,
        prompt: str,
        *,
        grammar: str | None = None,
        max_tokens: int = 256,
        on_token: TokenCallback | None = None,
    ) -> Completion:
        """Greedy completion of ``prompt`` up to the end-of-text token, with the model's own probability
        (softmax of its logits, before the grammar's mask) of each token it wrote.

        ``extra["token_probs"]`` lists them; ``extra["call_prob"]`` is the lowest over the first word
        written (the call's name), the confidence of a plan.
        """
        pieces: list[bytes] = []

        def piece(_tok: int, data: bytes) -> bool:
            pieces.append(data)
            return on_token is None or on_token(data.decode("utf-8", errors="replace")) is not False

        s = self._stream(prompt, grammar, max_tokens, True, piece)
        decoded = b"".join(pieces).decode("utf-8", errors="replace")
        name_len = len(re.split(r"[ \n]", decoded, maxsplit=1)[0].encode())
        seen, name_probs = 0, []
        for data, p in zip(pieces, s.probs, strict=False):
            if seen >= name_len:
                break
            name_probs.append(p)
            seen += len(data)
        comp = self._completion(s, decoded, s.stopped)
        comp.extra = {"token_probs": list(s.probs), "call_prob": min(name_probs) if name_probs else None}
        return comp

    # -- states ---------------------------------------------------------------------------
    def _save(self, key: str) -> SeqState:
        eng = self.engine
        tokens, data = eng.run(lambda: eng.state(key))
        return SeqState(key, tuple(tokens), data)

    def tokenize(self, text: str) -> list[int]:
        return self._tokens(text.encode("utf-8"), add_bos=True, special=True)

    def _tokens(self, data: bytes, *, add_bos: bool, special: bool) -> list[int]:
        C = self._llama_cpp
        room = len(data) + 2
        for _ in range(2):
            out = (C.llama_token * room)()
            n = int(C.llama_tokenize(self._vocab, data, len(data), out, room, add_bos, special))
            if n >= 0:
                return list(out[:n])
            room = -n
        raise ModelOutputError("llama.cpp could not tokenize the text", raw=data[:200].decode("utf-8", "replace"),
                               hint="a bug: please report it with the request")

    def save_state(self) -> Any:
        """The current session's cells (``SEQUENCE``) as a per-sequence state sized by its tokens."""
        key = SEQUENCE.get()
        if key not in self.engine.run(self.engine.keys_held):
            return SeqState(key, (), b"")
        return self._save(key)

    def load_state(self, state: Any) -> None:
        """Put a saved session state back into the current session's sequence."""
        if not isinstance(state, SeqState):
            raise TypeError(f"not a state this backend saved: {type(state).__name__}")
        eng = self.engine
        key = SEQUENCE.get()
        if not state.tokens:
            eng.run(lambda: eng.drop(key))
            return
        if not eng.run(lambda: eng.restore(key, list(state.tokens), state.data)):
            raise ModelOutputError("llama.cpp refused a saved session state", raw=key,
                                   hint="the state belongs to another model or context size")

    def sequence_stats(self) -> dict[str, Any]:
        """Sessions held, their tokens and state bytes, the KV bytes a token takes, and engine counters."""
        eng = self.engine

        def read() -> dict[str, dict[str, int]]:
            return {k: {"tokens": eng.tokens_of(k), "state_bytes": eng.state_size(k)} for k in eng.keys_held()}

        return {"sessions": eng.run(read), "kv_bytes_per_token": self.kv_bytes_per_token(),
                "counters": dict(eng.counters)}

    def kv_bytes_per_token(self) -> int:
        """Bytes of K and V cache one token takes (f16 cells): 2 x layers x KV heads x head size x 2."""
        C = self._llama_cpp
        model = self._model
        n_layer = C.llama_model_n_layer(model)
        n_embd = C.llama_model_n_embd(model)
        head = n_embd // C.llama_model_n_head(model)
        return int(2 * n_layer * C.llama_model_n_head_kv(model) * head * 2)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.engine.close()
        self._free()

    def _free(self) -> None:
        C = self._llama_cpp
        if self._adapter:
            C.llama_adapter_lora_free(self._adapter)
            self._adapter = None
        if self._model:
            C.llama_model_free(self._model)
            self._model = None

