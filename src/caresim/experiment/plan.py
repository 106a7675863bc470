"""Which worlds an experiment simulates: the baseline, the scheme mix, and attribution or comparison worlds."""

from __future__ import annotations

from dataclasses import dataclass, field

from caresim.scenario.schema import Scenario

BASELINE = "baseline"


@dataclass(frozen=True)
class Plan:
    """Worlds (name → active schemes) simulated on the same patients in every replication."""

    scenario: Scenario
    worlds: dict[str, tuple[str, ...]]
    replications: int
    mixes: tuple[str, ...]
    attribution: bool = False
    fixed_sizes: dict[str, dict[tuple[str, int], float]] = field(default_factory=dict)

    @property
    def seed(self) -> int:
        return self.scenario.run.seed


def make_plan(scenario: Scenario, replications: int | None = None, attribution: bool = False,
              mixes: dict[str, tuple[str, ...]] | None = None) -> Plan:
    """The baseline, the scenario's mix (all its schemes) or the given mixes, and one-at-a-time and
    leave-one-out worlds when attribution is asked for."""
    if mixes is None:
        mixes = {scenario.mix_name: tuple(scenario.schemes)} if scenario.schemes else {}
        mixes.update({name: tuple(v.schemes) for name, v in scenario.variants.items()})
    worlds: dict[str, tuple[str, ...]] = {BASELINE: ()}
    worlds.update(mixes)
    if attribution and scenario.schemes:
        main = mixes.get(scenario.mix_name, tuple(scenario.schemes))
        for scheme in main:
            worlds[f"only:{scheme}"] = (scheme,)
            worlds[f"without:{scheme}"] = tuple(s for s in main if s != scheme)
    return Plan(scenario, worlds, replications or scenario.run.replications, tuple(mixes), attribution)
