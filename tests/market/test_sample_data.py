"""The GLBX.MDP3 sample generator and the DBN reader: real files, determinism, symbology,
the documented dirt, and failures on truncated or corrupt files."""

import re
import warnings
from datetime import UTC, date, datetime, timedelta

import databento as db
import numpy as np
import pytest

from assets.market import dbn as mdbn
from assets.market import sample_data as sd

START, END = date(2025, 1, 6), date(2025, 1, 9)  # Monday to Thursday: three trading days
MONTH = (date(2025, 1, 1), date(2025, 2, 1))  # CLG5 expires on 2025-01-21 inside it
UNDEF_PRICE = sd.UNDEF_PRICE


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    root = tmp_path_factory.mktemp("market-samples")
    return {
        "root": root,
        "ohlcv-1m": sd.ensure_sample(root, "ohlcv-1m", START, END),
        "trades": sd.ensure_sample(root, "trades", START, START + timedelta(days=1)),
        "ohlcv-1d": sd.ensure_sample(root, "ohlcv-1d", *MONTH),
        "statistics": sd.ensure_sample(root, "statistics", *MONTH),
        "definition": sd.ensure_sample(root, "definition", *MONTH),
    }


def records(path) -> np.ndarray:
    return np.concatenate(list(mdbn.read_chunks(path)))


def ns(day: date) -> int:
    return sd._ns(day)


# ---- files and determinism ------------------------------------------------------------------


def test_sample_path_convention(tmp_path):
    path = sd.sample_path(tmp_path, "ohlcv-1m", START, END)
    assert path == tmp_path / "ohlcv-1m" / "CL_FUT+ES_FUT+NG_FUT_2025-01-06_2025-01-09.dbn.zst"
    # another set of roots is another file
    assert sd.sample_path(tmp_path, "ohlcv-1m", START, END, ["CL.FUT"]).name == (
        "CL_FUT_2025-01-06_2025-01-09.dbn.zst"
    )


def test_same_inputs_give_the_same_bytes(tmp_path, samples):
    again = sd.write_sample(tmp_path / "again.dbn.zst", "ohlcv-1m", START, END)
    assert again.read_bytes() == samples["ohlcv-1m"].read_bytes()
    other = sd.write_sample(tmp_path / "other.dbn.zst", "ohlcv-1m", START, END - timedelta(days=1))
    assert other.read_bytes() != samples["ohlcv-1m"].read_bytes()


def test_ensure_sample_writes_only_a_missing_file(samples):
    path = samples["ohlcv-1m"]
    before = path.stat().st_mtime_ns
    assert sd.ensure_sample(samples["root"], "ohlcv-1m", START, END) == path
    assert path.stat().st_mtime_ns == before
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_crash_while_writing_leaves_no_file(tmp_path, monkeypatch):
    def broken(self):
        yield self._empty(3)
        raise RuntimeError("disk full")

    monkeypatch.setattr(sd._Generator, "chunks", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        sd.ensure_sample(tmp_path, "ohlcv-1m", START, END)
    assert list((tmp_path / "ohlcv-1m").iterdir()) == []


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown schema 'mbo'"):
        sd.write_sample(tmp_path / "x", "mbo", START, END)
    known = r"CL.FUT, ES.FUT, NG.FUT in GLBX.MDP3; BRN.FUT in IFEU.IMPACT"
    with pytest.raises(ValueError, match=rf"unknown root 'ZN.FUT' \(roots: {known}\)"):
        sd.write_sample(tmp_path / "x", "trades", START, END, roots=["ZN.FUT"])
    with pytest.raises(ValueError, match="roots of GLBX.MDP3 and IFEU.IMPACT in one file"):
        sd.write_sample(tmp_path / "x", "trades", START, END, roots=["CL.FUT", "BRN.FUT"])
    with pytest.raises(ValueError, match="empty window"):
        sd.write_sample(tmp_path / "x", "trades", END, START)


# ---- a window in progress: nothing after now ------------------------------------------------

NOW = datetime(2026, 12, 2, 7, 39, 30, tzinfo=UTC)  # a Wednesday morning
CUTOFF = sd._ns(NOW.date()) + (7 * 60 + 39) * sd.MINUTE_NS  # NOW down to its minute
TODAY = (NOW.date(), NOW.date() + timedelta(days=1))
DECEMBER = (date(2026, 12, 1), date(2027, 1, 1))
PUBLISHED = {  # when a record exists: a bar once its interval has closed
    "ohlcv-1m": lambda r: r["ts_event"].astype(np.int64) + sd.MINUTE_NS,
    "ohlcv-1d": lambda r: r["ts_event"].astype(np.int64) + sd.DAY_NS,
    "trades": lambda r: r["ts_recv"].astype(np.int64),
    "statistics": lambda r: r["ts_recv"].astype(np.int64),
    "definition": lambda r: r["ts_recv"].astype(np.int64),
}


@pytest.mark.parametrize(
    "schema, window",
    [
        ("ohlcv-1d", DECEMBER),
        ("statistics", DECEMBER),
        ("definition", DECEMBER),
        ("ohlcv-1m", TODAY),
        ("trades", TODAY),
    ],
)
def test_a_window_in_progress_holds_only_what_was_published_by_now(tmp_path, schema, window):
    """The records of a window in progress are those of the whole window published by
    `now` (nothing made up, nothing changed), and the metadata ends at now's minute."""
    path = sd.ensure_sample(tmp_path, schema, *window, ["CL.FUT"], now=NOW)
    got = records(path)
    later = NOW + timedelta(days=40)  # the window is over: every record of it
    whole = records(sd.write_sample(tmp_path / "whole.dbn.zst", schema, *window, ["CL.FUT"], later))
    assert len(got) and (PUBLISHED[schema](got) <= CUTOFF).all()
    assert PUBLISHED[schema](whole).max() > CUTOFF  # there was a future to leave out
    assert got.tobytes() == whole[PUBLISHED[schema](whole) <= CUTOFF].tobytes()
    assert mdbn.read_info(path).end_ns == CUTOFF


def test_daily_bars_of_the_month_in_progress_end_with_yesterday(tmp_path):
    bars = records(sd.ensure_sample(tmp_path, "ohlcv-1d", *DECEMBER, now=NOW))
    # Yesterday's bars (and one stamped the day before the window, dirt); today's bar is
    # not over, the rest of the month is to come.
    assert int(bars["ts_event"].max()) == ns(date(2026, 12, 1))
    minutes = records(sd.ensure_sample(tmp_path, "ohlcv-1m", *TODAY, now=NOW))
    assert int(minutes["ts_event"].max()) == CUTOFF - sd.MINUTE_NS  # the last closed minute


def test_a_window_still_to_come_is_empty(tmp_path):
    path = sd.ensure_sample(tmp_path, "trades", NOW.date() + timedelta(days=1),
                            NOW.date() + timedelta(days=2), ["CL.FUT"], now=NOW)  # fmt: skip
    assert sum(len(chunk) for chunk in mdbn.read_chunks(path)) == 0
    assert mdbn.read_info(path).end_ns == mdbn.read_info(path).start_ns


def test_ensure_sample_writes_a_window_in_progress_again_as_time_passes(tmp_path):
    """Written again when a later minute has come, not within the same minute; once the
    window is over, whole (the same bytes as a file written after it)."""
    path = sd.ensure_sample(tmp_path, "ohlcv-1m", *TODAY, ["CL.FUT"], now=NOW)
    first, written = path.read_bytes(), path.stat().st_mtime_ns
    sd.ensure_sample(tmp_path, "ohlcv-1m", *TODAY, ["CL.FUT"], now=NOW + timedelta(seconds=20))
    assert path.stat().st_mtime_ns == written  # the same minute: not written again
    n = len(records(path))
    sd.ensure_sample(tmp_path, "ohlcv-1m", *TODAY, ["CL.FUT"], now=NOW + timedelta(hours=2))
    assert len(records(path)) > n and path.read_bytes() != first
    after = NOW + timedelta(days=2)
    sd.ensure_sample(tmp_path, "ohlcv-1m", *TODAY, ["CL.FUT"], now=after)
    whole = sd.write_sample(tmp_path / "whole.dbn.zst", "ohlcv-1m", *TODAY, ["CL.FUT"], after)
    assert path.read_bytes() == whole.read_bytes()
    assert mdbn.read_info(path).end_ns == ns(TODAY[1])


# ---- round trip through Databento's own reader ----------------------------------------------


@pytest.mark.parametrize("schema", ["ohlcv-1m", "trades", "ohlcv-1d", "statistics", "definition"])
def test_round_trip_through_dbnstore(samples, schema):
    store = db.DBNStore.from_file(samples[schema])
    meta = store.metadata
    assert meta.dataset == "GLBX.MDP3"
    assert str(store.schema) == schema
    assert str(meta.stype_in) == "parent" and str(meta.stype_out) == "instrument_id"
    assert list(meta.symbols) == ["CL.FUT", "ES.FUT", "NG.FUT"]
    window = (START, END) if schema == "ohlcv-1m" else MONTH
    if schema == "trades":
        window = (START, START + timedelta(days=1))
    assert (meta.start, meta.end) == (ns(window[0]), ns(window[1]))
    theirs = store.to_ndarray()
    ours = records(samples[schema])
    assert theirs.dtype == ours.dtype == mdbn.record_dtype(schema)
    assert len(ours) > 0 and np.array_equal(theirs, ours)


def test_dbnstore_maps_instrument_ids_to_their_parent(samples):
    store = db.DBNStore.from_file(samples["ohlcv-1m"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas 3 warns about databento's inplace=True
        frame = store.to_df()
    inside = (frame.index >= "2025-01-06") & (frame.index < "2025-01-09")  # dirt aside
    known = frame[(frame["instrument_id"] < sd.UNKNOWN_ID_BASE) & inside]
    assert set(known["symbol"]) == {"CL.FUT", "ES.FUT", "NG.FUT"}
    roots = known["instrument_id"] // 1_000_000
    assert (known["symbol"].str[:2] == roots.map({4: "CL", 2: "ES", 6: "NG"})).all()


def test_record_layout_and_fixed_point_prices(samples):
    bars = records(samples["ohlcv-1m"])
    defs = records(samples["definition"])
    tick = dict(
        zip(defs["instrument_id"].tolist(), defs["min_price_increment"].tolist(), strict=True)
    )
    clean = bars[(bars["instrument_id"] < sd.UNKNOWN_ID_BASE) & (bars["close"] != UNDEF_PRICE)]
    ticks = np.array([tick[i] for i in clean["instrument_id"].tolist()])
    assert (clean["close"] % ticks == 0).all()  # int64, x 1e9, on the contract's tick
    assert (bars["rtype"] == 33).all() and (bars["length"] == 14).all()
    assert (bars["publisher_id"] == 1).all()


# ---- the market model -----------------------------------------------------------------------


def test_definitions_describe_every_instrument(samples):
    defs = records(samples["definition"])
    last = {int(r["instrument_id"]): r for r in defs}
    symbols = {r["raw_symbol"].decode() for r in last.values()}
    assert {"CLG5", "CLH5", "ESH5", "ESM5", "NGG5", "NGH5"} <= symbols
    for r in last.values():
        raw, asset = r["raw_symbol"].decode(), r["asset"].decode()
        assert re.fullmatch(rf"{asset}[FGHJKMNQUVXZ]\d", raw), raw
        if asset == "ES":
            assert raw[2] in "HMUZ"  # quarterly
        assert r["activation"] < r["expiration"] < 2**63
        spec = sd.ROOTS[asset]
        assert r["min_price_increment"] == round(spec.tick * 1e9)
        assert r["unit_of_measure_qty"] == round(spec.multiplier * 1e9)
        assert r["security_type"] == b"FUT" and r["instrument_class"] == b"F"
        assert r["maturity_year"] == 2020 + int(raw[-1])
    # Every data file's instruments, dirt aside, have a definition.
    for schema in ("ohlcv-1d", "statistics"):
        ids = set(records(samples[schema])["instrument_id"].tolist())
        assert {i for i in ids if i < sd.UNKNOWN_ID_BASE} <= set(last)


def test_instrument_ids_are_stable_across_files(tmp_path, samples):
    def ids(path):
        defs = records(path)
        return dict(zip(defs["raw_symbol"].tolist(), defs["instrument_id"].tolist(), strict=True))

    later = sd.write_sample(
        tmp_path / "d.dbn.zst", "definition", date(2025, 1, 20), date(2025, 1, 22)
    )
    a, b = ids(samples["definition"]), ids(later)
    assert a[b"CLH5"] == b[b"CLH5"] and a[b"ESH5"] == b[b"ESH5"]


def test_mappings_give_each_parent_its_contracts(samples):
    info = mdbn.read_info(samples["ohlcv-1d"])
    defs = records(samples["definition"])
    raw = dict(zip(defs["instrument_id"].tolist(), defs["raw_symbol"].tolist(), strict=True))
    assert set(info.mappings) == set(raw)
    for instrument_id, intervals in info.mappings.items():
        ((first, end, parent),) = intervals
        assert parent == raw[instrument_id][:2].decode() + ".FUT"
        assert MONTH[0] <= first < end <= MONTH[1]
    # CLG5 expires 2025-01-21: its interval ends the day after.
    clg5 = next(i for i, s in raw.items() if s == b"CLG5")
    assert info.mappings[clg5][0][1] == date(2025, 1, 22)


def test_prices_are_realistic_and_two_contracts_trade_at_once(samples):
    bars = records(samples["ohlcv-1d"])
    bars = bars[(bars["instrument_id"] < sd.UNKNOWN_ID_BASE) & (bars["close"] != UNDEF_PRICE)]
    root = bars["instrument_id"] // 1_000_000
    for code, low, high in ((4, 50, 95), (2, 4000, 6200), (6, 1.8, 4.5)):
        close = bars["close"][root == code] / 1e9
        assert low < np.median(close) < high
        per_day = np.unique(bars["ts_event"][root == code], return_counts=True)[1]
        assert per_day.min() >= 2  # at least two contracts of the root trade each day


def test_front_month_rolls_before_expiry(samples):
    bars = records(samples["ohlcv-1d"])
    defs = records(samples["definition"])
    raw = dict(zip(defs["instrument_id"].tolist(), defs["raw_symbol"].tolist(), strict=True))
    cl = bars[(bars["instrument_id"] // 1_000_000 == 4) & (bars["instrument_id"] < 9e6)]
    leader = {}
    for day in np.unique(cl["ts_event"]):
        today = cl[cl["ts_event"] == day]
        leader[int(day)] = raw[int(today["instrument_id"][np.argmax(today["volume"])])]
    assert leader[ns(date(2025, 1, 8))] == b"CLG5"
    assert leader[ns(date(2025, 1, 21))] == b"CLH5"  # rolled before CLG5's last day
    assert leader[ns(date(2025, 1, 28))] == b"CLH5"


def test_statistics_settlement_and_open_interest(samples):
    stats = records(samples["statistics"])
    inside = (stats["ts_event"] >= ns(MONTH[0])) & (stats["ts_event"] < ns(MONTH[1]))
    stats = stats[(stats["instrument_id"] < sd.UNKNOWN_ID_BASE) & inside]
    settle = stats[(stats["stat_type"] == 3) & (stats["price"] != UNDEF_PRICE)]
    assert len(settle) and (settle["quantity"] == sd.UNDEF_STAT_QUANTITY).all()
    assert (settle["ts_ref"] % sd.DAY_NS == 0).all()  # the trading date
    assert (settle["ts_event"] - settle["ts_ref"] < sd.DAY_NS).all()  # settled that day
    oi = stats[(stats["stat_type"] == 9) & (stats["quantity"] != sd.UNDEF_STAT_QUANTITY)]
    assert len(oi) and (oi["price"] == UNDEF_PRICE).all() and (oi["quantity"] > 0).all()
    assert (oi["ts_ref"] < oi["ts_event"]).all()  # reported for an earlier trading day
    # Some settlements are republished later the same day with another price.
    key = settle[["instrument_id", "ts_ref"]]
    _, counts = np.unique(key, return_counts=True)
    assert (counts == 2).sum() > 0 and counts.max() == 2


# ---- dirt -----------------------------------------------------------------------------------


def duplicated_rows(arr: np.ndarray) -> int:
    return len(arr) - len(np.unique(arr.view(np.dtype((np.void, arr.dtype.itemsize)))))


def test_every_dirt_kind_is_present_in_ohlcv(samples):
    bars = records(samples["ohlcv-1m"])
    o, h, lo, c = (bars[f] for f in ("open", "high", "low", "close"))
    defined = (o != UNDEF_PRICE) & (h != UNDEF_PRICE) & (lo != UNDEF_PRICE) & (c != UNDEF_PRICE)
    found = {
        "high_below_low": (defined & (h < lo)).sum(),
        "open_above_high": (defined & (h >= lo) & (o > h)).sum(),
        "close_below_low": (defined & (h >= lo) & (c < lo)).sum(),
        "undef_price": (~defined).sum(),
        "zero_volume": (bars["volume"] == 0).sum(),
        "unknown_instrument": (bars["instrument_id"] >= sd.UNKNOWN_ID_BASE).sum(),
        "duplicate": duplicated_rows(bars),
        "before_window": (bars["ts_event"] < ns(START)).sum(),
        "at_window_end": (bars["ts_event"] >= ns(END)).sum(),
    }
    expected = max(1, round(len(bars) * sd.DIRT_RATE))
    for kind, count in found.items():
        assert count == (1 if "window" in kind else expected), kind
    assert sum(found.values()) / len(bars) < 0.01  # a small share


def test_every_dirt_kind_is_present_in_trades_and_statistics(samples):
    trades = records(samples["trades"])
    assert (trades["price"] == UNDEF_PRICE).sum() > 0
    assert (trades["size"] == 0).sum() > 0
    assert (trades["instrument_id"] >= sd.UNKNOWN_ID_BASE).sum() > 0
    assert duplicated_rows(trades) > 0
    assert (trades["ts_event"] < ns(START)).sum() == 1
    assert (trades["ts_event"] >= ns(START + timedelta(days=1))).sum() == 1
    stats = records(samples["statistics"])
    assert ((stats["stat_type"] == 3) & (stats["price"] == UNDEF_PRICE)).sum() > 0
    assert ((stats["stat_type"] == 9) & (stats["quantity"] == sd.UNDEF_STAT_QUANTITY)).sum() > 0
    assert (stats["instrument_id"] >= sd.UNKNOWN_ID_BASE).sum() > 0
    assert duplicated_rows(stats) > 0
    assert ((stats["ts_event"] < ns(MONTH[0])) | (stats["ts_event"] >= ns(MONTH[1]))).sum() == 2


def test_small_files_keep_dirt_at_one_percent(tmp_path):
    day = sd.write_sample(tmp_path / "d.dbn.zst", "ohlcv-1d", START, START + timedelta(days=1))
    bars = records(day)
    assert 0 < len(bars) < 100
    assert not (bars["instrument_id"] >= sd.UNKNOWN_ID_BASE).any()
    assert duplicated_rows(bars) == 0


# ---- the reader ------------------------------------------------------------------------------


def test_read_chunks_streams_at_most_count_records(samples):
    chunks = list(mdbn.read_chunks(samples["ohlcv-1m"], count=5_000))
    whole = db.DBNStore.from_file(samples["ohlcv-1m"]).to_ndarray()
    assert len(chunks) > 2 and all(len(c) <= 5_000 for c in chunks)
    assert np.array_equal(np.concatenate(chunks), whole)
    from_bytes = np.concatenate(list(mdbn.read_chunks(samples["ohlcv-1m"].read_bytes())))
    assert np.array_equal(from_bytes, whole)


def test_read_info(samples):
    info = mdbn.read_info(samples["ohlcv-1m"])
    assert (info.dataset, info.schema, info.stype_in) == ("GLBX.MDP3", "ohlcv-1m", "parent")
    assert (info.start_ns, info.end_ns) == (ns(START), ns(END))
    assert info.symbols == ("CL.FUT", "ES.FUT", "NG.FUT")


@pytest.mark.parametrize("fraction", [0.001, 0.3, 0.9, 0.9999])
def test_a_truncated_file_raises_one_line_naming_it(samples, fraction):
    cut = sd.truncate(samples["ohlcv-1m"], fraction, samples["root"] / f"cut-{fraction}.dbn.zst")
    assert cut.stat().st_size == int(samples["ohlcv-1m"].stat().st_size * fraction)
    with pytest.raises(mdbn.DBNFileError) as caught:
        list(mdbn.read_chunks(cut))
    message = str(caught.value)
    assert message.startswith(f"{cut}: ") and "\n" not in message
    assert "truncated" in message or "metadata" in message


def test_databento_alone_returns_part_of_a_truncated_file(samples):
    """Why read_chunks walks the zstd frame first: the library returns what it decoded
    (at most with a warning when the cut falls inside a record) and raises nothing."""
    cut = sd.truncate(samples["ohlcv-1m"], 0.5)
    assert cut.name == "CL_FUT+ES_FUT+NG_FUT_2025-01-06_2025-01-09.truncated.dbn.zst"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        partial = db.DBNStore.from_file(cut).to_ndarray()
    assert 0 < len(partial) < len(records(samples["ohlcv-1m"]))


def test_corrupt_empty_missing_and_foreign_files(tmp_path, samples):
    data = bytearray(samples["ohlcv-1m"].read_bytes())
    data[len(data) // 2] ^= 0xFF
    cases = {
        "corrupt.dbn.zst": (bytes(data), "corrupt"),
        "empty.dbn.zst": (b"", "empty file"),
        "text.dbn.zst": (b"instrument_id,price\n1,2\n", "not a DBN file"),
    }
    for name, (content, problem) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(mdbn.DBNFileError, match=rf"^{re.escape(str(path))}: .*{problem}"):
            list(mdbn.read_chunks(path))
    with pytest.raises(mdbn.DBNFileError, match="missing.dbn.zst: file not found"):
        list(mdbn.read_chunks(tmp_path / "missing.dbn.zst"))
    with pytest.raises(mdbn.DBNFileError, match=r"^<bytes>: truncated"):
        list(mdbn.read_chunks(samples["ohlcv-1m"].read_bytes()[:-100]))


def test_an_uncompressed_dbn_file_is_read_and_checked(tmp_path, samples):
    store = db.DBNStore.from_file(samples["ohlcv-1d"])
    plain = tmp_path / "plain.dbn"
    store.to_file(plain, compression="none")
    assert np.array_equal(records(plain), store.to_ndarray())
    cut = tmp_path / "plain-cut.dbn"
    cut.write_bytes(plain.read_bytes()[:-7])
    with pytest.raises(mdbn.DBNFileError, match="truncated: last record is 49 byte"):
        list(mdbn.read_chunks(cut))


def test_records_of_another_schema_are_refused(tmp_path, samples):
    import databento_dbn as dbn

    bars = records(samples["ohlcv-1m"])[:6]  # 6 x 56 bytes: exactly 7 trade-sized records
    meta = db.DBNStore.from_file(samples["trades"]).metadata
    path = tmp_path / "mislabelled.dbn.zst"
    with open(path, "wb") as f:
        transcoder = dbn.Transcoder(f, dbn.Encoding.DBN, dbn.Compression.ZSTD)
        transcoder.write(bytes(meta))
        transcoder.write(bars.tobytes())
        transcoder.finish()
    with pytest.raises(mdbn.DBNFileError, match=r"corrupt: record type 33 in a trades file"):
        list(mdbn.read_chunks(path))


def test_a_file_of_another_schema_than_expected_is_refused(samples):
    path = samples["trades"]
    with pytest.raises(mdbn.WrongSchemaError) as caught:
        list(mdbn.read_chunks(path, schema="ohlcv-1m"))
    assert str(caught.value) == f"{path}: holds trades records, expected ohlcv-1m"
    assert len(records(path)) == sum(len(c) for c in mdbn.read_chunks(path, schema="trades"))
