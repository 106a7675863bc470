"""The warm start: beds and caseloads occupied at time 0, so the run need not fill them from empty.

Seeded patients' age bands follow the occupants of each service, not the crises: emergency admissions
by band (community crises times A&E's admission probability) weighted by the mean acute stay for the
acute ward, by the P2 or P1 discharge share for intermediate care or reablement. Remaining stays are
drawn length-biased (a bed occupied at a random moment holds a longer stay than
average), then cut uniformly (the moment falls anywhere in that stay). A care-home residence is
exponential, whose remaining part at a random moment is exponential with the same mean: a resident
seeded at the start settles as a new one would. Each downstream service's ``initial_queue`` holds
patients in acute beds, medically fit and waiting for it, as a steady state with delays would.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np

from caresim.engine.demand import Row, community_segments, draw_rows
from caresim.engine.patient import HomeKind, Patient
from caresim.engine.services import Pool
from caresim.engine.streams import stream
from caresim.engine.tally import ACUTE
from caresim.scenario.distributions import _Distribution, remaining_stays
from caresim.scenario.fields import AGE_BANDS
from caresim.scenario.schema import Scenario

if TYPE_CHECKING:
    from caresim.engine.model import Model

SEEDED, NURSING_RESIDENT, RESIDENTIAL_RESIDENT = 3, 4, 5  # Patient.key[0] of warm-start patients
PATHWAY_OF_DESTINATION = {"step_down": "P2", "reablement": "P1", "home_care": "P1", "care_home": "P3"}


class Tape:
    """The warm start's draws in one replication, in the order it makes them.

    They depend only on the replication and the world's scenario (its schemes act from the first morning), so
    the first world of a scenario draws them and every other world of an equal scenario reads them back in turn."""

    __slots__ = ("draws", "position", "scenario", "replication", "rng")

    def __init__(self, draws: list[Any], scenario: Scenario, replication: int) -> None:
        self.draws = draws
        self.position = 0
        self.scenario = scenario
        self.replication = replication
        self.rng: np.random.Generator | None = None  # made only by the world that draws

    def seeded(self, n: int, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Age bands (from ``weights``) and rows of draws for ``n`` patients."""
        return cast("tuple[np.ndarray, np.ndarray]", self._next(lambda rng: _seeded(self.scenario, rng, n, weights)))

    def remaining_stays(self, distributions: list[_Distribution]) -> list[float]:
        return cast("list[float]", self._next(lambda rng: remaining_stays(rng, distributions)))

    def _next(self, draw: Callable[[np.random.Generator], Any]) -> Any:
        if self.position == len(self.draws):
            if self.rng is None:
                if self.draws:  # a world reading the tape asked for more than the world that drew it
                    raise RuntimeError("the warm start's draws depended on more than the world's scenario")
                self.rng = stream(self.scenario.run.seed, "warm_start", self.replication)
            self.draws.append(draw(self.rng))
        self.position += 1
        return self.draws[self.position - 1]


def _seeded(scenario: Scenario, rng: np.random.Generator, n: int, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    chosen = rng.choice(len(AGE_BANDS), size=n, p=_mix(weights))
    return chosen, draw_rows(scenario, rng, chosen)


def warm_start(model: Model) -> None:
    """Seed the acute ward, intermediate care, reablement and care homes with patients part-way through."""
    s = model.scenario
    kernel, services = model.kernel, model.kernel.services
    tape = Tape(model.candidates[0].warm_start_draws(s), s, model.replication)
    configured = s.services
    admitted = _admissions_by_band(model)

    def seeded(n: int, first_index: int, weights: np.ndarray) -> list[Patient]:
        chosen, rows = tape.seeded(n, weights)
        return [Patient((SEEDED, first_index + i), Row(rows[i]), int(chosen[i]), 0, 0, 0, 0, False, False)
                for i in range(n)]

    beds = configured.acute_beds
    queue = [destination for destination, n in configured.initial_queues().items() for _ in range(n)]
    mean_stays = np.array([beds.length_of_stay[band].mean for band in AGE_BANDS])
    in_acute = seeded(min(beds.initial_occupancy, int(min(services.acute.capacity, 1e9))), 0, admitted * mean_stays)
    for p in in_acute:
        kernel.enter(p, "acute")
        services.acute.try_admit(p)
        p.via = "warm_start"
    in_treatment = in_acute[len(queue):]  # the first are medically fit and waiting: they ask once all is seeded
    stays = tape.remaining_stays([beds.length_of_stay[AGE_BANDS[p.band]] for p in in_treatment])
    for p, stay in zip(in_treatment, stays, strict=True):
        kernel.after(stay, model.discharge.medically_fit_handler, p)
    ic = configured.intermediate_care_beds
    if ic.enabled:
        in_ic = []
        for k, p in enumerate(seeded(ic.initial_occupancy, 100_000, admitted * _pathway_shares(model, "P2"))):
            step_up = k % 2 == 1 and services.step_up is not services.step_down
            if (services.step_up if step_up else services.step_down).try_admit(p):
                kernel.enter(p, "intermediate_care")
                p.destination = "step_up" if step_up else "step_down"
                in_ic.append(p)
        for p, stay in zip(in_ic, tape.remaining_stays([ic.length_of_stay] * len(in_ic)), strict=True):
            kernel.after(stay, model.community.intermediate_care_done, p)
    reablement = configured.reablement
    if reablement.enabled:
        p1_weights = admitted * _pathway_shares(model, "P1")
        in_reablement = [p for p in seeded(reablement.initial_occupancy, 200_000, p1_weights)
                         if services.reablement.try_admit(p)]
        for p in in_reablement:
            kernel.enter(p, "reablement")
            p.reablement_from_hospital = False
        stays = tape.remaining_stays([reablement.duration] * len(in_reablement))
        for p, stay in zip(in_reablement, stays, strict=True):
            kernel.after(stay, model.community.reablement_done, p)
    homes = configured.care_homes
    if homes.enabled:
        shares = np.array([homes.resident_age_shares.get(b, 0.0) for b in AGE_BANDS])
        homes_by_kind: tuple[tuple[HomeKind, Pool], ...] = (("residential", services.residential),
                                                            ("nursing", services.nursing))
        for kind, pool in homes_by_kind:
            n = (int(round(min(pool.capacity, 1e7) * homes.initial_occupancy_share))
                 if math.isfinite(pool.capacity) else 0)
            chosen, rows = tape.seeded(n, shares)
            for i in range(n):
                source = NURSING_RESIDENT if kind == "nursing" else RESIDENTIAL_RESIDENT
                p = Patient((source, i), Row(rows[i]), int(chosen[i]), 1, -1, -1, -1, False, False)
                p.home_kind = kind
                pool.try_admit(p)
                kernel.enter(p, "care_home")
                model.care_homes.settle(p)  # residence is exponential, so the remaining one is too
    for p, destination in zip(in_acute, queue, strict=False):
        if destination == "reablement" and not reablement.enabled:
            destination = "home_care"  # as a P1 discharge would go
        p.pathway, p.destination = PATHWAY_OF_DESTINATION[destination], destination
        model.discharge.request_downstream(p, ACUTE)


def _admissions_by_band(model: Model) -> np.ndarray:
    """Relative emergency admissions by age band: community crises times A&E's admission probability."""
    s = model.scenario
    _, bands, _, rates = community_segments(s)
    crises = np.bincount(bands, weights=rates, minlength=len(AGE_BANDS))
    return crises * np.array([s.services.ae.admit_probability[band] for band in AGE_BANDS])


def _pathway_shares(model: Model, pathway: Literal["P1", "P2"]) -> np.ndarray:
    return np.array([model.scenario.discharge.pathways[band][pathway] for band in AGE_BANDS])


def _mix(weights: np.ndarray) -> np.ndarray:
    """Weights as the shares of a draw; equal shares when they are all zero."""
    total = weights.sum()
    return weights / total if total > 0 else np.full(len(weights), 1 / len(weights))
