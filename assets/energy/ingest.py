"""Energy's part of `headwater ingest --api eia|fred|yahoo`: whole months of one source's
staging and the canonical prices, as one run over the range."""

from collections.abc import Mapping
from datetime import date
from pathlib import Path

from assets.energy import automation
from assets.energy.assets import monthly_partitions
from headwater.plans import IngestJob, IngestRequest, Plan, Step, in_range, month_end, month_key


class EnergyIngest:
    apis = tuple(automation.source_jobs)
    options: tuple[str, ...] = ()

    def plan(self, request: IngestRequest) -> Plan:
        first, last = request.start, request.end
        cfg_first = date.fromisoformat(monthly_partitions.get_first_partition_key())
        cfg_last = month_end(date.fromisoformat(monthly_partitions.get_last_partition_key()))
        in_range("--start-date", first, cfg_first, cfg_last, "month", "energy.start_date")
        in_range("--end-date", last, cfg_first, cfg_last, "month", "energy.start_date")
        keys = (month_key(first), month_key(last))
        job = automation.source_jobs[request.api].name
        what = f"{request.api} prices, staging and canonical"
        return Plan(request.api, first, last, [Step(job, keys, what=what)])

    def jobs(self, config_path: Path | None) -> Mapping[str, IngestJob]:
        return {}
