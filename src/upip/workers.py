"""A thread pool whose workers never hold up the end of the process, and
that grows only while its workers wait on the network.

``concurrent.futures.ThreadPoolExecutor`` joins its workers at exit, so a
speculative download still running (or stalled) after an install finished,
failed or was interrupted with Ctrl-C would keep ``upip`` alive until it ended.
Work here is only ever downloads and parsing whose results live in memory,
so abandoning it at exit is safe: the image is changed by the main thread only.

Threads only help while they wait: parsing a page or an archive holds the
GIL, and a second thread parsing beside the first just takes turns with it
(and with the resolver on the main thread). So a new worker starts only for
queued work that no worker is free to take, and only while some worker is
waiting in :func:`waiting` (a request on the wire, its turn at the GIL free):
a run the cache answers uses one worker, a cold one up to ``max_workers``
requests at once, and a request is never held back behind a long parse
while another waits on the network. (So work here must never wait for other
work queued here: with no worker to spare it would wait behind itself. Only
the main thread waits on these futures.)
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

T = TypeVar("T")

_here = threading.local()  # .pool: the DaemonPool whose worker this thread is


@contextlib.contextmanager
def waiting() -> Iterator[None]:
    """Mark the calling worker as waiting on I/O for the block (a no-op on any
    other thread): its pool may start another worker for the queued work."""
    pool = getattr(_here, "pool", None)
    if pool is None:
        yield
        return
    pool._wait(+1)
    try:
        yield
    finally:
        pool._wait(-1)


class DaemonPool(Executor):
    def __init__(self, max_workers: int, name: str = "upip") -> None:
        self.max_workers = max(1, max_workers)
        self.name = name
        self._queue: queue.SimpleQueue[tuple[Future[Any], Callable[..., Any], tuple[Any, ...],
                                             dict[str, Any]] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = 0  # workers waiting for work
        self._waiting = 0  # workers waiting on I/O
        self._queued = 0  # work no worker has taken yet
        self._lock = threading.Lock()
        self._shutdown = False

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot submit after shutdown")
            self._queue.put((future, fn, args, kwargs))
            self._queued += 1
            self._grow()
        return future

    @property
    def started(self) -> int:
        """Workers started so far."""
        return len(self._threads)

    def _grow(self) -> None:
        """Start a worker if more work is queued than idle workers will take,
        and there is no worker yet or one waits on I/O (called with the lock
        held)."""
        if (self._queued > self._idle and (self._waiting or not self._threads)
                and len(self._threads) < self.max_workers and not self._shutdown):
            thread = threading.Thread(target=self._work, daemon=True,
                                      name=f"{self.name}-{len(self._threads)}")
            self._threads.append(thread)
            thread.start()

    def _wait(self, change: int) -> None:
        with self._lock:
            self._waiting += change
            if change > 0:
                self._grow()

    def _work(self) -> None:
        _here.pool = self
        while True:
            with self._lock:
                self._idle += 1
            item = self._queue.get()
            with self._lock:
                self._idle -= 1
                self._queued -= item is not None
            if item is None:
                return
            future, fn, args, kwargs = item
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(*args, **kwargs))
                except BaseException as exc:  # handed to whoever waits on it
                    future.set_exception(exc)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._shutdown = True
        if cancel_futures:
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    with self._lock:
                        self._queued -= 1
                    item[0].cancel()
        for _ in self._threads:
            self._queue.put(None)
        if wait:
            for thread in self._threads:
                thread.join()
