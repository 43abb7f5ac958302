"""Loading the code location imports no data library: pandas, numpy, pyarrow, databento and
DuckDB load when a step runs (docs/benchmarks.md, code location load). Not timed: what is
checked is which modules a fresh interpreter holds after loading and validating the
definitions."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Imported inside the functions that use them; each costs 0.1-0.6 s at every load (code
# server, daemon, each `headwater` command, each multiprocess step).
NOT_AT_LOAD = ("pandas", "numpy", "pyarrow", "databento", "zstandard", "matplotlib", "duckdb")


def _modules_after(code: str, names: tuple[str, ...]) -> list[str]:
    probe = (
        f"{code}\nimport json, sys\nprint(json.dumps([m for m in {names!r} if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.splitlines()[-1])


def test_loading_the_definitions_imports_no_data_library():
    load = "import definitions, dagster as dg\ndg.Definitions.validate_loadable(definitions.defs)"
    assert _modules_after(load, NOT_AT_LOAD) == []


def test_requests_is_only_what_dagster_itself_imports():
    """requests is part of the floor (`import dagster` loads it); nothing of ours adds it."""
    floor = _modules_after("import dagster, dagster_dbt", ("requests",))
    loaded = _modules_after("import definitions", ("requests",))
    assert loaded == floor


def test_databento_imported_later_keeps_the_warning_filters():
    """databento's import sets DeprecationWarning to "always" in front of every filter; the
    first import, wherever a step makes it, goes through import_databento, so the filters the
    code location installs still hold afterwards (the environment_vars warning stays quiet)."""
    code = """
import warnings
import definitions
from assets.market.databento_import import import_databento
import_databento()
assert "databento" in __import__("sys").modules
with warnings.catch_warnings(record=True) as caught:
    warnings.warn("Property `ScheduleDefinition.environment_vars` is deprecated", DeprecationWarning)
assert not caught, caught
assert not [f for f in warnings.filters if f[0] == "always" and f[2] is DeprecationWarning]
"""
    _modules_after(code, ())


def test_constants_written_out_match_databento():
    """Constants that are plain values so that databento and numpy need not load with the
    definitions, checked against the libraries they stand for."""
    import databento
    import databento_dbn as dbn
    from databento.common import API_VERSION

    from assets.market import sources, transform, validation

    assert sources.DEFAULT_GATEWAY == databento.HistoricalGateway.BO1.value
    assert sources.GET_RANGE_PATH == f"/v{API_VERSION}/timeseries.get_range"
    for module in (validation, transform):
        assert module.UNDEF_PRICE == dbn.UNDEF_PRICE
        assert module.UNDEF_STAT_QUANTITY == dbn.UNDEF_STAT_QUANTITY
        assert module.UNDEF_TIMESTAMP == dbn.UNDEF_TIMESTAMP
