"""Resources every domain shares, and the default executor."""

import dagster as dg

from resources.dbt import dbt_cli
from resources.warehouse import DuckDBWarehouse

# In process: a multiprocess step re-imports the code location (seconds with dagster-dbt),
# and DuckDB has a single writer anyway.
defs = dg.Definitions(
    resources={"warehouse": DuckDBWarehouse(), "dbt": dbt_cli()},
    executor=dg.in_process_executor,
)
