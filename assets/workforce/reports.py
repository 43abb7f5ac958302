"""Year reports (JSON) and the multi-year summary (CSV + PNG chart).

The figures are read through the warehouse interface in SQL both engines run; sums and
averages come back as doubles and are rounded here, half away from zero as DuckDB's
round() does (PostgreSQL has no round() for doubles), so both engines give one report.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from resources.warehouse import Warehouse

if TYPE_CHECKING:
    import pandas as pd

SUMMARY_COLUMNS = [
    "simulation_year",
    "start_headcount",
    "headcount",
    "hires",
    "terminations",
    "growth_pct",
    "average_pay",
    "total_pay",
    "participation_rate",
    "average_deferral_rate",
    "employee_deferrals",
    "employer_match",
    "employer_core",
    "employer_cost",
]


# Rounded figures: column -> decimals.
ROUNDED = {
    "growth_pct": 3,
    "average_pay": 2,
    "total_pay": 2,
    "participation_rate": 4,
    "average_deferral_rate": 4,
    "employee_deferrals": 2,
    "employer_match": 2,
    "employer_core": 2,
    "employer_cost": 2,
}


def round_half_away(values: pd.Series, digits: int) -> pd.Series:
    """round(x, digits) as DuckDB computes it on a double: half away from zero of
    x * 10^digits (Python and numpy round half to even)."""
    import numpy as np

    scale = 10**digits
    x = values.astype(float)
    return np.sign(x) * np.floor(np.abs(x) * scale + 0.5) / scale


def summary_frame(warehouse: Warehouse, con: Any, years: list[int]) -> pd.DataFrame:
    """One row per simulated year among `years` (those present in the warehouse)."""
    import pandas as pd

    if not years:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    frame = warehouse.query(
        """
        with s as (
            select simulation_year,
                   count(*) filter (where employment_status = 'active') as headcount,
                   count(*) filter (where detailed_status like 'new_hire%') as hires,
                   count(*) filter (where employment_status = 'terminated') as terminations,
                   avg(ending_compensation) filter (where employment_status = 'active')
                       as average_pay,
                   sum(prorated_compensation) as total_pay,
                   avg(case when is_enrolled then cast(1 as double precision) else 0 end)
                       filter (where employment_status = 'active') as participation_rate,
                   avg(deferral_rate) filter (where employment_status = 'active' and is_enrolled)
                       as average_deferral_rate
            from workforce.fct_workforce_snapshot
            where simulation_year between ? and ?
            group by 1
        ),
        c as (
            select simulation_year, sum(employee_deferral) as employee_deferrals,
                   sum(employer_match) as employer_match, sum(employer_core) as employer_core
            from workforce.int_employee_contributions
            where simulation_year between ? and ?
            group by 1
        ),
        st as (
            select simulation_year, count(*) as start_headcount
            from workforce.int_employee_compensation_by_year
            where simulation_year between ? and ?
            group by 1
        )
        select s.simulation_year, st.start_headcount, s.headcount, s.hires, s.terminations,
               100.0 * cast(s.headcount - st.start_headcount as double precision)
                   / st.start_headcount as growth_pct,
               s.average_pay, s.total_pay, s.participation_rate, s.average_deferral_rate,
               c.employee_deferrals, c.employer_match, c.employer_core,
               c.employer_match + c.employer_core as employer_cost
        from s join c using (simulation_year) join st using (simulation_year)
        order by 1
        """,
        [min(years), max(years)] * 3,
        con,
    ).to_pandas()
    for column, digits in ROUNDED.items():
        frame[column] = round_half_away(frame[column], digits)
    return frame[frame["simulation_year"].isin(years)][SUMMARY_COLUMNS].reset_index(drop=True)


def year_report(
    warehouse: Warehouse, con: Any, year: int, checks: dict[str, bool], state_hash: str
) -> dict:
    row = summary_frame(warehouse, con, [year]).iloc[0].to_dict()
    counts = warehouse.query(
        "select event_type, count(*) as n from workforce.fct_yearly_events "
        "where simulation_year = ? group by 1 order by 1",
        [year],
        con,
    )
    events = dict(zip(*counts.to_pydict().values(), strict=True))
    needs = list(
        warehouse.query(
            "select target_headcount, experienced_terminations, new_hire_terminations "
            "from workforce.int_workforce_needs where simulation_year = ?",
            [year],
            con,
        )
        .to_pylist()[0]
        .values()
    )
    report = {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
    report.update(
        {
            "target_headcount": needs[0],
            "experienced_terminations": needs[1],
            "new_hire_terminations": needs[2],
            "events": events,
            "checks": checks,
            "state_hash": state_hash,
        }
    )
    return report


def write_json(report: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, sort_keys=True, default=str) + "\n")
    return path


def chart_png(frame: pd.DataFrame) -> bytes:
    """Headcount (bars) and participation rate (line) by year."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=100)
    years = frame["simulation_year"].astype(int).astype(str)
    ax.bar(years, frame["headcount"], color="#4c78a8", label="headcount (year end)")
    ax.set_ylabel("headcount")
    ax.set_xlabel("simulation year")
    ax2 = ax.twinx()
    ax2.plot(
        years,
        100 * frame["participation_rate"],
        color="#f58518",
        marker="o",
        label="participation %",
    )
    ax2.set_ylabel("participation %")
    ax2.set_ylim(0, 100)
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], loc="lower left", fontsize=8)
    ax.set_title("Workforce simulation: headcount and plan participation")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


MONEY = {
    "average_pay",
    "total_pay",
    "employee_deferrals",
    "employer_match",
    "employer_core",
    "employer_cost",
}
RATES = {"participation_rate", "average_deferral_rate"}


def format_value(column: str, value) -> str:
    """How a summary figure reads: money with thousands separators and no exponent, rates
    as percentages, growth in percentage points with a sign, counts with separators."""
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if column in MONEY:
        return f"${value:,.0f}"
    if column in RATES:
        return f"{value:.1%}"
    if column == "growth_pct":
        return f"{value:+.2f}%"
    return f"{int(value):,}"


def summary_markdown(frame: pd.DataFrame, png: bytes) -> str:
    """The chart, then one row per figure and one column per year (narrow enough for the
    UI's metadata dialog however many figures there are)."""
    image = base64.b64encode(png).decode()
    years = [str(int(y)) for y in frame["simulation_year"]]
    lines = ["| | " + " | ".join(years) + " |", "|---|" + "---:|" * len(years)]
    for column in frame.columns.drop("simulation_year"):
        cells = [format_value(column, v) for v in frame[column]]
        lines.append(f"| {column} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    return f"![headcount and participation](data:image/png;base64,{image})\n\n{table}\n"
