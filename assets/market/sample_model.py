"""The market the CME Globex samples simulate, before any record is written: each root's
contract cycle and expiry rules (`RootSpec`, `ROOTS`, `contracts`), the daily price walk
and the Globex session that set a contract's level and activity at any time, and the time
units and fixed-point price scale they are measured in. Everything here is a pure function
of the root and the time asked for, so a day's prices agree across schemas and windows;
`assets.market.sample_records` turns it into DBN records."""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import databento_dbn as dbn

if TYPE_CHECKING:
    import numpy as np


NS = 1_000_000_000
MINUTE_NS = 60 * NS
DAY_NS = 86_400 * NS
YEAR_NS = 365.25 * DAY_NS
MINUTES_PER_DAY = 1440
PRICE_SCALE = dbn.FIXED_PRICE_SCALE

# The daily price walks run from WALK_START so that a day's level never depends on the
# window asked for; windows must fall before WALK_END.
WALK_START = date(2000, 1, 1)
WALK_END = date(2060, 1, 1)
MEAN_REVERSION = 0.01  # per day, in log price

MONTH_CODES = "FGHJKMNQUVXZ"


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
    dataset: str = "GLBX.MDP3"  # the Databento dataset the root's contracts are in
    publisher_id: int = 1  # GLBX.MDP3.GLBX; IFEU.IMPACT.IFEU is 57


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
    # ICE Brent on ICE Futures Europe (IFEU.IMPACT): monthly contracts, symbols as ICE
    # writes them ("BRN FMJ0024!"), the same ids as a CME root would have (ids are unique
    # within a dataset only, so a test of both datasets meets colliding ids).
    "BRN": RootSpec(
        root="BRN",
        months=MONTH_CODES,
        expiry="brn",
        tick=0.01,
        multiplier=1000,
        unit_of_measure="BBL",
        exchange="IFEU",
        cfi="FCEPSX",
        level=75.0,
        daily_vol=0.02,
        carry=0.01,
        listed=8,
        live=(1.0, 0.4, 0.15),
        trades_per_minute=40,
        trade_size=2.0,
        open_interest=300_000,
        roll_days=5,
        id_base=4_000_000,
        dataset="IFEU.IMPACT",
        publisher_id=57,
    ),
}


def _spec(root: str) -> RootSpec:
    asset = root.removesuffix(".FUT")
    if asset not in ROOTS or not root.endswith(".FUT"):
        by_dataset: dict[str, list[str]] = {}
        for spec in ROOTS.values():
            by_dataset.setdefault(spec.dataset, []).append(f"{spec.root}.FUT")
        known = "; ".join(f"{', '.join(r)} in {d}" for d, r in by_dataset.items())
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
    elif spec.expiry == "brn":  # the last business day of the second month before delivery
        day = _business_days_before(date(year - (month == 1), (month - 2) % 12 + 1, 1), 1)
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
        import numpy as np

        return np.searchsorted(self.expiration, t, side="right")

    def listed_between(self, start_ns: int, end_ns: int) -> np.ndarray:
        import numpy as np

        return np.nonzero((self.activation < end_ns) & (self.expiration >= start_ns))[0]


def contracts(spec: RootSpec, start: date, end: date) -> Contracts:
    """The root's contracts expiring from a year before `start` to well after `end`."""
    import numpy as np

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
        raw_symbol=[_raw_symbol(spec, y, m) for _, y, m in rows],
        instrument_id=(spec.id_base + (year - 2000) * 100 + month).astype(np.uint32),
        year=year,
        month=month,
        expiration=expiration,
        activation=activation,
    )


def _raw_symbol(spec: RootSpec, year: int, month: int) -> str:
    code = MONTH_CODES[month - 1]
    if spec.dataset == "IFEU.IMPACT":  # ICE: "BRN FMJ0024!" (futures, month, 00, year)
        return f"{spec.root} FM{code}00{year % 100:02d}!"
    return f"{spec.root}{code}{year % 10}"  # CME: "CLZ6"


# ---- prices and activity --------------------------------------------------------------------

_WALKS: dict[str, np.ndarray] = {}


def _daily_log_levels(spec: RootSpec) -> np.ndarray:
    """log price at 00:00 UTC of every day from WALK_START, a mean-reverting walk."""
    import numpy as np

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
    import numpy as np

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
    import numpy as np

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
    import numpy as np

    return np.rint(price / tick).astype(np.int64)


def _tick_fixed(spec: RootSpec) -> int:
    return round(spec.tick * PRICE_SCALE)


def definition_message(c: Contracts, i: int, ts_event: int) -> dbn.InstrumentDefMsg:
    """Contract `i` of `c` as Databento's definition record, sent at `ts_event`."""
    spec = c.spec
    tick = _tick_fixed(spec)
    return dbn.InstrumentDefMsg(
        publisher_id=spec.publisher_id,
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
