"""`headwater demo`: materialize the whole graph on sample data and summarize it."""

import argparse
import sys
import time

import dagster as dg

from headwater import settings
from headwater.cli.output import log_path
from headwater.cli.runs import (
    Interrupted,
    check_outcomes,
    failed_checks,
    load_defs,
    load_domains,
    materialized_assets,
    resolve_range,
    run_job,
)
from headwater.domain import DemoStep
from resources.warehouses import warehouse


def add_parser(sub) -> None:
    p = sub.add_parser(
        "demo",
        epilog=(
            "examples:\n"
            "  headwater demo\n"
            "  headwater demo --verbose     Dagster's and dbt's logs on the console too"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="materialize every asset on sample data and print a summary",
    )
    p.add_argument(
        "--verbose", action="store_true", help="also show Dagster's and dbt's logs on the console"
    )
    p.set_defaults(func=run)


def demo_plan() -> list[DemoStep]:
    """Every domain's demo plan, in the domains' order (definitions.DOMAINS)."""
    return [step for domain in load_domains() for step in domain.demo_plan]


def row_counts() -> list[tuple[str, int]]:
    """Rows of every table of the profile's warehouse (DuckDB or PostgreSQL)."""
    wh = warehouse()
    with wh.session() as con:
        tables = wh.query(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('information_schema', 'pg_catalog') ORDER BY 1, 2",
            con=con,
        ).to_pylist()
        return [
            (
                f"{t['table_schema']}.{t['table_name']}",
                wh.scalar(
                    f'SELECT count(*) FROM "{t["table_schema"]}"."{t["table_name"]}"', con=con
                ),
            )
            for t in tables
        ]


def per_schema(counts: list[tuple[str, int]]) -> list[tuple[str, int, int]]:
    """(schema, tables, rows) in schema order."""
    out: dict[str, list[int]] = {}
    for table, n in counts:
        entry = out.setdefault(table.split(".")[0], [0, 0])
        entry[0] += 1
        entry[1] += n
    return [(schema, t, n) for schema, (t, n) in out.items()]


def run(args) -> int:
    home = settings.ensure_dagster_home()
    defs = load_defs()
    instance = dg.DagsterInstance.get()
    assets: set[dg.AssetKey] = set()
    checks = {"passed": 0, "warned": 0, "failed": 0}
    failing: dict[dg.AssetCheckKey, tuple[str, str]] = {}
    failed_runs = []
    log = log_path("demo")
    print(f"Dagster's and dbt's logs: {log}", flush=True)
    for job_name, partition_range in demo_plan():
        partition_range = resolve_range(defs.resolve_job_def(job_name), partition_range)
        shown = f" [{partition_range[0]} .. {partition_range[1]}]" if partition_range else ""
        print(f"-> {job_name}{shown}", flush=True)
        started = time.monotonic()
        try:
            result = run_job(
                defs,
                job_name,
                partition_range,
                instance,
                tags={"headwater/trigger": "demo"},
                log_file=log,
                verbose=getattr(args, "verbose", False),
            )
        except Interrupted as stop:
            plan = [name for name, _ in demo_plan()]
            finished = plan[: plan.index(job_name)]
            print(
                f"demo: stopped by {stop.signal_name}; run {stop.run_id} ({job_name}) canceled; "
                f"finished: {', '.join(finished) or 'nothing'}; not run: "
                f"{', '.join(plan[plan.index(job_name) :])}",
                file=sys.stderr,
                flush=True,
            )
            return stop.exit_code
        outcome = "ok" if result.success else "FAILED"
        print(
            f"   {outcome} in {time.monotonic() - started:.1f} s (run {result.run_id})", flush=True
        )
        if not result.success:
            failed_runs.append(job_name)
        assets |= materialized_assets(result)
        for k, v in check_outcomes(result).items():
            checks[k] += v
        failing |= failed_checks(result, defs)

    print("\nHeadwater demo summary")
    print(f"  assets materialized: {len(assets)}")
    print(
        f"  checks: {checks['passed']} passed, {checks['warned']} warned, {checks['failed']} failed"
    )
    for key, (severity, reason) in sorted(failing.items(), key=lambda kv: kv[0].to_user_string()):
        print(f"    {severity:<5} {key.asset_key.to_user_string()} {key.name}: {reason}")
    counts = row_counts()
    print("  rows per schema (every table's count is in the log file):")
    for schema, tables, rows in per_schema(counts):
        print(f"    {schema:<18} {tables:>3} tables {rows:>12,} rows")
    with open(log, "a") as f:
        f.write("rows per table:\n")
        f.writelines(f"  {table:<48} {n:>10,}\n" for table, n in counts)
    if settings.distributed():
        print(f"  warehouse: Postgres {warehouse().where}")
    else:
        print(f"  warehouse: {settings.warehouse_path()}")
    kind = (
        f"Postgres {settings.postgres_target()}"
        if settings.instance_kind() == "postgres"
        else "SQLite"
    )
    print(f"  instance:  {home} ({kind})")
    print("  UI:        make dev, then open http://127.0.0.1:3000")
    if failed_runs:
        print(f"\nFAILED: {', '.join(failed_runs)} (see {log}, or the runs in the UI)")
        return 1
    return 0
