"""Databento batch jobs (assets/market/batch.py) through the official client against a local
HTTPS server answering the batch API as Databento does (tests/fakes/databento_batch.py):
submit once, wait, download resumably and check every file, choose batch or streaming by
the request's size, and load a live run's batch folder into the same tables as the
sample files it was made of."""

import logging
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import numpy as np
import pytest
import zstandard

from assets.market import dbn, files, sample_data
from assets.market.ingest import ingest_run_config
from assets.market.sources import DatabentoError, DatabentoSource
from headwater.cli.runs import load_defs, run_job
from tests.fakes.databento_api import DEFAULT_KEY, Fault, build_body, make_tls
from tests.fakes.databento_batch import (
    BILLABLE,
    DETAILS,
    DOWNLOAD,
    SUBMIT,
    FakeDatabentoBatchAPI,
)

FAST = {
    "backoff_s": 0.01,
    "max_backoff_s": 0.05,
    "max_retries": 2,
    "timeout_s": 5.0,
    "batch_poll_s": 0.01,
}
WEEK = (date(2024, 1, 2), date(2024, 1, 5))  # Tuesday to Thursday: three daily files


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def server(tls):
    with FakeDatabentoBatchAPI(ssl_context=tls.server_context) as api:
        yield api


@pytest.fixture
def api(server, tls, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.ca_bundle))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    server.reset()
    yield server
    server.reset()


@pytest.fixture(autouse=True)
def logs(caplog):
    caplog.set_level(logging.DEBUG)
    yield caplog
    text = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.get_records("call"))
    assert DEFAULT_KEY not in text


def live(api, tmp_path, **kw) -> DatabentoSource:
    return DatabentoSource(
        mode="live",
        api_key=api.key,
        gateway=api.gateway,
        download_dir=str(tmp_path / "downloads"),
        **{"transport": "batch", **FAST, **kw},
    )


def records_of(paths) -> np.ndarray:
    return np.concatenate([c for p in sorted(paths) for c in dbn.read_chunks(p)])


def test_a_job_is_submitted_once_waited_for_and_its_files_downloaded_whole(api, tmp_path):
    api.polls_until_done = 2
    got = live(api, tmp_path).fetch_batch("ohlcv-1m", ["ES.FUT"], *WEEK)
    [submit] = api.calls(SUBMIT)
    assert submit.form | {"symbols": "ES.FUT"} == submit.form
    wanted = {"schema": "ohlcv-1m", "stype_in": "parent", "encoding": "dbn"}
    wanted |= {"compression": "zstd", "split_duration": "day", "delivery": "download"}
    assert wanted.items() <= submit.form.items()
    assert len(api.calls(DETAILS)) == 3  # processing, processing, done
    names = sorted(p.name for p in got.folder.iterdir())
    days = [f"glbx-mdp3-2024010{d}.ohlcv-1m.dbn.zst" for d in (2, 3, 4)]
    assert names == sorted([*days, "condition.json", "manifest.json", "metadata.json",
                            "symbology.json"])  # fmt: skip
    assert not got.resumed and got.fetched == 7
    files.check_batch_folder(got.folder)  # sizes and SHA-256 against the manifest
    sent = [build_body("GLBX.MDP3", "ohlcv-1m", ["ES.FUT"], datetime(2024, 1, d), datetime(2024, 1, d + 1))[1] for d in (2, 3, 4)]  # fmt: skip
    on_disk = records_of(got.folder / n for n in days)
    assert len(on_disk) == sum(len(r) for r in sent) > 0
    assert [int(c) for c in on_disk["close"]] == [r.close for day in sent for r in day]


def test_a_job_still_processing_fails_transient_and_the_next_attempt_resumes_it(api, tmp_path):
    api.polls_until_done = 10_000
    source = live(api, tmp_path, batch_wait_s=0.05)
    with pytest.raises(DatabentoError) as info:
        source.fetch_batch("ohlcv-1m", ["ES.FUT"], *WEEK)
    message = str(info.value)
    assert info.value.transient and "still processing" in message and "\n" not in message
    assert "the next attempt resumes it" in message
    api.polls_until_done = 0
    got = source.fetch_batch("ohlcv-1m", ["ES.FUT"], *WEEK)
    assert len(api.calls(SUBMIT)) == 1  # paid once
    assert got.resumed and [got.job_id] == list(api.jobs)


def test_a_download_cut_off_is_resumed_with_a_range_request(api, tmp_path):
    api.script(Fault(drop_fraction=0.5), path=DOWNLOAD)
    got = live(api, tmp_path).fetch_batch("ohlcv-1m", ["ES.FUT"], *WEEK)
    files.check_batch_folder(got.folder)
    ranged = [r for r in api.calls(DOWNLOAD) if "Range" in r.headers]
    assert ranged and ranged[0].headers["Range"].startswith("bytes=")
    assert int(ranged[0].headers["Range"][6:].split("-")[0]) > 0  # from what was on disk


def test_a_file_that_arrives_different_is_deleted_and_fetched_again(api, tmp_path, logs):
    api.script(Fault(body=b"not the file the job lists"), path=DOWNLOAD)
    got = live(api, tmp_path).fetch_batch("ohlcv-1m", ["ES.FUT"], *WEEK)
    files.check_batch_folder(got.folder)
    retried = [r.getMessage() for r in logs.records if "retry 1/2" in r.getMessage()]
    assert retried and "SHA-256 the job lists" in retried[0]


def test_a_re_run_reads_the_whole_folder_without_a_call_even_after_the_job_expired(api, tmp_path):
    source = live(api, tmp_path)
    first = source.fetch_batch("ohlcv-1m", ["ES.FUT"], *WEEK)
    api.expire(first.job_id)
    api.requests.clear()
    again = source.fetch_batch("ohlcv-1m", ["ES.FUT"], *WEEK)
    assert again.folder == first.folder and again.fetched == 0 and api.requests == []


def test_an_expired_job_without_its_files_is_submitted_again(api, tmp_path):
    source = live(api, tmp_path)
    first = source.fetch_batch("ohlcv-1m", ["ES.FUT"], *WEEK)
    api.expire(first.job_id)
    shutil.rmtree(first.folder)
    again = source.fetch_batch("ohlcv-1m", ["ES.FUT"], *WEEK)
    assert again.job_id != first.job_id and len(api.calls(SUBMIT)) == 2
    files.check_batch_folder(again.folder)


def test_a_rate_limited_submit_is_retried(api, tmp_path):
    api.script(Fault.rate_limited("0"), path=SUBMIT)
    live(api, tmp_path).fetch_batch("ohlcv-1m", ["ES.FUT"], *WEEK)
    assert len(api.calls(SUBMIT)) == 2 and len(api.jobs) == 1


def test_a_refused_submit_fails_at_once_in_one_line_without_the_key(api, tmp_path):
    detail = {"detail": {"case": "license_missing", "message": "No license for {key}"}}
    api.script(Fault.json(403, detail), path=SUBMIT)
    with pytest.raises(DatabentoError) as info:
        live(api, tmp_path).fetch_batch("ohlcv-1m", ["ES.FUT"], *WEEK)
    message = str(info.value)
    assert len(api.calls(SUBMIT)) == 1 and not info.value.transient
    assert "batch.submit_job" in message and "HTTP 403" in message and "\n" not in message
    assert "schema=ohlcv-1m" in message and DEFAULT_KEY not in message
    assert not list((tmp_path / "downloads").rglob("*.json"))  # no job remembered


@pytest.mark.parametrize(
    ("size", "threshold_mb", "way"),
    [(4_000_000, 5, "stream"), (6_000_000, 5, "batch"), (6_000_000_000, 5000, "batch")],
)
def test_auto_sends_large_requests_as_batch_jobs_by_their_billable_size(
    api, tmp_path, size, threshold_mb, way
):
    api.billable_size = size
    source = live(api, tmp_path, transport="auto", batch_above_mb=threshold_mb)
    got, why = source.transport_for("ohlcv-1m", ["ES.FUT"], *WEEK)
    [asked] = api.calls(BILLABLE)
    assert asked.form["schema"] == "ohlcv-1m" and asked.form["stype_in"] == "parent"
    assert got == way and f"{size / 1e6:,.1f} MB billable" in why


def test_a_fixed_transport_asks_nothing(api, tmp_path):
    assert live(api, tmp_path, transport="stream").transport_for("trades", ["ES.FUT"], *WEEK)[0] == "stream"  # fmt: skip
    assert live(api, tmp_path).transport_for("trades", ["ES.FUT"], *WEEK)[0] == "batch"
    assert api.requests == []


# ---- a live run through Dagster ------------------------------------------------------------

DEFS = load_defs()
DAYS = ("2026-11-03", "2026-11-05")  # three weekdays of intraday partitions
PARENTS = ["CL.FUT", "ES.FUT"]


def run(warehouse: Path, job: str, partitions, run_config=None):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HEADWATER_WAREHOUSE", str(warehouse))
        result = run_job(
            DEFS, job, partitions, dg.DagsterInstance.ephemeral(), run_config=run_config
        )
    assert result.success
    return result


def canonical(warehouse: Path) -> list[tuple]:
    """The rows, but `parent`: the request a row came from (the replace key), which is one
    parent per sample file and the job's symbols in a batch job's files."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("SELECT * EXCLUDE (parent) FROM canonical.market_ohlcv_1m "
                           "ORDER BY ALL").fetchall()  # fmt: skip


def test_a_live_run_over_a_batch_job_loads_what_the_sample_run_loads(api, tmp_path):
    """The fake's batch job holds, day by day, the very sample files a sample-mode run
    reads: the live run (submit, wait, download, then the files path) gives identical
    canonical rows, and running it again reads its folder without a call."""
    symbols = ingest_run_config("ohlcv-1m", PARENTS)
    months = ("2026-11-01", "2026-11-01")
    defs_config = ingest_run_config("definition", PARENTS)
    sample = tmp_path / "sample.duckdb"
    run(sample, "market_definition", months, defs_config)
    live_wh = tmp_path / "live.duckdb"
    shutil.copy(sample, live_wh)
    run(sample, "market_ohlcv_1m", DAYS, symbols)

    sample_dir = Path(DatabentoSource().sample_dir)

    def day_file(form, day: datetime) -> bytes | None:
        """The day's records of the sample files, as Databento splits a job by day (the
        samples' records stamped outside their window, which rule M-R07 quarantines in the
        sample run, belong to no day's file)."""
        first = day.date()
        lo = int(day.replace(tzinfo=UTC).timestamp()) * 1_000_000_000
        hi = lo + 86_400 * 1_000_000_000
        dtype = dbn.record_dtype(form["schema"])
        head, kept = b"", []
        for parent in form["symbols"].split(","):  # the sample run's files: one per parent
            path = sample_data.ensure_sample(sample_dir, form["schema"], first,
                                             first + timedelta(days=1), [parent])  # fmt: skip
            raw = zstandard.ZstdDecompressor().decompress(Path(path).read_bytes(), 1 << 30)
            start = 8 + int.from_bytes(raw[4:8], "little")
            head = head or raw[:start]
            records = np.frombuffer(raw[start:], dtype=dtype)
            kept.append(records[(records["ts_event"] >= lo) & (records["ts_event"] < hi)])
        merged = np.concatenate(kept)
        merged = merged[np.argsort(merged["ts_event"], kind="stable")]
        return zstandard.ZstdCompressor().compress(head + merged.tobytes())

    api.data = day_file
    resource = {
        "mode": "live",
        "api_key": api.key,
        "gateway": api.gateway,
        "download_dir": str(tmp_path / "downloads"),
        "transport": "batch",
        **FAST,
    }
    config = symbols | {"resources": {"databento": {"config": resource}}}
    run(live_wh, "market_ohlcv_1m", DAYS, config)
    assert len(api.calls(SUBMIT)) == 1
    rows = canonical(live_wh)
    assert rows and rows == canonical(sample)
    api.requests.clear()
    run(live_wh, "market_ohlcv_1m", DAYS, config)
    assert api.requests == [] and canonical(live_wh) == rows
