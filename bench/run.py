"""`make bench`: every benchmark, one after the other (benchmarks, not tests)."""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import distributed, energy, market, prospects, ui, workforce

LOAD = "import definitions, dagster as dg; dg.Definitions.validate_loadable(definitions.defs)"


def _wall(code: str, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-W", "ignore", "-c", code], check=True, capture_output=True
        )
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def definitions_load() -> None:
    """Time to load the whole code location in a fresh interpreter (target: under 5 s),
    beside the floor of importing dagster and dagster-dbt alone."""
    floor = _wall("import dagster, dagster_dbt")
    load = _wall(LOAD)
    print(f"{'definitions load':<36} {'wall s':>8} {'x floor':>8}")
    print(f"{'floor: import dagster, dagster_dbt':<36} {floor:>8.2f} {1:>8.1f}")
    print(
        f"{'import + validate all Definitions':<36} {load:>8.2f} {load / floor:>8.1f}\n", flush=True
    )


def demo() -> None:
    """`headwater demo` (what `make demo` runs after set-up; target: under 90 s) on a new
    instance and warehouse, beside the floor of starting the CLI (`headwater --help`)."""
    work = Path(tempfile.mkdtemp(prefix="headwater-bench-demo-"))
    env = os.environ | {
        "DAGSTER_HOME": str(work / "dagster_home"),
        "HEADWATER_WAREHOUSE": str(work / "warehouse.duckdb"),
    }
    cli = str(Path(sys.executable).parent / "headwater")
    started = time.perf_counter()
    subprocess.run([cli, "--help"], check=True, capture_output=True, env=env)
    floor = time.perf_counter() - started
    started = time.perf_counter()
    subprocess.run([cli, "demo"], check=True, capture_output=True, env=env)
    wall = time.perf_counter() - started
    print(f"{'make demo (after set-up)':<36} {'wall s':>8} {'x floor':>8}")
    print(f"{'floor: headwater --help':<36} {floor:>8.2f} {1:>8.1f}")
    print(f"{'headwater demo, new instance':<36} {wall:>8.2f} {wall / floor:>8.1f}\n", flush=True)


def main() -> int:
    definitions_load()
    demo()
    status = ui.main([])  # make dev: an energy month from the UI to fresh marts
    print(flush=True)
    status = status or energy.main([])
    print(flush=True)
    status = status or prospects.main([])
    print(flush=True)
    status = status or market.main([])
    print(flush=True)
    status = status or workforce.main([])
    print(flush=True)
    return status or distributed.main([]) or 0


if __name__ == "__main__":
    sys.exit(main())
