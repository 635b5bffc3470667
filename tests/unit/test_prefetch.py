"""The stream helpers keep order, surface errors, bound what is in flight, and stop their threads when abandoned."""
from __future__ import annotations

import threading
import time

import pytest

from chalicelib.ingest.prefetch import mapped, prefetched


def test_yields_everything_in_order() -> None:
    assert list(prefetched(iter(range(100)), depth=3)) == list(range(100))


def test_a_producer_error_reaches_the_consumer_after_the_good_items() -> None:
    def items():
        yield 1
        yield 2
        raise ValueError("bad chunk")

    seen = []
    with pytest.raises(ValueError, match="bad chunk"):
        for item in prefetched(items()):
            seen.append(item)
    assert seen == [1, 2]


def test_stopping_early_stops_the_producer() -> None:
    produced = []

    def endless():
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    stream = prefetched(endless(), depth=2)
    assert next(stream) == 0
    stream.close()
    time.sleep(0.3)
    count = len(produced)
    time.sleep(0.3)
    assert len(produced) == count <= 5
    assert not [t for t in threading.enumerate() if t.name == "prefetch" and t.is_alive()]


def test_mapped_keeps_order_even_when_later_items_finish_first() -> None:
    def slow_for_small(n: int) -> int:
        time.sleep(0.02 if n % 3 == 0 else 0)
        return n * n

    assert list(mapped(slow_for_small, iter(range(20)), workers=3)) == [n * n for n in range(20)]


def test_mapped_pulls_items_only_as_results_are_taken() -> None:
    pulled = []

    def items():
        for n in range(1000):
            pulled.append(n)
            yield n

    stream = mapped(lambda n: n, items(), workers=2)
    assert next(stream) == 0
    assert len(pulled) <= 3  # workers + 1 in flight
    stream.close()


def test_mapped_raises_a_worker_error_in_the_consumer() -> None:
    def boom(n: int) -> int:
        if n == 4:
            raise ValueError("bad chunk 4")
        return n

    seen = []
    with pytest.raises(ValueError, match="bad chunk 4"):
        for item in mapped(boom, iter(range(10)), workers=2):
            seen.append(item)
    assert seen == [0, 1, 2, 3]
