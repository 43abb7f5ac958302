"""How fresh energy must be, and what `headwater status` shows beside it.

The canonical prices are due every weekday by an hour after the daily schedule's time
(`energy.schedule_time` + GRACE, in `energy.schedule_timezone`): a Dagster freshness policy
(headwater.freshness), evaluated by the daemon and shown in the UI. Whether the prices
themselves are recent (the sources publish a business day or more late) is the check
prices_are_fresh (W-04, `energy.freshness_business_days`), not the policy.
"""

import dagster as dg

from assets.energy.assets import CANONICAL_KEY
from assets.energy.config import EnergyConfig
from headwater.freshness import Freshness, StatusInputs, as_text, policy_rows, weekday_deadline

STATUS_QUERIES = {
    "energy_canonical": (
        "canonical.commodity_prices",
        "SELECT 'newest', max(price_date) FROM canonical.commodity_prices",
    ),
}


def freshness_policies(cfg: EnergyConfig) -> dict[dg.AssetKey, dg.FreshnessPolicy]:
    return {CANONICAL_KEY: weekday_deadline(cfg.schedule_time, cfg.schedule_timezone)}


def freshness(inputs: StatusInputs) -> list[Freshness]:
    newest = (inputs.facts.get("energy_canonical") or {}).get("newest")
    return policy_rows("energy", inputs, {CANONICAL_KEY.to_user_string(): as_text(newest)})
