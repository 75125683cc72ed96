"""In-process llama.cpp backend (the only module that imports ``llama_cpp``).

``llama_cpp`` is imported lazily so that importing nlshell (``nlsh --help``)
stays fast.  Decoding is greedy; grammars are compiled once and cached.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from models.backend import Choice, Completion, TokenCallback
from models.errors import ModelLoadError, ModelOutputError
from models.profiles import Profile


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence llama.cpp's C-level logging written straight to fd 2."""
    try:
        fd = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(fd, 2)
        os.close(fd)


def _silence_logging(llama_cpp: Any) -> None:
    try:
        cb_type = llama_cpp.llama_log_callback

        @cb_type  # type: ignore[untyped-decorator,misc]
        def _log(level: int, text: bytes, user_data: Any) -> None:
            return None

        llama_cpp.llama_log_set(_log, None)
        _silence_logging.keep = _log  # type: ignore[attr-defined]  # keep the ctypes callback alive
    except AttributeError:
        pass


class LlamaBackend:
    """A ``Backend`` over llama-cpp-python's ``Llama``."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.name = profile.name
        self.n_ctx = profile.n_ctx
        path = profile.path()
        try:
            import llama_cpp
        except ImportError as exc:
            raise ModelLoadError("llama-cpp-python is not installed", path=str(path),
                                 hint="pip install 'llama-cpp-python>=0.3.36'") from exc
        self._llama_cpp: Any = llama_cpp
        _silence_logging(llama_cpp)
        lora: dict[str, Any] = {"lora_path": str(profile.adapter)} if profile.adapter is not None else {}
        try:
            with _quiet_stderr():
                self.llm = llama_cpp.Llama(
                    model_path=str(path),
                    n_ctx=profile.n_ctx,
                    n_threads=profile.n_threads,
                    n_threads_batch=profile.n_threads,
                    n_batch=profile.n_batch,
                    use_mmap=profile.use_mmap,
                    n_gpu_layers=profile.n_gpu_layers,
                    verbose=False,
                    **lora,
                )
        except (ValueError, OSError, RuntimeError) as exc:
            raise ModelLoadError(f"llama.cpp could not load the model: {exc}", path=str(path),
                                 hint="check that the file is a complete GGUF model") from exc
        self.path = path
        self._grammars: dict[str, Any] = {}

    def grammar(self, text: str) -> Any:
        g = self._grammars.get(text)
        if g is None:
            try:
                with _quiet_stderr():
                    g = self._llama_cpp.LlamaGrammar.from_string(text, verbose=False)
            except (ValueError, RuntimeError) as exc:
                raise ModelOutputError(f"the grammar does not compile: {exc}", raw=text[:500],
                                       hint="this is a bug in the grammar builder") from exc
            if len(self._grammars) > 256:
                self._grammars.clear()
            self._grammars[text] = g
        return g

    def complete(
        self,
        prompt: str,
        *,
        grammar: str | None = None,
        max_tokens: int = 256,
        stop: list[str] | None = None,
        on_token: TokenCallback | None = None,
    ) -> Completion:
        start = time.perf_counter()
        tokens = self.tokenize(prompt)
        cached = self._prefix_len(tokens)
        kwargs: dict[str, Any] = {
            "max_tokens": max_tokens,
            "temperature": 0.0,
            "top_k": 1,
            "repeat_penalty": 1.0,
            "stop": stop or [],
            "stream": True,
        }
        if grammar is not None:
            kwargs["grammar"] = self.grammar(grammar)
        text = ""
        first: float | None = None
        stopped = "stop"
        n = 0
        try:
            with _quiet_stderr():
                stream: Any = self.llm.create_completion(tokens, **kwargs)
                for chunk in stream:
                    choice: dict[str, Any] = chunk["choices"][0]
                    piece = choice.get("text", "")
                    if first is None:
                        first = time.perf_counter()
                    if piece:
                        n += 1
                        text += piece
                        if on_token is not None and on_token(piece) is False:
                            stopped = "cancelled"
                            break
                    if choice.get("finish_reason") == "length":
                        stopped = "length"
        except (RuntimeError, ValueError) as exc:
            raise ModelOutputError(f"llama.cpp failed while decoding: {exc}", raw=text) from exc
        end = time.perf_counter()
        return Completion(text=text, prompt_tokens=len(tokens), completion_tokens=n,
                          prompt_s=(first or end) - start, total_s=end - start,
                          cached_tokens=cached, stopped=stopped)

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
        import numpy as np

        start = time.perf_counter()
        tokens = self.tokenize(prompt)
        cached = self._prefix_len(tokens)
        llm: Any = self.llm
        eos = llm.token_eos()
        out: list[int] = []
        probs: list[float] = []
        text = b""
        first: float | None = None
        stopped = "length"
        try:
            with _quiet_stderr():
                gen = llm.generate(tokens, temp=0.0, top_k=1, repeat_penalty=1.0,
                                   grammar=self.grammar(grammar) if grammar is not None else None)
                for tok in gen:
                    if first is None:
                        first = time.perf_counter()
                    logits = self._logits().astype(np.float64)
                    p = float(np.exp(logits[tok] - logits.max()) / np.exp(logits - logits.max()).sum())
                    if tok == eos or self._llama_cpp.llama_vocab_is_eog(llm._model.vocab, tok):
                        stopped = "stop"
                        break
                    out.append(tok)
                    probs.append(p)
                    piece = llm.detokenize([tok], prev_tokens=tokens + out[:-1])
                    text += piece
                    if on_token is not None and on_token(piece.decode("utf-8", errors="replace")) is False:
                        stopped = "cancelled"
                        break
                    if len(out) >= max_tokens:
                        break
        except (RuntimeError, ValueError) as exc:
            raise ModelOutputError(f"llama.cpp failed while decoding: {exc}", raw=text.decode(errors="replace")) \
                from exc
        end = time.perf_counter()
        decoded = text.decode("utf-8", errors="replace")
        name_len = len(re.split(r"[ \n]", decoded, maxsplit=1)[0].encode())
        seen, name_probs = 0, []
        for tok, p in zip(out, probs, strict=True):
            if seen >= name_len:
                break
            name_probs.append(p)
            seen += len(llm.detokenize([tok]))
        call_prob = min(name_probs) if name_probs else None
        return Completion(text=decoded, prompt_tokens=len(tokens), completion_tokens=len(out),
                          prompt_s=(first or end) - start, total_s=end - start, cached_tokens=cached,
                          stopped=stopped, extra={"token_probs": probs, "call_prob": call_prob})

    def _eval_to(self, tokens: list[int]) -> None:
        """Evaluate ``tokens``, reusing the cached prefix; the last token's logits are then current."""
        llm = self.llm
        keep = min(self._prefix_len(tokens), len(tokens) - 1)
        llm.n_tokens = keep
        llm.eval(tokens[keep:])

    def _logits(self) -> Any:
        import numpy as np

        ctx: Any = self.llm._ctx
        return np.ctypeslib.as_array(ctx.get_logits(), shape=(self.llm.n_vocab(),))

    def choose(self, prompt: str, options: list[str]) -> Choice:
        """The option the model prefers after ``prompt`` (greedy over a token trie of the options).

        ``prob`` is the product, over the branch points, of the chosen token's
        probability among the tokens the remaining options allow: a confidence
        that the model preferred this option to the others offered.
        """
        import numpy as np

        if not options:
            raise ValueError("choose needs at least one option")
        start = time.perf_counter()
        base = self.tokenize(prompt)
        seqs: list[list[int]] = []
        for opt in options:
            full = self.tokenize(prompt + opt)
            seqs.append(full[len(base):] if full[: len(base)] == base else
                        list(self.llm.tokenize(opt.encode("utf-8"), add_bos=False, special=False)))
        cached = self._prefix_len(base)
        try:
            with _quiet_stderr():
                self._eval_to(base)
                alive = list(range(len(options)))
                pos, prob, pending = 0, 1.0, []
                while len(alive) > 1:
                    nxt = {seqs[i][pos] for i in alive if pos < len(seqs[i])}
                    ended = [i for i in alive if pos >= len(seqs[i])]
                    if ended:  # an option that is a prefix of another: keep the shorter one
                        alive = ended[:1]
                        break
                    if len(nxt) == 1:
                        pending.append(seqs[alive[0]][pos])
                        pos += 1
                        continue
                    if pending:
                        self.llm.eval(pending)
                        pending = []
                    logits = self._logits()
                    toks = sorted(nxt)
                    vals = np.array([logits[t] for t in toks], dtype=np.float64)
                    p = np.exp(vals - vals.max())
                    p /= p.sum()
                    best = int(np.argmax(p))
                    prob *= float(p[best])
                    tok = toks[best]
                    alive = [i for i in alive if seqs[i][pos] == tok]
                    pending.append(tok)
                    pos += 1
                if pending:
                    self.llm.eval(pending)
        except (RuntimeError, ValueError) as exc:
            raise ModelOutputError(f"llama.cpp failed while choosing: {exc}", raw=prompt[-200:]) from exc
        end = time.perf_counter()
        return Choice(text=options[alive[0]], prob=prob, prompt_tokens=len(base), cached_tokens=cached,
                      total_s=end - start)

    def model_key(self) -> str:
        """A short key of the model file (size, name and its first and last MiB) and the context settings."""
        h = hashlib.sha256()
        st = self.path.stat()
        h.update(f"{self.path.name}:{st.st_size}:{self.n_ctx}:{self._llama_cpp.__version__}".encode())
        with open(self.path, "rb") as f:
            h.update(f.read(1 << 20))
            f.seek(max(0, st.st_size - (1 << 20)))
            h.update(f.read(1 << 20))
        return h.hexdigest()[:16]

    def warm_prefix(self, prefix: str, cache: Path | None) -> bool:
        """Make ``prefix`` the evaluated context: from the persisted state in ``cache`` when one matches
        (model key + prefix hash), else by evaluating it and saving the state there.  True when loaded."""
        tokens = self.tokenize(prefix)
        target: Path | None = None
        if cache is not None:
            key = hashlib.sha256(prefix.encode("utf-8")).hexdigest()[:16]
            target = cache / f"prefix-{self.model_key()}-{key}.state"
            if target.is_file():
                try:
                    with open(target, "rb") as f:
                        state = pickle.load(f)
                    self.llm.load_state(state)
                    if self._prefix_len(tokens) == len(tokens):
                        return True
                except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError, RuntimeError):
                    pass  # a stale or damaged file: evaluate and overwrite it
        llm: Any = self.llm
        llm.reset()
        with _quiet_stderr():
            self.llm.eval(tokens)
        if target is not None:
            with contextlib.suppress(OSError):
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_suffix(f".tmp{os.getpid()}")
                with open(tmp, "wb") as f:
                    pickle.dump(self.llm.save_state(), f, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, target)
        return False

    def _prefix_len(self, tokens: list[int]) -> int:
        n = 0
        for a, b in zip(self.llm._input_ids[: self.llm.n_tokens], tokens, strict=False):
            if a != b:
                break
            n += 1
        return n

    def tokenize(self, text: str) -> list[int]:
        return list(self.llm.tokenize(text.encode("utf-8"), add_bos=True, special=True))

    def save_state(self) -> Any:
        return self.llm.save_state()

    def load_state(self, state: Any) -> None:
        self.llm.load_state(state)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.llm.close()
