-- Contributions for the year. Employee deferrals: the deferral rate on pay earned
-- while deferring, capped at the 401(a)(17) pay limit, limited by 402(g) (plus the
-- catch-up limit from the catch-up age). Employer match: tier by tier on the effective
-- deferral rate, each tier rounded to cents. Core: core rate on capped pay. 415(c):
-- deferrals other than catch-up plus employer money stay within the annual-additions
-- limit, core cut first, then match. Mirrors maths.capped_deferral / employer_match /
-- apply_415c.
{%- set y = workforce_year() %}

with params as (
    select * from {{ ref('int_effective_parameters') }} where simulation_year = {{ y }}
),

base as (
    select
        s.employee_id,
        s.age,
        s.deferral_rate,
        least(s.prorated_compensation, p.compensation_limit) as plan_compensation,
        least(s.deferral_compensation, p.compensation_limit) as deferral_compensation,
        p.deferral_limit
            + case when s.age >= p.catch_up_age then p.catch_up_limit else 0 end
            as deferral_cap,
        p.deferral_limit,
        p.annual_additions_limit,
        p.core_rate,
        p.irs_limit_year
    from {{ ref('fct_workforce_snapshot') }} as s
    cross join params as p
    where s.simulation_year = {{ y }}
),

deferrals as (
    select
        b.*,
        {{ workforce_round('b.deferral_rate * b.deferral_compensation', 2) }} as requested_deferral,
        least({{ workforce_round('b.deferral_rate * b.deferral_compensation', 2) }}, b.deferral_cap)
            as employee_deferral
    from base as b
),

effective as (
    select
        d.*,
        greatest(0, d.employee_deferral - d.deferral_limit) as catch_up_deferral,
        case
            when d.deferral_compensation > 0 then d.employee_deferral / d.deferral_compensation
            else 0
        end as effective_deferral_rate
    from deferrals as d
),

tiers as (
    select
        tier,
        match_rate,
        tier_to,
        coalesce(lag(tier_to) over (order by tier), 0) as tier_from
    from {{ source('workforce', 'assumption_match_tiers') }}
),

match as (
    select
        e.employee_id,
        -- decimals: an exact sum, so the result does not depend on summation order
        sum(cast({{ workforce_round(
            't.match_rate * e.deferral_compensation
            * greatest(0, least(e.effective_deferral_rate, t.tier_to) - t.tier_from)', 2
        ) }} as decimal(18, 2))) as employer_match
    from effective as e
    cross join tiers as t
    group by e.employee_id
),

limited as (
    select
        e.*,
        cast(m.employer_match as double precision) as uncapped_match,
        {{ workforce_round('e.core_rate * e.plan_compensation', 2) }} as uncapped_core,
        greatest(0, e.annual_additions_limit - (e.employee_deferral - e.catch_up_deferral))
            as additions_room
    from effective as e
    inner join match as m on e.employee_id = m.employee_id
)

select
    employee_id,
    {{ y }} as simulation_year,
    age,
    plan_compensation,
    deferral_compensation,
    deferral_rate,
    requested_deferral,
    employee_deferral,
    catch_up_deferral,
    least(uncapped_match, additions_room - least(uncapped_core, additions_room)) as employer_match,
    least(uncapped_core, additions_room) as employer_core,
    least(uncapped_match, additions_room - least(uncapped_core, additions_room))
        + least(uncapped_core, additions_room) as employer_total,
    employee_deferral - catch_up_deferral
        + least(uncapped_match, additions_room - least(uncapped_core, additions_room))
        + least(uncapped_core, additions_room) as annual_additions,
    deferral_cap,
    annual_additions_limit,
    irs_limit_year,
    requested_deferral > employee_deferral
        or uncapped_match + uncapped_core
            > least(uncapped_match, additions_room - least(uncapped_core, additions_room))
              + least(uncapped_core, additions_room) as irs_limited
from limited
