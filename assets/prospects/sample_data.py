"""Deterministic sample files for the five NFL draft prospect sources, in their real layouts.

Each draft year draws its own pool of PROSPECTS_PER_YEAR prospects from
`random.Random(seed * 10_000 + year)`, so a year's files never depend on which other years
are generated. Each source lists a share of the pool (SOURCE_COVERAGE); the dirt
specimens (SPECIMENS) are in every source of every year, at pool positions
SPECIMEN_POSITIONS, and carry the documented dirt (docs/prospects.md):

    nfl/combine_<year>.csv     nflverse combine CSV
    cfr/stats_<year>.csv       College Football Reference "Get table as CSV"
    pff/grades_<year>.csv      PFF grades export (UTF-8 BOM, CRLF)
    yahoo/stats_<year>.json    Yahoo college stats (final college season = year - 1)
    espn/injuries_<year>.json  ESPN injury reports around the combine
    manifest.json              generator version, seed, years, files
"""

import csv
import io
import json
import random
from datetime import date, timedelta
from pathlib import Path

from assets.prospects.sample_pool import (
    CFR_WRONG_FIELD_COUNT,
    ESPN_STATUS_HISTORY,
    ESPN_STATUSES,
    INJURIES,
    MEASUREMENT_CONFLICT,
    NFL_BAD_HEIGHT,
    NFL_DUPLICATE,
    NFL_NON_NUMERIC,
    NFL_TEAMS,
    NFL_WRONG_FIELD_COUNT,
    PFF_DUPLICATE,
    PROSPECTS_PER_YEAR,
    SCHOOLS,
    SEED,
    SOURCE_COVERAGE,
    SPECIMENS,
    TWO_POSITIONS,
    YAHOO_NON_NUMERIC,
    Prospect,
    build_pool,
    slug,
)
from assets.prospects.wire_formats import NFL_COLUMNS, PFF_COLUMNS
from headwater.files import write_atomic

# Read from here by the tests, though they belong to the pool.
__all__ = ["PROSPECTS_PER_YEAR", "SOURCE_COVERAGE", "SPECIMENS"]

GENERATOR_VERSION = 2  # bump when values or layout change: forces regeneration
DEFAULT_DRAFT_YEARS = [2021, 2022, 2023, 2024, 2025]
MANIFEST = "manifest.json"
# The sample is as of early 2025, before that draft: later classes have NA draft_* columns.
LAST_DRAFTED_YEAR = 2024
PICKS_PER_DRAFT = 257
CFR_TEAM_HEADER_FROM = 2023  # CFR pages say "Team" from this season's files on, "School" before


# ---- rows per source ------------------------------------------------------------------------


def _ht_text(inches: int) -> str:
    return f"{inches // 12}-{inches % 12}"


def _fmt(value: float | None) -> str:
    if value is None:
        return "NA"
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _pfr_id(p: Prospect, n: int) -> str:
    last = slug(p.last).replace("-", "")[:4].title()
    return f"{last}{slug(p.first).replace('-', '')[:2].title()}{n % 100:02d}"


def nfl_lines(year: int, pool: list[Prospect]) -> list[str]:
    """The combine CSV's lines (header first); malformed rows are written as is."""
    drafted = {}
    if year <= LAST_DRAFTED_YEAR:
        ranked = sorted((p for p in pool if "nfl" in p.sources), key=lambda p: -p.grade)
        rng = random.Random(year)
        for ovr, p in enumerate(ranked[:PICKS_PER_DRAFT], start=1):
            drafted[p.key] = (rng.choice(NFL_TEAMS), min(7, (ovr - 1) // 32 + 1), ovr)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(NFL_COLUMNS)
    lines = buf.getvalue().splitlines()
    for n, p in enumerate(pool):
        if "nfl" not in p.sources:
            continue
        team, rnd, ovr = drafted.get(p.key, (None, None, None))
        row = {
            "season": str(year),
            "draft_year": str(year) if team else "NA",
            "draft_team": team or "NA",
            "draft_round": _fmt(rnd),
            "draft_ovr": _fmt(ovr),
            "pfr_id": _pfr_id(p, n) if team else "NA",
            "cfb_id": p.cfb_id,
            "player_name": p.name("nfl"),
            "pos": p.labels["nfl"],
            "school": SCHOOLS[p.school][0],
            "ht": _ht_text(p.ht),
            "wt": str(p.wt),
        } | {k: _fmt(v) for k, v in p.drills.items()}
        if p.key == MEASUREMENT_CONFLICT[0]:
            row["ht"], row["wt"] = MEASUREMENT_CONFLICT[1]["nfl"]
        if p.key == NFL_NON_NUMERIC[0]:
            row[NFL_NON_NUMERIC[1]] = NFL_NON_NUMERIC[2]
        if p.key == NFL_BAD_HEIGHT[0]:
            row["ht"] = NFL_BAD_HEIGHT[1]
        rows = [row]
        if p.key == TWO_POSITIONS[0]:
            rows = [row | {"pos": pos} for pos in TWO_POSITIONS[1]]
        if p.key == NFL_DUPLICATE:
            rows = [row, row]
        for r in rows:
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerow([r[c] for c in NFL_COLUMNS])
            line = buf.getvalue().rstrip("\n")
            if p.key == NFL_WRONG_FIELD_COUNT[0]:
                line = line.replace(f",{r['school']},", f",{NFL_WRONG_FIELD_COUNT[1]},")
            lines.append(line)
    return lines


def _stats(rng: random.Random, p: Prospect) -> dict[str, float | int | None]:
    g = rng.randint(8, 14)
    out: dict[str, float | int | None] = {"g": g}
    rush_att = {"RB": 180, "QB": 90, "WR": 6}.get(p.pos)
    rec = {"WR": 55, "TE": 35, "RB": 22}.get(p.pos)
    if rush_att:
        att = max(1, round(rng.gauss(rush_att, rush_att / 4)))
        yds = round(att * rng.gauss(5.0, 1.0))
        out |= {"rush_att": att, "rush_yds": yds, "rush_avg": round(yds / att, 1),
                "rush_td": max(0, round(att / 20 * rng.random() * 2))}  # fmt: skip
    if rec:
        n = max(1, round(rng.gauss(rec, rec / 4)))
        yds = round(n * rng.gauss(12.5, 3.0))
        out |= {"rec": n, "rec_yds": yds, "rec_avg": round(yds / n, 1),
                "rec_td": max(0, round(n / 8 * rng.random() * 2))}  # fmt: skip
    return out


CFR_GROUPS = ["", "", "", "", "", "Rushing", "Rushing", "Rushing", "Rushing"]
CFR_GROUPS += ["Receiving"] * 4 + [""]


def cfr_lines(year: int, pool: list[Prospect], stats: dict[str, dict]) -> list[str]:
    school_header = "Team" if year >= CFR_TEAM_HEADER_FROM else "School"
    header = ["Rk", "Player", school_header, "Conf", "G", "Att", "Yds", "Avg", "TD"]
    header += ["Rec", "Yds", "Avg", "TD", "Player-additional"]
    lines = [",".join(CFR_GROUPS), ",".join(header)]
    keys = [
        "g",
        "rush_att",
        "rush_yds",
        "rush_avg",
        "rush_td",
        "rec",
        "rec_yds",
        "rec_avg",
        "rec_td",
    ]
    rk = 0
    for p in pool:
        if "cfr" not in p.sources:
            continue
        rk += 1
        s = stats[p.key]
        cells = [str(rk), p.name("cfr"), SCHOOLS[p.school][1], SCHOOLS[p.school][5]]
        cells += ["" if s.get(k) is None else str(s[k]) for k in keys] + [p.cfb_id]
        if p.key == CFR_WRONG_FIELD_COUNT:
            cells = cells[:-1]
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(cells)
        lines.append(buf.getvalue().rstrip("\n"))
    return lines


_OFFENSE = {"QB": "pass", "RB": "run", "WR": None, "TE": None, "OT": "ol", "IOL": "ol"}


def pff_lines(year: int, pool: list[Prospect], rng: random.Random) -> list[str]:
    lines = [",".join(PFF_COLUMNS)]
    for p in pool:
        if "pff" not in p.sources:
            continue
        grades: dict[str, float] = {}
        g = lambda: round(min(95.0, max(35.0, rng.gauss(68, 10))), 1)  # noqa: E731
        if p.pos in _OFFENSE:
            grades["grades_offense"] = g()
            kind = _OFFENSE[p.pos]
            if kind == "pass":
                grades |= {"grades_pass": g(), "grades_run": g()}
            elif kind == "run":
                grades["grades_run"] = g()
            elif kind == "ol":
                grades |= {"grades_pass_block": g(), "grades_run_block": g()}
        elif p.pos in ("DT", "EDGE", "LB", "CB", "S"):
            grades |= {"grades_defense": g(), "grades_run_defense": g(), "grades_tackle": g()}
            if p.pos in ("DT", "EDGE"):
                grades["grades_pass_rush"] = g()
            else:
                grades["grades_coverage"] = g()
        row = {
            "player": p.name("pff"),
            "player_id": p.pff_id,
            "position": p.labels["pff"],
            "team_name": SCHOOLS[p.school][2],
            "player_game_count": str(rng.randint(6, 15)),
        } | {k: str(v) for k, v in grades.items()}
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow([row.get(c, "") for c in PFF_COLUMNS])
        line = buf.getvalue().rstrip("\n")
        lines += [line, line] if p.key == PFF_DUPLICATE else [line]
    return lines


def yahoo_doc(year: int, pool: list[Prospect], stats: dict[str, dict], rng) -> dict:
    players = []
    for p in pool:
        if "yahoo" not in p.sources:
            continue
        ht = p.ht + (1 if rng.random() < 0.3 else 0)  # school rosters round heights up
        height, weight = f"{ht // 12}' {ht % 12}\"", str(p.wt + rng.randint(-6, 6))
        if p.key == MEASUREMENT_CONFLICT[0]:
            height, weight = MEASUREMENT_CONFLICT[1]["yahoo"]
        name = p.name("yahoo")
        first, _, last = name.partition(" ")
        s = stats[p.key]
        stat_list = [{"stat_id": k, "value": str(v)} for k, v in s.items() if v is not None]
        if p.key == YAHOO_NON_NUMERIC[0]:
            for st in stat_list:
                if st["stat_id"] == YAHOO_NON_NUMERIC[1]:
                    st["value"] = YAHOO_NON_NUMERIC[2]
        players.append(
            {
                "player_id": p.yahoo_id,
                "name": {"full": name, "first": first, "last": last},
                "position": p.labels["yahoo"],
                "team": {
                    "team_id": f"ncaaf.t.{list(SCHOOLS).index(p.school) + 1}",
                    "name": SCHOOLS[p.school][3],
                },  # fmt: skip
                "height": height,
                "weight": weight,
                "class": rng.choice(["SR", "JR", "RS-SR", "RS-JR", "SO"]),
                "stats": stat_list,
            }
        )
    meta = {"league": "ncaaf", "season": str(year - 1), "draft_year": str(year),
            "count": str(len(players)), "lang": "en-US"}  # fmt: skip
    return {"meta": meta, "players": players}


def espn_doc(year: int, pool: list[Prospect], rng: random.Random) -> dict:
    start = date(year, 2, 20)  # reports around the combine (late Feb to late March)
    items = []
    for p in pool:
        if "espn" not in p.sources:
            continue
        if p.key == ESPN_STATUS_HISTORY[0]:
            injury = "Shoulder"
            history = list(ESPN_STATUS_HISTORY[1])
        else:
            injury = rng.choice(INJURIES)
            days = sorted(rng.sample(range(0, 35), rng.randint(1, 3)))
            history = [(d, rng.choice(ESPN_STATUSES)) for d in days]
        for day, status in history:
            items.append(
                {
                    "id": str(900_000 + len(items) + (year % 100) * 10_000),
                    "athlete": {
                        "id": p.espn_id,
                        "displayName": p.name("espn"),
                        "position": {"abbreviation": p.labels["espn"]},
                        "team": {"displayName": SCHOOLS[p.school][4]},
                    },
                    "status": status,
                    "date": f"{(start + timedelta(days=day)).isoformat()}T17:00Z",
                    "details": {"type": injury, "returnDate": None},
                }
            )
    return {"season": {"year": year, "type": "draft"}, "count": len(items), "injuries": items}


# ---- files ----------------------------------------------------------------------------------


def sample_paths(out_dir: Path, year: int) -> dict[str, Path]:
    out_dir = Path(out_dir)
    return {
        "nfl": out_dir / "nfl" / f"combine_{year}.csv",
        "cfr": out_dir / "cfr" / f"stats_{year}.csv",
        "pff": out_dir / "pff" / f"grades_{year}.csv",
        "yahoo": out_dir / "yahoo" / f"stats_{year}.json",
        "espn": out_dir / "espn" / f"injuries_{year}.json",
    }


def build_files(year: int, seed: int = SEED) -> dict[str, bytes]:
    """One draft year's five files, as bytes, keyed by source."""
    pool = build_pool(year, seed)
    rng = random.Random(seed * 10_000 + year + 1)  # stats and grades: their own stream
    stats = {p.key: _stats(rng, p) for p in pool}
    pff = pff_lines(year, pool, rng)
    yahoo = yahoo_doc(year, pool, stats, rng)
    espn = espn_doc(year, pool, rng)
    return {
        "nfl": ("\n".join(nfl_lines(year, pool)) + "\n").encode(),
        "cfr": ("\n".join(cfr_lines(year, pool, stats)) + "\n").encode(),
        "pff": ("\ufeff" + "\r\n".join(pff) + "\r\n").encode(),
        "yahoo": json.dumps(yahoo, ensure_ascii=False, separators=(",", ":")).encode(),
        "espn": json.dumps(espn, ensure_ascii=False, separators=(",", ":")).encode(),
    }


def generate_sample_data(
    out_dir: Path, draft_years: list[int] | None = None, seed: int = SEED
) -> list[Path]:
    """Write every file for `draft_years`; returns the paths. Same years and seed, same bytes."""
    out_dir = Path(out_dir)
    years = sorted(set(draft_years or DEFAULT_DRAFT_YEARS))
    written = []
    for year in years:
        paths = sample_paths(out_dir, year)
        for source, data in build_files(year, seed).items():
            write_atomic(paths[source], data)
            written.append(paths[source])
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "draft_years": years,
        "files": [p.relative_to(out_dir).as_posix() for p in written],
    }
    write_atomic(out_dir / MANIFEST, json.dumps(manifest, indent=2).encode())  # written last
    return written


def sample_years(out_dir: Path, seed: int = SEED) -> set[int]:
    """The draft years complete in `out_dir` for this generator version and seed."""
    out_dir = Path(out_dir)
    try:
        manifest = json.loads((out_dir / MANIFEST).read_text())
        if manifest.get("generator_version") != GENERATOR_VERSION or manifest.get("seed") != seed:
            return set()
        if not all((out_dir / name).is_file() for name in manifest["files"]):
            return set()
        return set(manifest["draft_years"])
    except (OSError, ValueError, KeyError, TypeError):
        return set()


def ensure_sample_data(
    out_dir: Path, draft_years: list[int] | None = None, seed: int = SEED
) -> bool:
    """Generate the files unless complete ones for every year are there; never drops a year
    already present. Returns whether it wrote anything."""
    want = set(draft_years or DEFAULT_DRAFT_YEARS)
    have = sample_years(out_dir, seed)
    if want <= have:
        return False
    generate_sample_data(Path(out_dir), sorted(want | have), seed)
    return True
