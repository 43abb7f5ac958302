"""Run and step policies every domain shares (README, "Run policies").

- `SOURCE_RETRY`: the step retry policy of every asset that reads an external source. A
  source client already retries a request (429, 5xx, timeouts: resources/http.py); this
  retries the whole step when a source is still down after that, a little later, with
  exponential backoff and jitter so that several retried steps do not hit the source in
  step. Failures a retry cannot fix (a bad file, a failed quality gate, missing
  prerequisites) raise `dg.Failure(..., allow_retries=False)` and fail at once.
- `max_runtime(...)`: the run tag `dagster/max_runtime`: the daemon's run monitoring fails
  a run of the job still going after that many seconds (dagster.yaml, run_monitoring), so a
  hung run does not hold the warehouse for ever.
"""

import os

import dagster as dg

# HEADWATER_STEP_RETRY_DELAY_S: the first retry's delay (doubled for the next, +/- jitter);
# the test suite shortens it.
SOURCE_RETRY = dg.RetryPolicy(
    max_retries=2,
    delay=float(os.environ.get("HEADWATER_STEP_RETRY_DELAY_S", "10")),
    backoff=dg.Backoff.EXPONENTIAL,
    jitter=dg.Jitter.PLUS_MINUS,
)

# Generous ceilings: several times the longest run measured for the job's full range on the
# 2-core machine (docs/benchmarks.md), so only a hung run reaches them.
MAX_RUNTIME_S = {
    "ingest": 3600,  # staging and canonical loads: a full history or a long range
    "marts": 1800,  # dbt builds of marts and their tests
    "simulation": 7200,  # the workforce years
    "snapshot": 900,
}


def max_runtime(kind: str) -> dict[str, str]:
    """Job tags giving the job's maximum runtime (seconds) to the daemon's run monitoring."""
    return {"dagster/max_runtime": str(MAX_RUNTIME_S[kind])}
