"""The run-length questions asked of a scenario before trusting it: how many replications, how long a warm-up."""

from __future__ import annotations

import numpy as np
import pandas as pd

from caresim.analysis.diagnostics import half_widths, mser5, replications_needed
from caresim.analysis.summary import paired_differences, replications_frame, wide
from caresim.experiment.executors import execute
from caresim.experiment.plan import BASELINE, Plan, make_plan
from caresim.scenario.schema import Scenario
from caresim.workflows.run import main_mix

DEFAULT_MEASURES = ("emergency_admissions", "acute_bed_days", "emergency_admissions_avoided", "net_cost")
WARM_UP_SERVICES = ("acute_beds", "intermediate_care_beds", "reablement")
QUEUED_SERVICES = ("intermediate_care_beds", "reablement", "home_care", "care_homes")  # with an initial_queue


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


def warm_up_cuts(scenario: Scenario, replications: int, executor: str = "processes") -> pd.DataFrame:
    """The warm-up in days that MSER-5 would cut from each service's mean daily occupancy, run without a
    warm-up from the scenario's warm start and from empty."""
    means = {}
    for label, warm in (("warm start", True), ("empty start", False)):
        data = scenario.model_dump(by_alias=True)
        data["run"]["warm_up_days"] = 0
        if not warm:
            for service in WARM_UP_SERVICES:
                data["services"][service]["initial_occupancy"] = 0
            for service in QUEUED_SERVICES:  # patients delayed in acute beds: none in an empty start
                data["services"][service]["initial_queue"] = 0
        variant = Scenario.model_validate(data)
        results = execute(Plan(variant, {BASELINE: ()}, replications, ()), executor, description=label)
        means[label] = {service: np.mean([r[0].daily[service] for r in results], axis=0)
                        for service in results[0][0].daily if service != "delayed_patients"}
    return pd.DataFrame([(service, mser5(series), mser5(means["empty start"][service]))
                         for service, series in means["warm start"].items()],
                        columns=["service", "warm start", "empty start"])
