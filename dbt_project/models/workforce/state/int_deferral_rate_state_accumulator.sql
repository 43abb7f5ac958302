-- Deferral rate per employee and year: January 1 rate from last year's row of this
-- table (census rate in the first year, 0 for new hires); an escalation applies from
-- January 1, an enrollment from its date. deferral_rate_from is when the year-end
-- rate started to apply within the year (null: not deferring).
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
    select employee_id, deferral_rate as deferral_rate_end
    from {{ ref('int_baseline_workforce') }}
{%- else %}
    select employee_id, deferral_rate_end
    from {{ this }}
    where simulation_year = {{ y - 1 }}
{%- endif %}
),

starting as (
    select p.employee_id, coalesce(s.deferral_rate_end, 0) as deferral_rate_start
    from population as p
    left join prior as s on p.employee_id = s.employee_id
    union all
    select employee_id, 0 from hires
),

escalations as (
    select employee_id, deferral_rate, effective_date
    from {{ ref('int_deferral_escalation_events') }}
    where simulation_year = {{ y }}
),

enrollments as (
    select employee_id, deferral_rate, effective_date
    from {{ ref('int_enrollment_events') }}
    where simulation_year = {{ y }}
)

select
    s.employee_id,
    {{ y }} as simulation_year,
    s.deferral_rate_start,
    coalesce(n.deferral_rate, x.deferral_rate, s.deferral_rate_start) as deferral_rate_end,
    case
        when n.employee_id is not null then n.effective_date
        when coalesce(x.deferral_rate, s.deferral_rate_start) > 0 then {{ workforce_date(y, 1, 1) }}
    end as deferral_rate_from
from starting as s
left join escalations as x on s.employee_id = x.employee_id
left join enrollments as n on s.employee_id = n.employee_id
