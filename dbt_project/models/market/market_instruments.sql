-- One row per instrument of a dataset (ids are unique within a dataset only): its newest
-- definition (definitions are republished; the month partitions of
-- canonical.market_definition each hold the newest of their month).
with ranked as (
    select
        *,
        row_number() over (partition by dataset, instrument_id order by defined_at desc) as newest
    from {{ source('market_canonical', 'market_definition') }}
)

select
    dataset,
    instrument_id,
    contract,
    root,
    asset,
    expiration,
    activation,
    tick,
    multiplier,
    currency,
    defined_at
from ranked
where newest = 1
