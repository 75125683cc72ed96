"""The example bank and retrieval of the nearest examples for an intent.

The bank is every registered spec's ``examples`` plus the hand-written
multi-step plans, follow-ups and refusals of ``models.bank``.  Retrieval is
BM25 over lightly stemmed words; the nearest example goes last in the prompt
(``models.planner_v2.TrainedPlanner`` with ``shots``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from syscalls.registry import Registry
from syscalls.types import JSONDict

_STOP = {"the", "a", "an", "of", "in", "on", "to", "and", "or", "for", "with", "all", "me", "my", "is",
         "are", "that", "this", "it", "them", "please", "show", "list", "find",
         "from", "by", "under", "at", "which", "whose", "what", "than", "its", "their"}
_KEEP = {"list", "find", "show"}  # meaningful verbs still count, with less weight than content words


@dataclass(frozen=True)
class Shot:
    """One example: an intent and the plan for it (one or more steps)."""

    intent: str
    steps: tuple[tuple[str, JSONDict], ...]
    previous: str | None = None  # the previous call, for follow-ups

    @property
    def follows(self) -> bool:
        """A follow-up: it names a previous call, or its steps refer to the previous result."""
        return self.previous is not None or any(
            isinstance(v, str) and v.startswith("$prev") for _, args in self.steps for v in args.values())


def words(text: str) -> list[str]:
    out = []
    for w in re.findall(r"[a-z0-9_.*/~-]+", text.lower()):
        w = w.strip(".-")
        if not w:
            continue
        if len(w) > 4 and w.endswith("ies"):
            w = w[:-3] + "y"
        elif len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        out.append(w)
    return out


def _terms(text: str) -> list[str]:
    """Retrieval terms: content words; file names, paths, globs and numbers say nothing about the call."""
    return [w for w in words(text) if (w not in _STOP or w in _KEEP) and not re.search(r"[./*~]|^\d+$", w)]


class Bank:
    def __init__(self, shots: Sequence[Shot]) -> None:
        self.shots = list(shots)
        self._docs = [_terms(s.intent) for s in self.shots]
        n = len(self._docs)
        df: Counter[str] = Counter()
        for d in self._docs:
            df.update(set(d))
        self._idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self._avg = sum(len(d) for d in self._docs) / max(1, n)

    def score_bm25(self, query: str) -> list[float]:
        q = _terms(query)
        k1, b = 1.2, 0.75
        scores = []
        for d in self._docs:
            tf = Counter(d)
            s = 0.0
            for t in q:
                f = tf.get(t, 0)
                if f:
                    s += self._idf.get(t, 0.0) * f * (k1 + 1) / (f + k1 * (1 - b + b * len(d) / self._avg))
            scores.append(s)
        return scores

    def nearest(self, query: str, k: int = 6, *, previous: str | None = None) -> list[Shot]:
        """The ``k`` nearest shots, best last; follow-ups first when there is a previous result."""
        scores = self.score_bm25(query)
        order = []
        for i, s in enumerate(scores):
            shot = self.shots[i]
            bonus = 0.0
            if previous is not None and shot.follows:
                bonus = 0.5 + (0.5 if shot.previous == previous else 0.0)
            elif previous is None and shot.follows:
                continue  # a follow-up only makes sense after a previous result
            order.append((s + bonus * (max(scores) or 1.0), -i, shot))
        order.sort(key=lambda t: (t[0], t[1]), reverse=True)
        return list(reversed([shot for _, _, shot in order[:k]]))


def registry_shots(registry: Registry) -> list[Shot]:
    return [Shot(ex.intent, ((spec.name, dict(ex.args)),)) for spec in registry for ex in spec.examples]
