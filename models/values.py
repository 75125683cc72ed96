"""Typed parsers for the values a person writes with units: one parser per kind.

The trained planner copies such values as the person wrote them ("10 megs",
"a week", "five") and code turns them into the unit the call's schema asks
for.  A field declares its kind in its schema (``"x-nlsh": "size"`` for a
byte count, ``"x-nlsh": "duration"`` with ``"x-unit": "days" | "minutes"``);
any integer field also takes a number word.  Pure; every failure is a
``ValueError`` that says what was not understood.
"""

from __future__ import annotations

import math
import re

NUMBER_WORDS = {
    "zero": 0, "one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "ninety": 90, "hundred": 100,
    "a hundred": 100, "a thousand": 1000, "thousand": 1000, "half a": 0.5, "half an": 0.5,
    "a couple of": 2, "a couple": 2, "couple of": 2, "a few": 3, "few": 3, "several": 3, "a dozen": 12,
    "dozen": 12,
}

SIZE_UNITS = {
    "": 1, "b": 1, "byte": 1, "bytes": 1, "c": 1,
    "k": 1024, "kb": 1024, "kib": 1024, "kilobyte": 1024, "kilobytes": 1024, "kilo": 1024, "kilos": 1024,
    "m": 1024**2, "mb": 1024**2, "mib": 1024**2, "meg": 1024**2, "megs": 1024**2, "mega": 1024**2,
    "megabyte": 1024**2, "megabytes": 1024**2,
    "g": 1024**3, "gb": 1024**3, "gib": 1024**3, "gig": 1024**3, "gigs": 1024**3, "giga": 1024**3,
    "gigabyte": 1024**3, "gigabytes": 1024**3,
    "t": 1024**4, "tb": 1024**4, "tib": 1024**4, "terabyte": 1024**4, "terabytes": 1024**4,
}

MINUTES = {
    "s": 1 / 60, "sec": 1 / 60, "secs": 1 / 60, "second": 1 / 60, "seconds": 1 / 60,
    "m": 1, "min": 1, "mins": 1, "minute": 1, "minutes": 1,
    "h": 60, "hr": 60, "hrs": 60, "hour": 60, "hours": 60,
    "d": 1440, "day": 1440, "days": 1440, "week": 10080, "weeks": 10080, "w": 10080,
    "fortnight": 20160, "month": 43200, "months": 43200, "year": 525600, "years": 525600, "y": 525600,
}
# "today" is the last day, as ``find -mtime 0`` reads it: an age of 0 days would hold nothing.
_SPECIAL_DAYS = {"yesterday": 1.0, "today": 1.0, "a day": 1.0, "a week": 7.0, "a month": 30.0, "a year": 365.0}

_NUM_RE = re.compile(r"^\s*(?P<num>\d+(?:\.\d+)?|\.\d+)?\s*(?P<unit>[a-z ]*?)\s*$")


def number(text: str) -> float:
    """A number written in digits or words ("12", "1.5", "five", "a couple of")."""
    t = " ".join(text.lower().replace(",", "").split())
    if t in NUMBER_WORDS:
        return float(NUMBER_WORDS[t])
    try:
        value = float(t)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not math.isfinite(value):  # "inf", "-Infinity", "nan", "1e999"
        raise ValueError(f"{text!r} is not a finite number")
    return value


def _split(text: str) -> tuple[float | None, str]:
    """(the leading number or None, the unit word) of "10 megs", "five days", "1.5G"."""
    t = " ".join(text.lower().replace(",", "").strip().strip("+").split())
    t = re.sub(r"\b(than|over|under|at least|at most|more|less|about|around|ago|old|the last|last|past)\b", "", t)
    t = " ".join(t.split())
    for word in sorted(NUMBER_WORDS, key=len, reverse=True):
        if t == word or t.startswith(word + " "):
            return float(NUMBER_WORDS[word]), t[len(word):].strip()
    m = _NUM_RE.match(t)
    if not m:
        raise ValueError(f"{text!r} is not an amount with a unit")
    num = m.group("num")
    if num is not None and not math.isfinite(float(num)):  # hundreds of digits
        raise ValueError(f"{text!r} is not a finite amount")
    return (float(num) if num is not None else None), m.group("unit").strip()


def size_bytes(text: str | int) -> int:
    """Bytes for "10M", "10 megs", "1.5 GB", "500k", "2048" (bare numbers are bytes)."""
    if isinstance(text, int):
        return text
    n, unit = _split(text)
    unit = unit.removesuffix("s") if unit.endswith("bs") else unit
    if unit not in SIZE_UNITS:
        raise ValueError(f"{text!r}: unknown size unit {unit!r} (use bytes, k, M, G or T)")
    return round((1.0 if n is None else n) * SIZE_UNITS[unit])


def duration(text: str | int | float, unit: str) -> float:
    """``text`` ("a week", "3 days", "2h", "yesterday", "90") in ``unit`` (days or minutes); a bare number
    is already in ``unit``."""
    per = {"days": 1440.0, "minutes": 1.0}[unit]
    if isinstance(text, (int, float)):
        return float(text)
    t = " ".join(text.lower().split())
    if t in _SPECIAL_DAYS:
        minutes = _SPECIAL_DAYS[t] * 1440
    else:
        n, word = _split(t)
        if word == "":
            return 1.0 if n is None else n
        if word not in MINUTES:
            raise ValueError(f"{text!r}: unknown time unit {word!r} (use minutes, hours, days, weeks, months)")
        minutes = (1.0 if n is None else n) * MINUTES[word]
    value = minutes / per
    return float(int(value)) if value == int(value) else round(value, 4)


def integer(text: str | int) -> int:
    """An integer written in digits or words."""
    if isinstance(text, int):
        return text
    value = number(text)
    if value != int(value):
        raise ValueError(f"{text!r} is not a whole number")
    return int(value)
