"""The energy domain: EIA, FRED and Yahoo Finance prices -> staging -> canonical -> marts."""

import dagster as dg

from assets.energy import automation, status
from assets.energy.assets import CONFIG, commodity_prices, monthly_partitions, staging_assets
from assets.energy.checks import prices_are_fresh
from assets.energy.config import load_energy_config
from assets.energy.ingest import EnergyIngest
from assets.energy.marts import energy_marts
from assets.energy.sources import EIAResource, FREDResource, YahooFinanceResource
from headwater import settings
from headwater.catalogue import catalogued
from headwater.domain import Domain
from headwater.freshness import with_policies


def energy_source_resources() -> dict:
    """Sample files by default; HEADWATER_MODE=live calls the real APIs with keys from the
    environment (EIA_API_KEY, FRED_API_KEY)."""
    if settings.source_mode() == "live":
        cfg = load_energy_config()
        url = {source: cfg.endpoint(source)[0] for source in ("eia", "fred", "yahoo")}
        return {
            "eia": EIAResource(mode="live", api_key=dg.EnvVar("EIA_API_KEY"), base_url=url["eia"]),
            "fred": FREDResource(
                mode="live", api_key=dg.EnvVar("FRED_API_KEY"), base_url=url["fred"]
            ),
            "yahoo": YahooFinanceResource(mode="live", base_url=url["yahoo"]),
        }
    return {"eia": EIAResource(), "fred": FREDResource(), "yahoo": YahooFinanceResource()}


defs = dg.Definitions(
    assets=catalogued(
        with_policies(
            [*staging_assets, commodity_prices, energy_marts], status.freshness_policies(CONFIG)
        ),
        CONFIG.owners,
    ),
    asset_checks=[prices_are_fresh],
    jobs=[automation.daily_prices_job, automation.marts_job, *automation.source_jobs.values()],
    schedules=[automation.daily_schedule],
    sensors=[automation.automation_sensor],
    resources=energy_source_resources(),
)

# What `make demo` runs, in order: the whole history (every month since start_date, the
# month in progress included) as one run, then the marts on it.
DEMO_PLAN = [
    (
        automation.daily_prices_job.name,
        (monthly_partitions.get_first_partition_key(), monthly_partitions.get_last_partition_key()),
    ),
    (automation.marts_job.name, None),
]

DOMAIN = Domain(
    name="energy",
    defs=defs,
    demo_plan=DEMO_PLAN,
    status_queries=status.STATUS_QUERIES,
    freshness=status.freshness,
    ingest=EnergyIngest(),
)
