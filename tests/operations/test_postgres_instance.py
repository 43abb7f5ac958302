"""The Dagster instance in the real PostgreSQL on this machine (HEADWATER_INSTANCE=postgres):
every domain materializes into it, and runs, events, check results and partition status
read back. Each test gets its own database, dropped afterwards. A Postgres that cannot be
reached gives one line, not a traceback."""

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
from psycopg2 import sql

from tests.conftest import REPO_ROOT

BIN = Path(sys.executable).parent
PG = dict(host="127.0.0.1", port=5432, user="postgres", password="")

# (job, partition range) of every domain, small: a month, a year, a draft year.
PLAN = [
    ("energy_daily_prices", ("2024-01-01", "2024-02-01")),
    ("market_definition", ("2024-01-01", "2024-01-01")),
    ("market_ohlcv_1d", ("2024-01-01", "2024-01-01")),
    ("prospects_refresh", ("2024", "2024")),
    ("workforce_inputs", None),
    ("workforce_simulation", ("2025", "2025")),
]


def _admin():
    con = psycopg2.connect(dbname="postgres", **PG)
    con.autocommit = True
    return con


@pytest.fixture
def pg_env(tmp_path, session_dir):
    db = f"headwater_test_{uuid.uuid4().hex[:10]}"
    env = os.environ | {
        "HEADWATER_INSTANCE": "postgres",
        "HEADWATER_PG_DB": db,
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "HEADWATER_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
        "HEADWATER_DATA_DIR": str(tmp_path / "data"),
        "HEADWATER_SAMPLE_DIR": str(session_dir / "sample"),
        "PATH": f"{BIN}:{os.environ['PATH']}",
    }
    env.pop("DAGSTER_EVENT_BATCH_SIZE", None)
    yield env
    con = _admin()
    with con.cursor() as cur:
        cur.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [db]
        )
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(db)))
    con.close()


RUN_PLAN = textwrap.dedent(
    """
    import json, sys
    import dagster as dg
    from headwater import settings
    from headwater.cli.runs import load_defs, run_job

    settings.ensure_dagster_home()
    settings.export_warehouse_env()
    defs = load_defs()
    out = []
    with dg.DagsterInstance.get() as instance:
        for job, partitions in json.loads(sys.argv[1]):
            result = run_job(defs, job, tuple(partitions) if partitions else None, instance)
            out.append([job, result.run_id, result.success])
    print(json.dumps(out))
    """
)


@pytest.mark.timeout(600)
def test_every_domain_materializes_into_a_postgres_instance(pg_env, monkeypatch):
    import json

    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", RUN_PLAN, json.dumps(PLAN)],
        cwd=REPO_ROOT, env=pg_env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    runs = json.loads(done.stdout.strip().splitlines()[-1])
    assert [(job, ok) for job, _, ok in runs] == [(job, True) for job, _ in PLAN]

    # Nothing went to SQLite: the instance directory holds no run database.
    home = Path(pg_env["DAGSTER_HOME"])
    assert not (home / "history" / "runs.db").exists()
    assert "postgres" in (home / "dagster.yaml").read_text()

    for name in ("HEADWATER_INSTANCE", "HEADWATER_PG_DB"):
        monkeypatch.setenv(name, pg_env[name])
    for name, default in (("HEADWATER_PG_HOST", "127.0.0.1"), ("HEADWATER_PG_PORT", "5432")):
        monkeypatch.setenv(name, default)
    monkeypatch.setenv("HEADWATER_PG_USER", "postgres")
    monkeypatch.setenv("HEADWATER_PG_PASSWORD", "")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        stored = {r.run_id: r for r in instance.get_runs()}
        assert set(stored) == {run_id for _, run_id, _ in runs}
        assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in stored.values())
        # partition status, as the UI reads it
        assert instance.get_materialized_partitions(
            dg.AssetKey(["canonical", "commodity_prices"])
        ) == {
            "2024-01-01",
            "2024-02-01",
        }
        assert instance.get_materialized_partitions(
            dg.AssetKey(["canonical", "market_ohlcv_1d"])
        ) == {"2024-01-01"}
        assert instance.get_materialized_partitions(
            dg.AssetKey(["canonical", "prospect_core"])
        ) == {"2024"}
        # events: each materialization with its own figures
        event = instance.get_latest_materialization_event(
            dg.AssetKey(["staging", "market_ohlcv_1d"])
        )
        metadata = event.asset_materialization.metadata
        assert metadata["records_in"].value == (
            metadata["rows_loaded"].value + metadata["rows_quarantined"].value
        )
        # check results
        checks = []
        for _, run_id, _ in runs:
            checks += instance.get_records_for_run(
                run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
            ).records
        names = {r.event_log_entry.dagster_event.event_specific_data.check_name for r in checks}
        assert {"records_conserved", "contracts_mapped", "loaded_share"} <= names
        assert len(checks) > 10


def test_a_postgres_that_cannot_be_reached_is_one_line(pg_env):
    env = pg_env | {"HEADWATER_PG_PORT": "1"}
    done = subprocess.run(
        [str(BIN / "headwater"), "demo"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Postgres instance storage at 127.0.0.1:1/" in lines[0]
    assert "Connection refused" in lines[0]
    assert "Traceback" not in done.stdout + done.stderr


def test_bad_instance_kind_is_one_line(pg_env):
    env = pg_env | {"HEADWATER_INSTANCE": "oracle"}
    done = subprocess.run(
        [str(BIN / "headwater"), "list-jobs"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "headwater: HEADWATER_INSTANCE='oracle': expected one of sqlite, postgres"
    )
