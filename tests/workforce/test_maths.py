"""The simulation maths, called directly."""

from datetime import date

import pytest

from assets.workforce import maths


@pytest.mark.parametrize("rate", [0.0, 0.1, 0.25, 0.5, 0.75, 0.9])
@pytest.mark.parametrize("start", [0, 1, 37, 978, 10_000])
@pytest.mark.parametrize("growth", [-0.2, 0.0, 0.03, 0.15])
def test_hires_meet_growth_target_exactly(rate, start, growth):
    terms = start // 8
    hires, nh_terms, target = maths.hires_for_growth(start, terms, growth, rate)
    assert target == maths.round_half_up(start * (1 + growth))
    assert nh_terms == (maths.round_half_up(hires * rate) if hires else 0)
    end = start - terms + hires - nh_terms
    if target - start + terms > 0:
        assert end == target
        # and no smaller hire count would do
        smaller = hires - 1
        assert smaller - maths.round_half_up(smaller * rate) < target - start + terms
    else:
        assert hires == 0


def test_hires_known_case():
    # 1000 start, 120 leave, +3%: 150 must survive; at 25% new-hire attrition 200 hires
    # keep 150 (200 - round(50)).
    assert maths.hires_for_growth(1000, 120, 0.03, 0.25) == (200, 50, 1030)


def test_hazard_selection_takes_exactly_the_count_and_favours_high_hazards():
    ids = [f"E{i:04d}" for i in range(2000)]
    rates = [0.4 if i % 2 else 0.05 for i in range(2000)]
    draws = [maths.uniform(1, e, 2025, "termination") for e in ids]
    chosen = maths.hazard_select(ids, rates, draws, 225)
    assert len(chosen) == len(set(chosen)) == 225
    high = sum(1 for e in chosen if int(e[1:]) % 2)
    assert high > 0.8 * 225  # hazard 8x higher: most leavers come from the high group
    assert high < 225  # but not a deterministic cut: low-hazard people leave too
    assert maths.hazard_select(ids, [0.0] * 2000, draws, 10) == []  # zero hazard never leaves


def test_expected_terminations_sums_hazards():
    assert maths.expected_terminations([0.1] * 15) == 2  # 1.5 rounds half up
    assert maths.expected_terminations([0.12, 0.2, 0.33]) == 1


def test_allocate_by_share_adds_up():
    shares = {1: 0.45, 2: 0.30, 3: 0.15, 4: 0.08, 5: 0.02}
    for total in [0, 1, 7, 208, 1001]:
        parts = maths.allocate_by_share(total, shares)
        assert sum(parts.values()) == total
        for level, share in shares.items():
            assert abs(parts[level] - total * share) < 1
    assert maths.allocate_by_share(3, {1: 0.5, 2: 0.5}) == {1: 2, 2: 1}  # ties to lower level


@pytest.mark.parametrize(
    ("deferral", "expected"),
    [(0.0, 0.0), (0.02, 2000.0), (0.03, 3000.0), (0.04, 3500.0), (0.05, 4000.0), (0.10, 4000.0)],
)
def test_match_tiers(deferral, expected):
    # 100% of the first 3% deferred, 50% of the next 2%, on 100k pay
    assert maths.employer_match(deferral, 100_000, [(0.03, 1.0), (0.05, 0.5)]) == expected


def test_irs_deferral_cap_and_catch_up():
    assert maths.capped_deferral(30_000, 49, 23_500, 7_500, 50) == (23_500, 0)
    assert maths.capped_deferral(30_000, 50, 23_500, 7_500, 50) == (30_000, 6_500)
    assert maths.capped_deferral(40_000, 61, 23_500, 7_500, 50) == (31_000, 7_500)
    assert maths.capped_deferral(10_000, 61, 23_500, 7_500, 50) == (10_000, 0)


def test_415c_cuts_core_first_then_match():
    # 23.5k deferral leaves 46.5k of a 70k limit
    assert maths.apply_415c(23_500, 0, 10_000, 5_000, 70_000) == (10_000, 5_000)
    assert maths.apply_415c(23_500, 0, 40_000, 10_000, 70_000) == (36_500, 10_000)
    assert maths.apply_415c(23_500, 0, 50_000, 50_000, 70_000) == (0, 46_500)
    # catch-up does not count against 415(c)
    assert maths.apply_415c(31_000, 7_500, 40_000, 10_000, 70_000) == (36_500, 10_000)


def test_proration():
    y = 2025  # 365 days
    full = [(date(y, 1, 1), 100_000.0)]
    assert maths.prorated_compensation(y, date(2010, 5, 1), date(y, 12, 31), full) == 100_000.0
    # hired July 1: 184 of 365 days
    assert maths.prorated_compensation(y, date(y, 7, 1), date(y, 12, 31), full) == round(
        100_000 * 184 / 365, 2
    )
    # raise on July 1, employed all year
    raised = [(date(y, 1, 1), 100_000.0), (date(y, 7, 1), 110_000.0)]
    assert maths.prorated_compensation(y, date(2000, 1, 1), date(y, 12, 31), raised) == round(
        100_000 * 181 / 365 + 110_000 * 184 / 365, 2
    )
    # left March 31 (inclusive), before the raise
    assert maths.prorated_compensation(y, date(2000, 1, 1), date(y, 3, 31), raised) == round(
        100_000 * 90 / 365, 2
    )


def test_uniform_is_a_stable_function_of_its_inputs():
    a = maths.uniform(42, "E0000001", 2025, "promotion")
    assert a == maths.uniform(42, "E0000001", 2025, "promotion")
    assert 0 <= a < 1
    others = {
        maths.uniform(43, "E0000001", 2025, "promotion"),
        maths.uniform(42, "E0000002", 2025, "promotion"),
        maths.uniform(42, "E0000001", 2026, "promotion"),
        maths.uniform(42, "E0000001", 2025, "merit"),
    }
    assert a not in others and len(others) == 4


def test_summary_figures_read_like_numbers():
    import pandas as pd

    from assets.workforce.reports import summary_markdown

    frame = pd.DataFrame(
        {
            "simulation_year": [2025, 2026],
            "headcount": [1012, 1042],
            "growth_pct": [3.0, 2.964],
            "total_pay": [91927300.12, 95000000.0],
            "participation_rate": [0.8123, 0.83],
        }
    )
    table = summary_markdown(frame, b"png").split("\n\n", 1)[1]
    assert "| | 2025 | 2026 |" in table
    assert "| total_pay | $91,927,300 | $95,000,000 |" in table
    assert "| participation_rate | 81.2% | 83.0% |" in table
    assert "| headcount | 1,012 | 1,042 |" in table
    assert "| growth_pct | +3.00% | +2.96% |" in table
    assert "e+" not in table
