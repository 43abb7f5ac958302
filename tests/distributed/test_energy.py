"""Energy on the distributed profile (HEADWATER_PROFILE=distributed), on the real services
of this machine: PostgreSQL for the instance and the warehouse, RabbitMQ as the broker,
and two `headwater worker` processes (tests/distributed/conftest.py). The run gives the
same tables, row for row, as the embedded profile (DuckDB, in process) on the same
sample data, even when a worker is killed mid-step."""

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psycopg2
import pytest

from assets.energy.config import SOURCES
from tests.conftest import REPO_ROOT
from tests.distributed.compare import (
    PG,
    compare_tables,
    postgres_rows,
    run_plan,
    warehouse_tables,
)

ENERGY_PLAN = [
    ("energy_daily_prices", ("2024-01-01", "2024-06-01")),
    ("energy_marts_refresh", None),
]


@pytest.mark.timeout(900)
def test_energy_on_the_distributed_profile_gives_the_embedded_tables(cluster):
    distributed = run_plan(cluster["env"], ENERGY_PLAN)
    assert [(job, ok) for job, _, ok, _ in distributed] == [(j, True) for j, _ in ENERGY_PLAN]
    # The staging steps of the three sources went to the workers, and both took some.
    assert set().union(*(set(w) for *_, w in distributed)) == {"w1@test", "w2@test"}

    embedded = run_plan(cluster["embedded"], ENERGY_PLAN)
    assert all(ok for _, _, ok, _ in embedded)

    duck = Path(cluster["embedded"]["HEADWATER_WAREHOUSE"])
    tables = warehouse_tables(duck, ("staging", "quarantine", "canonical", "holding", "marts"))
    assert {"canonical.commodity_prices", "staging.eia_prices", "marts.price_returns"} <= set(
        tables
    )
    compared = compare_tables(duck, cluster["env"]["HEADWATER_WAREHOUSE_DB"], tables)
    assert compared["canonical.commodity_prices"] > 300
    assert sum(compared[t] for t in compared if t.startswith("quarantine.")) > 0


def test_status_and_doctor_read_the_postgres_warehouse(cluster):
    """After the runs above: `headwater status` reports the PostgreSQL warehouse's tables
    and their rows, and `headwater doctor` finds it reachable."""
    headwater = str(Path(sys.executable).parent / "headwater")
    env = cluster["env"]
    done = subprocess.run(
        [headwater, "status", "--json"], env=env, cwd=REPO_ROOT, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    warehouse = json.loads(done.stdout)["warehouse"]
    assert warehouse["path"] == f"postgres 127.0.0.1:5432/{env['HEADWATER_WAREHOUSE_DB']}"
    assert warehouse["state"] == "ok"
    rows = {f"{t['schema']}.{t['table']}": t["rows"] for t in warehouse["tables"]}
    expected = postgres_rows(env["HEADWATER_WAREHOUSE_DB"], "canonical.commodity_prices", ["price"])
    assert rows["canonical.commodity_prices"] == len(expected) > 300
    done = subprocess.run(
        [headwater, "doctor"], env=env, cwd=REPO_ROOT, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    [line] = [line for line in done.stdout.splitlines() if line.split()[1:2] == ["warehouse"]]
    assert line.startswith("ok") and "(reachable, " in line


RUN_ONE = textwrap.dedent(
    """
    import json, sys
    import dagster as dg
    from headwater import settings
    from headwater.cli.runs import load_defs, run_job

    settings.ensure_dagster_home()
    settings.export_warehouse_env()
    with dg.DagsterInstance.get() as instance:
        result = run_job(load_defs(), sys.argv[1], tuple(json.loads(sys.argv[2])), instance)
        steps = {}
        for record in instance.all_logs(result.run_id):
            event = record.dagster_event
            if event is not None and event.event_type_value in ("STEP_START", "STEP_SUCCESS"):
                steps.setdefault(event.step_key, []).append([event.event_type_value, event.pid])
        print(json.dumps({"success": result.success, "steps": steps}))
    """
)
KILL_RANGE = ("2016-01-01", "2023-12-01")


def _step_started_by(db: str, pid: int, after_id: int) -> bool:
    con = psycopg2.connect(dbname=db, **PG)
    try:
        with con.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM event_logs WHERE id > %s AND dagster_event_type = "
                "'STEP_START' AND event LIKE %s",
                [after_id, f'%"pid": {pid},%'],
            )
            return cur.fetchone()[0] > 0
    finally:
        con.close()


def _last_event_id(db: str) -> int:
    con = psycopg2.connect(dbname=db, **PG)
    try:
        with con.cursor() as cur:
            cur.execute("SELECT coalesce(max(id), 0) FROM event_logs")
            return cur.fetchone()[0]
    finally:
        con.close()


@pytest.mark.timeout(900)
def test_a_worker_killed_mid_step_hands_the_step_to_another(cluster):
    """SIGKILL a worker once it has started a step: the broker gives the unacknowledged
    step to the other worker, the run finishes, and the tables are the embedded profile's.
    (Runs last in this module: it leaves one worker.)"""
    (victim, _), (survivor, _) = cluster["workers"]
    assert victim.poll() is None and survivor.poll() is None
    db = cluster["env"]["HEADWATER_PG_DB"]
    since = _last_event_id(db)
    args = [sys.executable, "-W", "ignore", "-c", RUN_ONE, "energy_daily_prices"]
    run = subprocess.Popen(
        [*args, json.dumps(KILL_RANGE)], cwd=REPO_ROOT, env=cluster["env"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while not _step_started_by(db, victim.pid, since):
        assert run.poll() is None, run.communicate()
        assert time.monotonic() < deadline, "the victim never started a step"
        time.sleep(0.02)
    victim.kill()
    victim.wait()
    out, err = run.communicate(timeout=600)
    assert run.returncode == 0, err[-3000:]
    report = json.loads(out.strip().splitlines()[-1])
    assert report["success"], report
    # The step the victim started was started again, and finished, by the survivor.
    handed = [events for events in report["steps"].values() if ["STEP_START", victim.pid] in events]
    assert handed, report["steps"]
    assert all(events[-1] == ["STEP_SUCCESS", survivor.pid] for events in handed), handed
    assert all(["STEP_SUCCESS", victim.pid] not in events for events in handed), handed

    embedded = subprocess.run(
        [*args, json.dumps(KILL_RANGE)], cwd=REPO_ROOT, env=cluster["embedded"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert embedded.returncode == 0, embedded.stderr[-3000:]
    duck = Path(cluster["embedded"]["HEADWATER_WAREHOUSE"])
    prices = [f"{layer}.{s}_prices" for layer in ("staging", "quarantine") for s in SOURCES]
    db = cluster["env"]["HEADWATER_WAREHOUSE_DB"]
    compared = compare_tables(duck, db, [*prices, "canonical.commodity_prices"])
    assert compared["canonical.commodity_prices"] > 5000
