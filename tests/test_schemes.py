"""Schemes as interventions: the paired counterfactual, diversion honesty, combination and attribution."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from caresim.analysis.summary import ATTRIBUTED, attribution_frame, replications_frame, wide
from caresim.engine.calendar import Calendar
from caresim.engine.demand import WIDTH
from caresim.engine.effects import WorldEffects
from caresim.experiment.plan import Plan, make_plan
from caresim.experiment.replication import run_replication
from caresim.scenario.schema import Scenario
from caresim.scenario.schemes import LengthOfStayEffect
from conftest import changed


def with_schemes(scenario: Scenario, schemes: dict) -> Scenario:
    data = scenario.model_dump(by_alias=True)
    data["schemes"] = schemes
    data["variants"] = {}
    return Scenario.model_validate(data)


def run_worlds(scenario: Scenario, worlds: dict, replication: int = 0) -> dict[str, dict[str, float]]:
    return {w.world: w.measures for w in run_replication(Plan(scenario, worlds, 1, tuple(worlds)), replication)}


def test_scheme_with_no_effect_is_identical_to_baseline(short):
    idle = {"title": "Idle", "cost": {"recurrent_per_year": 0},
            "effects": [{"kind": "capacity", "name": "capacity", "service": "rapid_response", "add": 0},
                        {"kind": "prevention", "name": "prevention", "multiplier": {"value": 1.0}},
                        {"kind": "diversion", "name": "diversion", "at": "admission", "to": "rapid_response",
                         "share": {"value": 0.0}}]}
    scenario = with_schemes(short, {"idle": idle})
    worlds = run_worlds(scenario, {"baseline": (), "idle": ("idle",)})
    assert worlds["idle"] == worlds["baseline"]


def test_adding_schemes_changes_no_draw_of_the_baseline(short):
    bare = with_schemes(short, {})
    plain = run_worlds(bare, {"baseline": ()})["baseline"]
    full = run_worlds(short, {"baseline": (), "mix": tuple(short.schemes)})
    assert full["baseline"] == plain
    assert full["mix"] != plain


def diversion_scheme(capacity_add: int = 0) -> dict:
    return {"title": "Divert", "effects": [
        {"kind": "diversion", "name": "diversion", "at": "admission", "to": "rapid_response", "share": {"value": 0.5}},
        {"kind": "capacity", "name": "capacity", "service": "rapid_response", "add": capacity_add}]}


def test_diversion_into_a_full_service_is_never_credited(short):
    scenario = with_schemes(changed(short, "services.rapid_response.capacity", 0), {"divert": diversion_scheme()})
    worlds = run_worlds(scenario, {"baseline": (), "divert": ("divert",)})
    assert worlds["divert"]["diversions"] == 0
    assert worlds["divert"]["failed_diversions"] > 100
    assert worlds["divert"]["emergency_admissions"] == worlds["baseline"]["emergency_admissions"]


def test_more_capacity_never_diverts_fewer(short):
    scenario = changed(short, "services.rapid_response.capacity", 0)
    diverted = []
    for add in (0, 2, 10, 40):
        s = with_schemes(scenario, {"divert": diversion_scheme(add)})
        per_rep = [run_worlds(s, {"divert": ("divert",)}, r)["divert"]["diversions"] for r in range(2)]
        diverted.append(np.mean(per_rep))
    assert diverted == sorted(diverted)
    assert diverted[-1] > diverted[0]


def test_extended_gp_hours_serve_referrals_and_change_no_first_contact(short):
    """A hub open 8-8, 7 days, adds appointments for patients streamed from A&E; where people first turn
    follows core practice hours, so with no diversion the world is the baseline."""
    hub = {"kind": "capacity", "name": "capacity", "service": "gp", "add": 300,
           "hours": {"start_hour": 8, "end_hour": 20, "weekends": True}}
    stream = {"kind": "diversion", "name": "diversion", "at": "self_presentation", "to": "gp", "share": {"value": 1.0}}
    scenario = with_schemes(changed(short, "services.gp.appointments_per_weekday", 100_000),
                            {"hours": {"title": "Hub", "effects": [hub]},
                             "core": {"title": "Streaming", "effects": [stream]},
                             "both": {"title": "Hub and streaming", "effects": [hub, stream]}})
    worlds = run_worlds(scenario, {"baseline": (), "hours": ("hours",), "core": ("core",), "both": ("both",)})
    base = worlds["baseline"]
    for measure in ("gp_urgent_contacts", "out_of_hours_contacts", "ambulance_incidents", "ae_attendances"):
        assert worlds["hours"][measure] == base[measure], measure
    # streaming works only while a surgery or the hub is open; the hub's hours let more through
    assert 0 < worlds["core"]["diversions_self_presentation"] < worlds["both"]["diversions_self_presentation"]
    assert worlds["core"]["failed_diversions_self_presentation"] > worlds["both"]["failed_diversions_self_presentation"]


def test_a_diversion_to_gp_removes_attendances_never_admissions(short):
    """Only self-presenters whom A&E would not admit are manageable in primary care (one draw decides both)."""
    stream = {"kind": "diversion", "name": "diversion", "at": "self_presentation", "to": "gp", "share": {"value": 1.0}}
    scenario = with_schemes(changed(short, "services.gp.appointments_per_weekday", 100_000),
                            {"stream": {"title": "Streaming", "effects": [stream]}})
    worlds = run_worlds(scenario, {"baseline": (), "stream": ("stream",)})
    diverted = worlds["stream"]["diversions_self_presentation"]
    assert diverted > 100
    fewer_attendances = worlds["baseline"]["ae_attendances"] - worlds["stream"]["ae_attendances"]
    assert fewer_attendances == pytest.approx(diverted, rel=0.05)
    assert worlds["stream"]["emergency_admissions"] == pytest.approx(worlds["baseline"]["emergency_admissions"], abs=3)


class Person:
    band, residence, crisis_type, tier, locality = 2, 0, 0, 0, 0
    row = [0.0] * WIDTH  # acuity 0: any diversion may take them


@pytest.mark.pure_engine
def test_diversions_at_one_point_combine_as_independent_chances(short):
    scheme = lambda share: {"title": "d", "effects": [  # noqa: E731
        {"kind": "diversion", "name": "diversion", "at": "admission", "to": "rapid_response",
         "share": {"value": share}}]}
    scenario = with_schemes(short, {"a": scheme(0.2), "b": scheme(0.5)})
    calendar = Calendar(scenario.run.start, scenario.run.warm_up_days, scenario.run.days)
    effects = WorldEffects(scenario, ("a", "b"), 0, calendar)
    grid = (np.arange(10_000) + 0.5) / 10_000
    chosen = [effects.divert("admission", Person(), 10.0, u) for u in grid]
    share_a = sum(c is not None and c.key[0] == "a" for c in chosen) / len(grid)
    share_b = sum(c is not None and c.key[0] == "b" for c in chosen) / len(grid)
    assert share_a == pytest.approx(0.2, abs=1e-3)
    assert share_b == pytest.approx(0.8 * 0.5, abs=1e-3)
    assert share_a + share_b == pytest.approx(1 - 0.8 * 0.5, abs=1e-3)


@pytest.mark.pure_engine
def test_multipliers_of_several_schemes_multiply(short):
    scheme = lambda m: {"title": "m", "effects": [  # noqa: E731
        {"kind": "length_of_stay", "name": "length_of_stay", "service": "acute_beds", "multiplier": {"value": m}}]}
    scenario = with_schemes(short, {"a": scheme(0.9), "b": scheme(0.8)})
    calendar = Calendar(scenario.run.start, scenario.run.warm_up_days, scenario.run.days)
    effects = WorldEffects(scenario, ("a", "b"), 0, calendar)
    assert effects.scaled(LengthOfStayEffect, Person(), 30.0, 1.0, "acute_beds") == pytest.approx(0.72)


def test_effect_sizes_drawn_once_per_replication_and_collapse_to_the_point(short):
    calendar = Calendar(short.run.start, short.run.warm_up_days, short.run.days)
    uncertain = [WorldEffects(short, ("falls_prevention",), r, calendar).active[0].size for r in range(20)]
    assert len(set(uncertain)) == 20 and 0.5 < min(uncertain) and max(uncertain) < 1.4  # log-normal, 0.85 (0.70-1.03)
    point = with_schemes(short, {"falls_prevention": {
        **short.schemes["falls_prevention"].model_dump(by_alias=True),
        "effects": [{"kind": "prevention", "name": "prevention",
                     "multiplier": {"value": 0.77, "low": 0.77, "high": 0.77},
                     "eligible": {"crisis_types": ["fall"]}}]}})
    sizes = {WorldEffects(point, ("falls_prevention",), r, calendar).active[0].size for r in range(20)}
    assert sizes == {0.77}


@pytest.mark.slow
def test_attribution_parts_and_remainder_add_up_in_every_replication(short):
    plan = make_plan(short, 2, attribution=True)
    results = [run_replication(plan, r) for r in range(2)]
    frame = replications_frame(results, short.name, short.run.seed)
    schemes = tuple(short.schemes)
    base, mix = wide(frame, "baseline"), wide(frame, short.mix_name)
    parts = sum(wide(frame, f"only:{s}") - base for s in schemes)
    remainder = (mix - base) - parts
    for measure in ATTRIBUTED:
        assert np.allclose((parts + remainder)[measure], (mix - base)[measure])
    table = attribution_frame(frame, short.mix_name, schemes)
    admissions = table[table["measure"] == "emergency_admissions"].set_index(["scheme", "method"])["mean"]
    total = admissions[("all schemes", "total")]
    alone = sum(admissions[(s, "one_at_a_time")] for s in schemes)
    assert alone + admissions[("interaction", "remainder")] == pytest.approx(total)
    assert isinstance(table, pd.DataFrame)
