"""The DuckDB warehouse: one file, one writer at a time, idempotent writes.

DuckDB lets one process open a database file for writing. Every step that
touches the warehouse (Python assets, dbt) holds `warehouse_lock` for as long
as it has the file open, so overlapping runs - from the daemon, the CLI, two
terminals - queue behind each other instead of failing with "Could not set
lock on file". The lock is an flock on a file beside the database; it is
re-entrant within a process so a step can hold it while dbt (in-process)
opens the same database. The kernel drops an flock when its process dies, so a
killed run never keeps the warehouse.

The holder writes who it is into the lock file; a process waiting for the lock
sleeps (it never spins) and says every few seconds which run holds it, and since
when.

Readers that open the file read-only (`headwater status`, `doctor`) take the lock
shared: DuckDB lets several processes read a file at once, so two of them never
turn each other away, while a writer still waits for them and they for it.
"""

import fcntl
import json
import os
import re
import socket
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from dagster import ConfigurableResource
from pydantic import Field

from headwater import settings

if TYPE_CHECKING:
    import duckdb
    import pandas as pd
    import pyarrow as pa

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
_held: dict[str, tuple[int, int]] = {}  # lock path -> (fd, depth)
_held_guard = threading.RLock()
_holder = {"what": f"process {os.getpid()}"}  # who this process is, written into the lock file
POLL_S = 0.2  # between two tries for a held lock
REPORT_EVERY_S = 5.0  # how often a waiting process says what it waits for


def describe_holder(what: str) -> None:
    """What this process writes into lock files it holds (e.g. "run 1234abcd (job)")."""
    _holder["what"] = what


def quote_table(name: str) -> str:
    """Validate a `schema.table` name from code and return it quoted."""
    parts = name.split(".")
    if len(parts) != 2 or not all(_IDENT.match(p) for p in parts):
        raise ValueError(f"table name {name!r}: expected 'schema.table' in lower snake case")
    return ".".join(f'"{p}"' for p in parts)


def table_exists(con: "duckdb.DuckDBPyConnection", table: str) -> bool:
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
def warehouse_lock(
    db_path: Path | str, timeout_s: float = 1800.0, shared: bool = False
) -> Iterator[None]:
    """Hold the warehouse's writer lock (blocking, re-entrant in this process); `shared`
    for a read-only open, which other readers may hold at the same time (module
    docstring). Re-entering keeps the mode first taken."""
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
        fd = _acquire(lock_path, timeout_s, shared)
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


def _acquire(lock_path: str, timeout_s: float, shared: bool = False) -> int:
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    started = time.monotonic()
    next_report = started + REPORT_EVERY_S
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            now = time.monotonic()
            if now - started > timeout_s:
                os.close(fd)
                raise TimeoutError(
                    f"warehouse {lock_path}: {lock_holder(lock_path)} held the writer lock "
                    f"for more than {timeout_s:.0f} s"
                ) from None
            if now >= next_report:
                print(
                    f"waiting {now - started:.0f} s for the warehouse writer lock "
                    f"({lock_path}): held by {lock_holder(lock_path)}",
                    # The process's own stderr: the console, even while a command sends
                    # Dagster's logs to its log file (headwater.cli.output).
                    file=sys.__stderr__,
                    flush=True,
                )
                next_report = now + REPORT_EVERY_S
            time.sleep(POLL_S)
            continue
        record = {
            "what": _holder["what"],
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        return fd


def lock_holder(lock_path: str) -> str:
    """Who holds the lock, as its holder wrote it: "run ... (pid P on host H) since T"."""
    try:
        record = json.loads(Path(lock_path).read_text() or "{}")
        return (
            f"{record['what']} (pid {record['pid']} on host {record['host']}) "
            f"since {record['since']}"
        )
    except (OSError, ValueError, KeyError):
        return "another process"


class Warehouse(ConfigurableResource):
    """What the domains write and read the warehouse through, on either engine: replace a
    window (`replace_rows`, `replace_many`, `replace_in_batches`, `replace_table`, each one
    transaction), read a window or a query (`read_window`, `query`), and what dbt needs
    (`dbt_env`, `writer_lock`). DuckDBWarehouse (embedded) and PostgresWarehouse
    (resources/warehouse_postgres.py, distributed) implement it; engine-specific SQL lives
    in those two modules and in dbt macros, not in domain code."""

    engine: ClassVar[str]

    def setup_for_execution(self, context) -> None:
        """In a run: record which process executes it (so a killed run can be told from a
        live one, headwater.dead_runs) and name the run in the lock file."""
        run = context.run
        if context.instance is not None and run is not None:
            from headwater.dead_runs import process_tags

            context.instance.add_run_tags(run.run_id, process_tags())
            describe_holder(f"run {run.run_id} ({run.job_name})")

    @staticmethod
    def _window(table, data, column, start, end, where: dict[str, Any] | None = None):
        filters = [f"{_column(column)} >= ?", f"{_column(column)} < ?"]
        params: list[Any] = [start, end]
        for col, value in (where or {}).items():
            filters.append(f"{_column(col)} = ?")
            params.append(value)
        return table, data, " AND ".join(filters), params

    def read_window(self, table: str, column: str, start: Any, end: Any) -> "pd.DataFrame":
        """Rows of `table` with start <= column < end; empty if the table is not there yet."""
        import pandas as pd

        if not self.table_exists(table):
            return pd.DataFrame()
        sql = f"SELECT * FROM {quote_table(table)} WHERE {_column(column)} >= ? AND {_column(column)} < ?"
        return self.query(sql, [start, end]).to_pandas()

    def table_exists(self, table: str, con: Any = None) -> bool:
        return (
            self.scalar(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema = ? AND table_name = ?",
                table.split("."),
                con,
            )
            > 0
        )

    @contextmanager
    def session(self, memory_mb: int | None = None) -> Iterator[Any]:
        """A connection for several reads and writes in a row (`con=` of the methods here).
        `memory_mb` caps what the engine keeps in memory (DuckDB's buffer pool), if it can."""
        with self.connect() as con:
            yield con

    def query(self, sql: str, params: list[Any] | None = None, con: Any = None) -> "pa.Table":
        """The rows of a query (written with `?` placeholders) as an Arrow table."""
        raise NotImplementedError

    def scalar(self, sql: str, params: list[Any] | None = None, con: Any = None) -> Any:
        """The first column of the first row of a query (None if it has no rows)."""
        table = self.query(sql, params, con)
        return table.column(0)[0].as_py() if table.num_rows else None

    def dbt_env(self) -> dict[str, str]:
        """Environment variables dbt's profile reads to reach this warehouse."""
        raise NotImplementedError

    @contextmanager
    def writer_lock(self) -> Iterator[None]:
        """Held while dbt writes this warehouse."""
        yield


class DuckDBWarehouse(Warehouse):
    """The embedded warehouse. `path` defaults to HEADWATER_WAREHOUSE or data/warehouse.duckdb."""

    engine: ClassVar[str] = "duckdb"
    path: str = Field(default_factory=lambda: str(settings.warehouse_path()))
    lock_timeout_s: float = 1800.0

    def dbt_env(self) -> dict[str, str]:
        return {
            "HEADWATER_WAREHOUSE": str(Path(self.path).resolve()),
            "HEADWATER_DBT_TARGET": "duckdb",
        }

    @contextmanager
    def writer_lock(self) -> Iterator[None]:
        """dbt opens the DuckDB file itself, in a subprocess: it runs under the writer lock."""
        with warehouse_lock(self.path, self.lock_timeout_s):
            yield

    @contextmanager
    def connect(self) -> "Iterator[duckdb.DuckDBPyConnection]":
        """A connection held under the writer lock; closed (and the lock released) on exit."""
        import duckdb

        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with warehouse_lock(self.path, self.lock_timeout_s):
            con = duckdb.connect(self.path)
            try:
                yield con
            finally:
                con.close()

    @contextmanager
    def session(self, memory_mb: int | None = None) -> "Iterator[duckdb.DuckDBPyConnection]":
        with self.connect() as con:
            if memory_mb:
                # DuckDB keeps what it writes in its buffer pool (up to 80% of RAM by
                # default): a cap keeps a long load's memory flat; written blocks are on disk.
                con.execute(f"SET memory_limit = '{int(memory_mb)}MB'")
            yield con

    def query(
        self,
        sql: str,
        params: list[Any] | None = None,
        con: "duckdb.DuckDBPyConnection | None" = None,
    ) -> "pa.Table":
        if con is None:
            with self.connect() as own:
                return self.query(sql, params, own)
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
        return self._replace(*self._window(table, data, column, start, end, where))

    def replace_table(self, table: str, data: Any) -> int:
        """Replace the whole table's contents by `data` in one transaction."""
        return self._replace(table, data, "TRUE", [])

    def replace_many(self, writes: list[tuple]) -> dict[str, int]:
        """Several `replace_rows` (table, data, column, start, end[, where]) in ONE
        transaction: readers see all the tables' old rows or all the new ones. Returns rows
        per table."""
        return self._replace_all([self._window(*write) for write in writes])

    def replace_in_batches(
        self,
        windows: dict[str, tuple],
        batches: "Iterable[dict[str, pa.Table]]",
        constants: dict[str, Any] | None = None,
        con: "duckdb.DuckDBPyConnection | None" = None,
    ) -> dict[str, int]:
        """Replace the window (column, start, end[, where]) of each table in `windows` by the
        rows of `batches`, in ONE transaction, reading the batches as they come: memory holds
        one batch whatever the total. Each batch maps tables to the rows to add to them. If
        reading a batch raises (a truncated file, say), nothing is replaced. A table with
        no rows in any batch has its window emptied. `constants` are columns every row of
        every table gets (added by the database, not built per row in Python). `con`: a
        connection from `connect()` the caller holds across several writes (DuckDB writes
        its data to the file when the last connection closes: once per run, not per write).
        Returns rows inserted per table."""
        if con is None:
            with self.connect() as own:
                return self.replace_in_batches(windows, batches, constants, own)
        counts = dict.fromkeys(windows, 0)
        extra = "".join(f", ? AS {_column(name)}" for name in constants or {})
        values = list((constants or {}).values())
        con.execute("BEGIN TRANSACTION")
        try:
            cleared: set[str] = set()

            def clear(table: str, like: "pa.Table | None") -> None:
                qualified = quote_table(table)
                if like is not None:
                    con.register("_incoming", like.slice(0, 0))
                    try:
                        con.execute(f"CREATE SCHEMA IF NOT EXISTS {qualified.split('.')[0]}")
                        con.execute(
                            f"CREATE TABLE IF NOT EXISTS {qualified} AS "
                            f"SELECT *{extra} FROM _incoming LIMIT 0",
                            values,
                        )
                    finally:
                        con.unregister("_incoming")
                elif not table_exists(con, table):
                    return
                _, _, predicate, params = self._window(table, None, *windows[table])
                con.execute(f"DELETE FROM {qualified} WHERE {predicate}", params)
                cleared.add(table)

            for batch in batches:
                for table, rows in batch.items():
                    if table not in windows:
                        raise KeyError(f"{table}: not among the tables this write replaces")
                    if table not in cleared:
                        clear(table, rows)
                    if not rows.num_rows:
                        continue
                    con.register("_incoming", rows)
                    try:
                        con.execute(
                            f"INSERT INTO {quote_table(table)} BY NAME "
                            f"SELECT *{extra} FROM _incoming",
                            values,
                        )
                    finally:
                        con.unregister("_incoming")
                    counts[table] += rows.num_rows
            for table in windows:
                if table not in cleared:
                    clear(table, None)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return counts

    def _replace(self, table: str, data: Any, predicate: str, params: list[Any]) -> int:
        return self._replace_all([(table, data, predicate, params)])[table]

    def _replace_all(self, parts: list[tuple[str, Any, str, list[Any]]]) -> dict[str, int]:
        import pyarrow as pa

        prepared = []
        for table, data, predicate, params in parts:
            arrow = (
                data
                if isinstance(data, pa.Table)
                else pa.Table.from_pandas(data, preserve_index=False)
            )
            prepared.append((quote_table(table), table, arrow, predicate, params))
        counts = {}
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                for n, (qualified, table, arrow, predicate, params) in enumerate(prepared):
                    view = f"_incoming_{n}"
                    con.register(view, arrow)
                    try:
                        con.execute(f"CREATE SCHEMA IF NOT EXISTS {qualified.split('.')[0]}")
                        con.execute(
                            f"CREATE TABLE IF NOT EXISTS {qualified} AS SELECT * FROM {view} LIMIT 0"
                        )
                        con.execute(f"DELETE FROM {qualified} WHERE {predicate}", params)
                        con.execute(f"INSERT INTO {qualified} BY NAME SELECT * FROM {view}")
                    finally:
                        con.unregister(view)
                    counts[table] = arrow.num_rows
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise
        return counts

    def execute(
        self,
        sql: str,
        params: list[Any] | None = None,
        con: "duckdb.DuckDBPyConnection | None" = None,
    ) -> None:
        """Run one statement that returns no rows (DDL or DML), committed on its own."""
        self.execute_all([(sql, params)], con)

    def execute_all(
        self,
        statements: list[tuple[str, list[Any] | None]],
        con: "duckdb.DuckDBPyConnection | None" = None,
    ) -> None:
        """Run statements that return no rows (written with `?` placeholders) in ONE
        transaction: all of them or none."""
        if con is None:
            with self.connect() as own:
                return self.execute_all(statements, own)
        con.execute("BEGIN TRANSACTION")
        try:
            for sql, params in statements:
                con.execute(sql, params or None)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
