-- Combine benchmarks per position and measurement, all draft years pooled: how many
-- prospects were measured, the 10th to 90th percentiles (interpolated: percentile_cont,
-- the ordered-set aggregate DuckDB and PostgreSQL both have), mean and sample standard
-- deviation. Missing values are not measurements: they are left out, so n is the number
-- measured, not the number of prospects at the position.
with measured as (
    select
        core.position,
        m.measurement,
        m.value
    from {{ source('canonical', 'prospect_measurements') }} as m
    inner join {{ source('canonical', 'prospect_core') }} as core
        on core.prospect_id = m.prospect_id
    where m.value is not null
)

select
    position,
    measurement,
    count(*) as n,
    percentile_cont(0.10) within group (order by value) as p10,
    percentile_cont(0.25) within group (order by value) as p25,
    percentile_cont(0.50) within group (order by value) as p50,
    percentile_cont(0.75) within group (order by value) as p75,
    percentile_cont(0.90) within group (order by value) as p90,
    avg(value) as mean,
    stddev_samp(value) as stddev
from measured
group by position, measurement
