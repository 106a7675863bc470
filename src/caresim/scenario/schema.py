"""The scenario: every number a run needs, validated at load and frozen while the model runs.

Times are in days unless a field name says hours. Shares are fractions in [0, 1].
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Literal

from pydantic import Field, NonNegativeFloat, PositiveFloat, field_validator, model_validator

from caresim.scenario.benchmarks import Benchmark
from caresim.scenario.distributions import Distribution
from caresim.scenario.evidence import Ledger
from caresim.scenario.fields import (
    AGE_BANDS,
    CRISIS_TYPES,
    DELAY_REASONS,
    PATHWAYS,
    SHARE_TOLERANCE,
    AgeBand,
    Capacity,
    CrisisType,
    Frozen,
    HourlyRates,
    Share,
    WeekdayRates,
    capacity_value,
    check_complete,
    check_shares,
)
from caresim.scenario.problems import FieldError
from caresim.scenario.schemes import (
    CAPACITY_FIELDS,
    AnyEffect,
    CapacityEffect,
    Eligible,
    PreventionEffect,
    Scheme,
    Variant,
    size_field,
)
from caresim.scenario.services import Services


class Draws(Frozen):
    """An adaptive number of effect draws: batches of replications until both ends of the headline outcome's range
    of likely outcomes are pinned down to ``precision`` of its width, or ``max`` draws."""

    min: int = Field(default=20, ge=2, le=100_000, description="Draws in the first batch.")
    batch: int = Field(default=20, ge=1, le=100_000, description="Draws added while the range is not yet stable.")
    max: int = Field(default=200, ge=2, le=100_000, description="The cap: no more draws than this.")
    precision: float = Field(
        default=0.1, gt=0, lt=1, description="Stop when the 95 % confidence interval of the 2.5 and of the 97.5 "
        "percentile of admissions avoided and of net cost is within this share of the range's width (half-width).")


class Run(Frozen):
    start: dt.date = Field(description="The first simulated day, e.g. 2015-04-01 for the financial year 2015/16.")
    days: int = Field(default=366, ge=1, le=3660)
    warm_up_days: int = Field(default=28, ge=0, le=3650)
    replications: Annotated[int, Field(ge=1, le=100_000)] | Draws = Field(
        default=20, description="Effect draws (paired replications): a number runs exactly that many; "
        "{min, batch, max, precision} adds batches until the range of likely outcomes is stable or max is reached.")
    attribution_draws: int = Field(
        default=20, ge=1, le=100_000, description="The attribution worlds (each scheme alone and left out) run on "
        "the first this-many draws only, paired with the headline worlds on the same draws.")

    @model_validator(mode="after")
    def _check(self) -> Run:
        draws = self.replications  # checked here, not in Draws: a union's error would also blame the number
        if isinstance(draws, Draws) and draws.max < draws.min:
            raise FieldError(f"max ({draws.max}) must be at least min ({draws.min})", "replications", "max")
        return self
    seed: int = Field(ge=0, description="The root seed: the same seed gives the same numbers.")
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


class Acuity(Frozen):
    """How each crisis's clinical need (its acuity, a quantile of all crises) drives its care."""

    correlation: float = Field(
        default=0.0, ge=0, lt=1,
        description="Gaussian-copula correlation of acuity with the A&E admission decision and with the acute "
                    "stay (within the A&E outcome); 0: independent. Either marginal is unchanged.")


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
    acuity: Acuity = Acuity()

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


class DischargeProfile(Frozen):
    """Relative rates at which patients ready to leave hospital leave, by hour of day and day of week."""

    hourly: HourlyRates = [1.0] * 24
    weekday: WeekdayRates = [1.0] * 7

    @model_validator(mode="after")
    def _positive(self) -> DischargeProfile:
        for name in ("hourly", "weekday"):
            if sum(getattr(self, name)) <= 0:
                raise FieldError(f"the {name} discharge profile must have at least one value above 0", name)
        return self


class Discharge(Frozen):
    pathways: dict[AgeBand, dict[Literal["P0", "P1", "P2", "P3", "death"], Share]]
    care_home_resident_death: Share
    p1_reablement_share: Share
    assessment_share: dict[Literal["P0", "P1", "P2", "P3"], Share]
    assessment: Distribution
    patient_choice_share_p3: Share
    patient_choice: Distribution
    profile: DischargeProfile = Field(
        default=DischargeProfile(),
        description="Relative discharge rates by hour of day and day of week (Monday first).")
    hazard_per_hour: PositiveFloat | Literal["unlimited"] = Field(
        default="unlimited",
        description="Chance per hour, at relative rate 1, that a patient ready to leave leaves; "
                    "unlimited: at the first moment the rate is above 0.")
    assessments_per_weekday: Capacity = Field(
        default="unlimited", description="Assessments the discharge team can start on a weekday.")
    assessments_per_weekend_day: Capacity = Field(
        default="unlimited", description="Assessments the discharge team can start on a Saturday or Sunday.")
    readmission_probability: dict[AgeBand, Share]
    readmission_window_days: float = Field(default=30.0, gt=0)
    delay_agency: dict[str, dict[Literal["nhs", "social_care", "both"], Share]]

    @model_validator(mode="before")
    @classmethod
    def _no_hours(cls, data: object) -> object:
        if isinstance(data, dict) and "hours" in data:
            raise FieldError("'hours' (an open/closed window) was replaced: give 'profile' (relative discharge "
                             "rates, hourly and weekday) and 'hazard_per_hour' instead", "hours")
        return data

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
    non_elective_tariff: NonNegativeFloat = Field(
        default=0.0, description="Pounds the CCG pays an acute provider per emergency admission at full tariff.")
    marginal_rate_share: Share = Field(
        default=1.0, description="Share of the tariff paid for an emergency admission above the provider's "
                                 "baseline (the marginal rate emergency rule): the cash a CCG keeps per admission "
                                 "avoided.")
    ward_beds: int = Field(default=28, ge=1, description="Staffed beds in a ward: acute beds release cash only "
                                                        "in whole wards.")


class PooledFund(Frozen):
    """The pooled budget (the Better Care Fund): the baseline's places it pays for, the share paid for performance."""

    pays_for: dict[Literal["rapid_response", "intermediate_care_beds", "reablement"], int] = Field(
        default={}, description="Places of the baseline's services the fund pays for (removed in the no-fund world).")
    performance_share: Share = Field(
        default=0.0, description="Share of the fund paid for meeting its metrics' targets, split equally.")
    performance_metrics: list[str] = Field(
        default=[], description="Every metric the performance payment rests on, modelled (in bcf_targets) or not.")


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


class Scenario(Frozen):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    title: str
    description: str = ""
    run: Run
    population: Population
    demand: Demand
    first_contact: FirstContact
    routing: Routing
    services: Services
    discharge: Discharge
    costs: Costs
    targets: list[Target] = []
    bcf_targets: dict[str, float] = {}
    fund: PooledFund = PooledFund()
    calibration: Calibration = Calibration()
    schemes: dict[Annotated[str, Field(pattern=r"^[a-z0-9_]+$")], Scheme] = {}
    mix_name: str = Field(default="schemes", pattern=r"^[a-z0-9_]+$")
    mix: list[str] | None = Field(default=None, description="Schemes in the main mix; none given: all schemes.")
    claimed_benefit_source: str = ""
    variants: dict[Annotated[str, Field(pattern=r"^[a-z0-9_]+$")], Variant] = {}
    evidence: Ledger = Field(default={}, description="The evidence ledger: in a scenario file the name of a "
                             "ledger file (relative to it), read into its entries at load.")
    benchmarks: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], Benchmark] = Field(
        default={}, description="Benchmarks for the whole mix: in a scenario file the name of a benchmark file "
        "(relative to it), read into its entries at load.")
    compare_with: str | None = Field(default=None, description="A scenario file (relative to the file that names "
                                     "it) that differs only in its schemes; `caresim run` also runs its mix and each "
                                     "of its schemes alone on the same baseline, for the report's side-by-side table.")

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
            seen: set[str] = set()
            for index, effect in enumerate(scheme.effects):
                where = ("schemes", name, "effects", index)
                if effect.name in seen:
                    raise FieldError(f"scheme {name} has two effects named {effect.name!r}; an effect's name keys "
                                     "its random draws, so it must be unique within the scheme", *where, "name")
                seen.add(effect.name)
                self._check_eligible(name, effect.eligible, tiers, (*where, "eligible"))
                self._check_evidence(name, effect, where)
                if isinstance(effect, PreventionEffect) and effect.multiplier.high is not None:
                    largest = (effect.multiplier.high if effect.multiplier.distribution in ("triangular", "uniform")
                               else effect.multiplier.quantile(0.9999))
                    if largest > self.demand.thinning_headroom:
                        raise FieldError(
                            f"scheme {name}: a prevention multiplier up to {largest:g} needs "
                            f"demand.thinning_headroom of at least that (it is {self.demand.thinning_headroom:g})",
                            *where, "multiplier", "high",
                        )
                if effect.start and effect.start < self.run.start:
                    raise FieldError(f"effect {effect.name} of scheme {name} starts on {effect.start}, before the "
                                     f"run (from {self.run.start}); a start after the run's end is allowed",
                                     *where, "start")
            if scheme.start and scheme.start < self.run.start:
                raise FieldError(f"scheme {name} starts on {scheme.start}, before the run (from {self.run.start}); "
                                 "a start after the run's end is allowed", "schemes", name, "start")
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

    def _check_evidence(self, scheme: str, effect: AnyEffect, where: tuple[str | int, ...]) -> None:
        """The ledger entry an effect names exists; one for a mechanism never evaluated includes no effect."""
        if effect.evidence is None:
            return
        entry = self.evidence.get(effect.evidence)
        if entry is None:
            raise FieldError(f"effect {effect.name} of scheme {scheme} names evidence {effect.evidence!r}, which the "
                             "scenario's evidence ledger does not hold", *where, "evidence",
                             choices=list(self.evidence))
        field = size_field(effect.kind)
        no_effect = {"multiplier": 1.0, "share": 0.0}.get(field or "")
        if entry.kind == "none" and no_effect is not None and not entry.ci_low <= no_effect <= entry.ci_high:
            raise FieldError(f"evidence {effect.evidence!r} found no evaluation of the mechanism, so its range "
                             f"({entry.ci_low:g} to {entry.ci_high:g}) must include no effect ({no_effect:g})",
                             *where, "evidence")

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

    def without_fund(self) -> Scenario:
        """The baseline with the places the pooled fund pays for removed (none left if it pays for more than there
        are, an unlimited service kept; those starting in them removed too). A service left with no places is
        switched off, so its patients take the pathway a missing service leaves them, not an endless queue."""
        services = self.services
        for service, places in self.fund.pays_for.items():
            section = getattr(services, service)
            if section.capacity == "unlimited":
                continue
            left = max(0, int(section.capacity) - places)
            update: dict[str, int | bool] = {"capacity": left}
            if "initial_occupancy" in type(section).model_fields:
                update["initial_occupancy"] = min(section.initial_occupancy, left)
            if left == 0:
                update["enabled"] = False
                if "initial_queue" in type(section).model_fields:
                    update["initial_queue"] = 0
            services = services.model_copy(update={service: section.model_copy(update=update)})
        return self.model_copy(update={"services": services})

    @property
    def mix_schemes(self) -> tuple[str, ...]:
        return tuple(self.mix if self.mix is not None else self.schemes)

    def scheme(self, name: str) -> Scheme:
        return self.schemes[name]

    @property
    def effects_without_evidence(self) -> list[tuple[str, str]]:
        """(scheme, effect name) of every effect with a size that names no evidence ledger entry."""
        return [(name, effect.name) for name, scheme in self.schemes.items() for effect in scheme.effects
                if effect.evidence is None and size_field(effect.kind) is not None]
