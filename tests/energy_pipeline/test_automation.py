"""The marts follow their inputs: the automation sensor's conditions evaluated on an
instance with real materializations (a partial history, as most users have)."""

import dagster as dg
import pytest

from assets.energy.assets import CANONICAL_KEY, commodity_prices, staging_assets
from assets.energy.definitions import energy_source_resources
from assets.energy.marts import canonical_dbt_test_keys, energy_marts
from definitions import defs
from headwater.cli.runs import RANGE_END_TAG, RANGE_START_TAG
from resources.dbt import dbt_cli, manifest_nodes, unselected_tests
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


def test_a_marts_run_leaves_out_the_dbt_tests_it_did_not_select(partial_history, tmp_path):
    """dagster-dbt adds the tests on the marts' sources (canonical prices) to every subset it
    builds; a run that did not select those checks excludes them (no result let through with
    Dagster's "was yielded which is not selected" warning), and runs every check it selected."""
    specs = list(energy_marts.node_check_specs_by_output_name.values())
    mart_checks = {s.key for s in specs if s.asset_key in MART_KEYS}
    excluded = unselected_tests(specs, mart_checks, manifest_nodes())
    assert sorted(name.rsplit(".", 1)[1] for name in excluded) == sorted(
        k.name for k in canonical_dbt_test_keys()
    )
    assert unselected_tests(specs, {s.key for s in specs}, manifest_nodes()) == []

    instance, _load = partial_history
    marts_only = [k for k in MART_KEYS if k != dg.AssetKey(["marts", "price_freshness"])]
    result = dg.materialize(
        [energy_marts],
        selection=dg.AssetSelection.assets(*marts_only).without_checks()
        | dg.AssetSelection.checks_for_assets(*marts_only),
        resources={
            "warehouse": DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb")),
            "dbt": dbt_cli(),
        },
        instance=instance,
    )
    assert result.success
    evaluated = {e.asset_check_key for e in result.get_asset_check_evaluations()}
    assert evaluated == {k for k in mart_checks if k.asset_key in marts_only}
