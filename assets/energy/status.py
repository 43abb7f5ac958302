"""What `headwater status` reads of energy and how fresh it must be.

Fresh when the newest price per commodity in canonical.commodity_prices (and per source in
staging) is at most `energy.freshness_business_days` business days behind the last
business day before today: the rule of the check prices_are_fresh (W-04). The canonical
prices count for the domain; the sources are shown beside them.
"""

from assets.energy.config import SOURCES, load_energy_config
from headwater.freshness import Freshness, StatusInputs, as_date, business_days_rule

STATUS_QUERIES = {
    "energy_canonical": (
        "canonical.commodity_prices",
        "SELECT commodity, max(price_date) FROM canonical.commodity_prices GROUP BY 1",
    ),
    **{
        f"energy_{src}": (
            f"staging.{src}_prices",
            f"SELECT '{src}', max(price_date) FROM staging.{src}_prices",
        )
        for src in SOURCES
    },
}


def freshness(inputs: StatusInputs) -> list[Freshness]:
    cfg = load_energy_config()
    today = inputs.now.astimezone().date()
    setting = "energy.freshness_business_days"
    rows = []
    for src in SOURCES:
        found = (inputs.facts.get(f"energy_{src}") or {}).get(src)
        rows.append(
            business_days_rule(
                "energy",
                f"{src} (staging)",
                as_date(found),
                today,
                cfg.freshness_business_days,
                False,
                setting,
            )
        )
    canonical = inputs.facts.get("energy_canonical") or {}
    for name in cfg.commodities:
        rows.append(
            business_days_rule(
                "energy",
                f"{name} (canonical)",
                as_date(canonical.get(name)),
                today,
                cfg.freshness_business_days,
                True,
                setting,
            )
        )
    return rows
