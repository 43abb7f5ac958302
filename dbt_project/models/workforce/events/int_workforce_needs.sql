-- How many people to hire so that year-end headcount meets the growth target exactly:
-- start - experienced terminations + hires - new-hire terminations = target, where
-- new-hire terminations are round(hires * new-hire termination rate). The survivors of
-- h hires, h - round(h * rate), rise by 0 or 1 per hire, so the smallest h reaching the
-- needed survivors reaches it exactly. Mirrors maths.hires_for_growth().
{%- set y = workforce_year() %}

with params as (
    select * from {{ ref('int_effective_parameters') }} where simulation_year = {{ y }}
),

hazards as (
    select * from {{ ref('int_employee_hazards') }} where simulation_year = {{ y }}
),

start as (
    select
        count(*) as start_headcount,
        -- integer micro-units: an exact sum whatever order the rows are added in
        coalesce(sum({{ workforce_round_half_up('termination_rate * 1000000') }}), 0)
            as hazard_micro
    from hazards
),

needs as (
    select
        s.start_headcount,
        {{ workforce_round_half_up('s.hazard_micro / 1000000.0') }} as experienced_terminations,
        {{ workforce_round_half_up('s.start_headcount * (1 + p.target_growth_rate)') }}
            as target_headcount,
        p.target_growth_rate,
        p.new_hire_termination_rate
    from start as s
    cross join params as p
),

solved as (
    select
        n.*,
        n.target_headcount - n.start_headcount + n.experienced_terminations as needed_survivors,
        greatest(
            n.target_headcount - n.start_headcount + n.experienced_terminations,
            cast(ceiling(
                (n.target_headcount - n.start_headcount + n.experienced_terminations - 0.5)
                / (1 - n.new_hire_termination_rate)
            ) as bigint) - 1,
            0
        ) as lowest_candidate,
        cast(ceiling(1 / (1 - n.new_hire_termination_rate)) as bigint) + 3 as candidates
    from needs as n
),

candidates as (
    select
        lowest_candidate + {{ workforce_integers(0, 'candidates') }} as hires
    from solved
),

hires as (
    select min(c.hires) as hires
    from candidates as c
    cross join solved as s
    where c.hires - {{ workforce_round_half_up('c.hires * s.new_hire_termination_rate') }}
        >= s.needed_survivors
)

select
    {{ y }} as simulation_year,
    s.start_headcount,
    s.experienced_terminations,
    s.target_growth_rate,
    s.target_headcount,
    s.new_hire_termination_rate,
    case when s.needed_survivors <= 0 then 0 else h.hires end as hires,
    case when s.needed_survivors <= 0 then 0 else h.hires - s.needed_survivors end
        as new_hire_terminations,
    s.start_headcount - s.experienced_terminations
        + case when s.needed_survivors <= 0 then 0 else s.needed_survivors end
        as expected_end_headcount
from solved as s
cross join hires as h
