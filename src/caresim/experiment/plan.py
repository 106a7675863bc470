"""Which worlds an experiment simulates: the baseline, the scheme mix, and attribution or comparison worlds."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from caresim.engine.effects import EffectKey, then_admitted_key, uncertain_of
from caresim.scenario.schema import Draws, Scenario
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
    compared: Scenario | None = None  # a scenario differing only in its schemes (`compare_with`)
    compared_worlds: dict[str, tuple[str, ...]] = field(default_factory=dict)  # run with `compared`'s schemes
    draws: Draws | None = None  # the adaptive rule for the headline worlds' draws; None: exactly `replications`
    attribution_replications: int | None = None  # other worlds run on the first this-many draws; None: on all

    @property
    def seed(self) -> int:
        return self.scenario.run.seed

    @property
    def headline_worlds(self) -> tuple[str, ...]:
        """The worlds run on every draw: the baseline, the mixes, the compared mix and the world without the fund."""
        compared = (self.compared.mix_name,) if self.compared is not None else ()
        headline = {BASELINE, NO_FUND, *self.mixes, *compared}
        return tuple(world for world in (*self.worlds, *self.compared_worlds) if world in headline)

    def runs(self, world: str, replication: int) -> bool:
        """Whether ``world`` is simulated in ``replication``: headline worlds always, the others (attribution,
        sensitivity) on the first ``attribution_replications`` draws, the same draws for all of them."""
        limit = self.attribution_replications
        return limit is None or replication < limit or world in self.headline_worlds

    def worlds_in(self, replication: int) -> list[tuple[Scenario, str, tuple[str, ...]]]:
        """(scenario, world, schemes) of every world simulated in ``replication``, compared worlds last."""
        worlds = [(self.scenario_of(world), world, schemes) for world, schemes in self.worlds.items()]
        if self.compared is not None:  # the same baseline: only the schemes differ
            worlds += [(self.compared, world, schemes) for world, schemes in self.compared_worlds.items()]
        return [(scenario, world, schemes) for scenario, world, schemes in worlds if self.runs(world, replication)]

    def world_years(self) -> float:
        """Simulated world-years of the plan's replications (the measured window, warm-up excluded)."""
        worlds = sum(len(self.worlds_in(r)) for r in range(self.replications))
        return worlds * self.scenario.run.days / 365

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


def draw_settings(scenario: Scenario, replications: int | None) -> tuple[int, Draws | None]:
    """The first batch of draws and the adaptive rule: a forced number (``--replications``) or a fixed
    ``run.replications`` gives that many draws and no rule; ``run.replications: {min, batch, max, precision}``
    starts with ``min`` draws under that rule."""
    setting = scenario.run.replications
    if replications is not None:
        return replications, None
    return (setting.min, setting) if isinstance(setting, Draws) else (setting, None)


QUICK_DRAWS = 4  # `caresim run --quick`: a first answer in about 15 s on 2 cores (docs/performance.md)


def quick_plan(scenario: Scenario, replications: int | None = None) -> Plan:
    """A first answer: the baseline and the scenario's own mix on a few draws, and nothing else (no variants,
    no whole-fund comparison, no attribution)."""
    mixes = {scenario.mix_name: scenario.mix_schemes} if scenario.mix_schemes else {}
    return make_plan(scenario, replications or QUICK_DRAWS, mixes=mixes, fund_comparison=False)


def make_plan(scenario: Scenario, replications: int | None = None, attribution: bool = False,
              mixes: dict[str, tuple[str, ...]] | None = None, sensitivity: bool = False,
              effects: EffectsMode = "drawn", fund_comparison: bool = True) -> Plan:
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
    if fund_comparison and scenario.fund.pays_for and mixes:
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
    first, draws = draw_settings(scenario, replications)
    return Plan(scenario, worlds, first, tuple(mixes), attribution, fixed, ends,
                {mix: titles.get(mix, mix) for mix in mixes}, effects, draws=draws,
                attribution_replications=scenario.run.attribution_draws)


# What a compared scenario may change: its schemes and the words around them; anything else would change the baseline.
SCHEME_SETTINGS = frozenset({"name", "title", "description", "schemes", "mix_name", "mix", "variants", "evidence",
                             "benchmarks", "compare_with", "claimed_benefit_source"})


class ComparedScenarioError(ValueError):
    """The compared scenario differs from the main one outside its schemes, so its baseline would not be the same."""


def _differences(main: Any, other: Any, path: str = "") -> list[str]:
    if isinstance(main, dict) and isinstance(other, dict):
        return [difference for key in dict.fromkeys([*main, *other])
                for difference in _differences(main.get(key), other.get(key), f"{path}.{key}" if path else key)]
    return [] if main == other else [path]


def alone_world(mix: str, scheme: str) -> str:
    """The world of a compared mix's scheme simulated alone."""
    return f"{mix}/only:{scheme}"


def with_compared(plan: Plan, compared: Scenario, named_in: Scenario | None = None) -> Plan:
    """The plan with a compared scenario's mix and each of its schemes alone, on the plan's own baseline (the same
    people and draws). The compared scenario must differ only in its schemes from the scenario that names it
    (``named_in``, by default the plan's), else ``ComparedScenarioError``; its schemes then run in the plan's
    scenario, so a child that changes, say, the run's length compares like with like."""
    reference = named_in or plan.scenario
    main, other = reference.model_dump(mode="json"), compared.model_dump(mode="json")
    changed = [path for path in _differences(main, other) if path.split(".")[0] not in SCHEME_SETTINGS]
    if changed:
        raise ComparedScenarioError(
            f"compare_with: {compared.name} differs from {reference.name} outside its schemes "
            f"({', '.join(changed[:8])}{' …' if len(changed) > 8 else ''}), so its baseline would not be the same "
            "people and draws; give it only schemes (and mix, mix_name, title) of its own, or write "
            "`compare_with: null` in a scenario that changes other settings")
    schemes = {key: value for key, value in compared.model_dump(by_alias=True).items() if key in SCHEME_SETTINGS}
    compared = Scenario.model_validate({**plan.scenario.model_dump(by_alias=True), **schemes})
    mix = compared.mix_name
    if mix in plan.worlds:
        raise ComparedScenarioError(f"compare_with: {compared.name}'s mix_name {mix!r} is already a world of "
                                    f"{plan.scenario.name}; give the compared mix a name of its own")
    alone = compared.mix_schemes if plan.attribution else ()
    worlds = {mix: compared.mix_schemes, **{alone_world(mix, s): (s,) for s in alone}}
    fixed = plan.fixed_sizes
    if plan.effects == "central":  # the compared mix at its point values too
        points = central_sizes(compared, tuple(compared.schemes))
        fixed = {**fixed, **{world: points for world in worlds}}
    return replace(plan, compared=compared, compared_worlds=worlds, fixed_sizes=fixed,
                   titles={**plan.titles, mix: compared.title})
