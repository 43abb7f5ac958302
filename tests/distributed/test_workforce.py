"""The workforce simulation on the distributed profile (PostgreSQL warehouse, dbt's postgres
target, steps on two Celery workers) gives the embedded profile's tables (DuckDB), row for
row, and the same state hash for every simulated year: the models, checks and hashes are
written once for both engines."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.distributed.compare import (
    compare_tables,
    duckdb_rows,
    run_plan,
    warehouse_tables,
)

# The demo plan's first three years of the default settings (1000-employee sample census).
YEARS = ("2025", "2027")
WORKFORCE_PLAN = [
    ("workforce_inputs", None),
    ("workforce_simulation", YEARS),
    ("workforce_reports", None),
]

STATE_HASHES = textwrap.dedent(
    """
    import json
    import dagster as dg
    from headwater import settings

    settings.ensure_dagster_home()
    settings.export_warehouse_env()
    key = dg.AssetKey(["workforce", "fct_workforce_snapshot"])
    with dg.DagsterInstance.get() as instance:
        records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key), limit=100)
        hashes = {
            r.asset_materialization.partition: r.asset_materialization.metadata["state_hash"].value
            for r in records.records
        }
    print(json.dumps(hashes))
    """
)


def _state_hashes(env: dict) -> dict[str, str]:
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", STATE_HASHES], cwd=REPO_ROOT, env=env,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _year_reports(folder: Path) -> dict[str, dict]:
    return {
        year: json.loads((folder / f"year_{year}.json").read_text())
        for year in ("2025", "2026", "2027")
    }


@pytest.mark.timeout(900)
def test_workforce_on_the_distributed_profile_gives_the_embedded_tables_and_hashes(cluster):
    distributed = run_plan(cluster["env"], WORKFORCE_PLAN)
    assert [(job, ok) for job, _, ok, _ in distributed] == [(j, True) for j, _ in WORKFORCE_PLAN]
    # Every job's steps ran on the Celery workers, not in the launching process.
    for job, _, _, workers in distributed:
        assert workers and set(workers) <= {"w1@test", "w2@test"}, (job, workers)

    embedded = run_plan(cluster["embedded"], WORKFORCE_PLAN)
    assert [(job, ok) for job, _, ok, _ in embedded] == [(j, True) for j, _ in WORKFORCE_PLAN]

    # One state hash per simulated year, and the same on both engines.
    hashes = _state_hashes(cluster["env"])
    assert set(hashes) == {"2025", "2026", "2027"}
    assert len(set(hashes.values())) == 3  # three different years, three different states
    assert hashes == _state_hashes(cluster["embedded"])

    # Every workforce table, row for row.
    duck = Path(cluster["embedded"]["HEADWATER_WAREHOUSE"])
    tables = warehouse_tables(duck, ("workforce", "quarantine", "holding"))
    assert {
        "workforce.census",
        "workforce.int_baseline_workforce",
        "workforce.fct_workforce_snapshot",
        "workforce.fct_yearly_events",
        "workforce.int_employee_contributions",
        "quarantine.workforce_census",
    } <= set(tables)
    compared = compare_tables(duck, cluster["env"]["HEADWATER_WAREHOUSE_DB"], tables)
    assert len([t for t in compared if t.startswith("workforce.")]) >= 20
    assert compared["workforce.fct_workforce_snapshot"] > 3 * 900
    assert compared["workforce.int_hiring_events"] > 0
    assert compared["quarantine.workforce_census"] > 0
    years = {
        row[names.index("simulation_year")]
        for names, rows in [duckdb_rows(duck, "workforce.fct_yearly_events")]
        for row in rows
    }
    assert years == {2025, 2026, 2027}

    # The year reports (figures, checks, state hash) are the same file on both profiles.
    ours = _year_reports(Path(cluster["env"]["HEADWATER_DATA_DIR"]) / "reports" / "workforce")
    theirs = _year_reports(duck.parent / "reports" / "workforce")
    assert ours == theirs
    assert all(all(report["checks"].values()) for report in ours.values())
    assert {year: report["state_hash"] for year, report in ours.items()} == hashes
