"""The census: a deterministic sample generator, a CSV/Parquet reader and the census rules.

Rows that break a rule are set aside with the rule id and a reason
(`quarantine.workforce_census`); the simulation runs on the rest. Every row is
either loaded or quarantined, never dropped.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from assets.workforce.config import CENSUS_COLUMNS as COLUMNS
from assets.workforce.config import CENSUS_REQUIRED as REQUIRED
from assets.workforce.config import DEFAULT_MIN_AGE_AT_HIRE
from headwater.quality import Rejection

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

# Census rule catalogue (README, "Workforce simulation").
RULES = {
    "W-R01": "required field missing",
    "W-R02": "unparseable date or number",
    "W-R03": "duplicate employee_id",
    "W-R04": "hire date after the census date",
    "W-R05": "termination before hire",
    "W-R06": "non-positive pay",
    "W-R07": "level not in the configured levels",
    "W-R08": "deferral_rate outside [0, 1]",
    "W-R09": "birth date after the census date",
    "W-R10": "birth date after hire date",
    "W-R11": "age at hire below workforce.census.min_age_at_hire",
}


@functools.cache
def census_schema() -> pa.Schema:
    """The census table's columns (built on first use: pyarrow loads when a step runs)."""
    import pyarrow as pa

    return pa.schema(
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
    import numpy as np
    import pandas as pd

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
    import pandas as pd

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


CSV_SUFFIXES = (".csv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
_EXPECTED = "expected a census .csv or .parquet file"
_SNIFF_BYTES = 8192


class CensusFileError(ValueError):
    """A census file that cannot be read as a census. The message is one line naming the
    file and what was expected, for the user to fix the file, not a program error."""


def read_census_file(path: Path | str, columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Read a user census (CSV or Parquet) as strings, so every value reaches the rules
    exactly as written, with the standard column names.

    `columns` maps standard names to the file's own (`workforce.census.columns`); a
    standard column it does not name is looked up under its standard name. A file that
    cannot be a census raises CensusFileError."""
    import pandas as pd

    path = Path(path)
    columns = dict(columns or {})
    unknown = sorted(set(columns) - set(COLUMNS))
    if unknown:
        raise ValueError(f"census column mapping: {unknown} are not census columns {COLUMNS}")
    frame = _read_table(path)
    if frame.empty:
        what = "no rows" if path.suffix.lower() in PARQUET_SUFFIXES else "a header but no rows"
        raise CensusFileError(f"{path}: has {what}; expected one row per employee")
    for standard, name in columns.items():
        if name not in frame.columns:
            raise CensusFileError(
                f"{path}: no column {name!r}, which workforce.census.columns.{standard} maps "
                f"{standard} to; the file's columns are {_shown(frame.columns)}"
            )
    source = {c: columns.get(c, c) for c in COLUMNS}
    repeated = [n for n in source.values() if n in frame.attrs.get("repeated", [])]
    if repeated:
        raise CensusFileError(
            f"{path}: the header names {repeated} more than once; expected one column each"
        )
    missing = [c for c in REQUIRED if source[c] not in frame.columns]
    if missing:
        raise CensusFileError(
            f"{path}: no column(s) {missing}; required: {REQUIRED}; the "
            f"file's columns are {_shown(frame.columns)} (other names can be mapped with "
            "workforce.census.columns)"
        )
    out = pd.DataFrame(
        {c: frame[source[c]] if source[c] in frame.columns else "" for c in COLUMNS}
    ).fillna("")
    # Parquet has no header line: its first record is row 1, a CSV's is line 2.
    out.attrs["first_row"] = 1 if path.suffix.lower() in PARQUET_SUFFIXES else 2
    return out


def _read_table(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if not path.exists():
        raise CensusFileError(f"{path}: no such file; {_EXPECTED}")
    if path.is_dir():
        raise CensusFileError(f"{path}: is a directory; {_EXPECTED}")
    if suffix not in CSV_SUFFIXES + PARQUET_SUFFIXES:
        kind = f"a {suffix} file" if suffix else "a file without an extension"
        raise CensusFileError(f"{path}: is {kind}; {_EXPECTED}")
    try:
        with path.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError as exc:
        raise CensusFileError(f"{path}: cannot be read ({exc.strerror}); {_EXPECTED}") from None
    if not head.strip():
        raise CensusFileError(
            f"{path}: is empty; expected a header row ({', '.join(REQUIRED)}, ...) and one "
            "row per employee"
        )
    if suffix in PARQUET_SUFFIXES:
        return _read_parquet(path, head)
    return _read_csv(path, head)


def _read_parquet(path: Path, head: bytes) -> pd.DataFrame:
    import pandas as pd
    import pyarrow as pa

    if not head.startswith(b"PAR1"):
        hint = "; it looks like text: a CSV census must be named .csv" if _is_text(head) else ""
        raise CensusFileError(
            f"{path}: is not a Parquet file (no PAR1 signature){hint}; expected a census "
            "Parquet file"
        )
    try:
        frame = pd.read_parquet(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise CensusFileError(
            f"{path}: cannot be read as Parquet ({_first_line(exc)}); expected a census "
            "Parquet file"
        ) from None
    return pd.DataFrame({str(name): _as_text(frame[name]) for name in frame.columns})


def _read_csv(path: Path, head: bytes) -> pd.DataFrame:
    import pandas as pd

    if head.startswith(b"PAR1"):
        hint = "it is a Parquet file: name it .parquet"
    elif head.startswith(b"PK\x03\x04"):
        hint = "it looks like a zip or Excel workbook: save it as CSV"
    elif not _is_text(head, strict=False):
        hint = "it is binary, not text"
    else:
        hint = ""
    if hint:
        raise CensusFileError(f"{path}: is not a CSV file ({hint}); expected a census CSV file")
    try:
        # utf-8-sig: spreadsheet exports often start with a byte-order mark, which would
        # otherwise become part of the first column's name.
        # header=None: a row longer than the header is then an error; with the header
        # read by pandas, extra fields on the first row silently become an index.
        cells = pd.read_csv(
            path, header=None, dtype=str, keep_default_na=False, encoding="utf-8-sig"
        )
    except pd.errors.EmptyDataError:
        raise CensusFileError(
            f"{path}: is empty; expected a header row ({', '.join(REQUIRED)}, ...) and one "
            "row per employee"
        ) from None
    except UnicodeDecodeError:
        raise CensusFileError(
            f"{path}: is not UTF-8 text; expected a census CSV file encoded as UTF-8"
        ) from None
    except pd.errors.ParserError as exc:
        raise CensusFileError(
            f"{path}: is not a well-formed CSV ({_first_line(exc)}); expected a census CSV "
            "file with the same number of fields on every line"
        ) from None
    names = [str(c).strip() for c in cells.iloc[0].fillna("")]
    frame = cells.iloc[1:].reset_index(drop=True)
    # A repeated name gets a suffix (as pandas does), and is remembered so that a column
    # the census uses is never taken from one of two same-named columns by chance.
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        unique.append(f"{name}.{seen[name]}" if name in seen else name)
        seen[name] = seen.get(name, 0) + 1
    frame.columns = unique
    frame.attrs["repeated"] = sorted(n for n, k in seen.items() if k > 1)
    return frame


def _as_text(col: pd.Series) -> pd.Series:
    """A Parquet column as the strings a CSV would hold. Timestamps at midnight (in their
    own time zone) are dates; one with a time of day stays as written, so W-R02 shows it
    rather than the time being dropped silently."""
    import pandas as pd

    if isinstance(col.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(col):
        at_midnight = col == col.dt.normalize()
        text = col.dt.strftime("%Y-%m-%d").where(at_midnight, col.astype(str))
        return text.where(col.notna(), "").astype(str)
    return col.astype(object).where(col.notna(), "").astype(str)


def _is_text(head: bytes, strict: bool = True) -> bool:
    """Whether the start of a file reads as text. Not strict: any 8-bit text (a wrongly
    encoded CSV gets its own message from the reader), only NUL bytes mean binary."""
    if b"\x00" in head:
        return False
    if not strict:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3  # a character cut at the end of the sample
    return True


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _shown(names, limit: int = 12) -> str:
    names = [str(n) for n in names]
    return str(names[:limit])[:-1] + (
        f", ... {len(names) - limit} more]" if len(names) > limit else "]"
    )


def _not_a_date(column: str, value: str) -> str:
    # A timestamp with a time of day (e.g. from Parquet) is named as such, so the fix
    # (export the date, not the moment) is clear.
    timed = re.fullmatch(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}.*", value) is not None
    return f"{column} {value!r} is not a YYYY-MM-DD date" + (
        " (it has a time of day)" if timed else ""
    )


@dataclass(frozen=True)
class CensusResult:
    valid: pa.Table  # census_schema()
    rejections: list[Rejection]
    rows_in: int


def apply_census_rules(
    raw: pd.DataFrame,
    as_of: date,
    levels: list[int],
    origin: str,
    min_age_at_hire: int = DEFAULT_MIN_AGE_AT_HIRE,
) -> CensusResult:
    """Split a census (string values) into valid typed rows and rejections. A row gets the
    first rule it breaks; rows sharing a duplicated id are all set aside, since nothing
    says which one is right."""
    import pandas as pd
    import pyarrow as pa

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
        flag(bad, "W-R02", lambda i, c=col: _not_a_date(c, frame.at[i, c]))
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
    birth, hire = dates["birth_date"], dates["hire_date"]
    flag(
        birth > as_of_ts,
        "W-R09",
        lambda i: f"birth_date {frame.at[i, 'birth_date']} is after the census date {as_of}",
    )
    flag(
        birth > hire,
        "W-R10",
        lambda i: (
            f"birth_date {frame.at[i, 'birth_date']} is after hire_date {frame.at[i, 'hire_date']}"
        ),
    )
    # Whole years completed on the hire date (not days / 365.25, which is off by one
    # around birthdays).
    before_birthday = (hire.dt.month * 100 + hire.dt.day) < (birth.dt.month * 100 + birth.dt.day)
    age_at_hire = hire.dt.year - birth.dt.year - before_birthday.astype(int)
    flag(
        age_at_hire < min_age_at_hire,
        "W-R11",
        lambda i: (
            f"age at hire {int(age_at_hire[i])} (birth_date {frame.at[i, 'birth_date']}, "
            f"hire_date {frame.at[i, 'hire_date']}) is below the minimum "
            f"{min_age_at_hire} (workforce.census.min_age_at_hire)"
        ),
    )

    bad = rule.notna()
    first_row = raw.attrs.get("first_row", 2)  # a CSV's header is line 1
    rejections = [
        Rejection(rule[i], reason[i], f"{origin}#row={i + first_row}", raw.iloc[i].to_dict())
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
        schema=census_schema(),
    )
    return CensusResult(valid=valid, rejections=rejections, rows_in=n)
