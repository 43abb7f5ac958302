"""Market ingest benchmark: Databento trades from sample `.dbn.zst` files through validation,
transformation and load, as one Dagster run, for about 1 million and 5 million records;
beside a floor measured in the same run.

Scenarios, each in a new process with its own warehouse (what is timed starts after the
imports; the instrument definitions of the month are loaded before the clock starts):
- floor: DuckDB loading the same records with no validation: each file decoded with
  databento's reader (`to_ndarray(count=...)`), the arrays handed to DuckDB as Arrow and
  inserted into one table;
- Dagster, SQLite instance: the `market_trades` job as one run over the days (the
  staging, quarantine and canonical tables, the checks);
- decode only (a ceiling, not a pipeline): the floor's reading alone, each file decoded in
  chunks and made Arrow, nothing written. No pipeline that loads the records can be
  faster than this, nor than the floor.
Peak RSS is the process's own high-water mark (ru_maxrss), imports included. The sample
files are generated once, before anything is timed.

Targets: at least 1.5 million records/s end to end, within 3x the floor, peak RSS under
1.5 GB and no larger for 5M than for 1M.
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

TARGET_RATE = 1_500_000
TARGET_X_FLOOR = 3.0
TARGET_RSS_MB = 1536
SCHEMA = "trades"
FIRST_DAY = date(2026, 11, 2)
# Days of trades for about 1M and 5M records (three roots: about 355,000 trades a weekday,
# fewer at weekends).
SIZES = {"1M": 3, "5M": 20}


def _days(n: int) -> list[date]:
    return [FIRST_DAY + timedelta(days=i) for i in range(n)]


def _files(sample: Path, days: list[date]) -> list[Path]:
    from assets.market.config import load_market_config
    from assets.market.sample_data import sample_path

    roots = load_market_config().symbols
    return [
        sample_path(sample / "market", SCHEMA, day, day + timedelta(days=1), [root])
        for day in days
        for root in roots
    ]


def prepare(sample: Path, days: list[date]) -> int:
    """Generate the sample files (untimed); returns the records in them."""
    import databento

    from assets.market.config import load_market_config
    from assets.market.sample_data import ensure_sample

    for root in load_market_config().symbols:
        for day in days:
            ensure_sample(sample / "market", SCHEMA, day, day + timedelta(days=1), [root])
    return sum(
        sum(len(a) for a in databento.DBNStore.from_file(p).to_ndarray(count=1_000_000))
        for p in _files(sample, days)
    )


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_floor(sample: Path, days: list[date], work: Path) -> dict:
    import databento
    import duckdb
    import pyarrow as pa

    from assets.market.assets import raw_table

    files = _files(sample, days)
    started = time.perf_counter()
    n = 0
    with duckdb.connect(str(work / "floor.duckdb")) as con:
        con.execute("SET memory_limit = '128MB'")  # as the pipeline's loads (market.load_memory_mb)
        created = False
        for path in files:
            for chunk in databento.DBNStore.from_file(path).to_ndarray(count=500_000):
                table: pa.Table = raw_table(chunk)
                con.register("incoming", table)
                if not created:
                    con.execute("CREATE TABLE trades AS SELECT * FROM incoming")
                    created = True
                else:
                    con.execute("INSERT INTO trades SELECT * FROM incoming")
                con.unregister("incoming")
                n += len(chunk)
    return {"seconds": time.perf_counter() - started, "records": n, "rss_mb": _peak_rss_mb()}


def child_decode(sample: Path, days: list[date]) -> dict:
    import databento

    from assets.market.assets import raw_table

    started = time.perf_counter()
    n = 0
    for path in _files(sample, days):
        for chunk in databento.DBNStore.from_file(path).to_ndarray(count=500_000):
            n += raw_table(chunk).num_rows
    return {"seconds": time.perf_counter() - started, "records": n, "rss_mb": _peak_rss_mb()}


def child_dagster(days: list[date]) -> dict:
    import dagster as dg

    from assets.market.definitions import job_name
    from headwater.cli.runs import load_defs, run_job

    defs = load_defs()
    instance = dg.DagsterInstance.get()
    month = days[0].replace(day=1).isoformat()
    done = run_job(defs, job_name("definition"), (month, month), instance)
    assert done.success, "definitions failed"
    started = time.perf_counter()
    result = run_job(defs, job_name(SCHEMA), (days[0].isoformat(), days[-1].isoformat()), instance)
    seconds = time.perf_counter() - started
    assert result.success, f"run {result.run_id} failed"
    records = 0
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            metadata = event.event_specific_data.materialization.metadata
            if "records_in" in metadata:
                records += metadata["records_in"].value
    return {"seconds": seconds, "records": records, "rss_mb": _peak_rss_mb()}


def _run_child(kind: str, size: str, sample: Path, work: Path) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    home = work / "dagster_home"
    home.mkdir(exist_ok=True)
    shutil.copy(Path(__file__).resolve().parent.parent / "dagster.yaml", home / "dagster.yaml")
    env = os.environ | {
        "DAGSTER_HOME": str(home),
        "HEADWATER_WAREHOUSE": str(work / "warehouse.duckdb"),
        "HEADWATER_SAMPLE_DIR": str(sample),
        "HEADWATER_DATA_DIR": str(work / "data"),
    }
    out = subprocess.run(
        [sys.executable, "-W", "ignore", "-m", "bench.market", "--child", kind, "--size", size,
         "--work", str(work), "--sample", str(sample)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if out.returncode != 0:
        raise SystemExit(f"{kind} {size} failed:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.market", description=__doc__)
    parser.add_argument("--sizes", default="1M,5M", help="comma-separated: 1M,5M")
    parser.add_argument("--child", choices=("decode", "floor", "dagster"), help=argparse.SUPPRESS)
    parser.add_argument("--size", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--sample", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        days = _days(SIZES[args.size])
        if args.child == "decode":
            result = child_decode(args.sample, days)
        elif args.child == "floor":
            result = child_floor(args.sample, days, args.work)
        else:
            result = child_dagster(days)
        print(json.dumps(result))
        return 0

    sizes = [s for s in args.sizes.split(",") if s]
    work = Path(tempfile.mkdtemp(prefix="headwater-bench-market-"))
    sample = work / "sample"
    try:
        print(f"market ingest: Databento {SCHEMA}, three roots, sample .dbn.zst files")
        rows = []
        for size in sizes:
            days = _days(SIZES[size])
            records = prepare(sample, days)
            decode = _run_child("decode", size, sample, work / f"decode-{size}")
            floor = _run_child("floor", size, sample, work / f"floor-{size}")
            dagster = _run_child("dagster", size, sample, work / f"dagster-{size}")
            read = {"decode": decode, "floor": floor, "run": dagster}
            if any(r["records"] != records for r in read.values()):
                counts = ", ".join(f"{k} read {r['records']}" for k, r in read.items())
                raise SystemExit(f"{size}: {records} records in the files; {counts}")
            rows.append((size, len(days), records, floor, dagster, decode))
        print(
            f"\n{'size':<5} {'days':>4} {'records':>10} {'floor s':>8} {'run s':>7} "
            f"{'records/s':>11} {'x floor':>8} {'floor RSS':>10} {'run RSS':>9}"
        )
        verdicts = []
        for size, n_days, records, floor, run, _ in rows:
            rate = records / run["seconds"]
            ratio = run["seconds"] / floor["seconds"]
            print(
                f"{size:<5} {n_days:>4} {records:>10,} {floor['seconds']:>8.2f} "
                f"{run['seconds']:>7.2f} {rate:>11,.0f} {ratio:>8.1f} "
                f"{floor['rss_mb']:>7.0f} MB {run['rss_mb']:>6.0f} MB"
            )
            verdicts.append(
                rate >= TARGET_RATE and ratio <= TARGET_X_FLOOR and run["rss_mb"] < TARGET_RSS_MB
            )
        if len(rows) == 2:
            grew = rows[1][4]["rss_mb"] / rows[0][4]["rss_mb"]
            print(f"peak RSS 5M / 1M: {grew:.2f}")
            verdicts.append(grew <= 1.1)  # "no larger": within the noise of a high-water mark
        print(f"\n{'size':<5} {'decode only rec/s':>18} {'floor rec/s':>12} {'run rec/s':>10}")
        for size, _, records, floor, run, decode in rows:
            print(
                f"{size:<5} {records / decode['seconds']:>18,.0f} "
                f"{records / floor['seconds']:>12,.0f} {records / run['seconds']:>10,.0f}"
            )
        met = all(verdicts)
        print(
            f"\ntargets: >= {TARGET_RATE:,} records/s, <= {TARGET_X_FLOOR:g}x the floor, "
            f"peak RSS < {TARGET_RSS_MB} MB and no larger for 5M than 1M: "
            f"{'met' if met else 'missed'}"
        )
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
