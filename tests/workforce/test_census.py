"""Census rules: bad rows go to quarantine with the rule and reason; the rest load.
A file that cannot be a census fails with one message naming the file."""

from datetime import UTC, date, datetime

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from assets.workforce.census import (
    CensusFileError,
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


def _rules(rows, **kwargs):
    frame = pd.DataFrame([{**GOOD, **r} for r in rows])
    return apply_census_rules(frame, AS_OF, [1, 2, 3, 4, 5], origin="census.csv", **kwargs)


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
        (
            {"birth_date": "2090-01-01"},
            "W-R09",
            "birth_date 2090-01-01 is after the census date 2024-12-31",
        ),
        (
            {"birth_date": "2010-01-02"},
            "W-R10",
            "birth_date 2010-01-02 is after hire_date 2010-01-01",
        ),
        (
            {"birth_date": "2000-06-01"},
            "W-R11",
            "age at hire 9 (birth_date 2000-06-01, hire_date 2010-01-01) is below the minimum 14",
        ),
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


def test_min_age_at_hire_counts_whole_years_and_is_configurable():
    rows = [
        {"employee_id": "ON_BIRTHDAY", "birth_date": "1996-01-01"},  # 14 on the hire date
        {"employee_id": "DAY_BEFORE", "birth_date": "1996-01-02"},  # 13 for one more day
        {"employee_id": "HIRED_AT_BIRTH", "birth_date": "2010-01-01"},
    ]
    result = _rules(rows)
    assert result.valid.column("employee_id").to_pylist() == ["ON_BIRTHDAY"]
    assert [r.rule_id for r in result.rejections] == ["W-R11", "W-R11"]
    assert "age at hire 13" in result.rejections[0].reason
    assert "workforce.census.min_age_at_hire" in result.rejections[0].reason
    assert _rules(rows, min_age_at_hire=0).valid.num_rows == 3
    assert [r.rule_id for r in _rules(rows, min_age_at_hire=15).rejections] == ["W-R11"] * 3


def test_a_future_birth_date_is_w_r09_before_w_r10():
    # 2090 is both after the census date and after the hire date: the first rule wins.
    (rejection,) = _rules([{"birth_date": "2090-01-01"}]).rejections
    assert rejection.rule_id == "W-R09"


def _write(path, content):
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


HEADER = "employee_id,birth_date,hire_date,gross_compensation\n"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.csv", "", "is empty; expected a header row (employee_id, birth_date"),
        ("blank.csv", "\n\n  \n", "is empty"),
        ("header_only.csv", HEADER, "has a header but no rows; expected one row per employee"),
        ("missing.csv", None, "no such file; expected a census .csv or .parquet file"),
        ("folder.csv", "dir", "is a directory; expected a census .csv or .parquet file"),
        ("census.xlsx", b"PK\x03\x04\x14\x00", "is a .xlsx file; expected a census .csv or"),
        ("census", HEADER, "is a file without an extension; expected"),
        ("text.parquet", HEADER + "E1,1980-01-01,2010-01-01,5\n", "is not a Parquet file"),
        ("cut.parquet", b"PAR1" + bytes(40), "cannot be read as Parquet"),
        ("binary.csv", b"\x00\x01\x02garbage", "is not a CSV file (it is binary, not text)"),
        ("parquet.csv", b"PAR1\x15\x00\x00", "is not a CSV file (it is a Parquet file"),
        (
            "latin1.csv",
            (HEADER + "\u00c91,1980-01-01,2010-01-01,5\n").encode("latin-1"),
            "not UTF-8",
        ),
        ("ragged.csv", HEADER + "E1,1980-01-01,2010-01-01,5,6,7\n", "Expected 4 fields in line 2"),
        (
            "twice.csv",
            HEADER.strip() + ",hire_date\nE1,1980-01-01,2010-01-01,5,2011-01-01\n",
            "['hire_date'] more than once",
        ),
    ],
)
def test_a_file_that_is_not_a_census_says_so_in_one_line(tmp_path, name, content, expected):
    path = tmp_path / name
    if content == "dir":
        path.mkdir()
    elif content is not None:
        _write(path, content)
    with pytest.raises(CensusFileError) as err:
        read_census_file(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ") and expected in message
    assert "\n" not in message


def test_zero_row_parquet_is_refused(tmp_path):
    pd.DataFrame({c: pd.Series(dtype=str) for c in GOOD}).to_parquet(tmp_path / "none.parquet")
    with pytest.raises(CensusFileError, match="none.parquet: has no rows"):
        read_census_file(tmp_path / "none.parquet")


def test_byte_order_mark_and_padded_header_are_read(tmp_path):
    path = _write(
        tmp_path / "excel.csv",
        (
            "\ufeffemployee_id, birth_date ,hire_date,gross_compensation\n"
            "E1,1980-01-01,2010-01-01,5\n"
        ).encode("utf-8"),
    )
    assert read_census_file(path)["birth_date"].tolist() == ["1980-01-01"]


def test_parquet_timestamps_and_date32_are_dates(tmp_path):
    midnight = datetime(1980, 1, 1)
    table = pa.table(
        {
            "employee_id": ["E1", "E2", "E3"],
            "birth_date": pa.array(
                [midnight, datetime(1985, 6, 1, 13, 45), midnight], pa.timestamp("us")
            ),
            # Midnight in Tokyo, stored as 15:00 UTC the day before: the date is Tokyo's.
            "hire_date": pa.array(
                [datetime(2009, 12, 31, 15, tzinfo=UTC)] * 3, pa.timestamp("ns", tz="Asia/Tokyo")
            ),
            "termination_date": pa.array([None, None, date(2020, 5, 1)], pa.date32()),
            "gross_compensation": [70000.0, 80000.0, 90000.0],
            "level": pa.array([1, 2, None], pa.int64()),
        }
    )
    pq.write_table(table, tmp_path / "typed.parquet")
    raw = read_census_file(tmp_path / "typed.parquet")
    assert raw["hire_date"].tolist() == ["2010-01-01"] * 3
    assert raw["termination_date"].tolist() == ["", "", "2020-05-01"]
    result = apply_census_rules(raw, AS_OF, [1, 2, 3, 4, 5], origin="typed.parquet")
    assert result.rows_in == 3 == result.valid.num_rows + len(result.rejections)
    assert result.valid.column("employee_id").to_pylist() == ["E1", "E3"]
    assert result.valid.column("hire_date").to_pylist() == [date(2010, 1, 1)] * 2
    assert result.valid.column("termination_date").to_pylist() == [None, date(2020, 5, 1)]
    assert result.valid.column("level").to_pylist() == [1, None]
    # A moment, not a date: said with its column, its value and its row (Parquet has no
    # header line, so the second record is row 2).
    (rejection,) = result.rejections
    assert rejection.rule_id == "W-R02"
    assert rejection.reason == (
        "birth_date '1985-06-01 13:45:00' is not a YYYY-MM-DD date (it has a time of day)"
    )
    assert rejection.origin == "typed.parquet#row=2"


EMPLOYEE_LAYOUT = {
    "employee_id": "employee_id",
    "birth_date": "employee_birth_date",
    "hire_date": "employee_hire_date",
    "termination_date": "employee_termination_date",
    "gross_compensation": "employee_gross_compensation",
    "deferral_rate": "employee_deferral_rate",
}


def test_column_mapping_reads_another_layout(tmp_path):
    path = _write(
        tmp_path / "employees.csv",
        "employee_id,employee_birth_date,employee_hire_date,employee_termination_date,"
        "employee_gross_compensation,employee_deferral_rate,birth_date\n"
        "E1,1980-01-01,2010-01-01,,80000,0.05,ignored\n",
    )
    raw = read_census_file(path, columns=EMPLOYEE_LAYOUT)
    assert raw.to_dict("records") == [
        {
            "employee_id": "E1",
            "birth_date": "1980-01-01",  # the mapped column, not the file's own birth_date
            "hire_date": "2010-01-01",
            "gross_compensation": "80000",
            "termination_date": "",
            "level": "",  # not mapped, not in the file: optional
            "deferral_rate": "0.05",
        }
    ]
    with pytest.raises(CensusFileError) as err:
        read_census_file(path, columns={**EMPLOYEE_LAYOUT, "level": "employee_level"})
    message = str(err.value)
    assert message.startswith(f"{path}: no column 'employee_level'")
    assert "workforce.census.columns.level" in message
    with pytest.raises(CensusFileError, match="no column\\(s\\) \\['hire_date'"):
        read_census_file(path)  # without the mapping, hire_date is nowhere
    with pytest.raises(ValueError, match="not census columns"):
        read_census_file(path, columns={"salary": "employee_gross_compensation"})
