"""The market inbox: a batch download's folder dropped in `market.inbox` becomes runs (the
definitions first) once it stops changing, and loads; what cannot be loaded is moved to
rejected/ with a note naming it."""

import hashlib
import json
import shutil
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.market import inbox, sample_data
from headwater.cli.runs import load_defs, run_job
from tests.conftest import REPO_ROOT
from tests.market.test_files import within_its_window

REAL = REPO_ROOT / "tests" / "data" / "real" / "databento"


def batch_download(folder: Path) -> Path:
    """A batch job's folder: November 2026's CL definitions and three days of one-minute
    bars, split by file, with the manifest Databento writes beside them."""
    job = folder / "GLBX-20261102-TESTJOB"
    job.mkdir(parents=True)
    sample_data.write_sample(
        job / "glbx-mdp3-20261101.definition.dbn.zst", "definition", date(2026, 11, 1),
        date(2026, 11, 2), ["CL.FUT"],
    )  # fmt: skip
    within_its_window(sample_data.write_sample(
        job / "glbx-mdp3-20261102-20261104.ohlcv-1m.dbn.zst", "ohlcv-1m", date(2026, 11, 2),
        date(2026, 11, 4), ["CL.FUT"],
    ))  # fmt: skip
    entries = [
        {
            "filename": p.name,
            "size": p.stat().st_size,
            "hash": "sha256:" + hashlib.sha256(p.read_bytes()).hexdigest(),
        }
        for p in sorted(job.iterdir())
    ]
    (job / "manifest.json").write_text(json.dumps({"files": entries}))
    return job


def tick(folder: Path, context):
    """The sensor's body against `folder` (the configured inbox is fixed at import)."""
    original = inbox.CONFIG.inbox
    object.__setattr__(inbox.CONFIG, "inbox", folder)
    try:
        return inbox.build_inbox_sensor([])(context)
    finally:
        object.__setattr__(inbox.CONFIG, "inbox", original)


@pytest.fixture
def requested(tmp_path):
    folder = tmp_path / "inbox"
    job = batch_download(folder)
    shutil.copy(REAL / "IFEU.IMPACT" / "test_data.ohlcv-1d.dbn.zst", folder / "brent.dbn.zst")
    (folder / "notes.txt").write_text("not data")
    (folder / "still-copying.dbn.zst.part").write_bytes(b"DBN")
    context = dg.build_sensor_context(cursor=None)
    first = tick(folder, context)
    assert isinstance(first, dg.SkipReason)  # seen once: not yet settled
    runs = tick(folder, context)
    return folder, job, runs


def test_a_settled_batch_folder_becomes_runs_definitions_first(requested):
    folder, job, runs = requested
    assert [r.job_name for r in runs] == ["market_definition", "market_ohlcv_1m"]
    priorities = [int(r.tags[inbox.PRIORITY_TAG]) for r in runs]
    assert priorities[0] > priorities[1]
    bars = runs[1]
    assert (bars.tags[inbox.RANGE_START_TAG], bars.tags[inbox.RANGE_END_TAG]) == (
        "2026-11-02",
        "2026-11-03",
    )
    assert not job.exists()
    [moved] = (folder / "requested").iterdir()
    files = bars.run_config["ops"]["market_ohlcv_1m_load"]["config"]["files"]
    assert all(Path(f).is_relative_to(moved) and Path(f).exists() for f in files)
    assert (folder / "still-copying.dbn.zst.part").exists()  # in progress: left alone


def test_what_cannot_load_is_rejected_with_a_note(requested):
    folder, _, _ = requested
    notes = {
        p.name.split("-")[0]: p.read_text() for p in (folder / "rejected").glob("*.reason.txt")
    }
    assert "dataset IFEU.IMPACT, expected GLBX.MDP3" in notes["brent"]
    assert "notes.txt: not a DBN file" in notes["notes"]
    assert not (folder / "notes.txt").exists() and not (folder / "brent.dbn.zst").exists()


def test_the_requested_runs_load_the_files(requested, tmp_path, monkeypatch):
    _, _, runs = requested
    warehouse = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("HEADWATER_WAREHOUSE", str(warehouse))
    defs, instance = load_defs(), dg.DagsterInstance.ephemeral()
    for request in runs:
        result = run_job(
            defs,
            request.job_name,
            (request.tags[inbox.RANGE_START_TAG], request.tags[inbox.RANGE_END_TAG]),
            instance,
            tags={inbox.INBOX_TAG: request.tags[inbox.INBOX_TAG]},
            run_config=request.run_config,
        )
        assert result.success, request.job_name
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        [(rows, roots)] = con.execute(
            "SELECT count(*), string_agg(DISTINCT root) FROM canonical.market_ohlcv_1m"
        ).fetchall()
    finally:
        con.close()
    assert rows > 0 and roots == "CL.FUT"
