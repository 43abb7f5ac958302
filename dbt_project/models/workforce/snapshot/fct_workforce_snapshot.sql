-- Everyone employed at some point in the year, with their year-end state: level, pay
-- rate, pay earned in the year (prorated across raises and employment dates), status
-- and plan state from the accumulators. Next year starts from the active rows.
{%- set y = workforce_year() %}
{%- set dec31 = workforce_date(y, 12, 31) %}

with starting as (
    select
        employee_id, birth_date, hire_date, level, starting_compensation,
        false as is_new_hire
    from {{ ref('int_employee_compensation_by_year') }}
    where simulation_year = {{ y }}
    union all
    select
        employee_id, birth_date, effective_date, level, compensation,
        true
    from {{ ref('int_hiring_events') }}
    where simulation_year = {{ y }}
),

promotions as (
    select * from {{ ref('int_promotion_events') }} where simulation_year = {{ y }}
),

merits as (
    select * from {{ ref('int_merit_events') }} where simulation_year = {{ y }}
),

terminations as (
    select * from {{ ref('int_termination_events') }} where simulation_year = {{ y }}
),

enrollment as (
    select * from {{ ref('int_enrollment_state_accumulator') }} where simulation_year = {{ y }}
),

deferral as (
    select * from {{ ref('int_deferral_rate_state_accumulator') }} where simulation_year = {{ y }}
),

escalation as (
    select * from {{ ref('int_deferral_escalation_state_accumulator') }}
    where simulation_year = {{ y }}
),

joined as (
    select
        s.employee_id,
        s.birth_date,
        s.hire_date,
        s.is_new_hire,
        s.level as starting_level,
        coalesce(p.level, s.level) as level,
        s.starting_compensation,
        p.effective_date as promotion_date,
        p.compensation as promoted_compensation,
        m.effective_date as merit_date,
        m.compensation as merit_compensation,
        coalesce(m.compensation, p.compensation, s.starting_compensation) as ending_compensation,
        t.effective_date as termination_date,
        t.termination_type,
        greatest(s.hire_date, {{ workforce_date(y, 1, 1) }}) as employed_from,
        coalesce(t.effective_date, {{ dec31 }}) as employed_to,
        en.enrolled_at_end as is_enrolled,
        en.enrollment_date,
        d.deferral_rate_end as deferral_rate,
        d.deferral_rate_from,
        x.escalations_end as escalations
    from starting as s
    left join promotions as p on s.employee_id = p.employee_id
    left join merits as m on s.employee_id = m.employee_id
    left join terminations as t on s.employee_id = t.employee_id
    left join enrollment as en on s.employee_id = en.employee_id
    left join deferral as d on s.employee_id = d.employee_id
    left join escalation as x on s.employee_id = x.employee_id
)

select
    employee_id,
    {{ y }} as simulation_year,
    birth_date,
    hire_date,
    termination_date,
    case when termination_date is null then 'active' else 'terminated' end as employment_status,
    case
        when is_new_hire and termination_date is null then 'new_hire_active'
        when is_new_hire then 'new_hire_termination'
        when termination_date is null then 'continuous_active'
        else 'experienced_termination'
    end as detailed_status,
    starting_level,
    level,
    starting_compensation,
    ending_compensation,
    {{ workforce_prorate('employed_from', 'employed_to', 'starting_compensation',
        'promotion_date', 'promoted_compensation', 'merit_date', 'merit_compensation') }}
        as prorated_compensation,
    -- pay earned while deferring: the base for this year's contributions
    case when deferral_rate_from is null then 0 else
        {{ workforce_prorate('greatest(employed_from, deferral_rate_from)', 'employed_to',
            'starting_compensation', 'promotion_date', 'promoted_compensation',
            'merit_date', 'merit_compensation') }}
    end as deferral_compensation,
    {{ y }} - cast(extract(year from birth_date) as bigint) as age,
    cast({{ workforce_days_between('hire_date', dec31) }} as double precision) / 365.25 as tenure_years,
    is_enrolled,
    enrollment_date,
    deferral_rate,
    deferral_rate_from,
    escalations
from joined
