"""Schemes in a scenario: their effects (each a kind of intervention), effect sizes with intervals, costs, and
variants (named mixes)."""

from __future__ import annotations

import copy
import datetime as dt
import math
from functools import cache
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, NonNegativeFloat, PositiveFloat, ValidationError, model_validator
from scipy import optimize
from scipy.special import logit, ndtri
from scipy.stats import beta

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
    """An effect size: a point value and an interval, drawn once per replication.

    ``triangular`` and ``uniform`` (an assumption) draw within [low, high], the triangle peaking at the
    value. ``lognormal`` (a ratio) and ``beta`` (a share) are fitted to a published estimate and its
    95 % CI [low, high]: the log-normal has median ``value`` and log-scale sd (ln high − ln low) / 3.92;
    the beta is the one whose 2.5 % and 97.5 % quantiles are low and high.
    """

    value: float
    low: float | None = None
    high: float | None = None
    distribution: Literal["triangular", "uniform", "lognormal", "beta"] = "triangular"

    @model_validator(mode="after")
    def _ordered(self) -> Uncertain:
        if (self.low is None) != (self.high is None):
            raise ValueError("give both low and high, or neither")
        if self.low is not None and not self.low <= self.value <= self.high:
            raise ValueError(f"value {self.value:g} must lie between low {self.low:g} and high {self.high:g}")
        fitted = self.distribution in ("lognormal", "beta")
        if fitted and (self.low is None or self.high is None or self.low >= self.high):
            raise ValueError(f"a {self.distribution} is fitted to a 95 % CI: give low and high, low below high")
        if self.distribution == "lognormal" and self.low is not None and self.low <= 0:
            raise ValueError("a lognormal ratio needs low above 0")
        if self.distribution == "beta" and self.low is not None and not 0 < self.low < self.high < 1:
            raise ValueError("a beta share needs 0 < low < high < 1; for an interval reaching 0 or 1 use "
                             "triangular (an assumption)")
        if self.distribution == "beta" and self.low is not None and self.high is not None:
            beta_shape(self.low, self.high)
        return self

    def quantile(self, u: float) -> float:
        """The effect size at uniform ``u`` (the inverse of the distribution's CDF)."""
        low, mode, high = self.low, self.value, self.high
        if low is None or high is None or high == low:
            return mode
        if self.distribution == "uniform":
            return low + (high - low) * u
        if self.distribution == "lognormal":
            sigma = (math.log(high) - math.log(low)) / (2 * Z_975)
            return math.exp(math.log(mode) + sigma * float(ndtri(u)))
        if self.distribution == "beta":
            return float(beta.ppf(u, *beta_shape(low, high)))
        split = (mode - low) / (high - low)
        if u < split:
            return low + math.sqrt(u * (high - low) * (mode - low))
        return high - math.sqrt((1 - u) * (high - low) * (high - mode))


Z_975 = float(ndtri(0.975))  # 1.95996…: a 95 % interval is ± this many standard deviations


@cache
def beta_shape(low: float, high: float) -> tuple[float, float]:
    """The Beta(a, b) whose 2.5 % and 97.5 % quantiles are ``low`` and ``high`` (0 < low < high < 1)."""
    target = logit(np.array([low, high]))

    def missed(log_shape: np.ndarray) -> np.ndarray:
        return logit(beta.ppf([0.025, 0.975], *np.exp(log_shape))) - target

    found = optimize.root(missed, np.zeros(2), tol=1e-14)  # from Beta(1, 1), on the logit scale
    if np.max(np.abs(beta.ppf([0.025, 0.975], *np.exp(found.x)) - [low, high])) > 1e-9:
        raise ValueError(f"no beta distribution has the 95 % interval {low:g} to {high:g}")
    a, b = np.exp(found.x)
    return float(a), float(b)


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


EffectName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


class Effect(Frozen):
    """What every effect has: a name (unique within its scheme; the key of its random draws), who it
    applies to, the evidence ledger entry behind its size, and a start date that overrides the scheme's."""

    name: EffectName
    eligible: Eligible = Eligible()
    evidence: str | None = Field(default=None, description="Id of the entry in the scenario's evidence ledger; "
                                 "with no size given, the size is the entry's.")
    start: dt.date | None = Field(default=None, description="When this effect starts, if not with its scheme.")


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


SIZE_FIELDS = ("multiplier", "share")  # the uncertain size of an effect, by kind one of these


def size_field(kind: str) -> str | None:
    """The field holding the uncertain size of effects of this kind, if they have one."""
    for effect in EFFECT_KINDS:
        if effect.model_fields["kind"].annotation == Literal[kind]:
            return next((f for f in SIZE_FIELDS if f in effect.model_fields), None)
    return None


AnyEffect = Annotated[
    CapacityEffect | PreventionEffect | DiversionEffect | LengthOfStayEffect | AssessmentDelayEffect
    | DischargeProfileEffect | PathwayShiftEffect | ReadmissionEffect | CareHomeAdmissionEffect,
    Field(discriminator="kind"),
]
EFFECT_KINDS = (CapacityEffect, PreventionEffect, DiversionEffect, LengthOfStayEffect, AssessmentDelayEffect,
                DischargeProfileEffect, PathwayShiftEffect, ReadmissionEffect, CareHomeAdmissionEffect)


class SchemeCost(Frozen):
    recurrent_per_year: NonNegativeFloat = 0.0
    non_recurrent: NonNegativeFloat = 0.0
    payer: Literal["nhs", "council"] = "nhs"
    spend_before: NonNegativeFloat = Field(
        default=0.0, description="Spent on the same scheme a year before the plan (for SKC 2014/15): "
                                 "the services it already paid for are in the baseline.")


OptionName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


class SchemeOption(Frozen):
    """One scale a scheme may be funded at: its cost and the effect settings that change with it.

    ``effects`` maps an effect's name to the settings that differ (``{rapid_response_places: {add: 21}}``); a
    setting an option leaves out is the scheme's own. Not funding a scheme (off) is not an option: it is the scheme
    left out of the mix."""

    title: str = ""
    cost: dict[str, float] = Field(default_factory=dict, description="Cost settings that differ, e.g. "
                                   "{recurrent_per_year: 8921504}.")
    effects: dict[str, dict] = Field(default_factory=dict, description="Per effect name, the settings that differ.")


def _settings(option: dict) -> dict[tuple[str, ...], object]:
    """An option's changed settings as (section, ..., field) → value, nested settings flattened."""
    def flat(prefix: tuple[str, ...], value: object) -> dict[tuple[str, ...], object]:
        if isinstance(value, dict):
            return {path: leaf for key, item in value.items() for path, leaf in flat((*prefix, key), item).items()}
        return {prefix: value}
    return flat((), {section: option.get(section) or {} for section in ("cost", "effects")})


def _at(scheme: dict, path: tuple[str, ...]) -> tuple[dict, str] | None:
    """The dict holding ``path``'s last field in raw scheme data, and that field (None: the effect is unknown)."""
    if path[0] == "cost":
        return scheme.setdefault("cost", {}), path[1]
    effect = next((e for e in scheme.get("effects") or [] if isinstance(e, dict) and e.get("name") == path[1]), None)
    if effect is None:
        return None
    holder = effect
    for key in path[2:-1]:
        holder = holder.setdefault(key, {})
    return holder, path[-1]


def _dumped(value: object) -> object:
    return value.model_dump(by_alias=True) if isinstance(value, Frozen) else value


class SchemeSteps(Frozen):
    """A scale bought in equal steps (beds, places): option ``step_k`` (k = 1 … ``max_steps``) sets ``setting`` to
    k × ``add_per_step`` and costs k × ``cost_per_step`` a year (recurrent)."""

    setting: str = Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$",
                         description="The effect and its numeric setting that grows, e.g. extra_beds.add.")
    add_per_step: PositiveFloat
    cost_per_step: NonNegativeFloat
    max_steps: int = Field(ge=1, le=50)


def _well_formed(options: object, steps: object) -> bool:
    """Raw ``options`` and ``steps`` that can be applied: each none or valid."""
    if options is not None and not isinstance(options, dict):
        return False
    try:
        for option in (options or {}).values():
            SchemeOption.model_validate(option)
        if steps is not None:
            SchemeSteps.model_validate(steps)
    except ValidationError:
        return False
    return True


def _nested(path: tuple[str, ...], value: object) -> dict:
    return {path[0]: _nested(path[1:], value) if len(path) > 1 else value}


def with_steps(data: dict) -> dict:
    """Raw scheme data with its ``steps`` written out as options ``step_1`` … ``step_n`` after the declared ones."""
    if data.get("steps") is None:
        return data
    steps = SchemeSteps.model_validate(data["steps"])
    path = ("effects", *steps.setting.split("."))
    found = _at({"effects": [_dumped(effect) for effect in data.get("effects") or []]}, path)
    current = found[0].get(found[1]) if found else None
    if isinstance(current, bool) or not isinstance(current, int | float):
        raise ValueError(f"steps: {steps.setting} is not a number the scheme's effects set")
    if isinstance(current, int) and not steps.add_per_step.is_integer():
        raise ValueError(f"steps: {steps.setting} is a whole number, so add_per_step must be one")
    options = {name: _dumped(option) for name, option in (data.get("options") or {}).items()}
    for k in range(1, steps.max_steps + 1):
        added = k * steps.add_per_step
        step = {"title": f"{k} × {steps.add_per_step:g} {path[-1]}",
                "cost": {"recurrent_per_year": k * steps.cost_per_step},
                "effects": _nested(path[1:], int(added) if added.is_integer() else added)}
        declared = options.setdefault(f"step_{k}", step)
        if any(_settings(declared).get(key) != value for key, value in _settings(step).items()):
            raise ValueError(f"option step_{k} is declared and also made by steps; rename the declared option")
    return {**data, "options": options}


def apply_option(data: dict) -> dict:
    """Raw scheme data with its ``option`` applied: every option completed with the scheme's own value for each
    setting some other option changes (so options can be swapped back and forth), then the chosen option's settings
    written into the scheme's cost and effects."""
    options = {name: dict(_dumped(option)) for name, option in (data.get("options") or {}).items()}
    if not options:
        return data
    data = copy.deepcopy({**data, "options": options, "cost": _dumped(data.get("cost") or {}),
                          "effects": [_dumped(effect) for effect in data.get("effects") or []]})
    options = data["options"]
    changed = {path for option in options.values() for path in _settings(option)}
    for name, option in options.items():
        given = _settings(option)
        for path in changed - set(given):
            found = _at(copy.deepcopy(data), path)
            if found is None:
                raise ValueError(f"option {name} changes effect {path[1]!r}, which the scheme does not have")
            holder, field = found
            value = _dumped(holder.get(field, SchemeCost().model_dump().get(field) if path[0] == "cost" else None))
            if value is None:
                raise ValueError(f"option {name} needs the scheme's {'.'.join(path)}, which is not set")
            section = option.setdefault(path[0], {})
            for key in path[1:-1]:
                section = section.setdefault(key, {})
            section[path[-1]] = copy.deepcopy(value)
    chosen = data.get("option")
    if chosen is None:
        return data
    if chosen not in options:
        raise ValueError(f"option {chosen!r} is not one of the scheme's options ({', '.join(options)})")
    for path, value in _settings(options[chosen]).items():
        found = _at(data, path)
        if found is None:
            raise ValueError(f"option {chosen} changes effect {path[1]!r}, which the scheme does not have")
        holder, field = found
        holder[field] = copy.deepcopy(value)
    return data


class Scheme(Frozen):
    title: str
    lead_provider: str = "not stated"
    cost: SchemeCost = SchemeCost()
    start: dt.date | None = None
    ramp_up_days: float = Field(default=0.0, ge=0)
    claimed_benefit_per_year: NonNegativeFloat = 0.0
    effects: list[AnyEffect] = []
    source: str = ""
    options: dict[OptionName, SchemeOption] = Field(
        default_factory=dict, description="Scales the scheme may be funded at (e.g. low, high), each with its cost "
                                          "and the effect settings that change; for `caresim optimise`.")
    steps: SchemeSteps | None = Field(default=None, description="A scale bought in equal steps, written out as "
                                      "options step_1 … step_n after the declared ones.")
    option: OptionName | None = Field(default=None, description="The option this scenario funds; its settings "
                                      "replace the scheme's own at load (none: the scheme as written).")

    @model_validator(mode="before")
    @classmethod
    def _option_applied(cls, data: object) -> object:
        if not isinstance(data, dict) or not _well_formed(data.get("options"), data.get("steps")):
            return data  # malformed options or steps: the fields' own checks explain them
        try:
            return apply_option(with_steps(data))
        except (TypeError, AttributeError):  # malformed effects: the fields' own checks explain them
            return data

    def at(self, option: str) -> Scheme:
        """This scheme funded at ``option`` (one of its options)."""
        return Scheme.model_validate({**self.model_dump(by_alias=True), "option": option})

    @property
    def option_cost(self) -> float:
        """What funding the scheme costs a year: its recurrent and non-recurrent cost."""
        return self.cost.recurrent_per_year + self.cost.non_recurrent

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
