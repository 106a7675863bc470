"""The scenario: every number a run needs, validated at load and frozen while the model runs.

Times are in days unless a field name says hours. Shares are fractions in [0, 1].
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, field_validator, model_validator

from caresim.scenario.distributions import Distribution
from caresim.scenario.problems import FieldError

AgeBand = Literal["18-64", "65-74", "75-84", "85+"]
CrisisType = Literal["long_term_condition", "fall", "acute_illness"]
AGE_BANDS: tuple[AgeBand, ...] = ("18-64", "65-74", "75-84", "85+")
CRISIS_TYPES: tuple[CrisisType, ...] = ("long_term_condition", "fall", "acute_illness")
RESIDENCES = ("home", "care_home")
PATHWAYS = ("P0", "P1", "P2", "P3", "death")
DELAY_REASONS = (
    "awaiting_assessment", "home_care_package", "reablement", "community_bed", "care_home_placement",
    "patient_choice",
)
Residence = Literal["home", "care_home"]
Share = Annotated[float, Field(ge=0, le=1)]
Capacity = Annotated[int, Field(ge=0)] | Literal["unlimited"]
SHARE_TOLERANCE = 1e-6


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def capacity_value(capacity: Capacity) -> float:
    """A capacity as a number: ``unlimited`` is infinity."""
    return math.inf if capacity == "unlimited" else float(capacity)


def check_shares(shares: dict[str, float], *path: str) -> None:
    """Shares that add up to 1; `path` leads from the validated model to them."""
    total = sum(shares.values())
    if abs(total - 1) > SHARE_TOLERANCE:
        parts = ", ".join(f"{k} {v:g}" for k, v in shares.items())
        given = f"{parts} add up to {total:g}" if shares else "none are given"
        raise FieldError(f"the shares must add up to 1, but {given}", *path)


def check_complete(keys: dict, allowed: tuple[str, ...], *path: str) -> None:
    missing = [k for k in allowed if k not in keys]
    if missing:
        raise FieldError(f"needs a value for every one of {', '.join(allowed)}; missing {', '.join(missing)}", *path)


def check_initial(initial: int, capacity: Capacity) -> None:
    if initial > capacity_value(capacity):
        raise FieldError(f"initial_occupancy ({initial}) is above capacity ({capacity})", "initial_occupancy")


class Run(Frozen):
    start: dt.date = dt.date(2015, 4, 1)
    days: int = Field(default=366, ge=1, le=3660)
    warm_up_days: int = Field(default=28, ge=0, le=3650)
    replications: int = Field(default=20, ge=1, le=100_000)
    seed: int = Field(default=20150401, ge=0)
    max_events: int = Field(default=50_000_000, ge=1000)
    max_queue: int = Field(default=20_000, ge=10)


class RiskTier(Frozen):
    name: str
    share: Share
    relative_rate: NonNegativeFloat


class Population(Frozen):
    localities: dict[str, Annotated[int, Field(ge=0)]]
    age_shares: dict[AgeBand, Share]
    risk_tiers: list[RiskTier]
    growth_per_year: dict[AgeBand, Annotated[float, Field(ge=-0.5, le=0.5)]] = {}

    @model_validator(mode="after")
    def _check(self) -> Population:
        check_complete(self.age_shares, AGE_BANDS, "age_shares")
        if sum(self.age_shares.values()) > 1 + SHARE_TOLERANCE:
            raise FieldError("these are shares of all ages and cannot add up to more than 1", "age_shares")
        check_shares({t.name: t.share for t in self.risk_tiers}, "risk_tiers")
        if len({t.name for t in self.risk_tiers}) != len(self.risk_tiers):
            raise FieldError("risk tier names must be unique", "risk_tiers")
        return self

    @property
    def total(self) -> int:
        return sum(self.localities.values())

    def adults(self, band: str) -> float:
        return self.total * self.age_shares[band]


class Profile(Frozen):
    """Relative crisis rate by hour of day, day of week (Monday first) and month (January first)."""

    hourly: list[NonNegativeFloat] = Field(default=[1.0] * 24, min_length=24, max_length=24)
    weekday: list[NonNegativeFloat] = Field(default=[1.0] * 7, min_length=7, max_length=7)
    monthly: list[NonNegativeFloat] = Field(default=[1.0] * 12, min_length=12, max_length=12)

    @model_validator(mode="after")
    def _positive(self) -> Profile:
        for name in ("hourly", "weekday", "monthly"):
            if sum(getattr(self, name)) <= 0:
                raise ValueError(f"the {name} profile must have at least one value above 0")
        return self


class Demand(Frozen):
    crisis_rate_per_person_year: dict[AgeBand, NonNegativeFloat]
    care_home_crisis_rate_per_resident_year: NonNegativeFloat = 0.0
    crisis_type_shares: dict[AgeBand, dict[CrisisType, Share]]
    avoidable_share: dict[CrisisType, Share]
    gp_manageable_share: Share = Field(
        default=0.0,
        description="Share of A&E self-presenters whom A&E would not admit who could be seen in primary care.")
    profile: Profile = Profile()
    thinning_headroom: float = Field(default=1.25, ge=1, le=10)

    @model_validator(mode="after")
    def _check(self) -> Demand:
        check_complete(self.crisis_rate_per_person_year, AGE_BANDS, "crisis_rate_per_person_year")
        check_complete(self.crisis_type_shares, AGE_BANDS, "crisis_type_shares")
        for band, shares in self.crisis_type_shares.items():
            path = ("crisis_type_shares", band)
            check_complete(shares, CRISIS_TYPES, *path)
            check_shares(shares, *path)
        check_complete(self.avoidable_share, CRISIS_TYPES, "avoidable_share")
        return self


FIRST_CONTACTS = ("gp", "out_of_hours", "ambulance", "ae", "minor_injury")
OUTCOMES = {
    "gp": ("home", "rapid_response", "ae", "admit"),
    "out_of_hours": ("home", "rapid_response", "ambulance", "ae", "admit"),
    "ambulance": ("home", "rapid_response", "ae"),
    "minor_injury": ("home", "ae"),
    "rapid_response": ("home", "reablement", "step_up", "admit"),
    "intermediate_care": ("home", "reablement", "care_home", "readmit", "death"),
}


class ContactShares(Frozen):
    gp: Share = 0.0
    out_of_hours: Share = 0.0
    ambulance: Share = 0.0
    ae: Share = 0.0
    minor_injury: Share = 0.0

    @model_validator(mode="after")
    def _sum(self) -> ContactShares:
        check_shares(self.model_dump())
        return self


class FirstContact(Frozen):
    home_in_hours: ContactShares
    home_out_of_hours: ContactShares
    care_home_in_hours: ContactShares
    care_home_out_of_hours: ContactShares


class Routing(Frozen):
    """Where each first contact or community service sends a patient next (shares sum to 1)."""

    gp: dict[str, Share]
    out_of_hours: dict[str, Share]
    ambulance: dict[str, Share]
    ambulance_care_home: dict[str, Share]
    minor_injury: dict[str, Share]
    rapid_response: dict[str, Share]
    intermediate_care: dict[str, Share]

    @model_validator(mode="after")
    def _check(self) -> Routing:
        for name, shares in self.model_dump().items():
            allowed = OUTCOMES[name.removesuffix("_care_home")]
            unknown = [k for k in shares if k not in allowed]
            if unknown:
                raise FieldError(f"unknown outcome {unknown[0]!r}", name, unknown[0], choices=allowed)
            check_shares(shares, name)
        return self


class Hours(Frozen):
    start_hour: float = Field(default=0.0, ge=0, le=24)
    end_hour: float = Field(default=24.0, ge=0, le=24)
    weekends: bool = True

    @model_validator(mode="after")
    def _ordered(self) -> Hours:
        if self.end_hour <= self.start_hour:
            raise ValueError(f"end_hour ({self.end_hour:g}) must be after start_hour ({self.start_hour:g})")
        return self


class GeneralPractice(Frozen):
    enabled: bool = True
    appointments_per_weekday: Capacity
    appointments_per_weekend_day: Capacity = 0
    background_share_of_appointments: Share = 0.0
    hours: Hours = Hours(start_hour=8, end_hour=18.5, weekends=False)


class RapidResponse(Frozen):
    enabled: bool = True
    capacity: Capacity
    hours: Hours = Hours(start_hour=8, end_hour=20)
    episode: Distribution


class AccidentAndEmergency(Frozen):
    enabled: bool = True
    cubicles: Capacity
    time_discharged_hours: Distribution
    time_admitted_hours: Distribution
    admit_probability: dict[AgeBand, Share]
    admit_probability_care_home: Share

    @model_validator(mode="after")
    def _check(self) -> AccidentAndEmergency:
        check_complete(self.admit_probability, AGE_BANDS, "admit_probability")
        return self


class AcuteBeds(Frozen):
    capacity: Capacity
    when_full: Literal["wait", "turn_away"] = "wait"
    length_of_stay: dict[AgeBand, Distribution]
    initial_occupancy: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _check(self) -> AcuteBeds:
        check_complete(self.length_of_stay, AGE_BANDS, "length_of_stay")
        check_initial(self.initial_occupancy, self.capacity)
        return self


class IntermediateCareBeds(Frozen):
    enabled: bool = True
    capacity: Capacity
    step_down_share: Share | None = Field(
        default=None,
        description="Beds reserved for step-down from hospital; the rest for step-up. None: one flexible pool.",
    )
    length_of_stay: Distribution
    initial_occupancy: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _check(self) -> IntermediateCareBeds:
        check_initial(self.initial_occupancy, self.capacity)
        return self


class Reablement(Frozen):
    enabled: bool = True
    capacity: Capacity
    duration: Distribution
    initial_occupancy: int = Field(default=0, ge=0)
    needs_home_care_share: Share
    at_home_91_days_probability: dict[AgeBand, Share]

    @model_validator(mode="after")
    def _check(self) -> Reablement:
        check_initial(self.initial_occupancy, self.capacity)
        return self


class HomeCare(Frozen):
    enabled: bool = True
    new_packages_per_week: Capacity
    hours_per_week: NonNegativeFloat
    package_weeks: NonNegativeFloat = 26.0


class CareHomes(Frozen):
    enabled: bool = True
    residential_beds: Capacity
    nursing_beds: Capacity
    initial_occupancy_share: Share
    nursing_share_of_admissions: Share
    mean_residence_years: dict[Literal["residential", "nursing"], Annotated[float, Field(gt=0)]]
    community_admissions_per_year: NonNegativeFloat
    council_funded_share: Share
    resident_age_shares: dict[AgeBand, Share]

    @model_validator(mode="after")
    def _check(self) -> CareHomes:
        check_shares(self.resident_age_shares, "resident_age_shares")
        if "unlimited" in (self.residential_beds, self.nursing_beds):
            raise ValueError("care-home beds must be numbers, since they set how many residents there are; "
                             "for no waiting, give many beds and a lower initial_occupancy_share")
        return self


class Services(Frozen):
    gp: GeneralPractice
    rapid_response: RapidResponse
    ae: AccidentAndEmergency
    acute_beds: AcuteBeds
    intermediate_care_beds: IntermediateCareBeds
    reablement: Reablement
    home_care: HomeCare
    care_homes: CareHomes


class Discharge(Frozen):
    pathways: dict[AgeBand, dict[Literal["P0", "P1", "P2", "P3", "death"], Share]]
    care_home_resident_death: Share
    p1_reablement_share: Share
    assessment_share: dict[Literal["P0", "P1", "P2", "P3"], Share]
    assessment: Distribution
    patient_choice_share_p3: Share
    patient_choice: Distribution
    hours: Hours = Hours(start_hour=8, end_hour=18, weekends=False)
    readmission_probability: dict[AgeBand, Share]
    readmission_window_days: float = Field(default=30.0, gt=0)
    delay_agency: dict[str, dict[Literal["nhs", "social_care", "both"], Share]]

    @model_validator(mode="after")
    def _check(self) -> Discharge:
        check_complete(self.pathways, AGE_BANDS, "pathways")
        for band, shares in self.pathways.items():
            check_complete(shares, PATHWAYS, "pathways", band)
            check_shares(shares, "pathways", band)
        check_complete(self.readmission_probability, AGE_BANDS, "readmission_probability")
        for reason, shares in self.delay_agency.items():
            if reason not in DELAY_REASONS:
                raise FieldError(f"unknown delay reason {reason!r}", "delay_agency", reason, choices=DELAY_REASONS)
            check_shares(shares, "delay_agency", reason)
        check_complete(self.delay_agency, DELAY_REASONS, "delay_agency")
        return self


class Costs(Frozen):
    """Unit costs in pounds, with the payer of each."""

    acute_bed_day: NonNegativeFloat
    ae_attendance_admitted: NonNegativeFloat
    ae_attendance_discharged: NonNegativeFloat
    minor_injury_attendance: NonNegativeFloat
    ambulance_incident: NonNegativeFloat
    gp_consultation: NonNegativeFloat
    out_of_hours_contact: NonNegativeFloat
    intermediate_care_bed_day: NonNegativeFloat
    rapid_response_episode: NonNegativeFloat
    reablement_episode: NonNegativeFloat
    home_care_hour: NonNegativeFloat
    residential_home_week: NonNegativeFloat
    nursing_home_week: NonNegativeFloat
    intermediate_care_council_share: Share = 0.0


class Target(Frozen):
    measure: str
    target: float
    tolerance: NonNegativeFloat
    tolerance_kind: Literal["relative", "absolute"] = "relative"
    source: str = ""

    @property
    def bounds(self) -> tuple[float, float]:
        spread = self.target * self.tolerance if self.tolerance_kind == "relative" else self.tolerance
        return self.target - spread, self.target + spread


class FreeParameter(Frozen):
    """Numbers scaled together by one factor until ``measure`` meets its target."""

    parameter: str | list[str] = Field(
        description="Dotted path(s) to numbers in the scenario, e.g. demand.crisis_rate_per_person_year.85+")
    measure: str
    low: float = 0.0
    high: float = math.inf
    decreasing: bool = Field(
        default=False, description="True when the measure falls as the numbers rise (e.g. beds and occupancy).")

    @property
    def paths(self) -> list[str]:
        return [self.parameter] if isinstance(self.parameter, str) else list(self.parameter)


class Calibration(Frozen):
    free_parameters: list[FreeParameter] = []
    replications: int = Field(default=4, ge=1)
    iterations: int = Field(default=6, ge=1)


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


class Eligible(Frozen):
    age_bands: list[AgeBand] | None = None
    residence: list[Residence] | None = None
    crisis_types: list[CrisisType] | None = None
    risk_tiers: list[str] | None = None
    localities: list[str] | None = None




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


class LengthOfStayEffect(Effect):
    kind: Literal["length_of_stay"]
    service: Literal["acute_beds", "intermediate_care_beds"]
    multiplier: Uncertain


class AssessmentDelayEffect(Effect):
    kind: Literal["assessment_delay"]
    multiplier: Uncertain


class DischargeHoursEffect(Effect):
    kind: Literal["discharge_hours"]
    hours: Hours


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
    | DischargeHoursEffect | PathwayShiftEffect | ReadmissionEffect | CareHomeAdmissionEffect,
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


class Variant(Frozen):
    title: str = ""
    schemes: list[str]


class Scenario(Frozen):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    title: str
    description: str = ""
    run: Run = Run()
    population: Population
    demand: Demand
    first_contact: FirstContact
    routing: Routing
    services: Services
    discharge: Discharge
    costs: Costs
    targets: list[Target] = []
    bcf_targets: dict[str, float] = {}
    calibration: Calibration = Calibration()
    schemes: dict[Annotated[str, Field(pattern=r"^[a-z0-9_]+$")], Scheme] = {}
    mix_name: str = Field(default="schemes", pattern=r"^[a-z0-9_]+$")
    mix: list[str] | None = Field(default=None, description="Schemes in the main mix; none given: all schemes.")
    claimed_benefit_source: str = ""
    variants: dict[Annotated[str, Field(pattern=r"^[a-z0-9_]+$")], Variant] = {}

    @field_validator("name")
    @classmethod
    def _folder_name(cls, name: str) -> str:
        if name.startswith(".") or ".." in name or name.endswith(".partial"):
            raise ValueError("the name is used as a folder name, so it cannot start with '.', contain '..' "
                             "or end in '.partial'")
        return name

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        names = list(self.schemes)
        tiers = [t.name for t in self.population.risk_tiers]
        for name, scheme in self.schemes.items():
            for index, effect in enumerate(scheme.effects):
                where = ("schemes", name, "effects", index)
                self._check_eligible(name, effect.eligible, tiers, (*where, "eligible"))
                if isinstance(effect, PreventionEffect) and effect.multiplier.high is not None:
                    if effect.multiplier.high > self.demand.thinning_headroom:
                        raise FieldError(
                            f"scheme {name}: a prevention multiplier up to {effect.multiplier.high:g} needs "
                            f"demand.thinning_headroom of at least that (it is {self.demand.thinning_headroom:g})",
                            *where, "multiplier", "high",
                        )
            if scheme.start and not self.run.start <= scheme.start < self.run_end:
                raise FieldError(f"scheme {name} starts on {scheme.start}, outside the run ({self.run.start} to "
                                 f"{self.run_end - dt.timedelta(days=1)})", "schemes", name, "start")
        for index, scheme_name in enumerate(self.mix or []):
            if scheme_name not in self.schemes:
                raise FieldError(f"mix names scheme {scheme_name!r}, which is not defined", "mix", index,
                                 choices=names)
        self._check_cuts()
        for variant_name, variant in self.variants.items():
            for index, scheme_name in enumerate(variant.schemes):
                if scheme_name not in names:
                    raise FieldError(f"variant {variant_name} names scheme {scheme_name!r}, which is not defined",
                                     "variants", variant_name, "schemes", index, choices=names)
        return self

    def _check_cuts(self) -> None:
        """Capacity effects that remove places may not, all together, take a service below none."""
        removed: dict[str, int] = {}
        for name, scheme in self.schemes.items():
            for index, effect in enumerate(scheme.effects):
                if not isinstance(effect, CapacityEffect) or effect.add >= 0:
                    continue
                removed[effect.service] = removed.get(effect.service, 0) - effect.add
                section, field = CAPACITY_FIELDS[effect.service]
                base = capacity_value(getattr(getattr(self.services, section), field))
                left = base - removed[effect.service]
                if left < 0:
                    raise FieldError(f"scheme {name} removes {-effect.add} places from {effect.service}, which has "
                                     f"{base:g}; with every scheme's cuts that leaves {left:g}",
                                     "schemes", name, "effects", index, "add")

    def _check_eligible(self, scheme: str, eligible: Eligible, tiers: list[str], where: tuple[str | int, ...]) -> None:
        for index, tier in enumerate(eligible.risk_tiers or []):
            if tier not in tiers:
                raise FieldError(f"scheme {scheme} names risk tier {tier!r}, which population.risk_tiers "
                                 "does not define", *where, "risk_tiers", index, choices=tiers)
        for index, locality in enumerate(eligible.localities or []):
            if locality not in self.population.localities:
                raise FieldError(f"scheme {scheme} names locality {locality!r}, which population.localities "
                                 "does not define", *where, "localities", index,
                                 choices=list(self.population.localities))

    @property
    def run_end(self) -> dt.date:
        return self.run.start + dt.timedelta(days=self.run.days)

    @property
    def mix_schemes(self) -> tuple[str, ...]:
        return tuple(self.mix if self.mix is not None else self.schemes)

    def scheme(self, name: str) -> Scheme:
        return self.schemes[name]
