"""The profile's warehouse (HEADWATER_PROFILE): DuckDB embedded, PostgreSQL distributed.

Settings say which; this module builds it, beside the warehouses themselves.
"""

from headwater import settings
from resources.warehouse import DuckDBWarehouse, Warehouse


def warehouse() -> Warehouse:
    if settings.distributed():
        from resources.warehouse_postgres import PostgresWarehouse

        return PostgresWarehouse()
    return DuckDBWarehouse()
