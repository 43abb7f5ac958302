"""The distributed profile's warehouse: PostgreSQL, through the same interface as DuckDB.

Writes are the embedded warehouse's: a window of a table is replaced in one transaction
(DELETE the window, COPY the new rows in), so running a partition twice, or again after
a crash, leaves the same rows. PostgreSQL takes many writers, so there is no file lock:
each transaction first takes a transaction-scoped advisory lock per table it replaces
(in name order, so two writers never deadlock), which makes two runs replacing windows
of one table take turns - without it, both would delete, both insert, and the window
would hold both loads - while writers of other tables go on side by side.

Bulk loads stream Arrow record batches to `COPY ... FROM STDIN` as CSV (written by
Arrow's C++ CSV writer); tables are created from the Arrow schema on first write. Domain
SQL is written once with `?` placeholders; `translate` turns them into psycopg's `%s`.

The password is read from HEADWATER_PG_PASSWORD where a connection is made, and is never
part of the resource's config (which the UI shows) or of an error.
"""

import io
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.csv as pacsv
from pydantic import Field

from headwater import settings
from resources.warehouse import Warehouse, _column, quote_table

# Arrow type -> PostgreSQL column type, for tables created from the first rows written.
_PG_TYPES = [
    (pa.types.is_boolean, "boolean"),
    (pa.types.is_int8, "smallint"),
    (pa.types.is_int16, "smallint"),
    (pa.types.is_int32, "integer"),
    (pa.types.is_int64, "bigint"),
    (pa.types.is_uint8, "smallint"),
    (pa.types.is_uint16, "integer"),
    (pa.types.is_uint32, "bigint"),
    (pa.types.is_uint64, "numeric(20)"),
    (pa.types.is_float32, "real"),
    (pa.types.is_float64, "double precision"),
    (pa.types.is_decimal, "numeric"),
    (pa.types.is_date, "date"),
    (pa.types.is_time, "time"),
    (pa.types.is_string, "text"),
    (pa.types.is_large_string, "text"),
    (pa.types.is_null, "text"),
    (pa.types.is_binary, "bytea"),
]


def pg_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_timestamp(arrow_type):
        return "timestamptz" if arrow_type.tz else "timestamp"
    if pa.types.is_dictionary(arrow_type):
        return pg_type(arrow_type.value_type)
    for test, name in _PG_TYPES:
        if test(arrow_type):
            return name
    raise TypeError(f"no PostgreSQL column type for Arrow type {arrow_type}")


def translate(sql: str) -> str:
    """DuckDB-style `?` placeholders -> psycopg's `%s` (a literal `%` doubled), outside
    quoted strings and identifiers."""
    out, quote = [], None
    for ch in sql:
        if quote:
            if ch == quote:
                quote = None
        elif ch in ("'", '"'):
            quote = ch
        elif ch == "?":
            out.append("%s")
            continue
        if ch == "%":
            out.append("%%")
            continue
        out.append(ch)
    return "".join(out)


def _csv_ready(table: pa.Table) -> pa.Table:
    """Columns CSV and COPY agree on: timestamps to microseconds (PostgreSQL's precision),
    dictionaries decoded."""
    columns = []
    for column in table.columns:
        kind = column.type
        if pa.types.is_dictionary(kind):
            column = column.cast(kind.value_type)
        elif pa.types.is_timestamp(kind) and kind.unit == "ns":
            column = column.cast(pa.timestamp("us", kind.tz), safe=False)
        columns.append(column)
    return pa.table(columns, names=table.column_names)


class PostgresWarehouse(Warehouse):
    """The warehouse in PostgreSQL (HEADWATER_PROFILE=distributed). Connection settings
    default to HEADWATER_PG_HOST / PORT / USER and HEADWATER_WAREHOUSE_DB."""

    engine: ClassVar[str] = "postgres"
    host: str = Field(default_factory=lambda: settings.warehouse_postgres()["host"])
    port: int = Field(default_factory=lambda: int(settings.warehouse_postgres()["port"]))
    user: str = Field(default_factory=lambda: settings.warehouse_postgres()["user"])
    dbname: str = Field(default_factory=lambda: settings.warehouse_postgres()["dbname"])

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}/{self.dbname}"

    def _connect_raw(self, dbname: str | None = None):
        import psycopg2

        return psycopg2.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=os.environ.get("HEADWATER_PG_PASSWORD", ""),
            dbname=dbname or self.dbname,
            connect_timeout=10,
            application_name="headwater",
            options="-c TimeZone=UTC",
        )

    def create_database(self) -> None:
        """Create the warehouse database if it is not there yet."""
        import psycopg2
        from psycopg2 import sql

        con = self._connect_raw("postgres")
        try:
            con.autocommit = True  # CREATE DATABASE cannot run in a transaction
            with con.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.dbname])
                if cur.fetchone() is None:
                    db = sql.Identifier(self.dbname)
                    try:
                        cur.execute(sql.SQL("CREATE DATABASE {}").format(db))
                    except psycopg2.errors.DuplicateDatabase:
                        return  # another worker created it a moment ago
                    # dbt's sessions too: a timestamp cast to a date is its UTC day.
                    cur.execute(sql.SQL("ALTER DATABASE {} SET TimeZone TO 'UTC'").format(db))
        finally:
            con.close()

    def check(self) -> None:
        """Reach the warehouse (creating its database if need be), or raise SettingsError
        in one line naming the server and the settings."""
        with self.connect():
            pass

    @contextmanager
    def connect(self) -> Iterator[Any]:
        """A psycopg2 connection (one transaction until commit), closed on exit."""
        import psycopg2

        try:
            con = self._connect_raw()
        except psycopg2.OperationalError as exc:
            if "does not exist" not in str(exc):
                raise _unreachable(self.where, exc) from None
            self.create_database()
            con = self._connect_raw()
        try:
            yield con
        finally:
            con.close()

    def query(self, sql: str, params: list[Any] | None = None, con: Any = None) -> pa.Table:
        if con is None:
            with self.connect() as own:
                return self.query(sql, params, own)
        with con.cursor() as cur:
            # Always a parameter list: psycopg then turns translate()'s `%%` back into `%`.
            cur.execute(translate(sql), list(params or []))
            names = [d.name for d in cur.description]
            rows = cur.fetchall()
        con.commit()  # a read ends its transaction: a session never holds one open
        return pa.table({name: [row[i] for row in rows] for i, name in enumerate(names)})

    def dbt_env(self) -> dict[str, str]:
        return {
            "HEADWATER_DBT_TARGET": "postgres",
            "HEADWATER_PG_HOST": self.host,
            "HEADWATER_PG_PORT": str(self.port),
            "HEADWATER_PG_USER": self.user,
            settings.WAREHOUSE_PG_DB: self.dbname,
            "PGTZ": "UTC",
        }

    # ---- writes

    def replace_rows(self, table, data, column, start, end, where=None) -> int:
        return self.replace_many([(table, data, column, start, end, where)])[table]

    def replace_table(self, table: str, data: Any) -> int:
        return self._replace_all([(table, _arrow(data), "TRUE", [])])[table]

    def replace_many(self, writes: list[tuple]) -> dict[str, int]:
        parts = []
        for table, data, *window in writes:
            _, _, predicate, params = self._window(table, None, *window)
            parts.append((table, _arrow(data), predicate, params))
        return self._replace_all(parts)

    def replace_in_batches(
        self,
        windows: dict[str, tuple],
        batches: Iterable[dict[str, pa.Table]],
        constants: dict[str, Any] | None = None,
        con: Any = None,
    ) -> dict[str, int]:
        """As DuckDBWarehouse.replace_in_batches: one transaction, one batch in memory."""
        if con is None:
            with self.connect() as own:
                return self.replace_in_batches(windows, batches, constants, own)
        counts = dict.fromkeys(windows, 0)
        try:
            with con.cursor() as cur:
                _lock_tables(cur, windows)
                cleared: set[str] = set()
                for batch in batches:
                    for table, rows in batch.items():
                        if table not in windows:
                            raise KeyError(f"{table}: not among the tables this write replaces")
                        rows = _with_constants(rows, constants)
                        if table not in cleared:
                            self._clear(cur, table, rows, windows[table])
                            cleared.add(table)
                        counts[table] += _copy(cur, table, rows)
                for table in windows:
                    if table not in cleared and _exists(cur, table):
                        self._clear(cur, table, None, windows[table])
            con.commit()
        except BaseException:
            con.rollback()
            raise
        return counts

    def _clear(self, cur, table: str, like: pa.Table | None, window: tuple) -> None:
        if like is not None:
            _create(cur, table, like.schema)
        _, _, predicate, params = self._window(table, None, *window)
        cur.execute(f"DELETE FROM {quote_table(table)} WHERE {translate(predicate)}", params)

    def _replace_all(self, parts: list[tuple[str, pa.Table, str, list[Any]]]) -> dict[str, int]:
        counts = {}
        with self.connect() as con:
            try:
                with con.cursor() as cur:
                    _lock_tables(cur, [table for table, *_ in parts])
                    for table, arrow, predicate, params in parts:
                        _create(cur, table, arrow.schema)
                        cur.execute(
                            f"DELETE FROM {quote_table(table)} WHERE {translate(predicate)}",
                            params,
                        )
                        counts[table] = _copy(cur, table, arrow)
                con.commit()
            except BaseException:
                con.rollback()
                raise
        return counts

    def execute(self, sql: str, params: list[Any] | None = None, con: Any = None) -> None:
        """As DuckDBWarehouse.execute: one statement that returns no rows, committed."""
        self.execute_all([(sql, params)], con)

    def execute_all(self, statements: list[tuple[str, list[Any] | None]], con: Any = None) -> None:
        """As DuckDBWarehouse.execute_all: the statements in ONE transaction."""
        if con is None:
            with self.connect() as own:
                return self.execute_all(statements, own)
        try:
            with con.cursor() as cur:
                for sql, params in statements:
                    # Always a parameter list: psycopg then turns translate()'s `%%` back to `%`.
                    cur.execute(translate(sql), list(params or []))
            con.commit()
        except BaseException:
            con.rollback()
            raise


def _unreachable(where: str, exc: Exception) -> Exception:
    from headwater.settings import SettingsError

    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return SettingsError(
        f"Postgres warehouse at {where} cannot be reached ({first}): start PostgreSQL or set "
        "HEADWATER_PG_HOST / HEADWATER_PG_PORT / HEADWATER_PG_USER / HEADWATER_PG_PASSWORD / "
        f"{settings.WAREHOUSE_PG_DB}"
    )


def _arrow(data: Any) -> pa.Table:
    return data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)


def _with_constants(rows: pa.Table, constants: dict[str, Any] | None) -> pa.Table:
    for name, value in (constants or {}).items():
        # Typed from the value, not the rows: a batch without rows (no rejects in a first
        # chunk) still creates the column as a date, not as text.
        rows = rows.append_column(name, pa.array([value] * rows.num_rows, pa.scalar(value).type))
    return rows


def _lock_tables(cur, tables: Iterable[str]) -> None:
    """One writer per table until this transaction ends (committed or rolled back)."""
    for table in sorted(set(tables)):
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [table])


def _exists(cur, table: str) -> bool:
    cur.execute(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = %s",
        table.split("."),
    )
    return cur.fetchone() is not None


def _create(cur, table: str, schema: pa.Schema) -> None:
    """Create `table` (and its schema) from an Arrow schema, unless it is there. Writers of
    one table hold its lock already; writers of two new tables of a new schema take turns
    on the schema's lock, since concurrent CREATE SCHEMA IF NOT EXISTS can still collide."""
    if _exists(cur, table):
        return
    qualified = quote_table(table)
    name = table.split(".")[0]
    cur.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [name])
    if cur.fetchone() is None:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"schema {name}"])
        cur.execute(f"CREATE SCHEMA IF NOT EXISTS {qualified.split('.')[0]}")
    columns = ", ".join(f"{_column(f.name)} {pg_type(f.type)}" for f in schema)
    cur.execute(f"CREATE TABLE IF NOT EXISTS {qualified} ({columns})")


def _copy(cur, table: str, rows: pa.Table) -> int:
    """COPY `rows` into `table` by column name; returns rows written."""
    if not rows.num_rows:
        return 0
    rows = _csv_ready(rows)
    buffer = io.BytesIO()
    pacsv.write_csv(rows, buffer, pacsv.WriteOptions(include_header=False))
    buffer.seek(0)
    columns = ", ".join(_column(name) for name in rows.column_names)
    cur.copy_expert(f"COPY {quote_table(table)} ({columns}) FROM STDIN WITH (FORMAT csv)", buffer)
    return rows.num_rows
