"""On the distributed profile the run queue and launcher are Dagster's own, unchanged: a run
queued as the UI queues it (`dagster job launch`) is dequeued by the daemon, launched in
its own process, and its steps run on the Celery workers."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from tests.conftest import REPO_ROOT

BIN = Path(sys.executable).parent
# What the daemon's instance configuration reads (deploy/distributed/headwater.env.example).
PG_ENV = {
    "HEADWATER_PG_HOST": "127.0.0.1",
    "HEADWATER_PG_PORT": "5432",
    "HEADWATER_PG_USER": "postgres",
    "HEADWATER_PG_PASSWORD": "",
}


@pytest.mark.timeout(600)
def test_a_queued_run_is_launched_by_the_daemon_onto_the_workers(cluster, monkeypatch):
    env = cluster["env"] | PG_ENV
    subprocess.run(
        [str(BIN / "python"), "-m", "headwater.cli.setup"], env=env, cwd=REPO_ROOT, check=True,
        capture_output=True, timeout=120,
    )  # fmt: skip
    log = cluster["work"] / "daemon.log"
    with open(log, "w") as out:
        daemon = subprocess.Popen(
            [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"], env=env,
            cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        launched = subprocess.run(
            [str(BIN / "dagster"), "job", "launch", "-w", "workspace.yaml", "-j",
             "energy_fred_prices", "--tags", json.dumps({"dagster/partition": "2024-02-01"})],
            env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        assert launched.returncode == 0, launched.stderr[-2000:]
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        deadline = time.monotonic() + 300
        while True:
            with dg.DagsterInstance.get() as instance:
                # The daemon's automation may launch the marts after it: this run is the
                # one the job launch queued.
                [run] = instance.get_runs(filters=dg.RunsFilter(job_name="energy_fred_prices"))
                if run.is_finished:
                    events = instance.all_logs(run.run_id)
                    break
            assert time.monotonic() < deadline, f"still {run.status}: {log.read_text()[-2000:]}"
            time.sleep(1)
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        daemon.wait(timeout=60)
    assert run.status == dg.DagsterRunStatus.SUCCESS, log.read_text()[-2000:]
    assert run.tags.get("dagster/partition") == "2024-02-01"
    workers = {
        e.dagster_event.event_specific_data.metadata["Celery worker"].value
        for e in events
        if e.dagster_event is not None
        and e.dagster_event.event_type_value == "ENGINE_EVENT"
        and "Celery worker" in (e.dagster_event.event_specific_data.metadata or {})
    }
    assert workers and workers <= {"w1@test", "w2@test"}
    materialized = {
        e.dagster_event.asset_key.to_user_string()
        for e in events
        if e.dagster_event is not None
        and e.dagster_event.event_type_value == "ASSET_MATERIALIZATION"
    }
    assert materialized == {"staging/fred_prices", "canonical/commodity_prices"}
