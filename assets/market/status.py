"""What `headwater status` reads of the market and how fresh it must be: the newest daily
bar per configured symbol in canonical.market_ohlcv_1d at most FRESHNESS_BUSINESS_DAYS
business days behind the last business day before today."""

from assets.market.config import load_market_config
from headwater.freshness import Freshness, StatusInputs, as_date, business_days_rule

FRESHNESS_BUSINESS_DAYS = 2  # a weekday's bars load at 18:00 Chicago; a holiday's slack

STATUS_QUERIES = {
    "market_daily": (
        "canonical.market_ohlcv_1d",
        "SELECT root, CAST(max(bar_date) AS DATE) FROM canonical.market_ohlcv_1d GROUP BY 1",
    ),
}


def freshness(inputs: StatusInputs) -> list[Freshness]:
    today = inputs.now.astimezone().date()
    bars = inputs.facts.get("market_daily") or {}
    return [
        business_days_rule(
            "market",
            f"{symbol} daily bars",
            as_date(bars.get(symbol)),  # the parent symbol, as canonical's root holds it
            today,
            FRESHNESS_BUSINESS_DAYS,
            True,
            "assets/market/status.py",
        )
        for symbol in load_market_config().symbols
    ]
