"""Scheme effects resolved for one world and one replication.

Combination rule when several schemes touch the same patient:
- multipliers (prevention, length of stay, assessment delay, readmission, care-home admission) multiply;
- diversion shares at one decision point combine as independent chances, 1 − Π(1 − share), and the
  patient goes to the scheme (in declared order) whose slice of that chance the patient's draw falls
  in; if that scheme's service has no room the diversion fails and is counted (no fall-through);
- pathway shifts apply one after another in declared order; capacity additions add;
- opening hours combine as their union; discharge profiles as the element-wise maximum with the base,
  reached in proportion to each scheme's strength.
A scheme acts from its start date (an effect may have its own), its strength rising linearly over
``ramp_up_days``. Effect sizes are drawn once per replication from each effect's own stream, named by
scheme and effect name, so every world of a replication shares them and adding, removing or reordering
effects changes no other draw.
An effect whose eligibility names what a patient must have ``received`` (a service, an avoided admission,
a care home's support, enrolment in the scheme's own programme) acts only on the people who received it.
A prevention programme enrols people by their own draw, shifted by an offset keyed by the effect, so a
scheme enrols the same people alone and in any mix.
Each effect's realised size on the people it acted on is measured as the world runs (``Realised``): at
every decision it changes, the outcome with the world's effects and, on the same draw, without them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import numpy as np

from caresim.engine.calendar import Calendar
from caresim.engine.demand import COLUMN, Candidates, community_segments
from caresim.engine.patient import ACUITY, RECEIVED_BIT
from caresim.engine.streams import stable_hash, stream
from caresim.scenario.fields import AGE_BANDS, CRISIS_TYPES
from caresim.scenario.schema import Scenario
from caresim.scenario.schemes import (
    AnyEffect,
    CapacityEffect,
    CareHomeAdmissionEffect,
    DischargeProfileEffect,
    DiversionEffect,
    Eligible,
    PathwayShiftEffect,
    PreventionEffect,
    PreventionProgramme,
    Uncertain,
)
from caresim.scenario.services import Hours

if TYPE_CHECKING:
    from caresim.engine.patient import Patient

EffectKey = tuple[str, str]  # (scheme, effect name)
E = TypeVar("E")  # one kind of effect (a schema class)


class Realised(dict[EffectKey, list[float]]):
    """Per effect, over the measured window: [decisions it acted on, outcome without the world's effects, outcome
    with them], both on the same draws. A ratio effect's realised size is with ÷ without; a diversion's is the
    share of its eligible patients actually diverted, with ÷ acted on."""

    def add(self, key: EffectKey, acted_on: float, without: float, with_: float) -> None:
        tally = self.get(key)
        if tally is None:
            self[key] = [acted_on, without, with_]
        else:
            tally[0] += acted_on
            tally[1] += without
            tally[2] += with_


@dataclass(frozen=True)
class Target:
    """Who an effect applies to, as sets of codes (None: everyone), and what they must have received.

    ``received`` holds the patient.RECEIVED_BIT of the services that qualify (None: no requirement);
    ``programmes`` the scheme's own prevention programmes, enrolment in any of which also qualifies.
    """

    bands: frozenset[int] | None
    residences: frozenset[int] | None
    crisis_types: frozenset[int] | None
    tiers: frozenset[int] | None
    localities: frozenset[int] | None
    received: int | None = None
    wants_programme: bool = False
    programmes: tuple[Enrolment, ...] = ()

    @classmethod
    def of(cls, eligible: Eligible, scenario: Scenario) -> Target:
        def codes(values: Sequence[str] | None, universe: Sequence[str]) -> frozenset[int] | None:
            return None if values is None else frozenset(list(universe).index(v) for v in values)

        received = None if eligible.received is None else sum(
            RECEIVED_BIT[name] for name in set(eligible.received) if name != "programme")
        return cls(
            codes(eligible.age_bands, AGE_BANDS),
            codes(eligible.residence, ("home", "care_home")),
            codes(eligible.crisis_types, CRISIS_TYPES),
            codes(eligible.risk_tiers, [t.name for t in scenario.population.risk_tiers]),
            codes(eligible.localities, list(scenario.population.localities)),
            received,
            "programme" in (eligible.received or ()),
        )

    def covers(self, patient: Patient) -> bool:
        """The person is in the target population (whatever their crisis and whatever they received)."""
        return ((self.bands is None or patient.band in self.bands)
                and (self.residences is None or patient.residence in self.residences)
                and (self.tiers is None or patient.tier in self.tiers)
                and (self.localities is None or patient.locality in self.localities))

    def applies(self, patient: Patient, t: float) -> bool:
        return (self.covers(patient)
                and (self.crisis_types is None or patient.crisis_type in self.crisis_types)
                and (self.received is None or bool(patient.received & self.received)
                     or any(enrolment.enrolled(patient, t) for enrolment in self.programmes)))

    def mask(self, candidates: Candidates, residence: int) -> np.ndarray:
        """The candidate crises the target covers; before their crisis, candidates have received nothing
        but a care home's support (a prevention effect's own programme is applied by the caller)."""
        mask = np.ones(len(candidates), dtype=bool)
        if self.residences is not None and residence not in self.residences:
            return ~mask
        if self.received is not None and not (residence and self.received & RECEIVED_BIT["supported_care_home"]):
            return ~mask
        for codes, values in ((self.bands, candidates.band), (self.crisis_types, candidates.crisis_type),
                              (self.tiers, candidates.tier), (self.localities, candidates.locality)):
            if codes is not None:
                mask &= np.isin(values, list(codes))
        return mask


@dataclass(frozen=True)
class Enrolment:
    """Who a prevention programme has enrolled by time ``t``: a share of its eligible people that grows as
    places turn over, each person in or out by their own draw (Patient.enrolment, the candidate's
    ``enrolled`` column) shifted by an offset from the effect's key, so that the same people are enrolled
    whichever other schemes share the world."""

    target: Target
    offset: float
    start: float
    share_per_day: float  # people enrolled a day, as a share of the eligible people
    lasts_days: float

    @classmethod
    def of(cls, active: Active[PreventionEffect], programme: PreventionProgramme, people: float) -> Enrolment:
        offset = stable_hash(f"{active.key[0]}/{active.key[1]}") / 2.0 ** 64
        return cls(active.target, offset, active.start, programme.places / programme.duration_days / max(people, 1.0),
                   programme.effect_lasts_days)

    def share(self, t: np.ndarray) -> np.ndarray:
        return np.minimum(self.share_per_day * np.clip(t - self.start, 0.0, self.lasts_days), 1.0)

    def draws(self, u: np.ndarray) -> np.ndarray:
        return (u + self.offset) % 1.0

    def enrolled(self, patient: Patient, t: float) -> bool:
        """The person is enrolled at time ``t`` (once enrolled, they stay: the share never falls)."""
        share = min(self.share_per_day * min(max(t - self.start, 0.0), self.lasts_days), 1.0)
        return self.target.covers(patient) and (patient.enrolment + self.offset) % 1.0 < share


def eligible_people(scenario: Scenario, target: Target) -> float:
    """People in the community a prevention programme's target covers (its enrolment denominator)."""
    localities, bands, tiers, rates = community_segments(scenario)
    tier_rates = scenario.population.risk_tiers
    norm = sum(t.share * t.relative_rate for t in tier_rates) or 1.0
    people = 0.0
    for li, b, ti, rate in zip(localities, bands, tiers, rates, strict=True):
        per_person = scenario.demand.crisis_rate_per_person_year[AGE_BANDS[b]] / 365.25
        if per_person <= 0:
            continue
        if ((target.bands is None or b in target.bands) and (target.tiers is None or ti in target.tiers)
                and (target.localities is None or li in target.localities)):
            people += rate / per_person / (tier_rates[ti].relative_rate or 1.0) * norm
    return people


class Active(Generic[E]):
    """One effect of one scheme, with its drawn size and when it acts (a plain class, not a dataclass: the
    compiled engine keeps it native, and a generic dataclass cannot be)."""

    __slots__ = ("key", "effect", "target", "size", "start", "ramp_days", "then_admitted", "service", "max_acuity")

    def __init__(self, key: EffectKey, effect: E, target: Target, size: float, start: float, ramp_days: float,
                 then_admitted: float = 0.0) -> None:
        self.key = key
        self.effect = effect
        self.target = target
        self.size = size
        self.start = start
        self.ramp_days = ramp_days
        self.then_admitted = then_admitted
        # read from the effect once, not at every decision
        self.service: str | None = getattr(effect, "service", None)
        self.max_acuity: float = getattr(effect, "max_acuity", 1.0)

    def aiming_at(self, target: Target) -> Active[E]:
        """The same effect for another target population."""
        return Active(self.key, self.effect, target, self.size, self.start, self.ramp_days, self.then_admitted)

    def strength(self, t: float) -> float:
        """0 before the start, rising linearly to 1 over the ramp-up."""
        if self.ramp_days <= 0:
            return float(t >= self.start)
        return min(1.0, max(0.0, (t - self.start) / self.ramp_days))

    def strengths(self, t: np.ndarray) -> np.ndarray:
        """``strength`` at each of many times."""
        if self.ramp_days <= 0:
            return np.where(t >= self.start, 1.0, 0.0)
        return np.clip((t - self.start) / self.ramp_days, 0.0, 1.0)

    def multiplier(self, t: float) -> float:
        return 1.0 + (self.size - 1.0) * self.strength(t)


class WorldEffects:
    """The effects of a world's schemes, ready for the model's decision points."""

    def __init__(self, scenario: Scenario, scheme_names: tuple[str, ...], replication: int, calendar: Calendar,
                 fixed_sizes: dict[EffectKey, float] | None = None) -> None:
        self.active: list[Active[AnyEffect]] = []
        self.realised = Realised()
        self.sizes: dict[EffectKey, float] = {}  # every uncertain size as drawn (or pinned) in this world
        fixed_sizes = fixed_sizes or {}

        def size_of(key: EffectKey, uncertain: Uncertain) -> float:
            """Pinned (sensitivity, central), else drawn from the key's own stream."""
            return fixed_sizes[key] if key in fixed_sizes else drawn_size(scenario.run.seed, key, uncertain,
                                                                         replication)

        for scheme_name in scheme_names:
            scheme = scenario.scheme(scheme_name)
            for effect in scheme.effects:
                key = (scheme_name, effect.name)
                start_date = effect.start or scheme.start or scenario.run.start
                start = float((start_date - calendar.origin).days)
                uncertain = uncertain_of(effect)
                if uncertain is not None:
                    size = self.sizes[key] = size_of(key, uncertain)
                else:
                    size = fixed_sizes.get(key, float(getattr(effect, "add", 0)))
                then_admitted = 0.0
                if isinstance(effect, DiversionEffect):
                    admitted_key = then_admitted_key(key)
                    then_admitted = self.sizes[admitted_key] = size_of(admitted_key, effect.then_admitted)
                self.active.append(Active(key, effect, Target.of(effect.eligible, scenario), size, start,
                                          scheme.ramp_up_days, then_admitted))
        self._enrol(scenario)
        self.by_kind: dict[type, list[Active[Any]]] = {}
        for active in self.active:
            self.by_kind.setdefault(type(active.effect), []).append(active)
        self.diversions: dict[str, list[Active[DiversionEffect]]] = {}
        for diversion in self.of(DiversionEffect):
            self.diversions.setdefault(diversion.effect.at, []).append(diversion)

    def open_window(self) -> None:
        """Forget what the effects acted on in the warm-up (prevention counts only its window's crises already)."""
        for active in self.active:
            if not isinstance(active.effect, PreventionEffect):
                self.realised.pop(active.key, None)

    def of(self, kind: type[E]) -> list[Active[E]]:
        """The active effects of one kind, in declared order."""
        return cast("list[Active[E]]", self.by_kind.get(kind, []))  # by_kind is keyed by each effect's own type

    def _enrol(self, scenario: Scenario) -> None:
        """The enrolment of each prevention programme, and each target that asks for its scheme's programmes."""
        self.enrolments: dict[EffectKey, Enrolment] = {}
        for active in self.active:
            if isinstance(active.effect, PreventionEffect) and active.effect.programme is not None:
                people = eligible_people(scenario, active.target)
                self.enrolments[active.key] = Enrolment.of(cast("Active[PreventionEffect]", active),
                                                           active.effect.programme, people)
        for i, active in enumerate(self.active):
            if active.target.wants_programme:
                own = tuple(e for key, e in self.enrolments.items() if key[0] == active.key[0])
                self.active[i] = active.aiming_at(replace(active.target, programmes=own))

    def enrolled_candidates(self, key: EffectKey, candidates: Candidates, residence: int) -> np.ndarray:
        """Which candidates the programme of effect ``key`` has enrolled by their crisis (the same in every world)."""
        enrolment = self.enrolments[key]
        mask = enrolment.target.mask(candidates, residence)
        enrolled = np.zeros(len(candidates), dtype=bool)
        enrolled[mask] = (enrolment.draws(candidates.rows[mask, COLUMN["enrolled"]])
                          < enrolment.share(candidates.time[mask]))
        return enrolled

    def enrolled(self, key: EffectKey, patient: Patient, t: float) -> bool:
        """Whether the programme of effect ``key`` has enrolled this person by time ``t``."""
        return self.enrolments[key].enrolled(patient, t)

    def prevention_multiplier(self, candidates: Candidates, residence: int, window: float) -> np.ndarray:
        """Per-candidate crisis-rate multiplier; a programme protects only the people it has enrolled. Each
        effect's realised size counts the crises in the measured window of the people it protected."""
        multiplier = np.ones(len(candidates))
        protected = []
        for active in self.of(PreventionEffect):
            mask = active.target.mask(candidates, residence)
            if not mask.any():
                continue
            enrolment = self.enrolments.get(active.key)
            if enrolment is None:
                strength = active.strengths(candidates.time[mask])
            else:
                drawn = enrolment.draws(candidates.rows[mask, COLUMN["enrolled"]])
                strength = np.where(drawn < enrolment.share(candidates.time[mask]), 1.0, 0.0)
            multiplier[mask] *= 1.0 + (active.size - 1.0) * strength
            acted_on = np.zeros(len(candidates), dtype=bool)
            acted_on[mask] = strength > 0
            protected.append((active.key, acted_on & (candidates.time >= window)))
        keep = candidates.rows[:, COLUMN["keep"]]
        for key, acted_on in protected:
            self.realised.add(key, float(acted_on.sum()), float((keep[acted_on] < candidates.accept[acted_on]).sum()),
                              float((keep[acted_on] < (candidates.accept * multiplier)[acted_on]).sum()))
        return multiplier

    def _applying(self, kind: type[E], patient: Patient, t: float, service: str | None = None) -> list[Active[E]]:
        """The started effects of this kind (for one ``service`` when given) that apply to the patient."""
        actives = self.by_kind.get(kind)
        if actives is None:  # most decisions in most worlds: no effect of this kind
            return []
        return [active for active in actives if active.strength(t) > 0 and active.target.applies(patient, t)
                and (service is None or active.service == service)]

    @staticmethod
    def _product(applying: list[Active[E]], t: float) -> float:
        value = 1.0
        for active in applying:
            value *= active.multiplier(t)
        return value

    def multiplier(self, kind: type[E], patient: Patient, t: float) -> float:
        """The product of the multipliers of this kind that apply to the patient at time ``t``."""
        return self._product(self._applying(kind, patient, t), t)

    def happens(self, kind: type[E], patient: Patient, t: float, u: float, probability: float) -> bool:
        """Whether an event of this ``probability`` happens on the patient's draw ``u``, the kind's multipliers
        applied; each effect that applies counts the event with and without them."""
        applying = self._applying(kind, patient, t)
        if not applying:
            return u < probability
        happened = u < probability * self._product(applying, t)
        for active in applying:
            self.realised.add(active.key, 1.0, float(u < probability), float(happened))
        return happened

    def scaled(self, kind: type[E], patient: Patient, t: float, value: float, service: str | None = None) -> float:
        """A duration (a stay, an assessment) scaled by the kind's multipliers that apply (for one ``service``
        when given); each effect that applies counts it with and without them."""
        applying = self._applying(kind, patient, t, service)
        if not applying:
            return value
        scaled = value * self._product(applying, t)
        for active in applying:
            self.realised.add(active.key, 1.0, value, scaled)
        return scaled

    def chose(self, kind: type[E], patient: Patient, t: float, without: bool, with_: bool) -> None:
        """Count one choice (e.g. a care home) that the kind's effects may have changed, with and without them."""
        for active in self._applying(kind, patient, t):
            self.realised.add(active.key, 1.0, float(without), float(with_))

    def pathway_shares(self, base: dict[str, float], patient: Patient, t: float) -> dict[str, float]:
        """The discharge pathway shares for this patient: ``base`` itself when no scheme could change them."""
        if PathwayShiftEffect not in self.by_kind and CareHomeAdmissionEffect not in self.by_kind:
            return base
        shares = dict(base)
        for active in self.of(PathwayShiftEffect):
            if active.target.applies(patient, t):
                moved = shares[active.effect.from_pathway] * active.size * active.strength(t)
                shares[active.effect.from_pathway] -= moved
                shares[active.effect.to_pathway] += moved
        care_home = self.multiplier(CareHomeAdmissionEffect, patient, t)
        if care_home != 1.0:
            moved = shares["P3"] * (1.0 - care_home)
            shares["P3"] -= moved
            shares["P1"] += moved
        return shares

    def divert(self, point: str, patient: Patient, t: float, u: float) -> Active[DiversionEffect] | None:
        """The scheme that would divert this patient at this decision point, if any; a scheme never takes a
        patient more acute than its ``max_acuity``, and its share is of the patients it can take."""
        lower = 0.0
        remaining = 1.0
        acuity = patient.row[ACUITY]
        for active in self.diversions.get(point, ()):
            if acuity > active.max_acuity or not active.target.applies(patient, t):
                continue
            share = active.size * active.strength(t)
            if share > 0:
                self.realised.add(active.key, 1.0, 0.0, 0.0)  # diversions count in Diversions.diverted
            slice_ = remaining * share
            if lower <= u < lower + slice_:
                return active
            lower += slice_
            remaining *= 1.0 - share
        return None

    def capacity_added(self, service: str, t: float) -> int:
        return sum(int(round(a.size * a.strength(t))) for a in self.of(CapacityEffect) if a.service == service)

    def hours(self, service: str, base: Hours, t: float) -> Hours:
        """Opening hours as the union of the baseline and any started scheme's hours."""
        extra = [a.effect.hours for a in self.of(CapacityEffect)
                 if a.service == service and a.effect.hours is not None and a.strength(t) > 0]
        if not extra:
            return base
        return Hours(start_hour=min([base.start_hour] + [h.start_hour for h in extra]),
                     end_hour=max([base.end_hour] + [h.end_hour for h in extra]),
                     weekends=base.weekends or any(h.weekends for h in extra))


    def discharge_profile(self, hourly: Sequence[float], weekday: Sequence[float],
                          t: float) -> tuple[list[float], list[float]]:
        """The discharge profile at time ``t``: each started scheme moves it towards the element-wise
        maximum of itself and the scheme's profile, by the scheme's strength."""
        rates = (list(hourly), list(weekday))
        for active in self.of(DischargeProfileEffect):
            strength = active.strength(t)
            if strength <= 0:
                continue
            for current, raised in zip(rates, (active.effect.hourly, active.effect.weekday), strict=True):
                if raised is not None:
                    current[:] = [r + strength * max(0.0, x - r) for r, x in zip(current, raised, strict=True)]
        return rates


def draw_name(key: EffectKey) -> str:
    """The name of the stream an effect's size is drawn from: by scheme and effect name, never position."""
    scheme, effect = key
    return f"effect/{scheme}/{effect}"


def then_admitted_key(key: EffectKey) -> EffectKey:
    """The key of a diversion's share then admitted, drawn from its own stream beside the effect's size."""
    scheme, effect = key
    return scheme, f"{effect}/then_admitted"


def drawn_size(seed: int, key: EffectKey, uncertain: Uncertain, replication: int) -> float:
    """An effect's size in one replication: drawn once from its own stream, the same in every world."""
    return uncertain.quantile(stream(seed, draw_name(key), replication).random())


def uncertain_of(effect: AnyEffect) -> Uncertain | None:
    """The uncertain size of an effect (its multiplier or share), if it has one."""
    for attribute in ("multiplier", "share"):
        value = getattr(effect, attribute, None)
        if isinstance(value, Uncertain):
            return value
    return None

