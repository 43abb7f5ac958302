-- Daily and 30-day rolling return and volatility per commodity. "30-day" is 30 trading
-- days (observations), which stays portable SQL and skips weekends and holidays alike.
with prices as (
    select
        commodity,
        price_date,
        price,
        lag(price) over (partition by commodity order by price_date) as previous_price,
        lag(price, 30) over (partition by commodity order by price_date) as price_30d_ago
    from {{ source('canonical', 'commodity_prices') }}
),

daily as (
    select
        *,
        -- A return from a non-positive price is undefined (WTI went negative in 2020).
        case when previous_price > 0 then price / previous_price - 1 end as daily_return
    from prices
)

select
    commodity,
    price_date,
    price,
    daily_return,
    case when price_30d_ago > 0 then price / price_30d_ago - 1 end as return_30d,
    case
        when count(daily_return) over w30 = 30 then stddev_samp(daily_return) over w30
    end as volatility_30d,
    case
        when count(daily_return) over w30 = 30 then stddev_samp(daily_return) over w30 * sqrt(252)
    end as volatility_30d_annualized
from daily
window w30 as (partition by commodity order by price_date rows between 29 preceding and current row)
