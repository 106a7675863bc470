"""The services section of a scenario: capacities, hours, lengths of stay and outcomes of each service."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, NonNegativeFloat, model_validator

from caresim.scenario.distributions import Distribution
from caresim.scenario.fields import (
    AGE_BANDS,
    AgeBand,
    Capacity,
    Frozen,
    Share,
    check_complete,
    check_initial,
    check_shares,
)
from caresim.scenario.problems import FieldError

INITIAL_QUEUE = ("Patients in acute beds at the start, medically fit and waiting for this service "
                 "(counted within acute_beds.initial_occupancy)")


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
    initial_queue: int = Field(default=0, ge=0, description=INITIAL_QUEUE)

    @model_validator(mode="after")
    def _check(self) -> IntermediateCareBeds:
        check_initial(self.initial_occupancy, self.capacity)
        return self


class Reablement(Frozen):
    enabled: bool = True
    capacity: Capacity
    duration: Distribution
    initial_occupancy: int = Field(default=0, ge=0)
    initial_queue: int = Field(default=0, ge=0, description=INITIAL_QUEUE)
    needs_home_care_share: Share
    at_home_91_days_probability: dict[AgeBand, Share] = Field(
        description="Still at home 91 days after discharge from hospital to reablement or a step-down bed, "
                    "for a patient who waited at_home_91_days_reference_wait_days from medically fit to its start")
    at_home_91_days_reference_wait_days: NonNegativeFloat = 0.0
    at_home_91_days_odds_ratio_per_week_waited: float = Field(
        default=1.0, gt=0, description="Odds of still being at home at 91 days, multiplied for each week waited "
                                       "beyond the reference wait (1: the wait makes no difference)")
    referrals_from_home_per_year: NonNegativeFloat = Field(
        default=0.0, description="referrals of people at home (not from a bed); they wait behind those in beds")

    @model_validator(mode="after")
    def _check(self) -> Reablement:
        check_initial(self.initial_occupancy, self.capacity)
        return self


class HomeCare(Frozen):
    enabled: bool = True
    new_packages_per_week: Capacity
    hours_per_week: NonNegativeFloat
    package_weeks: NonNegativeFloat = 26.0
    initial_queue: int = Field(default=0, ge=0, description=INITIAL_QUEUE)


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
    initial_queue: int = Field(default=0, ge=0, description=INITIAL_QUEUE)

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

    @model_validator(mode="after")
    def _check(self) -> Services:
        queued = sum(self.initial_queues().values())
        if queued > self.acute_beds.initial_occupancy:
            raise FieldError(f"the initial queues for downstream services ({queued} patients) are patients in acute "
                             f"beds, so they cannot be more than acute_beds.initial_occupancy "
                             f"({self.acute_beds.initial_occupancy})", "acute_beds", "initial_occupancy")
        return self

    def initial_queues(self) -> dict[str, int]:
        """Patients delayed in acute beds at the start, by the destination they wait for."""
        return {"step_down": self.intermediate_care_beds.initial_queue, "reablement": self.reablement.initial_queue,
                "home_care": self.home_care.initial_queue, "care_home": self.care_homes.initial_queue}
