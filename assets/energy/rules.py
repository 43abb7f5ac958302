"""Record rules for energy staging, and the dataset rules behind the quality gate.

Every rule has an id listed in the README's rule catalogue. Record rules split a
source's observations into rows to load and rejections for quarantine, so that
rows in = rows loaded + rows quarantined for every load.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

from assets.energy.config import Commodity
from assets.energy.wire_formats import RawObservation
from headwater.quality import Rejection

if TYPE_CHECKING:
    import pandas as pd

MISSING_VALUES = {None, "", ".", "null", "NaN", "nan"}

STAGING_COLUMNS = ["price_date", "commodity", "value", "series_id", "vintage", "origin"]


def apply_record_rules(
    observations: Iterable[RawObservation],
    series_to_commodity: dict[str, str],
    commodities: dict[str, Commodity],
    window: tuple[date, date],
) -> tuple[pd.DataFrame, list[tuple[Rejection, date]]]:
    """Split observations fetched for `window` [start, end) into staging rows and
    (rejection, filing day) pairs. A rejection is filed under its record's day; a record
    whose date is unusable under the day its text sorts into (see `filing_day`).

    Rules, in order:
      E-R01 unknown series, E-R02 unparseable date, E-R03 missing value,
      E-R04 non-numeric value, E-R05 out of the commodity's range,
      E-R06 exact duplicate of an earlier record,
      E-R07 superseded by a later vintage (or a later record) for the same series and day.
    """
    import pandas as pd

    rejected: list[tuple[Rejection, date]] = []
    kept: dict[tuple[str, date], tuple[RawObservation, float]] = {}

    def reject(obs: RawObservation, rule: str, reason: str, day: date | None) -> None:
        rejection = Rejection(rule, f"{obs.source} {obs.series_id}: {reason}", obs.origin, obs.raw)
        rejected.append((rejection, day or filing_day(obs.date, window)))

    for obs in observations:
        commodity = series_to_commodity.get(obs.series_id)
        if commodity is None:
            reject(obs, "E-R01", f"series {obs.series_id!r} is not configured", None)
            continue
        try:
            day = date.fromisoformat(obs.date or "")
        except ValueError:
            reject(obs, "E-R02", f"date {obs.date!r} is not a valid YYYY-MM-DD date", None)
            continue
        if obs.value in MISSING_VALUES:
            reject(obs, "E-R03", f"value missing ({obs.value!r}) on {day}", day)
            continue
        try:
            value = float(obs.value)
        except (TypeError, ValueError):
            value = math.nan
        if not math.isfinite(value):
            reject(obs, "E-R04", f"value {obs.value!r} on {day} is not a number", day)
            continue
        spec = commodities[commodity]
        if not spec.min_price <= value <= spec.max_price:
            reject(
                obs,
                "E-R05",
                f"value {value} on {day} outside {commodity}'s range [{spec.min_price}, {spec.max_price}]",
                day,
            )
            continue
        key = (obs.series_id, day)
        earlier = kept.get(key)
        if earlier is not None:
            prev, prev_value = earlier
            if prev_value == value and prev.vintage == obs.vintage:
                reject(obs, "E-R06", f"duplicate of the record for {day} at {prev.origin}", day)
                continue
            # Keep the later vintage; without vintages, the later record in the response.
            if (obs.vintage or "") >= (prev.vintage or ""):
                reject(
                    prev,
                    "E-R07",
                    f"value {prev_value} for {day} superseded by {value} at {obs.origin}",
                    day,
                )
            else:
                reject(
                    obs,
                    "E-R07",
                    f"value {value} for {day} superseded by {prev_value} at {prev.origin}",
                    day,
                )
                continue
        kept[key] = (obs, value)

    rows = pd.DataFrame(
        [
            (day, series_to_commodity[obs.series_id], value, obs.series_id, obs.vintage, obs.origin)
            for (_, day), (obs, value) in kept.items()
        ],
        columns=STAGING_COLUMNS,
    )
    rows["price_date"] = pd.to_datetime(rows["price_date"]).dt.date
    rows["value"] = rows["value"].astype("float64")
    return rows.sort_values(["commodity", "price_date"], ignore_index=True), rejected


def filing_day(text: str | None, window: tuple[date, date]) -> date:
    """Where a record with an unusable date is kept in quarantine, so that re-running any
    window that fetched it replaces it rather than adding a copy: the last valid day its
    text sorts into ("2019-02-30" -> 2019-02-28), clamped to the window; else the window's
    first day."""
    start, end = window
    try:
        year, month, day = (int(part) for part in (text or "").split("-"))
        day = min(day, calendar.monthrange(year, month)[1])
        filed = date(year, month, max(day, 1))
    except ValueError:
        return start
    return min(max(filed, start), end - timedelta(days=1))


# ---- dataset rules (the blocking quality gate on each staging table) -------------------------


def duplicate_keys(rows: pd.DataFrame) -> pd.DataFrame:
    """G-01: (commodity, price_date) must be unique. Returns the offending keys."""
    counts = rows.groupby(["commodity", "price_date"]).size().rename("n").reset_index()
    return counts[counts["n"] > 1]


def out_of_range(rows: pd.DataFrame, commodities: dict[str, Commodity]) -> pd.DataFrame:
    """G-03: every value inside its commodity's configured range."""
    lo = rows["commodity"].map({k: c.min_price for k, c in commodities.items()})
    hi = rows["commodity"].map({k: c.max_price for k, c in commodities.items()})
    return rows[(rows["value"] < lo) | (rows["value"] > hi) | lo.isna()]


def business_days(start: date, end: date) -> list[date]:
    """Weekdays in [start, end)."""
    import pandas as pd

    return [d.date() for d in pd.bdate_range(start, end - timedelta(days=1))] if end > start else []


def completeness(
    rows: pd.DataFrame,
    commodities: Sequence[str],
    window_end: date,
    window_days: int,
    earliest: date,
) -> pd.DataFrame:
    """G-02: per commodity, the share of business days with a value over the trailing window
    (`window_days` business days ending the day before `window_end`, none before `earliest`).
    Exchange holidays count as expected days, so the threshold leaves room for them (about
    nine a year). An empty result means the window holds no business day to judge."""
    import pandas as pd

    days = [
        d.date() for d in pd.bdate_range(end=window_end - timedelta(days=1), periods=window_days)
    ]
    days = [d for d in days if d >= earliest]
    if not days:
        return pd.DataFrame(columns=["commodity", "days_expected", "days_present", "share"])
    dated = rows[rows["price_date"].isin(days)] if len(rows) else rows
    present = (
        dated.groupby("commodity")["price_date"].nunique() if len(dated) else pd.Series(dtype=int)
    )
    out = pd.DataFrame(
        {
            "commodity": list(commodities),
            "days_expected": len(days),
            "days_present": [int(present.get(c, 0)) for c in commodities],
        }
    )
    out["share"] = out["days_present"] / out["days_expected"]
    out.attrs["window"] = (days[0], days[-1])
    return out
