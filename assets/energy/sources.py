"""Source clients for the energy domain: EIA API v2, FRED and Yahoo Finance.

Each resource has `mode`: "sample" (default) reads the generated sample files, "live"
calls the real HTTP API (EIA and FRED need a key, wired from EnvVar). Both modes feed the
same parser in `assets.energy.wire_formats`, and `fetch` returns every observation in the
half-open window [start, end): the APIs' own end dates are inclusive, so they get end - 1.
Records whose date cannot be parsed are returned too (see `wire_formats.in_window`), so
the record rules downstream can quarantine them instead of losing them.

Configuration that cannot mean what it says is refused when the resource is built: a
`base_url` with mode "sample" (nothing would call it) raises SourceConfigError naming both.
`data_origin()` says where a resource's data comes from, for the staging metadata.
"""

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import dagster as dg
import requests
from pydantic import ConfigDict, Field, model_validator

from assets.energy import sample_data
from assets.energy.wire_formats import (
    EIA_PAGE_ROWS,
    EIA_ROUTES,
    FRED_MAX_LIMIT,
    RawObservation,
    WireFormatError,
    eia_total,
    fred_count,
    in_window,
    parse_eia_page,
    parse_fred_observations,
    parse_yahoo_chart,
)
from headwater import settings
from resources.http import (
    MissingAPIKeyError,
    Scrubber,
    SourceConfigError,
    SourceError,
    display_url,
    get_json,
    host_of,
)

# Yahoo answers the default python-requests agent with 429s; a browser-like one is expected.
USER_AGENT = "Mozilla/5.0 (compatible; headwater/0.1; +https://github.com/headwater)"


def _as_date(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


def _origin(path: Path) -> str:
    """A sample file as a short, stable origin: relative to the repo when inside it."""
    try:
        return path.resolve().relative_to(settings.REPO_ROOT).as_posix()
    except ValueError:
        return path.as_posix()


def _read_sample(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise WireFormatError(f"sample file {path}: {exc}") from None


class _EnergySource(dg.ConfigurableResource):
    # A field that fails validation must not print what it was given (it may be the key).
    model_config = ConfigDict(hide_input_in_errors=True)

    mode: Literal["sample", "live"] = Field(
        default="sample", description="sample: generated files; live: the real HTTP API"
    )
    base_url: str | None = Field(
        default=None,
        description="Live mode only: the API's root URL (default: the real API's)",
    )
    sample_dir: str = Field(
        default=str(settings.sample_dir() / "energy"),
        description="Where sample files are generated and read (sample mode)",
    )
    timeout_s: float = Field(default=30.0, gt=0, description="Per-request connect/read timeout")
    max_retries: int = Field(default=4, ge=0, description="Retries after the first attempt")
    backoff_s: float = Field(
        default=1.0, ge=0, description="First retry's backoff, doubled each retry"
    )

    _label = "?"  # the source in messages ("EIA"), set by each subclass
    _default_base_url = "?"

    @model_validator(mode="after")
    def _base_url_needs_live_mode(self):
        if self.base_url and self.mode != "live":
            raise SourceConfigError(
                f"{type(self).__name__}: base_url is set but mode is {self.mode!r}; set "
                f"mode: live to call {self._shown(self.base_url)}, or drop base_url"
            )
        return self

    @property
    def api_url(self) -> str:
        """The root URL live mode calls."""
        return (self.base_url or self._default_base_url).rstrip("/")

    def data_origin(self) -> str:
        """Where `fetch` reads: "sample files in <dir>" or "live <scheme>://<host>[:port]"
        (no path, no query, no credentials), for the staging assets' metadata."""
        if self.mode == "live":
            return f"live {self._shown(host_of(self.api_url))}"
        return f"sample files in {_origin(Path(self.sample_dir))}"

    def _secrets(self) -> list[str]:
        """The values to scrub from every message (none for a source without a key)."""
        return []

    def _shown(self, text: str) -> str:
        return display_url(text, None, scrub=Scrubber(self._secrets()))

    def fetch(
        self, series_id: str, start: date, end: date, *, route: str | None = None
    ) -> list[RawObservation]:
        """Every observation of `series_id` with start <= date < end (plus undatable ones)."""
        start, end = _as_date(start), _as_date(end)
        if end <= start:
            return []
        if self.mode == "live":
            self._require_credentials()
            with requests.Session() as session:
                session.headers["User-Agent"] = USER_AGENT
                observations = self._fetch_live(session, series_id, start, end, route)
            self._refuse_echoed_secrets(observations)
        else:
            sample_data.ensure_sample_data(Path(self.sample_dir))
            observations = self._fetch_sample(Path(self.sample_dir), series_id, route)
        return [obs for obs in observations if in_window(obs.date, start, end)]

    def _require_credentials(self) -> None:
        """Fail before any request when live mode cannot work."""

    def _fetch_live(
        self, session: requests.Session, series_id: str, start: date, end: date, route: str | None
    ) -> list[RawObservation]:
        raise NotImplementedError

    def _fetch_sample(
        self, out_dir: Path, series_id: str, route: str | None
    ) -> list[RawObservation]:
        raise NotImplementedError

    def _refuse_echoed_secrets(self, observations: list[RawObservation]) -> None:
        """Data rows are stored as received (quarantine keeps the raw record): a row that
        carries the key fails the fetch rather than put the key in the warehouse."""
        scrub = Scrubber(self._secrets())
        if not scrub:
            return
        for obs in observations:
            fields = (obs.series_id, obs.date, obs.value, obs.vintage)
            text = json.dumps([fields, obs.raw], default=str, ensure_ascii=False)
            if scrub.found_in(text):
                raise SourceError(
                    self._label,
                    self._shown(self.api_url),
                    200,
                    f"the answer's data carries the API key ({obs.origin}); refusing to store it",
                )

    def _get(self, session: requests.Session, url: str, params: list[tuple[str, Any]]) -> Any:
        return get_json(
            session,
            self._label,
            url,
            params,
            secrets=self._secrets(),
            timeout_s=self.timeout_s,
            max_retries=self.max_retries,
            backoff_s=self.backoff_s,
        )

    def _parse(self, url: str, params: list[tuple[str, Any]], parse: Callable[[], Any]) -> Any:
        """Run `parse`; a body of the wrong shape becomes a SourceError naming the request."""
        try:
            return parse()
        except WireFormatError as exc:
            detail = str(exc)
        # Raised outside the `except` block: nothing that quoted the body is chained.
        scrub = Scrubber(self._secrets())
        raise SourceError(
            self._label,
            display_url(url, params, scrub=scrub),
            200,
            scrub(f"unexpected response: {detail}"),
        )


class _KeyedSource(_EnergySource):
    api_key: str | None = Field(
        default=None, repr=False, description="API key (live mode); wire it from an EnvVar"
    )
    _key_env = "?"

    def _require_credentials(self) -> None:
        self._key()

    def _secrets(self) -> list[str]:
        return [self.api_key] if self.api_key else []

    def _key(self) -> str:
        if not self.api_key:
            raise MissingAPIKeyError(
                f"{self._label} live mode needs an API key: set the {self._key_env} environment "
                "variable (or use mode='sample')"
            )
        return self.api_key


class EIAResource(_KeyedSource):
    """EIA API v2: daily spot series, 5,000-row pages, values as strings."""

    _default_base_url = "https://api.eia.gov/v2"
    _label = "EIA"
    _key_env = "EIA_API_KEY"

    @staticmethod
    def route_for(series_id: str, route: str | None) -> str:
        route = route or EIA_ROUTES.get(series_id)
        if not route:
            raise ValueError(f"EIA series {series_id!r} has no default route: pass route=")
        return route.strip("/")

    def _fetch_live(self, session, series_id, start, end, route):
        route = self.route_for(series_id, route)
        url = f"{self.api_url}/{route}/data/"
        observations: list[RawObservation] = []
        offset = 0
        while True:
            params = [
                ("api_key", self._key()),
                ("frequency", "daily"),
                ("data[0]", "value"),
                ("facets[series][]", series_id),
                ("start", start.isoformat()),
                ("end", (end - timedelta(days=1)).isoformat()),  # inclusive on the wire
                ("sort[0][column]", "period"),
                ("sort[0][direction]", "asc"),
                ("offset", offset),
                ("length", EIA_PAGE_ROWS),
            ]
            body = self._get(session, url, params)
            origin = f"eia {route} {series_id} offset={offset}"
            page, total = self._parse(
                url,
                params,
                lambda b=body, o=origin: (
                    parse_eia_page(b, origin=o, series_id=series_id),
                    eia_total(b),
                ),
            )
            observations += page
            offset += len(page)  # the server may send fewer rows than asked for
            if not page or offset >= total:
                return observations

    def _fetch_sample(self, out_dir, series_id, route):
        route = self.route_for(series_id, route)
        paths = sample_data.eia_page_paths(out_dir, route, series_id)
        if not paths:
            where = sample_data.eia_page_dir(out_dir, route, series_id)
            raise WireFormatError(f"no sample pages for EIA series {series_id!r} in {where}")
        observations: list[RawObservation] = []
        for path in paths:
            observations += parse_eia_page(
                _read_sample(path), origin=_origin(path), series_id=series_id
            )
        return observations


class FREDResource(_KeyedSource):
    """FRED series/observations: "." for missing, one vintage per row (`realtime_start`)."""

    _default_base_url = "https://api.stlouisfed.org/fred"
    _label = "FRED"
    _key_env = "FRED_API_KEY"

    def _fetch_live(self, session, series_id, start, end, route):
        url = f"{self.api_url}/series/observations"
        observations: list[RawObservation] = []
        offset = 0
        while True:
            params = [
                ("series_id", series_id),
                ("api_key", self._key()),
                ("file_type", "json"),
                ("observation_start", start.isoformat()),
                ("observation_end", (end - timedelta(days=1)).isoformat()),  # inclusive
                ("limit", FRED_MAX_LIMIT),
                ("offset", offset),
            ]
            body = self._get(session, url, params)
            origin = f"fred series/observations {series_id} offset={offset}"
            page, count = self._parse(
                url,
                params,
                lambda b=body, o=origin: (
                    parse_fred_observations(b, origin=o, series_id=series_id),
                    fred_count(b),
                ),
            )
            observations += page
            offset += len(page)
            if not page or offset >= count:
                return observations

    def _fetch_sample(self, out_dir, series_id, route):
        path = sample_data.fred_path(out_dir, series_id)
        return parse_fred_observations(
            _read_sample(path), origin=_origin(path), series_id=series_id
        )


def _epoch(day: date) -> int:
    return int(datetime.combine(day, time(0), UTC).timestamp())


class YahooFinanceResource(_EnergySource):
    """Yahoo Finance v8 chart, daily bars; the value is the close. No key."""

    _default_base_url = "https://query1.finance.yahoo.com"
    _label = "Yahoo"

    def _fetch_live(self, session, series_id, start, end, route):
        url = f"{self.api_url}/v8/finance/chart/{quote(series_id, safe='=')}"
        # Bars are stamped in the exchange's zone, unknown until the answer: ask a day wider
        # on each side and let `fetch` cut the window on the exchange-local dates.
        params = [
            ("period1", _epoch(start - timedelta(days=1))),
            ("period2", _epoch(end + timedelta(days=1))),
            ("interval", "1d"),
            ("events", "history"),
        ]
        body = self._get(session, url, params)
        origin = f"yahoo v8/finance/chart {series_id}"
        return self._parse(
            url, params, lambda: parse_yahoo_chart(body, origin=origin, series_id=series_id)
        )

    def _fetch_sample(self, out_dir, series_id, route):
        path = sample_data.yahoo_path(out_dir, series_id)
        return parse_yahoo_chart(_read_sample(path), origin=_origin(path), series_id=series_id)
