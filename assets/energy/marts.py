"""Energy marts: the dbt models under dbt_project/models/energy, with their tests as checks.

They follow their inputs declaratively: when canonical prices change, the marts
rebuild (the automation sensor runs in `dagster dev`'s daemon).
"""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from resources.dbt import HeadwaterTranslator, dbt_build, dbt_project
from resources.warehouse import DuckDBWarehouse


class EnergyTranslator(HeadwaterTranslator):
    def get_automation_condition(
        self, dbt_resource_props: Mapping[str, Any]
    ) -> dg.AutomationCondition | None:
        return dg.AutomationCondition.eager()


@dbt_assets(
    manifest=dbt_project.manifest_path,
    select="path:models/energy",
    dagster_dbt_translator=EnergyTranslator(),
    project=dbt_project,
    pool="warehouse",
    name="energy_dbt_marts",
)
def energy_marts(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: DuckDBWarehouse
):
    yield from dbt_build(context, dbt, warehouse)
