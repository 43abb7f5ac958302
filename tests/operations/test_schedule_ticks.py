"""Every schedule's ticks as Dagster's scheduler computes them (the code location served as
the daemon loads it), across both daylight-saving changes of its time zone: the local
time never moves, the UTC time does. (The market's weekday schedule has its own test in
tests/market/test_automation.py; what each tick requests is tested with each domain.)"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from definitions import defs
from tests.schedule_ticks import code_location, ticks_between

# schedule -> (local time, time zone, days of the week it runs)
DAILY = {
    "energy_daily_0600": (time(6), "America/New_York", range(7)),
    "prospects_daily": (time(7), "America/New_York", range(7)),
    "market_after_close": (time(18), "America/Chicago", range(5)),
}


@pytest.fixture(scope="module")
def workspace():
    with code_location() as ctx:
        yield ctx


def test_every_schedule_is_listed_here():
    names = {s.name for s in defs.schedules}
    assert names == set(DAILY)
    for name, (at, zone, weekdays) in DAILY.items():
        schedule = defs.resolve_schedule_def(name)
        assert schedule.execution_timezone == zone, name
        days = "*" if len(weekdays) == 7 else "1-5"
        assert schedule.cron_schedule == f"{at.minute} {at.hour} * * {days}", name
        assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING, name


@pytest.mark.parametrize("name", sorted(DAILY))
@pytest.mark.parametrize(
    "change, first",
    # 2026: clocks spring forward on Sunday March 8 and fall back on Sunday November 1, in
    # New York and Chicago alike.
    [("spring forward", date(2026, 3, 5)), ("fall back", date(2026, 10, 29))],
)
def test_ticks_keep_their_local_time_across_dst(workspace, name, change, first):
    at, zone_name, weekdays = DAILY[name]
    zone = ZoneInfo(zone_name)
    days = [first + timedelta(days=i) for i in range(7)]
    expected = [
        datetime.combine(day, at, zone).astimezone(UTC) for day in days if day.weekday() in weekdays
    ]
    start = datetime.combine(first, time(0), zone).astimezone(UTC)
    ticks = ticks_between(workspace, name, start, start + timedelta(days=7))
    assert ticks == expected, (name, change)
    local = [t.astimezone(zone) for t in ticks]
    assert {(t.hour, t.minute) for t in local} == {(at.hour, at.minute)}
    # the UTC hour moves by one across the change
    assert len({t.hour for t in ticks}) == 2, (name, change)
