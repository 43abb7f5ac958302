"""Energy jobs, the daily schedule and the automation that keeps the marts current.

Incremental mode is the schedule: every day at 06:00 America/New_York (config:
energy.schedule_time / schedule_timezone) it rewrites the month that holds
yesterday, so the month in progress fills day by day and, on the first of a month,
the month just ended is completed. The marts follow by declarative automation.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from assets.energy.assets import CANONICAL_KEY, CONFIG, staging_key
from assets.energy.config import SOURCES
from assets.energy.marts import canonical_dbt_test_keys, energy_marts
from headwater.plans import month_key
from headwater.policies import max_runtime

PRICE_KEYS = [*(staging_key(s) for s in SOURCES), CANONICAL_KEY]

# The Python assets and their own checks; the dbt source tests on canonical prices run
# with the marts, in the dbt step, rather than as a dbt step of their own in every ingest.
daily_prices_job = dg.define_asset_job(
    "energy_daily_prices",
    selection=dg.AssetSelection.assets(*PRICE_KEYS)
    - dg.AssetSelection.checks(*canonical_dbt_test_keys()),
    description="Staging (three sources) and canonical prices for a month or a range of "
    "months, as one run.",
    tags=max_runtime("ingest"),
)

# One job per source, for `headwater ingest --api eia|fred|yahoo`: its staging table and the
# canonical prices rebuilt from every source's staging rows.
source_jobs = {
    source: dg.define_asset_job(
        f"energy_{source}_prices",
        selection=dg.AssetSelection.assets(staging_key(source), CANONICAL_KEY)
        - dg.AssetSelection.checks(*canonical_dbt_test_keys()),
        description=f"Staging prices from {source.upper()} and canonical prices, for a month "
        "or a range of months, as one run (headwater ingest --api " + source + ").",
        tags=max_runtime("ingest"),
    )
    for source in SOURCES
}

marts_job = dg.define_asset_job(
    "energy_marts_refresh",
    selection=dg.AssetSelection.assets(energy_marts)
    | dg.AssetSelection.checks(*canonical_dbt_test_keys()),
    description="Rebuild the energy marts (dbt) from canonical prices, with the dbt tests on "
    "canonical prices and on the marts.",
    tags=max_runtime("marts"),
)

_hour, _minute = (int(part) for part in CONFIG.schedule_time.split(":"))


def partition_for_tick(scheduled: datetime) -> str:
    """The month a tick materializes: the one holding yesterday, in the schedule's zone (on
    the first of a month, the month just ended)."""
    local = scheduled.astimezone(ZoneInfo(CONFIG.schedule_timezone))
    return month_key(local.date() - timedelta(days=1))


@dg.schedule(
    job=daily_prices_job,
    name="energy_daily_0600",
    cron_schedule=f"{_minute} {_hour} * * *",
    execution_timezone=CONFIG.schedule_timezone,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=f"Incremental: every day at {CONFIG.schedule_time} {CONFIG.schedule_timezone}, "
    "the month that holds yesterday (on the 1st, the month just ended).",
)
def daily_schedule(context: dg.ScheduleEvaluationContext):
    tick = context.scheduled_execution_time or datetime.now(ZoneInfo(CONFIG.schedule_timezone))
    return dg.RunRequest(partition_key=partition_for_tick(tick))


# Seconds between two evaluations (Dagster's default: 30; its asset daemon loops every 5 s at
# most): a month loaded from the UI has fresh marts within 30 s. An evaluation of the energy
# group reads its assets' latest records, a fraction of a second of the daemon's time.
MARTS_FOLLOW_INTERVAL_S = 5

automation_sensor = dg.AutomationConditionSensorDefinition(
    "energy_marts_follow_inputs",
    target=dg.AssetSelection.groups("energy"),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=MARTS_FOLLOW_INTERVAL_S,
    description="Rebuilds the energy marts (dbt, with their tests) when canonical prices "
    "have changed, by schedule, backfill or hand.",
)
