"""Crises arriving: which candidate crises this world keeps (prevention schemes thin them), and each
kept crisis becoming a patient at the front door, in time order."""

from __future__ import annotations

from typing import Final

import numpy as np

from caresim.engine import counters as c
from caresim.engine.demand import Attributes, Candidates
from caresim.engine.pathway import Pathway
from caresim.engine.patient import KEEP, RESIDENT, Patient

BLOCK: Final = 64  # rows turned into lists this many at a time: one numpy call each, not one per arrival


class Arrivals(Pathway):
    """The kept candidates of one residence (0: own home, 1: care home), in time order."""

    def _kept(self, candidates: Candidates, residence: int) -> np.ndarray:
        multiplier = self.effects.prevention_multiplier(candidates, residence, self.kernel.window)
        return np.nonzero(candidates.rows[:, KEEP] < candidates.accept * multiplier)[0]

    def start(self, candidates: Candidates, residence: int) -> None:
        """The kept crises as one arrival stream of the kernel."""
        kept = self._kept(candidates, residence)
        times = candidates.time[kept].tolist()
        indices = kept.tolist()
        attributes: list[Attributes] = candidates.attributes
        rows = candidates.rows
        block: list[list[float]] = []  # the rows of the next BLOCK arrivals, as Python lists

        def arrive(k: int) -> None:
            if k % BLOCK == 0:
                block[:] = rows[kept[k:k + BLOCK]].tolist()
            i = indices[k]
            self._crisis(i, block[k % BLOCK], attributes[i], residence)

        self.kernel.stream(times, arrive)

    def _crisis(self, i: int, row: list[float], attributes: Attributes, residence: int) -> None:
        resident = None
        if residence:
            resident = self.model.care_homes.pick_resident(row[RESIDENT])
            if resident is None:
                return
        band, tier, locality, crisis_type, avoidable, gp_manageable = attributes
        if resident is not None:  # the resident's own age band; the candidate's row (its draws) stays
            self.model.acute.rescale_stay(row, band, resident.band)
            band = resident.band
        patient = Patient((residence, i), row, band, residence, tier, locality, crisis_type, avoidable, gp_manageable)
        if resident is not None:
            patient.resident = resident
            resident.away = True
        self.kernel.enter(patient, "crisis")
        self.counts[c.CRISES] += 1
        self.model.front_door.first_contact(patient)
