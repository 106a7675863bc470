"""What every part of a scenario shares: the fixed vocabularies (age bands, pathways, delay reasons),
the field types (shares, capacities) and the checks that run on them."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat

from caresim.scenario.problems import FieldError

PATHWAYS = ("P0", "P1", "P2", "P3", "death")
DELAY_REASONS = (
    "awaiting_assessment", "home_care_package", "reablement", "community_bed", "care_home_placement",
    "patient_choice",
)
SETTINGS = ("acute", "non_acute")  # where a delayed patient waits: in an acute bed or outside one
AgeBand = Literal["18-64", "65-74", "75-84", "85+"]
CrisisType = Literal["long_term_condition", "fall", "acute_illness"]
AGE_BANDS: tuple[AgeBand, ...] = ("18-64", "65-74", "75-84", "85+")
CRISIS_TYPES: tuple[CrisisType, ...] = ("long_term_condition", "fall", "acute_illness")
BAND_SUFFIX = ("18_64", "65_74", "75_84", "85plus")  # AGE_BANDS as they appear in measure names
Residence = Literal["home", "care_home"]
Share = Annotated[float, Field(ge=0, le=1)]
Capacity = Annotated[int, Field(ge=0)] | Literal["unlimited"]
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
HourlyRates = Annotated[list[NonNegativeFloat], Field(min_length=24, max_length=24)]  # relative, 00:00 first
WeekdayRates = Annotated[list[NonNegativeFloat], Field(min_length=7, max_length=7)]  # relative, Monday first
SHARE_TOLERANCE = 1e-6


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def capacity_value(capacity: Capacity) -> float:
    """A capacity as a number: ``unlimited`` is infinity."""
    return math.inf if capacity == "unlimited" else float(capacity)


def check_shares(shares: dict[str, float], *path: str) -> None:
    """Shares that add up to 1; `path` leads from the validated model to them."""
    total = sum(shares.values())
    if abs(total - 1) > SHARE_TOLERANCE:
        parts = ", ".join(f"{k} {v:g}" for k, v in shares.items())
        given = f"{parts} add up to {total:g}" if shares else "none are given"
        raise FieldError(f"the shares must add up to 1, but {given}", *path)


def check_complete(keys: dict, allowed: tuple[str, ...], *path: str) -> None:
    missing = [k for k in allowed if k not in keys]
    if missing:
        raise FieldError(f"needs a value for every one of {', '.join(allowed)}; missing {', '.join(missing)}", *path)


def check_initial(initial: int, capacity: Capacity) -> None:
    if initial > capacity_value(capacity):
        raise FieldError(f"initial_occupancy ({initial}) is above capacity ({capacity})", "initial_occupancy")
