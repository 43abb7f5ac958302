"""The domain's Definitions load with the shared resources, and DEMO_PLAN runs as `make
demo` runs it: each job executed in process, a partition range as one run."""

import dagster as dg

from assets.workforce.definitions import DEMO_PLAN, build_defs
from headwater.cli.runs import RANGE_END_TAG, RANGE_START_TAG
from resources.warehouse import DuckDBWarehouse


def test_demo_plan_materializes_every_workforce_asset(tmp_path, monkeypatch):
    monkeypatch.setenv("HEADWATER_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("HEADWATER_SAMPLE_DIR", str(tmp_path / "sample"))
    defs = dg.Definitions.merge(
        build_defs(),
        dg.Definitions(
            resources={"warehouse": DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb"))}
        ),
    )
    assert [job for job, _ in DEMO_PLAN] == [
        "workforce_inputs",
        "workforce_simulation",
        "workforce_reports",
    ]
    instance = dg.DagsterInstance.ephemeral()
    for job, years in DEMO_PLAN:
        tags = {RANGE_START_TAG: years[0], RANGE_END_TAG: years[1]} if years else {}
        assert defs.resolve_job_def(job).execute_in_process(instance=instance, tags=tags).success
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        assert instance.get_latest_materialization_event(key) is not None, key
    partitions = graph.get(dg.AssetKey(["workforce", "fct_workforce_snapshot"])).partitions_def
    assert (
        instance.get_materialized_partitions(dg.AssetKey(["workforce", "fct_workforce_snapshot"]))
        == set(partitions.get_partition_keys())
        == {"2025", "2026", "2027", "2028", "2029"}
    )
    headcount = (
        DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb"))
        .query(
            "select count(*) from workforce.fct_workforce_snapshot "
            "where simulation_year = 2029 and employment_status = 'active'"
        )
        .column(0)[0]
        .as_py()
    )
    assert 1100 < headcount < 1150  # ~1,000 employees growing 3% a year


def test_code_location_loads_with_the_workforce_assets():
    from assets.workforce.definitions import defs
    from resources.definitions import defs as shared

    merged = dg.Definitions.merge(shared, defs)
    assert {j.name for j in merged.resolve_all_job_defs()} >= {
        "workforce_inputs",
        "workforce_simulation",
        "workforce_reports",
    }
    keys = merged.resolve_asset_graph().get_all_asset_keys()
    assert dg.AssetKey(["workforce", "int_employee_contributions"]) in keys
    assert (
        len([k for k in keys if k.path[0] == "workforce"]) == 1 + 5 + 2 + 17
    )  # census, assumptions, census models, yearly models
