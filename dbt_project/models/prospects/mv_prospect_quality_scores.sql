{#- What a prospect is expected to have, by position (the rules are in schema.yml). -#}
{%- set measurements = ['height_in', 'weight_lb', 'forty', 'bench', 'vertical', 'broad_jump', 'cone', 'shuttle'] -%}
{#- Quarterbacks, kickers and punters do not bench at the combine. -#}
{%- set no_bench = ['QB', 'K', 'P'] -%}
{%- set identity_fields = ['name', 'position', 'school', 'cfb_id'] -%}
{#- PFF grades no specialists. -#}
{%- set ungraded = ['K', 'P', 'LS'] -%}
{%- set rushing = ['rush_att', 'rush_yds', 'rush_avg', 'rush_td'] -%}
{%- set receiving = ['rec', 'rec_yds', 'rec_avg', 'rec_td'] -%}
{%- set expected_stats = {
    'QB': ['games'] + rushing,
    'RB': ['games'] + rushing + receiving,
    'WR': ['games'] + receiving,
    'TE': ['games'] + receiving,
} -%}
{#- The fields reconciliation decides for a prospect, besides measurements, stats and grades. -#}
{%- set core_fields = ['name', 'position', 'school', 'pfr_id', 'cfb_id', 'pff_id', 'yahoo_id', 'espn_id', 'draft_team', 'draft_round', 'draft_pick'] -%}
{%- set grade_fields = ['games', 'grades_offense', 'grades_defense', 'grades_pass', 'grades_run', 'grades_pass_block', 'grades_run_block', 'grades_pass_rush', 'grades_run_defense', 'grades_coverage', 'grades_tackle'] -%}
{%- set weight_completeness = 0.6 -%}
{%- set weight_consistency = 0.4 -%}
-- One row per prospect: how complete its record is against what its position should have,
-- how consistent its sources were, and a quality score of the two. Written for DuckDB and
-- PostgreSQL alike: lists as VALUES, unpivots as unions, and every ratio of two counts
-- computed in double precision (PostgreSQL's integer / integer truncates).
with core as (
    select * from {{ source('canonical', 'prospect_core') }}
),

measurement_completeness as (
    select
        core.prospect_id,
        count(*) as expected,
        count(distinct case when m.value is not null then e.measurement end) as present
    from core
    cross join (values ('{{ measurements | join("'), ('") }}')) as e(measurement)
    left join {{ source('canonical', 'prospect_measurements') }} as m
        on m.prospect_id = core.prospect_id and m.measurement = e.measurement
    where not (e.measurement = 'bench' and core.position in ('{{ no_bench | join("', '") }}'))
    group by core.prospect_id
),

expected_stats as (
    select * from (values
        {%- for position, stats in expected_stats.items() %}
        {%- set outer = loop %}
        {%- for stat in stats %}
        ('{{ position }}', '{{ stat }}'){{ ',' if not (outer.last and loop.last) }}
        {%- endfor %}
        {%- endfor %}
    ) as t(position, stat)
),

stats_completeness as (
    select
        core.prospect_id,
        count(*) as expected,
        count(distinct case when s.value is not null then e.stat end) as present
    from core
    inner join expected_stats as e on e.position = core.position
    left join {{ source('canonical', 'prospect_college_stats') }} as s
        on s.prospect_id = core.prospect_id and s.stat = e.stat
    group by core.prospect_id
),

graded as (
    select prospect_id
    from {{ source('canonical', 'prospect_grades') }}
    where coalesce(grades_offense, grades_defense) is not null
    group by prospect_id
),

conflicts as (
    select prospect_id, count(distinct field) as n
    from {{ source('canonical', 'reconciliation_conflicts') }}
    group by prospect_id
),

-- Every field the prospect has a reconciled value for, or a conflict on: what the
-- sources could disagree about. A field only one source reports counts as compared
-- and agreeing (the canonical tables do not say which sources reported each field).
-- A core or grade field is compared where it is set (a blank text is not).
compared_fields as (
    {%- for f in core_fields %}
    select prospect_id, '{{ f }}' as field
    from core
    where nullif(trim(cast({{ f }} as varchar)), '') is not null
    union
    {%- endfor %}
    select prospect_id, measurement
    from {{ source('canonical', 'prospect_measurements') }}
    where value is not null
    union
    select prospect_id, stat
    from {{ source('canonical', 'prospect_college_stats') }}
    where value is not null
    union
    {%- for f in grade_fields %}
    select prospect_id, '{{ f }}' as field
    from {{ source('canonical', 'prospect_grades') }}
    where {{ f }} is not null
    union
    {%- endfor %}
    select prospect_id, field
    from {{ source('canonical', 'reconciliation_conflicts') }}
),

compared as (
    select prospect_id, count(*) as n
    from compared_fields
    group by prospect_id
),

components as (
    select
        core.prospect_id,
        core.draft_year,
        core.name,
        core.position,
        core.position_family,
        core.n_sources,
        (
            {%- for f in identity_fields %}
            (case when nullif(trim({{ f }}), '') is not null then 1 else 0 end){{ ' +' if not loop.last }}
            {%- endfor %}
        ) as identity_present,
        {{ identity_fields | length }} as identity_expected,
        mc.present as measurements_present,
        mc.expected as measurements_expected,
        case when g.prospect_id is not null then 1 else 0 end as grades_present,
        case when core.position in ('{{ ungraded | join("', '") }}') then 0 else 1 end as grades_expected,
        coalesce(sc.present, 0) as stats_present,
        coalesce(sc.expected, 0) as stats_expected,
        coalesce(c.n, 0) as n_conflicts,
        coalesce(cmp.n, 0) as fields_compared
    from core
    inner join measurement_completeness as mc on mc.prospect_id = core.prospect_id
    left join stats_completeness as sc on sc.prospect_id = core.prospect_id
    left join graded as g on g.prospect_id = core.prospect_id
    left join conflicts as c on c.prospect_id = core.prospect_id
    left join compared as cmp on cmp.prospect_id = core.prospect_id
),

scored as (
    select
        *,
        identity_present + measurements_present
            + least(grades_present, grades_expected) + stats_present as fields_present,
        identity_expected + measurements_expected + grades_expected + stats_expected
            as fields_expected,
        case
            when fields_compared = 0 then 1.0
            else 1.0 - cast(n_conflicts as double precision) / fields_compared
        end as consistency
    from components
)

select
    prospect_id,
    draft_year,
    name,
    position,
    position_family,
    n_sources,
    cast(identity_present as double precision) / identity_expected as identity_completeness,
    cast(measurements_present as double precision) / measurements_expected
        as measurement_completeness,
    case
        when grades_expected = 1 then cast(grades_present as double precision)
    end as grades_completeness,
    case
        when stats_expected > 0 then cast(stats_present as double precision) / stats_expected
    end as stats_completeness,
    fields_present,
    fields_expected,
    cast(fields_present as double precision) / fields_expected as completeness,
    n_conflicts,
    fields_compared,
    consistency,
    {{ weight_completeness }} * (cast(fields_present as double precision) / fields_expected)
        + {{ weight_consistency }} * consistency as quality_score
from scored
