"""The README's `dagster asset materialize` commands for the workforce domain, as written:
inputs, a range of years as one run, reports; then the warehouse is read back."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from tests.conftest import REPO_ROOT

DAGSTER = str(Path(sys.executable).parent / "dagster")


def test_inputs_years_and_reports_from_the_command_line(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    env = os.environ | {
        "DAGSTER_HOME": str(home),
        "HEADWATER_WAREHOUSE": str(tmp_path / "wh.duckdb"),
    }
    for args in (
        ["--select", "tag:headwater/step=inputs"],
        ["--select", "tag:headwater/step=simulation", "--partition-range", "2025...2027"],
        ["--select", "tag:headwater/step=reports"],
    ):
        done = subprocess.run(
            [DAGSTER, "asset", "materialize", "-f", "definitions.py", *args],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-4000:]
        assert (done.stdout + done.stderr).count("RUN_SUCCESS") == 1  # a range is one run

    with duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True) as con:
        years = con.execute(
            "SELECT simulation_year, count(*) FROM workforce.fct_workforce_snapshot GROUP BY 1 ORDER BY 1"
        ).fetchall()
    assert [y for y, _ in years] == [2025, 2026, 2027]
    assert all(n > 900 for _, n in years)
