"""Crash safety and concurrency with real processes and real signals: a run killed with
SIGKILL is found dead and marked failed, resuming gives the tables of an uninterrupted
run, a waiting writer sleeps and says what it waits for, and overlapping writers across
domains and entry points all succeed."""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.energy.sample_data import ensure_sample_data
from headwater.dead_runs import HOST_TAG, PID_TAG, process_tags, reap_dead_runs
from resources.warehouse import describe_holder, warehouse_lock
from tests.conftest import REPO_ROOT

BIN = Path(sys.executable).parent
PRICES = "group:energy and kind:python"
MARTS = "group:energy and kind:dbt"
MATERIALIZE = [BIN / "dagster", "asset", "materialize", "-f", "definitions.py", "--select"]
ENERGY_TABLES = [
    "staging.eia_prices",
    "staging.fred_prices",
    "staging.yahoo_prices",
    "quarantine.eia_prices",
    "quarantine.fred_prices",
    "quarantine.yahoo_prices",
    "canonical.commodity_prices",
]
WORKFORCE_TABLES = [
    "workforce.fct_workforce_snapshot",
    "workforce.fct_yearly_events",
    "workforce.int_employee_contributions",
]


@pytest.fixture
def env(tmp_path, session_dir):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    sample = session_dir / "sample"
    ensure_sample_data(sample / "energy")  # once, before processes race to generate it
    with dg.DagsterInstance.from_config(str(home)):  # its storage, before processes race
        pass
    return os.environ | {
        "DAGSTER_HOME": str(home),
        "HEADWATER_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
        "HEADWATER_SAMPLE_DIR": str(sample),
    }


def start(env, *args) -> subprocess.Popen:
    return subprocess.Popen(
        [str(a) for a in args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(proc: subprocess.Popen, timeout: float = 600) -> str:
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out[-5000:]
    return out


def read_until(proc: subprocess.Popen, marker: str, timeout: float = 300) -> str:
    """Read the process's output until a line holds `marker`."""
    seen: list[str] = []
    done = threading.Event()

    def reader():
        for line in proc.stdout:
            seen.append(line)
            if marker in line:
                done.set()
                return

    threading.Thread(target=reader, daemon=True).start()
    assert done.wait(timeout), f"no {marker!r} in:\n{''.join(seen)[-3000:]}"
    return "".join(seen)


def tables(path, names) -> dict[str, list]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in names}


def runs(env) -> list[dg.DagsterRun]:
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        return list(instance.get_runs())


def test_killed_simulation_is_marked_failed_and_resume_matches_an_uninterrupted_run(env, tmp_path):
    simulate = [BIN / "headwater", "simulate", "--start-year", "2025", "--end-year", "2029"]
    proc = start(env, *simulate)
    read_until(proc, "year 2026 (2/5) done")
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    [killed] = [r for r in runs(env) if r.status == dg.DagsterRunStatus.STARTED]
    assert killed.tags[PID_TAG] == str(proc.pid)

    out = finish(start(env, *simulate, "--resume"), timeout=300)
    assert f"headwater: run {killed.run_id} (workforce_simulation): process {proc.pid}" in out
    assert "ended without reporting; marked failed at" in out
    assert "done: years 2027..2029" in out  # 2025 and 2026 were kept
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        dead = instance.get_run_by_id(killed.run_id)
        assert dead.status == dg.DagsterRunStatus.FAILURE
        assert instance.event_log_storage.get_concurrency_info("warehouse").claimed_slots == []

    uninterrupted = env | {"HEADWATER_WAREHOUSE": str(tmp_path / "uninterrupted.duckdb")}
    uninterrupted["DAGSTER_HOME"] = str(tmp_path / "home2")
    finish(start(uninterrupted, *simulate), timeout=300)
    assert tables(env["HEADWATER_WAREHOUSE"], WORKFORCE_TABLES) == tables(
        uninterrupted["HEADWATER_WAREHOUSE"], WORKFORCE_TABLES
    )


def test_killed_energy_refresh_then_rerun_gives_the_same_rows(env, tmp_path):
    refresh = [BIN / "dagster", "asset", "materialize", "-f", "definitions.py"]
    refresh += ["--select", PRICES, "--partition-range", "2015-01-01...2024-12-01"]
    proc = start(env, *refresh)
    read_until(proc, 'STEP_START - Started execution of step "staging__fred_prices"')
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)

    finish(start(env, *refresh))
    assert [r.status for r in runs(env)] == [dg.DagsterRunStatus.SUCCESS] + [
        dg.DagsterRunStatus.STARTED  # not a headwater command: nothing reaped it yet
    ]
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        assert [d.run_id for d in reap_dead_runs(instance)] == [runs(env)[1].run_id]

    clean = env | {"HEADWATER_WAREHOUSE": str(tmp_path / "clean.duckdb")}
    finish(start(clean, *refresh))
    assert tables(env["HEADWATER_WAREHOUSE"], ENERGY_TABLES) == tables(
        clean["HEADWATER_WAREHOUSE"], ENERGY_TABLES
    )


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_waiting_writer_sleeps_and_says_who_holds_the_warehouse(env):
    describe_holder("run test-holder (a test)")
    with warehouse_lock(env["HEADWATER_WAREHOUSE"]):
        proc = start(
            env,
            *[BIN / "dagster", "asset", "materialize", "-f", "definitions.py"],
            *["--select", "staging/eia_prices", "--partition", "2024-03-01"],
        )
        said = read_until(proc, "waiting", timeout=120)
        before = cpu_seconds(proc.pid)
        time.sleep(3)
        assert cpu_seconds(proc.pid) - before < 0.5  # asleep, not spinning a core
    assert "for the warehouse writer lock" in said
    assert f"held by run test-holder (a test) (pid {os.getpid()} on host" in said
    assert proc.wait(120) == 0


def test_headwater_and_the_daemon_sensor_reap_a_run_whose_process_died(env):
    """A run left STARTED by a process that is gone: the daemon's sensor marks it failed."""
    create = (
        "import dagster as dg, json, sys; from definitions import defs;"
        "from headwater.dead_runs import process_tags;"
        "i = dg.DagsterInstance.get();"
        "job = defs.resolve_job_def('energy_marts_refresh');"
        "r = i.create_run_for_job(job, tags=process_tags());"
        "i.handle_run_event(r.run_id, "
        "dg.DagsterEvent(event_type_value='PIPELINE_START', job_name=r.job_name));"
        "print(r.run_id)"
    )
    done = subprocess.run(
        [sys.executable, "-c", create], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    run_id = done.stdout.strip().splitlines()[-1]
    # `headwater status` only reads: it leaves the run STARTED but says its process ended.
    status = [str(BIN / "headwater"), "status"]
    as_json = subprocess.run([*status, "--json"], cwd=REPO_ROOT, env=env, capture_output=True)
    [shown] = json.loads(as_json.stdout)["instance"]["in_progress"]
    assert shown["run_id"] == run_id and shown["process_ended"] is True
    as_text = subprocess.run(status, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    assert "1 in progress (1 whose process has ended)" in as_text.stdout, as_text.stdout
    assert "process ended: the next headwater command marks it failed" in as_text.stdout
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.STARTED
        from definitions import defs

        sensor = defs.resolve_sensor_def("headwater_dead_runs")
        result = sensor(dg.build_sensor_context(instance=instance))
        assert run_id in result.skip_message
        run = instance.get_run_by_id(run_id)
        assert run.status == dg.DagsterRunStatus.FAILURE
        [failure] = instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.PIPELINE_FAILURE
        ).records
        assert "ended without reporting; marked failed at" in failure.event_log_entry.message
        # A live process's runs are left alone.
        live = instance.create_run_for_job(
            defs.resolve_job_def("energy_marts_refresh"), tags=process_tags()
        )
        instance.handle_run_event(
            live.run_id,
            dg.DagsterEvent(event_type_value="PIPELINE_START", job_name=live.job_name),
        )
        assert reap_dead_runs(instance) == []
        assert instance.get_run_by_id(live.run_id).tags[HOST_TAG]


def test_overlapping_writers_across_domains_all_succeed(env):
    """Writers of the four domains through both entry points, started a second apart on
    one warehouse: two simulations (dbt in process), an energy backfill, the energy marts
    (dbt in a subprocess), a market ingest and a prospects refresh; every one succeeds
    (no "Could not set lock on file")."""
    # A month of prices first, so that the marts have their source whichever writer
    # goes first.
    finish(start(env, *MATERIALIZE, PRICES, "--partition", "2024-03-01"))
    procs = []
    for command in (
        [BIN / "headwater", "simulate", "--start-year", "2025", "--end-year", "2027"],
        [BIN / "headwater", "simulate", "--start-year", "2025", "--end-year", "2027"],
        [*MATERIALIZE, PRICES, "--partition-range", "2023-01-01...2023-12-01"],
        [*MATERIALIZE, MARTS],
        [BIN / "headwater", "ingest", "--api", "databento", "--schema", "definition"]
        + ["--start-date", "2026-10-01", "--end-date", "2026-11-30"],
        [*MATERIALIZE, "tag:headwater/step=prospects_refresh", "--partition-range", "2024...2025"],
    ):
        procs.append(start(env, *command))
        time.sleep(1.0)
    outputs = [p.communicate(timeout=900)[0] for p in procs]
    failed = [o[-4000:] for p, o in zip(procs, outputs, strict=True) if p.returncode]
    assert not failed, "\n\n".join(failed)
    assert all("Could not set lock" not in o for o in outputs)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_and_sigterm_cancel_the_run_and_say_what_was_done(env, signum):
    simulate = [BIN / "headwater", "simulate", "--start-year", "2025", "--end-year", "2029"]
    proc = start(env, *simulate)
    read_until(proc, "year 2026 (2/5) done")
    sent = time.monotonic()
    proc.send_signal(signum)
    out, _ = proc.communicate(timeout=60)
    assert time.monotonic() - sent < 20, "the command did not stop within seconds"
    assert proc.returncode == 128 + signum
    name = signal.Signals(signum).name
    assert f"simulate: stopped by {name}; run " in out
    assert "finished: 2025, 2026; not run: 2027, 2028, 2029 (resume with --resume)" in out
    [canceled] = [r for r in runs(env) if r.job_name == "workforce_simulation"]
    assert canceled.status == dg.DagsterRunStatus.CANCELED
    # Nothing is held: another writer opens the warehouse at once, and resume finishes.
    with warehouse_lock(env["HEADWATER_WAREHOUSE"], timeout_s=1):
        duckdb.connect(env["HEADWATER_WAREHOUSE"]).close()
    assert "done: years 2027..2029" in finish(start(env, *simulate, "--resume"), timeout=300)
