"""Write, audit, publish for a simulation year.

A year's dbt build replaces the year's rows in every yearly table before its checks run.
So that a year that fails (a dbt error, a failed test, a blocking check) never erases the
rows a previous successful run left for that year, the year's rows are saved before the
build; on failure they are put back, and what the failed build wrote is kept in
`holding.workforce_<model>` for inspection. Plain functions on a connection from
`warehouse.session()`, in SQL both engines run (no CREATE OR REPLACE, no INSERT BY NAME).
"""

from typing import Any

from resources.warehouse import Warehouse, quote_table

SCHEMA = "holding"


def _saved(model: str) -> str:
    return quote_table(f"{SCHEMA}.workforce_{model}_previous")


def held_table(model: str) -> str:
    return f"{SCHEMA}.workforce_{model}"


def save_year(warehouse: Warehouse, con: Any, models: list[str], year: int) -> int:
    """Copy the year's rows of each yearly table aside; returns how many rows were saved."""
    warehouse.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}", con=con)
    saved = 0
    for model in models:
        table = f"workforce.{model}"
        statements: list[tuple[str, list | None]] = [
            (f"DROP TABLE IF EXISTS {_saved(model)}", None)
        ]
        exists = warehouse.table_exists(table, con)
        if exists:
            statements.append(
                (
                    f"CREATE TABLE {_saved(model)} AS SELECT * FROM {quote_table(table)} "
                    "WHERE simulation_year = ?",
                    [year],
                )
            )
        warehouse.execute_all(statements, con)
        if exists:
            saved += warehouse.scalar(f"SELECT count(*) FROM {_saved(model)}", con=con)
    return saved


def restore_year(warehouse: Warehouse, con: Any, models: list[str], year: int) -> int:
    """Put the saved rows of the year back, in one transaction, after moving what the failed
    build wrote for the year to holding.workforce_<model>. Returns rows held."""
    held = 0
    statements: list[tuple[str, list | None]] = [(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}", None)]
    for model in models:
        table = quote_table(f"workforce.{model}")
        if not warehouse.table_exists(f"workforce.{model}", con):
            continue
        # Counted before the transaction: the writes below move exactly these rows.
        held += warehouse.scalar(
            f"SELECT count(*) FROM {table} WHERE simulation_year = ?", [year], con
        )
        statements += [
            (f"DROP TABLE IF EXISTS {quote_table(held_table(model))}", None),
            (
                f"CREATE TABLE {quote_table(held_table(model))} AS "
                f"SELECT * FROM {table} WHERE simulation_year = ?",
                [year],
            ),
            (f"DELETE FROM {table} WHERE simulation_year = ?", [year]),
        ]
        if warehouse.table_exists(f"{SCHEMA}.workforce_{model}_previous", con):
            # By column name: the saved copy has the table's columns, in whatever order.
            names = warehouse.query(f"SELECT * FROM {_saved(model)} LIMIT 0", con=con)
            columns = ", ".join(f'"{name}"' for name in names.column_names)
            statements.append(
                (f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {_saved(model)}", None)
            )
    warehouse.execute_all(statements, con)
    discard_saved(warehouse, con, models)
    return held


def discard_saved(warehouse: Warehouse, con: Any, models: list[str]) -> None:
    warehouse.execute_all(
        [(f"DROP TABLE IF EXISTS {_saved(model)}", None) for model in models], con
    )
