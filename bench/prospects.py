"""Prospects full refresh benchmark: ten draft classes (2016-2025, about 30,000 prospects,
five sources, 50 files) from the sample files to the materialized views; beside a floor
measured in the same run.

Records = the data rows of the 50 files (what the parsers return); the floor's staging rows
and every scenario's staging + quarantine rows must equal it. Scenarios:
- floor: DuckDB alone reads the same files (read_csv, read_json with the players and
  injuries lists unnested) into five staging tables and joins NFL and CFR on cfb_id into a
  core table, in a new file: no rules, no reconciliation, no marts;
- pipeline code, no Dagster: the same extracts, record rules and staging writes, the
  reconciliation and canonical writes, called as plain functions, then
  `dbt build --select path:models/prospects` (the materialized views and their tests);
- Dagster, in-memory instance: `prospects_refresh` as one run over the ten draft years,
  then `prospects_marts_refresh`;
- Dagster, SQLite instance: the same two runs on the embedded default instance.
Each scenario runs in a new process with its own warehouse and settings file (the draft
years are read when the project is imported); what is timed starts after the imports and
after dbt has parsed the project for the scenario's warehouse (as `make setup` does for the
configured one: a refresh reuses that parse). The sample files are generated once, before
anything is timed.

Target (the SQLite instance): under 30 s, within 5x of the floor.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import yaml

from assets.prospects.sample_data import generate_sample_data, sample_paths
from assets.prospects.wire_formats import PARSERS, SOURCES
from headwater import settings

TARGET_S = 30.0
TARGET_X_FLOOR = 5.0
SCENARIOS = {
    "plain": "pipeline code, no Dagster (with dbt)",
    "memory": "Dagster runs, in-memory instance",
    "sqlite": "Dagster runs, SQLite instance",
    "noop": "Dagster alone: no-op steps, SQLite",
}
JUDGED = "sqlite"

# The floor's staging tables: each source's files as DuckDB reads them (types sniffed). CFR
# has an over-header line; NFL and CFR each have a row with a field too many or too few,
# kept (strict_mode off, null padding) so no row is lost; the JSON lists are unnested.
FLOOR_STAGING = {
    "nfl": "SELECT * FROM read_csv($files, nullstr = 'NA', null_padding = true, "
    "strict_mode = false, filename = true)",
    "cfr": "SELECT * FROM read_csv($files, skip = 1, null_padding = true, strict_mode = false, "
    "union_by_name = true, filename = true)",
    "pff": "SELECT * FROM read_csv($files, filename = true)",
    "yahoo": "SELECT unnest(p), filename FROM (SELECT unnest(players) AS p, filename "
    "FROM read_json($files, filename = true))",
    "espn": "SELECT unnest(i), filename FROM (SELECT unnest(injuries) AS i, filename "
    "FROM read_json($files, filename = true))",
}
FLOOR_CORE = """
CREATE TABLE canonical.prospect_core AS
SELECT coalesce(n.cfb_id, c."Player-additional") AS cfb_id,
       coalesce(n.draft_year, c.draft_year) AS draft_year,
       coalesce(n.player_name, c."Player") AS name,
       n.pos AS position,
       coalesce(n.school, *COLUMNS('^(School|Team)$')) AS school,  -- CFR: Team from 2023
       n.pfr_id, n.draft_team, n.draft_round, n.draft_ovr AS draft_pick,
       n.ht, n.wt, n.forty, n.bench, n.vertical, n.broad_jump, n.cone, n.shuttle,
       c."G" AS games
FROM staging.prospects_nfl AS n
FULL JOIN staging.prospects_cfr AS c ON n.cfb_id = c."Player-additional"
"""


def _files(sample: Path, years: list[int], source: str) -> list[str]:
    return [str(sample_paths(sample, year)[source]) for year in years]


def count_records(sample: Path, years: list[int]) -> int:
    """The data rows of the files, as the project's parsers count them (not timed)."""
    return sum(len(PARSERS[s](Path(f))) for s in SOURCES for f in _files(sample, years, s))


def floor(sample: Path, years: list[int], db: Path) -> tuple[float, int]:
    """Seconds for DuckDB alone to land the files in staging tables and a joined core
    table in a new file, and the staging rows it wrote."""
    started = time.perf_counter()
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE SCHEMA staging")
        con.execute("CREATE SCHEMA canonical")
        for source, select in FLOOR_STAGING.items():
            # The draft year from the file name, as the pipeline's staging has it.
            con.execute(
                f"CREATE TABLE staging.prospects_{source} AS SELECT *, "
                rf"regexp_extract(filename, '_(\d{{4}})\.', 1)::INTEGER AS draft_year "
                f"FROM ({select})",
                {"files": _files(sample, years, source)},
            )
        con.execute(FLOOR_CORE)
    elapsed = time.perf_counter() - started
    with duckdb.connect(str(db), read_only=True) as con:
        rows = sum(
            con.execute(f"SELECT count(*) FROM staging.prospects_{s}").fetchone()[0]
            for s in SOURCES
        )
    return elapsed, rows


# ---- the scenarios, each in its own process ------------------------------------------------


def _plain(work: Path) -> dict[str, float]:
    """Staging, reconciliation and canonical writes as plain functions, then dbt."""
    from assets.prospects.canonical import OUTPUTS, read_staging
    from assets.prospects.reconcile import TABLES as RECONCILED
    from assets.prospects.reconcile import reconcile
    from assets.prospects.sources import ProspectSource
    from assets.prospects.staging import CONFIG, gate_problem, publish, read_extract, to_arrow
    from resources.warehouse import DuckDBWarehouse

    warehouse = DuckDBWarehouse(path=str(settings.warehouse_path()))
    clients = {s: ProspectSource(source=s, sample_years=CONFIG.draft_years) for s in SOURCES}

    t0 = time.perf_counter()
    for year in CONFIG.draft_years:
        for source in SOURCES:
            load = read_extract(clients[source].extract(year))
            problem = gate_problem(load, CONFIG.min_loaded_share[source])
            if problem:
                raise SystemExit(problem)
            publish(warehouse, load)
    t1 = time.perf_counter()
    for year in CONFIG.draft_years:
        out = reconcile(
            read_staging(warehouse, year),
            year,
            authority=CONFIG.authority,
            school_aliases=CONFIG.school_aliases,
        )
        warehouse.replace_many(
            [
                (f"canonical.{t}", to_arrow(getattr(out, a), RECONCILED[a]), "draft_year", year, year + 1)
                for t, a in OUTPUTS.items()
            ]
        )  # fmt: skip
    t2 = time.perf_counter()
    dbt_s = _dbt_alone(work / "dbt_plain")
    t3 = time.perf_counter()
    return {"wall": t3 - t0, "staging": t1 - t0, "reconcile": t2 - t1, "dbt": dbt_s}


def _dbt_alone(target: Path) -> float:
    """Seconds for `dbt build --select path:models/prospects` (the three materialized views
    and their tests, the tests on the canonical tables) on this scenario's warehouse, in a
    subprocess started from the warehouse's partial parse, as the marts step runs it."""
    from resources.dbt import seed_target
    from resources.warehouse import DuckDBWarehouse

    seed_target(target, DuckDBWarehouse(path=str(settings.warehouse_path())).dbt_env())
    dbt = [
        str(settings.dbt_executable()),
        "build",
        "--select",
        "path:models/prospects",
        "--project-dir",
        str(settings.DBT_PROJECT_DIR),
        "--profiles-dir",
        str(settings.DBT_PROJECT_DIR),
        "--target-path",
        str(target),
        "--log-path",
        str(target / "logs"),
    ]
    started = time.perf_counter()
    done = subprocess.run(dbt, capture_output=True, text=True, cwd=settings.DBT_PROJECT_DIR)
    elapsed = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"dbt build failed:\n{done.stdout[-3000:]}")
    return elapsed


def _step_seconds(instance, run_id: str) -> dict[str, float]:
    """Seconds from each step's start to its success, from the run's event log."""
    import dagster as dg

    kinds = {dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS}
    started, seconds = {}, {}
    for entry in instance.all_logs(run_id, of_type=kinds):
        if entry.dagster_event.event_type == dg.DagsterEventType.STEP_START:
            started[entry.step_key] = entry.timestamp
        else:
            seconds[entry.step_key] = entry.timestamp - started[entry.step_key]
    return seconds


def _noop_defs():
    """The two jobs over the same assets, partitions, dependencies and checks, with steps
    that do no work: each reports its assets materialized (every partition of the run)
    and its checks passed. What Dagster itself costs for the runs, with nothing to do."""
    import dagster as dg

    from assets.prospects.canonical import prospects_reconcile
    from assets.prospects.daily import marts_job, refresh_job
    from assets.prospects.marts import prospects_marts
    from assets.prospects.staging import staging_assets
    from resources.warehouse import DuckDBWarehouse

    def mirror(real: dg.AssetsDefinition) -> dg.AssetsDefinition:
        @dg.multi_asset(
            specs=[spec.replace_attributes(partitions_def=None) for spec in real.specs],
            # dbt's source tests check the canonical tables, upstream of the marts (as
            # dagster-dbt's own decorator allows).
            allow_arbitrary_check_specs=True,
            check_specs=list(real.check_specs),
            partitions_def=real.partitions_def,
            backfill_policy=real.backfill_policy,
            name=real.node_def.name,
            required_resource_keys={"warehouse"},  # set up for each step, as in the real ones
        )
        def _noop(context: dg.AssetExecutionContext):
            for spec in real.check_specs:
                yield dg.AssetCheckResult(
                    asset_key=spec.asset_key, check_name=spec.name, passed=True
                )
            for spec in real.specs:
                yield dg.MaterializeResult(asset_key=spec.key)

        return _noop

    assets = [mirror(a) for a in [*staging_assets, prospects_reconcile, prospects_marts]]
    return dg.Definitions(
        assets=assets,
        jobs=[refresh_job, marts_job],
        resources={"warehouse": DuckDBWarehouse()},
        executor=dg.in_process_executor,  # as resources/definitions.py has it
    )


def _dagster(kind: str, first: int, last: int, work: Path) -> dict[str, float]:
    """The refresh over the ten years as one run, then the marts run, as the CLI runs them.
    The SQLite scenario then times dbt's step alone on the warehouse it built."""
    import dagster as dg

    from headwater.cli.runs import load_defs, run_job

    if kind == "memory":
        instance = dg.DagsterInstance.ephemeral()
    else:
        instance = dg.DagsterInstance.from_config(os.environ["DAGSTER_HOME"])
    defs = _noop_defs() if kind == "noop" else load_defs()
    parts = {"staging": 0.0, "reconcile": 0.0, "dbt": 0.0}
    recorded = {"materializations": 0, "checks": 0}
    started = time.perf_counter()
    for job, partition_range in [
        ("prospects_refresh", (str(first), str(last))),
        ("prospects_marts_refresh", None),
    ]:
        result = run_job(defs, job, partition_range, instance, log_level="WARNING")
        if not result.success:
            raise SystemExit(f"{job} failed")
        for step, seconds in _step_seconds(instance, result.run_id).items():
            part = "dbt" if "dbt" in step else "reconcile" if "reconcile" in step else "staging"
            parts[part] += seconds
        for event in result.all_events:
            recorded["materializations"] += event.is_step_materialization
            recorded["checks"] += event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    wall = time.perf_counter() - started
    dbt_alone = _dbt_alone(work / "dbt_alone") if kind == "sqlite" else None
    return {"wall": wall, **parts, **recorded, "dbt_alone": dbt_alone}


def _landed(db: str) -> dict[str, int]:
    """Staging + quarantine rows, canonical prospects and materialized views written."""
    with duckdb.connect(db, read_only=True) as con:
        records = sum(
            con.execute(f"SELECT count(*) FROM {schema}.prospects_{s}").fetchone()[0]
            for schema in ("staging", "quarantine")
            for s in SOURCES
        )
        prospects = con.execute("SELECT count(*) FROM canonical.prospect_core").fetchone()[0]
        views = con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'prospects_marts' AND table_name LIKE 'mv_%'"
        ).fetchone()[0]
    return {"records": records, "prospects": prospects, "views": views}


def _parse_dbt(work: Path) -> None:
    """dbt's parse of the project for this scenario's warehouse, before the clock starts:
    what `make setup` leaves for the configured warehouse (a daily refresh never parses the
    whole project again), kept where the marts step looks for it (resources.dbt)."""
    from resources.dbt import dbt_environment, keep_parse
    from resources.warehouse import DuckDBWarehouse

    env = DuckDBWarehouse(path=str(settings.warehouse_path())).dbt_env()
    target = work / "dbt_parse"
    with dbt_environment(**env):
        subprocess.run(
            [str(settings.dbt_executable()), "parse", "--quiet", "--target-path", str(target)],
            cwd=settings.DBT_PROJECT_DIR, check=True,
        )  # fmt: skip
    keep_parse(target, env)


def _child(scenario: str, first: int, last: int, work: Path) -> None:
    """Run in the scenario's process: time it and print one JSON line."""
    import warnings

    warnings.filterwarnings("ignore")
    _parse_dbt(work)
    times = _plain(work) if scenario == "plain" else _dagster(scenario, first, last, work)
    landed = {} if scenario == "noop" else _landed(str(settings.warehouse_path()))
    print(json.dumps(times | landed))


def run_scenario(scenario: str, first: int, last: int, work: Path, config: Path) -> dict:
    own = work / scenario
    own.mkdir()
    home = own / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((settings.REPO_ROOT / "dagster.yaml").read_text())
    env = os.environ | {
        "HEADWATER_CONFIG": str(config),
        "HEADWATER_MODE": "sample",
        "HEADWATER_SAMPLE_DIR": str(work / "sample"),
        "HEADWATER_WAREHOUSE": str(own / "warehouse.duckdb"),
        "HEADWATER_DATA_DIR": str(own / "data"),
        "DAGSTER_HOME": str(home),
    }
    argv = ["--child", scenario, "--first", str(first), "--last", str(last), "--work", str(own)]
    done = subprocess.run(
        [sys.executable, "-m", "bench.prospects", *argv],
        env=env,
        cwd=settings.REPO_ROOT,
        capture_output=True,
        text=True,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        raise SystemExit(
            f"{SCENARIOS[scenario]} failed:\n{done.stdout[-2000:]}{done.stderr[-4000:]}"
        )
    return json.loads(lines[-1])


def settings_file(work: Path, years: list[int]) -> Path:
    """The project's settings with prospects.draft_years set to `years`."""
    data = yaml.safe_load(settings.config_path().read_text()) or {}
    data.setdefault("prospects", {})["draft_years"] = years
    path = work / "headwater.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first", type=int, default=2016, help="first draft year (2016)")
    parser.add_argument("--last", type=int, default=2025, help="last draft year (2025)")
    parser.add_argument(
        "--skip-sqlite", action="store_true", help="skip the SQLite-instance scenarios"
    )
    parser.add_argument("--child", choices=SCENARIOS, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.first, args.last, args.work)
        return 0

    years = list(range(args.first, args.last + 1))
    work = Path(tempfile.mkdtemp(prefix="headwater-bench-prospects-"))
    sample = work / "sample" / "prospects"
    generate_sample_data(sample, years)
    records = count_records(sample, years)
    config = settings_file(work, years)
    print(
        f"prospects full refresh: draft years {args.first} .. {args.last} ({len(years)} "
        f"partitions), five sources, {len(years) * len(SOURCES)} files, {records:,} records",
        flush=True,
    )

    results = {}
    for scenario in SCENARIOS:
        if scenario in ("sqlite", "noop") and args.skip_sqlite:
            continue
        result = results[scenario] = run_scenario(scenario, args.first, args.last, work, config)
        if scenario != "noop" and (result["records"] != records or result["views"] != 3):
            raise SystemExit(
                f"{SCENARIOS[scenario]}: {result['records']:,} staging + quarantine rows and "
                f"{result['views']} materialized views; expected {records:,} and 3"
            )
    floor_s, floor_rows = floor(sample, years, work / "floor.duckdb")
    if floor_rows != records:
        raise SystemExit(f"floor: {floor_rows:,} staging rows; expected {records:,}")

    noop = results.pop("noop", None)
    prospects = ", ".join(f"{n:,}" for n in sorted({r["prospects"] for r in results.values()}))
    print(f"canonical prospects: {prospects}")
    rows = [("floor: DuckDB alone, no rules", floor_s)]
    rows += [(SCENARIOS[scenario], r["wall"]) for scenario, r in results.items()]
    print(f"\n{'scenario':<40} {'wall s':>8} {'records':>8} {'records/s':>10} {'x floor':>8}")
    for name, s in rows:
        print(f"{name:<40} {s:>8.2f} {records:>8,} {records / s:>10,.0f} {s / floor_s:>8.1f}")

    # Step time includes the events a step writes (a materialization per asset and year);
    # "other" is what the runs spend outside steps (run creation, planned events, plan).
    print(
        f"\n{'where the time goes, s':<40} {'staging':>8} {'reconcile':>10} {'dbt':>8} {'other':>8}"
    )
    for scenario, r in results.items():
        other = r["wall"] - r["staging"] - r["reconcile"] - r["dbt"]
        parts = f"{r['staging']:>8.2f} {r['reconcile']:>10.2f} {r['dbt']:>8.2f} {other:>8.2f}"
        print(f"{SCENARIOS[scenario]:<40} {parts}")

    if JUDGED in results:
        s = results[JUDGED]["wall"]
        met = s < TARGET_S and s / floor_s <= TARGET_X_FLOOR
        print(
            f"\ntarget ({SCENARIOS[JUDGED]}): under {TARGET_S:.0f} s and within "
            f"{TARGET_X_FLOOR:.0f}x the floor: {s:.1f} s, {s / floor_s:.1f}x: "
            f"{'met' if met else 'missed'}"
        )
    if JUDGED in results and noop is not None:
        # What the tools cost before any record is read: the same two runs with steps
        # that do nothing, and the marts' dbt build alone on the finished tables.
        dagster_s, dbt_s = noop["wall"], results[JUDGED]["dbt_alone"]
        for name, r in [(SCENARIOS["noop"], noop), (SCENARIOS[JUDGED], results[JUDGED])]:
            print(
                f"{name}: {r['materializations']} materializations, "
                f"{r['checks']} check evaluations recorded"
            )
        print(
            f"\nfixed costs of the tools, s: Dagster alone (the two runs, no-op steps, SQLite) "
            f"{dagster_s:.2f} + dbt alone (`dbt build --select path:models/prospects`) "
            f"{dbt_s:.2f} = {dagster_s + dbt_s:.2f}, {(dagster_s + dbt_s) / floor_s:.1f}x the "
            f"floor; {TARGET_X_FLOOR:.0f}x the floor is {TARGET_X_FLOOR * floor_s:.2f}"
        )
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
