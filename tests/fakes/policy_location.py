"""A small code location for the run-policy tests (tests/operations/test_run_policies.py): a
job that hangs, a job whose run process dies mid-step, and the dead-run sensor ticking
every second. Loaded by a real daemon from a temporary workspace."""

import os
import signal
import time

import dagster as dg

from headwater.dead_runs import process_tags, reap_dead_runs


@dg.op
def hang():
    time.sleep(600)


@dg.op
def die(context: dg.OpExecutionContext):
    # Record this process on the run, as the warehouse resource does for every run, then
    # die without a word, as a kill -9 or the OOM killer would leave it.
    context.instance.add_run_tags(context.run_id, process_tags())
    os.kill(os.getpid(), signal.SIGKILL)


@dg.job(tags={"dagster/max_runtime": "3"})
def hangs():
    hang()


@dg.job
def dies():
    die()


@dg.sensor(minimum_interval_seconds=1, default_status=dg.DefaultSensorStatus.RUNNING)
def reap_every_second(context: dg.SensorEvaluationContext):
    reaped = reap_dead_runs(context.instance)
    return dg.SkipReason(f"reaped {len(reaped)}")


defs = dg.Definitions(jobs=[hangs, dies], sensors=[reap_every_second])
