"""Per-year progress of a simulation run, for whoever is watching in this process.

The yearly asset runs in process (the in_process executor), so the CLI can listen
here and print elapsed time and an ETA while Dagster records the run.
"""

from dataclasses import dataclass

from headwater.progress import Channel


@dataclass(frozen=True)
class ProgressEvent:
    kind: str  # "year_started" | "stage_done" | "year_done" | "failed"
    year: int
    index: int  # 1-based position of the year in this run
    total: int  # years in this run
    stage: str | None = None
    seconds: float = 0.0  # time of the stage / year
    message: str | None = None


# The same mechanism as every domain's progress (headwater/progress.py), its own channel.
_channel = Channel()
listen = _channel.listen
emit = _channel.emit
