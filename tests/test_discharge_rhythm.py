"""Discharges by hour of the week (engine/discharge_rhythm.py), the 7-day effect on the profile, and the
discharge assessment as a daily capacity."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from caresim.engine.discharge_rhythm import HOURS_PER_WEEK, DischargeRhythm
from caresim.engine.model import Model
from caresim.metrics import measures
from caresim.scenario.loading import load_scenario
from caresim.scenario.schema import Scenario
from conftest import SKC, changed, shortened, write

CONSTANT = [1.0] * 24
WEEK = [1.0] * 7
NIGHT_OFF = [0.0] * 7 + [1.0] * 17  # nobody leaves 00:00-07:00


def departures(rhythm: DischargeRhythm, n: int = 100_000, weeks: int = 20, seed: int = 1) -> tuple[np.ndarray, ...]:
    """Ready times spread uniformly over ``weeks`` weeks, each patient's Exp(1) draw, and their departures."""
    rng = np.random.default_rng(seed)
    ready = rng.random(n) * weeks * 7
    e = rng.exponential(size=n)
    return ready, e, np.array([rhythm.departure(t, x) for t, x in zip(ready, e, strict=True)])


# --- the inversion ------------------------------------------------------------------------------


def test_constant_profile_gives_an_exponential_wait_with_mean_one_over_the_hazard():
    hazard = 0.25
    ready, e, leave = departures(DischargeRhythm(CONSTANT, WEEK, hazard, first_weekday=0))
    wait_hours = (leave - ready) * 24
    assert wait_hours == pytest.approx(e / hazard, abs=1e-6)  # exactly E / hazard, patient by patient
    assert wait_hours.mean() == pytest.approx(1 / hazard, rel=0.02)


def test_zero_rate_at_night_means_nobody_leaves_at_night():
    _, _, leave = departures(DischargeRhythm(NIGHT_OFF, WEEK, 0.3, first_weekday=2))
    hour = (leave % 1) * 24
    assert hour.min() >= 7 - 1e-9
    assert (hour < 8).any()  # and the first open hour is used


def expected_weekend_share(hourly: list[float], weekday: list[float], hazard: float, first_weekday: int) -> float:
    """Departures on Saturday and Sunday as a share of all, for ready patients arriving at a constant rate:
    the periodic solution of dN/dt = 1 − rate(t)·N, exact within each hour."""
    rate = [hazard * hourly[k % 24] * weekday[(first_weekday + k // 24) % 7] for k in range(HOURS_PER_WEEK)]
    waiting, by_hour = 0.0, [0.0] * HOURS_PER_WEEK
    for _ in range(60):  # weeks, until periodic
        for k, r in enumerate(rate):
            after = 1 / r + (waiting - 1 / r) * math.exp(-r) if r > 0 else waiting + 1
            by_hour[k] = 1 + waiting - after
            waiting = after
    weekend = sum(d for k, d in enumerate(by_hour) if (first_weekday + k // 24) % 7 >= 5)
    return weekend / sum(by_hour)


def test_weekend_share_of_departures_is_the_one_computed_from_the_profile():
    weekday = [1, 1, 1, 1, 1, 0.55, 0.55]
    rhythm = DischargeRhythm(NIGHT_OFF, weekday, 0.1, first_weekday=3)
    ready, _, leave = departures(rhythm, n=200_000, weeks=40)
    settled = (ready > 7) & (ready < 39 * 7)  # away from the ends of the arrivals
    weekday_of = (3 + leave[settled].astype(int)) % 7
    share = float(np.mean(weekday_of >= 5))
    assert share == pytest.approx(expected_weekend_share(NIGHT_OFF, weekday, 0.1, 3), abs=0.006)
    assert share < 2 / 7  # fewer than at a flat rate


def test_the_same_draw_gives_the_same_departure_and_whole_weeks_are_skipped():
    one = DischargeRhythm(NIGHT_OFF, [1, 1, 1, 1, 1, 0.55, 0.55], 0.2, first_weekday=1)
    two = DischargeRhythm(NIGHT_OFF, [1, 1, 1, 1, 1, 0.55, 0.55], 0.2, first_weekday=1)
    for t, e in ((3.3, 0.7), (10.95, 2.5), (0.0, 0.01), (200.123, 5.0)):
        assert one.departure(t, e) == two.departure(t, e)
        assert one.departure(t, e) <= one.departure(t, e * 1.5)
        assert one.departure(t, e + one.per_week) == pytest.approx(one.departure(t, e) + 7, abs=1e-9)


def test_an_unlimited_hazard_leaves_at_the_first_open_moment():
    rhythm = DischargeRhythm(NIGHT_OFF, [1, 1, 1, 1, 1, 0, 0], math.inf, first_weekday=0)  # day 0 a Monday
    assert rhythm.departure(1.5, 3.0) == 1.5  # Tuesday noon: open
    assert rhythm.departure(2.1, 3.0) == pytest.approx(2 + 7 / 24)  # Wednesday 02:24: at 07:00
    assert rhythm.departure(5.5, 0.5) == pytest.approx(7 + 7 / 24)  # Saturday noon: Monday 07:00
    open_always = DischargeRhythm(CONSTANT, WEEK, math.inf, first_weekday=4)
    assert open_always.departure(12.345, 2.0) == 12.345


# --- the scenario fields ---------------------------------------------------------------------------


def test_a_profile_needs_24_and_7_rates_and_one_above_zero(skc: Scenario):
    for hourly, weekday in (([1.0] * 23, WEEK), (CONSTANT, [1.0] * 6), ([0.0] * 24, WEEK), (CONSTANT, [-1.0] * 7)):
        with pytest.raises(ValidationError):
            changed(skc, "discharge.profile", {"hourly": hourly, "weekday": weekday})


def test_old_discharge_hours_are_refused_with_a_pointer_to_the_profile(tmp_path: Path):
    path = write(tmp_path, "old.yaml", f"""
        extends: {SKC.as_posix()}
        discharge:
          hours: {{start_hour: 8, end_hour: 18, weekends: false}}
        """)
    with pytest.raises(Exception, match="profile") as raised:
        load_scenario(path)
    assert "hours" in str(raised.value)


def test_a_discharge_profile_effect_needs_hourly_or_weekday(skc: Scenario):
    data = skc.model_dump(by_alias=True)
    data["schemes"]["integrated_teams_reablement"]["effects"].append(
        {"kind": "discharge_profile", "name": "discharge_profile"})
    with pytest.raises(ValidationError, match="hourly"):
        Scenario.model_validate(data)


# --- on a shortened SKC run --------------------------------------------------------------------------


def run(scenario: Scenario, schemes: tuple[str, ...] = (), watch: str | None = None) -> tuple[dict, list[float], Model]:
    """One world of a shortened run: its measures, the times a watched Discharge step ran, and the model."""
    model = Model(scenario, "world", schemes, 0)
    times: list[float] = []
    if watch is not None:
        step = getattr(model.discharge, watch)

        def watched(*args: object) -> None:
            times.append(model.kernel.now)
            step(*args)

        setattr(model.discharge, watch, watched)
    record = model.run()
    return measures(record, scenario, schemes), times, model


@pytest.fixture(scope="module")
def short_skc(skc: Scenario) -> Scenario:
    return shortened(skc, days=63, warm_up_days=28)


def test_skc_discharges_at_weekends_at_a_lower_rate_and_sundays_are_not_full(short_skc: Scenario):
    out, _, model = run(short_skc)
    assert 10 < out["weekend_discharge_percent"] < 25
    assert 5 < out["discharges_before_noon_percent"] < 35
    calendar = model.kernel.calendar
    sundays = [day for day in range(28, int(calendar.end)) if calendar.weekday[day] == 6]
    occupied = model.kernel.daily["acute_beds"][sundays]
    assert occupied.max() < short_skc.services.acute_beds.capacity


@pytest.mark.pure_engine
def test_nobody_leaves_acute_at_night_when_the_profile_is_zero_there(short_skc: Scenario):
    hourly = [0.0] * 6 + list(short_skc.discharge.profile.hourly[6:23]) + [0.0]
    scenario = changed(short_skc, "discharge.profile.hourly", hourly)
    out, left, _ = run(scenario, watch="_count_departure_time")
    hours = [(t % 1) * 24 for t in left]
    assert len(left) > 1000
    assert all(6 <= h < 23 for h in hours)
    assert out["discharges_at_night_percent"] == 0


def test_the_7_day_effect_raises_the_weekend_share(short_skc: Scenario):
    scheme = "integrated_teams_reablement"
    scenario = changed(short_skc, f"schemes.{scheme}.ramp_up_days", 0)
    baseline, _, _ = run(scenario)
    seven_day, _, _ = run(scenario, (scheme,))
    assert seven_day["weekend_discharge_percent"] > baseline["weekend_discharge_percent"] + 2


@pytest.mark.pure_engine
def test_no_assessment_starts_at_weekends_when_there_is_no_weekend_capacity(short_skc: Scenario):
    scenario = changed(short_skc, "discharge.assessments_per_weekend_day", 0)
    _, started, model = run(scenario, watch="_assessment_starts")
    weekday = model.kernel.calendar.weekday
    assert len(started) > 50
    assert all(weekday[int(t)] < 5 for t in started)


def test_ample_assessment_capacity_leaves_only_the_assessment_itself(short_skc: Scenario):
    tight = changed(short_skc, "discharge.assessments_per_weekday", 4)
    tight = changed(tight, "discharge.assessments_per_weekend_day", 1)
    ample = changed(short_skc, "discharge.assessments_per_weekday", 1000)
    ample = changed(ample, "discharge.assessments_per_weekend_day", 1000)
    queued, _, _ = run(tight)
    prompt, _, _ = run(ample)
    assert queued["assessment_wait_days"] > 0.1
    assert prompt["assessment_wait_days"] == 0
    assert prompt["delayed_days_awaiting_assessment"] < queued["delayed_days_awaiting_assessment"]
