"""The one walk of a tree that fs.find, fs.du and fs.grep share.

``Walk`` goes depth first below an open directory, every step relative to a
directory fd (``frames``), reads each directory with ``os.scandir`` and hands the
entries over in batches.  It checks for cancellation at each directory and before
every ``every``-th entry, reports progress there, and collects the directories it
could not open or read as "path: reason" in ``errors``.  What it never does is
stat an entry: the d_type that ``scandir`` read tells a directory, a link and a
regular file apart, and the consumer stats an entry (``entry_stat``) only when
its query or its rows need the size, the times, the owner or the mode.
"""

from __future__ import annotations

import inspect
import os
import stat
from collections.abc import Generator, Iterator
from itertools import islice
from types import TracebackType

from syscalls.builtin import _fsutil as U
from syscalls.errors import ExecutionError, WrongType, from_oserror
from syscalls.types import CallContext

PROGRESS_EVERY = 2048
"""Cancellation is checked, and progress reported, every this many entries."""

Entries = list[os.DirEntry[str]]


# ---------------------------------------------------------------- the start

def open_start(ctx: CallContext, raw: str, display: str) -> tuple[int, os.stat_result]:
    """O_PATH fd and fstat of the start path the gate checked (errors name ``display``)."""
    try:
        return U.open_path_checked(ctx, raw)
    except ExecutionError as exc:
        exc.target = display
        raise


def dir_fd_of(path_fd: int) -> int:
    """A readable directory fd (for ``os.scandir``) for an ``O_PATH`` fd of a directory."""
    return os.open(".", U.DIR_FLAGS, dir_fd=path_fd)


def open_start_dir(ctx: CallContext, raw: str, display: str, *, hint: str) -> int:
    """A readable fd of the start directory the gate checked; anything else is ``WrongType`` with ``hint``."""
    pfd, st = open_start(ctx, raw, display)
    try:
        if not stat.S_ISDIR(st.st_mode):
            raise WrongType(f"is a {U.type_of(st.st_mode).replace('_', ' ')}, not a directory", call=ctx.call,
                            target=display, hint=hint)
        return dir_fd_of(pfd)
    except OSError as exc:
        raise from_oserror(exc, call=ctx.call, target=display) from exc
    finally:
        os.close(pfd)


# ---------------------------------------------------------------- entries

def dirent_kind(e: os.DirEntry[str], follow: bool) -> str | None:
    """dir, symlink or file from d_type alone (through links under ``follow``), None when only a
    stat can tell.  The calls go without ``follow_symlinks=``: once the entry is known to be no
    link, following changes nothing, and the plain call is the cheaper one."""
    if follow:
        try:
            if e.is_dir():
                return "dir"
        except OSError:  # a link loop
            pass
        try:
            return "file" if e.is_file() else None
        except OSError:
            return None
    try:
        if e.is_symlink():
            return "symlink"
        if e.is_file():
            return "file"
        if e.is_dir():
            return "dir"
    except OSError:
        pass
    return None


def entry_stat(e: os.DirEntry[str], follow: bool) -> os.stat_result | None:
    """stat of a scanned entry; under ``follow`` a dangling link is the link itself, a loop is None."""
    try:
        return e.stat(follow_symlinks=follow)
    except FileNotFoundError:
        if follow:
            try:
                return e.stat(follow_symlinks=False)
            except OSError:
                return None
        return None
    except OSError:
        return None


# ---------------------------------------------------------------- the walk

class Frame:
    """One directory of a walk: an open fd (or -1 while parked), its paths and depth.

    The consumer reads its entries (``Walk.scan``, or ``os.scandir(fd)``) and appends to
    ``subdirs`` the names it wants the walk to enter; they are entered last-first (as a stack).
    """

    __slots__ = ("depth", "dev", "disp", "fd", "ino", "path", "subdirs")

    def __init__(self, fd: int, path: str, disp: str, depth: int) -> None:
        self.fd = fd
        self.path = path  # absolute, as rows report it
        self.disp = disp  # as the person wrote the start (what patterns match)
        self.depth = depth
        self.subdirs: list[str] = []
        self.dev = self.ino = 0


class Walk:
    """A depth-first walk below the open directory ``dir_fd`` (which it owns and closes).

        with Walk(ctx, dfd, root) as walk:
            for frame in walk:                 # each directory, the start first
                for entries in walk.scan(frame):
                    ...                        # frame.subdirs.append(name) to enter one

    ``path`` is the start as rows report it, ``disp`` as the person wrote it (what
    path patterns match).  ``follow`` enters directories through symbolic links
    (find -L).  ``sort`` gives each directory's entries in name order and enters its
    sub-directories in name order too.  ``scanned`` counts the entries handed over;
    ``progress`` reports it through ``ctx.progress`` as the cancellation checks go.
    ``errors`` (a list of the caller's, or a new one) collects what could not be read.
    """

    def __init__(self, ctx: CallContext, dir_fd: int, path: str, disp: str | None = None, *,
                 follow: bool = False, sort: bool = False, every: int = PROGRESS_EVERY,
                 progress: bool = True, errors: list[str] | None = None) -> None:
        self.errors: list[str] = [] if errors is None else errors
        self.scanned = 0
        self._ctx = ctx
        self._fd = dir_fd
        self._sort = sort
        self._every = every
        self._report = ctx.progress if progress else None
        self._frames = frames(dir_fd, path, path if disp is None else disp, self.errors, follow=follow)

    def __iter__(self) -> Iterator[Frame]:
        check_cancel = self._ctx.check_cancel
        for frame in self._frames:
            check_cancel()
            yield frame

    def scan(self, frame: Frame) -> Generator[Entries, None, None]:
        """The entries of ``frame``'s directory, in batches that end before every ``every``-th entry of
        the walk; an unreadable directory gives none and is named in ``errors``."""
        try:
            if self._sort:
                with os.scandir(frame.fd) as it:
                    entries = sorted(it, key=_name)
                source: Iterator[os.DirEntry[str]] = iter(entries)
                closing = None
            else:
                closing = source = os.scandir(frame.fd)
        except OSError as exc:
            self.errors.append(f"{frame.path}: {exc.strerror}")
            return
        ctx = self._ctx
        every = self._every
        report = self._report
        try:
            while True:
                first = self.scanned + 1  # the number the next entry has in the walk
                batch = list(islice(source, every - first % every))
                if not batch:
                    break
                if not first % every:
                    ctx.check_cancel()
                    if report is not None:
                        report(ctx.call, first)
                self.scanned += len(batch)
                yield batch
        finally:
            if closing is not None:
                closing.close()
        if self._sort:
            frame.subdirs.reverse()  # entered last-first: keep name order

    def close(self) -> None:
        """Close every fd the walk holds (also when it stopped early or never started)."""
        if inspect.getgeneratorstate(self._frames) == inspect.GEN_CREATED:
            os.close(self._fd)
        self._frames.close()

    def __enter__(self) -> Walk:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _name(e: os.DirEntry[str]) -> str:
    return e.name


def frames(root_fd: int, path: str, disp: str, errors: list[str], *, follow: bool = False,
           keep_open: int = 128) -> Generator[Frame, None, None]:
    """Depth-first walk from the open directory ``root_fd``, every step fd-relative.

    Each sub-directory is opened relative to its parent's fd with ``O_NOFOLLOW |
    O_DIRECTORY`` (unless ``follow``, find -L), so a component swapped for a symlink
    during the walk is refused rather than followed; no path string is ever handed to
    the kernel, so depth is not limited by ``PATH_MAX``.  At most ``keep_open``
    ancestor fds stay open: deeper ones are parked and re-opened through ``..`` of
    their child, checked by device and inode, when the walk comes back up.  The walk
    owns ``root_fd`` and every fd it opens, and closes them all (also when the
    consumer stops early).  Unreadable directories are reported in ``errors``.
    """
    flags = U.DIR_FLAGS & ~os.O_NOFOLLOW if follow else U.DIR_FLAGS
    join = U.join
    root = Frame(root_fd, path, disp, 0)
    stack = [root]
    try:
        yield root
        while stack:
            top = stack[-1]
            if not top.subdirs:
                stack.pop()
                if stack and stack[-1].fd < 0:
                    _unpark(stack[-1], top.fd, errors)
                os.close(top.fd)
                continue
            name = top.subdirs.pop()
            try:
                cfd = os.open(name, flags, dir_fd=top.fd)
            except OSError as exc:
                errors.append(f"{join(top.path, name)}: {exc.strerror}")
                continue
            child = Frame(cfd, join(top.path, name), join(top.disp, name), top.depth + 1)
            stack.append(child)
            if len(stack) > keep_open:
                _park(stack[-keep_open - 1])
            yield child
    finally:
        for frame in stack:
            if frame.fd >= 0:
                os.close(frame.fd)


def _park(frame: Frame) -> None:
    if frame.fd < 0:
        return
    st = os.fstat(frame.fd)
    frame.dev, frame.ino = st.st_dev, st.st_ino
    os.close(frame.fd)
    frame.fd = -1


def _unpark(frame: Frame, child_fd: int, errors: list[str]) -> None:
    try:
        fd = os.open("..", U.DIR_FLAGS, dir_fd=child_fd)
    except OSError as exc:
        errors.append(f"{frame.path}: {exc.strerror}")
        frame.subdirs.clear()
        frame.fd = os.open("/", U.DIR_FLAGS)  # a valid fd to close; nothing is read from it
        return
    st = os.fstat(fd)
    if (st.st_dev, st.st_ino) != (frame.dev, frame.ino):
        errors.append(f"{frame.path}: moved during the walk; the rest of it was skipped")
        frame.subdirs.clear()
    frame.fd = fd
