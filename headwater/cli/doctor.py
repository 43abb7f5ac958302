"""`headwater doctor`: check the settings, paths, keys, instance and warehouse, one line each.

Each check is a plain function returning (ok, line); the line names the setting it
judged, what it found and, when wrong, what to do. `headwater doctor` prints every
check; the other commands run the checks they need (headwater.cli) before building
anything, so a bad setting stops them with one line instead of a traceback mid-run.
"""

import argparse
import importlib
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

from headwater import settings
from headwater.config import SECTIONS

Result = tuple[bool, str]

LIVE_KEYS = ("EIA_API_KEY", "FRED_API_KEY", "DATABENTO_API_KEY")

# Checks not run (reported as skipped) when one they build on failed: keys mean nothing
# without a valid mode, and the reports folder lives beside the warehouse.
NEEDS = {
    "keys": ("mode",),
    "endpoints": ("settings", "mode"),
    "reports": ("warehouse", "warehouse_dir"),
}

# What `headwater doctor` runs, in order (and the broker, on the distributed profile).
ALL = ["settings", "mode", "keys", "endpoints", "instance", "warehouse", "samples", "reports"]


def all_checks() -> list[str]:
    return [*ALL[:6], "broker", *ALL[6:]] if settings.distributed() else ALL


def add_parser(sub) -> None:
    p = sub.add_parser(
        "doctor",
        epilog=(
            "examples:\n"
            "  headwater doctor\n"
            "  HEADWATER_MODE=live headwater doctor      are the live-mode keys set?"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="check settings, paths, keys, the instance and the warehouse; exit 2 if one fails",
    )
    p.add_argument("--config", type=Path, help="settings file (default: HEADWATER_CONFIG)")
    p.set_defaults(func=run)


def check_settings(path: Path | None = None) -> Result:
    """The settings file: every section through its domain's loader (`load_config` of
    assets.<section>.config: the settings file's sections are the domains)."""
    shown = path or settings.config_path()
    problems: list[str] = []
    for section in SECTIONS:
        try:
            importlib.import_module(f"assets.{section}.config").load_config(path)
        except settings.SettingsError as exc:
            message = str(exc)
        except OSError as exc:  # not found is a SettingsError already; this is the rest
            message = (
                f"{shown}: settings file cannot be read ({exc.strerror or exc}): point "
                f"{'--config' if path else 'HEADWATER_CONFIG'} at a readable file"
            )
        else:
            continue
        if message not in problems:  # a file that cannot be read fails every section
            problems.append(message)
    if problems:
        return False, "\n".join(problems)
    return True, f"{shown} (valid: {', '.join(SECTIONS)})"


def check_mode() -> Result:
    try:
        return True, f"HEADWATER_MODE={settings.source_mode()}"
    except settings.SettingsError as exc:
        return False, f"{exc} (unset means sample)"


def check_keys() -> Result:
    """Live mode needs the API keys (their values are never shown)."""
    if settings.source_mode() != "live":
        return True, "no API keys needed (HEADWATER_MODE=sample)"
    missing = [k for k in LIVE_KEYS if not os.environ.get(k, "").strip()]
    if not missing:
        return True, f"{', '.join(LIVE_KEYS)} set (HEADWATER_MODE=live)"
    names = " and ".join(missing)
    return False, (
        f"HEADWATER_MODE=live needs {names}, not set: export {names}, "
        "or unset HEADWATER_MODE to run on sample data"
    )


def check_endpoints(path: Path | None = None) -> Result:
    """Every source's endpoint (settings file, or its environment variable over it): a
    usable URL, and which one each source calls in live mode."""
    shown, problems = [], []
    for section in SECTIONS:
        cfg = importlib.import_module(f"assets.{section}.config").load_config(path)
        endpoints = getattr(cfg, "endpoints", None)
        for name, (url, origin, https_only) in (endpoints() if endpoints else {}).items():
            if url is None:
                continue
            problem = settings.url_problem(url, https_only)
            where = name if origin == "settings file" else origin
            if problem:
                problems.append(f"{where}={masked(url)}: {problem}")
            else:
                shown.append(f"{name} {masked(url)} ({origin})")
    live = settings.source_mode() == "live"
    if problems and live:
        return False, "; ".join(problems)
    if problems:  # nothing calls an endpoint in sample mode: said, not a failure
        shown += [f"{p} (unused in sample mode)" for p in problems]
    if not shown:
        return True, "every source on its default endpoint" + ("" if live else " (sample mode)")
    return True, "; ".join(shown) + ("" if live else " (used in live mode)")


def _writable_dir(variable: str, path: Path, subject: str | None = None) -> Result:
    problem = settings.directory_problem(path)
    if problem is None:
        return True, f"{path} ({'writable' if path.is_dir() else 'will be created'})"
    todo = "a directory" if problem == "is a file" else "a writable directory"
    return False, f"{subject or f'{variable}={path}'} {problem}: point {variable} at {todo}"


def check_instance_dir() -> Result:
    return _writable_dir("DAGSTER_HOME", settings.dagster_home())


def check_instance() -> Result:
    """DAGSTER_HOME is usable and the instance (SQLite or Postgres storage) opens; creates it
    if new."""
    ok, line = check_instance_dir()
    if not ok:
        return ok, line
    import dagster as dg

    try:
        home = settings.ensure_dagster_home()
        with dg.DagsterInstance.get() as instance:
            runs = instance.get_runs_count()
    except settings.SettingsError as exc:
        return False, str(exc)
    except Exception as exc:  # whatever the storage raised, the user's fix is the same
        first = (str(exc).strip().splitlines() or [""])[0]
        return False, (
            f"DAGSTER_HOME={settings.dagster_home()}: the instance does not open "
            f"({type(exc).__name__}: {first}): fix its dagster.yaml or point DAGSTER_HOME "
            "at an empty directory"
        )
    kind = (
        f"Postgres instance at {settings.postgres_target()}"
        if settings.instance_kind() == "postgres"
        else "SQLite instance"
    )
    return True, f"{home} ({kind} opens, {runs} runs)"


def check_warehouse_dir() -> Result:
    """The warehouse file's directory is writable (DuckDB writes its WAL and lock there)."""
    path = settings.warehouse_path()
    if path.is_dir():
        return False, (
            f"HEADWATER_WAREHOUSE={path} is a directory: point HEADWATER_WAREHOUSE at a file, "
            f"e.g. {path / 'warehouse.duckdb'}"
        )
    problem = settings.directory_problem(path.parent)
    if problem is not None:
        return False, (
            f"HEADWATER_WAREHOUSE={path}: its directory {path.parent} {problem}: point "
            "HEADWATER_WAREHOUSE at a file in a writable directory"
        )
    return True, f"{path} (directory writable)"


def check_warehouse() -> Result:
    """The warehouse directory is writable and, if the file exists, it opens (read-only).
    On the distributed profile: the PostgreSQL warehouse is reachable (or can be created)."""
    if settings.distributed():
        return check_postgres_warehouse()
    ok, line = check_warehouse_dir()
    path = settings.warehouse_path()
    if not ok or not path.exists():
        return ok, line if not ok else f"{path} (writable; created by the first run)"
    import duckdb

    from resources.warehouse import lock_holder, warehouse_lock

    try:
        # Under the writer lock: even a read-only open makes a writer starting now fail.
        with warehouse_lock(path, timeout_s=0, shared=True):
            with duckdb.connect(str(path), read_only=True) as con:
                [(tables,)] = con.execute(
                    "SELECT count(*) FROM information_schema.tables "
                    "WHERE table_schema NOT IN ('information_schema', 'pg_catalog')"
                ).fetchall()
    except TimeoutError:
        holder = lock_holder(str(path.with_suffix(".lock")))
        return True, f"{path} (writable; in use by {holder}, not opened)"
    except duckdb.Error as exc:
        first = (str(exc).strip().splitlines() or [""])[0]
        if "lock" in first.lower():  # another program (a DuckDB shell, say) has it open
            pid = re.search(r"\(PID \d+\)", first)
            holder = f"another process {pid.group(0)}" if pid else "another process"
            return True, f"{path} (writable; in use by {holder}, not opened)"
        return False, (
            f"HEADWATER_WAREHOUSE={path} does not open ({first}): move the file away or "
            "point HEADWATER_WAREHOUSE elsewhere"
        )
    return True, f"{path} (writable; opens, {tables} tables)"


def check_postgres_warehouse() -> Result:
    from headwater.cli.warehouse_view import read_postgres_warehouse

    view = read_postgres_warehouse()
    if view.state == "error":
        return False, (
            f"{view.path} cannot be reached ({view.detail}): start PostgreSQL or set "
            f"HEADWATER_PG_HOST / HEADWATER_PG_PORT / HEADWATER_PG_USER / HEADWATER_PG_PASSWORD "
            f"/ {settings.WAREHOUSE_PG_DB}"
        )
    if view.state == "missing":
        return True, f"{view.path} (reachable; the database is created by the first run)"
    return True, f"{view.path} (reachable, {len(view.tables)} tables)"


def check_samples() -> Result:
    return _writable_dir("HEADWATER_SAMPLE_DIR", settings.sample_dir())


def reports_folder() -> Path:
    """Where the workforce reports go: beside the warehouse. The rule is
    assets.workforce.assets.reports_dir (a test keeps the two equal); importing it here
    would load dbt and add a second and a half to every command's start."""
    if settings.distributed():  # no warehouse file: the data folder
        return settings.data_dir() / "reports" / "workforce"
    return settings.warehouse_path().parent / "reports" / "workforce"


def check_reports() -> Result:
    folder = reports_folder()
    # The variable to change is the warehouse's: it decides where this folder is.
    return _writable_dir(
        "HEADWATER_WAREHOUSE", folder, f"reports folder {folder} (beside HEADWATER_WAREHOUSE)"
    )


def masked(url: str) -> str:
    """A URL without its password."""
    return re.sub(r"(//[^:/@]*):[^@/]*@", r"\1:***@", url)


def check_broker() -> Result:
    """The distributed profile's Celery broker takes a connection (within 5 s)."""
    if not settings.distributed():
        return True, "not used (embedded profile: steps run in the run's process)"
    import kombu

    settings.export_profile_env()
    url = os.environ["HEADWATER_CELERY_BROKER"]
    try:
        with kombu.Connection(url, connect_timeout=5) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as exc:  # refused, unknown host, bad credentials, no such vhost
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return False, (
            f"HEADWATER_CELERY_BROKER={masked(url)} cannot be reached ({first}): start the "
            "broker or point HEADWATER_CELERY_BROKER at it"
        )
    return True, f"{masked(url)} (reachable)"


def checks(config: Path | None = None) -> dict[str, Callable[[], Result]]:
    """Every check by name; `config` is the settings file a command was given."""
    return {
        "settings": lambda: check_settings(config),
        "mode": check_mode,
        "keys": check_keys,
        "endpoints": lambda: check_endpoints(config),
        "instance_dir": check_instance_dir,
        "instance": check_instance,
        "warehouse_dir": check_warehouse_dir,
        "warehouse": check_warehouse,
        "samples": check_samples,
        "reports": check_reports,
        "broker": check_broker,
    }


def run_checks(names: list[str], config: Path | None = None) -> list[tuple[str, str, str]]:
    """(status, name, line) per check, status ok / FAIL / skip (one it needs failed)."""
    by_name = checks(config)
    failed: set[str] = set()
    out = []
    for name in names:
        blocked = [n for n in NEEDS.get(name, ()) if n in failed]
        if blocked:
            out.append(("skip", name, f"not checked until {blocked[0]} is fixed"))
            continue
        ok, line = by_name[name]()
        if not ok:
            failed.add(name)
        out.append(("ok" if ok else "FAIL", name, line))
    return out


def problems(names: list[str], config: Path | None = None) -> list[str]:
    """What a command prints before stopping: the first failed check's lines. One cause
    often fails several checks (PostgreSQL down: the instance and the warehouse); the
    first is the one to fix, and `headwater doctor` lists them all."""
    by_name = checks(config)
    for name in names:
        ok, line = by_name[name]()
        if not ok:
            return line.splitlines()
    return []


def run(args) -> int:
    names = all_checks()
    width = max(map(len, names))
    results = run_checks(names, getattr(args, "config", None))
    for status, name, line in results:
        first, *more = line.splitlines()
        print(f"{status:<4} {name:<{width}}  {first}")
        for extra in more:
            print(f"{'':<4} {'':<{width}}  {extra}")
    failed = [name for status, name, _ in results if status == "FAIL"]
    if failed:
        print(f"headwater doctor: {len(failed)} of {len(results)} checks failed", file=sys.stderr)
        return 2
    return 0
