"""The prospects' day: a schedule refreshes the sources, then the snapshot is taken.

`prospects_daily` (prospects.schedule_time, schedule_timezone; default 07:00 New York)
runs `prospects_refresh`: the five staging tables and the canonical tables for the latest
draft year (earlier classes are history; refresh them with a backfill). When that run
succeeds, the sensor `prospects_snapshot_after_refresh` takes the day's snapshot
(`prospects_snapshot` job, today's partition, once a day). The materialized views follow
the canonical tables through the automation sensor.
"""

from typing import TYPE_CHECKING

import dagster as dg

from assets.prospects import snapshots
from assets.prospects.canonical import TABLES
from assets.prospects.config import SOURCES
from assets.prospects.marts import canonical_dbt_test_keys, prospects_marts
from assets.prospects.staging import CONFIG, GROUP, staging_key
from headwater import settings
from headwater.policies import max_runtime
from resources.warehouse import Warehouse, quote_table

if TYPE_CHECKING:
    import pyarrow as pa

SNAPSHOT_KEY = dg.AssetKey(["snapshots", "prospects"])
daily_partitions = dg.DailyPartitionsDefinition(
    start_date=CONFIG.snapshot_start.isoformat(), timezone=CONFIG.schedule_timezone, end_offset=1
)


@dg.asset(
    key=SNAPSHOT_KEY,
    group_name=GROUP,
    partitions_def=daily_partitions,
    deps=[
        dg.AssetDep(dg.AssetKey(["canonical", t]), partition_mapping=dg.AllPartitionMapping())
        for t in ("prospect_core", "prospect_measurements", "prospect_grades", "prospect_injuries")
    ],
    pool="warehouse",
    kinds={"python", settings.warehouse_engine(), "parquet"},
    description="Daily snapshot of every canonical prospect (identity, measurements, PFF grade, "
    "latest injury status), kept as zstd Parquet in prospects.archive and in "
    "snapshots.prospects_history, with a change report against the previous snapshot "
    "(snapshots.prospects_changes). Only today can be taken.",
)
def prospects_snapshot(context: dg.AssetExecutionContext, warehouse: Warehouse):
    import pyarrow as pa

    try:
        day = snapshots.require_today(context.partition_key, CONFIG.schedule_timezone)
    except snapshots.PastSnapshotError as exc:
        raise dg.Failure(description=str(exc)) from None
    with warehouse.session() as con:
        if not warehouse.table_exists("canonical.prospect_core", con):
            raise dg.Failure(
                description="no canonical prospects yet: materialize canonical/prospect_core first"
            )
        current = snapshots.typed_snapshot(warehouse.query(snapshots.SNAPSHOT_SQL, con=con))
        previous, previous_day = None, None
        if warehouse.table_exists(snapshots.HISTORY, con):
            history = quote_table(snapshots.HISTORY)
            previous_day = warehouse.scalar(
                f"SELECT max(snapshot_date) FROM {history} WHERE snapshot_date < ?", [day], con
            )
            if previous_day is not None:
                rows = warehouse.query(
                    f"SELECT * FROM {history} WHERE snapshot_date = ?", [previous_day], con
                )
                previous = rows.drop_columns(["snapshot_date"]).to_pandas()
    report = snapshots.change_report(previous, current.to_pandas())

    path = snapshots.archive_path(CONFIG.archive, day)
    size = snapshots.write_archive(current, path)
    dated = current.add_column(0, "snapshot_date", pa.array([day] * current.num_rows, pa.date32()))
    changes = pa.Table.from_pandas(report, preserve_index=False)
    changes = changes.add_column(0, "snapshot_date", pa.array([day] * len(report), pa.date32()))
    changes = changes.append_column(
        "previous_date", pa.array([previous_day] * len(report), pa.date32())
    )
    next_day = day.fromordinal(day.toordinal() + 1)
    warehouse.replace_many(
        [
            (snapshots.HISTORY, dated, "snapshot_date", day, next_day),
            (snapshots.CHANGES, _typed_changes(changes), "snapshot_date", day, next_day),
        ]
    )
    counts = report["change"].value_counts().to_dict()
    context.log.info(
        f"snapshot {day}: {current.num_rows} prospects; against {previous_day or 'nothing'}: "
        f"{counts.get('new', 0)} new, {counts.get('changed', 0)} field changes, "
        f"{counts.get('removed', 0)} removed; {path}"
    )
    return dg.MaterializeResult(
        metadata={
            "snapshot_date": str(day),
            "previous_snapshot": str(previous_day) if previous_day else "none",
            "dagster/row_count": current.num_rows,
            "archive": dg.MetadataValue.path(str(path)),
            "archive_bytes": size,
            "new": counts.get("new", 0),
            "changed_fields": counts.get("changed", 0),
            "removed": counts.get("removed", 0),
            "changes": dg.MetadataValue.md(
                report.head(20).to_markdown(index=False) if len(report) else "no changes"
            ),
        }
    )


def _typed_changes(changes: "pa.Table") -> "pa.Table":
    """Text columns stay text when the report is empty (no null-typed columns)."""
    import pyarrow as pa

    schema = pa.schema(
        [
            ("snapshot_date", pa.date32()),
            *((name, pa.string()) for name in snapshots.CHANGE_COLUMNS),
            ("previous_date", pa.date32()),
        ]
    )
    return changes.select(schema.names).cast(schema)


REFRESH_KEYS = [
    *(staging_key(s) for s in SOURCES),
    *(dg.AssetKey(["canonical", t]) for t in TABLES),
]
# The Python assets and their own checks; the dbt tests on the canonical tables run with the
# materialized views, in the dbt step.
refresh_job = dg.define_asset_job(
    "prospects_refresh",
    selection=dg.AssetSelection.assets(*REFRESH_KEYS)
    - dg.AssetSelection.checks(*canonical_dbt_test_keys()),
    description="The five prospects sources and the canonical tables, for a draft year or a "
    "range of draft years, as one run.",
    tags=max_runtime("ingest"),
)
snapshot_job = dg.define_asset_job(
    "prospects_snapshot",
    selection=dg.AssetSelection.assets(SNAPSHOT_KEY),
    description="Today's snapshot of the canonical prospects and its change report.",
    tags=max_runtime("snapshot"),
)
marts_job = dg.define_asset_job(
    "prospects_marts_refresh",
    selection=dg.AssetSelection.assets(prospects_marts)
    | dg.AssetSelection.checks(*canonical_dbt_test_keys()),
    description="Rebuild the prospects materialized views (dbt) with their tests and the dbt "
    "tests on the canonical tables.",
    tags=max_runtime("marts"),
)

_hour, _minute = (int(part) for part in CONFIG.schedule_time.split(":"))
LATEST_YEAR = CONFIG.partition_keys[-1]


@dg.schedule(
    job=refresh_job,
    name="prospects_daily",
    cron_schedule=f"{_minute} {_hour} * * *",
    execution_timezone=CONFIG.schedule_timezone,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=f"Every day at {CONFIG.schedule_time} {CONFIG.schedule_timezone}: refresh the "
    f"sources and canonical prospects of the latest draft year ({LATEST_YEAR}); the snapshot "
    "follows when the run succeeds.",
)
def daily_schedule(context: dg.ScheduleEvaluationContext):
    return dg.RunRequest(partition_key=LATEST_YEAR)


@dg.run_status_sensor(
    name="prospects_snapshot_after_refresh",
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[refresh_job],
    request_job=snapshot_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Takes today's prospects snapshot once a day, after a prospects_refresh run "
    "succeeds.",
)
def snapshot_after_refresh(context: dg.RunStatusSensorContext):
    day = snapshots.today(CONFIG.schedule_timezone).isoformat()
    return dg.RunRequest(run_key=f"snapshot-{day}", partition_key=day)


automation_sensor = dg.AutomationConditionSensorDefinition(
    "prospects_marts_follow_inputs",
    target=dg.AssetSelection.assets(prospects_marts)
    | dg.AssetSelection.checks(*canonical_dbt_test_keys()),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Rebuilds the prospects materialized views (dbt, with their tests) when the "
    "canonical prospect tables they read have changed.",
)
