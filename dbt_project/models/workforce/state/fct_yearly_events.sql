-- Every event of the year in one table, in a valid order: event_sequence orders events
-- on the same day (a hire comes first, a termination last).
{%- set y = workforce_year() %}

with events as (
    select
        employee_id, event_type, effective_date, 1 as event_sequence, level,
        cast(null as double precision) as compensation_before, compensation as compensation_after,
        cast(null as double precision) as deferral_rate, cast(null as {{ dbt.type_string() }}) as event_detail
    from {{ ref('int_hiring_events') }}
    where simulation_year = {{ y }}

    union all
    select
        employee_id, event_type, effective_date, 2, cast(null as integer),
        null, null, deferral_rate,
        'from ' || {{ workforce_double_text('deferral_rate_before') }}
    from {{ ref('int_deferral_escalation_events') }}
    where simulation_year = {{ y }}

    union all
    select
        employee_id, event_type, effective_date, 3, level,
        compensation_before, compensation, null,
        'level ' || cast(level_from as {{ dbt.type_string() }}) || ' to ' || cast(level as {{ dbt.type_string() }})
    from {{ ref('int_promotion_events') }}
    where simulation_year = {{ y }}

    union all
    select
        employee_id, event_type, effective_date, 4, level,
        compensation_before, compensation, null,
        'merit ' || {{ workforce_double_text('merit_rate') }} || ' + cola ' || {{ workforce_double_text('cola_rate') }}
    from {{ ref('int_merit_events') }}
    where simulation_year = {{ y }}

    union all
    select
        employee_id, event_type, effective_date, 5, cast(null as integer),
        null, null, deferral_rate, enrollment_source
    from {{ ref('int_enrollment_events') }}
    where simulation_year = {{ y }}

    union all
    select
        employee_id, event_type, effective_date, 6, level,
        null, null, null, termination_type
    from {{ ref('int_termination_events') }}
    where simulation_year = {{ y }}
)

select
    employee_id,
    {{ y }} as simulation_year,
    event_type,
    effective_date,
    event_sequence,
    level,
    compensation_before,
    compensation_after,
    deferral_rate,
    event_detail
from events
