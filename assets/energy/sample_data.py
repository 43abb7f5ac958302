"""Deterministic sample data for EIA, FRED and Yahoo Finance, in their real wire formats.

Prices follow a seeded walk that starts on SAMPLE_START and draws the same random numbers
for every calendar day whether or not it trades, so a date's value never depends on the
day the files are generated: files generated through different dates agree on every date
they share. Levels follow the real history loosely (WTI's 2016 low, the 2020 crash, the
2022 spike) around a mean-reverting noise.

Layout under `out_dir` (like the APIs page it):

    eia/petroleum_pri_spt/RWTC/page-0000.json   full v2 responses, <= 5,000 rows each
    fred/DCOILWTICO.json                        one series/observations response
    yahoo/CL=F.json                             one v8 chart response
    manifest.json                               generator version and the `through` date

Dirt, at the fixed dates below so tests and the record rules can assert it:
weekends and NYMEX holidays absent (FRED lists every weekday and sends "." on holidays,
as it really does), extra FRED "." days, an exact duplicate EIA row, an EIA value "n/a",
an EIA period "2019-02-30", a FRED late correction (two vintages of one date), Yahoo
`null` bars, a Yahoo close 100x too large, Yahoo days > 2% away from spot, and WTI's real
negative settle on 2020-04-20.
"""

import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from assets.energy import wire_formats as wf
from assets.energy.wire_formats import SERIES_DEFAULTS
from headwater.files import write_atomic

GENERATOR_VERSION = 1  # bump when the generated values or layout change: forces regeneration
SAMPLE_START = date(2015, 1, 1)
SEED = 20150101
MANIFEST = "manifest.json"

# ---- documented dirt (all dates are NYMEX trading days) -----------------------------------------

# WTI's real negative settle: spot (RWTC, DCOILWTICO) and the front-month future (CL=F).
NEGATIVE_WTI_DATE = date(2020, 4, 20)
NEGATIVE_WTI_SPOT = "-36.98"
NEGATIVE_WTI_FUTURES_CLOSE = -37.63
# EIA: the same row (period and value) twice in a row.
EIA_DUPLICATE = ("RWTC", date(2018, 3, 14))
# EIA: a row whose value is "n/a" (the date itself is a normal trading day; FRED and
# Yahoo have a value for it).
EIA_BAD_VALUE = ("RNGWHHD", date(2021, 6, 9), "n/a")
# EIA: an extra row with an impossible period, right after 2019-02-28's row.
EIA_BAD_PERIOD = ("RBRTE", "2019-02-30")


@dataclass(frozen=True)
class FredCorrection:
    series_id: str
    date: date
    first_vintage: str  # realtime_start of the first print
    corrected_vintage: str  # realtime_start of the correction (the later vintage wins)
    first_print_error: float  # first print = true value + this


# FRED: one date present twice, the first print superseded a week later by the value that
# matches EIA.
FRED_CORRECTION = FredCorrection("DCOILWTICO", date(2022, 3, 8), "2022-03-09", "2022-03-16", 1.25)
# FRED: "." on these ordinary trading days (besides every NYMEX holiday on a weekday).
FRED_MISSING: dict[str, tuple[date, ...]] = {
    "DCOILWTICO": (date(2016, 8, 10), date(2019, 10, 22)),
    "DCOILBRENTEU": (date(2017, 12, 27), date(2020, 11, 3)),
    "DHHNGSP": (date(2018, 7, 18), date(2023, 10, 11)),
}
# Yahoo: bars present with every quote field null.
YAHOO_NULL_CLOSES: dict[str, tuple[date, ...]] = {
    "CL=F": (date(2017, 5, 18), date(2021, 2, 16)),
    "BZ=F": (date(2019, 8, 6),),
    "NG=F": (date(2023, 1, 5),),
}
# Yahoo: a close 100x too large (a feed glitch; open/high/low are normal).
YAHOO_OUT_OF_RANGE = ("CL=F", date(2023, 8, 15), 100)
# Yahoo: closes this factor away from spot (everywhere else within ~0.3% noise).
YAHOO_DIVERGENT: dict[tuple[str, date], float] = {
    ("CL=F", date(2016, 3, 2)): 1.035,
    ("BZ=F", date(2020, 3, 9)): 0.96,
    ("NG=F", date(2022, 8, 23)): 1.05,
    ("CL=F", date(2024, 6, 12)): 0.972,
}
YAHOO_NOISE = 0.003  # futures vs spot, one standard deviation


# ---- the NYMEX holiday calendar -----------------------------------------------------------------


def _easter(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    """Saturday holidays close the Friday before, Sunday holidays the Monday after."""
    return day + timedelta(days={5: -1, 6: 1}.get(day.weekday(), 0))


def nymex_holidays(year: int) -> dict[date, str]:
    """Full-day closures with no settlement, as the sample data treats them."""
    days = {
        _nth_weekday(year, 1, 0, 3): "Martin Luther King Jr. Day",
        _nth_weekday(year, 2, 0, 3): "Presidents Day",
        _easter(year) - timedelta(days=2): "Good Friday",
        _last_weekday(year, 5, 0): "Memorial Day",
        _observed(date(year, 7, 4)): "Independence Day",
        _nth_weekday(year, 9, 0, 1): "Labor Day",
        _nth_weekday(year, 11, 3, 4): "Thanksgiving",
        _observed(date(year, 12, 25)): "Christmas",
    }
    new_year = date(year, 1, 1)
    if new_year.weekday() != 5:  # on a Saturday the exchange does not close the Friday before
        days[_observed(new_year)] = "New Year's Day"
    if year >= 2022:
        days[_observed(date(year, 6, 19))] = "Juneteenth"
    return days


def is_trading_day(day: date) -> bool:
    return day.weekday() < 5 and day not in nymex_holidays(day.year)


def trading_days(start: date, end: date) -> list[date]:
    """NYMEX trading days in [start, end)."""
    return [d for d in _days(start, end) if is_trading_day(d)]


def _days(start: date, end: date) -> Iterator[date]:
    day = start
    while day < end:
        yield day
        day += timedelta(days=1)


# ---- price paths --------------------------------------------------------------------------------

# Rough real levels; the walk interpolates between them (log-linearly) and holds the last.
# fmt: off
_WTI_ANCHORS = [
    ("2015-01-01", 53), ("2015-06-15", 60), ("2015-12-15", 36), ("2016-02-11", 29),
    ("2016-06-08", 50), ("2016-12-30", 53), ("2017-06-20", 44), ("2017-12-29", 60),
    ("2018-06-15", 66), ("2018-10-03", 76), ("2018-12-24", 43), ("2019-04-23", 66),
    ("2019-12-31", 61), ("2020-02-20", 53), ("2020-03-31", 21), ("2020-04-17", 18),
    ("2020-04-28", 13), ("2020-06-30", 39), ("2020-12-31", 48), ("2021-06-30", 73),
    ("2021-12-31", 75), ("2022-03-08", 120), ("2022-06-08", 120), ("2022-12-09", 71),
    ("2023-06-30", 70), ("2023-09-27", 93), ("2023-12-13", 69), ("2024-04-05", 87),
    ("2024-09-10", 66), ("2024-12-31", 72), ("2025-04-08", 58), ("2025-06-20", 75),
    ("2025-12-31", 60), ("2026-06-30", 63),
]
_BRENT_SPREAD_ANCHORS = [  # Brent minus WTI, dollars
    ("2015-01-01", 5.0), ("2016-01-01", 1.5), ("2017-06-01", 3.0), ("2018-06-01", 8.0),
    ("2019-06-01", 7.0), ("2020-04-01", 4.0), ("2021-01-01", 2.5), ("2022-06-01", 6.0),
    ("2023-06-01", 4.5), ("2024-06-01", 4.0), ("2025-06-01", 3.5),
]
_HENRY_HUB_ANCHORS = [
    ("2015-01-01", 2.9), ("2015-12-17", 1.7), ("2016-03-04", 1.6), ("2016-12-28", 3.7),
    ("2017-06-30", 3.0), ("2018-06-29", 2.9), ("2018-11-14", 4.5), ("2019-06-28", 2.3),
    ("2020-06-26", 1.6), ("2020-12-31", 2.5), ("2021-06-30", 3.6), ("2021-10-06", 5.8),
    ("2022-02-01", 4.6), ("2022-08-23", 9.2), ("2022-12-30", 4.0), ("2023-03-31", 2.2),
    ("2024-03-15", 1.6), ("2024-12-31", 3.4), ("2025-03-10", 4.3), ("2025-12-31", 3.9),
    ("2026-06-30", 3.5),
]
# fmt: on


def _anchor_curve(anchors: list[tuple[str, float]], *, log: bool):
    points = [(date.fromisoformat(d).toordinal(), math.log(v) if log else v) for d, v in anchors]

    def level(day: date) -> float:
        x = day.toordinal()
        if x <= points[0][0]:
            y = points[0][1]
        elif x >= points[-1][0]:
            y = points[-1][1]
        else:
            for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
                if x0 <= x <= x1:
                    y = y0 + (y1 - y0) * (x - x0) / (x1 - x0)
                    break
        return math.exp(y) if log else y

    return level


@dataclass(frozen=True)
class _Day:
    wti: float
    brent: float
    henry_hub: float
    futures: dict[str, tuple[float, float, float, float, float]]  # symbol -> 5 standard normals


def _walk(through: date) -> dict[date, _Day]:
    """One entry per calendar day in [SAMPLE_START, through]; the same draws every time."""
    wti_level = _anchor_curve(_WTI_ANCHORS, log=True)
    spread_level = _anchor_curve(_BRENT_SPREAD_ANCHORS, log=False)
    hh_level = _anchor_curve(_HENRY_HUB_ANCHORS, log=True)
    spot_rng = random.Random(SEED)
    futures_rng = random.Random(SEED + 1)  # its own stream: futures never shift the spot draws
    symbols = [s.yahoo_symbol for s in SERIES_DEFAULTS.values()]
    # Mean-reverting deviations around the anchor levels (AR(1), about 6-10% wide).
    wti_dev = spread_dev = hh_dev = 0.0
    out = {}
    for day in _days(SAMPLE_START, through + timedelta(days=1)):
        wti_dev = 0.97 * wti_dev + 0.018 * spot_rng.gauss(0, 1)
        spread_dev = 0.9 * spread_dev + 0.25 * spot_rng.gauss(0, 1)
        hh_dev = 0.96 * hh_dev + 0.03 * spot_rng.gauss(0, 1)
        wti = max(10.0, wti_level(day) * math.exp(wti_dev))
        brent = wti + max(0.5, spread_level(day) + spread_dev)
        henry_hub = max(1.5, hh_level(day) * math.exp(hh_dev))
        futures = {sym: tuple(futures_rng.gauss(0, 1) for _ in range(5)) for sym in symbols}
        out[day] = _Day(round(wti, 2), round(brent, 2), round(henry_hub, 2), futures)
    return out


# ---- the sample, in wire records ----------------------------------------------------------------


@dataclass(frozen=True)
class EnergySample:
    """Every source's full history through `through`, as wire records in API order."""

    through: date
    eia_rows: dict[str, list[dict]]  # EIA series -> v2 data rows
    fred_observations: dict[str, list[dict]]  # FRED series -> observations
    yahoo_bars: dict[str, list[dict]]  # symbol -> {"timestamp", "open", ..., "volume"}
    yahoo_meta: dict[str, dict]  # symbol -> chart meta


_NY = ZoneInfo(wf.YAHOO_EXCHANGE_TZ)
_FIRST_TRADE = {"CL=F": 967003200, "BZ=F": 1190952000, "NG=F": 967003200}
_VOLUME = {"CL=F": (300_000, 80_000), "BZ=F": (30_000, 10_000), "NG=F": (150_000, 50_000)}


def _spot_text(value: float) -> str:
    return f"{value:.2f}"


def _next_weekday(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _yahoo_timestamp(day: date) -> int:
    """Yahoo stamps daily futures bars at midnight New York time."""
    return int(datetime.combine(day, time(0), _NY).timestamp())


def build_sample(through: date) -> EnergySample:
    """The full sample history in wire records (what `generate_sample_data` writes)."""
    if through < SAMPLE_START:
        raise ValueError(f"through ({through}) is before the sample start ({SAMPLE_START})")
    walk = _walk(through)
    days = trading_days(SAMPLE_START, through + timedelta(days=1))
    spot = {
        "WTI": {d: walk[d].wti for d in walk},
        "BRENT": {d: walk[d].brent for d in walk},
        "NATGAS": {d: walk[d].henry_hub for d in walk},
    }

    def spot_value(commodity: str, day: date) -> str:
        if commodity == "WTI" and day == NEGATIVE_WTI_DATE:
            return NEGATIVE_WTI_SPOT
        return _spot_text(spot[commodity][day])

    eia_rows: dict[str, list[dict]] = {}
    fred_obs: dict[str, list[dict]] = {}
    yahoo_bars: dict[str, list[dict]] = {}
    yahoo_meta: dict[str, dict] = {}
    for commodity, series in SERIES_DEFAULTS.items():
        # EIA: trading days only, values as strings, with its dirt.
        rows = []
        for day in days:
            value = spot_value(commodity, day)
            if (series.eia_series, day) == EIA_BAD_VALUE[:2]:
                value = EIA_BAD_VALUE[2]
            rows.append(wf.eia_row(series.eia_series, day.isoformat(), value))
            if (series.eia_series, day) == EIA_DUPLICATE:
                rows.append(wf.eia_row(series.eia_series, day.isoformat(), value))
            if series.eia_series == EIA_BAD_PERIOD[0] and day == date(2019, 2, 28):
                rows.append(wf.eia_row(series.eia_series, EIA_BAD_PERIOD[1], value))
        eia_rows[series.eia_series] = rows

        # FRED: every weekday, "." on holidays and the documented missing days; each
        # observation first published the next weekday.
        obs = []
        missing = set(FRED_MISSING.get(series.fred_series, ()))
        for day in _days(SAMPLE_START, through + timedelta(days=1)):
            if day.weekday() >= 5:
                continue
            value = "." if not is_trading_day(day) or day in missing else spot_value(commodity, day)
            first = _next_weekday(day).isoformat()
            fix = FRED_CORRECTION
            if (series.fred_series, day) == (fix.series_id, fix.date):
                wrong = _spot_text(float(value) + fix.first_print_error)
                superseded = (
                    date.fromisoformat(fix.corrected_vintage) - timedelta(days=1)
                ).isoformat()
                obs.append(_fred_obs(fix.first_vintage, superseded, day, wrong))
                obs.append(_fred_obs(fix.corrected_vintage, "9999-12-31", day, value))
            else:
                obs.append(_fred_obs(first, "9999-12-31", day, value))
        fred_obs[series.fred_series] = obs

        # Yahoo: trading days, the front-month future a small noise away from spot.
        symbol = series.yahoo_symbol
        decimals = 3 if commodity == "NATGAS" else 2
        bars = []
        previous_close = None
        for day in days:
            z_close, z_open, z_high, z_low, z_volume = walk[day].futures[symbol]
            base = spot[commodity][day]
            close = base * (1 + YAHOO_NOISE * z_close) * YAHOO_DIVERGENT.get((symbol, day), 1.0)
            opened = (previous_close or close) * (1 + 0.006 * z_open)
            bar = {
                "timestamp": _yahoo_timestamp(day),
                "open": round(opened, decimals),
                "high": round(max(opened, close) * (1 + 0.006 * abs(z_high)), decimals),
                "low": round(min(opened, close) * (1 - 0.006 * abs(z_low)), decimals),
                "close": round(close, decimals),
                "volume": max(1000, int(_VOLUME[symbol][0] + _VOLUME[symbol][1] * z_volume)),
            }
            previous_close = close
            if symbol == "CL=F" and day == NEGATIVE_WTI_DATE:
                bar.update(
                    open=17.73,
                    high=17.85,
                    low=-40.32,
                    close=NEGATIVE_WTI_FUTURES_CLOSE,
                    volume=247_947,
                )
                previous_close = NEGATIVE_WTI_FUTURES_CLOSE
            if (symbol, day) == YAHOO_OUT_OF_RANGE[:2]:
                bar["close"] = round(bar["close"] * YAHOO_OUT_OF_RANGE[2], decimals)
            if day in YAHOO_NULL_CLOSES.get(symbol, ()):
                bar.update(open=None, high=None, low=None, close=None, volume=None)
            bars.append(bar)
        yahoo_bars[symbol] = bars
        yahoo_meta[symbol] = _yahoo_meta(symbol, bars, through)
    return EnergySample(through, eia_rows, fred_obs, yahoo_bars, yahoo_meta)


def _fred_obs(realtime_start: str, realtime_end: str, day: date, value: str) -> dict:
    return {
        "realtime_start": realtime_start,
        "realtime_end": realtime_end,
        "date": day.isoformat(),
        "value": value,
    }


def _yahoo_meta(symbol: str, bars: list[dict], through: date) -> dict:
    closes = [b["close"] for b in bars if b["close"] is not None]
    as_of = datetime.combine(through, time(17, 0), _NY)
    offset = as_of.utcoffset() or timedelta(0)
    return {
        "currency": "USD",
        "symbol": symbol,
        "exchangeName": "NYM",
        "fullExchangeName": "NY Mercantile",
        "instrumentType": "FUTURE",
        "firstTradeDate": _FIRST_TRADE[symbol],
        "regularMarketTime": int(as_of.timestamp()),
        "hasPrePostMarketData": False,
        "gmtoffset": int(offset.total_seconds()),
        "timezone": as_of.tzname(),
        "exchangeTimezoneName": wf.YAHOO_EXCHANGE_TZ,
        "regularMarketPrice": closes[-1] if closes else None,
        "chartPreviousClose": closes[0] if closes else None,
        "priceHint": 2,
        "dataGranularity": "1d",
        "range": "",
        "validRanges": ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"],
    }


# ---- files --------------------------------------------------------------------------------------


def eia_page_dir(out_dir: Path, route: str, series_id: str) -> Path:
    return Path(out_dir) / "eia" / route.strip("/").replace("/", "_") / series_id


def eia_page_paths(out_dir: Path, route: str, series_id: str) -> list[Path]:
    return sorted(eia_page_dir(out_dir, route, series_id).glob("page-*.json"))


def fred_path(out_dir: Path, series_id: str) -> Path:
    return Path(out_dir) / "fred" / f"{series_id}.json"


def yahoo_path(out_dir: Path, symbol: str) -> Path:
    return Path(out_dir) / "yahoo" / f"{symbol}.json"


def generate_sample_data(out_dir: Path, through: date) -> list[Path]:
    """Write every sample file for [SAMPLE_START, through]; returns the paths written.
    Same `through`, same bytes."""
    out_dir = Path(out_dir)
    sample = build_sample(through)
    start, end = SAMPLE_START.isoformat(), through.isoformat()
    written: list[Path] = []
    for series in SERIES_DEFAULTS.values():
        rows = sample.eia_rows[series.eia_series]
        page_dir = eia_page_dir(out_dir, series.eia_route, series.eia_series)
        pages = range(0, max(len(rows), 1), wf.EIA_PAGE_ROWS)
        for n, offset in enumerate(pages):
            body = wf.eia_page(
                rows[offset : offset + wf.EIA_PAGE_ROWS],
                route=series.eia_route,
                series_id=series.eia_series,
                start=start,
                end=end,
                total=len(rows),
                offset=offset,
            )
            written.append(page_dir / f"page-{n:04d}.json")
            write_atomic(written[-1], wf.dumps(body))
        for stale in eia_page_paths(out_dir, series.eia_route, series.eia_series):
            if stale not in written:
                stale.unlink(missing_ok=True)

        obs = sample.fred_observations[series.fred_series]
        body = wf.fred_observations(
            obs, observation_start=start, observation_end=end, count=len(obs)
        )
        written.append(fred_path(out_dir, series.fred_series))
        write_atomic(written[-1], wf.dumps(body))

        symbol = series.yahoo_symbol
        body = wf.yahoo_chart(symbol, sample.yahoo_bars[symbol], meta=sample.yahoo_meta[symbol])
        written.append(yahoo_path(out_dir, symbol))
        write_atomic(written[-1], wf.dumps(body))

    manifest = {
        "generator_version": GENERATOR_VERSION,
        "start": start,
        "through": end,
        "files": [p.relative_to(out_dir).as_posix() for p in written],
    }
    write_atomic(out_dir / MANIFEST, json.dumps(manifest, indent=2).encode())  # written last
    return written


def sample_through(out_dir: Path) -> date | None:
    """The `through` date of the sample files in `out_dir`, or None when they are missing,
    incomplete or from another generator version."""
    out_dir = Path(out_dir)
    try:
        manifest = json.loads((out_dir / MANIFEST).read_text())
        if manifest.get("generator_version") != GENERATOR_VERSION:
            return None
        if not all((out_dir / name).is_file() for name in manifest["files"]):
            return None
        return date.fromisoformat(manifest["through"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def ensure_sample_data(out_dir: Path, through: date | None = None) -> None:
    """Generate the sample files unless complete ones reaching `through` (default:
    yesterday) are already there. Idempotent; never shortens a longer history."""
    through = through or date.today() - timedelta(days=1)
    have = sample_through(out_dir)
    if have is None or have < through:
        generate_sample_data(Path(out_dir), through)
