"""What the distributed tests share: one distributed setup per test module (its own
RabbitMQ virtual host, its own instance and warehouse databases, two `headwater worker`
processes), an embedded setup beside it, and row-for-row comparison of their tables."""

import json
import math
import os
import shutil
import subprocess
import sys
import textwrap
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg2
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


def cluster_setup(tmp_path_factory):
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
        # numeric(20) holds Arrow uint64 (nanosecond times, volumes): exact, as DuckDB's ints.
        return int(value) if value.as_tuple().exponent == 0 else float(value)
    if isinstance(value, datetime):
        # An instant in UTC: DuckDB's client gives TIMESTAMPTZ in the machine's time zone,
        # the Postgres warehouse's sessions in UTC.
        return value.isoformat() if value.tzinfo is None else value.astimezone(UTC).isoformat()
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
