-- Plan enrollments. Auto-enrollment: this year's hires are enrolled at the default
-- deferral rate when their window ends (at the latest December 31) unless they opt out
-- (their level's opt-out rate). Voluntary: anyone else not enrolled may enroll on a
-- drawn day after they start, at the voluntary deferral rate. Nobody enrolls on or
-- after their termination date.
{%- set y = workforce_year() %}
{%- set jan1 = workforce_date(y, 1, 1) %}
{%- set dec31 = workforce_date(y, 12, 31) %}

with params as (
    select * from {{ ref('int_effective_parameters') }} where simulation_year = {{ y }}
),

terminations as (
    select employee_id, effective_date as termination_date
    from {{ ref('int_termination_events') }}
    where simulation_year = {{ y }}
),

hires as (
    select employee_id, level, effective_date as hire_date
    from {{ ref('int_hiring_events') }}
    where simulation_year = {{ y }}
),

auto_candidates as (
    select
        h.employee_id,
        least(
            {{ workforce_add_days('h.hire_date', 'p.auto_enrollment_window_days') }}, {{ dec31 }}
        ) as effective_date,
        p.auto_enrollment_deferral_rate as deferral_rate,
        {{ workforce_uniform('p.random_seed', 'h.employee_id', 'opt_out') }} < l.opt_out_rate
            as opted_out
    from hires as h
    cross join params as p
    inner join {{ source('workforce', 'assumption_levels') }} as l on h.level = l.level
    where p.auto_enrollment_enabled
),

auto_enrolled as (
    select employee_id, effective_date, deferral_rate, 'auto' as enrollment_source
    from auto_candidates
    where not opted_out
),

voluntary_pool as (
    select employee_id, {{ jan1 }} as available_from
    from {{ ref('int_employee_compensation_by_year') }}
    where simulation_year = {{ y }} and not is_enrolled
    union all
    select h.employee_id, h.hire_date as available_from
    from hires as h
    where h.employee_id not in (select employee_id from auto_enrolled)
),

voluntary as (
    select
        v.employee_id,
        {{ workforce_add_days('v.available_from',
            'floor(' ~ workforce_uniform('p.random_seed', 'v.employee_id', 'voluntary_date')
            ~ ' * (' ~ workforce_days_between('v.available_from', dec31) ~ ' + 1))') }}
            as effective_date,
        p.voluntary_deferral_rate as deferral_rate,
        'voluntary' as enrollment_source
    from voluntary_pool as v
    cross join params as p
    where {{ workforce_uniform('p.random_seed', 'v.employee_id', 'voluntary_enrollment') }}
        < p.voluntary_enrollment_rate
),

enrollments as (
    select * from auto_enrolled
    union all
    select * from voluntary
)

select
    e.employee_id,
    {{ y }} as simulation_year,
    'enrollment' as event_type,
    e.effective_date,
    e.deferral_rate,
    e.enrollment_source
from enrollments as e
left join terminations as x on e.employee_id = x.employee_id
where x.termination_date is null or x.termination_date > e.effective_date
