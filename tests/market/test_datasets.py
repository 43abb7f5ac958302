"""Datasets beyond GLBX.MDP3: ICE Futures Europe (IFEU.IMPACT) Brent loads beside CME into
the same tables, told apart by their `dataset` column. Instrument ids are unique within a
dataset only; the sample BRN contracts deliberately share the CL contracts' ids, so every
lookup that forgot the dataset would give a Brent bar a crude-oil contract."""

import dataclasses
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest

import assets.market.definitions as market_definitions
from assets.market.config import MarketConfig
from assets.market.ingest import MarketIngest, ingest_run_config
from headwater.cli.runs import load_defs
from headwater.plans import BadParameter, IngestRequest
from tests.market.test_batch import run
from tests.market.test_files import REAL, SETTINGS, headwater, tables

DEFS = load_defs()
JANUARY = ("2024-01-01", "2024-01-01")
IFEU = {"resources": {"databento": {"config": {"dataset": "IFEU.IMPACT"}}}}


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def load(warehouse: Path, dataset: str, parent: str) -> None:
    extra = IFEU if dataset == "IFEU.IMPACT" else {}
    for schema in ("definition", "statistics", "ohlcv-1d"):
        config = ingest_run_config(schema, [parent]) | extra
        run(warehouse, "market_" + schema.replace("-", "_"), JANUARY, config)


@pytest.fixture(scope="module")
def both(tmp_path_factory) -> Path:
    warehouse = tmp_path_factory.mktemp("datasets") / "warehouse.duckdb"
    load(warehouse, "GLBX.MDP3", "CL.FUT")
    load(warehouse, "IFEU.IMPACT", "BRN.FUT")
    return warehouse


def test_colliding_ids_keep_their_own_contracts(both):
    shared = query(
        both,
        "SELECT instrument_id FROM canonical.market_definition GROUP BY instrument_id "
        "HAVING count(DISTINCT dataset) = 2",
    )
    assert shared  # the same ids in both datasets
    roots = query(
        both,
        "SELECT dataset, root, min(contract), count(*) FROM canonical.market_ohlcv_1d "
        "GROUP BY ALL ORDER BY ALL",
    )
    assert [(d, r) for d, r, _, _ in roots] == [("GLBX.MDP3", "CL.FUT"), ("IFEU.IMPACT", "BRN.FUT")]
    assert roots[1][2].startswith("BRN FM") and roots[0][2].startswith("CL")
    assert all(n > 0 for *_, n in roots)


def test_each_dataset_is_replaced_on_its_own(both, tmp_path):
    copy = tmp_path / "again.duckdb"
    copy.write_bytes(both.read_bytes())
    sql = "SELECT * FROM canonical.market_ohlcv_1d ORDER BY ALL"
    before = query(copy, sql)
    run(copy, "market_ohlcv_1d", JANUARY, ingest_run_config("ohlcv-1d", ["CL.FUT"]))
    assert query(copy, sql) == before  # the IFEU rows untouched, the CME rows the same


def test_checks_and_marts_see_datasets_apart(both, tmp_path):
    copy = tmp_path / "with_marts.duckdb"
    copy.write_bytes(both.read_bytes())
    result = run(copy, "market_marts_refresh", None)
    failed = [
        e.event_specific_data.check_name
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.event_specific_data.passed
    ]
    assert failed == []
    instruments = query(
        copy, "SELECT dataset, count(*) FROM marts.market_instruments GROUP BY ALL ORDER BY ALL"
    )
    assert [d for d, _ in instruments] == ["GLBX.MDP3", "IFEU.IMPACT"]
    front = query(
        copy, "SELECT DISTINCT dataset, root FROM marts.market_front_month_daily ORDER BY ALL"
    )
    assert front == [("GLBX.MDP3", "CL.FUT"), ("IFEU.IMPACT", "BRN.FUT")]


def test_tables_written_before_the_dataset_column_get_it(tmp_path):
    """A warehouse of an earlier version (no `dataset` column) is loaded into again: its
    tables gain the column, their rows marked market.dataset, and are replaced as before."""
    path = tmp_path / "old.duckdb"
    load(path, "GLBX.MDP3", "CL.FUT")
    sql = "SELECT * EXCLUDE (dataset) FROM canonical.market_ohlcv_1d ORDER BY ALL"
    before = query(path, sql)
    with duckdb.connect(str(path)) as con:
        tables = con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.columns "
            "WHERE column_name = 'dataset' AND table_name LIKE 'market_%'"
        ).fetchall()
        for (table,) in tables:
            con.execute(f"ALTER TABLE {table} DROP COLUMN dataset")
    run(path, "market_ohlcv_1d", JANUARY, ingest_run_config("ohlcv-1d", ["CL.FUT"]))
    assert query(path, "SELECT DISTINCT dataset FROM canonical.market_ohlcv_1d") == [("GLBX.MDP3",)]
    assert query(path, sql) == before
    assert query(path, "SELECT DISTINCT dataset FROM canonical.market_definition") == [
        ("GLBX.MDP3",)
    ]


def test_ingest_takes_a_datasets_parents_from_the_settings(tmp_path):
    settings = tmp_path / "headwater.yaml"
    settings.write_text("market:\n  datasets:\n    IFEU.IMPACT: [BRN.FUT]\n")
    request = IngestRequest(
        api="databento",
        schema="ohlcv-1d",
        dataset="IFEU.IMPACT",
        start=datetime(2024, 1, 2).date(),
        end=datetime(2024, 1, 31).date(),
        config_path=settings,
    )
    plan = MarketIngest().plan(request)
    assert plan.symbols == ("BRN.FUT",) and plan.dataset == "IFEU.IMPACT"
    assert all(s.run_config["resources"]["databento"]["config"]["dataset"] == "IFEU.IMPACT"
               for s in plan.steps)  # fmt: skip
    bare = tmp_path / "bare.yaml"
    bare.write_text("market: {}\n")
    with pytest.raises(BadParameter, match="no parent symbols configured for it"):
        MarketIngest().plan(dataclasses.replace(request, config_path=bare))


def test_the_schedule_loads_every_configured_dataset(monkeypatch):
    config = MarketConfig(datasets={"IFEU.IMPACT": ["BRN.FUT"]})
    monkeypatch.setattr(market_definitions, "CONFIG", config)
    tick = datetime(2026, 11, 4, 18, 0, tzinfo=ZoneInfo("America/Chicago"))
    context = dg.build_schedule_context(
        scheduled_execution_time=tick, repository_def=DEFS.get_repository_def()
    )
    requests = list(market_definitions.after_close_schedule.evaluate_tick(context).run_requests)
    assert [r.run_key for r in requests] == ["close-2026-11-04", "close-2026-11-04-IFEU.IMPACT"]
    ifeu = requests[1].run_config
    assert ifeu["resources"]["databento"]["config"] == {"dataset": "IFEU.IMPACT"}
    assert {c["config"]["symbols"][0] for c in ifeu["ops"].values()} == {"BRN.FUT"}


def test_a_dataset_listed_twice_is_refused():
    with pytest.raises(ValueError, match="datasets names GLBX.MDP3, which is already"):
        MarketConfig(datasets={"GLBX.MDP3": ["CL.FUT"]})


def test_real_files_of_both_datasets_share_the_tables(tmp_path):
    """Databento's own GLBX.MDP3 (ESH1) and IFEU.IMPACT (Brent) files into one warehouse:
    each dataset's rows carry it, and loading one again leaves the other's alone."""
    settings = tmp_path / "headwater.yaml"
    settings.write_text(SETTINGS)
    glbx = ["ingest", "--api", "databento", "--files", str(REAL / "GLBX.MDP3"),
            "--config", str(settings)]  # fmt: skip
    ifeu = ["ingest", "--api", "databento", "--files", str(REAL / "IFEU.IMPACT"),
            "--dataset", "IFEU.IMPACT", "--config", str(settings)]  # fmt: skip
    for args in (glbx, ifeu):
        done = headwater(tmp_path, *args)
        assert done.returncode == 0, done.stderr
    warehouse = tmp_path / "warehouse.duckdb"
    roots = query(warehouse, "SELECT DISTINCT dataset, root FROM canonical.market_ohlcv_1d "
                             "ORDER BY ALL")  # fmt: skip
    assert roots == [("GLBX.MDP3", "ES.FUT"), ("IFEU.IMPACT", "BRN.FUT")]
    before = tables(warehouse)
    assert headwater(tmp_path, *glbx).returncode == 0
    assert tables(warehouse) == before
