-- Escalations applied per employee: the running count carried from last year's row
-- of this table (0 in the first year and for new hires), plus this year's.
{%- set y = workforce_year() %}
{%- set first_year = workforce_first_year() %}

with population as (
    select employee_id from {{ ref('int_employee_compensation_by_year') }}
    where simulation_year = {{ y }}
    union all
    select employee_id from {{ ref('int_hiring_events') }} where simulation_year = {{ y }}
),

prior as (
{%- if y == first_year %}
    select cast(null as {{ dbt.type_string() }}) as employee_id, 0 as escalations_end,
        cast(null as integer) as last_escalation_year
    where 1 = 0
{%- else %}
    select employee_id, escalations_end, last_escalation_year
    from {{ this }}
    where simulation_year = {{ y - 1 }}
{%- endif %}
),

escalations as (
    select employee_id from {{ ref('int_deferral_escalation_events') }}
    where simulation_year = {{ y }}
)

select
    p.employee_id,
    {{ y }} as simulation_year,
    coalesce(s.escalations_end, 0) as escalations_start,
    coalesce(s.escalations_end, 0) + case when e.employee_id is null then 0 else 1 end
        as escalations_end,
    case when e.employee_id is null then s.last_escalation_year else {{ y }} end
        as last_escalation_year
from population as p
left join prior as s on p.employee_id = s.employee_id
left join escalations as e on p.employee_id = e.employee_id
