-- Brent minus WTI on the days both have a price.
select
    price_date,
    brent,
    wti,
    brent - wti as spread
from {{ ref('price_panel') }}
where brent is not null and wti is not null
