"""Deterministic CME Globex (Databento GLBX.MDP3) sample files in Databento's own format.

`write_sample(path, schema, start, end, roots)` writes a real `.dbn.zst` for the half-open
UTC window [start, end): the DBN metadata a `timeseries.get_range` request with
`stype_in="parent"`, `stype_out="instrument_id"` returns (dataset, schema, symbols such as
"CL.FUT", start/end, and the parent -> instrument id mappings for every contract listed
in the window), then the records. `ensure_sample` writes only a missing file, through a
temporary name and a rename, so a crash never leaves half a file. Files are named
`<root_dir>/<schema>/<roots>_<start>_<end>.dbn.zst` (`sample_path`).

Nothing after now. A window still in progress at `now` (the current time unless given)
holds the records of the whole window that are published by now's minute (a bar once its
interval has closed; other records by ts_recv), the same bytes a file of the whole window
has for them, and its metadata's `end` is that minute. `ensure_sample` writes a file again
when its end is not where one written now would end, so a later fetch gets the records
published since, and the file of a window that is over is the whole window's.

Market model. Each root lists its real contract cycle (CL and NG monthly, ES quarterly
H/M/U/Z) with the exchange's expiry rules (simplified: no holidays, fixed UTC times) and
raw symbols like CLF5 and ESH5. A contract's instrument id is fixed by root and delivery
month, so it is the same in every file. The N nearest unexpired contracts are listed; the
front few trade, and activity moves from the front to the next contract over the last
days before expiry, when the front month changes. Prices follow a mean-reverting daily
walk per root (CL ~70 USD, ES ~5000, NG ~3) seeded by the root alone, so a day's level
agrees across schemas and windows; deferred contracts add a carry. Intraday, a Brownian
bridge joins one midnight level to the next. Sessions follow Globex (Sunday 23:00 UTC to
Friday 22:00, a daily halt 22:00-23:00), with New York at UTC-5 all year and no holidays.
Prices are int64 fixed point (x 1e9) on each contract's tick. Everything else (intraday
noise, volumes, trades, dirt) comes from a numpy generator seeded by schema, window and
roots: the same inputs give the same bytes.

Schemas (the intraday ones added later, ohlcv-1s, ohlcv-1h, tbbo, mbp-1, bbo-1s, bbo-1m and
status, with their own dirt, in `assets.market.sample_intraday`): ohlcv-1d (UTC calendar
days, Sunday evening included), ohlcv-1m (a bar only for
a minute with trades), trades, definition (a snapshot of every listed contract at 00:00
UTC each day: raw_symbol, instrument id, asset, expiration, activation, tick, multiplier
as unit_of_measure_qty...), statistics (settlement price, stat_type 3, at 19:30 UTC with
ts_ref = the trading date; open interest, 9, and cleared volume, 6, for the previous
trading day at 11:00 UTC with `quantity` set). About 3% of settlements are republished at
21:00 UTC with a corrected price: the later record wins (not dirt).

Dirt (`DIRT` lists the kinds by schema), all prices still on the tick grid:
  ohlcv:      high one tick below low; open one tick above high; close one tick below
              low; UNDEF_PRICE in one price field; a zero-volume bar
  trades:     UNDEF_PRICE as the price; a zero-size trade
  statistics: UNDEF_PRICE as a settlement price; UNDEF_STAT_QUANTITY as an open interest
  all but definition: a copy of a record stamped one minute (ohlcv-1d: one day) before
              the window and one stamped exactly at its exclusive end; an instrument id
              with no definition (as a calendar spread's would be: 9_000_000 + n)
  all:        an exact duplicate right after its original
Each kind takes max(1, 0.1%) of a generated chunk's records (the window kind: one record
at each end of the file), about 0.7% in all. A file under 100 records per kind gets one record each of only
as many kinds, chosen by the seed, as keeps dirt near 1%: a one-day ohlcv-1d or
definition file is clean. `truncate(path, keep_fraction)` writes a copy cut short, as a
download that stopped would leave it.
"""

import os
import tempfile
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import databento_dbn as dbn

from assets.market import sample_intraday
from assets.market.dbn import DBNFileError, read_info
from assets.market.sample_model import (
    DAY_NS,
    MINUTE_NS,
    ROOTS,
    WALK_END,
    WALK_START,
    _ns,
    _spec,
)
from assets.market.sample_records import (
    DIRT_RATE,
    SCHEMAS,
    UNDEF_PRICE,
    UNDEF_STAT_QUANTITY,
    UNKNOWN_ID_BASE,
    _file_end,
    _Generator,
)

# Read from here by the ingest plan and the tests, though they live lower down.
__all__ = [
    "DAY_NS",
    "DIRT_RATE",
    "ROOTS",
    "UNDEF_PRICE",
    "UNDEF_STAT_QUANTITY",
    "UNKNOWN_ID_BASE",
    "_ns",
]

DEFAULT_ROOTS = ("CL.FUT", "ES.FUT", "NG.FUT")
# Every schema with sample files: second and hour bars, quotes and status are made by
# assets/market/sample_intraday.py.
ALL_SCHEMAS = SCHEMAS + sample_intraday.SCHEMAS


# ---- paths and public entry points ---------------------------------------------------------


def sample_path(
    root_dir: Path | str,
    schema: str,
    start: date,
    end: date,
    roots: Sequence[str] = DEFAULT_ROOTS,
) -> Path:
    """`<root_dir>/<schema>/<roots>_<start>_<end>.dbn.zst`: the roots are in the name, so
    two fetches of one window for different symbols never share a file."""
    joined = "+".join(r.replace(".", "_") for r in roots)
    return Path(root_dir) / schema / f"{joined}_{start.isoformat()}_{end.isoformat()}.dbn.zst"


def ensure_sample(
    root_dir: Path | str,
    schema: str,
    start: date,
    end: date,
    roots: Sequence[str] = DEFAULT_ROOTS,
    now: datetime | None = None,
) -> Path:
    """The sample file for the window, written only if it is missing or does not end where
    a file written at `now` (default: the current time) would: a window in progress ends
    at the minute the file was written, so a later call writes it again with the records
    published since (see `write_sample`)."""
    path = sample_path(root_dir, schema, start, end, roots)
    if not path.exists() or _ends_elsewhere(path, _file_end(start, end, cutoff_ns(now))):
        write_sample(path, schema, start, end, roots, now)
    return path


def _ends_elsewhere(path: Path, end_ns: int) -> bool:
    """Whether the file's metadata ends elsewhere than `end_ns`. A file whose metadata does
    not read is left as it is: the loader's reader names what is wrong with it."""
    try:
        return read_info(path).end_ns != end_ns
    except DBNFileError:
        return False


def cutoff_ns(now: datetime | None = None) -> int:
    """`now` (default: the current time; naive is UTC) down to its minute, in ns: no record
    published after it is generated."""
    now = now or datetime.now(UTC)
    aware = now if now.tzinfo else now.replace(tzinfo=UTC)
    return int(aware.timestamp()) // 60 * MINUTE_NS


def write_sample(
    path: Path | str,
    schema: str,
    start: date,
    end: date,
    roots: Sequence[str] = DEFAULT_ROOTS,
    now: datetime | None = None,
) -> Path:
    """Write the sample `.dbn.zst` of `schema` for [start, end) to `path`, atomically. A
    window still in progress at `now` (default: the current time) holds only the records
    published by then (a bar once its interval has closed), and its metadata's end is
    that minute: no record is made up for a time to come."""

    if schema not in ALL_SCHEMAS:
        raise ValueError(f"unknown schema {schema!r} (schemas: {', '.join(ALL_SCHEMAS)})")
    if not start < end:
        raise ValueError(f"empty window: start {start} must be before end {end}")
    if start < WALK_START or end > WALK_END:
        raise ValueError(f"window must fall in [{WALK_START}, {WALK_END})")
    specs = [_spec(root) for root in roots]
    if len(set(roots)) != len(roots):
        raise ValueError(f"roots repeat: {', '.join(roots)}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    kind = sample_intraday.IntradayGenerator if schema in sample_intraday.SCHEMAS else _Generator
    gen = kind(schema, start, end, specs, cutoff_ns(now))
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            transcoder = dbn.Transcoder(f, dbn.Encoding.DBN, dbn.Compression.ZSTD)
            transcoder.write(bytes(gen.metadata()))
            for records in gen.chunks():
                transcoder.write(records.tobytes())
                transcoder.flush()
            transcoder.finish()
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def truncate(path: Path | str, keep_fraction: float, dest: Path | str | None = None) -> Path:
    """Copy the first `keep_fraction` of the file's bytes to `dest` (default
    `<name>.truncated.dbn.zst` beside it), as an interrupted download leaves a file."""
    if not 0 < keep_fraction < 1:
        raise ValueError(f"keep_fraction must be in (0, 1), got {keep_fraction}")
    path = Path(path)
    data = path.read_bytes()
    dest = Path(dest) if dest else path.with_name(path.name.split(".")[0] + ".truncated.dbn.zst")
    dest.write_bytes(data[: int(len(data) * keep_fraction)])
    return dest
