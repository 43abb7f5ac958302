-- Terminations. Experienced: exactly the needed count, chosen by hazard-weighted
-- sampling without replacement (key -ln(1 - u) / hazard, smallest keys leave; see
-- maths.hazard_select), on a day of the year drawn per employee. New hires: the needed
-- count of this year's hires with the smallest draws, between their hire date and
-- December 31.
{%- set y = workforce_year() %}
{%- set jan1 = workforce_date(y, 1, 1) %}
{%- set dec31 = workforce_date(y, 12, 31) %}
{%- set days_in_year = workforce_days_between(jan1, workforce_date(y + 1, 1, 1)) %}

with params as (
    select * from {{ ref('int_effective_parameters') }} where simulation_year = {{ y }}
),

needs as (
    select * from {{ ref('int_workforce_needs') }} where simulation_year = {{ y }}
),

experienced_keys as (
    select
        h.employee_id,
        h.level,
        h.termination_rate,
        -ln(1 - {{ workforce_uniform('p.random_seed', 'h.employee_id', 'termination') }})
            / h.termination_rate as hazard_key,
        {{ workforce_uniform('p.random_seed', 'h.employee_id', 'termination_date') }} as u_date
    from {{ ref('int_employee_hazards') }} as h
    cross join params as p
    where h.simulation_year = {{ y }} and h.termination_rate > 0
),

experienced as (
    select
        k.employee_id,
        'experienced' as termination_type,
        {{ workforce_add_days(jan1, 'floor(k.u_date * ' ~ days_in_year ~ ')') }} as effective_date,
        k.level,
        k.termination_rate,
        row_number() over (order by k.hazard_key, k.employee_id) as selection_rank
    from experienced_keys as k
),

new_hire_keys as (
    select
        h.employee_id,
        h.level,
        h.effective_date as hire_date,
        {{ workforce_uniform('p.random_seed', 'h.employee_id', 'new_hire_termination') }} as u_pick,
        {{ workforce_uniform('p.random_seed', 'h.employee_id', 'termination_date') }} as u_date
    from {{ ref('int_hiring_events') }} as h
    cross join params as p
    where h.simulation_year = {{ y }}
),

new_hire as (
    select
        k.employee_id,
        'new_hire' as termination_type,
        {{ workforce_add_days('k.hire_date',
            'floor(k.u_date * (' ~ workforce_days_between('k.hire_date', dec31) ~ ' + 1))') }}
            as effective_date,
        k.level,
        p.new_hire_termination_rate as termination_rate,
        row_number() over (order by k.u_pick, k.employee_id) as selection_rank
    from new_hire_keys as k
    cross join params as p
)

select
    e.employee_id,
    {{ y }} as simulation_year,
    'termination' as event_type,
    e.termination_type,
    e.effective_date,
    e.level,
    e.termination_rate
from experienced as e
cross join needs as n
where e.selection_rank <= n.experienced_terminations

union all

select
    h.employee_id,
    {{ y }} as simulation_year,
    'termination' as event_type,
    h.termination_type,
    h.effective_date,
    h.level,
    h.termination_rate
from new_hire as h
cross join needs as n
where h.selection_rank <= n.new_hire_terminations
