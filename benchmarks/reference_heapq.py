"""The benchmark network as a hand-written heapq event loop: about the floor for a simulation in Python.

Patients waiting for a place queue first come, first served; an admitted patient keeps the A&E
cubicle until a ward bed is free, and a step-down patient keeps the ward bed until a step-down bed
is free (blocking after service). Draws come from ``random.Random`` as they are needed.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import deque

from benchmarks.network import Network, Outcome

ARRIVE, AE_DONE, WARD_DONE, STEP_DOWN_DONE = range(4)


def run(net: Network, seed: int) -> Outcome:
    """Simulate ``net.days`` days from empty and count patient events (see benchmarks/network.py)."""
    rng = random.Random(seed)
    uniform, lognormal, exponential = rng.random, rng.lognormvariate, rng.expovariate
    heap: list[tuple[float, int, int, int, bool]] = []
    push, pop, order = heapq.heappush, heapq.heappop, itertools.count()
    ae_queue: deque[int] = deque()
    ward_queue: deque[int] = deque()
    step_down_queue: deque[int] = deque()
    free_cubicles, free_beds, free_step_down = net.cubicles, net.beds, net.step_down_beds
    events = arrivals = admissions = step_downs = 0
    now = 0.0

    def start_ae(patient: int) -> None:
        nonlocal free_cubicles, events
        free_cubicles -= 1
        events += 1
        admitted = uniform() < net.admit_probability
        mu, sigma = net.ae_admitted if admitted else net.ae_discharged
        push(heap, (now + lognormal(mu, sigma), next(order), AE_DONE, patient, admitted))

    def leave_ae() -> None:
        nonlocal free_cubicles, events
        free_cubicles += 1
        events += 1
        if ae_queue:
            start_ae(ae_queue.popleft())

    def start_ward(patient: int) -> None:
        nonlocal free_beds, events, admissions
        free_beds -= 1
        events += 1
        admissions += 1
        leave_ae()
        push(heap, (now + lognormal(*net.ward_stay), next(order), WARD_DONE, patient, False))

    def leave_ward() -> None:
        nonlocal free_beds, events
        free_beds += 1
        events += 1
        if ward_queue:
            start_ward(ward_queue.popleft())

    def start_step_down(patient: int) -> None:
        nonlocal free_step_down, events, step_downs
        free_step_down -= 1
        events += 1
        step_downs += 1
        leave_ward()
        push(heap, (now + lognormal(*net.step_down_stay), next(order), STEP_DOWN_DONE, patient, False))

    push(heap, (exponential(net.arrivals_per_day), next(order), ARRIVE, 0, False))
    while heap:
        now, _, kind, patient, admitted = pop(heap)
        if now > net.days:
            break
        if kind == ARRIVE:
            events += 1
            arrivals += 1
            push(heap, (now + exponential(net.arrivals_per_day), next(order), ARRIVE, patient + 1, False))
            if free_cubicles > 0:
                start_ae(patient)
            else:
                ae_queue.append(patient)
        elif kind == AE_DONE:
            if not admitted:
                leave_ae()
            elif free_beds > 0:
                start_ward(patient)
            else:
                ward_queue.append(patient)
        elif kind == WARD_DONE:
            if uniform() >= net.step_down_share:
                leave_ward()
            elif free_step_down > 0:
                start_step_down(patient)
            else:
                step_down_queue.append(patient)
        else:
            free_step_down += 1
            events += 1
            if step_down_queue:
                start_step_down(step_down_queue.popleft())
    return Outcome(events, arrivals, admissions, step_downs)
