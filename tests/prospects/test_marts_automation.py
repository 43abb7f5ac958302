"""The prospects materialized views follow the canonical tables: the automation sensor's
conditions evaluated on an instance with real materializations (one draft year, then
another), as the daemon's sensor prospects_marts_follow_inputs evaluates them."""

import dagster as dg

from assets.prospects.config import SOURCES
from assets.prospects.marts import canonical_dbt_test_keys, prospects_marts
from assets.prospects.sources import ProspectSource
from definitions import defs
from resources.dbt import dbt_cli
from resources.warehouse import DuckDBWarehouse
from tests.prospects.test_pipeline import ASSETS

MART_KEYS = set(prospects_marts.keys)


def requested(result) -> tuple[set[dg.AssetKey], set[dg.AssetCheckKey]]:
    graph = defs.resolve_asset_graph()
    assets = {k for k in graph.get_all_asset_keys() if result.get_num_requested(k)}
    checks = {
        r.key
        for r in result.results
        if isinstance(r.key, dg.AssetCheckKey) and not r.true_subset.is_empty
    }
    return assets, checks


def test_a_new_draft_year_makes_the_views_follow_once(tmp_path, session_dir):
    resources = {
        "warehouse": DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb")),
        "dbt": dbt_cli(),
        **{
            f"prospects_{s}": ProspectSource(
                source=s, sample_dir=str(session_dir / "sample" / "prospects")
            )
            for s in SOURCES
        },
    }
    with dg.instance_for_test() as instance:

        def load(year: str) -> None:
            result = dg.materialize(
                ASSETS, resources=resources, instance=instance, partition_key=year
            )
            assert result.success

        load("2024")
        assert dg.materialize([prospects_marts], resources=resources, instance=instance).success
        first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        settled = dg.evaluate_automation_conditions(
            defs=defs, instance=instance, cursor=first.cursor
        )
        # the other draft years were never loaded: that does not block the views
        assert not requested(settled)[0] & MART_KEYS

        load("2025")
        after = dg.evaluate_automation_conditions(
            defs=defs, instance=instance, cursor=settled.cursor
        )
        assets, checks = requested(after)
        assert assets & MART_KEYS == MART_KEYS
        assert set(canonical_dbt_test_keys()) <= checks  # the dbt tests on canonical tables

        again = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=after.cursor)
        assert not requested(again)[0] & MART_KEYS


def test_the_sensor_targets_the_views_and_runs_by_default():
    sensor = defs.resolve_sensor_def("prospects_marts_follow_inputs")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.asset_selection.resolve(defs.resolve_asset_graph()) == MART_KEYS
