"""The energy graph run through Dagster on a temporary warehouse and sample data."""

from datetime import date

import dagster as dg
import pandas as pd
import pytest

from assets.energy import wire_formats as wf
from assets.energy.assets import TABLES, commodity_prices, staging_assets
from assets.energy.checks import prices_are_fresh
from assets.energy.definitions import energy_source_resources
from assets.energy.sources import EIAResource, FREDResource, YahooFinanceResource
from headwater.cli.runs import RANGE_END_TAG, RANGE_START_TAG
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
    """March and April 2020 (WTI's negative settle) as one run, materialized once."""
    warehouse = DuckDBWarehouse(path=str(tmp_path_factory.mktemp("wh") / "energy.duckdb"))
    result = materialize_range(warehouse, "2020-03-01", "2020-04-01")
    assert result.success
    return warehouse, result


def partition_metadata(result, node):
    """{partition: metadata values} of one asset's materializations in a run."""
    return {
        m.partition: {k: v.value for k, v in m.metadata.items()}
        for m in result.asset_materializations_for_node(node)
    }


def count_by_month(warehouse, table):
    rows = warehouse.query(
        f"SELECT strftime(date_trunc('month', price_date), '%Y-%m-%d') AS month, count(*) AS n "
        f"FROM {table} GROUP BY 1"
    ).to_pylist()
    return {r["month"]: r["n"] for r in rows}


def test_each_month_carries_its_own_figures(april_2020):
    """Per partition: rows in = loaded + quarantined, and the figures are that month's own
    (they match the warehouse month by month), not the run's totals copied onto each."""
    warehouse, result = april_2020
    for source in ("eia", "fred", "yahoo"):
        months = partition_metadata(result, f"staging__{source}_prices")
        assert set(months) == {"2020-03-01", "2020-04-01"}
        stored = count_by_month(warehouse, f"staging.{source}_prices")
        held = count_by_month(warehouse, f"quarantine.{source}_prices")
        for month, meta in months.items():
            assert meta["rows_in"] == meta["rows_loaded"] + meta["rows_quarantined"] > 0
            assert meta["rows_loaded"] == meta["dagster/row_count"] == stored[month]
            assert meta["rows_quarantined"] == held.get(month, 0)
            assert sum(meta["quarantined_by_rule"].values()) == meta["rows_quarantined"]
            assert meta["source"].startswith("sample files in ")
            assert (
                meta["window"]
                == {
                    "2020-03-01": "[2020-03-01, 2020-04-01)",
                    "2020-04-01": "[2020-04-01, 2020-05-01)",
                }[month]
            )
    canonical = partition_metadata(result, "canonical__commodity_prices")
    stored = count_by_month(warehouse, "canonical.commodity_prices")
    assert {m: meta["dagster/row_count"] for m, meta in canonical.items()} == stored
    assert stored["2020-03-01"] != stored["2020-04-01"]  # 22 vs 21 trading days, x3


def test_quarantined_records_are_shown_with_rule_and_reason(april_2020):
    """FRED reports "." on Good Friday (2020-04-10): April's metadata shows those records,
    March's (no holiday) shows none."""
    _, result = april_2020
    months = partition_metadata(result, "staging__fred_prices")
    assert months["2020-04-01"]["quarantined_by_rule"] == {"E-R03": 3}
    sample = months["2020-04-01"]["quarantine_sample"]
    assert "| rule | origin | reason |" in sample
    assert "| E-R03 | " in sample and "value missing ('.') on 2020-04-10" in sample
    assert months["2020-03-01"]["quarantine_sample"] == "none"


def test_canonical_has_one_row_per_commodity_and_business_day(april_2020):
    warehouse, _ = april_2020
    rows = warehouse.query(
        "SELECT commodity, count(*) AS n, count(DISTINCT price_date) AS days, min(price_date) AS first, "
        "max(price_date) AS last FROM canonical.commodity_prices GROUP BY commodity ORDER BY commodity"
    ).to_pylist()
    assert [r["commodity"] for r in rows] == ["BRENT", "NATGAS", "WTI"]
    for r in rows:
        # 22 weekdays in March, 22 in April less Good Friday (2020-04-10).
        assert r["n"] == r["days"] == 43
        assert (str(r["first"]), str(r["last"])) == ("2020-03-02", "2020-04-30")


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
    assert materialize_range(warehouse, "2020-03-01", "2020-04-01").success
    first = snapshot(warehouse)
    assert materialize_range(warehouse, "2020-03-01", "2020-04-01").success
    assert snapshot(warehouse) == first
    # ... and a single month inside it, re-run alone, changes nothing either.
    assert materialize_range(warehouse, "2020-04-01", "2020-04-01").success
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
        root = api.root
        api.script("/fred/", Fault.server_error(503))  # one transient failure, retried
        result = dg.materialize(
            PYTHON_ASSETS,
            resources={"warehouse": warehouse, **live_resources(api)},
            instance=dg.DagsterInstance.ephemeral(),
            tags={RANGE_START_TAG: "2020-03-01", RANGE_END_TAG: "2020-04-01"},
        )
    assert result.success
    months = partition_metadata(result, "staging__fred_prices")
    assert {m["source"] for m in months.values()} == {f"live {root}"}
    assert (
        snapshot(warehouse)["canonical.commodity_prices"]
        == snapshot(april_2020[0])["canonical.commodity_prices"]
    )


def test_failed_quality_gate_blocks_canonical(tmp_path):
    """FRED answers with no observations for April: its completeness gate fails (ERROR,
    blocking) and canonical prices are not built from incomplete inputs."""
    warehouse = DuckDBWarehouse(path=str(tmp_path / "gate.duckdb"))
    empty = wf.dumps(
        wf.fred_observations(
            [], observation_start="2020-04-01", observation_end="2020-04-30", count=0
        )
    )
    with FakeEnergyAPI(through=date(2020, 5, 1)) as api:
        api.script("/fred/", *[Fault.raw(200, empty)] * 3)
        result = dg.materialize(
            PYTHON_ASSETS,
            resources={"warehouse": warehouse, **live_resources(api)},
            instance=dg.DagsterInstance.ephemeral(),
            tags={RANGE_START_TAG: "2020-04-01", RANGE_END_TAG: "2020-04-01"},
            raise_on_error=False,
        )
    assert not result.success
    gates = {(e.asset_key.path[-1], e.check_name): e for e in result.get_asset_check_evaluations()}
    failed = gates[("fred_prices", "completeness_above_threshold")]
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR
    assert "WTI" in failed.metadata["below_threshold"].value
    assert gates[("eia_prices", "completeness_above_threshold")].passed
    assert not result.asset_materializations_for_node("canonical__commodity_prices")


def all_missing(start: date, end: date) -> bytes:
    """A FRED answer with "." (missing) for every weekday of [start, end]."""
    days = [d.date().isoformat() for d in pd.bdate_range(start, end)]
    observations = [
        {"realtime_start": "2020-05-01", "realtime_end": "9999-12-31", "date": d, "value": "."}
        for d in days
    ]
    return wf.dumps(
        wf.fred_observations(
            observations,
            observation_start=start.isoformat(),
            observation_end=end.isoformat(),
            count=len(observations),
        )
    )


def test_a_failed_gate_keeps_the_previous_rows_and_holds_the_new_ones(tmp_path):
    """Write, audit, publish: April is loaded; FRED then answers "." for every day of April.
    The completeness gate fails on the new rows before they replace anything: staging and
    quarantine keep April as it was, the new records are held aside, and the check says so."""
    warehouse = DuckDBWarehouse(path=str(tmp_path / "wap.duckdb"))
    april = {RANGE_START_TAG: "2020-04-01", RANGE_END_TAG: "2020-04-01"}
    with FakeEnergyAPI(through=date(2020, 5, 1)) as api:
        resources = {"warehouse": warehouse, **live_resources(api)}
        assert dg.materialize(
            PYTHON_ASSETS, resources=resources, instance=dg.DagsterInstance.ephemeral(), tags=april
        ).success
        before = snapshot(warehouse)
        good = before["staging.fred_prices"]
        assert len(good) > 15

        api.script(
            "/fred/", *[Fault.raw(200, all_missing(date(2020, 4, 1), date(2020, 4, 30)))] * 3
        )
        result = dg.materialize(
            PYTHON_ASSETS,
            resources=resources,
            instance=dg.DagsterInstance.ephemeral(),
            tags=april,
            raise_on_error=False,
        )
    assert not result.success
    after = snapshot(warehouse)
    assert after == before  # every published table, canonical included, is as it was

    held = warehouse.query(
        "SELECT rule_id, count(*) AS n FROM holding.fred_prices GROUP BY 1"
    ).to_pylist()
    assert held == [{"rule_id": "E-R03", "n": 66}]  # 22 weekdays x 3 series, all "."
    failed = [
        e
        for e in result.get_asset_check_evaluations()
        if e.asset_key.path[-1] == "fred_prices" and e.check_name == "completeness_above_threshold"
    ]
    assert failed and not failed[0].passed
    published = failed[0].metadata["published"].value
    assert "previous rows of staging.fred_prices for [2020-04-01, 2020-05-01) are kept" in published
    assert "the 66 new records are in holding.fred_prices" in published

    # The next good load publishes and clears what was held.
    with FakeEnergyAPI(through=date(2020, 5, 1)) as api:
        resources = {"warehouse": warehouse, **live_resources(api)}
        assert dg.materialize(
            PYTHON_ASSETS, resources=resources, instance=dg.DagsterInstance.ephemeral(), tags=april
        ).success
    assert snapshot(warehouse) == before
    assert warehouse.query("SELECT count(*) AS n FROM holding.fred_prices").to_pylist() == [
        {"n": 0}
    ]
