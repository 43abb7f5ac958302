"""One in-process dbt runner per warehouse, reused for every simulation year.

A `dbt` subprocess costs 3.4-4.9 s here whatever it runs, and changing `--vars`
forces a full re-parse. Instead the project is parsed once per process (per
warehouse) with `dbt parse`, and the resulting manifest is handed to
`dbtRunner(manifest=...)`, so each later invocation skips parsing entirely. The
year reaches the models through environment variables (HEADWATER_SIM_YEAR,
HEADWATER_SIM_FIRST_YEAR) that the model bodies read with env_var() when they are
rendered at run time. One `dbt build` per year covers every stage.

dbt reaches the warehouse through the warehouse resource's `dbt_env()` (the profile's
target and connection: DuckDB's file, or PostgreSQL's database). The manifest names
the target's database, so there is one runner per such environment.

Each build holds the warehouse's writer lock. On DuckDB it also closes dbt-duckdb's
database handle before letting go of it: dbt-duckdb keeps the file open for the life of
the process by default (`keep_open`), and another process would then fail with "Could
not set lock on file" while this one no longer holds the lock. Re-opening once per
build costs little; re-opening per node (`keep_open: false`) cost 5 s over five
10k-employee years. PostgreSQL takes many writers: no lock, nothing to release.
"""

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from headwater import settings
from resources.dbt import dbt_environment, invocation_target, keep_parse, seed_target
from resources.warehouse import DuckDBWarehouse, Warehouse

YEAR_ENV = "HEADWATER_SIM_YEAR"
FIRST_YEAR_ENV = "HEADWATER_SIM_FIRST_YEAR"

_runners: dict[str, "WorkforceDbt"] = {}
_guard = threading.Lock()


@dataclass
class NodeResult:
    unique_id: str
    name: str
    resource_type: str
    status: str
    message: str | None
    seconds: float
    model: str  # the model a test is attached to; the node's own name for a model


@dataclass
class DbtOutcome:
    success: bool
    nodes: list[NodeResult] = field(default_factory=list)
    error: str | None = None

    @property
    def failed(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.status in ("error", "fail", "runtime error")]


class WorkforceDbt:
    """Parses once, then invokes `dbt build` in process with the cached manifest."""

    def __init__(
        self, warehouse: Warehouse | str | Path, project_dir: Path = settings.DBT_PROJECT_DIR
    ):
        if not isinstance(warehouse, Warehouse):  # a DuckDB warehouse file
            warehouse = DuckDBWarehouse(path=str(Path(warehouse).resolve()))
        self.warehouse = warehouse
        self.env = warehouse.dbt_env()
        self.project_dir = project_dir
        # This runner's own target folder (run results, the manifest), started from the
        # warehouse's partial parse (resources.dbt.parse_cache).
        self.target = invocation_target("workforce")
        self._runner = None
        self.invocations = 0

    def _args(self, *args: str) -> list[str]:
        return [
            *args,
            "--project-dir",
            str(self.project_dir),
            "--profiles-dir",
            str(self.project_dir),
            "--target-path",
            str(self.target),
            "--quiet",
        ]

    def _ensure_parsed(self):
        from dbt.cli.main import dbtRunner

        if self._runner is None:
            # Parse with no year set: models then render their first-year branch, whose
            # ref() to the baseline must be in the manifest for every later year too.
            saved = {k: os.environ.pop(k) for k in (YEAR_ENV, FIRST_YEAR_ENV) if k in os.environ}
            seed_target(self.target, self.env)
            try:
                res = dbtRunner().invoke(self._args("parse"))
            finally:
                os.environ.update(saved)
            keep_parse(self.target, self.env)
            if not res.success:
                raise RuntimeError(f"dbt parse failed: {res.exception}")
            self._runner = dbtRunner(manifest=res.result)
        return self._runner

    def build(
        self, select: str, year: int | None = None, first_year: int | None = None
    ) -> DbtOutcome:
        values = dict(self.env)
        if year is not None:
            values |= {YEAR_ENV: str(year), FIRST_YEAR_ENV: str(first_year)}
        with dbt_environment(**values), self.warehouse.writer_lock():
            try:
                runner = self._ensure_parsed()
                self.invocations += 1
                res = runner.invoke(self._args("build", "--select", select))
            finally:
                if self.warehouse.engine == "duckdb":
                    release_duckdb_file()
        nodes = []
        for r in getattr(res.result, "results", None) or []:
            attached = getattr(r.node, "attached_node", None) or ""
            nodes.append(
                NodeResult(
                    unique_id=r.node.unique_id,
                    name=r.node.name,
                    resource_type=str(r.node.resource_type),
                    status=str(r.status),
                    message=r.message,
                    seconds=float(r.execution_time or 0.0),
                    model=attached.rsplit(".", 1)[-1] if attached else r.node.name,
                )
            )
        error = str(res.exception) if res.exception else None
        return DbtOutcome(success=bool(res.success), nodes=nodes, error=error)


def release_duckdb_file() -> None:
    """Close the database file dbt-duckdb holds open in this process (if any); the next
    invocation opens it again."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    try:
        environment = DuckDBConnectionManager.env()
    except Exception:  # no environment yet: nothing is open
        return
    environment.close()


def workforce_dbt(warehouse: Warehouse) -> WorkforceDbt:
    """The process's runner for this warehouse: one per dbt environment (target and
    connection), since the manifest names the database - the DuckDB file or the
    PostgreSQL database."""
    key = "\n".join(f"{k}={v}" for k, v in sorted(warehouse.dbt_env().items()))
    with _guard:
        if key not in _runners:
            _runners[key] = WorkforceDbt(warehouse)
        return _runners[key]
