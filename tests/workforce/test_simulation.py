"""Three simulated years through Dagster on a 300-employee sample census, checked
against the maths, the rules and the reports; determinism and idempotent reruns."""

import json
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from assets.workforce import maths
from assets.workforce.assets import table_key
from assets.workforce.checks import RULES
from tests.workforce.conftest import Sim

YEARS = [2025, 2026, 2027]
SNAPSHOT = table_key("fct_workforce_snapshot")


def _day(value) -> date:
    return value.date() if hasattr(value, "date") and callable(value.date) else value


def _snapshot_records(instance, year):
    return instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=SNAPSHOT, asset_partitions=[str(year)]), limit=10
    ).records


def test_every_year_materialized_with_state_hash(simulated: Sim):
    inst = simulated.instance
    assert inst.get_materialized_partitions(SNAPSHOT) == {"2025", "2026", "2027"}
    for year in YEARS:
        (record,) = _snapshot_records(inst, year)
        meta = record.asset_materialization.metadata
        assert len(meta["state_hash"].value) == 32
        assert meta["dbt_invocations"].value == 1
    # one run for the three years
    runs = inst.get_run_records(dg.RunsFilter(job_name="workforce_simulation"))
    assert len(runs) == 1


def test_all_checks_pass_and_name_their_rule(simulated: Sim):
    evaluations = [
        e.event_specific_data
        for e in simulated.simulation_result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    assert {e.check_name for e in evaluations} == {r.name for r in RULES}
    for e in evaluations:
        assert e.passed, (e.check_name, e.metadata)
        assert e.metadata["years_checked"].value == YEARS


def test_headcount_meets_target_exactly(simulated: Sim):
    needs = simulated.query("select * from workforce.int_workforce_needs order by simulation_year")
    snap = simulated.query(
        "select simulation_year, count(*) filter (where employment_status = 'active') as active "
        "from workforce.fct_workforce_snapshot group by 1 order by 1"
    )
    for n, active in zip(needs.itertuples(), snap["active"], strict=True):
        hires, nh_terms, target = maths.hires_for_growth(
            n.start_headcount, n.experienced_terminations, 0.03, 0.25
        )
        assert (n.hires, n.new_hire_terminations, n.target_headcount) == (hires, nh_terms, target)
        assert active == target
    # year N starts where year N-1 ended
    assert list(needs["start_headcount"][1:]) == list(snap["active"][:-1])


def test_sql_draws_and_hazards_match_the_python_maths(simulated: Sim):
    hz = simulated.query(
        "select employee_id, termination_rate from workforce.int_employee_hazards "
        "where simulation_year = 2026 order by employee_id"
    )
    needs = simulated.query(
        "select experienced_terminations from workforce.int_workforce_needs "
        "where simulation_year = 2026"
    )
    count = int(needs.iloc[0, 0])
    assert count == maths.expected_terminations(hz["termination_rate"])
    draws = [maths.uniform(7, e, 2026, "termination") for e in hz["employee_id"]]
    expected = maths.hazard_select(
        list(hz["employee_id"]), list(hz["termination_rate"]), draws, count
    )
    leavers = simulated.query(
        "select employee_id from workforce.int_termination_events "
        "where simulation_year = 2026 and termination_type = 'experienced'"
    )
    assert sorted(leavers["employee_id"]) == sorted(expected)
    by_level = simulated.query(
        "select level, hires from workforce.int_workforce_needs_by_level "
        "where simulation_year = 2026"
    )
    hires = int(by_level["hires"].sum())
    mix = {1: 0.45, 2: 0.30, 3: 0.15, 4: 0.08, 5: 0.02}
    assert dict(zip(by_level["level"], by_level["hires"], strict=True)) == maths.allocate_by_share(
        hires, mix
    )


def test_proration_matches_the_python_maths(simulated: Sim):
    snap = simulated.query(
        "select * from workforce.fct_workforce_snapshot where simulation_year = 2026"
    )
    events = simulated.query(
        "select employee_id, event_type, effective_date, compensation_after "
        "from workforce.fct_yearly_events where simulation_year = 2026 "
        "and event_type in ('promotion', 'merit')"
    )
    raises = {}
    for e in events.itertuples():
        raises.setdefault(e.employee_id, []).append((_day(e.effective_date), e.compensation_after))
    for s in snap.itertuples():
        rates = [
            (date(2026, 1, 1), s.starting_compensation),
            *sorted(raises.get(s.employee_id, [])),
        ]
        employed_from = max(_day(s.hire_date), date(2026, 1, 1))
        employed_to = (
            _day(s.termination_date) if s.employment_status == "terminated" else date(2026, 12, 31)
        )
        expected = maths.prorated_compensation(2026, employed_from, employed_to, rates)
        assert s.prorated_compensation == pytest.approx(expected, abs=0.011), s.employee_id


def test_contributions_match_the_python_maths(simulated: Sim):
    rows = simulated.query(
        "select * from workforce.int_employee_contributions where simulation_year = 2027"
    )
    assert (rows["employee_deferral"] > 0).sum() > 50
    for r in rows.itertuples():
        deferral, catch_up = maths.capped_deferral(r.requested_deferral, r.age, 24_500, 8_000, 50)
        assert r.employee_deferral == pytest.approx(deferral)
        assert r.catch_up_deferral == pytest.approx(catch_up)
        rate = r.employee_deferral / r.deferral_compensation if r.deferral_compensation else 0
        match = maths.employer_match(rate, r.deferral_compensation, [(0.03, 1.0), (0.05, 0.5)])
        core = round(0.02 * r.plan_compensation, 2)
        match, core = maths.apply_415c(deferral, catch_up, match, core, 72_000)
        assert r.employer_match == pytest.approx(match, abs=0.011)
        assert r.employer_core == pytest.approx(core, abs=0.011)


def test_no_event_after_termination(simulated: Sim):
    bad = simulated.query(
        """
        select e.* from workforce.fct_yearly_events e
        join workforce.int_termination_events t
          on t.employee_id = e.employee_id and t.simulation_year = e.simulation_year
        where e.effective_date > t.effective_date
        """
    )
    assert bad.empty


def test_bad_census_rows_are_quarantined(simulated: Sim):
    q = simulated.query("select * from quarantine.workforce_census")
    assert set(q["rule_id"]) == {"W-R02", "W-R03", "W-R04", "W-R05", "W-R06"}
    assert q["origin"].str.startswith("census_300.csv#row=").all()
    assert all(json.loads(r)["employee_id"] for r in q["raw_record"])
    loaded = simulated.query("select count(*) as n from workforce.census")["n"][0]
    event = simulated.instance.get_latest_materialization_event(
        dg.AssetKey(["workforce", "census"])
    )
    meta = event.asset_materialization.metadata
    assert meta["rows_in"].value == meta["rows_loaded"].value + meta["rows_quarantined"].value
    assert meta["rows_loaded"].value == loaded and meta["rows_quarantined"].value == len(q)


def test_reports(simulated: Sim):
    out = Path(simulated.warehouse.path).parent / "reports" / "workforce"
    for year in YEARS:
        report = json.loads((out / f"year_{year}.json").read_text())
        assert report["simulation_year"] == year
        assert report["headcount"] == report["target_headcount"]
        assert all(report["checks"].values())
    csv = (out / "summary.csv").read_text().splitlines()
    assert csv[0].startswith(
        "simulation_year,start_headcount,headcount,hires,terminations,growth_pct"
    )
    assert len(csv) == 4
    assert (out / "summary.png").read_bytes().startswith(b"\x89PNG")
    mat = simulated.instance.get_latest_materialization_event(
        dg.AssetKey(["reports", "workforce_summary"])
    )
    assert "data:image/png;base64," in mat.asset_materialization.metadata["summary"].value


def test_rerun_of_a_year_is_idempotent_and_reproduces_its_hash(simulated: Sim):
    before = simulated.query(
        "select * from workforce.fct_workforce_snapshot order by simulation_year, employee_id"
    )
    result = simulated.run("workforce_simulation", (2026, 2026))
    assert result.success
    after = simulated.query(
        "select * from workforce.fct_workforce_snapshot order by simulation_year, employee_id"
    )
    assert before.equals(after)
    (check,) = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and e.event_specific_data.check_name == "state_hash_reproducible"
    ]
    values = check.metadata["values_by_year"].value["2026"]
    assert check.passed and values["recorded_state_hash"] == values["state_hash"]


def test_same_inputs_give_identical_tables_and_hashes(simulated: Sim, tmp_path, monkeypatch):
    twin = Sim(tmp_path / "twin", monkeypatch)
    assert twin.simulate(2025, 2026).success
    for table in ["fct_workforce_snapshot", "fct_yearly_events", "int_employee_contributions"]:
        sql = f"select * from workforce.{table} where simulation_year <= 2026 order by all"
        assert twin.query(sql).equals(simulated.query(sql)), table
    for year in (2025, 2026):
        ours = _snapshot_records(simulated.instance, year)[-1].asset_materialization.metadata
        theirs = _snapshot_records(twin.instance, year)[0].asset_materialization.metadata
        assert ours["state_hash"].value == theirs["state_hash"].value
    # another seed gives another simulation
    other = Sim(tmp_path / "other", monkeypatch)
    assert other.simulate(2025, 2025, random_seed=8).success
    theirs = _snapshot_records(other.instance, 2025)[0].asset_materialization.metadata
    ours = _snapshot_records(simulated.instance, 2025)[0].asset_materialization.metadata
    assert theirs["state_hash"].value != ours["state_hash"].value


def test_year_whose_prior_year_is_missing_fails_naming_it(tmp_path, monkeypatch):
    sim = Sim(tmp_path / "gap", monkeypatch)
    assert sim.run("workforce_inputs").success
    result = sim.run("workforce_simulation", (2026, 2027))
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.error.message
    assert "year 2026" in message and "run year 2025 first" in message
    assert sim.instance.get_materialized_partitions(SNAPSHOT) == set()


def test_dbt_failure_names_year_and_stage(tmp_path, monkeypatch):
    sim = Sim(tmp_path / "dbt_fail", monkeypatch, census={"sample_size": 100})
    assert sim.simulate(2025, 2025).success
    # a duplicated employee in 2025's end state breaks a dbt test of 2026's foundation
    with sim.warehouse.connect() as con:
        con.execute(
            "insert into workforce.fct_workforce_snapshot select * from "
            "workforce.fct_workforce_snapshot where simulation_year = 2025 "
            "and employment_status = 'active' limit 1"
        )
    result = sim.run("workforce_simulation", (2026, 2027))
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.error.message
    assert "year 2026, stage foundation" in message
    assert "workforce_unique_in_year_int_employee_compensation_by_year" in message
    assert sim.instance.get_materialized_partitions(SNAPSHOT) == {"2025"}
