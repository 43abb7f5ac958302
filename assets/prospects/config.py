"""Prospects settings: the `prospects:` section of config/headwater.yaml, validated at load."""

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from headwater import settings
from headwater.config import ClockTime, Owners, TimeZone, load_section

Source = Literal["nfl", "cfr", "pff", "yahoo", "espn"]
SOURCES: tuple[Source, ...] = ("nfl", "cfr", "pff", "yahoo", "espn")
SOURCE_NAMES = {
    "nfl": "NFL.com combine",
    "cfr": "College Football Reference",
    "pff": "PFF grades",
    "yahoo": "Yahoo college stats",
    "espn": "ESPN injuries",
}
AUTHORITY_GROUPS = ("identity", "measurements", "statistics", "grades", "injuries")
DEFAULT_AUTHORITY: dict[str, list[Source]] = {
    "identity": ["nfl", "cfr", "pff", "yahoo", "espn"],
    "measurements": ["nfl", "cfr", "yahoo"],
    "statistics": ["cfr", "yahoo"],
    "grades": ["pff"],
    "injuries": ["espn"],
}
# Share of a file's records that must pass the record rules (check P-C01, blocking).
DEFAULT_MIN_LOADED = {"nfl": 0.95, "cfr": 0.95, "pff": 0.95, "yahoo": 0.95, "espn": 0.9}
# The real exports, for live mode; `{year}` is the draft year. nflverse publishes every
# season in one file: its rows are filtered to the partition's season.
DEFAULT_URLS: dict[str, str | None] = {
    "nfl": "https://github.com/nflverse/nflverse-data/releases/download/combine/combine.csv",
    "cfr": None,
    "pff": None,
    "yahoo": None,
    "espn": None,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# The environment variable that overrides each source's URL (settings.endpoint).
ENDPOINT_ENV = {source: f"HEADWATER_PROSPECTS_{source.upper()}_URL" for source in SOURCES}


class ProspectsConfig(_Strict):
    draft_years: list[int] = Field(default_factory=lambda: [2021, 2022, 2023, 2024, 2025])
    inbox: Path = Field(default_factory=lambda: settings.data_dir() / "inbox" / "prospects")
    archive: Path = Field(default_factory=lambda: settings.data_dir() / "archive" / "prospects")
    authority: dict[str, list[Source]] = Field(default_factory=lambda: dict(DEFAULT_AUTHORITY))
    min_loaded_share: dict[Source, float] = Field(default_factory=lambda: dict(DEFAULT_MIN_LOADED))
    outlier_z: float = Field(default=3.0, gt=0)
    urls: dict[Source, str | None] = Field(default_factory=lambda: dict(DEFAULT_URLS))
    school_aliases: dict[str, str] = Field(default_factory=dict)
    snapshot_start: date = date(2026, 1, 1)  # first day of the daily snapshot partitions
    schedule_time: ClockTime = "07:00"
    schedule_timezone: TimeZone = "America/New_York"
    # On every asset of the domain (emails or team:<name>): the UI's owner column and filter.
    owners: Owners = ["team:prospects"]
    # Freshness policy of the snapshot (assets/prospects/status.py): WARN when the newest is
    # more than this many days (and an hour) old, FAIL a day later.
    snapshot_max_age_days: int = Field(default=1, ge=1)
    failure_mode: Literal["fail_fast", "partial"] = "fail_fast"

    @field_validator("draft_years")
    @classmethod
    def _years(cls, value: list[int]) -> list[int]:
        if not value:
            raise ValueError("at least one draft year is required")
        for year in value:
            if not 1936 <= year <= 2100:
                raise ValueError(f"draft year {year} is outside 1936..2100")
        return sorted(set(value))

    @field_validator("inbox", "archive")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value if value.is_absolute() else (settings.REPO_ROOT / value).resolve()

    @field_validator("authority")
    @classmethod
    def _authority(cls, value: dict[str, list[Source]]) -> dict[str, list[Source]]:
        for group, order in value.items():
            if group not in AUTHORITY_GROUPS:
                raise ValueError(
                    f"unknown authority group {group!r}; expected one of {', '.join(AUTHORITY_GROUPS)}"
                )
            if not order or len(set(order)) != len(order):
                raise ValueError(f"authority.{group}: list each source at most once, at least one")
        return {**DEFAULT_AUTHORITY, **value}

    @field_validator("min_loaded_share")
    @classmethod
    def _shares(cls, value: dict[Source, float]) -> dict[Source, float]:
        for source, share in value.items():
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"min_loaded_share.{source} = {share}: expected 0..1")
        return {**DEFAULT_MIN_LOADED, **value}

    def endpoint(self, source: Source) -> tuple[str | None, str]:
        """The URL `source` downloads in live mode and where it comes from: the environment
        (HEADWATER_PROSPECTS_<SOURCE>_URL), prospects.urls, or none (sample files)."""
        return settings.endpoint(ENDPOINT_ENV[source], self.urls.get(source))

    def endpoints(self) -> dict[str, tuple[str | None, str, bool]]:
        """name -> (URL, where it comes from, https only), for `headwater doctor`."""
        return {f"prospects.urls.{s}": (*self.endpoint(s), False) for s in SOURCES}

    @field_validator("urls")
    @classmethod
    def _urls(cls, value: dict[Source, str | None]) -> dict[Source, str | None]:
        for source, url in value.items():
            if url is not None and not url.startswith(("http://", "https://")):
                raise ValueError(f"urls.{source} = {url!r}: expected an http(s) URL or null")
        return {**DEFAULT_URLS, **value}

    @model_validator(mode="after")
    def _apart(self) -> "ProspectsConfig":
        if self.inbox == self.archive:
            raise ValueError("inbox and archive must be different folders")
        return self

    @property
    def partition_keys(self) -> list[str]:
        return [str(y) for y in self.draft_years]


def load_prospects_config(path=None) -> ProspectsConfig:
    return load_section("prospects", ProspectsConfig, path)


# The loader `headwater doctor` finds by the section's name (assets.<section>.config).
load_config = load_prospects_config
