"""The benchmark network as idiomatic SimPy: a generator process per patient and ``simpy.Resource``
requests held while blocked (the A&E cubicle until a ward bed is granted, the ward bed until a
step-down bed is granted). Draws come from ``random.Random`` as they are needed.
"""

from __future__ import annotations

import random
from collections.abc import Generator

import simpy

from benchmarks.network import Network, Outcome


class Hospital:
    """The three services and the counters of one run."""

    def __init__(self, env: simpy.Environment, net: Network, seed: int) -> None:
        self.env = env
        self.net = net
        self.rng = random.Random(seed)
        self.cubicles = simpy.Resource(env, capacity=net.cubicles)
        self.beds = simpy.Resource(env, capacity=net.beds)
        self.step_down_beds = simpy.Resource(env, capacity=net.step_down_beds)
        self.outcome = Outcome(0, 0, 0, 0)

    def arrivals(self) -> Generator[simpy.Event, None, None]:
        while True:
            yield self.env.timeout(self.rng.expovariate(self.net.arrivals_per_day))
            self.outcome.arrivals += 1
            self.outcome.patient_events += 1
            self.env.process(self.patient())

    def patient(self) -> Generator[simpy.Event, None, None]:
        env, net, rng, outcome = self.env, self.net, self.rng, self.outcome
        cubicle = self.cubicles.request()
        yield cubicle
        outcome.patient_events += 1
        if rng.random() >= net.admit_probability:
            yield env.timeout(rng.lognormvariate(*net.ae_discharged))
            self.cubicles.release(cubicle)
            outcome.patient_events += 1
            return
        yield env.timeout(rng.lognormvariate(*net.ae_admitted))
        bed = self.beds.request()
        yield bed
        self.cubicles.release(cubicle)
        outcome.patient_events += 2
        outcome.admissions += 1
        yield env.timeout(rng.lognormvariate(*net.ward_stay))
        if rng.random() < net.step_down_share:
            step_down = self.step_down_beds.request()
            yield step_down
            self.beds.release(bed)
            outcome.patient_events += 2
            outcome.step_downs += 1
            yield env.timeout(rng.lognormvariate(*net.step_down_stay))
            self.step_down_beds.release(step_down)
        else:
            self.beds.release(bed)
        outcome.patient_events += 1


def run(net: Network, seed: int) -> Outcome:
    """Simulate ``net.days`` days from empty and count patient events (see benchmarks/network.py)."""
    env = simpy.Environment()
    hospital = Hospital(env, net, seed)
    env.process(hospital.arrivals())
    env.run(until=net.days)
    return hospital.outcome
