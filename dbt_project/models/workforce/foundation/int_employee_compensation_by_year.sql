-- Who is employed on January 1 of the simulation year, at what level and pay, and
-- their plan state: the first year starts from the census baseline, every later year
-- from the previous year's snapshot (its active employees' year-end state).
{%- set y = workforce_year() %}
{%- set first_year = workforce_first_year() %}

with start_state as (
{%- if y == first_year %}
    select
        employee_id,
        birth_date,
        hire_date,
        level,
        compensation as starting_compensation,
        is_enrolled,
        deferral_rate
    from {{ ref('int_baseline_workforce') }}
{%- else %}
    select
        employee_id,
        birth_date,
        hire_date,
        level,
        ending_compensation as starting_compensation,
        is_enrolled,
        deferral_rate
    from {{ workforce_relation('fct_workforce_snapshot') }}
    where simulation_year = {{ y - 1 }}
      and employment_status = 'active'
{%- endif %}
)

select
    employee_id,
    {{ y }} as simulation_year,
    birth_date,
    hire_date,
    level,
    starting_compensation,
    is_enrolled,
    deferral_rate,
    -- a double on every engine (an integer over a decimal literal is numeric on PostgreSQL)
    cast({{ workforce_days_between('hire_date', workforce_date(y, 1, 1)) }} as double precision)
        / 365.25 as tenure_years,
    {{ y }} - cast(extract(year from birth_date) as bigint) as age_at_year_end
from start_state
