"""The model leaves the process's stderr alone.  fd 2 is where the TUI draws (Textual writes its frames to
stderr) and where the one-shot CLI reports: pointing it at /dev/null while the model loaded or planned lost
the TUI's first frames whenever a warm-up overlapped its start, and left the "loading model…" line on the
screen.  llama.cpp's own log lines go to a callback that drops them instead."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.model

_SCRIPT = textwrap.dedent("""
    import os, sys
    from models.llama import LlamaBackend
    from models.profiles import resolve

    def where():
        st = os.fstat(2)
        return st.st_dev, st.st_ino

    before = where()
    seen = []
    backend = LlamaBackend(resolve("smollm2"))
    seen.append(where())
    comp = backend.generate("request: list the files here\\nplan:\\n", max_tokens=6,
                            on_token=lambda piece: seen.append(where()) is None)
    backend.close()
    print(comp.text.split()[0], all(w == before for w in seen), len(seen))
""")


def test_loading_and_planning_write_nothing_to_stderr_and_never_move_it() -> None:
    out = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=240,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert out.returncode == 0, out.stderr[-2000:]
    name, unmoved, checks = out.stdout.split()
    assert name == "fs.list" and unmoved == "True" and int(checks) > 2
    assert out.stderr == ""
