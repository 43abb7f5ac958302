{#- Every row satisfies the boolean SQL expression (dbt_utils.expression_is_true, without the hub). -#}
{% test expression_is_true(model, expression) %}
select * from {{ model }} where not ({{ expression }})
{% endtest %}
