"""Which words of a request name files and folders: path-like words, words after a preposition, quoted
single words and a file placed in a folder ("todo.md in ~/Downloads").  Pure; the trained planner places a
named file in its folder with them (``models.planner_v2.place_named_files``)."""

from __future__ import annotations

import re

_EDGES = "\"'`,;:!?()[]{}"  # quotes and punctuation around a word, never part of a name
_PREPS = ("in", "under", "inside", "within", "into", "to", "from", "of", "at", "below", "named", "called",
          "as", "file", "folder", "directory", "dir", "for")
_ARTICLES = {"the", "my", "this", "that", "a", "an", "our", "your"}
_STOPWORDS = {"the", "a", "an", "all", "every", "my", "this", "that", "these", "those", "them", "it", "and",
             "or", "with", "files", "file", "folder", "directory", "dir", "here", "there", "current", "me",
             "is", "are", "what", "which", "show", "list", "find", "of", "in", "to", "from", "for", "than",
             "lines", "line", "first", "last", "bigger", "larger", "smaller", "older", "newer", "named",
             "called", "contents", "content", "text", "please", "how", "many", "much", "big", "size"}


def path_tokens(intent: str) -> list[str]:
    """Words of the intent that may name a file or directory: path-like words, words after a preposition
    and quoted single words."""
    out: list[str] = []
    words = re.findall(r"\"[^\"]+\"|'[^']+'|\S+", intent)
    clean = [w.strip(_EDGES) for w in words]
    for i, w in enumerate(clean):
        if not w:
            continue
        low = w.lower()
        pathish = "/" in w or "~" in w or re.search(r"\w\.\w", w) is not None or w.startswith(".")
        prev = clean[i - 1].lower() if i > 0 else ""
        prev2 = clean[i - 2].lower() if i > 1 else ""
        nxt = clean[i + 1].lower() if i + 1 < len(clean) else ""
        after_prep = low not in _STOPWORDS and (
            prev in _PREPS or (prev in _ARTICLES and prev2 in _PREPS) or nxt in ("folder", "directory", "dir"))
        quoted = words[i][:1] in "\"'"
        named = quoted and " " not in w  # 'junk1': a quoted single word names a file
        if (pathish or named or (after_prep and not quoted)) and "*" not in w and w.rstrip(".") not in out:
            out.append(w.rstrip(".") if not w.startswith(".") or len(w) > 2 else w)
    return out


def joined_paths(intent: str, tokens: list[str]) -> list[str]:
    """ "todo.md in ~/Downloads" names ``~/Downloads/todo.md``: a file word followed by the folder it is in."""
    out: list[str] = []
    for m in re.finditer(r"(\S+)\s+(?:in|under|inside|from|within)\s+(?:the\s+|my\s+)?(\S+)", intent):
        name, folder = (x.strip(_EDGES) for x in m.groups())
        if name in tokens and folder in tokens and "/" not in name and re.search(r"\w\.\w", name):
            joined = folder.rstrip("/") + "/" + name
            if joined not in out:
                out.append(joined)
    return out

