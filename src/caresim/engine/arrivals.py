"""Crises arriving: which candidate crises this world keeps (prevention schemes thin them), and each
kept crisis becoming a patient at the front door, in time order."""

from __future__ import annotations

from typing import Final

import numpy as np

from caresim.engine import counters as c
from caresim.engine.demand import Candidates
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
        band, tier, locality, crisis_type, avoidable, gp_manageable = candidates.attributes
        rows = candidates.rows
        block: list[list[float]] = []  # the rows of the next BLOCK arrivals, as Python lists

        def arrive(k: int) -> None:
            if k % BLOCK == 0:
                block[:] = rows[kept[k:k + BLOCK]].tolist()
            i = indices[k]
            self._crisis(Patient((residence, i), block[k % BLOCK], band[i], residence, tier[i], locality[i],
                                 crisis_type[i], avoidable[i], gp_manageable[i]))

        self.kernel.stream(times, arrive)

    def _crisis(self, patient: Patient) -> None:
        if patient.residence:
            resident = self.model.care_homes.pick_resident(patient.row[RESIDENT])
            if resident is None:
                return
            # the resident's own age band; the candidate's row (its draws) stays
            self.model.acute.rescale_stay(patient.row, patient.band, resident.band)
            patient.band = resident.band
            patient.resident = resident
            resident.away = True
        self.kernel.enter(patient, "crisis")
        self.counts[c.CRISES] += 1
        self.model.front_door.first_contact(patient)
