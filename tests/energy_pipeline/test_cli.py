"""The README's `dagster asset materialize` commands, run as written, in subprocesses, on a
temporary warehouse and instance; then the warehouse is read back."""

import os
import re
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from assets.energy.sample_data import ensure_sample_data
from tests.conftest import REPO_ROOT

DAGSTER = str(Path(sys.executable).parent / "dagster")
DAILY = "group:energy and kind:python"


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


def readme_energy_commands() -> dict[str, str]:
    """The energy table of the README: mode -> the command, exactly as written there."""
    text = (REPO_ROOT / "README.md").read_text()
    section = text[text.index("### Energy: incremental") : text.index("### Workforce")]
    return dict(re.findall(r"^\| ([a-z ]+) \| `(dagster asset materialize [^`]+)`", section, re.M))


def run_as_written(env, command):
    """A README command through bash, as a user pastes it (with $(...) expanded)."""
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=REPO_ROOT,
        env=env | {"PATH": f"{Path(DAGSTER).parent}:{env['PATH']}"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def test_readme_commands_as_written(cli_env):
    commands = readme_energy_commands()
    assert set(commands) == {
        "one month by hand",
        "backfill a range",
        "full refresh",
        "one asset",
        "marts",
    }

    # One asset, one month: March 2024 (20 trading days, Good Friday the 29th) x 3 series.
    run_as_written(cli_env, commands["one asset"])
    assert query(cli_env, "SELECT count(*) FROM staging.eia_prices") == [(60,)]

    # Backfill: January to March 2024 as one run, the three sources and canonical prices.
    out = run_as_written(cli_env, commands["backfill a range"])
    assert out.count("RUN_SUCCESS") == 1
    days = query(
        cli_env,
        "SELECT commodity, count(*), min(price_date), max(price_date) "
        "FROM canonical.commodity_prices GROUP BY 1 ORDER BY 1",
    )
    # 65 weekdays less New Year, MLK, Presidents Day and Good Friday.
    assert [(c, n, str(lo), str(hi)) for c, n, lo, hi in days] == [
        ("BRENT", 61, "2024-01-02", "2024-03-28"),
        ("NATGAS", 61, "2024-01-02", "2024-03-28"),
        ("WTI", 61, "2024-01-02", "2024-03-28"),
    ]

    # The marts follow.
    run_as_written(cli_env, commands["marts"])
    assert query(cli_env, "SELECT count(*) FROM marts.price_panel") == [(61,)]

    # Full refresh: every month since 2015-01 as one run, up to yesterday's prices.
    out = run_as_written(cli_env, commands["full refresh"])
    assert out.count("RUN_SUCCESS") == 1
    [(first, last, months)] = query(
        cli_env,
        "SELECT min(price_date), max(price_date), count(DISTINCT date_trunc('month', price_date)) "
        "FROM canonical.commodity_prices",
    )
    assert str(first) == "2015-01-02"
    assert date.today() - last < timedelta(days=5)  # the last trading day before today
    assert months == (last.year - 2015) * 12 + last.month

    # One month by hand, again: nothing changes.
    before = query(cli_env, "SELECT * FROM canonical.commodity_prices ORDER BY ALL")
    run_as_written(cli_env, commands["one month by hand"])
    assert query(cli_env, "SELECT * FROM canonical.commodity_prices ORDER BY ALL") == before


def test_two_overlapping_runs_both_succeed(cli_env):
    """Two processes write the same DuckDB file at once: the warehouse pool and lock queue
    them instead of failing with DuckDB's "Could not set lock on file"."""
    first = materialize(
        cli_env, DAILY, "--partition-range", "2023-01-01...2023-03-01", background=True
    )
    time.sleep(1.0)
    second = materialize(
        cli_env, DAILY, "--partition-range", "2023-04-01...2023-06-01", background=True
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
