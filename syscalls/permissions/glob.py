"""The path-glob dialect of policy rules: ``*``, ``?``, ``[..]`` within a segment, ``**`` as a whole segment.

``compile_path_glob`` turns a rule's path scope (``~/...``, absolute, or relative to a base) into a
``PathGlob`` that matches both the lexical form and the form with its literal prefix resolved on disk.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from syscalls.types import home_dir

_GLOB_CHARS = set("*?[")


def _glob_to_regex(pattern: str) -> str:
    """Translate a path glob (``*``, ``?``, ``[..]``, ``**`` as a whole segment) to a regex."""
    if pattern == "/":
        return "/"
    segments = pattern.split("/")
    out: list[str] = []
    n = len(segments)
    for idx, seg in enumerate(segments):
        last = idx == n - 1
        if seg == "**":
            if last:
                # ``dir/**`` matches the directory itself and everything below it.
                if out and out[-1] == "/":
                    out.pop()
                out.append("(?:/.*)?")
            else:
                out.append("(?:[^/]*/)*" if idx else "/(?:[^/]*/)*")
            continue
        if "**" in seg:
            raise ValueError(f"'**' must be a whole path segment in {pattern!r}")
        i = 0
        buf = ""
        while i < len(seg):
            ch = seg[i]
            if ch == "*":
                buf += "[^/]*"
            elif ch == "?":
                buf += "[^/]"
            elif ch == "[":
                j = seg.find("]", i + 2 if i + 1 < len(seg) and seg[i + 1] in "!^" else i + 1)
                if j < 0:
                    raise ValueError(f"unclosed '[' in {pattern!r}")
                body = seg[i + 1:j]
                if body.startswith(("!", "^")):
                    body = "^" + body[1:]
                buf += "[" + body.replace("\\", "\\\\") + "]"
                i = j
            elif ch == "]":
                raise ValueError(f"unmatched ']' in {pattern!r}")
            else:
                buf += re.escape(ch)
            i += 1
        out.append(buf)
        if not last:
            out.append("/")
    return "".join(out)


def _literal_prefix(pattern: str) -> tuple[str, str]:
    """Split a glob into its leading glob-free directory part and the rest."""
    parts = pattern.split("/")
    for i, part in enumerate(parts):
        if set(part) & _GLOB_CHARS:
            return "/".join(parts[:i]) or "/", "/".join(parts[i:])
    return pattern, ""


@dataclass(frozen=True)
class PathGlob:
    text: str
    regexes: tuple[re.Pattern[str], ...]
    # the glob-free leading directories (lexical and resolved): everything it matches is beneath them
    prefixes: tuple[Path, ...] = ()

    def matches(self, path: Path) -> bool:
        s = str(path)
        return any(r.fullmatch(s) for r in self.regexes)


def compile_path_glob(scope: str, base: Path) -> PathGlob:
    """Compile a rule's path scope: ``~``, absolute or relative (to ``base``), also via symlinks.

    Both the lexical form and the form with its literal prefix resolved on disk
    are kept, so a rule written through a symlink matches the real place too.
    """
    if scope.startswith("~") and not (scope == "~" or scope.startswith("~/")):
        raise ValueError(f"another user's home is not allowed in a rule: {scope!r}")
    text = scope
    if text == "~" or text.startswith("~/"):
        text = str(home_dir()) + text[1:]
    if not text.startswith("/"):
        text = str(base) + "/" + text
    trailing = text.endswith("/**")
    prefix, rest = _literal_prefix(text)
    norm_prefix = os.path.normpath(prefix)
    forms = {norm_prefix + ("/" + rest if rest else "")}
    real_prefix = os.path.realpath(norm_prefix)
    forms.add(real_prefix + ("/" + rest if rest else ""))
    regexes = []
    for form in sorted(forms):
        form = form.replace("//", "/")
        regexes.append(re.compile(_glob_to_regex(form)))
    del trailing
    return PathGlob(scope, tuple(regexes), tuple(sorted({Path(norm_prefix), Path(real_prefix)})))

