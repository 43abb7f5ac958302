"""End-to-end test of `make dev` (scripts/dev.sh): the real Dagster webserver and daemon on
127.0.0.1, a real browser (Debian's chromium driven by playwright) on the UI, the GraphQL API,
and Ctrl-C stopping everything it started.

The dev.sh is the one the tests/ui package shares (conftest.py); the Ctrl-C test here ends it and
runs after every other UI test. Browser: /usr/bin/chromium (apt package `chromium`), never
`playwright install`.
"""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.ui.conftest import (
    CHROMIUM,
    STOP_TIMEOUT_S,
    UI_TIMEOUT_MS,
    assert_png,
    screenshot,
    skip_onboarding,
)

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is missing: the UI tests need Debian's `chromium` package "
        "(apt-get install chromium; .ci/run installs it)",
    ),
    pytest.mark.timeout(180),  # each test, the package's dev.sh start-up included
]


def test_catalog_lists_every_domains_assets(dev_server, ui_page, artifacts):
    from playwright.sync_api import expect

    ui_page.goto(f"{dev_server.url}/assets")
    body = ui_page.locator("body")
    expect(body).to_contain_text("commodity_prices")
    skip_onboarding(ui_page, wait_ms=5_000)
    for text in ("commodity_prices", "market_ohlcv_1d", "prospect_core", "energy", "market"):
        expect(body).to_contain_text(text)
    # the group column links ("asset_group" is its icon)
    for group in ("energy", "market", "prospects"):
        group_link = ui_page.get_by_role("link", name=re.compile(rf"(^|\s){group}$"))
        expect(group_link.first).to_be_visible()
    # The catalog renders the rows in view: the workforce assets, last in key order, are
    # found through its search box. It filters on Enter (typing only suggests selections), and
    # its "close" button clears it (it is a code editor: emptying its textarea does not).
    search = ui_page.get_by_role("textbox", name="Search and filter assets")
    search.fill("fct_workforce")
    search.press("Enter")
    expect(body).to_contain_text("fct_workforce_snapshot")
    group_link = ui_page.get_by_role("link", name=re.compile(r"(^|\s)workforce$"))
    expect(group_link.first).to_be_visible()
    ui_page.get_by_role("button", name="close").click()
    expect(body).to_contain_text("commodity_prices")
    ui_page.keyboard.press("Escape")  # the suggestions, open while the box has the focus
    expect(ui_page.get_by_text("to navigate")).to_be_hidden()
    # Statuses come in a second query: wait for them, so the screenshot shows the full catalog.
    expect(ui_page.get_by_text(re.compile(r"^Loading"))).to_have_count(0, timeout=UI_TIMEOUT_MS)
    screenshot(ui_page, artifacts, "catalog")


def test_energy_lineage_graph_renders(dev_server, ui_page, artifacts):
    from playwright.sync_api import expect

    ui_page.goto(f"{dev_server.url}/locations/headwater/asset-groups/energy")
    skip_onboarding(ui_page, wait_ms=0)
    # Asset nodes are HTML in SVG foreignObjects: one per asset once the layout is done.
    nodes = ui_page.locator("foreignObject")
    expect(nodes.filter(has_text="commodity_prices").first).to_be_visible()
    expect(nodes.filter(has_text="brent_wti_spread").first).to_be_visible()
    expect(ui_page.locator("body")).not_to_contain_text("Cycle detected")
    screenshot(ui_page, artifacts, "energy_lineage")


def test_global_lineage_graph_renders(dev_server, ui_page, artifacts):
    ui_page.goto(f"{dev_server.url}/asset-groups")
    skip_onboarding(ui_page, wait_ms=0)
    # Either outcome is final: graph nodes laid out, or the cycle message.
    rendered = ui_page.locator("foreignObject").or_(ui_page.get_by_text("Cycle detected"))
    rendered.first.wait_for(state="visible")
    shot = artifacts / "global_lineage.png"
    ui_page.screenshot(path=str(shot))
    assert not ui_page.get_by_text("Cycle detected").is_visible(), "global lineage: cycle"
    assert_png(shot)


REPOSITORIES_QUERY = """
{
  repositoriesOrError {
    __typename
    ... on PythonError { message }
    ... on RepositoryConnection {
      nodes {
        name
        location { name }
        schedules { name scheduleState { status } }
        sensors { name sensorState { status } }
      }
    }
  }
}
"""


def test_graphql_lists_schedules_and_sensors(dev_server):
    data = dev_server.graphql(REPOSITORIES_QUERY)["repositoriesOrError"]
    assert data["__typename"] == "RepositoryConnection", data
    repos = [r for r in data["nodes"] if r["location"]["name"] == "headwater"]
    assert len(repos) == 1, data
    schedules = {s["name"]: s["scheduleState"]["status"] for s in repos[0]["schedules"]}
    sensors = {s["name"]: s["sensorState"]["status"] for s in repos[0]["sensors"]}
    assert "energy_daily_0600" in schedules, schedules
    assert schedules["energy_daily_0600"] == "RUNNING"  # default_status: the daemon runs it
    assert "energy_marts_follow_inputs" in sensors, sensors


SENSOR_RUNS_QUERY = """
{
  runsOrError(filter: {tags: [{key: "dagster/sensor_name", value: "energy_marts_follow_inputs"}]}) {
    ... on Runs { results { runId status creationTime assetSelection { path } } }
  }
}
"""


def test_daemon_builds_the_marts_after_a_month_is_loaded(dev_server):
    """The real daemon's automation sensor: a month of prices loaded (the rest of the history
    never), and it launches one run of the marts, which succeeds."""
    dagster = str(Path(sys.executable).parent / "dagster")
    began = time.time()  # the sensor's runs from here on (another test may have set it off)
    done = subprocess.run(
        [dagster, "asset", "materialize", "-f", "definitions.py"]
        + ["--select", "group:energy and kind:python", "--partition", "2024-03-01"],
        cwd=REPO_ROOT,
        env=dev_server.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    deadline = time.monotonic() + 150  # the sensor ticks every 30 s; the run takes ~15 s
    runs: list = []
    while time.monotonic() < deadline:
        runs = dev_server.graphql(SENSOR_RUNS_QUERY)["runsOrError"]["results"]
        runs = [r for r in runs if r["creationTime"] >= began]
        if runs and all(r["status"] in ("SUCCESS", "FAILURE", "CANCELED") for r in runs):
            break
        time.sleep(3)
    assert [r["status"] for r in runs] == ["SUCCESS"], (runs, dev_server.log_tail())
    selected = {tuple(a["path"]) for a in runs[0]["assetSelection"]}
    assert ("marts", "price_panel") in selected and ("marts", "price_returns") in selected


RUN_QUERY = """
{
  runsOrError(filter: {tags: [{key: "headwater/trigger", value: "%s"}]}) {
    ... on Runs {
      results {
        runId jobName status pipelineSnapshotId
        repositoryOrigin { repositoryLocationName repositoryName }
        tags { key value }
      }
    }
  }
}
"""

JOB_QUERY = """
{
  pipelineOrError(params: {repositoryLocationName: "headwater", repositoryName: "__repository__",
                           pipelineName: "%s"}) {
    ... on Pipeline { pipelineSnapshotId runs { runId } }
  }
}
"""


@pytest.mark.parametrize(
    "command, jobs",
    [
        (
            ["simulate", "--start-year", "2025", "--end-year", "2026"],
            {"workforce_inputs", "workforce_simulation", "workforce_reports"},
        ),
        (
            ["ingest", "--api", "databento", "--schema", "ohlcv-1d", "--symbols", "CL.FUT"]
            + ["--start-date", "2024-01-02", "--end-date", "2024-02-15"],
            {"market_definition", "market_ohlcv_1d"},
        ),
    ],
)
def test_cli_runs_are_the_code_locations_own(dev_server, command, jobs):
    """A run started by `headwater` is recorded as the UI records its own: it has the
    `headwater` location as its origin, is listed under its job (which is what the Overview
    timeline and the job's Runs tab show), has the job's current snapshot (re-execute gives
    no version warning), carries its partition range and says which command started it."""
    headwater = str(Path(sys.executable).parent / "headwater")
    done = subprocess.run(
        [headwater, *command],
        cwd=REPO_ROOT,
        env=dev_server.env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    runs = dev_server.graphql(RUN_QUERY % command[0])["runsOrError"]["results"]
    assert {r["jobName"] for r in runs} == jobs
    for run in runs:
        assert run["status"] == "SUCCESS"
        assert run["repositoryOrigin"] == {
            "repositoryLocationName": "headwater",
            "repositoryName": "__repository__",
        }
        job = dev_server.graphql(JOB_QUERY % run["jobName"])["pipelineOrError"]
        assert run["runId"] in {r["runId"] for r in job["runs"]}
        assert run["pipelineSnapshotId"] == job["pipelineSnapshotId"]
        tags = {t["key"]: t["value"] for t in run["tags"]}
        if run["jobName"] == "workforce_simulation":
            assert tags["dagster/asset_partition_range_start"] == "2025"
            assert tags["dagster/asset_partition_range_end"] in ("2026", "2029")
        if run["jobName"] in ("market_definition", "market_ohlcv_1d"):  # months, one run
            assert tags["dagster/asset_partition_range_start"] == "2024-01-01"
            assert tags["dagster/asset_partition_range_end"] == "2024-02-01"


@pytest.mark.stops_dev_server
def test_ctrl_c_stops_webserver_and_daemon(dev_server):
    """Last of the UI tests: Ctrl-C (SIGINT to dev.sh's process group, as a terminal sends it)."""
    before = dev_server.processes()
    cmdlines = "\n".join(before.values())
    assert "dagster-webserver" in cmdlines and "dagster-daemon" in cmdlines, cmdlines
    for pid, cmdline in before.items():
        if "dagster-webserver" in cmdline or "dagster-daemon" in cmdline:
            dev_server.server_pgids.add(os.getpgid(pid))

    os.killpg(dev_server.pgid, signal.SIGINT)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    try:
        dev_server.proc.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(
            f"dev.sh still running {STOP_TIMEOUT_S} s after SIGINT; processes of the run:\n"
            + "\n".join(f"{p} {c}" for p, c in dev_server.processes().items())
            + f"\nlog:\n{dev_server.log_tail()}"
        )
    leftovers = dev_server.processes()
    while leftovers and time.monotonic() < deadline:
        time.sleep(0.5)
        leftovers = dev_server.processes()
    assert not leftovers, f"still running after dev.sh exited: {leftovers}"
    for pgid in {dev_server.pgid, *dev_server.server_pgids}:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            continue  # the group is gone
        # Members left can only be zombies: exited orphans that this container's init has not
        # reaped (processes() skips zombies and already covers these groups).
        assert not dev_server.processes(), f"process group {pgid} still has live members"

    assert dev_server.proc.returncode in (0, 130), (
        dev_server.proc.returncode,
        dev_server.log_tail(),
    )
    log = dev_server.log_path.read_text(errors="replace")
    assert log.count("stopped") == 1, dev_server.log_tail()
