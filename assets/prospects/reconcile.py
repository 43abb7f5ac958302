"""Reconciliation: one draft year's five staging frames into canonical prospect tables.

Pure pandas in, pandas out (no Dagster, no database). The algorithm:

1. Read. Sources in the order nfl, cfr, pff, yahoo, espn; each source's rows by `origin`
   (file, then row number), so the result never depends on the order of the frames' rows.
2. Place each record. By id first: a record carrying an id some prospect already has
   (cfb_id, pfr_id, pff_id, yahoo_id, espn_id; NFL's cfb_id is CFR's) joins it, unless
   another of its ids contradicts that prospect's, or a record of the same source with
   that id has another name or school (one id reused). Otherwise by name: the prospects of the
   record's `name_key` block whose school (`school_key`) and position family both agree are
   candidates. One candidate joins, none makes a new prospect. Several candidates, a near
   match (name and only one of school / family agree), or a candidate that already holds
   another record of the same source go to `review` and stay out of the canonical tables.
3. Name. `prospect_id` = "P<year>-" + sha1(anchor)[:10], the anchor being the first id
   present of cfb_id, pfr, pff, yahoo, espn: stable for the same inputs.
4. Resolve fields. Per authority group, a field's value comes from the highest-authority
   source with a non-null value; two or more distinct values (names by name_key, schools by
   school_key, positions canonical, numbers exactly) make one `conflicts` row.

docs/prospects.md ("Reconciliation") has the tables and rules.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from assets.prospects import rules
from assets.prospects.identity import (
    SCHOOL_COLUMNS,
    SOURCE_IDS,
    SOURCES,
    _name_prospects,
    _Placer,
    _read,
    _reason,
    _Record,
    _Schools,
)
from assets.prospects.reference import (
    name_key,
    position_candidates,
    position_family,
    positions_disagree,
)

if TYPE_CHECKING:
    import pandas as pd

MEASUREMENTS = (
    "height_in", "weight_lb", "forty", "bench", "vertical", "broad_jump", "cone", "shuttle",
)  # fmt: skip
STATS = (
    "games", "rush_att", "rush_yds", "rush_avg", "rush_td", "rec", "rec_yds", "rec_avg", "rec_td",
)  # fmt: skip
GRADES = tuple(c for c in rules.COLUMNS["pff"] if c.startswith("grades_"))
# Authority groups and the fields each decides. Injuries are a history, not fields: every
# report of an injuries source is kept.
GROUP_FIELDS: dict[str, tuple[str, ...]] = {
    "identity": ("name", "position", "school"),
    "measurements": MEASUREMENTS,
    "statistics": STATS,
    "grades": ("games", *GRADES),
    "injuries": (),
}
DEFAULT_AUTHORITY: dict[str, list[str]] = {
    "identity": ["nfl", "cfr", "pff", "yahoo", "espn"],
    "measurements": ["nfl", "cfr", "yahoo"],
    "statistics": ["cfr", "yahoo"],
    "grades": ["pff"],
    "injuries": ["espn"],
}

_S, _I = "string", "int64"
TABLES: dict[str, dict[str, str]] = {
    "core": {
        "prospect_id": _S, "draft_year": _I, "name": _S, "name_key": _S, "position": _S,
        "position_family": _S, "school": _S, "pfr_id": _S, "cfb_id": _S, "pff_id": _S,
        "yahoo_id": _S, "espn_id": _S, "draft_team": _S, "draft_round": "Int64",
        "draft_pick": "Int64", "sources": _S, "n_sources": _I, "source": _S, "extraction_id": _S,
    },
    "measurements": {
        "prospect_id": _S, "draft_year": _I, "measurement": _S, "value": "float64",
        "source": _S, "extraction_id": _S,
    },
    "college_stats": {
        "prospect_id": _S, "draft_year": _I, "stat": _S, "value": "float64", "source": _S,
        "extraction_id": _S,
    },
    "grades": {
        "prospect_id": _S, "draft_year": _I, "games": "Int64",
        **{grade: "Float64" for grade in GRADES}, "source": _S, "extraction_id": _S,
    },
    "injuries": {
        "prospect_id": _S, "draft_year": _I, "report_id": _S,
        "reported_at": "datetime64[ns, UTC]", "status": _S, "injury": _S,
        "return_date": "object", "source": _S, "extraction_id": _S,
    },
    "conflicts": {
        "prospect_id": _S, "draft_year": _I, "field": _S, "values": _S, "winner": _S,
        "winning_value": _S, "rule": _S,
    },
    "review": {
        "draft_year": _I, "source": _S, "source_id": _S, "name": _S, "school": _S,
        "position": _S, "origin": _S, "candidates": _S, "reason": _S,
    },
    "links": {"source": _S, "origin": _S, "prospect_id": _S},
}  # fmt: skip


@dataclass(frozen=True)
class Reconciled:
    """The canonical tables of one draft year (columns and dtypes: `TABLES`)."""

    core: pd.DataFrame
    measurements: pd.DataFrame
    college_stats: pd.DataFrame
    grades: pd.DataFrame
    injuries: pd.DataFrame
    conflicts: pd.DataFrame
    review: pd.DataFrame
    links: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        """The frames by table name, in `TABLES` order."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def resolve_authority(
    authority: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, tuple[str, ...]]:
    """`DEFAULT_AUTHORITY` with `authority`'s groups replacing the defaults. Raises
    ValueError naming the key for an unknown group, an unknown or repeated source, or a
    value that is not a list of sources. A source left out of a group is never used for it."""
    resolved = {group: tuple(order) for group, order in DEFAULT_AUTHORITY.items()}
    for group, order in (authority or {}).items():
        if group not in GROUP_FIELDS:
            raise ValueError(
                f"authority: unknown group {group!r}; allowed: {', '.join(GROUP_FIELDS)}"
            )
        if isinstance(order, str) or not isinstance(order, Sequence):
            raise ValueError(f"authority[{group!r}] must be a list of sources, not {order!r}")
        for source in order:
            if source not in SOURCES:
                raise ValueError(
                    f"authority[{group!r}]: unknown source {source!r}; allowed: {', '.join(SOURCES)}"
                )
        if len(set(order)) != len(order):
            raise ValueError(f"authority[{group!r}] lists a source twice: {list(order)}")
        resolved[group] = tuple(order)
    return resolved


# ---- field resolution -----------------------------------------------------------------------


# json.dumps(values, sort_keys=True, ensure_ascii=False, default=str), without making an
# encoder per conflict
_VALUES_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str)


# The `_Record` attribute with an identity field's value as compared.
_IDENTITY_KEYS = {"name": "name_key", "school": "school", "position": "position"}


def _column(source: str, name: str) -> str | None:
    """The staging column holding field `name` in `source`, or None when it has none."""
    if name == "school":
        return SCHOOL_COLUMNS[source]
    return name if name in rules.COLUMNS[source] else None


def _disagree(entries: list[tuple], name: str) -> bool:
    """Whether the entries' values (source first, value as compared fourth) disagree. A
    position is compared by what each source's label can mean (reference.positions_disagree):
    a generic position agrees with any of its family, ESPN's LB with an EDGE."""
    if name == "position":
        return positions_disagree([(e[0], e[3]) for e in entries])
    return len({e[3] for e in entries}) > 1


class _Resolver:
    """Field values of one prospect by authority, and the conflicts they show."""

    def __init__(self, authority: dict[str, tuple[str, ...]], schools: _Schools):
        self.schools = schools
        self.rule_text = {g: f"{g}: {' > '.join(order)}" for g, order in authority.items()}
        # group -> [(field, [(source, staging column)])]: each of the group's fields with the
        # sources that have it, in authority order (a field no listed source has is left out)
        self.plan: dict[str, list[tuple[str, list[tuple[str, str]]]]] = {}
        # group -> {source: [(field, staging column)]}, the same pairs by source
        self.columns: dict[str, dict[str, list[tuple[str, str]]]] = {}
        for group, names in GROUP_FIELDS.items():
            plan = [(n, [(s, c) for s in authority[group] if (c := _column(s, n))]) for n in names]
            self.plan[group] = [(name, sources) for name, sources in plan if sources]
            columns = {s: [(n, c) for n in names if (c := _column(s, n))] for s in authority[group]}
            self.columns[group] = {s: pairs for s, pairs in columns.items() if pairs}

    def _entry(self, name: str, rec: _Record, value: Any) -> tuple[Any, Any]:
        """(value as compared, value as shown) of an identity field; `_read` already has
        each record's name key, school key and canonical position."""
        if name == "name":
            return rec.name_key, value
        if name == "school":
            return rec.school, self.schools.display(value)
        return rec.position, rec.position

    def resolve(
        self,
        by_source: Mapping[str, list[_Record]],
        group: str,
        conflicts: list[tuple[str, str, str, str, str]],
    ) -> dict[str, tuple[_Record, Any]]:
        """The group's fields that have a value: field -> (winning record, value as shown).
        Appends a conflict (field, values JSON, winner, winning value, rule) per field whose
        sources disagree."""
        if group == "identity":
            resolved: dict[str, tuple[_Record, Any]] = {}
            records = [rec for source in self.columns[group] for rec in by_source.get(source, ())]
            for name, sources in self.plan[group]:
                # `_read` has each record's value as compared (None or "" when blank, and
                # None for a source without the field): when all agree the first wins
                key = _IDENTITY_KEYS[name]
                having = [rec for rec in records if getattr(rec, key)]
                if len({getattr(rec, key) for rec in having}) == 1:
                    rec = having[0]
                    resolved[name] = (
                        rec,
                        self._entry(name, rec, rec.row[_column(rec.source, name)])[1],
                    )
                elif having:
                    entries = self._entries(group, name, sources, by_source)
                    winner = self._decide(group, name, entries, conflicts)
                    resolved[name] = winner[2], winner[4]
            return resolved
        # The other groups compare values as they are: the first record (authority order)
        # with a value wins, and only a field where a later value differs needs all its
        # entries. One pass over each record's columns, not one per field and record.
        first: dict[str, tuple[_Record, Any]] = {}
        differ: set[str] = set()
        read = 0  # records read: with one, `first` is already in field order
        for source, columns in self.columns[group].items():
            for rec in by_source.get(source, ()):
                read += 1
                row = rec.row
                for name, column in columns:
                    value = row[column]
                    if value is None:
                        continue
                    if name not in first:
                        first[name] = rec, value
                    elif value != first[name][1]:
                        differ.add(name)
        if read < 2:
            return first
        for name, sources in self.plan[group]:
            if name in differ:
                self._decide(group, name, self._entries(group, name, sources, by_source), conflicts)
        return {name: first[name] for name, _ in self.plan[group] if name in first}

    def _entries(
        self,
        group: str,
        name: str,
        sources: list[tuple[str, str]],
        by_source: Mapping[str, list[_Record]],
    ) -> list[tuple[str, int, _Record, Any, Any]]:
        """(source, n-th record of the source, record, value as compared, value as shown)
        per record with a value for the field, in authority order."""
        identity = group == "identity"
        entries = []
        for source, column in sources:
            for n, rec in enumerate(by_source.get(source, ()), start=1):
                value = rec.row[column]
                if value is None:
                    continue
                if identity:
                    compared, shown = self._entry(name, rec, value)
                    if compared:  # a blank name or school is no value
                        entries.append((source, n, rec, compared, shown))
                else:
                    entries.append((source, n, rec, value, value))
        return entries

    def _decide(
        self,
        group: str,
        name: str,
        entries: list[tuple[str, int, _Record, Any, Any]],
        conflicts: list[tuple[str, str, str, str, str]],
    ) -> tuple[str, int, _Record, Any, Any]:
        """The winning entry of a field; appends a conflict when its values disagree."""
        winner = entries[0]
        if len(entries) > 1:
            if name == "position":  # a generic or coarse label wins only when none is specific
                winner = next(
                    (e for e in entries if len(position_candidates(e[0], e[3])) == 1), winner
                )
            if any(e[3] != winner[3] for e in entries):
                if _disagree(entries, name):
                    values = self._values(entries, name)
                    rule = self.rule_text[group]
                    conflicts.append((name, values, winner[0], str(winner[4]), rule))
        return winner

    @staticmethod
    def _values(entries: list[tuple], name: str) -> str:
        """{source: value} as JSON; a source whose own records disagree is listed per
        record, "nfl#1", "nfl#2" (n-th record of the source for this prospect, by origin)."""
        sources = [e[0] for e in entries]
        if len(set(sources)) == len(sources):  # one record per source: nothing to split
            return _VALUES_JSON.encode({e[0]: e[4] for e in entries})
        values: dict[str, Any] = {}
        for source in dict.fromkeys(sources):
            own = [e for e in entries if e[0] == source]
            if _disagree(own, name):
                values |= {f"{source}#{n}": shown for _, n, _, _, shown in own}
            else:
                values[source] = own[0][4]
        return _VALUES_JSON.encode(values)


# ---- the tables -----------------------------------------------------------------------------


def _frame(table: str, rows: list[tuple]) -> pd.DataFrame:
    columns = TABLES[table]
    transposed = list(zip(*rows, strict=True)) or [()] * len(columns)
    return rules.typed_frame(dict(zip(columns, transposed, strict=True)), columns)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic garbage collector paused for one call. A draft year makes some 30,000
    objects that live until the call returns (records, prospects, their sets); piling up,
    they set off full collections, each walking the whole process heap (about a quarter
    of a second per collection with Dagster loaded). Reference counting frees what the
    call drops as usual, and the records' cycles go at the first collection after it."""
    if not gc.isenabled():  # paused by the caller: leave it so
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@_gc_paused()
def reconcile(
    staging: Mapping[str, pd.DataFrame],
    draft_year: int,
    authority: Mapping[str, Sequence[str]] | None = None,
    school_aliases: Mapping[str, str] | None = None,
) -> Reconciled:
    """Resolve one draft year's staging frames (`staging[source]`: the columns of
    `rules.COLUMNS[source]`, then origin, draft_year, extraction_id; a source may be missing
    or empty) into canonical tables. `authority` overrides `DEFAULT_AUTHORITY` per group;
    `school_aliases` (spelling -> canonical name) is merged over the built-in school table.
    The same input (in any row order) gives identical frames."""
    order = resolve_authority(authority)
    schools = _Schools(school_aliases)
    records = _read(staging, draft_year, schools)
    placer = _Placer()
    for source in SOURCES:
        for rec in records[source]:
            placer.place(rec)
    _name_prospects(placer.prospects, draft_year)
    resolver = _Resolver(order, schools)

    core, measurements, stats, grades, injuries, conflicts = [], [], [], [], [], []
    grade_sources = [s for s in order["grades"] if any(g in rules.COLUMNS[s] for g in GRADES)]
    injury_sources = [s for s in order["injuries"] if "report_id" in rules.COLUMNS[s]]
    for prospect in sorted(placer.prospects, key=lambda p: p.prospect_id):
        pid = prospect.prospect_id
        by_source: dict[str, list[_Record]] = {}
        for rec in prospect.records:
            by_source.setdefault(rec.source, []).append(rec)
        found: list[tuple[str, str, str, str, str]] = []

        identity = resolver.resolve(by_source, "identity", found)
        name_rec, name = identity.get("name", (None, None))
        position = identity.get("position", (None, None))[1]
        school = identity.get("school", (None, None))[1]
        nfl = by_source.get("nfl")
        draft = (
            [
                next((r.row[c] for r in nfl if r.row[c] is not None), None)
                for c in ("draft_team", "draft_round", "draft_ovr")
            ]
            if nfl
            else [None, None, None]
        )
        ids = [prospect.ids.get(t) for t in ("pfr_id", "cfb_id", "pff_id", "yahoo_id", "espn_id")]
        core.append(
            (pid, draft_year, name, None if name is None else name_key(name), position,
             position_family(position), school, *ids, *draft,
             ",".join(sorted(prospect.sources)), len(prospect.sources),
             name_rec and name_rec.source, name_rec and name_rec.row["extraction_id"])
        )  # fmt: skip

        for group, out in (("measurements", measurements), ("statistics", stats)):
            out += [
                (pid, draft_year, field_name, float(value), rec.source, rec.row["extraction_id"])
                for field_name, (rec, value) in resolver.resolve(by_source, group, found).items()
            ]

        sheet = next((by_source[s][0] for s in grade_sources if s in by_source), None)
        if sheet is not None:
            sheet_values = resolver.resolve(by_source, "grades", found)
            values = [sheet_values.get(n, (None, None))[1] for n in GROUP_FIELDS["grades"]]
            grades.append((pid, draft_year, *values, sheet.source, sheet.row["extraction_id"]))

        for source in injury_sources:
            for rec in by_source.get(source, ()):
                row = rec.row
                injuries.append(
                    (pid, draft_year, row["report_id"], row["reported_at"], row["status"],
                     row["injury"], row["return_date"], source, row["extraction_id"])
                )  # fmt: skip
        if found:
            conflicts += [(pid, draft_year, *conflict) for conflict in found]

    injuries.sort(key=lambda r: (r[0], r[3] is None, r[3] or 0, r[2] or "", r[7]))
    review = []
    for item in placer.reviews:
        rec = item.record
        source_id = next((rec.ids[t] for t in SOURCE_IDS[rec.source] if t in rec.ids), None)
        row = rec.row
        candidates = json.dumps(sorted(p.prospect_id for p in item.prospects))
        review.append(
            (draft_year, rec.source, source_id, row["name"], row[SCHOOL_COLUMNS[rec.source]],
             row.get("position"), row["origin"], candidates, _reason(item))
        )  # fmt: skip
    links = [
        (source, rec.row["origin"], rec.prospect.prospect_id if rec.prospect else None)
        for source in SOURCES
        for rec in records[source]
    ]
    return Reconciled(
        core=_frame("core", core),
        measurements=_frame("measurements", measurements),
        college_stats=_frame("college_stats", stats),
        grades=_frame("grades", grades),
        injuries=_frame("injuries", injuries),
        conflicts=_frame("conflicts", conflicts),
        review=_frame("review", review),
        links=_frame("links", links),
    )
