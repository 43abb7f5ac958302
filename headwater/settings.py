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
    """dbt's profile reads the warehouse from HEADWATER_WAREHOUSE (embedded) or the
    HEADWATER_PG_* settings (distributed); make sure they are set for dbt subprocesses and
    the in-process dbt runner alike."""
    os.environ["HEADWATER_WAREHOUSE"] = str(warehouse_path())
    export_profile_env()


def dbt_executable() -> Path:
    """dbt beside this interpreter, so it works when the venv is not activated."""
    return Path(sys.executable).parent / "dbt"


INSTANCE_KINDS = ("sqlite", "postgres")
POSTGRES_STORAGE = REPO_ROOT / "deploy" / "postgres-storage.yaml"
# What the Postgres instance reads from the environment, and the defaults filled in when unset.
POSTGRES_ENV = {
    "HEADWATER_PG_HOST": "127.0.0.1",
    "HEADWATER_PG_PORT": "5432",
    "HEADWATER_PG_USER": "postgres",
    "HEADWATER_PG_PASSWORD": "",
    "HEADWATER_PG_DB": "dagster",
}
# Postgres writes a range run's materializations in batches of this many events (measured:
# docs/benchmarks.md); SQLite has no batch writes, so it is set for Postgres only.
EVENT_BATCH_SIZE = "500"


PROFILES = ("embedded", "distributed")


def profile() -> str:
    """HEADWATER_PROFILE: `embedded` (default: DuckDB warehouse, in-process executor) or
    `distributed` (PostgreSQL warehouse and instance, steps on Celery workers)."""
    name = os.environ.get("HEADWATER_PROFILE", "embedded").strip().lower() or "embedded"
    if name not in PROFILES:
        raise SettingsError(f"HEADWATER_PROFILE={name!r}: expected one of {', '.join(PROFILES)}")
    return name


def distributed() -> bool:
    return profile() == "distributed"


def warehouse_engine() -> str:
    """The warehouse's engine on this profile: `duckdb` (embedded) or `postgres`."""
    return "postgres" if distributed() else "duckdb"


def instance_kind() -> str:
    """HEADWATER_INSTANCE: `sqlite` (default, embedded) or `postgres` (dagster-postgres);
    always `postgres` on the distributed profile, whose workers share the instance."""
    default = "postgres" if distributed() else "sqlite"
    kind = os.environ.get("HEADWATER_INSTANCE", default).strip().lower() or default
    if kind not in INSTANCE_KINDS:
        raise SettingsError(
            f"HEADWATER_INSTANCE={kind!r}: expected one of {', '.join(INSTANCE_KINDS)}"
        )
    if distributed() and kind != "postgres":
        raise SettingsError(
            f"HEADWATER_INSTANCE={kind!r} with HEADWATER_PROFILE=distributed: Celery workers "
            "share the run's instance, which must be postgres (unset HEADWATER_INSTANCE)"
        )
    return kind


# The distributed profile's warehouse: a database on the instance's PostgreSQL server (same
# HEADWATER_PG_HOST / PORT / USER / PASSWORD) unless these say otherwise.
WAREHOUSE_PG_DB = "HEADWATER_WAREHOUSE_DB"
WAREHOUSE_PG_DB_DEFAULT = "headwater"
# The Celery broker of the distributed profile (RabbitMQ by default; Redis:
# redis://127.0.0.1:6379/0). Its result backend, unless HEADWATER_CELERY_BACKEND says
# otherwise, is the instance's PostgreSQL database: a step's result waits there for the
# run while the broker restarts (with rpc:// it would be lost with the broker's queues).
CELERY_ENV = {"HEADWATER_CELERY_BROKER": "pyamqp://guest@127.0.0.1:5672//"}


def warehouse_postgres() -> dict[str, str]:
    """Connection settings of the Postgres warehouse (the password is read where it is used,
    never stored in a resource's config)."""
    env = {name: os.environ.get(name, default) for name, default in POSTGRES_ENV.items()}
    return {
        "host": env["HEADWATER_PG_HOST"],
        "port": env["HEADWATER_PG_PORT"],
        "user": env["HEADWATER_PG_USER"],
        "dbname": os.environ.get(WAREHOUSE_PG_DB, WAREHOUSE_PG_DB_DEFAULT),
    }


def export_profile_env() -> None:
    """On the distributed profile: the Postgres and Celery defaults where unset, and dbt's
    target, in this process's environment (inherited by run workers and dbt)."""
    if not distributed():
        os.environ.setdefault("HEADWATER_DBT_TARGET", "duckdb")
        return
    for name, default in (POSTGRES_ENV | CELERY_ENV).items():
        os.environ.setdefault(name, default)
    os.environ.setdefault(WAREHOUSE_PG_DB, WAREHOUSE_PG_DB_DEFAULT)
    os.environ.setdefault("HEADWATER_CELERY_BACKEND", celery_database_backend())
    os.environ["HEADWATER_DBT_TARGET"] = "postgres"


def celery_database_backend() -> str:
    """Celery's database result backend in the instance's PostgreSQL database."""
    from urllib.parse import quote

    env = {name: os.environ.get(name, default) for name, default in POSTGRES_ENV.items()}
    user = quote(env["HEADWATER_PG_USER"], safe="")
    password = quote(env["HEADWATER_PG_PASSWORD"], safe="")
    return (
        f"db+postgresql+psycopg2://{user}:{password}@{env['HEADWATER_PG_HOST']}:"
        f"{env['HEADWATER_PG_PORT']}/{env['HEADWATER_PG_DB']}"
    )


def export_instance_env() -> None:
    """For a Postgres instance: its connection settings' defaults where unset, and event
    batching, in this process's environment (inherited by run workers and dbt)."""
    export_profile_env()
    if instance_kind() == "postgres":
        for name, default in POSTGRES_ENV.items():
            os.environ.setdefault(name, default)
        os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", EVENT_BATCH_SIZE)


def dagster_home() -> Path:
    """The Dagster instance directory (DAGSTER_HOME; default .dagster/ in the repo, or
    .dagster-postgres/ with HEADWATER_INSTANCE=postgres, so the two never mix)."""
    default = {"sqlite": ".dagster", "postgres": ".dagster-postgres"}[instance_kind()]
    if distributed():
        default = ".dagster-distributed"
    return _path_from_env("DAGSTER_HOME", REPO_ROOT / default)


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
    export_instance_env()
    try:
        home.mkdir(parents=True, exist_ok=True)
        _copy_instance_yaml(home)
    except OSError as exc:
        raise _dagster_home_error(home, exc) from None
    os.environ["DAGSTER_HOME"] = str(home)
    create_instance_storage(home)
    return home


def instance_yaml_text() -> str:
    """The instance's dagster.yaml: the repo's, plus the Postgres storage for a Postgres
    instance, plus the distributed profile's changes (deploy/distributed/dagster.yaml)."""
    ours = (REPO_ROOT / "dagster.yaml").read_text()
    if instance_kind() == "postgres":
        ours += "\n" + POSTGRES_STORAGE.read_text()
    if distributed():
        import yaml

        merged = _merge(yaml.safe_load(ours), yaml.safe_load(DISTRIBUTED_INSTANCE.read_text()))
        ours = f"{DISTRIBUTED_HEADER}\n" + yaml.safe_dump(
            merged, sort_keys=False, default_flow_style=False
        )
    return ours


DISTRIBUTED_INSTANCE = REPO_ROOT / "deploy" / "distributed" / "dagster.yaml"
DISTRIBUTED_HEADER = (
    "# Distributed profile instance: the repo's dagster.yaml, deploy/postgres-storage.yaml and "
    "deploy/distributed/dagster.yaml merged (headwater/settings.py writes it)."
)


def _merge(base: dict, override: dict) -> dict:
    """`override`'s keys over `base`'s, mappings merged key by key."""
    out = dict(base)
    for key, value in override.items():
        out[key] = (
            _merge(out[key], value)
            if isinstance(value, dict) and isinstance(out.get(key), dict)
            else value
        )
    return out


def _copy_instance_yaml(home: Path) -> None:
    instance_yaml = home / "dagster.yaml"
    ours = instance_yaml_text()
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
    if instance_kind() == "postgres":
        _create_postgres_storage()
        return
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


def postgres_target() -> str:
    """host:port/db of the Postgres instance, as configured (never the password)."""
    env = {name: os.environ.get(name, default) for name, default in POSTGRES_ENV.items()}
    return f"{env['HEADWATER_PG_HOST']}:{env['HEADWATER_PG_PORT']}/{env['HEADWATER_PG_DB']}"


def _create_postgres_storage() -> None:
    """Create the instance database if it does not exist, then the instance's tables
    (dagster-postgres creates them on first open). A server that cannot be reached, or
    refuses, raises SettingsError in one line naming the server and the variables."""
    import psycopg2
    from psycopg2 import sql

    env = {name: os.environ.get(name, default) for name, default in POSTGRES_ENV.items()}
    where = postgres_target()
    connect = dict(
        host=env["HEADWATER_PG_HOST"],
        port=env["HEADWATER_PG_PORT"],
        user=env["HEADWATER_PG_USER"],
        password=env["HEADWATER_PG_PASSWORD"],
        connect_timeout=5,
    )
    try:
        con = psycopg2.connect(dbname="postgres", **connect)
        try:
            con.autocommit = True  # CREATE DATABASE cannot run in a transaction
            with con.cursor() as cur:
                db = env["HEADWATER_PG_DB"]
                # Two processes starting on a new instance at once (a worker, the daemon)
                # would both create the database and its tables: one at a time, on a lock
                # the server frees if this process dies.
                cur.execute("SELECT pg_advisory_lock(hashtext(%s))", [f"headwater instance {db}"])
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db])
                if cur.fetchone() is None:
                    cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))
                from dagster import DagsterInstance

                DagsterInstance.get().dispose()
        finally:
            con.close()
    except Exception as exc:  # psycopg2 and sqlalchemy errors alike: the fix is the same
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        embedded = (
            "HEADWATER_PROFILE for the embedded profile"
            if distributed()
            else "HEADWATER_INSTANCE for the embedded SQLite instance"
        )
        raise SettingsError(
            f"Postgres instance storage at {where} cannot be used ({first}): start PostgreSQL "
            "or set HEADWATER_PG_HOST / HEADWATER_PG_PORT / HEADWATER_PG_USER / "
            f"HEADWATER_PG_PASSWORD / HEADWATER_PG_DB (or unset {embedded})"
        ) from None


def endpoint(variable: str, configured: str | None) -> tuple[str | None, str]:
    """A source's endpoint and where it comes from: the environment variable when it is
    set (not blank), else the settings file's value, else None (the source's default)."""
    value = os.environ.get(variable, "").strip()
    if value:
        return value, variable
    if configured:
        return configured, "settings file"
    return None, "default"


def url_problem(url: str, https_only: bool = False) -> str | None:
    """What is wrong with an endpoint URL, or None."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        return "does not parse as a URL"
    schemes = ("https",) if https_only else ("http", "https")
    if parts.scheme not in schemes or not parts.hostname:
        return f"expected a {' or '.join(s + '://' for s in schemes)} URL with a host"
    return None
