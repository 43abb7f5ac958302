"""Freshness as `headwater status` reports it: one row per thing a domain's users read.

Each domain judges its own (its `freshness` function, headwater.domain) with the two
rules here; the command only reads the warehouse and prints the rows.
"""

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from headwater.clock import business_days_between, last_business_day_before


@dataclass
class Freshness:
    domain: str
    source: str
    newest: date | None
    expected: date | None  # the day newest is measured against
    behind: int | None  # in `unit`s
    max_behind: int | None  # the threshold: fresh while behind <= max_behind
    unit: str  # business days (energy, market) or days (prospects)
    threshold: str  # the threshold as text, with the setting it comes from
    status: str  # FRESH, STALE, NO DATA, UNKNOWN, n/a
    primary: bool = True  # counts for the domain's status
    note: str = ""

    def to_json(self) -> dict:
        out = asdict(self)
        for name in ("newest", "expected"):
            out[name] = out[name].isoformat() if out[name] else None
        return out


@dataclass(frozen=True)
class StatusInputs:
    """What a domain's freshness function gets."""

    facts: Mapping[str, dict | None]  # its status queries' results (None: no such table)
    last_materialized: Callable[[str], float | None]  # asset key ("a/b") -> timestamp
    now: datetime
    warehouse_state: str  # ok, missing, busy, error

    @property
    def warehouse_readable(self) -> bool:
        return self.warehouse_state not in ("busy", "error")


def as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def business_days_rule(
    domain: str,
    source: str,
    newest: date | None,
    today: date,
    max_days: int,
    primary: bool,
    setting: str,
) -> Freshness:
    """Fresh when `newest` is at most `max_days` business days behind the last business day
    before `today` (the rule of energy's prices_are_fresh)."""
    expected = last_business_day_before(today)
    threshold = f"<= {max_days} business days ({setting})"
    behind = None if newest is None else business_days_between(newest, expected)
    state = "NO DATA" if behind is None else "FRESH" if behind <= max_days else "STALE"
    return Freshness(
        domain,
        source,
        newest,
        expected,
        behind,
        max_days,
        "business days",
        threshold,
        state,
        primary,
    )


def days_rule(
    domain: str,
    source: str,
    newest: date | None,
    today: date,
    max_days: int,
    primary: bool,
    zone: str,
) -> Freshness:
    """Fresh when `newest` is at most `max_days` days before `today` (in `zone`)."""
    threshold = f"<= {max_days} day{'s' if max_days != 1 else ''} ({zone})"
    behind = None if newest is None else max(0, (today - newest).days)
    state = "NO DATA" if behind is None else "FRESH" if behind <= max_days else "STALE"
    return Freshness(
        domain, source, newest, today, behind, max_days, "days", threshold, state, primary
    )


def domain_status(domains: list[str], rows: list[Freshness]) -> dict[str, str]:
    """A domain is FRESH when every primary row is; NO DATA when none exists; n/a when it
    is not time-based; UNKNOWN when the warehouse could not be read; STALE otherwise."""
    out = {}
    for domain in domains:
        states = [r.status for r in rows if r.domain == domain and r.primary]
        if not states or "n/a" in states:
            out[domain] = "n/a"
        elif "UNKNOWN" in states:
            out[domain] = "UNKNOWN"
        elif all(s == "NO DATA" for s in states):
            out[domain] = "NO DATA"
        elif all(s == "FRESH" for s in states):
            out[domain] = "FRESH"
        else:
            out[domain] = "STALE"
    return out
