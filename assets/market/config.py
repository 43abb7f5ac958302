"""Market settings: the `market:` section of config/headwater.yaml, validated at load.

Also the vocabulary the CLI checks parameters against before anything runs: the
schemas Headwater ingests, the parent-symbol format, and the predefined jobs
(`headwater ingest --job NAME`).
"""

import re
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from headwater import settings
from headwater.config import ClockTime, Owners, TimeZone, load_section

# Schema -> partition grain: intraday schemas by day, daily-resolution ones by month (ten
# years of daily bars are ~120 partitions, not 2,500). Second and hour bars, quotes and
# trading status are intraday: a day of them is one partition (docs/market.md, Schemas).
SCHEMAS: dict[str, Literal["daily", "monthly"]] = {
    "ohlcv-1d": "monthly",
    "statistics": "monthly",
    "definition": "monthly",
    "ohlcv-1m": "daily",
    "trades": "daily",
    "ohlcv-1s": "daily",
    "ohlcv-1h": "daily",
    "tbbo": "daily",
    "mbp-1": "daily",
    "bbo-1s": "daily",
    "bbo-1m": "daily",
    "status": "daily",
}
INTRADAY = tuple(s for s, grain in SCHEMAS.items() if grain == "daily")
MONTHLY = tuple(s for s, grain in SCHEMAS.items() if grain == "monthly")
APIS = ("databento", "eia", "fred", "yahoo")

# Databento parent symbology: a root of 1-6 capitals/digits, then ".FUT" (or ".OPT").
PARENT_SYMBOL = re.compile(r"^[A-Z0-9]{1,6}\.(FUT|OPT)$")
DATASET = re.compile(r"^[A-Z0-9]+\.[A-Z0-9]+$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def symbol_problem(symbol: str) -> str | None:
    """Why `symbol` is not a parent symbol, or None."""
    if PARENT_SYMBOL.fullmatch(symbol):
        return None
    return f"{symbol!r} is not a parent symbol like CL.FUT (root in capitals, then .FUT)"


class Roll(_Strict):
    """How the continuous front-month series picks its contract each day (docs/market.md)."""

    method: Literal["open_interest", "days_before_expiry"] = "open_interest"
    # days_before_expiry: leave a contract this many calendar days before it expires.
    days_before_expiry: int = Field(default=5, ge=0, le=60)


class IngestJob(_Strict):
    """A predefined ingest (`headwater ingest --job NAME`)."""

    api: Literal["databento", "eia", "fred", "yahoo"]
    start_date: date
    end_date: date
    schema_: str | None = Field(default=None, alias="schema")
    symbols: list[str] | None = None
    description: str = ""

    @model_validator(mode="after")
    def _check(self) -> "IngestJob":
        if self.end_date < self.start_date:
            raise ValueError(f"end_date {self.end_date} is before start_date {self.start_date}")
        if self.api == "databento":
            if self.schema_ not in SCHEMAS:
                raise ValueError(f"schema must be one of {', '.join(SCHEMAS)}")
            for symbol in self.symbols or []:
                if problem := symbol_problem(symbol):
                    raise ValueError(problem)
        elif self.schema_ is not None or self.symbols is not None:
            raise ValueError(f"schema and symbols apply to api databento only, not {self.api}")
        return self


GATEWAY_ENV = "HEADWATER_DATABENTO_GATEWAY"  # overrides market.gateway (settings.endpoint)


class MarketConfig(_Strict):
    dataset: str = "GLBX.MDP3"
    # Live mode: Databento's historical gateway (None: the client's default, https only).
    gateway: str | None = Field(default=None, pattern=r"^https://\S+$")
    symbols: list[str] = ["CL.FUT", "ES.FUT", "NG.FUT"]
    # More datasets, each with its parent symbols (e.g. IFEU.IMPACT: [BRN.FUT], ICE Brent):
    # loaded beside `dataset` into the same tables, told apart by their `dataset` column.
    datasets: dict[str, list[str]] = {}
    # Monthly partitions (ohlcv-1d, statistics, definition) from this month; daily
    # partitions (ohlcv-1m, trades) from intraday_start_date.
    start_date: date = date(2024, 1, 1)
    intraday_start_date: date = date(2026, 11, 1)
    roll: Roll = Roll()
    chunk_records: int = Field(default=500_000, ge=1_000, le=50_000_000)
    # The warehouse's memory cap while a load runs, where the engine has one (DuckDB's
    # buffer pool would otherwise keep what it wrote, growing with the range loaded).
    load_memory_mb: int = Field(default=128, ge=64)
    transform_rules: str = str(settings.REPO_ROOT / "config" / "market" / "transform")
    schedule_time: ClockTime = "18:00"
    schedule_timezone: TimeZone = "America/Chicago"
    # On every asset of the domain (emails or team:<name>): the UI's owner column and filter.
    owners: Owners = ["team:market"]
    # Live mode: stream each request (timeseries.get_range), or send it as a batch job and
    # load its files; auto: a batch job when the request's billable size is above
    # batch_above_mb (Databento recommends batch downloads over 5 GB).
    transport: Literal["auto", "stream", "batch"] = "auto"
    batch_above_mb: float = Field(default=5000.0, ge=0)
    jobs: dict[str, IngestJob] = {}
    # The folder the sensor market_inbox watches for DBN files and batch-download folders.
    inbox: Path = Field(default_factory=lambda: settings.data_dir() / "inbox" / "market")

    def parents(self, dataset: str) -> list[str]:
        """The parent symbols configured for `dataset` (none for a dataset not configured)."""
        return list(self.symbols) if dataset == self.dataset else self.datasets.get(dataset, [])

    def all_datasets(self) -> dict[str, list[str]]:
        """Every configured dataset and its parents, `dataset` first."""
        return {self.dataset: list(self.symbols), **self.datasets}

    def first_day(self, schema: str) -> date:
        """The first day of `schema`'s partitions."""
        return self.intraday_start_date if schema in INTRADAY else self.start_date

    def endpoint(self) -> tuple[str | None, str]:
        """The gateway and where it comes from (environment, settings, default)."""
        return settings.endpoint(GATEWAY_ENV, self.gateway)

    def endpoints(self) -> dict[str, tuple[str | None, str, bool]]:
        """name -> (URL, where it comes from, https only), for `headwater doctor`."""
        return {"market.gateway": (*self.endpoint(), True)}

    @field_validator("dataset")
    @classmethod
    def _dataset(cls, value: str) -> str:
        if not DATASET.fullmatch(value):
            raise ValueError(f"dataset {value!r} is not like GLBX.MDP3")
        return value

    @field_validator("datasets")
    @classmethod
    def _datasets(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for dataset, symbols in value.items():
            if not DATASET.fullmatch(dataset):
                raise ValueError(f"dataset {dataset!r} is not like IFEU.IMPACT")
            cls._symbols(symbols)
        return {d: list(dict.fromkeys(s)) for d, s in value.items()}

    @field_validator("symbols")
    @classmethod
    def _symbols(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one parent symbol is required")
        for symbol in value:
            if problem := symbol_problem(symbol):
                raise ValueError(problem)
        return list(dict.fromkeys(value))

    @field_validator("transform_rules")
    @classmethod
    def _rules_dir(cls, value: str) -> str:
        if not Path(value).is_dir():
            raise ValueError(
                f"{value} is not a folder: expected the folder of the transformation rule "
                "files (<schema>.yaml, config/market/transform)"
            )
        return value

    @field_validator("start_date", "intraday_start_date")
    @classmethod
    def _not_ahead(cls, value: date) -> date:
        if value > date.today():
            raise ValueError(f"{value} is in the future: the first partition must have begun")
        return value

    @model_validator(mode="after")
    def _dates(self) -> "MarketConfig":
        if self.dataset in self.datasets:
            raise ValueError(
                f"datasets names {self.dataset}, which is already `dataset`: list its "
                "symbols under `symbols`"
            )
        if self.intraday_start_date < self.start_date:
            raise ValueError(
                f"intraday_start_date {self.intraday_start_date} is before start_date "
                f"{self.start_date}"
            )
        return self


def load_market_config(path=None) -> MarketConfig:
    return load_section("market", MarketConfig, path)


# The loader `headwater doctor` finds by the section's name (assets.<section>.config).
load_config = load_market_config
