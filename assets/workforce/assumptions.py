"""The validated config as the small tables the dbt models read (sources workforce.assumption_*)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from assets.workforce.config import WorkforceConfig

if TYPE_CHECKING:
    import pyarrow as pa

ASSUMPTION_TABLES = (
    "assumption_scalars",
    "assumption_levels",
    "assumption_termination_rates",
    "assumption_match_tiers",
    "assumption_irs_limits",
)


def assumption_tables(cfg: WorkforceConfig) -> dict[str, pa.Table]:
    import pyarrow as pa

    auto, vol = cfg.enrollment.auto, cfg.enrollment.voluntary
    scalars = {
        "random_seed": [cfg.random_seed],
        "start_year": [cfg.start_year],
        "end_year": [cfg.end_year],
        "target_growth_rate": [cfg.target_growth_rate],
        "new_hire_termination_rate": [cfg.termination.new_hire_rate],
        "promotion_raise": [cfg.promotion.raise_pct],
        "promotion_min_tenure_years": [float(cfg.promotion.min_tenure_years)],
        "cola_rate": [cfg.compensation.cola],
        "auto_enrollment_enabled": [auto.enabled],
        "auto_enrollment_window_days": [auto.window_days],
        "auto_enrollment_deferral_rate": [auto.default_deferral_rate],
        "voluntary_enrollment_rate": [vol.annual_rate],
        "voluntary_deferral_rate": [vol.deferral_rate],
        "escalation_enabled": [cfg.escalation.enabled],
        "escalation_increment": [cfg.escalation.increment],
        "escalation_cap": [cfg.escalation.cap],
        "core_rate": [cfg.employer.core_rate],
        "catch_up_age": [cfg.catch_up_age],
    }
    levels = cfg.levels
    comp = cfg.compensation
    level_table = {
        "level": pa.array(levels, pa.int32()),
        "promotion_rate": [cfg.promotion.rates[lv] for lv in levels],
        "merit_budget": [comp.merit_budget[lv] for lv in levels],
        "new_hire_pay_min": [float(comp.new_hire_pay[lv][0]) for lv in levels],
        "new_hire_pay_max": [float(comp.new_hire_pay[lv][1]) for lv in levels],
        "new_hire_share": [comp.new_hire_mix[lv] for lv in levels],
        "opt_out_rate": [auto.opt_out_rates[lv] for lv in levels],
    }
    bands = [float(b) for b in cfg.termination.tenure_bands]
    term = {"level": [], "band": [], "tenure_from": [], "tenure_to": [], "rate": []}
    for lv in levels:
        for i, rate in enumerate(cfg.termination.rates[lv]):
            term["level"].append(lv)
            term["band"].append(i)
            term["tenure_from"].append(bands[i])
            term["tenure_to"].append(bands[i + 1] if i + 1 < len(bands) else None)
            term["rate"].append(rate)
    tiers = cfg.employer.match_tiers
    match = {
        "tier": pa.array(range(1, len(tiers) + 1), pa.int32()),
        "tier_to": [t.up_to for t in tiers],
        "match_rate": [t.rate for t in tiers],
    }
    years = sorted(cfg.irs_limits)
    irs = {
        "limit_year": pa.array(years, pa.int32()),
        "deferral_limit": [cfg.irs_limits[y].deferral for y in years],
        "catch_up_limit": [cfg.irs_limits[y].catch_up for y in years],
        "compensation_limit": [cfg.irs_limits[y].compensation for y in years],
        "annual_additions_limit": [cfg.irs_limits[y].annual_additions for y in years],
    }
    term_table = pa.table(
        {
            "level": pa.array(term["level"], pa.int32()),
            "band": pa.array(term["band"], pa.int32()),
            "tenure_from": pa.array(term["tenure_from"], pa.float64()),
            "tenure_to": pa.array(term["tenure_to"], pa.float64()),
            "rate": pa.array(term["rate"], pa.float64()),
        }
    )
    return {
        "assumption_scalars": pa.table(scalars),
        "assumption_levels": pa.table(level_table),
        "assumption_termination_rates": term_table,
        "assumption_match_tiers": pa.table(match),
        "assumption_irs_limits": pa.table(irs),
    }
