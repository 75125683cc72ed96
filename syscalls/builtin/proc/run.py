"""proc.run: a program with an argument list (no shell), under the Landlock sandbox the
permission gate set, its output drained in threads and capped, its process group killed at
the timeout or on cancel."""

from __future__ import annotations

import os
import shutil
import signal as _signal
import subprocess
import threading
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from syscalls import confine
from syscalls import schema as S
from syscalls.errors import FloorViolation, InvalidRequest, NotFound, OSFailure, TimedOut, WrongType, from_oserror
from syscalls.types import CallContext, JSONDict, Risk, View

if TYPE_CHECKING:
    from syscalls.registry import Registry

_ENV_FORBIDDEN = ("LD_", "DYLD_")
_STDERR_TAIL = 2000  # characters of a run's stderr kept in the audit log


def _run_env(ctx: CallContext, args: JSONDict) -> dict[str, str]:
    extra: dict[str, str] = dict(args.get("env") or {})
    for key in extra:
        if key.upper().startswith(_ENV_FORBIDDEN):
            raise FloorViolation(f"refusing to set {key}: loader variables can inject code into the program",
                                 call=ctx.call, target=f"env {key}")
        if not key or "=" in key or "\0" in key or "\0" in extra[key]:
            raise InvalidRequest(f"invalid environment variable name {key!r}", call=ctx.call,
                                 field=f"args.env.{key}")
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(_ENV_FORBIDDEN)}
    env.update(extra)
    return env


def _run_plan(ctx: CallContext, args: JSONDict) -> tuple[list[str], str, Path, dict[str, str], float]:
    argv = [str(a) for a in args["argv"]]
    for a in argv:
        if "\0" in a:
            raise InvalidRequest("an argument contains a NUL byte", call=ctx.call, field="args.argv")
    env = _run_env(ctx, args)
    cwd = ctx.resolve(args["cwd"]) if args.get("cwd") else ctx.cwd
    if not cwd.exists():
        raise NotFound("working directory does not exist", call=ctx.call, target=str(cwd))
    if not cwd.is_dir():
        raise WrongType("working directory is not a directory", call=ctx.call, target=str(cwd))
    prog = argv[0]
    if "/" in prog:
        exe = str(ctx.resolve(prog)) if not os.path.isabs(prog) else prog
        found: str | None = exe if os.path.exists(exe) else None
    else:
        found = shutil.which(prog, path=env.get("PATH", os.defpath))
    if found is None:
        hint = ("give the program and each argument as separate argv items, e.g. [\"ls\", \"-l\"]"
                if " " in prog.strip() else "check the name, or give its full path")
        raise NotFound(f"program {prog!r} not found", call=ctx.call, target=prog, hint=hint)
    timeout = float(args.get("timeout_s", ctx.timeout_s))
    return argv, found, cwd, env, timeout


def _sandbox(ctx: CallContext) -> tuple[confine.Plan | None, JSONDict]:
    """The Landlock plan to run under (None: unconfined) and how the result describes it."""
    plan = ctx.sandbox
    if plan is None:
        return None, {"confined": False, "landlock_abi": None, "writable": [],
                      "note": "no permission gate set a confinement for this run: unconfined"}
    abi = confine.abi()
    info: JSONDict = {"confined": abi is not None, "landlock_abi": abi, "writable": list(plan.write),
                      "note": plan.describe(abi)}
    return (plan if abi is not None else None), info


def pv_run(ctx: CallContext, args: JSONDict) -> JSONDict:
    argv, exe, cwd, _, timeout = _run_plan(ctx, args)
    return {"argv": argv, "executable": exe, "cwd": str(cwd), "timeout_s": timeout,
            "env_set": sorted((args.get("env") or {}).keys()), "sandbox": _sandbox(ctx)[1]}


class _Capped:
    """Drains a pipe in a thread, keeping the first ``cap`` bytes and counting the rest."""

    def __init__(self, stream: IO[bytes], cap: int) -> None:
        self.stream, self.cap = stream, cap
        self.chunks: list[bytes] = []
        self.kept = 0
        self.total = 0
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        try:
            while True:
                chunk = self.stream.read1(65536) if hasattr(self.stream, "read1") else self.stream.read(65536)
                if not chunk:
                    break
                self.total += len(chunk)
                room = self.cap - self.kept
                if room > 0:
                    self.chunks.append(chunk[:room])
                    self.kept += min(room, len(chunk))
        except (OSError, ValueError):
            pass

    def text(self) -> str:
        return b"".join(self.chunks).decode("utf-8", errors="replace")


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    # By pid, not pidfd: a pidfd cannot signal a process group, and this is our own child, not yet
    # waited for, so neither its pid nor its group id can have been reused.
    try:
        os.killpg(proc.pid, _signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def _outcome(ctx: CallContext, sandbox: JSONDict, code: int | None, err: _Capped | None,
             **extra: Any) -> None:
    """What the audit log's step record keeps of the run."""
    tail = err.text()[-_STDERR_TAIL:] if err is not None else ""
    ctx.outcome = {"exit_code": code, "confined": sandbox["confined"], "landlock_abi": sandbox["landlock_abi"],
                   "writable": sandbox["writable"], "stderr_tail": tail, **extra}


def proc_run(ctx: CallContext, args: JSONDict) -> JSONDict:
    argv, exe, cwd, env, timeout = _run_plan(ctx, args)
    stdin_text: str | None = args.get("input")
    plan, sandbox = _sandbox(ctx)
    command = [exe, *argv[1:]]
    if plan is not None:
        # A helper interpreter applies the ruleset and execs the program (see syscalls.confine).
        command = confine.command(plan, exe, command)
    try:
        proc = subprocess.Popen(
            command, executable=command[0], cwd=cwd, env=env,
            stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        )
    except OSError as exc:
        raise from_oserror(exc, call=ctx.call, target=argv[0]) from exc
    assert proc.stdout is not None and proc.stderr is not None
    out = _Capped(proc.stdout, ctx.max_bytes)
    err = _Capped(proc.stderr, ctx.max_bytes)
    if stdin_text is not None and proc.stdin is not None:
        def feed(stream: IO[bytes], data: bytes) -> None:
            try:
                stream.write(data)
                stream.close()
            except OSError:
                pass

        threading.Thread(target=feed, args=(proc.stdin, stdin_text.encode()), daemon=True).start()
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                proc.wait(timeout=0.05)
                break
            except subprocess.TimeoutExpired:
                pass
            if ctx.cancel.is_set():
                _kill_group(proc)
                proc.wait()
                _outcome(ctx, sandbox, proc.returncode, err, cancelled=True)
                ctx.check_cancel()
            if time.monotonic() >= deadline:
                _kill_group(proc)
                proc.wait()
                _outcome(ctx, sandbox, proc.returncode, err, timed_out=True)
                raise TimedOut(f"{argv[0]} ran past {timeout:g} s and was killed (pid {proc.pid})",
                               call=ctx.call, target=" ".join(argv)[:200])
    finally:
        if proc.returncode is None:
            _kill_group(proc)
            proc.wait()
    for reader in (out, err):
        reader.thread.join(timeout=2.0)
    code = proc.returncode
    sig = _signal.Signals(-code).name if code < 0 else None
    _outcome(ctx, sandbox, code, err, killed_by=sig)
    if plan is not None and code == confine.EXIT_NOT_CONFINED and err.text().startswith(confine.PREFIX):
        raise OSFailure(err.text()[len(confine.PREFIX):].strip(), call=ctx.call, target=argv[0],
                        hint="Landlock refused this ruleset; `nlsh doctor` shows what the kernel offers")
    return {
        "argv": argv,
        "executable": exe,
        "cwd": str(cwd),
        "pid": proc.pid,
        "exit_code": code,
        "killed_by": sig,
        "stdout": out.text(),
        "stderr": err.text(),
        "stdout_bytes": out.total,
        "stderr_bytes": err.total,
        "stdout_truncated": out.total > out.kept,
        "stderr_truncated": err.total > err.kept,
        "truncated": out.total > out.kept or err.total > err.kept,
        "sandbox": sandbox,
    }


def register(registry: Registry) -> None:
    registry.syscall(
        "proc.run",
        "Run a program with an argument list (no shell), capture its output and exit code.",
        args=S.obj({
            "argv": {"type": "array", "items": S.string(max_length=4096), "minItems": 1, "maxItems": 256,
                     "description": "the program and its arguments, one item each"},
            "cwd": S.path("working directory (default: the current one)"),
            "timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 3600,
                          "description": "kill the program after this many seconds"},
            "env": {"type": "object", "additionalProperties": S.string(max_length=32768), "maxProperties": 64,
                    "description": "extra environment variables (LD_* and DYLD_* are refused)"},
            "input": S.text("text fed to the program's standard input", max_length=1_000_000),
        }, required=["argv"]),
        result=S.obj({
            "argv": S.array(S.string()), "executable": S.string(), "cwd": S.string(), "pid": S.integer(),
            "exit_code": S.integer(), "killed_by": S.nullable("string"),
            "stdout": S.string(max_length=10**9), "stderr": S.string(max_length=10**9),
            "stdout_bytes": S.integer(minimum=0), "stderr_bytes": S.integer(minimum=0),
            "stdout_truncated": S.boolean(), "stderr_truncated": S.boolean(), "truncated": S.boolean(),
            "sandbox": S.obj({
                "confined": S.boolean("the program ran under Landlock"),
                "landlock_abi": S.nullable("integer"),
                "writable": S.array(S.string(), doc="the directories it could write in"),
                "note": S.string(),
            }, required=["confined", "writable", "note"]),
        }, required=["argv", "exit_code", "stdout", "stderr"]),
        taints=("argv", "command", "program"),
        capability="proc.exec",
        risk=Risk.EXEC,
        view=View("record"),
        examples=[
            ("run make in the build directory", {"argv": ["make"], "cwd": "build"}),
            ("run the tests with pytest", {"argv": ["pytest", "-q"]}),
            ("run git status", {"argv": ["git", "status"]}),
            ("run ./deploy.sh staging with a 60 second limit",
             {"argv": ["./deploy.sh", "staging"], "timeout_s": 60}),
            ("run python script.py with DEBUG=1", {"argv": ["python", "script.py"], "env": {"DEBUG": "1"}}),
        ],
        preview=pv_run,
    )(proc_run)
