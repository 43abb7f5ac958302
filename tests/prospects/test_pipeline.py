"""The prospects domain end to end in process, on sample data: staging, reconciliation,
canonical tables and their checks, idempotency, the failure modes and snapshots."""

from datetime import date

import dagster as dg
import duckdb
import pytest

from assets.prospects import daily, snapshots
from assets.prospects.canonical import TABLES, prospects_reconcile
from assets.prospects.config import SOURCES
from assets.prospects.sources import ProspectSource
from assets.prospects.staging import PARTIAL_TAG, staging_assets
from resources.warehouse import DuckDBWarehouse

YEARS = ("2024", "2025")
ASSETS = [*staging_assets, prospects_reconcile]


def resources(warehouse, sample_dir, **overrides):
    out = {
        "warehouse": DuckDBWarehouse(path=str(warehouse)),
        **{f"prospects_{s}": ProspectSource(source=s, sample_dir=str(sample_dir)) for s in SOURCES},
    }
    return out | overrides


def refresh(warehouse, sample_dir, years=YEARS, tags=None, instance=None, **overrides):
    return dg.materialize(
        ASSETS,
        resources=resources(warehouse, sample_dir, **overrides),
        tags={
            "dagster/asset_partition_range_start": years[0],
            "dagster/asset_partition_range_end": years[-1],
            **(tags or {}),
        },
        raise_on_error=False,
        instance=instance,
    )


def rows(warehouse, sql, params=None):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def tables_now(warehouse) -> dict:
    names = [f"canonical.{t}" for t in TABLES] + [f"staging.prospects_{s}" for s in SOURCES]
    names += [f"quarantine.prospects_{s}" for s in SOURCES] + ["staging.prospects_extractions"]
    return {n: sorted(map(repr, rows(warehouse, f"SELECT * FROM {n}"))) for n in names}


def checks(result) -> dict[str, tuple[bool, str]]:
    return {
        e.check_name: (e.passed, e.severity.value) for e in result.get_asset_check_evaluations()
    }


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, session_dir):
    tmp = tmp_path_factory.mktemp("prospects")
    warehouse, sample = tmp / "wh.duckdb", session_dir / "sample" / "prospects"
    result = refresh(warehouse, sample)
    assert result.success
    return warehouse, sample, result


def test_rows_in_equal_loaded_plus_quarantined_for_every_source_and_year(loaded):
    warehouse, _, result = loaded
    log = rows(
        warehouse,
        "SELECT source, draft_year, rows_in, rows_loaded, rows_quarantined, extraction_id, "
        "location FROM staging.prospects_extractions ORDER BY 1, 2",
    )
    assert len(log) == len(SOURCES) * len(YEARS)
    for source, year, rows_in, loaded_n, quarantined, extraction, location in log:
        [(staged,)] = rows(
            warehouse,
            f"SELECT count(*) FROM staging.prospects_{source} WHERE draft_year = ?",
            [year],
        )
        [(held,)] = rows(
            warehouse,
            f"SELECT count(*) FROM quarantine.prospects_{source} WHERE draft_year = ?",
            [year],
        )
        assert (staged, held) == (loaded_n, quarantined) and rows_in == staged + held > 0
        assert extraction.startswith(f"{source}-{year}-") and str(year) in location
    # The quarantine keeps rule, reason and the raw record.
    [(rule, reason, raw)] = rows(
        warehouse,
        "SELECT rule_id, reason, raw_record FROM quarantine.prospects_nfl "
        "WHERE draft_year = 2024 AND raw_record LIKE '%DNP%'",
    )
    assert rule == "P-R03" and "bench" in reason and '"DNP"' in raw


def test_every_staging_row_is_linked_to_a_prospect_or_in_review(loaded):
    warehouse, _, _ = loaded
    [(staged,)] = rows(
        warehouse,
        " + ".join(f"(SELECT count(*) FROM staging.prospects_{s})" for s in SOURCES).join(
            ["SELECT ", ""]
        ),
    )
    [(prospects, unique)] = rows(
        warehouse, "SELECT count(*), count(DISTINCT prospect_id) FROM canonical.prospect_core"
    )
    assert prospects == unique > 5000
    assert staged > prospects


def test_specimens_come_out_right(loaded):
    warehouse, _, _ = loaded
    walker = rows(
        warehouse,
        "SELECT name, sources, school FROM canonical.prospect_core "
        "WHERE draft_year = 2024 AND name_key = 'dj walker'",
    )
    assert walker == [("D.J. Walker", "cfr,espn,nfl,pff,yahoo", "Ohio State")]
    jones = rows(
        warehouse,
        "SELECT position, school FROM canonical.prospect_core "
        "WHERE draft_year = 2024 AND name_key = 'chris jones' ORDER BY position",
    )
    assert ("DT", "LSU") in jones and ("S", "Utah") in jones
    [(pid, height, source)] = rows(
        warehouse,
        "SELECT c.prospect_id, m.value, m.source FROM canonical.prospect_core c "
        "JOIN canonical.prospect_measurements m USING (prospect_id) "
        "WHERE c.draft_year = 2024 AND c.name_key = 'brandon keel' AND m.measurement = 'height_in'",
    )
    assert (height, source) == (73, "nfl")  # NFL.com outranks Yahoo's 6' 3"
    [(values, winner, rule)] = rows(
        warehouse,
        'SELECT "values", winner, rule FROM canonical.reconciliation_conflicts '
        "WHERE prospect_id = ? AND field = 'height_in'",
        [pid],
    )
    assert winner == "nfl" and '"yahoo": 75' in values and rule.startswith("measurements")
    # Lineage: the winning source's extraction is the one staging holds.
    [(extraction,)] = rows(
        warehouse, "SELECT extraction_id FROM canonical.prospect_core WHERE prospect_id = ?", [pid]
    )
    assert rows(
        warehouse,
        "SELECT 1 FROM staging.prospects_extractions WHERE extraction_id = ?",
        [extraction],
    )


def test_quality_rules_report_with_their_severity(loaded):
    _, _, result = loaded
    outcome = checks(result)
    assert outcome["unique_prospect_id"] == (True, "ERROR")
    # The sample's sources call edge rushers EDGE, ED, DE, OLB, and LB where the source has
    # no EDGE (ESPN, Yahoo): vocabularies, not disagreements, so P-Q02 passes (it warned on
    # every edge rusher); a real disagreement is tests/prospects/test_reconcile.py's.
    assert outcome["positions_consistent"] == (True, "WARN")
    assert outcome["loaded_share"][0] and outcome["refreshed"][0]
    [evaluation] = [
        e for e in result.get_asset_check_evaluations() if e.check_name == "positions_consistent"
    ]
    assert evaluation.metadata["failing_rows"].value == 0


def test_the_same_years_again_leave_the_same_tables(loaded, tmp_path):
    warehouse, sample, _ = loaded
    before = tables_now(warehouse)
    assert refresh(warehouse, sample).success
    assert tables_now(warehouse) == before


def test_fail_fast_stops_reconciliation_when_a_source_fails(loaded, tmp_path):
    warehouse = tmp_path / "wh.duckdb"
    _, sample, _ = loaded
    broken = ProspectSource(
        source="espn", mode="live", url="http://127.0.0.1:9/injuries_{year}.json", max_retries=0
    )
    result = refresh(warehouse, sample, years=("2024",), prospects_espn=broken)
    assert not result.success
    # The step is retried (SOURCE_RETRY: twice) before the run gives up on it.
    retried = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert [e.step_key for e in retried] == ["staging__prospects_espn"] * 2
    failed = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert [e.step_key for e in failed] == ["staging__prospects_espn"]
    # After the retries Dagster's own line is "Exceeded max_retries of 2"; the step's
    # failure (the URL it could not reach) is kept with it.
    assert "127.0.0.1:9/injuries_2024.json" in (
        failed[0].step_failure_data.user_failure_data.description
    )
    materialized = {e.asset_key.path[-1] for e in result.get_asset_materialization_events()}
    assert "prospect_core" not in materialized


def test_partial_success_keeps_the_last_good_staging_and_goes_on(loaded, tmp_path):
    warehouse, sample, _ = loaded
    before = rows(warehouse, "SELECT * FROM staging.prospects_espn ORDER BY origin")
    broken = ProspectSource(
        source="espn", mode="live", url="http://127.0.0.1:9/injuries_{year}.json", max_retries=0
    )
    instance = dg.DagsterInstance.ephemeral()
    result = refresh(
        warehouse,
        sample,
        years=("2024",),
        tags={"headwater/failure_mode": "partial"},
        instance=instance,
        prospects_espn=broken,
    )
    assert result.success
    assert instance.get_run_by_id(result.run_id).tags[PARTIAL_TAG] == "true"
    refreshed = [
        e
        for e in result.get_asset_check_evaluations()
        if e.check_name == "refreshed" and e.asset_key.path[-1] == "prospects_espn"
    ]
    assert [(e.passed, e.severity.value) for e in refreshed] == [(False, "ERROR")]
    assert "kept the last good load espn-2024-" in refreshed[0].metadata["not_refreshed"].value
    assert rows(warehouse, "SELECT * FROM staging.prospects_espn ORDER BY origin") == before
    materialized = {e.asset_key.path[-1] for e in result.get_asset_materialization_events()}
    assert "prospect_core" in materialized


def test_snapshot_change_report_across_two_days(loaded, tmp_path, monkeypatch):
    warehouse, sample, _ = loaded
    archive = tmp_path / "archive"
    object.__setattr__(daily.CONFIG, "archive", archive)
    wh = DuckDBWarehouse(path=str(warehouse))

    def snapshot_on(day: date):
        monkeypatch.setattr(snapshots, "today", lambda tz: day)
        result = dg.materialize(
            [daily.prospects_snapshot],
            partition_key=day.isoformat(),
            resources={"warehouse": wh},
        )
        [event] = result.get_asset_materialization_events()
        return event.materialization.metadata

    try:
        first = snapshot_on(date(2026, 3, 1))
        assert first["new"].value == first["dagster/row_count"].value > 5000
        # Overnight: one prospect's injury status changes, one prospect leaves the table.
        with wh.connect() as con:
            [(pid,)] = con.execute(
                "SELECT prospect_id FROM canonical.prospect_injuries ORDER BY prospect_id LIMIT 1"
            ).fetchall()
            con.execute(
                "INSERT INTO canonical.prospect_injuries SELECT prospect_id, draft_year, "
                "report_id || '-x', reported_at + INTERVAL 30 DAY, 'Injured Reserve', injury, "
                "return_date, source, extraction_id FROM canonical.prospect_injuries "
                "WHERE prospect_id = ? ORDER BY reported_at DESC LIMIT 1",
                [pid],
            )
            [(gone,)] = con.execute(
                "SELECT max(prospect_id) FROM canonical.prospect_core"
            ).fetchall()
            con.execute("DELETE FROM canonical.prospect_core WHERE prospect_id = ?", [gone])
        second = snapshot_on(date(2026, 3, 2))
        assert (second["new"].value, second["removed"].value) == (0, 1)
        assert second["changed_fields"].value == 1
        assert second["previous_snapshot"].value == "2026-03-01"
        changes = rows(
            warehouse,
            "SELECT change, prospect_id, field, new_value FROM snapshots.prospects_changes "
            "WHERE snapshot_date = '2026-03-02' ORDER BY change",
        )
        assert changes == [
            ("changed", pid, "injury_status", "Injured Reserve"),
            ("removed", gone, None, None),
        ]
        assert sorted(p.name for p in archive.iterdir()) == [
            "prospects_2026-03-01.parquet",
            "prospects_2026-03-02.parquet",
        ]
        # A past day cannot be taken: the snapshot records now.
        monkeypatch.setattr(snapshots, "today", lambda tz: date(2026, 3, 3))
        past = dg.materialize(
            [daily.prospects_snapshot],
            partition_key="2026-03-02",
            resources={"warehouse": wh},
            raise_on_error=False,
        )
        assert not past.success
        [failure] = [e for e in past.all_events if e.event_type_value == "STEP_FAILURE"]
        assert "only today's partition (2026-03-03" in failure.step_failure_data.error.message
    finally:
        with wh.connect() as con:  # leave the shared tables as the other tests expect
            con.execute("DELETE FROM snapshots.prospects_history")


def test_a_reversed_range_fails_every_step_at_once_in_one_line(tmp_path, session_dir):
    # Dagster gives a reversed range of static partitions (2025...2024) as no partition.
    said = (
        "the run has no draft year: the partition range 2025...2024 holds none (reversed? the "
        "earlier year goes first: 2024...2025)"
    )
    result = refresh(tmp_path / "wh.duckdb", session_dir / "sample" / "prospects", ("2025", "2024"))
    assert not result.success
    failed = {
        e.step_key: e.step_failure_data.user_failure_data
        for e in result.all_events
        if e.event_type_value == "STEP_FAILURE"
    }
    assert sorted(failed) == sorted(f"staging__prospects_{s}" for s in SOURCES)
    for step, failure in failed.items():
        assert failure.description.startswith(f"{step}: {said}")
        assert "\n" not in failure.description
    assert not result.get_asset_materialization_events()
    assert not [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    # Reconciliation on its own fails the same way, not with pandas' "No objects to concatenate".
    alone = dg.materialize(
        [prospects_reconcile],
        resources={"warehouse": DuckDBWarehouse(path=str(tmp_path / "wh.duckdb"))},
        tags={
            "dagster/asset_partition_range_start": "2025",
            "dagster/asset_partition_range_end": "2024",
        },
        raise_on_error=False,
    )
    [failure] = [e for e in alone.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure.step_failure_data.user_failure_data.description.startswith(
        f"prospects_reconcile: {said}"
    )
    retried = [e for e in alone.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert retried == []
