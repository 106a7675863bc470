"""The connected network for one world and one replication.

Crisis → first contact (GP, out of hours, ambulance, A&E, minor injury unit) → rapid response or
A&E → acute bed → discharge pathway (home, reablement, home care, step-down bed, care home) with
delays as blocking after service → readmission; care homes with residents who have crises and die.
Each step is a callback on a simpy environment (no generator processes: see docs/performance.md).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from heapq import heappush

import numpy as np
import simpy
from simpy.events import NORMAL, URGENT

from caresim.engine.calendar import Calendar
from caresim.engine.demand import (
    COLUMN,
    Candidates,
    care_home_candidates,
    community_candidates,
    community_segments,
    draw_rows,
)
from caresim.engine.effects import Target, WorldEffects
from caresim.engine.services import Appointments, Pool, RunawayError, Starts, UnstableSystemError
from caresim.engine.streams import stream
from caresim.engine.tally import ReplicationRecord, ServiceRecord, Tally
from caresim.scenario.schema import (
    AGE_BANDS,
    DELAY_REASONS,
    AssessmentDelayEffect,
    CareHomeAdmissionEffect,
    LengthOfStayEffect,
    ReadmissionEffect,
    Scenario,
    capacity_value,
)

(KEEP, CONTACT, GP, OUT_OF_HOURS, AMBULANCE, MINOR_INJURY, AE_ADMIT, RAPID_RESPONSE, DIVERT, THEN_ADMITTED,
 PATHWAY, P1_ROUTE, ASSESSMENT, PATIENT_CHOICE, READMIT, INTERMEDIATE_CARE, HOME_CARE_AFTER_REABLEMENT,
 AT_HOME_91, CARE_HOME_TYPE, COUNCIL_FUNDED, ENROLLED, RESIDENT, ACUTE_STAY, AE_DISCHARGED, AE_ADMITTED,
 RAPID_RESPONSE_EPISODE, INTERMEDIATE_CARE_STAY, REABLEMENT, ASSESSMENT_TIME, PATIENT_CHOICE_TIME,
 READMIT_TIME, RESIDENCE_YEARS) = range(len(COLUMN))
FOUR_HOURS = 4 / 24
REASON = {name: i for i, name in enumerate(DELAY_REASONS)}
ACUTE, NON_ACUTE = 0, 1
BAND_SUFFIX = ("18_64", "65_74", "75_84", "85plus")


class Call:
    """A callback scheduled on simpy's event queue: what ``Environment.step`` needs of an event
    (``callbacks``, ``_ok``) and the patient as ``value``, without the cost of a ``Timeout``."""

    __slots__ = ("callbacks", "value")
    _ok = True

    def __init__(self, handler: Callable[[Call], None], value: Patient | None) -> None:
        self.callbacks = (handler,)
        self.value = value


class Patient:
    """One person's episode of care; ``row`` holds every draw they will need, fixed on arrival."""

    __slots__ = ("key", "row", "band", "residence", "tier", "locality", "crisis_type", "avoidable",
                 "gp_manageable", "depth", "location", "via", "ae_arrival", "admitted_ae", "pathway",
                 "destination", "delay_reason", "delay_setting", "delay_start", "resident", "home_kind",
                 "council_funded", "away", "exit_due", "slot", "resident_index", "diverted_by",
                 "reablement_from_hospital", "readmission")

    def __init__(self, key: tuple[int, ...], row: list[float], band: int, residence: int, tier: int,
                 locality: int, crisis_type: int, avoidable: bool, gp_manageable: bool, depth: int = 0) -> None:
        self.key = key
        self.row = row
        self.band = band
        self.residence = residence
        self.tier = tier
        self.locality = locality
        self.crisis_type = crisis_type
        self.avoidable = avoidable
        self.gp_manageable = gp_manageable
        self.depth = depth
        self.location = "new"
        self.via = self.pathway = self.destination = self.home_kind = self.delay_reason = None
        self.slot: Pool | None = None
        self.resident: Patient | None = None
        self.away = False
        self.exit_due = False
        self.diverted_by = None
        self.reablement_from_hospital = False
        self.readmission = False


def choose(cumulative: tuple[tuple[float, str], ...], u: float) -> str:
    for bound, name in cumulative:
        if u < bound:
            return name
    return cumulative[-1][1]


def cumulative_of(shares: dict[str, float]) -> tuple[tuple[float, str], ...]:
    total, out = 0.0, []
    for name, share in shares.items():
        if share > 0:
            total += share
            out.append((total, name))
    return tuple(out) or ((1.0, "home"),)


class Model:
    """One world (a set of active schemes) in one replication."""

    def __init__(self, scenario: Scenario, world: str, scheme_names: tuple[str, ...], replication: int,
                 candidates: tuple[Candidates, Candidates] | None = None,
                 fixed_sizes: dict[tuple[str, int], float] | None = None) -> None:
        self.scenario = s = scenario
        self.world = world
        self.replication = replication
        self.env = simpy.Environment()
        run = s.run
        self.calendar = Calendar(run.start, run.warm_up_days, run.days)
        self.window = float(run.warm_up_days)
        self.effects = WorldEffects(s, scheme_names, replication, self.calendar, fixed_sizes)
        self.candidates = candidates or (community_candidates(s, self.calendar, replication),
                                         care_home_candidates(s, self.calendar, replication))
        self.tally = Tally(self.window, self.calendar.month)
        self.counts = self.tally.counts
        self.events = 0
        self.live: dict[int, Patient] = {}
        self.created = 0
        self.ended = Counter()
        self._build_services()
        self._routing = {name: cumulative_of(shares) for name, shares in s.routing.model_dump().items()}
        fc = s.first_contact
        self._contact = {(0, True): cumulative_of(fc.home_in_hours.model_dump()),
                         (0, False): cumulative_of(fc.home_out_of_hours.model_dump()),
                         (1, True): cumulative_of(fc.care_home_in_hours.model_dump()),
                         (1, False): cumulative_of(fc.care_home_out_of_hours.model_dump())}
        self.practice_hours = self.gp_hours = s.services.gp.hours
        self.rapid_response_hours = s.services.rapid_response.hours
        self.discharge_hours = s.discharge.hours
        self.residents: list[Patient] = []
        n_days = int(self.calendar.end) + 1
        self.daily = {name: np.zeros(n_days) for name in self.pools}
        self.daily["delayed_patients"] = np.zeros(n_days)
        self.daily_capacity = {name: np.zeros(n_days) for name in self.pools}
        self.delayed_now = 0
        self.peak_over: dict[str, float] = Counter()

    # ----------------------------------------------------------------- set-up
    def _build_services(self) -> None:
        s, env, limit = self.scenario.services, self.env, self.scenario.run.max_queue
        cap = capacity_value

        def pool(name: str, capacity: float, enabled: bool = True) -> Pool:
            return Pool(env, name, capacity if enabled else 0.0, limit)

        ic = s.intermediate_care_beds
        self.base_capacity: dict[str, float] = {}
        self.ae = pool("ae_cubicles", cap(s.ae.cubicles), s.ae.enabled)
        self.acute = pool("acute_beds", cap(s.acute_beds.capacity))
        self.rapid_response = pool("rapid_response", cap(s.rapid_response.capacity), s.rapid_response.enabled)
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
        self.home_care = Starts("home care packages",
                                cap(s.home_care.new_packages_per_week) if s.home_care.enabled else 0.0, limit)
        gp = s.gp
        self.appointments = Appointments(cap(gp.appointments_per_weekday) if gp.enabled else 0.0,
                                         cap(gp.appointments_per_weekend_day) if gp.enabled else 0.0,
                                         gp.background_share_of_appointments)
        self.pools: dict[str, Pool] = {"ae_cubicles": self.ae, "acute_beds": self.acute,
                                       "rapid_response": self.rapid_response, **ic_pools,
                                       "reablement": self.reablement, "residential_care": self.residential,
                                       "nursing_care": self.nursing}
        self.base_capacity = {name: p.capacity for name, p in self.pools.items()}
        self.base_appointments = (self.appointments.per_weekday, self.appointments.per_weekend_day)
        self.base_packages = self.home_care.per_week

    # ----------------------------------------------------------------- engine helpers
    def after(self, delay: float, handler: Callable[[Call], None], patient: Patient | None,
              priority: int = NORMAL) -> None:
        """Call ``handler`` in ``delay`` days, queued as simpy queues a ``Timeout``: (time, priority, id)."""
        if delay < 0:
            raise ValueError(f"negative delay {delay}")
        self.events += 1
        env = self.env
        heappush(env._queue, (env._now + delay, priority, next(env._eid), Call(handler, patient)))

    def move(self, patient: Patient, location: str) -> None:
        self.counts[f"moved_{patient.location}_to_{location}"] += 1
        patient.location = location

    def enter(self, patient: Patient, location: str) -> None:
        self.created += 1
        self.live[id(patient)] = patient
        patient.location = location

    def end(self, patient: Patient, how: str) -> None:
        if self.live.pop(id(patient), None) is None:
            raise RuntimeError(f"patient {patient.key} left the model twice")
        self.counts[f"ended_{patient.location}_{how}"] += 1
        patient.location = "left"
        self.ended[how] += 1

    def sample(self, name: str, value: float) -> float:
        self.tally.sample(name, value)
        return value

    # ----------------------------------------------------------------- demand
    def _eligible_people(self, target: Target) -> float:
        localities, bands, tiers, rates = community_segments(self.scenario)
        s = self.scenario
        people = 0.0
        for li, b, ti, rate in zip(localities, bands, tiers, rates, strict=True):
            per_person = s.demand.crisis_rate_per_person_year[AGE_BANDS[b]] / 365.25
            if per_person <= 0:
                continue
            if ((target.bands is None or b in target.bands) and (target.tiers is None or ti in target.tiers)
                    and (target.localities is None or li in target.localities)):
                relative = s.population.risk_tiers[ti].relative_rate or 1.0
                norm = sum(t.share * t.relative_rate for t in s.population.risk_tiers) or 1.0
                people += rate / per_person / relative * norm
        return people

    def _kept(self, candidates: Candidates, residence: int) -> np.ndarray:
        multiplier = self.effects.prevention_multiplier(candidates, residence, self._eligible_people)
        return np.nonzero(candidates.rows[:, KEEP] < candidates.accept * multiplier)[0]

    def _start_arrivals(self, candidates: Candidates, residence: int) -> None:
        kept = self._kept(candidates, residence)
        times = candidates.time[kept].tolist()
        indices = kept.tolist()
        attributes = list(zip(candidates.band[kept].tolist(), candidates.tier[kept].tolist(),
                              candidates.locality[kept].tolist(), candidates.crisis_type[kept].tolist(),
                              candidates.avoidable[kept].tolist(), candidates.gp_manageable[kept].tolist(),
                              strict=True))
        rows = candidates.rows
        position = [0]

        def arrive(_event: Call) -> None:
            k = position[0]
            self._crisis(indices[k], rows[indices[k]].tolist(), attributes[k], residence)
            position[0] += 1
            if position[0] < len(indices):
                self.after(times[position[0]] - self.env._now, arrive, None)

        if indices:
            self.after(times[0], arrive, None)

    def _crisis(self, i: int, row: list[float], attributes: tuple, residence: int) -> None:
        if residence:
            resident = self._pick_resident(row[RESIDENT])
            if resident is None:
                return
        band, tier, locality, crisis_type, avoidable, gp_manageable = attributes
        patient = Patient((residence, i), row, band, residence, tier, locality, crisis_type, avoidable, gp_manageable)
        if residence:
            patient.resident = resident
            resident.away = True
        self.enter(patient, "crisis")
        self.counts["crises"] += 1
        self._first_contact(patient)

    def _pick_resident(self, u: float) -> Patient | None:
        beds = self.residential.capacity + self.nursing.capacity
        index = int(u * beds) if math.isfinite(beds) else int(u * len(self.residents))
        if index >= len(self.residents):
            return None
        resident = self.residents[index]
        return None if resident.away else resident

    # ----------------------------------------------------------------- first contact
    def _first_contact(self, p: Patient) -> None:
        now = self.env._now
        in_hours = self.calendar.is_open(self.practice_hours, now)  # core hours: extended hours serve referrals
        contact = choose(self._contact[(p.residence, in_hours)], p.row[CONTACT])
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
        if not self.appointments.take():
            self.counts["gp_no_appointment"] += 1
            self._out_of_hours(p)
            return
        self.counts["gp_urgent_contacts"] += 1
        self._route(p, choose(self._routing["gp"], p.row[GP]), "gp")

    def _out_of_hours(self, p: Patient) -> None:
        self.counts["out_of_hours_contacts"] += 1
        self._route(p, choose(self._routing["out_of_hours"], p.row[OUT_OF_HOURS]), "out_of_hours")

    def _ambulance(self, p: Patient) -> None:
        self.counts["ambulance_incidents"] += 1
        table = "ambulance_care_home" if p.residence else "ambulance"
        outcome = choose(self._routing[table], p.row[AMBULANCE])
        if outcome == "ae":
            if self._diverted("ambulance_conveyance", p):
                return
            self.counts["ambulance_conveyances"] += 1
            self._attend_ae(p, conveyed=True)
        else:
            self._route(p, outcome, "ambulance")

    def _minor_injury(self, p: Patient) -> None:
        self.counts["minor_injury_attendances"] += 1
        self._route(p, choose(self._routing["minor_injury"], p.row[MINOR_INJURY]), "minor_injury")

    def _self_present(self, p: Patient) -> None:
        if p.gp_manageable and not self._admitted_from_ae(p) and self._diverted("self_presentation", p):
            return
        self._attend_ae(p)

    def _route(self, p: Patient, outcome: str, via: str) -> None:
        self.counts[f"routed_{via}_to_{outcome}"] += 1
        if outcome == "home":
            self._go_home(p)
        elif outcome == "rapid_response":
            if not self._start_rapid_response(p, then_admitted=False):
                self.counts["rapid_response_no_room"] += 1
                self._attend_ae(p)
        elif outcome == "ambulance":
            self._ambulance(p)
        elif outcome == "ae":
            self._attend_ae(p)
        else:
            self._admission_decision(p, via)

    def _go_home(self, p: Patient) -> None:
        if p.resident is not None:
            self._resident_returns(p)
        self.end(p, "home")

    # ----------------------------------------------------------------- diversion
    def _diverted(self, point: str, p: Patient, leaving: Callable[[Patient], None] | None = None) -> bool:
        """Apply a scheme's diversion at this decision point; a full target service is a failed diversion.

        ``leaving`` runs once the diversion is sure, before the patient moves on (e.g. freeing an A&E cubicle).
        """
        active = self.effects.divert(point, p, self.env._now, p.row[DIVERT])
        if active is None:
            return False
        target = active.effect.to
        then_admitted = p.row[THEN_ADMITTED] < active.then_admitted
        now = self.env._now
        if target == "rapid_response":
            ok = self.calendar.is_open(self.rapid_response_hours, now) and self.rapid_response.has_room()
        elif target == "intermediate_care_beds":
            ok = self.step_up.has_room()
        elif target == "gp":
            ok = self.calendar.is_open(self.gp_hours, now) and self.appointments.take()
        else:
            ok = True
        if ok and leaving is not None:
            leaving(p)
        if target == "rapid_response" and ok:
            self._start_rapid_response(p, then_admitted)
        elif target == "intermediate_care_beds" and ok:
            self.step_up.try_admit(p)
            self._intermediate_care(p, step_up=True)
        elif target == "gp" and ok:
            self.counts["gp_urgent_contacts"] += 1
        if not ok:
            self.counts["failed_diversions"] += 1
            self.counts[f"failed_diversions_{point}"] += 1
            return False
        self.counts["diversions"] += 1
        self.counts[f"diversions_{point}"] += 1
        if target in ("gp", "home"):
            if then_admitted:
                self._admit(p, "gp")
            else:
                self._go_home(p)
        return True

    # ----------------------------------------------------------------- rapid response
    def _start_rapid_response(self, p: Patient, then_admitted: bool) -> bool:
        if not self.calendar.is_open(self.rapid_response_hours, self.env._now) or not self.rapid_response.try_admit(p):
            return False
        self.counts["rapid_response_episodes"] += 1
        self.move(p, "rapid_response")
        p.diverted_by = "admit" if then_admitted else "route"
        self.after(self.sample("rapid_response.episode", p.row[RAPID_RESPONSE_EPISODE]), self._rapid_response_done, p)
        return True

    def _rapid_response_done(self, event: Call) -> None:
        p = event.value
        self.rapid_response.release(p)
        if p.diverted_by == "admit":
            self._admit(p, "rapid_response")
            return
        outcome = choose(self._routing["rapid_response"], p.row[RAPID_RESPONSE])
        if outcome == "reablement":
            if self.reablement.try_admit(p):
                self._start_reablement(p, from_hospital=False)
            else:
                self._go_home(p)
        elif outcome == "step_up":
            if self.step_up.try_admit(p):
                self._intermediate_care(p, step_up=True)
            else:
                self.counts["step_up_no_room"] += 1
                self._admit(p, "rapid_response")
        elif outcome == "admit":
            self._admit(p, "rapid_response")
        else:
            self._go_home(p)

    # ----------------------------------------------------------------- A&E
    def _attend_ae(self, p: Patient, conveyed: bool = False) -> None:
        ae = self.scenario.services.ae
        if not ae.enabled:
            if self._admitted_from_ae(p):
                self._admission_decision(p, "ae")
            else:
                self._go_home(p)
            return
        self.counts["ae_attendances"] += 1
        if conveyed:
            self.counts["ae_attendances_conveyed"] += 1
        if p.band > 0:
            self.counts["ae_attendances_65plus"] += 1
        if p.residence:
            self.counts["care_home_ae_attendances"] += 1
        p.ae_arrival = self.env._now
        self.move(p, "ae_waiting")
        self.ae.request(p, self._in_cubicle)

    def _admitted_from_ae(self, p: Patient) -> bool:
        ae = self.scenario.services.ae
        probability = ae.admit_probability_care_home if p.residence else ae.admit_probability[AGE_BANDS[p.band]]
        return p.readmission or p.row[AE_ADMIT] < probability

    def _in_cubicle(self, p: Patient) -> None:
        self.move(p, "ae")
        p.admitted_ae = self._admitted_from_ae(p)
        if p.admitted_ae:
            duration = self.sample("ae.time_admitted_hours", p.row[AE_ADMITTED] * 24) / 24
        else:
            duration = self.sample("ae.time_discharged_hours", p.row[AE_DISCHARGED] * 24) / 24
        self.after(duration, self._ae_assessed, p)

    def _ae_assessed(self, event: Call) -> None:
        p = event.value
        if p.admitted_ae:
            if p.ae_arrival >= self.window:  # A&E outcomes count for attendances counted in the window
                self.counts["ae_admitted"] += 1
                if p.band > 0:
                    self.counts["ae_admitted_65plus"] += 1
            self._admission_decision(p, "ae")
        else:
            self._leave_ae(p)
            self._go_home(p)

    def _leave_ae(self, p: Patient) -> None:
        self.ae.release(p)
        if p.ae_arrival >= self.window:
            self.counts["ae_departures"] += 1
            if self.env._now - p.ae_arrival <= FOUR_HOURS:
                self.counts["ae_within_4h"] += 1

    # ----------------------------------------------------------------- admission
    def _admission_decision(self, p: Patient, via: str) -> None:
        leaving = self._leave_ae if p.location == "ae" else None
        if not self._diverted("admission", p, leaving):
            self._admit(p, via)

    def _admit(self, p: Patient, via: str) -> None:
        p.via = via
        self.counts["emergency_admissions"] += 1
        self.counts[f"emergency_admissions_{BAND_SUFFIX[p.band]}"] += 1
        if p.band > 0:
            self.counts["emergency_admissions_65plus"] += 1
        if via == "ae":
            self.counts["emergency_admissions_via_ae"] += 1
        if p.avoidable:
            self.counts["avoidable_emergency_admissions"] += 1
        if p.residence:
            self.counts["care_home_emergency_admissions"] += 1
        if p.readmission:
            self.counts["readmissions_30d"] += 1
        if via != "ae" or p.location != "ae":
            self.move(p, "waiting_acute")
        if self.scenario.services.acute_beds.when_full == "turn_away":
            if self.acute.try_admit(p):
                self._in_bed(p)
            else:
                self.counts["acute_turned_away"] += 1
                if p.location == "ae":
                    self._leave_ae(p)
                if p.resident is not None:
                    self._resident_returns(p)
                self.end(p, "elsewhere")
            return
        self.acute.request(p, self._in_bed)

    def _in_bed(self, p: Patient) -> None:
        if p.location == "ae":
            self._leave_ae(p)
        self.move(p, "acute")
        now = self.env._now
        stay = self.sample(f"acute_beds.length_of_stay.{AGE_BANDS[p.band]}", p.row[ACUTE_STAY])
        stay *= self.effects.multiplier(LengthOfStayEffect, p, now, "acute_beds")
        self.after(stay, self._medically_fit, p)

    # ----------------------------------------------------------------- discharge
    def _medically_fit(self, event: Call) -> None:
        p = event.value
        now = self.env._now
        d = self.scenario.discharge
        if p.residence:
            if p.row[PATHWAY] < d.care_home_resident_death:
                self._die_in_acute(p)
            else:
                p.destination = "care_home_return"
                self._discharge_when_open(p)
            return
        shares = self.effects.pathway_shares(d.pathways[AGE_BANDS[p.band]], p, now)
        pathway = choose(cumulative_of(shares), p.row[PATHWAY])
        p.pathway = pathway
        if pathway == "death":
            self._die_in_acute(p)
            return
        if pathway == "P0":
            p.destination = "home"
        elif pathway == "P1":
            reablement = self.scenario.services.reablement.enabled
            p.destination = "reablement" if reablement and p.row[P1_ROUTE] < d.p1_reablement_share else "home_care"
        elif pathway == "P2":
            p.destination = "step_down"
        else:
            p.destination = "care_home"
        if p.row[ASSESSMENT] < d.assessment_share[pathway]:
            self._start_delay(p, "awaiting_assessment", ACUTE)
            duration = self.sample("discharge.assessment", p.row[ASSESSMENT_TIME])
            duration *= self.effects.multiplier(AssessmentDelayEffect, p, now)
            self.after(duration, self._assessed, p)
        else:
            self._after_assessment(p)

    def _assessed(self, event: Call) -> None:
        p = event.value
        self._end_delay(p)
        self._after_assessment(p)

    def _after_assessment(self, p: Patient) -> None:
        d = self.scenario.discharge
        if p.destination == "care_home" and p.row[PATIENT_CHOICE] < d.patient_choice_share_p3:
            self._start_delay(p, "patient_choice", ACUTE)
            self.after(self.sample("discharge.patient_choice", p.row[PATIENT_CHOICE_TIME]), self._chosen, p)
        else:
            self._request_downstream(p, ACUTE)

    def _chosen(self, event: Call) -> None:
        p = event.value
        self._end_delay(p)
        self._request_downstream(p, ACUTE)

    def _request_downstream(self, p: Patient, setting: int) -> None:
        """Ask the next service for a place; the patient keeps their bed until it is granted."""
        granted = self._granted_from_acute if setting == ACUTE else self._granted_from_intermediate_care
        destination = p.destination
        if destination in ("home", "care_home_return"):
            granted(p)
        elif destination == "reablement":
            self._start_delay(p, "reablement", setting)
            self.reablement.request(p, granted)
        elif destination == "home_care":
            self._start_delay(p, "home_care_package", setting)
            self.home_care.request(p, granted)
        elif destination == "step_down":
            if not self.scenario.services.intermediate_care_beds.enabled:
                p.destination = "home"
                granted(p)
                return
            self._start_delay(p, "community_bed", setting)
            self.step_down.request(p, granted)
        else:
            homes = self.scenario.services.care_homes
            if not homes.enabled:
                p.destination = "home"
                granted(p)
                return
            p.home_kind = "nursing" if p.row[CARE_HOME_TYPE] < homes.nursing_share_of_admissions else "residential"
            self._start_delay(p, "care_home_placement", setting)
            (self.nursing if p.home_kind == "nursing" else self.residential).request(p, granted)

    def _start_delay(self, p: Patient, reason: str, setting: int) -> None:
        p.delay_reason = REASON[reason]
        p.delay_setting = setting
        p.delay_start = self.env._now
        self.delayed_now += 1

    def _end_delay(self, p: Patient) -> None:
        if p.delay_reason is None:
            return
        self.tally.delay(p.delay_reason, p.delay_setting, p.delay_start, self.env._now)
        p.delay_reason = None
        self.delayed_now -= 1

    def _granted_from_acute(self, p: Patient) -> None:
        if p.location != "acute":
            raise RuntimeError("a place was granted to a patient who is not in an acute bed")
        self._end_delay(p)
        self._discharge_when_open(p)

    def _discharge_when_open(self, p: Patient) -> None:
        now = self.env._now
        self.after(self.calendar.next_open(self.discharge_hours, now) - now, self._leave_acute, p)

    def _release_acute(self, p: Patient) -> None:
        stay = self.env._now - self.acute.entered[id(p)]
        self.acute.release(p)
        if p.via != "warm_start":
            self.counts[f"acute_stays_{BAND_SUFFIX[p.band]}"] += 1
            self.counts[f"acute_stay_days_{BAND_SUFFIX[p.band]}"] += stay

    def _leave_acute(self, event: Call) -> None:
        p = event.value
        self._release_acute(p)
        destination = p.destination
        self.counts[f"acute_to_{destination}"] += 1
        if destination == "care_home_return":
            self._go_home(p)
            return
        if p.band > 0 and destination in ("reablement", "step_down"):
            self.counts["discharged_to_rehabilitation_65plus"] += 1
        if destination in ("home", "home_care", "reablement"):
            self._maybe_readmit(p)
        if destination == "home":
            self.end(p, "home")
        elif destination == "home_care":
            self._start_home_care(p)
        elif destination == "reablement":
            self._start_reablement(p, from_hospital=True)
        elif destination == "step_down":
            self.counts["step_down_admissions"] += 1
            self._intermediate_care(p, step_up=False)
        else:
            self._become_resident(p)

    def _die_in_acute(self, p: Patient) -> None:
        self._release_acute(p)
        self.counts["deaths_hospital"] += 1
        if p.resident is not None:
            self._resident_leaves(p.resident, died_in_hospital=True)
        self.end(p, "death")

    def _maybe_readmit(self, p: Patient) -> None:
        d = self.scenario.discharge
        probability = d.readmission_probability[AGE_BANDS[p.band]]
        probability *= self.effects.multiplier(ReadmissionEffect, p, self.env._now)
        self.counts["discharges_home_alive"] += 1
        if p.row[READMIT] < probability:
            again = self._next_episode(p, "at_home_before_readmission")
            again.readmission = True
            self.after(p.row[READMIT_TIME], self._readmitted, again)

    def _next_episode(self, p: Patient, location: str) -> Patient:
        """The same person's next episode, with fresh draws keyed by the episode that led to it."""
        if p.depth == 0 and p.key[0] < 2:  # a crisis candidate: its next row was drawn in bulk
            row = self.candidates[p.key[0]].next_rows[p.key[1]].tolist()
        else:
            rng = stream(self.scenario.run.seed, "readmission", self.replication, *p.key, p.depth + 1)
            row = draw_rows(self.scenario, rng, np.array([p.band]))[0].tolist()
        again = Patient((*p.key, p.depth + 1), row, p.band, p.residence, p.tier, p.locality, p.crisis_type,
                        p.avoidable, False, p.depth + 1)
        again.resident = p.resident
        p.resident = None
        self.enter(again, location)
        return again

    def _readmitted(self, event: Call) -> None:
        p = event.value
        self.counts["ambulance_incidents"] += 1
        self.counts["ambulance_conveyances"] += 1
        self._attend_ae(p, conveyed=True)

    # ----------------------------------------------------------------- community services
    def _start_home_care(self, p: Patient) -> None:
        self.counts["home_care_packages"] += 1
        self.end(p, "home")

    def _start_reablement(self, p: Patient, from_hospital: bool) -> None:
        self.counts["reablement_episodes"] += 1
        self.move(p, "reablement")
        p.reablement_from_hospital = from_hospital
        self.after(self.sample("reablement.duration", p.row[REABLEMENT]), self._reablement_done, p)

    def _reablement_done(self, event: Call) -> None:
        p = event.value
        self.reablement.release(p)
        if p.reablement_from_hospital and p.band > 0:
            at_home = (p.row[AT_HOME_91]
                       < self.scenario.services.reablement.at_home_91_days_probability[AGE_BANDS[p.band]])
            self.counts["rehabilitation_65plus_followed"] += 1
            self.counts["still_home_91d_65plus"] += float(at_home)
        if p.row[HOME_CARE_AFTER_REABLEMENT] < self.scenario.services.reablement.needs_home_care_share:
            self.move(p, "waiting_home_care")
            self.home_care.request(p, self._package_at_home)
        else:
            self._go_home(p)

    def _package_at_home(self, p: Patient) -> None:
        self._start_home_care(p)

    def _intermediate_care(self, p: Patient, step_up: bool) -> None:
        self.counts["step_up_admissions" if step_up else "intermediate_care_step_down_started"] += 1
        self.move(p, "intermediate_care")
        p.destination = "step_up" if step_up else "step_down"
        stay = self.sample("intermediate_care_beds.length_of_stay", p.row[INTERMEDIATE_CARE_STAY])
        stay *= self.effects.multiplier(LengthOfStayEffect, p, self.env._now, "intermediate_care_beds")
        self.after(stay, self._intermediate_care_done, p)

    def _ic_pool(self, p: Patient) -> Pool:
        return self.step_up if p.destination == "step_up" else self.step_down

    def _intermediate_care_done(self, event: Call) -> None:
        p = event.value
        shares = dict(self.scenario.routing.intermediate_care)
        multiplier = self.effects.multiplier(CareHomeAdmissionEffect, p, self.env._now)
        moved = shares.get("care_home", 0.0) * (1 - multiplier)
        if moved:
            shares["care_home"] -= moved
            shares["home"] = shares.get("home", 0.0) + moved
        outcome = choose(cumulative_of(shares), p.row[INTERMEDIATE_CARE])
        from_hospital = p.destination == "step_down"
        if from_hospital and p.band > 0:
            self.counts["rehabilitation_65plus_followed"] += 1
            at_home = outcome in ("home", "reablement") and (
                p.row[AT_HOME_91] < self.scenario.services.reablement.at_home_91_days_probability[AGE_BANDS[p.band]])
            self.counts["still_home_91d_65plus"] += float(at_home)
        pool = self._ic_pool(p)
        if outcome == "death":
            pool.release(p)
            self.counts["deaths_intermediate_care"] += 1
            if p.resident is not None:
                self._resident_leaves(p.resident, died_in_hospital=True)
            self.end(p, "death")
        elif outcome == "readmit":
            pool.release(p)
            again = self._next_episode(p, "waiting_acute")
            self.end(p, "readmitted")
            self._admission_decision(again, "intermediate_care")
        elif outcome in ("reablement", "care_home") and p.resident is None:
            p.destination = "reablement" if outcome == "reablement" else "care_home"
            p.slot = pool
            self._request_downstream(p, NON_ACUTE)
        else:
            pool.release(p)
            self._go_home(p)

    def _granted_from_intermediate_care(self, p: Patient) -> None:
        self._end_delay(p)
        p.slot.release(p)
        if p.destination == "reablement":
            self._start_reablement(p, from_hospital=False)
        elif p.destination == "care_home":
            self._become_resident(p)
        else:
            self._go_home(p)

    # ----------------------------------------------------------------- care homes
    def _become_resident(self, p: Patient) -> None:
        """A new permanent care-home resident; their bed was taken when the place was granted."""
        homes = self.scenario.services.care_homes
        if p.resident is not None:
            self._resident_returns(p)
        self.counts["care_home_admissions"] += 1
        if p.band > 0:
            self.counts["care_home_admissions_65plus"] += 1
            if p.row[COUNCIL_FUNDED] < homes.council_funded_share:
                self.counts["care_home_admissions_65plus_council_funded"] += 1
        self._settle_resident(p)

    def _settle_resident(self, p: Patient) -> None:
        homes = self.scenario.services.care_homes
        p.home_kind = p.home_kind or (
            "nursing" if p.row[CARE_HOME_TYPE] < homes.nursing_share_of_admissions else "residential")
        p.council_funded = p.row[COUNCIL_FUNDED] < homes.council_funded_share
        p.residence = 1
        p.resident = None
        p.away = False
        self.move(p, "care_home")
        p.resident_index = len(self.residents)
        self.residents.append(p)
        years = p.row[RESIDENCE_YEARS] * homes.mean_residence_years[p.home_kind]
        self.after(years * 365.25, self._residence_ends, p)

    def _residence_ends(self, event: Call) -> None:
        resident = event.value
        if resident.location != "care_home":
            return
        if resident.away:
            resident.exit_due = True
        else:
            self._resident_leaves(resident, died_in_hospital=False)

    def _resident_returns(self, episode: Patient) -> None:
        resident = episode.resident
        episode.resident = None
        resident.away = False
        if resident.exit_due:
            self._resident_leaves(resident, died_in_hospital=False)

    def _resident_leaves(self, resident: Patient, died_in_hospital: bool) -> None:
        last = self.residents.pop()
        if last is not resident:
            self.residents[resident.resident_index] = last
            last.resident_index = resident.resident_index
        (self.nursing if resident.home_kind == "nursing" else self.residential).release(resident)
        if not died_in_hospital:
            self.counts["deaths_care_home"] += 1
        self.end(resident, "death")

    def _community_placements(self) -> None:
        s = self.scenario
        homes = s.services.care_homes
        if not homes.enabled or homes.community_admissions_per_year <= 0:
            return
        rng = stream(s.run.seed, "care_home_community_admissions", self.replication)
        n = rng.poisson(homes.community_admissions_per_year / 365.25 * self.calendar.end)
        times = np.sort(rng.random(n) * self.calendar.end)
        shares = np.array([homes.resident_age_shares.get(b, 0.0) for b in AGE_BANDS])
        bands = rng.choice(len(AGE_BANDS), size=n, p=shares / shares.sum())
        rows = draw_rows(s, rng, bands)
        for i in range(n):
            p = Patient((2, i), rows[i].tolist(), int(bands[i]), 0, -1, -1, -1, False, False)
            self.after(times[i], self._community_placement, p)

    def _community_placement(self, event: Call) -> None:
        p = event.value
        multiplier = self.effects.multiplier(CareHomeAdmissionEffect, p, self.env._now)
        if p.row[KEEP] >= multiplier:
            return
        homes = self.scenario.services.care_homes
        p.home_kind = "nursing" if p.row[CARE_HOME_TYPE] < homes.nursing_share_of_admissions else "residential"
        if (self.nursing if p.home_kind == "nursing" else self.residential).try_admit(p):
            self.enter(p, "community")
            self._become_resident(p)
        else:
            self.counts["care_home_no_room"] += 1

    # ----------------------------------------------------------------- warm start
    def _warm_start(self) -> None:
        """Start with beds and caseloads occupied; remaining stays drawn length-biased, then uniformly cut."""
        s = self.scenario
        rng = stream(s.run.seed, "warm_start", self.replication)
        services = s.services
        _, bands, _, rates = community_segments(s)
        band_rates = np.bincount(bands, weights=rates, minlength=len(AGE_BANDS))
        mix = band_rates / band_rates.sum() if band_rates.sum() > 0 else np.full(len(AGE_BANDS), 0.25)

        def seeded(n: int, where: str, offset: int) -> list[Patient]:
            chosen = rng.choice(len(AGE_BANDS), size=n, p=mix)
            rows = draw_rows(s, rng, chosen)
            return [Patient((3, offset + i), rows[i].tolist(), int(chosen[i]), 0, 0, 0, 0, False, False)
                    for i in range(n)]

        acute = seeded(min(services.acute_beds.initial_occupancy, int(min(self.acute.capacity, 1e9))), "acute", 0)
        for p in acute:
            self.enter(p, "acute")
            self.acute.try_admit(p)
            p.via = "warm_start"
            dist = services.acute_beds.length_of_stay[AGE_BANDS[p.band]]
            self.after(float(rng.random() * dist.length_biased(rng, 1)[0]), self._medically_fit, p)
        ic = services.intermediate_care_beds
        if ic.enabled:
            for k, p in enumerate(seeded(ic.initial_occupancy, "intermediate_care", 100_000)):
                step_up = k % 2 == 1 and self.step_up is not self.step_down
                pool = self.step_up if step_up else self.step_down
                if not pool.try_admit(p):
                    continue
                self.enter(p, "intermediate_care")
                p.destination = "step_up" if step_up else "step_down"
                stay = float(rng.random() * ic.length_of_stay.length_biased(rng, 1)[0])
                self.after(stay, self._intermediate_care_done, p)
        reablement = services.reablement
        if reablement.enabled:
            for p in seeded(reablement.initial_occupancy, "reablement", 200_000):
                if not self.reablement.try_admit(p):
                    continue
                self.enter(p, "reablement")
                p.reablement_from_hospital = False
                self.after(float(rng.random() * reablement.duration.length_biased(rng, 1)[0]), self._reablement_done, p)
        homes = services.care_homes
        if homes.enabled:
            shares = np.array([homes.resident_age_shares.get(b, 0.0) for b in AGE_BANDS])
            for kind, pool in (("residential", self.residential), ("nursing", self.nursing)):
                n = (int(round(min(pool.capacity, 1e7) * homes.initial_occupancy_share))
                     if math.isfinite(pool.capacity) else 0)
                chosen = rng.choice(len(AGE_BANDS), size=n, p=shares / shares.sum())
                rows = draw_rows(s, rng, chosen)
                for i in range(n):
                    p = Patient((4 if kind == "nursing" else 5, i), rows[i].tolist(), int(chosen[i]), 1, -1, -1, -1,
                                False, False)
                    p.home_kind = kind
                    pool.try_admit(p)
                    self.enter(p, "care_home")
                    self._settle_resident(p)

    # ----------------------------------------------------------------- the day
    def _capacity_added(self, pool: str, now: float) -> int:
        """Scheme beds or places for one pool; added intermediate-care beds split like the base ones."""
        if pool not in ("step_down_beds", "step_up_beds"):
            return self.effects.capacity_added(pool, now)
        added = self.effects.capacity_added("intermediate_care_beds", now)
        step_down = round(added * self.scenario.services.intermediate_care_beds.step_down_share)
        return step_down if pool == "step_down_beds" else added - step_down

    def _open_window(self, _event: Call) -> None:
        """Start the measured period: counts, occupancy integrals and stays count from now."""
        self.counts.clear()
        for pool in self.pools.values():
            pool.open_window()

    def _new_day(self, event: Call) -> None:
        now = self.env._now
        day = int(round(now))
        weekend = self.calendar.weekday[min(day, len(self.calendar.weekday) - 1)] >= 5
        for name, pool in self.pools.items():
            added = self._capacity_added(name, now)
            if added:
                pool.set_capacity(max(0.0, self.base_capacity[name] + added))
            self.daily[name][day] = pool.occupied
            self.daily_capacity[name][day] = max(pool.capacity, pool.occupied)  # a cut closes beds as they empty
            over = pool.occupied - pool.capacity
            if over > self.peak_over[name]:
                self.peak_over[name] = over
        self.daily["delayed_patients"][day] = self.delayed_now
        gp_added = self.effects.capacity_added("gp", now)
        services = self.scenario.services
        self.gp_hours = self.effects.hours("gp", services.gp.hours, now)
        self.rapid_response_hours = self.effects.hours("rapid_response", services.rapid_response.hours, now)
        self.discharge_hours = self.effects.hours("discharge", self.scenario.discharge.hours, now)
        self.appointments.per_weekday = self.base_appointments[0] + gp_added
        self.appointments.per_weekend_day = self.base_appointments[1] + (gp_added if self.gp_hours.weekends else 0)
        self.appointments.new_day(weekend)
        self.home_care.per_week = self.base_packages + self.effects.capacity_added("home_care", now)
        self.home_care.new_day()
        if self.events > self.scenario.run.max_events:
            raise RunawayError(
                f"the run passed {self.scenario.run.max_events:,} simulated events on day {day}; "
                "the scenario is far larger than expected or demand is runaway (raise run.max_events if intended)"
            )
        if day + 1 <= self.calendar.end:
            self.after(1.0, self._new_day, None)

    # ----------------------------------------------------------------- run
    def run(self) -> ReplicationRecord:
        self._warm_start()
        community, care_home = self.candidates
        self._start_arrivals(community, 0)
        self._start_arrivals(care_home, 1)
        self._community_placements()
        self.after(0.0, self._new_day, None)
        self.after(self.window, self._open_window, None, URGENT)  # before anything else at that moment
        try:
            self.env.run(until=self.calendar.end)
        except UnstableSystemError as error:
            raise UnstableSystemError(f"{self.world} world, replication {self.replication}: {error}") from None
        return self._record()

    def _record(self) -> ReplicationRecord:
        now = self.env._now
        for p in self.live.values():
            if p.delay_reason is not None:
                self.tally.delay(p.delay_reason, p.delay_setting, p.delay_start, now)
        services = {}
        for name, pool in self.pools.items():
            services[name] = ServiceRecord(
                name, pool.capacity, pool.time_average(), pool.arrivals, pool.stays,
                pool.stay_total / pool.stays if pool.stays else 0.0, now - pool.window_start,
                float(self.peak_over[name]))
        return ReplicationRecord(
            world=self.world, replication=self.replication, seed=self.scenario.run.seed,
            counts=dict(self.tally.counts), services=services, delayed=self.tally.delayed.copy(),
            daily={k: v[int(self.window):int(self.calendar.end)] for k, v in self.daily.items()},
            daily_capacity={k: v[int(self.window):int(self.calendar.end)] for k, v in self.daily_capacity.items()},
            sampled={k: tuple(v) for k, v in self.tally.sampled.items()},
            conservation=self._conservation(), events=self.events,
        )

    def _conservation(self) -> dict[str, int]:
        """Every patient who entered is in exactly one place or has left; every place is held by a live patient."""
        located = Counter(p.location for p in self.live.values())
        violations = self.created - sum(self.ended.values()) - len(self.live)
        for pool in self.pools.values():
            violations += abs(pool.occupied - len(pool.entered))
            violations += sum(1 for holder in pool.entered if holder not in self.live)
        violations += abs(located["acute"] - len(self.acute.entered))
        violations += abs(located["ae"] - len(self.ae.entered))
        violations += abs(located["rapid_response"] - len(self.rapid_response.entered))
        return {"created": self.created, "ended": sum(self.ended.values()), "in_system": len(self.live),
                "violations": violations, **{f"in_{k}": v for k, v in located.items()},
                **{f"ended_{k}": v for k, v in self.ended.items()}}
