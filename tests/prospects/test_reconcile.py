"""Prospects reconciliation: the normalizers, hard cases one by one on hand-made staging
frames, then the generated sample against the generator's own ground truth."""

import gc
import hashlib
import json
import random
import re
import time
from collections import defaultdict

import pandas as pd
import pytest

from assets.prospects import reconcile as rc
from assets.prospects import reference as ref
from assets.prospects import rules
from assets.prospects import sample_data as sd
from assets.prospects import wire_formats as wf

YEAR = 2024

# ---- normalizers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "a, b",
    [
        ("D.J. Walker", "DJ Walker"),
        ("Marcus Bell Jr.", "Marcus Bell Jr"),
        ("Marcus Bell Jr", "Marcus Bell"),
        ("Marcus Bell, Jr.", "Marcus Bell"),
        ("Trey Holloway III", "Trey Holloway"),
        ("Ke'Andre O'Neal", "KeAndre ONeal"),
        ("Ke'Andre O'Neal", "Ke\u2019Andre O\u2019Neal"),
        ("Ke\u2018Andre O\u2019Neal", "KeAndre ONeal"),
        ("Jos\u00e9 N\u00fa\u00f1ez", "Jose Nunez"),
        ("Jos\u00e9 Nu\u00f1ez", "JOSE  NUNEZ"),
        ("Amon-Ra St. Brown", "Amon Ra St Brown"),
        ("Odell Beckham Sr. II", "Odell Beckham"),
    ],
)
def test_name_key_equal(a, b):
    assert ref.name_key(a) == ref.name_key(b)


def test_name_key_values():
    assert ref.name_key("D.J. Walker") == "dj walker"
    assert ref.name_key("  Trey   Holloway IV ") == "trey holloway"
    assert ref.name_key("V Jones") == "v jones"  # a first token is never a suffix
    assert ref.name_key("Chris Jones") != ref.name_key("Chris Johns")
    assert ref.name_key(None) == "" and ref.name_key("") == ""


def test_every_sample_school_spelling_maps_to_one_canonical_name():
    canonicals = set(ref.SCHOOL_ALIASES.values())
    seen = {}
    for key, (*spellings, _conference) in sd.SCHOOLS.items():
        names = {ref.school_key(s) for s in spellings}
        assert len(names) == 1, (key, spellings, names)
        name = names.pop()
        assert name in canonicals, (key, name)  # known, not the cleaned fallback
        assert seen.setdefault(name, key) == key, f"{key} and {seen[name]} both map to {name}"


@pytest.mark.parametrize(
    "text, canonical",
    [
        ("Ohio St.", "Ohio State"),
        ("ohio   st", "Ohio State"),
        ("OHST", "Ohio State"),
        ("Ohio State Buckeyes", "Ohio State"),
        ("Miami (FL)", "Miami (FL)"),
        ("Miami", "Miami (FL)"),
        ("Miami Hurricanes", "Miami (FL)"),
        ("Miami (OH)", "Miami (OH)"),
        ("Boston Col.", "Boston College"),
        ("Mississippi", "Ole Miss"),
        ("Mississippi St.", "Mississippi State"),
        ("North Carolina St.", "NC State"),
        ("Central Florida", "UCF"),
        ("Pitt", "Pittsburgh"),
        ("BAMA", "Alabama"),
        ("TXAM", "Texas A&M"),
        ("Texas A & M", "Texas A&M"),
        ("Hawai\u2019i Rainbow Warriors", "Hawaii"),
    ],
)
def test_school_key(text, canonical):
    assert ref.school_key(text) == canonical


def test_school_key_unknown_and_extra_aliases():
    assert ref.school_key("East  Podunk St.") == "east podunk st"  # cleaned, not an error
    assert ref.school_key(None) is None
    lookup = ref.school_aliases({"EPSU": "East Podunk State", "E. Podunk St.": "East Podunk State"})
    assert ref.school_key("epsu", lookup) == ref.school_key("E Podunk St", lookup)
    assert ref.school_key("East Podunk State", lookup) == "East Podunk State"
    assert ref.school_key("Ohio St.", lookup) == "Ohio State"  # the built-in table stays


@pytest.mark.parametrize(
    "labels, position",
    [
        ("QB", "QB"),
        ("RB HB FB hb", "RB"),
        ("WR", "WR"),
        ("TE", "TE"),
        ("OT T LT RT", "OT"),
        ("IOL OG G C LG RG OC", "IOL"),
        ("OL", "OL"),
        ("DT DI NT", "DT"),
        ("DL", "DL"),
        ("EDGE ED OLB DE", "EDGE"),
        ("LB ILB MLB", "LB"),
        ("CB", "CB"),
        ("S SAF FS SS", "S"),
        ("DB", "DB"),
        ("K PK", "K"),
        ("P", "P"),
        # Real combine classes: long snappers every year, athletes in draft listings.
        ("LS", "LS"),
        ("ATH", "ATH"),
    ],
)
def test_canonical_position(labels, position):
    for label in labels.split():
        assert ref.canonical_position("pff", label) == position


def test_position_family():
    families = {
        "QB": "QB", "RB": "RB", "WR": "WR", "TE": "TE", "OT": "OL", "IOL": "OL", "OL": "OL",
        "DT": "FRONT", "EDGE": "FRONT", "LB": "FRONT", "DL": "FRONT", "CB": "DB", "S": "DB",
        "DB": "DB", "K": "ST", "P": "ST", "LS": "ST", "ATH": "ATH",
    }  # fmt: skip
    assert {p: ref.position_family(p) for p in families} == families
    assert ref.canonical_position("espn", " kr ") == "KR"  # unknown: itself, upper-cased
    assert ref.position_family("KR") == "KR"
    assert ref.canonical_position("espn", " ls ") == "LS"
    assert ref.canonical_position("nfl", None) is None and ref.position_family(None) is None


# ---- hand-made staging frames ---------------------------------------------------------------


def frame(source: str, *rows: dict, year: int = YEAR) -> pd.DataFrame:
    """A staging frame of `source`: the given columns per row, None elsewhere, origins
    `<source>/file_<year>#row=N`, extraction id `e-<source>`."""
    columns = rules.COLUMNS[source] | rules.LINEAGE | {"extraction_id": "string"}
    full = [
        dict.fromkeys(columns)
        | {"origin": f"{source}/file_{year}#row={n}", "draft_year": year}
        | {"extraction_id": f"e-{source}"}
        | row
        for n, row in enumerate(rows, start=1)
    ]
    data = {}
    for name, dtype in columns.items():
        values = [row[name] for row in full]
        if dtype.startswith("datetime64"):
            values = pd.to_datetime(values, utc=True)
        data[name] = pd.Series(values, dtype=dtype)
    return pd.DataFrame(data, columns=list(columns))


def nfl(name, school, pos, cfb_id, **more):
    return {"name": name, "school": school, "position": pos, "cfb_id": cfb_id, **more}


def pff(name, team, pos, pff_id, **more):
    return {"name": name, "team": team, "position": pos, "pff_id": pff_id, **more}


def yahoo(name, school, pos, yahoo_id, **more):
    return {"name": name, "school": school, "position": pos, "yahoo_id": yahoo_id, **more}


def espn(name, school, pos, espn_id, report_id, **more):
    return {
        "name": name, "school": school, "position": pos, "espn_id": espn_id,
        "report_id": report_id, "status": "Out", **more,
    }  # fmt: skip


def pid(anchor: str, year: int = YEAR) -> str:
    return f"P{year}-" + hashlib.sha1(anchor.encode()).hexdigest()[:10]


def sources_of(result: rc.Reconciled) -> dict[str, str]:
    return dict(zip(result.core["prospect_id"], result.core["sources"], strict=True))


def assert_links_complete(staging: dict[str, pd.DataFrame], result: rc.Reconciled) -> None:
    """Every staging row is linked exactly once: to a prospect, or to review."""
    for source, rows in staging.items():
        links = result.links[result.links["source"] == source]
        assert sorted(links["origin"]) == sorted(rows["origin"])
        linked = int(links["prospect_id"].notna().sum())
        reviewed = int((result.review["source"] == source).sum())
        assert linked + reviewed == len(rows), source
    assert set(result.links["prospect_id"].dropna()) == set(result.core["prospect_id"])


@pytest.mark.parametrize(
    "nfl_name, other_source, other_name",
    [
        ("D.J. Walker", "pff", "DJ Walker"),
        ("Marcus Bell Jr.", "yahoo", "Marcus Bell Jr"),
        ("Marcus Bell Jr.", "espn", "Marcus Bell"),
        ("Trey Holloway III", "pff", "Trey Holloway"),
        ("Ke'Andre O'Neal", "pff", "KeAndre ONeal"),
        ("Ke'Andre O'Neal", "yahoo", "Ke\u2019Andre O\u2019Neal"),
        ("Jos\u00e9 N\u00fa\u00f1ez", "yahoo", "Jose Nunez"),
        ("Jos\u00e9 N\u00fa\u00f1ez", "espn", "Jos\u00e9 Nu\u00f1ez"),
    ],
)
def test_hard_names_match_across_sources(nfl_name, other_source, other_name):
    other = {
        "pff": lambda: pff(other_name, "OHST", "HB", "901"),
        "yahoo": lambda: yahoo(other_name, "Ohio State", "RB", "ncaaf.p.9"),
        "espn": lambda: espn(other_name, "Ohio State Buckeyes", "RB", "4001", "r1"),
    }[other_source]()
    staging = {
        "nfl": frame("nfl", nfl(nfl_name, "Ohio St.", "RB", "x-24")),
        other_source: frame(other_source, other),
    }
    result = rc.reconcile(staging, YEAR)
    assert result.review.empty and len(result.core) == 1
    core = result.core.iloc[0]
    assert core["prospect_id"] == pid("x-24")
    assert core["sources"] == ",".join(sorted(["nfl", other_source]))
    assert (core["name"], core["school"], core["position"]) == (nfl_name, "Ohio State", "RB")
    assert (core["source"], core["extraction_id"]) == ("nfl", "e-nfl")
    assert result.conflicts.empty  # the spellings differ, the keys do not
    assert_links_complete(staging, result)


def edge_rusher(espn_position: str) -> dict:
    return {
        "nfl": frame("nfl", nfl("Tyrell Vance", "Penn St.", "EDGE", "tv-24")),
        "cfr": frame("cfr", {"name": "Tyrell Vance", "school": "Penn State", "cfb_id": "tv-24"}),
        "pff": frame("pff", pff("Tyrell Vance", "PSU", "ED", "77")),
        "yahoo": frame("yahoo", yahoo("Tyrell Vance", "Penn State", "DE", "y7")),
        "espn": frame(
            "espn", espn("Tyrell Vance", "Penn State Nittany Lions", espn_position, "47", "r")
        ),
    }


def test_edge_rusher_labels_are_one_prospect_and_no_position_conflict():
    """ESPN has no EDGE: its LB for an edge rusher is its vocabulary, not a disagreement
    about the player (P-Q02 fired on every such prospect, 503 in the demo)."""
    result = rc.reconcile(edge_rusher("LB"), YEAR)
    assert len(result.core) == 1 and result.review.empty
    core = result.core.iloc[0]
    assert (core["position"], core["position_family"], core["n_sources"]) == ("EDGE", "FRONT", 5)
    assert result.conflicts.empty


def test_a_real_position_disagreement_is_still_one_conflict():
    result = rc.reconcile(edge_rusher("DT"), YEAR)  # one family: still one prospect
    [conflict] = result.conflicts.to_dict("records")
    assert conflict["field"] == "position"
    assert json.loads(conflict["values"]) == {
        "espn": "DT", "nfl": "EDGE", "pff": "EDGE", "yahoo": "EDGE"
    }  # fmt: skip
    assert (conflict["winner"], conflict["winning_value"]) == ("nfl", "EDGE")
    assert conflict["rule"] == "identity: nfl > cfr > pff > yahoo > espn"


@pytest.mark.parametrize(
    "pairs, disagree",
    [
        ([("nfl", "EDGE"), ("espn", "LB")], False),  # ESPN's LB may be an edge rusher
        ([("nfl", "LB"), ("yahoo", "LB")], False),
        ([("nfl", "EDGE"), ("pff", "LB")], True),  # PFF has ED: its LB is a linebacker
        ([("nfl", "DT"), ("espn", "LB")], True),
        ([("nfl", "CB"), ("cfr", "DB")], False),  # a generic position agrees in its family
        ([("nfl", "CB"), ("nfl", "S"), ("cfr", "DB")], True),
        ([("nfl", "ATH"), ("pff", "WR")], False),
    ],
)
def test_positions_are_compared_by_what_each_source_can_say(pairs, disagree):
    assert ref.positions_disagree(pairs) is disagree


def test_one_player_twice_in_one_source_is_one_prospect():
    ids = {"cfb_id": "dp-24", "pfr_id": "PryoDa00"}
    same = [nfl("Darnell Pryor", "Alabama", pos, **ids) for pos in ("OLB", "DE")]
    result = rc.reconcile({"nfl": frame("nfl", *same)}, YEAR)
    assert len(result.core) == 1 and result.conflicts.empty
    assert result.core["position"].tolist() == ["EDGE"]
    assert result.links["prospect_id"].tolist() == [pid("dp-24")] * 2
    # the same two rows at positions that really differ: one conflict, listed per row
    differ = [nfl("Darnell Pryor", "Alabama", pos, **ids) for pos in ("OLB", "DT")]
    [conflict] = rc.reconcile({"nfl": frame("nfl", *differ)}, YEAR).conflicts.to_dict("records")
    assert json.loads(conflict["values"]) == {"nfl#1": "EDGE", "nfl#2": "DT"}
    assert (conflict["winner"], conflict["winning_value"]) == ("nfl", "EDGE")


def test_two_players_with_one_name_stay_two():
    staging = {
        "nfl": frame(
            "nfl",
            nfl("Chris Jones", "LSU", "DT", "cj-a-24"),
            nfl("Chris Jones", "Utah", "SAF", "cj-b-24"),
        ),
        "pff": frame(
            "pff", pff("Chris Jones", "UTAH", "S", "2"), pff("Chris Jones", "LSU", "DI", "1")
        ),
        "yahoo": frame(
            "yahoo",
            yahoo("Chris Jones", "LSU", "DT", "y1"),
            yahoo("Chris Jones", "Utah", "S", "y2"),
        ),
        "espn": frame(
            "espn",
            espn("Chris Jones", "Utah Utes", "S", "e2", "r1"),
            espn("Chris Jones", "LSU Tigers", "DT", "e1", "r2"),
            espn("Chris Jones", "Utah Utes", "S", "e2", "r3"),
        ),
    }
    result = rc.reconcile(staging, YEAR)
    assert result.review.empty
    core = result.core.set_index("cfb_id")
    assert core.loc["cj-a-24", ["school", "position", "pff_id", "yahoo_id", "espn_id"]].tolist() == [
        "LSU", "DT", "1", "y1", "e1"
    ]  # fmt: skip
    assert core.loc["cj-b-24", ["school", "position", "pff_id", "yahoo_id", "espn_id"]].tolist() == [
        "Utah", "S", "2", "y2", "e2"
    ]  # fmt: skip
    assert (core["n_sources"] == 4).all()
    b = core.loc["cj-b-24", "prospect_id"]
    assert result.injuries[result.injuries["prospect_id"] == b]["report_id"].tolist() == [
        "r1",
        "r3",
    ]
    assert_links_complete(staging, result)


def test_near_match_goes_to_review():
    staging = {
        "nfl": frame("nfl", nfl("Sam Price", "Iowa", "WR", "sp-24")),
        "pff": frame("pff", pff("Sam Price", "IOWA", "CB", "5")),  # same school, other family
        "yahoo": frame(
            "yahoo", yahoo("Sam Price", "Utah", "WR", "y5")
        ),  # same family, other school
        "espn": frame("espn", espn("Sam Price", "Utah Utes", "CB", "e5", "r")),  # both differ
    }
    result = rc.reconcile(staging, YEAR)
    p = pid("sp-24")
    review = result.review.set_index("source")
    assert review.loc["pff", "reason"] == f"name and school match {p} but position family DB vs WR"
    assert (
        review.loc["yahoo", "reason"]
        == f"name and position family match {p} but school Utah vs Iowa"
    )
    assert json.loads(review.loc["pff", "candidates"]) == [p]
    assert (review.loc["pff", "source_id"], review.loc["pff", "position"]) == ("5", "CB")
    assert review.loc["pff", "origin"] == f"pff/file_{YEAR}#row=1"
    # the ESPN Sam Price differs in school and family: another person, his own prospect
    assert sources_of(result) == {p: "nfl", pid("espn:e5"): "espn"}
    assert_links_complete(staging, result)


def test_several_candidates_go_to_review():
    staging = {
        "nfl": frame(
            "nfl",
            nfl("Chris Jones", "LSU", "DT", "cj-a-24"),
            nfl("Chris Jones", "Utah", "S", "cj-b-24"),
        ),
        # no school, no position: both Chris Joneses fit
        "yahoo": frame("yahoo", yahoo("Chris Jones", None, None, "y9")),
    }
    result = rc.reconcile(staging, YEAR)
    [row] = result.review.to_dict("records")
    a, b = sorted([pid("cj-a-24"), pid("cj-b-24")])
    assert row["reason"] == f"2 candidates with name 'chris jones': {a}, {b}"
    assert json.loads(row["candidates"]) == [a, b]
    assert len(result.core) == 2 and set(sources_of(result).values()) == {"nfl"}
    assert_links_complete(staging, result)


def test_second_record_of_a_source_under_another_id_goes_to_review():
    staging = {
        "yahoo": frame(
            "yahoo",
            yahoo("Sam Price", "Iowa", "WR", "y1"),
            yahoo("Sam Price", "Iowa", "WR", "y2"),
        )
    }
    result = rc.reconcile(staging, YEAR)
    [row] = result.review.to_dict("records")
    assert row["source_id"] == "y2"
    assert row["reason"] == (
        f"name, school and position family match {pid('yahoo:y1')}, which already has yahoo_id y1"
    )


def test_id_reused_for_two_people_or_contradicted_goes_to_review():
    # one cfb_id on two rows with different schools (the sample's Marcus Bell collision)
    staging = {
        "nfl": frame(
            "nfl",
            nfl("Marcus Bell Jr.", "Miami (FL)", "WR", "marcus-bell-22"),
            nfl("Marcus Bell", "Utah", "WR", "marcus-bell-22"),
        )
    }
    [row] = rc.reconcile(staging, YEAR).review.to_dict("records")
    assert row["reason"] == (
        f"cfb_id marcus-bell-22 is also nfl/file_{YEAR}#row=1 of {pid('marcus-bell-22')}, "
        "but school Utah vs Miami (FL)"
    )
    # one cfb_id, two pfr_ids
    staging = {
        "nfl": frame(
            "nfl",
            nfl("Sam Price", "Iowa", "WR", "sp-24", pfr_id="PricSa00"),
            nfl("Sam Price", "Iowa", "WR", "sp-24", pfr_id="PricSa01"),
        )
    }
    [row] = rc.reconcile(staging, YEAR).review.to_dict("records")
    assert row["source_id"] == "PricSa01"
    assert row["reason"] == (
        f"ids pfr_id PricSa01, cfb_id sp-24 match {pid('sp-24')} but pfr_id PricSa00 vs PricSa01"
    )


def test_authority_decides_the_value_and_every_disagreement_is_a_conflict():
    staging = {
        "nfl": frame(
            "nfl",
            nfl("Brandon Keel", "Clemson", "WR", "bk-24", height_in=73, weight_lb=205, forty=4.5),
        ),
        "yahoo": frame(
            "yahoo", yahoo("Brandon Keel", "Clemson", "WR", "y1", height_in=75, weight_lb=205)
        ),
    }
    result = rc.reconcile(staging, YEAR)
    values = dict(
        zip(result.measurements["measurement"], result.measurements["value"], strict=True)
    )
    assert values == {"height_in": 73.0, "weight_lb": 205.0, "forty": 4.5}
    assert set(result.measurements["source"]) == {"nfl"}
    [conflict] = result.conflicts.to_dict("records")
    assert conflict == {
        "prospect_id": pid("bk-24"), "draft_year": YEAR, "field": "height_in",
        "values": '{"nfl": 73, "yahoo": 75}', "winner": "nfl", "winning_value": "73",
        "rule": "measurements: nfl > cfr > yahoo",
    }  # fmt: skip

    overridden = rc.reconcile(staging, YEAR, authority={"measurements": ["yahoo", "nfl"]})
    height = overridden.measurements.set_index("measurement").loc["height_in"]
    assert (height["value"], height["source"], height["extraction_id"]) == (
        75.0,
        "yahoo",
        "e-yahoo",
    )
    [conflict] = overridden.conflicts.to_dict("records")
    assert (conflict["winner"], conflict["rule"]) == ("yahoo", "measurements: yahoo > nfl")
    # a source left out of a group is not used for it at all
    nfl_only = rc.reconcile(staging, YEAR, authority={"measurements": ["nfl"]})
    assert nfl_only.conflicts.empty and set(nfl_only.measurements["source"]) == {"nfl"}

    by_name = rc.reconcile(staging, YEAR, authority={"identity": ["yahoo", "nfl"]})
    assert by_name.core[["source", "extraction_id"]].iloc[0].tolist() == ["yahoo", "e-yahoo"]


def test_a_generic_position_gives_way_to_a_specific_one():
    staging = {
        "nfl": frame("nfl", nfl("Sam Price", "Iowa", "DB", "sp-24")),
        "pff": frame("pff", pff("Sam Price", "IOWA", "CB", "5")),
    }
    result = rc.reconcile(staging, YEAR)
    assert result.core["position"].tolist() == ["CB"] and result.conflicts.empty


@pytest.mark.parametrize(
    "authority, message",
    [
        ({"measurement": ["nfl"]}, "unknown group 'measurement'; allowed: identity, measurements"),
        (
            {"grades": ["pff", "nfl.com"]},
            "authority['grades']: unknown source 'nfl.com'; allowed: nfl, cfr",
        ),
        ({"grades": "pff"}, "authority['grades'] must be a list of sources"),
        ({"statistics": ["cfr", "cfr"]}, "authority['statistics'] lists a source twice"),
    ],
)
def test_bad_authority_is_refused_with_the_key(authority, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        rc.reconcile({}, YEAR, authority=authority)


def test_missing_and_empty_sources_and_empty_output_dtypes():
    staging = {
        "cfr": frame("cfr"),  # a source that failed: empty
        "yahoo": frame("yahoo", yahoo("Sam Price", "Iowa", "WR", "y1", games=12, rec=40)),
    }
    result = rc.reconcile(staging, YEAR)
    assert result.core["prospect_id"].tolist() == [pid("yahoo:y1")]
    assert result.core["source"].tolist() == ["yahoo"]
    assert result.college_stats["stat"].tolist() == ["games", "rec"]
    assert_links_complete(staging, result)
    empty = rc.reconcile({}, YEAR)
    for name, table in empty.tables().items():
        assert table.empty and list(table.columns) == list(rc.TABLES[name]), name
        assert table.dtypes.astype(str).tolist() == list(rc.TABLES[name].values()), name


def test_staging_that_does_not_fit_is_refused():
    with pytest.raises(ValueError, match=r"unknown source\(s\) \['nfl.com'\]"):
        rc.reconcile({"nfl.com": frame("nfl")}, YEAR)
    with pytest.raises(ValueError, match=r"staging\['pff'\] lacks column\(s\) \['extraction_id'\]"):
        rc.reconcile({"pff": frame("pff").drop(columns="extraction_id")}, YEAR)
    with pytest.raises(ValueError, match="draft year"):
        rc.reconcile({"pff": frame("pff", pff("A B", "LSU", "S", "1"), year=2023)}, YEAR)


def test_rows_are_read_by_file_then_row_number_whatever_their_order():
    # "<file>#row=<digits>" is read as the regex (.*)#row=(\d+) reads it in full (the last
    # marker ends the file part, "." stops at a line break); other origins sort as text
    origins = [
        "nfl/f_2024.csv#row=10",
        "nfl/f_2024.csv#row=9",
        "nfl/f_2024.csv#row=0010",
        "nfl/f_2024.csv#row=2#row=3",
        "nfl/f_2024.csv#row=",
        "nfl/f_2024.csv#row=1a",
        "nfl/f_2024.csv#row=\u0663",
        "nfl/a\nb_2024.csv#row=1",
        "nfl/b_2024.csv",
        "",
    ]

    def reference(origin: str) -> tuple[str, int, str]:
        match = re.fullmatch(r"(.*)#row=(\d+)", origin)
        return (match.group(1), int(match.group(2)), origin) if match else (origin, -1, origin)

    rows = [
        nfl(f"Player {n}", "Ohio St.", "RB", f"id-{n}") | {"origin": o}
        for n, o in enumerate(origins)
    ]
    random.Random(7).shuffle(rows)
    result = rc.reconcile({"nfl": frame("nfl", *rows)}, YEAR)
    assert result.links["origin"].tolist() == sorted(origins, key=reference)


def test_reconcile_leaves_the_garbage_collector_as_it_was():
    staging = {"nfl": frame("nfl", nfl("Tyrell Vance", "Penn St.", "EDGE", "tv-24"))}
    assert gc.isenabled()
    rc.reconcile(staging, YEAR)
    assert gc.isenabled()
    gc.disable()
    try:
        rc.reconcile(staging, YEAR)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_school_aliases_extend_the_table():
    staging = {
        "nfl": frame("nfl", nfl("Sam Price", "E. Podunk St.", "WR", "sp-24")),
        "pff": frame("pff", pff("Sam Price", "EPSU", "WR", "5")),
    }
    assert len(rc.reconcile(staging, YEAR).review) == 1  # unknown spellings: schools differ
    aliases = {"E. Podunk St.": "East Podunk State", "EPSU": "East Podunk State"}
    result = rc.reconcile(staging, YEAR, school_aliases=aliases)
    assert result.review.empty and result.core["school"].tolist() == ["East Podunk State"]


def test_prospect_id_anchor_prefers_cfb_id_then_source_ids():
    staging = {
        "nfl": frame("nfl", nfl("Sam Price", "Iowa", "WR", None, pfr_id="PricSa00")),
        "cfr": frame("cfr", {"name": "Sam Price", "school": "Iowa", "cfb_id": "sp-24"}),
        "pff": frame("pff", pff("Ann Other", "IOWA", "WR", "5")),
    }
    result = rc.reconcile(staging, YEAR)
    # CFR's cfb_id joined the NFL row by name: the anchor is the cfb_id, not pfr
    assert sorted(result.core["prospect_id"]) == sorted([pid("sp-24"), pid("pff:5")])
    assert result.core.set_index("pfr_id").loc["PricSa00", "sources"] == "cfr,nfl"


# ---- the generated sample -------------------------------------------------------------------

SAMPLE_YEARS = [2024, 2025]  # drafted (pfr ids) and not-yet-drafted classes
ID_COLUMN = {
    "nfl": "cfb_id",
    "cfr": "cfb_id",
    "pff": "pff_id",
    "yahoo": "yahoo_id",
    "espn": "espn_id",
}


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> dict[int, dict[str, pd.DataFrame]]:
    out = tmp_path_factory.mktemp("prospects-reconcile")
    sd.ensure_sample_data(out, SAMPLE_YEARS)
    staging = {}
    for year in SAMPLE_YEARS:
        staging[year] = {}
        for source, path in sd.sample_paths(out, year).items():
            rows, _ = rules.APPLY_RULES[source](wf.PARSERS[source](path))
            rows["extraction_id"] = pd.Series(
                f"x-{source}-{year}", index=rows.index, dtype="string"
            )
            staging[year][source] = rows
    return staging


@pytest.fixture(scope="module")
def reconciled(sample) -> dict[int, rc.Reconciled]:
    return {year: rc.reconcile(staging, year) for year, staging in sample.items()}


@pytest.mark.parametrize("year", SAMPLE_YEARS)
def test_sample_every_person_is_exactly_one_prospect(sample, reconciled, year):
    """Against the generator's pool: each prospect holds one person's records, and each
    person's records not sent to review are all in one prospect (precision = recall = 1)."""
    person = {}
    for p in sd.build_pool(year):
        person |= {("nfl", p.cfb_id): p.key, ("cfr", p.cfb_id): p.key, ("pff", p.pff_id): p.key}
        person |= {("yahoo", p.yahoo_id): p.key, ("espn", p.espn_id): p.key}
    owner = {}  # (source, origin) -> person
    truth = defaultdict(set)  # person -> {(source, origin)}
    for source, rows in sample[year].items():
        for origin, source_id in zip(rows["origin"], rows[ID_COLUMN[source]], strict=True):
            owner[source, origin] = person[source, source_id]
            truth[person[source, source_id]].add((source, origin))
    result = reconciled[year]
    reviewed = set(zip(result.review["source"], result.review["origin"], strict=True))
    assert len(reviewed) <= 5 and result.review["reason"].str.len().gt(20).all()
    found = defaultdict(set)  # prospect -> {(source, origin)}
    for source, origin, prospect_id in result.links.itertuples(index=False):
        if not pd.isna(prospect_id):
            found[prospect_id].add((source, origin))
    of_person = {}
    for prospect_id, records in found.items():
        owners = {owner[record] for record in records}
        assert len(owners) == 1, (prospect_id, owners)  # precision
        who = owners.pop()
        assert records == truth[who] - reviewed, (prospect_id, who)  # recall
        assert of_person.setdefault(who, prospect_id) == prospect_id
    assert len(of_person) == len([p for p, recs in truth.items() if recs - reviewed])
    assert len(result.core) == len(found)
    assert_links_complete(sample[year], result)


def test_sample_specimens_come_out_right(reconciled):
    result = reconciled[2024]
    core = result.core.set_index("cfb_id")
    expect = {
        "dj-walker": ("D.J. Walker", "RB", "Ohio State"),
        "marcus-bell": ("Marcus Bell Jr.", "WR", "Miami (FL)"),
        "trey-holloway": ("Trey Holloway III", "OT", "Boston College"),
        "keandre-oneal": ("Ke'Andre O'Neal", "CB", "Georgia"),
        "jose-nunez": ("Jos\u00e9 N\u00fa\u00f1ez", "LB", "Texas A&M"),
        "tyrell-vance": ("Tyrell Vance", "EDGE", "Penn State"),
        "darnell-pryor": ("Darnell Pryor", "EDGE", "Alabama"),
        "chris-jones-a": ("Chris Jones", "DT", "LSU"),
        "chris-jones-b": ("Chris Jones", "S", "Utah"),
        "brandon-keel": ("Brandon Keel", "WR", "Clemson"),
    }
    for key, (name, position, school) in expect.items():
        row = core.loc[f"{key}-24"]
        assert (row["name"], row["position"], row["school"]) == (name, position, school), key
        assert row["sources"] == "cfr,espn,nfl,pff,yahoo", key
    pryor = core.loc["darnell-pryor-24", "prospect_id"]
    pryor_links = result.links[result.links["prospect_id"] == pryor]
    assert pryor_links["source"].value_counts()["nfl"] == 2  # both combine rows
    keel = core.loc["brandon-keel-24", "prospect_id"]
    conflicts = result.conflicts[result.conflicts["prospect_id"] == keel].set_index("field")
    assert json.loads(conflicts.loc["height_in", "values"]) == {"nfl": 73, "yahoo": 75}
    assert json.loads(conflicts.loc["weight_lb", "values"]) == {"nfl": 205, "yahoo": 221}
    assert set(conflicts["winner"]) == {"nfl"}
    measured = result.measurements[result.measurements["prospect_id"] == keel]
    assert measured.set_index("measurement").loc[["height_in", "weight_lb"], "value"].tolist() == [
        73.0,
        205.0,
    ]
    crowder = core.loc["isaiah-crowder-24", "prospect_id"]
    history = result.injuries[result.injuries["prospect_id"] == crowder]["status"].tolist()
    assert history == [status for _, status in sd.ESPN_STATUS_HISTORY[1]]
    vance = core.loc["tyrell-vance-24", "prospect_id"]
    # ESPN's LB for an edge rusher is its vocabulary, not a disagreement (P-Q02)
    assert core.loc["tyrell-vance-24", "position"] == "EDGE"
    assert (
        result.conflicts[result.conflicts["prospect_id"] == vance]
        .query("field == 'position'")
        .empty
    )


def test_sample_is_deterministic_and_independent_of_row_order(sample, reconciled):
    staging = sample[2024]
    again = rc.reconcile(staging, 2024)
    rng = random.Random(7)
    shuffled = {
        source: rows.sample(frac=1, random_state=rng.randrange(1000)).reset_index(drop=True)
        for source, rows in reversed(list(staging.items()))
    }
    reordered = rc.reconcile(shuffled, 2024)
    for name, table in reconciled[2024].tables().items():
        for other in (again, reordered):
            pd.testing.assert_frame_equal(table, other.tables()[name], check_exact=True)
            assert table.to_csv(index=False) == other.tables()[name].to_csv(index=False), name


def test_sample_year_is_fast(sample):
    timings = []
    for _ in range(2):
        started = time.perf_counter()
        rc.reconcile(sample[2024], 2024)
        timings.append(time.perf_counter() - started)
    assert sum(len(rows) for rows in sample[2024].values()) > 8_000
    assert min(timings) < 2.0  # about 0.3 s on a quiet 2-core machine; the margin is for noise
