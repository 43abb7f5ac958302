"""Market marts: the dbt models under dbt_project/models/market, with their tests as checks.

- `marts.market_instruments`: the newest definition of every contract;
- `marts.market_contract_settlements`: settlement price, open interest and cleared volume
  per contract and trading date (the latest publication wins);
- `marts.market_front_month_daily`: a continuous front-month daily series per root, by the
  roll rule in `market.roll` (docs/market.md).

They follow their inputs declaratively, like the energy marts: when a canonical market
table changes, the automation sensor rebuilds them.
"""

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from assets.market.assets import CONFIG
from resources.dbt import (
    FOLLOW_INPUTS,
    HeadwaterTranslator,
    dbt_build,
    dbt_environment,
    dbt_project,
)
from resources.warehouse import Warehouse


class MarketTranslator(HeadwaterTranslator):
    def get_automation_condition(self, dbt_resource_props) -> dg.AutomationCondition | None:
        return FOLLOW_INPUTS if dbt_resource_props["resource_type"] == "model" else None


def roll_environment() -> dict[str, str]:
    """The roll rule as the front-month model reads it (env_var, so that a change re-parses
    that model only)."""
    return {
        "HEADWATER_MARKET_ROLL_METHOD": CONFIG.roll.method,
        "HEADWATER_MARKET_ROLL_DAYS": str(CONFIG.roll.days_before_expiry),
    }


@dbt_assets(
    manifest=dbt_project.manifest_path,
    select="path:models/market",
    dagster_dbt_translator=MarketTranslator(),
    project=dbt_project,
    pool="warehouse",
    name="market_dbt",
)
def market_marts(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse):
    with dbt_environment(**roll_environment()):
        yield from dbt_build(context, dbt, warehouse)
