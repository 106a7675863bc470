"""The acute stay: the admission decision, waiting for and holding a bed, death in hospital, and
readmission after discharge (the same person's next episode, with its own draws)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from caresim.engine import counters as c
from caresim.engine.demand import Row
from caresim.engine.kernel import Call
from caresim.engine.pathway import Pathway
from caresim.engine.patient import ACUTE_STAY, READMIT, READMIT_TIME, Patient
from caresim.scenario.fields import AGE_BANDS
from caresim.scenario.schemes import LengthOfStayEffect, ReadmissionEffect

if TYPE_CHECKING:
    from caresim.engine.model import Model


class AcuteStay(Pathway):
    """Admissions queue for a bed (or are turned away, if the scenario says so) and stay until medically fit."""

    def __init__(self, model: Model) -> None:
        super().__init__(model)
        s = self.scenario
        self.turn_away = s.services.acute_beds.when_full == "turn_away"
        self.stay_sampled = [f"acute_beds.length_of_stay.{band}" for band in AGE_BANDS]  # by age band index
        self.readmission_probability = [s.discharge.readmission_probability[band] for band in AGE_BANDS]
        self.mean_stay = [s.services.acute_beds.length_of_stay[band].mean for band in AGE_BANDS]
        self.in_bed_handler = self._in_bed  # bound once (Pathway)

    def admission_decision(self, p: Patient, via: str) -> None:
        """Admit, unless a scheme diverts the patient at the point of admission."""
        leaving = self.model.ae.leave if p.location == "ae" else None
        if not self.model.diversions.diverted("admission", p, leaving):
            self.admit(p, via)

    def admit(self, p: Patient, via: str) -> None:
        p.via = via
        counts = self.counts
        counts[c.EMERGENCY_ADMISSIONS] += 1
        counts[c.EMERGENCY_ADMISSIONS_BY_BAND[p.band]] += 1
        if p.band > 0:
            counts[c.EMERGENCY_ADMISSIONS_65PLUS] += 1
        if via == "ae":
            counts[c.EMERGENCY_ADMISSIONS_VIA_AE] += 1
        if p.avoidable:
            counts[c.AVOIDABLE_EMERGENCY_ADMISSIONS] += 1
        if p.residence:
            counts[c.CARE_HOME_EMERGENCY_ADMISSIONS] += 1
        if p.readmission:
            counts[c.READMISSIONS_30D] += 1
        if via != "ae" or p.location != "ae":
            self.kernel.move(p, "waiting_acute")
        beds = self.services.acute
        if self.turn_away:
            if beds.try_admit(p):
                self._in_bed(p)
            else:
                counts[c.ACUTE_TURNED_AWAY] += 1
                if p.location == "ae":
                    self.model.ae.leave(p)
                self.model.care_homes.episode_over(p)
                self.kernel.end(p, "elsewhere")
            return
        beds.request(p, self.in_bed_handler)

    def _in_bed(self, p: Patient) -> None:
        if p.location == "ae":
            self.model.ae.leave(p)
        self.kernel.move(p, "acute")
        stay = self.kernel.sample(self.stay_sampled[p.band], p.row[ACUTE_STAY])
        stay = self.effects.scaled(LengthOfStayEffect, p, self.kernel.now, stay, "acute_beds")
        self.kernel.after(stay, self.model.discharge.medically_fit_handler, p)

    def release(self, p: Patient) -> None:
        """Free the bed; completed stays of patients admitted during the run count by age band."""
        beds = self.services.acute
        stay = self.kernel.now - beds.entered[p]
        beds.release(p)
        if p.via != "warm_start":
            self.counts[c.ACUTE_STAYS_BY_BAND[p.band]] += 1
            self.counts[c.ACUTE_STAY_DAYS_BY_BAND[p.band]] += stay
            if stay < 2:
                self.counts[c.ACUTE_STAYS_UNDER_2D] += 1
                if stay < 1:
                    self.counts[c.ACUTE_STAYS_UNDER_1D] += 1

    def die(self, p: Patient) -> None:
        self.release(p)
        self.counts[c.DEATHS_HOSPITAL] += 1
        if p.resident is not None:
            self.model.care_homes.leaves(p.resident, died_in_hospital=True)
        self.kernel.end(p, "death")

    def maybe_readmit(self, p: Patient, resident: Patient | None = None) -> None:
        """A patient discharged alive to their usual residence (their own home, or ``resident``'s care home)
        may come back, as a new episode, within the readmission window."""
        probability = self.readmission_probability[p.band]
        self.counts[c.DISCHARGES_HOME_ALIVE] += 1
        if self.effects.happens(ReadmissionEffect, p, self.kernel.now, p.row[READMIT], probability):
            again = self.next_episode(p, "at_home_before_readmission")
            again.readmission = True
            if resident is not None:
                again.resident = resident
            self.kernel.after(p.row[READMIT_TIME], self._readmitted, again)

    def rescale_stay(self, row: Row, drawn_for: int, band: int) -> None:
        """Turn a row's acute stay, drawn for age band ``drawn_for``, into one of ``band``: scaled by the
        ratio of the bands' mean stays (the same quantile when their distributions differ only in scale)."""
        drawn_mean = self.mean_stay[drawn_for]
        if band != drawn_for and drawn_mean > 0:
            row[ACUTE_STAY] *= self.mean_stay[band] / drawn_mean

    def next_episode(self, p: Patient, location: str) -> Patient:
        """The same person's next episode, with fresh draws keyed by the episode that led to it."""
        if p.depth == 0 and p.key[0] < 2:  # a crisis candidate: its next row was drawn with the candidates
            candidates = self.model.candidates[p.key[0]]
            row = candidates.next_row(p.key[1])
            self.rescale_stay(row, int(candidates.band[p.key[1]]), p.band)  # a resident's band is their own
        else:
            kept_with = self.model.candidates[0]  # the community candidates: every world of the replication shares them
            row = kept_with.later_row(self.scenario, self.model.replication, p.key, p.depth + 1, p.band, p.residence)
        again = Patient((*p.key, p.depth + 1), row, p.band, p.residence, p.tier, p.locality, p.crisis_type,
                        p.avoidable, False, p.depth + 1)
        again.carry_over(p)
        again.resident = p.resident
        p.resident = None
        self.kernel.enter(again, location)
        return again

    def _readmitted(self, event: Call[Patient]) -> None:
        p = event.value
        resident = p.resident
        if resident is not None:
            if resident.location != "care_home" or resident.away:  # died meanwhile, or already away again
                p.resident = None
                self.kernel.end(p, "superseded")
                return
            resident.away = True
        self.counts[c.AMBULANCE_INCIDENTS] += 1
        self.counts[c.AMBULANCE_CONVEYANCES] += 1
        self.model.ae.attend(p, conveyed=True)
