"""The run-length questions asked of a scenario before trusting it: how many replications, how long a warm-up."""

from __future__ import annotations

import numpy as np
import pandas as pd

from caresim.analysis.diagnostics import half_widths, mser5, mser5_limit, replications_needed
from caresim.analysis.summary import paired_differences, replications_frame, wide
from caresim.experiment.executors import execute
from caresim.experiment.plan import BASELINE, Plan, make_plan
from caresim.scenario.schema import Scenario
from caresim.workflows.run import main_mix

DEFAULT_MEASURES = ("emergency_admissions", "acute_bed_days", "emergency_admissions_avoided", "net_cost")
WARM_UP_SERVICES = ("acute_beds", "intermediate_care_beds", "reablement")
QUEUED_SERVICES = ("intermediate_care_beds", "reablement", "home_care", "care_homes")  # with an initial_queue
CHECK_DAYS = 4 * 365  # the shortest warm-up check: care-home residences last about three years


def replications_precision(scenario: Scenario, pilot: int, precision: float, measures: list[str] | None = None,
                           executor: str = "processes") -> pd.DataFrame:
    """For each measure of a pilot run: its mean, the 95 % CI half-width after ``pilot`` replications, that
    half-width as a share of the mean, and the replications needed to bring it within ``precision`` (missing:
    not reachable).

    Paired differences (…_avoided, …_saved, net_cost) are judged on the mix against the baseline."""
    plan = make_plan(scenario, pilot)
    frame = replications_frame(execute(plan, executor), scenario.name, scenario.run.seed)
    mix = main_mix(plan)
    sources = {BASELINE: wide(frame, BASELINE)}
    if mix:
        sources["difference"] = paired_differences(frame, mix)
    rows = []
    for name in measures or DEFAULT_MEASURES:
        origin = ("difference" if name in sources.get("difference", {}) and name not in sources[BASELINE]
                  else BASELINE)
        if name not in sources[origin]:
            raise ValueError(f"unknown measure {name!r}; see summary.csv of a run for the names")
        values = sources[origin][name].to_numpy(dtype=float)
        last = half_widths(values).iloc[-1]
        rows.append((name, last["mean"], last["half_width"], last["relative_half_width"],
                     replications_needed(values, precision)))
    table = pd.DataFrame(rows, columns=["measure", "mean", "half_width", "relative_half_width", "needed"])
    return table.astype({"needed": "Int64"})


def warm_up_cuts(scenario: Scenario, replications: int, executor: str = "processes",
                 days: int | None = None) -> pd.DataFrame:
    """The warm-up in days that MSER-5 would cut from each service's mean daily occupancy, run without a
    warm-up from the scenario's warm start and from empty (acute, intermediate care and reablement empty,
    no one delayed; care homes stay at their share, which takes years to fill).

    Warm-up is about the starting state, so the check runs the scenario with flat demand: the monthly
    profile all 1 and no population growth. On seasonal demand MSER would cut until the winter peak has
    passed, mistaking seasonality (which is part of the system and stays in every run) for initialisation
    bias. Flattening the input was preferred to dividing the output by an expected occupancy profile: the
    output's seasonal shape depends on stays and queues, so dividing by the demand profile would leave some
    of it in. The check runs ``days`` (by default the longer of the scenario's run and ``CHECK_DAYS``),
    since MSER can cut at most half the series and care-home stays last years.

    Columns: service; start (mean occupancy on day 0 from the warm start); settled (mean occupancy over
    the second half of the warm-start run); the two cuts; and ``limit``, the longest cut MSER-5 can
    report (half the run), which means the series had not settled.
    """
    length = days or max(CHECK_DAYS, scenario.run.warm_up_days + scenario.run.days)
    means = {}
    for label, warm in (("warm start", True), ("empty start", False)):
        variant = flat_demand(scenario, length)
        if not warm:
            variant = empty_start(variant)
        results = execute(Plan(variant, {BASELINE: ()}, replications, ()), executor, description=label)
        means[label] = {service: np.mean([r[0].daily[service][:length] for r in results], axis=0)  # days 0 to end − 1
                        for service in results[0][0].daily if service != "delayed_patients"}
    limit = mser5_limit(length)
    return pd.DataFrame([(service, series[0], series[len(series) // 2:].mean(), mser5(series),
                          mser5(means["empty start"][service]), limit)
                         for service, series in means["warm start"].items()],
                        columns=["service", "start", "settled", "warm start", "empty start", "limit"])


def flat_demand(scenario: Scenario, days: int) -> Scenario:
    """The scenario over ``days`` from its warm start with no warm-up, no seasonality and no growth."""
    data = scenario.model_dump(by_alias=True)
    data["run"].update(days=days, warm_up_days=0)
    data["demand"]["profile"]["monthly"] = [1.0] * 12
    data["population"]["growth_per_year"] = {}
    return Scenario.model_validate(data)


def empty_start(scenario: Scenario) -> Scenario:
    """The scenario started with no one in acute beds, intermediate care or reablement, and no one delayed."""
    data = scenario.model_dump(by_alias=True)
    for service in WARM_UP_SERVICES:
        data["services"][service]["initial_occupancy"] = 0
    for service in QUEUED_SERVICES:
        data["services"][service]["initial_queue"] = 0
    return Scenario.model_validate(data)
