from datetime import date

import pandas as pd
import pytest

from assets.energy.config import DEFAULT_COMMODITIES
from assets.energy.rules import (
    apply_record_rules,
    completeness,
    duplicate_keys,
    filing_day,
    out_of_range,
)
from assets.energy.wire_formats import RawObservation
from headwater.clock import business_days_between, last_business_day_before

SERIES = {"RWTC": "WTI", "RBRTE": "BRENT", "RNGWHHD": "NATGAS"}


def obs(day, value, series="RWTC", vintage=None, row=0):
    return RawObservation(
        source="eia",
        series_id=series,
        date=day,
        value=value,
        origin=f"test#row={row}",
        raw={"period": day, "value": value, "series": series},
        vintage=vintage,
    )


def run(observations):
    return apply_record_rules(
        observations, SERIES, DEFAULT_COMMODITIES, window=(date(2015, 1, 1), date(2025, 1, 1))
    )


def test_valid_rows_load_and_nothing_is_lost():
    observations = [
        obs("2024-01-02", "70.38", row=1),
        obs("2024-01-02", "70.38", row=2),  # exact duplicate
        obs("2024-01-03", ".", row=3),  # missing
        obs("2024-01-04", "n/a", row=4),  # not numeric
        obs("2024-02-30", "71.0", row=5),  # no such day
        obs("2024-01-05", "7138.0", row=6),  # out of range
        obs("2024-01-08", "72.1", series="XXX", row=7),  # not configured
        obs("2020-04-20", "-36.98", row=8),  # negative but real: loads
        obs("2024-01-09", "72.5", series="RBRTE", row=9),
    ]
    rows, rejected = run(observations)
    assert len(rows) + len(rejected) == len(observations)
    assert sorted(zip(rows["commodity"], rows["price_date"], rows["value"], strict=True)) == [
        ("BRENT", date(2024, 1, 9), 72.5),
        ("WTI", date(2020, 4, 20), -36.98),
        ("WTI", date(2024, 1, 2), 70.38),
    ]
    by_origin = {r.origin: (r.rule_id, r.reason, day) for r, day in rejected}
    assert by_origin["test#row=2"][0] == "E-R06"
    assert by_origin["test#row=3"][:1] == ("E-R03",)
    assert by_origin["test#row=4"][0] == "E-R04" and "'n/a'" in by_origin["test#row=4"][1]
    assert by_origin["test#row=5"][0] == "E-R02" and by_origin["test#row=5"][2] == date(2024, 2, 29)
    assert (
        by_origin["test#row=6"][0] == "E-R05"
        and "WTI's range [-50.0, 200.0]" in by_origin["test#row=6"][1]
    )
    assert by_origin["test#row=7"][0] == "E-R01"


def test_later_vintage_wins_and_the_earlier_is_quarantined():
    rows, rejected = run(
        [
            obs("2024-01-02", "70.50", vintage="2024-01-05", row=1),
            obs("2024-01-02", "70.38", vintage="2024-01-03", row=2),
        ]
    )
    assert rows["value"].tolist() == [70.50]
    [(rejection, day)] = rejected
    assert (rejection.rule_id, rejection.origin, day) == ("E-R07", "test#row=2", date(2024, 1, 2))
    assert "superseded by 70.5" in rejection.reason


def test_without_vintages_the_later_record_wins():
    rows, rejected = run([obs("2024-01-02", "70.00", row=1), obs("2024-01-02", "70.38", row=2)])
    assert rows["value"].tolist() == [70.38]
    assert [(r.rule_id, r.origin) for r, _ in rejected] == [("E-R07", "test#row=1")]


def test_rejection_keeps_the_raw_record():
    _, [(rejection, _)] = run([obs("2024-01-03", ".", row=3)])
    assert rejection.record == {"period": "2024-01-03", "value": ".", "series": "RWTC"}


def test_dataset_rules():
    rows = pd.DataFrame(
        {
            "commodity": ["WTI", "WTI", "NATGAS"],
            "price_date": [date(2024, 1, 2)] * 3,
            "value": [70.0, 70.0, 99.0],
        }
    )
    assert duplicate_keys(rows)[["commodity", "n"]].values.tolist() == [["WTI", 2]]
    assert out_of_range(rows, DEFAULT_COMMODITIES)["commodity"].tolist() == ["NATGAS"]


def test_completeness_counts_business_days_in_the_trailing_window():
    days = pd.bdate_range("2024-01-01", "2024-03-29")
    rows = pd.DataFrame(
        {"commodity": "WTI", "price_date": [d.date() for d in days[::2]], "value": 1.0}
    )
    result = completeness(
        rows, ["WTI", "BRENT"], date(2024, 3, 30), 20, date(2015, 1, 1)
    ).set_index("commodity")
    assert result.loc["WTI", "days_expected"] == 20
    assert result.loc["WTI", "share"] == pytest.approx(0.5)
    assert result.loc["BRENT", "share"] == 0
    # Nothing to judge before the configured start date.
    assert completeness(rows, ["WTI"], date(2015, 1, 1), 20, date(2015, 1, 1)).empty


@pytest.mark.parametrize(
    "today, expected",
    [
        (date(2024, 1, 8), date(2024, 1, 5)),  # Monday -> Friday
        (date(2024, 1, 7), date(2024, 1, 5)),  # Sunday -> Friday
        (date(2024, 1, 10), date(2024, 1, 9)),
    ],
)
def test_last_business_day(today, expected):
    assert last_business_day_before(today) == expected


def test_business_days_between_skips_weekends():
    assert business_days_between(date(2024, 1, 5), date(2024, 1, 8)) == 1  # Fri -> Mon
    assert business_days_between(date(2024, 1, 8), date(2024, 1, 5)) == 0
    assert business_days_between(date(2024, 1, 1), date(2024, 1, 12)) == 9


@pytest.mark.parametrize(
    "text, filed",
    [
        ("2019-02-30", date(2019, 2, 28)),
        ("2019-13-01", date(2019, 2, 25)),
        (None, date(2019, 2, 25)),
        ("garbage", date(2019, 2, 25)),
        ("2030-01-01", date(2019, 3, 5)),
    ],
)
def test_unusable_dates_are_filed_inside_the_window(text, filed):
    assert filing_day(text, (date(2019, 2, 25), date(2019, 3, 6))) == filed
