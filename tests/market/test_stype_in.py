"""Files requested by any `stype_in`: Databento's real ESH1 records, as a continuous
(`ES.c.0`) and an instrument-id request would deliver them (the same records, the request's
own metadata and symbology), load with the product and root of their definition, whatever
symbol was asked for; the rows are those of the raw-symbol request."""

from datetime import date
from pathlib import Path
from types import SimpleNamespace

import databento_dbn as dbn_lib
import numpy as np
import pytest
import zstandard

from assets.market import dbn
from tests.market.test_files import REAL, SETTINGS, headwater, tables

GLBX = REAL / "GLBX.MDP3"
DAY = date(2020, 12, 28)


def records_and_id(schema: str) -> tuple[bytes, int]:
    raw = zstandard.ZstdDecompressor().decompress(
        (GLBX / f"test_data.{schema}.dbn.zst").read_bytes(), 1 << 26
    )
    body = raw[8 + int.from_bytes(raw[4:8], "little") :]
    ids = {
        int(i)
        for c in dbn.read_chunks(GLBX / f"test_data.{schema}.dbn.zst")
        for i in c["instrument_id"]
    }
    assert len(ids) == 1
    return body, ids.pop()


def request_file(folder: Path, schema: str, stype_in: dbn_lib.SType, symbol: str) -> Path:
    """The ESH1 records of `schema` under the metadata a request of `symbol` by `stype_in`
    has: its symbol, and the mapping from it to the instrument id (for an instrument-id
    request, the inverse: the id to the raw symbol)."""
    body, instrument_id = records_and_id(schema)
    resolved = "ESH1" if stype_in == dbn_lib.SType.INSTRUMENT_ID else str(instrument_id)
    interval = SimpleNamespace(start_date=DAY, end_date=date(2020, 12, 29), symbol=resolved)
    info = dbn.read_info(GLBX / f"test_data.{schema}.dbn.zst")
    metadata = dbn_lib.Metadata(
        dataset="GLBX.MDP3",
        start=info.start_ns,
        stype_in=stype_in,
        stype_out=dbn_lib.SType.INSTRUMENT_ID,
        schema=dbn_lib.Schema(schema),
        symbols=[symbol],
        mappings=[SimpleNamespace(raw_symbol=symbol, intervals=[interval])],
        end=info.end_ns,
    )
    path = folder / f"{schema}.dbn.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(bytes(metadata) + body))
    return path


def load(tmp_path: Path, stype_in, symbol: str) -> dict:
    folder = tmp_path / "files"
    folder.mkdir()
    for schema in ("definition", "ohlcv-1m", "trades"):
        request_file(folder, schema, stype_in, symbol)
    settings = tmp_path / "headwater.yaml"
    settings.write_text(SETTINGS)
    done = headwater(tmp_path, "ingest", "--api", "databento", "--files", str(folder),
                     "--config", str(settings))  # fmt: skip
    assert done.returncode == 0, done.stderr
    return tables(tmp_path / "warehouse.duckdb")


@pytest.fixture(scope="module")
def raw_symbol(tmp_path_factory) -> dict:
    return load(tmp_path_factory.mktemp("raw"), dbn_lib.SType.RAW_SYMBOL, "ESH1")


@pytest.mark.parametrize(
    "stype_in, symbol",
    [(dbn_lib.SType.CONTINUOUS, "ES.c.0"), (dbn_lib.SType.INSTRUMENT_ID, "PLACEHOLDER")],
)
def test_any_stype_in_loads_the_rows_of_the_raw_symbol_request(
    tmp_path, raw_symbol, stype_in, symbol
):
    if stype_in == dbn_lib.SType.INSTRUMENT_ID:
        symbol = str(records_and_id("trades")[1])
    loaded = load(tmp_path, stype_in, symbol)
    assert set(loaded) == set(raw_symbol)
    trades = loaded["canonical.market_trades"]
    assert trades and len(trades) == len(raw_symbol["canonical.market_trades"])
    columns = np.array(trades, dtype=object)
    assert "ES.FUT" in columns and "ESH1" in columns  # root and contract from the definition
    for name, rows in raw_symbol.items():  # the same rows, but the request (`parent`)
        assert [tuple(v for v in r if v not in ("ESH1", symbol)) for r in loaded[name]] == [
            tuple(v for v in r if v not in ("ESH1", symbol)) for r in rows
        ] or name.startswith("quarantine"), name
