"""The UI in a real browser, as a user goes through it: each domain's asset group drawn, one
partition of a partitioned asset materialized by clicking through Dagster's launch dialog, and
that asset's checks with the results of the run. Each step is kept as a screenshot in the
artifacts directory (conftest.py).

The asset is staging/prospects_nfl, draft year 2024: one sample file, a second of work, and
nothing follows it automatically (the prospects marts follow canonical prospects, which it does
not touch), so the run sets off no sensor run that another UI test would meet. An energy staging
month would: the energy marts' automation sensor then rebuilds marts/price_freshness, a run
that test_dev_ui.py's daemon test would count as its own.
"""

import re
import time

import pytest
from playwright.sync_api import expect

from tests.ui.conftest import CHROMIUM, screenshot, skip_onboarding

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (apt `chromium`)"),
    pytest.mark.timeout(300),  # each test, the package's dev.sh start-up or the run included
]

# An asset each group's graph shows in its first view (1400x900). A large group is drawn zoomed
# out, with long names shortened ("fct_work…_snapshot"), so these are short names.
GROUPS = {
    "energy": "commodity_prices",
    "workforce": "stg_census_data",
    "prospects": "prospects_nfl",
    "market": "market_ohlcv_1d",
}
ASSET = ("staging", "prospects_nfl")
PARTITION = "2024"
CHECKS = ("loaded_share", "refreshed")
RUN_TIMEOUT_S = 180  # queued behind any run that holds the warehouse, on a loaded machine
TERMINAL = ("SUCCESS", "FAILURE", "CANCELED")

RUN_QUERY = """
{
  runOrError(runId: "%s") {
    __typename
    ... on Run { status assetSelection { path } tags { key value } }
  }
}
"""

MATERIALIZATION_QUERY = """
{
  assetOrError(assetKey: {path: %s}) {
    ... on Asset { assetMaterializations(partitions: ["%s"], limit: 1) { runId partition } }
  }
}
"""

CHECKS_QUERY = """
{
  assetNodeOrError(assetKey: {path: %s}) {
    ... on AssetNode {
      assetChecksOrError {
        ... on AssetChecks {
          checks { name executionForLatestMaterialization { runId status evaluation { success } } }
        }
      }
    }
  }
}
"""


def _key(asset: tuple[str, ...]) -> str:
    return "[" + ", ".join(f'"{part}"' for part in asset) + "]"


@pytest.fixture(scope="module", autouse=True)
def _no_onboarding(dev_server, ui_page):
    """This module may be the first to open the UI of a fresh instance."""
    ui_page.goto(f"{dev_server.url}/assets")
    expect(ui_page.locator("body")).to_contain_text("commodity_prices")
    skip_onboarding(ui_page, wait_ms=5_000)


@pytest.mark.parametrize("group", GROUPS)
def test_group_page_draws_its_assets(dev_server, ui_page, artifacts, group):
    ui_page.goto(f"{dev_server.url}/locations/headwater/asset-groups/{group}")
    expect(ui_page.get_by_text("Asset Group in").first).to_be_visible()
    # Asset nodes are HTML in SVG foreignObjects, drawn once the layout is done.
    nodes = ui_page.locator("foreignObject")
    expect(nodes.filter(has_text=GROUPS[group]).first).to_be_visible()
    assert nodes.count() > 1, f"group {group}: one node drawn"
    expect(ui_page.locator("body")).not_to_contain_text("Cycle detected")
    screenshot(ui_page, artifacts, f"group_{group}")


@pytest.fixture(scope="module")
def run_from_ui(dev_server, ui_page, artifacts) -> str:
    """Materialize one partition by clicking, as a user does: the launched run's id."""
    page = ui_page
    page.goto(f"{dev_server.url}/assets/{'/'.join(ASSET)}")
    page.get_by_role("button", name="Materialize…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Launch runs to materialize {' / '.join(ASSET)}")
    dialog.get_by_text("Select a partition or create one").click()
    page.get_by_role("menuitem", name=PARTITION).click()
    # Close the partition list by clicking the dialog's title (Escape could close the dialog).
    dialog.get_by_text("Launch runs to materialize").click()
    expect(page.get_by_role("menuitem", name="Select all")).to_have_count(0)
    expect(dialog).to_contain_text("1 partition")
    launch = dialog.get_by_role("button", name="Launch 1 run")
    expect(launch).to_be_enabled()
    screenshot(page, artifacts, "materialize_1_partition_chosen")
    launch.click()
    # The toast "Launched run 1a2b3c4d [View]" links to the run's page (read at once: a toast
    # goes away after a few seconds).
    expect(page.get_by_text(re.compile(r"Launched run [0-9a-f]{8}"))).to_be_visible()
    view = page.locator("a[href^='/runs/']").filter(has_text=re.compile(r"^View$"))
    href = view.get_attribute("href")
    screenshot(page, artifacts, "materialize_2_launched")
    match = re.fullmatch(r"/runs/([0-9a-f-]{36})", href or "")
    assert match, f"the toast links to {href!r}, not a run"
    return match[1]


def _wait_for_run(dev_server, run_id: str) -> dict:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while True:
        run = dev_server.graphql(RUN_QUERY % run_id)["runOrError"]
        assert run["__typename"] == "Run", run
        if run["status"] in TERMINAL or time.monotonic() > deadline:
            return run
        time.sleep(2)


def test_materialize_one_partition_from_the_ui(dev_server, ui_page, artifacts, run_from_ui):
    run = _wait_for_run(dev_server, run_from_ui)
    assert run["status"] == "SUCCESS", (run_from_ui, run["status"], dev_server.log_tail())
    assert [a["path"] for a in run["assetSelection"]] == [list(ASSET)]
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert tags["dagster/partition"] == PARTITION and tags["dagster/from_ui"] == "true", tags

    # The run's page (where the toast leads) says so.
    ui_page.goto(f"{dev_server.url}/runs/{run_from_ui}")
    expect(ui_page.get_by_text("Success", exact=True).first).to_be_visible()
    expect(ui_page.locator("body")).to_contain_text(f"partition: {PARTITION}")
    screenshot(ui_page, artifacts, "materialize_3_run_succeeded")

    # The asset's Partitions tab shows the partition materialized, by that run.
    ui_page.goto(f"{dev_server.url}/assets/{'/'.join(ASSET)}?view=partitions")
    ui_page.get_by_text(PARTITION, exact=True).first.click()
    expect(ui_page.get_by_text("Materialized", exact=True).first).to_be_visible()
    expect(ui_page.get_by_role("link", name=run_from_ui[:8])).to_be_visible()
    screenshot(ui_page, artifacts, "materialize_4_partition_materialized")
    asset = dev_server.graphql(MATERIALIZATION_QUERY % (_key(ASSET), PARTITION))["assetOrError"]
    assert asset["assetMaterializations"] == [{"runId": run_from_ui, "partition": PARTITION}]


def test_staging_checks_show_the_runs_results(dev_server, ui_page, artifacts, run_from_ui):
    assert _wait_for_run(dev_server, run_from_ui)["status"] == "SUCCESS"
    ui_page.goto(f"{dev_server.url}/assets/{'/'.join(ASSET)}")
    ui_page.get_by_role("tab", name="Checks").click()
    expect(ui_page.get_by_text(f"Checks ({len(CHECKS)})")).to_be_visible()
    for name in CHECKS:
        # A check in the list: its name (a middle-truncated title) above its last result.
        entry = ui_page.locator(f'[title="{name}"]').first.locator("xpath=..")
        expect(entry).to_contain_text("Succeeded")
        entry.click()
        expect(ui_page).to_have_url(re.compile(rf"checkDetail={name}\b"))
        expect(ui_page.get_by_text("Evaluation result")).to_be_visible()
        expect(ui_page.get_by_text("Passed", exact=True).first).to_be_visible()
        screenshot(ui_page, artifacts, f"checks_{name}")
    node = dev_server.graphql(CHECKS_QUERY % _key(ASSET))["assetNodeOrError"]
    latest = {
        c["name"]: c["executionForLatestMaterialization"]
        for c in node["assetChecksOrError"]["checks"]
    }
    assert sorted(latest) == sorted(CHECKS)
    for name, execution in latest.items():
        assert execution["runId"] == run_from_ui, (name, execution)
        assert execution["status"] == "SUCCEEDED" and execution["evaluation"]["success"], name
