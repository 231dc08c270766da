"""The worker pool grows only while its workers wait on I/O (upip.workers)."""

from __future__ import annotations

import threading
import time

from upip.workers import DaemonPool, waiting


def test_work_that_never_waits_takes_one_worker() -> None:
    pool = DaemonPool(8)
    futures = [pool.submit(sum, range(i * 1000)) for i in range(50)]
    assert [f.result(timeout=10) for f in futures] == [sum(range(i * 1000)) for i in range(50)]
    assert pool.started == 1
    pool.shutdown()


def test_workers_that_wait_let_the_pool_grow_to_its_limit() -> None:
    """Four tasks that each wait for all four to be waiting at once: they
    only finish if the pool ran them side by side (a barrier that breaks
    after 10 s, not a hang, if it did not)."""
    pool = DaemonPool(4)
    together = threading.Barrier(4, timeout=10)

    def request() -> int:
        with waiting():
            return together.wait()

    futures = [pool.submit(request) for _ in range(4)]
    assert sorted(f.result(timeout=20) for f in futures) == [0, 1, 2, 3]
    assert pool.started == 4
    pool.shutdown()


def test_the_pool_never_passes_its_limit() -> None:
    pool = DaemonPool(3)
    release = threading.Event()
    inside = threading.Semaphore(0)
    lock = threading.Lock()
    most = [0, 0]  # [now, most at once]

    def request() -> None:
        with waiting():
            with lock:
                most[0] += 1
                most[1] = max(most)
            inside.release()
            release.wait(10)
            with lock:
                most[0] -= 1

    futures = [pool.submit(request) for _ in range(9)]
    for _ in range(3):
        assert inside.acquire(timeout=10)  # three are waiting at once...
    assert not inside.acquire(timeout=0.2)  # ...and no fourth got in
    release.set()
    for f in futures:
        f.result(timeout=10)
    assert pool.started == 3 and most[1] == 3
    pool.shutdown()


def test_waiting_off_a_worker_changes_nothing() -> None:
    with waiting():  # the main thread belongs to no pool
        pass


def test_a_long_parse_does_not_hold_back_a_request_while_another_waits() -> None:
    """One worker waits on the network, another is busy parsing: queued work
    gets a worker of its own at once, not when the parse ends (the parse
    here ends only when that work has run, or after 10 s)."""
    pool = DaemonPool(4)
    on_the_wire, answer, ran = threading.Event(), threading.Event(), threading.Event()

    def request() -> None:
        with waiting():
            on_the_wire.set()
            answer.wait(10)

    def parse() -> bool:
        deadline = time.monotonic() + 10
        while not ran.is_set() and time.monotonic() < deadline:
            sum(range(1000))  # holds no wait(): a worker at work
        return ran.is_set()

    first = pool.submit(request)
    assert on_the_wire.wait(10)
    busy = pool.submit(parse)
    pool.submit(ran.set).result(timeout=20)
    assert busy.result(timeout=20), "the queued work waited for the parse to end"
    answer.set()
    first.result(timeout=10)
    pool.shutdown()
