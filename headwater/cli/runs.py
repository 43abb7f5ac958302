"""Launching jobs from code so the runs land in the Dagster instance (and the UI).

Ctrl-C (SIGINT) and SIGTERM stop a run started here within seconds: the run is marked
CANCELED (not failed), the process lets go of the warehouse, and `Interrupted` tells
the command, which says what was finished and what was not.
"""

import os
import signal
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from headwater import settings
from headwater.cli import launch, output
from headwater.clock import TODAY
from headwater.dead_runs import process_tags
from headwater.domain import Domain

# Dagster's run tags for "this run covers a partition range" (what the UI's backfill
# and `dagster asset materialize --partition-range` set for single-run backfills).
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def load_defs() -> dg.Definitions:
    from definitions import defs

    return defs


def load_domains() -> tuple[Domain, ...]:
    """Every domain's interface (headwater.domain), in the order commands report them."""
    from definitions import DOMAINS

    return DOMAINS


class Interrupted(Exception):
    """A run stopped by SIGINT or SIGTERM; it is marked CANCELED in the instance."""

    def __init__(self, signal_name: str, run_id: str, job_name: str):
        super().__init__(f"{signal_name}: run {run_id} ({job_name}) canceled")
        self.signal_name = signal_name
        self.run_id = run_id
        self.job_name = job_name

    @property
    def exit_code(self) -> int:
        return 128 + signal.Signals[self.signal_name].value


@contextmanager
def _stop_on_signals() -> Iterator[dict]:
    """Notes SIGINT and SIGTERM received while a run executes, and stops the run on them.

    Dagster installs its own handlers while it executes (it turns the signal into an
    interrupt of the step), and dbt reports an interrupted build as a failed node, so the
    run would end as a plain failure. Python writes every signal it receives to the
    wakeup fd, whoever handles it: that pipe tells which signal stopped the run. Outside
    Dagster's execution, the handler here raises KeyboardInterrupt."""
    received: dict[str, str] = {}

    def stop(signum, _frame):
        received.setdefault("signal", signal.Signals(signum).name)
        raise KeyboardInterrupt

    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    os.set_blocking(write_fd, False)
    previous_fd = signal.set_wakeup_fd(write_fd)
    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        signal.set_wakeup_fd(previous_fd)
        try:
            for number in os.read(read_fd, 64):
                if number in (signal.SIGINT, signal.SIGTERM):
                    received.setdefault("signal", signal.Signals(number).name)
        except BlockingIOError:  # no signal came
            pass
        os.close(read_fd)
        os.close(write_fd)


def resolve_range(
    job: dg.JobDefinition, partition_range: tuple[str, str] | None
) -> tuple[str, str] | None:
    """`partition_range` with TODAY replaced by the current day's partition key of the job's
    daily partitions."""
    if partition_range is None or TODAY not in partition_range:
        return partition_range
    partitions = job.partitions_def
    if not isinstance(partitions, dg.TimeWindowPartitionsDefinition):
        raise ValueError(f"{job.name}: {TODAY!r} needs time-window partitions")
    now = datetime.now(ZoneInfo(partitions.timezone)).strftime(partitions.fmt)
    first, last = partition_range
    return (now if first == TODAY else first, now if last == TODAY else last)


def run_job(
    defs: dg.Definitions,
    job_name: str,
    partition_range: tuple[str, str] | None,
    instance: dg.DagsterInstance,
    tags: dict[str, str] | None = None,
    log_level: str = "INFO",
    run_config: dict | None = None,
    log_file: Path | None = None,
    verbose: bool = False,
) -> dg.JobExecutionResult:
    """Execute a job in this process, recorded in `instance`; a partition range runs as one
    run. Dagster's and dbt's output goes to `log_file` when given (and to the console too
    when `verbose`). Raises Interrupted (after marking the run CANCELED) on SIGINT or
    SIGTERM."""
    job = defs.resolve_job_def(job_name)
    partition_range = resolve_range(job, partition_range)
    # The job's own tags (its maximum runtime, headwater/policies.py) as the UI would set them.
    run_tags = dict(job.run_tags) | dict(tags or {}) | process_tags()
    if partition_range is not None:
        first, last = partition_range
        run_tags |= {RANGE_START_TAG: first, RANGE_END_TAG: last}
    # The console shows `log_level` and up; every event (DEBUG included) is in the instance.
    # The run writes the warehouse this command was pointed at (HEADWATER_WAREHOUSE now),
    # whatever it was when the definitions were first imported in this process.
    extra = dict(run_config or {})
    warehouse = (
        {}
        if settings.distributed()
        else {"warehouse": {"config": {"path": str(settings.warehouse_path())}}}
    )
    config = {
        "loggers": {"console": {"config": {"log_level": log_level}}},
        "resources": warehouse | extra.pop("resources", {}),
    } | extra
    run_id = str(uuid.uuid4())
    result = None
    try:
        with _stop_on_signals() as received:
            with output.logs_to(log_file, verbose):
                result = launch.execute(job, instance, run_id, config, run_tags)
    except KeyboardInterrupt:
        received.setdefault("signal", "SIGINT")
    if received:
        run = instance.get_run_by_id(run_id)
        if run is not None and run.status != dg.DagsterRunStatus.CANCELED:
            instance.report_run_canceled(run, message=f"{received['signal']} received")
        instance.event_log_storage.free_concurrency_slots_for_run(run_id)
        raise Interrupted(received["signal"], run_id, job_name)
    assert result is not None
    return result


def check_outcomes(result: dg.JobExecutionResult) -> dict[str, int]:
    """Counts of asset check outcomes in a run: passed, warned (failed WARN), failed (ERROR)."""
    counts = {"passed": 0, "warned": 0, "failed": 0}
    for event in result.all_events:
        if event.event_type_value != "ASSET_CHECK_EVALUATION":
            continue
        evaluation = event.event_specific_data
        if evaluation.passed:
            counts["passed"] += 1
        elif evaluation.severity == dg.AssetCheckSeverity.WARN:
            counts["warned"] += 1
        else:
            counts["failed"] += 1
    return counts


def failed_checks(
    result: dg.JobExecutionResult, defs: dg.Definitions
) -> dict[dg.AssetCheckKey, tuple[str, str]]:
    """Checks of a run that did not pass: key -> (WARN or ERROR, the one-line reason: the
    check's rule as its description says it, and how many rows it names)."""
    graph = defs.resolve_asset_graph()
    out = {}
    for event in result.all_events:
        if event.event_type_value != "ASSET_CHECK_EVALUATION":
            continue
        evaluation = event.event_specific_data
        if evaluation.passed:
            continue
        key = evaluation.asset_check_key
        spec = graph.get_check_spec(key) if key in graph.asset_check_keys else None
        rule = (spec.description or "").split(". ")[0].rstrip(".") if spec else ""
        counts = [
            f"{name.replace('_', ' ')} {value.value}"
            for name, value in evaluation.metadata.items()
            if isinstance(value.value, int) and not isinstance(value.value, bool)
        ]
        reason = rule or key.name
        if counts:
            reason += f" ({counts[0]})"
        severity = getattr(evaluation.severity, "value", str(evaluation.severity))
        out[key] = (severity, reason)
    return out


def materialized_assets(result: dg.JobExecutionResult) -> set[dg.AssetKey]:
    return {
        e.event_specific_data.materialization.asset_key
        for e in result.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION"
    }


def failure_line(result: dg.JobExecutionResult) -> str:
    """The first failed step and why, on one line: a `dg.Failure`'s description; for an
    exception, the exception itself (not Dagster's "Error occurred while executing op"
    around it); after step retries, the last attempt's error beside Dagster's "Exceeded
    max_retries of N", which alone says nothing of the cause."""
    for event in result.all_events:
        if event.event_type_value != "STEP_FAILURE":
            continue
        data = event.event_specific_data
        if data.user_failure_data is not None and data.user_failure_data.description:
            text = _first_lines(data.user_failure_data.description)
        else:
            text = _first_lines(_innermost(data.error) or event.message or "")
            outer = _first_lines(data.error.message) if data.error else ""
            retries = outer.split("Error: ", 1)[-1]
            if retries.startswith("Exceeded max_retries") and retries != text:
                text = f"{text} ({retries.rstrip('.')})"
        if text.startswith("Exceeded max_retries"):
            retried = [
                e.event_specific_data.error
                for e in result.all_events
                if e.event_type_value == "STEP_UP_FOR_RETRY" and e.step_key == event.step_key
            ]
            if retried and retried[-1] is not None:
                text = f"{_first_lines(_innermost(retried[-1]))} ({text.rstrip('.')})"
        return f"{event.step_key}: {text}"
    return "the run failed (see the log file)"


def _innermost(error) -> str | None:
    """The message of the exception at the bottom of a serialized error's causes."""
    while error is not None and error.cause is not None:
        error = error.cause
    return error.message if error is not None else None


def _first_lines(message: str) -> str:
    lines = [line.strip() for line in message.strip().splitlines()]
    lines = [line for line in lines if line and not line.startswith("Stack Trace")]
    text = lines[0] if lines else "failed"
    if text.endswith(":") and len(lines) > 1:  # "1 blocking check failed:" + which
        text += " " + "; ".join(lines[1:4])
    # Dagster's own error class names say nothing to a user.
    return text.removeprefix("dagster._core.errors.")
