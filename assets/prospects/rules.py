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

import json
import re
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd

from assets.prospects.wire_formats import RawRecord
from headwater.quality import Rejection

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

_INT = re.compile(r"[+-]?\d+(?:\.0*)?")  # "249" and "249.0"; not "nan", "inf", "1e3"
_FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)")
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


class _Reject(Exception):
    def __init__(self, rule_id: str, reason: str):
        super().__init__(reason)
        self.rule_id, self.reason = rule_id, reason


class _Fields:
    """One record's fields, read with types; problems are collected as (rule id, message)
    and `stop()` turns them into one rejection (lowest rule id, every message)."""

    def __init__(self, rec: RawRecord):
        self.rec = rec
        self.issues: list[tuple[str, str]] = []

    def text(self, name: str) -> str | None:
        return self.rec.fields.get(name)

    def require(self, *names: str) -> None:
        for name in names:
            value = self.rec.fields.get(name)
            if value is None or not value.strip():
                self.issues.append(("P-R02", f"required field {name!r} is missing"))

    def _number(self, name: str, pattern: re.Pattern, kind: str, cast: Callable) -> Any:
        value = self.rec.fields.get(name)
        if value is None or not value.strip():  # JSON sources may send "" for missing
            return None
        if not pattern.fullmatch(value.strip()):
            self.issues.append(("P-R03", f"{name} {value!r} is not {kind}"))
            return None
        return cast(value.strip())

    def whole(self, name: str) -> int | None:
        return self._number(name, _INT, "a whole number", lambda s: int(s.partition(".")[0]))

    def number(self, name: str) -> float | None:
        return self._number(name, _FLOAT, "a number", float)

    def height(self, name: str, pattern: re.Pattern, example: str) -> int | None:
        value = self.rec.fields.get(name)
        if value is None or not value.strip():
            return None
        match = pattern.fullmatch(value.strip())
        if not match or int(match.group(2)) > 11:
            self.issues.append(
                ("P-R03", f"{name} {value!r} is not feet-inches like {example} (inches 0-11)")
            )
            return None
        return int(match.group(1)) * 12 + int(match.group(2))

    def bound(self, rule_id: str, label: str, value: float | None, lo: float, hi: float) -> None:
        if value is not None and not lo <= value <= hi:
            self.issues.append((rule_id, f"{label} {value:g} outside [{lo:g}, {hi:g}]"))

    def same_year(self, label: str, year: int | None) -> None:
        if year is not None and year != self.rec.draft_year:
            self.issues.append(
                ("P-R09", f"{label} {year} is not the file's draft year {self.rec.draft_year}")
            )

    def stop(self) -> None:
        if self.issues:
            rule_id = min(rule for rule, _ in self.issues)
            raise _Reject(rule_id, "; ".join(message for _, message in self.issues))


def _raw(rec: RawRecord) -> dict[str, Any]:
    """The record as received, for quarantine: its fields, or its text when it did not split."""
    return {"raw": rec.raw} if rec.problem else dict(rec.fields)


def _extra(rec: RawRecord, known: Collection[str]) -> str | None:
    rest = {k: v for k, v in rec.fields.items() if k not in known}
    return json.dumps(rest, ensure_ascii=False, sort_keys=True) if rest else None


def _apply(
    records: list[RawRecord],
    source: str,
    name_field: str,
    convert: Callable[[_Fields], dict[str, Any]],
) -> tuple[pd.DataFrame, list[Rejection]]:
    rows: list[dict[str, Any]] = []
    rejections: list[Rejection] = []
    seen: dict[tuple, str] = {}  # (file, fields) -> origin of the first copy
    for rec in records:
        if rec.source != source:
            raise ValueError(f"{rec.origin}: a {rec.source!r} record given to the {source} rules")
        who = f"{source} {rec.fields[name_field]}" if rec.fields.get(name_field) else source
        try:
            if rec.problem:
                raise _Reject("P-R01", f"row could not be split into fields: {rec.problem}")
            key = (rec.origin.partition("#")[0], tuple(sorted(rec.fields.items())))
            if key in seen:
                raise _Reject("P-R05", f"exact duplicate of {seen[key]}")
            seen[key] = rec.origin
            fields = _Fields(rec)
            row = convert(fields)
            if rec.draft_year is None:
                fields.issues.append(("P-R09", "the file name has no draft year"))
            fields.stop()
        except _Reject as rejected:
            reason = f"{who}: {rejected.reason}"
            rejections.append(Rejection(rejected.rule_id, reason, rec.origin, _raw(rec)))
            continue
        rows.append(row | {"origin": rec.origin, "draft_year": rec.draft_year})
    assert len(records) == len(rows) + len(rejections), "rows in != loaded + quarantined"
    return _frame(rows, COLUMNS[source] | LINEAGE), rejections


def _frame(rows: list[dict[str, Any]], columns: dict[str, str]) -> pd.DataFrame:
    data = {}
    for name, dtype in columns.items():
        values = [row[name] for row in rows]
        if dtype.startswith("datetime64"):
            data[name] = pd.Series(pd.to_datetime(values, utc=True), dtype=dtype)
        else:
            data[name] = pd.Series(values, dtype=dtype)
    return pd.DataFrame(data, columns=list(columns))


def _ranges(overrides: Mapping[str, tuple[float, float]] | None, defaults: dict) -> dict:
    return defaults | dict(overrides or {})


def _stats(f: _Fields, prefix: str, bounds: Mapping[str, tuple[float, float]]) -> dict:
    """The CFR/Yahoo statistics, typed (P-R03), then bounded (P-R07)."""
    out = {}
    for column, (name, whole) in _STATS.items():
        out[column] = f.whole(prefix + name) if whole else f.number(prefix + name)
    f.stop()
    for column, value in out.items():
        if column in bounds:
            f.bound("P-R07", _STATS[column][0], value, *bounds[column])
    return out


# ---- one function per source ----------------------------------------------------------------


def apply_nfl_rules(
    records: list[RawRecord], ranges: Mapping[str, tuple[float, float]] | None = None
) -> tuple[pd.DataFrame, list[Rejection]]:
    """NFL.com combine (nflverse layout). Required: `player_name` (the combine has no id of
    its own: `pfr_id` is set only for drafted players). `ranges` overrides `RANGES`."""
    bounds = _ranges(ranges, RANGES)

    def convert(f: _Fields) -> dict[str, Any]:
        f.require("player_name")
        f.stop()
        row = {
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
        }
        f.stop()
        f.bound("P-R04", "height (in)", row["height_in"], *bounds["height"])
        f.bound("P-R04", "weight (lb)", row["weight_lb"], *bounds["weight"])
        for drill in ("forty", "bench", "vertical", "broad_jump", "cone", "shuttle"):
            f.bound("P-R04", drill, row[drill], *bounds[drill])
        f.same_year("season", row["season"])
        f.same_year("draft_year", row["nfl_draft_year"])
        f.bound("P-R10", "draft_round", row["draft_round"], *DRAFT_ROUNDS)
        f.bound("P-R10", "draft_ovr", row["draft_ovr"], *DRAFT_PICKS)
        return row

    return _apply(records, "nfl", "player_name", convert)


def apply_cfr_rules(
    records: list[RawRecord], stat_bounds: Mapping[str, tuple[float, float]] | None = None
) -> tuple[pd.DataFrame, list[Rejection]]:
    """College Football Reference season stats. Required: `player` and `player_additional`
    (CFR's own id, = nflverse cfb_id). `stat_bounds` overrides `STAT_BOUNDS`."""
    bounds = _ranges(stat_bounds, STAT_BOUNDS)
    known = {"rk", "player", "school", "conf", "player_additional"} | {
        name for name, _ in _STATS.values()
    }

    def convert(f: _Fields) -> dict[str, Any]:
        f.require("player", "player_additional")
        f.stop()
        row = {
            "rank": f.whole("rk"),
            "name": f.text("player"),
            "school": f.text("school"),
            "conference": f.text("conf"),
            "cfb_id": f.text("player_additional"),
            "extra": _extra(f.rec, known),
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

    def convert(f: _Fields) -> dict[str, Any]:
        f.require("player", "player_id")
        f.stop()
        row = {
            "pff_id": f.text("player_id"),
            "name": f.text("player"),
            "position": f.text("position"),
            "team": f.text("team_name"),
            "games": f.whole("player_game_count"),
            **{grade: f.number(grade) for grade in _PFF_GRADES},
            "extra": _extra(f.rec, known),
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

    def convert(f: _Fields) -> dict[str, Any]:
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
            "extra": _extra(f.rec, known),
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

    def convert(f: _Fields) -> dict[str, Any]:
        f.require("id", "athlete.id", "athlete.displayName")
        f.stop()
        status = f.text("status")
        if status not in statuses:
            f.issues.append(("P-R08", f"status {status!r} is not one of {sorted(statuses)}"))
        reported_at = _timestamp(f.text("date"))
        if reported_at is None:
            f.issues.append(("P-R08", f"date {f.text('date')!r} is not an ISO timestamp"))
        else:
            f.same_year("report date", reported_at.year)
        return_text = f.text("details.returnDate")
        return_date = _date(return_text)
        if return_text is not None and return_date is None:
            f.issues.append(("P-R08", f"returnDate {return_text!r} is not an ISO date"))
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
