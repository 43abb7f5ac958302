"""Operations shared by every domain: the daemon's clean-up of runs whose process died."""

import dagster as dg

from headwater.dead_runs import reap_dead_runs


@dg.sensor(
    name="headwater_dead_runs",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Marks failed the runs of this host whose process ended without reporting "
    "(kill -9, OOM), with the reason, and frees their concurrency slots, so nothing queued "
    "behind them on the warehouse pool waits for ever.",
)
def dead_runs_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    reaped = reap_dead_runs(context.instance)
    for dead in reaped:
        context.log.warning(dead.line())
    return dg.SkipReason(
        f"marked {len(reaped)} dead run(s) failed: " + "; ".join(d.run_id for d in reaped)
        if reaped
        else "no dead run"
    )


defs = dg.Definitions(sensors=[dead_runs_sensor])
