"""Sample records of the intraday schemas beyond one-minute bars and trades: one-second and
one-hour bars (ohlcv-1s, ohlcv-1h), trades with the book just before each (tbbo), every
change to the top of the book (mbp-1), the book at the end of each second or minute with an
update (bbo-1s, bbo-1m) and each instrument's trading status (status).

`IntradayGenerator` extends the sample generator (`sample_records._Generator`) with them,
from the same market model: trades drawn as the trades file draws them (minute by minute,
from the same price paths), the book around each trade (a one- or two-tick spread, the
aggressor's side at the trade price), and the Globex session's status changes (the daily
halt at 22:00 UTC as pre-open, no-cancel at 22:59:30, trading from 23:00; the Friday close;
a contract's activation and expiration). Records are in Databento's layouts
(`record_dtype`: MBP1Msg for tbbo and mbp-1, BBOMsg, OHLCVMsg, StatusMsg) with their own
rtypes (tbbo and mbp-1 MBP_1, bbo-1s BBO_1S, ...).

Times as Databento sets them: a bbo record's ts_recv is its interval's end and its ts_event
the last update in it (the interval ending at the next midnight is the next day's file's
first, so a day's file does not hold it); a status file opens with a snapshot of every
listed contract's state at the window's start (ts_recv the start, ts_event when the state
began, up to a day earlier).

Dirt as the other schemas have (`DIRT`), and the book's and status's own kinds:
  book (tbbo, mbp-1, bbo-1s, bbo-1m): a crossed book (the bid one tick above the ask);
          an undefined bid or ask price with contracts behind it; a negative size (a bid or
          ask size of -1..-50 wrapped to uint32)
  tbbo, mbp-1: UNDEF_PRICE as the event's price; tbbo: a zero-size trade
  status: an action and a reason Databento does not define; a flag other than Y, N or ~
  all: a record moved just before the window and one to its end, an instrument id without
       a definition, an exact duplicate
A status file of a day (about 80 records) is clean, as other small files are; a week's or
longer carries every kind.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import databento_dbn as dbn

from assets.market.dbn import time_field
from assets.market.sample_model import (
    DAY_NS,
    MINUTE_NS,
    NS,
    Contracts,
    _seed,
    _tick_fixed,
    _to_ticks,
)
from assets.market.sample_records import DIRT as BASE_DIRT
from assets.market.sample_records import F_LAST, _Columns, _Generator

if TYPE_CHECKING:
    import numpy as np

HOUR_NS = 60 * MINUTE_NS
SCHEMAS = ("ohlcv-1s", "ohlcv-1h", "tbbo", "mbp-1", "bbo-1s", "bbo-1m", "status")
BAR_NS = {"ohlcv-1s": NS, "ohlcv-1h": HOUR_NS}
BBO_NS = {"bbo-1s": NS, "bbo-1m": MINUTE_NS}
# Days built at once: a weekday of mbp-1 for three roots is about a million records.
CHUNK_DAYS = {
    "ohlcv-1s": 1,
    "ohlcv-1h": 8,
    "tbbo": 1,
    "mbp-1": 1,
    "bbo-1s": 1,
    "bbo-1m": 1,
    "status": 366,
}
BOOK_EVENTS_PER_TRADE = 1.5  # mbp-1: adds, cancels and modifies at the top between trades

_BOOK = ("crossed_book", "undef_bid_ask", "negative_size")
_EDGES = ("outside_window", "unknown_instrument", "duplicate")
DIRT = {
    "ohlcv-1s": BASE_DIRT["ohlcv-1m"],
    "ohlcv-1h": BASE_DIRT["ohlcv-1m"],
    "tbbo": ("undef_price", "zero_volume", *_BOOK, *_EDGES),
    "mbp-1": ("undef_price", *_BOOK, *_EDGES),
    "bbo-1s": (*_BOOK, *_EDGES),
    "bbo-1m": (*_BOOK, *_EDGES),
    "status": ("unknown_action", "unknown_reason", "bad_flag", *_EDGES),
}

# Status codes (databento_dbn StatusAction, StatusReason, TradingEvent).
PRE_OPEN, TRADING, CLOSE = (int(dbn.StatusAction.PRE_OPEN), int(dbn.StatusAction.TRADING),
                            int(dbn.StatusAction.CLOSE))  # fmt: skip
NOT_AVAILABLE = int(dbn.StatusAction.NOT_AVAILABLE_FOR_TRADING)
SCHEDULED = int(dbn.StatusReason.SCHEDULED)
ACTIVATION = int(dbn.StatusReason.INSTRUMENT_ACTIVATION)
EXPIRATION = int(dbn.StatusReason.INSTRUMENT_EXPIRATION)
NO_CANCEL = int(dbn.TradingEvent.NO_CANCEL)
# The Globex day by weekday (Monday 0): (minute after 00:00 UTC, action, trading event,
# is_trading, is_quoting). Monday to Thursday the daily halt; Friday the close; Sunday the
# week's open.
_REOPEN = (
    (22 * 60, PRE_OPEN, 0, b"N", b"Y"),
    (22 * 60 + 59.5, PRE_OPEN, NO_CANCEL, b"N", b"Y"),
    (23 * 60, TRADING, 0, b"Y", b"Y"),
)
SESSION_EVENTS = {0: _REOPEN, 1: _REOPEN, 2: _REOPEN, 3: _REOPEN, 6: _REOPEN,
                  4: ((22 * 60, CLOSE, 0, b"N", b"N"),), 5: ()}  # fmt: skip
# Codes no Databento enum has, and a flag that is not Y, N or ~, for the status dirt.
BAD_ACTIONS = (16, 42, 99, 200)
BAD_REASONS = (7, 8, 9, 250)
BAD_FLAGS = (b"1", b"0", b"?")


class IntradayGenerator(_Generator):
    """The sample generator with the schemas of this module (the others as before)."""

    dirt = BASE_DIRT | DIRT

    def _plan(self):
        if self.schema not in SCHEMAS:
            return super()._plan()
        if self.schema in BAR_NS:
            build = self._bars
        elif self.schema in BBO_NS:
            build = self._bbo
        else:
            build = {"tbbo": self._tbbo, "mbp-1": self._mbp_1, "status": self._status}[self.schema]
        return CHUNK_DAYS[self.schema], build

    def _published(self, records: np.ndarray) -> np.ndarray:
        import numpy as np

        if self.schema in BAR_NS:  # a bar once its interval has closed
            return records["ts_event"].astype(np.int64) + BAR_NS[self.schema]
        return super()._published(records)

    def _restamp(self, records: np.ndarray, t: int) -> np.ndarray:
        import numpy as np

        if self.schema in BAR_NS:
            records["ts_event"] = t - t % BAR_NS[self.schema]  # on the bar grid
        elif time_field(self.schema) == "ts_recv":  # the whole record moves, ts_recv to t
            shift = t - records["ts_recv"].astype(np.int64)
            records["ts_event"] = (records["ts_event"].astype(np.int64) + shift).astype(np.uint64)
            records["ts_recv"] = t
        else:
            return super()._restamp(records, t)
        return records

    def _more_dirt(self, kind: str, records: np.ndarray, pick, tick) -> None:
        rng = self.rng
        if kind == "crossed_book":
            idx = pick(
                (records["bid_px_00"] != dbn.UNDEF_PRICE)
                & (records["ask_px_00"] != dbn.UNDEF_PRICE)
            )
            records["bid_px_00"][idx] = records["ask_px_00"][idx] + tick(idx)
        elif kind == "undef_bid_ask":
            idx = pick((records["bid_sz_00"] > 0) & (records["ask_sz_00"] > 0))
            for j, row in enumerate(idx):
                records[("bid_px_00", "ask_px_00")[j % 2]][row] = dbn.UNDEF_PRICE
        elif kind == "negative_size":
            idx = pick()
            for j, row in enumerate(idx):
                wrapped = 2**32 - int(rng.integers(1, 51))
                records[("bid_sz_00", "ask_sz_00")[j % 2]][row] = wrapped
        elif kind == "unknown_action":
            idx = pick()
            records["action"][idx] = rng.choice(BAD_ACTIONS, len(idx))
        elif kind == "unknown_reason":
            idx = pick()
            records["reason"][idx] = rng.choice(BAD_REASONS, len(idx))
        elif kind == "bad_flag":
            idx = pick()
            for j, row in enumerate(idx):
                name = ("is_trading", "is_quoting", "is_short_sell_restricted")[j % 3]
                records[name][row] = rng.choice(BAD_FLAGS)
        else:
            super()._more_dirt(kind, records, pick, tick)

    # -- trades and the book

    def _trade_columns(self, first: date, n_days: int) -> dict[str, np.ndarray]:
        """The chunk's trades as columns, by ts_recv then instrument: drawn minute by minute
        from the price paths, as the trades file draws its own."""
        import numpy as np

        cols = _Columns()
        rng = self.rng
        sides = np.array([b"A", b"B", b"N"])
        for c in self.contracts:
            for i, t, log_open, log_close, rate in self._contract_minutes(c, first, n_days):
                which = np.repeat(np.arange(len(t)), rng.poisson(rate))
                n = len(which)
                offset = rng.integers(0, MINUTE_NS, n)
                w = offset / MINUTE_NS
                log_p = log_open[which] * (1 - w) + log_close[which] * w
                ticks = _to_ticks(np.exp(log_p), c.spec.tick) + rng.integers(-1, 2, n)
                ts_event = t[which] + offset
                cols.add(
                    instrument_id=np.full(n, c.instrument_id[i], dtype=np.uint32),
                    ts_event=ts_event,
                    price=ticks * _tick_fixed(c.spec),
                    size=rng.geometric(1 / c.spec.trade_size, n),
                    side=sides[np.searchsorted([0.495, 0.99], rng.random(n))],
                    ts_recv=ts_event + rng.integers(200_000, 2_000_000, n),
                    ts_in_delta=rng.integers(8_000, 40_000, n),
                )
        if not cols.parts:
            return {}
        columns = {name: np.concatenate(parts) for name, parts in cols.parts.items()}
        order = np.lexsort((columns["instrument_id"], columns["ts_recv"]))
        return {name: values[order] for name, values in columns.items()}

    def _per_root(self, instrument_id: np.ndarray, value) -> np.ndarray:
        """`value(spec)` of each record's root (ids are the root's base + a month number)."""
        import numpy as np

        table = {spec.id_base // 1_000_000: value(spec) for spec in self.specs}
        roots = instrument_id // 1_000_000
        out = np.zeros(len(instrument_id), dtype=np.int64)
        for root, v in table.items():
            out[roots == root] = v
        return out

    def _with_book(self, cols: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The best bid and offer just before each trade: the aggressor took the far side at
        the trade price (a buyer the ask, a seller the bid); a spread of one tick, sometimes
        two; a few times the trade size resting on each side."""
        import numpy as np

        rng = self.rng
        n = len(cols["price"])
        tick = self._per_root(cols["instrument_id"], _tick_fixed)
        depth = self._per_root(cols["instrument_id"], lambda s: round(s.trade_size * 6))
        spread = (1 + (rng.random(n) < 0.12)) * tick
        buyer = cols["side"] == b"B"
        price = cols["price"]
        bid = np.where(buyer, price - spread, price)
        ask = np.where(buyer, price, price + spread)
        sizes = 1 + rng.geometric(1 / depth, size=(2, n))
        sizes[np.where(buyer, 1, 0), np.arange(n)] += cols["size"]  # what the trade took
        counts = np.minimum(sizes, 1 + rng.poisson(sizes / 3))
        return cols | {
            "bid_px_00": bid,
            "ask_px_00": ask,
            "bid_sz_00": sizes[0],
            "ask_sz_00": sizes[1],
            "bid_ct_00": counts[0],
            "ask_ct_00": counts[1],
        }

    def _pack(self, cols: dict[str, np.ndarray], first: date) -> np.ndarray:
        import numpy as np

        out = self._empty(len(next(iter(cols.values()))) if cols else 0)
        for name, values in cols.items():
            out[name] = values
        if "sequence" in out.dtype.names:
            out["sequence"] = (_seed("seq", first) % 1_000_000) + np.arange(len(out))
        if "flags" in out.dtype.names:
            out["flags"] = F_LAST
        return out

    def _tbbo(self, first: date, n_days: int) -> np.ndarray:
        cols = self._trade_columns(first, n_days)
        if not cols:
            return self._empty(0)
        out = self._pack(self._with_book(cols), first)
        out["action"] = b"T"
        return out

    def _mbp_1(self, first: date, n_days: int) -> np.ndarray:
        """The trades with their book, and book events between them: adds, cancels and
        modifies at the top of either side, each with the book after it."""
        import numpy as np

        trades = self._tbbo(first, n_days)
        if not len(trades):
            return trades
        rng = self.rng
        which = np.repeat(np.arange(len(trades)), rng.poisson(BOOK_EVENTS_PER_TRADE, len(trades)))
        events = trades[which].copy()
        m = len(events)
        events["action"] = np.array([b"A", b"C", b"M"])[np.searchsorted([0.55, 0.9], rng.random(m))]
        bid_side = rng.random(m) < 0.5
        events["side"] = np.where(bid_side, b"B", b"A")
        events["price"] = np.where(bid_side, events["bid_px_00"], events["ask_px_00"])
        events["size"] = rng.geometric(0.4, m)
        for side in ("bid", "ask"):
            size = events[f"{side}_sz_00"].astype(np.int64) + rng.integers(-3, 4, m)
            events[f"{side}_sz_00"] = np.maximum(1, size)
            events[f"{side}_ct_00"] = np.minimum(events[f"{side}_ct_00"], events[f"{side}_sz_00"])
        # Up to 50 ms before their trade, never before the chunk (the window's own records).
        before = events["ts_recv"].astype(np.int64) - rng.integers(1_000, 50_000_000, m)
        recv = np.maximum(before, self._day_ns(first))
        events["ts_event"] = recv - events["ts_in_delta"].astype(np.int64) - 200_000
        events["ts_recv"] = recv
        out = np.concatenate([trades, events])
        out = out[np.lexsort((out["instrument_id"], out["ts_recv"]))]
        out["sequence"] = (_seed("seq", first) % 1_000_000) + np.arange(len(out))
        return out

    def _bbo(self, first: date, n_days: int) -> np.ndarray:
        """For each instrument and interval with a trade, the book after its last trade,
        stamped with the interval's end (ts_recv) and the trade's time (ts_event)."""
        import numpy as np

        cols = self._trade_columns(first, n_days)
        if not cols:
            return self._empty(0)
        cols = self._with_book(cols)
        step = BBO_NS[self.schema]
        end = (cols["ts_recv"].astype(np.int64) // step + 1) * step
        chunk_end = self._day_ns(first) + n_days * DAY_NS
        order = np.lexsort((cols["ts_recv"], end, cols["instrument_id"]))
        iid, end = cols["instrument_id"][order], end[order]
        last = np.ones(len(order), dtype=bool)
        last[:-1] = (iid[1:] != iid[:-1]) | (end[1:] != end[:-1])
        keep = order[last & (end < chunk_end)]  # the interval ending at midnight: next file's
        picked = {k: v[keep] for k, v in cols.items() if k in self.dtype.names}
        picked["ts_recv"] = end[last & (end < chunk_end)]
        out = self._pack(picked, first)
        out = out[np.lexsort((out["instrument_id"], out["ts_recv"]))]
        out["sequence"] = (_seed("seq", first) % 1_000_000) + np.arange(len(out))
        return out

    def _bars(self, first: date, n_days: int) -> np.ndarray:
        """Second bars from the chunk's trades, hour bars from its one-minute bars: open,
        high, low, close and volume over each interval with a trade."""
        import numpy as np

        step = BAR_NS[self.schema]
        if step == NS:
            cols = self._trade_columns(first, n_days)
            if not cols:
                return self._empty(0)
            iid, t, price, volume = (
                cols[k] for k in ("instrument_id", "ts_event", "price", "size")
            )
            high = low = close = price
        else:
            bars = self._ohlcv_1m(first, n_days)
            iid, t, price = bars["instrument_id"], bars["ts_event"], bars["open"]
            high, low, close, volume = bars["high"], bars["low"], bars["close"], bars["volume"]
        if not len(t):
            return self._empty(0)
        start = t.astype(np.int64) // step * step
        order = np.lexsort((t, start, iid))
        iid, start = iid[order], start[order]
        new = np.ones(len(order), dtype=bool)
        new[1:] = (iid[1:] != iid[:-1]) | (start[1:] != start[:-1])
        firsts = np.nonzero(new)[0]
        lasts = np.append(firsts[1:], len(order)) - 1
        cols = _Columns()
        cols.add(
            instrument_id=iid[firsts],
            ts_event=start[firsts],
            open=price[order][firsts],
            high=np.maximum.reduceat(high[order], firsts),
            low=np.minimum.reduceat(low[order], firsts),
            close=close[order][lasts],
            volume=np.add.reduceat(volume[order].astype(np.uint64), firsts),
        )
        return cols.records(self._empty, "ts_event", "instrument_id")

    @staticmethod
    def _day_ns(day: date) -> int:
        return (day - date(1970, 1, 1)).days * DAY_NS

    # -- trading status

    def _status(self, first: date, n_days: int) -> np.ndarray:
        """Each listed contract's session changes over the chunk, its activation and
        expiration, and (the window's first chunk) a snapshot of its state at the start."""
        import numpy as np

        rng = self.rng
        lo, hi = self._day_ns(first), self._day_ns(first + timedelta(days=n_days))
        session = []
        for k in range(n_days):
            day = first + timedelta(days=k)
            for minute, *event in SESSION_EVENTS[day.weekday()]:
                session.append((self._day_ns(day) + round(minute * MINUTE_NS), *event))
        cols = _Columns()
        for c in self.contracts:
            for i in c.listed_between(lo, hi):
                events = [(t, a, e, tr, q, SCHEDULED) for t, a, e, tr, q in session]
                events += self._lifecycle(c, int(i), lo, hi)
                events = [ev for ev in events if c.activation[i] <= ev[0] <= c.expiration[i]]
                if first == self.start and c.activation[i] <= lo < c.expiration[i]:
                    events.append(self._snapshot(lo))
                if not events:
                    continue
                t, action, trading_event, is_trading, is_quoting, reason = zip(*events, strict=True)
                t = np.array(t, dtype=np.int64)
                snapshot = t < lo
                cols.add(
                    instrument_id=np.full(len(t), c.instrument_id[i], dtype=np.uint32),
                    ts_event=t,
                    ts_recv=np.where(snapshot, lo, t + rng.integers(2_000_000, 80_000_000, len(t))),
                    action=np.array(action, dtype=np.uint16),
                    reason=np.array(reason, dtype=np.uint16),
                    trading_event=np.array(trading_event, dtype=np.uint16),
                    is_trading=np.array(is_trading),
                    is_quoting=np.array(is_quoting),
                )
        out = cols.records(self._empty, "ts_recv", "instrument_id")
        out["is_short_sell_restricted"] = b"~"  # not known for futures
        return out

    @staticmethod
    def _lifecycle(c: Contracts, i: int, lo: int, hi: int) -> list[tuple]:
        """A contract's activation (pre-open) and expiration (no longer available) in
        [lo, hi)."""
        events = []
        if lo <= c.activation[i] < hi:
            events.append((int(c.activation[i]), PRE_OPEN, 0, b"N", b"Y", ACTIVATION))
        if lo <= c.expiration[i] < hi:
            events.append((int(c.expiration[i]), NOT_AVAILABLE, 0, b"N", b"N", EXPIRATION))
        return events

    def _snapshot(self, start: int) -> tuple:
        """The state at `start` (a midnight), as the file's first record has it: trading
        since 23:00 the evening before, or closed since Friday 22:00 at a weekend."""
        weekday = (start // DAY_NS + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        if weekday == 5:
            return (start - 2 * HOUR_NS, CLOSE, 0, b"N", b"N", SCHEDULED)
        if weekday == 6:
            return (start - 26 * HOUR_NS, CLOSE, 0, b"N", b"N", SCHEDULED)
        return (start - HOUR_NS, TRADING, 0, b"Y", b"Y", SCHEDULED)
