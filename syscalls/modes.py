"""chmod modes: the one parser the floor and ``fs.chmod`` share.

The floor decides on what ``parse_mode`` makes of a mode string, and the call
applies ``ChmodMode.apply`` of the same parse, so a string is either refused by
both or means the same bits to both.

Accepted forms (what ``chmod(1)`` accepts, less setting setuid/setgid):

* octal, three or four digits: ``644``, ``0755``, ``1777``;
* as ``ls -l`` shows it, nine letters with an optional leading ``-``: ``rwxr-xr-x``, ``-rw-r-----``
  (``s``/``S`` in an owner or group execute place ask for setuid/setgid; ``t``/``T`` is the sticky bit);
* symbolic, comma-separated clauses ``[ugoa]*([-+=][rwxXst]*)+``: ``u+x``,
  ``go-w``, ``a=r``, ``u+rw-x,o=``.  No ``ugoa`` means ``a`` (the umask is not
  applied).  ``X`` is execute for a directory or where someone already has
  execute (as the mode stands at that action); ``t`` is the sticky bit.

A mode that would set setuid or setgid (``4755``, ``2755``, ``u+s``, ``g=s``,
any ``+s`` or ``=s``) parses with ``special`` set: the floor refuses it and the call never applies
it.  The bits ``apply`` returns never include setuid or setgid (``u-s`` and
``g-s`` are accepted: they clear what nlshell's result never keeps anyway).
"""

from __future__ import annotations

import re
import stat
from dataclasses import dataclass

from syscalls.errors import InvalidRequest

ALPHABET = "01234567ugoa+=,rwxXtsST-"
SPECIAL = stat.S_ISUID | stat.S_ISGID

_OCTAL = re.compile(r"[0-7]{3,4}")
_LS = re.compile(r"-?([r-])([w-])([xsS-])([r-])([w-])([xsS-])([r-])([w-])([xtT-])")
_CLAUSE = re.compile(r"([ugoa]*)((?:[-+=][rwxXst]*)+)")
_ACTION = re.compile(r"([-+=])([rwxXst]*)")
_SHIFT = {"u": 6, "g": 3, "o": 0}
_SETID = {"u": stat.S_ISUID, "g": stat.S_ISGID, "o": 0}
# The same three forms as GBNF, for a planner's grammar (``x-gbnf`` on fs.chmod's ``mode``): a model writes a
# mode that parses, never ``gw`` or ``write``.
_GBNF_CLAUSE = '[ugoa]* ([-+=] [rwxXst]*)+'
GBNF = (f'"\\"" ([0-7] [0-7] [0-7] [0-7]? | "-"? [r-] [w-] [xsS-] [r-] [w-] [xsS-] [r-] [w-] [xtT-] | '
        f'{_GBNF_CLAUSE} ("," {_GBNF_CLAUSE})*) "\\""')
_HINT = "use octal like 644 or 0755, symbolic like u+x or go-w,o+r, or ls -l letters like rwxr-xr-x"


@dataclass(frozen=True)
class ChmodMode:
    """A parsed mode: either ``octal`` bits, or symbolic ``clauses`` of (who, ((op, perms), ...))."""

    text: str
    octal: int | None
    clauses: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
    special: bool  # asks to set setuid or setgid

    def apply(self, current: int, is_dir: bool) -> int:
        """The permission bits this mode gives a file whose bits are ``current`` (never setuid/setgid)."""
        if self.octal is not None:
            return self.octal & ~SPECIAL
        mode = current & 0o7777
        for who, actions in self.clauses:
            users = "ugo" if not who or "a" in who else who
            for op, perms in actions:
                bits = 0
                any_x = is_dir or bool(mode & 0o111)
                for w in users:
                    shift = _SHIFT[w]
                    for p in perms:
                        if p == "r":
                            bits |= 4 << shift
                        elif p == "w":
                            bits |= 2 << shift
                        elif p == "x" or (p == "X" and any_x):
                            bits |= 1 << shift
                        elif p == "s":
                            bits |= _SETID[w]
                if "t" in perms:
                    bits |= stat.S_ISVTX
                if op == "+":
                    mode |= bits
                elif op == "-":
                    mode &= ~bits
                else:
                    clear = 0
                    for w in users:
                        clear |= 7 << _SHIFT[w]
                    mode = (mode & ~clear) | bits
        return mode & ~SPECIAL


def parse_mode(value: object, *, call: str = "") -> ChmodMode:
    """Parse a chmod mode; ``InvalidRequest`` (field ``args.mode``) when it is not one."""
    if not isinstance(value, str):
        raise InvalidRequest(f"a mode is a string, not {type(value).__name__}", call=call, field="args.mode",
                             hint=_HINT)
    text = value.strip()
    if _OCTAL.fullmatch(text):
        bits = int(text, 8)
        return ChmodMode(text, bits, (), bool(bits & SPECIAL))
    ls = _LS.fullmatch(text)
    if ls is not None:
        bits = sum(1 << (8 - i) for i, c in enumerate(ls.groups()) if c in "rwxst")
        bits |= (stat.S_ISUID if ls.group(3) in "sS" else 0) | (stat.S_ISGID if ls.group(6) in "sS" else 0)
        bits |= stat.S_ISVTX if ls.group(9) in "tT" else 0
        return ChmodMode(text, bits, (), bool(bits & SPECIAL))
    clauses: list[tuple[str, tuple[tuple[str, str], ...]]] = []
    special = False
    for clause in text.split(","):
        m = _CLAUSE.fullmatch(clause)
        if m is None:
            raise InvalidRequest(f"not a mode: {value!r}", call=call, field="args.mode", hint=_HINT)
        actions = tuple((a.group(1), a.group(2)) for a in _ACTION.finditer(m.group(2)))
        special = special or any(op != "-" and "s" in perms for op, perms in actions)
        clauses.append((m.group(1), actions))
    return ChmodMode(text, None, tuple(clauses), special)


def chmod_bits(value: object, current: int, is_dir: bool, call: str) -> int:
    """The bits ``fs.chmod`` sets for ``value`` on a file with bits ``current``; refuses setuid/setgid."""
    mode = parse_mode(value, call=call)
    if mode.special:
        raise InvalidRequest("setuid/setgid bits are never set by nlshell", call=call, field="args.mode",
                             hint="use a mode without s, such as 755 or u+x")
    return mode.apply(current, is_dir)
