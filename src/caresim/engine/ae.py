"""A&E: a cubicle, assessment, and either home or the admission decision; the four-hour standard."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from caresim.engine import counters as c
from caresim.engine.kernel import Call
from caresim.engine.pathway import Pathway
from caresim.engine.patient import AE_ADMIT, AE_ADMITTED, AE_DISCHARGED, Patient
from caresim.scenario.fields import AGE_BANDS

if TYPE_CHECKING:
    from caresim.engine.model import Model

FOUR_HOURS: Final = 4 / 24


class EmergencyDepartment(Pathway):
    """Attendances wait for a cubicle; the patient keeps it until they go home or get an acute bed."""

    def __init__(self, model: Model) -> None:
        super().__init__(model)
        ae = self.scenario.services.ae
        self.enabled = ae.enabled
        # the chance that assessment ends in admission, by age band index; the last for care-home residents
        self.admit_probability = [*(ae.admit_probability[band] for band in AGE_BANDS), ae.admit_probability_care_home]
        self.in_cubicle_handler = self._in_cubicle  # bound once (Pathway)
        self.assessed_handler = self._assessed

    def attend(self, p: Patient, conveyed: bool = False) -> None:
        if not self.enabled:
            if self.will_be_admitted(p):
                self.model.acute.admission_decision(p, "ae")
            else:
                self.go_home(p)
            return
        self.counts[c.AE_ATTENDANCES] += 1
        if conveyed:
            self.counts[c.AE_ATTENDANCES_CONVEYED] += 1
        if p.band > 0:
            self.counts[c.AE_ATTENDANCES_65PLUS] += 1
        if p.residence:
            self.counts[c.CARE_HOME_AE_ATTENDANCES] += 1
        p.ae_arrival = self.kernel.now
        self.kernel.move(p, "ae_waiting")
        self.services.ae.request(p, self.in_cubicle_handler)

    def will_be_admitted(self, p: Patient) -> bool:
        """Whether assessment in A&E ends in admission (a readmission always does)."""
        probability = self.admit_probability[-1 if p.residence else p.band]
        return p.readmission or p.row[AE_ADMIT] < probability

    def _in_cubicle(self, p: Patient) -> None:
        self.kernel.move(p, "ae")
        p.admitted_ae = self.will_be_admitted(p)
        if p.admitted_ae:
            duration = self.kernel.sample("ae.time_admitted_hours", p.row[AE_ADMITTED] * 24) / 24
        else:
            duration = self.kernel.sample("ae.time_discharged_hours", p.row[AE_DISCHARGED] * 24) / 24
        self.kernel.after(duration, self.assessed_handler, p)

    def _assessed(self, event: Call[Patient]) -> None:
        p = event.value
        if p.admitted_ae:
            if p.ae_arrival >= self.kernel.window:  # A&E outcomes count for attendances counted in the window
                self.counts[c.AE_ADMITTED] += 1
                if p.band > 0:
                    self.counts[c.AE_ADMITTED_65PLUS] += 1
            self.model.acute.admission_decision(p, "ae")
        else:
            self.leave(p)
            self.go_home(p)

    def leave(self, p: Patient) -> None:
        """Free the cubicle; a departure within four hours of arrival meets the standard."""
        self.services.ae.release(p)
        if p.ae_arrival >= self.kernel.window:
            self.counts[c.AE_DEPARTURES] += 1
            if self.kernel.now - p.ae_arrival <= FOUR_HOURS:
                self.counts[c.AE_WITHIN_4H] += 1
