"""Energy jobs and the daily schedule.

Incremental mode is the schedule: at 06:00 America/New_York (config:
energy.schedule_time / schedule_timezone) it materializes yesterday's partition
of the staging and canonical assets; the marts follow by declarative automation.
"""

import dagster as dg

from assets.energy.assets import CANONICAL_KEY, CONFIG, staging_key
from assets.energy.config import SOURCES

daily_prices_job = dg.define_asset_job(
    "energy_daily_prices",
    selection=dg.AssetSelection.assets(*[staging_key(s) for s in SOURCES], CANONICAL_KEY),
    description="Staging (three sources) and canonical prices for a day or a range of days, as one run.",
)

marts_job = dg.define_asset_job(
    "energy_marts_refresh",
    selection=dg.AssetSelection.groups("energy")
    - dg.AssetSelection.assets(*[staging_key(s) for s in SOURCES], CANONICAL_KEY),
    description="Rebuild the energy marts (dbt) from canonical prices.",
)

_hour, _minute = (int(part) for part in CONFIG.schedule_time.split(":"))

daily_schedule = dg.build_schedule_from_partitioned_job(
    daily_prices_job,
    name="energy_daily_0600",
    hour_of_day=_hour,
    minute_of_hour=_minute,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Incremental: yesterday's prices every day at 06:00 America/New_York.",
)

automation_sensor = dg.AutomationConditionSensorDefinition(
    "energy_marts_follow_inputs",
    target=dg.AssetSelection.groups("energy"),
    default_status=dg.DefaultSensorStatus.RUNNING,
)
