"""The NFL draft prospect sources' file layouts, and one parser per source into `RawRecord`s.

- NFL.com combine measurements in the nflverse `combine` CSV layout (`NA` = missing), or
  in nfl_data_py's `combine.csv` layout (inches, 10/20-yard splits, empty = missing).
  Pro Football Reference's draft "Get as CSV" export is recognised and refused: it holds
  draft results, not combine measurements (docs/prospects.md, "Layouts").
- College Football Reference "Get table as CSV": an over-header row, then a header whose
  names repeat (`Yds` under Rushing and Receiving); columns are told apart by position.
- PFF grades CSV export (empty cell = missing; exports may carry a BOM and CRLF).
- Yahoo college statistics and ESPN injury reports: JSON documents (docs/prospects.md).

Parsers never repair or drop a row: every data row of a file becomes one record, with
the source's own field names and values as text. A row that cannot be split into the
header's fields (wrong field count, a JSON item that is not an object) is returned with
`problem` set and its text in `raw`. A file that is not the layout at all (empty, binary,
another layout) raises `ProspectFileError` with one line naming the file.
"""

import csv
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SOURCES = ("nfl", "cfr", "pff", "yahoo", "espn")

NFL_COLUMNS = (
    "season,draft_year,draft_team,draft_round,draft_ovr,pfr_id,cfb_id,player_name,pos,"
    "school,ht,wt,forty,bench,vertical,broad_jump,cone,shuttle"
).split(",")
NFL_MISSING = {"NA", ""}
# nfl_data_py's data/combine.csv: every season in one file, height in inches (`73.875`),
# the 10- and 20-yard splits of the forty, empty cell = missing, CRLF.
NFL_DATA_PY_COLUMNS = (
    "name,college,height,weight,vert,broad,bench,shuttle,cone,10yd,20yd,40yd,season,position"
).split(",")
NFL_LAYOUTS = {  # name -> (columns, the cell values that mean missing)
    "nflverse combine CSV": (NFL_COLUMNS, NFL_MISSING),
    "nfl_data_py combine CSV": (NFL_DATA_PY_COLUMNS, {""}),
}
# Pro Football Reference's draft table, as "Get as CSV" writes it (an over-header row may
# come first; names repeat: Att, Yds, TD, Int; the player is `Name\PfrId`).
PFR_DRAFT_LEAD = ["Rnd", "Pick", "Tm", "Player"]

# CFR: the groups of the over-header and their prefix in field names ("Rushing" + "Yds" ->
# "rush_yds"); a header equal to its group's prefix ("Rec" under Receiving) is just "rec".
CFR_GROUP_PREFIX = {"Rushing": "rush", "Receiving": "rec", "Passing": "pass", "Scrimmage": "scrim"}
CFR_SCHOOL_HEADERS = ("School", "Team")  # newer pages say Team; both become field "school"

PFF_LEAD_COLUMNS = ["player", "player_id", "position", "team_name"]
PFF_COLUMNS = PFF_LEAD_COLUMNS + [
    "player_game_count",
    "grades_offense",
    "grades_defense",
    "grades_pass",
    "grades_run",
    "grades_pass_block",
    "grades_run_block",
    "grades_pass_rush",
    "grades_run_defense",
    "grades_coverage",
    "grades_tackle",
]

_YEAR_IN_NAME = re.compile(r"(\d{4})")


@dataclass(frozen=True)
class RawRecord:
    source: str  # "nfl" | "cfr" | "pff" | "yahoo" | "espn"
    draft_year: int | None  # from the file name (`combine_2024.csv`)
    origin: str  # "<source dir>/<file>#row=N", N counts data rows from 1
    fields: dict[str, str | None]  # the source's own field names; None = missing
    problem: str | None = None  # set when the row cannot be split into fields
    raw: str | None = field(default=None, compare=False)  # the row's text when `problem` is set


class ProspectFileError(ValueError):
    """A file that is not the layout it should be (not a bad row: a bad file)."""


# ---- shared ---------------------------------------------------------------------------------


def _origin_prefix(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def draft_year_of_name(path: Path) -> int | None:
    """The draft year a file name gives (`combine_2024.csv`: 2024), or None."""
    match = _YEAR_IN_NAME.search(path.stem)
    return int(match.group(1)) if match else None


def _read_text(path: Path, expected: str) -> str:
    """The file's text without a BOM; empty or binary files raise, naming what was expected."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ProspectFileError(
            f"{path}: cannot read ({exc.strerror}); expected {expected}"
        ) from None
    if not data.strip():
        raise ProspectFileError(f"{path}: file is empty; expected {expected}")
    if b"\x00" in data:
        raise ProspectFileError(f"{path}: binary content; expected {expected}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ProspectFileError(f"{path}: not UTF-8 text; expected {expected}") from None
    return text.removeprefix("\ufeff")


def _csv_lines(text: str) -> list[str]:
    """The non-blank lines; CRLF and LF both end a line. These exports never quote a line
    break, so one physical line is one row (split into cells by `_cells`)."""
    return [line for line in text.splitlines() if line.strip()]


def _cells(line: str) -> list[str]:
    """One line's cells as the csv module reads them. Without a quote character that is
    exactly the split at commas (a csv reader per line costs more than the split), unless
    the line is long enough for a field to pass the csv module's size limit (it raises)."""
    if '"' in line or len(line) > csv.field_size_limit():
        return next(csv.reader([line]))
    return line.split(",")


def _short(cells: list[str], limit: int = 6) -> str:
    text = ",".join(cells[:limit])
    return text if len(text) <= 80 else text[:77] + "..."


def _csv_records(
    path: Path,
    source: str,
    names: list[str],
    lines: list[str],
    missing: set[str],
) -> list[RawRecord]:
    prefix, year = _origin_prefix(path), draft_year_of_name(path)
    records = []
    for n, line in enumerate(lines, start=1):
        cells = _cells(line)  # split here, so no row's cells outlive its record
        origin = f"{prefix}#row={n}"
        if len(cells) != len(names):
            problem = f"expected {len(names)} fields, got {len(cells)}"
            records.append(RawRecord(source, year, origin, {}, problem, raw=line))
            continue
        values = dict(zip(names, cells, strict=True))
        for k, v in values.items():
            if v.strip() in missing:
                values[k] = None
        records.append(RawRecord(source, year, origin, values))
    return records


# ---- CSV sources ----------------------------------------------------------------------------


def parse_nfl(path: Path) -> list[RawRecord]:
    """NFL.com combine CSV in one of `NFL_LAYOUTS`, told apart by the exact header: the
    nflverse layout (`NA` or an empty cell = missing) or nfl_data_py's (empty = missing).
    Records keep the layout's own field names; the rules read either."""
    path = Path(path)
    expected = " or ".join(
        f"{name} columns {','.join(columns)}" for name, (columns, _) in NFL_LAYOUTS.items()
    )
    lines = _csv_lines(_read_text(path, expected))
    header = _cells(lines[0])
    for columns, missing in NFL_LAYOUTS.values():
        if header == columns:
            return _csv_records(path, "nfl", columns, lines[1:], missing)
    if any(_cells(line)[:4] == PFR_DRAFT_LEAD for line in lines[:2]):
        raise ProspectFileError(
            f"{path}: a Pro Football Reference draft table ({','.join(PFR_DRAFT_LEAD)},...): "
            f"draft results, not combine measurements, are not loaded; expected {expected}"
        )
    raise ProspectFileError(
        f"{path}: header has {header_difference(header, _closest_layout(header))}; "
        f"expected {expected}"
    )


def _closest_layout(header: list[str]) -> list[str]:
    """The layout a wrong header is compared against: nfl_data_py's when it has more than
    half of its columns and a larger share of them than of nflverse's, else nflverse's."""
    shares = [
        (len(set(header) & set(columns)) / len(columns), columns)
        for columns, _ in NFL_LAYOUTS.values()
    ]
    (nflverse_share, nflverse), (other_share, other) = shares
    return other if other_share > 0.5 and other_share > nflverse_share else nflverse


def header_difference(header: list[str], expected: list[str], limit: int = 5) -> str:
    """What is wrong with a header, by column name: the unexpected, missing and repeated
    columns (the first `limit` of each), or the order when the names are all there."""

    def names(kind: str, found: list[str]) -> str:
        listed = ", ".join(repr(name) for name in found[:limit])
        more = f" and {len(found) - limit} more" if len(found) > limit else ""
        return f"{kind} column{'s' if len(found) > 1 else ''} {listed}{more}"

    unexpected = [name for name in header if name not in expected]
    missing = [name for name in expected if name not in header]
    repeated = sorted({name for name in header if header.count(name) > 1}, key=header.index)
    parts = [
        names(kind, found)
        for kind, found in (
            ("unexpected", unexpected),
            ("missing", missing),
            ("repeated", repeated),
        )
        if found
    ]
    if not parts:
        first = next(i for i, (a, b) in enumerate(zip(header, expected, strict=True)) if a != b)
        parts = [
            f"has the columns in another order (column {first + 1} is {header[first]!r}, "
            f"expected {expected[first]!r})"
        ]
    return ", ".join(parts)


def cfr_field_names(over_header: list[str], header: list[str]) -> list[str]:
    """Field names by position: `Yds` under Rushing is `rush_yds`, under Receiving `rec_yds`."""
    names = []
    for i, name in enumerate(header):
        group = over_header[i].strip() if i < len(over_header) else ""
        base = name.strip().lower().replace("-", "_").replace(" ", "_")
        if name in CFR_SCHOOL_HEADERS:
            base = "school"
        if group:
            prefix = CFR_GROUP_PREFIX.get(group, group.lower().replace(" ", "_"))
            base = prefix if base == prefix else f"{prefix}_{base}"
        names.append(base)
    return names


def parse_cfr(path: Path) -> list[RawRecord]:
    """CFR "Get table as CSV": over-header row, then `Rk,Player,School|Team,...`."""
    path = Path(path)
    expected = "College Football Reference CSV (over-header row, then Rk,Player,School|Team,...)"
    lines = _csv_lines(_read_text(path, expected))
    if len(lines) < 2:
        raise ProspectFileError(f"{path}: no header row after the over-header; expected {expected}")
    over, header = _cells(lines[0]), _cells(lines[1])
    if header[:2] != ["Rk", "Player"] or not any(h in header for h in CFR_SCHOOL_HEADERS):
        raise ProspectFileError(f"{path}: header {_short(header)!r}; expected {expected}")
    if not any(over) or len(over) != len(header):
        raise ProspectFileError(f"{path}: over-header {_short(over)!r}; expected {expected}")
    names = cfr_field_names(over, header)
    if len(set(names)) != len(names):
        raise ProspectFileError(f"{path}: columns repeat within a group; expected {expected}")
    return _csv_records(path, "cfr", names, lines[2:], {""})


def parse_pff(path: Path) -> list[RawRecord]:
    """PFF grades export: `player,player_id,position,team_name,...`; empty cell = missing."""
    path = Path(path)
    expected = "PFF grades CSV with header " + ",".join(PFF_LEAD_COLUMNS) + ",..."
    lines = _csv_lines(_read_text(path, expected))
    header = _cells(lines[0])
    if header[:4] != PFF_LEAD_COLUMNS or len(set(header)) != len(header):
        raise ProspectFileError(f"{path}: header {_short(header)!r}; expected {expected}")
    return _csv_records(path, "pff", header, lines[1:], {""})


# ---- JSON sources ---------------------------------------------------------------------------


def flatten(item: dict, prefix: str = "") -> dict[str, str | None]:
    """Nested objects become dotted names (`team.name`); a list of `{"stat_id", "value"}`
    pairs becomes `stats.<stat_id>`; other lists their JSON text; numbers their text."""
    out: dict[str, str | None] = {}
    _flatten_into(out, item, prefix)
    return out


def _flatten_into(out: dict[str, str | None], item: dict, prefix: str) -> None:
    # Nested objects write into the one `out` (same names, same order as flattening each
    # on its own and merging), so no dict is built per nested object.
    for key, value in item.items():
        name = f"{prefix}{key}"
        if isinstance(value, str):
            out[name] = value
        elif isinstance(value, dict):
            _flatten_into(out, value, f"{name}.")
        elif isinstance(value, list) and all(isinstance(v, dict) and "stat_id" in v for v in value):
            for stat in value:
                out[f"{name}.{stat['stat_id']}"] = _text(stat.get("value"))
        elif isinstance(value, list):
            out[name] = json.dumps(value, ensure_ascii=False)
        else:
            out[name] = _text(value)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return repr(value)  # what json.dumps writes for these, without its overhead
    return json.dumps(value)


def _json_records(
    path: Path,
    source: str,
    expected: str,
    list_path: tuple[str, ...],
    year_path: tuple[str, ...],
):
    path = Path(path)
    text = _read_text(path, expected)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProspectFileError(
            f"{path}: not JSON ({exc.msg} at line {exc.lineno}); expected {expected}"
        ) from None
    node: Any = doc
    for key in list_path:
        if not isinstance(node, dict) or key not in node:
            raise ProspectFileError(f"{path}: no {'.'.join(list_path)!r}; expected {expected}")
        node = node[key]
    if not isinstance(node, list):
        raise ProspectFileError(
            f"{path}: {'.'.join(list_path)!r} is not a list; expected {expected}"
        )
    prefix, year = _origin_prefix(path), draft_year_of_name(path)
    _same_declared_year(path, doc, year_path, year)
    records = []
    for n, item in enumerate(node, start=1):
        origin = f"{prefix}#row={n}"
        if isinstance(item, dict):
            records.append(RawRecord(source, year, origin, flatten(item)))
        else:
            problem = f"item is {type(item).__name__}, expected an object"
            raw = json.dumps(item, ensure_ascii=False)
            records.append(RawRecord(source, year, origin, {}, problem, raw=raw))
    return records


def _same_declared_year(path: Path, doc: Any, year_path: tuple[str, ...], year: int | None):
    """P-R09 for a whole file: the draft year the document declares (`meta.draft_year`)
    must be the one of its name, which is the partition it loads into. A file with no
    declared year is judged by its records; a name with no year, by P-R09 per record."""
    node: Any = doc
    for key in year_path:
        node = node.get(key) if isinstance(node, dict) else None
    if node is None or year is None:
        return
    if str(node).strip() != str(year):
        raise ProspectFileError(
            f"{path}: P-R09 {'.'.join(year_path)} is {node!r}, not the file's draft year {year}; "
            f"expected a file of draft year {year}"
        )


def parse_yahoo(path: Path) -> list[RawRecord]:
    """Yahoo college stats: `{"meta": {...}, "players": [...]}` (docs/prospects.md). A file
    whose `meta.draft_year` is not the draft year of its name is another year's (P-R09)."""
    expected = 'Yahoo college stats JSON {"meta": ..., "players": [...]}'
    return _json_records(path, "yahoo", expected, ("players",), ("meta", "draft_year"))


def parse_espn(path: Path) -> list[RawRecord]:
    """ESPN injury reports: `{"season": ..., "injuries": [...]}` (docs/prospects.md). A file
    whose `season.year` is not the draft year of its name is another year's (P-R09)."""
    expected = 'ESPN injuries JSON {"season": ..., "injuries": [...]}'
    return _json_records(path, "espn", expected, ("injuries",), ("season", "year"))


PARSERS = {
    "nfl": parse_nfl,
    "cfr": parse_cfr,
    "pff": parse_pff,
    "yahoo": parse_yahoo,
    "espn": parse_espn,
}
