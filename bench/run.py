"""`make bench`: every benchmark, one after the other (benchmarks, not tests)."""

import statistics
import subprocess
import sys
import time

from bench import energy, workforce

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


def main() -> int:
    definitions_load()
    status = energy.main([])
    print(flush=True)
    return status or workforce.main([]) or 0


if __name__ == "__main__":
    sys.exit(main())
