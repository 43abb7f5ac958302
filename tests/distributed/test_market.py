"""Market on the distributed profile (HEADWATER_PROFILE=distributed): the market part of the
demo plan (assets/market/definitions.py DEMO_PLAN: the daily-close schemas of some months,
the intraday schemas of some days, then the marts), on two workers against PostgreSQL,
gives the same staging, canonical, quarantine and mart tables, row for row, as the
embedded profile (DuckDB, in process) on the same sample data."""

import subprocess
from pathlib import Path

import pytest

from assets.market.definitions import DEMO_PLAN
from tests.conftest import REPO_ROOT
from tests.distributed.compare import (
    BIN,
    compare_tables,
    duckdb_rows,
    postgres_rows,
    run_plan,
    same_rows,
    warehouse_tables,
)

# DEMO_PLAN's jobs on a short range: a month of definitions, daily bars and statistics, a
# day of one-minute bars and trades in it, then the marts.
MARKET_PLAN = [
    ("market_daily_close", ("2026-11-01", "2026-11-01")),
    ("market_intraday", ("2026-11-02", "2026-11-02")),
    ("market_marts_refresh", None),
]
SCHEMAS = ("staging", "canonical", "quarantine", "marts")


def test_the_plan_is_the_demo_plans_jobs():
    assert [job for job, _ in MARKET_PLAN] == [job for job, _ in DEMO_PLAN]


@pytest.mark.timeout(600)
def test_market_on_the_distributed_profile_gives_the_embedded_tables(cluster):
    distributed = run_plan(cluster["env"], MARKET_PLAN)
    assert [(job, ok) for job, _, ok, _ in distributed] == [(j, True) for j, _ in MARKET_PLAN]
    # Every run's steps went to the test's workers.
    for job, _, _, workers in distributed:
        assert workers and set(workers) <= {"w1@test", "w2@test"}, (job, workers)

    embedded = run_plan(cluster["embedded"], MARKET_PLAN)
    assert [(job, ok) for job, _, ok, _ in embedded] == [(j, True) for j, _ in MARKET_PLAN]

    duck = Path(cluster["embedded"]["HEADWATER_WAREHOUSE"])
    tables = [t for t in warehouse_tables(duck, SCHEMAS) if t.split(".")[1].startswith("market_")]
    expected_tables = {
        *(f"{layer}.market_{name}" for layer in ("staging", "canonical", "quarantine")
          for name in ("definition", "ohlcv_1d", "statistics", "ohlcv_1m", "trades")),
        "marts.market_instruments",
        "marts.market_contract_settlements",
        "marts.market_front_month_daily",
    }  # fmt: skip
    assert set(tables) == expected_tables
    compared = compare_tables(duck, cluster["env"]["HEADWATER_WAREHOUSE_DB"], tables)
    # Every loaded table and mart has rows; the sample's dirt is in quarantine (a month of
    # one parent's daily bars is too small a file for dirt: it may have none).
    empty = sorted(t for t, n in compared.items() if n == 0 and not t.startswith("quarantine."))
    assert not empty, (empty, compared)
    assert compared["quarantine.market_trades"] > 0 and compared["quarantine.market_statistics"] > 0
    assert compared["canonical.market_trades"] > 1000, compared
    assert compared["marts.market_front_month_daily"] >= 3 * 15, compared
    assert sum(compared.values()) > 10_000, compared

    # The other roll rule, on the tables just loaded: the front-month series again, by days
    # before expiry, on both engines (dbt run by hand, as the marts step would run it).
    front = "marts.market_front_month_daily"
    work = cluster["work"]
    _build_front_month(cluster["embedded"] | {"HEADWATER_DBT_TARGET": "duckdb"}, work / "duck")
    _build_front_month(
        cluster["env"] | {"HEADWATER_DBT_TARGET": "postgres", "PGTZ": "UTC"}, work / "pg"
    )
    names, expected = duckdb_rows(duck, front)
    got = postgres_rows(cluster["env"]["HEADWATER_WAREHOUSE_DB"], front, names)
    assert same_rows(got, expected), f"{front}: {len(got)} rows vs {len(expected)} embedded"
    rule = names.index("roll_rule")
    assert len(expected) >= 3 * 15 and {row[rule] for row in expected} == {"days_before_expiry"}


def _build_front_month(env: dict, target: Path) -> None:
    """dbt build of the front-month mart (and its tests) with the days_before_expiry rule,
    its target and logs apart from the project's (whose manifest `make` depends on)."""
    done = subprocess.run(
        [str(BIN / "dbt"), "build", "--select", "market_front_month_daily",
         "--target-path", str(target), "--log-path", str(target)],
        cwd=REPO_ROOT / "dbt_project", capture_output=True, text=True, timeout=300,
        env=env | {"HEADWATER_MARKET_ROLL_METHOD": "days_before_expiry",
                   "HEADWATER_MARKET_ROLL_DAYS": "5"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
