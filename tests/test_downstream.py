"""Downstream services: waits for a place, care homes in balance, residents' crises and readmissions,
the warm start's queues, and the measures that report them."""

from __future__ import annotations

import math

import pytest

from caresim.analysis.checks import little_frame
from caresim.engine.demand import Row
from caresim.engine.model import Model
from caresim.engine.patient import ACUTE_STAY, RESIDENT, Patient
from caresim.engine.warm_start import warm_start
from caresim.experiment.plan import Plan
from caresim.experiment.replication import WorldResult, run_replication
from caresim.scenario.fields import AGE_BANDS, DELAY_REASONS
from caresim.scenario.problems import ScenarioError
from caresim.scenario.schema import Scenario
from conftest import changed, shortened

WAITS = ("intermediate_care", "reablement", "home_care", "care_home")


def baseline(scenario: Scenario, replication: int = 0) -> WorldResult:
    return run_replication(Plan(scenario, {"baseline": ()}, 1, ()), replication)[0]


def with_changes(scenario: Scenario, *changes: tuple[str, object]) -> Scenario:
    for path, value in changes:
        scenario = changed(scenario, path, value)
    return scenario


@pytest.fixture(scope="module")
def unlimited(short: Scenario) -> WorldResult:
    """Downstream services with room for everyone (care homes: ten times the beds, a tenth as full)."""
    return baseline(with_changes(
        short, ("services.intermediate_care_beds.capacity", "unlimited"), ("services.reablement.capacity", "unlimited"),
        ("services.home_care.new_packages_per_week", "unlimited"), ("services.care_homes.residential_beds", 13000),
        ("services.care_homes.nursing_beds", 7000), ("services.care_homes.initial_occupancy_share", 0.09)))


@pytest.fixture(scope="module")
def scarce(short: Scenario) -> WorldResult:
    """Every downstream service full from the start and short of capacity."""
    return baseline(with_changes(
        short, ("services.intermediate_care_beds.initial_occupancy", 20),
        ("services.intermediate_care_beds.capacity", 20),
        ("services.reablement.initial_occupancy", 15), ("services.reablement.capacity", 15),
        ("services.home_care.new_packages_per_week", 2), ("services.care_homes.initial_occupancy_share", 1.0),
        ("services.care_homes.mean_residence_years", {"residential": 10.0, "nursing": 10.0})))


def test_no_wait_when_capacity_is_unlimited(unlimited):
    for group in WAITS:
        assert unlimited.measures[f"{group}_wait_days"] == 0, group
        assert unlimited.measures[f"{group}_waited_percent"] == 0, group


def test_waits_when_capacity_binds(scarce):
    for group in WAITS:
        assert scarce.measures[f"{group}_wait_days"] > 0, group
        assert 0 < scarce.measures[f"{group}_waited_percent"] <= 100, group
    assert scarce.measures["delayed_days_care_home_placement"] > 0


def test_littles_law_holds_for_every_pool_with_queues(short):
    """Short stays (a week) in few places, so queues form and stays are short against the 180-day window."""
    scenario = with_changes(shortened(short, days=180, warm_up_days=20),
                            ("services.intermediate_care_beds.length_of_stay",
                             {"distribution": "lognormal", "mean": 7, "cv": 0.6}),
                            ("services.intermediate_care_beds.initial_occupancy", 8),
                            ("services.intermediate_care_beds.capacity", 8),
                            ("services.reablement.duration", {"distribution": "uniform", "low": 3, "high": 11}),
                            ("services.reablement.initial_occupancy", 12), ("services.reablement.capacity", 12))
    results = [run_replication(Plan(scenario, {"baseline": ()}, 2, ()), r) for r in range(2)]
    assert all(w.measures[f"{group}_wait_days"] > 0 for r in results for w in r
               for group in ("intermediate_care", "reablement"))
    table = little_frame(results).set_index("service")
    pools = [s for s in ("step_down_beds", "step_up_beds", "intermediate_care_beds", "reablement") if s in table.index]
    assert "reablement" in pools and len(pools) >= 2
    for service in pools:
        assert table.loc[service, "within_5_percent"], table.loc[service]


def _care_homes_only(short: Scenario, admissions_per_year: float) -> Scenario:
    """Short residences (0.3 years) in 20,000 beds at 90 %, so 180 days show whether the stock holds."""
    return with_changes(
        shortened(short, days=180, warm_up_days=10),
        ("services.care_homes.residential_beds", 13000), ("services.care_homes.nursing_beds", 7000),
        ("services.care_homes.initial_occupancy_share", 0.9),
        ("services.care_homes.mean_residence_years", {"residential": 0.3, "nursing": 0.3}),
        ("services.care_homes.community_admissions_per_year", admissions_per_year),
        ("services.care_homes.nursing_share_of_admissions", 0.35),  # in the beds' proportion: both kinds balance
        ("demand.care_home_crisis_rate_per_resident_year", 0.0))


def test_care_home_occupancy_stays_flat_when_admissions_balance_deaths(short):
    balancing = 0.9 * 20000 / 0.3  # residents / mean residence: deaths a year at 90 %
    flat = baseline(_care_homes_only(short, balancing - 350)).measures  # ≈ 350 a year come from hospital
    assert flat["care_home_occupancy_start_percent"] == pytest.approx(90, abs=3)
    assert abs(flat["care_home_occupancy_change_percent"]) < 3
    draining = baseline(_care_homes_only(short, balancing / 2)).measures
    assert draining["care_home_occupancy_change_percent"] < -10


def test_full_care_homes_make_community_placements_wait_at_home(short):
    scenario = _care_homes_only(short, 0.9 * 20000 / 0.3 * 1.5)
    world = baseline(scenario)
    assert world.measures["care_home_wait_days"] > 0
    assert world.measures["care_home_occupancy_end_percent"] == pytest.approx(100, abs=0.5)
    assert world.conservation["violations"] == 0


@pytest.mark.pure_engine
def test_a_residents_crisis_carries_the_residents_own_age_band(short):
    model = Model(short, "baseline", (), 0)
    warm_start(model)
    resident = model.care_homes.residents[0]
    resident.band = 1  # 65-74, whatever the candidate's band
    candidates = model.candidates[1]
    i = next(k for k in range(len(candidates)) if candidates.band[k] == 3)  # an 85+ candidate
    row = Row(candidates.rows[i])
    row[RESIDENT] = 0.0  # the first bed: this resident
    seen = []
    model.front_door.send = lambda p, _via, _outcome: seen.append(p)  # type: ignore[method-assign]
    model.arrivals._resident_crisis(Patient((1, i), row, 3, 1, -1, -1, 0, False, False))
    (patient,) = seen
    assert patient.resident is resident and patient.band == 1
    stays = short.services.acute_beds.length_of_stay
    assert patient.row[ACUTE_STAY] == pytest.approx(
        candidates.rows[i, ACUTE_STAY] * stays[AGE_BANDS[1]].mean / stays[AGE_BANDS[3]].mean)


def test_care_home_residents_are_readmitted(short):
    scenario = with_changes(
        short, ("demand.crisis_rate_per_person_year", dict.fromkeys(AGE_BANDS, 0.0)),
        ("discharge.care_home_resident_death", 0.0),
        ("discharge.readmission_probability", dict.fromkeys(AGE_BANDS, 1.0)))
    world = baseline(scenario)
    m = world.measures
    assert m["emergency_admissions"] > 0 and m["care_home_admissions_per_resident_year"] > 0
    assert m["readmissions_30d"] > 0
    assert m["acute_to_care_home_return"] > 0
    assert world.conservation["violations"] == 0


def test_initial_queues_start_as_delayed_patients_in_acute_beds(short):
    scenario = with_changes(
        shortened(short, days=10, warm_up_days=0), ("services.intermediate_care_beds.step_down_share", None),
        ("services.intermediate_care_beds.initial_occupancy", 20),
        ("services.intermediate_care_beds.capacity", 20), ("services.intermediate_care_beds.initial_queue", 6),
        ("services.care_homes.initial_occupancy_share", 1.0), ("services.care_homes.initial_queue", 4))
    world = baseline(scenario)
    assert world.daily["delayed_patients"][0] == 10
    assert world.conservation["violations"] == 0


def test_initial_queues_must_be_patients_in_acute_beds(short):
    with pytest.raises((ScenarioError, ValueError), match="initial_occupancy"):
        changed(short, "services.care_homes.initial_queue", short.services.acute_beds.initial_occupancy + 1)


def test_downstream_measures_in_a_real_short_run(scarce):
    m = scarce.measures
    shares = [m[f"delayed_days_{reason}_percent"] for reason in DELAY_REASONS]
    assert sum(shares) == pytest.approx(100)
    assert m["delayed_days_care_home_placement_percent"] == pytest.approx(
        100 * m["delayed_days_care_home_placement"] / m["delayed_days"])
    assert 0 < m["cost_council_care_homes"] + m["cost_council_reablement"] < m["cost_council"]
    assert m["care_home_occupancy_change_percent"] == pytest.approx(
        m["care_home_occupancy_end_percent"] - m["care_home_occupancy_start_percent"])
    assert 0 <= m["care_home_deaths_in_hospital_percent"] <= 100
    assert not any(math.isnan(m[f"{group}_wait_days"]) for group in WAITS)


def test_more_downstream_capacity_means_fewer_delayed_days(skc):
    """SKC's calibrated intermediate-care beds and reablement places bind: ten more of each, on the same
    patients and draws, cut delayed days in every replication."""
    tight = shortened(skc, days=120, warm_up_days=28)
    ic, reablement = tight.services.intermediate_care_beds.capacity, tight.services.reablement.capacity
    roomier = with_changes(tight, ("services.intermediate_care_beds.capacity", ic + 10),
                           ("services.reablement.capacity", reablement + 10))
    for replication in (0, 1):
        before, after = baseline(tight, replication), baseline(roomier, replication)
        capacity_driven = [sum(world.measures[f"delayed_days_{reason}"] for reason in ("community_bed", "care_at_home"))
                           for world in (before, after)]
        assert capacity_driven[1] < 0.5 * capacity_driven[0], replication
        assert after.measures["delayed_days"] < before.measures["delayed_days"], replication
        assert after.measures["intermediate_care_wait_days"] < before.measures["intermediate_care_wait_days"]


class _Asked:
    """A stand-in patient for the queue tests."""


@pytest.mark.pure_engine
def test_a_pool_serves_people_waiting_in_beds_before_people_waiting_at_home():
    from caresim.engine.calendar import Clock
    from caresim.engine.services import Pool, Starts

    clock = Clock()
    pool, starts = Pool(clock, "reablement", 1, 10), Starts(clock, "packages", 1, 1, 1, 10)
    holder, at_home, in_bed = _Asked(), _Asked(), _Asked()
    served: list[object] = []
    pool.request(holder, served.append)
    pool.request(at_home, served.append, at_home=True)  # asked first, from home
    pool.request(in_bed, served.append)
    pool.release(holder)
    assert served == [holder, in_bed]
    pool.release(in_bed)
    assert served == [holder, in_bed, at_home]
    granted: list[object] = []
    starts.request(at_home, granted.append, at_home=True)
    starts.request(in_bed, granted.append)
    starts.new_day(weekend=False)
    assert granted == [in_bed]


def test_referrals_from_home_start_reablement_at_the_declared_rate(short):
    open_service = with_changes(short, ("services.reablement.capacity", "unlimited"),
                                ("services.reablement.referrals_from_home_per_year", 3650))
    world = baseline(open_service)
    started = world.measures["moved_referred_from_home_to_reablement"]
    assert started == pytest.approx(3650, rel=0.1)  # Poisson: sd about 2 % of the mean over a year
    assert world.conservation["violations"] == 0
    none = baseline(short).measures["moved_referred_from_home_to_reablement"]
    assert none == pytest.approx(short.services.reablement.referrals_from_home_per_year, rel=0.3)


def test_referrals_from_home_wait_behind_hospital_patients(short):
    """Crowding reablement with referrals from home: the mean wait rises, hospital patients wait far less."""
    crowded = baseline(with_changes(short, ("services.reablement.referrals_from_home_per_year", 1200))).measures
    from_hospital = crowded["delayed_days_reablement"] / crowded["acute_to_reablement"]
    assert crowded["reablement_wait_days"] > 5
    assert from_hospital < crowded["reablement_wait_days"] / 3
