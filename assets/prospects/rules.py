"""Record rules for the prospects staging tables: one pure function per source.

Each `apply_<source>_rules(records, ...)` splits one source's `RawRecord`s into typed
staging rows (a pandas DataFrame, one row per loaded record, lineage columns `origin` and
`draft_year` last) and `Rejection`s for quarantine, so that rows in = rows loaded + rows
quarantined (asserted). Values are typed but not normalized: names, schools and positions
are kept exactly as the source wrote them (normalization is the next step).

Every record gets at most one rejection. The rules run in stages and the first stage that
finds a problem rejects the record:

  1. P-R01 the row could not be split into fields (`RawRecord.problem`);
  2. P-R05 exact duplicate of an earlier record of the same file (whatever else is wrong
     with it: the first copy answers for the content);
  3. P-R02 a required field is missing;
  4. P-R03 a value that should be a number (or a feet-inches height) is not;
  5. value checks P-R04, P-R06, P-R07, P-R08, P-R09, P-R10: all are evaluated, the record
     is filed under the lowest failing rule id and the reason lists every failure.

Ids are stable; the catalogue is `RULES` and docs/prospects.md ("Record rules").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from assets.prospects.typed_columns import _Fields, typed_frame
from assets.prospects.wire_formats import RawRecord
from headwater.quality import Rejection

if TYPE_CHECKING:
    import pandas as pd

RULES: dict[str, str] = {
    "P-R01": "row could not be split into the header's fields (wrong field count, JSON item not an object)",
    "P-R02": "required field missing (the name, and the source's own id where it has one)",
    "P-R03": "value not a number (or not a whole number where one is expected), or height not feet-inches",
    "P-R04": "measurement out of range (height, weight, combine drills; RANGES)",
    "P-R05": "exact duplicate of an earlier record in the same file",
    "P-R06": "PFF grade outside [0, 100]",
    "P-R07": "negative or absurd statistic (games, attempts, yards, touchdowns, averages; STAT_BOUNDS)",
    "P-R08": "ESPN report with an unknown status, or a date / return date that does not parse",
    "P-R09": "year disagrees with the file's draft year (NFL season / draft_year, ESPN report date), or the file name has no year",
    "P-R10": "NFL draft pick out of range (round 1-7, overall 1-262)",
}

# Inclusive bounds, per measurement (P-R04). Height in inches, weight in pounds, times in
# seconds, jumps in inches, bench in repetitions of 225 lb.
RANGES: dict[str, tuple[float, float]] = {
    "height": (64, 83),
    "weight": (150, 400),
    "forty": (4.2, 6.0),
    "vertical": (15, 50),
    "bench": (0, 50),
    "broad_jump": (70, 150),
    "cone": (6.0, 9.0),
    "shuttle": (3.5, 6.0),
    # The forty's 10- and 20-yard splits (nfl_data_py's layout only): the 2003-2020 combines
    # span 1.40-2.12 s and 2.41-3.51 s.
    "ten_yd": (1.3, 2.3),
    "twenty_yd": (2.2, 3.8),
}

# Inclusive bounds for one college season (P-R07), beyond the FBS records with room to
# spare: at most 17 games (15 plus a 12-team playoff), 2,628 rushing yards (Sanders 1988),
# 155 receptions, 2,060 receiving yards. Yards and averages may be negative (sacks count
# as rushes in college, a loss on a catch); counts may not.
STAT_BOUNDS: dict[str, tuple[float, float]] = {
    "games": (0, 17),
    "rush_att": (0, 500),
    "rush_yds": (-300, 3000),
    "rush_avg": (-100, 100),
    "rush_td": (0, 50),
    "rec": (0, 200),
    "rec_yds": (-100, 2500),
    "rec_avg": (-100, 100),
    "rec_td": (0, 40),
}

GRADE_RANGE = (0.0, 100.0)  # P-R06
DRAFT_ROUNDS = (1, 7)  # P-R10
DRAFT_PICKS = (1, 262)  # P-R10: 7 rounds of 32 plus at most 32 compensatory picks, rounded up

# ESPN's injury statuses (P-R08); anything else is a new status a person should look at.
ESPN_STATUSES = frozenset(
    {"Active", "Questionable", "Doubtful", "Out", "Day-To-Day", "Injured Reserve", "Suspension"}
)

_HEIGHT_DASH = re.compile(r"(\d)-(\d{1,2})")  # nflverse "6-2"
_HEIGHT_FEET_INCHES = re.compile(r"(\d)'\s*(\d{1,2})\"")  # Yahoo 6' 2"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

LINEAGE = {"origin": "string", "draft_year": "int64"}

# Staging columns per source: name -> pandas dtype (lineage columns are appended).
COLUMNS: dict[str, dict[str, str]] = {
    "nfl": {
        "season": "Int64",
        "nfl_draft_year": "Int64",  # the file's `draft_year` field: NA when not drafted
        "draft_team": "string",
        "draft_round": "Int64",
        "draft_ovr": "Int64",
        "pfr_id": "string",
        "cfb_id": "string",
        "name": "string",
        "position": "string",
        "school": "string",
        "height_in": "Int64",
        "weight_lb": "Int64",
        "forty": "Float64",
        "bench": "Int64",
        "vertical": "Float64",
        "broad_jump": "Int64",
        "cone": "Float64",
        "shuttle": "Float64",
        "ten_yd": "Float64",  # the forty's splits: nfl_data_py's layout has them, nflverse not
        "twenty_yd": "Float64",
    },
    "cfr": {
        "rank": "Int64",
        "name": "string",
        "school": "string",
        "conference": "string",
        "games": "Int64",
        "rush_att": "Int64",
        "rush_yds": "Int64",
        "rush_avg": "Float64",
        "rush_td": "Int64",
        "rec": "Int64",
        "rec_yds": "Int64",
        "rec_avg": "Float64",
        "rec_td": "Int64",
        "cfb_id": "string",
        "extra": "string",  # JSON of fields this layout does not know, as text
    },
    "pff": {
        "pff_id": "string",
        "name": "string",
        "position": "string",
        "team": "string",
        "games": "Int64",
        "grades_offense": "Float64",
        "grades_defense": "Float64",
        "grades_pass": "Float64",
        "grades_run": "Float64",
        "grades_pass_block": "Float64",
        "grades_run_block": "Float64",
        "grades_pass_rush": "Float64",
        "grades_run_defense": "Float64",
        "grades_coverage": "Float64",
        "grades_tackle": "Float64",
        "extra": "string",
    },
    "yahoo": {
        "yahoo_id": "string",
        "name": "string",
        "first_name": "string",
        "last_name": "string",
        "position": "string",
        "team_id": "string",
        "school": "string",
        "height_in": "Int64",
        "weight_lb": "Int64",
        "class": "string",
        "games": "Int64",
        "rush_att": "Int64",
        "rush_yds": "Int64",
        "rush_avg": "Float64",
        "rush_td": "Int64",
        "rec": "Int64",
        "rec_yds": "Int64",
        "rec_avg": "Float64",
        "rec_td": "Int64",
        "extra": "string",
    },
    "espn": {
        "report_id": "string",
        "espn_id": "string",
        "name": "string",
        "position": "string",
        "school": "string",
        "status": "string",
        "reported_at": "datetime64[ns, UTC]",
        "injury": "string",
        "return_date": "object",  # datetime.date or None
    },
}

# The CFR/Yahoo statistics, by staging column: (field name, whole number?).
_STATS = {
    "games": ("g", True),
    "rush_att": ("rush_att", True),
    "rush_yds": ("rush_yds", True),
    "rush_avg": ("rush_avg", False),
    "rush_td": ("rush_td", True),
    "rec": ("rec", True),
    "rec_yds": ("rec_yds", True),
    "rec_avg": ("rec_avg", False),
    "rec_td": ("rec_td", True),
}
_PFF_GRADES = [c for c in COLUMNS["pff"] if c.startswith("grades_")]


def _raw(rec: RawRecord) -> dict[str, Any]:
    """The record as received, for quarantine: its fields, or its text when it did not split."""
    return {"raw": rec.raw} if rec.problem else dict(rec.fields)


def _apply(
    records: list[RawRecord],
    source: str,
    name_field: str,
    convert: Callable[[_Fields], dict[str, list[Any]]],
) -> tuple[pd.DataFrame, list[Rejection]]:
    failed: dict[int, tuple[str, str]] = {}  # record index -> (rule id, reason)
    batch: list[int] = []  # indexes of the records that go on to the field checks
    seen: dict[tuple, str] = {}  # (file, fields) -> origin of the first copy
    orders: dict[tuple[str, ...], tuple[str, ...]] = {}  # field names -> sorted
    # The records of a file mostly share one layout (field names in one order, a CSV
    # header): then their values in that order tell equal records apart, and the checks
    # read the batch's columns by transposing it.
    layouts = {tuple(rec.fields) for rec in records if not rec.problem}
    layout = next(iter(layouts)) if len(layouts) == 1 else None
    for i, rec in enumerate(records):
        if rec.source != source:
            raise ValueError(f"{rec.origin}: a {rec.source!r} record given to the {source} rules")
        if rec.problem:
            failed[i] = "P-R01", f"row could not be split into fields: {rec.problem}"
            continue
        content = tuple(rec.fields.values()) if layout else _content(rec.fields, orders)
        key = (rec.origin.partition("#")[0], content)
        copies = len(seen)
        first = seen.setdefault(key, rec.origin)  # one lookup: the key hashes every field
        if len(seen) == copies:
            failed[i] = "P-R05", f"exact duplicate of {first}"
            continue
        batch.append(i)

    fields = _Fields([records[i] for i in batch], layout)
    columns = convert(fields)
    no_year = "the file name has no draft year"
    fields.add(
        "P-R09", ((i, no_year) for i, rec in enumerate(fields.records) if rec.draft_year is None)
    )
    fields.stop()
    failed |= {batch[n]: rejected for n, rejected in fields.rejected.items()}

    rejections = []
    for i in sorted(failed):
        rec, (rule_id, reason) = records[i], failed[i]
        who = f"{source} {rec.fields[name_field]}" if rec.fields.get(name_field) else source
        rejections.append(Rejection(rule_id, f"{who}: {reason}", rec.origin, _raw(rec)))
    loaded = [n for n in range(len(batch)) if n not in fields.rejected]
    if len(loaded) < len(batch):
        columns = {name: [values[n] for n in loaded] for name, values in columns.items()}
    columns["origin"] = [records[batch[n]].origin for n in loaded]
    columns["draft_year"] = [records[batch[n]].draft_year for n in loaded]
    assert len(records) == len(loaded) + len(rejections), "rows in != loaded + quarantined"
    return typed_frame(columns, COLUMNS[source] | LINEAGE), rejections


def _content(
    fields: dict[str, str | None], orders: dict[tuple[str, ...], tuple[str, ...]]
) -> tuple[tuple[str, ...], tuple[str | None, ...]]:
    """The field names sorted and their values in that order: equal exactly when the
    dicts are, whatever their key order. A file's records share a few name orders, so
    each is sorted once (`orders`), and no (name, value) pair is built per field."""
    names = tuple(fields)
    order = orders.get(names)
    if order is None:
        order = orders[names] = tuple(sorted(names))
    return order, tuple(map(fields.__getitem__, order))


def _ranges(overrides: Mapping[str, tuple[float, float]] | None, defaults: dict) -> dict:
    return defaults | dict(overrides or {})


def _stats(f: _Fields, prefix: str, bounds: Mapping[str, tuple[float, float]]) -> dict:
    """The CFR/Yahoo statistics, typed (P-R03), then bounded (P-R07)."""
    out = {}
    for column, (name, whole) in _STATS.items():
        out[column] = f.whole(prefix + name) if whole else f.number(prefix + name)
    f.stop()
    for column, values in out.items():
        if column in bounds:
            f.bound("P-R07", _STATS[column][0], values, *bounds[column])
    return out


# ---- one function per source ----------------------------------------------------------------
# Each `convert` reads a batch of records (`_Fields`) and returns the staging columns; its
# checks run in the order written, each over every record of the batch.


def apply_nfl_rules(
    records: list[RawRecord], ranges: Mapping[str, tuple[float, float]] | None = None
) -> tuple[pd.DataFrame, list[Rejection]]:
    """NFL.com combine, in either layout of `wire_formats.NFL_LAYOUTS` (one per call: the
    records of one file). Required: the name (the combine has no id of its own: nflverse's
    `pfr_id` is set only for drafted players, nfl_data_py has none). `ranges` overrides
    `RANGES`."""
    bounds = _ranges(ranges, RANGES)
    layouts = {"40yd" in rec.fields for rec in records if not rec.problem}
    if len(layouts) > 1:
        raise ValueError("NFL records of two layouts (nflverse and nfl_data_py) in one call")
    nfl_data_py = layouts == {True}

    def convert(f: _Fields) -> dict[str, list[Any]]:
        row = _nfl_data_py_row(f) if nfl_data_py else _nflverse_row(f)
        f.stop()
        f.bound("P-R04", "height (in)", row["height_in"], *bounds["height"])
        f.bound("P-R04", "weight (lb)", row["weight_lb"], *bounds["weight"])
        for drill in ("forty", "bench", "vertical", "broad_jump", "cone", "shuttle"):
            f.bound("P-R04", drill, row[drill], *bounds[drill])
        for split in ("ten_yd", "twenty_yd"):
            f.bound("P-R04", split, row[split], *bounds[split])
        f.same_year("season", row["season"])
        f.same_year("draft_year", row["nfl_draft_year"])
        f.bound("P-R10", "draft_round", row["draft_round"], *DRAFT_ROUNDS)
        f.bound("P-R10", "draft_ovr", row["draft_ovr"], *DRAFT_PICKS)
        return row

    return _apply(records, "nfl", "name" if nfl_data_py else "player_name", convert)


def _nflverse_row(f: _Fields) -> dict[str, list[Any]]:
    f.require("player_name")
    f.stop()
    return {
        "season": f.whole("season"),
        "nfl_draft_year": f.whole("draft_year"),
        "draft_team": f.text("draft_team"),
        "draft_round": f.whole("draft_round"),
        "draft_ovr": f.whole("draft_ovr"),
        "pfr_id": f.text("pfr_id"),
        "cfb_id": f.text("cfb_id"),
        "name": f.text("player_name"),
        "position": f.text("pos"),
        "school": f.text("school"),
        "height_in": f.height("ht", _HEIGHT_DASH, "6-2"),
        "weight_lb": f.whole("wt"),
        "forty": f.number("forty"),
        "bench": f.whole("bench"),
        "vertical": f.number("vertical"),
        "broad_jump": f.whole("broad_jump"),
        "cone": f.number("cone"),
        "shuttle": f.number("shuttle"),
        "ten_yd": [None] * len(f.records),
        "twenty_yd": [None] * len(f.records),
    }


def _nfl_data_py_row(f: _Fields) -> dict[str, list[Any]]:
    """nfl_data_py's combine: no draft or ids; height in inches to the eighth (`73.875`),
    kept to the nearest inch like nflverse's feet-inches (`6-2`), so a player measures the
    same in either layout."""
    f.require("name")
    f.stop()
    none = [None] * len(f.records)
    return {
        "season": f.whole("season"),
        "nfl_draft_year": none,
        "draft_team": none,
        "draft_round": none,
        "draft_ovr": none,
        "pfr_id": none,
        "cfb_id": none,
        "name": f.text("name"),
        "position": f.text("position"),
        "school": f.text("college"),
        "height_in": f.nearest_whole("height"),
        "weight_lb": f.whole("weight"),
        "forty": f.number("40yd"),
        "bench": f.whole("bench"),
        "vertical": f.number("vert"),
        "broad_jump": f.whole("broad"),
        "cone": f.number("cone"),
        "shuttle": f.number("shuttle"),
        "ten_yd": f.number("10yd"),
        "twenty_yd": f.number("20yd"),
    }


def apply_cfr_rules(
    records: list[RawRecord], stat_bounds: Mapping[str, tuple[float, float]] | None = None
) -> tuple[pd.DataFrame, list[Rejection]]:
    """College Football Reference season stats. Required: `player` and `player_additional`
    (CFR's own id, = nflverse cfb_id). `stat_bounds` overrides `STAT_BOUNDS`."""
    bounds = _ranges(stat_bounds, STAT_BOUNDS)
    known = {"rk", "player", "school", "conf", "player_additional"} | {
        name for name, _ in _STATS.values()
    }

    def convert(f: _Fields) -> dict[str, list[Any]]:
        f.require("player", "player_additional")
        f.stop()
        row = {
            "rank": f.whole("rk"),
            "name": f.text("player"),
            "school": f.text("school"),
            "conference": f.text("conf"),
            "cfb_id": f.text("player_additional"),
            "extra": f.extra(known),
        }
        return row | _stats(f, "", bounds)

    return _apply(records, "cfr", "player", convert)


def apply_pff_rules(
    records: list[RawRecord], stat_bounds: Mapping[str, tuple[float, float]] | None = None
) -> tuple[pd.DataFrame, list[Rejection]]:
    """PFF grades. Required: `player` and `player_id`. Grades in [0, 100] (P-R06); the game
    count is bounded like `STAT_BOUNDS["games"]` (P-R07)."""
    bounds = _ranges(stat_bounds, STAT_BOUNDS)
    known = {"player", "player_id", "position", "team_name", "player_game_count", *_PFF_GRADES}

    def convert(f: _Fields) -> dict[str, list[Any]]:
        f.require("player", "player_id")
        f.stop()
        row = {
            "pff_id": f.text("player_id"),
            "name": f.text("player"),
            "position": f.text("position"),
            "team": f.text("team_name"),
            "games": f.whole("player_game_count"),
            **{grade: f.number(grade) for grade in _PFF_GRADES},
            "extra": f.extra(known),
        }
        f.stop()
        for grade in _PFF_GRADES:
            f.bound("P-R06", grade, row[grade], *GRADE_RANGE)
        f.bound("P-R07", "player_game_count", row["games"], *bounds["games"])
        return row

    return _apply(records, "pff", "player", convert)


def apply_yahoo_rules(
    records: list[RawRecord],
    ranges: Mapping[str, tuple[float, float]] | None = None,
    stat_bounds: Mapping[str, tuple[float, float]] | None = None,
) -> tuple[pd.DataFrame, list[Rejection]]:
    """Yahoo college stats. Required: `player_id` and `name.full`. Height `6' 2"` and
    weight against `RANGES` (P-R04), statistics against `STAT_BOUNDS` (P-R07)."""
    measures = _ranges(ranges, RANGES)
    bounds = _ranges(stat_bounds, STAT_BOUNDS)
    known = {"player_id", "name.full", "name.first", "name.last", "position", "team.team_id"}
    known |= {"team.name", "height", "weight", "class"}
    known |= {f"stats.{name}" for name, _ in _STATS.values()}

    def convert(f: _Fields) -> dict[str, list[Any]]:
        f.require("player_id", "name.full")
        f.stop()
        row = {
            "yahoo_id": f.text("player_id"),
            "name": f.text("name.full"),
            "first_name": f.text("name.first"),
            "last_name": f.text("name.last"),
            "position": f.text("position"),
            "team_id": f.text("team.team_id"),
            "school": f.text("team.name"),
            "height_in": f.height("height", _HEIGHT_FEET_INCHES, "6' 2\""),
            "weight_lb": f.whole("weight"),
            "class": f.text("class"),
            "extra": f.extra(known),
        }
        row |= _stats(f, "stats.", bounds)  # stops on P-R03 before any value check
        f.bound("P-R04", "height (in)", row["height_in"], *measures["height"])
        f.bound("P-R04", "weight (lb)", row["weight_lb"], *measures["weight"])
        return row

    return _apply(records, "yahoo", "name.full", convert)


def apply_espn_rules(
    records: list[RawRecord], statuses: Collection[str] = ESPN_STATUSES
) -> tuple[pd.DataFrame, list[Rejection]]:
    """ESPN injury reports. Required: `id` (the report), `athlete.id`, `athlete.displayName`.
    The status must be one of `statuses` and the date an ISO timestamp (P-R08) in the
    draft year (P-R09); `details.returnDate`, when set, an ISO date (P-R08)."""

    def convert(f: _Fields) -> dict[str, list[Any]]:
        f.require("id", "athlete.id", "athlete.displayName")
        f.stop()
        status = f.text("status")
        f.add(
            "P-R08",
            (
                (i, f"status {s!r} is not one of {sorted(statuses)}")
                for i, s in enumerate(status)
                if s not in statuses
            ),
        )
        dates = f.text("date")
        reported_at = [_timestamp(text) for text in dates]
        f.add(
            "P-R08",
            (
                (i, f"date {dates[i]!r} is not an ISO timestamp")
                for i, stamp in enumerate(reported_at)
                if stamp is None
            ),
        )
        f.same_year("report date", [None if stamp is None else stamp.year for stamp in reported_at])
        return_text = f.text("details.returnDate")
        return_date = [_date(text) for text in return_text]
        f.add(
            "P-R08",
            (
                (i, f"returnDate {text!r} is not an ISO date")
                for i, (text, day) in enumerate(zip(return_text, return_date, strict=True))
                if text is not None and day is None
            ),
        )
        return {
            "report_id": f.text("id"),
            "espn_id": f.text("athlete.id"),
            "name": f.text("athlete.displayName"),
            "position": f.text("athlete.position.abbreviation"),
            "school": f.text("athlete.team.displayName"),
            "status": status,
            "reported_at": reported_at,
            "injury": f.text("details.type"),
            "return_date": return_date,
        }

    return _apply(records, "espn", "athlete.displayName", convert)


def _timestamp(text: str | None) -> datetime | None:
    """`2024-02-20T17:00Z` (or with seconds / an offset); a time without a zone is UTC."""
    if not text or not _DATE.match(text) or "T" not in text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _date(text: str | None) -> date | None:
    """`2024-03-15`, or a timestamp (its UTC day is not needed: the day as written)."""
    if not text or not _DATE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        stamp = _timestamp(text)
        return stamp.date() if stamp else None


APPLY_RULES = {
    "nfl": apply_nfl_rules,
    "cfr": apply_cfr_rules,
    "pff": apply_pff_rules,
    "yahoo": apply_yahoo_rules,
    "espn": apply_espn_rules,
}
