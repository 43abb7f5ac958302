"""The sample generator: deterministic bytes, stable history, the documented dirt, and the
resources reading it back in sample mode."""

import json
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from assets.energy import sample_data as sd
from assets.energy import wire_formats as wf
from assets.energy.sources import EIAResource, FREDResource, YahooFinanceResource

THROUGH = date(2024, 12, 31)
SERIES = list(wf.SERIES_DEFAULTS.values())


@pytest.fixture(scope="module")
def sample() -> sd.EnergySample:
    return sd.build_sample(THROUGH)


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("energy-sample")
    sd.generate_sample_data(out, THROUGH)
    return out


def eia_values(sample, series_id):
    return {row["period"]: row["value"] for row in sample.eia_rows[series_id]}


def yahoo_closes(sample, symbol):
    tz = wf._exchange_tz(sample.yahoo_meta[symbol])
    return {wf.yahoo_bar_date(b["timestamp"], tz): b["close"] for b in sample.yahoo_bars[symbol]}


# ---- files --------------------------------------------------------------------------------------


def test_two_generations_write_identical_bytes(sample_dir, tmp_path):
    again = sd.generate_sample_data(tmp_path, THROUGH)
    names = sorted(p.relative_to(tmp_path).as_posix() for p in again)
    assert names == sorted(p.relative_to(sample_dir).as_posix() for p in sample_dir.rglob("*.json")
                           if p.name != sd.MANIFEST)  # fmt: skip
    assert len(names) == 9
    for name in [*names, sd.MANIFEST]:
        assert (tmp_path / name).read_bytes() == (sample_dir / name).read_bytes(), name


def test_layout_is_the_api_paging(sample_dir):
    assert (sample_dir / "eia/petroleum_pri_spt/RWTC/page-0000.json").is_file()
    assert (sample_dir / "eia/natural-gas_pri_fut/RNGWHHD/page-0000.json").is_file()
    assert (sample_dir / "fred/DCOILWTICO.json").is_file()
    assert (sample_dir / "yahoo/CL=F.json").is_file()
    page = json.loads((sample_dir / "eia/petroleum_pri_spt/RWTC/page-0000.json").read_text())
    assert isinstance(page["response"]["total"], str)
    assert int(page["response"]["total"]) == len(page["response"]["data"]) <= wf.EIA_PAGE_ROWS
    assert page["request"]["params"]["end"] == THROUGH.isoformat()
    fred = json.loads((sample_dir / "fred/DHHNGSP.json").read_text())
    assert fred["count"] == len(fred["observations"]) and fred["units"] == "lin"
    chart = json.loads((sample_dir / "yahoo/NG=F.json").read_text())["chart"]
    assert chart["error"] is None
    assert chart["result"][0]["meta"]["exchangeTimezoneName"] == "America/New_York"


def test_more_than_5000_rows_are_split_into_pages_and_read_back_once(tmp_path):
    through = date(2036, 1, 1)  # about 5,300 trading days
    sd.generate_sample_data(tmp_path, through)
    pages = sd.eia_page_paths(tmp_path, "petroleum/pri/spt", "RWTC")
    assert [p.name for p in pages] == ["page-0000.json", "page-0001.json"]
    first = json.loads(pages[0].read_text())["response"]
    second = json.loads(pages[1].read_text())["response"]
    assert len(first["data"]) == 5000 and first["total"] == second["total"]
    assert len(first["data"]) + len(second["data"]) == int(first["total"]) > 5000

    eia = EIAResource(sample_dir=str(tmp_path))
    obs = eia.fetch("RWTC", sd.SAMPLE_START, through + timedelta(days=1))
    assert len(obs) == int(first["total"])
    assert len({o.origin for o in obs}) == len(obs)
    assert obs[5000].origin.endswith("page-0001.json#row=0")

    # Regenerating a shorter history removes the page that no longer exists.
    sd.generate_sample_data(tmp_path, THROUGH)
    assert [p.name for p in sd.eia_page_paths(tmp_path, "petroleum/pri/spt", "RWTC")] == [
        "page-0000.json"
    ]


def test_ensure_is_idempotent_and_extends_when_asked_for_later_dates(tmp_path):
    sd.ensure_sample_data(tmp_path, date(2020, 6, 30))
    assert sd.sample_through(tmp_path) == date(2020, 6, 30)
    manifest = tmp_path / sd.MANIFEST
    stamp = manifest.stat().st_mtime_ns
    sd.ensure_sample_data(tmp_path, date(2020, 6, 1))  # covered: nothing rewritten
    sd.ensure_sample_data(tmp_path, date(2020, 6, 30))
    assert manifest.stat().st_mtime_ns == stamp
    sd.ensure_sample_data(tmp_path, date(2021, 1, 31))  # later: regenerated
    assert sd.sample_through(tmp_path) == date(2021, 1, 31)
    (tmp_path / "fred/DHHNGSP.json").unlink()  # a file missing: regenerated
    assert sd.sample_through(tmp_path) is None
    sd.ensure_sample_data(tmp_path, date(2021, 1, 31))
    assert (tmp_path / "fred/DHHNGSP.json").is_file()


def test_ensure_defaults_to_yesterday(tmp_path):
    sd.ensure_sample_data(tmp_path)
    assert sd.sample_through(tmp_path) == date.today() - timedelta(days=1)


def test_full_history_generates_fast(tmp_path):
    started = time.perf_counter()
    sd.generate_sample_data(tmp_path, date.today() - timedelta(days=1))
    assert time.perf_counter() - started < 2.0


# ---- determinism across `through` ---------------------------------------------------------------


def test_a_later_through_keeps_every_earlier_value(sample):
    short = sd.build_sample(date(2020, 6, 30))
    for s in SERIES:
        long_rows = [r for r in sample.eia_rows[s.eia_series] if r["period"] <= "2020-06-30"]
        assert short.eia_rows[s.eia_series] == long_rows
        long_obs = [o for o in sample.fred_observations[s.fred_series] if o["date"] <= "2020-06-30"]
        assert short.fred_observations[s.fred_series] == long_obs
        cut = sd._yahoo_timestamp(date(2020, 7, 1))
        long_bars = [b for b in sample.yahoo_bars[s.yahoo_symbol] if b["timestamp"] < cut]
        assert short.yahoo_bars[s.yahoo_symbol] == long_bars


# ---- calendar -----------------------------------------------------------------------------------


def test_nymex_holidays():
    assert sorted(sd.nymex_holidays(2024)) == [
        date(2024, 1, 1), date(2024, 1, 15), date(2024, 2, 19), date(2024, 3, 29),
        date(2024, 5, 27), date(2024, 6, 19), date(2024, 7, 4), date(2024, 9, 2),
        date(2024, 11, 28), date(2024, 12, 25),
    ]  # fmt: skip
    assert date(2021, 6, 18) not in sd.nymex_holidays(2021)  # Juneteenth only from 2022
    assert date(2022, 6, 20) in sd.nymex_holidays(2022)  # Sunday -> Monday
    assert date(2020, 7, 3) in sd.nymex_holidays(2020)  # Saturday -> Friday
    assert date(2021, 12, 24) in sd.nymex_holidays(2021)  # Christmas on a Saturday
    assert date(2021, 12, 31) not in sd.nymex_holidays(2021)  # New Year 2022 is a Saturday
    assert len(sd.nymex_holidays(2022)) == 9  # ... so 2022 has no New Year closure
    assert date(2019, 4, 19) in sd.nymex_holidays(2019)  # Good Friday


def test_weekends_and_holidays_are_absent_except_fred_dots(sample):
    expected = sd.trading_days(sd.SAMPLE_START, THROUGH + timedelta(days=1))
    for s in SERIES:
        periods = [r["period"] for r in sample.eia_rows[s.eia_series]]
        valid = sorted({p for p in periods if wf.parse_iso_date(p)})
        assert valid == [d.isoformat() for d in expected]
        assert sorted(yahoo_closes(sample, s.yahoo_symbol)) == [d.isoformat() for d in expected]
        fred = [o for o in sample.fred_observations[s.fred_series]]
        fred_days = {date.fromisoformat(o["date"]) for o in fred}
        assert all(d.weekday() < 5 for d in fred_days)
        for o in fred:
            day = date.fromisoformat(o["date"])
            if not sd.is_trading_day(day):
                assert o["value"] == ".", o


# ---- the documented dirt ------------------------------------------------------------------------


def test_documented_dirt_dates_are_trading_days():
    days = [
        sd.NEGATIVE_WTI_DATE,
        sd.EIA_DUPLICATE[1],
        sd.EIA_BAD_VALUE[1],
        sd.FRED_CORRECTION.date,
        sd.YAHOO_OUT_OF_RANGE[1],
        *(d for ds in sd.FRED_MISSING.values() for d in ds),
        *(d for ds in sd.YAHOO_NULL_CLOSES.values() for d in ds),
        *(d for _, d in sd.YAHOO_DIVERGENT),
    ]
    assert all(sd.is_trading_day(d) for d in days)


def test_wti_negative_settle(sample):
    day = sd.NEGATIVE_WTI_DATE.isoformat()
    assert eia_values(sample, "RWTC")[day] == "-36.98"
    [fred] = [o for o in sample.fred_observations["DCOILWTICO"] if o["date"] == day]
    assert fred["value"] == "-36.98"
    assert yahoo_closes(sample, "CL=F")[day] == -37.63
    assert float(eia_values(sample, "RBRTE")[day]) > 0  # Brent stayed positive


def test_eia_exact_duplicate(sample):
    series, day = sd.EIA_DUPLICATE
    rows = [r for r in sample.eia_rows[series] if r["period"] == day.isoformat()]
    assert len(rows) == 2 and rows[0] == rows[1]
    assert all(
        sum(r["period"] == p for r in sample.eia_rows[s.eia_series]) == 1
        for s in SERIES
        for p in {"2018-03-13", "2018-03-15"}
    )


def test_eia_malformed_records(sample):
    series, day, value = sd.EIA_BAD_VALUE
    assert eia_values(sample, series)[day.isoformat()] == value == "n/a"
    [fred] = [o for o in sample.fred_observations["DHHNGSP"] if o["date"] == day.isoformat()]
    assert float(fred["value"]) > 0  # the other sources have the day

    series, period = sd.EIA_BAD_PERIOD
    periods = [r["period"] for r in sample.eia_rows[series]]
    at = periods.index(period)
    assert periods[at - 1 : at + 2] == ["2019-02-28", "2019-02-30", "2019-03-01"]
    assert wf.parse_iso_date(period) is None


def test_fred_missing_values_and_late_correction(sample):
    for series, days in sd.FRED_MISSING.items():
        values = {o["date"]: o["value"] for o in sample.fred_observations[series]}
        assert all(values[d.isoformat()] == "." for d in days)
        assert values["2024-12-25"] == "."  # holidays are "." too

    fix = sd.FRED_CORRECTION
    vintages = [
        o for o in sample.fred_observations[fix.series_id] if o["date"] == fix.date.isoformat()
    ]
    assert [v["realtime_start"] for v in vintages] == [fix.first_vintage, fix.corrected_vintage]
    assert vintages[0]["realtime_end"] < vintages[1]["realtime_start"]
    assert vintages[1]["realtime_end"] == "9999-12-31"
    assert vintages[0]["value"] != vintages[1]["value"]
    assert vintages[1]["value"] == eia_values(sample, "RWTC")[fix.date.isoformat()]


def test_fred_mirrors_eia_spot_values(sample):
    for s in SERIES:
        eia = eia_values(sample, s.eia_series)
        fred = {o["date"]: o["value"] for o in sample.fred_observations[s.fred_series]}
        differ = {
            d
            for d, v in fred.items()
            if v != "." and eia.get(d) != v and d != sd.FRED_CORRECTION.date.isoformat()
        }
        bad_value_day = {sd.EIA_BAD_VALUE[1].isoformat()} if s.eia_series == "RNGWHHD" else set()
        assert differ == bad_value_day


def test_yahoo_dirt(sample):
    for symbol, days in sd.YAHOO_NULL_CLOSES.items():
        closes = yahoo_closes(sample, symbol)
        assert all(closes[d.isoformat()] is None for d in days)

    symbol, day, factor = sd.YAHOO_OUT_OF_RANGE
    assert yahoo_closes(sample, symbol)[day.isoformat()] / float(
        eia_values(sample, "RWTC")[day.isoformat()]
    ) == pytest.approx(factor, rel=0.05)

    # Futures sit within ~0.3% of spot; only the documented days are more than 2% away.
    far = set()
    for s in SERIES:
        spot = eia_values(sample, s.eia_series)
        for day, close in yahoo_closes(sample, s.yahoo_symbol).items():
            if close is None or spot.get(day) in (None, "n/a"):
                continue
            if abs(close - float(spot[day])) > 0.02 * abs(float(spot[day])):
                far.add((s.yahoo_symbol, date.fromisoformat(day)))
    assert far == {*sd.YAHOO_DIVERGENT, sd.YAHOO_OUT_OF_RANGE[:2]}


def test_levels_are_plausible(sample):
    def values(series_id):
        return {
            d: float(v)
            for d, v in eia_values(sample, series_id).items()
            if v != "n/a" and d != sd.NEGATIVE_WTI_DATE.isoformat()
        }

    wti, brent, hh = values("RWTC"), values("RBRTE"), values("RNGWHHD")
    assert 10 <= min(wti.values()) and max(wti.values()) <= 135
    assert all(brent[d] > wti[d] for d in wti if d in brent)
    assert 1.5 <= min(hh.values()) and max(hh.values()) <= 12
    assert 40 <= sum(wti.values()) / len(wti) <= 80


# ---- sample mode through the resources ----------------------------------------------------------


def test_resources_read_the_sample_files_through_the_same_parsers(sample_dir):
    start, end = date(2020, 4, 13), date(2020, 4, 25)
    eia = EIAResource(sample_dir=str(sample_dir)).fetch("RWTC", start, end)
    fred = FREDResource(sample_dir=str(sample_dir)).fetch("DCOILWTICO", start, end)
    yahoo = YahooFinanceResource(sample_dir=str(sample_dir)).fetch("CL=F", start, end)
    days = [d.isoformat() for d in sd.trading_days(start, end)]
    assert [o.date for o in eia] == [o.date for o in fred] == [o.date for o in yahoo] == days
    assert {o.source for o in eia + fred + yahoo} == {"eia", "fred", "yahoo"}
    neg = sd.NEGATIVE_WTI_DATE.isoformat()
    assert [o.value for o in eia + fred + yahoo if o.date == neg] == ["-36.98", "-36.98", "-37.63"]
    assert fred[0].vintage == "2020-04-14"  # first published the next weekday
    # Each origin names the file and the row the record sits at.
    for obs, where in ((eia[0], "eia/petroleum_pri_spt/RWTC/page-0000.json"),
                       (fred[0], "fred/DCOILWTICO.json")):  # fmt: skip
        path, row = obs.origin.split("#row=")
        assert path.endswith(where)
        body = json.loads(Path(path).read_text())
        records = body["response"]["data"] if obs.source == "eia" else body["observations"]
        assert records[int(row)] == obs.raw


def test_sample_window_is_half_open_and_keeps_undatable_records_once(sample_dir):
    eia = EIAResource(sample_dir=str(sample_dir))
    # 2019-02-30 is placed by its text: in the window holding 2019-02-28, in no other.
    obs = eia.fetch("RBRTE", date(2019, 2, 28), date(2019, 3, 1))
    assert [o.date for o in obs] == ["2019-02-28", "2019-02-30"]
    assert [o.date for o in eia.fetch("RBRTE", date(2019, 3, 1), date(2019, 3, 2))] == [
        "2019-03-01"
    ]
    assert eia.fetch("RBRTE", date(2019, 3, 1), date(2019, 3, 1)) == []
    everything = eia.fetch("RBRTE", sd.SAMPLE_START, THROUGH + timedelta(days=1))
    assert sum(o.date == "2019-02-30" for o in everything) == 1


def test_sample_mode_generates_missing_files(tmp_path):
    fred = FREDResource(sample_dir=str(tmp_path / "fresh"))
    obs = fred.fetch("DHHNGSP", date(2024, 1, 1), date(2024, 1, 8))
    assert [(o.date, o.value == ".") for o in obs] == [
        ("2024-01-01", True),
        ("2024-01-02", False),
        ("2024-01-03", False),
        ("2024-01-04", False),
        ("2024-01-05", False),
    ]
    assert sd.sample_through(tmp_path / "fresh") == date.today() - timedelta(days=1)
