"""The seam between nlshell and a language model: one small protocol.

Implementations: ``models.llama.LlamaBackend`` (in-process llama.cpp, the only
module that imports ``llama_cpp``), ``models.openai_server.OpenAIServerBackend``
(any OpenAI-compatible server) and ``models.scripted.ScriptedBackend`` (a fake
for tests that replays queued outputs).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

# Called with each new piece of text; return False to stop (cancellation).
TokenCallback = Callable[[str], bool]

# The session a generation belongs to and its priority (lower is more urgent), for backends that hold many
# sessions at once (``parallel`` > 1): the caller sets them, a backend may read them, the protocol is unchanged.
SEQUENCE: ContextVar[str] = ContextVar("nlsh_sequence", default="default")
PRIORITY: ContextVar[int] = ContextVar("nlsh_priority", default=1)


@contextlib.contextmanager
def sequence(key: str, priority: int = 1) -> Iterator[None]:
    """Generations in this block belong to session ``key`` at ``priority``."""
    a, b = SEQUENCE.set(key), PRIORITY.set(priority)
    try:
        yield
    finally:
        SEQUENCE.reset(a)
        PRIORITY.reset(b)


def parallel(backend: object) -> int:
    """How many generations ``backend`` serves at once (its ``parallel`` attribute; 1 when it has none)."""
    n = getattr(backend, "parallel", 1)
    return n if isinstance(n, int) and n > 1 else 1


@dataclass
class Completion:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    prompt_s: float = 0.0
    total_s: float = 0.0
    cached_tokens: int = 0
    stopped: str = "stop"  # "stop" | "length" | "cancelled"
    extra: dict[str, Any] = field(default_factory=dict)


def is_url(spec: str | None) -> bool:
    """True when a model spec names a server (``http://`` or ``https://``) rather than a model."""
    return bool(spec) and str(spec).lower().startswith(("http://", "https://"))


@runtime_checkable
class Backend(Protocol):
    name: str
    n_ctx: int

    def complete(
        self,
        prompt: str,
        *,
        grammar: str | None = None,
        max_tokens: int = 256,
        stop: list[str] | None = None,
        on_token: TokenCallback | None = None,
    ) -> Completion:
        """Greedy completion of ``prompt``, constrained by a GBNF ``grammar`` when given."""
        ...

    def tokenize(self, text: str) -> list[int]: ...

    def save_state(self) -> Any:
        """An opaque snapshot of the evaluated context (KV cache), for a context switch."""
        ...

    def load_state(self, state: Any) -> None: ...

    def close(self) -> None: ...
