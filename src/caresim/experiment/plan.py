"""Which worlds an experiment simulates: the baseline, the scheme mix, and attribution or comparison worlds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from caresim.engine.effects import EffectKey, then_admitted_key, uncertain_of
from caresim.scenario.schema import Scenario
from caresim.scenario.schemes import DiversionEffect

BASELINE = "baseline"
EffectsMode = Literal["drawn", "central"]  # sizes drawn per replication, or every effect at its point value
NO_FUND = "no_fund"  # the baseline without the places the pooled fund pays for: the value of the fund


@dataclass(frozen=True)
class Plan:
    """Worlds (name → active schemes) simulated on the same patients in every replication."""

    scenario: Scenario
    worlds: dict[str, tuple[str, ...]]
    replications: int
    mixes: tuple[str, ...]
    attribution: bool = False
    fixed_sizes: dict[str, dict[EffectKey, float]] = field(default_factory=dict)
    sensitivity: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # world: scheme, effect, end
    titles: dict[str, str] = field(default_factory=dict)  # a reader's title for each mix
    effects: EffectsMode = "drawn"

    @property
    def seed(self) -> int:
        return self.scenario.run.seed

    def scenario_of(self, world: str) -> Scenario:
        """The scenario a world runs: the no-fund world lacks the fund's places, every other world is the scenario."""
        return self.scenario.without_fund() if world == NO_FUND else self.scenario


def central_sizes(scenario: Scenario, schemes: tuple[str, ...]) -> dict[EffectKey, float]:
    """Every uncertain size of these schemes (a diversion's share then admitted too) at its point value."""
    sizes: dict[EffectKey, float] = {}
    for name in schemes:
        for effect in scenario.scheme(name).effects:
            if (value := uncertain_of(effect)) is not None:
                sizes[(name, effect.name)] = value.value
            if isinstance(effect, DiversionEffect):
                sizes[then_admitted_key((name, effect.name))] = effect.then_admitted.value
    return sizes


def make_plan(scenario: Scenario, replications: int | None = None, attribution: bool = False,
              mixes: dict[str, tuple[str, ...]] | None = None, sensitivity: bool = False,
              effects: EffectsMode = "drawn") -> Plan:
    """The baseline, the scenario's mix (all its schemes) or the given mixes, the baseline without the pooled
    fund's places (when the scenario names them and there is a mix); one-at-a-time and
    leave-one-out worlds for attribution; and, for sensitivity, the mix with every uncertain effect at
    its point value and with each one in turn at its low and its high end. With ``effects="central"``
    every world's effects sit at their point values in every replication, so only chance varies."""
    if mixes is None:
        mixes = {scenario.mix_name: scenario.mix_schemes} if scenario.mix_schemes else {}
        mixes.update({name: tuple(v.schemes) for name, v in scenario.variants.items()})
    worlds: dict[str, tuple[str, ...]] = {BASELINE: ()}
    worlds.update(mixes)
    if scenario.fund.pays_for and mixes:
        worlds[NO_FUND] = ()
    if attribution and scenario.schemes:
        main = mixes.get(scenario.mix_name, scenario.mix_schemes)
        for scheme in main:
            worlds[f"only:{scheme}"] = (scheme,)
            worlds[f"without:{scheme}"] = tuple(s for s in main if s != scheme)
    fixed: dict[str, dict[EffectKey, float]] = {}
    ends: dict[str, tuple[str, str, str]] = {}
    if sensitivity and scenario.mix_schemes:
        main = scenario.mix_schemes
        uncertain = {(name, effect.name): value for name in main for effect in scenario.scheme(name).effects
                     if (value := uncertain_of(effect)) is not None
                     and value.low is not None and value.low != value.high}
        points = {key: value.value for key, value in uncertain.items()}
        worlds["point"], fixed["point"] = main, points
        for (name, effect_name), value in uncertain.items():
            for end in ("low", "high"):
                world = f"{end}:{name}/{effect_name}"
                worlds[world] = main
                fixed[world] = {**points, (name, effect_name): getattr(value, end)}
                ends[world] = (name, effect_name, end)
    if effects == "central":
        points = central_sizes(scenario, tuple(scenario.schemes))
        fixed = {world: {**points, **fixed.get(world, {})} for world, schemes in worlds.items() if schemes}
    titles = {scenario.mix_name: scenario.title, **{name: v.title or name for name, v in scenario.variants.items()}}
    return Plan(scenario, worlds, replications or scenario.run.replications, tuple(mixes), attribution, fixed, ends,
                {mix: titles.get(mix, mix) for mix in mixes}, effects)
