"""One writer at a time, for real: whoever holds the warehouse file open holds the writer
lock, and lets go of both together."""

import os
import subprocess
import sys

import duckdb

from assets.workforce.dbt_runner import WorkforceDbt

OPEN_FOR_WRITING = "import duckdb, sys; duckdb.connect(sys.argv[1]).close(); print('opened')"


def other_process_can_write(path) -> bool:
    done = subprocess.run(
        [sys.executable, "-c", OPEN_FOR_WRITING, str(path)], capture_output=True, text=True
    )
    return done.stdout.strip() == "opened"


def test_in_process_dbt_releases_the_file_with_the_lock(tmp_path):
    """dbt-duckdb keeps its database open for the life of the process by default; after a
    build in this process, another process must be able to open the warehouse at once."""
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA canonical")
        con.execute(
            "CREATE TABLE canonical.commodity_prices AS SELECT DATE '2024-01-02' AS price_date, "
            "'WTI' AS commodity, 70.0 AS price, 'eia' AS source, 1 AS n_sources"
        )
    dbt = WorkforceDbt(str(path))
    outcome = dbt.build("price_panel")
    assert outcome.success, outcome.error
    assert other_process_can_write(path)
    # ... and the next build in this process opens it again.
    assert dbt.build("price_panel").success
    assert other_process_can_write(path)


def test_a_dbt_build_leaves_the_process_environment_as_it_was(tmp_path):
    """dbt reads the warehouse path from HEADWATER_WAREHOUSE: a build points it at its own
    warehouse for the invocation only, not for whatever this process runs next."""
    before = os.environ.get("HEADWATER_WAREHOUSE")
    path = tmp_path / "elsewhere.duckdb"
    duckdb.connect(str(path)).close()
    WorkforceDbt(str(path)).build("price_panel")  # fails (no prices): the env still returns
    assert os.environ.get("HEADWATER_WAREHOUSE") == before
