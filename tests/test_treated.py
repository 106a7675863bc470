"""Effects on the people a scheme treats: what a patient received, programme enrolment that is the same
alone and in any mix, and a 91-day reablement outcome that the wait to start moves."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from pydantic import ValidationError

from caresim.engine import counters
from caresim.engine.calendar import Calendar
from caresim.engine.demand import WIDTH, Row, community_candidates
from caresim.engine.discharge import Discharge
from caresim.engine.effects import WorldEffects
from caresim.engine.model import Model
from caresim.engine.patient import RECEIVED_BIT, Patient
from caresim.scenario.schema import Scenario
from caresim.scenario.schemes import (
    CareHomeAdmissionEffect,
    DiversionEffect,
    LengthOfStayEffect,
    PreventionEffect,
    ReadmissionEffect,
)
from conftest import changed, shortened
from test_schemes import with_schemes

PROGRAMME = {"places": 400, "duration_days": 84, "effect_lasts_days": 180}


def calendar_of(scenario: Scenario) -> Calendar:
    return Calendar(scenario.run.start, scenario.run.warm_up_days, scenario.run.days)


def person(row: list[float], band: int = 2, tier: int = 0, residence: int = 0) -> Patient:
    return Patient((0, 0), Row(row), band, residence, tier, 0, 0, False, False)


def programme_keys(effects: WorldEffects, scheme: str) -> list[tuple]:
    return [a.key for a in effects.of(PreventionEffect) if a.key[0] == scheme and a.effect.programme is not None]


def test_a_schemes_enrolled_people_are_the_same_alone_and_in_any_mix(skc):
    scenario = shortened(skc, days=200, warm_up_days=7)
    calendar = calendar_of(scenario)
    candidates = community_candidates(scenario, calendar, 3)
    every = tuple(scenario.schemes)
    programmes = [name for name in every if programme_keys(WorldEffects(scenario, (name,), 3, calendar), name)]
    assert len(programmes) >= 2, "the SKC mix should have at least two prevention programmes"
    for name in programmes:
        alone = WorldEffects(scenario, (name,), 3, calendar)
        (key,) = programme_keys(alone, name)
        enrolled = alone.enrolled_candidates(key, candidates, 0)
        assert enrolled.any()
        others = [n for n in every if n != name]
        mixes = [every, tuple(reversed(every))] + [(other, name) for other in others]
        for mix in mixes:
            world = WorldEffects(scenario, mix, 3, calendar)
            (same_key,) = programme_keys(world, name)
            assert np.array_equal(world.enrolled_candidates(same_key, candidates, 0), enrolled), mix
        # each enrolled candidate, as a patient, knows they are enrolled at their crisis and stay enrolled later
        for i in itertools.islice(np.nonzero(enrolled)[0], 200):
            patient = Patient((0, int(i)), Row(candidates.rows[i]), int(candidates.band[i]), 0,
                              int(candidates.tier[i]), int(candidates.locality[i]), int(candidates.crisis_type[i]),
                              False, False)
            assert alone.enrolled(key, patient, float(candidates.time[i]))
            assert alone.enrolled(key, patient, float(candidates.time[i]) + 30)


def treated_only(scenario: Scenario) -> Scenario:
    return with_schemes(scenario, {"treated": {
        "title": "Effects on the treated only",
        "effects": [
            {"kind": "prevention", "name": "enrolled", "multiplier": {"value": 1.0}, "programme": PROGRAMME,
             "eligible": {"risk_tiers": ["top_0_5", "next_1_5"], "residence": ["home"]}},
            {"kind": "readmission", "name": "readmissions", "multiplier": {"value": 0.5},
             "eligible": {"received": ["programme"]}},
            {"kind": "care_home_admission", "name": "care_homes", "multiplier": {"value": 0.0},
             "eligible": {"received": ["admission_avoided", "step_up"]}},
            {"kind": "diversion", "name": "diverted", "at": "admission", "to": "rapid_response",
             "share": {"value": 1.0}, "then_admitted": {"value": 1.0}, "eligible": {"age_bands": ["85+"]}},
        ]}})


def test_outcome_effects_act_only_on_patients_who_received_the_service(skc):
    scenario = treated_only(skc)
    effects = WorldEffects(scenario, ("treated",), 0, calendar_of(scenario))
    row = [0.5] * WIDTH
    untreated, treated, stepped_up = person(row), person(row), person(row)
    treated.receive("admission_avoided")
    stepped_up.receive("step_up")
    assert effects.multiplier(CareHomeAdmissionEffect, untreated, 100.0) == 1.0
    assert effects.multiplier(CareHomeAdmissionEffect, treated, 100.0) == 0.0
    assert effects.multiplier(CareHomeAdmissionEffect, stepped_up, 100.0) == 0.0
    readmitted_later = person(row)
    readmitted_later.carry_over(treated)
    assert effects.multiplier(CareHomeAdmissionEffect, readmitted_later, 100.0) == 0.0


def test_a_programme_effect_acts_on_the_enrolled_only(skc):
    scenario = treated_only(skc)
    effects = WorldEffects(scenario, ("treated",), 0, calendar_of(scenario))
    (key,) = programme_keys(effects, "treated")
    late = 10_000.0  # long after the start: the programme is full
    share = float(effects.enrolments[key].share(np.array(late)))
    assert 0 < share < 1
    draws = np.linspace(0, 1, 101, endpoint=False)
    enrolled = [person([u] * WIDTH) for u in draws]
    outcomes = [effects.multiplier(ReadmissionEffect, p, late) for p in enrolled]
    assert set(outcomes) == {0.5, 1.0}
    assert np.mean([o == 0.5 for o in outcomes]) == pytest.approx(share, abs=0.02)
    outside = person([0.0] * WIDTH, tier=2)  # not in the programme's risk tiers: never enrolled
    assert not effects.enrolled(key, outside, late)
    assert effects.multiplier(ReadmissionEffect, outside, late) == 1.0


def test_received_programme_needs_a_programme_in_the_scheme(skc):
    with pytest.raises(ValidationError, match="programme"):
        with_schemes(skc, {"lonely": {"title": "No programme", "effects": [
            {"kind": "readmission", "name": "readmissions", "multiplier": {"value": 0.9},
             "eligible": {"received": ["programme"]}}]}})


def test_an_avoided_admission_is_carried_into_the_admission_after_rapid_response(short, monkeypatch):
    scenario = treated_only(short)
    seen: list[tuple[bool, str | None]] = []
    medically_fit = Discharge.medically_fit

    def record(self: Discharge, event: object) -> None:
        medically_fit(self, event)
        p = event.value  # type: ignore[attr-defined]
        if p.residence == 0 and p.band == 3:
            seen.append((bool(p.received & RECEIVED_BIT["admission_avoided"]), p.pathway))

    monkeypatch.setattr(Discharge, "medically_fit", record)
    Model(scenario, "treated", ("treated",), 0).run()
    treated = [pathway for avoided, pathway in seen if avoided]
    untreated = [pathway for avoided, pathway in seen if not avoided]
    assert len(treated) > 20 and untreated
    assert "P3" not in treated
    assert "P3" in untreated


def followed_share(scenario: Scenario, replications: int = 1) -> tuple[float, float]:
    """The share still at home at 91 days and the number followed, over a few replications."""
    home = followed = 0.0
    for replication in range(replications):
        model = Model(scenario, "baseline", (), replication)
        model.run()
        home += model.kernel.counts[counters.STILL_HOME_91D_65PLUS]
        followed += model.kernel.counts[counters.REHABILITATION_65PLUS_FOLLOWED]
    return home / followed, followed


def test_more_reablement_capacity_raises_the_91_day_share_when_reablement_queues(skc):
    base = changed(shortened(skc, days=100, warm_up_days=14), "services.reablement.initial_occupancy", 20)
    gaps = {}
    for ratio in (0.5, 1.0):
        scenario = changed(base, "services.reablement.at_home_91_days_odds_ratio_per_week_waited", ratio)
        tight, _ = followed_share(changed(scenario, "services.reablement.capacity", 20))
        ample, _ = followed_share(changed(scenario, "services.reablement.capacity", 120))
        gaps[ratio] = ample - tight
    assert gaps[0.5] > gaps[1.0] + 0.03  # beyond any change in who is followed, shorter waits keep more at home


def test_the_band_probability_holds_at_the_reference_wait(skc, short):
    model = Model(changed(short, "services.reablement.at_home_91_days_odds_ratio_per_week_waited", 0.8), "b", (), 0)
    reablement = model.scenario.services.reablement
    p = person([0.5] * WIDTH, band=3)
    p.waited = reablement.at_home_91_days_reference_wait_days
    at_reference = reablement.at_home_91_days_probability["85+"]
    assert model.community.at_home_91_days_probability(p) == pytest.approx(at_reference)
    p.waited += 14
    lower = model.community.at_home_91_days_probability(p)
    odds = reablement.at_home_91_days_probability["85+"] / (1 - reablement.at_home_91_days_probability["85+"])
    assert lower / (1 - lower) == pytest.approx(odds * 0.8 ** 2)


def realised_run(scenario: Scenario) -> tuple[WorldEffects, dict[str, float], dict[tuple[str, str], tuple]]:
    model = Model(scenario, "mix", tuple(scenario.mix_schemes), 1)
    record = model.run()
    return model.kernel.effects, record.counts, record.realised


def test_each_effects_realised_size_is_measured_on_the_people_it_acted_on(skc):
    effects, counts, realised = realised_run(shortened(skc, days=366, warm_up_days=14))
    diversions = [a for a in effects.of(DiversionEffect) if a.key in realised]
    assert diversions, "the SKC mix diverts patients"
    # every successful diversion is credited to exactly one effect, and none diverts more than it was offered
    assert sum(realised[a.key][2] for a in diversions) == counts["diversions"]
    for active in diversions:
        offered, _, diverted = realised[active.key]
        assert 0 <= diverted <= offered
        share = diverted / offered
        assert share <= active.size + 4 * np.sqrt(active.size * (1 - active.size) / offered) + 1e-9, active.key
    ratios = [a for a in effects.active if a.key in realised and not isinstance(a.effect, DiversionEffect)]
    kinds = {type(a.effect) for a in ratios}
    assert {PreventionEffect, ReadmissionEffect, CareHomeAdmissionEffect, LengthOfStayEffect} <= kinds, kinds
    for active in ratios:
        acted_on, without, with_ = realised[active.key]
        assert acted_on > 0 and with_ >= 0 and without >= 0, active.key
        if len(effects.of(type(active.effect))) == 1:  # alone at its decisions: the same draws move one way only
            assert (with_ <= without) if active.size <= 1 else (with_ >= without), active.key
        if isinstance(active.effect, LengthOfStayEffect):  # no thinning: a stay scales by the ramped multiplier
            assert min(active.size, 1.0) - 1e-9 <= with_ / without <= max(active.size, 1.0) + 1e-9, active.key


def test_a_diversion_to_a_full_service_realises_nothing_however_large_its_drawn_share(skc):
    scenario = changed(shortened(skc, days=240, warm_up_days=7), "services.intermediate_care_beds.initial_occupancy", 0)
    data = changed(scenario, "services.intermediate_care_beds.capacity", 0).model_dump(by_alias=True)
    for effect in data["schemes"]["integrated_teams_reablement"]["effects"]:
        if effect.get("service") == "intermediate_care_beds":
            effect["add"] = 0
    scenario = Scenario.model_validate(data)
    effects, _, realised = realised_run(scenario)
    (step_up,) = [a for a in effects.of(DiversionEffect) if a.effect.to == "intermediate_care_beds"]
    offered, _, diverted = realised[step_up.key]
    assert step_up.size > 0 and offered > 0 and diverted == 0
