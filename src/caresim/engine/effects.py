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
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import numpy as np

from caresim.engine.calendar import Calendar
from caresim.engine.demand import COLUMN, Candidates
from caresim.engine.streams import stream
from caresim.scenario.fields import AGE_BANDS, CRISIS_TYPES
from caresim.scenario.schema import Scenario
from caresim.scenario.schemes import (
    AnyEffect,
    CapacityEffect,
    CareHomeAdmissionEffect,
    DischargeProfileEffect,
    DiversionEffect,
    Eligible,
    LengthOfStayEffect,
    PathwayShiftEffect,
    PreventionEffect,
    Uncertain,
)
from caresim.scenario.services import Hours

if TYPE_CHECKING:
    from caresim.engine.patient import Patient

EffectKey = tuple[str, str]  # (scheme, effect name)
E = TypeVar("E")  # one kind of effect (a schema class)


@dataclass(frozen=True)
class Target:
    """Who an effect applies to, as sets of codes (None: everyone)."""

    bands: frozenset[int] | None
    residences: frozenset[int] | None
    crisis_types: frozenset[int] | None
    tiers: frozenset[int] | None
    localities: frozenset[int] | None

    @classmethod
    def of(cls, eligible: Eligible, scenario: Scenario) -> Target:
        def codes(values: Sequence[str] | None, universe: Sequence[str]) -> frozenset[int] | None:
            return None if values is None else frozenset(list(universe).index(v) for v in values)

        return cls(
            codes(eligible.age_bands, AGE_BANDS),
            codes(eligible.residence, ("home", "care_home")),
            codes(eligible.crisis_types, CRISIS_TYPES),
            codes(eligible.risk_tiers, [t.name for t in scenario.population.risk_tiers]),
            codes(eligible.localities, list(scenario.population.localities)),
        )

    def applies(self, patient: Patient) -> bool:
        return ((self.bands is None or patient.band in self.bands)
                and (self.residences is None or patient.residence in self.residences)
                and (self.crisis_types is None or patient.crisis_type in self.crisis_types)
                and (self.tiers is None or patient.tier in self.tiers)
                and (self.localities is None or patient.locality in self.localities))

    def mask(self, candidates: Candidates, residence: int) -> np.ndarray:
        mask = np.ones(len(candidates), dtype=bool)
        if self.residences is not None and residence not in self.residences:
            return ~mask
        for codes, values in ((self.bands, candidates.band), (self.crisis_types, candidates.crisis_type),
                              (self.tiers, candidates.tier), (self.localities, candidates.locality)):
            if codes is not None:
                mask &= np.isin(values, list(codes))
        return mask


@dataclass(frozen=True)
class Active(Generic[E]):
    """One effect of one scheme, with its drawn size and when it acts."""

    key: EffectKey
    effect: E
    target: Target
    size: float
    start: float
    ramp_days: float
    then_admitted: float = 0.0

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
        fixed_sizes = fixed_sizes or {}
        for scheme_name in scheme_names:
            scheme = scenario.scheme(scheme_name)
            for effect in scheme.effects:
                key = (scheme_name, effect.name)
                start_date = effect.start or scheme.start or scenario.run.start
                start = float((start_date - calendar.origin).days)
                uncertain = uncertain_of(effect)
                if key in fixed_sizes:
                    size = fixed_sizes[key]
                elif uncertain is not None:
                    u = stream(scenario.run.seed, draw_name(key), replication).random()
                    size = uncertain.quantile(u)
                else:
                    size = float(getattr(effect, "add", 0))
                then_admitted = 0.0
                if isinstance(effect, DiversionEffect):
                    u = stream(scenario.run.seed, f"{draw_name(key)}/then_admitted", replication).random()
                    then_admitted = effect.then_admitted.quantile(u)
                self.active.append(Active(key, effect, Target.of(effect.eligible, scenario), size, start,
                                          scheme.ramp_up_days, then_admitted))
        self.by_kind: dict[type, list[Active[Any]]] = {}
        for active in self.active:
            self.by_kind.setdefault(type(active.effect), []).append(active)
        self.diversions: dict[str, list[Active[DiversionEffect]]] = {}
        for diversion in self.of(DiversionEffect):
            self.diversions.setdefault(diversion.effect.at, []).append(diversion)

    def of(self, kind: type[E]) -> list[Active[E]]:
        """The active effects of one kind, in declared order."""
        return cast("list[Active[E]]", self.by_kind.get(kind, []))  # by_kind is keyed by each effect's own type

    def prevention_multiplier(self, candidates: Candidates, residence: int,
                              eligible_people: Callable[[Target], float]) -> np.ndarray:
        """Per-candidate crisis-rate multiplier; a programme protects only the people it has enrolled."""
        multiplier = np.ones(len(candidates))
        golden = 0.6180339887498949
        for k, active in enumerate(self.of(PreventionEffect)):
            mask = active.target.mask(candidates, residence)
            if not mask.any():
                continue
            t = candidates.time[mask]
            strength = active.strengths(t)
            programme = active.effect.programme
            if programme is not None:
                people = max(eligible_people(active.target), 1.0)
                enrolled_per_day = programme.places / programme.duration_days
                protected = enrolled_per_day * np.clip(t - active.start, 0.0, programme.effect_lasts_days)
                share = np.minimum(protected / people, 1.0)
                draw = (candidates.rows[mask, COLUMN["enrolled"]] + golden * (k + 1)) % 1.0
                strength = np.where(draw < share, 1.0, 0.0)
            multiplier[mask] *= 1.0 + (active.size - 1.0) * strength
        return multiplier

    def multiplier(self, kind: type[E], patient: Patient, t: float) -> float:
        """The product of the multipliers of this kind that apply to the patient at time ``t``."""
        value = 1.0
        for active in self.of(kind):
            if active.target.applies(patient):
                value *= active.multiplier(t)
        return value

    def stay_multiplier(self, service: str, patient: Patient, t: float) -> float:
        """The product of the length-of-stay multipliers for this service that apply to the patient."""
        value = 1.0
        for active in self.of(LengthOfStayEffect):
            if active.effect.service == service and active.target.applies(patient):
                value *= active.multiplier(t)
        return value

    def pathway_shares(self, base: dict[str, float], patient: Patient, t: float) -> dict[str, float]:
        shares = dict(base)
        for active in self.of(PathwayShiftEffect):
            if active.target.applies(patient):
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
        """The scheme that would divert this patient at this decision point, if any."""
        lower = 0.0
        remaining = 1.0
        for active in self.diversions.get(point, ()):
            if not active.target.applies(patient):
                continue
            share = active.size * active.strength(t)
            slice_ = remaining * share
            if lower <= u < lower + slice_:
                return active
            lower += slice_
            remaining *= 1.0 - share
        return None

    def capacity_added(self, service: str, t: float) -> int:
        return sum(int(round(a.size * a.strength(t))) for a in self.of(CapacityEffect) if a.effect.service == service)

    def hours(self, service: str, base: Hours, t: float) -> Hours:
        """Opening hours as the union of the baseline and any started scheme's hours."""
        extra = [a.effect.hours for a in self.of(CapacityEffect)
                 if a.effect.service == service and a.effect.hours is not None and a.strength(t) > 0]
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


def uncertain_of(effect: AnyEffect) -> Uncertain | None:
    """The uncertain size of an effect (its multiplier or share), if it has one."""
    for attribute in ("multiplier", "share"):
        value = getattr(effect, attribute, None)
        if isinstance(value, Uncertain):
            return value
    return None

