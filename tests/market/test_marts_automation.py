"""The market marts follow their inputs: the automation sensor's conditions evaluated on an
instance with real materializations (a month of definitions, daily bars and statistics
out of the history since market.start_date), then a new month."""

import dagster as dg
import pytest

from assets.market.assets import load_assets
from assets.market.definitions import market_source
from assets.market.marts import market_marts
from definitions import defs
from resources.dbt import dbt_cli
from resources.warehouse import DuckDBWarehouse

MONTHLY = [load_assets[s] for s in ("definition", "ohlcv-1d", "statistics")]
MART_KEYS = set(market_marts.keys)


def requested(result) -> set[dg.AssetKey]:
    graph = defs.resolve_asset_graph()
    return {k for k in graph.get_all_asset_keys() if result.get_num_requested(k)}


@pytest.fixture
def one_month(tmp_path):
    resources = {
        "warehouse": DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb")),
        "dbt": dbt_cli(),
        "databento": market_source(),
    }
    with dg.instance_for_test() as instance:

        def load(month: str) -> None:
            result = dg.materialize(
                MONTHLY, resources=resources, instance=instance, partition_key=month
            )
            assert result.success

        load("2024-01-01")
        assert dg.materialize([market_marts], resources=resources, instance=instance).success
        yield instance, load


def test_a_new_month_makes_the_marts_follow_once(one_month):
    instance, load = one_month
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    settled = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    # the history since market.start_date is mostly not loaded: that does not block them
    assert not requested(settled) & MART_KEYS

    load("2024-02-01")
    after = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=settled.cursor)
    assert requested(after) & MART_KEYS == MART_KEYS

    again = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=after.cursor)
    assert not requested(again) & MART_KEYS


def test_the_sensor_targets_the_marts_and_runs_by_default():
    sensor = defs.resolve_sensor_def("market_marts_follow_inputs")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.asset_selection.resolve(defs.resolve_asset_graph()) == MART_KEYS
