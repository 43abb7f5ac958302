-- Merit and COLA on July 1 for employees who started the year and are still employed
-- that day: the merit budget of their (post-promotion) level plus COLA, on their
-- (post-promotion) pay. This year's hires get their first raise next year.
{%- set y = workforce_year() %}
{%- set merit_date = workforce_date(y, 7, 1) %}

with params as (
    select * from {{ ref('int_effective_parameters') }} where simulation_year = {{ y }}
),

terminations as (
    select employee_id, effective_date as termination_date
    from {{ ref('int_termination_events') }}
    where simulation_year = {{ y }}
),

promotions as (
    select employee_id, level, compensation
    from {{ ref('int_promotion_events') }}
    where simulation_year = {{ y }}
),

eligible as (
    select
        e.employee_id,
        coalesce(pr.level, e.level) as level,
        coalesce(pr.compensation, e.starting_compensation) as compensation_before,
        p.cola_rate
    from {{ ref('int_employee_compensation_by_year') }} as e
    cross join params as p
    left join promotions as pr on e.employee_id = pr.employee_id
    left join terminations as x on e.employee_id = x.employee_id
    where e.simulation_year = {{ y }}
      and (x.termination_date is null or x.termination_date > {{ merit_date }})
)

select
    g.employee_id,
    {{ y }} as simulation_year,
    'merit' as event_type,
    {{ merit_date }} as effective_date,
    g.level,
    l.merit_budget as merit_rate,
    g.cola_rate,
    g.compensation_before,
    {{ workforce_round('g.compensation_before * (1 + l.merit_budget + g.cola_rate)', 2) }}
        as compensation
from eligible as g
inner join {{ source('workforce', 'assumption_levels') }} as l on g.level = l.level
