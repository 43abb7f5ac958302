from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from definitions import defs

NEW_YORK = ZoneInfo("America/New_York")
daily_schedule = defs.resolve_schedule_def("energy_daily_0600")


def test_schedule_is_06_00_new_york():
    assert daily_schedule.cron_schedule == "0 6 * * *"
    assert daily_schedule.execution_timezone == "America/New_York"


@pytest.mark.parametrize(
    "utc_tick, season, partition",
    [
        # 06:00 EST is 11:00 UTC; 06:00 EDT is 10:00 UTC. Either way, yesterday's prices.
        (datetime(2024, 1, 16, 11, 0, tzinfo=ZoneInfo("UTC")), "winter", "2024-01-15"),
        (datetime(2024, 7, 16, 10, 0, tzinfo=ZoneInfo("UTC")), "summer", "2024-07-15"),
        # The day clocks spring forward: still 06:00 local, yesterday's partition.
        (datetime(2024, 3, 10, 10, 0, tzinfo=ZoneInfo("UTC")), "DST change", "2024-03-09"),
    ],
)
def test_tick_at_06_00_local_materializes_yesterday(utc_tick, season, partition):
    assert utc_tick.astimezone(NEW_YORK).hour == 6, season
    context = dg.build_schedule_context(scheduled_execution_time=utc_tick)
    requests = list(daily_schedule.evaluate_tick(context).run_requests or [])
    assert [r.partition_key for r in requests] == [partition]
