"""Freshness policies: Dagster's own, on the assets people read, built from the settings;
`headwater status` reports the state the daemon records (what the UI shows) and, before
the daemon has evaluated a policy, the same policy evaluated against the last
materialization. Times are chosen: materializations are recorded as of a given instant
and status is asked at given instants."""

import os
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from assets.energy import status as energy_status
from assets.energy.config import load_energy_config
from assets.market import status as market_status
from assets.market.config import load_market_config
from assets.prospects import status as prospects_status
from assets.prospects.config import load_prospects_config
from headwater import freshness
from headwater.cli import status
from tests.conftest import REPO_ROOT

NY = ZoneInfo("America/New_York")
PRICES = dg.AssetKey(["canonical", "commodity_prices"])
DAILY_BARS = dg.AssetKey(["canonical", "market_ohlcv_1d"])
MINUTE_BARS = dg.AssetKey(["canonical", "market_ohlcv_1m"])
SNAPSHOT = dg.AssetKey(["snapshots", "prospects"])
# Friday 27 November 2026, a little after the energy schedule's 06:00 (New York).
FRIDAY_RUN = datetime(2026, 11, 27, 6, 5, tzinfo=NY)


def test_policies_are_on_exactly_the_assets_people_read():
    from definitions import defs

    found = {
        s.key: s.freshness_policy for s in defs.resolve_all_asset_specs() if s.freshness_policy
    }
    assert set(found) == {PRICES, DAILY_BARS, MINUTE_BARS, SNAPSHOT}
    assert found == {
        **energy_status.freshness_policies(load_energy_config()),
        **market_status.freshness_policies(load_market_config()),
        **prospects_status.freshness_policies(load_prospects_config()),
    }
    # The settings file's values (config/headwater.yaml; defaults where it has none).
    assert (found[PRICES].deadline_cron, found[PRICES].timezone) == (
        "0 7 * * 1-5",
        "America/New_York",
    )
    assert found[PRICES].lower_bound_delta == timedelta(days=1)
    assert (found[DAILY_BARS].deadline_cron, found[DAILY_BARS].timezone) == (
        "0 19 * * 1-5",
        "America/Chicago",
    )
    assert found[MINUTE_BARS] == found[DAILY_BARS]
    assert found[SNAPSHOT].fail_window.to_timedelta() == timedelta(days=2)
    assert found[SNAPSHOT].warn_window.to_timedelta() == timedelta(days=1, hours=1)


def test_the_windows_come_from_the_settings(tmp_path):
    path = tmp_path / "headwater.yaml"
    path.write_text(
        "energy:\n  schedule_time: '05:30'\n  schedule_timezone: Europe/London\n"
        "market:\n  schedule_time: '23:15'\n  schedule_timezone: Asia/Tokyo\n"
        "prospects:\n  snapshot_max_age_days: 3\n"
    )
    prices = energy_status.freshness_policies(load_energy_config(path))[PRICES]
    assert (prices.deadline_cron, prices.timezone) == ("30 6 * * 1-5", "Europe/London")
    bars = market_status.freshness_policies(load_market_config(path))
    # 23:15 + the hour of grace is past midnight: a weekday's bars are due the next morning.
    assert {(p.deadline_cron, p.timezone) for p in bars.values()} == {
        ("15 0 * * 2-6", "Asia/Tokyo")
    }
    snapshot = prospects_status.freshness_policies(load_prospects_config(path))[SNAPSHOT]
    assert snapshot.warn_window.to_timedelta() == timedelta(days=3, hours=1)
    assert snapshot.fail_window.to_timedelta() == timedelta(days=4)
    assert freshness.describe(prices) == "weekdays by 06:30 Europe/London"
    assert freshness.describe(snapshot) == "warn after 3 days 1 h, fail after 4 days"


def test_a_weekday_deadline_holds_over_the_weekend():
    policy = freshness.weekday_deadline("06:00", "America/New_York")
    last = FRIDAY_RUN.timestamp()

    def at(*args) -> str:
        return freshness.evaluate(policy, last, datetime(*args, tzinfo=NY))

    assert at(2026, 11, 27, 7, 0) == "PASS"  # Friday's deadline met
    assert at(2026, 11, 28, 12, 0) == "PASS"  # Saturday: no deadline
    assert at(2026, 11, 30, 6, 59) == "PASS"  # Monday before its deadline
    assert at(2026, 11, 30, 7, 0) == "FAIL"  # Monday's run missing
    assert freshness.evaluate(policy, None, datetime(2026, 11, 30, tzinfo=NY)) == "UNKNOWN"
    # A run before Thursday's deadline window does not count for Friday.
    early = datetime(2026, 11, 26, 6, 59, tzinfo=NY).timestamp()
    assert freshness.evaluate(policy, early, datetime(2026, 11, 27, 7, 0, tzinfo=NY)) == "FAIL"


def test_a_time_window_warns_then_fails():
    policy = freshness.max_age(1)
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    for age, state in [
        (timedelta(hours=24), "PASS"),
        (timedelta(hours=25), "WARN"),
        (timedelta(hours=47, minutes=59), "WARN"),
        (timedelta(hours=48), "FAIL"),
    ]:
        assert freshness.evaluate(policy, (now - age).timestamp(), now) == state, age


def test_a_policy_for_an_asset_not_defined_is_an_error():
    @dg.asset(key=["canonical", "other"])
    def other() -> None: ...

    with pytest.raises(ValueError, match="snapshots/prospects"):
        freshness.with_policies([other], {SNAPSHOT: freshness.max_age(1)})


def materialize_at(instance: dg.DagsterInstance, key: dg.AssetKey, when: datetime) -> None:
    """A materialization recorded as of `when`: Dagster stamps an event with time.time()."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(time, "time", lambda: when.timestamp())
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key))


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    for name, value in {
        "DAGSTER_HOME": home,
        "HEADWATER_WAREHOUSE": tmp_path / "warehouse.duckdb",
        "HEADWATER_SAMPLE_DIR": tmp_path / "sample",
        "HEADWATER_DATA_DIR": tmp_path / "data",
    }.items():
        monkeypatch.setenv(name, str(value))
    return home


def rows_at(now: datetime) -> dict[str, dict]:
    doc = status.collect(now=now)
    return {r["asset"]: r for r in doc["freshness"]["rows"]} | {"": doc["freshness"]["domains"]}


def test_status_reports_fresh_then_stale_as_time_passes_and_runs_happen(home):
    assert rows_at(FRIDAY_RUN)[PRICES.to_user_string()]["status"] == "NO DATA"
    with dg.DagsterInstance.get() as instance:
        materialize_at(instance, PRICES, FRIDAY_RUN)
        materialize_at(instance, SNAPSHOT, FRIDAY_RUN)

    saturday = rows_at(datetime(2026, 11, 28, 6, 0, tzinfo=NY))
    prices, snapshot = saturday["canonical/commodity_prices"], saturday["snapshots/prospects"]
    assert (prices["status"], prices["state"], prices["evaluated_by"]) == (
        "FRESH",
        "PASS",
        "headwater status",
    )
    assert prices["note"] == "not evaluated yet (the daemon evaluates freshness): evaluated here"
    assert prices["policy"] == "weekdays by 07:00 America/New_York"
    assert prices["last_materialized"] == FRIDAY_RUN.astimezone(UTC).isoformat()
    assert snapshot["status"] == "FRESH"
    assert saturday[""]["energy"] == "FRESH" and saturday[""]["prospects"] == "FRESH"
    assert saturday[""]["market"] == "NO DATA" and saturday[""]["workforce"] == "n/a"

    # Saturday 07:10: a day and an hour since the snapshot: today's is late.
    later = rows_at(datetime(2026, 11, 28, 7, 10, tzinfo=NY))
    assert later["snapshots/prospects"]["status"] == "WARN" and later[""]["prospects"] == "WARN"
    assert later["canonical/commodity_prices"]["status"] == "FRESH"  # no deadline on weekends

    monday = datetime(2026, 11, 30, 7, 0, tzinfo=NY)
    late = rows_at(monday)
    assert late["canonical/commodity_prices"]["status"] == "STALE"
    assert late["canonical/commodity_prices"]["state"] == "FAIL"
    assert late["snapshots/prospects"]["status"] == "STALE"
    assert late[""]["energy"] == "STALE"

    # Monday's run comes late: fresh again, and it also counts for Tuesday's deadline (it
    # is within the day before it); Wednesday's finds nothing newer.
    with dg.DagsterInstance.get() as instance:
        materialize_at(instance, PRICES, monday + timedelta(minutes=30))
    again = rows_at(monday + timedelta(hours=1))
    assert again["canonical/commodity_prices"]["status"] == "FRESH"
    assert rows_at(monday + timedelta(days=1))["canonical/commodity_prices"]["status"] == "FRESH"
    assert rows_at(monday + timedelta(days=2))["canonical/commodity_prices"]["status"] == "STALE"

    text = "\n".join(status.render(status.collect(now=monday + timedelta(hours=1))))
    line = next(x for x in text.splitlines() if " canonical/commodity_prices " in x)
    assert line.split()[:3] == ["energy", "canonical/commodity_prices", "FRESH"]
    assert "weekdays by 07:00 America/New_York" in line and "headwater status" in line
    assert "Freshness  energy FRESH, workforce n/a, prospects STALE, market NO DATA" in text


# ---- the daemon and the UI -------------------------------------------------------------------

ASSET_FRESHNESS = """
query Freshness($keys: [AssetKeyInput!]) {
  assetNodes(assetKeys: $keys) {
    assetKey { path }
    freshnessStatusInfo { freshnessStatus }
    internalFreshnessPolicy {
      __typename
      ... on CronFreshnessPolicy { deadlineCron timezone lowerBoundDeltaSeconds }
      ... on TimeWindowFreshnessPolicy { failWindowSeconds warnWindowSeconds }
    }
  }
}
"""


@pytest.mark.slow
def test_the_daemon_records_the_state_the_ui_and_status_show(tmp_path, home):
    """`dagster dev` (webserver and daemon on the project's workspace): the freshness daemon
    records each policy's state; the UI's GraphQL and `headwater status` show that state."""
    from tests.operations.test_dagster_commands import Running, graphql

    just_now = datetime.now(UTC) - timedelta(seconds=1)
    with dg.DagsterInstance.get() as instance:
        materialize_at(instance, PRICES, just_now)
    bin_dir = Path(sys.executable).parent
    env = os.environ | {
        "FRESHNESS_DAEMON_INTERVAL_SECONDS": "1",  # Dagster's default: 30
        "VIRTUAL_ENV": str(bin_dir.parent),
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
    }
    dev = Running([str(bin_dir / "dagster"), "dev"], env, tmp_path / "dev.log")
    try:
        keys = [PRICES, DAILY_BARS, MINUTE_BARS, SNAPSHOT]
        deadline = time.monotonic() + 120
        with dg.DagsterInstance.get() as instance:
            while len(records := instance.get_freshness_state_records(keys)) < len(keys):
                assert time.monotonic() < deadline, (tmp_path / "dev.log").read_text()[-3000:]
                assert dev.proc.poll() is None, (tmp_path / "dev.log").read_text()[-3000:]
                time.sleep(0.5)
        states = {k.to_user_string(): r.freshness_state.value for k, r in records.items()}
        assert states == {
            "canonical/commodity_prices": "PASS",
            "canonical/market_ohlcv_1d": "UNKNOWN",
            "canonical/market_ohlcv_1m": "UNKNOWN",
            "snapshots/prospects": "UNKNOWN",
        }
        dev.wait_loaded()
        nodes = graphql(
            dev.port, ASSET_FRESHNESS, {"keys": [{"path": k.path} for k in (PRICES, SNAPSHOT)]}
        )["assetNodes"]
        ui = {"/".join(n["assetKey"]["path"]): n for n in nodes}
        assert ui["canonical/commodity_prices"]["freshnessStatusInfo"] == {
            "freshnessStatus": "HEALTHY"
        }
        assert ui["canonical/commodity_prices"]["internalFreshnessPolicy"] == {
            "__typename": "CronFreshnessPolicy",
            "deadlineCron": "0 7 * * 1-5",
            "timezone": "America/New_York",
            "lowerBoundDeltaSeconds": 86400,
        }
        assert ui["snapshots/prospects"]["freshnessStatusInfo"] == {"freshnessStatus": "UNKNOWN"}

        rows = rows_at(datetime.now(UTC))
        prices = rows["canonical/commodity_prices"]
        assert (prices["status"], prices["state"], prices["evaluated_by"]) == (
            "FRESH",
            "PASS",
            "daemon",
        )
        assert prices["since"] == records[PRICES].updated_at.isoformat() and prices["note"] == ""
        assert rows["snapshots/prospects"]["status"] == "NO DATA"
    finally:
        dev.stop()

    # The daemon stopped: status still shows what it recorded (as the UI does), and says
    # when the policy now says otherwise.
    stale = rows_at(datetime.now(UTC) + timedelta(days=5))["canonical/commodity_prices"]
    assert (stale["status"], stale["evaluated_by"]) == ("FRESH", "daemon")
    assert stale["note"] == "the daemon is not running: by the policy now FAIL"
