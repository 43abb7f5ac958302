"""Record rules M-R01..M-R11: each rule alone on a tiny hand-built array, the first
failing rule wins, and rows in = rows valid + rows rejected on real sample files."""

import json
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pytest

from assets.market import dbn as mdbn
from assets.market import sample_data as sd
from assets.market import validation as v
from headwater.quality import QUARANTINE_SCHEMA

DAY = date(2025, 1, 6)
WINDOW = (DAY, DAY + timedelta(days=1))
T0 = v.to_ns(DAY)
MIN = 60 * 1_000_000_000
KNOWN = {4002502, 4002503}
UNDEF = int(v.UNDEF_PRICE)


def bars(n: int = 5) -> np.ndarray:
    """n clean one-minute CL bars."""
    out = np.zeros(n, dtype=mdbn.record_dtype("ohlcv-1m"))
    out["length"], out["rtype"], out["publisher_id"] = 14, 33, 1
    out["instrument_id"] = 4002502
    out["ts_event"] = T0 + np.arange(n) * MIN
    out["open"], out["high"] = 70_010_000_000, 70_050_000_000
    out["low"], out["close"] = 69_990_000_000, 70_020_000_000
    out["volume"] = 7
    return out


def trades(n: int = 4) -> np.ndarray:
    out = np.zeros(n, dtype=mdbn.record_dtype("trades"))
    out["length"], out["publisher_id"] = 12, 1
    out["instrument_id"] = 4002502
    out["ts_event"] = T0 + np.arange(n) * 1_000
    out["ts_recv"] = out["ts_event"] + 500
    out["price"], out["size"] = 70_010_000_000, 2
    out["action"], out["side"] = b"T", b"A"
    out["sequence"] = np.arange(n)
    return out


def stats() -> np.ndarray:
    """A settlement (3), an open interest (9) and a cleared volume (6)."""
    out = np.zeros(3, dtype=mdbn.record_dtype("statistics"))
    out["length"], out["rtype"], out["publisher_id"] = 20, 24, 1
    out["instrument_id"] = 4002502
    out["ts_event"] = T0 + np.array([19, 11, 11]) * 60 * MIN
    out["ts_recv"] = out["ts_event"] + 1000
    out["ts_ref"] = T0
    out["stat_type"] = [3, 9, 6]
    out["price"] = [71_230_000_000, UNDEF, UNDEF]
    out["quantity"] = [int(v.UNDEF_STAT_QUANTITY), 300_000, 120_000]
    out["sequence"] = [1, 2, 3]
    return out


def rejected(result: v.Validated) -> dict[int, str]:
    return dict(zip(result.rejected_index.tolist(), result.rule_id.tolist(), strict=True))


def test_clean_bars_pass():
    result = v.validate_ohlcv(bars(), WINDOW, KNOWN)
    assert result.valid.all() and result.rows_rejected == 0


@pytest.mark.parametrize("field", ["open", "high", "low", "close"])
def test_m_r01_undef_price_in_a_bar(field):
    arr = bars()
    arr[field][2] = UNDEF
    assert rejected(v.validate_ohlcv(arr, WINDOW, KNOWN)) == {2: "M-R01"}


def test_m_r02_high_below_low():
    arr = bars()
    arr["high"][1], arr["low"][1] = arr["low"][1], arr["high"][1]
    assert rejected(v.validate_ohlcv(arr, WINDOW, KNOWN)) == {1: "M-R02"}


def test_m_r03_high_below_open_or_close():
    arr = bars()
    arr["open"][0] = arr["high"][0] + 10_000_000
    arr["close"][3] = arr["high"][3] + 10_000_000
    assert rejected(v.validate_ohlcv(arr, WINDOW, KNOWN)) == {0: "M-R03", 3: "M-R03"}
    arr = bars()
    arr["open"][0] = arr["high"][0]  # touching the high is fine
    assert v.validate_ohlcv(arr, WINDOW, KNOWN).valid.all()


def test_m_r04_low_above_open_or_close():
    arr = bars()
    arr["open"][4] = arr["low"][4] - 10_000_000
    assert rejected(v.validate_ohlcv(arr, WINDOW, KNOWN)) == {4: "M-R04"}


def test_m_r05_negative_volume_that_wrapped():
    arr = bars()
    arr["volume"][1] = np.uint64(2**64 - 3)  # -3 written into an unsigned field
    assert rejected(v.validate_ohlcv(arr, WINDOW, KNOWN)) == {1: "M-R05"}


def test_m_r06_zero_volume_bar_and_zero_size_trade():
    arr = bars()
    arr["volume"][2] = 0
    assert rejected(v.validate_ohlcv(arr, WINDOW, KNOWN)) == {2: "M-R06"}
    t = trades()
    t["size"][0] = 0
    assert rejected(v.validate_trades(t, WINDOW, KNOWN)) == {0: "M-R06"}


def test_m_r07_window_is_half_open():
    arr = bars(4)
    arr["ts_event"] = [T0 - 1, T0, v.to_ns(WINDOW[1]) - 1, v.to_ns(WINDOW[1])]
    assert rejected(v.validate_ohlcv(arr, WINDOW, KNOWN)) == {0: "M-R07", 3: "M-R07"}


def test_window_accepts_dates_datetimes_and_nanoseconds():
    from datetime import UTC, datetime

    arr = bars(1)
    for window in (WINDOW, (T0, T0 + MIN), (datetime(2025, 1, 6, tzinfo=UTC), DAY + timedelta(1))):
        assert v.validate_ohlcv(arr, window, KNOWN).valid.all()


def test_m_r08_instrument_without_definition():
    arr = bars()
    arr["instrument_id"][3] = 9_000_123
    for known in (KNOWN, np.array(sorted(KNOWN)), list(KNOWN)):
        assert rejected(v.validate_ohlcv(arr, WINDOW, known)) == {3: "M-R08"}


def test_m_r09_exact_duplicate_keeps_the_first():
    arr = bars()
    arr = np.insert(arr, 4, arr[1])  # the same bytes again, later
    near = arr[2].copy()
    near["volume"] += 1  # one field apart: not a duplicate
    arr = np.append(arr, near)
    assert rejected(v.validate_ohlcv(arr, WINDOW, KNOWN)) == {4: "M-R09"}


def test_m_r09_duplicate_across_a_chunk_boundary():
    arr = bars(6)
    arr[3] = arr[2]
    seen = v.SeenRecords()
    first = v.validate_ohlcv(arr[:3], WINDOW, KNOWN, seen)
    second = v.validate_ohlcv(arr[3:], WINDOW, KNOWN, seen)
    assert first.rows_rejected == 0 and rejected(second) == {0: "M-R09"}
    assert rejected(v.validate_ohlcv(arr[3:], WINDOW, KNOWN)) == {}  # without the tracker


def chunked(arr: np.ndarray, size: int, validate=v.validate_ohlcv) -> dict[int, str]:
    """Rejections of `arr` validated `size` records at a time, as a load reads a file,
    by position in the whole array."""
    out: dict[int, str] = {}
    with v.SeenRecords() as seen:
        for k in range(0, len(arr), size):
            result = validate(arr[k : k + size], WINDOW, KNOWN, seen)
            out.update({k + i: rule for i, rule in rejected(result).items()})
    return out


@pytest.mark.parametrize("size", [1, 2, 3, 5, 1000])
def test_m_r09_finds_a_duplicate_however_far_back_whatever_the_chunk_size(size):
    """Copies of records #1 and #7 at the end of ten: both are duplicates whether the
    original is in the same chunk, the one before, or many chunks back."""
    arr = bars(10)
    arr["volume"] = np.arange(1, 11)
    arr = np.append(arr, arr[[1, 7, 1]])
    assert chunked(arr, size) == {10: "M-R09", 11: "M-R09", 12: "M-R09"}


def test_m_r09_across_chunks_compares_the_bytes_not_the_hash(monkeypatch):
    monkeypatch.setattr(v, "record_hashes", lambda r: np.zeros(len(r), dtype=np.uint64))
    arr = bars(6)
    assert chunked(arr, 2) == {}  # every hash collides, no record repeats
    arr[5] = arr[0]
    assert chunked(arr, 2) == {5: "M-R09"}


def test_m_r09_counts_a_copy_of_a_record_a_later_rule_rejected():
    """A copy of an open interest rejected under M-R10 (after M-R09 in id order) is a
    duplicate, even chunks later; the first copy stays under M-R10."""
    s = stats()
    s["quantity"][1] = int(v.UNDEF_STAT_QUANTITY)
    arr = np.append(s, s[1])
    assert chunked(arr, 1, v.validate_statistics) == {1: "M-R10", 3: "M-R09"}


def test_seen_records_open_a_database_only_for_a_second_chunk():
    """A file read in one chunk (the usual case) never pays for one."""
    arr = bars(4)
    with v.SeenRecords() as seen:
        v.validate_ohlcv(arr, WINDOW, KNOWN, seen)
        assert seen._con is None
        v.validate_ohlcv(arr[:1], WINDOW, KNOWN, seen)
        assert seen._con is not None
    assert seen._con is None


def test_duplicates_never_trust_the_hash_alone(monkeypatch):
    arr = bars(4)
    monkeypatch.setattr(v, "record_hashes", lambda r: np.zeros(len(r), dtype=np.uint64))
    assert not v.duplicates(arr).any()  # every hash collides, no record repeats
    arr[3] = arr[0]
    assert v.duplicates(arr).tolist() == [False, False, False, True]


def test_m_r01_and_m_r10_on_statistics():
    s = stats()
    assert v.validate_statistics(s, WINDOW, KNOWN).valid.all()  # UNDEF where not applicable
    s["price"][0] = UNDEF  # a settlement without a price
    s["quantity"][1] = v.UNDEF_STAT_QUANTITY  # an open interest without a quantity
    assert rejected(v.validate_statistics(s, WINDOW, KNOWN)) == {0: "M-R01", 1: "M-R10"}


def test_m_r05_negative_open_interest():
    s = stats()
    s["quantity"][1] = -5
    assert rejected(v.validate_statistics(s, WINDOW, KNOWN)) == {1: "M-R05"}


def test_republished_statistics_are_kept_and_the_latest_wins():
    s = stats()
    again = s[0].copy()
    again["ts_recv"] += 90 * MIN
    again["price"] = 71_250_000_000
    again["sequence"] = 9
    s = np.insert(s, 1, again)
    result = v.validate_statistics(s, WINDOW, KNOWN)
    assert result.valid.all()  # a correction is not a rejection
    latest = v.latest_statistics(s)
    assert latest.tolist() == [False, True, True, True]
    assert s["price"][latest & (s["stat_type"] == 3)].tolist() == [71_250_000_000]


def test_m_r11_incomplete_definition(sample_dir):
    path_defs = definitions((date(2025, 1, 1), date(2025, 1, 3)), sample_dir)
    defs = path_defs.copy()
    defs["raw_symbol"][0] = b""
    defs["expiration"][1] = v.UNDEF_TIMESTAMP
    defs["min_price_increment"][2] = 0
    window = (date(2025, 1, 1), date(2025, 1, 3))
    assert rejected(v.validate_definitions(defs, window)) == {0: "M-R11", 1: "M-R11", 2: "M-R11"}
    assert v.validate_definitions(path_defs, window).valid.all()


def test_the_first_failing_rule_counts_a_row_once():
    arr = bars(3)
    arr["close"][0] = UNDEF  # M-R01
    arr["volume"][0] = 0  # M-R06 as well
    arr["ts_event"][0] = T0 - MIN  # and M-R07
    arr = np.append(arr, arr[0])  # and its duplicate: M-R01 first
    result = v.validate_ohlcv(arr, WINDOW, KNOWN)
    assert rejected(result) == {0: "M-R01", 3: "M-R01"}
    assert result.rows_in == result.rows_valid + result.rows_rejected == 4


def test_quarantine_table_and_raw_records():
    arr = bars()
    arr["instrument_id"][2] = 9_000_001
    result = v.validate_ohlcv(arr, WINDOW, KNOWN)
    table = result.quarantine_table("ohlcv-1m/2025-01-06_2025-01-07.dbn.zst", offset=1000)
    assert table.schema == QUARANTINE_SCHEMA
    row = table.to_pylist()[0]
    assert row["rule_id"] == "M-R08" and row["reason"] == v.RULES["M-R08"]
    assert row["origin"] == "ohlcv-1m/2025-01-06_2025-01-07.dbn.zst#record=1002"
    raw = json.loads(row["raw_record"])
    assert raw["instrument_id"] == 9_000_001 and raw["close"] == 70_020_000_000
    assert "length" not in raw and raw["rtype"] == 33
    empty = v.validate_ohlcv(bars(), WINDOW, KNOWN).quarantine_table("x")
    assert empty.num_rows == 0 and empty.schema == QUARANTINE_SCHEMA


def test_text_fields_in_raw_records_are_strings():
    t = trades()
    t["price"][1] = UNDEF
    raw = json.loads(v.validate_trades(t, WINDOW, KNOWN).raw_record[0])
    assert raw["side"] == "A" and raw["action"] == "T"


def test_validate_dispatches_and_requires_known_ids():
    assert v.validate("ohlcv-1d", bars(), WINDOW, KNOWN).valid.all()
    with pytest.raises(ValueError, match="known_ids"):
        v.validate("trades", trades(), WINDOW)
    with pytest.raises(ValueError, match="no record rules for schema 'mbo'"):
        v.validate("mbo", trades(), WINDOW, KNOWN)


# ---- conservation on sample files ----------------------------------------------------------


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("market-validation")


def definitions(window, root) -> np.ndarray:
    return np.concatenate(list(mdbn.read_chunks(sd.ensure_sample(root, "definition", *window))))


@pytest.mark.parametrize(
    "schema, window",
    [
        ("ohlcv-1m", (date(2025, 1, 6), date(2025, 1, 9))),
        ("ohlcv-1d", (date(2025, 1, 1), date(2025, 3, 1))),
        ("statistics", (date(2025, 1, 1), date(2025, 3, 1))),
        ("definition", (date(2025, 1, 1), date(2025, 3, 1))),
    ],
)
def test_conservation_on_a_sample_file(sample_dir, schema, window):
    known = v.known_instruments(definitions(window, sample_dir))
    path = sd.ensure_sample(sample_dir, schema, *window)
    whole = np.concatenate(list(mdbn.read_chunks(path)))
    result = v.validate(schema, whole, window, known)
    assert result.rows_in == len(whole) == result.rows_valid + result.rows_rejected
    assert len(np.unique(result.rejected_index)) == result.rows_rejected
    assert not result.valid[result.rejected_index].any()
    assert 0 < result.rows_rejected < 0.011 * len(whole)
    # Chunk by chunk (as an asset reads) gives the same split.
    seen, offset, rules = v.SeenRecords(), 0, []
    for chunk in mdbn.read_chunks(path, count=997):
        part = v.validate(schema, chunk, window, known, seen)
        rules += part.rule_id.tolist()
        assert part.rows_in == part.rows_valid + part.rows_rejected
        offset += part.rows_in
    assert offset == len(whole) and sorted(rules) == sorted(result.rule_id.tolist())


def test_each_dirt_kind_meets_its_rule(sample_dir):
    window = (date(2025, 1, 6), date(2025, 1, 9))
    known = v.known_instruments(definitions(window, sample_dir))
    path = sd.ensure_sample(sample_dir, "ohlcv-1m", *window)
    whole = np.concatenate(list(mdbn.read_chunks(path)))
    counts = v.validate_ohlcv(whole, window, known).counts()
    per_kind = max(1, round(len(whole) * sd.DIRT_RATE))
    # high below low, open above high, close below low, UNDEF price, zero volume,
    # unknown id, duplicate: one rule each; the two restamped bars: M-R07.
    assert counts == {
        "M-R01": per_kind,
        "M-R02": per_kind,
        "M-R03": per_kind,
        "M-R04": per_kind,
        "M-R06": per_kind,
        "M-R07": 2,
        "M-R08": per_kind,
        "M-R09": per_kind,
    }


def test_trades_conservation_and_cost(sample_dir):
    window = (date(2025, 1, 6), date(2025, 1, 7))
    known = v.known_instruments(definitions(window, sample_dir))
    path = sd.ensure_sample(sample_dir, "trades", *window)
    whole = np.concatenate(list(mdbn.read_chunks(path)))
    result = v.validate_trades(whole, window, known)
    assert result.rows_in == result.rows_valid + result.rows_rejected
    assert set(result.counts()) == {"M-R01", "M-R06", "M-R07", "M-R08", "M-R09"}
    assert isinstance(result.quarantine_table(str(path)), pa.Table)
