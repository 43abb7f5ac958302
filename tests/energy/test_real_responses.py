"""The energy clients and assets on real recorded API answers (tests/data/real/energy; origin,
commit and licence of each file in tests/data/real/NOTICE).

The local server of tests/fakes/energy_api.py answers the real routes on 127.0.0.1 with the
recorded bodies, scripted one per request (`Fault.raw`), and every test counts the requests
it expected, so no generated sample answer is ever mixed in. The recordings answered wider
requests than ours (EIA: the whole history of RNGC1, 5,000 of 7,592 rows; FRED: every
quarter of GDP since 1946; Yahoo: AAPL from 2020-08-31 to 2020-11-06), so the clients get
dates outside the window they asked for and must cut it themselves. Nothing after EIA's
first page was recorded: the page at offset 5000 is the recorded document with no rows.

The recordings are for series we do not configure (RNGC1, GDP, AAPL, GC=F): the Dagster
runs configure them in a settings file (commodities and endpoints), loaded the way
`headwater` loads its own.
"""

import gzip
import json
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
import yaml

from assets.energy import assets as energy_assets
from assets.energy import wire_formats as wf
from assets.energy.assets import commodity_prices, staging_assets, staging_key
from assets.energy.config import DEFAULT_COMMODITIES, load_energy_config
from assets.energy.definitions import energy_source_resources
from assets.energy.rules import apply_record_rules
from assets.energy.sources import EIAResource, FREDResource, YahooFinanceResource
from headwater.cli.runs import RANGE_END_TAG, RANGE_START_TAG
from resources.http import SourceError
from resources.warehouse import DuckDBWarehouse
from tests.fakes.energy_api import FakeEnergyAPI, Fault

REAL = Path(__file__).resolve().parents[1] / "data" / "real" / "energy"
EIA_FACET = "natural-gas-pri-fut_RNGC1_daily_series.json.gz"  # total and values as strings
EIA_SERIES_ID = "NG.RNGC1.D_2020-01-01_2024-02-01.json.gz"  # total and values as numbers
EIA_ROUTE = "natural-gas/pri/fut"
EIA_PATH = f"/v2/{EIA_ROUTE}/data/"
FRED_PATH = "/fred/series/observations"
YAHOO_AAPL = "chart-AAPL-2020-08-31-to-2020-11-07.json"
YAHOO_GOLD = "chart-GC=F-2020-01-01-to-2020-01-03.json"
YAHOO_NO_BARS = "chart-AAPL-2025-02-01-to-2025-02-02-includePrePost-false-interval-1m.json"
FAST = {"backoff_s": 0.01, "max_retries": 0, "timeout_s": 10.0}

SEP, NOV = date(2020, 9, 1), date(2020, 11, 1)
JANUARY = (date(2020, 1, 1), date(2020, 2, 1))


# ---- the recordings -----------------------------------------------------------------------------


def eia_bytes(name: str) -> bytes:
    """The recorded EIA body, byte for byte (stored gzip-compressed)."""
    return gzip.decompress((REAL / "eia" / name).read_bytes())


def eia_later_page(name: str) -> bytes:
    """What the server answers after the recorded page: the same document without rows."""
    body = json.loads(eia_bytes(name))
    body["response"]["data"] = []
    return wf.dumps(body)


def fred_bodies() -> list[bytes]:
    """The bodies of the recorded `series/observations?series_id=GDP` answers (a vcrpy
    cassette: four interactions, recorded 2024-11-03 twice and 2025-01-20 twice)."""
    cassette = yaml.safe_load((REAL / "fred" / "test_get_series[json].yaml").read_text())
    return [i["response"]["body"]["string"].encode() for i in cassette["interactions"]]


def yahoo_body(name: str) -> dict:
    """A recorded chart answer (yahoo-finance2 keeps the body as parsed JSON, `bodyJson`)."""
    return json.loads((REAL / "yahoo" / name).read_text())["response"]["bodyJson"]


def rows_in_window(observations, start: date, end: date) -> list[tuple[str, float]]:
    """(date, value) of the recorded rows in [start, end), computed without our parsers."""
    return sorted(
        (day, float(value))
        for day, value in observations
        if start.isoformat() <= day < end.isoformat()
    )


def eia_expected(name: str, start: date, end: date) -> list[tuple[str, float]]:
    data = json.loads(eia_bytes(name))["response"]["data"]
    return rows_in_window([(r["period"], r["value"]) for r in data], start, end)


def test_recordings_are_what_the_notice_says():
    """What real answers look like: EIA's facet route sends `total` and values as strings,
    its series-id route as numbers, for the same 5,000 rows; FRED sends "." for a missing
    value; Yahoo stamps an equity's bars at the open and a future's at midnight, New York."""
    facet, by_id = (json.loads(eia_bytes(name))["response"] for name in (EIA_FACET, EIA_SERIES_ID))
    assert (facet["total"], by_id["total"]) == ("7592", 7592)
    assert len(facet["data"]) == len(by_id["data"]) == 5000  # a first page of 7,592 rows
    assert {type(r["value"]) for r in facet["data"]} == {str}
    assert {type(r["value"]) for r in by_id["data"]} == {int, float}
    assert [(r["period"], float(r["value"])) for r in facet["data"]] == [
        (r["period"], float(r["value"])) for r in by_id["data"]
    ]
    assert facet["data"][0]["period"] == "2024-04-05"  # newest first, as myeia asked

    for body in fred_bodies():
        doc = json.loads(body)
        assert doc["count"] == len(doc["observations"]) == 315
        missing = [o["date"] for o in doc["observations"] if o["value"] == "."]
        assert missing == ["1946-01-01", "1946-04-01", "1946-07-01", "1946-10-01"]

    aapl = yahoo_body(YAHOO_AAPL)["chart"]["result"][0]
    assert len(aapl["timestamp"]) == 49 and aapl["timestamp"][0] == 1598880600  # 09:30 EDT
    gold = yahoo_body(YAHOO_GOLD)["chart"]["result"][0]
    assert gold["meta"]["symbol"] == "GC=F" and gold["timestamp"] == [1577941200]  # 00:00 EST
    assert "timestamp" not in yahoo_body(YAHOO_NO_BARS)["chart"]["result"][0]


# ---- the live clients against the recorded answers ------------------------------------------------


@pytest.fixture
def api():
    # `through` barely matters: every answer these tests expect is scripted.
    with FakeEnergyAPI(through=date(2015, 1, 31)) as server:
        yield server


def live(api, resource):
    if resource is EIAResource:
        return EIAResource(mode="live", api_key=api.eia_key, base_url=api.eia_url, **FAST)
    if resource is FREDResource:
        return FREDResource(mode="live", api_key=api.fred_key, base_url=api.fred_url, **FAST)
    return YahooFinanceResource(mode="live", base_url=api.yahoo_url, **FAST)


@pytest.mark.parametrize("name", [EIA_FACET, EIA_SERIES_ID])
def test_eia_client_reads_string_and_numeric_answers_alike(api, name):
    api.script(EIA_PATH, Fault.raw(200, eia_bytes(name)), Fault.raw(200, eia_later_page(name)))
    obs = live(api, EIAResource).fetch("RNGC1", SEP, NOV, route=EIA_ROUTE)
    assert [r.param("offset") for r in api.requests_to(EIA_PATH)] == ["0", "5000"]
    assert len(api.requests) == 2
    # The answer spans 2004-2024: only the window's rows are returned, as text.
    expected = eia_expected(EIA_FACET, SEP, NOV)
    assert len(expected) == 43
    assert sorted((o.date, float(o.value)) for o in obs) == expected
    assert all(isinstance(o.value, str) and o.series_id == "RNGC1" for o in obs)


def test_fred_client_passes_dots_through_and_the_rules_quarantine_them(api):
    gdp = DEFAULT_COMMODITIES["NATGAS"].model_copy(
        update={"fred": "GDP", "min_price": 0.0, "max_price": 100_000.0}
    )
    windows = {(date(1946, 1, 1), date(1947, 1, 1)): 4, (date(2020, 1, 1), date(2021, 1, 1)): 4}
    api.script(FRED_PATH, *[Fault.raw(200, fred_bodies()[0])] * len(windows))
    fetched = {w: live(api, FREDResource).fetch("GDP", *w) for w in windows}
    assert len(api.requests_to(FRED_PATH)) == len(api.requests) == 2  # count == rows: one page
    assert {w: len(obs) for w, obs in fetched.items()} == windows

    rows, rejected = apply_record_rules(
        fetched[date(1946, 1, 1), date(1947, 1, 1)],
        {"GDP": "GDP"},
        {"GDP": gdp},
        window=(date(1946, 1, 1), date(1947, 1, 1)),
    )
    assert rows.empty
    assert [(r.rule_id, r.reason, day) for r, day in rejected][0] == (
        "E-R03",
        "fred GDP: value missing ('.') on 1946-01-01",
        date(1946, 1, 1),
    )
    assert {r.rule_id for r, _ in rejected} == {"E-R03"} and len(rejected) == 4

    recent = fetched[date(2020, 1, 1), date(2021, 1, 1)]
    assert [(o.date, o.value, o.vintage) for o in recent][2] == (
        "2020-07-01",
        "21684.551",
        "2024-10-30",
    )


def test_yahoo_client_reads_a_future_an_equity_and_an_answer_without_bars(api):
    api.script(
        "/v8/finance/chart/",
        Fault.raw(200, wf.dumps(yahoo_body(YAHOO_GOLD))),
        Fault.raw(200, wf.dumps(yahoo_body(YAHOO_AAPL))),
        Fault.raw(200, wf.dumps(yahoo_body(YAHOO_NO_BARS))),
    )
    yahoo = live(api, YahooFinanceResource)
    [gold] = yahoo.fetch("GC=F", date(2020, 1, 1), date(2020, 1, 3))
    assert (gold.series_id, gold.date, gold.value) == ("GC=F", "2020-01-02", "1524.5")
    aapl = yahoo.fetch("AAPL", SEP, NOV)
    assert len(aapl) == 43 and aapl[0].date == "2020-09-01" and aapl[-1].date == "2020-10-30"
    assert yahoo.fetch("AAPL", date(2025, 2, 1), date(2025, 2, 3)) == []
    assert [r.path for r in api.requests] == [
        "/v8/finance/chart/GC=F",
        "/v8/finance/chart/AAPL",
        "/v8/finance/chart/AAPL",
    ]


def test_an_answer_for_another_series_is_quarantined_not_loaded(api):
    """Asked for our series, a server answers with another one's: EIA's rows and Yahoo's
    meta name their series, so every record is quarantined under E-R01 with its reason."""
    api.script(
        EIA_PATH, Fault.raw(200, eia_bytes(EIA_FACET)), Fault.raw(200, eia_later_page(EIA_FACET))
    )
    api.script("/v8/finance/chart/", Fault.raw(200, wf.dumps(yahoo_body(YAHOO_GOLD))))
    ours = dict(DEFAULT_COMMODITIES)
    for resource, series, window, n in (
        (EIAResource, "RNGWHHD", (SEP, NOV), 43),
        (YahooFinanceResource, "NG=F", JANUARY, 1),
    ):
        obs = live(api, resource).fetch(series, *window)
        source = obs[0].source
        series_map = {c.series_id(source): name for name, c in ours.items()}
        rows, rejected = apply_record_rules(obs, series_map, ours, window=window)
        assert rows.empty and len(rejected) == len(obs) == n
        other = "RNGC1" if source == "eia" else "GC=F"
        assert {(r.rule_id, r.reason) for r, _ in rejected} == {
            ("E-R01", f"{source} {other}: series {other!r} is not configured")
        }
    assert len(api.requests) == 3


WRONG_KIND = {
    "fred-at-eia": (
        EIA_PATH,
        "fred",
        EIAResource,
        "EIA v2 response: expected an object at 'response'",
    ),
    "eia-at-fred": (
        FRED_PATH,
        "eia",
        FREDResource,
        "FRED observations: expected a list at 'observations'",
    ),
    "eia-at-yahoo": (
        "/v8/finance/chart/",
        "eia",
        YahooFinanceResource,
        "Yahoo chart response: expected an object at 'chart'",
    ),
}


@pytest.mark.parametrize(
    ("path", "recorded", "resource", "detail"), WRONG_KIND.values(), ids=list(WRONG_KIND)
)
def test_a_real_answer_of_the_wrong_kind_fails_in_one_line(api, path, recorded, resource, detail):
    """One source's real answer at another's route: one line naming the source, the
    request (key hidden), the field and what was expected."""
    body = fred_bodies()[0] if recorded == "fred" else eia_bytes(EIA_FACET)
    api.script(path, Fault.raw(200, body))
    with pytest.raises(SourceError) as caught:
        live(api, resource).fetch("RNGC1", SEP, NOV, route=EIA_ROUTE)
    message = str(caught.value)
    assert "\n" not in message and f"unexpected response: {detail}" in message
    assert message.startswith(f"{caught.value.source}: GET http://127.0.0.1:")
    assert api.eia_key not in message and api.fred_key not in message


# ---- through Dagster, into the warehouse ------------------------------------------------------------

# Per source: the commodity the settings file configures, the month range run, and the
# recorded answers in the order they are requested.
SCENARIOS = {
    "eia-strings": (
        "eia",
        "NG_FRONT",
        {"eia": {"series": "RNGC1", "route": EIA_ROUTE}, "min_price": 0, "max_price": 50},
        ("2020-09-01", "2020-10-01"),
        lambda: [(EIA_PATH, eia_bytes(EIA_FACET)), (EIA_PATH, eia_later_page(EIA_FACET))],
        lambda: eia_expected(EIA_FACET, SEP, NOV),
    ),
    "eia-numbers": (
        "eia",
        "NG_FRONT",
        {"eia": {"series": "RNGC1", "route": EIA_ROUTE}, "min_price": 0, "max_price": 50},
        ("2020-09-01", "2020-10-01"),
        lambda: [(EIA_PATH, eia_bytes(EIA_SERIES_ID)), (EIA_PATH, eia_later_page(EIA_SERIES_ID))],
        lambda: eia_expected(EIA_FACET, SEP, NOV),  # the same rows as the string answer
    ),
    "fred": (
        "fred",
        "US_GDP",
        {"fred": "GDP", "min_price": 0, "max_price": 100_000},
        ("2020-10-01", "2020-10-01"),
        lambda: [(FRED_PATH, fred_bodies()[0])],
        lambda: [("2020-10-01", 22068.767)],
    ),
    "yahoo": (
        "yahoo",
        "AAPL",
        {"yahoo": "AAPL", "min_price": 0, "max_price": 1000},
        ("2020-09-01", "2020-10-01"),
        lambda: [("/v8/finance/chart/", wf.dumps(yahoo_body(YAHOO_AAPL)))],
        lambda: rows_in_window(
            [
                (wf.yahoo_bar_date(ts, ZoneInfo("America/New_York")), close)
                for ts, close in zip(
                    yahoo_body(YAHOO_AAPL)["chart"]["result"][0]["timestamp"],
                    yahoo_body(YAHOO_AAPL)["chart"]["result"][0]["indicators"]["quote"][0]["close"],
                    strict=True,
                )
            ],
            SEP,
            NOV,
        ),
    ),
}


def run_with_settings(api, tmp_path, monkeypatch, source, commodity, spec, months, **energy):
    """Materialize `source`'s staging and canonical prices for the month range `months`, as
    `headwater` would in live mode with a settings file naming the endpoints and the one
    commodity (`energy`: further keys of the section)."""
    unused = {"eia": {"series": "UNUSED", "route": EIA_ROUTE}, "fred": "UNUSED", "yahoo": "UNUSED"}
    section = {
        "eia": {"base_url": api.eia_url},
        "fred": {"base_url": api.fred_url},
        "yahoo": {"base_url": api.yahoo_url},
        "commodities": {commodity: {**unused, **spec}},
        **energy,
    }
    config_path = tmp_path / "headwater.yaml"
    config_path.write_text(yaml.safe_dump({"energy": section}))
    monkeypatch.setenv("HEADWATER_CONFIG", str(config_path))
    monkeypatch.setenv("HEADWATER_MODE", "live")
    monkeypatch.setenv("EIA_API_KEY", api.eia_key)
    monkeypatch.setenv("FRED_API_KEY", api.fred_key)
    for variable in ("HEADWATER_EIA_URL", "HEADWATER_FRED_URL", "HEADWATER_YAHOO_URL"):
        monkeypatch.delenv(variable, raising=False)
    # The assets read the settings loaded at import; this run uses the file's instead.
    monkeypatch.setattr(energy_assets, "CONFIG", load_energy_config(config_path))

    warehouse = DuckDBWarehouse(path=str(tmp_path / "real.duckdb"))
    result = dg.materialize(
        [*staging_assets, commodity_prices],
        selection=[staging_key(source), commodity_prices.key],
        resources={"warehouse": warehouse, **energy_source_resources()},
        instance=dg.DagsterInstance.ephemeral(),
        tags={RANGE_START_TAG: months[0], RANGE_END_TAG: months[1]},
        raise_on_error=False,
    )
    return warehouse, result


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_recorded_answers_load_through_dagster(scenario, api, tmp_path, monkeypatch):
    source, commodity, spec, months, answers, expected = SCENARIOS[scenario]
    for path, body in answers():
        api.script(path, Fault.raw(200, body))
    # GDP is quarterly: one value in a month of 22 business days, and G-02 judges the share
    # of business days with a price.
    energy = {"completeness_threshold": 0.04} if source == "fred" else {}
    warehouse, result = run_with_settings(
        api, tmp_path, monkeypatch, source, commodity, spec, months, **energy
    )
    assert result.success
    assert len(api.requests) == len(answers())  # nothing but the recorded answers was served

    rows = warehouse.query(
        f"SELECT strftime(price_date, '%Y-%m-%d') AS day, value, commodity, series_id "
        f"FROM staging.{source}_prices ORDER BY price_date"
    ).to_pylist()
    assert [(r["day"], r["value"]) for r in rows] == expected()
    assert {(r["commodity"], r["series_id"]) for r in rows} == {
        (commodity, spec.get(source) if source != "eia" else "RNGC1")
    }
    quarantined = warehouse.scalar(f"SELECT count(*) FROM quarantine.{source}_prices")
    by_month = {
        m.partition: {k: v.value for k, v in m.metadata.items()}
        for m in result.asset_materializations_for_node(f"staging__{source}_prices")
    }
    for meta in by_month.values():
        assert meta["rows_in"] == meta["rows_loaded"] + meta["rows_quarantined"]
        assert meta["source"] == f"live {api.root}"
    assert sum(m["rows_loaded"] for m in by_month.values()) == len(rows)
    assert sum(m["rows_quarantined"] for m in by_month.values()) == quarantined == 0

    canonical = warehouse.query(
        "SELECT strftime(price_date, '%Y-%m-%d') AS day, price, source, n_sources "
        "FROM canonical.commodity_prices ORDER BY price_date"
    ).to_pylist()
    assert [(r["day"], r["price"]) for r in canonical] == expected()
    assert {(r["source"], r["n_sources"]) for r in canonical} == {(source, 1)}


def test_an_answer_for_another_symbol_is_held_and_the_step_fails_in_one_line(
    api, tmp_path, monkeypatch
):
    """Asked for NG=F, Yahoo's answer is GC=F's: the bar is rejected (E-R01), the month has
    no natural gas price, so gate G-02 fails; the record is held with its rule and reason,
    nothing is published, canonical is not built, and the failure is one line."""
    api.script("/v8/finance/chart/", Fault.raw(200, wf.dumps(yahoo_body(YAHOO_GOLD))))
    spec = {"yahoo": "NG=F", "min_price": 0, "max_price": 50}
    warehouse, result = run_with_settings(
        api, tmp_path, monkeypatch, "yahoo", "NATGAS", spec, ("2020-01-01", "2020-01-01")
    )
    assert not result.success and len(api.requests) == 1
    held = warehouse.query(
        "SELECT rule_id, reason, strftime(price_date, '%Y-%m-%d') AS day FROM holding.yahoo_prices"
    ).to_pylist()
    assert held == [
        {
            "rule_id": "E-R01",
            "reason": "yahoo GC=F: series 'GC=F' is not configured",
            "day": "2020-01-02",
        }
    ]
    assert warehouse.read_window("staging.yahoo_prices", "price_date", *JANUARY).empty
    assert not result.asset_materializations_for_node("canonical__commodity_prices")
    [failure] = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.error.message.strip()
    assert "\n" not in message
    assert message.startswith(
        "dagster._core.definitions.events.Failure: staging.yahoo_prices [2020-01-01, 2020-02-01): "
        "gate G-02 completeness_above_threshold failed"
    )
