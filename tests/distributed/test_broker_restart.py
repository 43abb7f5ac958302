"""The broker restarted during a run of the distributed profile: the run waits for it and
finishes, with the tables of the embedded profile. The broker here is a RabbitMQ node of
the test's own (own ports and data directory), so restarting it touches nothing else;
steps' results wait in the instance's PostgreSQL database meanwhile (the default result
backend), and the workers reconnect."""

import json
import subprocess
import sys
import time

import pytest

from bench.cluster import RUN_PLAN, PrivateBroker, local_cluster
from tests.conftest import REPO_ROOT
from tests.distributed.compare import compare_tables, embedded_run
from tests.distributed.test_energy import _step_started_by

PLAN = [("energy_daily_prices", ("2021-01-01", "2023-12-01"))]


@pytest.mark.timeout(900)
def test_a_broker_restart_during_a_run_delays_it_and_loses_nothing(tmp_path):
    broker = PrivateBroker(tmp_path)
    broker.start()
    try:
        with local_cluster(tmp_path, workers=2, broker_url=broker.url) as cluster:
            env = cluster["env"]
            (first, _), _ = cluster["workers"]
            db = env["HEADWATER_PG_DB"]
            run = subprocess.Popen(
                [sys.executable, "-W", "ignore", "-c", RUN_PLAN, json.dumps(PLAN)],
                cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True,
            )  # fmt: skip
            deadline = time.monotonic() + 300
            since = 0
            while not _step_started_by(db, first.pid, since):
                assert run.poll() is None, run.communicate()
                assert time.monotonic() < deadline, "no step started"
                time.sleep(0.05)
            broker.stop()
            down_at = time.monotonic()
            time.sleep(3)  # steps end, and their results and the next steps wait meanwhile
            broker.start()
            out, err = run.communicate(timeout=600)
            assert run.returncode == 0, err[-3000:]
            [(job, _, ok, workers, seconds)] = json.loads(out.strip().splitlines()[-1])
            assert ok, err[-3000:]
            assert time.monotonic() - down_at < seconds  # the run was under way across it
            assert set(workers) == {"w1@test", "w2@test"}
            distributed_db = env["HEADWATER_WAREHOUSE_DB"]

            duck = embedded_run(tmp_path, PLAN)
            tables = [f"{layer}.{s}_prices" for layer in ("staging", "quarantine")
                      for s in ("eia", "fred", "yahoo")] + ["canonical.commodity_prices"]  # fmt: skip
            compared = compare_tables(duck, distributed_db, tables)
            assert compared["canonical.commodity_prices"] > 2000
    finally:
        broker.stop()
