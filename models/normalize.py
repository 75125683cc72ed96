"""Code-side normalisation of an intent into candidate argument values.

A small model is good at pointing and bad at arithmetic and invention, so code
computes the values an argument may take — sizes in bytes, ages in days and
minutes, paths for "here"/"home"/"my downloads", globs for "python files",
ports, pids, signal names — and the grammar offers them as choices.  Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_NUMBER_WORDS = {
    "zero": 0, "one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "hundred": 100,
    "a couple of": 2, "couple of": 2, "a few": 3, "few": 3,
}
_WORDS_RE = "|".join(sorted((re.escape(w) for w in _NUMBER_WORDS), key=len, reverse=True))
_NUM = r"(\d+(?:\.\d+)?|" + _WORDS_RE + r")"

_UNITS = {
    "b": 1, "byte": 1, "bytes": 1, "c": 1,
    "k": 1024, "kb": 1024, "kib": 1024, "kilobyte": 1024, "kilobytes": 1024, "kilo": 1024, "kilos": 1024,
    "m": 1024**2, "mb": 1024**2, "mib": 1024**2, "meg": 1024**2, "megs": 1024**2,
    "megabyte": 1024**2, "megabytes": 1024**2,
    "g": 1024**3, "gb": 1024**3, "gib": 1024**3, "gig": 1024**3, "gigs": 1024**3,
    "gigabyte": 1024**3, "gigabytes": 1024**3,
    "t": 1024**4, "tb": 1024**4, "terabyte": 1024**4, "terabytes": 1024**4,
}
_SIZE_RE = re.compile(
    r"\b" + _NUM + r"\s*(" + "|".join(sorted(_UNITS, key=len, reverse=True)) + r")\b", re.IGNORECASE)

_TIME_UNITS_MIN = {
    "minute": 1, "minutes": 1, "min": 1, "mins": 1, "hour": 60, "hours": 60, "hr": 60, "hrs": 60,
    "day": 1440, "days": 1440, "week": 10080, "weeks": 10080, "month": 43200, "months": 43200,
    "year": 525600, "years": 525600,
}
_TIME_RE = re.compile(
    r"(?:\b" + _NUM + r"\s*)?\b(" + "|".join(sorted(_TIME_UNITS_MIN, key=len, reverse=True)) + r")\b",
    re.IGNORECASE)

_SIGNALS = {
    "kill": "SIGKILL", "sigkill": "SIGKILL", "force": "SIGKILL", "forcefully": "SIGKILL", "-9": "SIGKILL",
    "terminate": "SIGTERM", "sigterm": "SIGTERM", "stop": "SIGSTOP", "sigstop": "SIGSTOP",
    "pause": "SIGSTOP", "suspend": "SIGSTOP", "continue": "SIGCONT", "resume": "SIGCONT",
    "sigcont": "SIGCONT", "hangup": "SIGHUP", "sighup": "SIGHUP", "reload": "SIGHUP",
    "interrupt": "SIGINT", "sigint": "SIGINT", "sigusr1": "SIGUSR1", "sigusr2": "SIGUSR2",
}

_TYPE_GLOBS: dict[str, list[str]] = {
    "python": ["*.py"], "py": ["*.py"], "javascript": ["*.js"], "js": ["*.js"], "typescript": ["*.ts"],
    "java": ["*.java"], "c": ["*.c"], "c++": ["*.cpp"], "cpp": ["*.cpp"], "header": ["*.h"],
    "headers": ["*.h"], "go": ["*.go"], "rust": ["*.rs"], "shell": ["*.sh"], "bash": ["*.sh"],
    "script": ["*.sh"], "scripts": ["*.sh"], "log": ["*.log"], "logs": ["*.log"], "text": ["*.txt"],
    "txt": ["*.txt"], "pdf": ["*.pdf"], "pdfs": ["*.pdf"], "markdown": ["*.md"], "md": ["*.md"],
    "json": ["*.json"], "yaml": ["*.yaml", "*.yml"], "csv": ["*.csv"], "html": ["*.html"],
    "css": ["*.css"], "xml": ["*.xml"], "image": ["*.jpg", "*.png"], "images": ["*.jpg", "*.png"],
    "jpg": ["*.jpg"], "jpeg": ["*.jpg"], "png": ["*.png"], "gif": ["*.gif"], "mp3": ["*.mp3"],
    "photo": ["*.jpg"], "photos": ["*.jpg"], "zip": ["*.zip"], "tar": ["*.tar"], "gz": ["*.gz"],
    "tarball": ["*.tar.gz"], "tarballs": ["*.tar.gz"], "backup": ["*.bak"], "backups": ["*.bak"],
    "bak": ["*.bak"], "temp": ["*.tmp"], "tmp": ["*.tmp"], "temporary": ["*.tmp"], "config": ["*.conf"],
    "conf": ["*.conf"], "php": ["*.php"], "ruby": ["*.rb"], "perl": ["*.pl"], "sql": ["*.sql"],
    "html5": ["*.html"], "object": ["*.o"], "swap": ["*.swp"], "swp": ["*.swp"], "doc": ["*.doc"],
    "docx": ["*.docx"], "mp4": ["*.mp4"], "video": ["*.mp4"], "videos": ["*.mp4"], "jar": ["*.jar"],
    "class": ["*.class"], "ini": ["*.ini"], "rpm": ["*.rpm"], "deb": ["*.deb"], "iso": ["*.iso"],
    "xls": ["*.xls"], "xlsx": ["*.xlsx"], "orig": ["*.orig"], "pyc": ["*.pyc"], "o": ["*.o"],
}
_FILE_NOUNS = r"(?:files?|scripts?|sources?|source files|documents?|docs|archives?|programs?|modules?)"

_PLACES = {
    "current directory": ".", "current dir": ".", "current folder": ".", "this directory": ".",
    "this folder": ".", "this dir": ".", "here": ".", "working directory": ".", "cwd": ".",
    "home directory": "~", "home folder": "~", "my home": "~", "home": "~",
    "my downloads": "~/Downloads", "downloads folder": "~/Downloads", "downloads": "~/Downloads",
    "my documents": "~/Documents", "documents folder": "~/Documents", "desktop": "~/Desktop",
    "root directory": "/", "root folder": "/", "filesystem root": "/", "whole system": "/",
    "entire system": "/", "parent directory": "..", "parent folder": "..",
    "temp directory": "/tmp", "tmp directory": "/tmp", "temporary directory": "/tmp",
}


@dataclass
class Facts:
    """Candidate values found in (or computed from) one intent."""

    sizes: list[tuple[str, int]] = field(default_factory=list)   # (">"|"<"|"=", bytes)
    ages_min: list[tuple[str, int]] = field(default_factory=list)  # (">"|"<", minutes)
    paths: list[str] = field(default_factory=list)
    globs: list[str] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    pids: list[int] = field(default_factory=list)
    signals: list[str] = field(default_factory=list)
    quoted: list[str] = field(default_factory=list)

    @property
    def days(self) -> list[int]:
        return [max(1, round(m / 1440)) for _, m in self.ages_min if m >= 1440]

    @property
    def minutes(self) -> list[int]:
        return [m for _, m in self.ages_min]


def number(word: str) -> float | None:
    word = word.strip().lower()
    if word in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[word])
    try:
        return float(word)
    except ValueError:
        return None


def _cmp(before: str) -> str:
    b = re.sub(r"\s*(than|in size|size|of|sized|equal to|or equal to|to)\s*$", "", before.lower().rstrip())
    b = re.sub(r"\s*(than|or equal)\s*$", "", b)
    if re.search(r"(bigger|larger|greater|more|over|above|exceed\w*|at least|>|min(imum)?)\W*$", b):
        return ">"
    if re.search(r"(smaller|less|under|below|at most|fewer|<|max(imum)?|within)\W*$", b):
        return "<"
    return "="


def parse_sizes(text: str) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for m in _SIZE_RE.finditer(text):
        n = number(m.group(1))
        unit = m.group(2).lower()
        if n is None:
            continue
        if unit in ("m", "min") and re.match(r"\s*(ago|old)", text[m.end():]):
            continue
        if unit == "c" and not re.fullmatch(r"\d+", m.group(1)):
            continue
        out.append((_cmp(text[: m.start()]), int(n * _UNITS[unit])))
    return out


def parse_ages(text: str) -> list[tuple[str, int]]:
    """Ages in minutes with a direction: ``>`` older than, ``<`` newer than / within."""
    out: list[tuple[str, int]] = []
    low = text.lower()
    if re.search(r"\byesterday\b", low):
        out.append(("<", 2 * 1440))
    if re.search(r"\btoday\b|\bin the last day\b", low):
        out.append(("<", 1440))
    for m in _TIME_RE.finditer(text):
        unit = m.group(2).lower()
        n = number(m.group(1)) if m.group(1) else None
        if n is None:
            before = low[: m.start()]
            if not re.search(r"(a|an|one|last|past|the)\s*$", before):
                continue
            n = 1.0
        minutes = int(n * _TIME_UNITS_MIN[unit])
        before = low[: m.start()]
        after = low[m.end():]
        ago = re.match(r"\s*(ago|old)\b", after)
        if re.search(r"(older|more|over|before|at least|earlier)\b[\w\s]*$", before[-30:]) or \
                (ago and re.search(r"(more|over|than)\s+\S*\s*$", before[-20:])):
            out.append((">", minutes))
        elif re.search(r"(last|past|within|newer|less|recent|under|since)\b[\w\s]*$", before[-30:]):
            out.append(("<", minutes))
        elif re.match(r"\s*ago\b", after):
            out.append((">", minutes))
        else:
            out.append((_cmp(before), minutes))
    return out


_PATH_RE = re.compile(r"(?<![\w*])((?:~|\.{1,2})?/[\w./+@%-]*|~|\.{1,2}(?=\s|$))")


def parse_paths(text: str) -> list[str]:
    out: list[str] = []
    for m in _PATH_RE.finditer(text):
        p = m.group(1).rstrip(".,;:")
        if p and p not in out:
            out.append(p)
    low = text.lower()
    for phrase, path in sorted(_PLACES.items(), key=lambda kv: -len(kv[0])):
        if re.search(r"\b" + re.escape(phrase) + r"\b", low) and path not in out:
            out.append(path)
            low = low.replace(phrase, " ")
    return out


def parse_globs(text: str) -> list[str]:
    out: list[str] = []

    def add(g: str) -> None:
        if g not in out:
            out.append(g)

    for m in re.finditer(r"(?<![\w/])(\*?\.[A-Za-z0-9]{1,8})\b(?!/)", text):
        ext = m.group(1).lstrip("*")
        add("*" + ext)
    for m in re.finditer(r"[\w.*?-]*[*?][\w.*?-]*", text):
        g = m.group(0)
        if g not in ("*", "?") and not g.endswith("?"):
            add(g)
    low = text.lower()
    for m in re.finditer(r"\b([\w+]+)\s+" + _FILE_NOUNS + r"\b", low):
        for g in _TYPE_GLOBS.get(m.group(1), []):
            add(g)
    for m in re.finditer(r"\b(pdfs|logs|images|photos|videos|tarballs|backups|scripts)\b", low):
        for g in _TYPE_GLOBS.get(m.group(1), []):
            add(g)
    for m in re.finditer(r"\b(?:named|called|name|matching)\s+['\"]?([\w.*?-]+)", text):
        add(m.group(1))
    for m in re.finditer(r"\b(?:starting|beginning) with\s+['\"]?([\w.-]+)", text):
        add(m.group(1) + "*")
    for m in re.finditer(r"\bending (?:with|in)\s+['\"]?([\w.-]+)", text):
        add("*" + m.group(1))
    for m in re.finditer(r"\bcontaining\s+['\"]?([\w.-]+)['\"]?\s+in (?:their|the|its) names?", text):
        add("*" + m.group(1) + "*")
    return out


def parse_signals(text: str) -> list[str]:
    out: list[str] = []
    for w in re.findall(r"-?[\w]+", text.lower()):
        s = _SIGNALS.get(w)
        if s and s not in out:
            out.append(s)
    m = re.search(r"\bsig([a-z]+\d?)\b", text.lower())
    if m and "SIG" + m.group(1).upper() not in out:
        out.append("SIG" + m.group(1).upper())
    return out


def parse_numbers(text: str) -> list[int]:
    out: list[int] = []
    for m in re.finditer(r"(?<![\w.])(\d+)(?![\w.]*[a-zA-Z/])", text):
        n = int(m.group(1))
        if n not in out:
            out.append(n)
    for w in re.findall(r"[a-z]+", text.lower()):
        if w in _NUMBER_WORDS and w not in ("a", "an", "few") and _NUMBER_WORDS[w] not in out:
            out.append(_NUMBER_WORDS[w])
    return out


def normalize(intent: str) -> Facts:
    """Every candidate value code can read from ``intent``."""
    facts = Facts()
    facts.sizes = parse_sizes(intent)
    facts.ages_min = parse_ages(intent)
    facts.paths = parse_paths(intent)
    facts.globs = parse_globs(intent)
    facts.numbers = parse_numbers(intent)
    facts.signals = parse_signals(intent)
    facts.quoted = [a or b for a, b in re.findall(r"\"([^\"]+)\"|'([^']+)'", intent)]
    for m in re.finditer(r"\bport\s*(?:number\s*)?:?\s*(\d{1,5})\b|:(\d{2,5})\b", intent, re.IGNORECASE):
        p = int(m.group(1) or m.group(2))
        if 0 < p < 65536 and p not in facts.ports:
            facts.ports.append(p)
    for m in re.finditer(r"\b(?:pid|process(?: id)?|process number)\s*#?:?\s*(\d+)\b", intent, re.IGNORECASE):
        facts.pids.append(int(m.group(1)))
    return facts
