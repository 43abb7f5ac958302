"""How the sample files' DBN records are made from the simulated market
(`assets.market.sample_model`): `_Generator` builds one schema's metadata and records for a
window, a chunk of days at a time, adds the documented dirt (`DIRT`) and leaves out what is
not published by the cutoff. The same schema, window, roots and `GENERATOR_VERSION` seed the
same numpy generator, so they give the same records."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import databento_dbn as dbn

from assets.market.dbn import record_dtype
from assets.market.sample_model import (
    DAY_NS,
    MINUTE_NS,
    MINUTES_PER_DAY,
    NS,
    WALK_START,
    YEAR_NS,
    Contracts,
    RootSpec,
    _activity,
    _daily_log_levels,
    _day_index,
    _ns,
    _seed,
    _session,
    _tick_fixed,
    _to_ticks,
    contracts,
    definition_message,
)

if TYPE_CHECKING:
    import numpy as np
GENERATOR_VERSION = 1  # bump when generated values change
SCHEMAS = ("ohlcv-1d", "ohlcv-1m", "trades", "definition", "statistics")
UNDEF_PRICE = dbn.UNDEF_PRICE
UNDEF_STAT_QUANTITY = dbn.UNDEF_STAT_QUANTITY
UNKNOWN_ID_BASE = 9_000_000  # ids of spreads whose definitions were not sent
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


def _file_end(start: date, end: date, cutoff: int) -> int:
    """The end a file of [start, end) written at `cutoff` has in its metadata: the window's
    end once it is over, else the cutoff (the start for a window still to come)."""
    return _ns(end) if cutoff >= _ns(end) else max(_ns(start), cutoff)


# ---- the generator -------------------------------------------------------------------------


class _Generator:
    dirt = DIRT  # schema -> dirt kinds (a subclass adds its schemas')

    def __init__(self, schema: str, start: date, end: date, specs: list[RootSpec], cutoff: int):
        import numpy as np

        self.schema = schema
        self.start, self.end = start, end
        self.start_ns, self.end_ns = _ns(start), _ns(end)
        # A window in progress ends at the cutoff; None when the window is over.
        self.cutoff = cutoff if cutoff < self.end_ns else None
        self.file_end = _file_end(start, end, cutoff)
        self.specs = specs
        datasets = sorted({spec.dataset for spec in specs})
        if len(datasets) > 1:  # a Databento file holds one dataset
            raise ValueError(f"roots of {' and '.join(datasets)} in one file")
        self.dataset, self.publisher_id = datasets[0], specs[0].publisher_id
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
            dataset=self.dataset,
            start=self.start_ns,
            stype_in=dbn.SType.PARENT,
            stype_out=dbn.SType.INSTRUMENT_ID,
            schema=dbn.Schema(self.schema),
            symbols=[f"{s.root}.FUT" for s in self.specs],
            mappings=mappings,
            end=self.file_end,
        )

    # -- records

    def _plan(self):
        """Days built at once, and what builds them (a subclass adds schemas)."""
        build = {
            "ohlcv-1m": self._ohlcv_1m,
            "ohlcv-1d": self._ohlcv_1d,
            "trades": self._trades,
            "statistics": self._statistics,
            "definition": self._definitions,
        }[self.schema]
        return CHUNK_DAYS[self.schema], build

    def chunks(self) -> Iterator[np.ndarray]:
        step, build = self._plan()
        days = (self.end - self.start).days
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
        import numpy as np

        if self.schema == "ohlcv-1m":
            return records["ts_event"].astype(np.int64) + MINUTE_NS
        if self.schema == "ohlcv-1d":
            return records["ts_event"].astype(np.int64) + DAY_NS
        return records["ts_recv"].astype(np.int64)

    def _empty(self, n: int) -> np.ndarray:
        import numpy as np

        out = np.zeros(n, dtype=self.dtype)
        out["length"] = self.dtype.itemsize // 4
        out["rtype"] = int(dbn.RType.from_schema(dbn.Schema(self.schema)))
        out["publisher_id"] = self.publisher_id
        return out

    def _minute_paths(self, c: Contracts, first: date, n_days: int):
        """Minute times and the root's log mid price at each minute's start and end."""
        import numpy as np

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
        import numpy as np

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
        import numpy as np

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
        import numpy as np

        return _ns(first) + np.arange(n_days, dtype=np.int64) * DAY_NS

    def _daily_price(self, c: Contracts, i: int, day_ns: np.ndarray, at: int) -> np.ndarray:
        """Contract i's price at `at` ns after each day's midnight (daily level + carry)."""
        import numpy as np

        idx = (day_ns - _ns(WALK_START)) // DAY_NS
        levels = _daily_log_levels(c.spec)
        w = at / DAY_NS
        log_mid = levels[idx] * (1 - w) + levels[idx + 1] * w
        return np.exp(log_mid + c.spec.carry * (c.expiration[i] - day_ns - at) / YEAR_NS)

    def _ohlcv_1d(self, first: date, n_days: int) -> np.ndarray:
        import numpy as np

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
        import numpy as np

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
        import numpy as np

        records: list[bytes] = []
        for day_ns in self._days(first, n_days).tolist():
            listed = []
            for c in self.contracts:
                listed += [(c, int(i)) for i in c.listed_between(day_ns, day_ns + DAY_NS)]
            listed.sort(key=lambda ci: int(ci[0].instrument_id[ci[1]]))
            for k, (c, i) in enumerate(listed):
                records.append(bytes(definition_message(c, i, day_ns + k * 1_000)))
        if not records:
            return self._empty(0)
        return np.frombuffer(b"".join(records), dtype=self.dtype).copy()

    # -- dirt

    def _dirty(self, records: np.ndarray, first: bool, last: bool) -> np.ndarray:
        """Add the documented dirt to a freshly built chunk (changed in place)."""
        import numpy as np

        kinds = list(self.dirt[self.schema])
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
                    early = self._restamp(records[idx].copy(), self.start_ns - step)
                    extra.append((np.zeros(1, dtype=np.int64), early))
                if last:
                    idx = pick(count=1)
                    late = self._restamp(records[idx].copy(), self.end_ns)
                    extra.append((np.full(1, n, dtype=np.int64), late))
            else:
                self._more_dirt(kind, records, pick, tick)
        if extra:
            positions = np.concatenate([p for p, _ in extra])
            rows = np.concatenate([r for _, r in extra])
            order = np.argsort(positions, kind="stable")
            records = np.insert(records, positions[order], rows[order])
        return records

    def _restamp(self, records: np.ndarray, t: int) -> np.ndarray:
        """Records moved to time `t` (outside the window): ts_event here."""
        records["ts_event"] = t
        return records

    def _more_dirt(self, kind: str, records: np.ndarray, pick, tick) -> None:
        raise ValueError(f"unknown dirt kind {kind!r}")


class _Columns:
    """Record fields gathered as plain arrays, sorted and packed into records once (cheaper
    than sorting an array of records)."""

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {}

    def add(self, **columns: np.ndarray) -> None:
        for name, values in columns.items():
            self.parts.setdefault(name, []).append(values)

    def records(self, empty, *keys: str) -> np.ndarray:
        import numpy as np

        if not self.parts:
            return empty(0)
        columns = {name: np.concatenate(values) for name, values in self.parts.items()}
        order = np.lexsort(tuple(columns[k] for k in reversed(keys)))
        out = empty(len(order))
        for name, values in columns.items():
            out[name] = values[order]
        return out


def _sorted(parts: list[np.ndarray], empty: np.ndarray, *keys: str) -> np.ndarray:
    import numpy as np

    if not parts:
        return empty
    out = np.concatenate(parts)
    order = np.lexsort(tuple(out[k] for k in reversed(keys)))
    return out[order]


def _date(t_ns: int) -> date:
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=t_ns // 1000)).date()


@dataclass(frozen=True)
class _Interval:  # databento_dbn wants objects with these attributes, not dicts
    start_date: date
    end_date: date
    symbol: str


@dataclass(frozen=True)
class _Mapping:
    raw_symbol: str
    intervals: list[_Interval]
