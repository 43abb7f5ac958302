"""The intraday schemas added beside bars, trades, statistics and definitions: ohlcv-1s,
ohlcv-1h, tbbo, mbp-1, bbo-1s, bbo-1m and status. Databento's own file of each loads end to
end (`headwater ingest --files`, the definitions first), every record counted; each new
record rule quarantines a crafted record, and what it must not reject stays; sample mode
generates each schema with its dirt and loads it; mbo and mbp-10 are refused in one line;
the demo and the schedule load what they loaded before."""

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import databento_dbn as dbn_lib
import duckdb
import numpy as np
import pytest

from assets.market import dbn, files, sample_data, transform, validation
from assets.market.assets import load_assets, load_partition, op_name
from assets.market.config import SCHEMAS
from assets.market.definitions import DOMAIN, job_name, market_source
from assets.market.ingest import MarketIngest
from assets.market.keys import canonical_key, staging_key, table_name
from assets.market.lookups import symbol_table
from assets.market.sample_intraday import DIRT
from assets.market.sample_records import DIRT_MIN_PER_KIND, DIRT_RATE
from definitions import defs
from headwater.plans import BadParameter, IngestRequest
from resources.warehouse import DuckDBWarehouse
from tests.conftest import REPO_ROOT

NEW = ("ohlcv-1s", "ohlcv-1h", "tbbo", "mbp-1", "bbo-1s", "bbo-1m", "status")
QUOTES = ("tbbo", "mbp-1", "bbo-1s", "bbo-1m")
REAL = REPO_ROOT / "tests" / "data" / "real" / "databento"
GLBX = REAL / "GLBX.MDP3"
DAY = (date(2020, 12, 28), date(2020, 12, 29))  # the real files' day
SETTINGS = "market:\n  start_date: 2020-12-01\n  intraday_start_date: 2020-12-01\n"
UNDEF = np.int64(2**63 - 1)
DAY_NS = 86_400 * 1_000_000_000
BIN = Path(sys.executable).parent


def real(schema: str) -> Path:
    return GLBX / f"test_data.{schema}.dbn.zst"


def records(path: Path, schema: str | None = None) -> np.ndarray:
    chunks = list(dbn.read_chunks(path, schema=schema))
    return np.concatenate(chunks) if chunks else np.empty(0, dbn.record_dtype(schema))


def day_of(ns) -> str:
    return str(np.datetime64(int(ns) // DAY_NS, "D"))


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


def query(warehouse: Path, sql: str, params=None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


# ---- Databento's own files -----------------------------------------------------------------


@pytest.mark.parametrize("schema", NEW)
def test_each_real_file_holds_the_record_types_its_schema_expects(schema):
    info = dbn.read_info(real(schema))
    assert (info.dataset, info.schema) == ("GLBX.MDP3", schema)
    got = records(real(schema), schema)  # read_chunks refuses a record type not expected
    assert len(got) and got.dtype == dbn.record_dtype(schema)
    assert set(got["rtype"].tolist()) <= dbn.expected_rtypes(schema)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    """The seven real files and their definition through `headwater ingest --files`, as a
    user loads files they have: the planner runs the definitions first, then each schema."""
    tmp = tmp_path_factory.mktemp("ingest")
    settings = tmp / "headwater.yaml"
    settings.write_text(SETTINGS)
    paths = [str(real("definition"))] + [str(real(s)) for s in NEW]
    done = headwater(tmp, "ingest", "--api", "databento", "--files", *paths,
                     "--config", str(settings), "--log-format", "json")  # fmt: skip
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    loads = {e["schema"]: e for e in events if e.get("stage") == "partition_done"}
    return done, loads, tmp / "warehouse.duckdb"


def test_the_files_load_as_one_run_per_schema_the_definitions_first(ingested):
    done, loads, _ = ingested
    assert done.returncode == 0, done.stderr
    runs = [json.loads(line)["runs"] for line in done.stdout.splitlines() if '"summary"' in line]
    jobs = [r["job"] for r in runs[0]]
    assert jobs[0] == "market_definition"
    assert sorted(jobs[1:]) == sorted(job_name(s) for s in NEW)
    assert all(r["success"] for r in runs[0])
    assert set(loads) == {"definition", *NEW}


@pytest.mark.parametrize("schema", NEW)
def test_every_real_record_is_counted_and_lands_in_its_tables(ingested, schema):
    _, loads, warehouse = ingested
    load = loads[schema]
    raw = records(real(schema), schema)
    assert load["records_in"] == len(raw) > 0
    assert load["records_in"] == load["loaded"] + load["quarantined"]
    assert load["loaded"] == load["canonical_rows"] + load["superseded"]
    name = table_name(schema)
    [(staged,)] = query(warehouse, f"SELECT count(*) FROM staging.{name}")
    [(canonical,)] = query(warehouse, f"SELECT count(*) FROM canonical.{name}")
    quarantined = query(warehouse, f"SELECT count(*) FROM quarantine.{name}")
    assert (staged, canonical) == (load["loaded"], load["canonical_rows"])
    assert quarantined[0][0] == load["quarantined"]
    # The product comes from the definition (a raw-symbol request for ESH1).
    assert query(warehouse, f"SELECT DISTINCT contract, root FROM canonical.{name}") == [
        ("ESH1", "ES.FUT")
    ]


@pytest.mark.parametrize("schema", NEW)
def test_each_record_goes_to_the_day_of_its_dating_field(ingested, schema):
    """Quotes and status by ts_recv (Databento's index time for them), bars by ts_event: a
    bbo whose last update was the evening before, received at midnight, is that day's."""
    _, _, warehouse = ingested
    raw = records(real(schema), schema)
    field = dbn.time_field(schema)
    expected = sorted({day_of(t) for t in raw[field]})
    got = query(warehouse, f"SELECT DISTINCT partition_date FROM staging.{table_name(schema)}")
    assert sorted(str(d) for (d,) in got) == expected
    if schema in ("bbo-1s", "bbo-1m", "status"):
        assert {day_of(t) for t in raw["ts_event"]} != set(expected)  # the case it is about


@pytest.mark.parametrize("schema", QUOTES)
def test_canonical_quotes_are_in_dollars_with_spread_and_mid(ingested, schema):
    _, _, warehouse = ingested
    raw = records(real(schema), schema)
    bid, ask = raw["bid_px_00"] / 1e9, raw["ask_px_00"] / 1e9
    received = "received_at" if schema in ("tbbo", "mbp-1") else "sampled_at"  # ts_recv
    rows = query(
        warehouse,
        f"SELECT bid_price, ask_price, spread, mid FROM canonical.{table_name(schema)} "
        f"ORDER BY {received}",
    )
    order = np.argsort(raw["ts_recv"], kind="stable")
    assert [r[:2] for r in rows] == list(zip(bid[order].tolist(), ask[order].tolist(), strict=True))
    for b, a, spread, mid in rows:
        assert spread == pytest.approx(a - b) and mid == pytest.approx((a + b) / 2)


def test_status_codes_and_flags_are_kept_as_databento_sends_them(ingested):
    _, _, warehouse = ingested
    raw = records(real("status"), "status")
    rows = query(
        warehouse,
        "SELECT action, reason, trading_event, is_trading, is_quoting FROM "
        "canonical.market_status ORDER BY received_at",
    )
    expected = [
        (int(r["action"]), int(r["reason"]), int(r["trading_event"]),
         r["is_trading"].decode(), r["is_quoting"].decode())
        for r in raw[np.argsort(raw["ts_recv"], kind="stable")]
    ]  # fmt: skip
    assert rows == expected


# ---- record rules ---------------------------------------------------------------------------


def rejected(schema: str, rows: np.ndarray, window=DAY) -> dict[int, str]:
    known = validation.known_instruments(records(real("definition"), "definition"))
    checked = validation.validate(schema, rows, window, known)
    return dict(zip(checked.rejected_index.tolist(), checked.rule_id.tolist(), strict=True))


def crafted(schema: str, change) -> np.ndarray:
    """The real file's records and, last, a copy of its first record changed by `change`."""
    rows = records(real(schema), schema)
    bad = rows[:1].copy()
    change(bad)
    return np.concatenate([rows, bad])


def _set(**values):
    def change(row):
        for name, value in values.items():
            row[name] = value(row) if callable(value) else value

    return change


BAD_RECORDS = [
    # (schema, change, rule)
    ("tbbo", _set(bid_px_00=lambda r: r["ask_px_00"] + 250_000_000), "M-R12"),
    ("mbp-1", _set(bid_px_00=lambda r: r["ask_px_00"] + 250_000_000), "M-R12"),
    ("bbo-1s", _set(bid_px_00=lambda r: r["ask_px_00"] + 250_000_000), "M-R12"),
    ("bbo-1m", _set(ask_px_00=lambda r: r["bid_px_00"] - 250_000_000), "M-R12"),
    ("tbbo", _set(bid_px_00=UNDEF), "M-R13"),
    ("mbp-1", _set(ask_px_00=UNDEF), "M-R13"),
    ("bbo-1s", _set(ask_px_00=UNDEF), "M-R13"),
    ("bbo-1m", _set(bid_px_00=UNDEF), "M-R13"),
    ("tbbo", _set(bid_sz_00=2**32 - 3), "M-R05"),
    ("bbo-1s", _set(ask_ct_00=2**32 - 1), "M-R05"),
    ("tbbo", _set(price=UNDEF), "M-R01"),
    ("mbp-1", _set(price=UNDEF), "M-R01"),
    ("tbbo", _set(size=0), "M-R06"),
    ("status", _set(action=42), "M-R14"),
    ("status", _set(reason=7), "M-R14"),
    ("status", _set(trading_event=9), "M-R14"),
    ("status", _set(is_trading=b"X"), "M-R15"),
    ("status", _set(is_short_sell_restricted=b"1"), "M-R15"),
    ("status", _set(instrument_id=9_000_001), "M-R08"),
    ("bbo-1s", _set(ts_recv=DAY_NS * (DAY[1] - date(1970, 1, 1)).days), "M-R07"),
]


@pytest.mark.parametrize("schema, change, rule", BAD_RECORDS)
def test_a_crafted_bad_record_meets_its_rule(schema, change, rule):
    rows = crafted(schema, change)
    assert rejected(schema, rows) == {len(rows) - 1: rule}
    assert rule in validation.SCHEMA_RULES[schema]


KEPT = [
    # An empty book side is a real one-sided book, not an error: kept, its price null.
    ("bbo-1s", _set(bid_px_00=UNDEF, bid_sz_00=0, bid_ct_00=0)),
    ("tbbo", _set(ask_px_00=UNDEF, ask_sz_00=0, ask_ct_00=0)),
    # A bbo's price is the last trade's: none yet is not an error.
    ("bbo-1m", _set(price=UNDEF, size=0)),
    # An mbp-1 book clear has no price.
    ("mbp-1", _set(action=b"R", price=UNDEF, size=0, sequence=1)),
    # A locked book (bid = ask) is not crossed.
    ("tbbo", _set(bid_px_00=lambda r: r["ask_px_00"], sequence=1)),
    # A bbo dated by its receipt: its last update the evening before is still this day's.
    ("bbo-1s", _set(ts_event=lambda r: r["ts_recv"] - DAY_NS // 2, sequence=1)),
]


@pytest.mark.parametrize("schema, change", KEPT)
def test_what_a_rule_must_not_reject_is_kept(schema, change):
    assert rejected(schema, crafted(schema, change)) == {}


def crafted_file(tmp_path: Path, schema: str, rows: np.ndarray) -> Path:
    """A plain DBN file of `rows`, with the metadata a raw-symbol request for ESH1 has."""
    metadata = dbn_lib.Metadata(
        dataset="GLBX.MDP3",
        start=DAY_NS * (DAY[0] - date(1970, 1, 1)).days,
        stype_in=dbn_lib.SType.RAW_SYMBOL,
        stype_out=dbn_lib.SType.INSTRUMENT_ID,
        schema=dbn_lib.Schema(schema),
        symbols=["ESH1"],
    )
    path = tmp_path / f"crafted.{schema}.dbn"
    path.write_bytes(bytes(metadata) + rows.tobytes())
    return path


@pytest.mark.parametrize("schema, change, rule", [c for c in BAD_RECORDS if c[2] >= "M-R12"])
def test_the_load_quarantines_a_crafted_record_under_its_rule(tmp_path, schema, change, rule):
    """Through the load itself (DuckDB): the record is in quarantine with its rule, reason
    and position, the others staged and transformed."""
    warehouse = DuckDBWarehouse(path=str(tmp_path / "wh.duckdb"))
    rows = crafted(schema, change)
    path = crafted_file(tmp_path, schema, rows)
    with warehouse.session() as con:
        load_partition(warehouse, con, real("definition"), "definition", "definition",
                       "2020-12-01", "ESH1", transform.load_schema_rules("definition"), None,
                       1000)  # fmt: skip
        load = load_partition(warehouse, con, path, path.name, schema, str(DAY[0]), "ESH1",
                              transform.load_schema_rules(schema), symbol_table(warehouse, "GLBX.MDP3", con),
                              1000)  # fmt: skip
    assert load.records_in == len(rows) == load.staged + load.quarantined
    assert load.quarantined_by_rule == {rule: 1}
    name = table_name(schema)
    [(rule_id, reason, origin)] = query(
        tmp_path / "wh.duckdb", f"SELECT rule_id, reason, origin FROM quarantine.{name}"
    )
    assert (rule_id, reason) == (rule, validation.RULES[rule])
    assert origin == f"{path.name}#record={len(rows) - 1}"
    [(canonical,)] = query(tmp_path / "wh.duckdb", f"SELECT count(*) FROM canonical.{name}")
    assert canonical == load.staged == len(rows) - 1


# ---- sample data ----------------------------------------------------------------------------

KIND_RULE = {
    "undef_price": "M-R01",
    "high_below_low": "M-R02",
    "open_above_high": "M-R03",
    "close_below_low": "M-R04",
    "negative_size": "M-R05",
    "zero_volume": "M-R06",
    "outside_window": "M-R07",
    "unknown_instrument": "M-R08",
    "duplicate": "M-R09",
    "crossed_book": "M-R12",
    "undef_bid_ask": "M-R13",
    "unknown_action": "M-R14",
    "unknown_reason": "M-R14",
    "bad_flag": "M-R15",
}
SUNDAY = date(2026, 11, 1)  # Globex opens at 23:00 UTC: an hour of trading, small files
MONDAY = date(2026, 11, 2)
ROOTS = ("CL.FUT", "ES.FUT", "NG.FUT")
# Windows large enough for every kind of the schema's dirt (smaller files carry fewer kinds).
DIRTY = {
    "ohlcv-1s": ((SUNDAY, MONDAY), ["CL.FUT"]),
    "ohlcv-1h": ((MONDAY, MONDAY + timedelta(days=14)), list(ROOTS)),
    "tbbo": ((SUNDAY, MONDAY), ["CL.FUT"]),
    "mbp-1": ((SUNDAY, MONDAY), ["CL.FUT"]),
    "bbo-1s": ((SUNDAY, MONDAY), ["CL.FUT"]),
    "bbo-1m": ((MONDAY, MONDAY + timedelta(days=1)), ["CL.FUT"]),
    "status": ((MONDAY, MONDAY + timedelta(days=14)), list(ROOTS)),
}


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("market-intraday-samples")


def known_ids(sample_dir: Path, window) -> np.ndarray:
    months = (window[0].replace(day=1), (window[1] + timedelta(days=31)).replace(day=1))
    return validation.known_instruments(
        records(sample_data.ensure_sample(sample_dir, "definition", *months))
    )


@pytest.mark.parametrize("schema", NEW)
def test_sample_files_are_databento_files_with_every_kind_of_dirt(sample_dir, schema):
    window, roots = DIRTY[schema]
    path = sample_data.ensure_sample(sample_dir, schema, *window, roots)
    info = dbn.read_info(path)
    assert (info.schema, info.stype_in, info.symbols) == (schema, "parent", tuple(roots))
    rows = records(path, schema)
    assert set(rows["rtype"].tolist()) <= dbn.expected_rtypes(schema)
    assert len(rows) >= DIRT_MIN_PER_KIND * len(DIRT[schema])
    checked = validation.validate(schema, rows, window, known_ids(sample_dir, window))
    counts = checked.counts()
    assert set(counts) == {KIND_RULE[kind] for kind in DIRT[schema]}
    assert set(counts) <= set(validation.SCHEMA_RULES[schema])
    # About DIRT_RATE of the records per kind (at least one per kind and chunk).
    assert checked.rows_rejected <= len(DIRT[schema]) * max(4, 2 * DIRT_RATE * len(rows))


BBO_INTERVAL = {"bbo-1s": 1_000_000_000, "bbo-1m": 60_000_000_000}


@pytest.mark.parametrize("schema", QUOTES)
def test_sample_books_are_not_crossed_and_the_trade_is_at_the_touch(sample_dir, schema):
    window, roots = DIRTY[schema]
    rows = records(sample_data.ensure_sample(sample_dir, schema, *window, roots), schema)
    checked = validation.validate(schema, rows, window, known_ids(sample_dir, window))
    clean = rows[checked.valid]
    assert (clean["bid_px_00"] < clean["ask_px_00"]).all()
    if schema == "tbbo":  # a buyer takes the ask, a seller the bid
        buyer, seller = clean["side"] == b"B", clean["side"] == b"A"
        assert (clean["price"][buyer] == clean["ask_px_00"][buyer]).all()
        assert (clean["price"][seller] == clean["bid_px_00"][seller]).all()
    if schema in BBO_INTERVAL:  # stamped with the interval's end, after its last update
        step = BBO_INTERVAL[schema]
        assert (clean["ts_recv"] % step == 0).all()
        assert (clean["ts_event"] < clean["ts_recv"]).all()
        # The last update was received in the interval, its event up to 2 ms before that.
        assert (clean["ts_recv"] - clean["ts_event"] <= step + 2_000_000).all()


def test_a_status_file_opens_with_each_contracts_state_at_its_start(sample_dir):
    window, roots = DIRTY["status"]
    rows = records(sample_data.ensure_sample(sample_dir, "status", *window, roots), "status")
    start = DAY_NS * (window[0] - date(1970, 1, 1)).days
    snapshot = rows[rows["ts_recv"] == start]
    assert len(snapshot) and (snapshot["ts_event"] < start).all()
    # A Monday starts in the session that opened Sunday 23:00.
    assert set(snapshot["action"].tolist()) == {int(dbn_lib.StatusAction.TRADING)}


NOW = datetime(2026, 11, 4, 15, 7, 30, tzinfo=UTC)  # a Wednesday afternoon
PUBLISHED = {  # when a record exists: a bar once its interval has closed, the rest by ts_recv
    "ohlcv-1s": lambda r: r["ts_event"].astype(np.int64) + 1_000_000_000,
    "ohlcv-1h": lambda r: r["ts_event"].astype(np.int64) + 3_600_000_000_000,
}


@pytest.mark.parametrize("schema", NEW)
def test_a_day_in_progress_holds_only_what_was_published_by_now(tmp_path, schema):
    day = (NOW.date(), NOW.date() + timedelta(days=1))
    published = PUBLISHED.get(schema, lambda r: r["ts_recv"].astype(np.int64))
    got = records(sample_data.ensure_sample(tmp_path, schema, *day, ["CL.FUT"], now=NOW), schema)
    later = NOW + timedelta(days=40)  # the day is over: every record of it
    whole = records(
        sample_data.write_sample(tmp_path / "whole.dbn.zst", schema, *day, ["CL.FUT"], later),
        schema,
    )
    cutoff = sample_data.cutoff_ns(NOW)
    assert len(got) and (published(got) <= cutoff).all()
    assert published(whole).max() > cutoff  # there was a future to leave out
    assert got.tobytes() == whole[published(whole) <= cutoff].tobytes()


@pytest.fixture(scope="module")
def sample_loads(tmp_path_factory):
    """Sample mode: the month's definitions, then one day of each schema for CL.FUT, as the
    assets load them (the source generates the files)."""
    warehouse_path = tmp_path_factory.mktemp("sample-load") / "warehouse.duckdb"
    resources = {
        "warehouse": DuckDBWarehouse(path=str(warehouse_path)),
        "databento": market_source(),
    }

    def materialize(schema: str, partition: str) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            [load_assets[schema]],
            resources=resources,
            instance=dg.DagsterInstance.ephemeral(),
            partition_key=partition,
            run_config={"ops": {op_name(schema): {"config": {"symbols": ["CL.FUT"]}}}},
        )

    assert materialize("definition", SUNDAY.replace(day=1).isoformat()).success
    results = {schema: materialize(schema, SUNDAY.isoformat()) for schema in NEW}
    return warehouse_path, results, Path(resources["databento"].sample_dir)


@pytest.mark.parametrize("schema", NEW)
def test_sample_mode_generates_and_loads_each_schema(sample_loads, schema):
    warehouse, results, sample_root = sample_loads
    result = results[schema]
    assert result.success
    path = sample_data.sample_path(sample_root, schema, SUNDAY, MONDAY, ["CL.FUT"])
    rows = records(path, schema)
    name = table_name(schema)
    [(staged,)] = query(warehouse, f"SELECT count(*) FROM staging.{name}")
    [(canonical,)] = query(warehouse, f"SELECT count(*) FROM canonical.{name}")
    quarantined = dict(
        query(warehouse, f"SELECT rule_id, count(*) FROM quarantine.{name} GROUP BY 1")
    )
    assert len(rows) == staged + sum(quarantined.values()) and canonical == staged > 0
    assert set(quarantined) <= set(validation.SCHEMA_RULES[schema])
    if len(rows) >= DIRT_MIN_PER_KIND * len(DIRT[schema]):  # every kind of dirt: its rule
        assert set(quarantined) == {KIND_RULE[kind] for kind in DIRT[schema]}
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {
        "records_conserved": True,
        "contracts_mapped": True,
        "unique_records": True,
        "prices_positive": True,
    }
    [materialized] = [
        k for k in result.get_asset_materialization_events() if k.asset_key == staging_key(schema)
    ]
    assert materialized.partition == SUNDAY.isoformat()


# ---- what is refused, and what stays as it was ----------------------------------------------


@pytest.mark.parametrize("schema", ["mbo", "mbp-10"])
def test_mbo_and_mbp_10_are_refused_in_one_line_naming_what_is_loaded(schema):
    path = REAL / "unloaded" / f"test_data.{schema}.dbn.zst"
    assert dbn.read_info(path).schema == schema  # Databento's own file of that schema
    with pytest.raises(files.FileRefused) as refused:
        files.inspect(path)
    message = str(refused.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    assert f"({schema}) are not loaded" in message
    assert all(s in message for s in SCHEMAS)


def test_the_command_refuses_an_mbp_10_file_in_one_line(tmp_path):
    path = REAL / "unloaded" / "test_data.mbp-10.dbn.zst"
    done = headwater(tmp_path, "ingest", "--api", "databento", "--files", str(path))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "(mbp-10)" in lines[0], done.stderr


def test_intraday_records_before_the_first_day_name_the_intraday_setting():
    with pytest.raises(BadParameter, match=r"market.intraday_start_date"):
        MarketIngest().plan_files([str(real("status"))], None, None)


@pytest.mark.parametrize("schema", NEW)
def test_each_schema_is_a_daily_job_headwater_ingest_plans_after_the_definitions(schema):
    job = defs.resolve_job_def(job_name(schema))
    assert isinstance(job.partitions_def, dg.DailyPartitionsDefinition)
    plan = MarketIngest().plan(
        IngestRequest("databento", MONDAY, MONDAY + timedelta(days=1), schema=schema)
    )
    assert [s.job for s in plan.steps] == ["market_definition", job.name]
    assert plan.steps[1].partitions == (
        MONDAY.isoformat(),
        (MONDAY + timedelta(days=1)).isoformat(),
    )


def test_the_demo_and_the_schedule_load_none_of_the_new_schemas():
    graph = defs.resolve_asset_graph()
    new = {key for s in NEW for key in (staging_key(s), canonical_key(s))}
    for job in ("market_daily_close", "market_intraday"):
        selected = defs.resolve_job_def(job).asset_layer.selected_asset_keys
        assert not selected & new, job
    intraday = defs.resolve_job_def("market_intraday").asset_layer.selected_asset_keys
    assert intraday == {
        k for s in ("ohlcv-1m", "trades") for k in (staging_key(s), canonical_key(s))
    }
    assert {job for job, _ in DOMAIN.demo_plan} == {
        "market_daily_close",
        "market_intraday",
        "market_marts_refresh",
    }
    assert new <= graph.get_all_asset_keys()
