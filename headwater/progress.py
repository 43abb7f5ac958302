"""Progress of a run's steps, for whoever is watching in this process.

Assets run in process (the in_process executor), so a command that launched the run
can listen here and draw a progress bar or write JSON lines while Dagster records the
run. Assets emit whether anyone listens or not; with no listener it costs a lock.
"""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Progress:
    stage: str  # "fetch" | "chunk" | "partition_done" | ...
    asset: str  # the asset key as a path, "staging/market_ohlcv_1d"
    partition: str | None = None
    counts: dict[str, Any] = field(default_factory=dict)  # records in, loaded, quarantined...

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_listeners: list[Callable[[Progress], None]] = []
_lock = threading.Lock()


@contextmanager
def listen(callback: Callable[[Progress], None]) -> Iterator[None]:
    with _lock:
        _listeners.append(callback)
    try:
        yield
    finally:
        with _lock:
            _listeners.remove(callback)


def emit(event: Progress) -> None:
    with _lock:
        listeners = list(_listeners)
    for callback in listeners:
        callback(event)
