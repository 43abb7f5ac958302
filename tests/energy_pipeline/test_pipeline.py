"""The energy graph run through Dagster on a temporary warehouse and sample data."""

from datetime import date

import dagster as dg
import pytest

from assets.energy import wire_formats as wf
from assets.energy.assets import TABLES, commodity_prices, staging_assets
from assets.energy.checks import prices_are_fresh
from assets.energy.definitions import energy_source_resources
from headwater.runs import RANGE_END_TAG, RANGE_START_TAG
from resources.energy_sources import EIAResource, FREDResource, YahooFinanceResource
from resources.warehouse import DuckDBWarehouse
from tests.fakes.energy_api import FakeEnergyAPI, Fault

PYTHON_ASSETS = [*staging_assets, commodity_prices]


def materialize_range(warehouse, first, last, selection=None):
    return dg.materialize(
        [*PYTHON_ASSETS, prices_are_fresh],
        selection=selection,
        resources={"warehouse": warehouse, **energy_source_resources()},
        instance=dg.DagsterInstance.ephemeral(),
        tags={RANGE_START_TAG: first, RANGE_END_TAG: last},
    )


def snapshot(warehouse):
    return {t: sorted(map(repr, warehouse.query(f"SELECT * FROM {t}").to_pylist())) for t in TABLES}


def checks_by_name(result):
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def materialization_metadata(result, key):
    [mat] = [m for m in result.asset_materializations_for_node(key) if m]
    return {k: v.value for k, v in mat.metadata.items()}


@pytest.fixture(scope="module")
def april_2020(tmp_path_factory):
    """Two weeks around WTI's negative settle, materialized once for the module."""
    warehouse = DuckDBWarehouse(path=str(tmp_path_factory.mktemp("wh") / "energy.duckdb"))
    result = materialize_range(warehouse, "2020-04-13", "2020-04-24")
    assert result.success
    return warehouse, result


def test_rows_in_equal_rows_loaded_plus_quarantined(april_2020):
    warehouse, result = april_2020
    for source in ("eia", "fred", "yahoo"):
        meta = result.asset_materializations_for_node(f"staging__{source}_prices")[0].metadata
        rows_in, loaded, quarantined = (
            meta[k].value for k in ("rows_in", "rows_loaded", "rows_quarantined")
        )
        assert rows_in == loaded + quarantined > 0
        stored = (
            warehouse.query(f"SELECT count(*) AS n FROM staging.{source}_prices")
            .column("n")[0]
            .as_py()
        )
        held = (
            warehouse.query(f"SELECT count(*) AS n FROM quarantine.{source}_prices")
            .column("n")[0]
            .as_py()
        )
        assert (stored, held) == (loaded, quarantined)


def test_canonical_has_one_row_per_commodity_and_business_day(april_2020):
    warehouse, _ = april_2020
    rows = warehouse.query(
        "SELECT commodity, count(*) AS n, count(DISTINCT price_date) AS days, min(price_date) AS first, "
        "max(price_date) AS last FROM canonical.commodity_prices GROUP BY commodity ORDER BY commodity"
    ).to_pylist()
    assert [r["commodity"] for r in rows] == ["BRENT", "NATGAS", "WTI"]
    for r in rows:
        assert r["n"] == r["days"] == 10  # two trading weeks, no holiday
        assert (str(r["first"]), str(r["last"])) == ("2020-04-13", "2020-04-24")


def test_wti_negative_settle_is_kept_and_warned(april_2020):
    warehouse, result = april_2020
    [row] = warehouse.query(
        "SELECT price, source FROM canonical.commodity_prices WHERE commodity = 'WTI' AND price_date = '2020-04-20'"
    ).to_pylist()
    assert row == {"price": -36.98, "source": "eia"}
    negative = checks_by_name(result)["no_negative_prices"]
    assert not negative.passed and negative.severity == dg.AssetCheckSeverity.WARN
    assert "2020-04-20" in negative.metadata["sample"].value


def test_quality_gates_pass_on_sample_data(april_2020):
    _, result = april_2020
    gates = [
        e
        for e in result.get_asset_check_evaluations()
        if e.check_name in ("no_duplicate_keys", "completeness_above_threshold", "values_in_range")
    ]
    assert len(gates) == 9 and all(e.passed for e in gates)


def test_same_range_twice_leaves_the_same_tables(april_2020, tmp_path):
    warehouse = DuckDBWarehouse(path=str(tmp_path / "again.duckdb"))
    assert materialize_range(warehouse, "2020-04-13", "2020-04-24").success
    first = snapshot(warehouse)
    assert materialize_range(warehouse, "2020-04-13", "2020-04-24").success
    assert snapshot(warehouse) == first
    # ... and a single day inside it, re-run alone, changes nothing either.
    assert materialize_range(warehouse, "2020-04-20", "2020-04-20").success
    assert snapshot(warehouse) == first
    assert snapshot(warehouse) == snapshot(april_2020[0])


def live_resources(api):
    return {
        "eia": EIAResource(mode="live", api_key=api.eia_key, base_url=api.eia_url, backoff_s=0.01),
        "fred": FREDResource(
            mode="live", api_key=api.fred_key, base_url=api.fred_url, backoff_s=0.01
        ),
        "yahoo": YahooFinanceResource(mode="live", base_url=api.yahoo_url, backoff_s=0.01),
    }


def test_live_mode_against_local_apis_matches_sample_mode(april_2020, tmp_path):
    """The live clients, through the whole Python graph, against real HTTP on 127.0.0.1."""
    warehouse = DuckDBWarehouse(path=str(tmp_path / "live.duckdb"))
    with FakeEnergyAPI(through=date(2020, 5, 1)) as api:
        api.script("/fred/", Fault.server_error(503))  # one transient failure, retried
        result = dg.materialize(
            PYTHON_ASSETS,
            resources={"warehouse": warehouse, **live_resources(api)},
            instance=dg.DagsterInstance.ephemeral(),
            tags={RANGE_START_TAG: "2020-04-13", RANGE_END_TAG: "2020-04-24"},
        )
    assert result.success
    assert (
        snapshot(warehouse)["canonical.commodity_prices"]
        == snapshot(april_2020[0])["canonical.commodity_prices"]
    )


def test_failed_quality_gate_blocks_canonical(tmp_path):
    """FRED answers with no observations: its completeness gate fails (ERROR, blocking) and
    canonical prices are not built from incomplete inputs."""
    warehouse = DuckDBWarehouse(path=str(tmp_path / "gate.duckdb"))
    empty = wf.dumps(
        wf.fred_observations(
            [], observation_start="2020-04-13", observation_end="2020-04-24", count=0
        )
    )
    with FakeEnergyAPI(through=date(2020, 5, 1)) as api:
        api.script("/fred/", *[Fault.raw(200, empty)] * 3)
        result = dg.materialize(
            PYTHON_ASSETS,
            resources={"warehouse": warehouse, **live_resources(api)},
            instance=dg.DagsterInstance.ephemeral(),
            tags={RANGE_START_TAG: "2020-04-13", RANGE_END_TAG: "2020-04-24"},
            raise_on_error=False,
        )
    assert not result.success
    gates = {(e.asset_key.path[-1], e.check_name): e for e in result.get_asset_check_evaluations()}
    failed = gates[("fred_prices", "completeness_above_threshold")]
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR
    assert "WTI" in failed.metadata["below_threshold"].value
    assert gates[("eia_prices", "completeness_above_threshold")].passed
    assert not result.asset_materializations_for_node("canonical__commodity_prices")
