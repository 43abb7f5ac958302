"""Simulation maths as plain functions.

The dbt models compute the same quantities in SQL for every employee; these
functions are the reference the tests hold the SQL to (and are unit-tested on
their own). Keep the two in step: each function names the model it mirrors.
"""

import hashlib
import math
from collections.abc import Sequence
from datetime import date


def uniform(seed: int, employee_id: str, year: int, kind: str) -> float:
    """The deterministic draw in [0, 1) for (seed, employee, year, event kind).

    Mirrors macro `workforce_uniform`: md5 of "seed|employee|year|kind", first 8 hex
    digits as an unsigned integer, divided by 2**32."""
    digest = hashlib.md5(f"{seed}|{employee_id}|{year}|{kind}".encode()).hexdigest()
    return int(digest[:8], 16) / 2**32


def hires_for_growth(
    start_headcount: int,
    experienced_terminations: int,
    growth_rate: float,
    new_hire_term_rate: float,
) -> tuple[int, int, int]:
    """(hires, new-hire terminations, target end headcount) so that
    start - experienced terms + hires - new-hire terms == target exactly.

    Mirrors int_workforce_needs. New-hire terminations are round(hires * rate); the
    survivors hires - round(hires * rate) rise by 0 or 1 per extra hire, so every
    survivor count is reachable and the smallest such hire count is taken.
    When shrinking by more than the terminations there is nobody to hire (0, 0)."""
    target = round_half_up(start_headcount * (1 + growth_rate))
    needed = target - start_headcount + experienced_terminations
    if needed <= 0:
        return 0, 0, target
    # survivors(h) >= h * (1 - rate) - 0.5, so no smaller count can reach `needed`
    hires = max(needed, math.ceil((needed - 0.5) / (1 - new_hire_term_rate)) - 1)
    while hires - round_half_up(hires * new_hire_term_rate) < needed:
        hires += 1
    return hires, hires - needed, target


def round_half_up(x: float) -> int:
    """SQL round() on a non-negative value (Python's round() rounds half to even)."""
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


def expected_terminations(rates: Sequence[float]) -> int:
    """How many experienced employees leave: the sum of their hazards, rounded.

    Mirrors int_workforce_needs, which sums rates scaled to integer micro-units so
    the total is exact whatever order the database adds them in."""
    micro = sum(round_half_up(r * 1_000_000) for r in rates)
    return round_half_up(micro / 1_000_000)


def hazard_select(
    ids: Sequence[str], rates: Sequence[float], draws: Sequence[float], count: int
) -> list[str]:
    """Weighted sampling without replacement (Efraimidis-Spirakis): each employee's key
    is -ln(1 - u) / hazard and the `count` smallest keys leave. Higher hazards are more
    likely to be chosen, and the number chosen is exactly `count`.

    Mirrors int_termination_events (ties broken by employee id)."""
    keyed = []
    for emp, rate, u in zip(ids, rates, draws, strict=True):
        if rate <= 0:
            continue
        keyed.append((-math.log(1.0 - u) / rate, emp))
    keyed.sort()
    return [emp for _, emp in keyed[:count]]


def allocate_by_share(total: int, shares: dict[int, float]) -> dict[int, int]:
    """Split `total` over levels by share with the largest-remainder method, so the
    parts add up to `total` exactly. Mirrors int_workforce_needs_by_level (remainder
    ties go to the lower level)."""
    micro = {lvl: round_half_up(s * 1_000_000) for lvl, s in shares.items()}
    scale = sum(micro.values())
    base = {lvl: (total * m) // scale for lvl, m in micro.items()}
    remainder = sorted(micro, key=lambda lvl: (-((total * micro[lvl]) % scale), lvl))
    for lvl in remainder[: total - sum(base.values())]:
        base[lvl] += 1
    return base


def tenure_band(tenure_years: float, band_starts: Sequence[float]) -> int:
    """Index of the tenure band (band_starts ascending from 0)."""
    idx = 0
    for i, start in enumerate(band_starts):
        if tenure_years >= start:
            idx = i
    return idx


def employer_match(
    deferral_rate: float, compensation: float, tiers: Sequence[tuple[float, float]]
) -> float:
    """Match on the deferral rate, tier by tier: tiers are (up_to, match_rate) ascending,
    e.g. 100% of the first 3% and 50% of the next 2%. Mirrors int_employee_contributions."""
    match, lower = 0.0, 0.0
    for up_to, rate in tiers:
        band = max(0.0, min(deferral_rate, up_to) - lower)
        match += round(rate * compensation * band, 2)  # each tier in cents, as the model
        lower = up_to
    return round(match, 2)


def capped_deferral(
    requested: float, age: int, deferral_limit: float, catch_up_limit: float, catch_up_age: int
) -> tuple[float, float]:
    """(deferral, of which catch-up) under 402(g): the base limit for everyone plus the
    catch-up limit from `catch_up_age` (age at year end)."""
    limit = deferral_limit + (catch_up_limit if age >= catch_up_age else 0.0)
    deferral = min(requested, limit)
    return deferral, max(0.0, deferral - deferral_limit)


def apply_415c(
    deferral: float, catch_up: float, match: float, core: float, limit: float
) -> tuple[float, float]:
    """(match, core) after the 415(c) annual-additions limit: deferrals other than catch-up
    plus employer money may not exceed it; core is cut first, then match."""
    room = max(0.0, limit - (deferral - catch_up))
    core = min(core, room)
    match = min(match, room - core)
    return match, core


def prorated_compensation(
    year: int, employed_from: date, employed_to: date, rates: Sequence[tuple[date, float]]
) -> float:
    """Pay earned in `year`: each annual rate applies from its effective date to the next
    one, counted in days employed (inclusive) over the days in the year.
    `rates` is [(effective date, annual rate)] ascending, the first on or before Jan 1.
    Mirrors macro `workforce_prorate`."""
    year_start, year_end = date(year, 1, 1), date(year, 12, 31)
    days_in_year = (year_end - year_start).days + 1
    lo, hi = max(employed_from, year_start), min(employed_to, year_end)
    total = 0.0
    for i, (start, rate) in enumerate(rates):
        end = rates[i + 1][0] if i + 1 < len(rates) else date(year + 1, 1, 1)
        days = (min(hi, date.fromordinal(end.toordinal() - 1)) - max(lo, start)).days + 1
        if days > 0:
            total += rate * days / days_in_year
    return round(total, 2)
