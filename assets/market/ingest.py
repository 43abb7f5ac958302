"""Market's part of `headwater ingest --api databento`: the instrument definitions of the
months a request covers (validation and the symbol mapping need them), then the schema,
each as one run over its partition range."""

from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path

from assets.market import config as market_config
from assets.market import files
from assets.market.assets import CONFIG, op_name, partitions_for
from assets.market.dbn import DBNFileError
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


def _definitions_first(schema: str) -> tuple[bool, str]:
    return (schema != "definition", schema)


def _day(ns: int) -> date:
    return datetime.fromtimestamp(ns / 1e9, UTC).date()


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
    options = ("dataset", "schema", "symbols", "files")

    def plan_files(self, paths: list[str], dataset: str | None, config_path: Path | None) -> Plan:
        """DBN files and folders as runs: one per schema the files hold, definitions first,
        each over the partitions the records' own times fall in."""
        import numpy as np

        cfg = CONFIG if config_path is None else market_config.load_market_config(config_path)
        dataset = dataset or cfg.dataset
        try:
            found = [files.inspect(p, cfg.chunk_records) for p in files.data_files(paths)]
            files.check(found, dataset, cfg.first_day)
        except (files.FileRefused, DBNFileError) as exc:
            raise BadParameter(f"--files: {exc}") from None
        with_records = [f for f in found if f.records]
        if not with_records:
            raise BadParameter(f"--files: {', '.join(str(f.path) for f in found)}: no records")
        steps, spans = [], []
        for schema in sorted({f.schema for f in with_records}, key=_definitions_first):
            mine = [f for f in with_records if f.schema == schema]
            first = min(f.first_ns for f in mine)
            last = max(f.last_ns for f in mine)
            keys = tuple(
                str(k) for k in files.partition_keys(np.array([first, last], np.uint64), schema)
            )
            spans += [first, last]
            config = {"ops": {op_name(schema): {"config": {"files": [str(f.path) for f in mine]}}}}
            if dataset != CONFIG.dataset:
                config["resources"] = {"databento": {"config": {"dataset": dataset}}}
            names = ", ".join(f.path.name for f in mine)
            steps.append(Step(job_name(schema), keys, config, f"{schema} from {names}"))
        symbols = sorted({s for f in with_records for s in f.symbols})
        start, end = (_day(ns) for ns in (min(spans), max(spans)))
        return Plan("databento", start, end, steps, "files", tuple(symbols), dataset)

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
        sample_symbols = [f"{r}.FUT" for r, spec in SAMPLE_ROOTS.items() if spec.dataset == dataset]
        if not sample_symbols and sample:
            datasets = sorted({spec.dataset for spec in SAMPLE_ROOTS.values()})
            raise BadParameter(
                f"--dataset {dataset}: sample data exists for {', '.join(datasets)} only; set "
                "HEADWATER_MODE=live (and DATABENTO_API_KEY) to ingest other datasets"
            )
        symbols = list(request.symbols or cfg.parents(dataset))
        if not symbols:
            raise BadParameter(
                f"--dataset {dataset}: no parent symbols configured for it (market.datasets); "
                "name them with --symbols"
            )
        for symbol in symbols:
            if problem := market_config.symbol_problem(symbol):
                raise BadParameter(f"--symbols: {problem}")
        unknown = [s for s in symbols if s not in sample_symbols]
        if unknown and sample:
            raise BadParameter(
                f"--symbols {unknown[0]}: {dataset} sample data exists for "
                f"{', '.join(sample_symbols)} only; set HEADWATER_MODE=live (and "
                "DATABENTO_API_KEY) to ingest other symbols"
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
