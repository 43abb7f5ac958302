"""The simulation's dataset rules, evaluated per year on the warehouse.

Each rule has an id (the README's rule catalogue lists them), the table it guards, a severity,
and whether it is blocking: a blocking rule that fails stops the run before the next
year, because the next year would start from a state that is wrong. Every failing
rule names the employees that break it.

The rules are plain SQL read through the warehouse interface (`warehouse.query` on a
connection from `warehouse.session()`), so they run the same on DuckDB and PostgreSQL.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assets.workforce.config import WorkforceConfig
from resources.warehouse import Warehouse

if TYPE_CHECKING:
    import pyarrow as pa

TOLERANCE = 0.005  # half a cent: contributions are rounded to cents


@dataclass(frozen=True)
class Rule:
    rule_id: str
    name: str  # the Dagster check name
    table: str  # workforce.<table> the check is attached to
    blocking: bool
    severity: str  # "ERROR" | "WARN"
    description: str


RULES: list[Rule] = [
    Rule(
        "W-C01",
        "hire_termination_ratio_within_bounds",
        "fct_yearly_events",
        False,
        "WARN",
        "hires / terminations within workforce.checks.hire_termination_ratio",
    ),
    Rule(
        "W-C02",
        "no_events_after_termination",
        "fct_yearly_events",
        True,
        "ERROR",
        "no event after an employee's termination, none before a new hire's hire date, at "
        "most one termination, every event dated in its year",
    ),
    Rule(
        "W-C03",
        "headcount_growth_within_tolerance",
        "fct_workforce_snapshot",
        False,
        "WARN",
        "year-end headcount growth within workforce.checks.growth_tolerance of the target",
    ),
    Rule(
        "W-C04",
        "headcount_totals_reconcile",
        "fct_workforce_snapshot",
        True,
        "ERROR",
        "start + hires - terminations = end, and each employee's status matches their events",
    ),
    Rule(
        "W-C05",
        "compensation_reasonable",
        "fct_workforce_snapshot",
        True,
        "ERROR",
        "pay positive, no pay cut, raise at most workforce.checks.max_raise",
    ),
    Rule(
        "W-C06",
        "accumulator_continuity",
        "int_enrollment_state_accumulator",
        True,
        "ERROR",
        "the year starts from the previous year's end: population, level, pay, enrollment, "
        "deferral rate and escalation count",
    ),
    Rule(
        "W-C07",
        "contributions_within_irs_limits",
        "int_employee_contributions",
        True,
        "ERROR",
        "402(g) deferral (plus catch-up from the catch-up age), 401(a)(17) pay and 415(c) "
        "annual additions respected; no negative contribution",
    ),
    Rule(
        "W-C08",
        "state_hash_reproducible",
        "fct_workforce_snapshot",
        False,
        "ERROR",
        "a rerun of the year with the same inputs reproduces the recorded state hash",
    ),
]
RULES_BY_NAME = {r.name: r for r in RULES}


@dataclass
class Outcome:
    rule: Rule
    year: int
    passed: bool
    failing_ids: list[str] = field(default_factory=list)
    failing_count: int = 0
    values: dict = field(default_factory=dict)


@dataclass
class _Reader:
    """Reads on one held connection of the warehouse."""

    warehouse: Warehouse
    con: Any

    def ids(self, sql: str, params: list) -> list[str]:
        found = self.warehouse.query(
            f"select distinct employee_id from ({sql}) as failing order by 1", params, self.con
        )
        return found.column(0).to_pylist()

    def scalar(self, sql: str, params: list):
        return self.warehouse.scalar(sql, params, self.con)

    def row(self, sql: str, params: list) -> tuple:
        return tuple(self.warehouse.query(sql, params, self.con).to_pylist()[0].values())


def evaluate(warehouse: Warehouse, con: Any, cfg: WorkforceConfig, year: int) -> list[Outcome]:
    """Every rule except W-C08 (the state hash needs the instance) for one year."""
    out = []
    y = [year]
    read = _Reader(warehouse, con)

    hires = read.scalar(
        "select count(*) from workforce.int_hiring_events where simulation_year = ?", y
    )
    terms = read.scalar(
        "select count(*) from workforce.int_termination_events where simulation_year = ?", y
    )
    lo, hi = cfg.checks.hire_termination_ratio
    ratio = hires / terms if terms else (0.0 if hires == 0 else float("inf"))
    ok = lo <= ratio <= hi or (hires == 0 and terms == 0)
    out.append(
        Outcome(
            RULES_BY_NAME["hire_termination_ratio_within_bounds"],
            year,
            ok,
            [],
            0,
            {
                "hires": hires,
                "terminations": terms,
                "ratio": round(ratio, 4) if terms else None,
                "bounds": [lo, hi],
            },
        )
    )

    bad_order = read.ids(
        """
        with ev as (select * from workforce.fct_yearly_events where simulation_year = ?),
        t as (select employee_id, min(effective_date) as d, count(*) as n
              from ev where event_type = 'termination' group by 1),
        h as (select employee_id, effective_date as d from ev where event_type = 'hire')
        select e.employee_id from ev e
        left join t on e.employee_id = t.employee_id
        left join h on e.employee_id = h.employee_id
        where (t.d is not null and (e.effective_date > t.d
                 or (e.effective_date = t.d and e.event_type <> 'termination'
                     and e.event_sequence > 6)))
           or (h.d is not null and e.effective_date < h.d)
           or t.n > 1
           or extract(year from e.effective_date) <> ?
        """,
        [year, year],
    )
    out.append(_failing("no_events_after_termination", year, bad_order))

    snap = read.row(
        """
        select count(*) filter (where employment_status = 'active') as end_active,
               count(*) as rows_in_year
        from workforce.fct_workforce_snapshot where simulation_year = ?
        """,
        y,
    )
    start = read.scalar(
        "select count(*) from workforce.int_employee_compensation_by_year "
        "where simulation_year = ?",
        y,
    )
    target = read.scalar(
        "select target_headcount from workforce.int_workforce_needs where simulation_year = ?",
        y,
    )
    end_active, rows_in_year = snap
    growth = (end_active - start) / start if start else 0.0
    gap = abs(growth - cfg.target_growth_rate)
    out.append(
        Outcome(
            RULES_BY_NAME["headcount_growth_within_tolerance"],
            year,
            gap <= cfg.checks.growth_tolerance,
            [],
            0,
            {
                "start_headcount": start,
                "end_headcount": end_active,
                "target_headcount": target,
                "growth": round(growth, 6),
                "target_growth": cfg.target_growth_rate,
            },
        )
    )

    mismatched = read.ids(
        """
        select s.employee_id from workforce.fct_workforce_snapshot s
        left join workforce.int_termination_events t
          on s.employee_id = t.employee_id and t.simulation_year = s.simulation_year
        where s.simulation_year = ?
          and ((s.employment_status = 'active') = (t.employee_id is not null))
        """,
        y,
    )
    totals_ok = start + hires - terms == end_active and rows_in_year == start + hires
    o = _failing("headcount_totals_reconcile", year, mismatched)
    o.passed = o.passed and totals_ok
    o.values = {
        "start": start,
        "hires": hires,
        "terminations": terms,
        "end": end_active,
        "start_plus_hires_minus_terminations": start + hires - terms,
    }
    out.append(o)

    bad_pay = read.ids(
        """
        select employee_id from workforce.fct_workforce_snapshot
        where simulation_year = ?
          and (coalesce(starting_compensation, 0) <= 0 or coalesce(ending_compensation, 0) <= 0
               or coalesce(prorated_compensation, 0) <= 0
               or ending_compensation < starting_compensation
               or ending_compensation > starting_compensation * (1 + ?))
        """,
        [year, cfg.checks.max_raise],
    )
    out.append(_failing("compensation_reasonable", year, bad_pay))

    out.append(_failing("accumulator_continuity", year, _continuity(read, cfg, year)))

    over = read.ids(
        f"""
        select c.employee_id from workforce.int_employee_contributions c
        join workforce.int_effective_parameters p on p.simulation_year = c.simulation_year
        where c.simulation_year = ?
          and (c.employee_deferral > p.deferral_limit
                  + case when c.age >= p.catch_up_age then p.catch_up_limit else 0 end + {TOLERANCE}
               or c.annual_additions > p.annual_additions_limit + {TOLERANCE}
               or c.plan_compensation > p.compensation_limit + {TOLERANCE}
               or (c.catch_up_deferral > 0 and c.age < p.catch_up_age)
               or least(c.employee_deferral, c.employer_match, c.employer_core) < 0)
        """,
        y,
    )
    out.append(_failing("contributions_within_irs_limits", year, over))
    return out


def _continuity(read: _Reader, cfg: WorkforceConfig, year: int) -> list[str]:
    if year == cfg.start_year:
        prior = """select employee_id, level, compensation as pay, is_enrolled as enrolled,
                          deferral_rate, 0 as escalations
                   from workforce.int_baseline_workforce"""
        params: list = []
    else:
        prior = """select s.employee_id, s.level, s.ending_compensation as pay,
                          s.is_enrolled as enrolled, s.deferral_rate, s.escalations
                   from workforce.fct_workforce_snapshot s
                   where s.simulation_year = ? and s.employment_status = 'active'"""
        params = [year - 1]
    sql = f"""
        with prior as ({prior}),
        now as (
            select c.employee_id, c.level, c.starting_compensation as pay,
                   e.enrolled_at_start as enrolled, d.deferral_rate_start as deferral_rate,
                   x.escalations_start as escalations
            from workforce.int_employee_compensation_by_year c
            left join workforce.int_enrollment_state_accumulator e
              on e.employee_id = c.employee_id and e.simulation_year = c.simulation_year
            left join workforce.int_deferral_rate_state_accumulator d
              on d.employee_id = c.employee_id and d.simulation_year = c.simulation_year
            left join workforce.int_deferral_escalation_state_accumulator x
              on x.employee_id = c.employee_id and x.simulation_year = c.simulation_year
            where c.simulation_year = ?
        )
        select coalesce(p.employee_id, n.employee_id) as employee_id
        from prior p full outer join now n on p.employee_id = n.employee_id
        where p.employee_id is null or n.employee_id is null
           or p.level is distinct from n.level
           or p.pay is distinct from n.pay
           or p.enrolled is distinct from n.enrolled
           or p.deferral_rate is distinct from n.deferral_rate
           or (? > {cfg.start_year} and p.escalations is distinct from n.escalations)
    """
    return read.ids(sql, [*params, year, year])


def _failing(name: str, year: int, ids: list[str]) -> Outcome:
    return Outcome(RULES_BY_NAME[name], year, not ids, ids, len(ids))


STATE_TABLES = [
    "fct_workforce_snapshot",
    "fct_yearly_events",
    "int_enrollment_state_accumulator",
    "int_deferral_rate_state_accumulator",
    "int_deferral_escalation_state_accumulator",
    "int_employee_contributions",
]


def table_digest(
    warehouse: Warehouse,
    con: Any,
    relation: str,
    where: str = "true",
    params: list | None = None,
) -> str:
    """Order-independent digest of a table's rows, the same on every engine for the same
    rows: see `rows_digest`."""
    return rows_digest(warehouse.query(f"select * from {relation} where {where}", params, con))


def rows_digest(rows: pa.Table) -> str:
    """md5 of the rows as text, with the row count. Each value is written in one form
    whatever the engine's type for it (numbers as doubles or integers in their shortest
    form, dates ISO, null as \\N), columns in name order, rows sorted: so it depends on the
    rows only - not on scan order, storage, or the engine (DuckDB's hash() and
    PostgreSQL's have nothing in common). Formatting and sorting run in Arrow: ~0.5 s
    per 100k rows of ten columns, most of it writing doubles as text."""
    import pyarrow.compute as pc

    if not rows.num_rows:
        return "0:"
    columns = [_as_text(rows.column(name)) for name in sorted(rows.column_names)]
    lines = pc.binary_join_element_wise(*columns, "\x1f")
    ordered = pc.take(lines, pc.sort_indices(lines))
    digest = hashlib.md5("\x1e".join(ordered.to_pylist()).encode())
    return f"{rows.num_rows}:{digest.hexdigest()}"


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    if pa.types.is_decimal(kind) or pa.types.is_floating(kind):
        column = column.cast(pa.float64())
    elif pa.types.is_integer(kind):
        column = column.cast(pa.int64())
    elif pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)
    return pc.fill_null(column.cast(pa.string()), "\\N")


def state_hash(warehouse: Warehouse, con: Any, year: int) -> str:
    """md5 over the digests of every state table's rows for the year."""
    parts = []
    for table in STATE_TABLES:
        digest = table_digest(warehouse, con, f"workforce.{table}", "simulation_year = ?", [year])
        parts.append(f"{table}:{digest}")
    return hashlib.md5("\n".join(parts).encode()).hexdigest()
