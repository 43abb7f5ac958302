"""`headwater simulate`: run the multi-year workforce simulation (README, "Workforce simulation").

Runs the workforce jobs in this process, recorded in the Dagster instance (so they
show in the UI): workforce_inputs when the first simulation year is in the range
(or the baseline was never built), then the years as one workforce_simulation run
over the partition range, then workforce_reports. --dry-run validates the inputs
and prints the plan without running anything; --resume runs only the years the
instance does not show as materialized (missing or failed).
"""

import argparse
import sys
import time
from pathlib import Path

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


def add_parser(sub) -> None:
    p = sub.add_parser(
        "simulate",
        epilog=(
            "examples:\n"
            "  headwater simulate --start-year 2025 --end-year 2029\n"
            "  headwater simulate --start-year 2025 --end-year 2029 --dry-run\n"
            "  headwater simulate --resume\n"
            "  headwater simulate --census data/my_census.parquet --seed 7"
        ),
        help="run the multi-year workforce simulation",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--start-year", type=int, help="first year to run (default: workforce.start_year)"
    )
    p.add_argument("--end-year", type=int, help="last year to run (default: workforce.end_year)")
    p.add_argument("--census", type=Path, help="census CSV or Parquet (default: generated sample)")
    p.add_argument("--config", type=Path, help="settings file (default: config/headwater.yaml)")
    p.add_argument("--seed", type=int, help="random seed (default: workforce.random_seed)")
    p.add_argument("--dry-run", action="store_true", help="validate and print the plan only")
    p.add_argument("--resume", action="store_true", help="run only missing or failed years")
    p.add_argument("--verbose", action="store_true", help="show Dagster's event log")
    p.set_defaults(func=run)


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> int:
    print(f"simulate: {message}", file=sys.stderr, flush=True)
    return code


def run(args) -> int:
    from assets.workforce.config import load_workforce_config
    from headwater.config import ConfigError

    try:
        cfg = load_workforce_config(
            args.config,
            census_path=str(args.census.resolve()) if args.census else None,
            random_seed=args.seed,
        )
    except ConfigError as exc:
        return _fail(str(exc))
    start = args.start_year if args.start_year is not None else cfg.start_year
    end = args.end_year if args.end_year is not None else cfg.end_year
    if start > end:
        return _fail(f"--start-year {start} is after --end-year {end}")
    if start < cfg.start_year:
        return _fail(
            f"--start-year {start} is before workforce.start_year {cfg.start_year}, the "
            "first simulation year (it starts from the census)"
        )
    if end > cfg.end_year:
        return _fail(
            f"--end-year {end} is after workforce.end_year {cfg.end_year}; raise "
            "workforce.end_year in the settings file to simulate further"
        )
    try:
        census = _census_summary(cfg)
    except (OSError, ValueError) as exc:
        # One line, whatever the reader's message held: the file errors name the file.
        return _fail("census: " + " ".join(str(exc).splitlines()))

    import dagster as dg

    from assets.workforce.definitions import build_defs
    from headwater import settings
    from headwater.cli.runs import load_defs

    settings.export_warehouse_env()
    instance = dg.DagsterInstance.get()

    if args.config is None:
        # The code location's own jobs: runs are recorded as the UI's own (headwater.cli.launch).
        defs = load_defs()
    else:
        # Another settings file may name other years: this domain's jobs built for it, on
        # the warehouse the environment names now.
        defs = dg.Definitions.merge(
            build_defs(args.config),
            dg.Definitions(
                resources={"warehouse": _warehouse()},
                executor=dg.in_process_executor,  # as resources/definitions.py has it
            ),
        )
    years = list(range(start, end + 1))
    status = _year_status(instance, defs, years + ([start - 1] if start > cfg.start_year else []))
    run_years = [y for y in years if status.get(y) != "MATERIALIZED"] if args.resume else years
    baseline_built = (
        _has_materialization(instance, ["workforce", "int_baseline_workforce"])
        and _baseline_in_warehouse()
    )
    run_inputs = (not args.resume and start == cfg.start_year) or not baseline_built
    if run_years and run_years[0] > cfg.start_year:
        prior = run_years[0] - 1
        if status.get(prior) != "MATERIALIZED":
            # The first year not materialized since the configured start: from there.
            earlier = _year_status(instance, defs, list(range(cfg.start_year, prior + 1)))
            first = next(
                y for y in range(cfg.start_year, prior + 1) if earlier.get(y) != "MATERIALIZED"
            )
            return _fail(
                f"year {run_years[0]} starts from the end state of year {prior}, which has not "
                f"been materialized: run year {prior} first (headwater simulate --start-year "
                f"{first} --end-year {prior})",
                EXIT_FAILED,
            )

    _print_plan(args, cfg, census, years, run_years, run_inputs, status)
    if args.dry_run:
        print("dry run: nothing was run")
        return 0
    if not run_years:
        print("every year is already materialized; nothing to resume")
        return 0
    return _execute(args, cfg, instance, defs, run_years, run_inputs)


def _census_summary(cfg) -> dict:
    """What the census run would load and quarantine. A file that cannot be a census
    raises CensusFileError (a ValueError) with one line naming the file."""
    from assets.workforce.assets import SAMPLE_CENSUS_SEED, census_date
    from assets.workforce.census import apply_census_rules, generate_census, read_census_file

    if cfg.census.path:
        path = Path(cfg.census.path).expanduser()
        raw, source = read_census_file(path, columns=cfg.census.columns), str(path)
    else:
        raw = generate_census(cfg.census.sample_size, census_date(cfg), seed=SAMPLE_CENSUS_SEED)
        source = f"generated sample of {cfg.census.sample_size} employees"
    result = apply_census_rules(
        raw,
        census_date(cfg),
        cfg.levels,
        origin=source,
        min_age_at_hire=cfg.census.min_age_at_hire,
    )
    by_rule: dict[str, int] = {}
    for r in result.rejections:
        by_rule[r.rule_id] = by_rule.get(r.rule_id, 0) + 1
    if result.valid.num_rows == 0:
        first = result.rejections[0]
        raise ValueError(
            f"{source}: no valid rows ({by_rule}), e.g. {first.origin}: {first.rule_id} "
            f"{first.reason}"
        )
    return {
        "source": source,
        "rows": result.rows_in,
        "valid": result.valid.num_rows,
        "quarantined": len(result.rejections),
        "by_rule": by_rule,
    }


NOT_IN_WAREHOUSE = "NOT IN WH"  # materialized per the instance, but its rows are gone


def _year_status(instance, defs, years: list[int]) -> dict[int, str]:
    """Each year's status in the instance, corrected by the warehouse: a year recorded as
    materialized whose rows are not in the warehouse (a new or restored file) is
    NOT_IN_WAREHOUSE, to be run again."""
    from assets.workforce.assets import table_key
    from assets.workforce.definitions import SIMULATION_JOB

    partitions = defs.resolve_job_def(SIMULATION_JOB).partitions_def
    keys = [str(y) for y in years if str(y) in set(partitions.get_partition_keys())]
    statuses = (
        instance.get_status_by_partition(table_key("fct_workforce_snapshot"), keys, partitions)
        or {}
    )
    status = {int(k): (v.value if v is not None else "MISSING") for k, v in statuses.items()}
    stored = _years_in_warehouse()
    return {
        y: NOT_IN_WAREHOUSE if s == "MATERIALIZED" and y not in stored else s
        for y, s in status.items()
    }


def _warehouse():
    """The profile's warehouse (HEADWATER_PROFILE): DuckDB's file or PostgreSQL's database,
    as the environment names it now."""
    from resources.warehouses import warehouse

    return warehouse()


def _stored_warehouse():
    """The warehouse, or None for a DuckDB file that is not there yet (reading it would
    create it)."""
    from resources.warehouse import DuckDBWarehouse

    wh = _warehouse()
    if isinstance(wh, DuckDBWarehouse) and not Path(wh.path).exists():
        return None
    return wh


def _warehouse_name() -> str:
    """The DuckDB file, or host:port/database of the PostgreSQL warehouse."""
    wh = _warehouse()
    return str(getattr(wh, "path", None) or wh.where)


def _years_in_warehouse() -> set[int]:
    """Simulation years with rows in workforce.fct_workforce_snapshot."""
    wh = _stored_warehouse()
    if wh is None:
        return set()
    with wh.session() as con:
        if not wh.table_exists("workforce.fct_workforce_snapshot", con):
            return set()
        rows = wh.query(
            "SELECT DISTINCT simulation_year FROM workforce.fct_workforce_snapshot", con=con
        )
    return {int(y) for y in rows.column(0).to_pylist()}


def _baseline_in_warehouse() -> bool:
    wh = _stored_warehouse()
    return wh is not None and wh.table_exists("workforce.int_baseline_workforce")


def _has_materialization(instance, key: list[str]) -> bool:
    import dagster as dg

    return instance.get_latest_materialization_event(dg.AssetKey(key)) is not None


def _print_plan(args, cfg, census, years, run_years, run_inputs, status) -> None:
    from assets.workforce.definitions import INPUTS_JOB, REPORTS_JOB, SIMULATION_JOB
    from assets.workforce.stages import YEAR_STEPS, YEARLY_STAGES
    from headwater import settings

    print("Workforce simulation plan" + (" (dry run)" if args.dry_run else ""))
    print(f"  settings:   {args.config or settings.config_path()} (valid)")
    print(f"  warehouse:  {_warehouse_name()}")
    print(
        f"  census:     {census['source']}: {census['rows']} rows, {census['valid']} valid, "
        f"{census['quarantined']} to quarantine {census['by_rule'] or ''}".rstrip()
    )
    print(f"  seed:       {cfg.random_seed}   growth target: {cfg.target_growth_rate:.2%}")
    print(
        f"  years:      {years[0]}..{years[-1]}"
        + (f" (resume: {', '.join(map(str, run_years)) or 'none'} to run)" if args.resume else "")
    )
    print("  runs:")
    if run_inputs:
        print(
            f"    1. {INPUTS_JOB}: census (rules, quarantine), assumptions, "
            "stg_census_data, int_baseline_workforce"
        )
    if run_years:
        print(
            f"    {2 if run_inputs else 1}. {SIMULATION_JOB} [{run_years[0]}..{run_years[-1]}]: "
            "one run, years in order, one dbt build per year"
            + (
                ""
                if run_years == list(range(run_years[0], run_years[-1] + 1))
                else " (years already materialized in between are rebuilt)"
            )
        )
        print(f"    {3 if run_inputs else 2}. {REPORTS_JOB}: summary CSV + chart")
    width = max(len(s) for s in YEAR_STEPS)
    print("  each year:")
    for stage, models in YEARLY_STAGES:
        print(f"    {stage:<{width}}  {', '.join(models)}")
    print(
        f"    {'checks':<{width}}  W-C01..W-C08 (blocking ones stop the run before the next year)"
    )
    print(f"    {'report':<{width}}  reports/workforce/year_<year>.json")
    header = "  year  status        " + "  ".join(YEAR_STEPS)
    print(header)
    for y in years:
        todo = y in run_years
        marks = "  ".join(("x" if todo else "-").center(len(s)) for s in YEAR_STEPS)
        print(f"  {y}  {status.get(y, 'MISSING'):<12}  {marks}")
    gone = [y for y in years if status.get(y) == NOT_IN_WAREHOUSE]
    if gone:
        print(
            f"  {NOT_IN_WAREHOUSE}: {', '.join(map(str, gone))} materialized per the instance "
            f"but missing from the warehouse {_warehouse_name()}: run again"
        )


def _execute(args, cfg, instance, defs, run_years, run_inputs) -> int:
    from assets.workforce import progress
    from assets.workforce.definitions import INPUTS_JOB, REPORTS_JOB, SIMULATION_JOB
    from headwater.cli.output import log_path
    from headwater.cli.runs import Interrupted, failure_line, run_job

    run_config = {
        "resources": {
            "workforce_settings": {
                "config": {
                    "config_path": str(args.config) if args.config else None,
                    "census_path": cfg.census.path,
                    "random_seed": cfg.random_seed,
                }
            }
        },
    }
    started = time.monotonic()
    failure: dict = {}

    def show(event: progress.ProgressEvent) -> None:
        elapsed = time.monotonic() - started
        if event.kind == "year_done":
            done_years = event.index
            per_year = (elapsed - inputs_seconds) / done_years
            eta = per_year * (event.total - done_years)
            print(
                f"  year {event.year} ({event.index}/{event.total}) done in {event.seconds:.1f} s"
                f" | elapsed {elapsed:.1f} s | ETA {eta:.1f} s",
                file=console,
                flush=True,
            )
        elif event.kind == "stage_done" and args.verbose:
            print(
                f"    {event.year} {event.stage}: {event.seconds:.2f} s", file=console, flush=True
            )
        elif event.kind == "failed":
            failure.update(year=event.year, stage=event.stage, message=event.message)

    jobs = []
    if run_inputs:
        jobs.append((INPUTS_JOB, None))
    jobs.append((SIMULATION_JOB, (str(run_years[0]), str(run_years[-1]))))
    jobs.append((REPORTS_JOB, None))
    inputs_seconds = 0.0
    console = sys.stdout  # progress comes during a run, while Dagster's output goes to the log
    log = log_path("simulate")
    print(f"Dagster's and dbt's logs: {log}", flush=True)
    with progress.listen(show):
        for job_name, years in jobs:
            if years:
                print(f"-> {job_name} [{years[0]}..{years[1]}]", flush=True)
            else:
                print(f"-> {job_name}", flush=True)
            job_started = time.monotonic()
            try:
                result = run_job(
                    defs,
                    job_name,
                    years,
                    instance,
                    tags={"headwater/trigger": "simulate"},
                    run_config=run_config,
                    log_file=log,
                    verbose=args.verbose,
                )
            except Interrupted as stop:
                done = _finished(instance, stop.run_id, run_years)
                todo = [y for y in run_years if y not in done]
                print(
                    f"simulate: stopped by {stop.signal_name}; run {stop.run_id} ({job_name}) "
                    f"canceled; finished: {', '.join(map(str, done)) or 'no year'}; not run: "
                    f"{', '.join(map(str, todo)) or 'none'}"
                    + (" (resume with --resume)" if todo else ""),
                    file=sys.stderr,
                    flush=True,
                )
                return stop.exit_code
            seconds = time.monotonic() - job_started
            if job_name == INPUTS_JOB:
                inputs_seconds = seconds
            if not result.success:
                if failure:
                    where = f"year {failure['year']}, stage {failure['stage']}"
                    detail = failure["message"]
                else:
                    where, detail = f"job {job_name}", failure_line(result)
                done = _finished(instance, result.run_id, run_years)
                todo = [y for y in run_years if y not in done]
                after = (
                    f"years {', '.join(map(str, done))} are done: after fixing the cause, "
                    f"--resume runs {todo[0]}..{todo[-1]}"
                    if done and todo
                    else "fix the cause and run the command again"
                )
                return _fail(
                    f"FAILED at {where}: {detail} (run {result.run_id}; {after})", EXIT_FAILED
                )
            print(f"   ok in {seconds:.1f} s (run {result.run_id})", flush=True)
    print(f"done: years {run_years[0]}..{run_years[-1]} in {time.monotonic() - started:.1f} s")
    return 0


def _finished(instance, run_id: str, years: list[int]) -> list[int]:
    """Which of `years` the run `run_id` materialized (not an earlier run: after a first
    simulation, every year has been materialized once)."""
    import dagster as dg

    from assets.workforce.assets import table_key

    key = table_key("fct_workforce_snapshot")
    done = {
        entry.dagster_event.partition
        for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
        if entry.dagster_event.asset_key == key
    }
    return sorted(y for y in years if str(y) in done)
