import warnings

import dagster as dg

# databento's import would turn every DeprecationWarning on and hide the filters below; it is
# imported on first use, inside warnings.catch_warnings() (assets/market/databento_import.py).


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
