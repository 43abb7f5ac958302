"""The daily schedule refreshes the latest draft year; the snapshot follows a successful
refresh once a day; the marts follow the canonical tables."""

from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg

from assets.prospects import snapshots
from assets.prospects.staging import CONFIG
from definitions import defs


def test_schedule_runs_the_refresh_job_for_the_latest_draft_year():
    schedule = defs.resolve_schedule_def("prospects_daily")
    assert schedule.cron_schedule == "0 7 * * *"
    assert schedule.execution_timezone == "America/New_York"
    assert schedule.job_name == "prospects_refresh"
    tick = datetime(2026, 12, 1, 7, tzinfo=ZoneInfo("America/New_York"))
    [request] = schedule.evaluate_tick(
        dg.build_schedule_context(
            scheduled_execution_time=tick, repository_def=defs.get_repository_def()
        )
    ).run_requests
    assert request.partition_key == str(max(CONFIG.draft_years))


def test_refresh_job_leaves_the_dbt_tests_to_the_marts_run():
    job = defs.resolve_job_def("prospects_refresh")
    assert "prospects_dbt" not in {node.name for node in job.graph.node_defs}
    marts = defs.resolve_job_def("prospects_marts_refresh")
    assert "prospects_dbt" in {node.name for node in marts.graph.node_defs}


def test_snapshot_follows_a_successful_refresh_once_a_day():
    sensor = defs.resolve_sensor_def("prospects_snapshot_after_refresh")
    assert isinstance(sensor, dg.RunStatusSensorDefinition)
    with dg.instance_for_test() as instance:
        run = instance.create_run_for_job(
            defs.resolve_job_def("prospects_refresh"), status=dg.DagsterRunStatus.SUCCESS
        )
        event = dg.DagsterEvent(event_type_value="PIPELINE_SUCCESS", job_name=run.job_name)
        context = dg.build_run_status_sensor_context(
            sensor_name=sensor.name, dagster_instance=instance, dagster_run=run,
            dagster_event=event,
        )  # fmt: skip
        request = sensor(context)
    today = snapshots.today(CONFIG.schedule_timezone).isoformat()
    assert request.partition_key == today and request.run_key == f"snapshot-{today}"
