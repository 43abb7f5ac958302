"""What `headwater status` reads of prospects and how fresh it must be: the newest snapshot
in snapshots.prospects_history at most MAX_AGE_DAYS days old (today in
`prospects.schedule_timezone`; the daily snapshot comes after the 07:00 refresh, so
yesterday's is still fresh in the morning); each source's last load (its staging asset's
last materialization, from the instance) by the same rule, shown beside it."""

from datetime import datetime
from zoneinfo import ZoneInfo

from assets.prospects.config import SOURCES, load_prospects_config
from headwater.freshness import Freshness, StatusInputs, as_date, days_rule

MAX_AGE_DAYS = 1  # today's snapshot, or yesterday's before the morning refresh

STATUS_QUERIES = {
    "prospects_snapshot": (
        "snapshots.prospects_history",
        "SELECT 'snapshot', max(snapshot_date) FROM snapshots.prospects_history",
    ),
}


def freshness(inputs: StatusInputs) -> list[Freshness]:
    zone = load_prospects_config().schedule_timezone
    today = inputs.now.astimezone(ZoneInfo(zone)).date()
    snapshot = (inputs.facts.get("prospects_snapshot") or {}).get("snapshot")
    rows = [days_rule("prospects", "snapshot", as_date(snapshot), today, MAX_AGE_DAYS, True, zone)]
    for src in SOURCES:
        ts = inputs.last_materialized(f"staging/prospects_{src}")
        day = None if ts is None else datetime.fromtimestamp(ts, ZoneInfo(zone)).date()
        row = days_rule("prospects", f"{src} (last load)", day, today, MAX_AGE_DAYS, False, zone)
        row.note = "from the instance"
        rows.append(row)
    return rows
