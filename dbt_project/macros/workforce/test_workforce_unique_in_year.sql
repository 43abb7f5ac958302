{#- Generic test: `column_name` is unique within the simulation year being built. -#}
{% test workforce_unique_in_year(model, column_name) %}
select {{ column_name }}, count(*) as n
from {{ model }}
where simulation_year = {{ workforce_year() }}
group by {{ column_name }}
having count(*) > 1
{% endtest %}

{#- Generic test: the model has rows for the simulation year being built. -#}
{% test workforce_year_not_empty(model) %}
select 1 as missing
where not exists (select 1 from {{ model }} where simulation_year = {{ workforce_year() }})
{% endtest %}
