"""Schemes in a scenario: their effects (each a kind of intervention), effect sizes with intervals, costs, and
variants (named mixes)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, NonNegativeFloat, model_validator

from caresim.scenario.fields import (
    AgeBand,
    CrisisType,
    Frozen,
    HourlyRates,
    Residence,
    WeekdayRates,
)
from caresim.scenario.services import Hours


class Uncertain(Frozen):
    """An effect size: a point value and an interval drawn once per replication."""

    value: float
    low: float | None = None
    high: float | None = None
    distribution: Literal["triangular", "uniform"] = "triangular"

    @model_validator(mode="after")
    def _ordered(self) -> Uncertain:
        if (self.low is None) != (self.high is None):
            raise ValueError("give both low and high, or neither")
        if self.low is not None and not self.low <= self.value <= self.high:
            raise ValueError(f"value {self.value:g} must lie between low {self.low:g} and high {self.high:g}")
        return self


Received = Literal["rapid_response", "step_up", "step_down", "reablement", "admission_avoided", "programme",
                   "supported_care_home"]


class Eligible(Frozen):
    age_bands: list[AgeBand] | None = None
    residence: list[Residence] | None = None
    crisis_types: list[CrisisType] | None = None
    risk_tiers: list[str] | None = None
    localities: list[str] | None = None
    received: list[Received] | None = Field(
        default=None,
        description="The effect acts only on people who received one of these (None: on everyone eligible): "
                    "rapid_response, a step_up or step_down bed, reablement; admission_avoided (diverted at the "
                    "admission decision by any scheme); programme (enrolled in this scheme's prevention programme); "
                    "supported_care_home (a care-home resident). Carried across a person's episodes.")


class Effect(Frozen):
    eligible: Eligible = Eligible()


class CapacityEffect(Effect):
    kind: Literal["capacity"]
    service: Literal["rapid_response", "intermediate_care_beds", "reablement", "home_care", "gp", "acute_beds", "ae"]
    add: int
    hours: Hours | None = None


CAPACITY_FIELDS = {
    "rapid_response": ("rapid_response", "capacity"), "intermediate_care_beds": ("intermediate_care_beds", "capacity"),
    "reablement": ("reablement", "capacity"), "home_care": ("home_care", "new_packages_per_week"),
    "gp": ("gp", "appointments_per_weekday"), "acute_beds": ("acute_beds", "capacity"), "ae": ("ae", "cubicles"),
}


class PreventionProgramme(Frozen):
    places: int = Field(ge=0)
    duration_days: float = Field(gt=0)
    effect_lasts_days: float = Field(gt=0)


class PreventionEffect(Effect):
    kind: Literal["prevention"]
    multiplier: Uncertain
    programme: PreventionProgramme | None = None


class DiversionEffect(Effect):
    kind: Literal["diversion"]
    at: Literal["self_presentation", "ambulance_conveyance", "admission"]
    to: Literal["gp", "rapid_response", "intermediate_care_beds", "home"]
    share: Uncertain
    then_admitted: Uncertain = Uncertain(value=0.0)
    max_acuity: float = Field(
        default=1.0, ge=0, le=1,
        description="The highest acuity (a quantile of all crises) the scheme can treat; 1: any. A more acute "
                    "patient is never diverted, and the share applies to the patients it can treat.")


class LengthOfStayEffect(Effect):
    kind: Literal["length_of_stay"]
    service: Literal["acute_beds", "intermediate_care_beds"]
    multiplier: Uncertain


class AssessmentDelayEffect(Effect):
    kind: Literal["assessment_delay"]
    multiplier: Uncertain


class DischargeProfileEffect(Effect):
    """Discharge rates raised while the scheme acts: the element-wise maximum with the scenario's profile."""

    kind: Literal["discharge_profile"]
    hourly: HourlyRates | None = None
    weekday: WeekdayRates | None = None

    @model_validator(mode="after")
    def _given(self) -> DischargeProfileEffect:
        if self.hourly is None and self.weekday is None:
            raise ValueError("give hourly (24 relative rates) or weekday (7, Monday first), or both")
        return self


class PathwayShiftEffect(Effect):
    kind: Literal["pathway_shift"]
    from_pathway: Literal["P0", "P1", "P2", "P3"] = Field(alias="from")
    to_pathway: Literal["P0", "P1", "P2", "P3"] = Field(alias="to")
    share: Uncertain


class ReadmissionEffect(Effect):
    kind: Literal["readmission"]
    multiplier: Uncertain


class CareHomeAdmissionEffect(Effect):
    kind: Literal["care_home_admission"]
    multiplier: Uncertain


AnyEffect = Annotated[
    CapacityEffect | PreventionEffect | DiversionEffect | LengthOfStayEffect | AssessmentDelayEffect
    | DischargeProfileEffect | PathwayShiftEffect | ReadmissionEffect | CareHomeAdmissionEffect,
    Field(discriminator="kind"),
]


class SchemeCost(Frozen):
    recurrent_per_year: NonNegativeFloat = 0.0
    non_recurrent: NonNegativeFloat = 0.0
    payer: Literal["nhs", "council"] = "nhs"


class Scheme(Frozen):
    title: str
    lead_provider: str = "not stated"
    cost: SchemeCost = SchemeCost()
    start: dt.date | None = None
    ramp_up_days: float = Field(default=0.0, ge=0)
    claimed_benefit_per_year: NonNegativeFloat = 0.0
    effects: list[AnyEffect] = []
    source: str = ""

    @model_validator(mode="after")
    def _programme_given(self) -> Scheme:
        wants = any("programme" in (e.eligible.received or ()) for e in self.effects)
        if wants and not any(isinstance(e, PreventionEffect) and e.programme is not None for e in self.effects):
            raise ValueError("an effect is for people enrolled in this scheme's programme (received: [programme]), "
                             "but the scheme has no prevention effect with a programme")
        return self


class Variant(Frozen):
    title: str = ""
    schemes: list[str]
