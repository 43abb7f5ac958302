"""The README's `dagster asset materialize` commands, run as written, in subprocesses, on a
temporary warehouse and instance; then the warehouse is read back."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from assets.energy.sample_data import ensure_sample_data
from tests.conftest import REPO_ROOT

DAGSTER = str(Path(sys.executable).parent / "dagster")
DAILY = "group:energy and kind:python"
MARTS = "group:energy and kind:dbt"


@pytest.fixture
def cli_env(tmp_path, session_dir):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    sample = session_dir / "sample"
    ensure_sample_data(sample / "energy")  # once, before processes race to generate it
    env = os.environ | {
        "DAGSTER_HOME": str(home),
        "HEADWATER_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
        "HEADWATER_SAMPLE_DIR": str(sample),
    }
    return env


def materialize(env, select, *partition_args, background=False):
    cmd = [
        DAGSTER,
        "asset",
        "materialize",
        "-f",
        "definitions.py",
        "--select",
        select,
        *partition_args,
    ]
    if background:
        return subprocess.Popen(
            cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    done = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def query(env, sql):
    with duckdb.connect(env["HEADWATER_WAREHOUSE"], read_only=True) as con:
        return con.execute(sql).fetchall()


def test_readme_commands_single_asset_range_and_marts(cli_env):
    # One asset, one day.
    materialize(cli_env, "staging/eia_prices", "--partition", "2024-03-01")
    assert query(cli_env, "SELECT count(*) FROM staging.eia_prices") == [(3,)]

    # Backfill: a range of days as one run, the three sources and canonical prices.
    done = materialize(cli_env, DAILY, "--partition-range", "2024-02-01...2024-03-31")
    assert done.stderr.count("RUN_SUCCESS") + done.stdout.count("RUN_SUCCESS") == 1
    days = query(
        cli_env,
        "SELECT commodity, count(*), min(price_date), max(price_date) "
        "FROM canonical.commodity_prices GROUP BY 1 ORDER BY 1",
    )
    assert [(c, str(lo), str(hi)) for c, _, lo, hi in days] == [
        ("BRENT", "2024-02-01", "2024-03-28"),
        ("NATGAS", "2024-02-01", "2024-03-28"),
        ("WTI", "2024-02-01", "2024-03-28"),  # 03-29 is Good Friday, 03-30/31 a weekend
    ]
    assert all(
        n == 40 for _, n, _, _ in days
    )  # 41 weekdays less Presidents Day, Good Friday: 40... per source
    # The marts follow.
    materialize(cli_env, MARTS)
    assert query(cli_env, "SELECT count(*) FROM marts.price_panel") == [(40,)]
    [(spread_ok,)] = query(
        cli_env, "SELECT bool_and(abs(spread - (brent - wti)) < 1e-9) FROM marts.brent_wti_spread"
    )
    assert spread_ok


def test_two_overlapping_runs_both_succeed(cli_env):
    """Two processes write the same DuckDB file at once: the warehouse pool and lock queue
    them instead of failing with DuckDB's "Could not set lock on file"."""
    first = materialize(
        cli_env, DAILY, "--partition-range", "2023-01-02...2023-03-31", background=True
    )
    time.sleep(1.0)
    second = materialize(
        cli_env, DAILY, "--partition-range", "2023-04-03...2023-06-30", background=True
    )
    outputs = [p.communicate(timeout=600)[0] for p in (first, second)]
    failed = [o for p, o in zip((first, second), outputs, strict=True) if p.returncode]
    assert not failed, "\n".join(o[-6000:] for o in failed)
    [(lo, hi, n)] = query(
        cli_env,
        "SELECT min(price_date), max(price_date), count(DISTINCT price_date) "
        "FROM canonical.commodity_prices",
    )
    assert (str(lo), str(hi)) == ("2023-01-03", "2023-06-30")
    assert n > 115
