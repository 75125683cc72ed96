"""Permissions: capabilities, the policy file, the hard floor, taint and the gate.

A capability is ``domain.verb[:scope]``: ``fs.read:~/**``, ``fs.delete:~/tmp/**``,
``proc.kill:user``, ``proc.exec:/usr/bin/git``, ``net.read``.  A request needs
its spec's capability over every target it names (path arguments, pids, the
executable).

Order of evaluation for one request:

1. the hard floor (``Floor``) — raises ``FloorViolation``; no rule, grant or
   approval lifts it;
2. policy rules, deny → ask → allow → default (ask), first match wins; a deny
   on ANY form (lexical or resolved) of ANY target wins, an allow needs every
   form of every target, so an allow never opens a hole in a deny;
3. a sticky session denial (the same canonical request was denied before);
4. taint: after untrusted content entered the model's context, a
   consequential request needs a fresh approval, unless every argument
   appears literally in the person's own words;
5. a session grant (keyed by capability + canonical targets) answers an "ask";
6. otherwise the approver is asked (no approver → deny).

The policy file (TOML) lives at ``platformdirs.user_config_dir("nlshell")/policy.toml``,
or ``$NLSH_POLICY``, or a path given to ``Policy.load``::

    defaults = true                     # keep the built-in profile (default)
    deny  = ["fs.read:~/private/**"]
    ask   = ["fs.read:~/work/hr/**"]
    allow = ["fs.write:~/tmp/**", "fs.delete:~/tmp/**", "proc.kill:user"]

Relative rule paths are relative to the home directory.  A typo, an unknown
capability or a bad glob fails closed: ``PolicyError`` names the file and line.

A program that ``proc.run`` starts is confined by Landlock where the kernel
offers it (``syscalls.confine``): it may write only beneath its working
directory and the temporary directories (``$TMPDIR``, /tmp, /var/tmp) that
the policy allows ``fs.write`` in without asking, less what the hard floor
never lets a call write (but a repository's .git, where git writes) and less
the literal part of every ``fs.write`` deny or ask rule that could match
inside them; it may write to /dev/null and the
terminal; and it cannot read the floor's credential stores.  Landlock cannot
leave a hole in a grant, so a directory that holds something withheld (the
home directory holds ~/.ssh) is granted entry by entry: the program can
neither list it nor create anything directly in it.  To let programs
write where they run, allow it: ``allow = ["fs.write:~/src/**"]``.  Where the
kernel has no Landlock the approval question and the result say that the
program runs unconfined, and ``nlsh doctor`` warns.
"""

# This docstring is the DESCRIPTION of nlsh-policy(5) (nlshell/manpages.py).  Each concern has its own
# module: ``glob`` (the path-glob dialect of rules), ``policy`` (capabilities, rules, the policy file,
# the built-in profile), ``floor`` (the hard floor), ``taint``, ``radius`` (what an approval question
# shows a request would touch) and ``gate`` (the dispatcher's ``Gate``, which runs them in the order
# above).  The names below are the package's public interface.

from __future__ import annotations

from syscalls.permissions.floor import (
    CREDENTIALS,
    NO_READ_DIRS,
    PERSISTENCE,
    SYSTEM_DIRS,
    Floor,
)
from syscalls.permissions.gate import (
    NO_SESSION_GRANT,
    SCRATCH_DIRS,
    DecisionSink,
    PolicyGate,
    exe_target,
    proc_target,
)
from syscalls.permissions.glob import PathGlob, compile_path_glob
from syscalls.permissions.policy import (
    ACTIONS,
    KNOWN_CAPABILITIES,
    PATH_SCOPED,
    PROC_SCOPED,
    Decision,
    Policy,
    PolicyError,
    ProcTarget,
    Rule,
    default_rules,
    make_rule,
    parse_capability,
)
from syscalls.permissions.radius import blast_radius
from syscalls.permissions.taint import all_args_in_intent, is_tainted

__all__ = [
    "ACTIONS",
    "CREDENTIALS",
    "KNOWN_CAPABILITIES",
    "NO_READ_DIRS",
    "NO_SESSION_GRANT",
    "PATH_SCOPED",
    "PERSISTENCE",
    "PROC_SCOPED",
    "SCRATCH_DIRS",
    "SYSTEM_DIRS",
    "Decision",
    "DecisionSink",
    "Floor",
    "PathGlob",
    "Policy",
    "PolicyError",
    "PolicyGate",
    "ProcTarget",
    "Rule",
    "all_args_in_intent",
    "blast_radius",
    "compile_path_glob",
    "default_rules",
    "exe_target",
    "is_tainted",
    "make_rule",
    "parse_capability",
    "proc_target",
]
