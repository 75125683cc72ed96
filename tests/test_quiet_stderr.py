"""llama.cpp's C logging is silenced by pointing fd 2 at /dev/null for a while.  fd 2 belongs to the whole
process, so windows that overlap without nesting (a model loading in one thread while another plans) must
still give the real stderr back; before, the second window saved /dev/null and put it back last, and a
one-shot run lost what it printed."""

from __future__ import annotations

import os

from models.llama import _quiet_stderr


def _where() -> tuple[int, int]:
    st = os.fstat(2)
    return st.st_dev, st.st_ino


def test_overlapping_windows_give_the_real_stderr_back() -> None:
    real = _where()
    null = os.stat(os.devnull)
    first, second = _quiet_stderr(), _quiet_stderr()
    first.__enter__()
    second.__enter__()
    assert _where() == (null.st_dev, null.st_ino)
    first.__exit__(None, None, None)  # the first opened closes first: not nested
    assert _where() == (null.st_dev, null.st_ino)
    second.__exit__(None, None, None)
    assert _where() == real


def test_a_nested_window_and_an_error_inside_one() -> None:
    real = _where()
    try:
        with _quiet_stderr(), _quiet_stderr():
            raise ValueError("inside")
    except ValueError:
        pass
    assert _where() == real
