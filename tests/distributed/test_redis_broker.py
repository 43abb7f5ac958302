"""Redis as the broker instead of RabbitMQ (the documented alternative): the same energy run
on the machine's Redis (a database number of the test's own, emptied before and after)
gives the tables of the embedded profile."""

import pytest
import redis

from bench.cluster import local_cluster, run_plan
from tests.distributed.compare import compare_tables, embedded_run

PLAN = [("energy_daily_prices", ("2024-01-01", "2024-03-01"))]
DB = 13  # the tests' Redis database; nothing else here uses it


@pytest.mark.timeout(600)
def test_energy_with_redis_as_the_broker(tmp_path):
    keys = redis.Redis(host="127.0.0.1", port=6379, db=DB)
    keys.flushdb()
    try:
        with local_cluster(
            tmp_path, workers=2, broker_url=f"redis://127.0.0.1:6379/{DB}"
        ) as cluster:
            [(_, _, ok, workers, _)] = run_plan(cluster["env"], PLAN)
            assert ok and workers, workers
            duck = embedded_run(tmp_path, PLAN)
            tables = ["staging.fred_prices", "quarantine.fred_prices", "canonical.commodity_prices"]
            compared = compare_tables(duck, cluster["env"]["HEADWATER_WAREHOUSE_DB"], tables)
            assert all(compared.values()), compared
    finally:
        keys.flushdb()
