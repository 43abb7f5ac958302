"""Workforce test fixtures: a small settings file, a temporary warehouse per test (or
per module for the shared simulation), and Dagster runs on an ephemeral instance."""

from pathlib import Path

import dagster as dg
import pytest
import yaml

from assets.workforce.definitions import build_defs
from headwater.cli.runs import RANGE_END_TAG, RANGE_START_TAG
from resources.warehouse import DuckDBWarehouse

SMALL = {
    "start_year": 2025,
    "end_year": 2027,
    "random_seed": 7,
    "census": {"sample_size": 300},
}


def write_config(path: Path, **overrides) -> Path:
    section = {**SMALL, **overrides}
    path.write_text(yaml.safe_dump({"workforce": section}))
    return path


class Sim:
    """A temporary warehouse + settings file + instance, and a way to run the jobs."""

    def __init__(self, root: Path, mp: pytest.MonkeyPatch, instance=None, **overrides):
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.warehouse = DuckDBWarehouse(path=str(root / "warehouse.duckdb"))
        self.config = write_config(root / "headwater.yaml", **overrides)
        mp.setenv("HEADWATER_WAREHOUSE", self.warehouse.path)
        mp.setenv("HEADWATER_SAMPLE_DIR", str(root / "sample"))
        self.instance = instance or dg.DagsterInstance.ephemeral()
        self.defs = dg.Definitions.merge(
            build_defs(self.config), dg.Definitions(resources={"warehouse": self.warehouse})
        )

    def run(self, job: str, years: tuple[int, int] | None = None, **settings):
        tags = {RANGE_START_TAG: str(years[0]), RANGE_END_TAG: str(years[1])} if years else {}
        run_config = {}
        if settings:
            run_config = {
                "resources": {
                    "workforce_settings": {"config": {"config_path": str(self.config), **settings}}
                }
            }
        return self.defs.resolve_job_def(job).execute_in_process(
            instance=self.instance, tags=tags, run_config=run_config, raise_on_error=False
        )

    def simulate(self, first: int, last: int, **settings):
        inputs = self.run("workforce_inputs", **settings)
        assert inputs.success
        result = self.run("workforce_simulation", (first, last), **settings)
        return result

    def query(self, sql: str, params=None):
        return self.warehouse.query(sql, params).to_pandas()


@pytest.fixture(scope="module")
def module_mp():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


@pytest.fixture(scope="module")
def simulated(tmp_path_factory, module_mp) -> Sim:
    """Three years (2025-2027) of a 300-employee sample census, inputs to reports."""
    sim = Sim(tmp_path_factory.mktemp("simulated"), module_mp)
    result = sim.simulate(2025, 2027)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    sim.simulation_result = result
    reports = sim.run("workforce_reports")
    assert reports.success
    sim.reports_result = reports
    return sim
