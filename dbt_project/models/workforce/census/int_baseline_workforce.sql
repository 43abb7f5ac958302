-- Employees active on the census date (the day before the first simulation year):
-- the population the first simulation year starts from.
select
    s.employee_id,
    s.birth_date,
    s.hire_date,
    s.level,
    s.gross_compensation as compensation,
    s.deferral_rate,
    s.deferral_rate > 0 as is_enrolled,
    p.start_year as first_simulation_year
from {{ ref('stg_census_data') }} as s
cross join {{ source('workforce', 'assumption_scalars') }} as p
where s.termination_date is null
