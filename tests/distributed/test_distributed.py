"""The distributed profile (HEADWATER_PROFILE=distributed) on the real services of this
machine: PostgreSQL for the instance and the warehouse, RabbitMQ as the broker, and two
`headwater worker` processes. A domain run there gives the same tables, row for row, as
the embedded profile (DuckDB, in process) on the same sample data.

Each module run gets its own RabbitMQ virtual host and its own two databases, removed
afterwards."""

import json
import math
import os
import shutil
import subprocess
import sys
import textwrap
import time
import uuid
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg2
import pytest
from psycopg2 import sql

from tests.conftest import REPO_ROOT

BIN = Path(sys.executable).parent
PG = dict(host="127.0.0.1", port=5432, user="postgres", password="")
RABBITMQCTL = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"

RUN_PLAN = textwrap.dedent(
    """
    import json, sys
    import dagster as dg
    from headwater import settings
    from headwater.runs import load_defs, run_job

    settings.ensure_dagster_home()
    settings.export_warehouse_env()
    defs = load_defs()
    out = []
    with dg.DagsterInstance.get() as instance:
        for job, partitions in json.loads(sys.argv[1]):
            result = run_job(defs, job, tuple(partitions) if partitions else None, instance)
            workers = sorted({
                e.event_specific_data.metadata["Celery worker"].value
                for e in result.all_events
                if e.event_type_value == "ENGINE_EVENT"
                and "Celery worker" in (e.event_specific_data.metadata or {})
            })
            out.append([job, result.run_id, result.success, workers])
    print(json.dumps(out))
    """
)


def _admin():
    con = psycopg2.connect(dbname="postgres", **PG)
    con.autocommit = True
    return con


def _rabbitmqctl(*args: str) -> None:
    subprocess.run([RABBITMQCTL, *args], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Names and environments of one distributed setup, and its two workers."""
    work = tmp_path_factory.mktemp("distributed")
    suffix = uuid.uuid4().hex[:10]
    vhost = f"headwater_test_{suffix}"
    _rabbitmqctl("add_vhost", vhost)
    _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    sample = Path(os.environ["HEADWATER_SAMPLE_DIR"])
    base = os.environ | {"PATH": f"{BIN}:{os.environ['PATH']}", "HEADWATER_SAMPLE_DIR": str(sample)}
    for name in ("HEADWATER_INSTANCE", "HEADWATER_PROFILE", "DAGSTER_EVENT_BATCH_SIZE"):
        base.pop(name, None)
    env = base | {
        "HEADWATER_PROFILE": "distributed",
        "HEADWATER_PG_DB": f"headwater_test_{suffix}_instance",
        "HEADWATER_WAREHOUSE_DB": f"headwater_test_{suffix}_warehouse",
        "HEADWATER_CELERY_BROKER": f"pyamqp://guest:guest@127.0.0.1:5672/{vhost}",
        "DAGSTER_HOME": str(work / "distributed_home"),
        "HEADWATER_DATA_DIR": str(work / "distributed_data"),
    }
    embedded = base | {
        "DAGSTER_HOME": str(work / "embedded_home"),
        "HEADWATER_WAREHOUSE": str(work / "embedded.duckdb"),
        "HEADWATER_DATA_DIR": str(work / "embedded_data"),
    }
    workers = []
    try:
        for n in (1, 2):
            log = open(work / f"worker{n}.log", "w")  # noqa: SIM115 - closed with the worker
            workers.append(
                (
                    subprocess.Popen(
                        [str(BIN / "headwater"), "worker", "--name", f"w{n}@test"],
                        cwd=REPO_ROOT,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    ),  # fmt: skip
                    work / f"worker{n}.log",
                    log,
                )
            )
        deadline = time.monotonic() + 120
        while not all("ready." in path.read_text() for _, path, _ in workers):
            dead = [path for proc, path, _ in workers if proc.poll() is not None]
            assert not dead, f"a worker ended: {dead[0].read_text()[-2000:]}"
            assert time.monotonic() < deadline, "workers did not start"
            time.sleep(0.5)
        yield {"env": env, "embedded": embedded, "work": work, "workers": workers}
    finally:
        for proc, _, _log in workers:
            proc.terminate()
        for proc, _, log in workers:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()
        con = _admin()
        with con.cursor() as cur:
            for db in (env["HEADWATER_PG_DB"], env["HEADWATER_WAREHOUSE_DB"]):
                cur.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    [db],
                )
                cur.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(db)))
        con.close()
        _rabbitmqctl("delete_vhost", vhost)


def run_plan(env: dict, plan: list) -> list:
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", RUN_PLAN, json.dumps(plan)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _cell(value):
    """One value as both engines' drivers give it, in one comparable form."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat() if value.tzinfo is None else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def duckdb_rows(path: Path, table: str) -> tuple[list[str], list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as con:
        found = con.execute(f"SELECT * FROM {table}")
        names = [d[0] for d in found.description]
        return names, sorted((tuple(_cell(v) for v in row) for row in found.fetchall()), key=repr)


def postgres_rows(db: str, table: str, names: list[str]) -> list[tuple]:
    con = psycopg2.connect(dbname=db, **PG)
    try:
        with con.cursor() as cur:
            columns = ", ".join(f'"{n}"' for n in names)
            cur.execute(f"SELECT {columns} FROM {table}")
            return sorted((tuple(_cell(v) for v in row) for row in cur.fetchall()), key=repr)
    finally:
        con.close()


def same_rows(left: list[tuple], right: list[tuple]) -> bool:
    """Row for row; floats equal to 1e-12 relative (SQL aggregates such as stddev_samp may
    sum in another order on another engine)."""
    if len(left) != len(right):
        return False
    for a, b in zip(left, right, strict=True):
        for x, y in zip(a, b, strict=True):
            if isinstance(x, float) and isinstance(y, float):
                if not math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-12):
                    return False
            elif x != y:
                return False
    return True


def warehouse_tables(path: Path, schemas: tuple[str, ...]) -> list[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        found = con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            f"WHERE table_schema IN ({', '.join('?' for _ in schemas)}) ORDER BY 1",
            list(schemas),
        ).fetchall()
    return [name for (name,) in found]


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
    compared = {}
    for table in tables:
        names, expected = duckdb_rows(duck, table)
        got = postgres_rows(cluster["env"]["HEADWATER_WAREHOUSE_DB"], table, names)
        assert same_rows(got, expected), f"{table}: {len(got)} rows vs {len(expected)} embedded"
        compared[table] = len(expected)
    assert compared["canonical.commodity_prices"] > 300
    assert sum(compared[t] for t in compared if t.startswith("quarantine.")) > 0


RUN_ONE = textwrap.dedent(
    """
    import json, sys
    import dagster as dg
    from headwater import settings
    from headwater.runs import load_defs, run_job

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
    (victim, _, _), (survivor, _, _) = cluster["workers"]
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
    for source in ("eia", "fred", "yahoo"):
        for table in (f"staging.{source}_prices", f"quarantine.{source}_prices"):
            names, expected = duckdb_rows(duck, table)
            got = postgres_rows(cluster["env"]["HEADWATER_WAREHOUSE_DB"], table, names)
            assert same_rows(got, expected), table
    names, expected = duckdb_rows(duck, "canonical.commodity_prices")
    got = postgres_rows(
        cluster["env"]["HEADWATER_WAREHOUSE_DB"], "canonical.commodity_prices", names
    )
    assert len(expected) > 5000 and same_rows(got, expected)
