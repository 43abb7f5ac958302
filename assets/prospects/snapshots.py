"""Daily snapshots of the canonical prospects, and what changed since the previous one.

A snapshot is one row per canonical prospect (every draft year) with the fields people
follow: identity, winning measurements, PFF grade, latest injury status. Each day's is kept
as zstd Parquet in `prospects.archive` and in `snapshots.prospects_history`; the change
report against the previous snapshot (new prospects, removed ones, and for each changed
field its old and new value) is `snapshots.prospects_changes` and the materialization's
metadata. A snapshot records the warehouse as it is now, so only today's partition (in
`prospects.schedule_timezone`) can be taken: asking for a past day fails and says so.
"""

from __future__ import annotations

import functools
import io
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from headwater.files import write_atomic

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

KEY = "prospect_id"
HISTORY = "snapshots.prospects_history"
CHANGES = "snapshots.prospects_changes"
MEASUREMENTS = [
    "height_in",
    "weight_lb",
    "forty",
    "bench",
    "vertical",
    "broad_jump",
    "cone",
    "shuttle",
]
FIELDS = [
    "draft_year",
    "name",
    "position",
    "school",
    "sources",
    *MEASUREMENTS,
    "pff_grade",
    "injury_status",
]
CHANGE_COLUMNS = ["change", KEY, "field", "old_value", "new_value"]

# Canonical prospects as they are now, one row each: SQL that DuckDB and PostgreSQL both run.
# The latest injury status is the newest report's (reports without a status or a time do
# not count); two reports at the same time: the greater report_id, compared byte by byte
# (COLLATE "C") so both engines pick the same one whatever the database's locale.
SNAPSHOT_SQL = f"""
WITH m AS (
    SELECT prospect_id,
           {", ".join(f"max(value) FILTER (WHERE measurement = '{m}') AS {m}" for m in MEASUREMENTS)}
    FROM canonical.prospect_measurements GROUP BY prospect_id
), g AS (
    SELECT prospect_id, coalesce(grades_offense, grades_defense) AS pff_grade
    FROM canonical.prospect_grades
), ranked AS (
    SELECT prospect_id, status,
           row_number() OVER (
               PARTITION BY prospect_id
               ORDER BY reported_at DESC, report_id COLLATE "C" DESC
           ) AS newest
    FROM canonical.prospect_injuries
    WHERE status IS NOT NULL AND reported_at IS NOT NULL
), i AS (
    SELECT prospect_id, status AS injury_status FROM ranked WHERE newest = 1
)
SELECT c.prospect_id, c.draft_year, c.name, c.position, c.school, c.sources,
       {", ".join(f"m.{m}" for m in MEASUREMENTS)}, g.pff_grade, i.injury_status
FROM canonical.prospect_core c
LEFT JOIN m ON m.prospect_id = c.prospect_id
LEFT JOIN g ON g.prospect_id = c.prospect_id
LEFT JOIN i ON i.prospect_id = c.prospect_id
"""


# The snapshot's columns and types, whatever the engine's driver returns (PostgreSQL's
# rows carry no type for a column that is all null).
@functools.cache
def snapshot_schema() -> pa.Schema:
    """Built on first use: pyarrow loads when a snapshot is taken, not with the definitions."""
    import pyarrow as pa

    return pa.schema(
        [
            (KEY, pa.string()),
            ("draft_year", pa.int64()),
            ("name", pa.string()),
            ("position", pa.string()),
            ("school", pa.string()),
            ("sources", pa.string()),
            *((m, pa.float64()) for m in MEASUREMENTS),
            ("pff_grade", pa.float64()),
            ("injury_status", pa.string()),
        ]
    )


def typed_snapshot(table: pa.Table) -> pa.Table:
    """Rows of SNAPSHOT_SQL in snapshot_schema(), sorted by prospect_id byte by byte (as
    DuckDB orders text; PostgreSQL's ORDER BY would follow the database's locale)."""
    schema = snapshot_schema()
    return table.select(schema.names).cast(schema).sort_by(KEY)


class PastSnapshotError(ValueError):
    """A snapshot asked for a day that is not today."""


def today(timezone: str) -> date:
    return datetime.now(ZoneInfo(timezone)).date()


def require_today(partition_key: str, timezone: str) -> date:
    """The partition's day, which must be today: a snapshot cannot be taken in the past."""
    day, now = date.fromisoformat(partition_key), today(timezone)
    if day != now:
        raise PastSnapshotError(
            f"snapshot {day}: a snapshot records the canonical prospects as they are now, so "
            f"only today's partition ({now}, {timezone}) can be taken; {day} "
            + ("has passed" if day < now else "has not come yet")
        )
    return day


def _text(value) -> str | None:
    import pandas as pd

    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def change_report(previous: pd.DataFrame | None, current: pd.DataFrame) -> pd.DataFrame:
    """Rows (change, prospect_id, field, old_value, new_value): `new` and `removed` once per
    prospect (field null), `changed` once per field whose value differs (null != value).
    Values as text. Sorted by prospect, then field."""
    import pandas as pd

    fields = [c for c in FIELDS if c in current.columns]
    if previous is None or previous.empty:
        previous = pd.DataFrame(columns=[KEY, *fields])
    old = previous.set_index(KEY)
    new = current.set_index(KEY)
    rows = [("new", pid, None, None, None) for pid in new.index.difference(old.index)]
    rows += [("removed", pid, None, None, None) for pid in old.index.difference(new.index)]
    common = new.index.intersection(old.index)
    for field in fields:
        if field not in old.columns:
            continue
        a = old.loc[common, field].map(_text)
        b = new.loc[common, field].map(_text)
        differs = (a != b) & ~(a.isna() & b.isna())
        for pid in common[differs.to_numpy()]:
            rows.append(("changed", pid, field, a[pid], b[pid]))
    report = pd.DataFrame(rows, columns=CHANGE_COLUMNS)
    order = {"new": 0, "changed": 1, "removed": 2}
    report = (
        report.assign(_o=report["change"].map(order), _f=report["field"].fillna(""))
        .sort_values([KEY, "_o", "_f"], kind="stable")
        .drop(columns=["_o", "_f"])
        .reset_index(drop=True)
        .astype(object)
    )
    return report.where(report.notna(), None)


def archive_path(archive: Path, day: date) -> Path:
    return Path(archive) / f"prospects_{day.isoformat()}.parquet"


def write_archive(table: pa.Table, path: Path) -> int:
    """The snapshot as zstd Parquet, written atomically; returns its size in bytes."""
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    data = buffer.getvalue()
    write_atomic(path, data)
    return len(data)
