"""Overlap two stages of a stream on the machine's cores: read-and-clean the next chunk while the current
one is encoded and uploaded. Arrow, pandas and zstd release the GIL, so plain threads suffice."""
from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


def prefetched(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """Yield ``items`` produced on a background thread, at most ``depth`` ahead (memory stays bounded).

    An exception in the producer is raised in the consumer; a consumer that stops early stops the producer.
    """
    ready: queue.Queue[tuple[BaseException | None, object]] = queue.Queue(maxsize=depth)
    stopping = threading.Event()

    def offer(entry: tuple[BaseException | None, object]) -> bool:
        while not stopping.is_set():
            try:
                ready.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer((None, item)):
                    return
            offer((None, _DONE))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            offer((exc, None))

    worker = threading.Thread(target=produce, name="prefetch", daemon=True)
    worker.start()
    try:
        while True:
            error, item = ready.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item  # type: ignore[misc]
    finally:
        stopping.set()
        worker.join(timeout=5)
