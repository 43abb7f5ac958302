"""Parsers of the three wire formats, called directly on hand-written documents."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from assets.energy import wire_formats as wf
from assets.energy.wire_formats import RawObservation, WireFormatError


def eia_body(rows, total=None):
    return {
        "response": {
            "total": str(len(rows) if total is None else total),
            "dateFormat": "YYYY-MM-DD",
            "frequency": "daily",
            "data": rows,
        },
        "request": {"command": "/v2/petroleum/pri/spt/data/"},
        "apiVersion": "2.1.8",
    }


# ---- EIA ----------------------------------------------------------------------------------------


def test_eia_values_and_periods_pass_through_as_text():
    rows = [
        wf.eia_row("RWTC", "2024-01-02", "70.38"),
        wf.eia_row("RWTC", "2019-02-30", "n/a"),  # malformed date and value: kept as received
        {"period": "2024-01-03", "series": "RWTC", "value": None},
    ]
    obs = wf.parse_eia_page(
        eia_body(rows, total="4321"), origin="eia petroleum/pri/spt RWTC offset=0"
    )
    assert [(o.date, o.value) for o in obs] == [
        ("2024-01-02", "70.38"),
        ("2019-02-30", "n/a"),
        ("2024-01-03", None),
    ]
    assert obs[0] == RawObservation(
        source="eia",
        series_id="RWTC",
        date="2024-01-02",
        value="70.38",
        origin="eia petroleum/pri/spt RWTC offset=0#row=0",
        raw=rows[0],
    )
    assert obs[0].raw["series-description"].startswith("Cushing, OK WTI")
    assert obs[2].origin.endswith("#row=2")
    assert wf.eia_total(eia_body(rows, total="4321")) == 4321  # sent as a string


def test_eia_numeric_value_is_rendered_not_rounded():
    [obs] = wf.parse_eia_page(
        eia_body([{"period": "2024-01-02", "value": 70.1}]), origin="x", series_id="RWTC"
    )
    assert (obs.series_id, obs.value) == ("RWTC", "70.1")  # series from the facet asked for


@pytest.mark.parametrize(
    "body",
    [None, [], {"error": "bad"}, {"response": {"total": "1"}}, {"response": {"data": {}}}],
)
def test_eia_body_of_the_wrong_shape_is_a_wire_format_error(body):
    with pytest.raises(WireFormatError):
        wf.parse_eia_page(body, origin="x")


def test_eia_total_that_is_not_a_count_is_a_wire_format_error():
    with pytest.raises(WireFormatError, match="total"):
        wf.eia_total({"response": {"total": "lots", "data": []}})


def test_eia_writer_round_trips():
    rows = [wf.eia_row("RBRTE", "2024-01-02", "75.89"), wf.eia_row("RBRTE", "2024-01-03", "78.25")]
    body = wf.eia_page(
        rows,
        route="petroleum/pri/spt",
        series_id="RBRTE",
        start="2024-01-01",
        end="2024-01-31",
        total=2,
        offset=0,
    )
    assert body["response"]["total"] == "2"
    assert body["request"]["params"]["facets"] == {"series": ["RBRTE"]}
    assert [o.raw for o in wf.parse_eia_page(body, origin="x")] == rows


# ---- FRED ---------------------------------------------------------------------------------------


def fred_body(observations):
    return wf.fred_observations(
        observations,
        observation_start="2024-01-01",
        observation_end="2024-01-31",
        count=len(observations),
    )


def test_fred_dot_and_vintage_pass_through():
    body = fred_body(
        [
            {"realtime_start": "2024-01-02", "realtime_end": "9999-12-31", "date": "2024-01-01",
             "value": "."},
            {"realtime_start": "2024-01-05", "realtime_end": "2024-01-09", "date": "2024-01-02",
             "value": "70.38"},
            {"realtime_start": "2024-01-10", "realtime_end": "9999-12-31", "date": "2024-01-02",
             "value": "70.12"},
            {"date": "2024-13-01", "value": "71"},
        ]
    )  # fmt: skip
    obs = wf.parse_fred_observations(body, origin="fred/DCOILWTICO.json", series_id="DCOILWTICO")
    assert [(o.date, o.value, o.vintage) for o in obs] == [
        ("2024-01-01", ".", "2024-01-02"),
        ("2024-01-02", "70.38", "2024-01-05"),
        ("2024-01-02", "70.12", "2024-01-10"),
        ("2024-13-01", "71", None),
    ]
    assert {o.source for o in obs} == {"fred"} and {o.series_id for o in obs} == {"DCOILWTICO"}
    assert obs[3].origin == "fred/DCOILWTICO.json#row=3"
    assert wf.fred_count(body) == 4


def test_fred_body_without_observations_is_a_wire_format_error():
    with pytest.raises(WireFormatError):
        wf.parse_fred_observations({"error_code": 400}, origin="x", series_id="DHHNGSP")


# ---- Yahoo --------------------------------------------------------------------------------------

NY = ZoneInfo("America/New_York")


def ny_midnight(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=NY).timestamp())


def test_yahoo_close_as_repr_and_null_as_none():
    bars = [
        {"timestamp": ny_midnight(date(2024, 1, 2)), "open": 71.0, "high": 72.1, "low": 69.9,
         "close": 70.37999725341797, "volume": 300_000},
        {"timestamp": ny_midnight(date(2024, 1, 3)), "open": None, "high": None, "low": None,
         "close": None, "volume": None},
        {"timestamp": ny_midnight(date(2024, 1, 4)), "open": 72, "high": 73, "low": 71,
         "close": 72, "volume": 1},
    ]  # fmt: skip
    meta = {"exchangeTimezoneName": "America/New_York", "gmtoffset": -18000}
    body = wf.yahoo_chart("CL=F", bars, meta=meta)
    obs = wf.parse_yahoo_chart(body, origin="yahoo/CL=F.json")
    assert [(o.series_id, o.date, o.value) for o in obs] == [
        ("CL=F", "2024-01-02", "70.37999725341797"),
        ("CL=F", "2024-01-03", None),
        ("CL=F", "2024-01-04", "72"),
    ]
    assert obs[0].raw == {**bars[0], "adjclose": bars[0]["close"]}
    assert obs[1].raw["close"] is None and obs[1].raw["timestamp"] == bars[1]["timestamp"]


def test_yahoo_dates_are_read_in_the_exchange_time_zone():
    # 2024-01-02 03:00 UTC is still 2024-01-01 in New York; 2024-07-01 04:00 UTC is midnight
    # (EDT) of 2024-07-01.
    late = int(datetime(2024, 1, 2, 3, 0, tzinfo=UTC).timestamp())
    summer = int(datetime(2024, 7, 1, 4, 0, tzinfo=UTC).timestamp())
    bars = [{"timestamp": t, "close": 1.0} for t in (late, summer)]
    body = wf.yahoo_chart("CL=F", bars, meta={"exchangeTimezoneName": "America/New_York"})
    assert [o.date for o in wf.parse_yahoo_chart(body, origin="x")] == ["2024-01-01", "2024-07-01"]

    # Without a zone name, the fixed gmtoffset; without either, UTC.
    body = wf.yahoo_chart("CL=F", bars[:1], meta={"gmtoffset": -18000})
    assert wf.parse_yahoo_chart(body, origin="x")[0].date == "2024-01-01"
    body = wf.yahoo_chart("CL=F", bars[:1], meta={})
    assert wf.parse_yahoo_chart(body, origin="x")[0].date == "2024-01-02"


def test_yahoo_unusable_timestamp_passes_through():
    body = wf.yahoo_chart("NG=F", [{"timestamp": None, "close": 2.5}, {"timestamp": "soon"}])
    assert [(o.date, o.value) for o in wf.parse_yahoo_chart(body, origin="x")] == [
        (None, "2.5"),
        ("soon", None),
    ]


def test_yahoo_range_without_bars_is_empty():
    body = wf.yahoo_chart("BZ=F", [], meta={"exchangeTimezoneName": "America/New_York"})
    assert "timestamp" not in body["chart"]["result"][0]
    assert wf.parse_yahoo_chart(body, origin="x") == []


def test_yahoo_error_document_is_a_wire_format_error():
    body = wf.yahoo_error("Not Found", "No data found, symbol may be delisted")
    with pytest.raises(WireFormatError, match="delisted"):
        wf.parse_yahoo_chart(body, origin="x")


# ---- windows ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-01", True),
        ("2024-01-31", True),
        ("2024-02-01", False),  # half-open
        ("2023-12-31", False),
        ("2024-01-32", True),  # date-shaped but impossible: placed by its text
        ("2024-02-30", False),
        ("n/a", True),  # cannot be placed: in every window, so never lost
        (None, True),
    ],
)
def test_in_window(text, expected):
    assert wf.in_window(text, date(2024, 1, 1), date(2024, 2, 1)) is expected


def test_parse_iso_date_is_strict():
    assert wf.parse_iso_date("2024-02-29") == date(2024, 2, 29)
    assert wf.parse_iso_date("2023-02-29") is None
    assert wf.parse_iso_date("20240229") is None
    assert wf.parse_iso_date(None) is None


def test_series_defaults_match_the_eia_routes():
    assert wf.EIA_ROUTES == {
        "RWTC": "petroleum/pri/spt",
        "RBRTE": "petroleum/pri/spt",
        "RNGWHHD": "natural-gas/pri/fut",
    }
    assert {s.fred_series for s in wf.SERIES_DEFAULTS.values()} == {
        "DCOILWTICO",
        "DCOILBRENTEU",
        "DHHNGSP",
    }
    assert {s.yahoo_symbol for s in wf.SERIES_DEFAULTS.values()} == {"CL=F", "BZ=F", "NG=F"}
