"""How fresh the market data must be, and what `headwater status` shows beside it.

The canonical daily and one-minute bars are due every weekday by an hour after the
after-close schedule's time (`market.schedule_time` + GRACE, in `market.schedule_timezone`;
the minute bars load right after the daily close run): Dagster freshness policies
(headwater.freshness), evaluated by the daemon and shown in the UI.
"""

import dagster as dg

from assets.market.config import MarketConfig, load_market_config
from assets.market.keys import canonical_key
from headwater.freshness import Freshness, StatusInputs, as_text, policy_rows, weekday_deadline

FRESHNESS_SCHEMAS = ("ohlcv-1d", "ohlcv-1m")  # the bars users read

STATUS_QUERIES = {
    "market_daily": (
        "canonical.market_ohlcv_1d",
        "SELECT root, CAST(max(bar_date) AS DATE) FROM canonical.market_ohlcv_1d GROUP BY 1",
    ),
}


def freshness_policies(cfg: MarketConfig) -> dict[dg.AssetKey, dg.FreshnessPolicy]:
    policy = weekday_deadline(cfg.schedule_time, cfg.schedule_timezone)
    return {canonical_key(schema): policy for schema in FRESHNESS_SCHEMAS}


def freshness(inputs: StatusInputs) -> list[Freshness]:
    bars = inputs.facts.get("market_daily") or {}
    # The newest daily bar per configured symbol (the parent symbol, as canonical's root
    # holds it): one date when they agree.
    newest = {symbol: as_text(bars.get(symbol)) for symbol in load_market_config().symbols}
    dates = set(newest.values())
    daily = (
        dates.pop()
        if len(dates) == 1
        else ", ".join(f"{symbol} {day or '-'}" for symbol, day in newest.items())
    )
    return policy_rows("market", inputs, {canonical_key("ohlcv-1d").to_user_string(): daily})
