"""The whole code location: it loads, its graph has no cycle, the daemon's automation
evaluates over it, and every table-writing asset is keyed [schema, table]."""

import dagster as dg

from definitions import defs


def test_whole_definitions_load():
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    groups = {node.group_name for node in graph.asset_nodes}
    assert {"energy", "workforce", "prospects", "market"} <= groups
    assert all(len(node.key.path) == 2 for node in graph.asset_nodes)
    assert {s.name for s in defs.schedules} == {
        "energy_daily_0600",
        "prospects_daily",
        "market_after_close",
    }
    for job in (
        "energy_daily_prices",
        "energy_marts_refresh",
        "workforce_inputs",
        "workforce_simulation",
        "prospects_refresh",
        "prospects_marts_refresh",
        "prospects_snapshot",
        "market_daily_close",
        "market_intraday",
        "market_marts_refresh",
    ):
        defs.resolve_job_def(job)


def test_automation_evaluates_over_the_whole_graph():
    """A cycle anywhere (e.g. a prior-year edge between two different assets) makes this
    raise CircularDependencyError, and with it every tick of the automation sensor."""
    with dg.instance_for_test() as instance:
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    assert result.total_requested == 0  # nothing upstream has been materialized yet


def test_every_sensor_and_schedule_says_what_it_does():
    """The UI's Automation page shows each description (energy_marts_follow_inputs had none)."""
    missing = [
        s.name for s in defs.sensors or [] if not defs.resolve_sensor_def(s.name).description
    ] + [s.name for s in defs.schedules or [] if not defs.resolve_schedule_def(s.name).description]
    assert not missing


def test_loading_the_schedules_warns_of_nothing_of_ours():
    """The code server snapshots every schedule at each start; Dagster's deprecated
    environment_vars property warned once per schedule each time."""
    import warnings

    from dagster._core.remote_representation.external_data import ScheduleSnap

    from assets import quiet_dagster_warnings

    repo = defs.get_repository_def()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quiet_dagster_warnings()  # as importing the code location installs it
        for schedule in repo.schedule_defs:
            ScheduleSnap.from_def(schedule, repo)
    assert not [w for w in caught if "environment_vars" in str(w.message)]
