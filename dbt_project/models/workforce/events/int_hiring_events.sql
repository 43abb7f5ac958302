-- New hires: ids numbered within the year, level from the allocation, hire date, pay
-- within the level's band and age drawn deterministically.
{%- set y = workforce_year() %}

with params as (
    select * from {{ ref('int_effective_parameters') }} where simulation_year = {{ y }}
),

by_level as (
    select level, hires
    from {{ ref('int_workforce_needs_by_level') }}
    where simulation_year = {{ y }} and hires > 0
),

slots as (
    select level, {{ workforce_integers(0, 'hires') }} as slot
    from by_level
),

numbered as (
    select
        level,
        row_number() over (order by level, slot) as seq
    from slots
),

hires as (
    select
        'H{{ y }}-' || {{ dbt.right("'000000' || cast(seq as " ~ dbt.type_string() ~ ")", 6) }}
            as employee_id,
        level
    from numbered
),

drawn as (
    select
        h.employee_id,
        h.level,
        l.new_hire_pay_min,
        l.new_hire_pay_max,
        {{ workforce_uniform('p.random_seed', 'h.employee_id', 'hire_date') }} as u_date,
        {{ workforce_uniform('p.random_seed', 'h.employee_id', 'hire_pay') }} as u_pay,
        {{ workforce_uniform('p.random_seed', 'h.employee_id', 'hire_age') }} as u_age
    from hires as h
    cross join params as p
    inner join {{ source('workforce', 'assumption_levels') }} as l on h.level = l.level
)

select
    employee_id,
    {{ y }} as simulation_year,
    'hire' as event_type,
    {{ workforce_add_days(workforce_date(y, 1, 1),
        'floor(u_date * ' ~ workforce_days_between(workforce_date(y, 1, 1), workforce_date(y + 1, 1, 1)) ~ ')') }}
        as effective_date,
    level,
    {{ workforce_round('new_hire_pay_min + u_pay * (new_hire_pay_max - new_hire_pay_min)', 2) }}
        as compensation,
    -- about 21 to 35 + 4 * level years old at year end
    {{ workforce_add_days(workforce_date(y, 12, 31),
        '-floor((21 + u_age * (4 * level + 14)) * 365.25)') }} as birth_date
from drawn
