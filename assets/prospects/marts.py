"""Prospects materialized views: the dbt models under dbt_project/models/prospects
(`mv_position_benchmarks`, `mv_prospect_quality_scores`, `mv_position_statistics`), with
their tests and the tests on the canonical tables as checks. They follow their inputs like
the energy marts: when a draft year of canonical prospects changes, they rebuild.
"""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from resources.dbt import FOLLOW_INPUTS, HeadwaterTranslator, dbt_build, dbt_project
from resources.warehouse import Warehouse

# The dbt source tests on canonical tables run when those tables have changed.
TEST_WHEN_UPDATED = (
    dg.AutomationCondition.any_deps_updated().since_last_handled()
    & ~dg.AutomationCondition.any_deps_in_progress()
).with_label("after the canonical prospects change")


class ProspectsTranslator(HeadwaterTranslator):
    def get_automation_condition(
        self, dbt_resource_props: Mapping[str, Any]
    ) -> dg.AutomationCondition | None:
        return FOLLOW_INPUTS

    def check_automation(self, spec: dg.AssetCheckSpec) -> dg.AutomationCondition | None:
        return TEST_WHEN_UPDATED if spec.asset_key.path[0] == "canonical" else None


@dbt_assets(
    manifest=dbt_project.manifest_path,
    select="path:models/prospects",
    dagster_dbt_translator=ProspectsTranslator(),
    project=dbt_project,
    pool="warehouse",
    name="prospects_dbt",
)
def prospects_marts(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse):
    yield from dbt_build(context, dbt, warehouse)


def canonical_dbt_test_keys() -> list[dg.AssetCheckKey]:
    """The dbt source tests on the canonical prospect tables (computed by the dbt step)."""
    return [k for k in prospects_marts.check_keys if k.asset_key.path[0] == "canonical"]
