"""Spread the stages of a stream over the machine's cores: chunks are cleaned on two threads while the
previous one is encoded and uploaded. Arrow, NumPy and zstd release the GIL, so plain threads suffice."""
from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")
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


def mapped(function: Callable[[T], R], items: Iterator[T], workers: int = 2) -> Iterator[R]:
    """``map(function, items)`` on ``workers`` threads, in order, with at most ``workers + 1`` items in flight.

    Unlike ``Executor.map``, which submits the whole iterator at once, this pulls items only as results
    are taken, so a long stream of chunks never piles up in memory.
    """
    if workers <= 1:
        yield from map(function, items)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="chunk") as pool:
        pending: deque[Future[R]] = deque()
        try:
            for item in items:
                pending.append(pool.submit(function, item))
                if len(pending) > workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
