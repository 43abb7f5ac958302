"""Days as the domains count them: business days, and the day a run starts.

Core: what more than one domain (and the commands) reason about, so no domain has to
import another's rules for it.
"""

from datetime import date, datetime, timedelta

# In a plan's partition range: the day that is current when the run starts, in the job's
# partitions' time zone (a demo that passes midnight snapshots the new day, not a past one).
TODAY = "today"


def last_business_day_before(today: date) -> date:
    day = today - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def business_days_between(earlier: date, later: date) -> int:
    """Business days after `earlier` up to and including `later` (0 when later <= earlier)."""
    import numpy as np

    return (
        int(np.busday_count(earlier + timedelta(days=1), later + timedelta(days=1)))
        if later > earlier
        else 0
    )


def local_time(ts: float | None) -> str:
    """A timestamp as this machine's local time, to the second ("-" for none)."""
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts).astimezone().strftime("%Y-%m-%d %H:%M:%S")
