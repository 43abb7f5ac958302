-- The valid census rows, typed; a missing level is inferred from pay against the
-- configured new-hire pay bands, a missing deferral rate means not enrolled.
with census as (
    select * from {{ source('workforce', 'census') }}
),

levels as (
    select level, new_hire_pay_min from {{ source('workforce', 'assumption_levels') }}
),

inferred as (
    select
        c.employee_id,
        coalesce(max(l.level), 1) as inferred_level
    from census as c
    left join levels as l on c.gross_compensation >= l.new_hire_pay_min
    where c.level is null
    group by c.employee_id
)

select
    c.employee_id,
    c.birth_date,
    c.hire_date,
    c.termination_date,
    cast(c.gross_compensation as double precision) as gross_compensation,
    cast(coalesce(c.level, i.inferred_level) as integer) as level,
    cast(coalesce(c.deferral_rate, 0) as double precision) as deferral_rate
from census as c
left join inferred as i on c.employee_id = i.employee_id
