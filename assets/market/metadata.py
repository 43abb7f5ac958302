"""What a market load records on its staging asset's materialization, per partition."""

import dagster as dg

from assets.market.checks import SAMPLE_ROWS


def staging_metadata(context, staging, partition, start, end, symbols, load) -> None:
    """The load of one partition: window, parents, origin, counts by rule, a sample of the
    quarantined records and the rate, as the staging asset's metadata."""
    rate = load.records_in / load.seconds if load.seconds > 0 else 0.0
    context.add_asset_metadata(
        {
            "window": f"[{start}, {end})",
            "parents": ", ".join(symbols),
            "source": load.origin,
            "file_bytes": load.file_bytes,
            "records_in": load.records_in,
            "rows_loaded": load.staged,
            "rows_quarantined": load.quarantined,
            "quarantined_by_rule": dg.MetadataValue.json(load.counts()["quarantined_by_rule"]),
            "quarantine_sample": dg.MetadataValue.md(sample_md(load.quarantine_sample)),
            "records_per_s": round(rate),
            "dagster/row_count": load.staged,
        },
        asset_key=staging,
        partition_key=partition,
    )


def sample_md(rows: list[tuple[str, str, str]]) -> str:
    if not rows:
        return "none"
    lines = ["| rule | origin | reason |", "|---|---|---|"]
    lines += [f"| {r} | {o} | {why.replace('|', '/')} |" for r, o, why in rows[:SAMPLE_ROWS]]
    return "\n".join(lines)
