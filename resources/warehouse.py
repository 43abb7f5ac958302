"""The DuckDB warehouse: one file, one writer at a time, idempotent writes.

DuckDB lets one process open a database file for writing. Every step that
touches the warehouse (Python assets, dbt) holds `warehouse_lock` for as long
as it has the file open, so overlapping runs - from the daemon, the CLI, two
terminals - queue behind each other instead of failing with "Could not set
lock on file". The lock is an flock on a file beside the database; it is
re-entrant within a process so a step can hold it while dbt (in-process)
opens the same database.
"""

import fcntl
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from dagster import ConfigurableResource
from pydantic import Field

from headwater import settings

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
_held: dict[str, tuple[int, int]] = {}  # lock path -> (fd, depth)
_held_guard = threading.RLock()


def quote_table(name: str) -> str:
    """Validate a `schema.table` name from code and return it quoted."""
    parts = name.split(".")
    if len(parts) != 2 or not all(_IDENT.match(p) for p in parts):
        raise ValueError(f"table name {name!r}: expected 'schema.table' in lower snake case")
    return ".".join(f'"{p}"' for p in parts)


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = table.split(".")
    # fetchall, not fetchone: DuckDB 2 keeps a half-read result open and refuses con.sql().
    [(found,)] = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, name],
    ).fetchall()
    return found > 0


def _column(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"column name {name!r}: expected lower snake case")
    return f'"{name}"'


@contextmanager
def warehouse_lock(db_path: Path | str, timeout_s: float = 1800.0) -> Iterator[None]:
    """Hold the warehouse's writer lock (blocking, re-entrant in this process)."""
    lock_path = str(Path(db_path).with_suffix(".lock"))
    with _held_guard:
        if lock_path in _held:
            fd, depth = _held[lock_path]
            _held[lock_path] = (fd, depth + 1)
            reentered = True
        else:
            reentered = False
    if not reentered:
        Path(lock_path).parent.mkdir(parents=True, exist_ok=True)
        fd = _acquire(lock_path, timeout_s)
        with _held_guard:
            _held[lock_path] = (fd, 1)
    try:
        yield
    finally:
        with _held_guard:
            fd, depth = _held[lock_path]
            if depth == 1:
                del _held[lock_path]
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
            else:
                _held[lock_path] = (fd, depth - 1)


def _acquire(lock_path: str, timeout_s: float) -> int:
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                raise TimeoutError(
                    f"warehouse {lock_path}: another process held the writer lock for "
                    f"more than {timeout_s:.0f} s"
                ) from None
            time.sleep(0.05)


class DuckDBWarehouse(ConfigurableResource):
    """The embedded warehouse. `path` defaults to HEADWATER_WAREHOUSE or data/warehouse.duckdb."""

    path: str = Field(default_factory=lambda: str(settings.warehouse_path()))
    lock_timeout_s: float = 1800.0

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection held under the writer lock; closed (and the lock released) on exit."""
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with warehouse_lock(self.path, self.lock_timeout_s):
            con = duckdb.connect(self.path)
            try:
                yield con
            finally:
                con.close()

    def query(self, sql: str, params: list[Any] | None = None) -> pa.Table:
        with self.connect() as con:
            return con.sql(sql, params=params or None).to_arrow_table()

    def replace_rows(
        self,
        table: str,
        data: Any,
        column: str,
        start: Any,
        end: Any,
        where: dict[str, Any] | None = None,
    ) -> int:
        """Replace exactly the rows with start <= column < end (and `where` equalities) by
        `data` (Arrow table or DataFrame), in one transaction. Returns rows inserted."""
        filters = [f"{_column(column)} >= ?", f"{_column(column)} < ?"]
        params: list[Any] = [start, end]
        for col, value in (where or {}).items():
            filters.append(f"{_column(col)} = ?")
            params.append(value)
        return self._replace(table, data, " AND ".join(filters), params)

    def replace_table(self, table: str, data: Any) -> int:
        """Replace the whole table's contents by `data` in one transaction."""
        return self._replace(table, data, "TRUE", [])

    def _replace(self, table: str, data: Any, predicate: str, params: list[Any]) -> int:
        qualified = quote_table(table)
        schema = qualified.split(".")[0]
        arrow = (
            data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)
        )
        with self.connect() as con:
            con.register("_incoming", arrow)
            try:
                con.execute("BEGIN TRANSACTION")
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
                con.execute(
                    f"CREATE TABLE IF NOT EXISTS {qualified} AS SELECT * FROM _incoming LIMIT 0"
                )
                con.execute(f"DELETE FROM {qualified} WHERE {predicate}", params)
                con.execute(f"INSERT INTO {qualified} BY NAME SELECT * FROM _incoming")
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise
            finally:
                con.unregister("_incoming")
        return arrow.num_rows
