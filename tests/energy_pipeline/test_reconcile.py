from datetime import date

import pandas as pd
import pytest

from assets.energy.checks import stale_commodities
from assets.energy.reconcile import day_over_day_jumps, reconcile

D1, D2 = date(2020, 1, 2), date(2020, 1, 3)


def staged(rows):
    return pd.DataFrame(rows, columns=["source", "commodity", "price_date", "value"])


def test_authority_order_picks_the_winner_and_keeps_lineage():
    df = staged(
        [
            ("fred", "WTI", D1, 61.0),
            ("eia", "WTI", D1, 61.2),
            ("yahoo", "WTI", D1, 62.5),
            ("yahoo", "WTI", D2, 63.0),
            ("fred", "BRENT", D2, 66.0),
        ]
    )
    out = reconcile(df, ["eia", "fred", "yahoo"]).set_index(["commodity", "price_date"])
    wti = out.loc[("WTI", D1)]
    assert (wti["price"], wti["source"], wti["n_sources"]) == (61.2, "eia", 3)
    assert wti["max_disagreement_pct"] == pytest.approx((62.5 - 61.2) / 61.2)
    assert (wti["eia_value"], wti["fred_value"], wti["yahoo_value"]) == (61.2, 61.0, 62.5)
    assert out.loc[("WTI", D2), "source"] == "yahoo"
    assert pd.isna(out.loc[("WTI", D2), "max_disagreement_pct"])  # one source: nothing to disagree
    assert out.loc[("BRENT", D2), "price"] == 66.0


def test_another_authority_order_changes_the_winner():
    df = staged([("eia", "WTI", D1, 61.2), ("yahoo", "WTI", D1, 62.5)])
    out = reconcile(df, ["yahoo", "fred", "eia"])
    assert out[["price", "source"]].values.tolist() == [[62.5, "yahoo"]]


def test_one_row_per_commodity_and_day():
    df = staged(
        [
            (s, c, d, 10.0)
            for s in ("eia", "fred", "yahoo")
            for c in ("WTI", "BRENT")
            for d in (D1, D2)
        ]
    )
    out = reconcile(df, ["eia", "fred", "yahoo"])
    assert len(out) == 4 and not out.duplicated(["commodity", "price_date"]).any()


def test_negative_price_disagreement_is_relative_to_its_magnitude():
    df = staged([("eia", "WTI", D1, -36.98), ("yahoo", "WTI", D1, -37.63)])
    out = reconcile(df, ["eia", "fred", "yahoo"])
    assert out["max_disagreement_pct"].iloc[0] == pytest.approx(0.65 / 36.98)


def test_day_over_day_jumps():
    prices = pd.DataFrame(
        {"commodity": "WTI", "price_date": [D1, D2, date(2020, 1, 6)], "price": [50.0, 70.0, 71.0]}
    )
    jumps = day_over_day_jumps(prices, 0.25)
    assert jumps["price_date"].tolist() == [D2]
    assert jumps["change_pct"].iloc[0] == pytest.approx(0.4)


def test_freshness_is_weekend_aware():
    monday = date(2024, 1, 8)
    latest = {"WTI": date(2024, 1, 5), "BRENT": date(2024, 1, 2), "NATGAS": None}
    stale = stale_commodities(latest, monday, max_business_days=2)
    assert sorted(stale["commodity"]) == ["BRENT", "NATGAS"]  # Friday's WTI is fresh on Monday
    assert stale.set_index("commodity").loc["BRENT", "business_days_behind"] == 3
