"""When a patient who is ready to leave hospital actually leaves: a discharge rate by hour of the week.

A patient ready at time t (their next place granted) leaves at the first T ≥ t where the cumulative
hazard from t reaches their own draw E ~ Exp(1), a column of their pre-drawn row, so every world gives
the same patient the same E. The hazard is ``hazard_per_hour × hourly[hour] × weekday[day]``,
constant within each hour, so its cumulative over a week is piecewise linear and is inverted exactly:
whole weeks are skipped arithmetically and the rest is found by bisection on the week's table.
An unlimited hazard means leaving at the first moment the rate is above 0.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from typing import Final

HOURS_PER_DAY: Final = 24
HOURS_PER_WEEK: Final = 7 * HOURS_PER_DAY


class DischargeRhythm:
    """Departure times for patients ready to leave; simulation time 0 is the start of a ``first_weekday``."""

    __slots__ = ("rate", "cumulative", "per_week", "unlimited", "next_open")

    def __init__(self, hourly: Sequence[float], weekday: Sequence[float], hazard_per_hour: float,
                 first_weekday: int) -> None:
        relative = [hourly[k % HOURS_PER_DAY] * weekday[(first_weekday + k // HOURS_PER_DAY) % 7]
                    for k in range(HOURS_PER_WEEK)]
        if not any(r > 0 for r in relative):
            raise ValueError("the discharge profile must have at least one hour with a rate above 0")
        self.unlimited = math.isinf(hazard_per_hour)
        self.rate = [r * (1.0 if self.unlimited else hazard_per_hour) for r in relative]
        self.cumulative = [0.0]  # hazard from the start of the week to each hour boundary
        for r in self.rate:
            self.cumulative.append(self.cumulative[-1] + r)
        self.per_week = self.cumulative[-1]
        # hours from the start of the week to the start of the first open hour at or after each hour
        self.next_open = [float(next(k + j for j in range(HOURS_PER_WEEK) if relative[(k + j) % HOURS_PER_WEEK] > 0))
                          for k in range(HOURS_PER_WEEK)]

    def departure(self, t: float, e: float) -> float:
        """The moment (days) a patient ready at ``t`` (days) with draw ``e`` (Exp(1)) leaves."""
        week, into = divmod(t * HOURS_PER_DAY, HOURS_PER_WEEK)
        hour = min(int(into), HOURS_PER_WEEK - 1)
        if self.unlimited:
            if self.rate[hour] > 0:
                return t
            return (week * HOURS_PER_WEEK + self.next_open[hour]) / HOURS_PER_DAY
        target = self.cumulative[hour] + (into - hour) * self.rate[hour] + e
        if target <= 0:
            return t
        whole = math.ceil(target / self.per_week) - 1  # whole weeks passed before the target is reached
        rest = target - whole * self.per_week  # in (0, per_week]
        j = bisect_left(self.cumulative, rest)  # the first hour boundary the hazard reaches: j ≥ 1
        left = j - 1 + (rest - self.cumulative[j - 1]) / self.rate[j - 1]
        return max(t, ((week + whole) * HOURS_PER_WEEK + left) / HOURS_PER_DAY)
