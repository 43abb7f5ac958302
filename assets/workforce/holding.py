"""Write, audit, publish for a simulation year.

A year's dbt build replaces the year's rows in every yearly table before its checks run.
So that a year that fails (a dbt error, a failed test, a blocking check) never erases the
rows a previous successful run left for that year, the year's rows are saved before the
build; on failure they are put back, and what the failed build wrote is kept in
`holding.workforce_<model>` for inspection. Pure functions on a DuckDB connection held
under the warehouse lock.
"""

import duckdb

from resources.warehouse import quote_table, table_exists

SCHEMA = "holding"


def _saved(model: str) -> str:
    return quote_table(f"{SCHEMA}.workforce_{model}_previous")


def held_table(model: str) -> str:
    return f"{SCHEMA}.workforce_{model}"


def save_year(con: duckdb.DuckDBPyConnection, models: list[str], year: int) -> int:
    """Copy the year's rows of each yearly table aside; returns how many rows were saved."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    saved = 0
    for model in models:
        table = f"workforce.{model}"
        con.execute(f"DROP TABLE IF EXISTS {_saved(model)}")
        if table_exists(con, table):
            con.execute(
                f"CREATE TABLE {_saved(model)} AS SELECT * FROM {quote_table(table)} "
                "WHERE simulation_year = ?",
                [year],
            )
            [(n,)] = con.execute(f"SELECT count(*) FROM {_saved(model)}").fetchall()
            saved += n
    return saved


def restore_year(con: duckdb.DuckDBPyConnection, models: list[str], year: int) -> int:
    """Put the saved rows of the year back, in one transaction, after moving what the failed
    build wrote for the year to holding.workforce_<model>. Returns rows held."""
    held = 0
    con.execute("BEGIN TRANSACTION")
    try:
        for model in models:
            table = quote_table(f"workforce.{model}")
            if not table_exists(con, f"workforce.{model}"):
                continue
            con.execute(
                f"CREATE OR REPLACE TABLE {quote_table(held_table(model))} AS "
                f"SELECT * FROM {table} WHERE simulation_year = ?",
                [year],
            )
            [(n,)] = con.execute(
                f"SELECT count(*) FROM {quote_table(held_table(model))}"
            ).fetchall()
            held += n
            con.execute(f"DELETE FROM {table} WHERE simulation_year = ?", [year])
            if table_exists(con, f"{SCHEMA}.workforce_{model}_previous"):
                con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {_saved(model)}")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    discard_saved(con, models)
    return held


def discard_saved(con: duckdb.DuckDBPyConnection, models: list[str]) -> None:
    for model in models:
        con.execute(f"DROP TABLE IF EXISTS {_saved(model)}")
