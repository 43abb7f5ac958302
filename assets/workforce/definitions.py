"""The workforce domain's Definitions: inputs, the yearly simulation, reports.

Three jobs, because a job may not mix partitioned and unpartitioned assets:
workforce_inputs (census, assumptions, census models) -> workforce_simulation
(yearly partitions; a range of years is one run) -> workforce_reports.
"""

from pathlib import Path

import dagster as dg

from assets.workforce import status
from assets.workforce.assets import (
    CENSUS_KEY,
    SUMMARY_KEY,
    build_simulation_asset,
    census,
    workforce_assumptions,
    workforce_census_models,
    workforce_summary,
)
from assets.workforce.config import WorkforceConfig, load_workforce_config
from assets.workforce.partitions import simulation_years
from assets.workforce.resources import WorkforceSettings
from headwater.catalogue import catalogued
from headwater.config import ConfigError
from headwater.domain import Domain
from headwater.policies import max_runtime

INPUTS_JOB = "workforce_inputs"
SIMULATION_JOB = "workforce_simulation"
REPORTS_JOB = "workforce_reports"


def _config_or_defaults(config_path: Path | str | None) -> WorkforceConfig:
    try:
        return load_workforce_config(config_path)
    except ConfigError:
        # The code location must still load (other domains live in it); the assets
        # load the config again when they run and fail there, naming the bad key.
        return WorkforceConfig()


def build_defs(config_path: Path | str | None = None) -> dg.Definitions:
    cfg = _config_or_defaults(config_path)
    partitions = simulation_years(cfg.start_year, cfg.end_year)
    simulation = build_simulation_asset(partitions)
    jobs = [
        dg.define_asset_job(
            INPUTS_JOB,
            selection=dg.AssetSelection.assets(
                census, workforce_assumptions, workforce_census_models
            ),
            description="Load the census (rules + quarantine) and assumptions; build the baseline.",
            tags=max_runtime("ingest"),
        ),
        dg.define_asset_job(
            SIMULATION_JOB,
            selection=dg.AssetSelection.assets(simulation),
            description="Simulate the selected years, in order, in one run.",
            tags=max_runtime("simulation"),
        ),
        dg.define_asset_job(
            REPORTS_JOB,
            selection=dg.AssetSelection.assets(SUMMARY_KEY),
            description="Multi-year summary CSV and chart.",
            tags=max_runtime("marts"),
        ),
    ]
    settings = WorkforceSettings(config_path=str(config_path) if config_path else None)
    return dg.Definitions(
        assets=catalogued(
            [census, workforce_assumptions, workforce_census_models, simulation, workforce_summary],
            cfg.owners,
        ),
        jobs=jobs,
        resources={"workforce_settings": settings},
    )


def demo_plan(cfg: WorkforceConfig) -> list[tuple[str, tuple[str, str] | None]]:
    return [
        (INPUTS_JOB, None),
        (SIMULATION_JOB, (str(cfg.start_year), str(cfg.end_year))),
        (REPORTS_JOB, None),
    ]


defs = build_defs()
DEMO_PLAN: list[tuple[str, tuple[str, str] | None]] = demo_plan(_config_or_defaults(None))
DOMAIN = Domain(
    name="workforce",
    defs=defs,
    demo_plan=DEMO_PLAN,
    status_queries=status.STATUS_QUERIES,
    freshness=status.freshness,
)

__all__ = ["CENSUS_KEY", "DEMO_PLAN", "DOMAIN", "build_defs", "defs"]
