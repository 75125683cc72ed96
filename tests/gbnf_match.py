"""A small GBNF recogniser for tests: does a grammar, as llama.cpp reads it, accept a whole text?

It knows what the project's grammars use: rules, alternatives, sequences, groups, ``? * +``, string literals
and character classes (ranges, ``^``, the escapes ``\\n \\r \\t \\\\ \\" \\xHH``).  Matching is by sets of end
positions, memoised, so an ambiguous rule costs no backtracking; a rule may not be left-recursive (llama.cpp
refuses those too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ESC = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"', "[": "[", "]": "]", "-": "-", "^": "^"}


@dataclass(frozen=True)
class Node:
    kind: str                              # lit | cls | ref | seq | alt | rep
    text: str = ""                         # lit: the text; ref: the rule name
    ranges: tuple[tuple[str, str], ...] = ()
    negated: bool = False
    items: tuple[Node, ...] = ()
    low: int = 0
    high: int | None = None


class _Parser:
    def __init__(self, src: str) -> None:
        self.s = src
        self.i = 0

    def ws(self, newlines: bool = False) -> None:
        while self.i < len(self.s):
            c = self.s[self.i]
            if c == "#":
                while self.i < len(self.s) and self.s[self.i] != "\n":
                    self.i += 1
            elif c in " \t" or (newlines and c in "\r\n"):
                self.i += 1
            else:
                break

    def char(self) -> str:
        c = self.s[self.i]
        if c != "\\":
            self.i += 1
            return c
        e = self.s[self.i + 1]
        if e == "x":
            self.i += 4
            return chr(int(self.s[self.i - 2:self.i], 16))
        if e in "uU":
            n = 4 if e == "u" else 8
            self.i += 2 + n
            return chr(int(self.s[self.i - n:self.i], 16))
        self.i += 2
        return _ESC[e]

    def alt(self, nested: bool) -> Node:
        seqs = [self.seq(nested)]
        while self.i < len(self.s) and self.s[self.i] == "|":
            self.i += 1
            seqs.append(self.seq(nested))
        return seqs[0] if len(seqs) == 1 else Node("alt", items=tuple(seqs))

    def seq(self, nested: bool) -> Node:
        """Items up to ``|``, ``)`` or (outside parentheses) the end of the line."""
        items: list[Node] = []
        while True:
            self.ws(nested)
            if self.i >= len(self.s) or self.s[self.i] in "|)\n":
                break
            items.append(self.postfix(self.atom()))
        return items[0] if len(items) == 1 else Node("seq", items=tuple(items))

    def atom(self) -> Node:
        c = self.s[self.i]
        if c == '"':
            self.i += 1
            out = ""
            while self.s[self.i] != '"':
                out += self.char()
            self.i += 1
            return Node("lit", text=out)
        if c == "[":
            self.i += 1
            neg = self.s[self.i] == "^"
            self.i += neg
            ranges = []
            while self.s[self.i] != "]":
                lo = self.char()
                hi = lo
                if self.s[self.i] == "-" and self.s[self.i + 1] != "]":
                    self.i += 1
                    hi = self.char()
                ranges.append((lo, hi))
            self.i += 1
            return Node("cls", ranges=tuple(ranges), negated=neg)
        if c == "(":
            self.i += 1
            self.ws(True)
            inner = self.alt(True)
            assert self.s[self.i] == ")", self.s[self.i:self.i + 20]
            self.i += 1
            return inner
        m = re.compile(r"[a-zA-Z0-9-]+").match(self.s, self.i)
        assert m, self.s[self.i:self.i + 20]
        self.i = m.end()
        return Node("ref", text=m.group())

    def postfix(self, node: Node) -> Node:
        if self.i < len(self.s) and self.s[self.i] in "?*+":
            op = self.s[self.i]
            self.i += 1
            return Node("rep", items=(node,), low=1 if op == "+" else 0, high=1 if op == "?" else None)
        return node

    def rules(self) -> dict[str, Node]:
        out: dict[str, Node] = {}
        self.ws(True)
        while self.i < len(self.s):
            m = re.compile(r"([a-zA-Z0-9-]+)\s*::=\s*").match(self.s, self.i)
            assert m, self.s[self.i:self.i + 40]
            self.i = m.end()
            out[m.group(1)] = self.alt(False)
            self.ws(True)
        return out


class Grammar:
    def __init__(self, text: str) -> None:
        self.rules = _Parser(text).rules()

    def accepts(self, text: str, rule: str = "root") -> bool:
        """Whether ``rule`` matches the whole of ``text``."""
        memo: dict[tuple[int, int], frozenset[int]] = {}

        def ends(node: Node, pos: int) -> frozenset[int]:
            key = (id(node), pos)
            if key not in memo:
                memo[key] = step(node, pos)
            return memo[key]

        def step(node: Node, pos: int) -> frozenset[int]:
            if node.kind == "lit":
                return frozenset([pos + len(node.text)]) if text.startswith(node.text, pos) else frozenset()
            if node.kind == "cls":
                if pos >= len(text):
                    return frozenset()
                inside = any(lo <= text[pos] <= hi for lo, hi in node.ranges)
                return frozenset([pos + 1]) if inside != node.negated else frozenset()
            if node.kind == "ref":
                return ends(self.rules[node.text], pos)
            if node.kind == "alt":
                return frozenset().union(*(ends(n, pos) for n in node.items))
            if node.kind == "seq":
                cur = frozenset([pos])
                for n in node.items:
                    cur = frozenset(q for p in cur for q in ends(n, p))
                return cur
            (inner,) = node.items  # rep: from low to high times (None: any number)
            out: set[int] = set()
            seen: set[int] = set()
            frontier = {pos}
            count = 0
            while frontier:
                if count >= node.low:
                    out |= frontier
                if node.high is not None and count >= node.high:
                    break
                seen |= frontier
                frontier = {q for p in frontier for q in ends(inner, p) if q != p}
                if count + 1 > node.low:
                    frontier -= seen  # past the minimum a position reached again adds nothing
                count += 1
            return frozenset(out)

        return len(text) in ends(self.rules[rule], 0)
