-- One row per contract and trading date: the settlement price, open interest and cleared
-- volume the exchange published for it. A statistic can be republished (a corrected
-- settlement): the latest publication wins, by received_at then sequence.
with ranked as (
    select
        dataset,
        instrument_id,
        contract,
        root,
        cast(trading_date as date) as trading_date,
        stat_type,
        price,
        quantity,
        received_at,
        row_number() over (
            partition by dataset, instrument_id, stat_type, cast(trading_date as date)
            order by received_at desc, sequence desc
        ) as publication
    from {{ source('market_canonical', 'market_statistics') }}
    where trading_date is not null
)

select
    dataset,
    instrument_id,
    max(contract) as contract,
    max(root) as root,
    trading_date,
    max(case when stat_type = 3 then price end) as settlement_price,
    max(case when stat_type = 9 then quantity end) as open_interest,
    max(case when stat_type = 6 then quantity end) as cleared_volume,
    max(received_at) as last_published_at
from ranked
where publication = 1
group by dataset, instrument_id, trading_date
