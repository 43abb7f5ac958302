"""The market's automation: the schedule after the CME close (its ticks as Dagster computes
them, across both daylight-saving changes, and what each tick requests), the sensor that
loads the day's intraday data after a scheduled close run, and the Definitions."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from assets.market import config as market_config
from assets.market.definitions import CONFIG, DAY_TAG
from definitions import defs
from headwater.cli.runs import run_job
from tests.schedule_ticks import code_location, ticks_between

CHICAGO = ZoneInfo("America/Chicago")
schedule = defs.resolve_schedule_def("market_after_close")
sensor = defs.resolve_sensor_def("market_intraday_after_close")
# Every schema Headwater loads, definitions first (the others depend on them).
SCHEMAS = ("definition", *(s for s in market_config.SCHEMAS if s != "definition"))

# ---- the schedule ---------------------------------------------------------------------------


def test_schedule_runs_the_daily_close_job_weekdays_at_18_00_chicago():
    assert schedule.cron_schedule == "0 18 * * 1-5"
    assert schedule.execution_timezone == "America/Chicago"
    assert schedule.job_name == "market_daily_close"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


@pytest.fixture(scope="module")
def workspace():
    with code_location() as ctx:
        yield ctx


def weekday_closes(first: date, last: date) -> list[datetime]:
    """18:00 Chicago on each weekday from first to last, in UTC."""
    out, day = [], first
    while day <= last:
        if day.weekday() < 5:
            out.append(datetime.combine(day, time(18), CHICAGO).astimezone(UTC))
        day += timedelta(days=1)
    return out


@pytest.mark.parametrize(
    "change, first, last",
    [
        # Clocks spring forward on Sunday 2026-03-08 and fall back on Sunday 2026-11-01.
        ("spring forward", date(2026, 3, 2), date(2026, 3, 13)),
        ("fall back", date(2026, 10, 26), date(2026, 11, 6)),
    ],
)
def test_ticks_are_18_00_chicago_on_weekdays_across_dst_changes(workspace, change, first, last):
    start = datetime.combine(first, time(0), UTC)
    ticks = ticks_between(
        workspace, "market_after_close", start, start + timedelta(days=(last - first).days + 2)
    )
    assert ticks == weekday_closes(first, last), change
    assert len(ticks) == 10  # two working weeks, no weekend day
    local = [t.astimezone(CHICAGO) for t in ticks]
    assert all((t.hour, t.minute) == (18, 0) and t.weekday() < 5 for t in local)
    # 18:00 CST is 00:00 UTC the next day; 18:00 CDT is 23:00 UTC the same day.
    before, after = ticks[:5], ticks[5:]
    cst, cdt = (0, 23)
    expected = (cst, cdt) if change == "spring forward" else (cdt, cst)
    assert {t.hour for t in before} == {expected[0]}, change
    assert {t.hour for t in after} == {expected[1]}, change


def evaluate(tick: datetime) -> dg.RunRequest:
    context = dg.build_schedule_context(
        scheduled_execution_time=tick, repository_def=defs.get_repository_def()
    )
    [request] = schedule.evaluate_tick(context).run_requests
    return request


@pytest.mark.parametrize(
    "utc_tick, chicago_day",
    [
        # CST, 00:00 UTC: the UTC date is already the next day (and month, and year).
        (datetime(2026, 1, 1, 0, 0, tzinfo=UTC), date(2025, 12, 31)),
        (datetime(2026, 12, 1, 0, 0, tzinfo=UTC), date(2026, 11, 30)),
        # CDT, 23:00 UTC: the same date.
        (datetime(2026, 7, 31, 23, 0, tzinfo=UTC), date(2026, 7, 31)),
        # The first weekday after each change.
        (datetime(2026, 3, 9, 23, 0, tzinfo=UTC), date(2026, 3, 9)),
        (datetime(2026, 11, 3, 0, 0, tzinfo=UTC), date(2026, 11, 2)),
    ],
)
def test_a_tick_requests_the_month_holding_the_chicago_day(utc_tick, chicago_day):
    assert utc_tick.astimezone(CHICAGO).date() == chicago_day
    assert utc_tick.astimezone(CHICAGO).hour == 18
    request = evaluate(utc_tick)
    assert request.partition_key == chicago_day.replace(day=1).isoformat()
    assert request.tags[DAY_TAG] == chicago_day.isoformat()
    partitions = defs.resolve_job_def("market_daily_close").partitions_def
    assert partitions.has_partition_key(request.partition_key)
    # One run per trading day: the same tick asks again under the same key, another
    # day under another.
    assert evaluate(utc_tick).run_key == request.run_key
    assert evaluate(utc_tick + timedelta(days=1)).run_key != request.run_key


# ---- the sensor -----------------------------------------------------------------------------


INTRADAY_DAY = "2026-11-30"  # a Monday, after market.intraday_start_date


@pytest.fixture(scope="module")
def close_run(tmp_path_factory):
    """A real, successful market_daily_close run of November 2026 carrying the schedule's
    day tag, on a temporary warehouse and instance."""
    warehouse = tmp_path_factory.mktemp("market-automation") / "warehouse.duckdb"
    with dg.instance_for_test() as instance, pytest.MonkeyPatch.context() as mp:
        mp.setenv("HEADWATER_WAREHOUSE", str(warehouse))
        result = run_job(
            defs,
            "market_daily_close",
            ("2026-11-01", "2026-11-01"),
            instance,
            tags={DAY_TAG: INTRADAY_DAY},
            run_config={
                "ops": {
                    f"market_{s.replace('-', '_')}_load": {"config": {"symbols": ["CL.FUT"]}}
                    for s in ("definition", "ohlcv-1d", "statistics")
                }
            },
        )
        assert result.success
        yield instance, instance.get_run_by_id(result.run_id)


def success_event(instance, run) -> dg.DagsterEvent:
    """The run's own RUN_SUCCESS event from the instance's event log."""
    records = instance.get_records_for_run(
        run.run_id, of_type=dg.DagsterEventType.RUN_SUCCESS
    ).records
    [record] = records
    return record.event_log_entry.dagster_event


def sensor_result(instance, run, event: dg.DagsterEvent):
    context = dg.build_run_status_sensor_context(
        sensor_name=sensor.name, dagster_instance=instance, dagster_run=run, dagster_event=event
    )
    return sensor(context)


def test_after_a_scheduled_close_the_sensor_requests_that_days_intraday_run(close_run):
    instance, run = close_run
    assert isinstance(sensor, dg.RunStatusSensorDefinition)
    assert run.status == dg.DagsterRunStatus.SUCCESS and run.tags[DAY_TAG] == INTRADAY_DAY
    request = sensor_result(instance, run, success_event(instance, run))
    assert isinstance(request, dg.RunRequest), request
    assert request.partition_key == INTRADAY_DAY
    intraday = defs.resolve_job_def("market_intraday")
    assert intraday.partitions_def.has_partition_key(request.partition_key)
    # The sensor launches market_intraday (the request names no other job).
    assert request.job_name in (None, "market_intraday")
    assert sensor.job_name == "market_intraday"


def test_the_sensor_skips_runs_without_the_day_tag_or_before_intraday_data(close_run):
    instance, _ = close_run
    job = defs.resolve_job_def("market_daily_close")
    untagged = instance.create_run_for_job(job, status=dg.DagsterRunStatus.SUCCESS)
    event = dg.DagsterEvent(event_type_value="PIPELINE_SUCCESS", job_name=job.name)
    skipped = sensor_result(instance, untagged, event)
    assert isinstance(skipped, dg.SkipReason) and DAY_TAG in skipped.skip_message
    early = (CONFIG.intraday_start_date - timedelta(days=1)).isoformat()
    too_early = instance.create_run_for_job(
        job, status=dg.DagsterRunStatus.SUCCESS, tags={DAY_TAG: early}
    )
    assert isinstance(sensor_result(instance, too_early, event), dg.SkipReason)


# ---- the definitions ------------------------------------------------------------------------


def test_definitions_hold_every_market_asset_job_and_check():
    assert defs.resolve_job_def("market_ohlcv_1d").partitions_def is not None
    for job in ("market_daily_close", "market_intraday", "market_marts_refresh"):
        defs.resolve_job_def(job)
    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    expected = set()
    for schema in SCHEMAS:
        name = "market_" + schema.replace("-", "_")
        expected |= {dg.AssetKey(["staging", name]), dg.AssetKey(["canonical", name])}
        defs.resolve_job_def(name)
    marts = {
        dg.AssetKey(["marts", m])
        for m in ("market_instruments", "market_contract_settlements", "market_front_month_daily")
    }
    assert expected | marts <= keys
    market = {k for k in keys if k.path[-1].startswith("market_")}
    assert market == expected | marts
    checks = {(c.asset_key, c.name) for c in graph.asset_check_keys}
    for schema in SCHEMAS:
        name = "market_" + schema.replace("-", "_")
        canonical = dg.AssetKey(["canonical", name])
        for check in ("contracts_mapped", "unique_records", "prices_positive"):
            assert (canonical, check) in checks, (canonical, check)
        assert (dg.AssetKey(["staging", name]), "records_conserved") in checks
    front = dg.AssetKey(["marts", "market_front_month_daily"])
    assert (front, "market_front_unique_day") in checks
    # Definitions load first: every other schema's staging depends on them.
    definition = dg.AssetKey(["canonical", "market_definition"])
    for schema in SCHEMAS[1:]:
        staging = dg.AssetKey(["staging", "market_" + schema.replace("-", "_")])
        assert definition in graph.get(staging).parent_keys, schema
