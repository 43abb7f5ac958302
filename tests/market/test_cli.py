"""`headwater ingest` and `headwater list-jobs` as a user runs them: subprocesses, each on
its own temporary warehouse and Dagster instance (the repository's dagster.yaml), sample
files. Every command is started at once (a module fixture) and read back by the tests."""

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import dagster as dg
import databento as db
import duckdb
import pytest
import yaml

from assets.energy.sample_data import ensure_sample_data
from assets.market import sample_data
from tests.conftest import REPO_ROOT

BIN = Path(sys.executable).parent
TRIGGER = ("headwater/trigger", "ingest")  # docs/market.md: how an ingest run is tagged
JANUARY = (date(2024, 1, 1), date(2024, 2, 1))
E2E = [
    "ingest", "--api", "databento", "--dataset", "GLBX.MDP3", "--schema", "ohlcv-1d",
    "--symbols", "CL.FUT,ES.FUT", "--start-date", "2024-01-02", "--end-date", "2024-01-31",
]  # fmt: skip
JOBS = {
    "cl_january": {
        "api": "databento",
        "schema": "ohlcv-1d",
        "symbols": ["CL.FUT"],
        "start_date": "2024-01-02",
        "end_date": "2024-01-31",
        "description": "CL daily bars, January 2024",
    },
    "fred_january": {
        "api": "fred",
        "start_date": "2024-01-01",
        "end_date": "2024-01-31",
        "description": "FRED spot prices, January 2024",
    },
}
DB = ["ingest", "--api", "databento"]
ONE_MONTH = ["--start-date", "2024-01-01", "--end-date", "2024-01-31"]
# Bad parameters: the command line, and what its one line on stderr must say.
BAD = {
    "unknown_schema": (
        [*DB, "--schema", "ohlcv-2d", *ONE_MONTH],
        ["'ohlcv-2d'", "ohlcv-1d", "ohlcv-1m", "trades", "statistics", "definition"],
    ),
    "malformed_date": (
        [*DB, "--schema", "ohlcv-1d", "--start-date", "2024-13-01", "--end-date", "2024-12-31"],
        ["--start-date", "2024-13-01", "YYYY-MM-DD"],
    ),
    "end_before_start": (
        [*DB, "--schema", "ohlcv-1d", "--start-date", "2024-03-01", "--end-date", "2024-02-01"],
        ["--end-date", "2024-02-01", "2024-03-01"],
    ),
    "bad_symbol": ([*DB, "--schema", "ohlcv-1d", "--symbols", "CL", *ONE_MONTH], ["'CL'", ".FUT"]),
    "unknown_job": (["ingest", "--job", "nope"], ["'nope'", "cl_january", "fred_january"]),
    "job_with_another_parameter": (
        ["ingest", "--job", "cl_january", "--start-date", "2024-01-01"],
        ["--job", "--start-date"],
    ),
    "before_market_start": (
        [*DB, "--schema", "ohlcv-1d", "--start-date", "2023-12-01", "--end-date", "2024-01-31"],
        ["2023-12-01", "2024-01-01"],
    ),
    "unknown_api": (
        ["ingest", "--api", "bloomberg", *ONE_MONTH],
        ["'bloomberg'", "databento", "eia", "fred", "yahoo"],
    ),
    "schema_with_fred": (
        ["ingest", "--api", "fred", "--schema", "ohlcv-1d", *ONE_MONTH],
        ["--schema", "fred"],
    ),
}
GOOD = {
    "e2e_text": E2E,
    "e2e_json": [*E2E, "--log-format", "json"],
    "job": ["ingest", "--job", "cl_january"],
    "list_jobs": ["list-jobs"],
    "list_jobs_json": ["list-jobs", "--json"],
    "fred": ["ingest", "--api", "fred", "--start-date", "2024-01-01", "--end-date", "2024-01-31"],
    "truncated": [*DB, "--schema", "ohlcv-1d", "--symbols", "CL.FUT", *ONE_MONTH],
}


def settings_with_jobs(path: Path) -> Path:
    """A copy of config/headwater.yaml with market.jobs added."""
    data = yaml.safe_load((REPO_ROOT / "config" / "headwater.yaml").read_text()) or {}
    market = data.get("market") or {}
    market["jobs"] = JOBS
    data["market"] = market
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def make_env(root: Path, sample: Path, config: Path) -> dict[str, str]:
    home = root / "dagster_home"
    home.mkdir(parents=True)
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    env = os.environ | {
        "DAGSTER_HOME": str(home),
        "HEADWATER_WAREHOUSE": str(root / "warehouse.duckdb"),
        "HEADWATER_SAMPLE_DIR": str(sample),
        "HEADWATER_DATA_DIR": str(root / "data"),
        "HEADWATER_CONFIG": str(config),
        "PATH": f"{BIN}:{os.environ['PATH']}",
    }
    env.pop("HEADWATER_MODE", None)
    return env


@pytest.fixture(scope="module")
def cli(tmp_path_factory, session_dir):
    """Every command of this module, each in its own setup, started at once; then
    {case: (finished process, env)}."""
    root = tmp_path_factory.mktemp("market-cli")
    config = settings_with_jobs(root / "headwater.yaml")
    shared_sample = session_dir / "sample"
    ensure_sample_data(shared_sample / "energy")  # once, before processes race to write it
    envs = {}
    for case in [*GOOD, *BAD]:
        sample = shared_sample
        if case == "truncated":  # its own sample files: one of them is cut short
            sample = root / case / "sample"
            path = sample_data.ensure_sample(sample / "market", "ohlcv-1d", *JANUARY, ["CL.FUT"])
            good = path.read_bytes()
            path.write_bytes(good[: len(good) * 6 // 10])
        envs[case] = make_env(root / case, sample, config)
    argv = {case: GOOD[case] if case in GOOD else BAD[case][0] for case in envs}
    procs = {
        case: subprocess.Popen(
            [str(BIN / "headwater"), *argv[case]],
            cwd=REPO_ROOT,
            env=envs[case],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for case in envs
    }
    done = {}
    for case, proc in procs.items():
        out, err = proc.communicate(timeout=600)
        done[case] = (subprocess.CompletedProcess(proc.args, proc.returncode, out, err), envs[case])
    return done


def runs_in(env, monkeypatch) -> list[dg.DagsterRun]:
    """The runs of the instance the command used (DAGSTER_HOME)."""
    monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
    with dg.DagsterInstance.get() as instance:
        return list(instance.get_runs())


def query(env, sql):
    with duckdb.connect(env["HEADWATER_WAREHOUSE"], read_only=True) as con:
        return con.execute(sql).fetchall()


def sample_records(env, schema: str, parents) -> int:
    root = Path(env["HEADWATER_SAMPLE_DIR"]) / "market"
    return sum(
        len(
            db.DBNStore.from_file(sample_data.sample_path(root, schema, *JANUARY, [p])).to_ndarray()
        )
        for p in parents
    )


def warehouse_totals(env, schemas=("definition", "ohlcv_1d")) -> tuple[int, int]:
    loaded = sum(query(env, f"SELECT count(*) FROM staging.market_{s}")[0][0] for s in schemas)
    held = sum(query(env, f"SELECT count(*) FROM quarantine.market_{s}")[0][0] for s in schemas)
    return loaded, held


def number(text: str, label: str) -> int:
    return int(re.search(rf"{label}:\s+([\d,]+)", text).group(1).replace(",", ""))


def succeeded(done) -> str:
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stdout + done.stderr
    return done.stdout


# ---- a good ingest, end to end --------------------------------------------------------------


def test_ingest_end_to_end_prints_the_counts_and_the_runs(cli, monkeypatch):
    done, env = cli["e2e_text"]
    out = succeeded(done)
    fetched = sample_records(env, "definition", ["CL.FUT", "ES.FUT"])
    fetched += sample_records(env, "ohlcv-1d", ["CL.FUT", "ES.FUT"])
    loaded, held = warehouse_totals(env)
    assert number(out, "records fetched") == fetched == loaded + held
    assert number(out, "records loaded") == loaded > 0
    assert number(out, "records quarantined") == held
    printed = dict(
        (run_id, (job, status))
        for run_id, job, status in re.findall(r"^\s*run (\S+)\s+(\S+)\s+(ok|FAILED)$", out, re.M)
    )
    assert sorted(job for job, _ in printed.values()) == ["market_definition", "market_ohlcv_1d"]
    assert {status for _, status in printed.values()} == {"ok"}
    runs = runs_in(env, monkeypatch)
    assert {r.run_id for r in runs} == set(printed)
    for run in runs:
        assert run.status == dg.DagsterRunStatus.SUCCESS
        assert run.tags.get(TRIGGER[0]) == TRIGGER[1]
        assert run.job_name == printed[run.run_id][0]
    # The symbols asked for, the whole month (a month is the partition replaced).
    bars = query(
        env,
        "SELECT parent, count(*), min(bar_date)::DATE, max(bar_date)::DATE "
        "FROM canonical.market_ohlcv_1d GROUP BY parent ORDER BY parent",
    )
    assert [(p, first, last) for p, _, first, last in bars] == [
        ("CL.FUT", date(2024, 1, 1), date(2024, 1, 31)),
        ("ES.FUT", date(2024, 1, 1), date(2024, 1, 31)),
    ]


def test_ingest_json_log_is_one_object_a_line_ending_with_the_summary(cli, monkeypatch):
    done, env = cli["e2e_json"]
    out = succeeded(done)
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines and all(isinstance(line, dict) and "stage" in line for line in lines)
    summary = lines[-1]
    assert summary["stage"] == "summary" and summary["success"] is True
    assert [line["stage"] for line in lines].count("summary") == 1
    assert lines[0]["stage"] == "plan"
    stages = {line["stage"] for line in lines}
    documented = {"plan", "run_started", "fetch", "partition_done", "run_finished", "summary"}
    assert documented <= stages, f"missing on stdout: {sorted(documented - stages)}"
    partitions = [line for line in lines if line["stage"] == "partition_done"]
    assert {(p["job"], p["partition"]) for p in partitions} == {
        ("market_definition", "2024-01-01"),
        ("market_ohlcv_1d", "2024-01-01"),
    }
    for p in partitions:
        assert p["records_in"] == p["loaded"] + p["quarantined"]
    fetched = sample_records(env, "definition", ["CL.FUT", "ES.FUT"])
    fetched += sample_records(env, "ohlcv-1d", ["CL.FUT", "ES.FUT"])
    loaded, held = warehouse_totals(env)
    assert sum(p["records_in"] for p in partitions) == summary["records_fetched"] == fetched
    assert summary["records_loaded"] == loaded and summary["records_quarantined"] == held
    finished = [line for line in lines if line["stage"] == "run_finished"]
    assert [f["job"] for f in finished] == ["market_definition", "market_ohlcv_1d"]
    assert all(f["success"] for f in finished)
    assert {r["run_id"] for r in summary["runs"]} == {f["run_id"] for f in finished}
    assert {r.run_id for r in runs_in(env, monkeypatch)} == {f["run_id"] for f in finished}


# ---- bad parameters -------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_parameter_is_one_line_exit_2_and_nothing_runs(cli, monkeypatch, case):
    done, env = cli[case]
    _, expected = BAD[case]
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Traceback" not in done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr  # exactly one line, nothing else on stderr
    assert lines[0].startswith("ingest: "), lines[0]
    for text in expected:
        assert text in lines[0], (text, lines[0])
    assert runs_in(env, monkeypatch) == []
    assert not Path(env["HEADWATER_WAREHOUSE"]).exists()


# ---- predefined jobs ------------------------------------------------------------------------


def test_list_jobs_shows_the_jobs_of_the_settings_file(cli):
    out = succeeded(cli["list_jobs"][0])
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == ["cl_january", "fred_january"]
    cl, fred = lines
    for text in ("databento", "ohlcv-1d", "CL.FUT", "2024-01-02", "2024-01-31", "CL daily bars"):
        assert text in cl, (text, cl)
    for text in ("fred", "2024-01-01", "2024-01-31", "FRED spot prices"):
        assert text in fred, (text, fred)


def test_list_jobs_json(cli):
    jobs = json.loads(succeeded(cli["list_jobs_json"][0]))
    assert set(jobs) == set(JOBS)
    for name, job in JOBS.items():
        for key, value in job.items():
            assert jobs[name][key] == value, (name, key)
    assert jobs["fred_january"].get("schema") is None


def test_ingest_job_runs_what_the_settings_file_defines(cli, monkeypatch):
    done, env = cli["job"]
    out = succeeded(done)
    runs = runs_in(env, monkeypatch)
    assert sorted(r.job_name for r in runs) == ["market_definition", "market_ohlcv_1d"]
    assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
    assert all(r.tags.get(TRIGGER[0]) == TRIGGER[1] for r in runs)
    assert query(env, "SELECT DISTINCT parent FROM staging.market_ohlcv_1d") == [("CL.FUT",)]
    assert query(env, "SELECT DISTINCT parent FROM staging.market_definition") == [("CL.FUT",)]
    assert number(out, "records fetched") == sample_records(env, "definition", ["CL.FUT"]) + (
        sample_records(env, "ohlcv-1d", ["CL.FUT"])
    )


# ---- other APIs, failures -------------------------------------------------------------------


def test_ingest_fred_runs_the_energy_job(cli, monkeypatch):
    done, env = cli["fred"]
    succeeded(done)
    [run] = runs_in(env, monkeypatch)
    assert run.job_name == "energy_fred_prices" and run.status == dg.DagsterRunStatus.SUCCESS
    assert run.tags.get(TRIGGER[0]) == TRIGGER[1]
    [(n, first, last)] = query(
        env, "SELECT count(*), min(price_date), max(price_date) FROM staging.fred_prices"
    )
    assert n > 0 and first >= date(2024, 1, 1) and last <= date(2024, 1, 31)


def test_a_failed_run_exits_1_with_one_line_naming_the_file(cli, monkeypatch):
    done, env = cli["truncated"]
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Traceback" not in done.stdout + done.stderr
    failed = [line for line in done.stderr.splitlines() if line.startswith("ingest:")]
    assert len(failed) == 1, done.stderr
    path = sample_data.sample_path(
        Path(env["HEADWATER_SAMPLE_DIR"]) / "market", "ohlcv-1d", *JANUARY, ["CL.FUT"]
    )
    line = failed[0]
    assert re.match(r"ingest: run \S+ \(market_ohlcv_1d\) failed: ", line), line
    assert path.name in line and "truncated" in line, line
    statuses = {r.job_name: r.status for r in runs_in(env, monkeypatch)}
    assert statuses == {
        "market_definition": dg.DagsterRunStatus.SUCCESS,
        "market_ohlcv_1d": dg.DagsterRunStatus.FAILURE,
    }
    assert "FAILED" in done.stdout
