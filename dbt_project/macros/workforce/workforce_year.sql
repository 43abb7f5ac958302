{#- The simulation year being built and the first simulation year. They come from
    environment variables (HEADWATER_SIM_YEAR, HEADWATER_SIM_FIRST_YEAR) set by the
    Dagster asset before each in-process dbt invocation, not from --vars: changing a
    var forces dbt to re-parse the whole project, an environment variable read in a
    model body does not (the body is rendered again at run time). -#}
{% macro workforce_year() -%}
  {{- return(_workforce_env_year('HEADWATER_SIM_YEAR')) -}}
{%- endmacro %}

{% macro workforce_first_year() -%}
  {{- return(_workforce_env_year('HEADWATER_SIM_FIRST_YEAR')) -}}
{%- endmacro %}

{% macro _workforce_env_year(name) -%}
  {%- set value = env_var(name, '') -%}
  {%- if value == '' -%}
    {%- if execute -%}
      {{- exceptions.raise_compiler_error(name ~ " is not set: the workforce models build one simulation year at a time (run them through Dagster or `headwater simulate`)") -}}
    {%- endif -%}
    {{- return(0) -}}
  {%- endif -%}
  {{- return(value | int) -}}
{%- endmacro %}

{#- Literal dates of the simulation year. -#}
{% macro workforce_date(year, month, day) -%}
  cast('{{ "%04d-%02d-%02d" | format(year, month, day) }}' as date)
{%- endmacro %}

{#- Another workforce table by name: used where a model reads the previous year of a
    model downstream of it (the year-to-year loop dbt's DAG cannot express). -#}
{% macro workforce_relation(name) -%}
  {{- return(api.Relation.create(database=this.database, schema=this.schema, identifier=name)) -}}
{%- endmacro %}

{#- Pre-hook of every yearly model: replace exactly this year's rows, so rerunning a
    year is idempotent and leaves the other years alone. -#}
{% macro workforce_delete_year() -%}
  {%- if is_incremental() -%}
    delete from {{ this }} where simulation_year = {{ workforce_year() }}
  {%- endif -%}
{%- endmacro %}
