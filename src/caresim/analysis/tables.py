"""Tidy long tables of a finished experiment: daily occupancy, monthly delays and the flows of the diagram."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from caresim.experiment.plan import BASELINE
from caresim.experiment.replication import WorldResult
from caresim.scenario.schema import DELAY_REASONS


def daily_frame(results: list[list[WorldResult]], worlds: tuple[str, ...], start: dt.date) -> pd.DataFrame:
    frames = []
    for replication in results:
        for w in replication:
            if w.world not in worlds:
                continue
            for service, occupied in w.daily.items():
                if service == "delayed_patients":
                    continue
                days = np.arange(len(occupied))
                frames.append(pd.DataFrame({
                    "world": w.world, "replication": w.replication, "day": days,
                    "date": pd.to_datetime(start) + pd.to_timedelta(days, unit="D"), "service": service,
                    "occupied": occupied, "capacity": w.daily_capacity[service]}))
    daily = pd.concat(frames, ignore_index=True)
    ic = daily[daily["service"].isin(["step_down_beds", "step_up_beds"])]
    if len(ic):
        combined = ic.groupby(["world", "replication", "day", "date"], as_index=False)[["occupied", "capacity"]].sum()
        combined["service"] = "intermediate_care_beds"
        daily = pd.concat([daily, combined[daily.columns]], ignore_index=True)
    return daily


def monthly_frame(results: list[list[WorldResult]], worlds: tuple[str, ...], start: dt.date) -> pd.DataFrame:
    labels = [(start.month - 1 + k) % 12 for k in range(12)]
    names = {m: f"{start.year + (start.month - 1 + k) // 12}-{m + 1:02d}" for k, m in enumerate(labels)}
    rows = [(w.world, w.replication, names[m], f"delayed_days_{reason}", float(w.monthly_delays[r, m]))
            for replication in results for w in replication if w.world in worlds
            for r, reason in enumerate(DELAY_REASONS) for m in labels]
    return pd.DataFrame(rows, columns=["world", "replication", "month", "measure", "value"])


FLOWS = (  # (source, target, measure counted in the baseline)
    ("crisis", "GP", "gp_urgent_contacts"), ("crisis", "111 / out of hours", "out_of_hours_contacts"),
    ("crisis", "ambulance", "ambulance_incidents"), ("crisis", "minor injury unit", "minor_injury_attendances"),
    ("ambulance", "A&E", "ambulance_conveyances"), ("crisis", "A&E", "ae_attendances_not_conveyed"),
    ("A&E", "home", "ae_discharged_home"), ("crisis", "rapid response", "rapid_response_episodes"),
    ("A&E", "acute beds", "ae_admitted"), ("GP", "acute beds", "direct_admissions"),
    ("acute beds", "home", "acute_to_home"), ("acute beds", "reablement", "acute_to_reablement"),
    ("acute beds", "home care", "acute_to_home_care"), ("acute beds", "intermediate care beds", "acute_to_step_down"),
    ("acute beds", "care homes", "acute_to_care_home"), ("acute beds", "death", "deaths_hospital"),
    ("rapid response", "intermediate care beds", "step_up_admissions"),
)


def flows_frame(summary: pd.DataFrame) -> pd.DataFrame:
    """Annual baseline volumes on the arrows of the patient-flow diagram."""
    baseline = summary[summary["world"] == BASELINE].set_index("measure")["mean"]
    return pd.DataFrame([(source, target, float(baseline.get(measure, 0.0))) for source, target, measure in FLOWS],
                        columns=["source", "target", "per_year"])
