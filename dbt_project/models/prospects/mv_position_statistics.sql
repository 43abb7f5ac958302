-- One row per position and draft year: the class's size, its height, weight and forty
-- (mean and sample standard deviation over those measured), its mean PFF overall grade,
-- the share with at least one ESPN injury report, and the mean number of sources.
-- Prospects without a position (listed by College Football Reference only) are left out.
with measurements as (
    select
        prospect_id,
        max(case when measurement = 'height_in' then value end) as height_in,
        max(case when measurement = 'weight_lb' then value end) as weight_lb,
        max(case when measurement = 'forty' then value end) as forty
    from {{ source('canonical', 'prospect_measurements') }}
    group by prospect_id
),

grades as (
    -- PFF grades a player on one side of the ball: the overall grade is the offense grade
    -- or the defense grade, whichever it has.
    select prospect_id, max(coalesce(grades_offense, grades_defense)) as pff_grade
    from {{ source('canonical', 'prospect_grades') }}
    group by prospect_id
),

injured as (
    select distinct prospect_id
    from {{ source('canonical', 'prospect_injuries') }}
)

select
    core.position,
    core.draft_year,
    count(*) as prospects,
    avg(m.height_in) as height_in_mean,
    stddev_samp(m.height_in) as height_in_stddev,
    avg(m.weight_lb) as weight_lb_mean,
    stddev_samp(m.weight_lb) as weight_lb_stddev,
    avg(m.forty) as forty_mean,
    stddev_samp(m.forty) as forty_stddev,
    avg(g.pff_grade) as pff_grade_mean,
    avg(case when i.prospect_id is not null then 1.0 else 0.0 end) as injured_share,
    avg(core.n_sources) as n_sources_mean
from {{ source('canonical', 'prospect_core') }} as core
left join measurements as m on m.prospect_id = core.prospect_id
left join grades as g on g.prospect_id = core.prospect_id
left join injured as i on i.prospect_id = core.prospect_id
-- A prospect only College Football Reference lists has no position (its export has none).
where core.position is not null
group by core.position, core.draft_year
