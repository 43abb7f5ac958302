"""Where things live. Every path can be overridden by an environment variable.

Paths are made absolute here, once, because dbt subprocesses, the in-process
dbt runner and Dagster's run workers each start in a different directory.
"""

import fcntl
import os
import sys
import tempfile
from pathlib import Path

from headwater.files import write_atomic

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


def data_dir() -> Path:
    """Where the domains keep files they receive and produce (HEADWATER_DATA_DIR, default
    data/): the prospects inbox, snapshot archive and downloads."""
    return _path_from_env("HEADWATER_DATA_DIR", REPO_ROOT / "data")


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


def directory_problem(path: Path) -> str | None:
    """Why `path` cannot serve as a writable directory, or None when it can (it is one, or
    it can be created). Nothing is left behind: writability is probed by creating and
    removing a uniquely named directory, since permission bits say nothing for root."""
    target = path
    try:
        while not target.is_dir():
            if target.exists() or target.is_symlink():
                kind = "a file" if target.is_file() else "not a directory"
                return f"is {kind}" if target == path else f"cannot be created: {target} is {kind}"
            target = target.parent
        os.rmdir(tempfile.mkdtemp(prefix=".headwater-probe-", dir=target))
    except OSError as exc:  # e.g. a parent this user may not enter or write
        reason = exc.strerror or type(exc).__name__
        return (
            f"is not writable ({reason})"
            if target == path
            else f"cannot be created: {target} is not writable ({reason})"
        )
    return None


def _dagster_home_error(home: Path, exc: OSError) -> SettingsError:
    problem = directory_problem(home) or f"cannot be used ({exc.strerror or exc})"
    todo = "a directory" if problem == "is a file" else "a writable directory"
    return SettingsError(f"DAGSTER_HOME={home} {problem}: point DAGSTER_HOME at {todo}")


def ensure_dagster_home() -> Path:
    """Point DAGSTER_HOME at the instance directory, creating it with the repo's dagster.yaml
    (embedded SQLite storage) and the instance's storage when it has none, so CLI runs land
    in the same instance the UI reads. A directory that cannot be used raises SettingsError
    naming DAGSTER_HOME and what to do."""
    home = dagster_home()
    try:
        home.mkdir(parents=True, exist_ok=True)
        _copy_instance_yaml(home)
    except OSError as exc:
        raise _dagster_home_error(home, exc) from None
    os.environ["DAGSTER_HOME"] = str(home)
    create_instance_storage(home)
    return home


def _copy_instance_yaml(home: Path) -> None:
    instance_yaml = home / "dagster.yaml"
    ours = (REPO_ROOT / "dagster.yaml").read_text()
    theirs = instance_yaml.read_text() if instance_yaml.exists() else None
    # A copy made from an earlier version of the repo's file is brought up to date; a file
    # someone wrote themselves (another first line) is left alone.
    if theirs is None or (theirs.splitlines()[:1] == ours.splitlines()[:1] and theirs != ours):
        # Written aside and renamed, so a process starting now never reads half a file.
        write_atomic(instance_yaml, ours.encode())


INSTANCE_LOCK = ".instance.lock"
INSTANCE_CREATED = ".instance-created"


def create_instance_storage(home: Path) -> None:
    """Create the instance's SQLite storage once, whoever starts first.

    Two processes opening a fresh instance at the same moment both create its tables
    ("table runs already exists", or two alembic heads in runs.db), so the first
    creation runs under an flock on DAGSTER_HOME/.instance.lock and ends by writing
    .instance-created; later starts see that file (and runs.db) and take no lock.
    """
    created = home / INSTANCE_CREATED
    if created.exists() and (home / "history" / "runs.db").exists():
        return
    try:
        fd = os.open(home / INSTANCE_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise _dagster_home_error(home, exc) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # the kernel frees it if this process dies
        if created.exists() and (home / "history" / "runs.db").exists():
            return  # another process created it while this one waited
        from dagster import DagsterInstance

        try:
            DagsterInstance.get().dispose()
        except Exception as exc:  # whatever the storage raised, the user's fix is the same
            first = (str(exc).strip().splitlines() or [""])[0]
            raise SettingsError(
                f"DAGSTER_HOME={home}: the Dagster instance does not open "
                f"({type(exc).__name__}: {first}): fix {home / 'dagster.yaml'} or point "
                "DAGSTER_HOME at an empty directory"
            ) from None
        created.touch()
    finally:
        os.close(fd)  # closing the descriptor releases the lock


SOURCE_MODES = ("sample", "live")


def source_mode() -> str:
    """HEADWATER_MODE: `sample` (default; generated files, no keys) or `live` (real APIs)."""
    mode = os.environ.get("HEADWATER_MODE", "sample").strip().lower()
    if mode not in SOURCE_MODES:
        raise SettingsError(f"HEADWATER_MODE={mode!r}: expected one of {', '.join(SOURCE_MODES)}")
    return mode


def main() -> int:
    """`python -m headwater.settings`: create the instance directory and storage once (what
    `make setup` and scripts/dev.sh run), or say in one line what is wrong."""
    try:
        home = ensure_dagster_home()
    except SettingsError as exc:
        print(f"headwater: {exc}", file=sys.stderr)
        return 2
    print(f"instance: {home}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
