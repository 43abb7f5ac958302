"""Prospects on the distributed profile (HEADWATER_PROFILE=distributed): the demo's
prospects plan - the five sources and the reconciliation for one draft year, the
materialized views (dbt, postgres target), today's snapshot - run on two `headwater
worker` processes against PostgreSQL gives the embedded profile's tables (DuckDB, in
process) row for row, on the same sample files."""

from pathlib import Path

import pytest

from assets.prospects.config import SOURCES
from assets.prospects.definitions import DEMO_PLAN
from assets.prospects.staging import CONFIG
from tests.distributed.compare import (
    compare_tables,
    run_plan,
    warehouse_tables,
)

# The demo's plan with one draft year instead of all of them (the test stays near a minute).
YEAR = CONFIG.partition_keys[-1]
REFRESH = "prospects_refresh"
PROSPECTS_PLAN = [
    (job, (YEAR, YEAR) if job == REFRESH else partitions) for job, partitions in DEMO_PLAN
]
SCHEMAS = ("staging", "quarantine", "canonical", "snapshots", "prospects_marts")


def _prospects(table: str) -> bool:
    schema, name = table.split(".")
    return (
        schema in ("snapshots", "prospects_marts")
        or name.startswith("prospect")
        or name == "reconciliation_conflicts"
    )


@pytest.mark.timeout(900)
def test_prospects_on_the_distributed_profile_give_the_embedded_tables(cluster):
    assert [job for job, _ in PROSPECTS_PLAN] == [
        REFRESH,
        "prospects_marts_refresh",
        "prospects_snapshot",
    ]
    distributed = run_plan(cluster["env"], PROSPECTS_PLAN)
    assert [(job, ok) for job, _, ok, _ in distributed] == [(j, True) for j, _ in PROSPECTS_PLAN]
    # The five staging steps went to the workers, and both took some.
    assert set().union(*(set(w) for *_, w in distributed)) == {"w1@test", "w2@test"}

    embedded = run_plan(cluster["embedded"], PROSPECTS_PLAN)
    assert [(job, ok) for job, _, ok, _ in embedded] == [(j, True) for j, _ in PROSPECTS_PLAN]

    duck = Path(cluster["embedded"]["HEADWATER_WAREHOUSE"])
    tables = [t for t in warehouse_tables(duck, SCHEMAS) if _prospects(t)]
    expected_tables = {
        *(f"{layer}.prospects_{s}" for layer in ("staging", "quarantine") for s in SOURCES),
        "staging.prospects_extractions",
        *(
            f"canonical.{t}"
            for t in (
                "prospect_core",
                "prospect_measurements",
                "prospect_college_stats",
                "prospect_grades",
                "prospect_injuries",
                "reconciliation_conflicts",
                "prospect_review",
            )
        ),
        "snapshots.prospects_history",
        "snapshots.prospects_changes",
        "prospects_marts.mv_position_benchmarks",
        "prospects_marts.mv_position_statistics",
        "prospects_marts.mv_prospect_quality_scores",
    }
    assert set(tables) == expected_tables
    # Every column is compared: the two runs read the same sample files (same paths, hashes
    # and extraction ids), take the snapshot on the same day, and no table has a load time.
    compared = compare_tables(duck, cluster["env"]["HEADWATER_WAREHOUSE_DB"], tables)
    assert compared["canonical.prospect_core"] > 500
    assert compared["snapshots.prospects_history"] == compared["canonical.prospect_core"]
    # The first snapshot: every prospect is new.
    assert compared["snapshots.prospects_changes"] == compared["canonical.prospect_core"]
    assert compared["prospects_marts.mv_prospect_quality_scores"] > 500
    assert sum(compared[t] for t in compared if t.startswith("quarantine.")) > 0
    assert sum(compared.values()) > 10_000
