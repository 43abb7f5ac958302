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
from assets.prospects.sources import ProspectSource
from assets.prospects.staging import INBOX_TAG, staging_assets
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
    # The log names where the file is kept now: the inbox path is gone.
    assert n == rows > 1000 and loc == str(processed)


@pytest.mark.parametrize(
    "name, data, expected",
    [
        ("combine_2024.csv", b"", "file is empty"),
        ("grades_2024.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary content"),
        ("stats_2024.json", b'{"players": "not a list"', "stats_2024.json"),
        ("combine_2024.csv", b"name,school\nA,B\n", "header has unexpected column 'name'"),
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


# ---- drops again, links, folders, another year's file -------------------------------------------


def test_a_file_dropped_again_unchanged_is_a_new_run_and_loads_again(tmp_path, files_2024):
    folder, warehouse = tmp_path / "inbox", tmp_path / "wh.duckdb"
    first = run_request_for(folder, "combine_2024.csv", files_2024["nfl"])
    assert execute(first, warehouse).success
    [processed] = (folder / "processed").iterdir()
    before = sorted(map(repr, _rows(warehouse, "SELECT * FROM staging.prospects_nfl")))
    # The same bytes back under the same name, size and modification time (`cp -p`).
    again = folder / "combine_2024.csv"
    again.write_bytes(processed.read_bytes())
    os.utime(again, ns=(processed.stat().st_atime_ns, processed.stat().st_mtime_ns))
    assert again.stat().st_mtime_ns == processed.stat().st_mtime_ns
    second = run_request_for(folder, "combine_2024.csv", processed.read_bytes())
    assert second.run_key != first.run_key  # Dagster would skip a key it has seen
    assert execute(second, warehouse).success
    assert not again.exists() and list((folder / "processed").iterdir()) == [processed]
    assert sorted(map(repr, _rows(warehouse, "SELECT * FROM staging.prospects_nfl"))) == before


def test_a_file_moved_back_from_rejected_runs_again(tmp_path):
    folder = tmp_path / "inbox"
    first = run_request_for(folder, "combine_2024.csv", b"")
    assert not execute(first, tmp_path / "wh.duckdb").success
    [moved] = [p for p in (folder / "rejected").iterdir() if p.suffix == ".csv"]
    mtime = moved.stat().st_mtime_ns
    os.rename(moved, folder / "combine_2024.csv")  # `mv` keeps size, mtime and inode
    assert (folder / "combine_2024.csv").stat().st_mtime_ns == mtime
    context = dg.build_sensor_context(cursor=None)
    _sensor_at(folder, context)
    [second] = _sensor_at(folder, context)
    assert second.run_key != first.run_key
    assert not execute(second, tmp_path / "wh.duckdb").success  # still empty: rejected again
    assert len(list((folder / "rejected").glob("*.reason.txt"))) == 2
    assert not (folder / "combine_2024.csv").exists()


def test_a_dangling_link_and_a_folder_named_like_an_export_are_rejected(tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "combine_2024.csv").symlink_to(tmp_path / "gone.csv")
    (folder / "stats_2024.json").mkdir()
    (folder / "stats_2024.json" / "part1.json").write_text("{}")
    (folder / "processed").mkdir()  # the sensor's own folders stay
    context = dg.build_sensor_context(cursor=None)
    _sensor_at(folder, context)
    result = _sensor_at(folder, context)
    assert isinstance(result, dg.SkipReason) or result == []
    assert sorted(p.name for p in folder.iterdir()) == ["processed", "rejected"]
    notes = {
        p.name.split("-")[0]: p.read_text() for p in (folder / "rejected").glob("*.reason.txt")
    }
    assert notes["combine_2024"].startswith(
        f"combine_2024.csv: a symbolic link to {tmp_path / 'gone.csv'}, which does not exist; "
        "expected an export file (combine_<year>.csv"
    )
    assert notes["stats_2024"].startswith("stats_2024.json: is a folder, not a file;")
    [link] = [p for p in (folder / "rejected").iterdir() if p.name.startswith("combine_2024-")
              and not p.name.endswith(".txt")]  # fmt: skip
    assert link.is_symlink() and link.readlink() == tmp_path / "gone.csv"  # the link itself
    [kept] = [p for p in (folder / "rejected").iterdir() if p.is_dir()]
    assert (kept / "part1.json").read_text() == "{}"


def _linked(tmp_path: Path, name: str, content: bytes):
    """An export kept elsewhere, linked into the inbox, and the sensor's request for it."""
    target = drop(tmp_path / "exports", name, content)
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / name).symlink_to(target)
    context = dg.build_sensor_context(cursor=None)
    _sensor_at(folder, context)
    [request] = _sensor_at(folder, context)
    return target, folder, request


def test_a_link_to_a_file_loads_and_processed_keeps_the_data(tmp_path, files_2024):
    target, folder, request = _linked(tmp_path, "combine_2024.csv", files_2024["nfl"])
    assert execute(request, tmp_path / "wh.duckdb").success
    [processed] = (folder / "processed").iterdir()
    assert not processed.is_symlink() and processed.read_bytes() == files_2024["nfl"]
    assert (
        not (folder / "combine_2024.csv").exists()
        and not (folder / "combine_2024.csv").is_symlink()
    )
    assert target.read_bytes() == files_2024["nfl"]  # the link's target is not ours to move


def test_a_link_to_a_bad_file_is_rejected_with_its_data(tmp_path):
    target, folder, request = _linked(tmp_path, "grades_2024.csv", b"")
    assert not execute(request, tmp_path / "wh.duckdb").success
    [data] = (folder / "rejected").glob("*.csv")
    [note] = (folder / "rejected").glob("*.reason.txt")
    assert not data.is_symlink() and data.read_bytes() == b"" and target.exists()
    assert "file is empty" in note.read_text()
    assert f"was a symbolic link to {target}" in note.read_text()


def test_a_yahoo_file_of_another_draft_year_is_rejected_whole(tmp_path):
    folder, warehouse = tmp_path / "inbox", tmp_path / "wh.duckdb"
    good = run_request_for(folder, "stats_2024.json", build_files(2024)["yahoo"])
    assert execute(good, warehouse).success
    before = _rows(warehouse, "SELECT draft_year, count(*) FROM staging.prospects_yahoo GROUP BY 1")
    # 2023's export (its meta.draft_year is "2023") dropped under 2024's name.
    request = run_request_for(folder, "stats_2024.json", build_files(2023)["yahoo"])
    result = execute(request, warehouse)
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.step_failure_data.error.message
    said = "stats_2024.json: P-R09 meta.draft_year is '2023', not the file's draft year 2024"
    assert said in message and "\n" not in message.strip()
    [note] = (folder / "rejected").glob("*.reason.txt")
    assert said in note.read_text()
    after = _rows(warehouse, "SELECT draft_year, count(*) FROM staging.prospects_yahoo GROUP BY 1")
    assert after == before and [year for year, _ in after] == [2024]


def test_a_file_named_for_another_year_does_not_load_into_this_one(tmp_path):
    path = drop(tmp_path / "files", "stats_2023.json", build_files(2023)["yahoo"])
    [asset] = [a for a in staging_assets if a.key.path[-1] == "prospects_yahoo"]
    result = dg.materialize(
        [asset],
        partition_key="2024",
        run_config={"ops": {asset.key.to_python_identifier(): {"config": {"file": str(path)}}}},
        resources={
            "warehouse": DuckDBWarehouse(path=str(tmp_path / "wh.duckdb")),
            "prospects_yahoo": ProspectSource(source="yahoo"),
        },
        raise_on_error=False,
    )
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert (
        f"{path}: P-R09 the file name says draft year 2023; expected a file of draft year 2024"
        in failure.step_failure_data.error.message
    )


def _rows(warehouse: Path, sql: str) -> list:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()
