"""The services of one world: bed pools and caseloads, package and assessment starts, appointments, opening
hours and the discharge rhythm, built from the scenario and updated each morning by the schemes' effects."""

from __future__ import annotations

import math
from collections.abc import Sequence

from caresim.engine.calendar import Clock, Opening
from caresim.engine.discharge_rhythm import DischargeRhythm
from caresim.engine.effects import WorldEffects
from caresim.engine.services import Appointments, Pool, Starts
from caresim.scenario.fields import capacity_value
from caresim.scenario.schema import Scenario

INTERMEDIATE_CARE_SPLIT = ("step_down_beds", "step_up_beds")


class Services:
    """Every finite service a patient can wait for, by role, and ``pools`` by record name."""

    def __init__(self, scenario: Scenario, clock: Clock, first_weekday: int) -> None:
        self.scenario = scenario
        self.first_weekday = first_weekday  # the weekday of simulation day 0
        s, limit = scenario.services, scenario.run.max_queue
        cap = capacity_value

        def pool(name: str, capacity: float, enabled: bool = True) -> Pool:
            return Pool(clock, name, capacity if enabled else 0.0, limit)

        ic = s.intermediate_care_beds
        self.ae = pool("ae_cubicles", cap(s.ae.cubicles), s.ae.enabled)
        self.acute = pool("acute_beds", cap(s.acute_beds.capacity))
        self.rapid_response = pool("rapid_response", cap(s.rapid_response.capacity), s.rapid_response.enabled)
        ic_pools: dict[str, Pool]
        if ic.step_down_share is None:
            self.step_down = self.step_up = pool("intermediate_care_beds", cap(ic.capacity), ic.enabled)
            ic_pools = {"intermediate_care_beds": self.step_down}
        else:
            down = round(cap(ic.capacity) * ic.step_down_share) if math.isfinite(cap(ic.capacity)) else math.inf
            self.step_down = pool("step_down_beds", down, ic.enabled)
            self.step_up = pool("step_up_beds", cap(ic.capacity) - down if math.isfinite(down) else math.inf,
                                ic.enabled)
            ic_pools = {"step_down_beds": self.step_down, "step_up_beds": self.step_up}
        self.reablement = pool("reablement", cap(s.reablement.capacity), s.reablement.enabled)
        homes = s.care_homes
        self.residential = pool("residential_care", cap(homes.residential_beds), homes.enabled)
        self.nursing = pool("nursing_care", cap(homes.nursing_beds), homes.enabled)
        self.home_care = Starts.weekly(clock, "home care packages",
                                       cap(s.home_care.new_packages_per_week) if s.home_care.enabled else 0.0, limit)
        d = scenario.discharge
        self.assessments = Starts(clock, "discharge assessments", cap(d.assessments_per_weekday),
                                  cap(d.assessments_per_weekend_day), 1, limit)
        gp = s.gp
        self.appointments = Appointments(cap(gp.appointments_per_weekday) if gp.enabled else 0.0,
                                         cap(gp.appointments_per_weekend_day) if gp.enabled else 0.0,
                                         gp.background_share_of_appointments)
        self.pools: dict[str, Pool] = {"ae_cubicles": self.ae, "acute_beds": self.acute,
                                       "rapid_response": self.rapid_response, **ic_pools,
                                       "reablement": self.reablement, "residential_care": self.residential,
                                       "nursing_care": self.nursing}
        self.waits = {**{name: p.waits for name, p in self.pools.items()},  # every service patients queue for
                      "home_care": self.home_care.waits}
        self.base_capacity = {name: p.capacity for name, p in self.pools.items()}
        self.base_appointments = (self.appointments.per_weekday, self.appointments.per_weekend_day)
        self.base_packages = cap(s.home_care.new_packages_per_week) if s.home_care.enabled else 0.0
        self.practice_hours = Opening(s.gp.hours)  # core hours decide first contact; extended hours serve referrals
        self.gp_hours = Opening(s.gp.hours)
        self.rapid_response_hours = Opening(s.rapid_response.hours)
        self.discharge_profile = (d.profile.hourly, d.profile.weekday)
        self.discharge_rhythm = self._rhythm(self.discharge_profile)

    def care_home(self, kind: str | None) -> Pool:
        return self.nursing if kind == "nursing" else self.residential

    def set_day(self, effects: WorldEffects, now: float, weekend: bool) -> None:
        """Today's opening hours, appointments and package starts, with any started scheme's additions."""
        gp_added = effects.capacity_added("gp", now)
        services = self.scenario.services
        self.gp_hours = Opening(effects.hours("gp", services.gp.hours, now))
        self.rapid_response_hours = Opening(effects.hours("rapid_response", services.rapid_response.hours, now))
        profile = self.scenario.discharge.profile
        discharge_profile = effects.discharge_profile(profile.hourly, profile.weekday, now)
        if discharge_profile != self.discharge_profile:
            self.discharge_profile = discharge_profile
            self.discharge_rhythm = self._rhythm(discharge_profile)
        self.appointments.per_weekday = self.base_appointments[0] + gp_added
        self.appointments.per_weekend_day = self.base_appointments[1] + (gp_added if self.gp_hours.weekends else 0)
        self.appointments.new_day(weekend)
        self.home_care.set_weekly(self.base_packages + effects.capacity_added("home_care", now))
        self.home_care.new_day(weekend)
        self.assessments.new_day(weekend)

    def _rhythm(self, profile: tuple[Sequence[float], Sequence[float]]) -> DischargeRhythm:
        hazard = self.scenario.discharge.hazard_per_hour
        return DischargeRhythm(*profile, math.inf if hazard == "unlimited" else hazard, self.first_weekday)

    def capacity_added(self, effects: WorldEffects, pool: str, now: float) -> int:
        """Scheme beds or places for one pool today; added intermediate-care beds split like the base ones."""
        if pool not in INTERMEDIATE_CARE_SPLIT:
            return effects.capacity_added(pool, now)
        added = effects.capacity_added("intermediate_care_beds", now)
        share = self.scenario.services.intermediate_care_beds.step_down_share
        step_down = round(added * (share or 0.0))
        return step_down if pool == "step_down_beds" else added - step_down
