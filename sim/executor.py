"""Where replications run: one interface, three backends (in this process, local worker
processes, a Dask cluster). Each backend calls ``fn(shared, job)`` for every job and yields the
results in the order of the jobs, so a run's numbers never depend on where it ran.

``shared`` (a scenario) is sent once per worker, not once per job: inherited by forked local
workers, scattered to a Dask cluster's workers.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import itertools
import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol, TypeVar

from corridors.errors import InputError, Parameter, WorkerLost

__all__ = ["DaskCluster", "Executor", "InProcess", "LocalProcesses", "executor_for"]

J = TypeVar("J")
R = TypeVar("R")

_SHARED: Any = None  # set in the parent before forking local workers
_FN: Any = None


class Executor(Protocol):
    """Runs ``fn(shared, job)`` for each job; yields the results in job order."""

    name: str
    workers: int

    def map(self, fn: Callable[[Any, J], R], shared: Any, jobs: Sequence[J]) -> Iterator[R]: ...

    def close(self) -> None: ...


class InProcess:
    """Every job in this process, one after the other."""

    name = "in-process"
    workers = 1

    def map(self, fn: Callable[[Any, J], R], shared: Any, jobs: Sequence[J]) -> Iterator[R]:
        for job in jobs:
            yield fn(shared, job)

    def close(self) -> None:
        pass


def _call(job: Any) -> Any:
    return _FN(_SHARED, job)


def _worker_start(parent: int) -> None:
    """In each worker: Ctrl-C is the parent's to handle (it stops the workers), SIGTERM and SIGHUP
    end the worker at once, and on Linux so does the parent's death, however it dies."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """End a pool's workers now, without waiting for their jobs (or for one blocked writing its
    result to a pipe nobody reads)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(2)
            if process.is_alive():
                process.kill()
                process.join(1)
    # A worker ended while sending its result leaves half a message in the result pipe, and the
    # pool's thread waits for the rest for ever: with every worker gone, the parent's own copy of
    # the pipe's writing end is the last one, and closing it ends that wait.
    writer = getattr(getattr(pool, "_result_queue", None), "_writer", None)
    if writer is not None:
        with contextlib.suppress(Exception):
            writer.close()
    with contextlib.suppress(Exception):
        pool.shutdown(wait=True)  # the pool marks the unfinished futures broken and stops its thread


def _windowed(submit: Callable[[J], Any], jobs: Sequence[J], window: int) -> Iterator[Any]:
    """The results of ``jobs`` in order, with at most ``window`` submitted and not yet taken."""
    pending: collections.deque[Any] = collections.deque()
    ahead = iter(jobs)
    for job in itertools.islice(ahead, window):
        pending.append(submit(job))
    while pending:
        result = pending.popleft().result()
        for job in itertools.islice(ahead, 1):
            pending.append(submit(job))
        yield result


class LocalProcesses:
    """Forked worker processes on this machine (in this process where fork is not available)."""

    name = "local processes"

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def map(self, fn: Callable[[Any, J], R], shared: Any, jobs: Sequence[J]) -> Iterator[R]:
        workers = max(1, min(self.workers, len(jobs)))
        if workers == 1 or "fork" not in multiprocessing.get_all_start_methods():
            yield from InProcess().map(fn, shared, jobs)
            return
        pool = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_worker_start,
            initargs=(os.getpid(),),
        )
        global _SHARED, _FN
        frozen_here = gc.get_freeze_count() == 0  # a caller's own freeze is theirs to undo
        if frozen_here:
            gc.freeze()  # the workers' collector leaves the parent's objects alone (no copy-on-write)
        _SHARED, _FN = shared, fn  # the workers inherit them when they fork
        try:
            # submit, not map: map cancels its futures when interrupted, and Python 3.11's pool
            # then fails (in a thread, with a traceback) to mark them broken as it stops
            # at most two jobs a worker in flight: finished results wait for the caller in memory,
            # so a caller slower than the workers (writing each result) must not let them pile up
            yield from _windowed(lambda job: pool.submit(_call, job), jobs, 2 * workers)
        except BrokenProcessPool as exc:  # a worker killed (by the kernel's out-of-memory killer, a signal)
            _stop_workers(pool)
            raise WorkerLost("killed, or out of memory") from exc
        except BaseException:  # Ctrl-C, SIGTERM, SIGHUP, a failure, or the caller stopped early
            _stop_workers(pool)
            raise
        finally:
            _SHARED = _FN = None
            if frozen_here:
                gc.unfreeze()
        pool.shutdown()

    def close(self) -> None:
        pass


class DaskCluster:
    """A Dask distributed cluster: a scheduler's address (``tcp://host:8786``), or ``local`` to
    start a ``LocalCluster`` of ``workers`` processes on this machine for the run. The workers
    need this package installed (the same version)."""

    name = "dask"

    def __init__(self, address: str, workers: int = 2, *, connect_timeout_s: float = 10.0) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise InputError("a Dask scheduler needs the optional dependency: pip install 'corridors[dask]'") from None
        self.cluster: Any = None
        try:
            if address == "local":
                with _ctrl_c_ignored():  # its processes leave Ctrl-C to this one, which closes them
                    self.cluster = LocalCluster(
                        n_workers=workers,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=":0",  # a free port: clusters side by side never clash on 8787
                        silence_logs=logging.CRITICAL,  # a stopped run's cancelled tasks and closed links: noise
                    )
                self.client = Client(self.cluster)
            else:
                self.client = Client(address, timeout=f"{connect_timeout_s}s")
        except (OSError, TimeoutError, ValueError) as exc:
            if self.cluster is not None:
                self.cluster.close()
            raise InputError(f"cannot reach the Dask scheduler {address!r}: {exc}") from None
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        self.address = address

    def map(self, fn: Callable[[Any, J], R], shared: Any, jobs: Sequence[J]) -> Iterator[R]:
        remote = self.client.scatter(shared, broadcast=True, hash=False)
        futures: list[Any] = []

        def submit(job: J) -> Any:
            futures.append(self.client.submit(fn, remote, job, pure=False))
            return futures[-1]

        try:
            yield from _windowed(submit, jobs, 2 * self.workers)
        finally:
            self.client.cancel(futures)

    def close(self) -> None:
        quiet = logging.getLogger("distributed")
        level = quiet.level
        quiet.setLevel(logging.CRITICAL)  # a run stopped mid-way: the cluster's shutdown warnings are noise
        try:
            with contextlib.suppress(Exception):
                self.client.close()
            if self.cluster is not None:
                with contextlib.suppress(Exception):
                    self.cluster.close(timeout=5)
        finally:
            quiet.setLevel(level)


@contextlib.contextmanager
def _ctrl_c_ignored() -> Iterator[None]:
    """Processes started in the block ignore Ctrl-C (SIGINT ignored at their start stays ignored:
    Python installs no handler of its own then), so that a terminal's Ctrl-C, which reaches every
    process of the group, stops only this one, which then closes them."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def executor_for(workers: int = 1, scheduler: str | None = None) -> Executor:
    """The backend for ``workers`` local processes, or for a Dask ``scheduler`` ("local" or an address)."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InputError(Parameter("workers"), f" ({workers!r}) must be a whole number of at least 1")
    if scheduler is not None:
        return DaskCluster(scheduler, workers)
    return LocalProcesses(workers) if workers > 1 else InProcess()
