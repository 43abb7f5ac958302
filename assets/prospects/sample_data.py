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
import itertools
import json
import random
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from assets.prospects.wire_formats import NFL_COLUMNS, PFF_COLUMNS, SOURCES
from headwater.files import write_atomic

GENERATOR_VERSION = 2  # bump when values or layout change: forces regeneration
SEED = 20210429
DEFAULT_DRAFT_YEARS = [2021, 2022, 2023, 2024, 2025]
MANIFEST = "manifest.json"
PROSPECTS_PER_YEAR = 3000
# Share of the pool each source lists (specimens are always listed).
SOURCE_COVERAGE = {"nfl": 0.45, "cfr": 0.8, "pff": 0.7, "yahoo": 0.75, "espn": 0.1}
# The sample is as of early 2025, before that draft: later classes have NA draft_* columns.
LAST_DRAFTED_YEAR = 2024
PICKS_PER_DRAFT = 257
CFR_TEAM_HEADER_FROM = 2023  # CFR pages say "Team" from this season's files on, "School" before

# ---- reference tables -----------------------------------------------------------------------

# key: (nfl/PFR spelling, CFR, PFF team code, Yahoo, ESPN display name, conference)
# fmt: off
SCHOOLS: dict[str, tuple[str, str, str, str, str, str]] = {
    "ohio_state": ("Ohio St.", "Ohio State", "OHST", "Ohio State", "Ohio State Buckeyes", "Big Ten"),
    "miami_fl": ("Miami (FL)", "Miami (FL)", "MIAMI", "Miami", "Miami Hurricanes", "ACC"),
    "boston_college": ("Boston Col.", "Boston College", "BC", "Boston College", "Boston College Eagles", "ACC"),
    "alabama": ("Alabama", "Alabama", "BAMA", "Alabama", "Alabama Crimson Tide", "SEC"),
    "georgia": ("Georgia", "Georgia", "UGA", "Georgia", "Georgia Bulldogs", "SEC"),
    "lsu": ("LSU", "LSU", "LSU", "LSU", "LSU Tigers", "SEC"),
    "michigan": ("Michigan", "Michigan", "MICH", "Michigan", "Michigan Wolverines", "Big Ten"),
    "penn_state": ("Penn St.", "Penn State", "PSU", "Penn State", "Penn State Nittany Lions", "Big Ten"),
    "florida_state": ("Florida St.", "Florida State", "FSU", "Florida State", "Florida State Seminoles", "ACC"),
    "texas_am": ("Texas A&M", "Texas A&M", "TXAM", "Texas A&M", "Texas A&M Aggies", "SEC"),
    "usc": ("USC", "USC", "USC", "USC", "USC Trojans", "Pac-12"),
    "ole_miss": ("Mississippi", "Ole Miss", "MISS", "Ole Miss", "Ole Miss Rebels", "SEC"),
    "nc_state": ("North Carolina St.", "NC State", "NCST", "NC State", "NC State Wolfpack", "ACC"),
    "clemson": ("Clemson", "Clemson", "CLEM", "Clemson", "Clemson Tigers", "ACC"),
    "oklahoma": ("Oklahoma", "Oklahoma", "OKLA", "Oklahoma", "Oklahoma Sooners", "Big 12"),
    "oklahoma_state": ("Oklahoma St.", "Oklahoma State", "OKST", "Oklahoma State", "Oklahoma State Cowboys", "Big 12"),
    "utah": ("Utah", "Utah", "UTAH", "Utah", "Utah Utes", "Pac-12"),
    "iowa": ("Iowa", "Iowa", "IOWA", "Iowa", "Iowa Hawkeyes", "Big Ten"),
    "wisconsin": ("Wisconsin", "Wisconsin", "WISC", "Wisconsin", "Wisconsin Badgers", "Big Ten"),
    "central_florida": ("Central Florida", "UCF", "UCF", "UCF", "UCF Knights", "AAC"),
    "pittsburgh": ("Pittsburgh", "Pitt", "PITT", "Pittsburgh", "Pittsburgh Panthers", "ACC"),
    "north_dakota_state": ("North Dakota St.", "North Dakota State", "NDST", "North Dakota State", "North Dakota State Bison", "MVFC"),
}
# Canonical position -> (weight in the pool, label per source: tuples are picked per player).
POSITIONS: dict[str, tuple[int, dict[str, tuple[str, ...]]]] = {
    "QB": (7, {"nfl": ("QB",), "cfr": ("QB",), "pff": ("QB",), "yahoo": ("QB",), "espn": ("QB",)}),
    "RB": (9, {"nfl": ("RB",), "cfr": ("RB",), "pff": ("HB",), "yahoo": ("RB",), "espn": ("RB",)}),
    "WR": (14, {"nfl": ("WR",), "cfr": ("WR",), "pff": ("WR",), "yahoo": ("WR",), "espn": ("WR",)}),
    "TE": (6, {"nfl": ("TE",), "cfr": ("TE",), "pff": ("TE",), "yahoo": ("TE",), "espn": ("TE",)}),
    "OT": (8, {"nfl": ("OT",), "cfr": ("OL",), "pff": ("T",), "yahoo": ("OT",), "espn": ("OT",)}),
    "IOL": (8, {"nfl": ("OG", "C"), "cfr": ("OL",), "pff": ("G", "C"), "yahoo": ("OG", "C"), "espn": ("G", "C")}),
    "DT": (8, {"nfl": ("DT",), "cfr": ("DL",), "pff": ("DI",), "yahoo": ("DT",), "espn": ("DT",)}),
    "EDGE": (9, {"nfl": ("EDGE", "DE", "OLB"), "cfr": ("DE", "OLB"), "pff": ("ED",), "yahoo": ("DE", "LB"), "espn": ("DE", "LB")}),
    "LB": (9, {"nfl": ("LB", "ILB"), "cfr": ("LB",), "pff": ("LB",), "yahoo": ("LB",), "espn": ("LB",)}),
    "CB": (12, {"nfl": ("CB",), "cfr": ("CB", "DB"), "pff": ("CB",), "yahoo": ("CB",), "espn": ("CB",)}),
    "S": (8, {"nfl": ("S", "SAF"), "cfr": ("S", "DB"), "pff": ("S",), "yahoo": ("S",), "espn": ("S",)}),
    "K": (1, {"nfl": ("K",), "cfr": ("K",), "pff": ("K",), "yahoo": ("K",), "espn": ("PK",)}),
    "P": (1, {"nfl": ("P",), "cfr": ("P",), "pff": ("P",), "yahoo": ("P",), "espn": ("P",)}),
}
# Canonical position -> means of (height in, weight lb, forty, bench, vertical, broad, cone, shuttle)
MEASURE_MEANS: dict[str, tuple[float, ...]] = {
    "QB": (74.5, 220, 4.80, 0, 31.5, 113, 7.10, 4.35), "RB": (70.5, 212, 4.52, 19, 35.0, 121, 7.05, 4.30),
    "WR": (72.5, 198, 4.48, 14, 36.0, 123, 6.95, 4.20), "TE": (76.5, 250, 4.70, 19, 34.0, 119, 7.15, 4.35),
    "OT": (77.5, 312, 5.20, 25, 28.5, 104, 7.75, 4.70), "IOL": (75.5, 310, 5.25, 27, 28.0, 103, 7.80, 4.70),
    "DT": (75.0, 305, 5.05, 28, 29.5, 107, 7.60, 4.60), "EDGE": (76.0, 258, 4.70, 23, 33.5, 118, 7.10, 4.35),
    "LB": (73.8, 235, 4.65, 21, 34.0, 119, 7.05, 4.28), "CB": (71.5, 192, 4.47, 14, 37.0, 124, 6.95, 4.15),
    "S": (72.3, 205, 4.53, 16, 36.0, 122, 6.98, 4.18), "K": (72.0, 195, 4.95, 0, 30.0, 108, 7.30, 4.45),
    "P": (74.0, 215, 4.95, 0, 29.0, 106, 7.35, 4.50),
}
FIRST_NAMES = (
    "Aaron Adrian Aidan Alex Andre Anthony Antonio Austin Bijan Blake Brandon Brian Bryce Caleb "
    "Cameron Carlos Carter Chase Chris Christian Cole Connor Cooper Corey Dalton Damon Daniel Darius "
    "David Derek Devin Devon Dominic Drake Dylan Elijah Emeka Eric Ethan Evan Garrett Grant Isaiah "
    "Jabari Jack Jacob Jahmyr Jake Jalen Jamal James Jared Javon Jaylen Jayden Jermaine Jordan "
    "Joseph Josh Julian Justin Kadarius Kaleb Keenan Kevin Kyle Lamar Landon Logan Malik Marcus "
    "Mason Matthew Micah Michael Nathan Nick Nolan Omar Patrick Quentin Reggie Ryan Sam Shane "
    "Terrell Travis Trevor Tyler Tyrone Will Xavier Zach"
).split()
LAST_NAMES = (
    "Adams Allen Anderson Armstrong Bailey Baker Banks Barnes Bell Bennett Brooks Brown Bryant "
    "Butler Campbell Carter Clark Coleman Collins Cook Cooper Cox Crawford Davis Dixon Edwards Ellis "
    "Evans Fields Fisher Ford Foster Franklin Freeman Gibson Gordon Graham Grant Gray Green Griffin "
    "Hall Hamilton Harris Hayes Henderson Hill Holmes Howard Hughes Hunter Jackson James Jenkins "
    "Johnson Jones Jordan Kelly King Lewis Long Marshall Martin Mason Mitchell Moore Morgan Morris "
    "Murphy Myers Nelson Owens Parker Patterson Payne Perry Peterson Phillips Porter Powell Price "
    "Reed Reynolds Richardson Roberts Robinson Rogers Ross Russell Sanders Scott Simmons Simpson "
    "Smith Spencer Stewart Stokes Sullivan Taylor Thomas Thompson Tucker Turner Walker Wallace "
    "Ward Warren Washington Watson Webb Wells White Williams Wilson Wood Wright Young"
).split()
NFL_TEAMS = (
    "Arizona Cardinals,Atlanta Falcons,Baltimore Ravens,Buffalo Bills,Carolina Panthers,"
    "Chicago Bears,Cincinnati Bengals,Cleveland Browns,Dallas Cowboys,Denver Broncos,"
    "Detroit Lions,Green Bay Packers,Houston Texans,Indianapolis Colts,Jacksonville Jaguars,"
    "Kansas City Chiefs,Las Vegas Raiders,Los Angeles Chargers,Los Angeles Rams,Miami Dolphins,"
    "Minnesota Vikings,New England Patriots,New Orleans Saints,New York Giants,New York Jets,"
    "Philadelphia Eagles,Pittsburgh Steelers,San Francisco 49ers,Seattle Seahawks,"
    "Tampa Bay Buccaneers,Tennessee Titans,Washington Commanders"
).split(",")
INJURIES = ("Hamstring", "Ankle", "Knee", "Shoulder", "Foot", "Back", "Hip", "Groin", "Wrist")
ESPN_STATUSES = ("Questionable", "Doubtful", "Out", "Active")
# fmt: on

# ---- documented dirt ------------------------------------------------------------------------


@dataclass(frozen=True)
class Specimen:
    """A hand-made prospect that carries dirt; `names` overrides the display name per source."""

    key: str  # also the cfb_id stem: cfb_id = f"{key}-{year % 100}"
    first: str
    last: str
    pos: str  # canonical
    school: str  # SCHOOLS key
    ht: int  # inches
    wt: int
    names: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # position label per source


SPECIMENS: tuple[Specimen, ...] = (
    # name variants: D.J./DJ, Jr., III, apostrophes (straight and curly), accents
    Specimen(
        "dj-walker",
        "D.J.",
        "Walker",
        "RB",
        "ohio_state",
        70,
        214,
        {"cfr": "DJ Walker", "pff": "DJ Walker", "espn": "DJ Walker"},
        {},
    ),  # fmt: skip
    Specimen(
        "marcus-bell",
        "Marcus",
        "Bell Jr.",
        "WR",
        "miami_fl",
        73,
        196,
        {"cfr": "Marcus Bell", "yahoo": "Marcus Bell Jr", "espn": "Marcus Bell"},
        {},
    ),  # fmt: skip
    Specimen(
        "trey-holloway",
        "Trey",
        "Holloway III",
        "OT",
        "boston_college",
        78,
        318,
        {"pff": "Trey Holloway", "yahoo": "Trey Holloway", "espn": "Trey Holloway III"},
        {},
    ),  # fmt: skip
    Specimen(
        "keandre-oneal",
        "Ke'Andre",
        "O'Neal",
        "CB",
        "georgia",
        71,
        188,
        {"pff": "KeAndre ONeal", "yahoo": "Ke\u2019Andre O\u2019Neal"},
        {},
    ),  # fmt: skip
    Specimen(
        "jose-nunez",
        "Jos\u00e9",
        "N\u00fa\u00f1ez",
        "LB",
        "texas_am",
        74,
        236,
        {"pff": "Jose Nunez", "yahoo": "Jose Nunez", "espn": "Jos\u00e9 Nu\u00f1ez"},
        {},
    ),  # fmt: skip
    # position aliases across sources for one edge rusher (EDGE / OLB / DE / ED)
    Specimen(
        "tyrell-vance",
        "Tyrell",
        "Vance",
        "EDGE",
        "penn_state",
        76,
        255,
        {},
        {"nfl": "EDGE", "cfr": "OLB", "pff": "ED", "yahoo": "DE", "espn": "LB"},
    ),  # fmt: skip
    # listed twice in the combine file, at two positions (same cfb_id and pfr_id)
    Specimen(
        "darnell-pryor",
        "Darnell",
        "Pryor",
        "EDGE",
        "alabama",
        75,
        262,
        {},
        {"nfl": "OLB", "cfr": "DE", "pff": "ED", "yahoo": "DE", "espn": "DE"},
    ),  # fmt: skip
    # two different players with the same name (different school, position, ids)
    Specimen("chris-jones-a", "Chris", "Jones", "DT", "lsu", 75, 310),
    Specimen("chris-jones-b", "Chris", "Jones", "S", "utah", 72, 204),
    # measurements that disagree between the combine and Yahoo's roster listing
    Specimen("brandon-keel", "Brandon", "Keel", "WR", "clemson", 73, 205),
    # status changes across ESPN reports
    Specimen("isaiah-crowder", "Isaiah", "Crowder", "QB", "oklahoma", 75, 222),
    # NFL malformed rows: wrong field count, non-numeric bench, bad height
    Specimen("lamar-quinn", "Lamar", "Quinn", "S", "iowa", 72, 207),
    Specimen("devon-ashby", "Devon", "Ashby", "DT", "wisconsin", 75, 301),
    Specimen("grant-hollis", "Grant", "Hollis", "TE", "florida_state", 77, 249),
    # exact duplicate rows (NFL and PFF), and a CFR row with a field missing
    Specimen("omar-fenwick", "Omar", "Fenwick", "CB", "usc", 71, 191),
    Specimen("kyle-brandt", "Kyle", "Brandt", "RB", "pittsburgh", 69, 205),
)
SPECIMEN_POSITIONS = tuple(40 + 150 * i for i in range(len(SPECIMENS)))  # pool indices
SAME_NAME = ("chris-jones-a", "chris-jones-b")
_SPECIMEN_KEYS = frozenset(spec.key for spec in SPECIMENS)
TWO_POSITIONS = ("darnell-pryor", ("OLB", "DE"))  # combine: two rows, these positions
MEASUREMENT_CONFLICT = ("brandon-keel", {"nfl": ("6-1", "205"), "yahoo": ("6' 3\"", "221")})
ESPN_STATUS_HISTORY = (  # (days after Feb 20 of the draft year, status)
    "isaiah-crowder",
    ((0, "Questionable"), (7, "Out"), (14, "Doubtful"), (28, "Active")),
)
NFL_WRONG_FIELD_COUNT = ("lamar-quinn", "Texas A&M, Commerce")  # school with an unquoted comma
NFL_NON_NUMERIC = ("devon-ashby", "bench", "DNP")
NFL_BAD_HEIGHT = ("grant-hollis", "6-13")
NFL_DUPLICATE = "omar-fenwick"
PFF_DUPLICATE = "omar-fenwick"
CFR_WRONG_FIELD_COUNT = "kyle-brandt"  # the trailing Player-additional cell is missing
YAHOO_NON_NUMERIC = ("kyle-brandt", "rush_yds", "--")
BOM_CRLF_SOURCE = "pff"  # the PFF export is UTF-8 with BOM and CRLF line ends

# ---- the pool -------------------------------------------------------------------------------


@dataclass
class Prospect:
    key: str  # specimen key or generated id
    cfb_id: str
    first: str
    last: str
    pos: str
    school: str
    ht: int
    wt: int
    drills: dict[str, float | None]
    grade: float  # latent draft value, 0..100
    labels: dict[str, str]
    names: dict[str, str]
    sources: set[str]
    pff_id: str
    yahoo_id: str
    espn_id: str

    def name(self, source: str) -> str:
        return self.names.get(source, f"{self.first} {self.last}")


def slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower().replace("'", "").replace(".", "")).strip("-")


def _drills(rng: random.Random, pos: str) -> dict[str, float | None]:
    _, _, forty, bench, vert, broad, cone, shuttle = MEASURE_MEANS[pos]
    raw = {
        "forty": round(rng.gauss(forty, 0.12), 2),
        "bench": max(5, round(rng.gauss(bench, 4))) if bench else None,
        "vertical": round(rng.gauss(vert, 2.5) * 2) / 2,
        "broad_jump": round(rng.gauss(broad, 5)),
        "cone": round(rng.gauss(cone, 0.18), 2),
        "shuttle": round(rng.gauss(shuttle, 0.12), 2),
    }
    # Many prospects skip drills (injury, pro day); some do none at all.
    skip_all = rng.random() < 0.12
    return {
        k: (None if skip_all or v is None or rng.random() < 0.25 else v) for k, v in raw.items()
    }


def build_pool(year: int, seed: int = SEED) -> list[Prospect]:
    rng = random.Random(seed * 10_000 + year)
    positions = list(POSITIONS)
    cum_weights = list(itertools.accumulate(POSITIONS[p][0] for p in positions))
    schools = list(SCHOOLS)
    used = {(s.first, s.last) for s in SPECIMENS}
    n_generated = PROSPECTS_PER_YEAR - len(SPECIMENS)
    pool: list[Prospect] = []
    for i in range(n_generated):
        while True:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            # A generated player never takes a specimen's cfb_id stem (marcus-bell-22 is the
            # specimen Marcus Bell Jr.'s): ids are unique within a class, as in nflverse.
            if (first, last) not in used and f"{slug(first)}-{slug(last)}" not in _SPECIMEN_KEYS:
                used.add((first, last))
                break
        pos = rng.choices(positions, cum_weights=cum_weights)[0]
        means = MEASURE_MEANS[pos]
        labels = {src: rng.choice(opts) for src, opts in POSITIONS[pos][1].items()}
        sources = {src for src, share in SOURCE_COVERAGE.items() if rng.random() < share}
        if pos in ("K", "P"):
            sources.discard("pff")
        pool.append(
            Prospect(
                key=f"g{i}",
                cfb_id=f"{slug(first)}-{slug(last)}-{year % 100}",
                first=first,
                last=last,
                pos=pos,
                school=rng.choice(schools),
                ht=round(rng.gauss(means[0], 1.6)),
                wt=round(rng.gauss(means[1], 9)),
                drills=_drills(rng, pos),
                grade=rng.random() * 100,
                labels=labels,
                names={},
                sources=sources,
                pff_id="",
                yahoo_id="",
                espn_id="",
            )
        )
    for spec, at in zip(SPECIMENS, SPECIMEN_POSITIONS, strict=True):
        labels = {src: opts[0] for src, opts in POSITIONS[spec.pos][1].items()} | spec.labels
        prospect = Prospect(
            key=spec.key,
            cfb_id=f"{spec.key}-{year % 100}",
            first=spec.first,
            last=spec.last,
            pos=spec.pos,
            school=spec.school,
            ht=spec.ht,
            wt=spec.wt,
            drills=_drills(rng, spec.pos),
            grade=90.0,  # drafted, so pfr_id and draft columns are set in drafted years
            labels=labels,
            names=dict(spec.names),
            sources=set(SOURCES),
            pff_id="",
            yahoo_id="",
            espn_id="",
        )
        pool.insert(at, prospect)
    for n, p in enumerate(pool):
        p.pff_id = str(year * 100_000 + 10_000 + n)[2:]
        p.yahoo_id = f"ncaaf.p.{(year % 100) * 100_000 + n}"
        p.espn_id = str(4_000_000 + (year % 100) * 20_000 + n)
    return pool


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
