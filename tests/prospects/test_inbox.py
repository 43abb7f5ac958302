"""The inbox sensor and the staging runs it requests, with real files: good, bad, empty,
binary, still growing, unplaceable."""

import json
import os
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.prospects import inbox
from assets.prospects.sample_data import build_files
from assets.prospects.staging import INBOX_TAG, staging_assets
from resources.prospect_sources import ProspectSource
from resources.warehouse import DuckDBWarehouse

YEARS = {2024, 2025}


@pytest.fixture(scope="module")
def files_2024():
    return build_files(2024)


def drop(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def tick(folder: Path, cursor: dict):
    requests, unplaceable, seen = inbox.scan(folder, cursor, YEARS)
    return requests, unplaceable, seen


def test_file_names_tell_source_and_year():
    assert inbox.classify("combine_2024.csv") == ("nfl", 2024)
    assert inbox.classify("stats_2023.csv") == ("cfr", 2023)
    assert inbox.classify("stats_2023.json") == ("yahoo", 2023)
    assert inbox.classify("grades_2025.csv") == ("pff", 2025)
    assert inbox.classify("injuries_2025.json") == ("espn", 2025)
    assert inbox.classify("combine_2024.csv.bak") is None
    assert inbox.classify("combine.csv") is None


def test_a_file_is_requested_once_it_stops_changing(tmp_path, files_2024):
    path = drop(tmp_path, "combine_2024.csv", files_2024["nfl"][:1000])
    requests, _, seen = tick(tmp_path, {})
    assert requests == []  # first sight: wait
    with path.open("ab") as f:  # still being written
        f.write(files_2024["nfl"][1000:2000])
    requests, _, seen = tick(tmp_path, seen)
    assert requests == []
    requests, _, seen2 = tick(tmp_path, seen)  # unchanged since the last tick
    assert [(p.name, s, y) for p, s, y, _ in requests] == [("combine_2024.csv", "nfl", 2024)]
    assert seen2 == seen
    # The run key names this version of the file: touched or rewritten, it runs again.
    key = requests[0][3]
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    _, _, seen3 = tick(tmp_path, seen2)
    requests, _, _ = tick(tmp_path, seen3)
    assert requests[0][3] != key


def test_in_progress_and_hidden_files_are_left_alone(tmp_path):
    for name in ("combine_2024.csv.part", ".combine_2024.csv", "grades_2024.csv.tmp"):
        drop(tmp_path, name, b"x")
    (tmp_path / "processed").mkdir()
    requests, unplaceable, seen = tick(tmp_path, {})
    requests, unplaceable, _ = tick(tmp_path, seen)
    assert requests == [] and unplaceable == [] and seen == {}


def test_unplaceable_files_are_rejected_with_a_note_by_the_sensor(tmp_path):
    drop(tmp_path, "notes.txt", b"hello")
    drop(tmp_path, "combine_1999.csv", b"season\n")
    context = dg.build_sensor_context(cursor=json.dumps({}))
    _sensor_at(tmp_path, context)
    result = _sensor_at(tmp_path, context)  # second tick: both settled
    assert isinstance(result, dg.SkipReason) or result == []
    rejected = sorted(p.name for p in (tmp_path / "rejected").iterdir())
    assert len(rejected) == 4  # two files, two notes
    notes = {
        p.name.split("-")[0]: p.read_text() for p in (tmp_path / "rejected").glob("*.reason.txt")
    }
    assert "not a prospects export name; expected combine_<year>.csv" in notes["notes"]
    assert "draft year 1999 is not a partition" in notes["combine_1999"]
    assert not (tmp_path / "notes.txt").exists()


def _sensor_at(folder: Path, context):
    """Run the sensor's body against `folder` (the configured inbox is fixed at import)."""
    original = inbox.CONFIG.inbox
    object.__setattr__(inbox.CONFIG, "inbox", folder)
    try:
        return inbox.inbox_sensor(context)
    finally:
        object.__setattr__(inbox.CONFIG, "inbox", original)


# ---- the runs the sensor requests ------------------------------------------------------------


def run_request_for(folder: Path, name: str, data: bytes) -> dg.RunRequest:
    drop(folder, name, data)
    context = dg.build_sensor_context(cursor=None)
    _sensor_at(folder, context)
    runs = _sensor_at(folder, context)
    [request] = runs
    assert request.tags[INBOX_TAG] == name
    return request


def execute(request: dg.RunRequest, warehouse: Path) -> dg.ExecuteInProcessResult:
    [key] = request.asset_selection
    [asset] = [a for a in staging_assets if a.key == key]
    source = key.path[-1].removeprefix("prospects_")
    return dg.materialize(
        [asset],
        partition_key=request.partition_key,
        run_config=request.run_config,
        tags=request.tags,
        resources={
            "warehouse": DuckDBWarehouse(path=str(warehouse)),
            f"prospects_{source}": ProspectSource(source=source),
        },
        raise_on_error=False,
    )


def test_a_good_file_loads_and_moves_to_processed(tmp_path, files_2024):
    request = run_request_for(tmp_path / "inbox", "combine_2024.csv", files_2024["nfl"])
    result = execute(request, tmp_path / "wh.duckdb")
    assert result.success
    [processed] = (tmp_path / "inbox" / "processed").iterdir()
    assert processed.name.startswith("combine_2024-") and processed.suffix == ".csv"
    assert processed.read_bytes() == files_2024["nfl"]
    assert not (tmp_path / "inbox" / "combine_2024.csv").exists()
    with duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True) as con:
        [(rows, loc)] = con.sql(
            "SELECT rows_loaded, location FROM staging.prospects_extractions"
        ).fetchall()
        [(n,)] = con.sql("SELECT count(*) FROM staging.prospects_nfl").fetchall()
    assert n == rows > 1000 and loc.endswith("inbox/combine_2024.csv")


@pytest.mark.parametrize(
    "name, data, expected",
    [
        ("combine_2024.csv", b"", "file is empty"),
        ("grades_2024.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary content"),
        ("stats_2024.json", b'{"players": "not a list"', "stats_2024.json"),
        ("combine_2024.csv", b"name,school\nA,B\n", "header 'name,school'"),
    ],
    ids=["empty", "binary", "broken-json", "wrong-header"],
)
def test_a_bad_file_fails_its_run_and_moves_to_rejected_with_a_note(tmp_path, name, data, expected):
    request = run_request_for(tmp_path / "inbox", name, data)
    result = execute(request, tmp_path / "wh.duckdb")
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.step_failure_data.error.message
    assert expected in message and "rejected" in message
    rejected = sorted((tmp_path / "inbox" / "rejected").iterdir())
    assert [p.suffix for p in rejected] == [Path(name).suffix, ".txt"]
    assert rejected[0].read_bytes() == data  # kept as received
    assert expected in rejected[1].read_text()
    assert not (tmp_path / "inbox" / name).exists()


def test_a_file_of_bad_rows_names_file_row_and_field(tmp_path, files_2024):
    lines = files_2024["nfl"].decode().splitlines()
    bad = [lines[0]] + [
        ",".join(
            ["2024", "2024"] + ["NA"] * 5 + ["X Y", "QB", "Utah", "6-2", "300", "fast"] + ["NA"] * 5
        )
        for _ in range(5)
    ]
    request = run_request_for(
        tmp_path / "inbox", "combine_2024.csv", ("\n".join(bad) + "\n").encode()
    )
    result = execute(request, tmp_path / "wh.duckdb")
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.step_failure_data.error.message
    assert "combine_2024.csv" in message and "#row=1" in message and "forty" in message
