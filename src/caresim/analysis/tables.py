"""Tidy long tables of a finished experiment: daily occupancy, monthly delays and the flows of the diagram."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

from caresim.experiment.plan import BASELINE
from caresim.experiment.replication import WorldResult
from caresim.scenario.fields import DELAY_REASONS


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


FLOW_SOURCES = ("crisis", "readmission", "referral from home")  # where patients enter the diagram
FLOW_ENDS = ("home", "care homes", "death", "turned away")  # where the diagram leaves them
FLOWS = (  # (source, target, measures added; a leading "-" subtracts), every box's exits counted by the engine
    ("crisis", "GP", ("gp_urgent_contacts", "gp_no_appointment")),
    ("crisis", "111 / out of hours", ("out_of_hours_contacts", "-gp_no_appointment")),
    ("crisis", "ambulance", ("ambulance_incidents", "-routed_out_of_hours_to_ambulance",
                             "-moved_at_home_before_readmission_to_ae_waiting")),
    ("crisis", "minor injury unit", ("minor_injury_attendances",)),
    ("crisis", "A&E", ("ae_attendances", "-ambulance_conveyances", "-routed_gp_to_ae", "-routed_out_of_hours_to_ae",
                       "-routed_minor_injury_to_ae", "-rapid_response_no_room")),  # self-presentation
    ("readmission", "ambulance", ("moved_at_home_before_readmission_to_ae_waiting",)),
    ("referral from home", "reablement", ("moved_referred_from_home_to_reablement",)),
    ("GP", "111 / out of hours", ("gp_no_appointment",)),
    ("GP", "home", ("routed_gp_to_home",)), ("GP", "rapid response", ("routed_gp_to_rapid_response",)),
    ("GP", "A&E", ("routed_gp_to_ae",)), ("GP", "acute beds", ("routed_gp_to_admit",)),
    ("111 / out of hours", "home", ("routed_out_of_hours_to_home",)),
    ("111 / out of hours", "rapid response", ("routed_out_of_hours_to_rapid_response",)),
    ("111 / out of hours", "ambulance", ("routed_out_of_hours_to_ambulance",)),
    ("111 / out of hours", "A&E", ("routed_out_of_hours_to_ae",)),
    ("111 / out of hours", "acute beds", ("routed_out_of_hours_to_admit",)),
    ("ambulance", "A&E", ("ambulance_conveyances",)), ("ambulance", "home", ("routed_ambulance_to_home",)),
    ("ambulance", "rapid response", ("routed_ambulance_to_rapid_response",)),
    ("minor injury unit", "home", ("routed_minor_injury_to_home",)),
    ("minor injury unit", "A&E", ("routed_minor_injury_to_ae",)),
    ("rapid response", "A&E", ("rapid_response_no_room",)),  # no room or closed: referred on to A&E
    ("rapid response", "home", ("ended_rapid_response_home",)),
    ("rapid response", "acute beds", ("moved_rapid_response_to_waiting_acute",)),
    ("rapid response", "intermediate care beds", ("moved_rapid_response_to_intermediate_care",)),
    ("rapid response", "reablement", ("moved_rapid_response_to_reablement",)),
    ("A&E", "home", ("ended_ae_home",)), ("A&E", "acute beds", ("moved_ae_to_acute",)),
    ("A&E", "turned away", ("ended_ae_elsewhere",)),
    ("acute beds", "home", ("acute_to_home",)), ("acute beds", "reablement", ("acute_to_reablement",)),
    ("acute beds", "home care", ("acute_to_home_care",)),
    ("acute beds", "intermediate care beds", ("acute_to_step_down",)),
    ("acute beds", "care homes", ("acute_to_care_home", "acute_to_care_home_return")),
    ("acute beds", "death", ("deaths_hospital",)), ("acute beds", "turned away", ("ended_waiting_acute_elsewhere",)),
    ("intermediate care beds", "home", ("ended_intermediate_care_home",)),
    ("intermediate care beds", "reablement", ("moved_intermediate_care_to_reablement",)),
    ("intermediate care beds", "care homes", ("moved_intermediate_care_to_care_home",)),
    ("intermediate care beds", "acute beds", ("ended_intermediate_care_readmitted",)),
    ("intermediate care beds", "death", ("deaths_intermediate_care",)),
    ("reablement", "home", ("ended_reablement_home",)),
    ("reablement", "home care", ("moved_reablement_to_waiting_home_care",)),
    ("home care", "home", ("home_care_packages",)),
)


def flows_of(measures: Mapping[str, float]) -> pd.DataFrame:
    """Volumes a year on the arrows of the patient-flow diagram; arrows that carry nobody are left out."""
    rows = [(source, target, sum(-measures[term[1:]] if term.startswith("-") else measures[term] for term in terms))
            for source, target, terms in FLOWS]
    flows = pd.DataFrame(rows, columns=["source", "target", "per_year"])
    return flows[flows["per_year"] > 0].reset_index(drop=True)


def flows_frame(summary: pd.DataFrame) -> pd.DataFrame:
    """The flows of the baseline's mean measures."""
    return flows_of(summary[summary["world"] == BASELINE].set_index("measure")["mean"])
