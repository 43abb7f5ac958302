"""Record rules for GLBX.MDP3 records, vectorized over whole numpy arrays of records.

One function per schema splits a chunk of records (as `dbn.read_chunks` yields them)
into valid rows and rejections, so that rows in = rows valid + rows rejected: each
rejected row is counted once, under the first rule (in id order) that rejects it.
Rules are boolean array expressions; only the rejected rows (a small share) are turned
into text: a constant reason per rule and the raw record as JSON.

Rules:
  M-R01 a price is UNDEF_PRICE (ohlcv open/high/low/close; trade price; the price of a
        price statistic such as a settlement)
  M-R02 bar high below its low
  M-R03 bar high below max(open, close)
  M-R04 bar low above min(open, close)
  M-R05 negative volume, size or quantity (unsigned fields: a value in the top half of
        the range is a negative that wrapped)
  M-R06 zero-volume bar or zero-size trade. Quarantined, not kept: Databento sends a bar
        only for an interval with trades, so such a bar is not one the exchange produced;
        its prices come from no trade and would skew ranges, VWAPs and notionals.
  M-R07 ts_event outside the partition window [start, end) (a definition: its ts_recv)
  M-R08 instrument id without a definition (ids passed in, from the definition file)
  M-R09 exact duplicate of an earlier record (byte for byte). A statistic republished
        with a later ts_recv is not a duplicate: the latest wins (`latest_statistics`),
        and the earlier publication is kept, not rejected.
  M-R10 a quantity statistic (open interest, cleared volume) is UNDEF_STAT_QUANTITY
  M-R11 definition without raw_symbol, asset, expiration or a positive tick
  M-R12 crossed book: the bid above the ask (tbbo, mbp-1, bbo-1s, bbo-1m; a side without a
        price is not compared)
  M-R13 a book side with contracts but no price: bid or ask UNDEF_PRICE while its size is
        not zero. An empty side (UNDEF_PRICE, size 0) is a real one-sided book: kept, its
        price null in canonical.
  M-R14 a status action, reason or trading event that is not a code Databento defines
        (databento_dbn StatusAction, StatusReason, TradingEvent)
  M-R15 a status flag (is_trading, is_quoting, is_short_sell_restricted) other than Y, N or
        ~ (not known)

Quotes and status are dated by ts_recv (M-R07), Databento's index time for them
(`dbn.time_field`); bars, trades and statistics by ts_event.

Duplicates are found within the array passed and, with a `SeenRecords` carried from
chunk to chunk, against every earlier chunk of the load: a duplicate is caught however
far from its original, whatever the chunk size, and memory stays bounded (the earlier
records are kept in DuckDB, which spills to disk, not in Python).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import databento_dbn as dbn

from assets.market.dbn import time_field
from assets.market.seen_records import SeenRecords
from headwater.quality import quarantine_schema

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa
# databento_dbn's sentinels as plain ints (numpy compares them with int64/uint64 columns);
# numpy and databento_dbn load only when records are validated, not with the definitions.
UNDEF_PRICE = 2**63 - 1
UNDEF_STAT_QUANTITY = 2**63 - 1
UNDEF_TIMESTAMP = 2**64 - 1
NS = 1_000_000_000

RULES: dict[str, str] = {
    "M-R01": "price is UNDEF_PRICE (no price was set)",
    "M-R02": "bar high is below its low",
    "M-R03": "bar high is below max(open, close)",
    "M-R04": "bar low is above min(open, close)",
    "M-R05": "negative volume/size/quantity",
    "M-R06": "zero volume: a bar or trade without any contracts traded",
    "M-R07": "ts_event (a definition: ts_recv) is outside the partition window [start, end)",
    "M-R08": "instrument_id has no definition",
    "M-R09": "exact duplicate of an earlier record",
    "M-R10": "quantity statistic (open interest, cleared volume) is UNDEF_STAT_QUANTITY",
    "M-R11": "definition lacks raw_symbol, asset, expiration or a positive min_price_increment",
    "M-R12": "crossed book: the bid is above the ask",
    "M-R13": "a book side has contracts but no price (bid or ask UNDEF_PRICE, size not 0)",
    "M-R14": "status action, reason or trading event is not a code Databento defines",
    "M-R15": "status flag (is_trading, is_quoting, is_short_sell_restricted) is not Y, N or ~",
}

# StatType codes (databento_dbn.StatType) whose `price`, or `quantity`, is the value.
PRICE_STATS = (1, 2, 3, 4, 5, 7, 8, 10, 11, 13, 16, 17, 18, 20, 24, 25, 26, 10002)
QUANTITY_STATS = (6, 9, 19, 10001)
STATUS_FLAGS = (b"Y", b"N", b"~")


@functools.cache
def _rule_texts() -> tuple[np.ndarray, np.ndarray]:
    """RULES' ids and reasons as arrays, indexed by a rule's position."""
    import numpy as np

    return np.array(list(RULES), dtype=object), np.array(list(RULES.values()), dtype=object)


@functools.cache
def _status_codes() -> tuple[list[int], list[int], list[int]]:
    """The codes Databento defines for a status record (databento_dbn's own enums): actions,
    reasons and trading events."""

    return (
        [int(a.value) for a in dbn.StatusAction.variants()],
        [int(r.value) for r in dbn.StatusReason.variants()],
        [int(e.value) for e in dbn.TradingEvent.variants()],
    )


@dataclass(frozen=True)
class Validated:
    """Outcome of the record rules on one array of records."""

    valid: np.ndarray  # bool per input row
    rejected_index: np.ndarray  # int64 positions of rejected rows, ascending
    rule_id: np.ndarray  # per rejected row (object array of str)
    reason: np.ndarray  # per rejected row
    raw_record: np.ndarray  # per rejected row: the record as JSON

    @property
    def rows_in(self) -> int:
        return len(self.valid)

    @property
    def rows_valid(self) -> int:
        return int(self.valid.sum())

    @property
    def rows_rejected(self) -> int:
        return len(self.rejected_index)

    def counts(self) -> dict[str, int]:
        import numpy as np

        ids, n = np.unique(self.rule_id.astype(str), return_counts=True)
        return dict(zip(ids.tolist(), n.tolist(), strict=True))

    def quarantine_table(self, origin: str, offset: int = 0) -> pa.Table:
        """Rejections in the shared quarantine shape; `origin` names the file and
        `offset` is the position of this array's first record in it."""
        import pyarrow as pa

        positions = (self.rejected_index + offset).tolist()
        return pa.table(
            {
                "rule_id": pa.array(self.rule_id.tolist(), pa.string()),
                "reason": pa.array(self.reason.tolist(), pa.string()),
                "origin": pa.array([f"{origin}#record={p}" for p in positions], pa.string()),
                "raw_record": pa.array(self.raw_record.tolist(), pa.string()),
            },
            schema=quarantine_schema(),
        )


# ---- helpers --------------------------------------------------------------------------------


def to_ns(value: date | datetime | int) -> int:
    """Nanoseconds since the epoch; dates are UTC midnight, naive datetimes UTC."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return int(aware.timestamp() * 1_000_000) * 1000
    if isinstance(value, date):
        return int(datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()) * NS
    return int(value)


def known_instruments(definitions: np.ndarray | Iterable[np.ndarray]) -> np.ndarray:
    """Sorted unique instrument ids of definition records (one array or many chunks)."""
    import numpy as np

    arrays = [definitions] if isinstance(definitions, np.ndarray) else list(definitions)
    ids = [a["instrument_id"] for a in arrays if len(a)]
    return np.unique(np.concatenate(ids)) if ids else np.empty(0, dtype=np.uint32)


def record_hashes(records: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each record's bytes (every DBN record is a multiple of 8 bytes)."""
    import numpy as np

    words = _words(records)
    h = np.full(len(records), np.uint64(0x9E3779B97F4A7C15))
    with np.errstate(over="ignore"):
        for j in range(words.shape[1]):
            h = (h ^ words[:, j]) * np.uint64(0x100000001B3)
            h ^= h >> np.uint64(29)
    return h


def _words(records: np.ndarray) -> np.ndarray:
    import numpy as np

    raw = np.ascontiguousarray(records).view(np.uint8).reshape(len(records), -1)
    return raw.view(np.uint64)


def duplicates(records: np.ndarray, seen: SeenRecords | None = None) -> np.ndarray:
    """True for each record that repeats an earlier record exactly (the first is kept)."""
    import numpy as np

    n = len(records)
    dup = np.zeros(n, dtype=bool)
    if n == 0:
        return dup
    h = record_hashes(records)
    order = np.argsort(h)
    hs = h[order]
    equal = hs[1:] == hs[:-1]
    if equal.any():
        # Only rows whose hash occurs twice can be duplicates: compare those exactly, so
        # a hash collision can never reject a record.
        grouped = np.zeros(n, dtype=bool)
        grouped[1:] |= equal
        grouped[:-1] |= equal
        candidates = np.sort(order[grouped])  # file order: the first copy is kept
        _, first = np.unique(_words(records)[candidates], axis=0, return_index=True)
        later = np.ones(len(candidates), dtype=bool)
        later[first] = False
        dup[candidates[later]] = True
    if seen is not None:
        dup |= seen.check_and_update(records, ~dup)
    return dup


def _first_failure(records: np.ndarray, rules: list[tuple[int, np.ndarray]]) -> Validated:
    """Each row's first failing rule (rules in id order) and the rejections' text."""
    import numpy as np

    rule = np.full(len(records), -1, dtype=np.int16)
    for k, failed in rules:
        rule[(rule < 0) & failed] = k
    rejected = np.nonzero(rule >= 0)[0]
    rule_ids, reasons = _rule_texts()
    return Validated(
        valid=rule < 0,
        rejected_index=rejected,
        rule_id=rule_ids[rule[rejected]],
        reason=reasons[rule[rejected]],
        raw_record=_raw_json(records[rejected]),
    )


def _raw_json(rows: np.ndarray) -> np.ndarray:
    import numpy as np

    names = [n for n in rows.dtype.names if n not in ("length", "_reserved")]
    columns = []
    for name in names:
        values = rows[name]
        if values.dtype.kind == "S":
            columns.append([v.decode("ascii", "replace") for v in values.tolist()])
        else:
            columns.append(values.tolist())
    out = np.empty(len(rows), dtype=object)
    out[:] = [json.dumps(dict(zip(names, row, strict=True))) for row in zip(*columns, strict=True)]
    return out


def _window(records: np.ndarray, window: tuple, field: str = "ts_event") -> np.ndarray:
    import numpy as np

    start, end = (to_ns(w) for w in window)
    ts = records[field]
    return (ts < np.uint64(max(start, 0))) | (ts >= np.uint64(max(end, 0)))


def _unknown(records: np.ndarray, known_ids) -> np.ndarray:
    import numpy as np

    ids = np.asarray(sorted(known_ids) if isinstance(known_ids, set | frozenset) else known_ids)
    return ~np.isin(records["instrument_id"], ids.astype(np.uint32))


def _rule(rule_id: str) -> int:
    return list(RULES).index(rule_id)


# ---- one function per schema ----------------------------------------------------------------


def validate_ohlcv(
    records: np.ndarray, window: tuple, known_ids, seen: SeenRecords | None = None
) -> Validated:
    """Rules for ohlcv-1s/1m/1h/1d bars."""
    import numpy as np

    o, h, lo, c = records["open"], records["high"], records["low"], records["close"]
    volume = records["volume"]
    return _first_failure(
        records,
        [
            (_rule("M-R01"), (o == UNDEF_PRICE) | (h == UNDEF_PRICE) | (lo == UNDEF_PRICE) | (c == UNDEF_PRICE)),
            (_rule("M-R02"), h < lo),
            (_rule("M-R03"), h < np.maximum(o, c)),
            (_rule("M-R04"), lo > np.minimum(o, c)),
            (_rule("M-R05"), volume > np.uint64(2**63 - 1)),
            (_rule("M-R06"), volume == 0),
            (_rule("M-R07"), _window(records, window)),
            (_rule("M-R08"), _unknown(records, known_ids)),
            (_rule("M-R09"), duplicates(records, seen)),
        ],
    )  # fmt: skip


def validate_trades(
    records: np.ndarray, window: tuple, known_ids, seen: SeenRecords | None = None
) -> Validated:
    import numpy as np

    size = records["size"]
    return _first_failure(
        records,
        [
            (_rule("M-R01"), records["price"] == UNDEF_PRICE),
            (_rule("M-R05"), size > np.uint32(2**31 - 1)),
            (_rule("M-R06"), size == 0),
            (_rule("M-R07"), _window(records, window)),
            (_rule("M-R08"), _unknown(records, known_ids)),
            (_rule("M-R09"), duplicates(records, seen)),
        ],
    )


def validate_statistics(
    records: np.ndarray, window: tuple, known_ids, seen: SeenRecords | None = None
) -> Validated:
    """Republished statistics all stay valid; `latest_statistics` picks the winners."""
    import numpy as np

    stat = records["stat_type"]
    quantity = records["quantity"]
    is_quantity = np.isin(stat, QUANTITY_STATS)
    return _first_failure(
        records,
        [
            (_rule("M-R01"), np.isin(stat, PRICE_STATS) & (records["price"] == UNDEF_PRICE)),
            (_rule("M-R05"), is_quantity & (quantity < 0)),
            (_rule("M-R07"), _window(records, window)),
            (_rule("M-R08"), _unknown(records, known_ids)),
            (_rule("M-R09"), duplicates(records, seen)),
            (_rule("M-R10"), is_quantity & (quantity == UNDEF_STAT_QUANTITY)),
        ],
    )


def validate_definitions(
    records: np.ndarray, window: tuple, seen: SeenRecords | None = None
) -> Validated:
    incomplete = (
        (records["raw_symbol"] == b"")
        | (records["asset"] == b"")
        | (records["expiration"] == UNDEF_TIMESTAMP)
        | (records["min_price_increment"] == UNDEF_PRICE)
        | (records["min_price_increment"] <= 0)
    )
    return _first_failure(
        records,
        [
            # A definition is dated by when it was sent (ts_recv): its ts_event is the
            # instrument's last change, often long before, and 0 in real IFEU files.
            (_rule("M-R07"), _window(records, window, "ts_recv")),
            (_rule("M-R09"), duplicates(records, seen)),
            (_rule("M-R11"), incomplete),
        ],
    )


def _book(records: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """M-R12 and M-R13 on the top of the book (bid_px_00, ask_px_00 and their sizes)."""
    bid, ask = records["bid_px_00"], records["ask_px_00"]
    no_bid, no_ask = bid == UNDEF_PRICE, ask == UNDEF_PRICE
    return [
        (_rule("M-R12"), ~no_bid & ~no_ask & (bid > ask)),
        (
            _rule("M-R13"),
            (no_bid & (records["bid_sz_00"] != 0)) | (no_ask & (records["ask_sz_00"] != 0)),
        ),
    ]


def _negative_sizes(records: np.ndarray) -> np.ndarray:
    """A trade or level size, or an order count, in the top half of its unsigned range."""
    import numpy as np

    wrapped = np.zeros(len(records), dtype=bool)
    for name in ("size", "bid_sz_00", "ask_sz_00", "bid_ct_00", "ask_ct_00"):
        wrapped |= records[name] > np.uint32(2**31 - 1)
    return wrapped


def validate_quotes(
    records: np.ndarray,
    window: tuple,
    known_ids,
    seen: SeenRecords | None = None,
    schema: str = "bbo-1s",
) -> Validated:
    """Rules for tbbo (trades with the book before them), mbp-1 (every top-of-book event)
    and bbo-1s/bbo-1m (the book at each interval's end). A bbo's `price` is the last trade's,
    undefined before any trade: not a rule. An mbp-1 book clear (action R) has no price."""
    import numpy as np

    none = np.zeros(len(records), dtype=bool)
    no_price = zero_trade = none
    if schema in ("tbbo", "mbp-1"):
        no_price = (records["price"] == UNDEF_PRICE) & (records["action"] != b"R")
    if schema == "tbbo":  # every tbbo record is a trade
        zero_trade = records["size"] == 0
    rules = [
        (_rule("M-R01"), no_price),
        (_rule("M-R05"), _negative_sizes(records)),
        (_rule("M-R06"), zero_trade),
        (_rule("M-R07"), _window(records, window, time_field(schema))),
        (_rule("M-R08"), _unknown(records, known_ids)),
        (_rule("M-R09"), duplicates(records, seen)),
        *_book(records),
    ]
    return _first_failure(records, rules)


def validate_status(
    records: np.ndarray, window: tuple, known_ids, seen: SeenRecords | None = None
) -> Validated:
    import numpy as np

    actions, reasons, events = _status_codes()
    unknown_code = (
        ~np.isin(records["action"], actions)
        | ~np.isin(records["reason"], reasons)
        | ~np.isin(records["trading_event"], events)
    )
    bad_flag = np.zeros(len(records), dtype=bool)
    for name in ("is_trading", "is_quoting", "is_short_sell_restricted"):
        bad_flag |= ~np.isin(records[name], STATUS_FLAGS)
    return _first_failure(
        records,
        [
            (_rule("M-R07"), _window(records, window, time_field("status"))),
            (_rule("M-R08"), _unknown(records, known_ids)),
            (_rule("M-R09"), duplicates(records, seen)),
            (_rule("M-R14"), unknown_code),
            (_rule("M-R15"), bad_flag),
        ],
    )


def _quotes(schema: str):
    def validate_schema(records, window, known_ids, seen=None) -> Validated:
        return validate_quotes(records, window, known_ids, seen, schema=schema)

    return validate_schema


VALIDATORS = {
    "ohlcv-1s": validate_ohlcv,
    "ohlcv-1m": validate_ohlcv,
    "ohlcv-1h": validate_ohlcv,
    "ohlcv-1d": validate_ohlcv,
    "trades": validate_trades,
    "statistics": validate_statistics,
    **{schema: _quotes(schema) for schema in ("tbbo", "mbp-1", "bbo-1s", "bbo-1m")},
    "status": validate_status,
}

# The rules each schema's records go through, for the assets' descriptions and docs.
SCHEMA_RULES = {
    "definition": ("M-R07", "M-R09", "M-R11"),
    "ohlcv-1s": ("M-R01", "M-R02", "M-R03", "M-R04", "M-R05", "M-R06", "M-R07", "M-R08", "M-R09"),
    "trades": ("M-R01", "M-R05", "M-R06", "M-R07", "M-R08", "M-R09"),
    "statistics": ("M-R01", "M-R05", "M-R07", "M-R08", "M-R09", "M-R10"),
    "tbbo": ("M-R01", "M-R05", "M-R06", "M-R07", "M-R08", "M-R09", "M-R12", "M-R13"),
    "mbp-1": ("M-R01", "M-R05", "M-R07", "M-R08", "M-R09", "M-R12", "M-R13"),
    "bbo-1s": ("M-R05", "M-R07", "M-R08", "M-R09", "M-R12", "M-R13"),
    "status": ("M-R07", "M-R08", "M-R09", "M-R14", "M-R15"),
}
for _bars in ("ohlcv-1m", "ohlcv-1h", "ohlcv-1d"):
    SCHEMA_RULES[_bars] = SCHEMA_RULES["ohlcv-1s"]
SCHEMA_RULES["bbo-1m"] = SCHEMA_RULES["bbo-1s"]


def validate(
    schema: str,
    records: np.ndarray,
    window: tuple,
    known_ids=None,
    seen: SeenRecords | None = None,
) -> Validated:
    """Dispatch on schema; `known_ids` is required for every schema but definition."""
    if schema == "definition":
        return validate_definitions(records, window, seen)
    if schema not in VALIDATORS:
        raise ValueError(f"no record rules for schema {schema!r}")
    if known_ids is None:
        raise ValueError(f"{schema}: known_ids (instrument ids from definitions) is required")
    return VALIDATORS[schema](records, window, known_ids, seen)


def latest_mask(records: np.ndarray, by: list[str], order: list[str]) -> np.ndarray:
    """True for the last record of each `by` group when sorted by `order` (later wins;
    ties go to the later position in the array)."""
    import numpy as np

    n = len(records)
    if n == 0:
        return np.zeros(0, dtype=bool)
    keys = (
        [np.arange(n)] + [records[f] for f in reversed(order)] + [records[f] for f in reversed(by)]
    )
    idx = np.lexsort(keys)
    group = np.zeros(n, dtype=bool)
    for f in by:
        col = records[f][idx]
        group[:-1] |= col[1:] != col[:-1]
    group[-1] = True  # the last of the whole array ends its group
    mask = np.zeros(n, dtype=bool)
    mask[idx[group]] = True
    return mask


def latest_statistics(records: np.ndarray) -> np.ndarray:
    """True for the publication that wins for each (instrument, stat_type, ts_ref): the
    latest ts_recv, then the highest sequence."""
    return latest_mask(records, ["instrument_id", "stat_type", "ts_ref"], ["ts_recv", "sequence"])
