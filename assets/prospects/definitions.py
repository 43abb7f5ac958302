"""The prospects domain: five sources -> staging (a draft year per partition) ->
reconciliation -> canonical prospect_* tables -> dbt materialized views; daily snapshots."""

import dagster as dg

from assets.prospects import daily, status
from assets.prospects.canonical import prospects_reconcile
from assets.prospects.config import SOURCES
from assets.prospects.inbox import inbox_sensor
from assets.prospects.marts import prospects_marts
from assets.prospects.sources import ProspectSource
from assets.prospects.staging import CONFIG, staging_assets
from headwater import settings
from headwater.catalogue import catalogued
from headwater.clock import TODAY
from headwater.domain import Domain
from headwater.freshness import with_policies


def prospect_source_resources() -> dict:
    """Sample files by default; HEADWATER_MODE=live downloads prospects.urls (sources without
    a URL stay on sample files, and say so in their metadata)."""
    live = settings.source_mode() == "live"
    resources = {}
    for source in SOURCES:
        url = CONFIG.endpoint(source)[0]
        if live and url:
            resources[f"prospects_{source}"] = ProspectSource(source=source, mode="live", url=url)
        else:
            resources[f"prospects_{source}"] = ProspectSource(
                source=source, sample_years=CONFIG.draft_years
            )
    return resources


defs = dg.Definitions(
    assets=catalogued(
        with_policies(
            [*staging_assets, prospects_reconcile, prospects_marts, daily.prospects_snapshot],
            status.freshness_policies(CONFIG),
        ),
        CONFIG.owners,
    ),
    jobs=[daily.refresh_job, daily.snapshot_job, daily.marts_job],
    schedules=[daily.daily_schedule],
    sensors=[inbox_sensor, daily.snapshot_after_refresh, daily.automation_sensor],
    resources=prospect_source_resources(),
)

# What `make demo` runs, in order: every draft year as one run, the materialized views on
# them, then today's snapshot (the day when that run starts: headwater.clock.TODAY).
DEMO_PLAN = [
    (daily.refresh_job.name, (CONFIG.partition_keys[0], CONFIG.partition_keys[-1])),
    (daily.marts_job.name, None),
    (daily.snapshot_job.name, (TODAY, TODAY)),
]

DOMAIN = Domain(
    name="prospects",
    defs=defs,
    demo_plan=DEMO_PLAN,
    status_queries=status.STATUS_QUERIES,
    freshness=status.freshness,
)
