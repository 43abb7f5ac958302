"""Resources every domain shares, and the executor, by profile (HEADWATER_PROFILE).

Embedded (default): the DuckDB warehouse and the in-process executor - a multiprocess
step re-imports the code location (seconds with dagster-dbt), and DuckDB has a single
writer anyway. Distributed: the PostgreSQL warehouse and dagster-celery, each step a task
on the broker that any worker (`headwater worker`, headwater/celery_app.py) may run.
"""

import dagster as dg

from headwater import settings
from resources.dbt import dbt_cli
from resources.warehouses import warehouse


def executor() -> dg.ExecutorDefinition:
    if not settings.distributed():
        return dg.in_process_executor
    from dagster_celery import celery_executor

    from headwater.celery_app import executor_config

    return celery_executor.configured(executor_config(), name="celery")


settings.export_profile_env()
defs = dg.Definitions(
    resources={"warehouse": warehouse(), "dbt": dbt_cli()},
    executor=executor(),
)
