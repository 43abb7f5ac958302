-- Combine benchmarks per position and measurement, all draft years pooled: how many
-- prospects were measured, the 10th to 90th percentiles (interpolated, quantile_cont),
-- mean and sample standard deviation. Missing values are not measurements: they are left
-- out, so n is the number measured, not the number of prospects at the position.
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
    quantile_cont(value, 0.10) as p10,
    quantile_cont(value, 0.25) as p25,
    quantile_cont(value, 0.50) as p50,
    quantile_cont(value, 0.75) as p75,
    quantile_cont(value, 0.90) as p90,
    avg(value) as mean,
    stddev_samp(value) as stddev
from measured
group by position, measurement
