"""What `headwater status` says of the workforce: a simulation, not time-based, so no
freshness policy; the years stored and its last run instead."""

from headwater.clock import local_time
from headwater.freshness import Freshness, StatusInputs

STATUS_QUERIES = {
    "workforce_years": (
        "workforce.fct_workforce_snapshot",
        "SELECT simulation_year, count(*) FROM workforce.fct_workforce_snapshot GROUP BY 1",
    ),
}


def freshness(inputs: StatusInputs) -> list[Freshness]:
    years = sorted((inputs.facts.get("workforce_years") or {}).keys())
    stored = f"years {years[0]}..{years[-1]} stored" if years else "no year stored"
    if not inputs.warehouse_readable:
        stored = f"warehouse {inputs.warehouse_state}"
    last_run = inputs.last_materialized("workforce/fct_workforce_snapshot")
    last = f"last run {local_time(last_run)}" if last_run else "never run"
    return [
        Freshness(
            domain="workforce",
            asset="",
            status="n/a",
            state=None,
            policy="n/a: simulation, not time-based",
            evaluated_by="",
            since=None,
            last_materialized=None,
            note=f"{stored}; {last}",
        )
    ]
