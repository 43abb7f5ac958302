"""The market domain: Databento futures data -> staging -> canonical -> marts.

Jobs: one per schema (`market_<schema>`, a partition range as one run; what `headwater
ingest` launches), `market_daily_close` (definitions, daily bars and statistics of a
month) and `market_intraday` (one-minute bars and trades of a day), `market_marts_refresh`.
The schedule `market_after_close` runs `market_daily_close` on weekdays at 18:00
America/Chicago (after the CME close; settings market.schedule_time/_timezone) for the
month holding that day; when it succeeds, the sensor `market_intraday_after_close` loads
that day's intraday schemas.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from assets.market import status
from assets.market.assets import (
    CONFIG,
    canonical_key,
    load_assets,
    monthly_partitions,
    partitions_for,
)
from assets.market.config import INTRADAY, MONTHLY
from assets.market.inbox import build_inbox_sensor
from assets.market.ingest import MarketIngest, ingest_run_config, job_name
from assets.market.marts import market_marts
from assets.market.sources import DatabentoSource
from headwater import settings
from headwater.catalogue import catalogued
from headwater.domain import Domain
from headwater.freshness import with_policies
from headwater.policies import max_runtime

__all__ = ["CONFIG", "ingest_run_config", "job_name", "partitions_for"]

DAY_TAG = "headwater/market_day"  # the trading day a scheduled run is for
DATASET_TAG = "headwater/market_dataset"  # the Databento dataset a scheduled run loads
# What the schedule's intraday run loads: the other intraday schemas (second and hour bars,
# quotes, status) load on request, so the demo and the nightly run keep their size.
SCHEDULED_INTRADAY = ("ohlcv-1m", "trades")


schema_jobs = {
    schema: dg.define_asset_job(
        job_name(schema),
        selection=dg.AssetSelection.assets(load_assets[schema]),
        description=f"Databento {schema}: staging and canonical for a "
        f"{'day' if schema in INTRADAY else 'month'} or a range, as one run.",
        tags=max_runtime("ingest"),
    )
    for schema in (*MONTHLY, *INTRADAY)
}

daily_close_job = dg.define_asset_job(
    "market_daily_close",
    selection=dg.AssetSelection.assets(*(load_assets[s] for s in MONTHLY)),
    description="Definitions, daily bars and statistics of a month (definitions first).",
    tags=max_runtime("ingest"),
)
intraday_job = dg.define_asset_job(
    "market_intraday",
    selection=dg.AssetSelection.assets(*(load_assets[s] for s in SCHEDULED_INTRADAY)),
    description="One-minute bars and trades of a day.",
    tags=max_runtime("ingest"),
)
marts_job = dg.define_asset_job(
    "market_marts_refresh",
    selection=dg.AssetSelection.assets(market_marts),
    description="Rebuild the market marts (dbt) from the canonical market tables, with tests.",
    tags=max_runtime("marts"),
)

_hour, _minute = (int(part) for part in CONFIG.schedule_time.split(":"))


def trading_day(scheduled: datetime) -> date:
    """The day a tick is for: its date in the schedule's time zone."""
    return scheduled.astimezone(ZoneInfo(CONFIG.schedule_timezone)).date()


@dg.schedule(
    job=daily_close_job,
    name="market_after_close",
    cron_schedule=f"{_minute} {_hour} * * 1-5",
    execution_timezone=CONFIG.schedule_timezone,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=f"Weekdays at {CONFIG.schedule_time} {CONFIG.schedule_timezone} (after the CME "
    "close): the month holding that day, for definitions, daily bars and statistics; the "
    "day's intraday schemas follow (sensor market_intraday_after_close).",
)
def after_close_schedule(context: dg.ScheduleEvaluationContext):
    tick = context.scheduled_execution_time or datetime.now(ZoneInfo(CONFIG.schedule_timezone))
    day = trading_day(tick)
    # One run per configured dataset (market.dataset first, then market.datasets).
    return [
        dg.RunRequest(
            run_key=f"close-{day}" + ("" if dataset == CONFIG.dataset else f"-{dataset}"),
            partition_key=day.replace(day=1).isoformat(),
            run_config=dataset_run_config(MONTHLY, dataset),
            tags={DAY_TAG: day.isoformat(), DATASET_TAG: dataset},
        )
        for dataset in CONFIG.all_datasets()
    ]


def dataset_run_config(schemas, dataset: str) -> dict:
    """Run config loading `schemas` for `dataset` with its configured parents (none for
    market.dataset, whose parents and source are the defaults)."""
    if dataset == CONFIG.dataset:
        return {}
    parents = CONFIG.parents(dataset)
    config = {"ops": {}, "resources": {"databento": {"config": {"dataset": dataset}}}}
    for schema in schemas:
        config["ops"] |= ingest_run_config(schema, parents)["ops"]
    return config


@dg.run_status_sensor(
    name="market_intraday_after_close",
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[daily_close_job],
    request_job=intraday_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After a scheduled market_daily_close run succeeds, loads that day's "
    "one-minute bars and trades.",
)
def intraday_after_close(context: dg.RunStatusSensorContext):
    day = context.dagster_run.tags.get(DAY_TAG)
    if day is None:  # a backfill or a CLI run, not the schedule's: nothing to follow
        return dg.SkipReason(f"run {context.dagster_run.run_id} has no {DAY_TAG} tag")
    if date.fromisoformat(day) < CONFIG.intraday_start_date:
        return dg.SkipReason(f"{day} is before market.intraday_start_date")
    dataset = context.dagster_run.tags.get(DATASET_TAG, CONFIG.dataset)
    return dg.RunRequest(
        run_key=f"intraday-{day}" + ("" if dataset == CONFIG.dataset else f"-{dataset}"),
        partition_key=day,
        run_config=dataset_run_config(SCHEDULED_INTRADAY, dataset),
        tags={DATASET_TAG: dataset},
    )


automation_sensor = dg.AutomationConditionSensorDefinition(
    "market_marts_follow_inputs",
    target=dg.AssetSelection.assets(market_marts),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Rebuilds the market marts (dbt: front month, settlements, instruments) when "
    "the canonical market tables they read have changed.",
)


def market_source() -> DatabentoSource:
    """Sample files by default; HEADWATER_MODE=live calls Databento with DATABENTO_API_KEY."""
    if settings.source_mode() == "live":
        return DatabentoSource(
            mode="live",
            dataset=CONFIG.dataset,
            api_key=dg.EnvVar("DATABENTO_API_KEY"),
            gateway=CONFIG.endpoint()[0],
            transport=CONFIG.transport,
            batch_above_mb=CONFIG.batch_above_mb,
        )
    return DatabentoSource(dataset=CONFIG.dataset)


defs = dg.Definitions(
    assets=catalogued(
        with_policies([*load_assets.values(), market_marts], status.freshness_policies(CONFIG)),
        CONFIG.owners,
    ),
    jobs=[*schema_jobs.values(), daily_close_job, intraday_job, marts_job],
    schedules=[after_close_schedule],
    sensors=[
        intraday_after_close,
        automation_sensor,
        build_inbox_sensor(list(schema_jobs.values())),
    ],
    resources={"databento": market_source()},
)


def _recent_weekdays(n: int, today: date) -> tuple[str, str]:
    days = []
    day = today - timedelta(days=1)
    while len(days) < n:
        if day.weekday() < 5 and day >= CONFIG.intraday_start_date:
            days.append(day)
        day -= timedelta(days=1)
        if day < CONFIG.intraday_start_date:
            break
    return min(days).isoformat(), max(days).isoformat()


# What `make demo` runs: every month of the daily-resolution schemas, the last few
# weekdays of the intraday ones, then the marts.
DEMO_PLAN = [
    (
        daily_close_job.name,
        (monthly_partitions.get_first_partition_key(), monthly_partitions.get_last_partition_key()),
    ),
    (intraday_job.name, _recent_weekdays(3, date.today())),
    (marts_job.name, None),
]

CANONICAL_KEYS = [canonical_key(s) for s in (*MONTHLY, *INTRADAY)]

DOMAIN = Domain(
    name="market",
    defs=defs,
    demo_plan=DEMO_PLAN,
    status_queries=status.STATUS_QUERIES,
    freshness=status.freshness,
    ingest=MarketIngest(),
)
