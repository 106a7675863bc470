"""What one replication records, aggregated as it goes so memory does not grow with the run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import numpy as np
from librt.vecs import vec

from caresim.engine.counters import NAMES
from caresim.scenario.fields import DELAY_REASONS, SETTINGS

ACUTE: Final = SETTINGS.index("acute")  # where a delayed patient waits
NON_ACUTE: Final = SETTINGS.index("non_acute")


class Tally:
    """Counts, delayed days by reason, setting and month, and sampled-versus-configured statistics."""

    def __init__(self, window_start: float, month_of_day: np.ndarray, year_of_day: np.ndarray) -> None:
        self.window_start = window_start
        self.counts = vec[float]([0.0] * len(NAMES))  # by counters' index: C doubles in the compiled engine
        self.month_of_day = month_of_day
        self.year_of_day = year_of_day
        self.delayed = np.zeros((len(DELAY_REASONS), len(SETTINGS), 12))
        self.delayed_by_year = np.zeros((1 + int(year_of_day[:-1].max()), *self.delayed.shape))
        self.sampled: dict[str, vec[float]] = {}  # name → (n, Σx, Σx²)

    def by_name(self) -> dict[str, float]:
        """The counts by counter name."""
        return dict(zip(NAMES, self.counts, strict=True))

    def clear_counts(self) -> None:
        """Every count back to 0, in place: the journey's parts hold these counts."""
        for i in range(len(self.counts)):
            self.counts[i] = 0.0

    def delay(self, reason: int, setting: int, start: float, end: float) -> None:
        """Add the part of a delay that falls in the measured window, split by calendar month."""
        start = max(start, self.window_start)
        while start < end:
            day = int(start)
            stop = min(end, day + 1.0)
            month = self.month_of_day[day]
            self.delayed[reason, setting, month] += stop - start
            self.delayed_by_year[self.year_of_day[day], reason, setting, month] += stop - start
            start = stop

    def sample(self, name: str, value: float) -> None:
        stats = self.sampled.get(name)
        if stats is None:
            self.sampled[name] = vec[float]([1.0, value, value * value])
        else:
            stats[0] += 1
            stats[1] += value
            stats[2] += value * value


@dataclass
class ServiceRecord:
    """Little's law ingredients and occupancy of one service over the measured window."""

    name: str
    capacity: float
    mean_occupied: float
    arrivals: int
    completed_stays: int
    mean_stay: float
    window_days: float


@dataclass
class YearMark:
    """The cumulative tally at the end of one year of the measured window: a year's values are the difference
    between its mark and the one before (zero at the window's start)."""

    day: float  # days since the start of the warm-up
    counts: dict[str, float]
    services: dict[str, tuple[float, int, int, float]]  # service → (occupied place-days, arrivals, stays, Σ stay)
    waits: dict[str, tuple[int, float, int]]  # service → (granted, Σ wait days, waited)


@dataclass
class ReplicationRecord:
    """Everything one world in one replication produced, small enough to ship between processes."""

    world: str
    replication: int
    seed: int
    counts: dict[str, float]
    services: dict[str, ServiceRecord]
    delayed: np.ndarray
    daily: dict[str, np.ndarray]
    daily_capacity: dict[str, np.ndarray]
    sampled: dict[str, tuple[float, float, float]]  # name → (n, Σx, Σx²)
    waits: dict[str, tuple[int, float, int]] = field(default_factory=dict)  # service → (granted, Σ wait days, waited)
    realised: dict[tuple[str, str], tuple[float, float, float]] = field(default_factory=dict)  # effects.Realised
    conservation: dict[str, int] = field(default_factory=dict)
    events: int = 0
    years: list[YearMark] = field(default_factory=list)  # the end of each year of the window, the last at its end
    delayed_by_year: np.ndarray | None = None  # delayed days by year, reason, setting and month
