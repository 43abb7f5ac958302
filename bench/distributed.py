"""The distributed profile beside the embedded one: the same plan of runs on both, timed
inside the process that runs them (Python start-up and imports excluded), on this
machine's PostgreSQL and RabbitMQ with one and with two `headwater worker` processes.

The floor is the embedded profile's run of the same plan in the same benchmark: DuckDB,
in process, SQLite instance. The distributed run pays for what scaling out is for
(steps as broker tasks, events through the broker, writes over the network to
PostgreSQL); on one 2-core machine, two workers can only show the parallelism of
independent steps, not the capacity of a second machine.
"""

import argparse
import tempfile
from pathlib import Path

from bench.cluster import base_env, local_cluster, run_plan

SCENARIOS = {
    # The whole energy price history (every month since 2015-01) as one run.
    "energy full refresh": lambda: [("energy_daily_prices", _energy_range())],
}


def _energy_range() -> tuple[str, str]:
    from assets.energy.assets import monthly_partitions

    return monthly_partitions.get_first_partition_key(), monthly_partitions.get_last_partition_key()


def measure(name: str, plan: list, work: Path) -> list[tuple[str, float]]:
    embedded_env = base_env(
        DAGSTER_HOME=str(work / "embedded_home"),
        HEADWATER_WAREHOUSE=str(work / "embedded.duckdb"),
        HEADWATER_DATA_DIR=str(work / "embedded_data"),
    )
    run_plan(embedded_env, plan)  # warm the sample files, generated once a day
    rows = [("embedded (floor)", _seconds(run_plan(embedded_env, plan), name))]
    for workers in (1, 2):
        with local_cluster(work, workers=workers) as cluster:
            seconds = _seconds(run_plan(cluster["env"], plan), name)
        rows.append((f"distributed, {workers} worker{'s' if workers > 1 else ''}", seconds))
    return rows


def _seconds(runs: list, name: str) -> float:
    failed = [job for job, _, ok, *_ in runs if not ok]
    if failed:
        raise SystemExit(f"{name}: run of {failed[0]} failed")
    return sum(run[4] for run in runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), action="append")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="headwater-bench-distributed-"))
    for name in args.scenario or list(SCENARIOS):
        rows = measure(name, SCENARIOS[name](), work)
        floor = rows[0][1]
        print(f"{name:<36} {'wall s':>8} {'x floor':>8}")
        for label, seconds in rows:
            print(f"{label:<36} {seconds:>8.2f} {seconds / floor:>8.2f}")
        print(flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
