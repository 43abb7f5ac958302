"""Yearly partitions over the simulation years.

Time windows, not static partitions, because only time-window partitions can depend
on themselves (year N on year N-1). `end` stops them at the last simulation year;
`end_offset` lets them reach past the current date, since simulated years lie in the
future.
"""

from datetime import date

import dagster as dg


def simulation_years(start_year: int, end_year: int) -> dg.TimeWindowPartitionsDefinition:
    return dg.TimeWindowPartitionsDefinition(
        cron_schedule="0 0 1 1 *",
        fmt="%Y",
        start=str(start_year),
        end=str(end_year + 1),
        end_offset=max(1, end_year + 2 - date.today().year),
    )


# Year N reads year N-1's end state.
PRIOR_YEAR = dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)
