"""Workforce assets: census and assumptions in, the yearly simulation, reports out.

Keys are [schema, table] of the warehouse table written (reports: the report files).
The yearly models are one multi-asset: for each year of the run's partition range,
in order, it makes one in-process `dbt build` of every stage, evaluates the rules,
records the state hash and writes the year's report, and only then records the year
as materialized, so a failed year is never a checkpoint and a resumed run starts
there.
"""

import hashlib
import json
import time
from collections.abc import Iterator
from datetime import date
from functools import cache
from pathlib import Path

import dagster as dg

from assets.workforce import checks, holding, progress, reports
from assets.workforce.assumptions import ASSUMPTION_TABLES, assumption_tables
from assets.workforce.census import apply_census_rules, generate_census, read_census_file
from assets.workforce.config import WorkforceConfig
from assets.workforce.dbt_runner import DbtOutcome, workforce_dbt
from assets.workforce.partitions import PRIOR_YEAR
from assets.workforce.resources import WorkforceSettings
from assets.workforce.stages import (
    CENSUS_MODELS,
    PRIOR_YEAR_READS,
    STAGE_OF_MODEL,
    YEARLY_MODELS,
    YEARLY_STAGES,
    model_inputs,
)
from headwater import settings
from headwater.quality import quarantine_table
from resources.dbt import dbt_project
from resources.warehouse import DuckDBWarehouse, Warehouse

GROUP = "workforce"
SCHEMA = "workforce"
CENSUS_KEY = dg.AssetKey([SCHEMA, "census"])
QUARANTINE_TABLE = "quarantine.workforce_census"
YEAR_REPORT_KEY = dg.AssetKey(["reports", "workforce_year"])
SUMMARY_KEY = dg.AssetKey(["reports", "workforce_summary"])
SAMPLE_CENSUS_SEED = 42


# Which of the three workforce steps an asset belongs to, for selections such as
# `dagster asset materialize --select "tag:headwater/step=simulation" --partition-range ...`
# (a selection must not mix partitioned and unpartitioned assets).
STEP_TAGS = {step: {"headwater/step": step} for step in ("inputs", "simulation", "reports")}


def table_key(name: str) -> dg.AssetKey:
    return dg.AssetKey([SCHEMA, name])


def reports_dir(warehouse: Warehouse) -> Path:
    """Reports live beside the DuckDB warehouse they describe; with a PostgreSQL warehouse
    (no file), in the data folder (HEADWATER_DATA_DIR)."""
    if isinstance(warehouse, DuckDBWarehouse):
        return Path(warehouse.path).parent / "reports" / "workforce"
    return settings.data_dir() / "reports" / "workforce"


def census_file(cfg: WorkforceConfig) -> Path:
    """The user's census, or the sample census generated (deterministically) for the size."""
    if cfg.census.path:
        return Path(cfg.census.path).expanduser().resolve()
    path = settings.sample_dir() / "workforce" / f"census_{cfg.census.sample_size}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = generate_census(cfg.census.sample_size, census_date(cfg), seed=SAMPLE_CENSUS_SEED)
    tmp = path.with_suffix(".tmp")
    frame.to_csv(tmp, index=False)
    tmp.replace(path)
    return path


def census_date(cfg: WorkforceConfig) -> date:
    """The census describes the workforce on the day before the first simulation year."""
    return date(cfg.start_year - 1, 12, 31)


def _deps(model: str) -> list[dg.AssetDep]:
    refs, sources = model_inputs(model)
    deps = [dg.AssetDep(table_key(m)) for m in refs]
    deps += [dg.AssetDep(table_key(s)) for s in sources]
    if model in PRIOR_YEAR_READS:
        deps.append(dg.AssetDep(table_key(PRIOR_YEAR_READS[model]), partition_mapping=PRIOR_YEAR))
    return deps


@cache
def _model_descriptions() -> dict[str, str]:
    """Each dbt model's `description` (its schema.yml), from the parsed manifest."""
    path = Path(dbt_project.manifest_path)
    nodes = json.loads(path.read_text())["nodes"] if path.exists() else {}
    return {
        n["name"]: (n.get("description") or "").strip()
        for n in nodes.values()
        if n["resource_type"] == "model"
    }


def _model_description(model: str, grain: str) -> str:
    described = _model_descriptions().get(model) or f"dbt model {model}."
    return f"{described} Stage {STAGE_OF_MODEL[model]}; {grain}."


@cache
def _code_fingerprint() -> str:
    """The workforce SQL (models and macros): a change may change the results."""
    digest = hashlib.md5()
    for folder in ("models/workforce", "macros/workforce"):
        for path in sorted((settings.DBT_PROJECT_DIR / folder).rglob("*")):
            if path.is_file():
                digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def _engine(warehouse: Warehouse, con) -> str:
    """The engine and its version (`select version()` on both): float maths and SQL
    semantics belong to them, so they are part of the inputs fingerprint."""
    return f"{warehouse.engine} {warehouse.scalar('select version()', con=con)}"


def _rows(warehouse: Warehouse, con, table: str, year: int | None = None) -> int:
    if year is None:
        return warehouse.scalar(f"select count(*) from {table}", con=con)
    return warehouse.scalar(f"select count(*) from {table} where simulation_year = ?", [year], con)


# --------------------------------------------------------------------------- inputs


@dg.asset(
    key=CENSUS_KEY,
    group_name=GROUP,
    pool="warehouse",
    kinds={"python", settings.warehouse_engine()},
    tags=STEP_TAGS["inputs"],
    description="Census rows that pass the census rules (W-R01..W-R11); the others go to "
    "quarantine.workforce_census with the rule and reason.",
)
def census(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    workforce_settings: WorkforceSettings,
) -> dg.MaterializeResult:
    cfg = workforce_settings.load()
    path = census_file(cfg)
    raw = read_census_file(path, columns=cfg.census.columns)
    result = apply_census_rules(
        raw,
        census_date(cfg),
        cfg.levels,
        origin=path.name,
        min_age_at_hire=cfg.census.min_age_at_hire,
    )
    warehouse.replace_table("workforce.census", result.valid)
    warehouse.replace_table(QUARANTINE_TABLE, quarantine_table(result.rejections))
    by_rule: dict[str, int] = {}
    for r in result.rejections:
        by_rule[r.rule_id] = by_rule.get(r.rule_id, 0) + 1
    loaded, quarantined = result.valid.num_rows, len(result.rejections)
    assert result.rows_in == loaded + quarantined  # every row loaded or quarantined
    if quarantined:
        context.log.warning(
            f"census {path.name}: {quarantined} of {result.rows_in} rows set aside in "
            f"{QUARANTINE_TABLE} ({by_rule}); the simulation uses the {loaded} valid rows"
        )
    sample = "\n".join(f"| {r.rule_id} | {r.origin} | {r.reason} |" for r in result.rejections[:10])
    return dg.MaterializeResult(
        metadata={
            "source": dg.MetadataValue.path(str(path)),
            "rows_in": result.rows_in,
            "rows_loaded": loaded,
            "rows_quarantined": quarantined,
            "quarantined_by_rule": dg.MetadataValue.json(by_rule),
            "quarantine_sample": dg.MetadataValue.md(
                "| rule | origin | reason |\n|---|---|---|\n" + sample if sample else "none"
            ),
        }
    )


@dg.multi_asset(
    name="workforce_assumptions",
    specs=[
        dg.AssetSpec(
            table_key(t),
            group_name=GROUP,
            kinds={"python", settings.warehouse_engine()},
            tags=STEP_TAGS["inputs"],
            description="From config/headwater.yaml `workforce:` (validated).",
        )
        for t in ASSUMPTION_TABLES
    ],
    pool="warehouse",
)
def workforce_assumptions(
    warehouse: Warehouse, workforce_settings: WorkforceSettings
) -> Iterator[dg.MaterializeResult]:
    cfg = workforce_settings.load()
    for name, table in assumption_tables(cfg).items():
        rows = warehouse.replace_table(f"workforce.{name}", table)
        yield dg.MaterializeResult(asset_key=table_key(name), metadata={"rows": rows})


@dg.multi_asset(
    name="workforce_census_models",
    specs=[
        dg.AssetSpec(
            table_key(m),
            group_name=GROUP,
            deps=_deps(m),
            kinds={"dbt", settings.warehouse_engine()},
            tags=STEP_TAGS["inputs"],
            description=_model_description(m, "one table, rebuilt from the census"),
        )
        for m in CENSUS_MODELS
    ],
    pool="warehouse",
)
def workforce_census_models(warehouse: Warehouse) -> Iterator[dg.MaterializeResult]:
    outcome = workforce_dbt(warehouse).build("tag:workforce_census")
    if not outcome.success:
        raise dg.Failure(description=f"stage initialization: {_dbt_failure(outcome)}")
    with warehouse.session() as con:
        counts = {m: _rows(warehouse, con, f"workforce.{m}") for m in CENSUS_MODELS}
    for m in CENSUS_MODELS:
        yield dg.MaterializeResult(asset_key=table_key(m), metadata={"rows": counts[m]})


def _dbt_failure(outcome: DbtOutcome) -> str:
    failed = outcome.failed
    if not failed:
        return outcome.error or "dbt build failed"
    first = failed[0]
    names = ", ".join(f"{n.name} ({n.status})" for n in failed[:5])
    return f"{names}: {(first.message or '').strip()[:500]}"


# ----------------------------------------------------------------- the yearly models


class YearFailed(Exception):
    def __init__(self, year: int, stage: str, detail: str):
        super().__init__(f"year {year}, stage {stage}: {detail}")
        self.year, self.stage, self.detail = year, stage, detail


def build_simulation_asset(partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    specs = [
        dg.AssetSpec(
            table_key(m),
            group_name=GROUP,
            deps=_deps(m),
            kinds={"dbt", settings.warehouse_engine()},
            tags=STEP_TAGS["simulation"],
            skippable=True,  # years are recorded one by one as they finish
            description=_model_description(m, "one row set per simulation year"),
        )
        for m in YEARLY_MODELS
    ]
    specs.append(
        dg.AssetSpec(
            YEAR_REPORT_KEY,
            group_name=GROUP,
            deps=[table_key("fct_workforce_snapshot"), table_key("int_employee_contributions")],
            skippable=True,
            kinds={"python", "json"},  # a file under reports/, not a warehouse table
            tags=STEP_TAGS["simulation"],
            description="JSON report of the year (reports/workforce/year_<year>.json).",
        )
    )
    check_specs = [
        dg.AssetCheckSpec(
            rule.name,
            asset=table_key(rule.table),
            blocking=rule.blocking,
            description=f"{rule.rule_id} ({rule.severity}): {rule.description}",
        )
        for rule in checks.RULES
    ]

    @dg.multi_asset(
        name="workforce_yearly_models",
        specs=specs,
        check_specs=check_specs,
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool="warehouse",
    )
    def workforce_yearly_models(
        context: dg.AssetExecutionContext,
        warehouse: Warehouse,
        workforce_settings: WorkforceSettings,
    ):
        cfg = workforce_settings.load()
        years = sorted(int(k) for k in context.partition_keys)
        run = _YearRun(context, cfg, warehouse, years)
        try:
            yield from run.execute()
        except YearFailed as failed:
            yield from run.check_results()
            progress.emit(
                progress.ProgressEvent(
                    "failed",
                    failed.year,
                    run.index,
                    len(years),
                    failed.stage,
                    message=failed.detail,
                )
            )
            raise dg.Failure(
                description=str(failed),
                metadata={"year": failed.year, "stage": failed.stage},
            ) from None
        yield from run.check_results()

    return workforce_yearly_models


class _YearRun:
    def __init__(self, context, cfg: WorkforceConfig, warehouse: Warehouse, years: list[int]):
        self.context, self.cfg, self.warehouse, self.years = context, cfg, warehouse, years
        self.outcomes: list[checks.Outcome] = []
        self.index = 0
        self.dbt = workforce_dbt(warehouse)

    def execute(self) -> Iterator:
        first = self.years[0]
        if first < self.cfg.start_year or self.years[-1] > self.cfg.end_year:
            raise YearFailed(
                first,
                "plan",
                f"years must lie within workforce.start_year "
                f"{self.cfg.start_year} .. end_year {self.cfg.end_year}",
            )
        wh = self.warehouse
        with wh.session() as con:
            self._require_inputs(con, first)
            census_hash = checks.table_digest(wh, con, "workforce.census")
            prior_hash = (
                checks.state_hash(wh, con, first - 1) if first > self.cfg.start_year else ""
            )
            engine = _engine(wh, con)
        base = hashlib.md5(
            (self.cfg.model_dump_json() + census_hash + _code_fingerprint() + engine).encode()
        ).hexdigest()
        for index, year in enumerate(self.years, start=1):
            self.index = index
            prior_hash = yield from self._year(year, base, prior_hash)

    def _require_inputs(self, con, first: int) -> None:
        wh = self.warehouse
        if not wh.table_exists("workforce.int_baseline_workforce", con) or not _rows(
            wh, con, "workforce.int_baseline_workforce"
        ):
            raise YearFailed(
                first,
                "initialization",
                "no baseline workforce: materialize the "
                "workforce_inputs job (census, assumptions, census models) first",
            )
        if first > self.cfg.start_year:
            table = "workforce.fct_workforce_snapshot"
            if not wh.table_exists(table, con) or not _rows(wh, con, table, first - 1):
                raise YearFailed(
                    first,
                    "foundation",
                    f"year {first} starts from the end state of "
                    f"year {first - 1}, which has not been materialized: run year "
                    f"{first - 1} first",
                )

    def _year(self, year: int, base: str, prior_hash: str):
        started = time.monotonic()
        progress.emit(progress.ProgressEvent("year_started", year, self.index, len(self.years)))
        with self.warehouse.session() as con:
            holding.save_year(self.warehouse, con, YEARLY_MODELS, year)
        try:
            state = yield from self._build_and_check(year, base, prior_hash, started)
        except YearFailed as failed:
            # The year failed: what an earlier run left for it is put back, and what this
            # build wrote is held aside for inspection.
            with self.warehouse.session() as con:
                held = holding.restore_year(self.warehouse, con, YEARLY_MODELS, year)
            raise YearFailed(
                failed.year,
                failed.stage,
                f"{failed.detail} (the year's previous rows are kept; the {held} rows this "
                f"build wrote are in {holding.SCHEMA}.workforce_<model>)",
            ) from None
        with self.warehouse.session() as con:
            holding.discard_saved(self.warehouse, con, YEARLY_MODELS)
        return state

    def _build_and_check(self, year: int, base: str, prior_hash: str, started: float):
        total, log = len(self.years), self.context.log
        outcome = self.dbt.build("tag:workforce_yearly", year=year, first_year=self.cfg.start_year)
        dbt_seconds = time.monotonic() - started
        stage_seconds = {stage: 0.0 for stage, _ in YEARLY_STAGES}
        for node in outcome.nodes:
            stage_seconds[STAGE_OF_MODEL.get(node.model, "foundation")] += node.seconds
        if not outcome.success:
            failed = outcome.failed
            stage = STAGE_OF_MODEL.get(failed[0].model, "dbt") if failed else "dbt"
            raise YearFailed(year, stage, _dbt_failure(outcome))
        for stage, _ in YEARLY_STAGES:
            progress.emit(
                progress.ProgressEvent(
                    "stage_done", year, self.index, total, stage, stage_seconds[stage]
                )
            )

        checks_started = time.monotonic()
        wh = self.warehouse
        with wh.session() as con:
            outcomes = checks.evaluate(wh, con, self.cfg, year)
            state = checks.state_hash(wh, con, year)
            fingerprint = hashlib.md5((base + prior_hash).encode()).hexdigest()
            outcomes.append(self._reproducible(year, state, fingerprint))
            rows = {m: _rows(wh, con, f"workforce.{m}", year) for m in YEARLY_MODELS}
            report = reports.year_report(
                wh, con, year, {o.rule.name: o.passed for o in outcomes}, state
            )
        self.outcomes += outcomes
        progress.emit(
            progress.ProgressEvent(
                "stage_done", year, self.index, total, "checks", time.monotonic() - checks_started
            )
        )
        path = reports.write_json(report, reports_dir(self.warehouse) / f"year_{year}.json")
        progress.emit(progress.ProgressEvent("stage_done", year, self.index, total, "report", 0.0))

        blocking = [o for o in outcomes if not o.passed and o.rule.blocking]
        if blocking:
            detail = "; ".join(
                f"{o.rule.name} ({o.rule.rule_id}) failed for {o.failing_count} employees, "
                f"e.g. {', '.join(o.failing_ids[:5])}"
                if o.failing_ids
                else f"{o.rule.name} ({o.rule.rule_id}) failed: {o.values}"
                for o in blocking
            )
            raise YearFailed(year, "checks", detail)

        seconds = time.monotonic() - started
        partition = str(year)
        snapshot_meta = {
            "state_hash": state,
            "inputs_fingerprint": fingerprint,
            "rows": rows["fct_workforce_snapshot"],
            "start_headcount": report["start_headcount"],
            "end_headcount": report["headcount"],
            "hires": report["hires"],
            "terminations": report["terminations"],
            "dbt_invocations": 1,
            "dbt_seconds": round(dbt_seconds, 3),
            "year_seconds": round(seconds, 3),
        }
        for m in YEARLY_MODELS:
            meta = snapshot_meta if m == "fct_workforce_snapshot" else {"rows": rows[m]}
            yield dg.AssetMaterialization(table_key(m), partition=partition, metadata=meta)
        yield dg.AssetMaterialization(
            YEAR_REPORT_KEY,
            partition=partition,
            metadata={
                "path": dg.MetadataValue.path(str(path)),
                "report": dg.MetadataValue.json(report),
            },
        )
        log.info(
            f"year {year} ({self.index}/{total}) done in {seconds:.2f} s (one dbt build: "
            f"{dbt_seconds:.2f} s); headcount {report['start_headcount']} -> "
            f"{report['headcount']}, state {state[:12]}"
        )
        progress.emit(progress.ProgressEvent("year_done", year, self.index, total, None, seconds))
        return state

    def _reproducible(self, year: int, state: str, fingerprint: str) -> checks.Outcome:
        rule = checks.RULES_BY_NAME["state_hash_reproducible"]
        records = self.context.instance.fetch_materializations(
            dg.AssetRecordsFilter(
                asset_key=table_key("fct_workforce_snapshot"), asset_partitions=[str(year)]
            ),
            limit=20,
        ).records
        for record in records:
            meta = record.asset_materialization.metadata if record.asset_materialization else {}
            recorded = meta.get("inputs_fingerprint")
            if recorded is not None and recorded.value == fingerprint:
                before = meta["state_hash"].value
                return checks.Outcome(
                    rule,
                    year,
                    before == state,
                    [],
                    0,
                    {
                        "state_hash": state,
                        "recorded_state_hash": before,
                        "recorded_run_id": record.run_id,
                    },
                )
        return checks.Outcome(
            rule, year, True, [], 0, {"state_hash": state, "recorded_state_hash": None}
        )

    def check_results(self) -> Iterator[dg.AssetCheckResult]:
        """One result per rule for the years this run evaluated (a failing year included)."""
        shown = self.cfg.checks.failing_ids_shown
        for rule in checks.RULES:
            mine = [o for o in self.outcomes if o.rule is rule]
            if not mine:
                continue
            failing = [o for o in mine if not o.passed]
            ids = [f"{o.year}:{i}" for o in failing for i in o.failing_ids]
            yield dg.AssetCheckResult(
                asset_key=table_key(rule.table),
                check_name=rule.name,
                passed=not failing,
                severity=dg.AssetCheckSeverity.ERROR
                if rule.severity == "ERROR"
                else dg.AssetCheckSeverity.WARN,
                description=f"{rule.rule_id}: {rule.description}",
                metadata={
                    "rule_id": rule.rule_id,
                    "years_checked": [o.year for o in mine],
                    "failing_years": [o.year for o in failing],
                    "failing_employee_count": sum(o.failing_count for o in failing),
                    "failing_employees": dg.MetadataValue.json(ids[:shown]),
                    "values_by_year": dg.MetadataValue.json(
                        {str(o.year): o.values for o in mine if o.values}
                    ),
                },
            )


# ------------------------------------------------------------------------ summary


@dg.asset(
    key=SUMMARY_KEY,
    group_name=GROUP,
    deps=[table_key("fct_workforce_snapshot"), table_key("int_employee_contributions")],
    pool="warehouse",
    kinds={"python", "csv"},  # files under reports/ (the CSV and its PNG chart)
    tags=STEP_TAGS["reports"],
    description="Multi-year summary (CSV) and a chart of headcount and participation (PNG).",
)
def workforce_summary(
    warehouse: Warehouse, workforce_settings: WorkforceSettings
) -> dg.MaterializeResult:
    cfg = workforce_settings.load()
    with warehouse.session() as con:
        present = []
        if warehouse.table_exists("workforce.fct_workforce_snapshot", con):
            present = (
                warehouse.query(
                    "select distinct simulation_year from workforce.fct_workforce_snapshot "
                    "where simulation_year between ? and ? order by 1",
                    [cfg.start_year, cfg.end_year],
                    con,
                )
                .column(0)
                .to_pylist()
            )
        if not present:
            raise dg.Failure("no simulated years in the warehouse: run workforce_simulation first")
        frame = reports.summary_frame(warehouse, con, present)
    out = reports_dir(warehouse)
    out.mkdir(parents=True, exist_ok=True)
    csv_path, png_path = out / "summary.csv", out / "summary.png"
    frame.to_csv(csv_path, index=False)
    png = reports.chart_png(frame)
    png_path.write_bytes(png)
    return dg.MaterializeResult(
        metadata={
            "years": present,
            "csv": dg.MetadataValue.path(str(csv_path)),
            "chart": dg.MetadataValue.path(str(png_path)),
            "summary": dg.MetadataValue.md(reports.summary_markdown(frame, png)),
            "summary_json": dg.MetadataValue.json(json.loads(frame.to_json(orient="records"))),
        }
    )
