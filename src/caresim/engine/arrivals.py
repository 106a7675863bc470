"""Crises arriving: which candidate crises this world keeps (prevention schemes thin them), and each
kept crisis meeting the front door, in time order, becoming a patient if it goes further."""

from __future__ import annotations

from typing import Final

import numpy as np

from caresim.engine import counters as c
from caresim.engine.demand import WIDTH, Attributes, Candidates, Row
from caresim.engine.pathway import Pathway
from caresim.engine.patient import KEEP, RESIDENT, Patient

BLOCK: Final = 64  # rows copied out of numpy this many at a time: one numpy call each, not one per arrival


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
        attributes = candidates.attributes
        rows = candidates.rows
        block, width = Row(), WIDTH  # the rows of the next BLOCK arrivals, end to end

        def arrive(k: int) -> None:
            nonlocal block
            if k % BLOCK == 0:
                block = Row(rows[kept[k:k + BLOCK]].ravel())
            start = k % BLOCK * width
            row = block[start:start + width]
            if residence:
                self._resident_crisis(candidate_patient(attributes, residence, indices[k], row))
            else:
                self._crisis(attributes, indices[k], row)

        self.kernel.stream(times, arrive)

    def _crisis(self, attributes: Attributes, i: int, row: Row) -> None:
        """Candidate ``i``'s crisis at home: first contact, and the patient made only if it goes further."""
        self.counts[c.CRISES] += 1
        via, outcome = self.model.front_door.first_contact(0, row)
        if outcome == "home":
            self.kernel.passed_through("crisis", "home")
            return
        p = candidate_patient(attributes, 0, i, row)
        self.kernel.enter(p, "crisis")
        self.model.front_door.send(p, via, outcome)

    def _resident_crisis(self, patient: Patient) -> None:
        """A crisis in a care home, if the bed it falls on holds a resident who is at home."""
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
        via, outcome = self.model.front_door.first_contact(1, patient.row)
        self.model.front_door.send(patient, via, outcome)


def candidate_patient(attributes: Attributes, residence: int, i: int, row: Row) -> Patient:
    """Candidate ``i``'s patient: its attributes, and ``row``, its draws.

    A plain function, called directly by compiled code: a ``vec`` handed to compiled code through a Python-level
    call (a closure, a callable passed in) leaks its buffer in mypyc 2.4 (docs/performance.md)."""
    band, tier, locality, crisis_type, avoidable, gp_manageable = attributes
    return Patient((residence, i), row, band[i], residence, tier[i], locality[i], crisis_type[i], avoidable[i],
                   gp_manageable[i])
