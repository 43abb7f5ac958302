"""From the UI to fresh marts: `make dev` (scripts/dev.sh: one code server, the webserver and
the daemon) on a new instance and warehouse, and one energy month launched as the UI's
*Launch 1 run* does it (the GraphQL mutation launchPipelineExecution of energy_daily_prices,
tagged with its partition and dagster/from_ui), three months one after the other. Measured
from the launch request: the run STARTED (the queue, the run worker's start and its import of
the code location) and every energy mart materialized after it (the load itself, the
automation sensor energy_marts_follow_inputs, and the marts' dbt run). Also the code
servers replaced over the whole session (Dagster's "No heartbeat received ... shutting
down"). tests/ui/test_energy_month_from_ui.py does the same by clicking, in Chromium.
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
JOB = "energy_daily_prices"
MARTS = (
    ("marts", "price_panel"),
    ("marts", "price_returns"),
    ("marts", "brent_wti_spread"),
    ("marts", "price_freshness"),
)
TARGET_START_S = 3.0
TARGET_MARTS_S = 30.0
MONTHS = ("2024-01-01", "2024-02-01", "2024-03-01")
START_TIMEOUT_S = 180
WAIT_S = 240
IN_PROGRESS = ("QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING")

LOCATION_QUERY = """
{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }
"""
LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchPipelineExecution(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
  }
}
"""
RUN_QUERY = '{ runOrError(runId: "%s") { ... on Run { status startTime } } }'
MART_QUERY = (
    "{ assetOrError(assetKey: {path: %s}) "
    "{ ... on Asset { assetMaterializations(limit: 1) { runId timestamp } } } }"
)
BUSY_QUERY = "{ runsOrError(filter: {statuses: [%s]}) { ... on Runs { results { runId } } } }"

GraphQL = Callable[..., dict]


def graphql_at(url: str) -> GraphQL:
    def call(query: str, variables: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"{url}/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.load(response)
        if "errors" in body:
            raise RuntimeError(body["errors"])
        return body["data"]

    return call


def _key(asset: tuple[str, ...]) -> str:
    return "[" + ", ".join(f'"{part}"' for part in asset) + "]"


def run_started_at(graphql: GraphQL, run_id: str, timeout_s: float = WAIT_S) -> dict:
    """The run once it has started (its `startTime`, epoch s) or ended; the last state seen
    when `timeout_s` passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        run = graphql(RUN_QUERY % run_id)["runOrError"]
        if run.get("startTime") or run.get("status") in ("SUCCESS", "FAILURE", "CANCELED"):
            return run
        if time.monotonic() > deadline:
            return run
        time.sleep(0.2)


def marts_fresh_at(graphql: GraphQL, since: float, timeout_s: float = WAIT_S) -> float | None:
    """When the last energy mart was materialized after `since` (epoch s): the time every mart
    is fresh; None if one is not within `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        times = []
        for mart in MARTS:
            asset = graphql(MART_QUERY % _key(mart))["assetOrError"]
            found = asset.get("assetMaterializations") or []
            stamp = float(found[0]["timestamp"]) / 1000 if found else 0.0
            times.append(stamp if stamp > since else None)
        if all(times):
            return max(times)
        time.sleep(0.5)
    return None


def wait_idle(graphql: GraphQL, timeout_s: float = WAIT_S) -> None:
    """Until no run is queued or in progress (a sensor's run after the previous month)."""
    deadline = time.monotonic() + timeout_s
    statuses = ", ".join(IN_PROGRESS)
    while graphql(BUSY_QUERY % statuses)["runsOrError"]["results"]:
        if time.monotonic() > deadline:
            raise TimeoutError(f"runs still in progress after {timeout_s} s")
        time.sleep(1)


def launch_month(graphql: GraphQL, partition: str) -> str:
    """What the UI's launch dialog sends for one partition of the job."""
    params = {
        "selector": {
            "repositoryLocationName": "headwater",
            "repositoryName": "__repository__",
            "pipelineName": JOB,
        },
        "mode": "default",
        "runConfigData": {},
        "executionMetadata": {
            "tags": [
                {"key": "dagster/partition", "value": partition},
                {"key": "dagster/from_ui", "value": "true"},
            ]
        },
    }
    result = graphql(LAUNCH, {"params": params})["launchPipelineExecution"]
    if result["__typename"] != "LaunchRunSuccess":
        raise RuntimeError(f"launch of {JOB} {partition}: {result}")
    return result["run"]["runId"]


class Dev:
    """`bash scripts/dev.sh` on its own instance and warehouse under `work`, as `make dev`."""

    def __init__(self, work: Path, port: int):
        home = work / "dagster_home"
        home.mkdir(parents=True)
        shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
        self.url = f"http://127.0.0.1:{port}"
        self.log = work / "dev.log"
        env = os.environ | {
            "DAGSTER_HOME": str(home),
            "HEADWATER_WAREHOUSE": str(work / "warehouse.duckdb"),
            "HEADWATER_UI_PORT": str(port),
        }
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(
                ["bash", "scripts/dev.sh"],
                cwd=REPO,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.graphql = graphql_at(self.url)

    def wait_loaded(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                entries = self.graphql(LOCATION_QUERY)["workspaceOrError"]["locationEntries"]
                if any(e["name"] == "headwater" and e["loadStatus"] == "LOADED" for e in entries):
                    return
            except (urllib.error.URLError, OSError, RuntimeError, KeyError):
                pass
            time.sleep(0.5)
        raise RuntimeError(f"make dev did not load the code location; see {self.log}")

    def replacements(self) -> int:
        return self.log.read_text(errors="replace").count("No heartbeat received")

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGINT)  # Ctrl-C, as in a terminal
            self.proc.wait(40)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(graphql: GraphQL, months: tuple[str, ...]) -> list[tuple[float, float]]:
    figures = []
    for month in months:
        wait_idle(graphql)
        clicked = time.time()
        run_id = launch_month(graphql, month)
        run = run_started_at(graphql, run_id)
        if not run.get("startTime"):
            raise RuntimeError(f"run {run_id} of {month} did not start: {run}")
        fresh = marts_fresh_at(graphql, clicked)
        if fresh is None:
            raise RuntimeError(f"the energy marts were not rebuilt after {month}")
        figures.append((run["startTime"] - clicked, fresh - clicked))
        print(
            f"  {month}: started {figures[-1][0]:.1f} s, marts {figures[-1][1]:.1f} s", flush=True
        )
    return figures


def _row(name: str, values: list[float], target: float) -> str:
    middle = statistics.median(values)
    span = f"{min(values):.1f}-{max(values):.1f}"
    return f"{name:<36} {middle:>8.1f} {span:>11} {target:>8.0f} {'yes' if middle <= target else 'NO':>5}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", nargs="+", default=list(MONTHS))
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="headwater-bench-ui-"))
    dev = Dev(work, _free_port())
    began = time.monotonic()
    try:
        dev.wait_loaded()
        print(f"energy month from the UI ({len(args.months)} months, make dev)", flush=True)
        figures = measure(dev.graphql, tuple(args.months))
        minutes = (time.monotonic() - began) / 60
        replaced = dev.replacements()
    finally:
        dev.stop()
    print(f"{'from the launch':<36} {'median s':>8} {'range s':>11} {'target':>8} {'met':>5}")
    print(_row("UI launch -> run STARTED", [f[0] for f in figures], TARGET_START_S))
    print(_row("UI launch -> energy marts fresh", [f[1] for f in figures], TARGET_MARTS_S))
    print(
        f"{f'code servers replaced in {minutes:.0f} min':<36} {replaced:>8} {'':>11} {0:>8} "
        f"{'yes' if replaced == 0 else 'NO':>5}"
    )
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
