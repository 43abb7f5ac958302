"""Dataset checks on canonical prices that look at the whole table, not one partition."""

from datetime import date
from typing import TYPE_CHECKING

import dagster as dg

from assets.energy.assets import CANONICAL_KEY, CONFIG
from headwater.clock import business_days_between, last_business_day_before
from resources.warehouse import Warehouse

if TYPE_CHECKING:
    import pandas as pd


def stale_commodities(
    latest: dict[str, date | None], today: date, max_business_days: int
) -> "pd.DataFrame":
    """W-04: commodities whose newest price is more than `max_business_days` business days
    behind the last business day before `today` (weekends are not counted, so Monday
    morning with Friday's price is fresh)."""
    import pandas as pd

    expected = last_business_day_before(today)
    rows = [
        {
            "commodity": name,
            "latest_date": day,
            "expected_date": expected,
            "business_days_behind": business_days_between(day, expected) if day else None,
        }
        for name, day in latest.items()
    ]
    df = pd.DataFrame(rows)
    behind = df["business_days_behind"]
    return df[behind.isna() | (behind > max_business_days)]


@dg.asset_check(
    asset=CANONICAL_KEY,
    name="prices_are_fresh",
    description="W-04 (WARN): the newest price per commodity is at most "
    "energy.freshness_business_days business days behind the last business day (weekends aware).",
)
def prices_are_fresh(warehouse: Warehouse) -> dg.AssetCheckResult:
    found = warehouse.query(
        "SELECT commodity, max(price_date) AS latest FROM canonical.commodity_prices GROUP BY commodity"
    ).to_pylist()
    latest = {name: None for name in CONFIG.commodities} | {
        r["commodity"]: r["latest"] for r in found
    }
    stale = stale_commodities(latest, date.today(), CONFIG.freshness_business_days)
    return dg.AssetCheckResult(
        passed=stale.empty,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "latest": dg.MetadataValue.json({k: str(v) for k, v in latest.items()}),
            "stale": dg.MetadataValue.md(stale.to_markdown(index=False) if len(stale) else "none"),
        },
    )
