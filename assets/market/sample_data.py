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

Schemas: ohlcv-1d (UTC calendar days, Sunday evening included), ohlcv-1m (a bar only for
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

import math
import os
import tempfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import databento_dbn as dbn
import numpy as np

from assets.market.dbn import DBNFileError, read_info, record_dtype

GENERATOR_VERSION = 1  # bump when generated values change
DATASET = "GLBX.MDP3"
PUBLISHER_ID = 1  # GLBX.MDP3.GLBX
SCHEMAS = ("ohlcv-1d", "ohlcv-1m", "trades", "definition", "statistics")
DEFAULT_ROOTS = ("CL.FUT", "ES.FUT", "NG.FUT")

NS = 1_000_000_000
MINUTE_NS = 60 * NS
DAY_NS = 86_400 * NS
YEAR_NS = 365.25 * DAY_NS
MINUTES_PER_DAY = 1440
PRICE_SCALE = dbn.FIXED_PRICE_SCALE
UNDEF_PRICE = dbn.UNDEF_PRICE
UNDEF_STAT_QUANTITY = dbn.UNDEF_STAT_QUANTITY
UNKNOWN_ID_BASE = 9_000_000  # ids of spreads whose definitions were not sent

# The daily price walks run from WALK_START so that a day's level never depends on the
# window asked for; windows must fall before WALK_END.
WALK_START = date(2000, 1, 1)
WALK_END = date(2060, 1, 1)
MEAN_REVERSION = 0.01  # per day, in log price

MONTH_CODES = "FGHJKMNQUVXZ"
F_LAST = dbn.F_LAST
STAT_SETTLEMENT = int(dbn.StatType.SETTLEMENT_PRICE)
STAT_CLEARED_VOLUME = int(dbn.StatType.CLEARED_VOLUME)
STAT_OPEN_INTEREST = int(dbn.StatType.OPEN_INTEREST)
REPUBLISHED_SHARE = 0.03

DIRT_RATE = 0.001  # per kind
DIRT_MIN_PER_KIND = 100  # records per kind before every kind appears at least once
DIRT = {
    "ohlcv-1d": (
        "high_below_low",
        "open_above_high",
        "close_below_low",
        "undef_price",
        "zero_volume",
        "outside_window",
        "unknown_instrument",
        "duplicate",
    ),
    "trades": (
        "undef_price",
        "zero_volume",
        "outside_window",
        "unknown_instrument",
        "duplicate",
    ),
    "statistics": (
        "undef_price",
        "undef_open_interest",
        "outside_window",
        "unknown_instrument",
        "duplicate",
    ),
    "definition": ("duplicate",),
}
DIRT["ohlcv-1m"] = DIRT["ohlcv-1d"]

# Days of records generated at once: bounds memory whatever the window.
CHUNK_DAYS = {"ohlcv-1m": 8, "trades": 1, "ohlcv-1d": 366, "definition": 366, "statistics": 366}


@dataclass(frozen=True)
class RootSpec:
    root: str  # asset, e.g. "CL"
    months: str  # listed delivery months, as month codes
    expiry: str  # rule name, see _expiration
    tick: float
    multiplier: float
    unit_of_measure: str
    exchange: str
    cfi: str
    level: float  # long-run price level
    daily_vol: float  # sd of the daily log return
    carry: float  # per year, log: deferred contracts trade at level * exp(carry * years)
    listed: int  # contracts listed at once
    live: tuple[float, ...]  # activity of the front, second, ... contract (front = 1)
    trades_per_minute: float  # front month, average session
    trade_size: float  # mean contracts per trade
    open_interest: int  # front month
    roll_days: float  # activity moves to the next contract over these last days
    id_base: int


ROOTS: dict[str, RootSpec] = {
    "CL": RootSpec(
        root="CL",
        months=MONTH_CODES,
        expiry="cl",
        tick=0.01,
        multiplier=1000,
        unit_of_measure="BBL",
        exchange="XNYM",
        cfi="FCEPSX",
        level=70.0,
        daily_vol=0.022,
        carry=0.02,
        listed=8,
        live=(1.0, 0.35, 0.12),
        trades_per_minute=60,
        trade_size=2.0,
        open_interest=350_000,
        roll_days=5,
        id_base=4_000_000,
    ),
    "ES": RootSpec(
        root="ES",
        months="HMUZ",
        expiry="es",
        tick=0.25,
        multiplier=50,
        unit_of_measure="IPNT",
        exchange="XCME",
        cfi="FFICSX",
        level=5000.0,
        daily_vol=0.011,
        carry=0.015,
        listed=5,
        live=(1.0, 0.05),
        trades_per_minute=100,
        trade_size=3.0,
        open_interest=2_000_000,
        roll_days=8,
        id_base=2_000_000,
    ),
    "NG": RootSpec(
        root="NG",
        months=MONTH_CODES,
        expiry="ng",
        tick=0.001,
        multiplier=10_000,
        unit_of_measure="MMBTU",
        exchange="XNYM",
        cfi="FCEPSX",
        level=3.0,
        daily_vol=0.035,
        carry=0.08,
        listed=8,
        live=(1.0, 0.4, 0.15),
        trades_per_minute=30,
        trade_size=2.0,
        open_interest=250_000,
        roll_days=3,
        id_base=6_000_000,
    ),
}


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


def _file_end(start: date, end: date, cutoff: int) -> int:
    """The end a file of [start, end) written at `cutoff` has in its metadata: the window's
    end once it is over, else the cutoff (the start for a window still to come)."""
    return _ns(end) if cutoff >= _ns(end) else max(_ns(start), cutoff)


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
    if schema not in SCHEMAS:
        raise ValueError(f"unknown schema {schema!r} (schemas: {', '.join(SCHEMAS)})")
    if not start < end:
        raise ValueError(f"empty window: start {start} must be before end {end}")
    if start < WALK_START or end > WALK_END:
        raise ValueError(f"window must fall in [{WALK_START}, {WALK_END})")
    specs = [_spec(root) for root in roots]
    if len(set(roots)) != len(roots):
        raise ValueError(f"roots repeat: {', '.join(roots)}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    gen = _Generator(schema, start, end, specs, cutoff_ns(now))
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


def _spec(root: str) -> RootSpec:
    asset = root.removesuffix(".FUT")
    if asset not in ROOTS or not root.endswith(".FUT"):
        known = ", ".join(f"{r}.FUT" for r in ROOTS)
        raise ValueError(f"unknown root {root!r} (roots: {known})")
    return ROOTS[asset]


def _seed(*parts: object) -> int:
    return zlib.crc32("|".join(str(p) for p in parts).encode())


def _ns(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * NS


# ---- contracts -----------------------------------------------------------------------------


def _business_days_before(day: date, n: int) -> date:
    while n:
        day -= timedelta(days=1)
        n -= day.weekday() < 5
    return day


def _expiration(spec: RootSpec, year: int, month: int) -> int:
    """Last trading time (ns UTC) of the contract for delivery in year-month."""
    if spec.expiry == "es":  # third Friday of the month, 09:30 ET
        first = date(year, month, 1)
        day = first + timedelta(days=(4 - first.weekday()) % 7 + 14)
        return _ns(day) + (14 * 60 + 30) * MINUTE_NS  # 09:30 New York
    prior = date(year - (month == 1), (month - 2) % 12 + 1, 1)
    if spec.expiry == "cl":  # 3 business days before the 25th of the prior month
        day = prior.replace(day=25)
        day = _business_days_before(day, 3 if day.weekday() < 5 else 4)
    else:  # ng: 3 business days before the first of the delivery month
        day = _business_days_before(date(year, month, 1), 3)
    return _ns(day) + (19 * 60 + 30) * MINUTE_NS  # 14:30 New York


@dataclass(frozen=True)
class Contracts:
    """One root's contracts in expiry order (listed ones and their neighbours)."""

    spec: RootSpec
    raw_symbol: list[str]
    instrument_id: np.ndarray  # uint32
    year: np.ndarray
    month: np.ndarray
    expiration: np.ndarray  # int64 ns
    activation: np.ndarray  # int64 ns: listed when the contract `listed` places ahead expires

    def front(self, t: np.ndarray) -> np.ndarray:
        """Index of the nearest contract not expired at each time."""
        return np.searchsorted(self.expiration, t, side="right")

    def listed_between(self, start_ns: int, end_ns: int) -> np.ndarray:
        return np.nonzero((self.activation < end_ns) & (self.expiration >= start_ns))[0]


def contracts(spec: RootSpec, start: date, end: date) -> Contracts:
    """The root's contracts expiring from a year before `start` to well after `end`."""
    rows = []
    for year in range(start.year - 1, end.year + 4):
        for code in spec.months:
            month = MONTH_CODES.index(code) + 1
            rows.append((_expiration(spec, year, month), year, month))
    rows.sort()
    expiration = np.array([r[0] for r in rows], dtype=np.int64)
    listed = spec.listed
    activation = np.concatenate(
        [expiration[:listed] - listed * 31 * DAY_NS, expiration[:-listed]]
    ).astype(np.int64)
    year = np.array([r[1] for r in rows])
    month = np.array([r[2] for r in rows])
    return Contracts(
        spec=spec,
        raw_symbol=[f"{spec.root}{MONTH_CODES[m - 1]}{y % 10}" for _, y, m in rows],
        instrument_id=(spec.id_base + (year - 2000) * 100 + month).astype(np.uint32),
        year=year,
        month=month,
        expiration=expiration,
        activation=activation,
    )


# ---- prices and activity --------------------------------------------------------------------

_WALKS: dict[str, np.ndarray] = {}


def _daily_log_levels(spec: RootSpec) -> np.ndarray:
    """log price at 00:00 UTC of every day from WALK_START, a mean-reverting walk."""
    walk = _WALKS.get(spec.root)
    if walk is None:
        n = (WALK_END - WALK_START).days + 1
        shocks = np.random.default_rng(_seed("walk", spec.root)).normal(size=n) * spec.daily_vol
        target = math.log(spec.level)
        walk = np.empty(n)
        x = target
        for i, shock in enumerate(shocks.tolist()):
            walk[i] = x
            x += MEAN_REVERSION * (target - x) + shock
        _WALKS[spec.root] = walk
    return walk


def _day_index(t_ns: int) -> int:
    return (t_ns - _ns(WALK_START)) // DAY_NS


def _session(t: np.ndarray) -> np.ndarray:
    """Activity factor of each minute (0 = market closed): Globex hours (New York at UTC-5),
    busiest during the US day session."""
    weekday = (t // DAY_NS + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    minute = (t % DAY_NS) // MINUTE_NS
    halt = (minute >= 22 * 60) & (minute < 23 * 60)
    closed = (
        halt
        | (weekday == 5)
        | ((weekday == 6) & (minute < 23 * 60))
        | ((weekday == 4) & (minute >= 22 * 60))
    )
    factor = np.where(
        (minute >= 14 * 60 + 30) & (minute < 21 * 60),
        2.2,
        np.where((minute >= 8 * 60) & (minute < 14 * 60 + 30), 0.9, 0.45),
    )
    return np.where(closed, 0.0, factor)


def _activity(c: Contracts, i: int, t: np.ndarray, front: np.ndarray) -> np.ndarray:
    """Share of the front month's activity contract i has at times t (0 when not trading)."""
    live = c.spec.live
    rank = i - front
    share = np.zeros(len(t))
    for r, value in enumerate(live):
        share[rank == r] = value
    if len(live) > 1:
        # Over the last roll_days, activity moves from the front to the second contract.
        front_exp = c.expiration[np.minimum(front, len(c.expiration) - 1)]
        roll = np.clip(1 - (front_exp - t) / (c.spec.roll_days * DAY_NS), 0, 1)
        share = np.where(rank == 0, (1 - roll) + roll * live[1], share)
        share = np.where(rank == 1, live[1] * (1 - roll) + roll, share)
    share[(t >= c.expiration[i]) | (t < c.activation[i])] = 0
    return share


def _to_ticks(price: np.ndarray, tick: float) -> np.ndarray:
    return np.rint(price / tick).astype(np.int64)


def _tick_fixed(spec: RootSpec) -> int:
    return round(spec.tick * PRICE_SCALE)


# ---- the generator -------------------------------------------------------------------------


class _Generator:
    def __init__(self, schema: str, start: date, end: date, specs: list[RootSpec], cutoff: int):
        self.schema = schema
        self.start, self.end = start, end
        self.start_ns, self.end_ns = _ns(start), _ns(end)
        # A window in progress ends at the cutoff; None when the window is over.
        self.cutoff = cutoff if cutoff < self.end_ns else None
        self.file_end = _file_end(start, end, cutoff)
        self.specs = specs
        self.contracts = [contracts(spec, start, end) for spec in specs]
        self.dtype = record_dtype(schema)
        roots = ",".join(s.root for s in specs)
        self.rng = np.random.default_rng(_seed(GENERATOR_VERSION, schema, start, end, roots))

    # -- metadata

    def metadata(self) -> dbn.Metadata:
        mappings = []
        for c in self.contracts:
            intervals = []
            for i in c.listed_between(self.start_ns, self.end_ns):
                first = max(self.start, _date(int(c.activation[i])))
                last = min(self.end, _date(int(c.expiration[i])) + timedelta(days=1))
                intervals.append(_Interval(first, last, str(int(c.instrument_id[i]))))
            intervals.sort(key=lambda iv: (iv.start_date, int(iv.symbol)))
            mappings.append(_Mapping(f"{c.spec.root}.FUT", intervals))
        return dbn.Metadata(
            dataset=DATASET,
            start=self.start_ns,
            stype_in=dbn.SType.PARENT,
            stype_out=dbn.SType.INSTRUMENT_ID,
            schema=dbn.Schema(self.schema),
            symbols=[f"{s.root}.FUT" for s in self.specs],
            mappings=mappings,
            end=self.file_end,
        )

    # -- records

    def chunks(self) -> Iterator[np.ndarray]:
        step = CHUNK_DAYS[self.schema]
        days = (self.end - self.start).days
        build = {
            "ohlcv-1m": self._ohlcv_1m,
            "ohlcv-1d": self._ohlcv_1d,
            "trades": self._trades,
            "statistics": self._statistics,
            "definition": self._definitions,
        }[self.schema]
        for offset in range(0, days, step):
            first = self.start + timedelta(days=offset)
            if self.cutoff is not None and _ns(first) > self.cutoff:
                break  # nothing of it is published yet (later chunks never change earlier ones)
            n = min(step, days - offset)
            records = build(first, n)
            records = self._dirty(records, first=offset == 0, last=offset + step >= days)
            if self.cutoff is not None:
                # The same records as the whole window's, less those not published yet.
                records = records[self._published(records) <= self.cutoff]
            yield records

    def _published(self, records: np.ndarray) -> np.ndarray:
        """When each record exists (ns): a bar when its interval closes, else ts_recv."""
        if self.schema == "ohlcv-1m":
            return records["ts_event"].astype(np.int64) + MINUTE_NS
        if self.schema == "ohlcv-1d":
            return records["ts_event"].astype(np.int64) + DAY_NS
        return records["ts_recv"].astype(np.int64)

    def _empty(self, n: int) -> np.ndarray:
        out = np.zeros(n, dtype=self.dtype)
        out["length"] = self.dtype.itemsize // 4
        out["rtype"] = int(dbn.RType.from_schema(dbn.Schema(self.schema)))
        out["publisher_id"] = PUBLISHER_ID
        return out

    def _minute_paths(self, c: Contracts, first: date, n_days: int):
        """Minute times and the root's log mid price at each minute's start and end."""
        d0 = _day_index(_ns(first))
        levels = _daily_log_levels(c.spec)[d0 : d0 + n_days + 1]
        frac = np.arange(MINUTES_PER_DAY + 1) / MINUTES_PER_DAY
        base = levels[:-1, None] * (1 - frac) + levels[1:, None] * frac
        sigma = c.spec.daily_vol / math.sqrt(MINUTES_PER_DAY) * 0.8
        steps = self.rng.normal(size=(n_days, MINUTES_PER_DAY)) * sigma
        walk = np.concatenate([np.zeros((n_days, 1)), np.cumsum(steps, axis=1)], axis=1)
        log_mid = base + walk - frac * walk[:, -1:]  # a bridge: exact levels at midnight
        t = _ns(first) + np.arange(n_days * MINUTES_PER_DAY, dtype=np.int64) * MINUTE_NS
        return t, log_mid[:, :-1].ravel(), log_mid[:, 1:].ravel()

    def _contract_minutes(self, c: Contracts, first: date, n_days: int):
        """Per trading contract: (index, minute times, log open, log close, expected
        trades per minute), for minutes where it trades."""
        t, log_open, log_close = self._minute_paths(c, first, n_days)
        session = _session(t)
        front = c.front(t)
        t_end = int(t[-1]) + MINUTE_NS
        for i in c.listed_between(int(t[0]), t_end):
            rate = c.spec.trades_per_minute * session * _activity(c, i, t, front)
            keep = rate > 0
            if not keep.any():
                continue
            carry = c.spec.carry * (c.expiration[i] - t[keep]) / YEAR_NS
            yield i, t[keep], log_open[keep] + carry, log_close[keep] + carry, rate[keep]

    def _ohlcv_1m(self, first: date, n_days: int) -> np.ndarray:
        cols = _Columns()
        rng = self.rng
        for c in self.contracts:
            spec = c.spec
            tick = _tick_fixed(spec)
            spread = spec.daily_vol / math.sqrt(MINUTES_PER_DAY) / spec.tick * 0.7
            for i, t, log_open, log_close, rate in self._contract_minutes(c, first, n_days):
                trades = rng.poisson(rate)
                bar = trades > 0  # no trades, no bar
                t, trades = t[bar], trades[bar]
                price = np.exp(log_open[bar])
                o = _to_ticks(price, spec.tick) + rng.integers(-1, 2, len(t))
                cl = _to_ticks(np.exp(log_close[bar]), spec.tick)
                wick = (np.abs(rng.normal(size=(2, len(t)))) * (price * spread)).astype(np.int64)
                cols.add(
                    instrument_id=np.full(len(t), c.instrument_id[i], dtype=np.uint32),
                    ts_event=t,
                    open=o * tick,
                    high=(np.maximum(o, cl) + wick[0]) * tick,
                    low=(np.minimum(o, cl) - wick[1]) * tick,
                    close=cl * tick,
                    volume=trades + rng.poisson(trades * (spec.trade_size - 1)),
                )
        return cols.records(self._empty, "ts_event", "instrument_id")

    def _trades(self, first: date, n_days: int) -> np.ndarray:
        cols = _Columns()
        rng = self.rng
        sides = np.array([b"A", b"B", b"N"])
        for c in self.contracts:
            spec = c.spec
            for i, t, log_open, log_close, rate in self._contract_minutes(c, first, n_days):
                which = np.repeat(np.arange(len(t)), rng.poisson(rate))
                n = len(which)
                offset = rng.integers(0, MINUTE_NS, n)
                w = offset / MINUTE_NS
                log_p = log_open[which] * (1 - w) + log_close[which] * w
                ticks = _to_ticks(np.exp(log_p), spec.tick) + rng.integers(-1, 2, n)
                ts_event = t[which] + offset
                cols.add(
                    instrument_id=np.full(n, c.instrument_id[i], dtype=np.uint32),
                    ts_event=ts_event,
                    price=ticks * _tick_fixed(spec),
                    size=rng.geometric(1 / spec.trade_size, n),
                    side=sides[np.searchsorted([0.495, 0.99], rng.random(n))],
                    ts_recv=ts_event + rng.integers(200_000, 2_000_000, n),
                    ts_in_delta=rng.integers(8_000, 40_000, n),
                )
        out = cols.records(self._empty, "ts_recv", "instrument_id")
        out["action"] = b"T"
        out["flags"] = F_LAST
        out["sequence"] = (_seed("seq", first) % 1_000_000) + np.arange(len(out))
        return out

    def _days(self, first: date, n_days: int) -> np.ndarray:
        return _ns(first) + np.arange(n_days, dtype=np.int64) * DAY_NS

    def _daily_price(self, c: Contracts, i: int, day_ns: np.ndarray, at: int) -> np.ndarray:
        """Contract i's price at `at` ns after each day's midnight (daily level + carry)."""
        idx = (day_ns - _ns(WALK_START)) // DAY_NS
        levels = _daily_log_levels(c.spec)
        w = at / DAY_NS
        log_mid = levels[idx] * (1 - w) + levels[idx + 1] * w
        return np.exp(log_mid + c.spec.carry * (c.expiration[i] - day_ns - at) / YEAR_NS)

    def _ohlcv_1d(self, first: date, n_days: int) -> np.ndarray:
        parts = []
        rng = self.rng
        days = self._days(first, n_days)
        weekday = (days // DAY_NS + 3) % 7
        day_factor = np.select([weekday == 5, weekday == 6, weekday == 4], [0.0, 0.08, 0.9], 1.0)
        for c in self.contracts:
            spec = c.spec
            front = c.front(days)
            tick = _tick_fixed(spec)
            for i in c.listed_between(int(days[0]), int(days[-1]) + DAY_NS):
                share = _activity(c, i, days, front) * day_factor
                keep = share > 0
                if not keep.any():
                    continue
                d = days[keep]
                o = _to_ticks(self._daily_price(c, i, d, 0), spec.tick)
                cl = _to_ticks(self._daily_price(c, i, d, DAY_NS - MINUTE_NS), spec.tick)
                price = self._daily_price(c, i, d, DAY_NS // 2)
                wick = np.abs(rng.normal(size=(2, len(d)))) * price * spec.daily_vol * 0.5
                wick = (wick / spec.tick).astype(np.int64)
                mean = spec.trades_per_minute * 1380 * 1.1 * spec.trade_size * share[keep]
                volume = np.maximum(1, mean * rng.lognormal(0, 0.25, len(d))).astype(np.uint64)
                part = self._empty(len(d))
                part["instrument_id"] = c.instrument_id[i]
                part["ts_event"] = d
                part["open"], part["close"] = o * tick, cl * tick
                part["high"] = (np.maximum(o, cl) + wick[0]) * tick
                part["low"] = (np.minimum(o, cl) - wick[1]) * tick
                part["volume"] = volume
                parts.append(part)
        return _sorted(parts, self._empty(0), "ts_event", "instrument_id")

    def _statistics(self, first: date, n_days: int) -> np.ndarray:
        parts = []
        rng = self.rng
        days = self._days(first, n_days)
        weekday = (days // DAY_NS + 3) % 7
        trading = days[weekday < 5]
        if not len(trading):
            return self._empty(0)
        # Each trading day's stats for the day before: Monday reports Friday.
        previous = trading - np.where((trading // DAY_NS + 3) % 7 == 0, 3, 1) * DAY_NS
        for c in self.contracts:
            spec = c.spec
            tick = _tick_fixed(spec)
            n_ranks = len(spec.live) + 2
            for i in c.listed_between(int(previous[0]), int(trading[-1]) + DAY_NS):
                # Settlement for the trading day itself.
                settle_at = (19 * 60 + 30) * MINUTE_NS
                rank = i - c.front(trading + settle_at - MINUTE_NS)  # expiring today: settles
                ok = (rank >= 0) & (rank < n_ranks)
                d = trading[ok]
                if len(d):
                    ticks = _to_ticks(self._daily_price(c, i, d, settle_at), spec.tick)
                    settle = self._stats(len(d), STAT_SETTLEMENT, c.instrument_id[i])
                    settle["ts_event"] = d + settle_at + rng.integers(0, NS, len(d))
                    settle["ts_ref"] = d
                    settle["price"] = ticks * tick
                    settle["quantity"] = UNDEF_STAT_QUANTITY
                    parts.append(settle)
                    again = rng.random(len(d)) < REPUBLISHED_SHARE
                    if again.any():
                        # A correction later in the day: these records carry the right
                        # price; the first prints were off by a few ticks.
                        fix = settle[again].copy()
                        fix["ts_event"] = d[again] + 21 * 60 * MINUTE_NS
                        settle["price"][again] += rng.integers(1, 4, again.sum()) * tick
                        parts.append(fix)
                # Open interest and cleared volume for the previous trading day.
                rank = i - c.front(previous + DAY_NS - MINUTE_NS)
                ok = (rank >= 0) & (rank < n_ranks) & (c.activation[i] < previous + DAY_NS)
                if not ok.any():
                    continue
                d, ref, r = trading[ok], previous[ok], rank[ok]
                roll = np.clip(1 - (c.expiration[i] - ref) / (spec.roll_days * DAY_NS), 0, 1)
                oi = spec.open_interest * 0.7**r * (1 - 0.85 * roll * (r == 0))
                oi = oi * (1 + 0.02 * rng.normal(size=len(d)))
                published = d + 11 * 60 * MINUTE_NS + rng.integers(0, NS, len(d))
                interest = self._stats(len(d), STAT_OPEN_INTEREST, c.instrument_id[i])
                interest["ts_event"] = published
                interest["ts_ref"] = ref
                interest["price"] = UNDEF_PRICE
                interest["quantity"] = oi.astype(np.int64)
                volume = self._stats(len(d), STAT_CLEARED_VOLUME, c.instrument_id[i])
                volume["ts_event"] = published + 1_000_000
                volume["ts_ref"] = ref
                volume["price"] = UNDEF_PRICE
                activity = _activity(c, i, ref + DAY_NS // 2, c.front(ref + DAY_NS // 2))
                volume["quantity"] = (
                    spec.trades_per_minute * 1380 * spec.trade_size * activity
                    * rng.lognormal(0, 0.25, len(d))
                ).astype(np.int64)  # fmt: skip
                parts += [interest, volume]
        for part in parts:
            part["ts_recv"] = part["ts_event"] + rng.integers(100_000, 900_000, len(part))
            part["ts_in_delta"] = rng.integers(8_000, 40_000, len(part))
        out = _sorted(parts, self._empty(0), "ts_recv", "instrument_id")
        out["sequence"] = (_seed("seq", first) % 1_000_000) + np.arange(len(out))
        return out

    def _stats(self, n: int, stat_type: int, instrument_id: int) -> np.ndarray:
        out = self._empty(n)
        out["instrument_id"] = instrument_id
        out["stat_type"] = stat_type
        out["update_action"] = int(dbn.StatUpdateAction.NEW)
        out["channel_id"] = 0
        return out

    def _definitions(self, first: date, n_days: int) -> np.ndarray:
        records: list[bytes] = []
        for day_ns in self._days(first, n_days).tolist():
            listed = []
            for c in self.contracts:
                listed += [(c, int(i)) for i in c.listed_between(day_ns, day_ns + DAY_NS)]
            listed.sort(key=lambda ci: int(ci[0].instrument_id[ci[1]]))
            for k, (c, i) in enumerate(listed):
                records.append(bytes(_definition(c, i, day_ns + k * 1_000)))
        if not records:
            return self._empty(0)
        return np.frombuffer(b"".join(records), dtype=self.dtype).copy()

    # -- dirt

    def _dirty(self, records: np.ndarray, first: bool, last: bool) -> np.ndarray:
        """Add the documented dirt to a freshly built chunk (changed in place)."""
        kinds = list(DIRT[self.schema])
        n = len(records)
        rng = self.rng
        if n < DIRT_MIN_PER_KIND * len(kinds):
            # Small file: one record each of as many kinds as keeps dirt under 1%.
            allowed = n // DIRT_MIN_PER_KIND
            kinds = [kinds[j] for j in sorted(rng.permutation(len(kinds))[:allowed])]
        if not kinds:
            return records
        per_kind = max(1, round(n * DIRT_RATE))
        price_fields = [
            f for f in ("open", "high", "low", "close", "price") if f in records.dtype.names
        ]
        used = np.zeros(n, dtype=bool)

        def pick(candidates: np.ndarray | None = None, count: int = per_kind) -> np.ndarray:
            pool = ~used if candidates is None else (~used & candidates)
            idx = np.nonzero(pool)[0]
            chosen = np.sort(rng.choice(idx, size=min(count, len(idx)), replace=False))
            used[chosen] = True
            return chosen

        # One tick of each row's root, so dirty prices stay on the price grid.
        tick_of = {spec.id_base // 1_000_000: _tick_fixed(spec) for spec in self.specs}

        def tick(idx: np.ndarray) -> np.ndarray:
            roots = (records["instrument_id"][idx] // 1_000_000).tolist()
            return np.array([tick_of[r] for r in roots], dtype=np.int64)

        extra: list[tuple[np.ndarray, np.ndarray]] = []  # (insert before positions, records)
        for kind in kinds:
            if kind == "high_below_low":
                idx = pick()
                high = records["high"][idx].copy()
                records["high"][idx] = records["low"][idx] - tick(idx)
                records["low"][idx] = high
            elif kind == "open_above_high":
                idx = pick()
                records["open"][idx] = records["high"][idx] + tick(idx)
            elif kind == "close_below_low":
                idx = pick()
                records["close"][idx] = records["low"][idx] - tick(idx)
            elif kind == "undef_price":
                if self.schema == "statistics":
                    idx = pick(records["stat_type"] == STAT_SETTLEMENT)
                    records["price"][idx] = UNDEF_PRICE
                else:
                    idx = pick()
                    for j, row in enumerate(idx):
                        records[price_fields[j % len(price_fields)]][row] = UNDEF_PRICE
            elif kind == "undef_open_interest":
                idx = pick(records["stat_type"] == STAT_OPEN_INTEREST)
                records["quantity"][idx] = UNDEF_STAT_QUANTITY
            elif kind == "zero_volume":
                idx = pick()
                records["volume" if "volume" in records.dtype.names else "size"][idx] = 0
            elif kind == "unknown_instrument":
                idx = pick()
                records["instrument_id"][idx] = UNKNOWN_ID_BASE + idx % 1000
            elif kind == "duplicate":
                idx = pick()
                extra.append((idx + 1, records[idx]))
            elif kind == "outside_window":
                step = DAY_NS if self.schema == "ohlcv-1d" else MINUTE_NS
                if first:
                    idx = pick(count=1)
                    early = records[idx].copy()
                    early["ts_event"] = self.start_ns - step
                    extra.append((np.zeros(1, dtype=np.int64), early))
                if last:
                    idx = pick(count=1)
                    late = records[idx].copy()
                    late["ts_event"] = self.end_ns
                    extra.append((np.full(1, n, dtype=np.int64), late))
        if extra:
            positions = np.concatenate([p for p, _ in extra])
            rows = np.concatenate([r for _, r in extra])
            order = np.argsort(positions, kind="stable")
            records = np.insert(records, positions[order], rows[order])
        return records


class _Columns:
    """Record fields gathered as plain arrays, sorted and packed into records once (cheaper
    than sorting an array of records)."""

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {}

    def add(self, **columns: np.ndarray) -> None:
        for name, values in columns.items():
            self.parts.setdefault(name, []).append(values)

    def records(self, empty, *keys: str) -> np.ndarray:
        if not self.parts:
            return empty(0)
        columns = {name: np.concatenate(values) for name, values in self.parts.items()}
        order = np.lexsort(tuple(columns[k] for k in reversed(keys)))
        out = empty(len(order))
        for name, values in columns.items():
            out[name] = values[order]
        return out


def _sorted(parts: list[np.ndarray], empty: np.ndarray, *keys: str) -> np.ndarray:
    if not parts:
        return empty
    out = np.concatenate(parts)
    order = np.lexsort(tuple(out[k] for k in reversed(keys)))
    return out[order]


def _date(t_ns: int) -> date:
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=t_ns // 1000)).date()


def _definition(c: Contracts, i: int, ts_event: int) -> dbn.InstrumentDefMsg:
    spec = c.spec
    tick = _tick_fixed(spec)
    return dbn.InstrumentDefMsg(
        publisher_id=PUBLISHER_ID,
        instrument_id=int(c.instrument_id[i]),
        ts_event=ts_event,
        ts_recv=ts_event + 150_000,
        min_price_increment=tick,
        display_factor=PRICE_SCALE,
        raw_symbol=c.raw_symbol[i],
        asset=spec.root,
        security_type="FUT",
        instrument_class=dbn.InstrumentClass.FUTURE,
        security_update_action=dbn.SecurityUpdateAction.ADD,
        expiration=int(c.expiration[i]),
        activation=int(c.activation[i]),
        unit_of_measure_qty=round(spec.multiplier * PRICE_SCALE),
        min_price_increment_amount=round(spec.tick * spec.multiplier * PRICE_SCALE),
        price_ratio=PRICE_SCALE,
        raw_instrument_id=int(c.instrument_id[i]),
        market_depth_implied=2,
        market_depth=10,
        market_segment_id=80,
        max_trade_vol=3_000,
        min_lot_size=1,
        min_lot_size_block=1,
        min_lot_size_round_lot=1,
        min_trade_vol=1,
        maturity_year=int(c.year[i]),
        maturity_month=int(c.month[i]),
        currency="USD",
        settl_currency="USD",
        group=spec.root,
        exchange=spec.exchange,
        cfi=spec.cfi,
        unit_of_measure=spec.unit_of_measure,
        underlying=spec.root,
        match_algorithm=dbn.MatchAlgorithm.FIFO,
        main_fraction=0,
        price_display_format=0,
        sub_fraction=0,
        underlying_product=0,
        tick_rule=1,
        channel_id=0,
    )


@dataclass(frozen=True)
class _Interval:  # databento_dbn wants objects with these attributes, not dicts
    start_date: date
    end_date: date
    symbol: str


@dataclass(frozen=True)
class _Mapping:
    raw_symbol: str
    intervals: list[_Interval]
