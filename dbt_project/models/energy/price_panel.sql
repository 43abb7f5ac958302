-- Wide daily panel: one row per day, one column per commodity (reconciled price).
select
    price_date,
    max(case when commodity = 'WTI' then price end) as wti,
    max(case when commodity = 'BRENT' then price end) as brent,
    max(case when commodity = 'NATGAS' then price end) as natgas
from {{ source('canonical', 'commodity_prices') }}
group by price_date
