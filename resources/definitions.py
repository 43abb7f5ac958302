"""Resources every domain shares."""

import dagster as dg

from resources.dbt import dbt_cli
from resources.warehouse import DuckDBWarehouse

defs = dg.Definitions(resources={"warehouse": DuckDBWarehouse(), "dbt": dbt_cli()})
