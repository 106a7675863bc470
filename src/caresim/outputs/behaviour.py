"""The baseline's behaviour against the real system: discharges by weekday, occupancy and waits by service,
delayed days by reason and by agency, each beside its calibration target where the scenario gives one.

The chart (`charts.behaviour`), the report and the validation document all read `behaviour_table`."""

from __future__ import annotations

import math

import pandas as pd

from caresim.measures import AGENCIES, AGENCY_LABELS, OCCUPANCY_GROUPS, REGISTRY
from caresim.outputs.chart_style import label
from caresim.scenario.fields import DELAY_REASONS

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKEND = ("saturday", "sunday")
WEEKDAY_DISCHARGES = tuple(f"discharges_{day}" for day in WEEKDAYS)
WEEKEND_SHARE = "weekend_discharge_percent"
OCCUPANCY = tuple(f"{group}_occupancy_percent" for group in OCCUPANCY_GROUPS)
WAITED_SERVICES = ("intermediate_care", "reablement", "home_care", "care_home")
WAITS = tuple(f"{service}_wait_days" for service in WAITED_SERVICES)
REASON_SHARES = tuple(f"delayed_days_{reason}_percent" for reason in DELAY_REASONS)
AGENCY_SHARES = tuple(f"delayed_days_{agency}_percent" for agency in AGENCIES)
BY_WEEKDAY = "Discharges by day of the week"
BY_SERVICE = "Occupancy by service"
WAIT_BY_SERVICE = "Mean wait by service"
BY_REASON = "Delayed days by reason"
BY_AGENCY = "Delayed days by agency"
GROUPS = {  # heading → measures, in reading order
    BY_WEEKDAY: (*WEEKDAY_DISCHARGES, WEEKEND_SHARE),
    BY_SERVICE: OCCUPANCY,
    WAIT_BY_SERVICE: WAITS,
    BY_REASON: REASON_SHARES,
    BY_AGENCY: AGENCY_SHARES,
}
PARTS = {  # measure → the short name of its part within its group (a day, a service, a reason, an agency)
    **{measure: day.capitalize() for measure, day in zip(WEEKDAY_DISCHARGES, WEEKDAYS, strict=True)},
    WEEKEND_SHARE: "Weekend share",
    **{measure: name for measure, name in zip(OCCUPANCY, OCCUPANCY_GROUPS.values(), strict=True)},
    **{measure: label(service) for measure, service in zip(WAITS, WAITED_SERVICES, strict=True)},
    **{measure: label(reason) for measure, reason in zip(REASON_SHARES, DELAY_REASONS, strict=True)},
    **{measure: AGENCY_LABELS[agency][:1].upper() + AGENCY_LABELS[agency][1:]
       for measure, agency in zip(AGENCY_SHARES, AGENCIES, strict=True)},
}
COLUMNS = ["group", "measure", "part", "unit", "mean", "ci_low", "ci_high", "target", "tolerance", "tolerance_kind",
           "low", "high", "within", "source"]


def reader_label(measure: str) -> str:
    """The registry's label of a behaviour measure, or its heading and part while it is not registered."""
    if measure in REGISTRY:
        return REGISTRY[measure].label
    group = next(heading for heading, measures in GROUPS.items() if measure in measures)
    return f"{group}: {PARTS[measure]}"


def _is_true(value: object) -> bool:
    """A `within` cell read back from CSV as bool, number or text."""
    if isinstance(value, str):
        return value.strip().lower() in {"true", "yes", "1", "y"}
    return bool(value) and not (isinstance(value, float) and math.isnan(value))


def _text(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def behaviour_table(summary: pd.DataFrame, calibration: pd.DataFrame | None) -> pd.DataFrame:
    """Each behaviour measure the run reports: the baseline mean and 95% CI, and its target, tolerance, accepted
    range, whether the baseline lies inside it, and the target's source (NaN and None where there is no target)."""
    baseline = summary[summary["world"] == "baseline"].drop_duplicates("measure").set_index("measure")
    targets = (pd.DataFrame(columns=COLUMNS) if calibration is None else calibration).drop_duplicates("measure")
    targets = targets.set_index("measure")
    rows = []
    for group, measures in GROUPS.items():
        for measure in (m for m in measures if m in baseline.index):
            estimate = baseline.loc[measure]
            row = {"group": group, "measure": measure, "part": PARTS[measure],
                   "unit": REGISTRY[measure].unit if measure in REGISTRY else str(estimate["unit"]),
                   "mean": float(estimate["mean"]), "ci_low": float(estimate["ci_low"]),
                   "ci_high": float(estimate["ci_high"]), "target": math.nan, "tolerance": math.nan,
                   "tolerance_kind": "", "low": math.nan, "high": math.nan, "within": None, "source": ""}
            if measure in targets.index:
                target = targets.loc[measure]
                row |= {"target": float(target["target"]), "tolerance": float(target["tolerance"]),
                        "tolerance_kind": _text(target.get("tolerance_kind", "relative")) or "relative",
                        "low": float(target["low"]), "high": float(target["high"]),
                        "within": _is_true(target["within"]), "source": _text(target.get("source", ""))}
            rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def weekend_levels(table: pd.DataFrame) -> dict[str, tuple[float, float, float]] | None:
    """The discharges a year on each weekend day and on each weekday that the weekend-share target implies,
    given the modelled total over the week: {"weekend" | "weekday": (target, low, high)}; None without it."""
    rows = table.set_index("measure")
    if WEEKEND_SHARE not in rows.index or not all(day in rows.index for day in WEEKDAY_DISCHARGES):
        return None
    share = rows.loc[WEEKEND_SHARE]
    if math.isnan(share["target"]):
        return None
    week = float(rows.loc[list(WEEKDAY_DISCHARGES), "mean"].sum())
    weekdays = len(WEEKDAYS) - len(WEEKEND)
    target, low, high = (float(share[key]) / 100 for key in ("target", "low", "high"))
    weekend_day, weekday = week / len(WEEKEND), week / weekdays
    return {  # a higher weekend share means fewer discharges on each weekday
        "weekend": (weekend_day * target, weekend_day * low, weekend_day * high),
        "weekday": (weekday * (1 - target), weekday * (1 - high), weekday * (1 - low)),
    }
