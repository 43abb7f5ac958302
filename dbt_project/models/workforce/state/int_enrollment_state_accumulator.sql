-- Enrollment state per employee and year: the state on January 1 is last year's
-- year-end state from this same table (the census in the first year; not enrolled for
-- new hires), and the year's enrollment event moves it on.
{%- set y = workforce_year() %}
{%- set first_year = workforce_first_year() %}

with population as (
    select employee_id from {{ ref('int_employee_compensation_by_year') }}
    where simulation_year = {{ y }}
),

hires as (
    select employee_id from {{ ref('int_hiring_events') }} where simulation_year = {{ y }}
),

prior as (
{%- if y == first_year %}
    select
        employee_id,
        is_enrolled as enrolled_at_end,
        cast(null as date) as enrollment_date,
        case when is_enrolled then 'census' end as enrollment_source
    from {{ ref('int_baseline_workforce') }}
{%- else %}
    select employee_id, enrolled_at_end, enrollment_date, enrollment_source
    from {{ this }}
    where simulation_year = {{ y - 1 }}
{%- endif %}
),

starting as (
    select
        p.employee_id,
        coalesce(s.enrolled_at_end, false) as enrolled_at_start,
        s.enrollment_date,
        s.enrollment_source
    from population as p
    left join prior as s on p.employee_id = s.employee_id
    union all
    select employee_id, false, cast(null as date), cast(null as {{ dbt.type_string() }})
    from hires
),

events as (
    select employee_id, effective_date, enrollment_source
    from {{ ref('int_enrollment_events') }}
    where simulation_year = {{ y }}
)

select
    s.employee_id,
    {{ y }} as simulation_year,
    s.enrolled_at_start,
    s.enrolled_at_start or e.employee_id is not null as enrolled_at_end,
    coalesce(s.enrollment_date, e.effective_date) as enrollment_date,
    coalesce(s.enrollment_source, e.enrollment_source) as enrollment_source,
    e.effective_date as enrolled_this_year_on
from starting as s
left join events as e on s.employee_id = e.employee_id
