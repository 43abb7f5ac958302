"""The PostgreSQL warehouse (distributed profile) against the real PostgreSQL here: the same
writes as DuckDB's, in one transaction each, idempotent, one writer per table, and values
that come back as they went in. Each test gets its own database, dropped afterwards."""

import threading
import uuid
from datetime import UTC, date, datetime

import pyarrow as pa
import pytest
from psycopg2 import sql

from resources.warehouse import DuckDBWarehouse
from resources.warehouse_postgres import PostgresWarehouse, translate
from tests.distributed.compare import _admin


@pytest.fixture
def pg():
    warehouse = PostgresWarehouse(
        host="127.0.0.1",
        port=5432,
        user="postgres",
        dbname=f"headwater_test_{uuid.uuid4().hex[:10]}",
    )
    yield warehouse
    con = _admin()
    with con.cursor() as cur:
        cur.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            [warehouse.dbname],
        )
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(warehouse.dbname)))
    con.close()


def prices(days: list[int], value: float = 1.5) -> pa.Table:
    return pa.table(
        {
            "price_date": pa.array([date(2024, 1, d) for d in days], pa.date32()),
            "commodity": ["WTI"] * len(days),
            "value": [value + d for d in days],
        }
    )


def rows(warehouse, table: str) -> list[dict]:
    return sorted(warehouse.query(f"SELECT * FROM {table}").to_pylist(), key=repr)


def test_a_window_replaced_twice_holds_the_second_load_only(pg):
    pg.replace_rows(
        "staging.t", prices([1, 2, 3]), "price_date", date(2024, 1, 1), date(2024, 2, 1)
    )
    pg.replace_rows(
        "staging.t", prices([2, 3], 10.0), "price_date", date(2024, 1, 2), date(2024, 1, 4)
    )
    got = rows(pg, "staging.t")
    assert [(r["price_date"].day, r["value"]) for r in got] == [(1, 2.5), (2, 12.0), (3, 13.0)]


def test_the_same_writes_give_the_same_rows_as_duckdb(pg, tmp_path):
    duck = DuckDBWarehouse(path=str(tmp_path / "w.duckdb"))
    moment = datetime(2024, 3, 10, 7, 30, 15, 123456, tzinfo=UTC)
    data = pa.table(
        {
            "price_date": pa.array([date(2024, 1, 1), date(2024, 1, 2), None], pa.date32()),
            "label": ['a,b "quoted"', "", None],
            "n": pa.array([1, None, 3], pa.int64()),
            "x": [0.1 + 0.2, None, -37.63],
            "ok": [True, False, None],
            "at": pa.array([moment, None, moment], pa.timestamp("ns", "UTC")),
        }
    )
    for warehouse in (pg, duck):
        warehouse.replace_table("canonical.mixed", data)
    assert rows(pg, "canonical.mixed") == rows(duck, "canonical.mixed")
    assert pg.table_exists("canonical.mixed") and not pg.table_exists("canonical.none")
    window = pg.read_window("canonical.mixed", "price_date", date(2024, 1, 2), date(2024, 1, 3))
    assert window["label"].tolist() == [""]


def test_a_batch_that_fails_replaces_nothing(pg):
    windows = {"staging.t": ("price_date", date(2024, 1, 1), date(2024, 2, 1))}
    pg.replace_in_batches(windows, [{"staging.t": prices([1, 2])}])

    def truncated():
        yield {"staging.t": prices([5])}
        raise OSError("file cut short")

    with pytest.raises(OSError):
        pg.replace_in_batches(windows, truncated())
    assert [r["price_date"].day for r in rows(pg, "staging.t")] == [1, 2]
    tagged = {"staging.c": windows["staging.t"]}
    counts = pg.replace_in_batches(
        tagged, [{"staging.c": prices([7])}, {"staging.c": prices([8])}], {"loaded_by": "x"}
    )
    assert counts == {"staging.c": 2}
    assert [(r["price_date"].day, r["loaded_by"]) for r in rows(pg, "staging.c")] == [
        (7, "x"),
        (8, "x"),
    ]


def test_two_writers_of_one_window_take_turns(pg):
    """Without the table's lock both would delete the window's old rows, then both insert:
    the window would hold both loads."""
    pg.replace_rows("staging.t", prices([1]), "price_date", date(2024, 1, 1), date(2024, 2, 1))
    start = threading.Barrier(8)
    errors = []

    def write(n: int):
        try:
            start.wait()
            pg.replace_rows(
                "staging.t", prices(list(range(1, 29)), n), "price_date", date(2024, 1, 1),
                date(2024, 2, 1),
            )  # fmt: skip
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    got = rows(pg, "staging.t")
    assert len(got) == 28
    assert len({r["value"] - r["price_date"].day for r in got}) == 1  # one writer's load


def test_a_percent_sign_reaches_the_server_as_written(pg):
    assert pg.scalar("SELECT length('%%')") == 2
    assert pg.scalar("SELECT '5%'") == "5%"
    assert pg.scalar("SELECT ? || '%'", ["5"]) == "5%"


def test_placeholders_become_psycopg_ones_outside_quotes():
    assert translate("SELECT '?', \"a?\" FROM t WHERE x = ? AND y LIKE '5%'") == (
        "SELECT '?', \"a?\" FROM t WHERE x = %s AND y LIKE '5%%'"
    )


def test_an_unreachable_server_is_one_line_naming_it():
    from headwater.settings import SettingsError

    warehouse = PostgresWarehouse(host="127.0.0.1", port=1, user="postgres", dbname="x")
    with pytest.raises(SettingsError) as caught:
        warehouse.check()
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("Postgres warehouse at 127.0.0.1:1/x cannot be reached")
    assert "HEADWATER_PG_HOST" in message
