"""`headwater simulate` end to end: dry run, a failed year, resume, bad input."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from assets.workforce.assets import table_key
from assets.workforce.stages import YEARLY_MODELS
from headwater import cli
from resources.warehouse import DuckDBWarehouse
from tests.workforce.conftest import write_config

SNAPSHOT = table_key("fct_workforce_snapshot")
HEADWATER = str(Path(sys.executable).parent / "headwater")


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("HEADWATER_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("HEADWATER_SAMPLE_DIR", str(tmp_path / "sample"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    config = write_config(tmp_path / "headwater.yaml", census={"sample_size": 200})
    return tmp_path, config


def _instance():
    return dg.DagsterInstance.get()


def test_dry_run_validates_and_runs_nothing(home, capsys):
    tmp_path, config = home
    code = cli.main(
        [
            "simulate",
            "--config",
            str(config),
            "--start-year",
            "2025",
            "--end-year",
            "2027",
            "--dry-run",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "dry run: nothing was run" in out
    assert "generated sample of 200 employees: 205 rows, 199 valid, 6 to quarantine" in out
    for line in [
        "2025  MISSING",
        "2026  MISSING",
        "2027  MISSING",
        "event_generation",
        "workforce_simulation [2025..2027]",
    ]:
        assert line in out
    assert not (tmp_path / "warehouse.duckdb").exists()
    with _instance() as instance:
        assert instance.get_run_records() == []


def test_bad_config_exits_naming_the_key(home, capsys):
    tmp_path, _ = home
    bad = write_config(tmp_path / "bad.yaml", target_growth_rate=7)
    assert cli.main(["simulate", "--config", str(bad), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "workforce.target_growth_rate" in err and "less than or equal to 1" in err


def test_years_outside_the_configured_range_are_refused(home, capsys):
    _, config = home
    assert cli.main(["simulate", "--config", str(config), "--end-year", "2031", "--dry-run"]) == 2
    assert "after workforce.end_year 2027" in capsys.readouterr().err


def test_user_census_file_with_bad_rows(home, capsys):
    tmp_path, config = home
    census = tmp_path / "census.csv"
    census.write_text(
        "employee_id,birth_date,hire_date,termination_date,gross_compensation\n"
        "A1,1980-01-01,2015-01-01,,70000\n"
        "A2,1985-06-01,2030-01-01,,70000\n"
        "A3,1985-06-01,2019-01-01,,-1\n"
    )
    code = cli.main(["simulate", "--config", str(config), "--census", str(census), "--dry-run"])
    assert code == 0
    assert "3 rows, 1 valid, 2 to quarantine {'W-R04': 1, 'W-R06': 1}" in capsys.readouterr().out


# The workforce README's example of another layout: the same columns, `employee_` names,
# plus columns the census does not use.
EMPLOYEE_LAYOUT = {
    "birth_date": "employee_birth_date",
    "hire_date": "employee_hire_date",
    "termination_date": "employee_termination_date",
    "gross_compensation": "employee_gross_compensation",
    "deferral_rate": "employee_deferral_rate",
}


def test_census_in_another_layout_through_the_column_mapping(home, capsys):
    tmp_path, _ = home
    config = write_config(
        tmp_path / "mapped.yaml",
        census={"sample_size": 200, "min_age_at_hire": 16, "columns": EMPLOYEE_LAYOUT},
    )
    census = tmp_path / "employees.csv"
    census.write_text(
        "employee_id,employee_ssn,employee_birth_date,employee_hire_date,"
        "employee_termination_date,employee_gross_compensation,employee_deferral_rate,active\n"
        "E1,000-00-0001,1980-01-01,2015-01-01,,70000,0.05,true\n"
        "E2,000-00-0002,1975-03-15,2001-06-01,2020-01-31,85000,0.00,false\n"
        "E3,000-00-0003,2090-01-01,2019-01-01,,60000,0.03,true\n"  # W-R09
        "E4,000-00-0004,2012-05-01,2011-01-01,,60000,0.03,true\n"  # W-R10
        "E5,000-00-0005,1999-01-01,2014-01-01,,60000,0.03,true\n"  # W-R11: 15 < 16
    )
    code = cli.main(["simulate", "--config", str(config), "--census", str(census), "--dry-run"])
    out = capsys.readouterr().out
    assert code == 0
    assert (
        f"census:     {census}: 5 rows, 2 valid, 3 to quarantine "
        "{'W-R09': 1, 'W-R10': 1, 'W-R11': 1}"
    ) in out
    # The same file without the mapping is refused, naming the file and the column.
    assert (
        cli.main(["simulate", "--config", str(home[1]), "--census", str(census), "--dry-run"]) == 2
    )
    err = capsys.readouterr().err
    assert str(census) in err and "no column(s) ['birth_date', 'hire_date'" in err


def _bad_census(root: Path, case: str) -> tuple[Path, Path, str]:
    """(census, settings, what the message must say) for one kind of file that is not a
    census."""
    config = write_config(root / "plain.yaml", census={"sample_size": 200})
    header = "employee_id,birth_date,hire_date,gross_compensation\n"
    row = "E1,1980-01-01,2010-01-01,70000\n"
    if case == "empty":
        (root / "empty.csv").write_text("")
        return root / "empty.csv", config, "is empty; expected a header row"
    if case == "header only":
        (root / "header_only.csv").write_text(header)
        return root / "header_only.csv", config, "has a header but no rows"
    if case == "directory":
        (root / "a_folder").mkdir()
        return root / "a_folder", config, "is a directory; expected a census .csv"
    if case == "other type":
        (root / "census.xlsx").write_bytes(b"PK\x03\x04\x14\x00\x06\x00")
        return root / "census.xlsx", config, "is a .xlsx file; expected a census .csv"
    if case == "not parquet":
        (root / "text.parquet").write_text(header + row)
        return root / "text.parquet", config, "is not a Parquet file"
    if case == "binary csv":
        (root / "binary.csv").write_bytes(b"\x00\x01\x02\x03\xff\xfe")
        return root / "binary.csv", config, "is not a CSV file (it is binary"
    if case == "missing":
        return root / "missing.csv", config, "no such file; expected a census .csv"
    assert case == "mapped column absent"
    mapped = write_config(
        root / "mapped.yaml", census={"sample_size": 200, "columns": {"employee_id": "emp_no"}}
    )
    (root / "good.csv").write_text(header + row)
    return (
        root / "good.csv",
        mapped,
        "no column 'emp_no', which workforce.census.columns.employee_id maps",
    )


BAD_CENSUS_CASES = [
    "empty",
    "header only",
    "directory",
    "other type",
    "not parquet",
    "binary csv",
    "missing",
    "mapped column absent",
]


@pytest.mark.parametrize("case", BAD_CENSUS_CASES)
def test_a_file_that_is_not_a_census_is_one_line_and_exit_2(home, capsys, case):
    census, config, expected = _bad_census(home[0], case)
    code = cli.main(["simulate", "--config", str(config), "--census", str(census), "--dry-run"])
    captured = capsys.readouterr()
    assert code == 2, captured.err
    (line,) = captured.err.splitlines()
    assert line.startswith(f"simulate: census: {census.resolve()}: ")
    assert expected in line
    assert "Traceback" not in captured.out + captured.err


@pytest.mark.parametrize("case", ["empty", "directory"])
def test_a_file_that_is_not_a_census_in_a_real_process(tmp_path, case):
    # As the issue saw it: the installed command, stderr as a user reads it.
    census, config, expected = _bad_census(tmp_path, case)
    env = os.environ | {
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "HEADWATER_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
        "HEADWATER_SAMPLE_DIR": str(tmp_path / "sample"),
    }
    done = subprocess.run(
        [HEADWATER, "simulate", "--config", str(config), "--census", str(census), "--dry-run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in done.stdout + done.stderr
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"simulate: census: {census.resolve()}: ") and expected in line


def test_failed_year_then_resume(home, capsys):
    tmp_path, config = home
    args = ["simulate", "--config", str(config), "--seed", "3"]
    # 2025 only
    assert cli.main([*args, "--start-year", "2025", "--end-year", "2025"]) == 0
    out = capsys.readouterr().out
    assert "year 2025 (1/1) done" in out and "ETA" in out
    # 2027 needs 2026, which is not done: the hint starts from 2026, not the done 2025.
    assert cli.main([*args, "--start-year", "2027", "--end-year", "2027"]) == 1
    assert "run year 2026 first (headwater simulate --start-year 2026 --end-year 2026)" in (
        capsys.readouterr().err
    )

    # Break 2025's end state for one employee: 2026 must stop at its checks, name the
    # employee, and not be recorded as materialized.
    wh = DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb"))
    (victim,) = (
        wh.query(
            "select min(employee_id) from workforce.fct_workforce_snapshot "
            "where simulation_year = 2025 and employment_status = 'active'"
        )
        .column(0)
        .to_pylist()
    )
    with wh.connect() as con:
        pay = con.execute(
            "select ending_compensation from workforce.fct_workforce_snapshot "
            "where simulation_year = 2025 and employee_id = ?",
            [victim],
        ).fetchone()[0]
        con.execute(
            "update workforce.fct_workforce_snapshot set ending_compensation = -1 "
            "where simulation_year = 2025 and employee_id = ?",
            [victim],
        )
    code = cli.main([*args, "--start-year", "2025", "--end-year", "2027", "--resume"])
    captured = capsys.readouterr()
    assert code == 1
    assert "FAILED at year 2026, stage checks" in captured.err
    assert "compensation_reasonable (W-C05)" in captured.err and victim in captured.err
    with _instance() as instance:
        assert instance.get_materialized_partitions(SNAPSHOT) == {"2025"}

    # Repair and resume: only 2026 and 2027 run, in one run.
    with wh.connect() as con:
        con.execute(
            "update workforce.fct_workforce_snapshot set ending_compensation = ? "
            "where simulation_year = 2025 and employee_id = ?",
            [pay, victim],
        )
    assert (
        cli.main([*args, "--start-year", "2025", "--end-year", "2027", "--resume", "--dry-run"])
        == 0
    )
    out = capsys.readouterr().out
    assert "2025  MATERIALIZED" in out and "2026  FAILED" in out
    assert cli.main([*args, "--start-year", "2025", "--end-year", "2027", "--resume"]) == 0
    out = capsys.readouterr().out
    assert (
        "workforce_simulation [2026..2027]" in out
        and "workforce_inputs" not in out.split("runs:")[1]
    )
    with _instance() as instance:
        assert instance.get_materialized_partitions(SNAPSHOT) == {"2025", "2026", "2027"}
        sims = instance.get_run_records(dg.RunsFilter(job_name="workforce_simulation"))
        assert len(sims) == 3  # 2025; 2026-2027 failed; 2026-2027 resumed
        # 2025 was not rerun by either resume
        assert (
            len(
                instance.fetch_materializations(
                    dg.AssetRecordsFilter(asset_key=SNAPSHOT, asset_partitions=["2025"]), limit=10
                ).records
            )
            == 1
        )
    assert cli.main([*args, "--resume"]) == 0
    assert "nothing to resume" in capsys.readouterr().out


def test_missing_prior_year_is_refused_before_running(home, capsys):
    _, config = home
    assert cli.main(["simulate", "--config", str(config), "--start-year", "2026"]) == 1
    assert "run year 2025 first" in capsys.readouterr().err
    with _instance() as instance:
        assert instance.get_run_records() == []


def test_resume_trusts_the_warehouse_too(home, capsys, monkeypatch):
    """The instance says 2025 is materialized, but the warehouse is a new, empty file:
    --resume runs the inputs and 2025 again, and the plan says why."""
    tmp_path, config = home
    args = ["simulate", "--config", str(config), "--start-year", "2025", "--end-year", "2025"]
    assert cli.main(args) == 0
    capsys.readouterr()

    monkeypatch.setenv("HEADWATER_WAREHOUSE", str(tmp_path / "new.duckdb"))
    assert cli.main([*args, "--resume", "--dry-run"]) == 0
    plan = capsys.readouterr().out
    assert "2025  NOT IN WH" in plan
    assert (
        f"materialized per the instance but missing from the warehouse {tmp_path / 'new.duckdb'}"
        in plan
    )
    assert "1. workforce_inputs" in plan

    assert cli.main([*args, "--resume"]) == 0
    assert "done: years 2025..2025" in capsys.readouterr().out
    stored = DuckDBWarehouse(path=str(tmp_path / "new.duckdb")).query(
        "select count(*) as n from workforce.fct_workforce_snapshot where simulation_year = 2025"
    )
    assert stored.column("n")[0].as_py() > 0


def test_a_failed_year_keeps_its_previous_rows_and_holds_the_new_ones(home, capsys):
    """Write, audit, publish for a year: 2026 was simulated; 2025's end state is then broken
    so that a rerun of 2026 fails a blocking check. 2026's previous rows stay as they were;
    what the failed build wrote is held in holding.workforce_<model>."""
    tmp_path, config = home
    args = ["simulate", "--config", str(config), "--seed", "3"]
    assert cli.main([*args, "--start-year", "2025", "--end-year", "2026"]) == 0
    capsys.readouterr()
    wh = DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb"))

    def year_rows(table, year):
        return sorted(
            map(repr, wh.query(f"select * from {table} where simulation_year = {year}").to_pylist())
        )

    before = {m: year_rows(f"workforce.{m}", 2026) for m in YEARLY_MODELS}
    assert before["fct_workforce_snapshot"]

    with wh.connect() as con:
        con.execute(
            "update workforce.fct_workforce_snapshot set ending_compensation = -1 where "
            "simulation_year = 2025 and employee_id = (select min(employee_id) from "
            "workforce.fct_workforce_snapshot where simulation_year = 2025 and "
            "employment_status = 'active')"
        )
    assert cli.main([*args, "--start-year", "2026", "--end-year", "2026"]) == 1
    err = capsys.readouterr().err
    assert "FAILED at year 2026, stage checks" in err
    assert "the year's previous rows are kept" in err and "holding.workforce_<model>" in err

    assert {m: year_rows(f"workforce.{m}", 2026) for m in YEARLY_MODELS} == before
    held = year_rows("holding.workforce_fct_workforce_snapshot", 2026)
    assert held and held != before["fct_workforce_snapshot"]  # the failed build's rows
    assert not table_exists_in(wh, "holding.workforce_fct_workforce_snapshot_previous")


def table_exists_in(wh, table):
    schema, name = table.split(".")
    found = wh.query(
        "select count(*) as n from information_schema.tables "
        f"where table_schema = '{schema}' and table_name = '{name}'"
    )
    return found.column("n")[0].as_py() > 0


def test_finished_years_are_the_stopped_runs_own_not_every_year_ever_materialized():
    """After Ctrl-C, `simulate` says which years the stopped run finished: an earlier
    simulation had materialized every year, and the line said all five were finished."""
    from headwater.cli.simulate import _finished

    key = table_key("fct_workforce_snapshot")
    years = [2025, 2026, 2027, 2028, 2029]
    partitions = dg.StaticPartitionsDefinition([str(y) for y in years])

    @dg.asset(key=key, partitions_def=partitions)
    def snapshot(context):
        return None

    with dg.DagsterInstance.ephemeral() as instance:
        for year in years:  # the earlier, complete simulation
            instance.report_runless_asset_event(dg.AssetMaterialization(key, partition=str(year)))
        runs = [
            dg.materialize([snapshot], instance=instance, partition_key=str(year))
            for year in (2025, 2026)
        ]
        assert _finished(instance, runs[1].run_id, years) == [2026]
        assert _finished(instance, runs[0].run_id, years) == [2025]
