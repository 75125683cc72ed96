"""The one escaping of untrusted text for a terminal (file names, file contents, process names, messages).

A leaf module (standard library only) so the syscall layer and every front end
use the same function.
"""

from __future__ import annotations

import unicodedata

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\e"}
# Control (C0, DEL, C1), format (bidi embeddings, overrides and isolates, marks,
# zero-width characters), surrogate, line and paragraph separator characters.
_UNSAFE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def escape_for_display(text: object) -> str:
    """``text`` with every character that could drive a terminal shown as a visible escape.

    Newline, carriage return, tab and ESC become ``\\n``, ``\\r``, ``\\t``, ``\\e``; other
    control characters (C0, DEL, C1 such as the one-byte CSI U+009B) become
    ``\\xNN``; format characters (the bidi controls U+202A–U+202E, U+2066–U+2069,
    U+200E, U+200F, U+061C, zero-width characters), lone surrogates (undecodable
    bytes of a file name) and U+2028/U+2029 become ``\\uNNNN``.  So a name can
    neither move the cursor, recolour or retitle the screen, start a new line
    nor reorder what the person reads.  Printable text, any script, is kept
    (``é``, ``日本``), and so are backslashes: the result contains no unsafe
    character, so escaping it again changes nothing and each layer may escape
    what it shows.
    """
    s = text if isinstance(text, str) else str(text)
    out: list[str] = []
    for ch in s:
        named = _NAMED.get(ch)
        if named is not None:
            out.append(named)
        elif unicodedata.category(ch) in _UNSAFE:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def unsafe_char(text: str) -> str | None:
    """The first control, format (bidi) or surrogate character in ``text``, if any."""
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            return ch
    return None
