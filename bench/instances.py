"""Dagster instances for the benchmarks: in memory, the embedded SQLite, or PostgreSQL (a
database of its own on the local server, dropped afterwards), each with the project's
dagster.yaml (headwater/settings.py composes the Postgres one)."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

KINDS = ("memory", "sqlite", "postgres", "postgres-batched")


@contextmanager
def instance_of(kind: str, work: Path) -> Iterator[dg.DagsterInstance]:
    """`postgres-batched` is `postgres` with DAGSTER_EVENT_BATCH_SIZE=500 (what Headwater
    sets for a Postgres instance); the others run unbatched."""
    if kind == "memory":
        with dg.DagsterInstance.ephemeral() as instance:
            yield instance
        return
    from headwater import settings

    home = work / f"dagster_home_{kind}"
    home.mkdir(parents=True, exist_ok=True)
    saved = {
        k: os.environ.get(k)
        for k in ("HEADWATER_INSTANCE", "HEADWATER_PG_DB", "DAGSTER_EVENT_BATCH_SIZE")
    }
    db = f"headwater_bench_{uuid.uuid4().hex[:8]}"
    try:
        os.environ.pop("DAGSTER_EVENT_BATCH_SIZE", None)
        if kind.startswith("postgres"):
            os.environ["HEADWATER_INSTANCE"] = "postgres"
            os.environ["HEADWATER_PG_DB"] = db
            settings.export_instance_env()  # connection defaults, and batching
            if kind == "postgres":
                os.environ.pop("DAGSTER_EVENT_BATCH_SIZE", None)
        else:
            os.environ["HEADWATER_INSTANCE"] = "sqlite"
        (home / "dagster.yaml").write_text(settings.instance_yaml_text())
        if kind.startswith("postgres"):
            os.environ["DAGSTER_HOME"] = str(home)
            settings.create_instance_storage(home)
        with dg.DagsterInstance.from_config(str(home)) as instance:
            yield instance
    finally:
        if kind.startswith("postgres"):
            _drop(db)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _drop(db: str) -> None:
    import psycopg2
    from psycopg2 import sql

    con = psycopg2.connect(
        dbname="postgres",
        host=os.environ.get("HEADWATER_PG_HOST", "127.0.0.1"),
        port=os.environ.get("HEADWATER_PG_PORT", "5432"),
        user=os.environ.get("HEADWATER_PG_USER", "postgres"),
        password=os.environ.get("HEADWATER_PG_PASSWORD", ""),
    )
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [db]
        )
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(db)))
    con.close()
