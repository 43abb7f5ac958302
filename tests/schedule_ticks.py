"""A schedule's ticks as Dagster's scheduler computes them: the code location served as the
daemon and the UI load it (a code server on definitions.py), asked through GraphQL for its
future ticks. Shared by the schedule tests of every domain."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import dagster as dg
from dagster_graphql.test.utils import (
    define_out_of_process_context,
    execute_dagster_graphql,
    infer_schedule_selector,
)

from tests.conftest import REPO_ROOT

FUTURE_TICKS = """
query ($selector: ScheduleSelector!, $cursor: Float, $until: Float) {
  scheduleOrError(scheduleSelector: $selector) {
    ... on Schedule {
      futureTicks(cursor: $cursor, until: $until) { results { timestamp } }
    }
  }
}"""


@contextmanager
def code_location() -> Iterator:
    """The code location on a temporary instance, as a GraphQL workspace context."""
    with dg.instance_for_test() as instance:
        with define_out_of_process_context(
            str(REPO_ROOT / "definitions.py"), "defs", instance
        ) as ctx:
            yield ctx


def ticks_between(workspace, name: str, first: datetime, last: datetime) -> list[datetime]:
    """Schedule `name`'s ticks in [first, last), in UTC."""
    result = execute_dagster_graphql(
        workspace,
        FUTURE_TICKS,
        {
            "selector": infer_schedule_selector(workspace, name),
            "cursor": first.timestamp(),
            "until": last.timestamp(),
        },
    )
    assert not result.errors, result.errors
    ticks = result.data["scheduleOrError"]["futureTicks"]["results"]
    return [datetime.fromtimestamp(t["timestamp"], UTC) for t in ticks]
