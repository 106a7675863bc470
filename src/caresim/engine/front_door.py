"""The front door: a crisis's first contact (GP, NHS 111 / out of hours, ambulance, A&E, minor injury
unit) and where each sends the patient next.

First contact is decided from the crisis's own row of draws before any ``Patient`` is made
(``FrontDoor.first_contact``), so that a crisis which ends there, at home, needs none; ``FrontDoor.send``
takes the patient of any other crisis on to where first contact sent them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from caresim.engine import counters as c
from caresim.engine.demand import Row
from caresim.engine.pathway import Pathway, choose, cumulative_of
from caresim.engine.patient import AMBULANCE, CONTACT, GP, MINOR_INJURY, OUT_OF_HOURS, Patient

if TYPE_CHECKING:
    from caresim.engine.model import Model

# Where first contact sends a crisis besides the routing tables' outcomes: an ambulance conveys them to A&E
# (diversions permitting), or they present at A&E themselves.
CONVEYED: Final = "conveyed"
SELF_PRESENTS: Final = "self_presents"


class FrontDoor(Pathway):
    """First contact by residence and time of day, then each service's routing table."""

    def __init__(self, model: Model) -> None:
        super().__init__(model)
        s = self.scenario
        self.routing = {name: cumulative_of(shares) for name, shares in s.routing.model_dump().items()}
        fc = s.first_contact
        self.contact = [cumulative_of(shares.model_dump()) for shares in  # by 2 × residence + in hours
                        (fc.home_out_of_hours, fc.home_in_hours, fc.care_home_out_of_hours, fc.care_home_in_hours)]

    def first_contact(self, residence: int, row: Row) -> tuple[str, str]:
        """Where first contact sends a crisis, from its row of draws, counting each contact and routing on the
        way: (the service that sent it, where). "home" ends the crisis there."""
        in_hours = self.calendar.is_open(self.services.practice_hours, self.kernel.now)
        contact = choose(self.contact[2 * residence + in_hours], row[CONTACT])
        if contact == "gp":
            if self.services.appointments.take():
                self.counts[c.GP_URGENT_CONTACTS] += 1
                return self._routed(residence, row, "gp", choose(self.routing["gp"], row[GP]))
            self.counts[c.GP_NO_APPOINTMENT] += 1
            contact = "out_of_hours"
        if contact == "out_of_hours":
            self.counts[c.OUT_OF_HOURS_CONTACTS] += 1
            outcome = choose(self.routing["out_of_hours"], row[OUT_OF_HOURS])
            return self._routed(residence, row, "out_of_hours", outcome)
        if contact == "ambulance":
            return self._ambulance(residence, row)
        if contact == "ae":
            return "ae", SELF_PRESENTS
        self.counts[c.MINOR_INJURY_ATTENDANCES] += 1
        outcome = choose(self.routing["minor_injury"], row[MINOR_INJURY])
        return self._routed(residence, row, "minor_injury", outcome)

    def _ambulance(self, residence: int, row: Row) -> tuple[str, str]:
        self.counts[c.AMBULANCE_INCIDENTS] += 1
        outcome = choose(self.routing["ambulance_care_home" if residence else "ambulance"], row[AMBULANCE])
        if outcome == "ae":
            return "ambulance", CONVEYED
        return self._routed(residence, row, "ambulance", outcome)

    def _routed(self, residence: int, row: Row, via: str, outcome: str) -> tuple[str, str]:
        self.counts[c.ROUTED[via][outcome]] += 1
        if outcome == "ambulance":
            return self._ambulance(residence, row)
        return via, outcome

    def send(self, p: Patient, via: str, outcome: str) -> None:
        """Take the patient on to where first contact sent them (``via``, ``outcome`` from ``first_contact``)."""
        if outcome == "home":
            self.go_home(p)
        elif outcome == CONVEYED:
            if not self.model.diversions.diverted("ambulance_conveyance", p):
                self.counts[c.AMBULANCE_CONVEYANCES] += 1
                self.model.ae.attend(p, conveyed=True)
        elif outcome == SELF_PRESENTS:
            ae = self.model.ae
            if not (p.gp_manageable and not ae.will_be_admitted(p)
                    and self.model.diversions.diverted("self_presentation", p)):
                ae.attend(p)
        elif outcome == "rapid_response":
            if not self.model.community.start_rapid_response(p, then_admitted=False):
                self.counts[c.RAPID_RESPONSE_NO_ROOM] += 1
                self.model.ae.attend(p)
        elif outcome == "ae":
            self.model.ae.attend(p)
        else:
            self.model.acute.admission_decision(p, via)
