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
    "energy full refresh": lambda work: ([("energy_daily_prices", _energy_range())], {}),
    # 100,000 employees x 5 years: inputs, the years as one run, the reports.
    "workforce 100k x 5 years": lambda work: _workforce(work, 100_000, 5),
    # About a million Databento trades (three weekdays, three roots) after their month's
    # instrument definitions (the definitions run is counted too).
    "market ingest, 1M trades": lambda work: (
        [
            ("market_definition", ("2026-11-01", "2026-11-01")),
            ("market_trades", ("2026-11-02", "2026-11-04")),
        ],
        {},
    ),
}


def _energy_range() -> tuple[str, str]:
    from assets.energy.assets import monthly_partitions

    return monthly_partitions.get_first_partition_key(), monthly_partitions.get_last_partition_key()


def _workforce(work: Path, size: int, years: int) -> tuple[list, dict]:
    import yaml

    config = work / f"workforce_{size}.yaml"
    last = 2025 + years - 1
    workforce = {"start_year": 2025, "end_year": last, "census": {"sample_size": size}}
    config.write_text(yaml.safe_dump({"workforce": workforce}))
    plan = [
        ("workforce_inputs", None),
        ("workforce_simulation", ("2025", str(last))),
        ("workforce_reports", None),
    ]
    return plan, {"HEADWATER_CONFIG": str(config)}


def measure(name: str, plan: list, extra: dict, work: Path) -> list[tuple[str, float]]:
    key = name.split()[0]
    embedded_env = base_env(
        DAGSTER_HOME=str(work / f"embedded_home_{key}"),
        HEADWATER_WAREHOUSE=str(work / f"embedded_{key}.duckdb"),
        HEADWATER_DATA_DIR=str(work / f"embedded_data_{key}"),
        **extra,
    )
    run_plan(embedded_env, plan)  # warm the sample files (generated once) and dbt's parse
    rows = [("embedded (floor)", _seconds(run_plan(embedded_env, plan), name))]
    for workers in (1, 2):
        with local_cluster(work, workers=workers, **extra) as cluster:
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
        plan, extra = SCENARIOS[name](work)
        rows = measure(name, plan, extra, work)
        floor = rows[0][1]
        print(f"{name:<36} {'wall s':>8} {'x floor':>8}")
        for label, seconds in rows:
            print(f"{label:<36} {seconds:>8.2f} {seconds / floor:>8.2f}")
        print(flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
