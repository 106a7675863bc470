"""The kernel of one replication: simpy's clock and event queue, who is where, and the daily tick.

Each step of a journey is a plain callback scheduled with ``Kernel.after`` (no generator processes:
see docs/performance.md); crises arrive through a ``Stream`` kept beside the queue, and calls due two days or more
ahead wait in day buckets beside it until the daily tick the day before. This is the only module
that touches simpy's private attributes (``_queue``, ``_eid``, ``_now``); tests/test_simpy_contract.py fails,
saying what changed, if simpy stops providing them. While the kernel runs, the time now is its ``Clock`` (a native
attribute every part of the journey reads), and simpy's ``_now`` is set to it when the run ends.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any, Final, Generic, TypeVar, cast

import numpy as np
import simpy
from simpy.events import NORMAL, URGENT, EventPriority

from caresim.engine.calendar import Calendar, Clock
from caresim.engine.counters import ENDED, MOVED, NO_FLOWS
from caresim.engine.effects import WorldEffects
from caresim.engine.errors import RunawayError
from caresim.engine.network import Services
from caresim.engine.patient import Patient
from caresim.engine.tally import Tally, YearMark
from caresim.scenario.schema import Scenario

T = TypeVar("T")
# heapq's functions as Final names: static in the compiled engine, where an imported name costs a dict lookup per call
heappush: Final = heapq.heappush
heappop: Final = heapq.heappop

# How this engine was installed, said when a run starts: `pip install .` compiles the hot modules with mypyc
# when it can (setup.py), an editable install or a machine without a C compiler runs the sources.
COMPILED = not __file__.endswith(".py")
ENGINE_BUILD = ("compiled (mypyc)" if COMPILED else
                "pure Python (the compiled engine, from `pip install .`, is about 4× as fast: docs/performance.md)")


# Calls due this many days ahead or more wait in a bucket for their day, out of the heap, until the daily tick
# the day before moves them in: the heap holds the next day or two (about 120 calls in an SKC world, not 2,400).
AHEAD: Final = 2

Entry = tuple[float, EventPriority, int, "Call[Any]"]


class Call(Generic[T]):
    """A callback scheduled on simpy's event queue, with the patient as ``value``, without the cost of a
    ``Timeout``. ``Kernel.run`` calls ``handler``; ``callbacks`` and ``_ok`` are what ``Environment.step``
    would need of it, so simpy can still run it (``callbacks`` made only when simpy asks)."""

    __slots__ = ("handler", "value")
    _ok = True

    def __init__(self, handler: Callable[[Call[T]], None], value: T) -> None:
        self.handler = handler
        self.value = value

    @property
    def callbacks(self) -> tuple[Callable[[Call[T]], None], ...]:
        return (self.handler,)

    @callbacks.setter
    def callbacks(self, _done: None) -> None:
        """simpy marks a processed event by setting its callbacks to None; a Call is run once, so nothing to do."""


def _never(_event: Call[None]) -> None:
    """The end of the run's entry on the queue: ``Kernel.run`` stops at it instead of calling it."""


class Stream:
    """Arrivals at sorted ``times``, ``handler(k)`` called for the k-th, kept beside simpy's queue rather than in it.

    Each arrival is keyed (time, priority, id) as ``Kernel.after`` would have queued it when the arrival before
    it ran, so ``Kernel.run`` interleaves it with the queue in exactly the same order, for one comparison instead
    of a heap push and pop and a ``Call``."""

    __slots__ = ("times", "handler", "k", "time", "eid")

    def __init__(self, times: list[float], handler: Callable[[int], None], time: float, eid: int) -> None:
        self.times = times
        self.handler = handler
        self.k = 0
        self.time = time
        self.eid = eid


class Kernel:
    """Clock, scheduling, the patients in the system, counts and the daily tick of one world."""

    def __init__(self, scenario: Scenario, calendar: Calendar, effects: WorldEffects) -> None:
        self.scenario = scenario
        self.calendar = calendar
        self.effects = effects
        self.env = env = simpy.Environment()
        self.clock = Clock()
        self.queue = cast("list[Entry]", env._queue)  # Calls, not Events
        self.later: dict[int, list[Entry]] = {}  # calls due AHEAD days or more from the last tick, by day
        self.horizon = float(AHEAD)  # every call due before this is on the heap
        self.beyond = int(calendar.end) + 1  # the bucket of calls due after the end, which never run
        self.next_eid: Callable[[], int] = env._eid.__next__  # called, not looked up as builtins' next() each time
        self.window = float(scenario.run.warm_up_days)  # the measured period starts here
        self.tally = Tally(self.window, calendar.month, calendar.year)
        self.year_marks: list[YearMark] = []  # the cumulative tally at each new year of the measured window
        self.counts = self.tally.counts
        self.events = 0
        self.live: dict[Patient, bool] = {}  # the patients in the system, in the order they entered
        self.created = 0
        self.ended: dict[str, int] = {}  # how many left, by how
        self.services = Services(scenario, self.clock, calendar.weekdays[0])
        n_days = int(calendar.end) + 1
        self.daily = {name: np.zeros(n_days) for name in self.services.pools}
        self.daily["delayed_patients"] = np.zeros(n_days)
        self.daily_capacity = {name: np.zeros(n_days) for name in self.services.pools}
        self.delayed_now = 0
        self.streams: list[Stream] = []
        self.next_stream: Stream | None = None  # the stream whose arrival comes first

    # ----------------------------------------------------------------- clock and scheduling
    @property
    def now(self) -> float:
        """Days since the start of the warm-up."""
        return self.clock.now

    def after(self, delay: float, handler: Callable[[Call[T]], None], value: T,
              priority: EventPriority = NORMAL) -> None:
        """Call ``handler`` in ``delay`` days, keyed as simpy keys a ``Timeout``: (time, priority, id). On the heap
        if due before the horizon, else in its day's bucket until the tick the day before moves it there."""
        if delay < 0:
            raise ValueError(f"negative delay {delay}")
        self.events += 1
        due = self.clock.now + delay
        entry = (due, priority, self.next_eid(), Call(handler, value))
        if due < self.horizon:
            heappush(self.queue, entry)
            return
        day = int(due) if due < self.beyond else self.beyond
        bucket = self.later.get(day)
        if bucket is None:
            self.later[day] = [entry]
        else:
            bucket.append(entry)

    def stream(self, times: list[float], handler: Callable[[int], None]) -> None:
        """Call ``handler(k)`` at ``times[k]`` for each k in turn, in the order ``after`` would have given if each
        arrival scheduled the next (docs/performance.md)."""
        if times:
            self.events += 1
            self.streams.append(Stream(times, handler, self.clock.now + times[0], self.next_eid()))
            self._choose_stream()

    def _choose_stream(self) -> None:
        first: Stream | None = None
        for stream in self.streams:
            if first is None or stream.time < first.time or (stream.time == first.time and stream.eid < first.eid):
                first = stream
        self.next_stream = first

    def _arrive(self, stream: Stream) -> None:
        """Run the stream's arrival due now, then key its next one as ``after`` would."""
        stream.handler(stream.k)
        stream.k += 1
        if stream.k < len(stream.times):
            self.events += 1
            now = self.clock.now
            stream.time = now + (stream.times[stream.k] - now)
            stream.eid = self.next_eid()
        else:
            self.streams.remove(stream)
        self._choose_stream()

    def run(self) -> None:
        """Run to the end of the calendar, with the daily tick and the opening of the measured window.

        The loop is ``Environment.run(until=end)`` without its per-event generality: the queue holds only
        ``Call``s, and the end is an urgent entry queued now, as simpy queues its stop event, so the same
        calls run in the same order and the clock ends at the same time."""
        self.after(0.0, self._new_day, None)
        self.after(self.window, self._open_window, None, URGENT)  # before anything else at that moment
        year = self.calendar.year
        for day in range(int(self.window) + 1, int(self.calendar.end)):
            if year[day] != year[day - 1]:
                self.after(float(day), self._mark_year, None, URGENT)
        clock, queue = self.clock, self.queue
        end = float(self.calendar.end)
        stop: Call[None] = Call(_never, None)
        heappush(queue, (end, URGENT, self.next_eid(), stop))
        while True:
            now, priority, eid, call = queue[0]
            arrival = self.next_stream
            if arrival is not None and (arrival.time < now
                                        or (arrival.time == now and (NORMAL, arrival.eid) < (priority, eid))):
                clock.now = arrival.time
                self._arrive(arrival)
                continue
            heappop(queue)
            clock.now = now
            if call is stop:
                self.env._now = now
                return
            call.handler(call)

    # ----------------------------------------------------------------- patients
    def enter(self, patient: Patient, location: str) -> None:
        self.created += 1
        self.live[patient] = True
        patient.location = location

    def move(self, patient: Patient, location: str) -> None:
        flow = MOVED.get(patient.location, NO_FLOWS).get(location)
        if flow is not None:
            self.counts[flow] += 1
        patient.location = location

    def end(self, patient: Patient, how: str) -> None:
        if not self.live.pop(patient, False):
            raise RuntimeError(f"patient {patient.key} left the model twice")
        self._ended(patient.location, how)
        patient.location = "left"

    def passed_through(self, location: str, how: str) -> None:
        """Someone who entered at ``location`` and left ``how`` at once, with no ``Patient`` made for them."""
        self.created += 1
        self._ended(location, how)

    def _ended(self, location: str, how: str) -> None:
        flow = ENDED.get(location, NO_FLOWS).get(how)
        if flow is not None:
            self.counts[flow] += 1
        self.ended[how] = self.ended.get(how, 0) + 1

    def sample(self, name: str, value: float) -> float:
        """Record a pre-sampled duration for the sampled-versus-configured check, and return it."""
        self.tally.sample(name, value)
        return value

    # ----------------------------------------------------------------- the day
    def _open_window(self, _event: Call[None]) -> None:
        """Start the measured period: counts, occupancy integrals and stays count from now."""
        self.tally.clear_counts()
        self.effects.open_window()
        for pool in self.services.pools.values():
            pool.open_window()
        self.services.home_care.waits.open_window(self.now)

    def year_mark(self) -> YearMark:
        """The cumulative tally now, read without touching it (so the whole window's values do not change)."""
        now = self.now
        pools = self.services.pools
        return YearMark(
            day=now, counts=self.tally.by_name(),
            services={name: (p.area + p.occupied * (now - p.last), p.arrivals, p.stays, p.stay_total)
                      for name, p in pools.items()},
            waits={name: (w.granted, float(w.total_days), int(w.waited)) for name, w in self.services.waits.items()})

    def _mark_year(self, _event: Call[None]) -> None:
        self.year_marks.append(self.year_mark())

    def _new_day(self, _event: Call[None]) -> None:
        """Each midnight: today's capacity, hours and appointments; yesterday's occupancy recorded."""
        now = self.now
        day = int(round(now))
        self.horizon = float(day + AHEAD)  # the calls due in the day before the new horizon join the heap
        for entry in self.later.pop(day + AHEAD - 1, ()):
            heappush(self.queue, entry)
        services, effects = self.services, self.effects
        weekend = self.calendar.weekend[min(day, len(self.calendar.weekend) - 1)]
        for name, pool in services.pools.items():
            added = services.capacity_added(effects, name, now)
            if added:
                pool.set_capacity(max(0.0, services.base_capacity[name] + added))
            self.daily[name][day] = pool.occupied
            self.daily_capacity[name][day] = max(pool.capacity, pool.occupied)  # a cut closes beds as they empty
        self.daily["delayed_patients"][day] = self.delayed_now
        services.set_day(effects, now, weekend)
        max_events = self.scenario.run.max_events
        if self.events > max_events:
            raise RunawayError(
                f"the run passed {max_events:,} simulated events on day {day}; "
                "the scenario is far larger than expected or demand is runaway (raise run.max_events if intended)"
            )
        if day + 1 <= self.calendar.end:
            self.after(1.0, self._new_day, None)
