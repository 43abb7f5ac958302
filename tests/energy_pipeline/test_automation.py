"""The marts follow their inputs: the automation sensor's conditions evaluated on an
instance with real materializations (a partial history, as most users have)."""

import dagster as dg
import pytest

from assets.energy.assets import CANONICAL_KEY, commodity_prices, staging_assets
from assets.energy.definitions import energy_source_resources
from assets.energy.marts import canonical_dbt_test_keys, energy_marts
from definitions import defs
from headwater.cli.runs import RANGE_END_TAG, RANGE_START_TAG
from resources.dbt import dbt_cli
from resources.warehouse import DuckDBWarehouse

MART_KEYS = set(energy_marts.keys)


def requested(result) -> tuple[set[dg.AssetKey], set[dg.AssetCheckKey]]:
    """What one evaluation of the sensor's conditions requests: assets, and checks."""
    graph = defs.resolve_asset_graph()
    assets = {k for k in graph.get_all_asset_keys() if result.get_num_requested(k)}
    checks = {
        r.key
        for r in result.results
        if isinstance(r.key, dg.AssetCheckKey) and not r.true_subset.is_empty
    }
    assert result.total_requested == len(assets) + len(checks)  # unpartitioned: one each
    return assets, checks


@pytest.fixture
def partial_history(tmp_path):
    """Two months of 2020 loaded (of the ~140 since 2015), then the marts built on them."""
    resources = {
        "warehouse": DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb")),
        "dbt": dbt_cli(),
        **energy_source_resources(),
    }
    with dg.instance_for_test() as instance:

        def load(first: str, last: str) -> None:
            result = dg.materialize(
                [*staging_assets, commodity_prices],
                resources=resources,
                instance=instance,
                tags={RANGE_START_TAG: first, RANGE_END_TAG: last},
            )
            assert result.success

        load("2020-01-01", "2020-02-01")
        assert dg.materialize([energy_marts], resources=resources, instance=instance).success
        yield instance, load


def test_a_new_month_makes_the_marts_follow_once(partial_history):
    instance, load = partial_history

    # The sensor's first ticks after the marts were built: nothing to do, although most of
    # the history since 2015 was never loaded ("any dependency missing" does not block).
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    settled = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    assert requested(settled) == (set(), set())

    # The schedule's run of a new month updates canonical prices...
    load("2020-03-01", "2020-03-01")
    after_run = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, cursor=settled.cursor
    )
    assets, checks = requested(after_run)
    # ... so the next tick requests every mart, and the dbt tests on canonical prices, once.
    assert assets == MART_KEYS
    assert set(canonical_dbt_test_keys()) <= checks
    assert CANONICAL_KEY not in assets

    again = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=after_run.cursor)
    assert requested(again) == (set(), set())
