"""What the distributed tests share: one distributed setup per test module (its own
RabbitMQ virtual host, its own instance and warehouse databases, two `headwater worker`
processes), an embedded setup beside it, and row-for-row comparison of their tables."""

import math
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg2

from bench import cluster
from bench.cluster import BIN, PG, base_env, local_cluster  # noqa: F401 - BIN: the tests
from bench.cluster import admin as _admin  # noqa: F401 - the tests' way to the server


def cluster_setup(tmp_path_factory):
    """A distributed setup with two workers (bench/cluster.py) and an embedded one beside
    it, on the session's sample data."""
    work = tmp_path_factory.mktemp("distributed")
    embedded = base_env(
        DAGSTER_HOME=str(work / "embedded_home"),
        HEADWATER_WAREHOUSE=str(work / "embedded.duckdb"),
        HEADWATER_DATA_DIR=str(work / "embedded_data"),
    )
    with local_cluster(work, workers=2) as cluster:
        yield cluster | {"embedded": embedded, "work": work}


def run_plan(env: dict, plan: list) -> list:
    """Per run: job, run id, success, the Celery workers that ran its steps."""
    return [run[:4] for run in cluster.run_plan(env, plan, timeout=900)]


def _order(row: tuple) -> tuple:
    """Sort key of a normalized row: nulls last in each column, values by themselves."""
    return tuple((v is None, 0 if v is None else v) for v in row)


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
        return names, sorted((tuple(_cell(v) for v in row) for row in found.fetchall()), key=_order)


def postgres_rows(db: str, table: str, names: list[str]) -> list[tuple]:
    con = psycopg2.connect(dbname=db, **PG)
    try:
        with con.cursor() as cur:
            columns = ", ".join(f'"{n}"' for n in names)
            cur.execute(f"SELECT {columns} FROM {table}")
            return sorted((tuple(_cell(v) for v in row) for row in cur.fetchall()), key=_order)
    finally:
        con.close()


def embedded_run(work: Path, plan: list) -> Path:
    """Run `plan` on a new embedded setup under `work`; returns its DuckDB warehouse."""
    env = base_env(
        DAGSTER_HOME=str(work / "embedded_home"),
        HEADWATER_WAREHOUSE=str(work / "embedded.duckdb"),
        HEADWATER_DATA_DIR=str(work / "embedded_data"),
    )
    assert all(ok for _, _, ok, _ in run_plan(env, plan))
    return Path(env["HEADWATER_WAREHOUSE"])


def compare_tables(duck: Path, warehouse_db: str, tables) -> dict[str, int]:
    """Assert that each table holds the same rows in the embedded profile's DuckDB file and
    the distributed profile's PostgreSQL warehouse; returns the rows compared per table."""
    compared = {}
    for table in tables:
        names, expected = duckdb_rows(duck, table)
        got = postgres_rows(warehouse_db, table, names)
        assert same_rows(got, expected), f"{table}: {len(got)} rows vs {len(expected)} embedded"
        compared[table] = len(expected)
    return compared


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
