"""What the UI tests share: one `bash scripts/dev.sh` for the whole tests/ui package (the real
Dagster webserver and daemon on 127.0.0.1, with a temporary DAGSTER_HOME and warehouse), a real
browser (Debian's chromium driven by playwright, never `playwright install`), the GraphQL API,
and the directory where screenshots are kept.

Starting dev.sh costs ~15 s, so every module uses the same one. The test marked
`stops_dev_server` (Ctrl-C) ends it: it runs after every other UI test, whatever the order
of the modules. Screenshots go to $HEADWATER_TEST_ARTIFACTS/ui/ (default test-artifacts/ui/ in
the repo, gitignored) under stable names, with a `failed-<test>.png` of the page when a test
that drives the browser fails, and dev.sh's log as dev.log.
"""

import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
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
VIEWPORT = {"width": 1400, "height": 900}
ARTIFACTS = (
    Path(os.environ.get("HEADWATER_TEST_ARTIFACTS") or REPO_ROOT / "test-artifacts").resolve()
    / "ui"
)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "stops_dev_server: ends the shared dev.sh; runs after every other UI test"
    )


@pytest.hookimpl(trylast=True)  # after pytest's own reordering by fixture scope
def pytest_collection_modifyitems(config, items):
    stoppers = [item for item in items if item.get_closest_marker("stops_dev_server")]
    if not stoppers:
        return
    rest = [item for item in items if item not in stoppers]
    here = Path(__file__).parent
    ui = [n for n, item in enumerate(rest) if here in item.path.parents]
    end = ui[-1] + 1 if ui else len(rest)
    items[:] = rest[:end] + stoppers + rest[end:]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    page = getattr(item, "funcargs", {}).get("ui_page")
    if page is not None and report.failed and report.when in ("setup", "call"):
        name = re.sub(r"[^\w.-]+", "_", item.name).strip("_")
        try:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"failed-{name}.png"))
        except Exception:  # a browser that crashed: the failure report stands on its own
            pass
    return report


def free_port() -> int:
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

    def __init__(self, home: Path, port: int, log_path: Path, host: str = "127.0.0.1", **env):
        self.home = home
        self.port = port
        self.url = f"http://{host}:{port}"
        self.log_path = log_path
        self.env = dict(
            os.environ,  # HEADWATER_SAMPLE_DIR as tests/conftest.py set it
            DAGSTER_HOME=str(home),
            HEADWATER_WAREHOUSE=str(home.parent / "warehouse.duckdb"),  # its own
            HEADWATER_UI_PORT=str(port),
            **env,
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

    @classmethod
    def start(cls, base: Path, **kwargs) -> "DevServer":
        """dev.sh on a fresh instance (the repo's dagster.yaml) under `base`."""
        home = base / "dagster_home"
        home.mkdir()
        shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
        return cls(home, free_port(), base / "dev.log", **kwargs)

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


@pytest.fixture(scope="package")
def artifacts() -> Path:
    """Where screenshots are kept; the previous run's are removed, so all are this run's."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    return ARTIFACTS


@pytest.fixture(scope="package")
def dev_server(tmp_path_factory, artifacts):
    manifest = REPO_ROOT / "dbt_project" / "target" / "manifest.json"
    assert manifest.exists(), "run `make setup` (dbt parse) first: dagster-dbt needs the manifest"
    server = DevServer.start(tmp_path_factory.mktemp("dev_ui"))
    try:
        server.wait_until_up()
        yield server
    finally:
        server.kill_everything()
        shutil.copy(server.log_path, artifacts / "dev.log")


@pytest.fixture(scope="package")
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
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    yield page
    context.close()


def skip_onboarding(page, wait_ms: int) -> None:
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


def assert_png(path: Path, min_bytes: int = 20_000) -> None:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])  # IHDR
    assert (width, height) == (VIEWPORT["width"], VIEWPORT["height"]), (width, height)
    assert len(data) > min_bytes, f"{path}: only {len(data)} bytes, the page looks empty"


def screenshot(page, artifacts: Path, name: str) -> Path:
    """The page as it is now, kept as `<name>.png` and checked to be a real picture."""
    path = artifacts / f"{name}.png"
    page.screenshot(path=str(path))
    assert_png(path)
    return path
