-- The assumptions in force for the simulation year: the scalar assumptions plus the
-- latest IRS limits configured at or before the year (carried forward).
{%- set y = workforce_year() %}

with limits as (
    select *
    from {{ source('workforce', 'assumption_irs_limits') }}
    where limit_year = (
        select max(limit_year)
        from {{ source('workforce', 'assumption_irs_limits') }}
        where limit_year <= {{ y }}
    )
)

select
    {{ y }} as simulation_year,
    s.random_seed,
    s.start_year,
    s.target_growth_rate,
    s.new_hire_termination_rate,
    s.promotion_raise,
    s.promotion_min_tenure_years,
    s.cola_rate,
    s.auto_enrollment_enabled,
    s.auto_enrollment_window_days,
    s.auto_enrollment_deferral_rate,
    s.voluntary_enrollment_rate,
    s.voluntary_deferral_rate,
    s.escalation_enabled,
    s.escalation_increment,
    s.escalation_cap,
    s.core_rate,
    s.catch_up_age,
    l.limit_year as irs_limit_year,
    l.deferral_limit,
    l.catch_up_limit,
    l.compensation_limit,
    l.annual_additions_limit
from {{ source('workforce', 'assumption_scalars') }} as s
cross join limits as l
