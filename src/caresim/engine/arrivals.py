"""Crises arriving: which candidate crises this world keeps (prevention schemes thin them), and each
kept crisis becoming a patient at the front door, one scheduled arrival at a time."""

from __future__ import annotations

import numpy as np

from caresim.engine import counters as c
from caresim.engine.demand import Candidates
from caresim.engine.kernel import Call
from caresim.engine.pathway import Pathway
from caresim.engine.patient import KEEP, RESIDENT, Patient

Attributes = tuple[int, int, int, int, bool, bool]  # band, tier, locality, crisis type, avoidable, GP-manageable


class Arrivals(Pathway):
    """The kept candidates of one residence (0: own home, 1: care home), in time order."""

    def _kept(self, candidates: Candidates, residence: int) -> np.ndarray:
        multiplier = self.effects.prevention_multiplier(candidates, residence, self.kernel.window)
        return np.nonzero(candidates.rows[:, KEEP] < candidates.accept * multiplier)[0]

    def start(self, candidates: Candidates, residence: int) -> None:
        """Schedule the first kept crisis; each arrival schedules the next."""
        kept = self._kept(candidates, residence)
        times = candidates.time[kept].tolist()
        indices = kept.tolist()
        attributes: list[Attributes] = list(zip(
            candidates.band[kept].tolist(), candidates.tier[kept].tolist(), candidates.locality[kept].tolist(),
            candidates.crisis_type[kept].tolist(), candidates.avoidable[kept].tolist(),
            candidates.gp_manageable[kept].tolist(), strict=True))
        rows = candidates.rows
        position = [0]
        kernel = self.kernel

        def arrive(_event: Call[None]) -> None:
            k = position[0]
            self._crisis(indices[k], rows[indices[k]].tolist(), attributes[k], residence)
            position[0] += 1
            if position[0] < len(indices):
                kernel.after(times[position[0]] - kernel.now, arrive, None)

        if indices:
            kernel.after(times[0], arrive, None)

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
