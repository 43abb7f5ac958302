-- The year's hires split over levels by the configured mix, largest remainder first
-- (ties to the lower level), so the parts add up exactly. Mirrors
-- maths.allocate_by_share().
{%- set y = workforce_year() %}

with needs as (
    select hires from {{ ref('int_workforce_needs') }} where simulation_year = {{ y }}
),

shares as (
    select
        level,
        {{ workforce_round_half_up('new_hire_share * 1000000') }} as share_micro
    from {{ source('workforce', 'assumption_levels') }}
),

scaled as (
    select
        s.level,
        n.hires * s.share_micro as numerator,
        sum(s.share_micro) over () as denominator,
        n.hires
    from shares as s
    cross join needs as n
),

base as (
    select
        level,
        hires,
        cast(floor(numerator / cast(denominator as double precision)) as bigint) as base_hires,
        numerator - cast(floor(numerator / cast(denominator as double precision)) as bigint) * denominator
            as remainder
    from scaled
),

ranked as (
    select
        *,
        row_number() over (order by remainder desc, level) as remainder_rank,
        hires - sum(base_hires) over () as leftover
    from base
)

select
    {{ y }} as simulation_year,
    level,
    base_hires + case when remainder_rank <= leftover then 1 else 0 end as hires
from ranked
