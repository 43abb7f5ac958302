import warnings

import dagster as dg

# databento's import turns every DeprecationWarning of the process on ("always", in front of
# every filter: databento/__init__.py), which hid the filters below wherever the market domain
# loads after them: the code server logged the environment_vars warning at every snapshot (the
# daemon takes one a minute) and each run printed other libraries' deprecations. Imported
# first, with the warning filters as they were restored after it.
with warnings.catch_warnings():
    import databento  # noqa: F401


def quiet_dagster_warnings() -> None:
    """Warnings Dagster prints about itself, not about anything of ours, on every load."""
    # BackfillPolicy.single_run() is how a partition range becomes one run (DESIGN.md); its
    # beta label would otherwise print on every load of the code location.
    warnings.filterwarnings(
        "ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning
    )
    # Dagster reads its own deprecated ScheduleDefinition.environment_vars whenever it
    # snapshots a schedule (every code-server start: 36 warnings in 15 minutes of the
    # daemon); no schedule of ours sets it.
    warnings.filterwarnings(
        "ignore",
        message=r"Property `ScheduleDefinition\.environment_vars` is deprecated",
        category=DeprecationWarning,
    )


quiet_dagster_warnings()
