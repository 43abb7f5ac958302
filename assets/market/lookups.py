"""What a market load reads from the warehouse before it writes: the contracts of a dataset
(its definitions), whether a month's definitions are loaded, and the `dataset` column of
tables written before rows carried one."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from assets.market import transform
from resources.warehouse import Warehouse, quote_table

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa


def symbol_table(warehouse: Warehouse, dataset: str, con=None) -> transform.SymbolTable:
    """Contracts by instrument id from canonical.market_definition (the newest definition of
    each id of `dataset`: ids are unique within a dataset only), in the shape the
    transformation rules look symbols up in."""
    import numpy as np
    import pyarrow as pa

    if not warehouse.table_exists("canonical.market_definition", con):
        rows = pa.table({"instrument_id": pa.array([], pa.uint32())})
    else:
        rows = warehouse.query(
            "SELECT instrument_id, contract, root, asset, multiplier, tick, expiration "
            "FROM (SELECT *, row_number() OVER (PARTITION BY instrument_id "
            "ORDER BY defined_at DESC) AS newest FROM canonical.market_definition "
            "WHERE dataset = ?) AS ranked WHERE newest = 1 ORDER BY instrument_id",
            [dataset],
            con=con,
        )
    n = rows.num_rows

    def column(name: str, dtype) -> np.ndarray:
        if n == 0:
            return np.empty(0, dtype=dtype)
        if name == "expiration":
            return expiration_ns(rows[name])
        return rows[name].to_numpy(zero_copy_only=False).astype(dtype)

    return transform.SymbolTable(
        instrument_id=column("instrument_id", np.uint32),
        raw_symbol=column("contract", object),
        parent=column("root", object),
        asset=column("asset", object),
        multiplier=column("multiplier", np.float64),
        tick=column("tick", np.float64),
        expiration=column("expiration", np.uint64),
    )


def expiration_ns(column: pa.ChunkedArray) -> np.ndarray:
    """Expiration instants (as either engine returns them) as ns since the epoch, uint64;
    a missing one as UNDEF_TIMESTAMP, which the transformation rules read as undefined."""
    import numpy as np
    import pyarrow as pa

    ns = column.cast(pa.timestamp("ns", tz="UTC")).cast(pa.int64()).fill_null(-1)
    return ns.to_numpy(zero_copy_only=False).astype(np.uint64)  # -1 wraps to UNDEF_TIMESTAMP


def definitions_loaded(
    warehouse: Warehouse, con, dataset: str, month: date, parent: str | None
) -> int:
    """Definitions of `dataset` of `parent`'s contracts (None: of any) loaded for the month."""
    if not warehouse.table_exists("canonical.market_definition", con):
        return 0
    where, params = "dataset = ? AND partition_date = ?", [dataset, month]
    if parent is not None:
        where, params = where + " AND parent = ?", [*params, parent]
    return warehouse.scalar(
        f"SELECT count(*) FROM canonical.market_definition WHERE {where}", params, con
    )


def add_dataset_column(warehouse: Warehouse, con, tables, dataset: str) -> None:
    """Tables written before rows carried their dataset get the column, their rows marked
    with `dataset` (market.dataset: the only one they could have come from by default)."""
    for table in tables:
        if not warehouse.table_exists(table, con):
            continue
        layer, name = table.split(".")
        if not warehouse.scalar(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = ? "
            "AND table_name = ? AND column_name = 'dataset'",
            [layer, name],
            con,
        ):
            warehouse.execute(
                f"ALTER TABLE {quote_table(table)} ADD COLUMN dataset VARCHAR DEFAULT '{dataset}'",
                con=con,
            )
