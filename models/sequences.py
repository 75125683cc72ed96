"""Sessions as llama.cpp sequences: one context, one KV cache, many ``seq_id``s, batched decoding.

A ``SequenceEngine`` owns one llama.cpp context created over an already loaded
model with ``n_seq_max`` sequences and a unified KV cache, so a cache cell can
belong to several sequences at once.  Each session key maps to a sequence:

* **a switch costs nothing**: a session's tokens stay in its cells between
  requests; serving another session is choosing another ``seq_id``;
* **the shared prefix is evaluated once**: a new prompt first reuses its own
  sequence's cells, then borrows the longest common prefix from any other
  sequence with ``llama_memory_seq_cp`` (in a unified cache that adds the
  sequence to the cells; no data moves) and evaluates only the rest;
* **eviction drops cells** (``llama_memory_seq_rm``) of the least recently
  used idle sequence when a new session needs one, or when the cache is full;
* **batching**: generations of different sequences that run at the same time
  decode together, one ``llama_decode`` per step holding the next token of
  every active sequence of the most urgent priority present (prompt chunks
  of newly admitted ones ride along); less urgent ones wait out of the batch;
* **persistence** uses the per-sequence state API (``llama_state_seq_get_data``),
  sized by the tokens the sequence holds, not by ``n_ctx``.

Every llama.cpp call happens on the engine's own thread.  Other threads call
``generate`` (which blocks until that stream ends and may run alongside other
callers' streams) or ``run`` (a function given exclusive use of the context
between two decode steps).  ``llama_cpp`` is passed in by ``models.llama``.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Called with each token id and its text; False stops the stream.
StreamCallback = Callable[[int, bytes], bool]


class EngineError(RuntimeError):
    """A llama.cpp call of the engine failed (the message names which and why)."""


@dataclass(eq=False)
class Stream:
    """One generation: its prompt, its sampler and what it wrote."""

    key: str
    prompt: list[int]
    max_tokens: int
    grammar: str | None
    on_token: StreamCallback | None
    priority: int = 1
    want_probs: bool = False
    # Filled in by the engine.
    seq: int = -1
    todo: list[int] = field(default_factory=list)  # tokens still to evaluate before the next sample
    reused: int = 0
    out: list[int] = field(default_factory=list)
    probs: list[float] = field(default_factory=list)
    stopped: str = "length"
    first_token_s: float | None = None
    started: float = field(default_factory=time.perf_counter)
    sampler: Any = None
    done: Future[Stream] = field(default_factory=Future)


@dataclass
class SeqInfo:
    """What one sequence's cells hold."""

    tokens: list[int] = field(default_factory=list)
    key: str | None = None
    busy: bool = False


class SequenceEngine:
    """One llama.cpp context with ``n_seq`` sequences in a unified KV cache, and the thread that drives it."""

    def __init__(self, llama_cpp: Any, model: Any, vocab: Any, *, n_ctx: int, n_seq: int, n_batch: int,
                 n_threads: int, adapter: Any = None, adapter_scale: float = 1.0) -> None:
        self.C = llama_cpp
        self.vocab = vocab
        self.model = model
        self.n_seq = n_seq
        self.n_ctx = n_ctx
        self.n_batch = n_batch
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = n_ctx
        params.n_batch = n_batch
        params.n_ubatch = n_batch
        params.n_seq_max = n_seq
        params.kv_unified = True
        params.n_threads = n_threads
        params.n_threads_batch = n_threads
        params.no_perf = True
        # As llama-cpp-python's Llama sets it: the planner adapter's figures were measured this way.
        params.flash_attn_type = llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED
        self.ctx = llama_cpp.llama_init_from_model(model, params)
        if not self.ctx:
            raise EngineError(f"llama.cpp could not create a context of {n_ctx} cells for {n_seq} sequences")
        if adapter is not None:
            adapters = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(adapter)
            scales = (ctypes.c_float * 1)(adapter_scale)
            if llama_cpp.llama_set_adapters_lora(self.ctx, adapters, 1, scales):
                llama_cpp.llama_free(self.ctx)
                raise EngineError("llama.cpp could not apply the LoRA adapter to the sequence context")
        self.mem = llama_cpp.llama_get_memory(self.ctx)
        self.n_vocab = int(llama_cpp.llama_vocab_n_tokens(vocab))
        self.batch = llama_cpp.llama_batch_init(n_batch, 0, 1)
        self.seqs = [SeqInfo() for _ in range(n_seq)]
        self.keys: OrderedDict[str, int] = OrderedDict()  # key -> seq id, least recently used first
        self._templates: dict[str, Any] = {}  # grammar text -> a fresh grammar sampler to clone
        self._cond = threading.Condition()
        self._pending: list[Stream] = []
        self._ops: list[tuple[Callable[[], Any], Future[Any]]] = []
        self._active: list[Stream] = []
        self._closed = False
        self.counters: dict[str, int] = {"decodes": 0, "batched_tokens": 0, "reused_tokens": 0,
                                         "shared_tokens": 0, "evictions": 0, "max_batch_streams": 0,
                                         "left_out": 0}
        self._thread = threading.Thread(target=self._loop, name="nlsh-sequences", daemon=True)
        self._thread.start()

    # -- public, any thread ---------------------------------------------------
    def generate(self, stream: Stream) -> Stream:
        """Run ``stream`` to its end (alongside whatever else runs) and return it filled in."""
        with self._cond:
            if self._closed:
                raise EngineError("the sequence engine is closed")
            self._pending.append(stream)
            self._cond.notify_all()
        return stream.done.result()

    def run(self, fn: Callable[[], Any]) -> Any:
        """Call ``fn`` on the engine's thread with the context to itself; its result (or its exception)."""
        if threading.current_thread() is self._thread:
            return fn()
        fut: Future[Any] = Future()
        with self._cond:
            if self._closed:
                raise EngineError("the sequence engine is closed")
            self._ops.append((fn, fut))
            self._cond.notify_all()
        return fut.result()

    def close(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        self._thread.join()
        for tmpl in self._templates.values():
            self.C.llama_sampler_free(tmpl)
        self._templates.clear()
        self.C.llama_batch_free(self.batch)
        self.C.llama_free(self.ctx)

    # -- engine thread: sequences ------------------------------------------------
    def seq_of(self, key: str) -> int:
        """The sequence that holds ``key``'s session, taking the least recently used idle one if needed."""
        seq = self.keys.get(key)
        if seq is not None:
            self.keys.move_to_end(key)
            return seq
        free = [i for i, s in enumerate(self.seqs) if s.key is None]
        if free:
            seq = free[0]
        else:
            victims = [(k, i) for k, i in self.keys.items() if not self.seqs[i].busy]
            if not victims:
                raise EngineError(f"all {self.n_seq} sequences are busy; none can be given to session {key!r}")
            old, seq = victims[0]
            self.drop(old)
            self.counters["evictions"] += 1
        self.seqs[seq].key = key
        self.keys[key] = seq
        return seq

    def drop(self, key: str) -> None:
        """Forget ``key``'s session: its cells go (those another sequence shares stay for that one)."""
        seq = self.keys.pop(key, None)
        if seq is None:
            return
        self.C.llama_memory_seq_rm(self.mem, seq, -1, -1)
        self.seqs[seq] = SeqInfo()

    def keys_held(self) -> list[str]:
        return list(self.keys)

    def tokens_of(self, key: str) -> int:
        seq = self.keys.get(key)
        return len(self.seqs[seq].tokens) if seq is not None else 0

    def prepare(self, seq: int, tokens: list[int]) -> int:
        """Make ``seq`` hold a prefix of ``tokens`` (own cells first, then borrowed); the tokens reused.

        At least the last token is left to evaluate, so that its logits are current after the next decode.
        """
        info = self.seqs[seq]
        own = _common(info.tokens, tokens)
        best, src = own, seq
        for i, other in enumerate(self.seqs):
            if i != seq and other.tokens:
                n = _common(other.tokens, tokens)
                if n > best:
                    best, src = n, i
        best = min(best, len(tokens) - 1)
        own = min(own, best)
        if src != seq and best > own:
            self.C.llama_memory_seq_rm(self.mem, seq, -1, -1)
            self.C.llama_memory_seq_cp(self.mem, src, seq, 0, best)
            info.tokens = list(tokens[:best])
            self.counters["shared_tokens"] += best
        else:
            best = own
            self.C.llama_memory_seq_rm(self.mem, seq, best, -1)
            del info.tokens[best:]
        self.counters["reused_tokens"] += best
        return best

    def decode(self, items: list[tuple[int, list[int], bool]]) -> list[int]:
        """One ``llama_decode`` of each ``(seq, tokens, want_logits_of_last)``; the batch index of each
        requested logits row (-1 where not requested).  Raises ``EngineError`` when the cache is full."""
        b = self.batch
        n = 0
        rows: list[int] = []
        for seq, toks, want in items:
            info = self.seqs[seq]
            pos0 = len(info.tokens)
            for j, tok in enumerate(toks):
                b.token[n] = tok
                b.pos[n] = pos0 + j
                b.n_seq_id[n] = 1
                b.seq_id[n][0] = seq
                b.logits[n] = 1 if (want and j == len(toks) - 1) else 0
                n += 1
            rows.append(n - 1 if want and toks else -1)
        if n == 0:
            return rows
        b.n_tokens = n
        rc = self.C.llama_decode(self.ctx, b)
        if rc != 0:
            raise EngineError(f"llama_decode returned {rc} for {n} tokens over {len(items)} sequences"
                              + (" (the KV cache is full)" if rc == 1 else ""))
        for seq, toks, _ in items:
            self.seqs[seq].tokens.extend(toks)
        self.counters["decodes"] += 1
        self.counters["batched_tokens"] += n
        return rows

    def logits(self, row: int) -> Any:
        ptr = self.C.llama_get_logits_ith(self.ctx, row)
        return np.ctypeslib.as_array(ptr, shape=(self.n_vocab,))

    def state(self, key: str) -> tuple[list[int], bytes]:
        """The tokens and the per-sequence state bytes of ``key``'s session."""
        seq = self.keys[key]
        size = self.C.llama_state_seq_get_size(self.ctx, seq)
        buf = (ctypes.c_uint8 * size)()
        got = self.C.llama_state_seq_get_data(self.ctx, buf, size, seq)
        return list(self.seqs[seq].tokens), bytes(buf[:got])

    def state_size(self, key: str) -> int:
        seq = self.keys.get(key)
        return int(self.C.llama_state_seq_get_size(self.ctx, seq)) if seq is not None else 0

    def restore(self, key: str, tokens: list[int], data: bytes) -> bool:
        """Load a state from ``state`` into ``key``'s session; False when llama.cpp refuses it."""
        seq = self.seq_of(key)
        self.C.llama_memory_seq_rm(self.mem, seq, -1, -1)
        self.seqs[seq].tokens = []
        buf = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
        if not self.C.llama_state_seq_set_data(self.ctx, buf, len(data), seq):
            return False
        self.seqs[seq].tokens = list(tokens)
        return True

    # -- engine thread: sampling ---------------------------------------------------
    def _sampler(self, grammar: str) -> Any:
        tmpl = self._templates.get(grammar)
        if tmpl is None:
            tmpl = self.C.llama_sampler_init_grammar(self.vocab, grammar.encode("utf-8"), b"root")
            if not tmpl:
                raise EngineError("llama.cpp could not parse the grammar")
            if len(self._templates) >= 64:
                for old in self._templates.values():
                    self.C.llama_sampler_free(old)
                self._templates.clear()
            self._templates[grammar] = tmpl
        return self.C.llama_sampler_clone(tmpl)

    def _allowed(self, sampler: Any, cand: Any) -> Any:
        """Apply the grammar ``sampler`` to the candidates in ``cand`` (a ``_TOKEN_DATA`` array); the mask
        of those it allows."""
        arr = self.C.llama_token_data_array(
            data=cand.ctypes.data_as(self.C.llama_token_data_p), size=len(cand), selected=-1, sorted=False)
        self.C.llama_sampler_apply(sampler, ctypes.byref(arr))
        return np.isfinite(cand["logit"])

    def _sample(self, s: Stream, row: int) -> int:
        """Greedy: the most likely token, or under a grammar the most likely one the grammar allows (the
        first choice is tried alone before the whole vocabulary is masked, as llama.cpp's common sampler
        does)."""
        logits = self.logits(row)
        tok = int(np.argmax(logits))
        if s.sampler is not None:
            one = np.zeros(1, dtype=_TOKEN_DATA)
            one["id"], one["logit"] = tok, logits[tok]
            if not self._allowed(s.sampler, one)[0]:
                cand = np.zeros(self.n_vocab, dtype=_TOKEN_DATA)
                cand["id"] = np.arange(self.n_vocab, dtype=np.int32)
                cand["logit"] = logits
                ok = self._allowed(s.sampler, cand)
                if not ok.any():
                    raise EngineError("the grammar allows no token here")
                tok = int(np.argmax(np.where(ok, logits, -np.inf)))
            self.C.llama_sampler_accept(s.sampler, tok)
        if s.want_probs:
            raw = logits.astype(np.float64)
            top = raw.max()
            s.probs.append(float(np.exp(raw[tok] - top) / np.exp(raw - top).sum()))
        return tok

    def _piece(self, tok: int) -> bytes:
        buf = ctypes.create_string_buffer(64)
        n = self.C.llama_token_to_piece(self.vocab, tok, buf, 64, 0, False)
        if n < 0:
            buf = ctypes.create_string_buffer(-n)
            n = self.C.llama_token_to_piece(self.vocab, tok, buf, -n, 0, False)
        return buf.raw[:n]

    # -- engine thread: the loop -----------------------------------------------------
    def _loop(self) -> None:
        while True:
            with self._cond:
                while not (self._pending or self._ops or self._active or self._closed):
                    self._cond.wait()
                if self._closed:
                    pending, ops = self._pending, self._ops
                    self._pending, self._ops = [], []
                    break
                pending, self._pending = self._pending, []
                ops, self._ops = self._ops, []
            for fn, fut in ops:
                try:
                    fut.set_result(fn())
                except BaseException as exc:  # handed to the caller, who raises it
                    fut.set_exception(exc)
            for s in pending:
                self._admit(s)
            if self._active:
                self._step()
        for s in [*self._active, *pending]:
            s.stopped = "cancelled"
            self._end(s)
        for _, fut in ops:
            fut.set_exception(EngineError("the sequence engine is closed"))

    def _admit(self, s: Stream) -> None:
        try:
            if not s.prompt:
                raise EngineError("an empty prompt")
            if len(s.prompt) + s.max_tokens > self.n_ctx:
                raise EngineError(f"the prompt ({len(s.prompt)} tokens) and its {s.max_tokens} new tokens "
                                  f"exceed the context of {self.n_ctx}")
            if any(a.key == s.key for a in self._active):
                raise EngineError(f"session {s.key!r} already has a generation running")
            s.seq = self.seq_of(s.key)
            self.seqs[s.seq].busy = True
            s.reused = self.prepare(s.seq, s.prompt)
            s.todo = list(s.prompt[s.reused:])
            s.sampler = self._sampler(s.grammar) if s.grammar is not None else None
        except Exception as exc:
            self._fail(s, exc)
            return
        self._active.append(s)

    def _step(self) -> None:
        """One decode: the next token, or a chunk of the prompt, of each active stream of the most urgent
        priority present.  Less urgent streams are left out of the batch until those end (a wider batch
        costs every stream in it time per token), which is how a background plan yields to a person."""
        self._active.sort(key=lambda a: (a.priority, a.started))
        room = self.n_batch
        items: list[tuple[int, list[int], bool]] = []
        chosen: list[tuple[Stream, bool]] = []
        urgent = self._active[0].priority if self._active else 0
        for s in self._active:
            if s.priority > urgent:
                self.counters["left_out"] += 1
                break
            if room <= 0:
                break
            chunk = s.todo[:room]
            last = len(chunk) == len(s.todo)
            items.append((s.seq, chunk, last))
            chosen.append((s, last))
            room -= len(chunk)
        try:
            rows = self._decode_or_evict(items)
        except EngineError as exc:
            for s, _ in chosen:
                self._active.remove(s)
                self._fail(s, exc)
            return
        self.counters["max_batch_streams"] = max(self.counters["max_batch_streams"], len(items))
        for (s, last), (_, chunk, _), row in zip(chosen, items, rows, strict=True):
            del s.todo[: len(chunk)]
            if not last:
                continue
            try:
                self._advance(s, row)
            except Exception as exc:
                self._active.remove(s)
                self._fail(s, exc)

    def _advance(self, s: Stream, row: int) -> None:
        tok = self._sample(s, row)
        if s.first_token_s is None:
            s.first_token_s = time.perf_counter()
        if self.C.llama_vocab_is_eog(self.vocab, tok):
            if s.probs:
                s.probs.pop()
            s.stopped = "stop"
            self._active.remove(s)
            self._end(s)
            return
        s.out.append(tok)
        piece = self._piece(tok)
        keep_going = True
        if s.on_token is not None:
            try:
                keep_going = s.on_token(tok, piece) is not False
            except Exception as exc:
                self._active.remove(s)
                self._fail(s, exc)
                return
        if not keep_going:
            s.stopped = "cancelled"
        elif len(s.out) >= s.max_tokens:
            s.stopped = "length"
        else:
            s.todo = [tok]
            return
        # The last token is not evaluated: the sequence holds the prompt and all but the last written one.
        self._active.remove(s)
        self._end(s)

    def _decode_or_evict(self, items: list[tuple[int, list[int], bool]]) -> list[int]:
        """``decode``; when the cache is full, drop idle sequences (least recently used first) and retry."""
        while True:
            try:
                return self.decode(items)
            except EngineError:
                busy = {seq for seq, _, _ in items}
                idle = [k for k, i in self.keys.items() if i not in busy and not self.seqs[i].busy]
                if not idle:
                    raise
                self.drop(idle[0])
                self.counters["evictions"] += 1

    def _release(self, s: Stream) -> None:
        """The stream's sequence is free again and its sampler is freed."""
        if s.seq >= 0:
            self.seqs[s.seq].busy = False
        if s.sampler is not None:
            self.C.llama_sampler_free(s.sampler)
            s.sampler = None

    def _end(self, s: Stream) -> None:
        self._release(s)
        if not s.done.done():
            s.done.set_result(s)

    def _fail(self, s: Stream, exc: BaseException) -> None:
        self._release(s)
        if not s.done.done():
            s.done.set_exception(exc)


# llama.cpp's llama_token_data: id, logit, p
_TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)])


def _common(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
