"""Databento's own published files (tests/data/real/NOTICE), not our generator's: DBN
versions 1 to 3 read alike, a raw-symbol request gets its product from the definition,
real definitions and statistics load, and what the keep-latest rule removes is counted."""

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from assets.market import dbn, transform, validation
from assets.market.assets import load_partition
from assets.market.lookups import symbol_table
from resources.warehouse import DuckDBWarehouse

REAL = Path(__file__).resolve().parents[1] / "data" / "real" / "databento"
GLBX = REAL / "GLBX.MDP3"


def records(path: Path, schema: str, count: int = 1) -> np.ndarray:
    chunks = list(dbn.read_chunks(path, count=count, schema=schema))
    return np.concatenate(chunks) if chunks else np.empty(0, dbn.record_dtype(schema))


@pytest.mark.parametrize("schema", ["ohlcv-1m", "trades", "statistics", "definition"])
def test_version_1_and_version_3_files_give_identical_records(schema):
    """A DBN v1 file is upgraded on read: the same records, byte for byte, in the current
    layout (v1 definitions lack trading_reference_price and the other v2/v3 fields)."""
    v1 = REAL / "versions" / f"test_data.{schema}.v1.dbn.zst"
    v3 = REAL / "versions" / f"test_data.{schema}.v3.dbn.zst"
    assert dbn.read_info(v1).version == 1 and dbn.read_info(v3).version == 3
    old, new = records(v1, schema), records(v3, schema)
    assert old.dtype == new.dtype == dbn.record_dtype(schema)
    assert len(old) == len(new) > 0
    assert old.tobytes() == new.tobytes()


def test_a_version_2_definition_reads_as_version_3():
    v2 = REAL / "versions" / "test_data.definition.v2.dbn.zst"
    v3 = REAL / "versions" / "test_data.definition.v3.dbn.zst"
    assert records(v2, "definition").tobytes() == records(v3, "definition").tobytes()


def test_the_transformation_rules_take_version_1_definitions():
    v1 = records(REAL / "versions" / "test_data.definition.v1.dbn.zst", "definition")
    table = transform.apply(transform.load_schema_rules("definition"), v1, None).to_pydict()
    # Two days' instrument ids of MSFT, each its own row (raw_symbol renamed contract).
    assert table["instrument_id"] == [6819, 6830] and table["contract"] == ["MSFT", "MSFT"]


def load_file(warehouse, con, path: Path, schema: str, partition: str):
    symbols = None if schema == "definition" else symbol_table(warehouse, "GLBX.MDP3", con)
    rules = transform.load_schema_rules(schema)
    return load_partition(
        warehouse, con, path, path.name, schema, partition, "ESH1", rules, symbols, 1000
    )


@pytest.mark.parametrize("schema", ["ohlcv-1m", "trades", "statistics"])
def test_version_1_and_version_3_files_load_identical_rows(tmp_path, schema):
    """The load itself (DuckDB staging and canonical): it failed on a v1 file with a
    Binder Error on a column v1 records lack."""
    partition = "2020-12-01" if schema == "statistics" else "2020-12-28"
    tables = {}
    for version in ("v1", "v3"):
        warehouse = DuckDBWarehouse(path=str(tmp_path / f"{version}.duckdb"))
        with warehouse.session() as con:
            load_file(
                warehouse, con, GLBX / "test_data.definition.dbn.zst", "definition", "2020-12-01"
            )
            path = REAL / "versions" / f"test_data.{schema}.{version}.dbn.zst"
            load = load_file(warehouse, con, path, schema, partition)
            assert load.records_in == load.staged + load.quarantined > 0
        name = schema.replace("-", "_")
        tables[version] = [
            rows(warehouse, f"SELECT * FROM {layer}.market_{name} ORDER BY ALL")
            for layer in ("staging", "canonical")
        ] + [  # dbn's statistics samples are stamped in 1970: quarantined alike (M-R07)
            rows(
                warehouse,
                f"SELECT rule_id, reason, raw_record FROM quarantine.market_{name} ORDER BY ALL",
            )
        ]
    assert tables["v1"] == tables["v3"]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """The GLBX.MDP3 ESH1 files (a raw-symbol request) loaded as the asset loads them, into
    a DuckDB warehouse: definitions first, then bars, trades and statistics."""
    warehouse = DuckDBWarehouse(path=str(tmp_path_factory.mktemp("real") / "wh.duckdb"))
    loads = {}
    with warehouse.session() as con:
        for schema, partition in [
            ("definition", "2020-12-01"),
            ("ohlcv-1d", "2020-12-01"),
            ("ohlcv-1m", "2020-12-28"),
            ("trades", "2020-12-28"),
            ("statistics", "2020-12-01"),
        ]:
            path = GLBX / f"test_data.{schema}.dbn.zst"
            symbols = None if schema == "definition" else symbol_table(warehouse, "GLBX.MDP3", con)
            loads[schema] = load_partition(
                warehouse,
                con,
                path,
                path.name,
                schema,
                partition,
                "ESH1",
                transform.load_schema_rules(schema),
                symbols,
                1000,
            )
    return warehouse, loads


def rows(warehouse, sql: str) -> list[tuple]:
    with warehouse.session() as con:
        return [tuple(r.values()) for r in warehouse.query(sql, con=con).to_pylist()]


def test_a_raw_symbol_file_gets_its_root_from_the_definition(loaded):
    warehouse, loads = loaded
    assert dbn.read_info(GLBX / "test_data.ohlcv-1m.dbn.zst").stype_in == "raw_symbol"
    for table in ("market_definition", "market_ohlcv_1m", "market_trades", "market_ohlcv_1d"):
        found = rows(warehouse, f"SELECT DISTINCT contract, root FROM canonical.{table}")
        assert found == [("ESH1", "ES.FUT")], table
    assert loads["ohlcv-1m"].canonical == 4 and loads["trades"].canonical == 4


def test_every_real_record_is_counted(loaded):
    _, loads = loaded
    for schema, load in loads.items():
        assert load.records_in == load.staged + load.quarantined, schema
        assert load.staged == load.canonical + load.superseded, schema
        assert load.quarantined == 0, (schema, load.quarantined_by_rule)


def test_statistics_without_a_trading_date_are_kept_per_day_and_the_rest_counted(loaded):
    """Four real statistics of ESH1 without ts_ref (three of stat type 8, one of 5): the
    latest of each type that day is canonical; the two earlier type-8 records are
    superseded, and say so, instead of vanishing."""
    warehouse, loads = loaded
    stats = loads["statistics"]
    assert (stats.records_in, stats.staged, stats.canonical, stats.superseded) == (4, 4, 2, 2)
    kept = rows(
        warehouse,
        "SELECT stat_type, price, trading_date FROM canonical.market_statistics ORDER BY 1",
    )
    assert kept == [(5, 3708.25, None), (8, 3708.25, None)]


def test_a_real_definition_stamped_at_ts_event_0_is_dated_by_its_receipt():
    """IFEU.IMPACT's Brent definition has ts_event 0: M-R07 judges a definition by
    ts_recv, so it is valid in its month."""
    defs = records(REAL / "IFEU.IMPACT" / "test_data.definition.dbn.zst", "definition")
    assert int(defs["ts_event"][0]) == 0
    checked = validation.validate("definition", defs, (date(2024, 1, 1), date(2024, 2, 1)), None)
    assert checked.valid.all()
    table = transform.SymbolTable.from_definitions(defs)
    assert table.parent.tolist() == ["BRN.FUT"] and table.raw_symbol.tolist() == ["BRN FMJ0024!"]
