"""Community services: rapid response at home, intermediate-care beds (step up from the community,
step down from hospital), reablement and home-care packages."""

from __future__ import annotations

from caresim.engine import counters as c
from caresim.engine.kernel import Call
from caresim.engine.pathway import Pathway, choose, cumulative_of
from caresim.engine.patient import (
    AT_HOME_91,
    HOME_CARE_AFTER_REABLEMENT,
    INTERMEDIATE_CARE,
    INTERMEDIATE_CARE_STAY,
    RAPID_RESPONSE,
    RAPID_RESPONSE_EPISODE,
    REABLEMENT,
    Patient,
)
from caresim.engine.services import Pool
from caresim.engine.tally import NON_ACUTE
from caresim.scenario.fields import AGE_BANDS
from caresim.scenario.schemes import CareHomeAdmissionEffect, LengthOfStayEffect


class CommunityServices(Pathway):
    """Episodes that end at home, in another service, back in hospital or in death."""

    # ----------------------------------------------------------------- rapid response
    def start_rapid_response(self, p: Patient, then_admitted: bool) -> bool:
        """Start an episode if the service is open and has room; False if not."""
        services = self.services
        if (not self.calendar.is_open(services.rapid_response_hours, self.kernel.now)
                or not services.rapid_response.try_admit(p)):
            return False
        self.counts[c.RAPID_RESPONSE_EPISODES] += 1
        self.kernel.move(p, "rapid_response")
        p.receive("rapid_response")
        p.diverted_by = "admit" if then_admitted else "route"
        self.kernel.after(self.kernel.sample("rapid_response.episode", p.row[RAPID_RESPONSE_EPISODE]),
                          self._rapid_response_done, p)
        return True

    def _rapid_response_done(self, event: Call[Patient]) -> None:
        p = event.value
        services = self.services
        services.rapid_response.release(p)
        if p.diverted_by == "admit":
            self.model.acute.admit(p, "rapid_response")
            return
        outcome = choose(self.model.front_door.routing["rapid_response"], p.row[RAPID_RESPONSE])
        if outcome == "reablement":
            if services.reablement.try_admit(p):
                self.start_reablement(p, from_hospital=False)
            else:
                self.go_home(p)
        elif outcome == "step_up":
            if services.step_up.try_admit(p):
                self.intermediate_care(p, step_up=True)
            else:
                self.counts[c.STEP_UP_NO_ROOM] += 1
                self.model.acute.admit(p, "rapid_response")
        elif outcome == "admit":
            self.model.acute.admit(p, "rapid_response")
        else:
            self.go_home(p)

    # ----------------------------------------------------------------- home care and reablement
    def start_home_care(self, p: Patient) -> None:
        self.counts[c.HOME_CARE_PACKAGES] += 1
        self.kernel.end(p, "home")

    def start_reablement(self, p: Patient, from_hospital: bool) -> None:
        """A reablement episode in the place already granted."""
        self.counts[c.REABLEMENT_EPISODES] += 1
        self.kernel.move(p, "reablement")
        p.receive("reablement")
        p.reablement_from_hospital = from_hospital
        if from_hospital:
            p.waited = self.kernel.now - p.fit_at
        self.kernel.after(self.kernel.sample("reablement.duration", p.row[REABLEMENT]), self.reablement_done, p)

    def reablement_done(self, event: Call[Patient]) -> None:
        p = event.value
        self.services.reablement.release(p)
        reablement = self.scenario.services.reablement
        if p.reablement_from_hospital and p.band > 0:
            at_home = p.row[AT_HOME_91] < self.at_home_91_days_probability(p)
            self.counts[c.REHABILITATION_65PLUS_FOLLOWED] += 1
            self.counts[c.STILL_HOME_91D_65PLUS] += float(at_home)
        if p.row[HOME_CARE_AFTER_REABLEMENT] < reablement.needs_home_care_share:
            self.kernel.move(p, "waiting_home_care")
            self.services.home_care.request(p, self.start_home_care, at_home=True)
        else:
            self.go_home(p)

    def at_home_91_days_probability(self, p: Patient) -> float:
        """The chance that a patient discharged from hospital to reablement or rehabilitation is still at home
        91 days later: the band's probability at the reference wait, its odds moved by the odds ratio per
        week for each week waited from medically fit to the start of the service, beyond the reference."""
        reablement = self.scenario.services.reablement
        probability = reablement.at_home_91_days_probability[AGE_BANDS[p.band]]
        ratio = reablement.at_home_91_days_odds_ratio_per_week_waited
        if ratio == 1.0 or probability in (0.0, 1.0):
            return probability
        weeks = (p.waited - reablement.at_home_91_days_reference_wait_days) / 7
        odds = probability / (1 - probability) * ratio ** weeks
        return odds / (1 + odds)

    # ----------------------------------------------------------------- intermediate care
    def intermediate_care(self, p: Patient, step_up: bool) -> None:
        """A stay in the intermediate-care bed already taken (step up) or granted (step down)."""
        if step_up:
            self.counts[c.STEP_UP_ADMISSIONS] += 1
        self.kernel.move(p, "intermediate_care")
        p.destination = "step_up" if step_up else "step_down"
        p.receive(p.destination)
        if not step_up:
            p.waited = self.kernel.now - p.fit_at
        stay = self.kernel.sample("intermediate_care_beds.length_of_stay", p.row[INTERMEDIATE_CARE_STAY])
        stay = self.effects.scaled(LengthOfStayEffect, p, self.kernel.now, stay, "intermediate_care_beds")
        self.kernel.after(stay, self.intermediate_care_done, p)

    def _bed_of(self, p: Patient) -> Pool:
        return self.services.step_up if p.destination == "step_up" else self.services.step_down

    def intermediate_care_done(self, event: Call[Patient]) -> None:
        p = event.value
        base = self.scenario.routing.intermediate_care
        shares = dict(base)
        multiplier = self.effects.multiplier(CareHomeAdmissionEffect, p, self.kernel.now)
        moved = shares.get("care_home", 0.0) * (1 - multiplier)
        if moved:
            shares["care_home"] -= moved
            shares["home"] = shares.get("home", 0.0) + moved
        outcome = choose(cumulative_of(shares), p.row[INTERMEDIATE_CARE])
        if moved:
            self.effects.chose(CareHomeAdmissionEffect, p, self.kernel.now,
                               choose(cumulative_of(base), p.row[INTERMEDIATE_CARE]) == "care_home",
                               outcome == "care_home")
        from_hospital = p.destination == "step_down"
        if from_hospital and p.band > 0:
            self.counts[c.REHABILITATION_65PLUS_FOLLOWED] += 1
            at_home = outcome in ("home", "reablement") and p.row[AT_HOME_91] < self.at_home_91_days_probability(p)
            self.counts[c.STILL_HOME_91D_65PLUS] += float(at_home)
        bed = self._bed_of(p)
        if outcome == "death":
            bed.release(p)
            self.counts[c.DEATHS_INTERMEDIATE_CARE] += 1
            if p.resident is not None:
                self.model.care_homes.leaves(p.resident, died_in_hospital=True)
            self.kernel.end(p, "death")
        elif outcome == "readmit":
            bed.release(p)
            again = self.model.acute.next_episode(p, "waiting_acute")
            self.kernel.end(p, "readmitted")
            self.model.acute.admission_decision(again, "intermediate_care")
        elif outcome in ("reablement", "care_home") and p.resident is None:
            p.destination = "reablement" if outcome == "reablement" else "care_home"
            p.slot = bed
            self.model.discharge.request_downstream(p, NON_ACUTE)
        else:
            bed.release(p)
            self.go_home(p)

    def granted_from_intermediate_care(self, p: Patient) -> None:
        """The next service has a place: free the intermediate-care bed held meanwhile, and move on."""
        bed = p.slot
        if bed is None:
            raise RuntimeError(f"patient {p.key} was granted a place without holding an intermediate-care bed")
        self.model.discharge.end_delay(p)
        bed.release(p)
        if p.destination == "reablement":
            self.start_reablement(p, from_hospital=False)
        elif p.destination == "care_home":
            self.model.care_homes.become_resident(p)
        else:
            self.go_home(p)
