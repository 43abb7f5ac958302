"""Dagster's own commands from the repository root, as a Dagster user runs them out of habit:
`dagster dev` and `dg dev` load the `headwater` code location against the project's
instance and keep the schedules' state (`dagster dev` used to load nothing, and its daemon
removed the state of every schedule); `dg check defs` and `dg launch` work too."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REPO_ROOT

BIN = Path(sys.executable).parent
START_TIMEOUT_S = 120
SCHEDULES_QUERY = """
{
  repositoriesOrError {
    ... on RepositoryConnection {
      nodes {
        location { name }
        schedules { name scheduleState { id status } }
      }
    }
  }
}
"""
STOP = """
mutation Stop($id: String!) {
  stopRunningSchedule(id: $id) { __typename ... on PythonError { message } }
}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["data"]


def schedules(port: int) -> dict[str, dict]:
    nodes = graphql(port, SCHEDULES_QUERY)["repositoriesOrError"]["nodes"]
    [repo] = [n for n in nodes if n["location"]["name"] == "headwater"]
    return {s["name"]: s["scheduleState"] for s in repo["schedules"]}


class Running:
    """A Dagster command in its own process group, stopped with SIGTERM as Ctrl-C would."""

    def __init__(self, command: list[str], env: dict, log: Path):
        self.port = free_port()
        self.log = log
        self.proc = subprocess.Popen(
            [*command, "-p", str(self.port)],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_loaded(self) -> dict[str, dict]:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            try:
                return schedules(self.port)
            except (urllib.error.URLError, OSError, KeyError, TypeError, ValueError):
                time.sleep(1)
        pytest.fail(f"the headwater location did not load:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        except ProcessLookupError:
            pass


@pytest.fixture
def project_env(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    env = os.environ | {
        "DAGSTER_HOME": str(home),
        "HEADWATER_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
        # as after `source .venv/bin/activate` (the README's way to run Dagster's commands)
        "VIRTUAL_ENV": str(BIN.parent),
        "PATH": f"{BIN}:{os.environ['PATH']}",
    }
    return env


def test_dagster_dev_and_dg_dev_load_the_location_and_keep_schedule_state(tmp_path, project_env):
    first = Running([str(BIN / "dagster"), "dev"], project_env, tmp_path / "dagster-dev.log")
    try:
        found = first.wait_loaded()
        assert {"energy_daily_0600", "prospects_daily", "market_after_close"} <= set(found)
        state = found["energy_daily_0600"]
        assert state["status"] == "RUNNING"
        stopped = graphql(first.port, STOP, {"id": state["id"]})
        assert stopped["stopRunningSchedule"]["__typename"] == "ScheduleStateResult", stopped
        assert schedules(first.port)["energy_daily_0600"]["status"] == "STOPPED"
    finally:
        first.stop()
    second = Running([str(BIN / "dg"), "dev"], project_env, tmp_path / "dg-dev.log")
    try:
        found = second.wait_loaded()
        # the state a user set survives another command: nothing removed it
        assert found["energy_daily_0600"]["status"] == "STOPPED"
        assert found["prospects_daily"]["status"] == "RUNNING"
    finally:
        second.stop()
    for log in ("dagster-dev.log", "dg-dev.log"):
        assert "Removing state for schedule" not in (tmp_path / log).read_text()


def test_dg_check_defs_and_dg_launch_work_from_the_repository_root(tmp_path, project_env):
    checked = subprocess.run(
        [str(BIN / "dg"), "check", "defs"],
        cwd=REPO_ROOT,
        env=project_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "All definitions loaded successfully" in checked.stdout + checked.stderr
    launched = subprocess.run(
        [str(BIN / "dg"), "launch", "--assets", "staging/eia_prices", "--partition", "2024-03-01"],
        cwd=REPO_ROOT,
        env=project_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert launched.returncode == 0, launched.stdout[-2000:] + launched.stderr[-2000:]
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    try:
        [(rows,)] = con.execute(
            "SELECT count(*) FROM staging.eia_prices WHERE price_date >= '2024-03-01' "
            "AND price_date < '2024-04-01'"
        ).fetchall()
    finally:
        con.close()
    assert rows > 0
