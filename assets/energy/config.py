"""Energy settings: the `energy:` section of config/headwater.yaml, validated at load."""

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from assets.energy.wire_formats import SERIES_DEFAULTS
from headwater import settings
from headwater.config import ClockTime, Owners, TimeZone, load_section

Source = Literal["eia", "fred", "yahoo"]
SOURCES: tuple[Source, ...] = ("eia", "fred", "yahoo")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EIASeries(_Strict):
    series: str
    route: str


class Commodity(_Strict):
    """One commodity: its series id at each source and its plausible price range."""

    eia: EIASeries
    fred: str
    yahoo: str
    min_price: float
    max_price: float

    @model_validator(mode="after")
    def _range(self) -> "Commodity":
        if self.min_price >= self.max_price:
            raise ValueError(
                f"min_price ({self.min_price}) must be below max_price ({self.max_price})"
            )
        return self

    def series_id(self, source: Source) -> str:
        return self.eia.series if source == "eia" else getattr(self, source)


# Plausible price ranges (record rule E-R05, gate G-03). WTI really settled at -37.63 on
# 2020-04-20: negative prices are in range for crude.
DEFAULT_PRICE_RANGES = {"WTI": (-50.0, 200.0), "BRENT": (0.0, 200.0), "NATGAS": (0.0, 50.0)}

# Series ids come from the sources' own table (wire_formats.SERIES_DEFAULTS).
DEFAULT_COMMODITIES = {
    name: Commodity(
        eia=EIASeries(series=s.eia_series, route=s.eia_route),
        fred=s.fred_series,
        yahoo=s.yahoo_symbol,
        min_price=DEFAULT_PRICE_RANGES[name][0],
        max_price=DEFAULT_PRICE_RANGES[name][1],
    )
    for name, s in SERIES_DEFAULTS.items()
}


class Endpoint(_Strict):
    # Live mode: the API's root URL (None: the real API's). HEADWATER_<SOURCE>_URL overrides.
    base_url: str | None = Field(default=None, pattern=r"^https?://\S+$")


# The environment variable that overrides each source's base_url (settings.endpoint).
ENDPOINT_ENV = {source: f"HEADWATER_{source.upper()}_URL" for source in ("eia", "fred", "yahoo")}


class EnergyConfig(_Strict):
    start_date: date = date(2015, 1, 1)
    eia: Endpoint = Endpoint()
    fred: Endpoint = Endpoint()
    yahoo: Endpoint = Endpoint()
    commodities: dict[str, Commodity] = Field(default_factory=lambda: dict(DEFAULT_COMMODITIES))
    # Which source wins when several report the same commodity and day.
    authority_order: list[Source] = ["eia", "fred", "yahoo"]
    # Quality gate: share of business days with a value, over the trailing window.
    completeness_threshold: float = Field(default=0.9, gt=0.0, le=1.0)
    completeness_window_days: int = Field(default=60, ge=5)
    # WARN checks.
    jump_threshold: float = Field(default=0.25, gt=0.0)
    disagreement_threshold: float = Field(default=0.02, gt=0.0)
    # Freshness: the newest price may be at most this many business days old.
    freshness_business_days: int = Field(default=2, ge=0)
    schedule_time: ClockTime = "06:00"
    schedule_timezone: TimeZone = "America/New_York"
    # On every asset of the domain (emails or team:<name>): the UI's owner column and filter.
    owners: Owners = ["team:energy"]

    @field_validator("start_date")
    @classmethod
    def _not_ahead(cls, value: date) -> date:
        if value > date.today():
            raise ValueError(f"{value} is in the future: the first month must have begun")
        return value

    @field_validator("authority_order")
    @classmethod
    def _permutation(cls, value: list[Source]) -> list[Source]:
        if sorted(value) != sorted(SOURCES):
            raise ValueError(f"must list each of {', '.join(SOURCES)} exactly once")
        return value

    @field_validator("commodities")
    @classmethod
    def _names(cls, value: dict[str, Commodity]) -> dict[str, Commodity]:
        if not value:
            raise ValueError("at least one commodity is required")
        for name in value:
            if not name.isupper() or not name.replace("_", "").isalnum():
                raise ValueError(f"commodity name {name!r} must be UPPER_SNAKE_CASE")
        return value

    def endpoint(self, source: Source) -> tuple[str | None, str]:
        """The base URL of `source` and where it comes from (environment, settings, default)."""
        return settings.endpoint(ENDPOINT_ENV[source], getattr(self, source).base_url)

    def endpoints(self) -> dict[str, tuple[str | None, str, bool]]:
        """name -> (URL, where it comes from, https only), for `headwater doctor`."""
        return {f"energy.{s}.base_url": (*self.endpoint(s), False) for s in SOURCES}

    def series_map(self, source: Source) -> dict[str, str]:
        """series id at `source` -> commodity name."""
        return {c.series_id(source): name for name, c in self.commodities.items()}


def load_energy_config(path=None) -> EnergyConfig:
    return load_section("energy", EnergyConfig, path)


# The loader `headwater doctor` finds by the section's name (assets.<section>.config).
load_config = load_energy_config
