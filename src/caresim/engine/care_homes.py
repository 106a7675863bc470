"""Care homes: permanent residents (from hospital, intermediate care or the community), their crises
while away, and the end of a residence (death, in the home or in hospital)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from caresim.engine import counters as c
from caresim.engine.home_referrals import COMMUNITY_PLACEMENT, referrals
from caresim.engine.kernel import Call
from caresim.engine.pathway import Pathway
from caresim.engine.patient import CARE_HOME_TYPE, COUNCIL_FUNDED, KEEP, RESIDENCE_YEARS, Patient
from caresim.scenario.schemes import CareHomeAdmissionEffect

if TYPE_CHECKING:
    from caresim.engine.model import Model


class CareHomes(Pathway):
    """Residents hold a residential or nursing bed from arrival to death; an episode away keeps it."""

    def __init__(self, model: Model) -> None:
        super().__init__(model)
        self.residents: list[Patient] = []

    def pick_resident(self, u: float) -> Patient | None:
        """The resident in bed ``u`` × beds, if that bed is occupied and its resident is at home."""
        beds = self.services.residential.capacity + self.services.nursing.capacity
        index = int(u * beds) if math.isfinite(beds) else int(u * len(self.residents))
        if index >= len(self.residents):
            return None
        resident = self.residents[index]
        return None if resident.away else resident

    def become_resident(self, p: Patient) -> None:
        """A new permanent care-home resident; their bed was taken when the place was granted."""
        homes = self.scenario.services.care_homes
        self.episode_over(p)
        self.counts[c.CARE_HOME_ADMISSIONS] += 1
        if p.band > 0:
            self.counts[c.CARE_HOME_ADMISSIONS_65PLUS] += 1
            if p.row[COUNCIL_FUNDED] < homes.council_funded_share:
                self.counts[c.CARE_HOME_ADMISSIONS_65PLUS_COUNCIL_FUNDED] += 1
        self.settle(p)

    def settle(self, p: Patient) -> None:
        """Live in the home until the residence drawn for them ends."""
        homes = self.scenario.services.care_homes
        p.home_kind = home_kind = p.home_kind or (
            "nursing" if p.row[CARE_HOME_TYPE] < homes.nursing_share_of_admissions else "residential")
        p.residence = 1
        p.receive("supported_care_home")
        p.resident = None
        p.away = False
        self.kernel.move(p, "care_home")
        p.resident_index = len(self.residents)
        self.residents.append(p)
        years = p.row[RESIDENCE_YEARS] * homes.mean_residence_years[home_kind]
        self.kernel.after(years * 365.25, self._residence_ends, p)

    def _residence_ends(self, event: Call[Patient]) -> None:
        resident = event.value
        if resident.location != "care_home":
            return
        if resident.away:
            resident.exit_due = True
        else:
            self.leaves(resident, died_in_hospital=False)

    def episode_over(self, episode: Patient) -> None:
        """A resident's episode away ends: they are back in their home (or their residence ends now)."""
        resident = episode.resident
        if resident is None:
            return
        episode.resident = None
        resident.away = False
        if resident.exit_due:
            self.leaves(resident, died_in_hospital=False)

    def leaves(self, resident: Patient, died_in_hospital: bool) -> None:
        """The residence ends in death; the bed frees (a death in hospital is counted there)."""
        last = self.residents.pop()
        if last is not resident:
            self.residents[resident.resident_index] = last
            last.resident_index = resident.resident_index
        self.services.care_home(resident.home_kind).release(resident)
        self.counts[c.CARE_HOME_RESIDENT_DEATHS_IN_HOSPITAL if died_in_hospital else c.DEATHS_CARE_HOME] += 1
        self.kernel.end(resident, "death")

    def start_community_placements(self) -> None:
        """Schedule the year's placements of people from their own homes, as a Poisson process."""
        homes = self.scenario.services.care_homes
        if not homes.enabled or homes.community_admissions_per_year <= 0:
            return
        for time, p in referrals(self.scenario, "care_home_community_admissions", self.model.replication,
                                 homes.community_admissions_per_year, self.calendar.end, homes.resident_age_shares,
                                 COMMUNITY_PLACEMENT):
            self.kernel.after(time, self._community_placement, p)

    def _community_placement(self, event: Call[Patient]) -> None:
        """A placement from the person's own home; with no bed free they wait at home, behind anyone waiting in
        a hospital or intermediate-care bed."""
        p = event.value
        if not self.effects.happens(CareHomeAdmissionEffect, p, self.kernel.now, p.row[KEEP], 1.0):
            return
        homes = self.scenario.services.care_homes
        p.home_kind = "nursing" if p.row[CARE_HOME_TYPE] < homes.nursing_share_of_admissions else "residential"
        self.kernel.enter(p, "community")
        self.services.care_home(p.home_kind).request(p, self.become_resident, at_home=True)
