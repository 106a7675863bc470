"""Discharge from hospital: the pathway chosen when medically fit, assessment and patient choice, and
waiting for the next service while keeping the bed (blocking after service: delayed transfers)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from caresim.engine import counters as c
from caresim.engine.kernel import Call
from caresim.engine.pathway import Pathway, choose, cumulative_of
from caresim.engine.patient import (
    ASSESSMENT,
    ASSESSMENT_TIME,
    CARE_HOME_TYPE,
    LEAVE_HAZARD,
    P1_ROUTE,
    PATHWAY,
    PATIENT_CHOICE,
    PATIENT_CHOICE_TIME,
    Patient,
)
from caresim.engine.services import Granted
from caresim.engine.tally import ACUTE
from caresim.scenario.fields import AGE_BANDS, DELAY_REASONS
from caresim.scenario.schemes import AssessmentDelayEffect, CareHomeAdmissionEffect

if TYPE_CHECKING:
    from caresim.engine.model import Model

REASON: Final = {name: i for i, name in enumerate(DELAY_REASONS)}
NOON: Final = 12.0  # hours of the day, for the discharge-time measures
NIGHT_STARTS: Final = 23.0
NIGHT_ENDS: Final = 6.0
DESTINATION_OF_PATHWAY: Final = {"P0": "home", "P2": "step_down", "P3": "care_home"}  # P1: reablement or home care


class Discharge(Pathway):
    """From medically fit to leaving the acute bed, and the downstream request of intermediate care too."""

    def __init__(self, model: Model) -> None:
        super().__init__(model)
        d = self.scenario.discharge
        self.pathway_shares: list[dict[str, float]] = [{k: v for k, v in d.pathways[band].items()}
                                                       for band in AGE_BANDS]  # by age band index
        self.pathway_cumulative = [cumulative_of(shares) for shares in self.pathway_shares]
        self.assessment_share: dict[str, float] = {k: v for k, v in d.assessment_share.items()}
        # bound once (Pathway): these run for every acute stay
        self.medically_fit_handler = self.medically_fit
        self.leave_acute_handler = self._leave_acute

    def medically_fit(self, event: Call[Patient]) -> None:
        p = event.value
        now = self.kernel.now
        p.fit_at = now
        d = self.scenario.discharge
        if p.residence:
            if p.row[PATHWAY] < d.care_home_resident_death:
                self.model.acute.die(p)
            else:
                p.destination = "care_home_return"
                self._discharge_when_ready(p)
            return
        base_shares = self.pathway_shares[p.band]
        shares = self.effects.pathway_shares(base_shares, p, now)
        base_cumulative = self.pathway_cumulative[p.band]
        pathway = choose(base_cumulative if shares is base_shares else cumulative_of(shares), p.row[PATHWAY])
        p.pathway = pathway
        if self.effects.of(CareHomeAdmissionEffect):
            base = choose(base_cumulative, p.row[PATHWAY])
            self.effects.chose(CareHomeAdmissionEffect, p, now, base == "P3", pathway == "P3")
        if pathway == "death":
            self.model.acute.die(p)
            return
        if pathway == "P1":
            reablement = self.scenario.services.reablement.enabled
            p.destination = "reablement" if reablement and p.row[P1_ROUTE] < d.p1_reablement_share else "home_care"
        else:
            p.destination = DESTINATION_OF_PATHWAY[pathway]
        if p.row[ASSESSMENT] < self.assessment_share[pathway]:
            self.start_delay(p, "awaiting_assessment", ACUTE)  # the wait for a slot and the assessment itself
            self.services.assessments.request(p, self._assessment_starts)
        else:
            self._after_assessment(p)

    def _assessment_starts(self, p: Patient) -> None:
        now = self.kernel.now
        p.assessment_wait = now - p.delay_start
        duration = self.kernel.sample("discharge.assessment", p.row[ASSESSMENT_TIME])
        duration = self.effects.scaled(AssessmentDelayEffect, p, now, duration)
        self.kernel.after(duration, self._assessed, p)

    def _assessed(self, event: Call[Patient]) -> None:
        p = event.value
        self.counts[c.ASSESSMENTS_COMPLETED] += 1
        self.counts[c.ASSESSMENT_WAIT_DAYS] += p.assessment_wait
        self.end_delay(p)
        self._after_assessment(p)

    def _after_assessment(self, p: Patient) -> None:
        d = self.scenario.discharge
        if p.destination == "care_home" and p.row[PATIENT_CHOICE] < d.patient_choice_share_p3:
            self.start_delay(p, "patient_choice", ACUTE)
            self.kernel.after(self.kernel.sample("discharge.patient_choice", p.row[PATIENT_CHOICE_TIME]),
                              self._chosen, p)
        else:
            self.request_downstream(p, ACUTE)

    def _chosen(self, event: Call[Patient]) -> None:
        p = event.value
        self.end_delay(p)
        self.request_downstream(p, ACUTE)

    def request_downstream(self, p: Patient, setting: int) -> None:
        """Ask the next service for a place; the patient keeps their bed until it is granted."""
        granted: Granted = (self._granted_from_acute if setting == ACUTE
                            else self.model.community.granted_from_intermediate_care)
        services = self.services
        destination = p.destination
        if destination in ("home", "care_home_return"):
            granted(p)
        elif destination == "reablement":
            self.start_delay(p, "reablement", setting)
            services.reablement.request(p, granted)
        elif destination == "home_care":
            self.start_delay(p, "home_care_package", setting)
            services.home_care.request(p, granted)
        elif destination == "step_down":
            if not self.scenario.services.intermediate_care_beds.enabled:
                p.destination = "home"
                granted(p)
                return
            self.start_delay(p, "community_bed", setting)
            services.step_down.request(p, granted)
        else:
            homes = self.scenario.services.care_homes
            if not homes.enabled:
                p.destination = "home"
                granted(p)
                return
            p.home_kind = "nursing" if p.row[CARE_HOME_TYPE] < homes.nursing_share_of_admissions else "residential"
            self.start_delay(p, "care_home_placement", setting)
            services.care_home(p.home_kind).request(p, granted)

    def start_delay(self, p: Patient, reason: str, setting: int) -> None:
        p.delay_reason = REASON[reason]
        p.delay_setting = setting
        p.delay_start = self.kernel.now
        self.kernel.delayed_now += 1

    def end_delay(self, p: Patient) -> None:
        if p.delay_reason is None:
            return
        self.kernel.tally.delay(p.delay_reason, p.delay_setting, p.delay_start, self.kernel.now)
        p.delay_reason = None
        self.kernel.delayed_now -= 1

    def _granted_from_acute(self, p: Patient) -> None:
        if p.location != "acute":
            raise RuntimeError("a place was granted to a patient who is not in an acute bed")
        self.end_delay(p)
        self._discharge_when_ready(p)

    def _discharge_when_ready(self, p: Patient) -> None:
        """Leave at the discharge rhythm's time for this patient's own draw (the same in every world)."""
        now = self.kernel.now
        self.kernel.after(self.services.discharge_rhythm.departure(now, p.row[LEAVE_HAZARD]) - now,
                          self.leave_acute_handler, p)

    def _count_departure_time(self) -> None:
        now = self.kernel.now
        day = int(now)
        hour = (now - day) * 24
        self.counts[c.DISCHARGES_ON[self.calendar.weekdays[day]]] += 1
        if hour < NOON:
            self.counts[c.DISCHARGES_BEFORE_NOON] += 1
        if hour >= NIGHT_STARTS or hour < NIGHT_ENDS:
            self.counts[c.DISCHARGES_AT_NIGHT] += 1

    def _leave_acute(self, event: Call[Patient]) -> None:
        p = event.value
        model = self.model
        model.acute.release(p)
        destination = p.destination
        if destination is None:
            raise RuntimeError(f"patient {p.key} left an acute bed with nowhere to go")
        self.counts[c.ACUTE_TO[destination]] += 1
        self._count_departure_time()
        if destination == "care_home_return":
            resident = p.resident
            self.go_home(p)  # back in the care home, unless their residence ended while away
            if resident is not None and resident.location == "care_home":
                model.acute.maybe_readmit(p, resident)
            return
        if destination in ("home", "home_care", "reablement"):
            model.acute.maybe_readmit(p)
        if destination == "home":
            self.kernel.end(p, "home")
        elif destination == "home_care":
            model.community.start_home_care(p)
        elif destination == "reablement":
            model.community.start_reablement(p, from_hospital=True)
        elif destination == "step_down":
            self.counts[c.STEP_DOWN_ADMISSIONS] += 1
            model.community.intermediate_care(p, step_up=False)
        else:
            model.care_homes.become_resident(p)
