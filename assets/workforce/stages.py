"""The simulation's stages, the dbt models in each, and the lineage read from the SQL.

A year is one `dbt build` of every yearly model (all stages in dependency order),
then the checks and the year's report. The stage names are what the CLI's plan
and failure messages use.
"""

import re
from functools import cache
from pathlib import Path

from headwater import settings

MODELS_DIR = settings.DBT_PROJECT_DIR / "models" / "workforce"

CENSUS_MODELS = ["stg_census_data", "int_baseline_workforce"]

YEARLY_STAGES: list[tuple[str, list[str]]] = [
    ("foundation", ["int_effective_parameters", "int_employee_compensation_by_year"]),
    (
        "event_generation",
        [
            "int_employee_hazards",
            "int_workforce_needs",
            "int_workforce_needs_by_level",
            "int_hiring_events",
            "int_termination_events",
            "int_promotion_events",
            "int_merit_events",
            "int_enrollment_events",
            "int_deferral_escalation_events",
        ],
    ),
    (
        "state_accumulation",
        [
            "fct_yearly_events",
            "int_enrollment_state_accumulator",
            "int_deferral_rate_state_accumulator",
            "int_deferral_escalation_state_accumulator",
        ],
    ),
    ("snapshot", ["fct_workforce_snapshot"]),
    ("contributions", ["int_employee_contributions"]),
]
YEAR_STEPS = [name for name, _ in YEARLY_STAGES] + ["checks", "report"]
YEARLY_MODELS = [m for _, models in YEARLY_STAGES for m in models]
STAGE_OF_MODEL = {m: stage for stage, models in YEARLY_STAGES for m in models}
STAGE_OF_MODEL.update({m: "initialization" for m in CENSUS_MODELS})

# Models that read their own previous year: the year-to-year dependency the partition
# mapping declares. int_employee_compensation_by_year also reads the previous year's
# snapshot; that is declared as the snapshot's own prior-year dependency, because a
# prior-year edge between two different assets closes a cycle in Dagster's asset graph
# (the lineage view and the automation sensor then fail), while a self-dependency does
# not. All yearly models are materialized together, so the year order is the same.
PRIOR_YEAR_READS = {
    "fct_workforce_snapshot": "fct_workforce_snapshot",
    "int_enrollment_state_accumulator": "int_enrollment_state_accumulator",
    "int_deferral_rate_state_accumulator": "int_deferral_rate_state_accumulator",
    "int_deferral_escalation_state_accumulator": "int_deferral_escalation_state_accumulator",
}

_REF = re.compile(r"ref\(\s*['\"](\w+)['\"]\s*\)")
_SOURCE = re.compile(r"source\(\s*['\"]workforce['\"]\s*,\s*['\"](\w+)['\"]\s*\)")


@cache
def model_inputs(model: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(models it refs, workforce sources it reads), read from the model's SQL."""
    (path,) = MODELS_DIR.rglob(f"{model}.sql")
    sql = Path(path).read_text()
    return tuple(sorted(set(_REF.findall(sql)))), tuple(sorted(set(_SOURCE.findall(sql))))


def plan(years: list[int]) -> list[tuple[int, str, list[str]]]:
    """(year, step, dbt models) in execution order."""
    rows = []
    for year in years:
        for stage, models in YEARLY_STAGES:
            rows.append((year, stage, models))
        rows.append((year, "checks", []))
        rows.append((year, "report", []))
    return rows
