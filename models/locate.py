"""Named places, found: a path the request names loosely becomes the path that is there.

People name things as they think of them: "downloads" for ``Downloads``, "the scraper project" for
``projects/scraper``, "ubuntu.iso" for the one in ``Downloads``, "Desktop/*.png" for the pictures there.
The model copies those words into the plan; run as written, each would fail with "No such file".  After
planning, every path argument that names something already there (not one a call may create:
``SyscallSpec.new_paths``) and is missing is looked up, read-only:

1. **shell options** copied into the path are cut off (``projects -L 2`` → ``projects``), and a leading
   "my" or "the" (``my projects`` → ``projects``);
   **letter case**, one component at a time from the working directory: ``downloads/Report.PDF`` →
   ``Downloads/report.pdf`` when exactly one entry of each folder matches; a last component without an
   extension, as the dotfile of that name, by **stem, extension or first words** within its folder ("my
   bashrc" → ``.bashrc``, "the readme" → ``readme.md``, "the iso in downloads" → ``Downloads/ubuntu.iso``,
   "ubuntu" → ``ubuntu-26.04.iso``) when exactly one entry has it;
2. **where it is**: the name (or the last components as written, ``webapp/.env``) below the working
   directory, then below the home directory, at most ``DEPTH`` levels down; hidden and dependency folders
   are skipped unless the name is hidden, and the walk stops once ``BUDGET`` entries have been looked at;
   when nothing has the name itself, a name without an extension is looked for by stem the same way ("the
   budget csv" → ``Documents/budget.csv``).
   A place is taken only when it is the single one: among several, nothing is guessed, and the call's own
   error says what is missing;
3. **a destination folder** written in another letter case ("copy them to the desktop" → ``Desktop``), for a
   call that also names a source; never the source itself (a rename to ``Notes`` of ``notes``);
4. **a new name and what it names given the other way round** (a link's path and target: ``names_existing``
   on the call's spec), the new one there and the other missing, are swapped;
5. **a wildcard** in the last component of a path to act on (``Desktop/*.png``) becomes a find step over
   its folder whose rows the call runs over, as the shell would expand it; steps after it are renumbered.

Every change is written on the plan (``Plan.located``), and the front ends show it with the plan before
anything runs.  A plan given whole (the API's precomputed plans) is never changed.
"""

from __future__ import annotations

import os
import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.plan import REF_RE, PlanStep
from syscalls.registry import Registry
from syscalls.types import Risk, SyscallSpec, home_dir, resolve_path

DEPTH = 3          # levels below the working or home directory a name is looked for
BUDGET = 20_000    # entries looked at per name, after which the walk stops (a folder is read whole)
_SKIP = frozenset({"node_modules", "__pycache__", "site-packages", "venv", ".venv", ".git", ".hg", ".svn",
                   ".cache", ".tox", ".mypy_cache", "proc", "sys", "dev"})
_WILD = re.compile(r"[*?\[]")


@dataclass
class Located:
    """The plan's steps after the lookup, and one line per change ("downloads → Downloads")."""

    steps: list[PlanStep]
    notes: list[str] = field(default_factory=list)


def locate(steps: list[PlanStep], registry: Registry, cwd: Path) -> Located:
    """``steps`` with each missing path argument to act on replaced by the one path that is there."""
    out = Located([])
    moved: dict[int, int] = {}  # a step's index in ``steps`` -> its index in the new plan
    for old, step in enumerate(steps):
        args = {k: _renumbered(v, moved) for k, v in step.args.items()}
        spec = registry.get(step.call) if step.call in registry else None
        paths = [k for k in spec.path_args if k not in spec.new_paths] if spec is not None else []
        far = spec is not None and spec.risk is not Risk.DESTRUCTIVE  # a delete acts only where the request says
        for key in paths:
            value = args.get(key)
            if not isinstance(value, str) or not value or value.startswith("$") \
                    or os.path.lexists(resolve_path(value, cwd)):
                continue
            name = (_ARTICLE.sub("", value) or value) if far else value  # "my projects" names projects
            found = next((p for p in (_options_cut(value), name) if p and p != value
                          and os.path.lexists(resolve_path(p, cwd))), None) \
                or _case_fixed(name, cwd) or _by_stem(name, cwd)
            if found is None and far and _WILD.search(name) is None:
                found = _found_below(name, cwd) or _found_below(name, cwd, stem=True)
            if found is not None:
                args[key] = found
                out.notes.append(f"{value} → {found}")
                continue
            glob = _wildcard(value, cwd, far=far)
            if glob is not None and not _refers(args):
                folder, pattern = glob
                out.steps.append(PlanStep("fs.find", {**({"path": folder} if folder != "." else {}),
                                                      "name": pattern, "min_depth": 1, "max_depth": 1}))
                args[key] = f"${len(out.steps) - 1}.path"
                out.notes.append(f"{value} → each match of {pattern} in {folder}")
        if spec is not None and paths:
            _folder_case(args, spec, cwd, out.notes)
        if spec is not None and spec.names_existing:
            _unswapped(args, spec.names_existing, cwd, out.notes)
        moved[old] = len(out.steps)
        out.steps.append(_for_directory(PlanStep(step.call, args), spec, registry, cwd, out.notes))
    return out


def _unswapped(args: dict[str, Any], keys: tuple[str, str], cwd: Path, notes: list[str]) -> None:
    """A new name and what it names, given the other way round ("ln -s ~/projects/scraper ~/Desktop/scraper"
    planned as a link at ``~/projects/scraper``): the new one is there and the other is missing, so the two
    are swapped."""
    new, existing = (args.get(k) for k in keys)
    if not isinstance(new, str) or not isinstance(existing, str) or new.startswith("$") or existing.startswith("$"):
        return
    link = resolve_path(new, cwd)
    beside = link.parent / existing  # a relative target is read from the link's folder
    if os.path.lexists(link) and not os.path.lexists(resolve_path(existing, cwd)) and not os.path.lexists(beside):
        args[keys[0]], args[keys[1]] = existing, new
        notes.append(f"{keys[0]} {new} and {keys[1]} {existing} swapped: {new} is there, {existing} is not")


def _folder_case(args: dict[str, Any], spec: SyscallSpec, cwd: Path, notes: list[str]) -> None:
    """A destination that is an existing folder but for letter case ("copy it to the desktop" → ``Desktop``)
    is that folder, unless it is the step's own source in another case (renaming ``notes`` to ``Notes``)."""
    sources = {str(resolve_path(v, cwd)).casefold() for k, v in args.items()
               if k in spec.path_args and k not in spec.new_paths and isinstance(v, str) and not v.startswith("$")}
    for key in spec.new_paths:
        value = args.get(key)
        if not isinstance(value, str) or not value or value.startswith("$") \
                or os.path.lexists(resolve_path(value, cwd)):
            continue
        fixed = _folder_there(value.rstrip("/"), cwd)
        if fixed is not None and str(resolve_path(fixed, cwd)).casefold() not in sources:
            args[key] = fixed
            notes.append(f"{value} → {fixed}")


def _for_directory(step: PlanStep, spec: SyscallSpec | None, registry: Registry, cwd: Path,
                   notes: list[str]) -> PlanStep:
    """A file-reading step given a folder, as the call that shows a folder (``SyscallSpec.on_directory``)."""
    path = step.args.get("path")
    if spec is None or not spec.on_directory or spec.on_directory not in registry \
            or not isinstance(path, str) or path.startswith("$") or not resolve_path(path, cwd).is_dir():
        return step
    notes.append(f"{path} is a folder → {spec.on_directory}")
    return PlanStep(spec.on_directory, {"path": path})


def _renumbered(value: Any, moved: dict[int, int]) -> Any:
    """A ``$N`` / ``$N.field`` reference to an earlier step, pointing at where that step now is."""
    if isinstance(value, list):
        return [_renumbered(v, moved) for v in value]
    m = REF_RE.match(value) if isinstance(value, str) else None
    if m is None or m.group("step") == "prev" or int(m.group("step")) not in moved:
        return value
    return f"${moved[int(m.group('step'))]}" + (f".{m.group('field')}" if m.group("field") else "")


def _refers(args: dict[str, Any]) -> bool:
    return any(isinstance(v, str) and REF_RE.match(v) is not None for v in args.values())


def _display(path: Path, cwd: Path) -> str:
    """How a found path is written in the plan: relative to the working directory below it, ``~/...`` below
    the home directory, else absolute."""
    for base, prefix in ((cwd, ""), (home_dir(), "~/")):
        try:
            rel = path.relative_to(base)
        except ValueError:
            continue
        return prefix + rel.as_posix() if rel.parts else (prefix.rstrip("/") or ".")
    return str(path)


_OPTION = re.compile(r"\s--?[A-Za-z]")
_ARTICLE = re.compile(r"^(?:my|the|our|your)\s+", re.IGNORECASE)


def _options_cut(value: str) -> str:
    """The path before shell options copied into it ("projects -L 2" from "tree projects -L 2"), or ""."""
    m = _OPTION.search(value)
    return value[:m.start()].rstrip() if m is not None else ""


def _case_fixed(value: str, cwd: Path) -> str | None:
    """``value`` with the letter case of what is there, when each component matches exactly one entry."""
    if value == "~" or value.startswith("~/"):  # as resolve_path reads it; "~other" is not a home
        base, rest, prefix = home_dir(), value[1:].lstrip("/"), "~/"
    elif value.startswith("/"):
        base, rest, prefix = Path("/"), value.lstrip("/"), "/"
    else:
        base, rest, prefix = cwd, value, ""
    parts = [p for p in rest.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    here, fixed = base, []
    for part in parts:
        if os.path.lexists(here / part):
            here, name = here / part, part
        else:
            try:
                names = [n for n in os.listdir(here) if n.casefold() == part.casefold()]
            except OSError:
                return None
            if len(names) != 1:
                return None
            here, name = here / names[0], names[0]
        fixed.append(name)
    return prefix + "/".join(fixed)


_WORD = re.compile(r"[^\W_]+")


def _by_stem(value: str, cwd: Path) -> str | None:
    """The one entry of ``value``'s folder that a name without its extension means: the dotfile of that
    name ("my bashrc" → ``.bashrc``), else the entry with that stem ("the readme" → ``readme.md``), else
    with that extension ("the iso in downloads", ``Downloads/.deb`` → ``Downloads/old-driver.deb``), else
    the one beginning with its words ("ubuntu" → ``ubuntu-26.04-desktop.iso``); letter case aside, and
    other hidden entries left out."""
    folder, _, last = value.rstrip("/").rpartition("/")
    ext = last[1:] if last.startswith(".") else ""  # ".deb": an extension alone
    if not last or _WILD.search(last) or last.startswith("~") or "." in (ext or last):
        return None
    there = _folder_there(folder, cwd)
    if there is None:
        return None
    folder = there
    try:
        entries = os.listdir(resolve_path(folder or ".", cwd))
    except OSError:
        return None
    names = [n for n in entries if not n.startswith(".")]
    want = (ext or last).casefold()
    words = _WORD.findall(want)
    by_ext = [n for n in names if n.casefold().endswith("." + want)]
    hits = by_ext if ext else (
        [n for n in entries if n.casefold() == "." + want]
        or [n for n in names if n.split(".", 1)[0].casefold() == want] or by_ext
        or [n for n in names if words and _WORD.findall(n.casefold())[:len(words)] == words])
    if len(hits) != 1:
        return None
    return f"{folder}/{hits[0]}" if folder else hits[0]


def _found_below(value: str, cwd: Path, *, stem: bool = False) -> str | None:
    """The single place below the working directory (else below the home directory) whose last components
    are ``value``'s, compared without letter case; with ``stem``, the last one without its extension ("the
    budget csv" → ``Documents/budget.csv``)."""
    if value.startswith(("/", "~", "..")):
        return None
    want = [p.casefold() for p in value.split("/") if p not in ("", ".")]
    if not want:
        return None
    home = home_dir()
    for root in [cwd] if home == cwd else [cwd, home]:
        hits = _walk(root, want, skip=cwd if root == home else None, stem=stem)
        if hits:
            return _display(hits[0], cwd) if len(hits) == 1 else None
    return None


def _walk(root: Path, want: list[str], *, skip: Path | None, stem: bool = False) -> list[Path]:
    """Paths below ``root`` (breadth first, ``DEPTH`` levels) whose last components are ``want`` (the last
    one without its extension when ``stem``)."""
    hidden = want[-1].startswith(".")
    last = want[-1]
    skipped = str(skip) if skip is not None else None
    hits: list[Path] = []
    queue: deque[tuple[str, int]] = deque([(str(root), 0)])
    seen = 0
    while queue and seen < BUDGET and len(hits) < 2:
        folder, depth = queue.popleft()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError:
            continue
        seen += len(entries)
        deeper = depth + 1 < DEPTH
        for entry in entries:
            name = entry.name
            named = name.casefold()
            if stem and "." not in last and named.startswith(last + ".") and not name.startswith("."):
                named = last  # "budget" for budget.csv
            if named == last and (len(want) == 1 or _ends_with(Path(folder), root, want[:-1])):
                hits.append(Path(entry.path))
            if not deeper or name in _SKIP or (name.startswith(".") and not hidden):
                continue
            try:
                if not entry.is_dir(follow_symlinks=False) or entry.path == skipped:
                    continue
            except OSError:
                continue
            queue.append((entry.path, depth + 1))
    return hits


def _ends_with(path: Path, root: Path, want: list[str]) -> bool:
    rel = path.relative_to(root).parts
    return len(rel) >= len(want) and [p.casefold() for p in rel[-len(want):]] == want


def _wildcard(value: str, cwd: Path, *, far: bool) -> tuple[str, str] | None:
    """(folder as written or found, pattern) for a path whose last component is a wildcard; the folder is
    looked for elsewhere only when ``far``."""
    folder, _, pattern = value.rstrip("/").rpartition("/")
    if not pattern or _WILD.search(pattern) is None or _WILD.search(folder):
        return None
    there = _folder_there(folder or ".", cwd, far=far)
    return (there, pattern) if there is not None else None


def _folder_there(folder: str, cwd: Path, *, far: bool = False) -> str | None:
    """``folder`` as it is there: as written, else in its letter case, else (``far``) found below; None when
    no folder is."""
    if resolve_path(folder or ".", cwd).is_dir():
        return folder
    fixed = _case_fixed(folder, cwd) or (_found_below(folder, cwd) if far else None)
    return fixed if fixed is not None and resolve_path(fixed, cwd).is_dir() else None
