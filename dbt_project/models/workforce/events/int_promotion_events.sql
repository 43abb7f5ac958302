-- Promotions on April 1: employees with at least the minimum tenure, below the top
-- level and still employed that day, with a draw under their level's rate.
{%- set y = workforce_year() %}
{%- set promotion_date = workforce_date(y, 4, 1) %}

with params as (
    select * from {{ ref('int_effective_parameters') }} where simulation_year = {{ y }}
),

terminations as (
    select employee_id, effective_date as termination_date
    from {{ ref('int_termination_events') }}
    where simulation_year = {{ y }}
),

top_level as (
    select max(level) as max_level from {{ source('workforce', 'assumption_levels') }}
),

candidates as (
    select
        e.employee_id,
        e.level,
        e.starting_compensation,
        l.promotion_rate,
        p.promotion_raise,
        {{ workforce_uniform('p.random_seed', 'e.employee_id', 'promotion') }} as u_promotion
    from {{ ref('int_employee_compensation_by_year') }} as e
    cross join params as p
    cross join top_level as t
    inner join {{ source('workforce', 'assumption_levels') }} as l on e.level = l.level
    left join terminations as x on e.employee_id = x.employee_id
    where e.simulation_year = {{ y }}
      and e.level < t.max_level
      and e.tenure_years >= p.promotion_min_tenure_years
      and (x.termination_date is null or x.termination_date > {{ promotion_date }})
)

select
    employee_id,
    {{ y }} as simulation_year,
    'promotion' as event_type,
    {{ promotion_date }} as effective_date,
    level as level_from,
    level + 1 as level,
    starting_compensation as compensation_before,
    {{ workforce_round('starting_compensation * (1 + promotion_raise)', 2) }} as compensation
from candidates
where u_promotion < promotion_rate
