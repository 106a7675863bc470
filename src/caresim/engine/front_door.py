"""The front door: a crisis's first contact (GP, NHS 111 / out of hours, ambulance, A&E, minor injury
unit) and where each sends the patient next."""

from __future__ import annotations

from typing import TYPE_CHECKING

from caresim.engine import counters as c
from caresim.engine.pathway import Pathway, choose, cumulative_of
from caresim.engine.patient import AMBULANCE, CONTACT, GP, MINOR_INJURY, OUT_OF_HOURS, Patient

if TYPE_CHECKING:
    from caresim.engine.model import Model


class FrontDoor(Pathway):
    """First contact by residence and time of day, then each service's routing table."""

    def __init__(self, model: Model) -> None:
        super().__init__(model)
        s = self.scenario
        self.routing = {name: cumulative_of(shares) for name, shares in s.routing.model_dump().items()}
        fc = s.first_contact
        self.contact = [cumulative_of(shares.model_dump()) for shares in  # by 2 × residence + in hours
                        (fc.home_out_of_hours, fc.home_in_hours, fc.care_home_out_of_hours, fc.care_home_in_hours)]

    def first_contact(self, p: Patient) -> None:
        in_hours = self.calendar.is_open(self.services.practice_hours, self.kernel.now)
        contact = choose(self.contact[2 * p.residence + in_hours], p.row[CONTACT])
        if contact == "gp":
            self._gp(p)
        elif contact == "out_of_hours":
            self._out_of_hours(p)
        elif contact == "ambulance":
            self._ambulance(p)
        elif contact == "ae":
            self._self_present(p)
        else:
            self._minor_injury(p)

    def _gp(self, p: Patient) -> None:
        if not self.services.appointments.take():
            self.counts[c.GP_NO_APPOINTMENT] += 1
            self._out_of_hours(p)
            return
        self.counts[c.GP_URGENT_CONTACTS] += 1
        self._route(p, choose(self.routing["gp"], p.row[GP]), "gp")

    def _out_of_hours(self, p: Patient) -> None:
        self.counts[c.OUT_OF_HOURS_CONTACTS] += 1
        self._route(p, choose(self.routing["out_of_hours"], p.row[OUT_OF_HOURS]), "out_of_hours")

    def _ambulance(self, p: Patient) -> None:
        self.counts[c.AMBULANCE_INCIDENTS] += 1
        table = "ambulance_care_home" if p.residence else "ambulance"
        outcome = choose(self.routing[table], p.row[AMBULANCE])
        if outcome == "ae":
            if self.model.diversions.diverted("ambulance_conveyance", p):
                return
            self.counts[c.AMBULANCE_CONVEYANCES] += 1
            self.model.ae.attend(p, conveyed=True)
        else:
            self._route(p, outcome, "ambulance")

    def _minor_injury(self, p: Patient) -> None:
        self.counts[c.MINOR_INJURY_ATTENDANCES] += 1
        self._route(p, choose(self.routing["minor_injury"], p.row[MINOR_INJURY]), "minor_injury")

    def _self_present(self, p: Patient) -> None:
        ae = self.model.ae
        if p.gp_manageable and not ae.will_be_admitted(p) and self.model.diversions.diverted("self_presentation", p):
            return
        ae.attend(p)

    def _route(self, p: Patient, outcome: str, via: str) -> None:
        self.counts[c.ROUTED[via][outcome]] += 1
        if outcome == "home":
            self.go_home(p)
        elif outcome == "rapid_response":
            if not self.model.community.start_rapid_response(p, then_admitted=False):
                self.counts[c.RAPID_RESPONSE_NO_ROOM] += 1
                self.model.ae.attend(p)
        elif outcome == "ambulance":
            self._ambulance(p)
        elif outcome == "ae":
            self.model.ae.attend(p)
        else:
            self.model.acute.admission_decision(p, via)
