"""The snapshot change report, the zstd archive and the "only today" rule."""

from datetime import date, timedelta

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from assets.prospects import snapshots


def frame(rows):
    cols = ["prospect_id", "draft_year", "name", "position", "school", "forty", "injury_status"]
    return pd.DataFrame(rows, columns=cols)


DAY1 = frame(
    [
        ("P1", 2025, "DJ Walker", "RB", "Ohio State", 4.45, None),
        ("P2", 2025, "Chris Jones", "DT", "LSU", 5.01, "Questionable"),
        ("P3", 2025, "Chris Jones", "S", "Utah", 4.52, None),
    ]
)
DAY2 = frame(
    [
        ("P1", 2025, "DJ Walker", "RB", "Ohio State", 4.41, None),  # forty improved
        ("P2", 2025, "Chris Jones", "DT", "LSU", 5.01, "Out"),  # status changed
        ("P4", 2025, "Trey Holloway", "OT", "Boston College", None, None),  # new
    ]  # P3 removed
)


def test_change_report_names_new_changed_and_removed_with_old_and_new_values():
    report = snapshots.change_report(DAY1, DAY2)
    assert report.to_dict("records") == [
        {"change": "changed", "prospect_id": "P1", "field": "forty", "old_value": "4.45", "new_value": "4.41"},
        {"change": "changed", "prospect_id": "P2", "field": "injury_status", "old_value": "Questionable", "new_value": "Out"},
        {"change": "removed", "prospect_id": "P3", "field": None, "old_value": None, "new_value": None},
        {"change": "new", "prospect_id": "P4", "field": None, "old_value": None, "new_value": None},
    ]  # fmt: skip


def test_a_value_that_appears_or_disappears_is_a_change_but_null_to_null_is_not():
    before = frame([("P1", 2025, "A", "RB", "X", None, None)])
    after = frame([("P1", 2025, "A", "RB", "X", 4.5, None)])
    report = snapshots.change_report(before, after)
    assert report[["field", "old_value", "new_value"]].values.tolist() == [["forty", None, "4.5"]]
    assert snapshots.change_report(after, before)["new_value"].tolist() == [None]
    assert snapshots.change_report(before, before).empty


def test_first_snapshot_reports_every_prospect_as_new():
    report = snapshots.change_report(None, DAY1)
    assert report["change"].tolist() == ["new"] * 3


def test_whole_numbers_compare_as_numbers_not_as_float_text():
    before = frame([("P1", 2025, "A", "RB", "X", 4.0, None)]).astype({"draft_year": "float64"})
    after = frame([("P1", 2025, "A", "RB", "X", 4.0, None)])
    assert snapshots.change_report(before, after).empty


def test_archive_is_zstd_parquet_and_reads_back(tmp_path):
    table = pa.Table.from_pandas(DAY1, preserve_index=False)
    path = snapshots.archive_path(tmp_path, date(2026, 12, 1))
    size = snapshots.write_archive(table, path)
    assert path.name == "prospects_2026-12-01.parquet" and path.stat().st_size == size
    meta = pq.ParquetFile(path).metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"
    assert pq.read_table(path).equals(table)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


def test_only_today_can_be_snapshotted():
    tz = "America/New_York"
    today = snapshots.today(tz)
    assert snapshots.require_today(today.isoformat(), tz) == today
    with pytest.raises(snapshots.PastSnapshotError, match="has passed") as past:
        snapshots.require_today((today - timedelta(days=1)).isoformat(), tz)
    assert "as they are now" in str(past.value) and str(today) in str(past.value)
    with pytest.raises(snapshots.PastSnapshotError, match="has not come yet"):
        snapshots.require_today((today + timedelta(days=1)).isoformat(), tz)


def test_the_demo_snapshots_the_day_current_when_its_run_starts(monkeypatch):
    """The demo's plan says TODAY, resolved when the snapshot run starts, in the schedule's
    time zone: a demo started before midnight in New York that reaches the snapshot after
    it takes the new day (a day fixed when the plan was built would have passed)."""
    from datetime import UTC, datetime

    import headwater.cli.runs as runs
    from assets.prospects.daily import snapshot_job
    from assets.prospects.definitions import DEMO_PLAN
    from headwater.cli.runs import TODAY, load_defs, resolve_range

    assert DEMO_PLAN[-1] == (snapshot_job.name, (TODAY, TODAY))
    job = load_defs().resolve_job_def(snapshot_job.name)
    assert job.partitions_def.timezone == "America/New_York"

    class Clock(datetime):
        instant = datetime(2026, 1, 15, 4, 59, 59, tzinfo=UTC)  # 23:59:59 on the 14th, NY

        @classmethod
        def now(cls, tz=None):
            return cls.instant.astimezone(tz)

    monkeypatch.setattr(runs, "datetime", Clock)
    assert resolve_range(job, (TODAY, TODAY)) == ("2026-01-14", "2026-01-14")
    Clock.instant = datetime(2026, 1, 15, 5, 0, 1, tzinfo=UTC)  # past midnight in NY
    assert resolve_range(job, (TODAY, TODAY)) == ("2026-01-15", "2026-01-15")
    assert resolve_range(job, ("2026-01-01", TODAY)) == ("2026-01-01", "2026-01-15")
    assert resolve_range(job, ("2026-03-01", "2026-03-02")) == ("2026-03-01", "2026-03-02")
    with pytest.raises(ValueError, match="time-window partitions"):
        resolve_range(load_defs().resolve_job_def("prospects_refresh"), (TODAY, TODAY))
