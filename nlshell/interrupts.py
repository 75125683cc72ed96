"""Ctrl-C while a job runs: the signal handler only raises a flag.

Python raises ``KeyboardInterrupt`` in the main thread between any two bytecodes, also inside the
``with lock:`` of a queue or a job.  Taken there, it can leave that lock held, and every kernel
thread that next needs it waits for ever (the job never ends, the process never exits).  So while a
job runs the front ends take SIGINT as a flag and act on it (cancel the job) outside any lock: the
handler sets an :class:`threading.Event`, and an optional watcher thread calls ``on_interrupt``.

With ``insist`` (the one-shot CLI), a second Ctrl-C while the first is still being handled raises
``KeyboardInterrupt`` as usual: the person insists.  The line mode stays up and ignores it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def sigint_flag(on_interrupt: Callable[[], object] | None = None, *,
                insist: bool = False) -> Iterator[threading.Event]:
    """Within the block, SIGINT sets the yielded event (and runs ``on_interrupt`` on a watcher
    thread) instead of raising.  Off the main thread, where Python delivers no signals, the
    event is yielded and never set."""
    flag = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    wake = threading.Event()
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        if flag.is_set():
            if insist:
                raise KeyboardInterrupt
            return
        flag.set()
        wake.set()

    watcher: threading.Thread | None = None
    if on_interrupt is not None:
        act = on_interrupt

        def watch() -> None:
            wake.wait()
            if not stop.is_set():
                act()

        watcher = threading.Thread(target=watch, name="nlsh-sigint", daemon=True)
        watcher.start()
    old = signal.signal(signal.SIGINT, handler)
    try:
        yield flag
    finally:
        # The old handler comes back first, so the events below are never set re-entrantly.
        signal.signal(signal.SIGINT, old)
        stop.set()
        wake.set()
        if watcher is not None:
            watcher.join()
