"""Session state: ``shell.cd`` names the directory later requests of the session run in.

The call changes nothing on the system: it checks that the directory exists and
can be entered and returns its canonical path.  The TUI and the line mode make
it their session's working directory; a one-shot run says plainly that it
cannot change the calling shell's directory.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from syscalls import schema as S
from syscalls.errors import AccessDenied, WrongType, from_oserror
from syscalls.types import CallContext, JSONDict, Risk, View

if TYPE_CHECKING:
    from syscalls.registry import Registry


def shell_cd(ctx: CallContext, args: JSONDict) -> JSONDict:
    path = str(ctx.resolve(args.get("path") or "~"))
    try:
        real = os.path.realpath(path, strict=True)
    except OSError as exc:
        raise from_oserror(exc, call=ctx.call, target=path) from exc
    if not os.path.isdir(real):
        raise WrongType(f"{path} is not a directory", call=ctx.call, target=path,
                        hint="give a directory; its parent is " + os.path.dirname(real))
    if not os.access(real, os.X_OK):
        raise AccessDenied(f"{path} cannot be entered", call=ctx.call, target=path,
                               hint="choose a directory you may enter (x permission)")
    return {"cwd": real, "previous": str(ctx.cwd)}


def register(registry: Registry) -> None:
    registry.syscall(
        "shell.cd",
        "Change the session's working directory (the TUI and line mode; a one-shot run cannot change its "
        "calling shell's directory and says so).",
        args=S.obj({"path": S.path("the directory to work in (default: home)")}),
        result=S.obj({"cwd": S.string(), "previous": S.string()}, required=["cwd"]),
        capability="fs.read",
        risk=Risk.READ,
        view=View("record"),
        examples=[
            ("cd /var/log", {"path": "/var/log"}),
            ("go to my downloads folder", {"path": "~/Downloads"}),
            ("change the working directory to src", {"path": "src"}),
            ("go up one level", {"path": ".."}),
        ],
        phrasings=[
            ("cd {dir}", 'shell.cd path={dir}'),
            ("change the working directory to {dir}", 'shell.cd path={dir}'),
            ("go to {dir}", 'shell.cd path={dir}'),
            ("switch to the {dir} directory", 'shell.cd path={dir}'),
            ("move into {dir}", 'shell.cd path={dir}'),
            ("take me to {dir}", 'shell.cd path={dir}'),
            ("cd ..", 'shell.cd path=".."'),
            ("go up one directory", 'shell.cd path=".."'),
            ("go back home", 'shell.cd path="~"'),
            ("cd", 'shell.cd path="~"'),
        ],
    )(shell_cd)
