-- A continuous front-month daily series per root: each day, the bar of the contract the
-- roll rule picks (docs/market.md, "Roll rule"; settings market.roll).
--   open_interest:      the contract with the most open interest as last published on or
--                       before the day; the series only rolls forward (to a later expiry).
--   days_before_expiry: the nearest contract that is more than N days from expiry.
-- A day whose chosen contract has no bar has no row (no price is invented).
{% set method = env_var('HEADWATER_MARKET_ROLL_METHOD', 'open_interest') %}
{% set days = env_var('HEADWATER_MARKET_ROLL_DAYS', '5') | int %}

with bars as (
    select
        b.dataset,
        b.root,
        cast(b.bar_date as date) as bar_date,
        b.instrument_id,
        b.contract,
        d.expiration,
        b.open, b.high, b.low, b.close, b.volume
    from {{ source('market_canonical', 'market_ohlcv_1d') }} as b
    join {{ ref('market_instruments') }} as d using (dataset, instrument_id)
),

{% if method == 'open_interest' %}
interest as (
    -- each bar with the latest open interest published for its contract up to that day
    select
        bars.*,
        (
            select s.open_interest
            from {{ ref('market_contract_settlements') }} as s
            where s.dataset = bars.dataset
              and s.instrument_id = bars.instrument_id
              and s.open_interest is not null
              and s.trading_date <= bars.bar_date
            order by s.trading_date desc
            limit 1
        ) as open_interest
    from bars
),

leader as (
    select
        dataset,
        root,
        bar_date,
        expiration as leader_expiration,
        row_number() over (
            partition by dataset, root, bar_date
            order by coalesce(open_interest, -1) desc, expiration asc
        ) as place
    from interest
),

front as (
    select
        dataset,
        root,
        bar_date,
        max(leader_expiration) over (
            partition by dataset, root order by bar_date rows between unbounded preceding and current row
        ) as front_expiration
    from leader
    where place = 1
),

chosen as (
    select interest.*
    from interest
    join front
      on interest.dataset = front.dataset
     and interest.root = front.root
     and interest.bar_date = front.bar_date
     and interest.expiration = front.front_expiration
),
{% else %}
eligible as (
    select
        bars.*,
        cast(null as bigint) as open_interest,
        row_number() over (partition by dataset, root, bar_date order by expiration asc) as place
    from bars
    -- expiration's UTC date (the profile's session time zone is UTC), N days earlier
    where bar_date < cast({{ dbt.dateadd('day', -days, 'cast(expiration as date)') }} as date)
),

chosen as (
    select * from eligible where place = 1
),
{% endif %}

series as (
    select
        dataset,
        root,
        bar_date,
        contract,
        instrument_id,
        expiration,
        open, high, low, close, volume,
        open_interest,
        lag(contract) over (partition by dataset, root order by bar_date) as previous_contract
    from chosen
)

select
    dataset,
    root,
    bar_date,
    contract,
    instrument_id,
    expiration,
    open, high, low, close, volume,
    open_interest,
    previous_contract is not null and previous_contract <> contract as rolled,
    '{{ method }}' as roll_rule
from series
