"""Where things live. Every path can be overridden by an environment variable.

Paths are made absolute here, once, because dbt subprocesses, the in-process
dbt runner and Dagster's run workers each start in a different directory.
"""

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A setting (environment variable or settings file) that cannot be used; the message
    names it and what is allowed."""


DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


def _path_from_env(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def warehouse_path() -> Path:
    """The DuckDB warehouse file (HEADWATER_WAREHOUSE, default data/warehouse.duckdb)."""
    return _path_from_env("HEADWATER_WAREHOUSE", REPO_ROOT / "data" / "warehouse.duckdb")


def sample_dir() -> Path:
    """Generated sample data in the sources' wire formats (HEADWATER_SAMPLE_DIR)."""
    return _path_from_env("HEADWATER_SAMPLE_DIR", REPO_ROOT / "data" / "sample")


def config_path() -> Path:
    """The domain settings file (HEADWATER_CONFIG, default config/headwater.yaml)."""
    return _path_from_env("HEADWATER_CONFIG", REPO_ROOT / "config" / "headwater.yaml")


def export_warehouse_env() -> None:
    """dbt's profile reads the warehouse path from HEADWATER_WAREHOUSE; make sure it is set
    (absolute) for dbt subprocesses and the in-process dbt runner alike."""
    os.environ["HEADWATER_WAREHOUSE"] = str(warehouse_path())


def dbt_executable() -> Path:
    """dbt beside this interpreter, so it works when the venv is not activated."""
    return Path(sys.executable).parent / "dbt"


def dagster_home() -> Path:
    """The Dagster instance directory (DAGSTER_HOME, default .dagster/ in the repo)."""
    return _path_from_env("DAGSTER_HOME", REPO_ROOT / ".dagster")


def ensure_dagster_home() -> Path:
    """Point DAGSTER_HOME at the instance directory, creating it with the repo's dagster.yaml
    (embedded SQLite storage) when it has none, so CLI runs land in the same instance the UI
    reads."""
    home = dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    instance_yaml = home / "dagster.yaml"
    ours = (REPO_ROOT / "dagster.yaml").read_text()
    # A copy made from an earlier version of the repo's file is brought up to date; a file
    # someone wrote themselves (another first line) is left alone.
    if not instance_yaml.exists() or (
        instance_yaml.read_text().splitlines()[:1] == ours.splitlines()[:1]
        and instance_yaml.read_text() != ours
    ):
        instance_yaml.write_text(ours)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


SOURCE_MODES = ("sample", "live")


def source_mode() -> str:
    """HEADWATER_MODE: `sample` (default; generated files, no keys) or `live` (real APIs)."""
    mode = os.environ.get("HEADWATER_MODE", "sample").strip().lower()
    if mode not in SOURCE_MODES:
        raise SettingsError(f"HEADWATER_MODE={mode!r}: expected one of {', '.join(SOURCE_MODES)}")
    return mode
