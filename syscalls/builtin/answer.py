"""The answering call: a text reply, or an honest "unsupported: here is why"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from syscalls import schema as S
from syscalls.types import CallContext, JSONDict, Risk, View

if TYPE_CHECKING:
    from syscalls.registry import Registry


def register(registry: Registry) -> None:
    @registry.syscall(
        "answer",
        "Reply in words, or say that the request is not supported and why; changes nothing.",
        args=S.obj(
            {
                "text": S.text("the reply or the reason", min_length=1, max_length=2000),
                "supported": S.boolean("false when no syscall can do what was asked"),
            },
            required=["text"],
        ),
        result=S.obj({"text": S.string(), "supported": S.boolean()}, required=["text", "supported"]),
        capability="answer",
        risk=Risk.READ,
        view=View("answer", "text"),
        examples=[
            ("send an email to bob", {"text": "Sending email is not supported.", "supported": False}),
            ("change the owner of file.txt to root",
             {"text": "Changing file ownership is not supported.", "supported": False}),
            ("mount the usb stick", {"text": "Mounting file systems is not supported.", "supported": False}),
            ("what can you do?",
             {"text": "I can list, find, read, copy, move and delete files, show processes, "
                      "and report on the system and devices.", "supported": True}),
        ],
    )
    def answer(ctx: CallContext, args: JSONDict) -> JSONDict:
        return {"text": args["text"], "supported": bool(args.get("supported", True))}
