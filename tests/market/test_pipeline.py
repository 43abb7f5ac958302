"""The market jobs run through Dagster (`headwater.cli.runs.run_job`, as the CLI runs them) on
temporary warehouses and sample DBN files: records conserved per parent and partition,
the dirt of a trades day in quarantine under its rule, prices and times transformed,
partitions replaced whole and one parent at a time, truncated files and missing
definitions refused, the checks, and the marts with both roll rules."""

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import databento as db
import duckdb
import numpy as np
import pytest
import zstandard

import assets.market.assets as market_assets
import assets.market.marts as market_marts
from assets.market import sample_data
from assets.market.config import Roll
from assets.market.definitions import ingest_run_config
from assets.market.validation import RULES
from headwater.cli.runs import load_defs, run_job
from tests.conftest import REPO_ROOT

DEFS = load_defs()
PARENTS = ("CL.FUT", "ES.FUT", "NG.FUT")
QUARTER = ("2024-01-01", "2024-03-01")  # three monthly partitions
JANUARY = ("2024-01-01", "2024-01-01")
TRADES_DAY = date(2026, 11, 4)  # a Wednesday; intraday partitions start 2026-11-01
MONTHLY_LOADED = ("definition", "statistics", "ohlcv-1d")
CHECKS = {"contracts_mapped", "unique_records", "prices_positive", "records_conserved"}
UNDEF_PRICE = np.iinfo(np.int64).max
CONTRACT = re.compile(r"^CL[FGHJKMNQUVXZ]\d$")


# ---- helpers --------------------------------------------------------------------------------


def job_of(schema: str) -> str:
    return "market_" + schema.replace("-", "_")


def table(layer: str, schema: str) -> str:
    return f"{layer}.market_{schema.replace('-', '_')}"


def run(warehouse: Path, job: str, partitions, run_config=None, tags=None, instance=None):
    """One run as `headwater ingest` launches it; the warehouse comes from
    HEADWATER_WAREHOUSE, as run_job reads it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HEADWATER_WAREHOUSE", str(warehouse))
        return run_job(
            DEFS,
            job,
            partitions,
            instance or dg.DagsterInstance.ephemeral(),
            tags=tags,
            run_config=run_config,
        )


def load(warehouse: Path, schema: str, partitions, symbols=None):
    config = ingest_run_config(schema, list(symbols)) if symbols else None
    result = run(warehouse, job_of(schema), partitions, run_config=config)
    assert result.success, failure_message(result)
    return result


def query(warehouse: Path, sql: str, params=None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def exists(warehouse: Path, name: str) -> bool:
    schema, name = name.split(".")
    [(n,)] = query(
        warehouse,
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, name],
    )
    return n == 1


def snapshot(warehouse: Path, schemas=MONTHLY_LOADED) -> dict[str, list[str] | None]:
    """Every row of every market table, sorted: what idempotency compares."""
    out = {}
    for schema in schemas:
        for layer in ("staging", "canonical", "quarantine"):
            name = table(layer, schema)
            out[name] = (
                sorted(map(repr, query(warehouse, f"SELECT * FROM {name}")))
                if exists(warehouse, name)
                else None
            )
    return out


def copy_warehouse(source: Path, dest: Path) -> Path:
    for path in source.parent.glob(source.name + "*"):
        if not path.name.endswith(".lock"):
            shutil.copy(path, dest.parent / path.name.replace(source.name, dest.name, 1))
    return dest


def failure_message(result) -> str:
    return "\n".join(
        e.event_specific_data.error.message
        for e in result.all_events
        if e.event_type_value == "STEP_FAILURE"
    )


def events_of(result, kind: str) -> list:
    return [e for e in result.all_events if e.event_type_value == kind]


def window(schema: str, partition: str) -> tuple[date, date]:
    start = date.fromisoformat(partition)
    if schema in ("trades", "ohlcv-1m"):
        return start, start + timedelta(days=1)
    return start, (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def sample_file(schema: str, partition: str, parent: str) -> Path:
    """The file the sample-mode source reads for one parent and partition."""
    root = Path(os.environ["HEADWATER_SAMPLE_DIR"]) / "market"
    return sample_data.sample_path(root, schema, *window(schema, partition), [parent])


def file_records(schema: str, partition: str, parent: str) -> np.ndarray:
    """The file's records, read by Databento's own client (not the pipeline's reader)."""
    return db.DBNStore.from_file(sample_file(schema, partition, parent)).to_ndarray()


def months(first: str, last: str) -> list[str]:
    out, day = [], date.fromisoformat(first)
    while day <= date.fromisoformat(last):
        out.append(day.isoformat())
        day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return out


def rows_by_parent(warehouse: Path, name: str, partition: str) -> Counter:
    if not exists(warehouse, name):
        return Counter()
    return Counter(
        dict(
            query(
                warehouse,
                f"SELECT parent, count(*) FROM {name} WHERE partition_date = ? GROUP BY parent",
                [date.fromisoformat(partition)],
            )
        )
    )


def staging_metadata(result, schema: str) -> dict[str, dict]:
    key = dg.AssetKey(["staging", f"market_{schema.replace('-', '_')}"])
    return {
        e.partition: {k: v.value for k, v in e.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()
        if e.asset_key == key
    }


def check_evaluations(result) -> dict[str, list]:
    out: dict[str, list] = {}
    for evaluation in result.get_asset_check_evaluations():
        out.setdefault(evaluation.check_name, []).append(evaluation)
    return out


# ---- a quarter of daily-resolution data, loaded once ----------------------------------------


@pytest.fixture(scope="module")
def quarter(tmp_path_factory):
    """Definitions, statistics and daily bars of January to March 2024 for the three
    configured parents, one run per schema (definitions first), on a fresh warehouse. A
    copy of the warehouse holding the definitions alone is kept for other tests."""
    root = tmp_path_factory.mktemp("market-quarter")
    warehouse = root / "warehouse.duckdb"
    results = {"definition": load(warehouse, "definition", QUARTER)}
    definitions_only = copy_warehouse(warehouse, root / "definitions_only.duckdb")
    for schema in ("statistics", "ohlcv-1d"):
        results[schema] = load(warehouse, schema, QUARTER)
    return {"warehouse": warehouse, "results": results, "definitions_only": definitions_only}


@pytest.mark.parametrize("schema", MONTHLY_LOADED)
def test_records_are_conserved_per_parent_and_partition(quarter, schema):
    """Records in each parent's file (counted by Databento's client) = its staged rows +
    its quarantined rows, partition by partition; the run's metadata says the same."""
    warehouse = quarter["warehouse"]
    metadata = staging_metadata(quarter["results"][schema], schema)
    assert set(metadata) == set(months(*QUARTER))
    for partition in months(*QUARTER):
        staged = rows_by_parent(warehouse, table("staging", schema), partition)
        held = rows_by_parent(warehouse, table("quarantine", schema), partition)
        canonical = rows_by_parent(warehouse, table("canonical", schema), partition)
        in_files = {p: len(file_records(schema, partition, p)) for p in PARENTS}
        for parent in PARENTS:
            assert in_files[parent] > 0, (partition, parent)
            assert in_files[parent] == staged[parent] + held[parent], (partition, parent)
            if schema == "ohlcv-1d":  # one canonical row per staged bar
                assert canonical[parent] == staged[parent], (partition, parent)
            else:  # the latest publication per key
                assert 0 < canonical[parent] <= staged[parent], (partition, parent)
        meta = metadata[partition]
        assert meta["records_in"] == sum(in_files.values())
        assert meta["rows_loaded"] == meta["dagster/row_count"] == sum(staged.values())
        assert meta["rows_quarantined"] == sum(held.values())
        assert sum(meta["quarantined_by_rule"].values()) == meta["rows_quarantined"]


def test_canonical_daily_bars_are_the_staged_bars_in_usd(quarter):
    """Each staged bar (fixed point, x 1e9; ns times) is one canonical bar in USD at its
    UTC calendar day, with its contract and root."""
    warehouse = quarter["warehouse"]
    staged = query(
        warehouse,
        "SELECT instrument_id, ts_event, open, high, low, close, volume, parent "
        "FROM staging.market_ohlcv_1d",
    )
    canonical = query(
        warehouse,
        "SELECT instrument_id, epoch_ns(bar_date), open, high, low, close, volume, root, "
        "contract, bar_date FROM canonical.market_ohlcv_1d",
    )
    assert len(staged) == len(canonical) > 0
    expected = sorted(
        (i, t, o / 1e9, h / 1e9, lo / 1e9, c / 1e9, v, parent)
        for i, t, o, h, lo, c, v, parent in staged
    )
    got = sorted(row[:8] for row in canonical)
    assert [g[:2] + g[6:] for g in got] == [e[:2] + e[6:] for e in expected]
    for g, e in zip(got, expected, strict=True):
        assert g[2:6] == pytest.approx(e[2:6], rel=1e-12)
    for *_, root, contract, bar_date in canonical:
        bar_date = bar_date.astimezone(UTC)  # an instant (TIMESTAMPTZ), whatever the zone
        assert (bar_date.hour, bar_date.minute) == (0, 0)  # a UTC calendar day
        assert contract.startswith(root.removesuffix(".FUT"))


@pytest.mark.parametrize("schema", MONTHLY_LOADED)
def test_quarantine_rows_name_rule_reason_file_and_raw_record(quarter, schema):
    """Every rejected record: a known rule id and its reason, the file and the record's
    position in it, and the record as received (which is that record of the file)."""
    rows = query(
        quarter["warehouse"],
        f"SELECT rule_id, reason, origin, raw_record, parent, "
        f"strftime(partition_date, '%Y-%m-%d') FROM {table('quarantine', schema)}",
    )
    if schema != "ohlcv-1d":  # a month of one parent's daily bars is too small for dirt
        assert rows
    files = {}
    for rule_id, reason, origin, raw, parent, partition in rows:
        assert rule_id in RULES and reason == RULES[rule_id]
        name, _, position = origin.partition("#")
        path = Path(name) if Path(name).is_absolute() else REPO_ROOT / name
        assert path.resolve() == sample_file(schema, partition, parent).resolve(), origin
        record = json.loads(raw)
        assert isinstance(record, dict) and {"instrument_id", "ts_event"} <= set(record)
        if position.startswith("record="):  # the record's place in the file: check it
            key = (partition, parent)
            if key not in files:
                files[key] = file_records(schema, partition, parent)
            original = files[key][int(position.removeprefix("record="))]
            assert record["instrument_id"] == int(original["instrument_id"])
            assert record["ts_event"] == int(original["ts_event"])


@pytest.mark.parametrize("schema", MONTHLY_LOADED)
def test_post_transformation_checks_run_and_pass_on_sample_data(quarter, schema):
    evaluations = check_evaluations(quarter["results"][schema])
    assert set(evaluations) == CHECKS
    for name, found in evaluations.items():
        assert len(found) == 1, name
        assert found[0].passed, (name, found[0].metadata)
    assert evaluations["records_conserved"][0].asset_key.path[0] == "staging"
    assert evaluations["unique_records"][0].asset_key.path[0] == "canonical"


# ---- a trades day ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trades_day(tmp_path_factory):
    """CL.FUT trades of one day, after CL.FUT's definitions of that month."""
    warehouse = tmp_path_factory.mktemp("market-trades") / "warehouse.duckdb"
    month = TRADES_DAY.replace(day=1).isoformat()
    load(warehouse, "definition", (month, month), ["CL.FUT"])
    day = TRADES_DAY.isoformat()
    result = load(warehouse, "trades", (day, day), ["CL.FUT"])
    return warehouse, result


def expected_rejections(records: np.ndarray, known_ids: set[int]) -> Counter:
    """The documented dirt of a trades file, found independently of the pipeline: each
    record under the first rule (in id order) it breaks."""
    start, end = (int(datetime.combine(d, datetime.min.time(), UTC).timestamp()) * 10**9
                  for d in window("trades", TRADES_DAY.isoformat()))  # fmt: skip
    as_bytes = [r.tobytes() for r in records]
    seen: set[bytes] = set()
    duplicate = np.zeros(len(records), dtype=bool)
    for i, raw in enumerate(as_bytes):
        duplicate[i] = raw in seen
        seen.add(raw)
    ts = records["ts_event"].astype(np.int64)
    rules = [
        ("M-R01", records["price"] == UNDEF_PRICE),
        ("M-R06", records["size"] == 0),
        ("M-R07", (ts < start) | (ts >= end)),
        ("M-R08", ~np.isin(records["instrument_id"], list(known_ids))),
        ("M-R09", duplicate),
    ]
    taken = np.zeros(len(records), dtype=bool)
    out = Counter()
    for rule, hit in rules:
        out[rule] = int((hit & ~taken).sum())
        taken |= hit
    return out


def test_trades_dirt_lands_in_quarantine_under_its_rule(trades_day):
    warehouse, result = trades_day
    day = TRADES_DAY.isoformat()
    records = file_records("trades", day, "CL.FUT")
    month = TRADES_DAY.replace(day=1).isoformat()
    known = {int(i) for i in file_records("definition", month, "CL.FUT")["instrument_id"]}
    expected = expected_rejections(records, known)
    assert all(expected[r] > 0 for r in ("M-R01", "M-R06", "M-R07", "M-R08", "M-R09")), expected
    held = Counter(
        dict(query(warehouse, "SELECT rule_id, count(*) FROM quarantine.market_trades GROUP BY 1"))
    )
    assert held == expected
    [(staged,)] = query(warehouse, "SELECT count(*) FROM staging.market_trades")
    [(canonical,)] = query(warehouse, "SELECT count(*) FROM canonical.market_trades")
    assert len(records) == staged + held.total() and canonical == staged
    meta = staging_metadata(result, "trades")[day]
    assert meta["quarantined_by_rule"] == dict(expected)
    evaluations = check_evaluations(result)
    assert set(evaluations) == CHECKS and all(e[0].passed for e in evaluations.values())


def test_canonical_trades_are_floats_in_utc_with_contract_and_root(trades_day):
    warehouse, _ = trades_day
    rows = query(
        warehouse,
        "SELECT price, traded_at, received_at, contract, root, epoch_ns(traded_at), "
        "instrument_id, sequence FROM canonical.market_trades",
    )
    assert rows
    start = datetime.combine(TRADES_DAY, datetime.min.time(), UTC)
    for price, traded_at, received_at, contract, root, _, _, _ in rows:
        assert isinstance(price, float) and 20 < price < 200, price  # USD, not x 1e9
        assert traded_at.tzinfo is not None and received_at.tzinfo is not None  # instants
        assert start <= traded_at < start + timedelta(days=1)
        assert received_at >= traded_at
        assert CONTRACT.fullmatch(contract), contract
        assert root == "CL.FUT"
    # The same trades as staged: ns times to UTC instants, fixed-point prices / 1e9.
    staged = query(
        warehouse, "SELECT ts_event, instrument_id, sequence, price FROM staging.market_trades"
    )
    by_key = {(t, i, s): p for t, i, s, p in staged}
    assert len(by_key) == len(staged) == len(rows)
    for price, *_, ns, instrument_id, sequence in rows:
        assert price == pytest.approx(by_key[(ns, instrument_id, sequence)] / 1e9, rel=1e-12)


@pytest.mark.parametrize("chunk_records", [1_000, 500_000])
def test_a_duplicate_far_from_its_original_is_quarantined_whatever_the_chunk_size(
    trades_day, tmp_path, chunk_records
):
    """A copy of record #500 appended at the end of the day's file: many chunks of 1,000
    away from its original, or in the same chunk, it goes to quarantine under M-R09 and
    staging and canonical keep the rows they had."""
    warehouse = copy_warehouse(trades_day[0], tmp_path / "far.duckdb")
    day = TRADES_DAY.isoformat()
    counts = (
        "SELECT (SELECT count(*) FROM staging.market_trades), "
        "(SELECT count(*) FROM canonical.market_trades)"
    )
    [before] = query(warehouse, counts)
    held = "SELECT rule_id, origin FROM quarantine.market_trades"
    held_before = query(warehouse, held)
    path = sample_file("trades", day, "CL.FUT")
    records = file_records("trades", day, "CL.FUT")
    assert not [o for _, o in held_before if o.endswith("#record=500")]  # a clean record
    good = path.read_bytes()
    body = zstandard.ZstdDecompressor().stream_reader(good).read()
    try:
        path.write_bytes(zstandard.ZstdCompressor().compress(body + records[500].tobytes()))
        with pytest.MonkeyPatch.context() as mp:
            config = market_assets.CONFIG.model_copy(update={"chunk_records": chunk_records})
            mp.setattr(market_assets, "CONFIG", config)
            result = load(warehouse, "trades", (day, day), ["CL.FUT"])
    finally:
        path.write_bytes(good)
    assert query(warehouse, counts) == [before]
    added = Counter(query(warehouse, held)) - Counter(held_before)
    # The copy, the file's last record, under M-R09; nothing else changed.
    assert [(rule, Path(origin).name) for rule, origin in added.elements()] == [
        ("M-R09", f"{path.name}#record={len(records)}")
    ]
    assert Counter(held_before) <= Counter(query(warehouse, held))
    evaluations = check_evaluations(result)
    assert all(e[0].passed for e in evaluations.values()), evaluations


def test_an_unknown_root_fails_at_once_naming_it(quarter, tmp_path):
    """In sample mode a root the generator does not know: one attempt, one line."""
    warehouse = copy_warehouse(quarter["definitions_only"], tmp_path / "unknown.duckdb")
    config = ingest_run_config("definition", ["ZZ.FUT"])
    result = run(warehouse, "market_definition", JANUARY, run_config=config)
    assert not result.success
    message = failure_message(result)
    known = "CL.FUT, ES.FUT, NG.FUT in GLBX.MDP3; BRN.FUT in IFEU.IMPACT"
    assert f"unknown root 'ZZ.FUT' (roots: {known})" in message, message
    assert "\n" not in message.strip() and "Traceback" not in message, message
    assert len(events_of(result, "STEP_START")) == 1
    assert not events_of(result, "STEP_UP_FOR_RETRY") and not events_of(result, "STEP_RESTARTED")


def test_a_file_of_another_schema_fails_at_once_naming_both_schemas(trades_day, tmp_path):
    """A trades file where the one-minute bars of that day should be: one attempt, one line
    naming the file, what it holds and what was expected; nothing loaded."""
    warehouse = copy_warehouse(trades_day[0], tmp_path / "schema.duckdb")
    day = TRADES_DAY.isoformat()
    path = sample_file("ohlcv-1m", day, "CL.FUT")
    kept = path.read_bytes() if path.exists() else None
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(sample_file("trades", day, "CL.FUT"), path)
    try:
        config = ingest_run_config("ohlcv-1m", ["CL.FUT"])
        result = run(warehouse, "market_ohlcv_1m", (day, day), run_config=config)
    finally:
        if kept is None:
            path.unlink()
        else:
            path.write_bytes(kept)
    assert not result.success
    message = failure_message(result)
    assert path.name in message and "holds trades records, expected ohlcv-1m" in message, message
    assert "\n" not in message.strip() and "no field" not in message, message
    assert len(events_of(result, "STEP_START")) == 1
    assert not events_of(result, "STEP_UP_FOR_RETRY") and not events_of(result, "STEP_RESTARTED")
    assert not exists(warehouse, "staging.market_ohlcv_1m")


# ---- replacement ----------------------------------------------------------------------------


def test_the_same_partitions_twice_leave_the_same_tables(quarter, tmp_path):
    warehouse = copy_warehouse(quarter["definitions_only"], tmp_path / "again.duckdb")
    definitions = snapshot(warehouse, ["definition"])
    load(warehouse, "definition", JANUARY)
    assert snapshot(warehouse, ["definition"]) == definitions
    for schema in ("statistics", "ohlcv-1d"):
        load(warehouse, schema, JANUARY)
    first = snapshot(warehouse)
    assert first[table("quarantine", "statistics")]  # dirt included in what is compared
    for schema in ("statistics", "ohlcv-1d"):
        load(warehouse, schema, JANUARY)
    assert snapshot(warehouse) == first


MARKERS = {  # a change a reload of the partition would undo
    "staging": "publisher_id = 999",
    "canonical": "contract = 'MARKER'",
    "quarantine": "reason = 'MARKER'",
}


@pytest.mark.parametrize("schema", ["ohlcv-1d", "statistics"])
def test_loading_one_parent_leaves_the_other_parents_rows_untouched(quarter, tmp_path, schema):
    warehouse = copy_warehouse(quarter["definitions_only"], tmp_path / "parents.duckdb")
    load(warehouse, schema, JANUARY)
    loaded = snapshot(warehouse, [schema])
    with duckdb.connect(str(warehouse)) as con:
        for layer, change in MARKERS.items():
            con.execute(f"UPDATE {table(layer, schema)} SET {change}")
    marked = snapshot(warehouse, [schema])

    load(warehouse, schema, JANUARY, symbols=["CL.FUT"])

    after = snapshot(warehouse, [schema])
    for name in after:
        if name.startswith("quarantine") and schema == "ohlcv-1d":
            continue  # no dirt in these small files
        cl_before = [r for r in loaded[name] if "'CL.FUT'" in r]
        others_marked = [r for r in marked[name] if "'CL.FUT'" not in r]
        assert cl_before and others_marked, name
        assert [r for r in after[name] if "'CL.FUT'" in r] == cl_before, name
        assert [r for r in after[name] if "'CL.FUT'" not in r] == others_marked, name


def test_a_truncated_file_fails_the_run_and_keeps_the_previous_rows(quarter, tmp_path):
    warehouse = copy_warehouse(quarter["definitions_only"], tmp_path / "truncated.duckdb")
    load(warehouse, "ohlcv-1d", JANUARY)
    before = snapshot(warehouse)
    path = sample_file("ohlcv-1d", JANUARY[0], "NG.FUT")  # the last parent the run loads
    good = path.read_bytes()
    try:
        cut = sample_data.truncate(path, 0.6, tmp_path / "cut.dbn.zst")
        os.replace(cut, path)
        result = run(warehouse, "market_ohlcv_1d", JANUARY)
    finally:
        path.write_bytes(good)
    assert not result.success
    message = failure_message(result)
    assert path.name in message and "truncated" in message, message
    assert len(events_of(result, "STEP_START")) == 1  # a sample file will not heal: no retry
    assert not events_of(result, "STEP_UP_FOR_RETRY")
    assert snapshot(warehouse) == before


def test_without_the_months_definitions_the_run_fails_once_naming_them(quarter, tmp_path):
    """January's definitions are loaded, February's are not: February's bars are refused
    before anything is read or written, at the first attempt."""
    warehouse = copy_warehouse(quarter["definitions_only"], tmp_path / "nodefs.duckdb")
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "DELETE FROM canonical.market_definition WHERE partition_date >= DATE '2024-02-01'"
        )
    result = run(warehouse, "market_ohlcv_1d", ("2024-02-01", "2024-02-01"))
    assert not result.success
    message = failure_message(result)
    assert "canonical.market_definition" in message and "2024-02" in message, message
    assert len(events_of(result, "STEP_START")) == 1
    assert not events_of(result, "STEP_UP_FOR_RETRY") and not events_of(result, "STEP_RESTARTED")
    assert not exists(warehouse, "staging.market_ohlcv_1d")
    # January, whose definitions are there, loads.
    assert run(warehouse, "market_ohlcv_1d", JANUARY).success


# ---- the marts ------------------------------------------------------------------------------


def build_marts(quarter, dest: Path, method: str, days: int = 5, tz: str | None = None):
    warehouse = copy_warehouse(quarter["warehouse"], dest)
    roll = Roll(method=method, days_before_expiry=days)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(market_marts, "CONFIG", market_marts.CONFIG.model_copy(update={"roll": roll}))
        if tz:
            mp.setenv("TZ", tz)  # the dbt subprocess's DuckDB takes its session time zone
        result = run(warehouse, "market_marts_refresh", None)
    assert result.success, failure_message(result)
    return warehouse


@pytest.fixture(scope="module")
def marts_open_interest(quarter, tmp_path_factory):
    return build_marts(quarter, tmp_path_factory.mktemp("marts") / "oi.duckdb", "open_interest")


def front_rows(warehouse):
    return query(
        warehouse,
        "SELECT root, bar_date, contract, instrument_id, expiration, close, roll_rule "
        "FROM marts.market_front_month_daily ORDER BY root, bar_date",
    )


def bars_by_day(warehouse) -> dict[tuple[str, date], dict[int, tuple]]:
    """Canonical daily bars per root and UTC day: {instrument_id: (close, expiration)}."""
    rows = query(
        warehouse,
        "WITH newest AS (SELECT instrument_id, expiration FROM canonical.market_definition "
        "QUALIFY row_number() OVER (PARTITION BY instrument_id ORDER BY defined_at DESC) = 1) "
        "SELECT b.root, b.bar_date, b.instrument_id, b.close, n.expiration "
        "FROM canonical.market_ohlcv_1d b JOIN newest n USING (instrument_id)",
    )
    out: dict = {}
    for root, bar_date, instrument_id, close, expiration in rows:
        day = bar_date.astimezone(UTC).date()
        out.setdefault((root, day), {})[instrument_id] = (close, expiration)
    return out


def test_front_month_is_one_bar_per_root_and_day_rolling_only_forward(marts_open_interest):
    warehouse = marts_open_interest
    rows = front_rows(warehouse)
    bars = bars_by_day(warehouse)
    assert {(root, day) for root, day, *_ in rows} == set(bars)  # every day, once
    assert len(rows) == len(bars)
    by_root: dict[str, list] = {}
    for root, day, contract, instrument_id, expiration, close, rule in rows:
        assert rule == "open_interest"
        assert day <= expiration.astimezone(UTC).date()
        assert close == bars[(root, day)][instrument_id][0]  # the contract's own bar
        by_root.setdefault(root, []).append((expiration, contract))
    assert set(by_root) == set(PARENTS)
    for root, series in by_root.items():
        expirations = [e for e, _ in series]
        assert expirations == sorted(expirations), root  # rolls only forward
    assert len({c for _, c in by_root["CL.FUT"]}) >= 3  # monthly CL rolled in the quarter


def test_contract_settlements_are_unique_per_contract_and_day(marts_open_interest):
    rows = query(
        marts_open_interest,
        "SELECT instrument_id, trading_date, count(*) FROM marts.market_contract_settlements "
        "GROUP BY ALL",
    )
    assert len(rows) > 100 and all(n == 1 for *_, n in rows)


def test_days_before_expiry_picks_the_nearest_contract_far_enough_from_expiry(quarter, tmp_path):
    days = 10  # not the default (5), so the setting must reach the model
    warehouse = build_marts(quarter, tmp_path / "dbe.duckdb", "days_before_expiry", days)
    rows = front_rows(warehouse)
    bars = bars_by_day(warehouse)
    expected = {}
    for (root, day), contracts in bars.items():
        eligible = [
            (expiration, instrument_id)
            for instrument_id, (_, expiration) in contracts.items()
            if day < (expiration.astimezone(UTC) - timedelta(days=days)).date()
        ]
        if eligible:
            expected[(root, day)] = min(eligible)[1]
    assert rows and {(root, day): i for root, day, _, i, *_ in rows} == expected
    assert len(rows) == len(expected)
    for _, day, _, _, expiration, _, rule in rows:
        assert rule == "days_before_expiry"
        assert datetime.combine(day, datetime.min.time(), UTC) < expiration - timedelta(days=days)


def test_marts_keep_utc_bar_days_whatever_the_machines_time_zone(
    quarter, marts_open_interest, tmp_path
):
    """Daily bars are UTC calendar days; a machine in Chicago gets the same marts."""
    chicago = build_marts(
        quarter, tmp_path / "chicago.duckdb", "open_interest", tz="America/Chicago"
    )
    assert front_rows(chicago) == front_rows(marts_open_interest)
    settlements = "SELECT * FROM marts.market_contract_settlements ORDER BY ALL"
    assert query(chicago, settlements) == query(marts_open_interest, settlements)


def test_dagster_cli_materializes_one_market_asset_of_its_step(tmp_path):
    """`dagster asset materialize --select staging/market_trades --partition DAY`, as the
    README teaches for one asset: the step that writes staging and canonical together
    writes the selected one alone (it was a DagsterInvalidSubsetError traceback)."""
    warehouse = tmp_path / "warehouse.duckdb"
    month = TRADES_DAY.replace(day=1).isoformat()
    load(warehouse, "definition", (month, month), PARENTS)
    day = TRADES_DAY.isoformat()
    home = tmp_path / "dagster_home"
    home.mkdir()
    done = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "asset", "materialize", "-f",
         "definitions.py", "--select", "staging/market_trades", "--partition", day],
        cwd=REPO_ROOT,
        env=os.environ | {"HEADWATER_WAREHOUSE": str(warehouse), "DAGSTER_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    staged = query(warehouse, f"SELECT count(*) FROM {table('staging', 'trades')}")[0][0]
    assert staged > 0
    assert not exists(warehouse, table("canonical", "trades"))  # not selected: not written
