"""Record-level rejections and the quarantine table shape shared by every domain.

A rejected record is never dropped: it lands in `quarantine.<table>` with the
rule that rejected it, a reason a person can act on, where it came from, and
the record exactly as received.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import dagster as dg

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class Rejection:
    rule_id: str  # stable id from the rule catalogue, e.g. "E-R03"
    reason: str  # names the field and what was expected
    origin: str  # file / URL path and row, e.g. "eia/RWTC.page0001.json#row=17"
    record: dict[str, Any]  # the raw record as received


@functools.cache
def quarantine_schema() -> pa.Schema:
    """The quarantine columns every domain writes (built on first use: pyarrow, and numpy with
    it, load when a step runs, not with the definitions)."""
    import pyarrow as pa

    return pa.schema(
        [
            ("rule_id", pa.string()),
            ("reason", pa.string()),
            ("origin", pa.string()),
            ("raw_record", pa.string()),
        ]
    )


def __getattr__(name: str) -> Any:
    if name == "QUARANTINE_SCHEMA":  # the constant it was, for readers that import it
        return quarantine_schema()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def quarantine_table(rejections: list[Rejection], **columns: pa.Array | list) -> pa.Table:
    """Arrow table of rejections; `columns` adds per-row columns (e.g. a partition date)."""
    import pyarrow as pa

    table = pa.table(
        {
            "rule_id": [r.rule_id for r in rejections],
            "reason": [r.reason for r in rejections],
            "origin": [r.origin for r in rejections],
            "raw_record": [json.dumps(r.record, sort_keys=True, default=str) for r in rejections],
        },
        schema=quarantine_schema(),
    )
    for name, values in columns.items():
        if isinstance(values, list) and not values:
            # An empty list has no type: the table would be created with a NULL column.
            raise TypeError(f"quarantine column {name!r}: pass a typed pyarrow array")
        table = table.append_column(name, pa.array(values) if isinstance(values, list) else values)
    return table


def quarantine_sample_md(rejections: list[Rejection], rows: int = 10) -> dg.MetadataValue:
    """The first rejected records with their rule id and reason, as a markdown table."""
    if not rejections:
        return dg.MetadataValue.md("none")
    lines = ["| rule | origin | reason |", "|---|---|---|"]
    lines += [
        f"| {r.rule_id} | {r.origin} | {r.reason.replace('|', '/')} |" for r in rejections[:rows]
    ]
    return dg.MetadataValue.md("\n".join(lines))
