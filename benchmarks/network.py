"""The benchmark network's parameters, read from small_network.yaml, and how its events are counted.

Patient events, counted the same way in every implementation: one per arrival, and one per start and
one per end of a stay in A&E, the acute ward and a step-down bed. (caresim's own ``Model.events``
counts scheduled callbacks instead, and is reported beside them.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from caresim.scenario.loading import load_scenario
from caresim.scenario.schema import Scenario

SMALL_NETWORK = Path(__file__).with_name("small_network.yaml")
BAND = "18-64"


@dataclass(frozen=True)
class Network:
    """Rates per day, durations in days, lognormals as (mu, sigma) of the log."""

    arrivals_per_day: float
    cubicles: int
    ae_discharged: tuple[float, float]
    ae_admitted: tuple[float, float]
    admit_probability: float
    beds: int
    ward_stay: tuple[float, float]
    step_down_share: float
    step_down_beds: int
    step_down_stay: tuple[float, float]
    days: float

    @classmethod
    def of(cls, scenario: Scenario) -> Network:
        s, people = scenario.services, scenario.population.adults(BAND)
        hours_to_days = math.log(24)
        ae_discharged, ae_admitted = s.ae.time_discharged_hours.mu_sigma, s.ae.time_admitted_hours.mu_sigma
        return cls(
            arrivals_per_day=people * scenario.demand.crisis_rate_per_person_year[BAND] / 365.25,
            cubicles=int(s.ae.cubicles),
            ae_discharged=(ae_discharged[0] - hours_to_days, ae_discharged[1]),
            ae_admitted=(ae_admitted[0] - hours_to_days, ae_admitted[1]),
            admit_probability=s.ae.admit_probability[BAND],
            beds=int(s.acute_beds.capacity),
            ward_stay=s.acute_beds.length_of_stay[BAND].mu_sigma,
            step_down_share=scenario.discharge.pathways[BAND]["P2"],
            step_down_beds=int(s.intermediate_care_beds.capacity),
            step_down_stay=s.intermediate_care_beds.length_of_stay.mu_sigma,
            days=float(scenario.run.days),
        )


def load_network() -> tuple[Scenario, Network]:
    scenario = load_scenario(SMALL_NETWORK)
    return scenario, Network.of(scenario)


@dataclass
class Outcome:
    """What one run of the network did: patient events and admissions, to check the three agree."""

    patient_events: int
    arrivals: int
    admissions: int
    step_downs: int
