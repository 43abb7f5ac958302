"""Reference data for reconciling the prospects sources, and the normalizers that use it.

- `name_key`: a person's name as a matching key (case, accents, punctuation, suffixes).
- `SCHOOL_TABLE` / `school_key`: every spelling of a school (PFR/NFL, CFR, PFF team codes,
  Yahoo, ESPN display names with mascots) to one canonical name. Written by hand, not
  derived from the sample generator: a real deployment extends it (or passes aliases to
  `reconcile`) when a new spelling shows up.
- `canonical_position` / `position_family`: the sources' position labels to one set.

Every function here is pure and total: an unknown school or label comes back cleaned,
never as an exception.
"""

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

# ---- names ----------------------------------------------------------------------------------

NAME_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "v"})
_APOSTROPHES_AND_PERIODS = str.maketrans("", "", "'\u2019\u2018.")
_NAME_SEPARATORS = re.compile(r"[-,\s]+")


def _fold(text: str) -> str:
    """Accents stripped (NFKD without combining marks), then casefolded."""
    if text.isascii():  # nothing to decompose or strip: most names and schools
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@lru_cache(maxsize=65_536)
def name_key(name: str | None) -> str:
    """A person's name as a matching key: casefolded, accents stripped, apostrophes (straight
    and curly) and periods removed, hyphens and commas as spaces, whitespace collapsed, and
    generational suffixes (jr, sr, ii, iii, iv, v) dropped as tokens after the first.
    "D.J. Walker" -> "dj walker", "Marcus Bell Jr." -> "marcus bell",
    "Ke’Andre O'Neal" -> "keandre oneal", "José Núñez" -> "jose nunez"; None -> ""."""
    if not name:
        return ""
    tokens = _NAME_SEPARATORS.split(_fold(name).translate(_APOSTROPHES_AND_PERIODS))
    tokens = [t for t in tokens if t]
    # the first token is never a suffix: a player called "V" keeps his name
    return " ".join(tokens[:1] + [t for t in tokens[1:] if t not in NAME_SUFFIXES])


# ---- schools --------------------------------------------------------------------------------

# (canonical name, mascot, other spellings). Every spelling, and every spelling followed by
# the mascot (ESPN's display names: "Ohio State Buckeyes", "Miami Hurricanes"), maps to the
# canonical name. Spellings: PFR/NFL ("Ohio St.", "Boston Col.", "Mississippi"), CFR
# ("Pitt", "UCF", "NC State"), PFF team codes ("OHST", "BAMA", "TXAM"), Yahoo short names.
# Codes that stand for two schools (OSU, MSU for Mississippi State) are left out on purpose.
# fmt: off
SCHOOL_TABLE: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Air Force", "Falcons", ("AF", "AFA")),
    ("Akron", "Zips", ("AKR",)),
    ("Alabama", "Crimson Tide", ("BAMA", "ALA")),
    ("Appalachian State", "Mountaineers", ("Appalachian St.", "App State", "APP")),
    ("Arizona", "Wildcats", ("ARIZ",)),
    ("Arizona State", "Sun Devils", ("Arizona St.", "ASU")),
    ("Arkansas", "Razorbacks", ("ARK",)),
    ("Arkansas State", "Red Wolves", ("Arkansas St.", "ARST")),
    ("Army", "Black Knights", ("ARMY",)),
    ("Auburn", "Tigers", ("AUB",)),
    ("Ball State", "Cardinals", ("Ball St.", "BALL")),
    ("Baylor", "Bears", ("BAY",)),
    ("Boise State", "Broncos", ("Boise St.", "BOISE")),
    ("Boston College", "Eagles", ("Boston Col.", "BC")),
    ("Bowling Green", "Falcons", ("Bowling Green St.", "BGSU")),
    ("Buffalo", "Bulls", ("BUFF",)),
    ("BYU", "Cougars", ("Brigham Young",)),
    ("California", "Golden Bears", ("Cal", "CAL")),
    ("Central Michigan", "Chippewas", ("Central Mich.", "CMU")),
    ("Charlotte", "49ers", ("CHAR",)),
    ("Cincinnati", "Bearcats", ("CIN",)),
    ("Clemson", "Tigers", ("CLEM",)),
    ("Coastal Carolina", "Chanticleers", ("CCU",)),
    ("Colorado", "Buffaloes", ("COLO",)),
    ("Colorado State", "Rams", ("Colorado St.", "CSU")),
    ("Duke", "Blue Devils", ("DUKE",)),
    ("East Carolina", "Pirates", ("ECU",)),
    ("Eastern Michigan", "Eagles", ("Eastern Mich.", "EMU")),
    ("FIU", "Panthers", ("Florida International", "Florida Intl.")),
    ("Florida", "Gators", ("FLA",)),
    ("Florida Atlantic", "Owls", ("FAU",)),
    ("Florida State", "Seminoles", ("Florida St.", "FSU")),
    ("Fresno State", "Bulldogs", ("Fresno St.", "FRES")),
    ("Georgia", "Bulldogs", ("UGA",)),
    ("Georgia Southern", "Eagles", ("Ga. Southern", "GASO")),
    ("Georgia State", "Panthers", ("Georgia St.", "GAST")),
    ("Georgia Tech", "Yellow Jackets", ("GT",)),
    ("Hawaii", "Rainbow Warriors", ("Hawai'i", "HAW")),
    ("Houston", "Cougars", ("HOU",)),
    ("Illinois", "Fighting Illini", ("ILL",)),
    ("Indiana", "Hoosiers", ("IND",)),
    ("Iowa", "Hawkeyes", ("IOWA",)),
    ("Iowa State", "Cyclones", ("Iowa St.", "ISU")),
    ("James Madison", "Dukes", ("JMU",)),
    ("Kansas", "Jayhawks", ("KU",)),
    ("Kansas State", "Wildcats", ("Kansas St.", "KSU")),
    ("Kent State", "Golden Flashes", ("Kent St.", "KENT")),
    ("Kentucky", "Wildcats", ("UK", "UKY")),
    ("Liberty", "Flames", ("LIB",)),
    ("Louisiana", "Ragin' Cajuns", ("Louisiana-Lafayette", "UL Lafayette", "ULL")),
    ("Louisiana Tech", "Bulldogs", ("La. Tech", "LT")),
    ("Louisville", "Cardinals", ("LOU",)),
    ("LSU", "Tigers", ("Louisiana St.", "Louisiana State")),
    ("Marshall", "Thundering Herd", ("MRSH",)),
    ("Maryland", "Terrapins", ("MD",)),
    ("Memphis", "Tigers", ("MEM",)),
    ("Miami (FL)", "Hurricanes", ("Miami", "Miami FL", "Miami (Fla.)", "MIAMI")),
    ("Miami (OH)", "RedHawks", ("Miami OH", "Miami (Ohio)", "MIAOH")),
    ("Michigan", "Wolverines", ("MICH",)),
    ("Michigan State", "Spartans", ("Michigan St.", "MIST")),
    ("Middle Tennessee", "Blue Raiders", ("Middle Tennessee St.", "Middle Tenn. St.", "MTSU")),
    ("Minnesota", "Golden Gophers", ("MINN",)),
    ("Mississippi State", "Bulldogs", ("Mississippi St.", "MSST")),
    ("Missouri", "Tigers", ("Mizzou", "MIZZ")),
    ("Navy", "Midshipmen", ("NAVY",)),
    ("NC State", "Wolfpack", ("North Carolina St.", "North Carolina State", "NCST")),
    ("Nebraska", "Cornhuskers", ("NEB",)),
    ("Nevada", "Wolf Pack", ("NEV",)),
    ("New Mexico", "Lobos", ("UNM",)),
    ("New Mexico State", "Aggies", ("New Mexico St.", "NMSU")),
    ("North Carolina", "Tar Heels", ("UNC",)),
    ("North Dakota State", "Bison", ("North Dakota St.", "NDST")),
    ("North Texas", "Mean Green", ("UNT",)),
    ("Northern Illinois", "Huskies", ("NIU",)),
    ("Northwestern", "Wildcats", ("NW", "NWU")),
    ("Notre Dame", "Fighting Irish", ("ND",)),
    ("Ohio", "Bobcats", ("OHIO",)),
    ("Ohio State", "Buckeyes", ("Ohio St.", "OHST")),
    ("Oklahoma", "Sooners", ("OKLA",)),
    ("Oklahoma State", "Cowboys", ("Oklahoma St.", "OKST")),
    ("Old Dominion", "Monarchs", ("ODU",)),
    ("Ole Miss", "Rebels", ("Mississippi", "MISS")),
    ("Oregon", "Ducks", ("ORE",)),
    ("Oregon State", "Beavers", ("Oregon St.", "ORST")),
    ("Penn State", "Nittany Lions", ("Penn St.", "PSU")),
    ("Pittsburgh", "Panthers", ("Pitt", "PITT")),
    ("Purdue", "Boilermakers", ("PUR",)),
    ("Rice", "Owls", ("RICE",)),
    ("Rutgers", "Scarlet Knights", ("RUTG",)),
    ("San Diego State", "Aztecs", ("San Diego St.", "SDSU")),
    ("San Jose State", "Spartans", ("San Jose St.", "San José State", "SJSU")),
    ("SMU", "Mustangs", ("Southern Methodist",)),
    ("South Alabama", "Jaguars", ("S. Alabama", "USAL")),
    ("South Carolina", "Gamecocks", ("SC", "SCAR")),
    ("South Florida", "Bulls", ("USF",)),
    ("Southern Miss", "Golden Eagles", ("Southern Mississippi", "USM")),
    ("Stanford", "Cardinal", ("STAN",)),
    ("Syracuse", "Orange", ("SYR",)),
    ("TCU", "Horned Frogs", ("Texas Christian",)),
    ("Temple", "Owls", ("TEM",)),
    ("Tennessee", "Volunteers", ("TENN",)),
    ("Texas", "Longhorns", ("TEX",)),
    ("Texas A&M", "Aggies", ("TXAM", "TAMU")),
    ("Texas State", "Bobcats", ("Texas St.", "TXST")),
    ("Texas Tech", "Red Raiders", ("TTU",)),
    ("Toledo", "Rockets", ("TOL",)),
    ("Troy", "Trojans", ("TROY",)),
    ("Tulane", "Green Wave", ("TULN",)),
    ("Tulsa", "Golden Hurricane", ("TLSA",)),
    ("UAB", "Blazers", ("Alabama-Birmingham",)),
    ("UCF", "Knights", ("Central Florida",)),
    ("UCLA", "Bruins", ()),
    ("UConn", "Huskies", ("Connecticut", "CONN")),
    ("ULM", "Warhawks", ("Louisiana-Monroe", "UL Monroe")),
    ("UMass", "Minutemen", ("Massachusetts",)),
    ("UNLV", "Rebels", ("Nevada-Las Vegas",)),
    ("USC", "Trojans", ("Southern California",)),
    ("Utah", "Utes", ("UTAH",)),
    ("Utah State", "Aggies", ("Utah St.", "USU")),
    ("UTEP", "Miners", ("Texas-El Paso",)),
    ("UTSA", "Roadrunners", ("Texas-San Antonio",)),
    ("Vanderbilt", "Commodores", ("VANDY", "VAN")),
    ("Virginia", "Cavaliers", ("UVA",)),
    ("Virginia Tech", "Hokies", ("VT",)),
    ("Wake Forest", "Demon Deacons", ("WAKE",)),
    ("Washington", "Huskies", ("WASH",)),
    ("Washington State", "Cougars", ("Washington St.", "WSU")),
    ("West Virginia", "Mountaineers", ("WVU",)),
    ("Western Kentucky", "Hilltoppers", ("WKU",)),
    ("Western Michigan", "Broncos", ("Western Mich.", "WMU")),
    ("Wisconsin", "Badgers", ("WISC",)),
    ("Wyoming", "Cowboys", ("WYO",)),
)
# fmt: on

_SCHOOL_SEPARATORS = re.compile(r"[^\w&]+")
_SPACED_AMPERSAND = re.compile(r"\s*&\s*")


def clean_school(text: str | None) -> str:
    """A school spelling as compared: accents stripped, casefolded, apostrophes and periods
    removed, "&" kept (without spaces around it), other punctuation as spaces, whitespace
    collapsed. "Miami (FL)" -> "miami fl", "Texas A & M" -> "texas a&m"; None -> ""."""
    if not text:
        return ""
    folded = _fold(text).translate(_APOSTROPHES_AND_PERIODS).replace("_", " ")
    spaced = _SCHOOL_SEPARATORS.sub(" ", folded).strip()
    return _SPACED_AMPERSAND.sub("&", spaced)


def _school_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for canonical, mascot, spellings in SCHOOL_TABLE:
        for spelling in (canonical, *spellings):
            for text in (spelling, f"{spelling} {mascot}"):
                key = clean_school(text)
                if lookup.setdefault(key, canonical) != canonical:
                    raise ValueError(
                        f"school spelling {text!r} maps to both {lookup[key]!r} and {canonical!r}"
                    )
    return lookup


SCHOOL_ALIASES: dict[str, str] = _school_lookup()  # cleaned spelling -> canonical name


def school_aliases(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The lookup (cleaned spelling -> canonical name) with `extra` spellings merged over the
    built-in table; each extra canonical name is also a spelling of itself."""
    lookup = dict(SCHOOL_ALIASES)
    extra = dict(extra or {})
    lookup |= {clean_school(canonical): canonical for canonical in extra.values()}
    lookup |= {clean_school(spelling): canonical for spelling, canonical in extra.items()}
    return lookup


def school_key(text: str | None, aliases: Mapping[str, str] | None = None) -> str | None:
    """The canonical name of a school spelling ("Ohio St.", "OHST", "Ohio State Buckeyes" ->
    "Ohio State"), or the cleaned text when the spelling is unknown; None for a missing
    school. `aliases` is a lookup from `school_aliases()` (default: the built-in table)."""
    if text is None:
        return None
    cleaned = clean_school(text)
    if not cleaned:
        return None
    return (SCHOOL_ALIASES if aliases is None else aliases).get(cleaned, cleaned)


# ---- positions ------------------------------------------------------------------------------

# Label (upper case) -> canonical position. OL, DL and DB are generic: a source that only
# says "DB" knows the family, not whether he is a corner or a safety.
POSITION_LABELS: dict[str, str] = {
    "QB": "QB",
    "RB": "RB", "HB": "RB", "FB": "RB",
    "WR": "WR",
    "TE": "TE",
    "OT": "OT", "T": "OT", "LT": "OT", "RT": "OT",
    "IOL": "IOL", "OG": "IOL", "G": "IOL", "C": "IOL", "LG": "IOL", "RG": "IOL", "OC": "IOL",
    "OL": "OL",
    "DT": "DT", "DI": "DT", "NT": "DT",
    "DL": "DL",
    "EDGE": "EDGE", "ED": "EDGE", "DE": "EDGE", "OLB": "EDGE",
    "LB": "LB", "ILB": "LB", "MLB": "LB",
    "CB": "CB",
    "S": "S", "SAF": "S", "FS": "S", "SS": "S",
    "DB": "DB",
    "K": "K", "PK": "K",
    "P": "P",
    "LS": "LS",  # long snappers: real combine classes have a few every year
    "ATH": "ATH",  # an athlete without a position yet (recruiting and draft listings)
}  # fmt: skip
# Labels that mean something else in one source take precedence here, per source. None
# known yet: every sample label means the same in every source.
SOURCE_POSITION_LABELS: dict[str, dict[str, str]] = {}
POSITION_FAMILIES: dict[str, str] = {
    "QB": "QB",
    "RB": "RB",
    "WR": "WR",
    "TE": "TE",
    "OT": "OL", "IOL": "OL", "OL": "OL",
    "DT": "FRONT", "EDGE": "FRONT", "LB": "FRONT", "DL": "FRONT",
    "CB": "DB", "S": "DB", "DB": "DB",
    "K": "ST", "P": "ST", "LS": "ST",
    "ATH": "ATH",
}  # fmt: skip
# Positions that name a group, not a spot: another source's specific position wins.
GENERIC_POSITIONS = frozenset({"OL", "DL", "DB", "ATH"})
# Each source's vocabulary, where one of its labels stands for more than one canonical
# position because the source has no word for the finer one: ESPN and Yahoo list edge
# rushers (3-4 outside linebackers among them) as LB. Their LB agrees with EDGE or LB
# elsewhere, so P-Q02 compares what the sources can say, not their vocabularies.
SOURCE_COARSE_POSITIONS: dict[str, dict[str, frozenset[str]]] = {
    "espn": {"LB": frozenset({"LB", "EDGE"})},
    "yahoo": {"LB": frozenset({"LB", "EDGE"})},
}


def canonical_position(source: str, label: str | None) -> str | None:
    """One of QB RB WR TE OT IOL OL DT EDGE LB DL CB S DB K P LS ATH for a source's position
    label ("HB"/"FB" -> RB, "G"/"LG" -> IOL, "LT" -> OT, "ED"/"OLB"/"DE" -> EDGE, "SAF" -> S,
    "PK" -> K); an unknown
    label comes back upper-cased, a missing one as None."""
    if label is None:
        return None
    upper = label.strip().upper()
    if not upper:
        return None
    own = SOURCE_POSITION_LABELS.get(source, {})
    return own.get(upper) or POSITION_LABELS.get(upper, upper)


def position_family(position: str | None) -> str | None:
    """QB, RB, WR, TE, OL (OT IOL OL), FRONT (DT EDGE LB DL), DB (CB S DB), ST (K P LS), ATH
    for a canonical position; an unknown position is its own family; None stays None."""
    if position is None:
        return None
    return POSITION_FAMILIES.get(position, position.upper())


def position_candidates(source: str, position: str) -> frozenset[str]:
    """The canonical positions a source's (canonical) position can mean: itself; every
    position of its family for a generic one (any position for ATH); the source's coarse
    labels their set."""
    if position == "ATH":
        return frozenset(POSITION_FAMILIES) | {position}
    if position in GENERIC_POSITIONS:
        family = position_family(position)
        return frozenset(p for p, f in POSITION_FAMILIES.items() if f == family)
    return SOURCE_COARSE_POSITIONS.get(source, {}).get(position, frozenset({position}))


def positions_disagree(pairs: list[tuple[str, str]]) -> bool:
    """Whether (source, position) pairs cannot all be one position: no canonical position
    is a candidate of every pair ("DB" and "CB" agree, "DB" and "EDGE" do not; ESPN's "LB"
    and NFL.com's "EDGE" agree)."""
    common: frozenset[str] | None = None
    for source, position in pairs:
        candidates = position_candidates(source, position)
        common = candidates if common is None else common & candidates
        if not common:
            return True
    return False
