"""The README's prospects commands, run as written through bash in subprocesses (the way a
user pastes them), on a temporary warehouse, instance and data folder; then the warehouse
is read back."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from assets.prospects.sample_data import ensure_sample_data
from tests.conftest import REPO_ROOT

BIN = Path(sys.executable).parent


@pytest.fixture
def cli_env(tmp_path, session_dir):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    sample = session_dir / "sample"
    ensure_sample_data(sample / "prospects")  # once, before processes race to generate it
    return os.environ | {
        "DAGSTER_HOME": str(home),
        "HEADWATER_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
        "HEADWATER_SAMPLE_DIR": str(sample),
        "HEADWATER_DATA_DIR": str(tmp_path / "data"),
        "PATH": f"{BIN}:{os.environ['PATH']}",
    }


def readme_prospects_commands() -> list[str]:
    text = (REPO_ROOT / "README.md").read_text()
    section = text[text.index("### Prospects") :]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def run_as_written(env, command: str) -> str:
    done = subprocess.run(
        ["bash", "-c", command], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def query(env, sql):
    with duckdb.connect(env["HEADWATER_WAREHOUSE"], read_only=True) as con:
        return con.execute(sql).fetchall()


def test_readme_commands_as_written(cli_env):
    refresh, marts, snapshot, drop = readme_prospects_commands()
    assert drop.startswith("cp combine_2024.csv data/inbox/prospects/")

    out = run_as_written(cli_env, refresh)
    assert out.count("RUN_SUCCESS") == 1  # five draft years, one run
    assert "Traceback" not in out
    years = query(
        cli_env, "SELECT draft_year, count(*) FROM canonical.prospect_core GROUP BY 1 ORDER BY 1"
    )
    assert [y for y, _ in years] == [2021, 2022, 2023, 2024, 2025]
    assert all(2800 < n < 3100 for _, n in years)

    run_as_written(cli_env, marts)
    [(positions,)] = query(
        cli_env, "SELECT count(DISTINCT position) FROM prospects_marts.mv_position_benchmarks"
    )
    assert positions >= 13

    run_as_written(cli_env, snapshot)
    [(day, n)] = query(
        cli_env,
        "SELECT snapshot_date, count(*) FROM snapshots.prospects_history GROUP BY 1",
    )
    assert n == sum(count for _, count in years)
    archive = Path(cli_env["HEADWATER_DATA_DIR"]) / "archive" / "prospects"
    assert [p.name for p in archive.iterdir()] == [f"prospects_{day}.parquet"]


def test_docs_partial_mode_command_as_written(cli_env, tmp_path):
    """docs/prospects.md's partial-success command (`dagster asset materialize` has no
    --tags): a source that cannot be read keeps its last good staging and the run goes on."""
    text = (REPO_ROOT / "docs" / "prospects.md").read_text()
    [command] = re.findall(r"`(dagster job execute [^`]*)`", text)
    assert '"headwater/failure_mode":"partial"' in command and "--tags" in command
    sample = tmp_path / "sample"  # a copy: one of its files is broken below
    shutil.copytree(Path(cli_env["HEADWATER_SAMPLE_DIR"]) / "prospects", sample / "prospects")
    env = cli_env | {"HEADWATER_SAMPLE_DIR": str(sample)}
    run_as_written(env, command.replace('"headwater/failure_mode":"partial",', ""))
    good = query(env, "SELECT extraction_id, rows_loaded FROM staging.prospects_extractions "
                      "WHERE source = 'espn' AND draft_year = 2024")  # fmt: skip
    (sample / "prospects" / "espn" / "injuries_2024.json").write_text("{not json")

    out = run_as_written(env, command)
    assert out.count("RUN_SUCCESS") == 1
    assert "Asset check 'refreshed' on 'staging/prospects_espn' did not pass" in out
    assert "injuries_2024.json: not JSON" in out
    assert query(env, "SELECT extraction_id, rows_loaded FROM staging.prospects_extractions "
                      "WHERE source = 'espn' AND draft_year = 2024") == good  # fmt: skip
    [(core,)] = query(env, "SELECT count(*) FROM canonical.prospect_core WHERE draft_year = 2024")
    assert core > 2800
