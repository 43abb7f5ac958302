"""Energy full refresh benchmark: every month since the start date (monthly partitions),
three commodities, three sources, as one Dagster run; beside a floor measured in the same
process and run.

Rows written = staging + quarantine + canonical rows. Scenarios:
- floor: a plain DuckDB script writes those same rows (Arrow tables -> a new file), the
  least any pipeline must pay to land them;
- pipeline code, no Dagster: the same fetch, record rules, reconciliation and
  idempotent writes, called as plain functions (what the data work costs);
- Dagster, in-memory instance: the real job as one run, event log in memory;
- Dagster, SQLite instance: the real job as one run on the embedded default instance;
- Dagster, Postgres instance (the local server, a database of its own), without and with
  event batching (DAGSTER_EVENT_BATCH_SIZE=500, what HEADWATER_INSTANCE=postgres sets).
The difference between the last three is Dagster's per-partition bookkeeping: one
planned and one materialization event per asset and month.
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

import duckdb
import pandas as pd

from assets.energy.assets import TABLES


def _row_count(path: str) -> int:
    with duckdb.connect(path, read_only=True) as con:
        return sum(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES)


def floor(source_db: str, work: Path) -> float:
    with duckdb.connect(source_db, read_only=True) as con:
        tables = {t: con.sql(f"SELECT * FROM {t}").to_arrow_table() for t in TABLES}
    started = time.perf_counter()
    with duckdb.connect(str(work / "floor.duckdb")) as con:
        for name, arrow in tables.items():
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {name.split('.')[0]}")
            con.register("incoming", arrow)
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM incoming")
            con.unregister("incoming")
    return time.perf_counter() - started


def plain_functions(first: str, last: str, db: str) -> float:
    from datetime import date, timedelta

    from assets.energy.assets import CANONICAL_KEY, CONFIG, load_source
    from assets.energy.config import SOURCES
    from assets.energy.definitions import energy_source_resources
    from assets.energy.reconcile import reconcile
    from resources.warehouse import DuckDBWarehouse

    start = date.fromisoformat(first)
    end = (date.fromisoformat(last) + timedelta(days=32)).replace(day=1)  # after the last month
    wh, clients = DuckDBWarehouse(path=db), energy_source_resources()
    started = time.perf_counter()
    for source in SOURCES:
        load_source(wh, clients[source], source, start, end)
    staged = wh.query(
        " UNION ALL ".join(
            f"SELECT '{s}' AS source, commodity, price_date, value FROM staging.{s}_prices"
            for s in SOURCES
        )
    ).to_pandas()
    canonical = reconcile(staged, CONFIG.authority_order)
    wh.replace_rows(".".join(CANONICAL_KEY.path), canonical, "price_date", start, end)
    return time.perf_counter() - started


def dagster_run(first: str, last: str, db: str, instance_kind: str, work: Path) -> float:
    from bench.instances import instance_of
    from headwater.cli.runs import load_defs, run_job

    defs = load_defs()
    os.environ["HEADWATER_WAREHOUSE"] = db
    with instance_of(instance_kind, work) as instance:
        started = time.perf_counter()
        result = run_job(defs, "energy_daily_prices", (first, last), instance, log_level="WARNING")
        elapsed = time.perf_counter() - started
    if not result.success:
        raise SystemExit(f"energy full refresh failed ({instance_kind} instance)")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first", help="first month, YYYY-MM-01 (default: the first partition)")
    parser.add_argument("--last", help="last month, YYYY-MM-01 (default: the month in progress)")
    parser.add_argument("--skip-sqlite", action="store_true", help="skip the slowest scenario")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="headwater-bench-"))
    os.environ["HEADWATER_WAREHOUSE"] = str(work / "unused.duckdb")
    os.environ.setdefault("HEADWATER_SAMPLE_DIR", str(work / "sample"))
    from assets.energy.assets import monthly_partitions

    first = args.first or monthly_partitions.get_first_partition_key()
    last = args.last or monthly_partitions.get_last_partition_key()
    months = len(pd.date_range(first, last, freq="MS"))
    print(
        f"energy full refresh: {first} .. {last} ({months:,} monthly partitions x 4 assets), "
        "three commodities x three sources",
        flush=True,
    )

    # Warm the sample files (generated once a day) so no scenario pays for them.
    plain_functions(first, last, str(work / "warm.duckdb"))

    results = []
    seconds = plain_functions(first, last, str(work / "plain.duckdb"))
    rows = _row_count(str(work / "plain.duckdb"))
    results.append(("pipeline code, no Dagster", seconds))
    results.append(
        (
            "Dagster run, in-memory instance",
            dagster_run(first, last, str(work / "mem.duckdb"), "memory", work),
        )
    )
    if not args.skip_sqlite:
        for kind, name in (
            ("sqlite", "Dagster run, SQLite instance"),
            ("postgres", "Dagster run, Postgres instance"),
            ("postgres-batched", "Dagster run, Postgres, batch 500"),
        ):
            results.append(
                (name, dagster_run(first, last, str(work / f"{kind}.duckdb"), kind, work))
            )
    floor_s = floor(str(work / "plain.duckdb"), work)

    print(f"\n{'scenario':<36} {'wall s':>8} {'rows':>8} {'rows/s':>10} {'x floor':>8}")
    print(
        f"{'floor: plain DuckDB script':<36} {floor_s:>8.2f} {rows:>8,} {rows / floor_s:>10,.0f} {1:>8.1f}"
    )
    for name, s in results:
        print(f"{name:<36} {s:>8.2f} {rows:>8,} {rows / s:>10,.0f} {s / floor_s:>8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
