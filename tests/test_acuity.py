"""Acuity: one clinical-need draw per crisis drives admission at A&E and the acute stay together, keeping
both calibrated marginals; diversions take only the acuity they can treat, and avoid those patients' own stays."""

from __future__ import annotations

import numpy as np
import pytest

from caresim.engine import diversions
from caresim.engine.calendar import Calendar
from caresim.engine.demand import ACUITY, COLUMN, LEAVE, UNIFORM_COLUMNS, WIDTH, Row, draw_rows
from caresim.engine.effects import WorldEffects
from caresim.engine.patient import Patient
from caresim.scenario.fields import AGE_BANDS
from caresim.scenario.schema import Scenario
from conftest import changed, shortened
from test_schemes import run_worlds, with_schemes

N = 200_000


def rows_for(scenario: Scenario, correlation: float, band: int = 3, residence: int = 0) -> np.ndarray:
    scenario = changed(scenario, "demand.acuity.correlation", correlation)
    return draw_rows(scenario, np.random.default_rng(7), np.full(N, band), residence)


def test_no_correlation_leaves_every_draw_as_it_was(short):
    """Correlation 0 is today's model exactly: the uniform columns are the stream's first draws, the stay is
    drawn from its own uniform, and the acuity column is extra."""
    rows = rows_for(short, 0.0)
    raw = np.random.default_rng(7).random((N, LEAVE))
    assert np.array_equal(rows[:, :len(UNIFORM_COLUMNS)], raw[:, :len(UNIFORM_COLUMNS)])
    stay = short.services.acute_beds.length_of_stay["85+"].from_uniform(raw[:, len(UNIFORM_COLUMNS)])
    assert np.array_equal(rows[:, COLUMN["acute_stay"]], stay)
    assert rows.shape == (N, WIDTH) and 0 <= rows[:, ACUITY].min() and rows[:, ACUITY].max() < 1


@pytest.mark.parametrize("band, residence", [(0, 0), (3, 0), (2, 1)])
def test_correlation_keeps_the_admitted_share_and_the_mean_stay_of_the_admitted(short, band, residence):
    ae = short.services.ae
    admit = ae.admit_probability_care_home if residence else ae.admit_probability[AGE_BANDS[band]]
    mean = short.services.acute_beds.length_of_stay[AGE_BANDS[band]].mean
    plain, correlated = rows_for(short, 0.0, band, residence), rows_for(short, 0.6, band, residence)
    admitted = correlated[:, COLUMN["ae_admit"]] < admit
    assert admitted.mean() == pytest.approx(admit, abs=0.005)
    stay = correlated[:, COLUMN["acute_stay"]]
    tolerance = 4 * stay.std() / np.sqrt(admitted.sum())
    assert stay[admitted].mean() == pytest.approx(mean, abs=tolerance)
    assert stay[~admitted].mean() == pytest.approx(mean, abs=4 * stay.std() / np.sqrt((~admitted).sum()))
    # the more acute are admitted first, and among the admitted stay longer
    acuity = correlated[:, ACUITY]
    assert acuity[admitted].mean() > acuity[~admitted].mean() + 0.1
    assert np.corrcoef(acuity[admitted], np.log(stay[admitted]))[0, 1] > 0.1
    assert abs(np.corrcoef(plain[:, ACUITY], np.log(plain[:, COLUMN["acute_stay"]]))[0, 1]) < 0.01


def person(acuity: float) -> Patient:
    row = Row([0.0] * WIDTH)
    row[ACUITY] = acuity
    return Patient((0, 0), row, 2, 0, 0, 0, 0, False, False)


def divert_scheme(max_acuity: float, to: str = "home") -> dict:
    return {"title": "Divert", "effects": [{"kind": "diversion", "name": "diverted", "at": "admission", "to": to,
                                            "share": {"value": 1.0}, "max_acuity": max_acuity}]}


def test_a_diversion_never_takes_a_patient_more_acute_than_it_can_treat(short):
    scenario = with_schemes(short, {"d": divert_scheme(0.5)})
    effects = WorldEffects(scenario, ("d",), 0, Calendar(scenario.run.start, scenario.run.warm_up_days,
                                                         scenario.run.days))
    assert all(effects.divert("admission", person(a), 10.0, 0.0) is None for a in np.linspace(0.5001, 0.9999, 50))
    assert all(effects.divert("admission", person(a), 10.0, 0.99) is not None for a in np.linspace(0, 0.5, 50))


@pytest.mark.pure_engine
def test_in_a_run_only_the_treatable_are_diverted(short, monkeypatch):
    """Every patient reaching admission meets a diversion with share 1 and max_acuity 0.5: those above it are
    all admitted, and every one diverted has acuity at most 0.5."""
    taken: list[float] = []
    original = diversions.Diversions.diverted

    def spy(self, point, p, leaving=None):  # type: ignore[no-untyped-def]
        done = original(self, point, p, leaving)
        if done:
            taken.append(p.row[ACUITY])
        return done

    monkeypatch.setattr(diversions.Diversions, "diverted", spy)
    scenario = with_schemes(changed(short, "demand.acuity.correlation", 0.6), {"d": divert_scheme(0.5)})
    worlds = run_worlds(scenario, {"d": ("d",)})
    assert len(taken) > 100 and max(taken) <= 0.5
    assert worlds["d"]["emergency_admissions"] > 0  # the more acute were all admitted


def test_bed_days_saved_per_admission_avoided_are_the_diverted_patients_own_stays(short):
    """With beds and every downstream service ample and no readmissions, an avoided admission saves its own
    drawn stay plus the time from medically fit to leaving, which does not depend on acuity."""
    scenario = shortened(changed(short, "demand.acuity.correlation", 0.6), days=150, warm_up_days=30)
    for service in ("acute_beds", "intermediate_care_beds", "reablement"):
        scenario = changed(scenario, f"services.{service}.capacity", 100_000)
    scenario = changed(scenario, "discharge.readmission_probability", dict.fromkeys(AGE_BANDS, 0.0))
    scenario = with_schemes(scenario, {"d": divert_scheme(0.4)})
    worlds = run_worlds(scenario, {"baseline": (), "d": ("d",)})
    base, mix = worlds["baseline"], worlds["d"]
    avoided = base["emergency_admissions"] - mix["emergency_admissions"]
    assert avoided == pytest.approx(mix["diversions"], rel=0.02)
    saved = (base["acute_bed_days"] - mix["acute_bed_days"]) / avoided
    own = mix["diverted_own_stay_days"] / mix["diversions"]
    assert own < 0.8 * base["mean_length_of_stay_85plus"]  # the treatable have short stays of their own
    # the same patients in both worlds: no sampling error; stays cut by the window's edges make up the 5 %,
    # and each saves at most its own stay plus a day from medically fit to leaving
    assert 0.95 * own <= saved <= own + 1.0
