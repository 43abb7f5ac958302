from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from definitions import defs

NEW_YORK = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")
daily_schedule = defs.resolve_schedule_def("energy_daily_0600")


def test_schedule_is_06_00_new_york_every_day():
    assert daily_schedule.cron_schedule == "0 6 * * *"
    assert daily_schedule.execution_timezone == "America/New_York"
    assert daily_schedule.job_name == "energy_daily_prices"


@pytest.mark.parametrize(
    "utc_tick, case, partition",
    [
        # 06:00 EST is 11:00 UTC; 06:00 EDT is 10:00 UTC. Either way, yesterday's month.
        (datetime(2024, 1, 16, 11, 0, tzinfo=UTC), "winter", "2024-01-01"),
        (datetime(2024, 7, 16, 10, 0, tzinfo=UTC), "summer", "2024-07-01"),
        # The days clocks spring forward and fall back: still 06:00 local.
        (datetime(2024, 3, 10, 10, 0, tzinfo=UTC), "spring forward", "2024-03-01"),
        (datetime(2024, 11, 3, 11, 0, tzinfo=UTC), "fall back", "2024-11-01"),
        # The first of a month completes the month just ended, across a year end too.
        (datetime(2024, 3, 1, 11, 0, tzinfo=UTC), "first of March", "2024-02-01"),
        (datetime(2025, 1, 1, 11, 0, tzinfo=UTC), "New Year's Day", "2024-12-01"),
        # Still the 1st in New York (23:30 UTC is 18:30 or 19:30 local) is never a tick,
        # but 06:00 local on the 2nd is already the month in progress.
        (datetime(2024, 3, 2, 11, 0, tzinfo=UTC), "second of March", "2024-03-01"),
    ],
)
def test_tick_at_06_00_local_materializes_the_month_holding_yesterday(utc_tick, case, partition):
    assert utc_tick.astimezone(NEW_YORK).hour == 6, case
    context = dg.build_schedule_context(
        scheduled_execution_time=utc_tick, repository_def=defs.get_repository_def()
    )
    requests = list(daily_schedule.evaluate_tick(context).run_requests or [])
    assert [r.partition_key for r in requests] == [partition], case
