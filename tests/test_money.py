"""The money ledger: the two comparisons, scheme-funded activity counted once, whole wards, the no-fund world."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from caresim.analysis.money import (
    FUND_AGAINST_NO_FUND,
    PLAN_AGAINST_2014_15,
    ledger_changes,
    money_frame,
    scheme_spend_before,
)
from caresim.experiment.plan import BASELINE, NO_FUND, make_plan
from caresim.experiment.replication import run_replication
from caresim.run_folder import NET_ALL, NET_CASH, TOTAL_CAPACITY, TOTAL_CASH
from caresim.scenario.schema import Scenario
from conftest import shortened

DAYS = 365.25


def world(**overrides: float) -> pd.DataFrame:
    """Two replications of the measures the ledger reads, all at a plain value unless given."""
    base = {"emergency_admissions": 1000.0, "ae_admitted": 500.0, "ae_discharged_home": 500.0,
            "ambulance_incidents": 800.0, "acute_bed_days": 300 * DAYS, "gp_urgent_contacts": 100.0,
            "out_of_hours_contacts": 100.0, "minor_injury_attendances": 100.0, "cost_council_care_homes": 1e6,
            "home_care_packages": 100.0, "scheme_cost": 0.0,
            "rapid_response_bed_days": 20 * DAYS, "rapid_response_occupancy_percent": 80.0,
            "rapid_response_episodes": 3000.0,
            "intermediate_care_bed_days": 20 * DAYS, "intermediate_care_occupancy_percent": 80.0,
            "reablement_bed_days": 50 * DAYS, "reablement_occupancy_percent": 80.0, "reablement_episodes": 600.0}
    return pd.DataFrame([base | overrides] * 2)


def long(worlds: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return pd.concat([w.reset_index(names="replication").melt(id_vars="replication", var_name="measure")
                      .assign(world=name) for name, w in worlds.items()], ignore_index=True)


def by_item(rows: list, item: str) -> float:
    return float(next(values for _, name, _, values in rows if name.startswith(item)).mean())


def test_scheme_funded_activity_appears_once(skc: Scenario) -> None:
    """Fifteen rapid-response places the scheme pays for, all used: their episodes add nothing beyond its cost."""
    base = world()
    added = 15 * DAYS
    mix = world(rapid_response_bed_days=20 * DAYS + added, rapid_response_occupancy_percent=(20 + 15) / (25 + 15) * 100,
                rapid_response_episodes=3000.0 + 15 * DAYS / 2, scheme_cost=1e6)
    rows = ledger_changes(mix, base, skc)
    assert by_item(rows, "rapid response places") == pytest.approx(0.0, abs=1e-6)
    assert sum(values.mean() for *_, values in rows) == pytest.approx(0.0, abs=1e-6)
    frame = money_frame(long({BASELINE: base, skc.mix_name: mix}), skc, skc.mix_name)
    spent = frame[~frame["payer"].isin(["pooled_fund", "all"])]["mean"].abs().sum()
    assert spent == pytest.approx(0.0, abs=1e-6)


def test_the_net_cash_cost_is_the_cost_less_only_the_cash_released(skc: Scenario) -> None:
    base = world()
    mix = world(emergency_admissions=900.0, acute_bed_days=300 * DAYS - 3000, gp_urgent_contacts=150.0,
                scheme_cost=2e6)
    frame = money_frame(long({BASELINE: base, skc.mix_name: mix}), skc, skc.mix_name)
    plan = frame[frame["comparison"] == PLAN_AGAINST_2014_15].set_index("kind")
    items = frame[(frame["comparison"] == PLAN_AGAINST_2014_15) & (frame["payer"] != "all")]
    cash = items[items["kind"] == "cash_releasing"]["mean"].sum()
    capacity = items[items["kind"] == "not_cash_releasing"]["mean"].sum()
    cost = 2e6 - scheme_spend_before(skc, skc.mix_schemes)
    k = skc.costs
    assert cash == pytest.approx(-100 * k.non_elective_tariff * k.marginal_rate_share)  # 3,000 bed days: no ward
    assert plan.loc[TOTAL_CASH, "mean"] == pytest.approx(cash)
    assert plan.loc[TOTAL_CAPACITY, "mean"] == pytest.approx(capacity)
    assert plan.loc[NET_CASH, "mean"] == pytest.approx(cost + cash)
    assert plan.loc[NET_ALL, "mean"] == pytest.approx(cost + cash + capacity)
    assert plan.loc[NET_CASH, "share_below_zero"] == float(cost + cash < 0)


def test_increment_is_cost_less_spend_before(skc: Scenario) -> None:
    scheme_cost = sum(skc.scheme(s).cost.recurrent_per_year for s in skc.mix_schemes)
    frame = money_frame(long({BASELINE: world(), skc.mix_name: world(scheme_cost=scheme_cost),
                              NO_FUND: world()}), skc, skc.mix_name)
    costs = frame[frame["kind"] == "cost"].set_index("comparison")["mean"]
    before = scheme_spend_before(skc, skc.mix_schemes)
    assert before == pytest.approx(3_884_000)  # 001 L1553
    assert costs[PLAN_AGAINST_2014_15] == pytest.approx(scheme_cost - before)
    assert costs[FUND_AGAINST_NO_FUND] == pytest.approx(scheme_cost)


@pytest.mark.parametrize(("beds_fewer", "wards"), [(27.9, 0), (28.0, 1), (40.0, 1), (56.0, 2)])
def test_beds_release_cash_in_whole_wards(skc: Scenario, beds_fewer: float, wards: int) -> None:
    rows = ledger_changes(world(acute_bed_days=(300 - beds_fewer) * DAYS), world(), skc)
    ward_cost = skc.costs.ward_beds * DAYS * skc.costs.acute_bed_day
    assert by_item(rows, "acute beds in whole wards") == pytest.approx(-wards * ward_cost)
    total = by_item(rows, "acute beds in whole wards") + by_item(rows, "acute bed days short")
    assert total == pytest.approx(-beds_fewer * DAYS * skc.costs.acute_bed_day)


def test_no_fund_world_lacks_exactly_the_funds_places(skc: Scenario) -> None:
    scenario = shortened(skc, days=20, warm_up_days=3)
    plan = make_plan(scenario, 1)
    assert NO_FUND in plan.worlds
    results = {w.world: w for w in run_replication(plan, 0)}
    for service, places in scenario.fund.pays_for.items():
        baseline = float(np.mean(results[BASELINE].daily_capacity[service]))
        no_fund = float(np.mean(results[NO_FUND].daily_capacity[service]))
        assert baseline - no_fund == pytest.approx(places)


def test_a_service_the_fund_pays_for_in_full_is_switched_off_without_it(skc: Scenario) -> None:
    """No places left means no service (its patients take the pathway a missing service leaves them), not an
    endless queue: a year without the fund runs."""
    without = skc.without_fund()
    for service, places in skc.fund.pays_for.items():
        section = getattr(without.services, service)
        assert section.enabled == (int(getattr(skc.services, service).capacity) > places), service
    year = shortened(skc, days=365, warm_up_days=28).without_fund()
    world = run_replication(make_plan(year, 1), 0)[0]
    assert world.conservation["violations"] == 0
    assert world.measures["reablement_episodes"] == 0
