"""Test session setup: every test run gets its own warehouse, sample data and Dagster home,
set before any project module reads them, so tests never touch data/ or .dagster/."""

import os
import tempfile
from pathlib import Path

_SESSION = Path(tempfile.mkdtemp(prefix="headwater-tests-"))
os.environ["HEADWATER_WAREHOUSE"] = str(_SESSION / "warehouse.duckdb")
os.environ["HEADWATER_SAMPLE_DIR"] = str(_SESSION / "sample")
os.environ["HEADWATER_DATA_DIR"] = str(_SESSION / "data")
os.environ["DAGSTER_HOME"] = str(_SESSION / "dagster_home")
os.environ["HEADWATER_STEP_RETRY_DELAY_S"] = "0.05"  # step retries, without the wait
os.environ.pop("HEADWATER_MODE", None)
os.environ.pop("HEADWATER_CONFIG", None)

import pytest  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
_EXIT_STATUS = pytest.StashKey[int]()


@pytest.fixture(scope="session")
def session_dir() -> Path:
    return _SESSION


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    session.config.stash[_EXIT_STATUS] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """After the last report: remove the session's files, then end the process without
    interpreter finalization. In a process that has loaded dbt, Dagster and DuckDB 2
    together, DuckDB's nanobind bindings print a "leaked instances / types / functions"
    dump during finalization (module teardown order: the DuckDB type constants outlive
    nanobind's internals). Nothing is leaked in any way that matters to a process that is
    ending; the dump only buries the test summary, so the suite exits before it."""
    status = config.stash.get(_EXIT_STATUS, None)
    if status is None:
        return
    import shutil
    import sys

    shutil.rmtree(_SESSION, ignore_errors=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


# ---- tiers: `make check` runs what is not slow, after each edit; `make test` runs all ----

# End-to-end modules: a dev server, a broker and workers, the whole demo, CLI commands as
# subprocesses over real runs, a kill -9 in the middle. The rest (unit tests, assets and
# checks on small warehouses, clients against local servers) is `make check`.
SLOW_PACKAGES = ("tests/distributed/", "tests/ui/")
SLOW_MODULES = {
    "tests/test_crash_safety.py",
    "tests/test_demo.py",
    "tests/energy_pipeline/test_cli.py",
    "tests/energy_pipeline/test_automation.py",
    "tests/workforce/test_cli.py",
    "tests/workforce/test_dagster_cli.py",
    "tests/workforce/test_simulation.py",
    "tests/market/test_cli.py",
    "tests/market/test_pipeline.py",
    "tests/market/test_files.py",
    "tests/market/test_datasets.py",
    "tests/market/test_stype_in.py",
    "tests/market/test_marts_automation.py",
    "tests/prospects/test_marts_automation.py",
    "tests/prospects/test_retry_at_end.py",
    "tests/workforce/test_definitions.py",
    "tests/prospects/test_cli.py",
    "tests/operations/test_run_policies.py",
    "tests/operations/test_dagster_commands.py",
    "tests/operations/test_postgres_instance.py",
    "tests/operations/test_status_history.py",
    "tests/foundation/test_doctor.py",
    "tests/foundation/test_cli_errors.py",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = item.path.relative_to(REPO_ROOT).as_posix()
        if path.startswith(SLOW_PACKAGES) or path in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
