"""The ranges of samples one call's threads take (:mod:`sdkit.engine.threads`)."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from sdkit.engine import threads
from sdkit.engine.threads import ALIGN, guided_ranges, run_threads


@pytest.mark.parametrize(("first", "n", "workers"), [(0, 10_000, 2), (0, 40, 2), (0, 33, 2), (4096, 10_000, 2),
                                                     (0, 1_000_000, 8), (100, 101, 2), (0, 129, 3)])
def test_ranges_cover_the_samples_once_in_order_and_shorten_towards_the_end(first, n, workers):
    ranges = list(guided_ranges(first, n, workers))
    assert ranges[0][0] == first
    assert ranges[-1][1] == n
    assert all(stop == next_start for (_, stop), (next_start, _) in itertools.pairwise(ranges))
    sizes = [stop - start for start, stop in ranges]
    assert all(size > 0 for size in sizes)
    assert sizes[:-1] == sorted(sizes[:-1], reverse=True)
    if n - first >= workers * ALIGN:  # every range but the last a whole number of lane blocks
        assert all(size % ALIGN == 0 for size in sizes[:-1])


def test_a_thread_slowed_down_takes_fewer_samples(monkeypatch):
    monkeypatch.setattr(threads, "usable_cpus", lambda: 2)
    done: dict[str, int] = {}
    slow = []

    def fn(start: int, stop: int) -> None:
        name = threading.current_thread().name
        if not slow:
            slow.append(name)  # the first thread to start is the slow one, as if another job shared its core
        time.sleep((stop - start) * (1e-4 if name == slow[0] else 1e-5))
        done[name] = done.get(name, 0) + stop - start

    run_threads(fn, (), 10_000)
    assert sum(done.values()) == 10_000
    assert done[slow[0]] < 5_000 < max(done.values())
