"""Reconciliation: one price per commodity and day, chosen by source authority."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


CANONICAL_COLUMNS = [
    "price_date",
    "commodity",
    "price",
    "source",
    "n_sources",
    "max_disagreement_pct",
    "eia_value",
    "fred_value",
    "yahoo_value",
]


def reconcile(staged: pd.DataFrame, authority_order: Sequence[str]) -> pd.DataFrame:
    """`staged` has one row per (source, commodity, price_date) with a `value`.

    The winner is the first source in `authority_order` that has the day. Lineage
    kept: the winning source, how many sources had the day, and the largest
    disagreement between any source and the winner, as a fraction of the winner's
    absolute price (NULL with a single source).
    """
    import numpy as np
    import pandas as pd

    if staged.empty:
        return pd.DataFrame(columns=CANONICAL_COLUMNS)
    wide = staged.pivot_table(
        index=["price_date", "commodity"], columns="source", values="value", aggfunc="first"
    )
    wide = wide.reindex(columns=list(authority_order))
    present = wide.notna()
    winner_idx = present.to_numpy().argmax(axis=1)
    values = wide.to_numpy()
    price = values[np.arange(len(wide)), winner_idx]
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = np.nanmax(np.abs(values - price[:, None]), axis=1) / np.abs(price)
    n_sources = present.sum(axis=1).to_numpy()
    out = pd.DataFrame(
        {
            "price_date": wide.index.get_level_values("price_date"),
            "commodity": wide.index.get_level_values("commodity"),
            "price": price,
            "source": np.asarray(authority_order, dtype=object)[winner_idx],
            "n_sources": n_sources.astype("int32"),
            "max_disagreement_pct": np.where(n_sources > 1, spread, np.nan),
        }
    )
    for source in ("eia", "fred", "yahoo"):
        out[f"{source}_value"] = wide[source].to_numpy() if source in wide else np.nan
    return out.sort_values(["commodity", "price_date"], ignore_index=True)[CANONICAL_COLUMNS]


def day_over_day_jumps(canonical: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Rows whose price moved more than `threshold` (fraction) from the previous observation
    of the same commodity. `canonical` may include days before the window for context."""
    import numpy as np

    ordered = canonical.sort_values(["commodity", "price_date"])
    prev = ordered.groupby("commodity")["price"].shift(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        change = (ordered["price"] - prev) / prev.abs()
    jumps = ordered.assign(previous_price=prev, change_pct=change)
    return jumps[change.abs() > threshold]
