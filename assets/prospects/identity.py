"""Which staging records are one prospect, before any field is resolved: `_read` turns one
draft year's staging frames into `_Record`s (in origin order, with their ids, name key,
school key and canonical position), `_Placer` joins each to a prospect by id, then by name
block, or sends it to review, `_name_prospects` gives each prospect its stable
`prospect_id`, and `_reason` says in one line why a record went to review.
`assets.prospects.reconcile` resolves the fields of the prospects found here."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assets.prospects import rules
from assets.prospects.reference import (
    canonical_position,
    clean_school,
    name_key,
    position_family,
    school_aliases,
    school_key,
)

if TYPE_CHECKING:
    import pandas as pd

SOURCES = ("nfl", "cfr", "pff", "yahoo", "espn")  # also the processing order
LINEAGE_COLUMNS = ("origin", "draft_year", "extraction_id")
# The ids each source carries, in the order `review.source_id` shows the first present.
SOURCE_IDS: dict[str, tuple[str, ...]] = {
    "nfl": ("pfr_id", "cfb_id"),
    "cfr": ("cfb_id",),
    "pff": ("pff_id",),
    "yahoo": ("yahoo_id",),
    "espn": ("espn_id",),
}
# prospect_id anchor: the first id present, with its prefix (cfb_id is shared by NFL and CFR)
ANCHORS = (
    ("cfb_id", ""),
    ("pfr_id", "pfr:"),
    ("pff_id", "pff:"),
    ("yahoo_id", "yahoo:"),
    ("espn_id", "espn:"),
)
SCHOOL_COLUMNS = {
    "nfl": "school",
    "cfr": "school",
    "pff": "team",
    "yahoo": "school",
    "espn": "school",
}


# ---- records and prospects ------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class _Record:
    source: str
    row: dict[str, Any]
    ids: dict[str, str]
    name_key: str
    school: str | None  # school_key
    position: str | None  # canonical_position
    family: str | None
    prospect: _Prospect | None = None


@dataclass(slots=True, eq=False)
class _Prospect:
    ids: dict[str, str] = field(default_factory=dict)
    name_keys: set[str] = field(default_factory=set)
    schools: set[str] = field(default_factory=set)
    families: set[str] = field(default_factory=set)
    records: list[_Record] = field(default_factory=list)
    sources: set[str] = field(default_factory=set)
    prospect_id: str = ""


@dataclass(slots=True)
class _Review:
    record: _Record
    kind: str  # ids, reused, split, several, near, taken, nameless
    prospects: list[_Prospect]
    detail: Any = None


def _in_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows by file, then row number as a number. Rows that share an origin (hand-made
    frames) are ordered by their values too, so any shuffle of the rows reads the same."""

    def origin_order(row: dict[str, Any]) -> tuple[str, int, str]:
        origin = row["origin"] or ""
        # "<file>#row=<digits>" as the regex (.*)#row=(\d+) would match it in full: only the
        # last "#row=" can end the file part, and "." stops at a line break. A partition
        # costs a fraction of a regex per row.
        file, marker, number = origin.rpartition("#row=")
        if marker and number.isdecimal() and "\n" not in file:
            return file, int(number), origin
        return origin, -1, origin

    if len({row["origin"] for row in rows}) == len(rows):
        return sorted(rows, key=origin_order)
    return sorted(rows, key=lambda row: (*origin_order(row), tuple(map(str, row.values()))))


def _rows(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict[str, Any]]:
    """The frame's rows as dicts of Python values, missing values as None."""
    data = [frame[column].to_numpy(dtype=object, na_value=None).tolist() for column in columns]
    return [dict(zip(columns, values, strict=True)) for values in zip(*data, strict=True)]


def _read(
    staging: Mapping[str, pd.DataFrame], draft_year: int, schools: _Schools
) -> dict[str, list[_Record]]:
    unknown = sorted(set(staging) - set(SOURCES))
    if unknown:
        raise ValueError(f"staging: unknown source(s) {unknown}; allowed: {', '.join(SOURCES)}")
    records: dict[str, list[_Record]] = {}
    for source in SOURCES:
        frame = staging.get(source)
        if frame is None:
            records[source] = []
            continue
        columns = [*rules.COLUMNS[source], *LINEAGE_COLUMNS]
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValueError(f"staging[{source!r}] lacks column(s) {missing}")
        rows = _in_order(_rows(frame, columns))
        id_types, school_column = SOURCE_IDS[source], SCHOOL_COLUMNS[source]
        other_years = sorted({row["draft_year"] for row in rows} - {draft_year})
        if other_years:
            raise ValueError(
                f"staging[{source!r}] has rows of draft year(s) {other_years}, not {draft_year}"
            )
        # The keys by distinct value (few schools and labels, many rows), then one record
        # per row. The ids are stripped, and blank ones left out.
        schools_key = {text: schools.key(text) for text in {row[school_column] for row in rows}}
        if "position" in rules.COLUMNS[source]:
            labels = {row["position"] for row in rows}
            positions = {label: canonical_position(source, label) for label in labels}
        else:
            positions = {}
        families = {p: position_family(p) for p in {*positions.values(), None}}
        out = []
        for row in rows:
            ids = {}
            for id_type in id_types:
                value = row[id_type]
                if value is not None and value.strip():
                    ids[id_type] = value.strip()
            position = positions.get(row.get("position"))
            school = schools_key[row[school_column]]
            out.append(
                _Record(
                    source, row, ids, name_key(row["name"]), school, position, families[position]
                )
            )
        records[source] = out
    return records


class _Schools:
    """school_key and display names with one alias lookup, memoized for one call."""

    def __init__(self, extra: Mapping[str, str] | None):
        self.lookup = school_aliases(extra)
        self._keys: dict[str, str | None] = {}
        self._shown: dict[str, str] = {}

    def key(self, text: str | None) -> str | None:
        if text is None:
            return None
        if text not in self._keys:
            self._keys[text] = school_key(text, self.lookup)
        return self._keys[text]

    def display(self, text: str) -> str:
        """The canonical name when known, else the text as written (whitespace collapsed)."""
        if text not in self._shown:
            self._shown[text] = self.lookup.get(clean_school(text)) or " ".join(text.split())
        return self._shown[text]


class _Placer:
    """Places records into prospects (ids first, then name blocks), or into review."""

    def __init__(self):
        self.prospects: list[_Prospect] = []
        self.reviews: list[_Review] = []
        self.by_id: dict[tuple[str, str], _Prospect] = {}
        self.by_name: dict[str, list[_Prospect]] = {}

    def place(self, rec: _Record) -> None:
        hits: list[_Prospect] = []
        for id_type, value in rec.ids.items():
            hit = self.by_id.get((id_type, value))
            if hit is not None and hit not in hits:
                hits.append(hit)
        if len(hits) > 1:
            return self._review(rec, "split", hits)
        if hits:
            clash = self._clash(rec, hits[0])
            if clash:
                return self._review(rec, "ids", hits, clash)
            twin = self._twin(rec, hits[0])
            if twin is not None:
                return self._review(rec, "reused", hits, twin)
            return self._join(rec, hits[0])
        if not rec.name_key:
            return self._review(rec, "nameless", [])
        full, near = [], []
        for prospect in self.by_name.get(rec.name_key, ()):
            school_ok = rec.school is None or not prospect.schools or rec.school in prospect.schools
            family_ok = (
                rec.family is None or not prospect.families or rec.family in prospect.families
            )
            if school_ok and family_ok:
                full.append(prospect)
            elif school_ok:  # what differs, as it stands now (the prospect may grow later)
                near.append(
                    (prospect, f"position family {rec.family} vs {_set(prospect.families)}")
                )
            elif family_ok:
                near.append((prospect, f"school {rec.school} vs {_set(prospect.schools)}"))
        if len(full) > 1:
            return self._review(rec, "several", full)
        if full:
            # same name, school and family, but this source already gave that prospect a
            # record under another id (or none): two people, or one listed twice
            clash = self._clash(rec, full[0])
            if clash or rec.source in full[0].sources:
                return self._review(rec, "taken", full, clash)
            return self._join(rec, full[0])
        if near:
            return self._review(rec, "near", [p for p, _ in near], [d for _, d in near])
        prospect = _Prospect()
        self.prospects.append(prospect)
        self._join(rec, prospect)

    @staticmethod
    def _clash(rec: _Record, prospect: _Prospect) -> dict[str, tuple[str, str]]:
        """Id types both have with different values: (prospect's, record's)."""
        clash = {}  # a loop, not a comprehension: called per placed record, rarely non-empty
        for t, v in rec.ids.items():
            theirs = prospect.ids.get(t)
            if theirs is not None and theirs != v:
                clash[t] = (theirs, v)
        return clash

    @staticmethod
    def _twin(rec: _Record, prospect: _Prospect) -> _Record | None:
        """A record of the same source with the same id but another name or school: one id
        given to two people (one source's id is trusted to mean one person, but not when
        the source contradicts itself)."""
        for other in prospect.records:
            if other.source != rec.source or not any(
                rec.ids.get(t) == v for t, v in other.ids.items()
            ):
                continue
            if other.name_key != rec.name_key or (
                other.school is not None and rec.school is not None and other.school != rec.school
            ):
                return other
        return None

    def _join(self, rec: _Record, prospect: _Prospect) -> None:
        rec.prospect = prospect
        prospect.records.append(rec)
        prospect.sources.add(rec.source)
        for id_type, value in rec.ids.items():
            prospect.ids.setdefault(id_type, value)
            self.by_id[id_type, value] = prospect
        if rec.name_key and rec.name_key not in prospect.name_keys:
            prospect.name_keys.add(rec.name_key)
            self.by_name.setdefault(rec.name_key, []).append(prospect)
        if rec.school is not None:
            prospect.schools.add(rec.school)
        if rec.family is not None:
            prospect.families.add(rec.family)

    def _review(self, rec: _Record, kind: str, prospects: list[_Prospect], detail=None) -> None:
        self.reviews.append(_Review(rec, kind, prospects, detail))


def _name_prospects(prospects: list[_Prospect], draft_year: int) -> None:
    seen: dict[str, str] = {}
    for prospect in prospects:
        anchor = next((pre + prospect.ids[t] for t, pre in ANCHORS if t in prospect.ids), None)
        if anchor is None:  # an NFL row without pfr_id or cfb_id that nothing else joined
            first = prospect.records[0]
            anchor = f"name:{first.name_key}|{first.school or ''}|{first.family or ''}"
        digest = hashlib.sha1(anchor.encode()).hexdigest()[:10]
        prospect.prospect_id = f"P{draft_year}-{digest}"
        if prospect.prospect_id in seen:  # 40 bits: not expected in practice; never merge
            raise RuntimeError(
                f"prospect_id {prospect.prospect_id} for both {seen[prospect.prospect_id]!r} and {anchor!r}"
            )
        seen[prospect.prospect_id] = anchor


def _reason(review: _Review) -> str:
    rec, ids = review.record, sorted(p.prospect_id for p in review.prospects)
    if review.kind == "nameless":
        return "no id and no name to match on"
    if review.kind == "split":
        return f"ids {_ids_text(rec.ids)} point at {len(ids)} prospects: {', '.join(ids)}"
    if review.kind == "several":
        return f"{len(ids)} candidates with name {rec.name_key!r}: {', '.join(ids)}"
    if review.kind == "reused":
        other: _Record = review.detail
        shared = next(f"{t} {v}" for t, v in other.ids.items() if rec.ids.get(t) == v)
        if other.name_key != rec.name_key:
            differ = f"name {rec.name_key!r} vs {other.name_key!r}"
        else:
            differ = f"school {rec.school} vs {other.school}"
        return f"{shared} is also {other.row['origin']} of {ids[0]}, but {differ}"
    if review.kind == "ids":
        clash = "; ".join(f"{t} {theirs} vs {mine}" for t, (theirs, mine) in review.detail.items())
        return f"ids {_ids_text(rec.ids)} match {ids[0]} but {clash}"
    if review.kind == "taken":
        prospect = review.prospects[0]
        if review.detail:
            held = ", ".join(f"{t} {theirs}" for t, (theirs, _) in review.detail.items())
        else:
            other = next(r for r in prospect.records if r.source == rec.source)
            held = f"another {rec.source} record ({other.row['origin']})"
        return f"name, school and position family match {prospect.prospect_id}, which already has {held}"
    parts = []  # near
    for prospect, differ in sorted(
        zip(review.prospects, review.detail, strict=True), key=lambda x: x[0].prospect_id
    ):
        agree = "position family" if differ.startswith("school") else "school"
        parts.append(f"name and {agree} match {prospect.prospect_id} but {differ}")
    return "; ".join(parts)


def _set(values: set[str]) -> str:
    return "/".join(sorted(values))


def _ids_text(ids: Mapping[str, str]) -> str:
    return ", ".join(f"{t} {v}" for t, v in ids.items())
