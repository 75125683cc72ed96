"""Typed errors of the model path.

Every error says what was tried and what the user can do about it; foreign
errors (llama.cpp, OS, JSON) are translated at the boundary with
``raise Ours(...) from exc``.

The tree::

    ModelError                  base of every model-path error
    ├── UnknownPlanner          a planner kind that does not exist (or was removed:
    │                           ``v1``); also a ``ValueError``.
    ├── ModelLoadError          the model could not be found or loaded; names the
    │                           path or spec that was tried and how to fix it.
    ├── ModelOutputError        the model's text is not a usable request; keeps the
    │                           raw text (``raw``) for the user and the logs.
    └── PlanningError           no valid plan could be made for the intent
        └── Unsupported         the intent asks for something no syscall can do.
"""

from __future__ import annotations


class ModelError(Exception):
    """Base of every model-path error."""

    default_hint = ""

    def __init__(self, message: str, *, hint: str = "") -> None:
        self.message = message
        self.hint = hint or self.default_hint
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message


class ModelLoadError(ModelError):
    """The model could not be found or loaded."""

    default_hint = "pass --model with a bundled name (smollm2, gemma3-270m) or the path of a .gguf file"

    def __init__(self, message: str, *, path: str = "", hint: str = "") -> None:
        self.path = path
        super().__init__(message, hint=hint)

    def __str__(self) -> str:
        where = f" [{self.path}]" if self.path else ""
        return f"{self.message}{where}" + (f" — {self.hint}" if self.hint else "")


class UnknownPlanner(ModelError, ValueError):
    """A planner kind that is not one of ``models.PLANNERS`` (``v1`` was removed)."""

    default_hint = ("use auto (v2 where the model carries the planner adapter, else shots), v2 (the trained "
                    "planner) or shots (worked examples in the prompt)")


class ModelOutputError(ModelError):
    """The model produced text that is not a usable request."""

    default_hint = "rephrase the request, or name the file or process explicitly"

    def __init__(self, message: str, *, raw: str = "", call: str = "", hint: str = "") -> None:
        self.raw = raw
        self.call = call
        super().__init__(message, hint=hint)

    def __str__(self) -> str:
        where = f"{self.call}: " if self.call else ""
        raw = f" (model said: {self.raw[:200]!r})" if self.raw else ""
        return f"{where}{self.message}{raw}" + (f" — {self.hint}" if self.hint else "")


class PlanningError(ModelError):
    """No valid plan could be made for the intent."""

    default_hint = "rephrase the request more concretely"

    def __init__(self, message: str, *, intent: str = "", raw: str = "", hint: str = "") -> None:
        self.intent = intent
        self.raw = raw
        super().__init__(message, hint=hint)


class Unsupported(PlanningError):
    """The intent asks for something no syscall can do."""

    default_hint = "see `nlsh --help` for what can be done"
