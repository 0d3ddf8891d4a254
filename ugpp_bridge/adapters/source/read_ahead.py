"""Runs a producer one item ahead in a background thread, so that I/O overlaps with work.

The build uses it to let the source database compute the next chunk of persons while the
current one is written as XML: the database driver releases the GIL while it waits. At most
one item waits in the queue, so memory stays bounded.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


def read_ahead(produce: Callable[[], Iterator[T]], name: str = "read-ahead") -> Iterator[T]:
    """The items of ``produce()``, computed one ahead; its exceptions are re-raised here."""
    items: queue.Queue[object] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in produce():
                if not put(item):
                    return
            put(_DONE)
        except BaseException as exc:  # handed over and raised in the consuming thread
            put(_Failure(exc))

    worker = threading.Thread(target=work, name=name, daemon=True)
    worker.start()
    try:
        while (item := items.get()) is not _DONE:
            if isinstance(item, _Failure):
                raise item.exc
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join(timeout=60)


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
