-- One row per instrument: its newest definition (definitions are republished; the month
-- partitions of canonical.market_definition each hold the newest of their month).
with ranked as (
    select
        *,
        row_number() over (partition by instrument_id order by defined_at desc) as newest
    from {{ source('market_canonical', 'market_definition') }}
)

select
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
