"""Launching jobs from code so the runs land in the Dagster instance (and the UI)."""

import dagster as dg

from headwater.dead_runs import process_tags

# Dagster's run tags for "this run covers a partition range" (what the UI's backfill
# and `dagster asset materialize --partition-range` set for single-run backfills).
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def load_defs() -> dg.Definitions:
    from definitions import defs

    return defs


def run_job(
    defs: dg.Definitions,
    job_name: str,
    partition_range: tuple[str, str] | None,
    instance: dg.DagsterInstance,
    tags: dict[str, str] | None = None,
    log_level: str = "INFO",
) -> dg.ExecuteInProcessResult:
    """Execute a job in this process, recorded in `instance`; a partition range runs as one run."""
    job = defs.resolve_job_def(job_name)
    run_tags = dict(tags or {}) | process_tags()
    if partition_range is not None:
        first, last = partition_range
        run_tags |= {RANGE_START_TAG: first, RANGE_END_TAG: last}
    # The console shows INFO and up; every event (DEBUG included) is still in the instance.
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    return job.execute_in_process(
        run_config=run_config, instance=instance, tags=run_tags, raise_on_error=False
    )


def check_outcomes(result: dg.ExecuteInProcessResult) -> dict[str, int]:
    """Counts of asset check outcomes in a run: passed, warned (failed WARN), failed (ERROR)."""
    counts = {"passed": 0, "warned": 0, "failed": 0}
    for event in result.all_events:
        if event.event_type_value != "ASSET_CHECK_EVALUATION":
            continue
        evaluation = event.event_specific_data
        if evaluation.passed:
            counts["passed"] += 1
        elif evaluation.severity == dg.AssetCheckSeverity.WARN:
            counts["warned"] += 1
        else:
            counts["failed"] += 1
    return counts


def materialized_assets(result: dg.ExecuteInProcessResult) -> set[dg.AssetKey]:
    return {
        e.event_specific_data.materialization.asset_key
        for e in result.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION"
    }
