"""Per-year progress of a simulation run, for whoever is watching in this process.

The yearly asset runs in process (the in_process executor), so the CLI can listen
here and print elapsed time and an ETA while Dagster records the run.
"""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class ProgressEvent:
    kind: str  # "year_started" | "stage_done" | "year_done" | "failed"
    year: int
    index: int  # 1-based position of the year in this run
    total: int  # years in this run
    stage: str | None = None
    seconds: float = 0.0  # time of the stage / year
    message: str | None = None


_listeners: list[Callable[[ProgressEvent], None]] = []
_lock = threading.Lock()


@contextmanager
def listen(callback: Callable[[ProgressEvent], None]) -> Iterator[None]:
    with _lock:
        _listeners.append(callback)
    try:
        yield
    finally:
        with _lock:
            _listeners.remove(callback)


def emit(event: ProgressEvent) -> None:
    with _lock:
        listeners = list(_listeners)
    for callback in listeners:
        callback(event)
