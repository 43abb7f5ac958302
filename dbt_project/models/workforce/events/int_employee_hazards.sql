-- Each employee's experienced termination hazard for the year: the configured rate
-- for their level and tenure band on January 1.
{%- set y = workforce_year() %}

select
    e.employee_id,
    {{ y }} as simulation_year,
    e.level,
    e.tenure_years,
    r.band as tenure_band,
    r.rate as termination_rate
from {{ ref('int_employee_compensation_by_year') }} as e
inner join {{ source('workforce', 'assumption_termination_rates') }} as r
    on e.level = r.level
    and e.tenure_years >= r.tenure_from
    and (r.tenure_to is null or e.tenure_years < r.tenure_to)
where e.simulation_year = {{ y }}
