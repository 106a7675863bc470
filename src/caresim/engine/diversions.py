"""Scheme decision points: a diversion takes a patient from A&E or admission to another service.

The scheme is chosen by effects.WorldEffects.divert; a target service with no room (or closed) is a
failed diversion, counted, and the patient carries on as if there were no scheme.
"""

from __future__ import annotations

from collections.abc import Callable

from caresim.engine import counters as c
from caresim.engine.pathway import Pathway
from caresim.engine.patient import ACUTE_STAY, DIVERT, THEN_ADMITTED, Patient


class Diversions(Pathway):
    """The decision points ``self_presentation``, ``ambulance_conveyance`` and ``admission``."""

    def diverted(self, point: str, p: Patient, leaving: Callable[[Patient], None] | None = None) -> bool:
        """Apply a scheme's diversion at this decision point; a full target service is a failed diversion.

        ``leaving`` runs once the diversion is sure, before the patient moves on (e.g. freeing an A&E cubicle).
        """
        active = self.effects.divert(point, p, self.kernel.now, p.row[DIVERT])
        if active is None:
            return False
        target = active.effect.to
        then_admitted = p.row[THEN_ADMITTED] < active.then_admitted
        now = self.kernel.now
        services = self.services
        if target == "rapid_response":
            ok = self.calendar.is_open(services.rapid_response_hours, now) and services.rapid_response.has_room()
        elif target == "intermediate_care_beds":
            ok = services.step_up.has_room()
        elif target == "gp":
            ok = self.calendar.is_open(services.gp_hours, now) and services.appointments.take()
        else:
            ok = True
        if ok and leaving is not None:
            leaving(p)
        if target == "rapid_response" and ok:
            self.model.community.start_rapid_response(p, then_admitted)
        elif target == "intermediate_care_beds" and ok:
            services.step_up.try_admit(p)
            self.model.community.intermediate_care(p, step_up=True)
        elif target == "gp" and ok:
            self.counts[c.GP_URGENT_CONTACTS] += 1
        if not ok:
            self.counts[c.FAILED_DIVERSIONS] += 1
            self.counts[c.FAILED_DIVERSIONS_AT[point]] += 1
            return False
        self.counts[c.DIVERSIONS] += 1
        self.effects.realised.add(active.key, 0.0, 0.0, 1.0)
        if point == "admission":
            p.receive("admission_avoided")
        self.counts[c.DIVERSIONS_AT[point]] += 1
        self.counts[c.DIVERTED_OWN_STAY_DAYS] += p.row[ACUTE_STAY]
        if then_admitted and target != "intermediate_care_beds":
            self.counts[c.DIVERTED_THEN_ADMITTED] += 1
        if target in ("gp", "home"):
            if then_admitted:
                self.model.acute.admit(p, "gp")
            else:
                self.go_home(p)
        return True
