"""`make demo`'s command end to end, twice: everything materializes, the summary tells
where things are, and the second run leaves the same tables and adds only new runs."""

import os
import re
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb

from assets.energy.assets import CANONICAL_KEY, monthly_partitions, staging_key
from assets.energy.config import SOURCES
from headwater.cli.demo import demo_plan
from tests.conftest import REPO_ROOT

HEADWATER = str(Path(sys.executable).parent / "headwater")


def test_demo_twice_materializes_everything_and_duplicates_nothing(tmp_path, session_dir):
    env = os.environ | {
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),  # created by the command itself
        "HEADWATER_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
        "HEADWATER_SAMPLE_DIR": str(session_dir / "sample"),
        "HEADWATER_DATA_DIR": str(tmp_path / "data"),
    }
    summaries = []
    for _ in range(2):
        done = subprocess.run(
            [HEADWATER, "demo"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900
        )
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
        summaries.append(done.stdout[done.stdout.index("Headwater demo summary") :])

    first, second = summaries
    # What a person reads: the command's own lines, no warning, no traceback, no noise at
    # exit; Dagster's and dbt's logs are in the file it names.
    console = done.stdout + done.stderr
    assert "WARNING" not in console and "Traceback" not in console and "nanobind" not in console
    assert len(console.splitlines()) < 80
    assert not done.stderr
    [log] = re.findall(r"^Dagster's and dbt's logs: (\S+)$", done.stdout, re.M)
    logged = Path(log).read_text()
    assert "Completed successfully" in logged  # dbt's own summary of the marts build
    assert "rows set aside in quarantine.workforce_census" in logged  # the census warning
    assert "0 failed" in first
    assert f"warehouse: {tmp_path / 'warehouse.duckdb'}" in first
    assert f"instance:  {tmp_path / 'dagster_home'} (SQLite)" in first
    schemas = re.findall(r"^\s+(\w+)\s+(\d+) tables\s+([\d,]+) rows$", first, re.M)
    assert schemas == re.findall(r"^\s+(\w+)\s+(\d+) tables\s+([\d,]+) rows$", second, re.M)
    assert {"staging", "canonical", "marts", "workforce", "prospects_marts"} <= {
        s for s, _, _ in schemas
    }
    with duckdb.connect(env["HEADWATER_WAREHOUSE"], read_only=True) as con:
        for table in (
            "staging.eia_prices",
            "canonical.commodity_prices",
            "marts.price_panel",
            "workforce.fct_workforce_snapshot",
            "quarantine.workforce_census",
            "canonical.prospect_core",
            "prospects_marts.mv_position_benchmarks",
            "snapshots.prospects_history",
            "canonical.market_ohlcv_1d",
            "canonical.market_trades",
            "quarantine.market_trades",
            "marts.market_front_month_daily",
        ):
            assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0, table
    assert "staging.prospects_nfl" in logged  # every table's count is in the log

    materialized = int(re.search(r"assets materialized: (\d+)", first).group(1))
    with dg.DagsterInstance.from_config(str(tmp_path / "dagster_home")) as instance:
        runs = instance.get_runs()
        # every job of the plan, once per demo: energy, workforce, prospects and market
        assert len(runs) == 2 * len(demo_plan()) == 2 * 11
        assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        assert materialized == len(instance.get_asset_keys())
        # The whole energy history: every month since start_date is materialized (what the
        # UI's partition bar shows as 100%), not a recent slice.
        every_month = set(monthly_partitions.get_partition_keys())
        assert len(every_month) > 100
        for key in (*(staging_key(s) for s in SOURCES), CANONICAL_KEY):
            assert instance.get_materialized_partitions(key) == every_month, key
