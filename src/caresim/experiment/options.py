"""Worlds whose schemes are funded at one of their options: mixes as {scheme: option}, on the same patients and draws.

A scheme keeps its name whatever its option, so its effects draw from the same streams at every option: two mixes
that differ only in one scheme's scale see the same effect sizes (common random numbers)."""

from __future__ import annotations

from dataclasses import dataclass, field

from caresim.experiment.plan import BASELINE, Plan
from caresim.scenario.schema import Scenario

Mix = dict[str, str]  # scheme → option; a scheme not named is not funded


def mix_name(mix: Mix) -> str:
    """A world's name for a mix: ``scheme=option`` joined by ``+`` in the scenario's scheme order, or ``none``."""
    return "+".join(f"{scheme}={option}" for scheme, option in mix.items()) or "none"


def mix_title(scenario: Scenario, mix: Mix) -> str:
    """A mix as a person reads it: each funded scheme's title, with its option where it has more than one."""
    return "; ".join(scenario.scheme(name).title + (f" ({option})" if len(options_of(scenario, name)) > 1 else "")
                     for name, option in mix.items()) or "none"


def options_of(scenario: Scenario, scheme: str) -> tuple[str, ...]:
    """The options a scheme may be funded at: its declared ones, or (none declared) "on", the scheme as written."""
    declared = scenario.scheme(scheme)
    return tuple(declared.options) or (declared.option or "on",)


def with_options(scenario: Scenario, mix: Mix) -> Scenario:
    """The scenario with each scheme of ``mix`` at its option (an undeclared option: the scheme as written)."""
    schemes = {name: scheme.at(mix[name]) if mix.get(name) in scheme.options else scheme
               for name, scheme in scenario.schemes.items()}
    return scenario.model_copy(update={"schemes": schemes})


def mix_cost(scenario: Scenario, mix: Mix, payer: str | None = None) -> float:
    """What a mix costs a year (recurrent and non-recurrent), for one payer or all."""
    schemes = with_options(scenario, mix).schemes
    return sum(schemes[name].option_cost for name in mix if payer is None or schemes[name].cost.payer == payer)


@dataclass(frozen=True)
class OptionsPlan(Plan):
    """A plan whose worlds fund their schemes at options: ``options`` maps a world to its mix."""

    options: dict[str, Mix] = field(default_factory=dict)
    _scenarios: dict[str, Scenario] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_scenarios", {world: with_options(self.scenario, mix)
                                                for world, mix in self.options.items()})

    def scenario_of(self, world: str) -> Scenario:
        return self._scenarios.get(world, self.scenario)


def options_plan(scenario: Scenario, mixes: list[Mix], replications: int, baseline: bool = True) -> OptionsPlan:
    """The baseline (unless it is already known) and each mix, on the same patients and draws in every replication."""
    worlds: dict[str, tuple[str, ...]] = {BASELINE: ()} if baseline else {}
    options = {}
    for mix in mixes:
        worlds[mix_name(mix)] = tuple(mix)
        options[mix_name(mix)] = mix
    names = tuple(mix_name(mix) for mix in mixes)
    return OptionsPlan(scenario, worlds, replications, names, options=options)
