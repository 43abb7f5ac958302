"""The energy sources' wire formats: parsers into `RawObservation`s and the inverse writers.

One parser per format serves both modes: live responses and the generated sample files
are the same JSON documents, so sample mode exercises the code that live mode runs.

- EIA API v2 `/{route}/data/` pages: `{"response": {"total": "4321", "data": [...]}}`;
  the facet route sends `total` and every `value` as strings, the series-id route as JSON
  numbers (recorded answers, tests/data/real/energy): both are read, values kept as text.
- FRED `series/observations`: values are strings, "." means missing; each observation
  carries its vintage (`realtime_start`).
- Yahoo Finance v8 `chart`: parallel arrays (`timestamp`, `indicators.quote[0].close`, ...)
  with `null` holes; a bar's date is its timestamp read in the exchange's time zone.

Parsers never drop or repair a record: malformed dates and values pass through as received
and the record rules downstream quarantine them. Writers build the documents the sample
generator stores and the test fake server sends.
"""

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True)
class RawObservation:
    source: str  # "eia" | "fred" | "yahoo"
    series_id: str  # "RWTC" | "DCOILWTICO" | "CL=F" ...
    date: str | None  # ISO yyyy-mm-dd as derived from the record, or what was received
    value: str | None  # the value as text exactly as received; None for JSON null
    origin: str  # where it came from (file or request, and row); never contains a key
    raw: dict  # the record as received; shared with caches, treat as read-only
    vintage: str | None = None  # FRED realtime_start when present


class WireFormatError(ValueError):
    """A document that is not the format it claims to be (not a bad record: a bad body)."""


# ---- series defaults --------------------------------------------------------------------------


@dataclass(frozen=True)
class SeriesDefaults:
    """One commodity's series at each source."""

    eia_series: str
    eia_route: str
    fred_series: str
    yahoo_symbol: str


SERIES_DEFAULTS: dict[str, SeriesDefaults] = {
    "WTI": SeriesDefaults("RWTC", "petroleum/pri/spt", "DCOILWTICO", "CL=F"),
    "BRENT": SeriesDefaults("RBRTE", "petroleum/pri/spt", "DCOILBRENTEU", "BZ=F"),
    "NATGAS": SeriesDefaults("RNGWHHD", "natural-gas/pri/fut", "DHHNGSP", "NG=F"),
}
EIA_ROUTES: dict[str, str] = {s.eia_series: s.eia_route for s in SERIES_DEFAULTS.values()}

EIA_PAGE_ROWS = 5000  # the v2 API returns at most 5,000 rows of JSON per request
FRED_MAX_LIMIT = 100_000  # FRED rejects a larger `limit`
EIA_API_VERSION = "2.1.8"

# The descriptive columns EIA returns with every row of these series.
EIA_SERIES_FIELDS: dict[str, dict[str, str]] = {
    "RWTC": {
        "duoarea": "NUS-Z00",
        "area-name": "NA",
        "product": "EPCWTI",
        "product-name": "WTI Crude Oil",
        "process": "PF4",
        "process-name": "Spot Price FOB",
        "series-description": "Cushing, OK WTI Spot Price FOB (Dollars per Barrel)",
        "units": "$/BBL",
    },
    "RBRTE": {
        "duoarea": "ZEU",
        "area-name": "NA",
        "product": "EPCBRENT",
        "product-name": "UK Brent Crude Oil",
        "process": "PF4",
        "process-name": "Spot Price FOB",
        "series-description": "Europe Brent Spot Price FOB (Dollars per Barrel)",
        "units": "$/BBL",
    },
    "RNGWHHD": {
        "duoarea": "NUS",
        "area-name": "U.S.",
        "product": "EPG0",
        "product-name": "Natural Gas",
        "process": "PS0",
        "process-name": "Spot Price",
        "series-description": "Henry Hub Natural Gas Spot Price (Dollars per Million Btu)",
        "units": "$/MMBTU",
    },
}
EIA_ROUTE_DESCRIPTIONS = {
    "petroleum/pri/spt": "Spot prices for crude oil and petroleum products. Source: "
    "Thomson Reuters.",
    "natural-gas/pri/fut": "Natural gas spot and futures prices (NYMEX). Source: "
    "Natural Gas Intelligence, Thomson Reuters.",
}
YAHOO_EXCHANGE_TZ = "America/New_York"


# ---- windows ----------------------------------------------------------------------------------

_ISO_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_iso_date(text: Any) -> date | None:
    """The date for a strict `YYYY-MM-DD` string, else None."""
    if not isinstance(text, str) or not _ISO_SHAPE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def in_window(date_text: str | None, start: date, end: date) -> bool:
    """Whether a record belongs to the half-open window [start, end).

    A valid date is compared as a date. A date-shaped string that is not a real date
    ("2019-02-30") is compared as text, the way the APIs filter their period strings
    server-side, so it lands in exactly one window of any partitioning. Anything else
    (None, "n/a") is in every window: it cannot be placed, and dropping it would lose it.
    """
    day = parse_iso_date(date_text)
    if day is not None:
        return start <= day < end
    if isinstance(date_text, str) and _ISO_SHAPE.match(date_text):
        return start.isoformat() <= date_text < end.isoformat()
    return True


# ---- parsers ----------------------------------------------------------------------------------


def _as_text(value: Any) -> str | None:
    """Wire value as text: strings untouched, JSON numbers via repr, null as None."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value)


def _dict(body: Any, key: str, what: str) -> dict:
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, dict):
        raise WireFormatError(f"{what}: expected an object at {key!r}")
    return value


def _list(body: dict, key: str, what: str) -> list:
    value = body.get(key)
    if not isinstance(value, list):
        raise WireFormatError(f"{what}: expected a list at {key!r}")
    return value


def eia_total(body: Any) -> int:
    """`response.total` of an EIA v2 page (a string, or a number on the series-id route)."""
    response = _dict(body, "response", "EIA v2 response")
    try:
        return int(response.get("total"))
    except (TypeError, ValueError):
        raise WireFormatError(
            f"EIA v2 response: total {response.get('total')!r} is not a count"
        ) from None


def parse_eia_page(body: Any, *, origin: str, series_id: str | None = None) -> list[RawObservation]:
    """Rows of one EIA v2 data page. `origin` names the page; each row gets `#row=<i>`.
    A row without a `series` column is attributed to `series_id` (the facet requested)."""
    response = _dict(body, "response", "EIA v2 response")
    rows = _list(response, "data", "EIA v2 response")
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            row = {"row": row}
        out.append(
            RawObservation(
                source="eia",
                series_id=str(row.get("series") or series_id or ""),
                date=_as_text(row.get("period")),
                value=_as_text(row.get("value")),
                origin=f"{origin}#row={i}",
                raw=row,
            )
        )
    return out


def fred_count(body: Any) -> int:
    if not isinstance(body, dict):
        raise WireFormatError("FRED observations: expected an object")
    try:
        return int(body.get("count"))
    except (TypeError, ValueError):
        raise WireFormatError(
            f"FRED observations: count {body.get('count')!r} is not a count"
        ) from None


def parse_fred_observations(body: Any, *, origin: str, series_id: str) -> list[RawObservation]:
    """Observations of one FRED `series/observations` response ("." passes through as is)."""
    if not isinstance(body, dict):
        raise WireFormatError("FRED observations: expected an object")
    out = []
    for i, obs in enumerate(_list(body, "observations", "FRED observations")):
        if not isinstance(obs, dict):
            obs = {"observation": obs}
        out.append(
            RawObservation(
                source="fred",
                series_id=series_id,
                date=_as_text(obs.get("date")),
                value=_as_text(obs.get("value")),
                origin=f"{origin}#row={i}",
                raw=obs,
                vintage=_as_text(obs.get("realtime_start")),
            )
        )
    return out


def _exchange_tz(meta: dict) -> timezone | ZoneInfo:
    name = meta.get("exchangeTimezoneName")
    if isinstance(name, str):
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    offset = meta.get("gmtoffset")
    if isinstance(offset, int | float) and not isinstance(offset, bool):
        return timezone(timedelta(seconds=offset))
    return UTC


def yahoo_bar_date(timestamp: Any, tz: timezone | ZoneInfo) -> str | None:
    """A bar's trading date: its epoch timestamp read in the exchange's time zone (a bar
    stamped 00:00 New York is 04:00 or 05:00 UTC; a UTC reading would shift late stamps)."""
    if timestamp is None:
        return None
    if (
        isinstance(timestamp, int | float)
        and not isinstance(timestamp, bool)
        and math.isfinite(timestamp)
    ):
        try:
            return datetime.fromtimestamp(timestamp, tz).date().isoformat()
        except (OverflowError, OSError, ValueError):
            pass
    return str(timestamp)


_YAHOO_QUOTE_FIELDS = ("open", "high", "low", "close", "volume")


def parse_yahoo_chart(
    body: Any, *, origin: str, series_id: str | None = None
) -> list[RawObservation]:
    """Bars of one Yahoo v8 chart response; the value is `close` (null passes through as None).
    A result with no bars (no `timestamp`) is an empty list."""
    chart = _dict(body, "chart", "Yahoo chart response")
    if chart.get("error"):
        raise WireFormatError(f"Yahoo chart response: error {chart['error']!r}")
    results = chart.get("result")
    if not isinstance(results, list) or not results or not isinstance(results[0], dict):
        raise WireFormatError("Yahoo chart response: expected a non-empty list at 'result'")
    result = results[0]
    meta = result.get("meta") if isinstance(result.get("meta"), dict) else {}
    symbol = str(meta.get("symbol") or series_id or "")
    timestamps = result.get("timestamp") or []
    indicators = result.get("indicators") if isinstance(result.get("indicators"), dict) else {}
    quote = (indicators.get("quote") or [{}])[0] or {}
    adjclose = ((indicators.get("adjclose") or [{}])[0] or {}).get("adjclose")
    columns = {name: quote.get(name) for name in _YAHOO_QUOTE_FIELDS}
    if isinstance(adjclose, list):
        columns["adjclose"] = adjclose

    def at(values: Any, i: int) -> Any:
        return values[i] if isinstance(values, list) and i < len(values) else None

    tz = _exchange_tz(meta)
    out = []
    for i, ts in enumerate(timestamps):
        raw = {"timestamp": ts, **{name: at(values, i) for name, values in columns.items()}}
        out.append(
            RawObservation(
                source="yahoo",
                series_id=symbol,
                date=yahoo_bar_date(ts, tz),
                value=_as_text(raw["close"]),
                origin=f"{origin}#row={i}",
                raw=raw,
            )
        )
    return out


# ---- writers (sample files and the fake server) -----------------------------------------------


def dumps(body: Any) -> bytes:
    """Compact, deterministic JSON, as the APIs send it."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def eia_row(series_id: str, period: str, value: str | None) -> dict:
    """One data row as EIA v2 returns it (descriptive columns included)."""
    fields = EIA_SERIES_FIELDS.get(series_id, {})
    return {
        "period": period,
        **{
            k: fields[k]
            for k in ("duoarea", "area-name", "product", "product-name", "process", "process-name")
            if k in fields
        },
        "series": series_id,
        **({"series-description": fields["series-description"]} if fields else {}),
        "value": value,
        **({"units": fields["units"]} if fields else {}),
    }


def eia_page(
    rows: Sequence[dict],
    *,
    route: str,
    series_id: str,
    start: str,
    end: str,
    total: int,
    offset: int,
    length: int = EIA_PAGE_ROWS,
) -> dict:
    """A full v2 `/data/` response for one page of a daily, single-series query."""
    response: dict[str, Any] = {
        "total": str(total),  # EIA sends the total as a string
        "dateFormat": "YYYY-MM-DD",
        "frequency": "daily",
        "data": list(rows),
        "description": EIA_ROUTE_DESCRIPTIONS.get(route, route),
    }
    if length > EIA_PAGE_ROWS:
        response["warnings"] = [
            {
                "warning": "Incomplete return",
                "description": "The API can only return 5000 rows in JSON format.  Please consider "
                "constraining your query with facet, start, or end, or using offset to paginate "
                "results.",
            }
        ]
    return {
        "response": response,
        "request": {
            "command": f"/v2/{route}/data/",
            "params": {
                "frequency": "daily",
                "data": ["value"],
                "facets": {"series": [series_id]},
                "start": start,
                "end": end,
                "sort": [{"column": "period", "direction": "asc"}],
                "offset": offset,
                "length": length,
            },
        },
        "apiVersion": EIA_API_VERSION,
        "ExcelAddInVersion": "2.1.0",
    }


def eia_error(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


def fred_observations(
    observations: Sequence[dict],
    *,
    observation_start: str,
    observation_end: str,
    count: int,
    offset: int = 0,
    limit: int = FRED_MAX_LIMIT,
    realtime_start: str = "1776-07-04",
    realtime_end: str = "9999-12-31",
) -> dict:
    """A `series/observations` response (all vintages: realtime 1776-07-04..9999-12-31)."""
    return {
        "realtime_start": realtime_start,
        "realtime_end": realtime_end,
        "observation_start": observation_start,
        "observation_end": observation_end,
        "units": "lin",
        "output_type": 1,
        "file_type": "json",
        "order_by": "observation_date",
        "sort_order": "asc",
        "count": count,
        "offset": offset,
        "limit": limit,
        "observations": list(observations),
    }


def fred_error(code: int, message: str) -> dict:
    return {"error_code": code, "error_message": message}


def yahoo_chart(symbol: str, bars: Sequence[dict], *, meta: dict | None = None) -> dict:
    """A v8 chart response; each bar is {"timestamp", "open", "high", "low", "close", "volume"}
    (None for null)."""
    quote = {name: [bar.get(name) for bar in bars] for name in _YAHOO_QUOTE_FIELDS}
    result: dict[str, Any] = {"meta": {"symbol": symbol, **(meta or {})}}
    if bars:
        # Yahoo leaves out `timestamp` and the arrays when a range holds no bars.
        result["timestamp"] = [bar["timestamp"] for bar in bars]
        result["indicators"] = {
            "quote": [quote],
            "adjclose": [{"adjclose": [bar.get("close") for bar in bars]}],
        }
    else:
        result["indicators"] = {"quote": [{}], "adjclose": [{}]}
    return {"chart": {"result": [result], "error": None}}


def yahoo_error(code: str, description: str) -> dict:
    return {"chart": {"result": None, "error": {"code": code, "description": description}}}
