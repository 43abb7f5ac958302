"""Who started a run, truthfully: a run re-executed from the UI copies its parent's tags (a
demo run's `headwater/trigger=demo` included) but is the UI's, with its parent named; the
daemon's automatic retry stays its original trigger's."""

import dagster as dg

from headwater.cli.history import trigger_of
from headwater.cli.launch import job_origins

PARENT = "7f3a9c1e-0000-4000-8000-000000000000"


def run(tags: dict, from_location: bool = True) -> dg.DagsterRun:
    remote, python = job_origins("energy_daily_prices")
    return dg.DagsterRun(
        job_name="energy_daily_prices",
        tags=tags,
        remote_job_origin=remote if from_location else None,
        job_code_origin=python,
    )


def test_a_demo_run_is_the_cli_s():
    assert trigger_of(run({"headwater/trigger": "demo"})) == ("CLI", "headwater demo")


def test_a_re_execution_from_the_ui_is_the_ui_s_and_names_its_parent():
    copied = {"headwater/trigger": "demo", "dagster/parent_run_id": PARENT,
              "dagster/root_run_id": PARENT}  # fmt: skip
    assert trigger_of(run(copied)) == ("UI", "re-execution of 7f3a9c1e")


def test_a_re_execution_without_a_code_location_is_dagster_cli():
    tags = {"dagster/parent_run_id": PARENT}
    assert trigger_of(run(tags, from_location=False)) == ("dagster CLI", "re-execution of 7f3a9c1e")


def test_the_daemon_s_retry_keeps_its_original_trigger():
    tags = {"dagster/schedule_name": "energy_daily_0600", "dagster/parent_run_id": PARENT,
            "dagster/retry_number": "1"}  # fmt: skip
    assert trigger_of(run(tags)) == ("schedule", "energy_daily_0600")
