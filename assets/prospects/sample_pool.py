"""The prospects the sample files describe, before any file layout: each draft year's pool
(`build_pool`: PROSPECTS_PER_YEAR prospects from `random.Random(seed * 10_000 + year)`, of
which each source lists a share, SOURCE_COVERAGE), the reference tables it draws from
(schools as each source spells them, positions and their labels per source, measurement
means, names) and the hand-made dirt specimens (SPECIMENS) with the dirt each carries.
`assets.prospects.sample_data` writes the pool out in the sources' real layouts."""

import itertools
import random
import re
import unicodedata
from dataclasses import dataclass, field

from assets.prospects.wire_formats import SOURCES

SEED = 20210429
PROSPECTS_PER_YEAR = 3000
# Share of the pool each source lists (specimens are always listed).
SOURCE_COVERAGE = {"nfl": 0.45, "cfr": 0.8, "pff": 0.7, "yahoo": 0.75, "espn": 0.1}

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
