"""Energy marts: the dbt models under dbt_project/models/energy, with their tests as checks.

They follow their inputs declaratively: when canonical prices change, the marts
rebuild (the automation sensor runs in the daemon), and the dbt tests on canonical
prices run with them.
"""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from resources.dbt import FOLLOW_INPUTS, HeadwaterTranslator, dbt_build, dbt_project
from resources.warehouse import Warehouse

CANONICAL_KEY = dg.AssetKey(["canonical", "commodity_prices"])

# The dbt tests on canonical prices run when canonical prices have changed.
TEST_WHEN_UPDATED = (
    dg.AutomationCondition.any_deps_updated().since_last_handled()
    & ~dg.AutomationCondition.any_deps_in_progress()
).with_label("after canonical prices change")


# The marts follow their inputs, but none starts while canonical prices are being written:
# price_freshness reads only staging, and would otherwise be rebuilt in a run of its own as soon
# as a load's staging steps end, with the other marts in a second run after canonical prices
# (two runs to start, one after the other on the warehouse pool).
FOLLOW_LOAD = (
    FOLLOW_INPUTS
    & ~dg.AutomationCondition.asset_matches(CANONICAL_KEY, dg.AutomationCondition.in_progress())
).with_label("eager, partial history allowed, after canonical prices are written")


class EnergyTranslator(HeadwaterTranslator):
    def get_automation_condition(
        self, dbt_resource_props: Mapping[str, Any]
    ) -> dg.AutomationCondition | None:
        return FOLLOW_LOAD

    def check_automation(self, spec: dg.AssetCheckSpec) -> dg.AutomationCondition | None:
        return TEST_WHEN_UPDATED if spec.asset_key == CANONICAL_KEY else None


@dbt_assets(
    manifest=dbt_project.manifest_path,
    select="path:models/energy",
    dagster_dbt_translator=EnergyTranslator(),
    project=dbt_project,
    pool="warehouse",
    name="energy_dbt",  # the energy dbt step: the marts, their tests, the tests on canonical prices
)
def energy_marts(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse):
    yield from dbt_build(context, dbt, warehouse)


def canonical_dbt_test_keys() -> list[dg.AssetCheckKey]:
    """The dbt source tests on canonical prices (checks computed by the dbt step)."""
    return [k for k in energy_marts.check_keys if k.asset_key == CANONICAL_KEY]
