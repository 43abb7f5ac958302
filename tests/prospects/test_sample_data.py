"""The prospects sample generator: deterministic bytes, counts per year, the documented dirt."""

import json
from pathlib import Path

import pytest

from assets.prospects import sample_data as sd
from assets.prospects import wire_formats as wf

YEARS = sd.DEFAULT_DRAFT_YEARS


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("prospects-sample")
    sd.generate_sample_data(out, YEARS)
    return out


@pytest.fixture(scope="module")
def records(sample_dir) -> dict[tuple[str, int], list[wf.RawRecord]]:
    return {
        (src, year): wf.PARSERS[src](path)
        for year in YEARS
        for src, path in sd.sample_paths(sample_dir, year).items()
    }


def by_name(recs, field, name):
    return [r for r in recs if r.fields.get(field) == name]


def test_layout_manifest_and_determinism(sample_dir, tmp_path):
    manifest = json.loads((sample_dir / sd.MANIFEST).read_text())
    assert manifest["draft_years"] == YEARS and len(manifest["files"]) == 5 * len(YEARS)
    assert (sample_dir / "nfl" / "combine_2024.csv").is_file()
    assert (sample_dir / "espn" / "injuries_2025.json").is_file()
    # a year's bytes do not depend on the other years generated
    sd.generate_sample_data(tmp_path, [2023])
    for src, path in sd.sample_paths(tmp_path, 2023).items():
        assert path.read_bytes() == sd.sample_paths(sample_dir, 2023)[src].read_bytes()
    assert sd.build_files(2023, seed=1) != sd.build_files(2023)


def test_ensure_is_idempotent(tmp_path):
    assert sd.ensure_sample_data(tmp_path, [2022])
    path = sd.sample_paths(tmp_path, 2022)["nfl"]
    mtime = path.stat().st_mtime_ns
    assert not sd.ensure_sample_data(tmp_path, [2022])
    assert path.stat().st_mtime_ns == mtime
    assert sd.ensure_sample_data(tmp_path, [2023])  # adds a year, keeps the one there
    assert sd.sample_years(tmp_path) == {2022, 2023}
    sd.sample_paths(tmp_path, 2023)["pff"].unlink()
    assert sd.ensure_sample_data(tmp_path, [2023])
    assert sd.sample_paths(tmp_path, 2023)["pff"].is_file()


def test_counts_per_year(records):
    for year in YEARS:
        pool = sd.build_pool(year)
        assert len(pool) == sd.PROSPECTS_PER_YEAR
        assert sum(1 for p in pool if p.sources) > 0.98 * len(pool)
        for src, share in sd.SOURCE_COVERAGE.items():
            n = len(records[(src, year)])
            expected = share * sd.PROSPECTS_PER_YEAR
            if src == "espn":  # 1-3 reports per injured prospect
                assert expected <= n <= 3 * expected
            else:
                assert 0.85 * expected <= n <= 1.15 * expected, (src, year, n)


def test_draft_columns(records):
    drafted = {r.fields["draft_ovr"] for r in records[("nfl", 2024)] if r.fields.get("draft_ovr")}
    # distinct picks (duplicate rows share one); the wrong-field-count row hides one pick
    assert len(drafted) == sd.PICKS_PER_DRAFT - 1
    assert all(r.fields.get("draft_team") is None for r in records[("nfl", 2025)])


def test_name_variants(records):
    for year in YEARS:
        assert by_name(records[("nfl", year)], "player_name", "D.J. Walker")
        assert by_name(records[("pff", year)], "player", "DJ Walker")
        assert by_name(records[("nfl", year)], "player_name", "Marcus Bell Jr.")
        assert by_name(records[("nfl", year)], "player_name", "Trey Holloway III")
        assert by_name(records[("nfl", year)], "player_name", "Ke'Andre O'Neal")
        assert by_name(records[("yahoo", year)], "name.full", "Ke\u2019Andre O\u2019Neal")
        assert by_name(records[("cfr", year)], "player", "Jos\u00e9 N\u00fa\u00f1ez")
        assert by_name(records[("pff", year)], "player", "Jose Nunez")


def test_school_and_position_aliases(records):
    nfl = records[("nfl", 2024)]
    [walker] = by_name(nfl, "player_name", "D.J. Walker")
    assert walker.fields["school"] == "Ohio St."
    [cfr_walker] = by_name(records[("cfr", 2024)], "player", "DJ Walker")
    assert cfr_walker.fields["school"] == "Ohio State"
    [bell] = by_name(nfl, "player_name", "Marcus Bell Jr.")
    assert bell.fields["school"] == "Miami (FL)"
    [pff_walker] = by_name(records[("pff", 2024)], "player", "DJ Walker")
    assert pff_walker.fields["position"] == "HB" and walker.fields["pos"] == "RB"
    labels = {
        src: {r.fields.get(f) for r in records[(src, 2024)] if r.fields.get(n) == "Tyrell Vance"}
        for src, n, f in [
            ("nfl", "player_name", "pos"),
            ("pff", "player", "position"),
            ("yahoo", "name.full", "position"),
        ]
    }
    assert labels["nfl"] == {"EDGE"} and labels["pff"] == {"ED"} and labels["yahoo"] == {"DE"}


def test_measurement_conflict(records):
    [nfl] = by_name(records[("nfl", 2024)], "player_name", "Brandon Keel")
    [yahoo] = by_name(records[("yahoo", 2024)], "name.full", "Brandon Keel")
    assert (nfl.fields["ht"], nfl.fields["wt"]) == sd.MEASUREMENT_CONFLICT[1]["nfl"]
    assert (yahoo.fields["height"], yahoo.fields["weight"]) == sd.MEASUREMENT_CONFLICT[1]["yahoo"]


def test_duplicates_two_positions_same_name(records):
    nfl, pff = records[("nfl", 2024)], records[("pff", 2024)]
    fenwick = by_name(nfl, "player_name", "Omar Fenwick")
    assert len(fenwick) == 2 and fenwick[0].fields == fenwick[1].fields
    pff_fenwick = by_name(pff, "player", "Omar Fenwick")
    assert len(pff_fenwick) == 2 and pff_fenwick[0].fields == pff_fenwick[1].fields
    pryor = by_name(nfl, "player_name", "Darnell Pryor")
    assert [r.fields["pos"] for r in pryor] == list(sd.TWO_POSITIONS[1])
    assert pryor[0].fields["cfb_id"] == pryor[1].fields["cfb_id"]
    jones = by_name(nfl, "player_name", "Chris Jones")
    assert len(jones) == 2 and len({r.fields["cfb_id"] for r in jones}) == 2
    assert len({r.fields["school"] for r in jones}) == 2


def test_malformed_rows(records, sample_dir):
    for year in YEARS:
        nfl = records[("nfl", year)]
        bad = [r for r in nfl if r.problem]
        assert len(bad) == 1 and sd.NFL_WRONG_FIELD_COUNT[1] in bad[0].raw
        [ashby] = by_name(nfl, "player_name", "Devon Ashby")
        assert ashby.fields["bench"] == "DNP"
        [hollis] = by_name(nfl, "player_name", "Grant Hollis")
        assert hollis.fields["ht"] == "6-13"
        [cfr_bad] = [r for r in records[("cfr", year)] if r.problem]
        assert "Kyle Brandt" in cfr_bad.raw
        [brandt] = by_name(records[("yahoo", year)], "name.full", "Kyle Brandt")
        assert brandt.fields["stats.rush_yds"] == "--"
    raw = sd.sample_paths(sample_dir, 2024)["pff"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\r\n") == raw.count(b"\n")
    assert b"\r\n" not in sd.sample_paths(sample_dir, 2024)["nfl"].read_bytes()


def test_cfr_school_and_team_headers(sample_dir):
    assert b"\nRk,Player,School," in sd.sample_paths(sample_dir, 2022)["cfr"].read_bytes()
    assert b"\nRk,Player,Team," in sd.sample_paths(sample_dir, 2023)["cfr"].read_bytes()


def test_espn_status_changes(records):
    crowder = by_name(records[("espn", 2024)], "athlete.displayName", "Isaiah Crowder")
    assert [r.fields["status"] for r in crowder] == [s for _, s in sd.ESPN_STATUS_HISTORY[1]]
    assert len({r.fields["athlete.id"] for r in crowder}) == 1
    assert len({r.fields["date"] for r in crowder}) == len(crowder)


def test_cfb_id_links_nfl_and_cfr(records):
    nfl_ids = {r.fields["cfb_id"] for r in records[("nfl", 2024)] if not r.problem}
    cfr_ids = {r.fields["player_additional"] for r in records[("cfr", 2024)] if not r.problem}
    assert len(nfl_ids & cfr_ids) > 0.6 * len(nfl_ids)
