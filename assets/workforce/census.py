"""The census: a deterministic sample generator, a CSV/Parquet reader and the census rules.

Rows that break a rule are set aside with the rule id and a reason
(`quarantine.workforce_census`); the simulation runs on the rest. Every row is
either loaded or quarantined, never dropped.
"""

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from headwater.quality import Rejection

REQUIRED = ["employee_id", "birth_date", "hire_date", "gross_compensation"]
OPTIONAL = ["termination_date", "level", "deferral_rate"]
COLUMNS = REQUIRED + OPTIONAL

# Census rule catalogue (docs/workforce.md).
RULES = {
    "W-R01": "required field missing",
    "W-R02": "unparseable date or number",
    "W-R03": "duplicate employee_id",
    "W-R04": "hire date after the census date",
    "W-R05": "termination before hire",
    "W-R06": "non-positive pay",
    "W-R07": "level not in the configured levels",
    "W-R08": "deferral_rate outside [0, 1]",
}

CENSUS_SCHEMA = pa.schema(
    [
        ("employee_id", pa.string()),
        ("birth_date", pa.date32()),
        ("hire_date", pa.date32()),
        ("termination_date", pa.date32()),
        ("gross_compensation", pa.float64()),
        ("level", pa.int32()),
        ("deferral_rate", pa.float64()),
    ]
)

_LEVEL_PAY = {1: 55_000, 2: 75_000, 3: 105_000, 4: 145_000, 5: 210_000}
_LEVEL_SHARE = [0.38, 0.28, 0.18, 0.11, 0.05]


def generate_census(size: int, as_of: date, seed: int = 42, dirty: bool = True) -> pd.DataFrame:
    """A plausible census of `size` employees as of `as_of`, the same for the same
    arguments. With `dirty`, about 1% of extra rows break one census rule each, so the
    demo shows quarantine at work. Values are strings, as a CSV file would give them."""
    rng = np.random.default_rng(seed)
    n = size
    ids = np.array([f"E{i:07d}" for i in range(1, n + 1)])
    levels = rng.choice(np.arange(1, 6), size=n, p=_LEVEL_SHARE)
    age = np.clip(rng.normal(42, 10, n), 21, 66).astype(int)
    tenure_days = (np.minimum(rng.exponential(6.0, n), age - 20.5) * 365.25).astype(int)
    as_of_ord = as_of.toordinal()
    hire = [date.fromordinal(as_of_ord - int(d)) for d in tenure_days]
    birth = [
        date.fromordinal(as_of_ord - int(a * 365.25) - int(x))
        for a, x in zip(age, rng.integers(0, 365, n), strict=True)
    ]
    pay = np.round(np.array([_LEVEL_PAY[lv] for lv in levels]) * rng.lognormal(0, 0.12, n), 2)
    enrolled = rng.random(n) < 0.72
    rates = rng.choice([0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.10, 0.15], size=n)
    deferral = np.where(enrolled, rates, 0.0)
    frame = pd.DataFrame(
        {
            "employee_id": ids,
            "birth_date": [d.isoformat() for d in birth],
            "hire_date": [d.isoformat() for d in hire],
            "termination_date": "",
            "gross_compensation": [f"{p:.2f}" for p in pay],
            "level": levels.astype(str),
            "deferral_rate": [f"{r:.2f}" for r in deferral],
        }
    )
    # A few former employees (terminated before the census date): valid, not active.
    gone = rng.choice(n, size=max(1, n // 50), replace=False)
    for i in gone:
        hired = date.fromisoformat(frame.at[i, "hire_date"])
        left = date.fromordinal(min(as_of_ord - 1, hired.toordinal() + 200))
        if left > hired:
            frame.at[i, "termination_date"] = left.isoformat()
    if dirty:
        frame = pd.concat([frame, _dirty_rows(frame, as_of, max(5, n // 100))], ignore_index=True)
    return frame


def _dirty_rows(frame: pd.DataFrame, as_of: date, count: int) -> pd.DataFrame:
    rows = []
    for i in range(count):
        row = frame.iloc[i].to_dict()
        kind = i % 5
        if kind == 0:  # duplicate id
            row["gross_compensation"] = "61000.00"
        elif kind == 1:
            row["employee_id"] = f"X{i:07d}"
            row["hire_date"] = date(as_of.year + 1, 3, 1).isoformat()
        elif kind == 2:
            row["employee_id"] = f"X{i:07d}"
            row["termination_date"] = "1990-01-01"
        elif kind == 3:
            row["employee_id"] = f"X{i:07d}"
            row["gross_compensation"] = "0"
        else:
            row["employee_id"] = f"X{i:07d}"
            row["birth_date"] = "31/02/1980"
        rows.append(row)
    return pd.DataFrame(rows)


def read_census_file(path: Path | str) -> pd.DataFrame:
    """Read a user census (CSV or Parquet) as strings, so every value reaches the rules
    exactly as written."""
    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        frame = pd.read_parquet(path)
        frame = frame.astype(object).where(frame.notna(), "").astype(str)
    elif path.suffix.lower() in (".csv", ".txt"):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    else:
        raise ValueError(f"{path}: census must be .csv or .parquet")
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: census has no column(s) {missing}; required: {REQUIRED}")
    for col in OPTIONAL:
        if col not in frame.columns:
            frame[col] = ""
    return frame[COLUMNS].fillna("")


@dataclass(frozen=True)
class CensusResult:
    valid: pa.Table  # CENSUS_SCHEMA
    rejections: list[Rejection]
    rows_in: int


def apply_census_rules(
    raw: pd.DataFrame, as_of: date, levels: list[int], origin: str
) -> CensusResult:
    """Split a census (string values) into valid typed rows and rejections. A row gets the
    first rule it breaks; rows sharing a duplicated id are all set aside, since nothing
    says which one is right."""
    frame = raw.reset_index(drop=True).astype(str).apply(lambda c: c.str.strip())
    n = len(frame)
    reason = pd.Series([None] * n, dtype=object)
    rule = pd.Series([None] * n, dtype=object)

    def flag(mask: pd.Series, rule_id: str, text) -> None:
        new = mask & rule.isna()
        if new.any():
            rule[new] = rule_id
            reason[new] = [text(i) for i in new[new].index]

    for col in REQUIRED:
        flag(frame[col] == "", "W-R01", lambda i, c=col: f"{c} is empty")

    dates = {}
    for col in ["birth_date", "hire_date", "termination_date"]:
        parsed = pd.to_datetime(frame[col], format="%Y-%m-%d", errors="coerce")
        dates[col] = parsed
        bad = parsed.isna() & (frame[col] != "")
        flag(bad, "W-R02", lambda i, c=col: f"{c} {frame.at[i, c]!r} is not a YYYY-MM-DD date")
    numbers = {}
    for col in ["gross_compensation", "level", "deferral_rate"]:
        parsed = pd.to_numeric(frame[col].where(frame[col] != ""), errors="coerce")
        numbers[col] = parsed
        bad = parsed.isna() & (frame[col] != "")
        flag(bad, "W-R02", lambda i, c=col: f"{c} {frame.at[i, c]!r} is not a number")

    counts = frame["employee_id"].map(frame["employee_id"].value_counts())
    dup = (counts > 1) & (frame["employee_id"] != "")
    flag(
        dup,
        "W-R03",
        lambda i: f"employee_id {frame.at[i, 'employee_id']} appears {counts[i]} times",
    )
    as_of_ts = pd.Timestamp(as_of)
    flag(
        dates["hire_date"] > as_of_ts,
        "W-R04",
        lambda i: f"hire_date {frame.at[i, 'hire_date']} is after the census date {as_of}",
    )
    flag(
        dates["termination_date"] < dates["hire_date"],
        "W-R05",
        lambda i: (
            f"termination_date {frame.at[i, 'termination_date']} is before hire_date "
            f"{frame.at[i, 'hire_date']}"
        ),
    )
    flag(
        numbers["gross_compensation"] <= 0,
        "W-R06",
        lambda i: f"gross_compensation {frame.at[i, 'gross_compensation']} is not positive",
    )
    level = numbers["level"]
    flag(
        level.notna() & ~level.isin(levels),
        "W-R07",
        lambda i: f"level {frame.at[i, 'level']} is not one of {levels}",
    )
    rate = numbers["deferral_rate"]
    flag(
        (rate < 0) | (rate > 1),
        "W-R08",
        lambda i: f"deferral_rate {frame.at[i, 'deferral_rate']} is outside [0, 1]",
    )

    bad = rule.notna()
    rejections = [
        Rejection(rule[i], reason[i], f"{origin}#row={i + 2}", raw.iloc[i].to_dict())
        for i in bad[bad].index
    ]
    ok = ~bad

    def as_date(s: pd.Series) -> pa.Array:
        return pa.array(s[ok].dt.date.tolist(), type=pa.date32())

    valid = pa.table(
        {
            "employee_id": pa.array(frame["employee_id"][ok].tolist(), pa.string()),
            "birth_date": as_date(dates["birth_date"]),
            "hire_date": as_date(dates["hire_date"]),
            "termination_date": pa.array(
                [None if pd.isna(d) else d.date() for d in dates["termination_date"][ok]],
                type=pa.date32(),
            ),
            "gross_compensation": pa.array(
                numbers["gross_compensation"][ok].tolist(), pa.float64()
            ),
            "level": pa.array([None if pd.isna(v) else int(v) for v in level[ok]], type=pa.int32()),
            "deferral_rate": pa.array(
                [None if pd.isna(v) else float(v) for v in rate[ok]], type=pa.float64()
            ),
        },
        schema=CENSUS_SCHEMA,
    )
    return CensusResult(valid=valid, rejections=rejections, rows_in=n)
