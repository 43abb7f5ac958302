"""Declarative transformation rules: each conversion on a tiny array, the shipped rule
files on sample data, and a one-line error naming file and key for each kind of mistake."""

from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from assets.market import dbn as mdbn
from assets.market import sample_data as sd
from assets.market import transform as tr
from assets.market import validation as v
from assets.market.config import SCHEMAS

UNDEF = int(v.UNDEF_PRICE)
T0 = v.to_ns(date(2025, 1, 6))
CLG5, CLH5, ESH5 = 4002502, 4002503, 2002503


def write(tmp_path: Path, text: str, name: str = "trades.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def definitions() -> np.ndarray:
    """Two CL contracts and one ES contract; CLG5 defined twice (the later one wins)."""
    out = np.zeros(4, dtype=mdbn.record_dtype("definition"))
    out["instrument_id"] = [CLG5, CLH5, ESH5, CLG5]
    out["ts_recv"] = [T0, T0, T0, T0 + 1]
    out["raw_symbol"] = [b"CLG5-old", b"CLH5", b"ESH5", b"CLG5"]
    out["asset"] = [b"CL", b"CL", b"ES", b"CL"]
    out["unit_of_measure_qty"] = [1000 * 10**9, 1000 * 10**9, 50 * 10**9, 1000 * 10**9]
    out["min_price_increment"] = [10**7, 10**7, 25 * 10**7, 10**7]
    out["expiration"] = [T0 + 10**15, T0 + 2 * 10**15, T0 + 3 * 10**15, T0 + 10**15]
    return out


def symbols() -> tr.SymbolTable:
    return tr.SymbolTable.from_definitions(definitions())


def bars() -> np.ndarray:
    out = np.zeros(3, dtype=mdbn.record_dtype("ohlcv-1m"))
    out["rtype"] = 33
    out["instrument_id"] = [CLG5, ESH5, 9_000_001]
    out["ts_event"] = T0 + np.arange(3) * 60 * 10**9
    out["open"] = [70_010_000_000, 5_000_250_000_000, UNDEF]
    out["high"] = [70_050_000_000, 5_001_000_000_000, 3_000_000_000]
    out["low"] = [69_990_000_000, 4_999_500_000_000, 2_990_000_000]
    out["close"] = [70_020_000_000, 5_000_750_000_000, 2_995_000_000]
    out["volume"] = [7, 3, 1]
    return out


def rules(tmp_path: Path, body: str, schema: str = "ohlcv-1m") -> tr.TransformRules:
    return tr.load_rules(write(tmp_path, f"schema: {schema}\n{body}", f"{schema}.yaml"))


# ---- each transformation rule ----------------------------------------------------------------


def test_fields_are_kept_in_order_with_their_types(tmp_path):
    table = tr.apply(rules(tmp_path, "fields: [volume, instrument_id]\n"), bars(), symbols())
    assert table.column_names == ["volume", "instrument_id"]
    assert table.schema.field("volume").type == pa.uint64()
    assert table.column("instrument_id").to_pylist() == [CLG5, ESH5, 9_000_001]


def test_prices_are_scaled_and_undef_becomes_null(tmp_path):
    r = rules(tmp_path, "fields: [open, close]\nprices: [open, close]\n")
    table = tr.apply(r, bars(), symbols())
    assert table.column("open").to_pylist() == [70.01, 5000.25, None]
    assert table.column("close").to_pylist() == [70.02, 5000.75, 2.995]
    unscaled = tr.apply(rules(tmp_path, "fields: [open]\n"), bars(), symbols())
    assert unscaled.column("open").to_pylist()[0] == 70_010_000_000


def test_timestamps_become_utc_and_undef_becomes_null(tmp_path):
    arr = bars()
    arr["ts_event"][2] = v.UNDEF_TIMESTAMP
    table = tr.apply(rules(tmp_path, "fields: [ts_event]\ntimestamps: [ts_event]\n"), arr, None)
    assert table.schema.field("ts_event").type == pa.timestamp("ns", tz="UTC")
    values = table.column("ts_event").to_pylist()
    assert values[:2] == [datetime(2025, 1, 6, tzinfo=UTC), datetime(2025, 1, 6, 0, 1, tzinfo=UTC)]
    assert values[2] is None


def test_renames_apply_last_to_any_column(tmp_path):
    body = (
        "fields: [ts_event, close]\nprices: [close]\nsymbols: {raw_symbol: contract}\n"
        "derive: {twice: close * 2}\nrename: {ts_event: bar_start, contract: symbol, twice: x2}\n"
    )
    r = rules(tmp_path, body)
    assert r.columns == ["bar_start", "close", "symbol", "x2"]
    assert tr.apply(r, bars(), symbols()).column_names == r.columns


def test_symbols_from_definitions(tmp_path):
    body = "fields: [instrument_id]\nsymbols: {raw_symbol: contract, parent: root, asset: asset, multiplier: m, tick: tick, expiration: expires}\n"
    table = tr.apply(rules(tmp_path, body), bars(), symbols()).to_pydict()
    assert table["contract"] == ["CLG5", "ESH5", None]  # latest definition; unknown id: null
    # The parent is the definition's asset + ".FUT", as GLBX names parents.
    assert table["root"] == ["CL.FUT", "ES.FUT", None]
    assert table["asset"] == ["CL", "ES", None]
    assert table["m"] == [1000.0, 50.0, None] and table["tick"] == [0.01, 0.25, None]
    assert table["expires"][0] == datetime.fromtimestamp((T0 + 10**15) / 1e9, tz=UTC)
    assert table["expires"][2] is None
    assert symbols().parent.tolist() == ["ES.FUT", "CL.FUT", "CL.FUT"]  # sorted by id


def test_the_root_comes_from_the_definition_not_the_requested_symbol():
    """A raw-symbol request (stype_in raw_symbol, ESH5) maps the symbol to the id; the
    product is in the definition: ES, parent ES.FUT. An option's parent is .OPT."""
    defs = definitions()
    defs["instrument_class"] = [b"F", b"F", b"F", b"C"]
    table = tr.SymbolTable.from_definitions(defs)
    assert dict(zip(table.raw_symbol.tolist(), table.parent.tolist(), strict=True)) == {
        "ESH5": "ES.FUT",
        "CLH5": "CL.FUT",
        "CLG5": "CL.OPT",
    }


def test_no_symbol_table_gives_nulls(tmp_path):
    r = rules(
        tmp_path,
        "fields: [close]\nprices: [close]\nsymbols: {raw_symbol: contract}\nderive: {n: close * volume * multiplier}\n",
    )
    for table in (
        tr.apply(r, bars(), None),
        tr.apply(r, bars(), tr.SymbolTable.from_definitions([])),
    ):
        assert table.column("contract").null_count == 3 and table.column("n").null_count == 3


def test_derived_fields(tmp_path):
    body = (
        "fields: [instrument_id]\nprices: [open, high, low, close]\n"
        "derive:\n  bar_range: high - low\n  notional: close * volume * multiplier\n"
        "  mid: (high + low) / 2\n  neg: -mid\n  per_tick: bar_range / tick\n  zero: volume / 0\n"
    )
    table = tr.apply(rules(tmp_path, body), bars(), symbols()).to_pydict()
    assert table["bar_range"] == pytest.approx([0.06, 1.5, 0.01])
    assert table["notional"][:2] == pytest.approx([70.02 * 7 * 1000, 5000.75 * 3 * 50])
    assert table["notional"][2] is None  # no definition, no multiplier
    assert table["mid"] == pytest.approx([70.02, 5000.25, 2.995])
    assert table["neg"] == pytest.approx([-70.02, -5000.25, -2.995])
    assert table["per_tick"][:2] == pytest.approx([6, 6])
    assert table["zero"] == [None, None, None]  # inf is not a value
    undef = tr.apply(
        rules(tmp_path, "fields: [instrument_id]\nprices: [open]\nderive: {o2: open * 2}\n"),
        bars(),
        None,
    )
    assert undef.column("o2").to_pylist()[2] is None  # UNDEF_PRICE -> null, not 2 * 9.2e9


def test_text_fields_become_strings():
    defs = definitions()
    table = tr.apply(tr.load_schema_rules("definition"), defs, symbols())
    assert table.column("contract").to_pylist() == ["CLH5", "ESH5", "CLG5"]
    assert table.schema.field("contract").type == pa.string()


def test_latest_keeps_the_last_publication(tmp_path):
    arr = np.zeros(3, dtype=mdbn.record_dtype("statistics"))
    arr["rtype"] = 24
    arr["instrument_id"] = CLG5
    arr["stat_type"] = 3
    arr["ts_ref"] = T0
    arr["ts_recv"] = [T0 + 3, T0 + 1, T0 + 2]
    arr["price"] = [71_000_000_000, 70_000_000_000, 70_500_000_000]
    arr["quantity"] = v.UNDEF_STAT_QUANTITY
    table = tr.apply(tr.load_schema_rules("statistics"), arr, symbols())
    assert table.num_rows == 1 and table.column("price").to_pylist() == [71.0]
    assert table.column("quantity").to_pylist() == [None]  # UNDEF_STAT_QUANTITY -> null


def test_apply_refuses_records_of_another_schema():
    with pytest.raises(ValueError, match="not trades records"):
        tr.apply(tr.load_schema_rules("trades"), bars(), None)


# ---- the shipped rule files on sample data ---------------------------------------------------


def test_shipped_rule_files_load_and_name_themselves():
    loaded = tr.load_all()
    assert set(loaded) == set(SCHEMAS)  # a rule file for every schema Headwater loads
    assert loaded["trades"].path == "config/market/transform/trades.yaml"


def test_shipped_rules_on_sample_files(tmp_path):
    window = (date(2025, 1, 6), date(2025, 1, 8))
    defs_path = sd.ensure_sample(tmp_path, "definition", *window)
    defs = np.concatenate(list(mdbn.read_chunks(defs_path)))
    table = tr.SymbolTable.from_definitions(defs)
    known = v.known_instruments(defs)
    for schema in ("ohlcv-1m", "ohlcv-1d", "statistics"):
        path = sd.ensure_sample(tmp_path, schema, *window)
        arr = np.concatenate(list(mdbn.read_chunks(path)))
        valid = arr[v.validate(schema, arr, window, known).valid]
        out = tr.apply(tr.load_schema_rules(schema), valid, table)
        assert out.column("contract").null_count == 0 and out.column("root").null_count == 0
        if schema != "statistics":
            assert out.num_rows == len(valid)
            frame = out.to_pandas()
            assert (frame["bar_range"] >= 0).all()
            assert (frame["notional"] > 0).all()
            assert set(frame["root"]) == {"CL.FUT", "ES.FUT", "NG.FUT"}
        else:
            assert out.num_rows < len(valid)  # republished settlements collapsed


# ---- one-line errors naming the file and the key ---------------------------------------------

MISTAKES = [
    ("a: [", "not valid YAML at line 1"),
    ("- schema\n", "expected a mapping of rule keys"),
    ("schema: trades\nfields: [price]\nfilter: x\n", "filter: unknown key (keys: schema, fields"),
    ("fields: [price]\n", "schema: required"),
    ("schema: mbo\nfields: [price]\n", "schema: unknown schema 'mbo'"),
    ("schema: trades\n", "fields: required"),
    ("schema: trades\nfields: price\n", "fields: expected a non-empty list"),
    (
        "schema: trades\nfields: [prce]\n",
        "fields[0]: unknown field 'prce' (fields: rtype, publisher_id",
    ),
    ("schema: trades\nfields: [price, price]\n", "fields[1]: field 'price' listed twice"),
    (
        "schema: trades\nfields: [price]\nprices: [size]\n",
        "prices[0]: field 'size' is uint32, not a fixed-point price (int64)",
    ),
    (
        "schema: trades\nfields: [price]\ntimestamps: [price]\n",
        "timestamps[0]: field 'price' is int64, not a nanosecond timestamp",
    ),
    (
        "schema: trades\nfields: [price]\nsymbols: {root: r}\n",
        "symbols.root: unknown attribute 'root' (attributes: raw_symbol, parent",
    ),
    (
        "schema: trades\nfields: [price]\nsymbols: {parent: price}\n",
        "symbols.parent: column 'price' already exists",
    ),
    (
        "schema: trades\nfields: [price]\nsymbols: {parent: 2x}\n",
        "symbols.parent: '2x' is not a valid column name",
    ),
    (
        "schema: trades\nfields: [price]\nderive: {notional: prce * size}\n",
        "derive.notional: unknown field 'prce' (fields: ",
    ),
    (
        "schema: trades\nfields: [price]\nderive: {notional: 'price *'}\n",
        "derive.notional: not an arithmetic expression: 'price *'",
    ),
    (
        "schema: trades\nfields: [price]\nderive: {notional: abs(price)}\n",
        "derive.notional: only + - * / over fields and numbers are allowed, found Call",
    ),
    (
        "schema: trades\nfields: [price]\nderive: {x: price ** 2}\n",
        "derive.x: only + - * / over fields and numbers are allowed, found BinOp",
    ),
    (
        "schema: trades\nfields: [price]\nderive: {x: side * 2}\n",
        "derive.x: field 'side' is |S1, not a number",
    ),
    (
        "schema: trades\nfields: [price]\ntimestamps: [ts_recv]\nderive: {x: ts_recv * 2}\n",
        "derive.x: field 'ts_recv' is a timestamp",
    ),
    (
        "schema: trades\nfields: [price]\nderive: {price: size * 2}\n",
        "derive.price: column 'price' already exists",
    ),
    ("schema: trades\nfields: [price]\nderive: {x: price\n", "not valid YAML"),
    (
        "schema: trades\nfields: [price]\nderive: [price]\n",
        "derive: expected a mapping of name: value",
    ),
    (
        "schema: trades\nfields: [price]\nlatest: {by: [instrument_id]}\n",
        "latest: expected a mapping with 'by' and 'order'",
    ),
    (
        "schema: trades\nfields: [price]\nlatest: {by: [instrument], order: [ts_recv]}\n",
        "latest.by[0]: unknown field 'instrument'",
    ),
    (
        "schema: trades\nfields: [price]\nrename: {prce: p}\n",
        "rename.prce: unknown column 'prce' (columns: price)",
    ),
    (
        "schema: trades\nfields: [price, size]\nrename: {price: size}\n",
        "rename.price: column 'size' already exists",
    ),
    (
        "schema: trades\nfields: [price]\nquantities: [price]\nprices: [price]\n",
        "quantities: field 'price' is also in prices",
    ),
]


@pytest.mark.parametrize("text, expected", MISTAKES)
def test_a_bad_rule_file_gives_one_line_naming_file_and_key(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(tr.TransformRuleError) as caught:
        tr.load_rules(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert expected in message, message


def test_the_brief_example_message(tmp_path):
    path = write(
        tmp_path, "schema: trades\nfields: [price]\nderive: {notional: prce * size * multiplier}\n"
    )
    with pytest.raises(tr.TransformRuleError) as caught:
        tr.load_rules(path)
    assert str(caught.value) == (
        f"{path}: derive.notional: unknown field 'prce' (fields: rtype, publisher_id, "
        "instrument_id, ts_event, price, size, flags, depth, ts_recv, ts_in_delta, sequence, "
        "multiplier, tick)"
    )


def test_missing_file_and_schema_mismatch(tmp_path):
    with pytest.raises(tr.TransformRuleError, match=r"nowhere.yaml: rule file not found$"):
        tr.load_rules(tmp_path / "nowhere.yaml")
    write(tmp_path, "schema: ohlcv-1d\nfields: [close]\n", "ohlcv-1m.yaml")
    with pytest.raises(
        tr.TransformRuleError, match=r"ohlcv-1m.yaml: schema: 'ohlcv-1d' in a file for 'ohlcv-1m'$"
    ):
        tr.load_schema_rules("ohlcv-1m", tmp_path)
