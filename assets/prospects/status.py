"""How fresh the prospects must be, and what `headwater status` shows beside it.

The daily snapshot users read (snapshots/prospects) has a Dagster freshness policy
(headwater.freshness), evaluated by the daemon and shown in the UI: WARN once the newest
snapshot is more than `prospects.snapshot_max_age_days` days and an hour old (today's is
late: it follows the morning refresh), FAIL a day later (a whole day is missing).
"""

import dagster as dg

from assets.prospects.config import ProspectsConfig
from assets.prospects.daily import SNAPSHOT_KEY
from headwater.freshness import Freshness, StatusInputs, as_text, max_age, policy_rows

STATUS_QUERIES = {
    "prospects_snapshot": (
        "snapshots.prospects_history",
        "SELECT 'snapshot', max(snapshot_date) FROM snapshots.prospects_history",
    ),
}


def freshness_policies(cfg: ProspectsConfig) -> dict[dg.AssetKey, dg.FreshnessPolicy]:
    return {SNAPSHOT_KEY: max_age(cfg.snapshot_max_age_days)}


def freshness(inputs: StatusInputs) -> list[Freshness]:
    snapshot = (inputs.facts.get("prospects_snapshot") or {}).get("snapshot")
    return policy_rows("prospects", inputs, {SNAPSHOT_KEY.to_user_string(): as_text(snapshot)})
