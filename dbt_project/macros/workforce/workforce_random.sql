{#- Deterministic draw in [0, 1) for (seed, employee, year, event kind): md5 of
    "seed|employee|year|kind", first 32 bits as an unsigned integer / 2^32, a double on
    every engine (PostgreSQL would otherwise divide in numeric).
    Mirrors assets/workforce/maths.py uniform(). -#}
{% macro workforce_uniform(seed, employee_id, kind, year=none) -%}
  {%- set y = year if year is not none else workforce_year() -%}
  (cast({{ workforce_hex8_to_int(dbt.hash(dbt.concat([
        "cast(" ~ seed ~ " as " ~ dbt.type_string() ~ ")", "'|'", employee_id, "'|'",
        "'" ~ y ~ "'", "'|'", "'" ~ kind ~ "'"]))) }} as double precision) / 4294967296.0)
{%- endmacro %}

{#- First 8 hex digits of an md5 string as an integer (engine-specific). -#}
{% macro workforce_hex8_to_int(hex) -%}
  {{- return(adapter.dispatch('workforce_hex8_to_int')(hex)) -}}
{%- endmacro %}

{% macro duckdb__workforce_hex8_to_int(hex) -%}
  cast(('0x' || substr({{ hex }}, 1, 8)) as bigint)
{%- endmacro %}

{% macro postgres__workforce_hex8_to_int(hex) -%}
  (('x' || substr({{ hex }}, 1, 8))::bit(32)::bigint & 4294967295)
{%- endmacro %}

{#- Integers lo..hi-1 as rows of a select list (engine-specific set-returning call). -#}
{% macro workforce_integers(lo, hi) -%}
  {{- return(adapter.dispatch('workforce_integers')(lo, hi)) -}}
{%- endmacro %}

{% macro duckdb__workforce_integers(lo, hi) -%}
  unnest(range(cast({{ lo }} as bigint), cast({{ hi }} as bigint)))
{%- endmacro %}

{% macro postgres__workforce_integers(lo, hi) -%}
  generate_series(cast({{ lo }} as bigint), cast({{ hi }} as bigint) - 1)
{%- endmacro %}

{#- Half-up rounding to an integer, the same on every engine (and in maths.py). -#}
{% macro workforce_round_half_up(x) -%}
  cast(floor(({{ x }}) + 0.5) as bigint)
{%- endmacro %}

{% macro workforce_add_days(date_expr, days) -%}
  cast({{ dbt.dateadd('day', days, date_expr) }} as date)
{%- endmacro %}

{% macro workforce_days_between(first_date, second_date) -%}
  {{ dbt.datediff(first_date, second_date, 'day') }}
{%- endmacro %}

{#- Pay earned in the year: each annual rate from its effective date to the next one,
    counted in days employed [employed_from, employed_to] (inclusive) over the days of
    the year. Mirrors maths.prorated_compensation(). -#}
{% macro workforce_prorate(employed_from, employed_to, rate0, date1, rate1, date2, rate2) -%}
  {%- set y = workforce_year() -%}
  {%- set jan1 = workforce_date(y, 1, 1) -%}
  {%- set next_jan1 = workforce_date(y + 1, 1, 1) -%}
  {%- set upto = workforce_add_days(employed_to, 1) -%}
  {%- set end0 = "coalesce(" ~ date1 ~ ", " ~ date2 ~ ", " ~ next_jan1 ~ ")" -%}
  {%- set end1 = "coalesce(" ~ date2 ~ ", " ~ next_jan1 ~ ")" -%}
  {%- set earned %}(
      {{ rate0 }} * greatest(0, {{ workforce_days_between("greatest(" ~ jan1 ~ ", " ~ employed_from ~ ")", "least(" ~ end0 ~ ", " ~ upto ~ ")") }})
    + coalesce({{ rate1 }} * greatest(0, {{ workforce_days_between("greatest(" ~ date1 ~ ", " ~ employed_from ~ ")", "least(" ~ end1 ~ ", " ~ upto ~ ")") }}), 0)
    + coalesce({{ rate2 }} * greatest(0, {{ workforce_days_between("greatest(" ~ date2 ~ ", " ~ employed_from ~ ")", "least(" ~ next_jan1 ~ ", " ~ upto ~ ")") }}), 0)
  ) / {{ workforce_days_between(jan1, next_jan1) }}{% endset %}
  {{ workforce_round(earned, 2) }}
{%- endmacro %}

{#- round(x, digits) as DuckDB computes it on a double: half away from zero of
    x * 10^digits, divided back. PostgreSQL has no round(double precision, int) (its
    numeric round would decide ties on the decimal text, not the double), so it gets
    the same arithmetic spelled out; the tables then match to the last bit. -#}
{% macro workforce_round(x, digits) -%}
  {{- return(adapter.dispatch('workforce_round')(x, digits)) -}}
{%- endmacro %}

{% macro default__workforce_round(x, digits) -%}
  (sign(cast({{ x }} as double precision))
   * floor(abs(cast({{ x }} as double precision)) * {{ 10 ** digits }} + 0.5) / {{ 10 ** digits }})
{%- endmacro %}

{% macro duckdb__workforce_round(x, digits) -%}
  round({{ x }}, {{ digits }})
{%- endmacro %}

{#- A double as text the way DuckDB writes it (shortest round trip, "1.0" for a whole
    number); PostgreSQL writes a whole number without ".0". -#}
{% macro workforce_double_text(x) -%}
  {{- return(adapter.dispatch('workforce_double_text')(x)) -}}
{%- endmacro %}

{% macro default__workforce_double_text(x) -%}
  (cast({{ x }} as {{ dbt.type_string() }})
   || case when {{ x }} = trunc({{ x }}) and abs({{ x }}) < 1e15 then '.0' else '' end)
{%- endmacro %}

{% macro duckdb__workforce_double_text(x) -%}
  cast({{ x }} as {{ dbt.type_string() }})
{%- endmacro %}
