"""Run policies with a real daemon: a run past its maximum runtime ends failed; a run whose
process died is marked failed and retried once by the daemon; a run that failed in a step
is not retried whole. The instance is the project's dagster.yaml with the daemon's loops
made faster (poll intervals), in a temporary DAGSTER_HOME."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
import yaml

from assets.energy.assets import staging_assets
from assets.market.definitions import load_assets
from assets.prospects.staging import staging_assets as prospect_staging
from headwater.policies import SOURCE_RETRY
from tests.conftest import REPO_ROOT

BIN = Path(sys.executable).parent
LOCATION = REPO_ROOT / "tests" / "fakes" / "policy_location.py"


@pytest.fixture
def daemon(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    config = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())
    config["run_monitoring"]["poll_interval_seconds"] = 1
    config["run_retries"]["max_retries"] = 1
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    # The storage exists before two processes (the daemon, `dagster job launch`) open it.
    dg.DagsterInstance.from_config(str(home)).dispose()
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(
        yaml.safe_dump(
            {
                "load_from": [
                    {
                        "python_file": {
                            "relative_path": str(LOCATION),
                            "working_directory": str(REPO_ROOT),
                            "location_name": "policies",
                        }
                    }
                ]
            }
        )
    )
    env = os.environ | {"DAGSTER_HOME": str(home), "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen(
        [str(BIN / "dagster-daemon"), "run", "-w", str(workspace)],
        cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        yield env, workspace, home
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def launch(env, workspace, job: str) -> str:
    """`dagster job launch`: the run is queued and the daemon starts it in its own process."""
    done = subprocess.run(
        [str(BIN / "dagster"), "job", "launch", "-w", str(workspace), "-j", job],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        [run] = instance.get_runs(dg.RunsFilter(job_name=job), limit=1)
        return run.run_id


def wait_for(home, predicate, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            found = predicate(instance)
            if found:
                return found
        time.sleep(0.5)
    raise AssertionError("timed out")


@pytest.mark.timeout(300)
def test_a_run_over_its_maximum_runtime_ends_failed(daemon):
    env, workspace, home = daemon
    run_id = launch(env, workspace, "hangs")  # the job's tag: dagster/max_runtime=3
    run = wait_for(
        home,
        lambda i: (r := i.get_run_by_id(run_id)) and r.is_finished and r,
    )
    assert run.status == dg.DagsterRunStatus.FAILURE
    assert run.tags["dagster/max_runtime"] == "3"
    with dg.DagsterInstance.from_config(str(home)) as instance:
        messages = [e.message or "" for e in instance.all_logs(run_id)]
    assert any("maximum runtime of 3 seconds" in m for m in messages), messages[-5:]


@pytest.mark.timeout(300)
def test_a_run_whose_process_died_is_retried_once_by_the_daemon(daemon):
    env, workspace, home = daemon
    run_id = launch(env, workspace, "dies")

    def retried(instance):
        runs = instance.get_runs(dg.RunsFilter(job_name="dies"))
        finished = [r for r in runs if r.is_finished]
        return runs if len(runs) == 2 and len(finished) == 2 else None

    runs = wait_for(home, retried, timeout=180)
    first = next(r for r in runs if r.run_id == run_id)
    retry = next(r for r in runs if r.run_id != run_id)
    assert first.status == retry.status == dg.DagsterRunStatus.FAILURE
    assert retry.tags["dagster/parent_run_id"] == run_id
    assert retry.tags["dagster/retry_number"] == "1"
    time.sleep(5)  # max_retries is 1: no third run
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert len(instance.get_runs(dg.RunsFilter(job_name="dies"))) == 2


def test_every_asset_that_reads_a_source_has_the_retry_policy():
    from assets.market.config import SCHEMAS as MARKET_SCHEMAS

    readers = [*staging_assets, *prospect_staging, *load_assets.values()]
    # three energy sources, five prospects sources, one market load per Databento schema
    assert len(readers) == 3 + 5 + len(MARKET_SCHEMAS) == 3 + 5 + 12
    for asset in readers:
        policy = asset.op.retry_policy
        assert policy == SOURCE_RETRY, asset.key
    assert SOURCE_RETRY.max_retries >= 1
    assert SOURCE_RETRY.backoff == dg.Backoff.EXPONENTIAL
    assert SOURCE_RETRY.jitter == dg.Jitter.PLUS_MINUS


def test_every_job_has_a_maximum_runtime():
    from definitions import defs

    repo = defs.get_repository_def()
    for job in repo.get_all_jobs():
        if job.name.startswith("__"):  # Dagster's own implicit asset job
            continue
        assert int(job.run_tags.get("dagster/max_runtime", 0)) > 0, job.name


def test_the_instance_has_run_retries_and_monitoring(tmp_path):
    (tmp_path / "dagster.yaml").write_text((REPO_ROOT / "dagster.yaml").read_text())
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert instance.run_retries_enabled
        assert instance.run_retries_max_retries == 1
        assert not instance.run_retries_retry_on_asset_or_op_failure
        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_max_runtime_seconds > 0
