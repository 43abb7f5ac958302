"""`headwater status` and `headwater history` as a user runs them: subprocesses on a real
instance (successful, failed, partial and in-progress runs of small assets that carry the
real asset keys) and a real DuckDB warehouse with tables in every layer; then the same
while another process holds the warehouse open for writing."""

import hashlib
import os
import shutil
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest

from headwater.cli import status
from headwater.clock import last_business_day_before
from resources.warehouse import describe_holder, warehouse_lock
from tests.conftest import REPO_ROOT
from tests.operations.test_freshness import materialize_at

BIN = Path(sys.executable).parent
MONTHS = dg.MonthlyPartitionsDefinition(start_date="2024-01-01", end_offset=0)
FRESH = {"prices": True}  # the outcome of prices_are_fresh in the next run


@dg.asset(
    key=["staging", "eia_prices"],
    partitions_def=MONTHS,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def eia_prices(context) -> None:
    for key in context.partition_keys:
        context.add_asset_metadata({"dagster/row_count": 10}, partition_key=key)


@dg.asset(
    key=["canonical", "commodity_prices"],
    deps=[eia_prices],
    partitions_def=MONTHS,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def commodity_prices(context) -> None:
    for key in context.partition_keys:
        context.add_asset_metadata({"dagster/row_count": 5}, partition_key=key)


@dg.asset_check(asset=commodity_prices, name="prices_are_fresh")
def prices_are_fresh() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=FRESH["prices"], severity=dg.AssetCheckSeverity.WARN)


@dg.asset(key=["marts", "price_panel"])
def price_panel() -> None:
    raise RuntimeError("dbt build failed")


@dg.asset(key=["staging", "prospects_nfl"])
def prospects_nfl() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"dagster/row_count": 7})


@dg.asset_check(asset=prospects_nfl, name="refreshed")
def refreshed() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.ERROR)


DEFS = dg.Definitions(
    assets=[eia_prices, commodity_prices, price_panel, prospects_nfl],
    asset_checks=[prices_are_fresh, refreshed],
    jobs=[
        dg.define_asset_job("energy_daily_prices", [eia_prices, commodity_prices]),
        dg.define_asset_job("energy_marts_refresh", [price_panel]),
        dg.define_asset_job("prospects_refresh", [prospects_nfl]),
    ],
)


def build_warehouse(path: Path) -> dict:
    """Tables in every layer; energy: WTI fresh, BRENT stale, NATGAS missing."""
    fresh = last_business_day_before(date.today())
    stale = fresh - timedelta(days=28)
    snapshot_day = datetime.now(ZoneInfo("America/New_York")).date()
    with duckdb.connect(str(path)) as con:
        for schema in ("staging", "canonical", "marts", "snapshots", "workforce"):
            con.execute(f"CREATE SCHEMA {schema}")
        con.execute("CREATE TABLE staging.eia_prices (price_date DATE, commodity VARCHAR)")
        con.execute(
            "INSERT INTO staging.eia_prices VALUES (?, 'WTI'), (?, 'BRENT')", [fresh, stale]
        )
        con.execute("CREATE TABLE staging.fred_prices (price_date DATE, commodity VARCHAR)")
        con.execute("INSERT INTO staging.fred_prices VALUES (?, 'WTI')", [stale])
        con.execute("CREATE TABLE canonical.commodity_prices (price_date DATE, commodity VARCHAR)")
        con.execute(
            "INSERT INTO canonical.commodity_prices VALUES (?, 'WTI'), (?, 'WTI'), (?, 'BRENT')",
            [stale, fresh, stale],
        )
        con.execute("CREATE TABLE canonical.market_ohlcv_1d (bar_date TIMESTAMP, root VARCHAR)")
        con.execute(
            # root as the pipeline writes it: the parent symbol (assets/market/assets.py)
            "INSERT INTO canonical.market_ohlcv_1d VALUES (?, 'CL.FUT'), (?, 'ES.FUT'), "
            "(?, 'NG.FUT')",
            [fresh, fresh, fresh],
        )
        con.execute("CREATE TABLE marts.price_panel AS SELECT * FROM range(4) t(i)")
        con.execute("CREATE VIEW marts.price_view AS SELECT * FROM marts.price_panel")
        con.execute("CREATE TABLE snapshots.prospects_history (snapshot_date DATE, id INT)")
        con.execute(
            "INSERT INTO snapshots.prospects_history VALUES (?, 1), (?, 2)",
            [snapshot_day, snapshot_day],
        )
        con.execute("CREATE TABLE workforce.fct_workforce_snapshot (simulation_year INT)")
        con.execute("INSERT INTO workforce.fct_workforce_snapshot VALUES (2025), (2026)")
    return {"fresh": fresh, "stale": stale}


def build_instance(home: Path) -> dict[str, str]:
    """Five runs, oldest first: success (CLI), partial (schedule, a WARN check failed),
    failed (sensor), success with a failed ERROR check (backfill), in progress; and,
    outside runs, the market's daily bars now and a prospects snapshot three days ago."""
    ids = {}
    with dg.DagsterInstance.from_config(str(home)) as instance:
        now = datetime.now(UTC)
        materialize_at(instance, dg.AssetKey(["snapshots", "prospects"]), now - timedelta(days=3))
        materialize_at(instance, dg.AssetKey(["canonical", "market_ohlcv_1d"]), now)
        prices = DEFS.resolve_job_def("energy_daily_prices")
        ids["success"] = prices.execute_in_process(
            instance=instance,
            tags={
                "headwater/trigger": "demo",
                "dagster/asset_partition_range_start": "2024-01-01",
                "dagster/asset_partition_range_end": "2024-03-01",
            },
        ).run_id
        FRESH["prices"] = False
        ids["partial"] = prices.execute_in_process(
            instance=instance,
            partition_key="2024-03-01",
            tags={"dagster/schedule_name": "energy_daily_0600"},
        ).run_id
        ids["failed"] = (
            DEFS.resolve_job_def("energy_marts_refresh")
            .execute_in_process(
                instance=instance,
                raise_on_error=False,
                tags={"dagster/sensor_name": "energy_marts_follow_inputs"},
            )
            .run_id
        )
        ids["backfill"] = (
            DEFS.resolve_job_def("prospects_refresh")
            .execute_in_process(instance=instance, tags={"dagster/backfill": "bkfl0001"})
            .run_id
        )
        # A run that started and has not ended (its process is elsewhere).
        marts = DEFS.resolve_job_def("energy_marts_refresh")
        run = instance.create_run_for_job(marts)
        instance.report_dagster_event(
            dg.DagsterEvent(dg.DagsterEventType.RUN_START.value, job_name=marts.name), run.run_id
        )
        ids["running"] = run.run_id
    return ids


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("status")
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    warehouse = root / "warehouse.duckdb"
    days = build_warehouse(warehouse)
    ids = build_instance(home)
    env = os.environ | {
        "DAGSTER_HOME": str(home),
        "HEADWATER_WAREHOUSE": str(warehouse),
        "HEADWATER_SAMPLE_DIR": str(root / "sample"),
        "HEADWATER_DATA_DIR": str(root / "data"),
        "PATH": f"{BIN}:{os.environ['PATH']}",
    }
    return {"env": env, "ids": ids, "warehouse": warehouse, "days": days, "root": root}


def start(env, *args) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "headwater"), *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen, code: int = 0) -> str:
    out, err = process.communicate(timeout=300)
    assert process.returncode == code, out[-3000:] + err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    return out if code == 0 else err


def json_of(process) -> dict:
    import json

    return json.loads(finish(process))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_status_reports_warehouse_freshness_assets_and_automation(site):
    env, ids = site["env"], site["ids"]
    before = digest(site["warehouse"])
    as_json, as_text = start(env, "status", "--json"), start(env, "status")
    doc, text = json_of(as_json), finish(as_text)
    assert digest(site["warehouse"]) == before  # read-only: not a byte changed
    assert not site["warehouse"].with_name("warehouse.duckdb.wal").exists()

    assert doc["instance"]["runs"] == 5
    assert [r["run_id"] for r in doc["instance"]["in_progress"]] == [ids["running"]]
    assert doc["instance"]["definitions"] == "loaded"

    wh = doc["warehouse"]
    assert wh["reachable"] and not wh["busy"] and wh["size_bytes"] > 0
    assert wh["read_s"] < 5  # the writer lock is held for the read only
    layers = {layer["layer"]: layer for layer in wh["layers"]}
    assert layers["staging"] == {"layer": "staging", "tables": 2, "views": 0, "rows": 3}
    assert layers["canonical"] == {"layer": "canonical", "tables": 2, "views": 0, "rows": 6}
    assert layers["marts"] == {"layer": "marts", "tables": 1, "views": 1, "rows": 4}
    assert {
        "schema": "workforce",
        "table": "fct_workforce_snapshot",
        "kind": "table",
        "rows": 2,
    } in wh["tables"]

    # Freshness: the policies' states (no daemon: evaluated by status), the newest data beside.
    rows = {r["asset"]: r for r in doc["freshness"]["rows"]}
    assert list(rows) == [
        "canonical/commodity_prices",
        "",
        "snapshots/prospects",
        "canonical/market_ohlcv_1d",
        "canonical/market_ohlcv_1m",
    ]
    prices = rows["canonical/commodity_prices"]
    assert (prices["domain"], prices["status"], prices["state"]) == ("energy", "FRESH", "PASS")
    assert prices["policy"] == "weekdays by 07:00 America/New_York"
    assert prices["evaluated_by"] == "headwater status" and prices["since"] is None
    assert prices["note"] == "not evaluated yet (the daemon evaluates freshness): evaluated here"
    assert prices["newest"] == site["days"]["fresh"].isoformat()  # max(price_date)
    assert prices["last_materialized"] is not None
    snapshot = rows["snapshots/prospects"]
    assert (snapshot["status"], snapshot["state"]) == ("STALE", "FAIL")  # three days old
    assert snapshot["policy"] == "warn after 1 day 1 h, fail after 2 days"
    assert snapshot["newest"] == datetime.now(ZoneInfo("America/New_York")).date().isoformat()
    daily, minute = rows["canonical/market_ohlcv_1d"], rows["canonical/market_ohlcv_1m"]
    assert (daily["status"], daily["newest"]) == ("FRESH", site["days"]["fresh"].isoformat())
    assert (minute["status"], minute["state"], minute["newest"]) == ("NO DATA", "UNKNOWN", None)
    assert minute["policy"] == "weekdays by 19:00 America/Chicago"
    assert (rows[""]["domain"], rows[""]["status"]) == ("workforce", "n/a")
    assert "years 2025..2026 stored" in rows[""]["note"]
    assert doc["freshness"]["domains"] == {
        "energy": "FRESH",
        "workforce": "n/a",
        "prospects": "STALE",
        "market": "STALE",  # the minute bars were never loaded
    }

    assets = {a["key"]: a for a in doc["assets"]}
    assert len(assets) > 60  # every asset of the definitions, not only those materialized
    prices = assets["canonical/commodity_prices"]
    assert prices["group"] == "energy"
    last = prices["last_materialization"]
    assert (last["run_id"], last["partition"], last["rows"]) == (ids["partial"], "2024-03-01", 5)
    checks = {c["name"]: c for c in prices["checks"]}
    assert checks["prices_are_fresh"]["status"] == "WARN"
    assert checks["prices_are_fresh"]["run_id"] == ids["partial"]
    assert checks["no_negative_prices"]["status"] == "NOT_RUN"
    assert prices["health"]["runs"] == 2 and prices["health"]["success_rate"] == 1.0
    assert prices["health"]["mean_duration_s"] is not None and prices["health"]["rows"] == 20
    eia = assets["staging/eia_prices"]["last_materialization"]
    assert (eia["first_partition"], eia["last_partition"]) == ("2024-03-01", "2024-03-01")
    panel = assets["marts/price_panel"]
    assert panel["last_materialization"] is None
    assert panel["health"] == {
        "runs": 1,
        "materialized": 0,
        "success_rate": 0.0,
        "mean_duration_s": None,
        "rows": None,
    }
    nfl = assets["staging/prospects_nfl"]
    assert nfl["last_materialization"]["rows"] == 7
    assert {c["name"]: c["status"] for c in nfl["checks"]}["refreshed"] == "FAILED"

    auto = doc["automation"]
    assert auto["daemon"] == {"running": False, "last_heartbeat": None}
    items = {(i["kind"], i["name"]): i for i in auto["items"]}
    assert items[("schedule", "energy_daily_0600")]["status"] == "RUNNING"
    assert items[("schedule", "energy_daily_0600")]["set_by"] == "default in code"
    assert "America/New_York" in items[("schedule", "energy_daily_0600")]["detail"]
    assert ("sensor", "headwater_dead_runs") in items

    lines = text.splitlines()
    assert lines[0].startswith("Headwater status at ")
    assert any(line.startswith("Instance ") and "5 runs, 1 in progress" in line for line in lines)
    assert any(ids["running"][:8] in line and "STARTED" in line for line in lines)
    assert any(line.startswith("Warehouse ") and "reachable" in line for line in lines)
    assert any(line.split()[:4] == ["canonical", "2", "0", "6"] for line in lines)
    assert "Freshness  energy FRESH, workforce n/a, prospects STALE, market STALE" in lines
    stale = next(line for line in lines if line.split()[:2] == ["prospects", "snapshots/prospects"])
    assert stale.split()[2] == "STALE"
    assert stale.split()[5] == snapshot["newest"]  # after the last materialization's time
    assert "warn after 1 day 1 h, fail after 2 days" in stale and "evaluated here" in stale
    assets_part = lines[next(i for i, line in enumerate(lines) if line.startswith("Assets ")) :]
    row = next(line for line in assets_part if " canonical/commodity_prices " in line)
    assert "2024-03-01" in row and "1 WARN (prices_are_fresh)" in row and "100%" in row
    assert "9 not run" in row
    assert any(
        " marts/price_panel " in line and " never " in line and "0%" in line for line in lines
    )
    assert any(line.startswith("Automation daemon NOT running") for line in lines)
    assert any(line.split()[:3] == ["schedule", "energy_daily_0600", "RUNNING"] for line in lines)


def test_history_lists_runs_newest_first_with_trigger_rows_and_failing_checks(site):
    env, ids = site["env"], site["ids"]
    as_json, as_text = start(env, "history", "--json"), start(env, "history")
    doc, text = json_of(as_json), finish(as_text)
    runs = doc["runs"]
    assert [r["run_id"] for r in runs] == [
        ids["running"],
        ids["backfill"],
        ids["failed"],
        ids["partial"],
        ids["success"],
    ]
    by = {r["run_id"]: r for r in runs}
    success, partial = by[ids["success"]], by[ids["partial"]]
    assert success["status"] == "SUCCESS" and success["trigger"] == {
        "kind": "CLI",
        "name": "headwater demo",
    }
    assert success["rows"] == 45 and success["materializations"] == 6  # 3 months x 2 assets
    assert success["partitions"] == {"first": "2024-01-01", "last": "2024-03-01"}
    assert success["failing_checks"] == [] and success["checks"]["passed"] == 1
    assert success["duration_s"] > 0
    assert partial["status"] == "SUCCESS"
    assert partial["trigger"] == {"kind": "schedule", "name": "energy_daily_0600"}
    assert partial["failing_checks"] == [
        {"asset": "canonical/commodity_prices", "check": "prices_are_fresh", "severity": "WARN"}
    ]
    assert partial["rows"] == 15 and partial["checks"] == {"passed": 0, "warned": 1, "failed": 0}
    failed = by[ids["failed"]]
    assert failed["status"] == "FAILURE" and failed["rows"] is None
    assert failed["trigger"] == {"kind": "sensor", "name": "energy_marts_follow_inputs"}
    backfill = by[ids["backfill"]]
    assert backfill["trigger"] == {"kind": "backfill", "name": "bkfl0001"}
    assert backfill["failing_checks"][0]["severity"] == "ERROR"
    running = by[ids["running"]]
    assert running["status"] == "STARTED" and running["ended"] is None
    assert running["trigger"]["kind"] == "dagster CLI"  # no tags and no code-location origin

    lines = text.splitlines()
    assert lines[0].split() == [
        "run",
        "job",
        "status",
        "trigger",
        "started",
        "duration",
        "partitions",
        "rows",
        "failing",
        "checks",
    ]
    assert len(lines) == 1 + 5 + 1 and lines[-1].startswith("5 runs, newest first")
    first = lines[-2]
    assert first.startswith(ids["success"][:8]) and "CLI headwater demo" in first
    assert "2024-01-01..2024-03-01" in first and " 45 " in first and first.endswith("-")
    assert lines[-3].endswith("prices_are_fresh WARN") and "schedule energy_daily_0600" in lines[-3]
    assert " so far " in lines[1] and "STARTED" in lines[1]


@pytest.fixture
def in_process(site, monkeypatch, capsys):
    """`headwater ...` called in this process (the filters need no new interpreter each):
    returns (exit code, stdout, stderr)."""
    from headwater import cli

    for name in (
        "DAGSTER_HOME",
        "HEADWATER_WAREHOUSE",
        "HEADWATER_SAMPLE_DIR",
        "HEADWATER_DATA_DIR",
    ):
        monkeypatch.setenv(name, site["env"][name])

    def call(*args: str) -> tuple[int, str, str]:
        code = cli.main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return call


def test_history_filters(site, in_process):
    import json

    ids = site["ids"]
    # One as a user types it, in its own process ...
    both = start(site["env"], "history", "--json", "--job", "energy_daily_prices", "--limit", "1")

    def run_ids(*args: str) -> list[str]:
        code, out, err = in_process("history", "--json", *args)
        assert code == 0, err
        return [r["run_id"] for r in json.loads(out)["runs"]]

    # ... the others in this one.
    assert run_ids("--limit", "2") == [ids["running"], ids["backfill"]]
    assert run_ids("--asset", "staging/eia_prices") == [ids["partial"], ids["success"]]
    assert run_ids("--asset", "canonical.commodity_prices") == [ids["partial"], ids["success"]]
    assert run_ids("--asset", "marts/price_panel", "--limit", "1") == [ids["running"]]
    assert run_ids("--job", "energy_marts_refresh") == [ids["running"], ids["failed"]]
    assert len(run_ids("--since", date.today().isoformat())) == 5
    assert run_ids("--since", (date.today() + timedelta(1)).isoformat()) == []
    code, out, _ = in_process("history", "--since", (date.today() + timedelta(1)).isoformat())
    assert (code, out) == (0, "no runs match\n")
    assert [r["run_id"] for r in json_of(both)["runs"]] == [ids["partial"]]


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--since", "last week"],
            "history: --since 'last week': not a date or time; expected YYYY-MM-DD or YYYY-MM-DDTHH:MM",
        ),
        (["--limit", "0"], "history: --limit 0: expected at least 1 run"),
        (["--limit", "ten"], "history: --limit 'ten': expected a whole number of runs, at least 1"),
        (
            ["--asset", "/"],
            "history: --asset '/': expected an asset key like canonical/commodity_prices",
        ),
    ],
)
def test_history_bad_options_are_one_line_and_exit_2(in_process, args, message):
    code, out, err = in_process("history", *args)
    assert (code, out, err.splitlines()) == (2, "", [message])


def test_a_malformed_date_from_the_command_line(site):
    err = finish(start(site["env"], "history", "--since", "2026-13-45"), code=2)
    assert err.splitlines() == [
        "history: --since '2026-13-45': not a date or time; expected YYYY-MM-DD or YYYY-MM-DDTHH:MM"
    ]


# A run that has the warehouse open for writing: the writer lock, named as a run names it
# (DuckDBWarehouse.setup_for_execution), and a DuckDB connection; it writes once more after
# `status` has looked, and must succeed.
HOLDER = textwrap.dedent("""
    import sys, duckdb
    from resources.warehouse import describe_holder, warehouse_lock
    path, run_id = sys.argv[1], sys.argv[2]
    describe_holder(f"run {run_id} (energy_daily_prices)")
    with warehouse_lock(path, timeout_s=10):
        con = duckdb.connect(path)
        con.execute("INSERT INTO marts.price_panel VALUES (100)")
        print("holding", flush=True)
        sys.stdin.readline()
        con.execute("INSERT INTO marts.price_panel VALUES (101)")
        con.close()
    print("wrote", flush=True)
""")


@pytest.fixture
def writer(site):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(site["warehouse"]), site["ids"]["running"]],
        cwd=REPO_ROOT,
        env=site["env"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "holding", holder.stderr.read()
    yield holder
    if holder.poll() is None:
        holder.kill()
        holder.wait()


def test_status_while_a_run_writes_the_warehouse(site, writer):
    env, ids = site["env"], site["ids"]
    as_json, runs = start(env, "status", "--json"), start(env, "history", "--limit", "1")
    doc, latest = json_of(as_json), finish(runs)
    text = "\n".join(status.render(doc))  # what `headwater status` prints from the same facts

    wh = doc["warehouse"]
    assert wh["busy"] and not wh["reachable"] and wh["layers"] == []
    assert f"run {ids['running']} (energy_daily_prices)" in wh["detail"]
    assert f"pid {writer.pid}" in wh["detail"]
    # The instance part is all there.
    assert [r["run_id"] for r in doc["instance"]["in_progress"]] == [ids["running"]]
    assets = {a["key"]: a for a in doc["assets"]}
    assert assets["canonical/commodity_prices"]["last_materialization"]["run_id"] == ids["partial"]
    # Freshness is the instance's: there while the warehouse is busy; the newest data is not.
    prices = next(r for r in doc["freshness"]["rows"] if r["asset"] == "canonical/commodity_prices")
    assert (prices["status"], prices["newest"]) == ("FRESH", None)
    assert prices["note"].endswith("; warehouse busy")
    assert doc["freshness"]["domains"]["energy"] == "FRESH"
    assert doc["freshness"]["domains"]["workforce"] == "n/a"
    assert any(i["name"] == "energy_daily_0600" for i in doc["automation"]["items"])

    busy = next(line for line in text.splitlines() if line.startswith("Warehouse "))
    assert ": busy, " in busy and f"run {ids['running']} (energy_daily_prices)" in busy
    assert "Freshness  energy FRESH" in text
    assert latest.splitlines()[1].startswith(ids["running"][:8])

    # The writer was not disturbed: it writes again and lets go.
    out, err = writer.communicate("go\n", timeout=60)
    assert writer.returncode == 0 and out.strip() == "wrote", err
    with duckdb.connect(str(site["warehouse"]), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM marts.price_panel").fetchall() == [(6,)]


# Another reader mid-read (a second `headwater status`, or `doctor`): the shared lock and a
# read-only connection, held until the test lets go.
READER = textwrap.dedent("""
    import sys, duckdb
    from resources.warehouse import describe_holder, warehouse_lock
    describe_holder("headwater status (read-only)")
    with warehouse_lock(sys.argv[1], timeout_s=10, shared=True):
        con = duckdb.connect(sys.argv[1], read_only=True)
        print("reading", flush=True)
        sys.stdin.readline()
        con.close()
""")


def test_two_readers_at_once_both_read_and_a_writer_waits_for_them(site):
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(site["warehouse"])], cwd=REPO_ROOT, env=site["env"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert reader.stdout.readline().strip() == "reading", reader.stderr.read()
        doc = json_of(start(site["env"], "status", "--json"))
        wh = doc["warehouse"]
        assert wh["reachable"] and not wh["busy"], wh
        assert {layer["layer"] for layer in wh["layers"]} >= {"staging", "canonical", "marts"}
        newest = {r["asset"]: r["newest"] for r in doc["freshness"]["rows"]}
        assert newest["canonical/commodity_prices"] == site["days"]["fresh"].isoformat()
        with pytest.raises(TimeoutError, match="headwater status"):  # a writer must wait
            with warehouse_lock(site["warehouse"], timeout_s=0):
                pass
    finally:
        out, err = reader.communicate("done\n", timeout=60)
    assert reader.returncode == 0, err
    with warehouse_lock(site["warehouse"], timeout_s=0):  # and gets it once they are done
        pass


def test_a_program_outside_headwater_with_the_file_open_is_reported_busy(tmp_path):
    """A DuckDB shell (no headwater lock) writing the file: DuckDB refuses the read-only
    connection; status says busy with the process instead of failing."""
    path = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(path)).close()
    code = (
        "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('open', flush=True); "
        "sys.stdin.readline()"
    )
    other = subprocess.Popen(
        [sys.executable, "-c", code, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert other.stdout.readline().strip() == "open"
        view = status.read_warehouse(path)
        assert view.state == "busy" and view.detail == f"another process (PID {other.pid})"
        other.communicate("\n", timeout=30)
        assert status.read_warehouse(path).state == "ok"
    finally:
        if other.poll() is None:
            other.kill()
        # read_warehouse names this process in lock files; give it back its default name.
        describe_holder(f"process {os.getpid()}")
