"""Landlock confinement for the programs ``proc.run`` starts.

Where the kernel offers Landlock, ``proc.run`` does not start the program
itself: it starts ``python -I syscalls/confine.py PLAN -- EXE ARG...``,
which restricts itself with a Landlock ruleset and then execs the program.
The restriction holds for the program and everything it starts, and nothing
can lift it.  No code runs in a forked copy of nlshell (which has threads):
subprocess execs the interpreter straight away.  ``-I`` keeps the
environment (PYTHONPATH, PYTHONSTARTUP, the user site) and this file's own
directory out of the interpreter, so this file imports only the standard
library.

The plan (``Plan``; the permission gate builds it from the policy and the
hard floor, see ``syscalls.permissions``) grants:

* read, list and execute everywhere except the ``no_read`` paths (the
  floor's credential stores: ~/.ssh, ~/.gnupg, ...);
* write (create, write, truncate, remove, rename) beneath each ``write``
  directory except the ``no_write`` paths (what the floor never lets a call
  write);
* write to the device files in ``DEVICES`` (/dev/null, the terminal, ...).

The kernel refuses everything else with EACCES.  Landlock grants are an
allow-list over file hierarchies and cannot leave a hole, so "all of R
except P" is granted as the siblings of each directory on the way from R
down to P (``grant_except``).  The directories on that way get nothing
themselves: listing them, and creating or removing entries directly in
them, is refused as well; what they held when the program started stays
reachable, entries added to them later do not.  Symbolic links are not
granted: what a link leads to is governed by where it lies.  A second way
to the same files through a bind mount is not carved out.

Which rights the kernel knows depends on its Landlock ABI: renaming and
linking across directories (REFER) from ABI 2, truncation from ABI 3,
device ioctls from ABI 5.  Network rules are not used.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import platform
import stat
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# landlock_create_ruleset, landlock_add_rule, landlock_restrict_self: the same numbers on x86_64 and on
# the architectures of the generic table
_SYSCALLS = {arch: (444, 445, 446) for arch in ("x86_64", "aarch64", "arm64", "riscv64")}
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38

EXECUTE = 1 << 0
WRITE_FILE = 1 << 1
READ_FILE = 1 << 2
READ_DIR = 1 << 3
REMOVE_DIR = 1 << 4
REMOVE_FILE = 1 << 5
MAKE_CHAR = 1 << 6
MAKE_DIR = 1 << 7
MAKE_REG = 1 << 8
MAKE_SOCK = 1 << 9
MAKE_FIFO = 1 << 10
MAKE_BLOCK = 1 << 11
MAKE_SYM = 1 << 12
REFER = 1 << 13  # ABI 2
TRUNCATE = 1 << 14  # ABI 3
IOCTL_DEV = 1 << 15  # ABI 5
# rights that mean something on a file (a rule on a file may hold only these)
FILE_ACCESS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV
READ_ACCESS = EXECUTE | READ_FILE | READ_DIR | IOCTL_DEV

DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/pts")
MAX_GRANTS = 10_000
# Exit status of the helper when it cannot confine (the program did not run); 126/127 when it
# cannot exec the program, as a shell reports them.
EXIT_NOT_CONFINED = 125
PREFIX = "nlsh-confine: "


class ConfineError(Exception):
    """The ruleset cannot be built or applied; the program must not run."""


def handled_access(abi: int) -> int:
    """Every file-system right the kernel with Landlock ABI ``abi`` can restrict."""
    mask = (1 << 13) - 1
    if abi >= 2:
        mask |= REFER
    if abi >= 3:
        mask |= TRUNCATE
    if abi >= 5:
        mask |= IOCTL_DEV
    return mask


def write_access(abi: int) -> int:
    """The rights granted beneath a writable directory: all that are not read rights."""
    return handled_access(abi) & ~READ_ACCESS


def device_access(abi: int) -> int:
    return (WRITE_FILE | TRUNCATE) & handled_access(abi)


# --------------------------------------------------------------------------- syscalls

class _RulesetAttr(ctypes.Structure):
    # handled_access_fs only: the kernel takes the struct's size, and later fields default to 0
    _fields_ = [("handled_access_fs", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    libc.prctl.restype = ctypes.c_int
    return libc


def _numbers() -> tuple[int, int, int] | None:
    if not sys.platform.startswith("linux"):
        return None
    return _SYSCALLS.get(platform.machine())


def _check(result: int, what: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return result


def abi() -> int | None:
    """The kernel's Landlock ABI version; None where it has none (ENOSYS), has it off (EOPNOTSUPP)
    or this machine's syscall numbers are not known here."""
    nums = _numbers()
    if nums is None:
        return None
    try:
        libc = _libc()
        version = int(libc.syscall(ctypes.c_long(nums[0]), None, ctypes.c_size_t(0),
                                   ctypes.c_uint32(CREATE_RULESET_VERSION)))
    except (OSError, AttributeError):
        return None
    return version if version > 0 else None


def restrict(grants: Iterable[tuple[str, int]], abi_version: int) -> int:
    """Restrict this process to ``grants`` (path, rights); return how many rules were added.

    Rights the kernel does not handle are dropped; a file's rule keeps only file rights; a
    path that does not exist or is a symbolic link is left out.
    """
    nums = _numbers()
    if nums is None:
        raise ConfineError(f"Landlock syscall numbers are not known for {platform.machine()}")
    create, add_rule, restrict_self = nums
    libc = _libc()
    handled = handled_access(abi_version)
    attr = _RulesetAttr(handled)
    ruleset = _check(int(libc.syscall(ctypes.c_long(create), ctypes.byref(attr),
                                      ctypes.c_size_t(ctypes.sizeof(attr)), ctypes.c_uint32(0))),
                     "landlock_create_ruleset")
    added = 0
    try:
        for path, access in grants:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC | os.O_NOFOLLOW)
            except FileNotFoundError:
                continue
            try:
                mode = os.fstat(fd).st_mode
                if stat.S_ISLNK(mode):
                    continue
                allowed = access & handled & (~0 if stat.S_ISDIR(mode) else FILE_ACCESS)
                if not allowed:
                    continue
                rule = _PathBeneathAttr(allowed, fd)
                _check(int(libc.syscall(ctypes.c_long(add_rule), ctypes.c_int(ruleset),
                                        ctypes.c_int(RULE_PATH_BENEATH), ctypes.byref(rule),
                                        ctypes.c_uint32(0))), f"landlock_add_rule {path}")
                added += 1
            finally:
                os.close(fd)
        _check(int(libc.prctl(ctypes.c_int(PR_SET_NO_NEW_PRIVS), ctypes.c_ulong(1), ctypes.c_ulong(0),
                              ctypes.c_ulong(0), ctypes.c_ulong(0))), "prctl(PR_SET_NO_NEW_PRIVS)")
        _check(int(libc.syscall(ctypes.c_long(restrict_self), ctypes.c_int(ruleset), ctypes.c_uint32(0))),
               "landlock_restrict_self")
    finally:
        os.close(ruleset)
    return added


# --------------------------------------------------------------------------- the walk

def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def grant_except(roots: Iterable[str], denied: Iterable[str], *, limit: int = MAX_GRANTS) -> list[str]:
    """Paths whose hierarchies together hold everything beneath ``roots`` except ``denied``.

    A root with no denied path in it is granted whole, one inside a denied path not at all.
    Otherwise each entry of the root is granted whole when no denied path lies in it, walked
    the same way when one does, and left out when it is one; symbolic links are left out.
    A directory that cannot be listed is walked only along the denied paths' own components
    (its other entries are left out).  A denied path that does not exist still keeps its
    existing ancestors from being granted.  More than ``limit`` paths raise ``ConfineError``.
    """
    banned = sorted({os.path.normpath(d) for d in denied})
    out: list[str] = []

    def grant(path: str) -> None:
        if len(out) >= limit:
            raise ConfineError(f"more than {limit} paths to grant; not confining partially")
        out.append(path)

    def walk(root: str, inside: list[str]) -> None:
        if root in inside:
            return
        if not inside:
            grant(root)
            return
        try:
            names = sorted(os.listdir(root))
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError:
            # unreadable: follow the denied paths' next components only
            names = sorted({os.path.relpath(d, root).split("/")[0] for d in inside})
        for name in names:
            child = os.path.join(root, name)
            below = [d for d in inside if _within(d, child)]
            if below:
                walk(child, below)
            elif not os.path.islink(child):
                grant(child)

    for root in dict.fromkeys(os.path.normpath(r) for r in roots):
        if not any(_within(root, d) for d in banned):  # a root inside a denied path gets nothing
            walk(root, [d for d in banned if _within(d, root)])
    return out


# --------------------------------------------------------------------------- the plan

@dataclass(frozen=True)
class Plan:
    """What a started program may touch: see the module docstring."""

    write: tuple[str, ...] = ()
    no_write: tuple[str, ...] = ()
    no_read: tuple[str, ...] = ()
    devices: tuple[str, ...] = DEVICES

    def to_json(self) -> str:
        return json.dumps({"write": self.write, "no_write": self.no_write, "no_read": self.no_read,
                           "devices": self.devices}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Plan:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("a plan is a JSON object")
        fields: dict[str, tuple[str, ...]] = {}
        for key in ("write", "no_write", "no_read", "devices"):
            value = data.get(key)
            if value is None:
                continue  # the default
            if not isinstance(value, list) or not all(isinstance(v, str) and v.startswith("/") for v in value):
                raise ValueError(f"plan field {key!r} must be a list of absolute paths")
            fields[key] = tuple(value)
        return cls(**fields)

    def grants(self, abi_version: int, *, limit: int = MAX_GRANTS) -> list[tuple[str, int]]:
        """(path, rights) for each Landlock rule of this plan."""
        read = READ_ACCESS & handled_access(abi_version)
        out = [(p, read) for p in grant_except(["/"], self.no_read, limit=limit)]
        write = write_access(abi_version)
        out += [(p, write) for p in grant_except(self.write, self.no_write, limit=limit - len(out))]
        out += [(d, device_access(abi_version)) for d in self.devices]
        return out

    def describe(self, abi_version: int | None) -> str:
        """One line for the approval question and the result."""
        if abi_version is None:
            return ("none: this kernel has no Landlock, so the program runs unconfined and can read and "
                    "write whatever you can")
        where = (f"only in {', '.join(self.write)} and to /dev/null and the terminal" if self.write else
                 "only to /dev/null and the terminal (the policy allows fs.write neither in its directory "
                 "nor in a temporary one)")
        return (f"Landlock ABI {abi_version}: the program may write {where}; it cannot read ~/.ssh, "
                "~/.gnupg or the other credential stores")


def command(plan: Plan, exe: str, argv: Sequence[str]) -> list[str]:
    """The command line that runs ``exe`` with ``argv`` confined by ``plan``."""
    return [sys.executable, "-I", os.path.abspath(__file__), plan.to_json(), "--", exe, *argv]


def main(args: Sequence[str]) -> int:
    """``confine.py PLAN -- EXE ARGV0 ARG...``: restrict, then exec; returns only on failure."""
    if len(args) < 4 or args[1] != "--":
        sys.stderr.write(PREFIX + "usage: confine.py PLAN -- EXE ARGV0 [ARG...]\n")
        return EXIT_NOT_CONFINED
    exe, argv = args[2], list(args[3:])
    try:
        plan = Plan.from_json(args[0])
        version = abi()
        if version is None:
            raise ConfineError("the kernel offers no Landlock")
        restrict(plan.grants(version), version)
    except (ConfineError, OSError, ValueError) as exc:
        sys.stderr.write(f"{PREFIX}cannot confine the program, so it did not run: {exc}\n")
        return EXIT_NOT_CONFINED
    try:
        os.execv(exe, argv)
    except OSError as exc:
        sys.stderr.write(f"{PREFIX}cannot run {exe}: {exc.strerror}\n")
        return 127 if exc.errno == errno.ENOENT else 126
    return 126  # not reached: execv returns only by raising


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
