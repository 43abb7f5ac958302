"""Market's part of `headwater ingest --api databento`: the instrument definitions of the
months a request covers (validation and the symbol mapping need them), then the schema,
each as one run over its partition range."""

from collections.abc import Mapping
from datetime import date
from pathlib import Path

from assets.market import config as market_config
from assets.market.assets import CONFIG, op_name, partitions_for
from assets.market.sample_data import DATASET as SAMPLE_DATASET
from assets.market.sample_data import ROOTS as SAMPLE_ROOTS
from headwater import settings
from headwater.plans import (
    BadParameter,
    IngestJob,
    IngestRequest,
    Plan,
    Step,
    in_range,
    month_end,
    month_key,
)


def job_name(schema: str) -> str:
    return "market_" + schema.replace("-", "_")


def ingest_run_config(schema: str, symbols: list[str], dataset: str | None = None) -> dict:
    """Run config of a `market_<schema>` run for these symbols (headwater ingest). The
    dataset, when it is not the configured one, goes to the source resource."""
    config: dict = {"ops": {op_name(schema): {"config": {"symbols": list(symbols)}}}}
    if dataset and dataset != CONFIG.dataset:
        config["resources"] = {"databento": {"config": {"dataset": dataset}}}
    return config


class MarketIngest:
    apis = ("databento",)
    options = ("dataset", "schema", "symbols")

    def plan(self, request: IngestRequest) -> Plan:
        first, last, schema = request.start, request.end, request.schema
        cfg = (
            CONFIG
            if request.config_path is None
            else market_config.load_market_config(request.config_path)
        )
        schemas = ", ".join(market_config.SCHEMAS)
        if schema is None:
            raise BadParameter(f"--schema is required with --api databento: one of {schemas}")
        if schema not in market_config.SCHEMAS:
            raise BadParameter(f"--schema {schema!r}: unknown; expected one of {schemas}")
        dataset = request.dataset or cfg.dataset
        if not market_config.DATASET.fullmatch(dataset):
            raise BadParameter(f"--dataset {dataset!r}: expected a dataset like GLBX.MDP3")
        sample = settings.source_mode() == "sample"
        if dataset != SAMPLE_DATASET and sample:
            raise BadParameter(
                f"--dataset {dataset}: sample data exists for {SAMPLE_DATASET} only; set "
                "HEADWATER_MODE=live (and DATABENTO_API_KEY) to ingest other datasets"
            )
        symbols = list(request.symbols or cfg.symbols)
        for symbol in symbols:
            if problem := market_config.symbol_problem(symbol):
                raise BadParameter(f"--symbols: {problem}")
        sample_symbols = [f"{root}.FUT" for root in SAMPLE_ROOTS]
        unknown = [s for s in symbols if s not in sample_symbols]
        if unknown and sample:
            raise BadParameter(
                f"--symbols {unknown[0]}: sample data exists for {', '.join(sample_symbols)} "
                "only; set HEADWATER_MODE=live (and DATABENTO_API_KEY) to ingest other symbols"
            )
        grain = market_config.SCHEMAS[schema]
        partitions = partitions_for(schema)
        p_first = date.fromisoformat(partitions.get_first_partition_key())
        p_last = date.fromisoformat(partitions.get_last_partition_key())
        p_last_day = p_last if grain == "daily" else month_end(p_last)
        kind = "daily" if grain == "daily" else "month"
        setting = "market.intraday_start_date" if grain == "daily" else "market.start_date"
        in_range("--start-date", first, p_first, p_last_day, kind, setting)
        in_range("--end-date", last, p_first, p_last_day, kind, setting)
        steps = []
        months = (month_key(first), month_key(last))
        if schema != "definition":
            steps.append(
                Step(
                    job_name("definition"),
                    months,
                    ingest_run_config("definition", symbols, dataset),
                    "instrument definitions of the months covered",
                )
            )
        keys = (first.isoformat(), last.isoformat()) if grain == "daily" else months
        steps.append(
            Step(
                job_name(schema),
                keys,
                ingest_run_config(schema, symbols, dataset),
                f"{schema} staging and canonical",
            )
        )
        return Plan("databento", first, last, steps, schema, tuple(symbols), dataset)

    def jobs(self, config_path: Path | None) -> Mapping[str, IngestJob]:
        return market_config.load_market_config(config_path).jobs
