"""End-to-end test of `make dev` (scripts/dev.sh): the real Dagster webserver and daemon on
127.0.0.1, a real browser (Debian's chromium driven by playwright) on the UI, the GraphQL API,
and Ctrl-C stopping everything it started.

One dev.sh per module (starting it costs ~15 s); the tests run in file order and the last one
interrupts it. Browser: /usr/bin/chromium (apt package `chromium`), never `playwright install`.
"""

import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.conftest import REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START_TIMEOUT_S = 90
STOP_TIMEOUT_S = 30
UI_TIMEOUT_MS = 30_000

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is missing: the UI tests need Debian's `chromium` package "
        "(apt-get install chromium; .ci/run installs it)",
    ),
    pytest.mark.timeout(180),  # each test, the module's dev.sh start-up included
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _proc_info(pid: int) -> tuple[str, int, int, bytes, str] | None:
    """(state, pgid, session id, environ, cmdline) of a live process, None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        environ = Path(f"/proc/{pid}/environ").read_bytes()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # Fields after "(comm)": state ppid pgrp session ...
    state, _ppid, pgrp, session = stat.rpartition(")")[2].split()[:4]
    return state, int(pgrp), int(session), environ, cmdline.strip()


LOCATIONS_QUERY = """
{
  workspaceOrError {
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError { __typename ... on PythonError { message } }
      }
    }
  }
}
"""


class DevServer:
    """A running `bash scripts/dev.sh` in its own session and process group."""

    def __init__(self, home: Path, port: int, log_path: Path):
        self.home = home
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.env = dict(
            os.environ,  # HEADWATER_SAMPLE_DIR as tests/conftest.py set it
            DAGSTER_HOME=str(home),
            HEADWATER_WAREHOUSE=str(home.parent / "warehouse.duckdb"),  # its own
            HEADWATER_UI_PORT=str(port),
        )
        self._log = log_path.open("w")
        self.proc = subprocess.Popen(
            ["bash", "scripts/dev.sh"],
            cwd=REPO_ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # like a terminal: dev.sh leads its own session and group
        )
        self.pgid = self.proc.pid
        self.server_pgids: set[int] = set()  # the webserver's and daemon's groups (dev.sh: set -m)

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def processes(self) -> dict[int, str]:
        """Live processes of this run: in dev.sh's session, or carrying its DAGSTER_HOME."""
        marker = f"DAGSTER_HOME={self.home}".encode()
        found = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            info = _proc_info(int(entry.name))
            if info is None:
                continue
            state, pgrp, session, environ, cmdline = info
            if state == "Z":  # exited, only waiting to be reaped
                continue
            mine = session == self.proc.pid or pgrp in self.server_pgids
            if mine or marker in environ.split(b"\0"):
                found[int(entry.name)] = f"[pgid {pgrp}] {cmdline}"
        return found

    def wait_until_up(self) -> None:
        """Until the webserver answers and has loaded the `headwater` code location."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(
                    f"dev.sh exited ({self.proc.returncode}) before the UI answered:\n"
                    f"{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/server_info", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        else:
            pytest.fail(
                f"no answer from {self.url}/server_info in {START_TIMEOUT_S} s:\n{self.log_tail()}"
            )
        while time.monotonic() < deadline:
            entries = self.graphql(LOCATIONS_QUERY)["workspaceOrError"]["locationEntries"]
            entry = next((e for e in entries if e["name"] == "headwater"), None)
            if entry and entry["loadStatus"] == "LOADED":
                loaded = entry["locationOrLoadError"]
                assert loaded["__typename"] == "RepositoryLocation", (
                    f"code location headwater failed to load: {loaded.get('message')}"
                )
                return
            time.sleep(0.5)
        pytest.fail(
            f"code location headwater not loaded in {START_TIMEOUT_S} s:\n{self.log_tail()}"
        )

    def graphql(self, query: str) -> dict:
        request = urllib.request.Request(
            f"{self.url}/graphql",
            data=json.dumps({"query": query}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.load(response)
        assert "errors" not in body, body["errors"]
        return body["data"]

    def kill_everything(self) -> None:
        """Teardown safety net: SIGKILL whatever of this run is still alive."""
        for pgid in {self.pgid, *self.server_pgids}:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in self.processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        self._log.close()


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory):
    manifest = REPO_ROOT / "dbt_project" / "target" / "manifest.json"
    assert manifest.exists(), "run `make setup` (dbt parse) first: dagster-dbt needs the manifest"
    base = tmp_path_factory.mktemp("dev_ui")
    home = base / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    server = DevServer(home, _free_port(), base / "dev.log")
    try:
        server.wait_until_up()
        yield server
    finally:
        server.kill_everything()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def ui_page(browser, dev_server):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    yield page
    context.close()


def _skip_onboarding(page, wait_ms: int) -> None:
    """A fresh DAGSTER_HOME greets the first visit with an onboarding dialog ("Skip")."""
    skip = page.get_by_role("button", name="Skip")
    if wait_ms:  # (timeout=0 would mean "wait forever" to playwright)
        try:
            skip.first.wait_for(state="visible", timeout=wait_ms)
        except PlaywrightTimeoutError:  # no dialog this time
            return
    elif not skip.first.is_visible():
        return
    skip.first.click()
    skip.first.wait_for(state="hidden", timeout=5_000)


def _assert_png(path: Path, min_bytes: int = 20_000) -> None:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])  # IHDR
    assert (width, height) == (1400, 900), (width, height)
    assert len(data) > min_bytes, f"{path}: only {len(data)} bytes, the page looks empty"


def test_catalog_lists_every_domains_assets(dev_server, ui_page, tmp_path):
    from playwright.sync_api import expect

    ui_page.goto(f"{dev_server.url}/assets")
    body = ui_page.locator("body")
    expect(body).to_contain_text("commodity_prices")
    _skip_onboarding(ui_page, wait_ms=5_000)
    for text in ("commodity_prices", "market_ohlcv_1d", "prospect_core", "energy", "market"):
        expect(body).to_contain_text(text)
    # the group column links ("asset_group" is its icon)
    for group in ("energy", "market", "prospects"):
        group_link = ui_page.get_by_role("link", name=re.compile(rf"(^|\s){group}$"))
        expect(group_link.first).to_be_visible()
    # The catalog renders the rows in view: the workforce assets, last in key order, are
    # found through its search box.
    ui_page.get_by_role("textbox", name="Search and filter assets").fill("fct_workforce")
    expect(body).to_contain_text("fct_workforce_snapshot")
    group_link = ui_page.get_by_role("link", name=re.compile(r"(^|\s)workforce$"))
    expect(group_link.first).to_be_visible()
    ui_page.get_by_role("textbox", name="Search and filter assets").fill("")
    # Statuses come in a second query: wait for them, so the screenshot shows the full catalog.
    expect(ui_page.get_by_text(re.compile(r"^Loading"))).to_have_count(0, timeout=UI_TIMEOUT_MS)
    shot = tmp_path / "catalog.png"
    ui_page.screenshot(path=str(shot))
    _assert_png(shot)


def test_energy_lineage_graph_renders(dev_server, ui_page, tmp_path):
    from playwright.sync_api import expect

    ui_page.goto(f"{dev_server.url}/locations/headwater/asset-groups/energy")
    _skip_onboarding(ui_page, wait_ms=0)
    # Asset nodes are HTML in SVG foreignObjects: one per asset once the layout is done.
    nodes = ui_page.locator("foreignObject")
    expect(nodes.filter(has_text="commodity_prices").first).to_be_visible()
    expect(nodes.filter(has_text="brent_wti_spread").first).to_be_visible()
    expect(ui_page.locator("body")).not_to_contain_text("Cycle detected")
    shot = tmp_path / "energy_lineage.png"
    ui_page.screenshot(path=str(shot))
    _assert_png(shot)


def test_global_lineage_graph_renders(dev_server, ui_page, tmp_path):
    ui_page.goto(f"{dev_server.url}/asset-groups")
    _skip_onboarding(ui_page, wait_ms=0)
    # Either outcome is final: graph nodes laid out, or the cycle message.
    rendered = ui_page.locator("foreignObject").or_(ui_page.get_by_text("Cycle detected"))
    rendered.first.wait_for(state="visible")
    ui_page.screenshot(path=str(tmp_path / "global_lineage.png"))
    assert not ui_page.get_by_text("Cycle detected").is_visible(), "global lineage: cycle"


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
    ... on Runs { results { runId status assetSelection { path } } }
  }
}
"""


def test_daemon_builds_the_marts_after_a_month_is_loaded(dev_server):
    """The real daemon's automation sensor: a month of prices loaded (the rest of the history
    never), and it launches one run of the marts, which succeeds."""
    dagster = str(Path(sys.executable).parent / "dagster")
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
        pytest.param(
            ["demo"],
            {
                "energy_daily_prices",
                "energy_marts_refresh",
                "workforce_inputs",
                "workforce_simulation",
                "workforce_reports",
                "prospects_refresh",
                "prospects_marts_refresh",
                "prospects_snapshot",
                "market_daily_close",
                "market_intraday",
                "market_marts_refresh",
            },
            # The whole demo (four domains), beside the daemon's own runs: minutes, not
            # the module's 180 s per test.
            marks=pytest.mark.timeout(900),
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
        if run["jobName"] == "prospects_refresh":  # every draft year, one run
            assert tags["dagster/asset_partition_range_start"] == "2021"
            assert tags["dagster/asset_partition_range_end"] == "2025"
        if run["jobName"] in ("market_definition", "market_ohlcv_1d"):  # months, one run
            assert tags["dagster/asset_partition_range_start"] == "2024-01-01"
            assert tags["dagster/asset_partition_range_end"] == "2024-02-01"


def test_ctrl_c_stops_webserver_and_daemon(dev_server):
    """Last in the module: Ctrl-C (SIGINT to dev.sh's process group, as a terminal sends it)."""
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
