"""What every part of the journey shares: the kernel, the services, and the way to the other parts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from caresim.engine.patient import Patient

if TYPE_CHECKING:
    from caresim.engine.model import Model

Cumulative = tuple[tuple[float, str], ...]


def choose(cumulative: Cumulative, u: float) -> str:
    """The outcome whose cumulative share first exceeds the uniform draw ``u``."""
    for bound, name in cumulative:
        if u < bound:
            return name
    return cumulative[-1][1]


def cumulative_of(shares: Mapping[str, float]) -> Cumulative:
    """Running totals of the positive shares, in order (home if none is positive)."""
    total, out = 0.0, []
    for name, share in shares.items():
        if share > 0:
            total += share
            out.append((total, name))
    return tuple(out) or ((1.0, "home"),)


class Pathway:
    """A part of the journey. It reaches the other parts through ``model`` (``model.acute``, …) at call
    time, so the parts can be built in any order and call each other freely.

    A handler scheduled for every attendance or stay is bound once, in the part's ``__init__``
    (``self.assessed_handler = self._assessed``): handing on ``self._assessed`` makes a new bound method
    object each time."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.scenario = model.scenario
        self.kernel = model.kernel
        self.calendar = model.kernel.calendar
        self.effects = model.kernel.effects
        self.services = model.kernel.services
        self.counts = model.kernel.counts

    def go_home(self, p: Patient) -> None:
        """The episode ends at home; a care-home resident's home is their care home."""
        self.model.care_homes.episode_over(p)
        self.kernel.end(p, "home")
