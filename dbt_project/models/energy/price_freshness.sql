{{ config(materialized='view') }}
-- Latest day per commodity and source, and its age in calendar days at query time
-- (a view, so the age is always today's). FRESH at 2 days or less, else STALE.
with latest as (
    {% for src in ['eia', 'fred', 'yahoo'] %}
    select commodity, '{{ src }}' as source, max(price_date) as latest_date
    from {{ source('staging', src ~ '_prices') }}
    group by commodity
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select
    commodity,
    source,
    latest_date,
    {{ dbt.datediff('latest_date', 'current_date', 'day') }} as age_days,
    case
        when {{ dbt.datediff('latest_date', 'current_date', 'day') }} <= {{ var('fresh_max_age_days', 2) }}
            then 'FRESH'
        else 'STALE'
    end as status
from latest
