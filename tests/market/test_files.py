"""DBN files a user already has (`headwater ingest --api databento --files PATH...`): real
published files and a batch download's folder load into the partitions of their records'
own times, again and again to the same tables; a file that is not what it claims, or not
what the settings expect, is refused in one line naming it."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pytest
import zstandard

from assets.market import dbn, files, sample_data
from assets.market.ingest import MarketIngest
from headwater.plans import BadParameter
from tests.conftest import REPO_ROOT

BIN = Path(sys.executable).parent
REAL = REPO_ROOT / "tests" / "data" / "real" / "databento"
SETTINGS = "market:\n  start_date: 2020-12-01\n  intraday_start_date: 2020-12-01\n"


def headwater(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = os.environ | {
        "DAGSTER_HOME": str(tmp_path / "home"),
        "HEADWATER_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
    }
    return subprocess.run(
        [str(BIN / "headwater"), *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def tables(warehouse: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        names = [
            f"{s}.{t}"
            for s, t in con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_name LIKE 'market_%' ORDER BY 1, 2"
            ).fetchall()
        ]
        return {
            name: con.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall() for name in names
        }
    finally:
        con.close()


@pytest.fixture(scope="module")
def settings_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("settings") / "headwater.yaml"
    path.write_text(SETTINGS)
    return path


def test_a_folder_of_real_files_loads_and_loads_again_to_the_same_tables(tmp_path, settings_path):
    folder = REAL / "GLBX.MDP3"
    first = headwater(tmp_path, "ingest", "--api", "databento", "--files", str(folder),
                      "--config", str(settings_path))  # fmt: skip
    assert first.returncode == 0, first.stderr
    # definitions first, then every schema the folder holds
    runs = [line.split()[2] for line in first.stdout.splitlines() if line.startswith("  run ")]
    schemas = {dbn.read_info(path).schema for path in files.data_files([folder])}
    assert runs[0] == "market_definition" and len(runs) == len(schemas)
    loaded = tables(tmp_path / "warehouse.duckdb")
    assert loaded["canonical.market_trades"] and loaded["staging.market_ohlcv_1m"]
    roots = {row for name, rows in loaded.items() if name.startswith("canonical") for row in rows}
    assert roots  # every canonical row has its product from the definition:
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    assert con.execute("SELECT DISTINCT root FROM canonical.market_trades").fetchall() == [
        ("ES.FUT",)
    ]
    con.close()
    again = headwater(tmp_path, "ingest", "--api", "databento", "--files", str(folder),
                      "--config", str(settings_path))  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert tables(tmp_path / "warehouse.duckdb") == loaded


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--files", str(REAL / "IFEU.IMPACT")], ["IFEU.IMPACT", "expected GLBX.MDP3"]),
        (["--files", "README.md"], ["README.md", "not a DBN file"]),
        (["--files", str(REAL / "GLBX.MDP3"), "--schema", "trades"], ["--files", "--schema"]),
        (["--files", "/nonexistent/x.dbn.zst"], ["/nonexistent/x.dbn.zst", "no such file"]),
    ],
)
def test_a_file_that_is_not_what_is_expected_is_one_line(tmp_path, settings_path, args, expected):
    done = headwater(
        tmp_path, "ingest", "--api", "databento", *args, "--config", str(settings_path)
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and all(text in lines[0] for text in expected), done.stderr
    assert "Traceback" not in done.stderr


def test_records_before_the_first_partition_are_refused_naming_the_setting(tmp_path):
    definitions = REAL / "GLBX.MDP3" / "test_data.definition.dbn.zst"  # a monthly schema
    done = headwater(tmp_path, "ingest", "--api", "databento", "--files", str(definitions))
    assert done.returncode == 2
    assert "before the first partition 2024-01-01 (market.start_date" in done.stderr


def test_a_schema_headwater_does_not_load_is_named():
    path = REAL / "unloaded" / "test_data.mbo.dbn.zst"  # Databento's own mbo sample
    with pytest.raises(
        files.FileRefused, match=r"test_data.mbo.dbn.zst: order-book events \(mbo\)"
    ):
        files.inspect(path)


# ---- partitions from the records' own times ---------------------------------------------------


def within_its_window(path: Path) -> Path:
    """The sample file less its dirt stamped outside the window (as a Databento file is)."""
    raw = zstandard.ZstdDecompressor().decompress(path.read_bytes(), 1 << 30)
    head = 8 + int.from_bytes(raw[4:8], "little")
    info = dbn.read_info(path)
    records = np.frombuffer(raw[head:], dtype=dbn.record_dtype(info.schema))
    inside = (records["ts_event"] >= info.start_ns) & (records["ts_event"] < info.end_ns)
    assert not inside.all()  # the sample's dirt: a bar before the window, one at its end
    path.write_bytes(zstandard.ZstdCompressor().compress(raw[:head] + records[inside].tobytes()))
    return path


def test_a_file_spanning_days_goes_to_each_day_and_every_record_lands_once(tmp_path):
    path = within_its_window(sample_data.write_sample(
        tmp_path / "three_days.dbn.zst", "ohlcv-1m", date(2026, 11, 2), date(2026, 11, 5),
        ["CL.FUT"],
    ))  # fmt: skip
    found = files.inspect(path)
    records = np.concatenate(list(dbn.read_chunks(path)))
    days = (records["ts_event"] // 86_400_000_000_000).astype("datetime64[D]")
    plan = MarketIngest().plan_files([str(path)], None, None)
    [step] = plan.steps
    assert step.job == "market_ohlcv_1m"
    assert step.partitions == (str(days.min()), str(days.max())) == ("2026-11-02", "2026-11-04")
    out = files.split([found], tmp_path / "split")
    per_day = {key: np.concatenate(list(dbn.read_chunks(p))) for (key, _), p in out.items()}
    assert sum(len(r) for r in per_day.values()) == len(records)
    for key, rows in per_day.items():
        days = {str(d) for d in (rows["ts_event"] // 86_400_000_000_000).astype("datetime64[D]")}
        assert days == {key}
    assert sorted(b.tobytes() for r in per_day.values() for b in r) == sorted(
        b.tobytes() for b in records
    )


def test_a_file_with_records_outside_its_claimed_window_is_refused(tmp_path):
    path = sample_data.write_sample(
        tmp_path / "three_days.dbn.zst",
        "ohlcv-1m",
        date(2026, 11, 2),
        date(2026, 11, 5),
        ["CL.FUT"],
    )  # fmt: skip (the sample's dirt: a bar the minute before the window, one at its end)
    with pytest.raises(BadParameter) as info:
        MarketIngest().plan_files([str(path)], None, None)
    assert str(info.value) == (
        f"--files: {path}: ts_event from 2026-11-01T23:59:00Z to 2026-11-05T00:00:00Z, "
        "outside the window its metadata claims [2026-11-02T00:00:00Z, 2026-11-05T00:00:00Z)"
    )


# ---- a batch download's folder ------------------------------------------------------------------


def batch_folder(tmp_path: Path, schema: str = "trades") -> Path:
    """A batch job's folder as Databento delivers it: the data file beside its sidecars."""
    folder = tmp_path / "GLBX-20201228-JOBID"
    folder.mkdir()
    data = shutil.copy(REAL / "GLBX.MDP3" / f"test_data.{schema}.dbn.zst", folder)
    blob = Path(data).read_bytes()
    manifest = {
        "files": [
            {
                "filename": Path(data).name,
                "size": len(blob),
                "hash": "sha256:" + hashlib.sha256(blob).hexdigest(),
            }
        ]
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    query = {
        "dataset": "GLBX.MDP3",
        "schema": schema,
        "symbols": ["ESH1"],
        "stype_in": "raw_symbol",
    }
    (folder / "metadata.json").write_text(json.dumps({"query": query}))
    (folder / "symbology.json").write_text("{}")
    (folder / "condition.json").write_text("[]")
    return folder


def test_a_batch_folder_is_checked_against_its_manifest_and_query(tmp_path):
    folder = batch_folder(tmp_path)
    assert [p.name for p in files.data_files([folder])] == ["test_data.trades.dbn.zst"]
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"][0]["size"] += 1
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(files.FileRefused, match="an incomplete download"):
        files.data_files([folder])


def test_a_batch_file_with_other_symbols_than_the_job_asked_is_refused(tmp_path):
    folder = batch_folder(tmp_path)
    query = json.loads((folder / "metadata.json").read_text())
    query["query"]["symbols"] = ["NQH1"]
    (folder / "metadata.json").write_text(json.dumps(query))
    with pytest.raises(files.FileRefused, match=r"symbols ESH1 not in metadata.json's request"):
        files.data_files([folder])


def test_a_file_of_another_dataset_is_refused_by_the_planner():
    with pytest.raises(BadParameter, match="dataset IFEU.IMPACT, expected GLBX.MDP3"):
        MarketIngest().plan_files([str(REAL / "IFEU.IMPACT")], None, None)
