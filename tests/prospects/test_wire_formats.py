"""The prospect parsers on small hand-written files."""

import json
from pathlib import Path

import pytest

from assets.prospects import wire_formats as wf
from assets.prospects.wire_formats import ProspectFileError

NFL_HEADER = ",".join(wf.NFL_COLUMNS)
NFL_ROW = (
    "2022,NA,NA,NA,NA,NA,garrett-wilson-2,Garrett Wilson,WR,Ohio St.,6-0,183,4.38,NA,36,123,NA,4.36"
)


def write(tmp_path: Path, rel: str, data: bytes | str) -> Path:
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def test_nfl_na_and_origin(tmp_path):
    path = write(tmp_path, "nfl/combine_2022.csv", f"{NFL_HEADER}\n{NFL_ROW}\n")
    [rec] = wf.parse_nfl(path)
    assert rec.source == "nfl" and rec.draft_year == 2022
    assert rec.origin == "nfl/combine_2022.csv#row=1"
    assert rec.fields["draft_team"] is None and rec.fields["bench"] is None
    assert rec.fields["ht"] == "6-0" and rec.fields["school"] == "Ohio St."
    assert rec.problem is None


def test_bom_crlf_and_malformed_rows_kept(tmp_path):
    bad_count = NFL_ROW.replace("Ohio St.", "Texas A&M, Commerce")
    bad_values = NFL_ROW.replace("6-0,183,4.38", "6-13,183,4.4s")
    text = "\r\n".join([NFL_HEADER, NFL_ROW, bad_count, bad_values, ""])
    path = write(tmp_path, "nfl/combine_2022.csv", b"\xef\xbb\xbf" + text.encode())
    recs = wf.parse_nfl(path)
    assert len(recs) == 3  # records in = data rows in the file
    assert recs[0].fields["season"] == "2022" and recs[0].fields["shuttle"] == "4.36"
    assert recs[1].problem == "expected 18 fields, got 19" and recs[1].fields == {}
    assert recs[1].raw == bad_count and recs[1].origin.endswith("#row=2")
    assert (recs[2].fields["ht"], recs[2].fields["forty"]) == ("6-13", "4.4s")  # kept as text


def test_cfr_positional_names_and_team_header(tmp_path):
    over = ",,,,,Rushing,Rushing,Rushing,Rushing,Receiving,Receiving,Receiving,Receiving,"
    for school_header in ("School", "Team"):
        header = f"Rk,Player,{school_header},Conf,G,Att,Yds,Avg,TD,Rec,Yds,Avg,TD,Player-additional"
        rows = ["1,DJ Walker,Ohio State,Big Ten,12,200,1100,5.5,12,20,180,9.0,1,dj-walker-24",
                "2,Jose Nunez,Texas A&M,SEC,11,,,,,,,,,jose-nunez-24",
                "3,Kyle Brandt,Pitt,ACC,10,1,2,2.0,0,1,2,2.0,0"]  # fmt: skip
        path = write(tmp_path, "cfr/stats_2024.csv", "\n".join([over, header, *rows]) + "\n")
        recs = wf.parse_cfr(path)
        assert len(recs) == 3
        f = recs[0].fields
        assert (f["school"], f["rush_yds"], f["rec_yds"], f["rec"]) == (
            "Ohio State",
            "1100",
            "180",
            "20",
        )
        assert (
            f["rush_avg"] == "5.5"
            and f["rec_td"] == "1"
            and f["player_additional"] == "dj-walker-24"
        )
        assert recs[1].fields["rush_yds"] is None
        assert recs[2].problem == "expected 14 fields, got 13"


def test_pff_empty_cells(tmp_path):
    text = "player,player_id,position,team_name,player_game_count,grades_offense,grades_defense\r\n"
    text += "DJ Walker,2410001,HB,OHST,12,77.1,\r\n"
    path = write(tmp_path, "pff/grades_2024.csv", "\ufeff" + text)
    [rec] = wf.parse_pff(path)
    assert rec.fields["player"] == "DJ Walker"  # the BOM is not part of the first name
    assert rec.fields["grades_defense"] is None and rec.fields["position"] == "HB"


def test_json_sources(tmp_path):
    yahoo = {"meta": {"season": "2023"}, "players": [
        {"player_id": "ncaaf.p.1", "name": {"full": "D.J. Walker"}, "height": "5' 10\"",
         "stats": [{"stat_id": "rush_yds", "value": "--"}, {"stat_id": "g", "value": 12}]},
        "not an object"]}  # fmt: skip
    recs = wf.parse_yahoo(write(tmp_path, "yahoo/stats_2024.json", json.dumps(yahoo)))
    assert len(recs) == 2
    assert recs[0].fields == {"player_id": "ncaaf.p.1", "name.full": "D.J. Walker",
                              "height": "5' 10\"", "stats.rush_yds": "--", "stats.g": "12"}  # fmt: skip
    assert recs[1].problem == "item is str, expected an object"
    espn = {"season": {"year": 2024}, "injuries": [
        {"id": "1", "athlete": {"id": "9", "displayName": "Isaiah Crowder"}, "status": "Out",
         "details": {"type": "Shoulder", "returnDate": None}}]}  # fmt: skip
    [rec] = wf.parse_espn(write(tmp_path, "espn/injuries_2024.json", json.dumps(espn)))
    assert rec.fields["athlete.id"] == "9" and rec.fields["details.returnDate"] is None


@pytest.mark.parametrize(
    ("parser", "rel", "data", "message"),
    [
        (wf.parse_nfl, "nfl/combine_2024.csv", b"", "file is empty"),
        (wf.parse_nfl, "nfl/combine_2024.csv", b"\x89PNG\r\n\x1a\n\x00\x00", "binary content"),
        (
            wf.parse_nfl,
            "nfl/combine_2024.csv",
            "player,player_id\nx,1\n",
            "expected nflverse combine",
        ),
        (
            wf.parse_cfr,
            "cfr/stats_2024.csv",
            NFL_HEADER + "\n" + NFL_ROW,
            "expected College Football",
        ),
        (
            wf.parse_cfr,
            "cfr/stats_2024.csv",
            "Rk,Player,School\n1,A,B\n",
            "expected College Football",
        ),
        (wf.parse_pff, "pff/grades_2024.csv", NFL_HEADER + "\n", "expected PFF grades CSV"),
        (wf.parse_yahoo, "yahoo/stats_2024.json", "{not json", "not JSON"),
        (wf.parse_yahoo, "yahoo/stats_2024.json", '{"injuries": []}', "no 'players'"),
        (wf.parse_espn, "espn/injuries_2024.json", '{"injuries": {}}', "is not a list"),
    ],
)
def test_bad_files_raise_one_line(tmp_path, parser, rel, data, message):
    path = write(tmp_path, rel, data)
    with pytest.raises(ProspectFileError) as info:
        parser(path)
    text = str(info.value)
    assert message in text and str(path) in text and "\n" not in text
    assert isinstance(info.value, ValueError)


def test_header_only_file_has_no_records(tmp_path):
    assert wf.parse_nfl(write(tmp_path, "nfl/combine_2024.csv", NFL_HEADER + "\n")) == []


def test_records_equal_data_rows_on_samples(tmp_path):
    from assets.prospects import sample_data as sd

    for src, path in sd.sample_paths(tmp_path, 2024).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(sd.build_files(2024)[src])
        recs = wf.PARSERS[src](path)
        if src in ("yahoo", "espn"):
            doc = json.loads(path.read_text())
            assert len(recs) == len(doc["players" if src == "yahoo" else "injuries"])
        else:
            lines = [ln for ln in path.read_text(encoding="utf-8-sig").splitlines() if ln]
            assert len(recs) == len(lines) - (2 if src == "cfr" else 1)
        assert [r.origin for r in recs] == [
            f"{path.parent.name}/{path.name}#row={n}" for n in range(1, len(recs) + 1)
        ]


@pytest.mark.parametrize(
    ("header", "said"),
    [
        (NFL_HEADER + ",extra", "header has unexpected column 'extra';"),
        (NFL_HEADER.replace(",ht,", ","), "header has missing column 'ht';"),
        (
            NFL_HEADER.replace(",ht,", ",height,"),
            "unexpected column 'height', missing column 'ht';",
        ),
        (NFL_HEADER + ",wt", "header has repeated column 'wt';"),
        (
            NFL_HEADER.replace("forty,bench", "bench,forty"),
            "columns in another order (column 13 is 'bench', expected 'forty')",
        ),
        (
            "name,team,a,b,c,d,e",
            "unexpected columns 'name', 'team', 'a', 'b', 'c' and 2 more, missing columns "
            "'season', 'draft_year', 'draft_team', 'draft_round', 'draft_ovr' and 13 more;",
        ),
    ],
    ids=["extra", "missing", "renamed", "repeated", "order", "another-layout"],
)
def test_nfl_header_error_names_the_columns(tmp_path, header, said):
    path = write(tmp_path, "nfl/combine_2024.csv", f"{header}\n{NFL_ROW}\n")
    with pytest.raises(ProspectFileError) as info:
        wf.parse_nfl(path)
    text = str(info.value)
    assert text.startswith(f"{path}: ") and said in text and "\n" not in text
    # Both layouts the NFL source reads are named, nflverse's first.
    ndp = "nfl_data_py combine CSV columns " + ",".join(wf.NFL_DATA_PY_COLUMNS)
    assert text.endswith(f"expected nflverse combine CSV columns {NFL_HEADER} or {ndp}")


@pytest.mark.parametrize(
    ("parser", "rel", "doc", "said"),
    [
        (
            wf.parse_yahoo,
            "yahoo/stats_2024.json",
            {"meta": {"season": "2022", "draft_year": "2023"}, "players": []},
            "P-R09 meta.draft_year is '2023', not the file's draft year 2024; "
            "expected a file of draft year 2024",
        ),
        (
            wf.parse_espn,
            "espn/injuries_2024.json",
            {"season": {"year": 2023, "type": "draft"}, "injuries": []},
            "P-R09 season.year is 2023, not the file's draft year 2024; "
            "expected a file of draft year 2024",
        ),
    ],
    ids=["yahoo", "espn"],
)
def test_a_file_declaring_another_draft_year_is_rejected_whole(tmp_path, parser, rel, doc, said):
    path = write(tmp_path, rel, json.dumps(doc))
    with pytest.raises(ProspectFileError) as info:
        parser(path)
    assert str(info.value) == f"{path}: {said}"
    # The same file under its own year's name parses; no declared year: judged per record.
    assert parser(write(tmp_path, rel.replace("2024", "2023"), json.dumps(doc))) == []
    undeclared = {k: v for k, v in doc.items() if k in ("players", "injuries")}
    assert parser(write(tmp_path, rel, json.dumps(undeclared))) == []
