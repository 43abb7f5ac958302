"""M-R09's memory of a load: every record seen so far, in DuckDB outside the warehouse
(in memory up to a cap, then on disk), dropped when the load ends."""

from __future__ import annotations

import shutil
import tempfile
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb
    import numpy as np
    import pyarrow as pa

SEEN_MEMORY_MB = 64  # the cap on the records M-R09 keeps of a load; beyond it, on disk


class SeenRecords:
    """Every record of one load read so far, to find an exact duplicate of an earlier record
    however far back it came (M-R09): the result never depends on the chunk size.

    Memory stays bounded whatever the file's size: the records go into a private DuckDB
    database capped at `memory_mb`, which spills to a temporary directory beyond it, and a
    chunk is matched against them there by their bytes (exactly; no hash decides). The last
    chunk is handed over only when another one comes, so a file read in one chunk, the
    common case, never opens a database. `close()` (or the `with` block) drops it all."""

    def __init__(self, memory_mb: int = SEEN_MEMORY_MB) -> None:
        self.memory_mb = memory_mb
        # The previous chunk's records not yet in the database, and which of them to add
        # (a record that repeats an earlier one is there already).
        self._pending: tuple[np.ndarray, np.ndarray] | None = None
        self._con: duckdb.DuckDBPyConnection | None = None
        self._closer: weakref.finalize | None = None

    def __enter__(self) -> SeenRecords:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._pending = None
        if self._closer is not None:
            self._closer()
        self._con = self._closer = None

    def check_and_update(self, records: np.ndarray, fresh: np.ndarray) -> np.ndarray:
        """True where a record equals one of an earlier chunk; then remember this chunk's
        `fresh` records (those that do not repeat an earlier record of the chunk)."""
        import numpy as np
        import pyarrow as pa

        n = len(records)
        found = np.zeros(n, dtype=bool)
        if self._pending is not None:
            con = self._connection()
            previous, keep = self._pending
            con.register("_pending", pa.table({"raw": _as_binary(previous[keep])}))
            try:
                con.execute("INSERT INTO seen SELECT raw FROM _pending")
            finally:
                con.unregister("_pending")
            if n:
                chunk = pa.table({"i": pa.array(np.arange(n)), "raw": _as_binary(records)})
                con.register("_chunk", chunk)
                try:
                    hits = con.execute(
                        "SELECT i FROM _chunk SEMI JOIN seen USING (raw)"
                    ).fetchnumpy()["i"]
                finally:
                    con.unregister("_chunk")
                found[hits] = True
        if n:
            self._pending = (records, fresh & ~found)
        return found

    def _connection(self) -> duckdb.DuckDBPyConnection:
        import duckdb

        if self._con is None:
            spill = tempfile.mkdtemp(prefix="headwater-seen-records-")
            con = duckdb.connect(":memory:")
            con.execute(f"SET memory_limit = '{int(self.memory_mb)}MB'")
            con.execute("SET temp_directory = ?", [spill])
            con.execute("CREATE TABLE seen (raw BLOB)")
            self._con = con
            self._closer = weakref.finalize(self, _drop_database, con, spill)
        return self._con


def _drop_database(con: duckdb.DuckDBPyConnection, spill: str) -> None:
    con.close()
    shutil.rmtree(spill, ignore_errors=True)


def _as_binary(records: np.ndarray) -> pa.FixedSizeBinaryArray:
    """Each record's bytes as one Arrow value, without a Python object per record."""
    import numpy as np
    import pyarrow as pa

    raw = np.ascontiguousarray(records).view(np.uint8)
    width = records.dtype.itemsize
    return pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(width), len(records), [None, pa.py_buffer(raw)]
    )
