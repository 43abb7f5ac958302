import multiprocessing as mp
import time
from datetime import date

import duckdb
import pandas as pd
import pytest

from resources.warehouse import DuckDBWarehouse, warehouse_lock


@pytest.fixture
def wh(tmp_path):
    return DuckDBWarehouse(path=str(tmp_path / "wh.duckdb"))


def _rows(days, value):
    return pd.DataFrame({"day": days, "value": [value] * len(days)})


def test_replace_rows_replaces_exactly_the_window(wh):
    wh.replace_rows(
        "staging.t",
        _rows([date(2024, 1, d) for d in (1, 2, 3)], 1.0),
        "day",
        date(2024, 1, 1),
        date(2024, 1, 4),
    )
    wh.replace_rows(
        "staging.t", _rows([date(2024, 1, 2)], 2.0), "day", date(2024, 1, 2), date(2024, 1, 3)
    )
    got = wh.query("SELECT day, value FROM staging.t ORDER BY day").to_pylist()
    assert [(r["day"].day, r["value"]) for r in got] == [(1, 1.0), (2, 2.0), (3, 1.0)]


def test_replace_rows_twice_is_idempotent(wh):
    data = _rows([date(2024, 1, 1), date(2024, 1, 2)], 5.0)
    for _ in range(2):
        wh.replace_rows("staging.t", data, "day", date(2024, 1, 1), date(2024, 1, 3))
    assert wh.query("SELECT count(*) AS n FROM staging.t").column("n")[0].as_py() == 2


def test_replace_rows_rolls_back_on_error(wh):
    wh.replace_rows(
        "staging.t", _rows([date(2024, 1, 1)], 1.0), "day", date(2024, 1, 1), date(2024, 1, 2)
    )
    bad = pd.DataFrame({"day": [date(2024, 1, 1)], "value": ["not a number"]})
    with pytest.raises(duckdb.Error):
        wh.replace_rows("staging.t", bad, "day", date(2024, 1, 1), date(2024, 1, 2))
    # The delete was rolled back with the failed insert: the old row is still there.
    assert wh.query("SELECT value FROM staging.t").column("value").to_pylist() == [1.0]


@pytest.mark.parametrize("name", ["t", "a.b.c", "staging.T", "staging.x; drop table y"])
def test_table_names_are_validated(wh, name):
    with pytest.raises(ValueError, match="schema.table"):
        wh.replace_table(name, _rows([date(2024, 1, 1)], 1.0))


def _hold_lock(path, started, seconds):
    with warehouse_lock(path):
        con = duckdb.connect(path)
        started.set()
        time.sleep(seconds)
        con.close()


def test_second_process_waits_for_the_writer_lock(wh):
    """Without the lock, the second process would fail with DuckDB's 'Could not set lock'."""
    ctx = mp.get_context("spawn")
    started = ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(wh.path, started, 1.5))
    holder.start()
    assert started.wait(30)
    t0 = time.monotonic()
    wh.replace_table("staging.t", _rows([date(2024, 1, 1)], 1.0))  # blocks until released
    waited = time.monotonic() - t0
    holder.join()
    assert waited > 0.5
    assert wh.query("SELECT count(*) AS n FROM staging.t").column("n")[0].as_py() == 1


def test_lock_is_reentrant_in_process(wh):
    with wh.connect() as outer:
        outer.execute("CREATE TABLE x AS SELECT 1 AS a")
        with wh.connect() as inner:  # would deadlock if the lock were not re-entrant
            assert inner.execute("SELECT a FROM x").fetchone() == (1,)
