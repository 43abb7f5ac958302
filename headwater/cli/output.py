"""What a `headwater` command prints: its own lines on the console; Dagster's and dbt's
logs in a log file (and on the console too with --verbose)."""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from datetime import datetime
from pathlib import Path
from typing import TextIO

from headwater import settings


def log_path(command: str) -> Path:
    """A new log file for one command: $DAGSTER_HOME/logs/<command>-<time>-<pid>.log (two
    commands started in the same second each have their own)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return settings.dagster_home() / "logs" / f"{command}-{stamp}-{os.getpid()}.log"


class _Tee:
    def __init__(self, *streams: TextIO):
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()


@contextmanager
def logs_to(path: Path | None, verbose: bool = False) -> Iterator[None]:
    """While a run executes: whatever Dagster's console logger and dbt print goes to `path`
    (appended), and also to the console when `verbose`. No path: the console only."""
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as log:
        out = _Tee(log, sys.stdout) if verbose else log
        err = _Tee(log, sys.stderr) if verbose else log
        with redirect_stdout(out), redirect_stderr(err):  # type: ignore[arg-type]
            yield
