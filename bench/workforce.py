"""Workforce simulation benchmark: 10,000 and 100,000 employees x 5 years.

Each size runs in a fresh process (so peak RSS is its own and dbt's first parse is
counted) on a temporary warehouse and Dagster instance: the inputs job, then the
five years as one workforce_simulation run, then the reports job - the same jobs
`headwater simulate` runs. Prints wall seconds (all three jobs, and the five years
alone), peak RSS, and simulated events per second.

    .venv/bin/python bench/workforce.py [--sizes 10000 100000] [--years 5]

Targets on the reference 2-core machine: 10k x 5 < 30 s, 100k x 5 < 60 s, RSS < 1 GB.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _child(size: int, years: int) -> None:
    """Run in the benchmark subprocess: simulate and print one JSON line."""
    import warnings

    warnings.filterwarnings("ignore")
    import dagster as dg
    import yaml

    root = Path(os.environ["BENCH_DIR"])
    config = root / "headwater.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "workforce": {
                    "start_year": 2025,
                    "end_year": 2025 + years - 1,
                    "census": {"sample_size": size},
                }
            }
        )
    )
    sys.path.insert(0, str(REPO))
    from assets.workforce.definitions import build_defs
    from headwater.cli.runs import RANGE_END_TAG, RANGE_START_TAG
    from resources.warehouse import DuckDBWarehouse

    warehouse = DuckDBWarehouse(path=str(root / "warehouse.duckdb"))
    defs = dg.Definitions.merge(
        build_defs(config), dg.Definitions(resources={"warehouse": warehouse})
    )
    quiet = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
    timings = {}
    from bench.instances import instance_of

    started = time.perf_counter()
    with instance_of(os.environ.get("BENCH_INSTANCE", "memory"), root) as instance:
        for job, tags in [
            ("workforce_inputs", {}),
            (
                "workforce_simulation",
                {RANGE_START_TAG: "2025", RANGE_END_TAG: str(2025 + years - 1)},
            ),
            ("workforce_reports", {}),
        ]:
            t = time.perf_counter()
            result = defs.resolve_job_def(job).execute_in_process(
                instance=instance, tags=tags, run_config=quiet, raise_on_error=False
            )
            timings[job] = time.perf_counter() - t
            if not result.success:
                raise SystemExit(f"{job} failed")
    wall = time.perf_counter() - started
    events = (
        warehouse.query("select count(*) from workforce.fct_yearly_events").column(0)[0].as_py()
    )
    print(
        json.dumps(
            {
                "employees": size,
                "years": years,
                "wall_s": wall,
                "years_s": timings["workforce_simulation"],
                "events": events,
                "timings": timings,
            }
        )
    )


def run_size(size: int, years: int, instance: str = "memory") -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-workforce-") as tmp:
        env = {
            **os.environ,
            "BENCH_INSTANCE": instance,
            "BENCH_DIR": tmp,
            "HEADWATER_WAREHOUSE": f"{tmp}/warehouse.duckdb",
            "HEADWATER_SAMPLE_DIR": f"{tmp}/sample",
            "DAGSTER_HOME": f"{tmp}/dagster_home",
        }
        Path(env["DAGSTER_HOME"]).mkdir()
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child", str(size), "--years", str(years)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        # wait4: this child's own peak RSS (kilobytes on Linux)
        _, status, usage = os.wait4(proc.pid, 0)
        out = proc.stdout.read()
        proc.stdout.close()
        if status != 0:
            raise SystemExit(f"benchmark of {size} employees failed:\n{out}")
        row = json.loads(out.strip().splitlines()[-1])
        row["peak_rss_mb"] = usage.ru_maxrss / 1024
        return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument(
        "--instances",
        nargs="+",
        default=["sqlite", "postgres-batched"],
        help="also run the first size on these instances (memory: all sizes)",
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.years)
        return 0
    print(
        f"{'instance':<16} {'employees':>10} {'years':>5} {'wall s':>8} {'years s':>8} "
        f"{'s/year':>7} {'peak RSS MB':>11} {'events':>9} {'events/s':>9}"
    )
    runs = [("memory", size) for size in args.sizes]
    runs += [(kind, args.sizes[0]) for kind in args.instances if kind != "memory"]
    for kind, size in runs:
        r = run_size(size, args.years, kind)
        print(
            f"{kind:<16} {r['employees']:>10,} {r['years']:>5} {r['wall_s']:>8.1f} "
            f"{r['years_s']:>8.1f} "
            f"{r['years_s'] / r['years']:>7.2f} {r['peak_rss_mb']:>11.0f} {r['events']:>9,} "
            f"{r['events'] / r['wall_s']:>9,.0f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
