-- Auto-escalation on January 1: participants enrolled before the year whose deferral
-- rate is below the cap go up by the increment, never past the cap.
{%- set y = workforce_year() %}

with params as (
    select * from {{ ref('int_effective_parameters') }} where simulation_year = {{ y }}
)

select
    e.employee_id,
    {{ y }} as simulation_year,
    'deferral_escalation' as event_type,
    {{ workforce_date(y, 1, 1) }} as effective_date,
    e.deferral_rate as deferral_rate_before,
    {{ workforce_round('least(e.deferral_rate + p.escalation_increment, p.escalation_cap)', 4) }}
        as deferral_rate
from {{ ref('int_employee_compensation_by_year') }} as e
cross join params as p
where e.simulation_year = {{ y }}
  and p.escalation_enabled
  and e.is_enrolled
  and e.deferral_rate < p.escalation_cap
