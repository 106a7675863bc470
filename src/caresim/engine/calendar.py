"""Simulation time in days since the start of the warm-up: the clock, and the calendar behind it."""

from __future__ import annotations

import datetime as dt

import numpy as np

from caresim.scenario.schema import Profile
from caresim.scenario.services import Hours


class Clock:
    """The simulation time now, set by the kernel as each event runs and read by every part of the journey
    (a native attribute of a compiled class: no look-up in simpy's ``Environment`` on every read)."""

    __slots__ = ("now",)

    def __init__(self) -> None:
        self.now = 0.0


class Opening:
    """Opening hours as the event loop reads them: the scenario's ``Hours`` copied into native fields."""

    __slots__ = ("start_hour", "end_hour", "weekends")

    def __init__(self, hours: Hours) -> None:
        self.start_hour = hours.start_hour
        self.end_hour = hours.end_hour
        self.weekends = hours.weekends


class Calendar:
    """Dates, weekdays, months and opening hours for every simulated day."""

    def __init__(self, start: dt.date, warm_up_days: int, days: int) -> None:
        self.origin = start - dt.timedelta(days=warm_up_days)
        self.warm_up_days = warm_up_days
        self.end = float(warm_up_days + days)
        dates = [self.origin + dt.timedelta(days=d) for d in range(warm_up_days + days + 1)]
        self.weekday = np.array([d.weekday() for d in dates])
        self.weekdays = tuple(d.weekday() for d in dates)  # plain ints and bools: cheaper than numpy scalars per event
        self.weekend = tuple(d.weekday() >= 5 for d in dates)
        self.month = np.array([d.month - 1 for d in dates])
        self.year = np.array([max(0, d.year - start.year - ((d.month, d.day) < (start.month, start.day)))
                              for d in dates])  # whole years since the start of the measured period
        self.dates = dates

    def date(self, t: float) -> dt.date:
        return self.dates[int(t)]

    def is_open(self, hours: Opening, t: float) -> bool:
        day = int(t)
        if not hours.weekends and self.weekend[day]:
            return False
        hour = (t - day) * 24
        return hours.start_hour <= hour < hours.end_hour


class RateProfile:
    """The relative crisis rate at any moment: hour × weekday × month factors, each averaging 1."""

    def __init__(self, profile: Profile, calendar: Calendar) -> None:
        self.hourly = np.array(profile.hourly) / np.mean(profile.hourly)
        self.weekday = np.array(profile.weekday) / np.mean(profile.weekday)
        self.monthly = np.array(profile.monthly) / np.mean(profile.monthly)
        self.calendar = calendar
        self.maximum = float(self.hourly.max() * self.weekday.max() * self.monthly.max())

    def __call__(self, t: np.ndarray) -> np.ndarray:
        day = t.astype(int)
        hour = ((t - day) * 24).astype(int)
        return self.hourly[hour] * self.weekday[self.calendar.weekday[day]] * self.monthly[self.calendar.month[day]]
