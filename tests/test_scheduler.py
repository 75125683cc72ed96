"""The inference queue: priority order, FIFO within a priority, aging, removal, control tasks."""

from __future__ import annotations

import threading

import pytest

from nlshell.events import Priority
from nlshell.scheduler import Entry, QueueClosed, Scheduler

INT, F, B = Priority.INTERACTIVE, Priority.FOLLOW_UP, Priority.BACKGROUND


def drain(s: Scheduler[str]) -> list[str]:
    out = []
    while len(s):
        e = s.pop(timeout=0)
        assert isinstance(e, Entry)
        out.append(e.item)
    return out


def test_priorities_then_fifo_within_a_priority() -> None:
    s: Scheduler[str] = Scheduler(aging_passes=0)
    for name, p in [("b1", B), ("i1", INT), ("f1", F), ("b2", B), ("i2", INT), ("f2", F)]:
        s.push(name, p)
    assert drain(s) == ["i1", "i2", "f1", "f2", "b1", "b2"]


def test_aging_lets_a_background_job_through_a_stream_of_interactive_ones() -> None:
    s: Scheduler[str] = Scheduler(aging_passes=3)
    s.push("bg", B)
    served = []
    for n in range(20):
        s.push(f"i{n}", INT)
        e = s.pop(timeout=0)
        assert isinstance(e, Entry)
        served.append(e.item)
        if e.item == "bg":
            break
    # Two levels above INTERACTIVE, aged one level per 3 pops: served after 6 pops.
    assert "bg" in served
    assert served.index("bg") == 6


def test_without_aging_the_background_job_waits() -> None:
    s: Scheduler[str] = Scheduler(aging_passes=0)
    s.push("bg", B)
    for n in range(20):
        s.push(f"i{n}", INT)
        e = s.pop(timeout=0)
        assert isinstance(e, Entry) and e.item != "bg"


def test_requeue_keeps_the_place_in_line() -> None:
    s: Scheduler[str] = Scheduler(aging_passes=0)
    s.push("first", B)
    e = s.pop(timeout=0)
    assert isinstance(e, Entry)
    s.push("second", B)
    s.requeue(e)  # suspended and put back: still ahead of a later one of the same priority
    assert drain(s) == ["first", "second"]


def test_remove_and_position() -> None:
    s: Scheduler[str] = Scheduler(aging_passes=0)
    for name, p in [("a", B), ("b", INT), ("c", B)]:
        s.push(name, p)
    assert s.position("c") == 2 and s.position("b") == 0
    assert s.remove("a") and not s.remove("a")
    assert s.position("a") == -1
    assert drain(s) == ["b", "c"]


def test_eligibility_skips_without_losing_order() -> None:
    s: Scheduler[str] = Scheduler(aging_passes=0)
    for name in ["x1", "y1", "x2"]:
        s.push(name, INT)
    e = s.pop(lambda item: not item.startswith("x"), timeout=0)
    assert isinstance(e, Entry) and e.item == "y1"
    assert s.more_urgent_than(B) and not s.more_urgent_than(INT)
    assert not s.more_urgent_than(B, lambda item: False)
    assert drain(s) == ["x1", "x2"]


def test_control_tasks_run_first_and_do_not_preempt() -> None:
    s: Scheduler[str] = Scheduler()
    s.push("job", INT)
    ran: list[str] = []
    s.call_soon(lambda: ran.append("ctl"))
    assert not s.more_urgent_than(B)
    first = s.pop(timeout=0)
    assert not isinstance(first, Entry) and first is not None
    first()
    assert ran == ["ctl"]


def test_pop_blocks_until_push_and_close_wakes_it() -> None:
    s: Scheduler[str] = Scheduler()
    got: list[object] = []
    t = threading.Thread(target=lambda: got.append(s.pop(timeout=10)))
    t.start()
    s.push("late", F)
    t.join(10)
    assert isinstance(got[0], Entry) and got[0].item == "late"
    t2 = threading.Thread(target=lambda: got.append(s.pop(timeout=10)))
    t2.start()
    s.push("left", B)
    t2.join(10)
    s.push("waiting", B)
    assert s.close() == ["waiting"]
    assert s.pop(timeout=1) is None
    with pytest.raises(QueueClosed):
        s.push("after", INT)


def test_pop_times_out_empty() -> None:
    s: Scheduler[str] = Scheduler()
    assert s.pop(timeout=0.01) is None


def test_full_queue_refuses() -> None:
    s: Scheduler[str] = Scheduler(max_depth=2)
    s.push("a", INT)
    s.push("b", INT)
    with pytest.raises(OverflowError):
        s.push("c", INT)


def test_an_aged_running_job_is_not_preempted_by_one_served_after_it() -> None:
    s: Scheduler[str] = Scheduler(aging_passes=1)
    s.push("old-bg", B)
    for n in range(4):  # four pops go by: the background entry ages past INTERACTIVE
        s.push(f"i{n}", INT)
    order = []
    for _ in range(5):
        e = s.pop(timeout=0)
        assert isinstance(e, Entry)
        order.append(e.item)
        if e.item == "old-bg":
            running = e
            break
    s.push("fresh", INT)
    # The fresh one has a better base priority, but it would be served after the aged one:
    assert s.more_urgent_than(B) and not s.more_urgent_than(B, running=running)
