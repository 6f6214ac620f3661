"""paused_gc(): overlapping pauses in several threads never leave the cyclic GC off."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from juston_tui.gc_pause import enable_gc, paused_gc


@pytest.fixture(autouse=True)
def _gc_back_on() -> Iterator[None]:
    yield
    gc.enable()


def test_pause_restores_the_previous_state() -> None:
    gc.enable()
    with paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    with paused_gc():
        pass
    assert not gc.isenabled()


def test_overlapping_pauses_in_two_threads_end_with_the_gc_on() -> None:
    """A pauses, B pauses (and sees it off), A ends, B ends: B stays paused after A ended
    (a plain disable/enable pair let A switch the GC back on under B), and the GC is on after
    B, as it was before A."""
    gc.enable()
    during_b_after_a: list[bool] = []
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()

    def a() -> None:
        with paused_gc():
            a_in.set()
            b_in.wait(5)
        a_out.set()

    def b() -> None:
        a_in.wait(5)
        with paused_gc():
            b_in.set()
            a_out.wait(5)
            during_b_after_a.append(gc.isenabled())

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert during_b_after_a == [False]
    assert gc.isenabled()


def test_enable_during_a_pause_takes_effect_when_it_ends() -> None:
    """Start-up: launch.py turns the GC off, a worker pauses it, the first frame turns it on."""
    gc.disable()
    with paused_gc():
        enable_gc()
        assert not gc.isenabled()
    assert gc.isenabled()
