"""The NFL source on the layouts real files come in, dropped in the inbox and loaded by the
run its sensor requests (real DuckDB warehouse), as test_inbox.py drives it:

- nfl_data_py's data/combine.csv, kept byte for byte in tests/data/real/prospects/
  (tests/data/real/NOTICE): every season 2003-2020 in one file, inches, 10/20-yard splits;
- the nflverse combine layout as published (every season in one file, `NA`, full team
  names) with the positions real drafts have. nflverse's file is not ours to ship, so the
  rows here are written by hand, of made-up players, in its exact layout;
- Pro Football Reference's draft "Get as CSV" export, also written here by hand with
  made-up players in its exact layout (repeated column names, `Name\\PfrId`, CRLF, no
  final newline): PFR's data is not freely licensed. It is refused in one line.

Counts are compared with what the files hold (read with the csv module), not with numbers
written here."""

import csv
import io
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow as pa
import pytest
import yaml

from assets.prospects import inbox
from assets.prospects.canonical import prospects_reconcile, read_staging
from assets.prospects.reference import canonical_position
from assets.prospects.rules import RANGES
from assets.prospects.sources import ProspectSource, extract_of
from assets.prospects.staging import INBOX_TAG, arrow_schema, read_extract, staging_assets
from assets.prospects.wire_formats import NFL_COLUMNS, NFL_DATA_PY_COLUMNS
from resources.warehouse import DuckDBWarehouse
from tests.conftest import REPO_ROOT

NFL_DATA_PY = REPO_ROOT / "tests/data/real/prospects/nfl_data_py/combine.csv"
[NFL_STAGING] = [a for a in staging_assets if a.key.path[-1] == "prospects_nfl"]


# ---- the inbox and its runs ---------------------------------------------------------------


def _sensor_at(folder: Path, context):
    """The sensor's body against `folder` (the configured inbox is fixed at import)."""
    original = inbox.CONFIG.inbox
    object.__setattr__(inbox.CONFIG, "inbox", folder)
    try:
        return inbox.inbox_sensor(context)
    finally:
        object.__setattr__(inbox.CONFIG, "inbox", original)


def drop_and_run(folder: Path, warehouse: Path, name: str, data: bytes):
    """Drop `data` as `name`, let the sensor see it settle, execute the run it requests."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    context = dg.build_sensor_context(cursor=None)
    _sensor_at(folder, context)
    [request] = _sensor_at(folder, context)
    assert request.tags[INBOX_TAG] == name
    return dg.materialize(
        [NFL_STAGING],
        partition_key=request.partition_key,
        run_config=request.run_config,
        tags=request.tags,
        resources={
            "warehouse": DuckDBWarehouse(path=str(warehouse)),
            "prospects_nfl": ProspectSource(source="nfl"),
        },
        raise_on_error=False,
    )


def failure_line(result) -> str:
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    return failure.step_failure_data.error.message.strip()


def query(warehouse: Path, sql: str) -> list:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def materialized(result) -> dict:
    [event] = result.get_asset_materialization_events()
    return {k: v.value for k, v in event.materialization.metadata.items()}


def data_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))[1:]


def assert_refused_in_one_line(result, folder: Path, name: str, *said: str) -> str:
    """The run failed in one line naming the file and `said`; the file is in rejected/
    beside its note; nothing was staged."""
    assert not result.success
    line = failure_line(result)
    assert "\n" not in line and name in line
    assert all(part in line for part in said), line
    notes = list((folder / "rejected").glob("*.reason.txt"))
    assert len(notes) == 1 and all(part in notes[0].read_text() for part in said)
    assert not (folder / name).exists()
    return line


# ---- nfl_data_py's combine.csv (real) -------------------------------------------------------

# Loading it needs a draft year among its seasons (2003-2020), and the partitions come from
# the settings at import: the run goes in a process of its own, on a settings file whose
# draft years are 2019 and 2020.
_REAL_RUN = """
import json, sys
from pathlib import Path
import dagster as dg
from assets.prospects import inbox
from assets.prospects.sources import ProspectSource
from assets.prospects.staging import staging_assets
from resources.warehouse import DuckDBWarehouse

folder, warehouse = inbox.CONFIG.inbox, sys.argv[1]
context = dg.build_sensor_context(cursor=None)
inbox.inbox_sensor(context)
[request] = inbox.inbox_sensor(context)
[asset] = [a for a in staging_assets if a.key.path[-1] == "prospects_nfl"]
result = dg.materialize([asset], partition_key=request.partition_key,
    run_config=request.run_config, tags=request.tags, raise_on_error=False,
    resources={"warehouse": DuckDBWarehouse(path=warehouse),
               "prospects_nfl": ProspectSource(source="nfl")})
[event] = result.get_asset_materialization_events()
meta = {k: v.value for k, v in event.materialization.metadata.items()
        if isinstance(v.value, (int, str))}
print(json.dumps({"success": result.success, "partition": request.partition_key,
                  "metadata": meta, "processed": [p.name for p in (folder / "processed").iterdir()]}))
"""


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    """nfl_data_py's combine.csv dropped as combine_2020.csv, loaded by the inbox's run."""
    tmp = tmp_path_factory.mktemp("nfl_data_py")
    folder, warehouse = tmp / "inbox", tmp / "wh.duckdb"
    folder.mkdir()
    shutil.copy(NFL_DATA_PY, folder / "combine_2020.csv")
    settings = tmp / "headwater.yaml"
    prospects = {"draft_years": [2019, 2020], "inbox": str(folder)}
    settings.write_text(yaml.safe_dump({"prospects": prospects}))
    env = os.environ | {"HEADWATER_CONFIG": str(settings), "HEADWATER_DATA_DIR": str(tmp)}
    done = subprocess.run(
        [sys.executable, "-c", _REAL_RUN, str(warehouse)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), warehouse


def test_nfl_data_py_real_file_loads_its_draft_years_season(real_run):
    run, warehouse = real_run
    assert run["success"] and run["partition"] == "2020"
    rows = data_rows(NFL_DATA_PY.read_bytes())
    season = [r for r in rows if r[NFL_DATA_PY_COLUMNS.index("season")] == "2020"]
    meta = run["metadata"]
    # Rows in are the season's rows; the other seasons are counted apart, not quarantined.
    assert meta["rows_in"] == len(season) == meta["rows_loaded"] + meta["rows_quarantined"]
    assert meta["rows_other_seasons"] == len(rows) - len(season)
    [(loaded,)] = query(warehouse, "SELECT count(*) FROM staging.prospects_nfl")
    [(quarantined,)] = query(warehouse, "SELECT count(*) FROM quarantine.prospects_nfl")
    assert (loaded, quarantined) == (meta["rows_loaded"], meta["rows_quarantined"])
    assert query(warehouse, "SELECT DISTINCT season, draft_year FROM staging.prospects_nfl") == [
        (2020, 2020)
    ]
    assert run["processed"][0].startswith("combine_2020-")


def test_nfl_data_py_fields_land_in_the_staging_fields(real_run):
    _, warehouse = real_run
    by_name = {r[0]: r for r in data_rows(NFL_DATA_PY.read_bytes()) if r[12] == "2020"}
    staged = query(
        warehouse,
        "SELECT name, school, position, height_in, weight_lb, forty, ten_yd, twenty_yd, bench, "
        "vertical, broad_jump, cone, shuttle, pfr_id, draft_team FROM staging.prospects_nfl",
    )
    col = {name: i for i, name in enumerate(NFL_DATA_PY_COLUMNS)}

    def number(text):
        return float(text) if text else None

    for name, school, pos, height, weight, forty, ten, twenty, *drills, pfr, team in staged:
        row = by_name[name]
        assert (school, pos) == (row[col["college"]], row[col["position"]])
        # Inches to the eighth, kept to the nearest inch like nflverse's feet-inches.
        assert abs(height - float(row[col["height"]])) <= 0.5
        assert weight == int(row[col["weight"]])
        assert (forty, ten, twenty) == tuple(number(row[col[c]]) for c in ("40yd", "10yd", "20yd"))
        assert [None if d is None else float(d) for d in drills] == [
            number(row[col[c]]) for c in ("bench", "vert", "broad", "cone", "shuttle")
        ]
        assert pfr is None and team is None  # the layout has no draft or ids
        assert canonical_position("nfl", pos) in KNOWN_POSITIONS


def _out_of_range(row: list[str]) -> bool:
    """Whether a row of nfl_data_py's file has a measurement outside `rules.RANGES`."""
    col = {name: i for i, name in enumerate(NFL_DATA_PY_COLUMNS)}
    fields = {"height": "height", "weight": "weight", "forty": "40yd", "bench": "bench",
              "vertical": "vert", "broad_jump": "broad", "cone": "cone", "shuttle": "shuttle",
              "ten_yd": "10yd", "twenty_yd": "20yd"}  # fmt: skip
    values = {k: float(row[col[f]]) for k, f in fields.items() if row[col[f]]}
    values["height"] = math.floor(values["height"] + 0.5)
    return any(not RANGES[k][0] <= v <= RANGES[k][1] for k, v in values.items())


def test_nfl_data_py_every_season_quarantines_exactly_the_out_of_range_rows(tmp_path):
    """Every season of the real file through the parser and the rules: rows in = loaded +
    quarantined per season, and the quarantine is the rows with a measurement out of range."""
    rows = data_rows(NFL_DATA_PY.read_bytes())
    seasons = sorted({r[12] for r in rows})
    total, quarantined = 0, []
    for season in seasons:
        path = tmp_path / "nfl" / f"combine_{season}.csv"
        path.parent.mkdir(exist_ok=True)
        shutil.copy(NFL_DATA_PY, path)
        load = read_extract(extract_of("nfl", int(season), path))
        in_season = sum(r[12] == season for r in rows)
        assert load.rows_in == in_season == len(load.rows) + len(load.rejections)
        assert load.other_seasons == len(rows) - in_season
        assert {r.rule_id for r in load.rejections} <= {"P-R04"}
        quarantined += [(r.record["name"], r.record["season"]) for r in load.rejections]
        total += load.rows_in
    assert total == len(rows)
    assert sorted(quarantined) == sorted((r[0], r[12]) for r in rows if _out_of_range(r))


def test_nfl_data_py_file_without_the_draft_years_season_is_refused(tmp_path):
    folder = tmp_path / "inbox"
    result = drop_and_run(folder, tmp_path / "wh.duckdb", "combine_2024.csv",
                          NFL_DATA_PY.read_bytes())  # fmt: skip
    seasons = sorted({r[12] for r in data_rows(NFL_DATA_PY.read_bytes())})
    said = f"every-season file with seasons {seasons[0]}-{seasons[-1]}, none of draft year 2024"
    assert_refused_in_one_line(result, folder, "combine_2024.csv", said)


def _nfl_data_py_season(season: str) -> tuple[str, list[str]]:
    lines = NFL_DATA_PY.read_bytes().decode().split("\r\n")
    return lines[0], [line for line in lines[1:] if f",{season}," in line]


def test_nfl_data_py_bad_rows_are_quarantined_with_a_reason(tmp_path):
    """The real 2020 rows with three broken: a feet-inches height (the layout has inches),
    a row cut short, `NA` (not this layout's missing value)."""
    header, lines = _nfl_data_py_season("2020")
    gap = next(i for i, line in enumerate(lines) if i > 1 and ",," in line)
    broken = {
        0: ",".join([*lines[0].split(",")[:2], "6-2", *lines[0].split(",")[3:]]),
        1: lines[1].rsplit(",", 2)[0],
        gap: lines[gap].replace(",,", ",NA,", 1),
    }
    lines = [broken.get(i, line) for i, line in enumerate(lines)]
    # 2020 is not a partition in this process: the rows load as 2024's once relabelled.
    data = "\r\n".join([header, *lines]).replace(",2020,", ",2024,").encode()
    folder, warehouse = tmp_path / "inbox", tmp_path / "wh.duckdb"
    result = drop_and_run(folder, warehouse, "combine_2024.csv", data)
    assert result.success, failure_line(result)
    meta = materialized(result)
    assert meta["rows_in"] == len(lines) == meta["rows_loaded"] + meta["rows_quarantined"]
    quarantined = dict(
        query(warehouse, "SELECT origin, rule_id || ' ' || reason FROM quarantine.prospects_nfl")
    )
    for i, (rule, text) in {0: ("P-R03", "'6-2'"), 1: ("P-R01", "fields"),
                            gap: ("P-R03", "'NA'")}.items():  # fmt: skip
        reason = quarantined[f"inbox/combine_2024.csv#row={i + 1}"]
        assert reason.startswith(rule) and text in reason


def test_nfl_data_py_malformed_header_is_refused_naming_both_layouts(tmp_path):
    header, lines = _nfl_data_py_season("2020")
    data = "\r\n".join([header.replace(",40yd,", ","), *lines]).encode()
    folder = tmp_path / "inbox"
    result = drop_and_run(folder, tmp_path / "wh.duckdb", "combine_2024.csv", data)
    assert_refused_in_one_line(
        result, folder, "combine_2024.csv", "header has missing column '40yd'",
        "expected nflverse combine CSV columns " + ",".join(NFL_COLUMNS),
        "nfl_data_py combine CSV columns " + ",".join(NFL_DATA_PY_COLUMNS),
    )  # fmt: skip


# ---- the nflverse layout as published: every season, NA, full team names, real positions ----

# The canonical positions dbt accepts (P-M03), read from the test itself.
_SOURCES_YML = yaml.safe_load((REPO_ROOT / "dbt_project/models/prospects/sources.yml").read_text())
[KNOWN_POSITIONS] = [
    set(test["accepted_values"]["arguments"]["values"])
    for source in _SOURCES_YML["sources"]
    for table in source["tables"]
    for column in table.get("columns", [])
    if column["name"] == "position"
    for test in column.get("data_tests", [])
    if isinstance(test, dict) and "accepted_values" in test
]
# Labels real combine classes use (nflverse, PFR, nfl_data_py), each on a made-up player.
REAL_POSITIONS = ["QB", "RB", "FB", "WR", "TE", "OT", "OG", "C", "OL", "LS", "K", "P", "DT",
                  "NT", "DE", "DL", "EDGE", "OLB", "ILB", "LB", "CB", "S", "SAF", "FS", "SS",
                  "DB", "ATH"]  # fmt: skip
_TEAMS = ["Chicago Bears", "New England Patriots", "Los Angeles Chargers", "Green Bay Packers"]


def _nflverse_row(season: int, n: int, pos: str, height: str | None = None) -> str:
    kicker = pos in ("K", "P", "LS")  # no bench, no drills
    drafted = season < 2025 and n % 3 != 2  # 2025: not drafted yet
    draft = (
        [str(season), _TEAMS[n % 4], str(n % 7 + 1), str(n * 9 + 1), f"Made{n:02d}"]
        if drafted
        else ["NA"] * 5
    )
    drills = (
        ["NA"] * 6
        if kicker
        else [f"{4.4 + n % 9 / 20:.2f}", str(15 + n % 20), str(30 + n % 8), str(110 + n),
              f"{6.9 + n % 5 / 10:.2f}", f"{4.2 + n % 4 / 10:.2f}"]
    )  # fmt: skip
    who = [f"made-up-{season}-{n}", f"Madeup{n} Player{season}", pos, "Boston Col."]
    return ",".join([str(season), *draft, *who, height or f"6-{n % 6}", str(190 + 5 * n), *drills])


def nflverse_every_season() -> bytes:
    """Seasons 2023-2025 in the nflverse layout (LF, `NA` = missing, full team names), every
    label of `REAL_POSITIONS` each season, and one 2024 row with a height of `6-13`."""
    lines = [",".join(NFL_COLUMNS)]
    for season in (2023, 2024, 2025):
        lines += [_nflverse_row(season, n, pos) for n, pos in enumerate(REAL_POSITIONS)]
    lines.append(_nflverse_row(2024, 99, "WR", height="6-13"))
    return ("\n".join(lines) + "\n").encode()


def test_nflverse_every_season_file_loads_its_season_with_real_positions(tmp_path):
    data = nflverse_every_season()
    folder, warehouse = tmp_path / "inbox", tmp_path / "wh.duckdb"
    result = drop_and_run(folder, warehouse, "combine_2024.csv", data)
    assert result.success, failure_line(result)
    rows = data_rows(data)
    season = [r for r in rows if r[0] == "2024"]
    meta = materialized(result)
    assert meta["rows_in"] == len(season) == meta["rows_loaded"] + meta["rows_quarantined"]
    assert meta["rows_other_seasons"] == len(rows) - len(season)
    [(rule, reason)] = query(warehouse, "SELECT rule_id, reason FROM quarantine.prospects_nfl")
    assert rule == "P-R03" and "'6-13'" in reason
    staged = query(warehouse, "SELECT DISTINCT position FROM staging.prospects_nfl")
    assert {p for (p,) in staged} == set(REAL_POSITIONS)
    # Reconciled, every label is a canonical position the marts' test P-M03 accepts.
    reconciled = dg.materialize(
        [prospects_reconcile],
        partition_key="2024",
        resources={"warehouse": DuckDBWarehouse(path=str(warehouse))},
    )
    assert reconciled.success
    core = query(warehouse, "SELECT position, draft_team FROM canonical.prospect_core")
    assert len(core) == meta["rows_loaded"]
    assert {position for position, _ in core} <= KNOWN_POSITIONS
    assert {team for _, team in core} - {None} <= set(_TEAMS)  # full names, as published


def test_nflverse_malformed_header_is_refused_in_one_line(tmp_path):
    data = nflverse_every_season().replace(b",ht,", b",height,", 1)
    folder = tmp_path / "inbox"
    result = drop_and_run(folder, tmp_path / "wh.duckdb", "combine_2024.csv", data)
    assert_refused_in_one_line(
        result, folder, "combine_2024.csv", "unexpected column 'height', missing column 'ht'",
        "expected nflverse combine CSV columns",
    )  # fmt: skip


def test_a_staging_table_from_before_the_splits_takes_the_new_rows(tmp_path):
    """A warehouse whose staging.prospects_nfl was created without `ten_yd`, `twenty_yd`:
    the canonical step reads it as is, and the next load adds the columns, keeping the
    other years' rows."""
    warehouse = tmp_path / "wh.duckdb"
    old = [f for f in arrow_schema("nfl") if f.name not in ("ten_yd", "twenty_yd")]
    row = {f.name: [None] for f in old} | {"name": ["Old Row"], "draft_year": [2023],
                                           "origin": ["nfl/combine_2023.csv#row=1"]}  # fmt: skip
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA staging")
        con.register("old", pa.table(row, schema=pa.schema(old)))
        con.execute("CREATE TABLE staging.prospects_nfl AS SELECT * FROM old")
    frames = read_staging(DuckDBWarehouse(path=str(warehouse)), 2023)
    assert list(frames["nfl"]["name"]) == ["Old Row"] and frames["nfl"]["ten_yd"].isna().all()
    result = drop_and_run(
        tmp_path / "inbox", warehouse, "combine_2024.csv", nflverse_every_season()
    )
    assert result.success, failure_line(result)
    years = query(
        warehouse, "SELECT draft_year, count(ten_yd) FROM staging.prospects_nfl GROUP BY 1"
    )
    assert sorted(years) == [(2023, 0), (2024, 0)]


# ---- Pro Football Reference's draft "Get as CSV" (refused) ----------------------------------

PFR_HEADER = ("Rnd,Pick,Tm,Player,Pos,Age,To,AP1,PB,St,wAV,DrAV,G,Cmp,Att,Yds,TD,Int,Att,Yds,"
              "TD,Rec,Yds,TD,Solo,Int,Sk,College/Univ,")  # fmt: skip
PFR_OVER_HEADER = ",,,,,,,,,,,,,Passing,Passing,Passing,Passing,Passing,Rushing,Rushing,Rushing,"
PFR_OVER_HEADER += "Receiving,Receiving,Receiving,Defense,Defense,Defense,,"
PFR_ROWS = [  # made-up players, in PFR's layout: the player as `Name\PfrId`
    "1,1,CHI,Madeup Arm\\ArmxMa00,QB,21,2024,0,0,1,9,9,17,300,480,3400,20,9,50,200,3,,,,,,,"
    "Boston Col.,College Stats",
    "1,2,NWE,Madeup Edge\\EdgeMa00,DE,22,2024,0,1,1,7,7,17,,,,,,,,,,,,30,,8.5,Miami (FL),"
    "College Stats",
    "7,259,LAC,Madeup Snapper\\SnapMa00,LS,23,2024,0,0,0,0,0,17,,,,,,,,,,,,1,,,Ohio St.,",
]


def pfr_draft_export(over_header: bool = False) -> bytes:
    """As PFR writes it: CRLF between lines and none after the last."""
    lines = ([PFR_OVER_HEADER] if over_header else []) + [PFR_HEADER, *PFR_ROWS]
    return "\r\n".join(lines).encode()


@pytest.mark.parametrize("over_header", [False, True], ids=["header", "over-header"])
def test_pfr_draft_export_is_refused_in_one_line(tmp_path, over_header):
    data = pfr_draft_export(over_header)
    assert not data.endswith(b"\n") and b"\r\n" in data and b"\\" in data
    folder, warehouse = tmp_path / "inbox", tmp_path / "wh.duckdb"
    assert drop_and_run(folder, warehouse, "combine_2024.csv", nflverse_every_season()).success
    before = query(warehouse, "SELECT count(*), min(extraction_id) FROM staging.prospects_nfl")
    result = drop_and_run(folder, warehouse, "combine_2024.csv", data)
    assert_refused_in_one_line(
        result, folder, "combine_2024.csv", "a Pro Football Reference draft table",
        "not combine measurements", "expected nflverse combine CSV columns",
        "nfl_data_py combine CSV columns",
    )  # fmt: skip
    # Staging keeps the last good load.
    assert (
        query(warehouse, "SELECT count(*), min(extraction_id) FROM staging.prospects_nfl") == before
    )


def test_a_mangled_pfr_export_is_refused_naming_the_layouts_expected(tmp_path):
    data = pfr_draft_export().replace(b"Rnd,Pick,Tm,Player", b"Rnd,Pick,Team,Player", 1)
    folder = tmp_path / "inbox"
    result = drop_and_run(folder, tmp_path / "wh.duckdb", "combine_2024.csv", data)
    line = assert_refused_in_one_line(
        result, folder, "combine_2024.csv", "header has unexpected columns 'Rnd'",
        "expected nflverse combine CSV columns", "nfl_data_py combine CSV columns",
    )  # fmt: skip
    assert "Pro Football Reference" not in line
