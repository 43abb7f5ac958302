"""What `headwater ingest` runs: a request checked against a domain's partitions and turned
into a plan of runs. The types and the checks every domain's planner shares."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Protocol


class BadParameter(Exception):
    """A parameter that cannot be used; the message names it and what is expected."""


@dataclass(frozen=True)
class IngestRequest:
    api: str
    start: date
    end: date  # inclusive
    dataset: str | None = None
    schema: str | None = None
    symbols: tuple[str, ...] | None = None
    config_path: Path | None = None


class IngestJob(Protocol):
    """A predefined request from the settings file (`headwater ingest --job NAME`)."""

    api: str
    schema_: str | None
    symbols: list[str] | None
    start_date: date
    end_date: date
    description: str

    def model_dump(self, **kwargs) -> dict: ...


@dataclass(frozen=True)
class Step:
    job: str
    partitions: tuple[str, str]  # first and last partition key
    run_config: dict = field(default_factory=dict)
    what: str = ""


@dataclass(frozen=True)
class Plan:
    api: str
    start: date
    end: date  # inclusive
    steps: list[Step]
    schema: str | None = None
    symbols: tuple[str, ...] = ()
    dataset: str | None = None

    def describe(self) -> str:
        what = self.api if self.schema is None else f"{self.api} {self.dataset} {self.schema}"
        symbols = f" {','.join(self.symbols)}" if self.symbols else ""
        return f"{what}{symbols} {self.start} .. {self.end}"


def in_range(
    option: str, day: date, first: date, last: date, grain: str, setting: str = "start_date"
) -> None:
    if day < first:
        raise BadParameter(
            f"{option} {day} is before the first {grain} partition {first} "
            f"({setting} in the settings file)"
        )
    if day > last:
        raise BadParameter(f"{option} {day} is after the last {grain} partition {last} (today)")


def month_key(day: date) -> str:
    """The monthly partition key holding `day` (a date or a pandas Timestamp)."""
    return f"{day.year:04d}-{day.month:02d}-01"


def month_end(first_of_month: date) -> date:
    return (first_of_month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
