"""Typed columns from raw field texts, the machinery under the record rules: `_Fields`
reads a batch of one source's `RawRecord`s a field at a time (each distinct text parsed
once, as a whole number, a number or a feet-inches height), collects each record's
problems by rule id and rejects the records that have one; `typed_frame` builds a
DataFrame of the staging dtypes from the columns. `assets.prospects.rules` says which
fields each source has and which checks they pass."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any

from assets.prospects.wire_formats import RawRecord

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

_INT = re.compile(r"[+-]?\d+(?:\.0*)?")  # "249" and "249.0"; not "nan", "inf", "1e3"
_FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)")


# Typed values of field texts. The same few thousand texts ("4.52", "6-2", "17") repeat
# across every file, so each is parsed once: the value, None for a blank text (JSON sources
# may send "" for missing), or _INVALID.
_INVALID = object()


@lru_cache(maxsize=65_536)
def _whole_value(text: str) -> Any:
    stripped = text.strip()
    if not stripped:
        return None
    return int(stripped.partition(".")[0]) if _INT.fullmatch(stripped) else _INVALID


@lru_cache(maxsize=65_536)
def _number_value(text: str) -> Any:
    stripped = text.strip()
    if not stripped:
        return None
    return float(stripped) if _FLOAT.fullmatch(stripped) else _INVALID


@lru_cache(maxsize=65_536)
def _height_value(text: str, pattern: re.Pattern) -> Any:
    stripped = text.strip()
    if not stripped:
        return None
    match = pattern.fullmatch(stripped)
    if not match or int(match.group(2)) > 11:
        return _INVALID
    return int(match.group(1)) * 12 + int(match.group(2))


class _Fields:
    """A batch of records' fields, read a field at a time: `text`, `whole`, ... return one
    value per record (a column). Problems are collected per record as (rule id, message),
    in the order the checks run, and `stop()` rejects every record that has one (lowest rule
    id, every message); a rejected record's later problems are ignored, as if its checks
    had stopped there. Reading by column keeps the per-record work to comprehensions."""

    def __init__(self, records: list[RawRecord], layout: tuple[str, ...] | None = None):
        self.records = records
        self.issues: dict[int, list[tuple[str, str]]] = {}  # record position -> problems
        self.rejected: dict[int, tuple[str, str]] = {}  # record position -> (rule id, reason)
        self._fields = [rec.fields for rec in records]
        self._texts: dict[str, list[str | None]] = {}
        if layout is not None:  # every record has these fields in this order: transpose
            values = zip(*(fields.values() for fields in self._fields), strict=True)
            # (an empty batch has no columns: `text` then reads none by name)
            self._texts = dict(zip(layout, map(list, values), strict=False))

    def add(self, rule_id: str, problems: Iterable[tuple[int, str]]) -> None:
        """Problems as (record position, message): only the records that fail a check."""
        for i, message in problems:
            self.issues.setdefault(i, []).append((rule_id, message))

    def text(self, name: str) -> list[str | None]:
        if name not in self._texts:
            self._texts[name] = [fields.get(name) for fields in self._fields]
        return self._texts[name]

    def require(self, *names: str) -> None:
        for name in names:
            missing = f"required field {name!r} is missing"
            texts = self.text(name)
            self.add(
                "P-R02", ((i, missing) for i, v in enumerate(texts) if v is None or not v.strip())
            )

    def _typed(self, name: str, parse: Callable[[str], Any], problem: str) -> list[Any]:
        texts = self.text(name)
        values = [None if text is None else parse(text) for text in texts]
        if _INVALID in values:
            self.add(
                "P-R03",
                (
                    (i, f"{name} {texts[i]!r} {problem}")
                    for i, v in enumerate(values)
                    if v is _INVALID
                ),
            )
            values = [None if value is _INVALID else value for value in values]
        return values

    def whole(self, name: str) -> list[int | None]:
        return self._typed(name, _whole_value, "is not a whole number")

    def number(self, name: str) -> list[float | None]:
        return self._typed(name, _number_value, "is not a number")

    def nearest_whole(self, name: str) -> list[int | None]:
        """A number rounded to the nearest whole one, halves up (`73.5` -> 74)."""
        return [None if v is None else math.floor(v + 0.5) for v in self.number(name)]

    def height(self, name: str, pattern: re.Pattern, example: str) -> list[int | None]:
        problem = f"is not feet-inches like {example} (inches 0-11)"
        return self._typed(name, partial(_height_value, pattern=pattern), problem)

    def bound(
        self, rule_id: str, label: str, values: list[float | None], lo: float, hi: float
    ) -> None:
        self.add(
            rule_id,
            (
                (i, f"{label} {value:g} outside [{lo:g}, {hi:g}]")
                for i, value in enumerate(values)
                if value is not None and not lo <= value <= hi
            ),
        )

    def same_year(self, label: str, years: list[int | None]) -> None:
        self.add(
            "P-R09",
            (
                (i, f"{label} {year} is not the file's draft year {rec.draft_year}")
                for i, (year, rec) in enumerate(zip(years, self.records, strict=True))
                if year is not None and year != rec.draft_year
            ),
        )

    def extra(self, known: Collection[str]) -> list[str | None]:
        """The fields this layout does not know, as JSON text (None when there are none)."""
        return [_extra(fields, known) for fields in self._fields]

    def stop(self) -> None:
        for i, issues in self.issues.items():
            if i not in self.rejected:
                rule_id = min(rule for rule, _ in issues)
                self.rejected[i] = rule_id, "; ".join(message for _, message in issues)
        self.issues.clear()


def _extra(fields: dict[str, str | None], known: Collection[str]) -> str | None:
    rest = fields.keys() - known  # usually empty: skip building a dict for nothing
    if not rest:
        return None
    return json.dumps({k: fields[k] for k in rest}, ensure_ascii=False, sort_keys=True)


def typed_frame(columns: Mapping[str, Sequence[Any]], dtypes: Mapping[str, str]) -> pd.DataFrame:
    """A DataFrame with the columns of `dtypes`, in that order, from Python values per
    column (None = missing). It is built from arrays, not Series (no index to align per
    column), and text goes to Arrow as is, where pandas would check every value first."""
    import pandas as pd
    import pyarrow as pa

    data = {}
    for name, dtype in dtypes.items():
        values = columns[name]
        if dtype.startswith("datetime64"):
            if all(isinstance(v, datetime) for v in values if v is not None):
                # as to_datetime(utc=True) reads datetimes, without its per-value zone work
                data[name] = pd.array(values, dtype=dtype)
            else:
                data[name] = pd.Series(pd.to_datetime(values, utc=True), dtype=dtype).array
            continue
        if dtype == "string":
            try:
                values = pa.array(values, type=pa.large_string())
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                pass  # not all text: pandas converts it
        elif dtype in ("Int64", "Float64") and not pd.get_option("future.distinguish_nan_and_na"):
            values = _as_floats(values, whole=dtype == "Int64")
        data[name] = pd.array(values, dtype=dtype)
    return pd.DataFrame(data, columns=list(dtypes))


def _as_floats(values: Sequence[Any], whole: bool) -> Sequence[Any] | np.ndarray:
    """Numbers as a float array (None as NaN, which pandas masks unless told to keep NaN
    apart): pandas reads that in one pass, a list of objects in several. Whole numbers
    beyond 2**53 would lose digits as floats, and anything not a number does not convert:
    those values stay as they are."""
    import numpy as np

    try:
        floats = np.array(values, dtype=float)
    except (TypeError, ValueError, OverflowError):
        return values
    if not whole or np.abs(floats[~np.isnan(floats)]).max(initial=0) < 2**53:
        return floats
    return values
