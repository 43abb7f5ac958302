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
os.environ.pop("HEADWATER_MODE", None)
os.environ.pop("HEADWATER_CONFIG", None)

import pytest  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def session_dir() -> Path:
    return _SESSION
