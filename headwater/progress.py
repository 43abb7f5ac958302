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


class Channel:
    """Listeners of one kind of progress event, in this process."""

    def __init__(self) -> None:
        self._listeners: list[Callable] = []
        self._lock = threading.Lock()

    @contextmanager
    def listen(self, callback: Callable) -> Iterator[None]:
        with self._lock:
            self._listeners.append(callback)
        try:
            yield
        finally:
            with self._lock:
                self._listeners.remove(callback)

    def emit(self, event) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for callback in listeners:
            callback(event)


_channel = Channel()
listen = _channel.listen
emit = _channel.emit
