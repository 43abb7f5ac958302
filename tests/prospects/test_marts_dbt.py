"""The prospects marts, built for real: `dbt build` of models/prospects on a small hand-built
canonical warehouse (12 prospects, WR and CB, 2023 and 2024, gaps and one conflict), each
asserted value computed by hand; then one broken row that a named dbt test must catch."""

import json
import os
import subprocess
from pathlib import Path

import duckdb
import pytest

from assets.prospects.reference import position_family
from headwater import settings
from tests.conftest import REPO_ROOT

DBT_PROJECT = REPO_ROOT / "dbt_project"
N_TESTS = 21  # P-M01 .. P-M21

CORE_COLUMNS = (
    "prospect_id varchar, draft_year bigint, name varchar, name_key varchar, position varchar, "
    "position_family varchar, school varchar, pfr_id varchar, cfb_id varchar, pff_id varchar, "
    "yahoo_id varchar, espn_id varchar, draft_team varchar, draft_round bigint, "
    "draft_pick bigint, sources varchar, n_sources bigint, source varchar, extraction_id varchar"
)
GRADE_COLUMNS = (
    "games",
    "grades_offense",
    "grades_defense",
    "grades_pass",
    "grades_run",
    "grades_pass_block",
    "grades_run_block",
    "grades_pass_rush",
    "grades_run_defense",
    "grades_coverage",
    "grades_tackle",
)


def core_row(pid, year, position, sources, school="USC", cfb_id="", **ids):
    """A prospect_core row; cfb_id defaults to one derived from the id, None = missing."""
    family = position_family(position)
    name = f"Player {pid.upper()}"
    cfb = f"{pid}-{year % 100}" if cfb_id == "" else cfb_id
    return (
        pid, year, name, name.lower().replace(" ", "-"), position, family, school,
        ids.get("pfr_id"), cfb, ids.get("pff_id"), ids.get("yahoo_id"), ids.get("espn_id"),
        None, None, None, sources, len(sources.split(",")), "nfl", "x1",
    )  # fmt: skip


CORE = [
    # w1 has everything a WR is expected to have; w2 misses cfb_id, most drills, grades and
    # two stats, and its sources disagreed on height and weight.
    core_row("w1", 2023, "WR", "cfr,nfl,pff,yahoo,espn", pfr_id="W1", pff_id="1", yahoo_id="y1", espn_id="e1"),
    core_row("w2", 2023, "WR", "nfl,yahoo", cfb_id=None, pfr_id="W2", yahoo_id="y2"),
    core_row("w3", 2023, "WR", "cfr,nfl,pff", pff_id="3"),
    core_row("w4", 2024, "WR", "cfr,nfl,pff", pff_id="4"),
    core_row("w5", 2024, "WR", "nfl,pff", pff_id="5"),
    core_row("w6", 2024, "WR", "nfl"),
    core_row("c1", 2023, "CB", "cfr,nfl,pff", pff_id="11"),
    core_row("c2", 2023, "CB", "nfl,pff,espn", pff_id="12", espn_id="e12"),
    core_row("c3", 2023, "CB", "nfl"),
    core_row("c4", 2024, "CB", "nfl,pff,espn", pff_id="14", espn_id="e14"),
    # a blank school is a missing school
    core_row("c5", 2024, "CB", "nfl", school=" "),
    core_row("c6", 2024, "CB", "nfl,pff", pff_id="16"),
]  # fmt: skip

FULL_COMBINE = {"bench": 14, "vertical": 36.0, "broad_jump": 124, "cone": 6.9, "shuttle": 4.2}
MEASUREMENTS = {  # (height_in, weight_lb, forty) and any further drills
    "w1": (72, 200, 4.40, FULL_COMBINE),
    "w2": (73, 190, 4.50, {}),
    "w3": (71, 195, 4.60, {"vertical": 35.5, "broad_jump": 120}),
    "w4": (74, 205, 4.45, {"bench": 12, "cone": 7.0, "shuttle": 4.25}),
    "w5": (70, 185, 4.55, {}),
    "w6": (72, 210, None, {}),  # a forty row without a value: not a measurement
    "c1": (70, 185, 4.38, FULL_COMBINE),
    "c2": (71, 190, 4.42, {}),
    "c3": (72, 195, 4.50, {}),
    "c4": (73, 188, 4.46, {}),
    "c5": (69, 180, None, {}),
    "c6": (71, 192, 4.52, {}),
}
STATS = {
    "w1": {"games": 12, "rec": 60, "rec_yds": 800, "rec_avg": 13.3, "rec_td": 7},
    "w2": {"games": 11, "rec": 40, "rec_yds": 500},
    "w4": {"games": 13, "rec": 50, "rec_yds": 600, "rec_avg": 12.0, "rec_td": 5},
    "w5": {"games": 10},
    "c1": {"games": 12},  # a CB is not expected to have stats; this one has games
}
GRADES = {  # the overall grade is the offense grade, or the defense grade for a CB
    "w1": {"games": 12, "grades_offense": 80.0},
    "w3": {"games": 11, "grades_offense": 70.0},
    "w4": {"games": 13, "grades_offense": 88.0},
    "w5": {"games": 9},  # a grades row without a grade: not graded
    "c1": {"games": 12, "grades_defense": 75.0, "grades_coverage": 72.0, "grades_tackle": 70.0},
    "c2": {"games": 10, "grades_defense": 65.0},
    "c4": {"games": 12, "grades_defense": 85.0},
    "c6": {"games": 10},
}
INJURIES = [("w1", "r1"), ("w1", "r2"), ("c2", "r3"), ("c4", "r4")]
CONFLICTS = [("w2", "height_in", "73", "nfl"), ("w2", "weight_lb", "190", "nfl")]


def write_canonical(path: Path, extra_core: tuple = ()) -> None:
    years = {row[0]: row[1] for row in CORE}
    with duckdb.connect(str(path)) as con:
        con.execute("create schema canonical")
        con.execute(f"create table canonical.prospect_core ({CORE_COLUMNS})")
        con.executemany(
            f"insert into canonical.prospect_core values ({', '.join('?' * 19)})",
            [*CORE, *extra_core],
        )
        con.execute(
            "create table canonical.prospect_measurements (prospect_id varchar, "
            "draft_year bigint, measurement varchar, value double, source varchar, "
            "extraction_id varchar)"
        )
        rows = []
        for pid, (height, weight, forty, drills) in MEASUREMENTS.items():
            values = {"height_in": height, "weight_lb": weight, "forty": forty} | drills
            rows += [(pid, years[pid], m, v, "nfl", "x1") for m, v in values.items()]
        con.executemany(
            "insert into canonical.prospect_measurements values (?, ?, ?, ?, ?, ?)", rows
        )
        con.execute(
            "create table canonical.prospect_college_stats (prospect_id varchar, "
            "draft_year bigint, stat varchar, value double, source varchar, extraction_id varchar)"
        )
        rows = [(p, years[p], s, v, "cfr", "x1") for p, st in STATS.items() for s, v in st.items()]
        con.executemany(
            "insert into canonical.prospect_college_stats values (?, ?, ?, ?, ?, ?)", rows
        )
        con.execute(
            "create table canonical.prospect_grades (prospect_id varchar, draft_year bigint, "
            + "".join(f"{c} double, " for c in GRADE_COLUMNS)
            + "source varchar, extraction_id varchar)"
        )
        rows = [
            (p, years[p], *(g.get(c) for c in GRADE_COLUMNS), "pff", "x1")
            for p, g in GRADES.items()
        ]
        con.executemany(
            f"insert into canonical.prospect_grades values ({', '.join('?' * 15)})", rows
        )
        con.execute(
            "create table canonical.prospect_injuries (prospect_id varchar, draft_year bigint, "
            "report_id varchar, reported_at timestamptz, status varchar, injury varchar, "
            "return_date date, source varchar, extraction_id varchar)"
        )
        rows = [
            (p, years[p], r, "2024-02-20 17:00:00+00", "Questionable", "Knee", None, "espn", "x1")
            for p, r in INJURIES
        ]
        con.executemany(
            "insert into canonical.prospect_injuries values (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
        )
        con.execute(
            "create table canonical.reconciliation_conflicts (prospect_id varchar, "
            "draft_year bigint, field varchar, values varchar, winner varchar, "
            "winning_value varchar, rule varchar)"
        )
        rows = [
            (p, years[p], f, json.dumps({"nfl": v, "yahoo": "x"}), w, v, "R-1")
            for p, f, v, w in CONFLICTS
        ]
        con.executemany(
            "insert into canonical.reconciliation_conflicts values (?, ?, ?, ?, ?, ?, ?)", rows
        )


def dbt_build(warehouse: Path, work: Path) -> dict[str, str]:
    """`dbt build` of the prospects folder against `warehouse`; node name -> status. The
    target and log paths are the test's own, so dbt_project/target is left alone."""
    done = subprocess.run(
        [
            str(settings.dbt_executable()),
            "build",
            "--select",
            "path:models/prospects",
            "--project-dir",
            str(DBT_PROJECT),
            "--profiles-dir",
            str(DBT_PROJECT),
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
        ],
        env=os.environ
        | {"HEADWATER_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        capture_output=True,
        text=True,
        timeout=180,
    )
    results_file = work / "target" / "run_results.json"
    assert results_file.exists(), done.stdout + done.stderr
    results = json.loads(results_file.read_text())["results"]
    return {r["unique_id"].split(".")[2]: r["status"] for r in results}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    work = tmp_path_factory.mktemp("prospects-marts")
    warehouse = work / "warehouse.duckdb"
    write_canonical(warehouse)
    statuses = dbt_build(warehouse, work)
    con = duckdb.connect(str(warehouse), read_only=True)
    yield statuses, con
    con.close()


def one(con, sql, *params):
    return con.execute(sql, list(params)).fetchone()


def test_the_build_runs_every_model_and_named_test(built):
    statuses, _ = built
    models = {k for k in statuses if k.startswith("mv_")}
    assert models == {
        "mv_position_benchmarks",
        "mv_prospect_quality_scores",
        "mv_position_statistics",
    }
    tests = {k: v for k, v in statuses.items() if k not in models}
    assert len(tests) == N_TESTS
    assert {
        "core_unique_prospect",
        "benchmarks_quantiles_ordered",
        "quality_scores_in_unit_range",
    } <= set(tests)
    assert set(statuses.values()) <= {"success", "pass"}, statuses


def test_benchmark_percentiles_are_interpolated(built):
    _, con = built
    # WR forty, sorted 4.40 4.45 4.50 4.55 4.60 (w6's null left out): p10 sits 0.4 of
    # the way from 4.40 to 4.45.
    n, p10, p25, p50, p90, mean, stddev = one(
        con,
        "select n, p10, p25, p50, p90, mean, stddev from prospects_marts.mv_position_benchmarks "
        "where position = 'WR' and measurement = 'forty'",
    )
    assert n == 5
    assert p10 == pytest.approx(4.42)
    assert (p25, p50, p90) == pytest.approx((4.45, 4.50, 4.58))
    assert mean == pytest.approx(4.50)
    assert stddev == pytest.approx((0.025 / 4) ** 0.5)
    # One row per position and measurement seen: WR and CB each have all eight.
    assert one(con, "select count(*) from prospects_marts.mv_position_benchmarks")[0] == 16


def test_completeness_counts_expected_fields_by_position(built):
    _, con = built
    row = con.execute(
        "select prospect_id, identity_completeness, measurement_completeness, "
        "grades_completeness, stats_completeness, fields_present, fields_expected, completeness "
        "from prospects_marts.mv_prospect_quality_scores order by prospect_id"
    ).fetchall()
    by_id = {r[0]: r[1:] for r in row}
    assert len(by_id) == 12
    # w2 (WR): identity 3/4 (no cfb_id), drills 3/8, no grade 0/1, stats 3/5 -> 9/18.
    assert by_id["w2"] == pytest.approx((0.75, 3 / 8, 0.0, 0.6, 9, 18, 0.5))
    # w1 has all 4 + 8 + 1 + 5.
    assert by_id["w1"][-1] == 1.0
    # c5 (CB): blank school 3/4, height and weight 2/8, no grade, no stats expected -> 5/13.
    assert by_id["c5"][:3] == pytest.approx((0.75, 0.25, 0.0))
    assert by_id["c5"][3] is None
    assert by_id["c5"][4:] == pytest.approx((5, 13, 5 / 13))
    # w5's grades row has no grade: not graded.
    assert by_id["w5"][2] == 0.0


def test_consistency_is_one_minus_conflicts_over_fields_compared(built):
    _, con = built
    rows = con.execute(
        "select prospect_id, n_conflicts, fields_compared, consistency, quality_score "
        "from prospects_marts.mv_prospect_quality_scores"
    ).fetchall()
    by_id = {r[0]: r[1:] for r in rows}
    # w2 compared: name, position, school, pfr_id, yahoo_id; height_in, weight_lb, forty;
    # games, rec, rec_yds = 11 fields, 2 in conflict.
    n_conflicts, compared, consistency, score = by_id["w2"]
    assert (n_conflicts, compared) == (2, 11)
    assert consistency == pytest.approx(9 / 11)
    assert score == pytest.approx(0.6 * 0.5 + 0.4 * 9 / 11)
    assert all(r[2] == 1.0 for pid, r in by_id.items() if pid != "w2")


def test_position_statistics_are_class_means(built):
    _, con = built
    rows = con.execute(
        "select position, draft_year, prospects, height_in_mean, weight_lb_mean, forty_mean, "
        "forty_stddev, pff_grade_mean, injured_share, n_sources_mean "
        "from prospects_marts.mv_position_statistics order by position, draft_year"
    ).fetchall()
    stats = {(r[0], r[1]): r[2:] for r in rows}
    assert set(stats) == {("CB", 2023), ("CB", 2024), ("WR", 2023), ("WR", 2024)}
    # WR 2023: w1, w2, w3; graded w1 80 and w3 70; w1 injured; sources 5, 2, 3.
    assert stats[("WR", 2023)] == pytest.approx((3, 72.0, 195.0, 4.50, 0.1, 75.0, 1 / 3, 10 / 3))
    # CB 2024: c5 has no forty, c6's grades row no grade, so one of each is left out.
    prospects, _, _, forty, forty_sd, grade, injured, _ = stats[("CB", 2024)]
    assert (prospects, grade, injured) == pytest.approx((3, 85.0, 1 / 3))
    assert forty == pytest.approx(4.49)
    assert forty_sd == pytest.approx((2 * 0.03**2) ** 0.5)


def test_a_duplicate_prospect_fails_its_named_test(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    write_canonical(warehouse, extra_core=(CORE[0],))
    statuses = dbt_build(warehouse, tmp_path)
    # P-M01, and only it: a duplicate is not mistaken for another kind of damage
    assert {name for name, status in statuses.items() if status == "fail"} == {
        "core_unique_prospect"
    }
    # the source failed an ERROR test, so nothing downstream of it was built
    assert {
        statuses[m]
        for m in ("mv_position_benchmarks", "mv_prospect_quality_scores", "mv_position_statistics")
    } == {"skipped"}


def test_the_positions_of_real_drafts_pass_the_named_tests(tmp_path):
    """Long snappers (eight in the real 2021 and 2022 combine classes) and athletes are
    known positions: core_position_known and core_family_known failed the run on them. PFF
    grades no long snapper, so none is expected of one."""
    warehouse = tmp_path / "warehouse.duckdb"
    extra = (core_row("l1", 2023, "LS", "nfl"), core_row("a1", 2024, "ATH", "nfl"))
    write_canonical(warehouse, extra_core=extra)
    statuses = dbt_build(warehouse, tmp_path)
    assert set(statuses.values()) <= {"success", "pass"}, statuses
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert one(
            con,
            "select position_family, grades_completeness from "
            "prospects_marts.mv_prospect_quality_scores where prospect_id = 'l1'",
        ) == ("ST", None)
    finally:
        con.close()
