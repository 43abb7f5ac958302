"""Census rules: bad rows go to quarantine with the rule and reason; the rest load."""

from datetime import date

import pandas as pd
import pytest

from assets.workforce.census import (
    apply_census_rules,
    generate_census,
    read_census_file,
)

AS_OF = date(2024, 12, 31)
GOOD = {
    "employee_id": "E1",
    "birth_date": "1980-01-01",
    "hire_date": "2010-01-01",
    "termination_date": "",
    "gross_compensation": "80000",
    "level": "2",
    "deferral_rate": "0.05",
}


def _rules(rows):
    frame = pd.DataFrame([{**GOOD, **r} for r in rows])
    return apply_census_rules(frame, AS_OF, [1, 2, 3, 4, 5], origin="census.csv")


@pytest.mark.parametrize(
    ("row", "rule", "reason"),
    [
        ({"employee_id": ""}, "W-R01", "employee_id is empty"),
        ({"birth_date": "31/02/1980"}, "W-R02", "birth_date '31/02/1980' is not a YYYY-MM-DD date"),
        ({"hire_date": "2010-02-30"}, "W-R02", "hire_date"),
        ({"gross_compensation": "lots"}, "W-R02", "gross_compensation 'lots' is not a number"),
        ({"hire_date": "2025-03-01"}, "W-R04", "after the census date 2024-12-31"),
        ({"termination_date": "2009-12-31"}, "W-R05", "before hire_date"),
        ({"gross_compensation": "0"}, "W-R06", "not positive"),
        ({"gross_compensation": "-5"}, "W-R06", "not positive"),
        ({"level": "9"}, "W-R07", "level 9 is not one of"),
        ({"deferral_rate": "1.5"}, "W-R08", "outside [0, 1]"),
    ],
)
def test_each_rule(row, rule, reason):
    result = _rules([{"employee_id": "OK1"}, {"employee_id": "BAD", **row}])
    assert result.valid.column("employee_id").to_pylist() == ["OK1"]
    (rejection,) = result.rejections
    assert rejection.rule_id == rule
    assert reason in rejection.reason
    assert rejection.origin == "census.csv#row=3"  # header is row 1
    assert rejection.record["employee_id"] == ("BAD" if row.get("employee_id") != "" else "")


def test_duplicates_are_all_set_aside_and_counts_add_up():
    result = _rules([{"employee_id": "A"}, {"employee_id": "B"}, {"employee_id": "A"}])
    assert result.valid.column("employee_id").to_pylist() == ["B"]
    assert [r.rule_id for r in result.rejections] == ["W-R03", "W-R03"]
    assert "appears 2 times" in result.rejections[0].reason
    assert result.rows_in == result.valid.num_rows + len(result.rejections)


def test_optional_fields_may_be_empty():
    result = _rules([{"level": "", "deferral_rate": "", "termination_date": ""}])
    row = result.valid.to_pylist()[0]
    assert row["level"] is None and row["deferral_rate"] is None
    assert row["hire_date"] == date(2010, 1, 1)


def test_generator_is_deterministic_and_dirty_on_purpose():
    a = generate_census(500, AS_OF)
    assert a.equals(generate_census(500, AS_OF))
    result = apply_census_rules(a, AS_OF, [1, 2, 3, 4, 5], origin="sample")
    assert result.rows_in == 505 == result.valid.num_rows + len(result.rejections)
    assert {r.rule_id for r in result.rejections} == {"W-R02", "W-R03", "W-R04", "W-R05", "W-R06"}
    clean = apply_census_rules(
        generate_census(500, AS_OF, dirty=False), AS_OF, [1, 2, 3, 4, 5], "x"
    )
    assert clean.rejections == [] and clean.valid.num_rows == 500


def test_reads_csv_and_parquet_alike(tmp_path):
    frame = pd.DataFrame([GOOD, {**GOOD, "employee_id": "E2", "level": "", "deferral_rate": ""}])
    frame[["employee_id", "birth_date", "hire_date", "gross_compensation"]].to_csv(
        tmp_path / "minimal.csv", index=False
    )
    frame.to_parquet(tmp_path / "census.parquet")
    from_csv = read_census_file(tmp_path / "minimal.csv")
    from_parquet = read_census_file(tmp_path / "census.parquet")
    assert list(from_csv.columns) == list(from_parquet.columns)
    assert from_csv["level"].tolist() == ["", ""]  # optional columns may be absent
    assert from_parquet["employee_id"].tolist() == ["E1", "E2"]
    with pytest.raises(ValueError, match="no column"):
        frame[["employee_id"]].to_csv(tmp_path / "bad.csv", index=False)
        read_census_file(tmp_path / "bad.csv")
