"""`headwater doctor`: one line per check, exit 2 when one fails; a fresh instance created by
two commands at once works for both.

The bad setups are the ones users hit (an issue's list). Tests run as root, which ignores
permission bits, so an unwritable place is a path under a regular file.
"""

import multiprocessing
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from headwater import settings
from headwater.cli import doctor
from tests.conftest import REPO_ROOT

HEADWATER = str(Path(sys.executable).parent / "headwater")

# name -> (environment changes given the test's folder and a regular file in it, variables
# to unset, what the one failing line must contain: the setting and what to do)
BAD_SETUPS = {
    "live_without_eia_key": (
        lambda root, file: {"HEADWATER_MODE": "live", "FRED_API_KEY": "fred-secret"},
        ["EIA_API_KEY"],
        ["HEADWATER_MODE=live needs EIA_API_KEY", "export EIA_API_KEY"],
    ),
    "dagster_home_is_a_file": (
        lambda root, file: {"DAGSTER_HOME": str(file)},
        [],
        ["DAGSTER_HOME={file} is a file", "point DAGSTER_HOME at a directory"],
    ),
    "dagster_home_unwritable": (
        lambda root, file: {"DAGSTER_HOME": str(file / "home")},
        [],
        ["DAGSTER_HOME={file}/home cannot be created", "point DAGSTER_HOME at"],
    ),
    "warehouse_unwritable": (
        lambda root, file: {"HEADWATER_WAREHOUSE": str(file / "warehouse.duckdb")},
        [],
        ["HEADWATER_WAREHOUSE={file}/warehouse.duckdb", "point HEADWATER_WAREHOUSE at"],
    ),
    "sample_dir_unwritable": (
        lambda root, file: {"HEADWATER_SAMPLE_DIR": str(file / "sample")},
        [],
        ["HEADWATER_SAMPLE_DIR={file}/sample cannot be created", "point HEADWATER_SAMPLE_DIR"],
    ),
    # Files that exist but are not what they should be: found before anything runs.
    "warehouse_not_duckdb": (
        lambda root, file: {"HEADWATER_WAREHOUSE": str(file)},
        [],
        ["HEADWATER_WAREHOUSE={file} does not open", "not a valid DuckDB database file"],
    ),
    "instance_damaged": (
        lambda root, file: {"DAGSTER_HOME": str(_damaged_instance(root / "damaged"))},
        [],
        ["the Dagster instance does not open", "file is not a database", "point DAGSTER_HOME at"],
    ),
}


def _damaged_instance(home: Path) -> Path:
    """A DAGSTER_HOME whose SQLite run storage is not a database any more."""
    (home / "history").mkdir(parents=True, exist_ok=True)
    (home / "history" / "runs.db").write_text("garbage\n")
    return home


def fresh_env(root: Path, **changes: str) -> dict[str, str]:
    """A good setup in `root` (nothing created yet), with `changes` applied."""
    root.mkdir(parents=True, exist_ok=True)
    env = os.environ | {
        "HEADWATER_WAREHOUSE": str(root / "data" / "warehouse.duckdb"),
        "HEADWATER_SAMPLE_DIR": str(root / "data" / "sample"),
        "DAGSTER_HOME": str(root / "dagster_home"),
    }
    for name in (
        "HEADWATER_MODE",
        "HEADWATER_CONFIG",
        "EIA_API_KEY",
        "FRED_API_KEY",
        "DATABENTO_API_KEY",
    ):
        env.pop(name, None)
    return env | changes


def bad_env(root: Path, case: str) -> tuple[dict[str, str], list[str]]:
    """The environment of a bad setup and the texts its failing line must hold."""
    changes, unset, expected = BAD_SETUPS[case]
    file = root / "a_file"
    root.mkdir(parents=True, exist_ok=True)
    file.write_text("not a directory\n")
    env = fresh_env(root, **changes(root, file))
    for name in unset:
        env.pop(name, None)
    return env, [e.format(file=file) for e in expected]


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [HEADWATER, *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen) -> subprocess.CompletedProcess:
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.fixture(scope="module")
def doctor_runs(tmp_path_factory) -> tuple[Path, dict[str, subprocess.CompletedProcess]]:
    """`headwater doctor` on every bad setup and two good ones, all started at once (fast)."""
    root = tmp_path_factory.mktemp("doctor")
    envs = {case: bad_env(root / case, case)[0] for case in BAD_SETUPS}
    envs["good"] = fresh_env(root / "good")
    envs["good_live"] = fresh_env(
        root / "good_live",
        HEADWATER_MODE="live",
        EIA_API_KEY="eia-secret-value",
        FRED_API_KEY="fred-secret-value",
        DATABENTO_API_KEY="db-secret-value",
    )
    procs = {case: start(["doctor"], env) for case, env in envs.items()}
    return root, {case: finish(proc) for case, proc in procs.items()}


def test_a_good_setup_passes_every_check_and_creates_only_the_instance(doctor_runs):
    root, runs = doctor_runs
    done, root = runs["good"], root / "good"
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[1] for line in lines] == [
        "settings",
        "mode",
        "keys",
        "endpoints",
        "instance",
        "warehouse",
        "samples",
        "reports",
    ]
    assert all(line.startswith("ok   ") for line in lines), done.stdout
    assert f"{root / 'data' / 'warehouse.duckdb'} (writable" in done.stdout
    assert (root / "dagster_home" / "history" / "runs.db").exists()
    assert not (root / "data").exists()  # checked, not created
    assert done.stderr == ""


def test_live_mode_with_keys_passes_without_showing_them(doctor_runs):
    done = doctor_runs[1]["good_live"]
    assert done.returncode == 0, done.stdout + done.stderr
    assert "EIA_API_KEY, FRED_API_KEY, DATABENTO_API_KEY set (HEADWATER_MODE=live)" in done.stdout
    assert "secret" not in done.stdout + done.stderr


@pytest.mark.parametrize("case", BAD_SETUPS)
def test_each_bad_setup_is_one_failing_line_naming_the_setting(doctor_runs, case):
    root, runs = doctor_runs
    done, (_, expected) = runs[case], bad_env(root / case, case)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    failing = [line for line in done.stdout.splitlines() if line.startswith("FAIL")]
    assert len(failing) == 1, done.stdout
    for text in expected:
        assert text in failing[0]
    assert "secret" not in done.stdout + done.stderr
    assert done.stderr.strip() == "headwater doctor: 1 of 8 checks failed"


def test_the_reports_folder_checked_is_where_the_reports_go():
    from assets.workforce.assets import reports_dir
    from resources.warehouse import DuckDBWarehouse

    warehouse = DuckDBWarehouse()  # HEADWATER_WAREHOUSE, as the doctor reads it
    assert doctor.reports_folder() == reports_dir(warehouse)


def test_two_commands_creating_a_fresh_instance_at_once_both_work(tmp_path, monkeypatch):
    # Without the creation lock this failed about one time in three ("table runs already
    # exists", or a second alembic head in runs.db that leaves the instance unusable).
    for round_ in range(5):
        env = fresh_env(tmp_path / f"round{round_}")
        both = [start(["doctor"], env), start(["doctor"], env)]
        for done in map(finish, both):
            assert done.returncode == 0, f"round {round_}:\n{done.stdout}{done.stderr}"
            assert "ok   instance" in done.stdout
        home = Path(env["DAGSTER_HOME"])
        with sqlite3.connect(home / "history" / "runs.db") as con:
            assert con.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)
        monkeypatch.setenv("DAGSTER_HOME", str(home))
        with dg.DagsterInstance.get() as instance:
            assert instance.get_runs_count() == 0


def _create_at_the_barrier(home: str, barrier) -> None:
    os.environ["DAGSTER_HOME"] = home
    barrier.wait()
    settings.ensure_dagster_home()
    with dg.DagsterInstance.get() as instance:
        instance.get_runs_count()


def test_instance_creation_released_at_the_same_instant_in_two_processes(tmp_path):
    # The commands above start within a few hundred milliseconds of each other; here two
    # forked processes (dagster already imported) are released by a barrier, so the
    # creations overlap every time: without the lock most rounds fail.
    fork = multiprocessing.get_context("fork")
    for round_ in range(5):
        home = str(tmp_path / f"round{round_}")
        barrier = fork.Barrier(2)
        procs = [
            fork.Process(target=_create_at_the_barrier, args=(home, barrier)) for _ in range(2)
        ]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        assert [p.exitcode for p in procs] == [0, 0], f"round {round_}"
        with sqlite3.connect(Path(home) / "history" / "runs.db") as con:
            assert con.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)


def test_on_the_distributed_profile_the_reports_folder_is_in_the_data_folder(monkeypatch):
    from assets.workforce.assets import reports_dir
    from resources.warehouse_postgres import PostgresWarehouse

    monkeypatch.setenv("HEADWATER_PROFILE", "distributed")
    assert doctor.reports_folder() == reports_dir(PostgresWarehouse())
    assert doctor.reports_folder().parent.parent == settings.data_dir()
