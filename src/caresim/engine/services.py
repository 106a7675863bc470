"""Finite services with first-come-first-served queues: bed pools and caseloads, package starts, appointments.

A patient granted a place keeps whatever they hold until they move, so a full downstream service
holds them in the upstream one: blocking after service, which is how delayed transfers arise.
A pool may also take referrals from people waiting at home; they queue behind everyone waiting in a bed.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from caresim.engine.calendar import Clock
from caresim.engine.errors import UnstableSystemError

if TYPE_CHECKING:
    from caresim.engine.patient import Patient

Granted = Callable[["Patient"], None]
Waiting = tuple["Patient", Granted, float]  # the patient, what to call when granted, when they asked


class Waits:
    """Waits from request to grant of the requests granted in the measured window (zero waits included)."""

    __slots__ = ("window_start", "granted", "total_days", "waited")

    def __init__(self) -> None:
        self.window_start = 0.0
        self.granted = 0
        self.total_days = 0.0
        self.waited = 0

    def grant(self, requested: float, now: float) -> None:
        if now >= self.window_start:
            self.granted += 1
            self.total_days += now - requested
            self.waited += now > requested

    def open_window(self, now: float) -> None:
        self.window_start = now
        self.granted = self.waited = 0
        self.total_days = 0.0


class Pool:
    """Places (beds, cubicles, caseload slots) held for a stay, with a FIFO queue and occupancy records."""

    __slots__ = ("name", "clock", "capacity", "occupied", "queue", "from_home", "area", "last", "window_start",
                 "arrivals", "stay_total", "stays", "max_queue", "entered", "waits")

    def __init__(self, clock: Clock, name: str, capacity: float, max_queue: int) -> None:
        self.name = name
        self.clock = clock
        self.capacity = capacity
        self.occupied = 0
        self.queue: deque[Waiting] = deque()  # people waiting in a bed: served first
        self.from_home: deque[Waiting] = deque()  # people waiting at home: served when no one waits in a bed
        self.area = 0.0
        self.last = 0.0
        self.window_start = 0.0
        self.arrivals = 0
        self.stay_total = 0.0
        self.stays = 0
        self.max_queue = max_queue
        self.entered: dict[Patient, float] = {}  # who holds a place, and since when
        self.waits = Waits()

    def has_room(self) -> bool:
        return self.occupied < self.capacity and not self.queue and not self.from_home

    def waiting(self) -> int:
        return len(self.queue) + len(self.from_home)

    def _change(self, delta: int) -> None:
        now = self.clock.now
        self.area += self.occupied * (now - self.last)
        self.last = now
        self.occupied += delta

    def _admit(self, patient: Patient, requested: float) -> None:
        now = self.clock.now  # _change(1), inlined: this runs on every admission
        self.area += self.occupied * (now - self.last)
        self.last = now
        self.occupied += 1
        self.entered[patient] = now
        if now >= self.window_start:
            self.arrivals += 1
        self.waits.grant(requested, now)

    def try_admit(self, patient: Patient) -> bool:
        """Admit now if there is room, without queueing."""
        if self.has_room():
            self._admit(patient, self.clock.now)
            return True
        return False

    def request(self, patient: Patient, granted: Granted, at_home: bool = False) -> None:
        """Admit now, or queue and call ``granted(patient)`` when a place frees; ``at_home``: behind those in beds."""
        if self.has_room():
            self._admit(patient, self.clock.now)
            granted(patient)
            return
        (self.from_home if at_home else self.queue).append((patient, granted, self.clock.now))
        if self.waiting() > self.max_queue:
            raise UnstableSystemError(
                f"the queue for {self.name} passed {self.max_queue} patients on day {self.clock.now:.0f}: "
                f"demand is beyond its capacity of {self.capacity:g}; add capacity or lower demand"
            )

    def release(self, patient: Patient) -> None:
        entered = self.entered.pop(patient)
        now = self.clock.now
        if entered >= self.window_start:
            self.stay_total += now - entered
            self.stays += 1
        self.area += self.occupied * (now - self.last)  # _change(-1), inlined: this runs on every release
        self.last = now
        self.occupied -= 1
        if self.queue or self.from_home:
            self.serve()

    def serve(self) -> None:
        while (self.queue or self.from_home) and self.occupied < self.capacity:
            patient, granted, requested = (self.queue or self.from_home).popleft()
            self._admit(patient, requested)
            granted(patient)

    def set_capacity(self, capacity: float) -> None:
        self.capacity = capacity
        self.serve()

    def open_window(self) -> None:
        """Start the measured period: occupancy integrals and stays count from now."""
        self._change(0)
        self.area = 0.0
        self.arrivals = 0
        self.stays = 0
        self.stay_total = 0.0
        self.window_start = self.clock.now
        self.waits.open_window(self.clock.now)

    def time_average(self) -> float:
        self._change(0)
        return self.area / max(self.clock.now - self.window_start, 1e-12)


class Starts:
    """Starts (care packages, assessments) released each morning, a number per weekday and per weekend day,
    taken first come first served by those waiting in a bed, then by those waiting at home; unused starts
    carry over up to ``carry_days`` days' worth."""

    __slots__ = ("clock", "name", "per_weekday", "per_weekend_day", "carry_days", "tokens", "queue", "from_home",
                 "max_queue", "waits")

    def __init__(self, clock: Clock, name: str, per_weekday: float, per_weekend_day: float,
                 carry_days: float, max_queue: int) -> None:
        self.clock = clock
        self.name = name
        self.per_weekday = per_weekday
        self.per_weekend_day = per_weekend_day
        self.carry_days = carry_days
        self.tokens = 0.0
        self.queue: deque[Waiting] = deque()
        self.from_home: deque[Waiting] = deque()
        self.max_queue = max_queue
        self.waits = Waits()

    @classmethod
    def weekly(cls, clock: Clock, name: str, per_week: float, max_queue: int) -> Starts:
        """A number of starts a week, spread evenly over the days; unused ones keep for up to a week."""
        starts = cls(clock, name, per_week / 7, per_week / 7, 7, max_queue)
        starts.tokens = min(per_week, 1.0) if math.isfinite(per_week) else math.inf
        return starts

    def set_weekly(self, per_week: float) -> None:
        self.per_weekday = self.per_weekend_day = per_week / 7

    def request(self, patient: Patient, granted: Granted, at_home: bool = False) -> None:
        now = self.clock.now
        if self.tokens >= 1 and not self.queue and not self.from_home:
            self.tokens -= 1
            self.waits.grant(now, now)
            granted(patient)
            return
        (self.from_home if at_home else self.queue).append((patient, granted, now))
        if len(self.queue) + len(self.from_home) > self.max_queue:
            raise UnstableSystemError(
                f"more than {self.max_queue} people are waiting for {self.name}: {self.per_weekday:g} starts a "
                f"weekday and {self.per_weekend_day:g} a weekend day cannot keep up with demand"
            )

    def new_day(self, weekend: bool) -> None:
        today = self.per_weekend_day if weekend else self.per_weekday
        limit = max(today * self.carry_days, 1.0) if today > 0 else 0.0
        self.tokens = min(self.tokens + today, limit)
        while (self.queue or self.from_home) and self.tokens >= 1:
            self.tokens -= 1
            patient, granted, requested = (self.queue or self.from_home).popleft()
            self.waits.grant(requested, self.clock.now)
            granted(patient)


class Appointments:
    """Same-day appointments: a number a day for crisis patients, reset each morning."""

    __slots__ = ("per_weekday", "per_weekend_day", "background_share", "remaining")

    def __init__(self, per_weekday: float, per_weekend_day: float, background_share: float) -> None:
        self.per_weekday = per_weekday
        self.per_weekend_day = per_weekend_day
        self.background_share = background_share
        self.remaining = 0.0

    def new_day(self, weekend: bool) -> None:
        total = self.per_weekend_day if weekend else self.per_weekday
        self.remaining = total * (1 - self.background_share) if math.isfinite(total) else math.inf

    def take(self) -> bool:
        if self.remaining >= 1:
            self.remaining -= 1
            return True
        return False
