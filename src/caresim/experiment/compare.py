"""Compare scheme mixes from several scenario files against one baseline on the same patients."""

from __future__ import annotations

from caresim.experiment.plan import Plan, draw_settings
from caresim.scenario.schema import Scenario

MIX_FIELDS = {"name", "title", "description", "schemes", "mix_name", "mix", "variants", "claimed_benefit_source"}


def _baseline_of(scenario: Scenario) -> dict:
    return scenario.model_dump(exclude=MIX_FIELDS)


def combine(scenarios: list[Scenario], replications: int | None = None) -> Plan:
    """One plan whose worlds are the baseline and every file's mix (and declared variants).

    Scheme names are prefixed with their mix so that a high-spend and a low-spend definition of the
    same scheme can sit side by side. Every file must describe the same baseline.
    """
    first = scenarios[0]
    reference = _baseline_of(first)
    schemes: dict = {}
    mixes: dict[str, tuple[str, ...]] = {}
    titles: dict[str, str] = {}
    for scenario in scenarios:
        baseline = _baseline_of(scenario)
        if baseline != reference:
            section = next(k for k in reference if reference[k] != baseline.get(k))
            raise ValueError(f"{scenario.name} and {first.name} describe different baselines (section '{section}' "
                             "differs); compare mixes of one system, changing only schemes, mix and variants")
        named = {f"{scenario.mix_name}__{key}": value for key, value in scenario.schemes.items()}
        schemes.update(named)
        candidates = {scenario.mix_name: scenario.mix_schemes,
                      **{name: tuple(v.schemes) for name, v in scenario.variants.items()}}
        for mix, members in candidates.items():
            if mix in mixes:
                raise ValueError(f"two files name a mix {mix!r}; give each file its own mix_name")
            mixes[mix] = tuple(f"{scenario.mix_name}__{m}" for m in members)
            titles[mix] = scenario.title if mix == scenario.mix_name else scenario.variants[mix].title or mix
    merged = first.model_copy(update={"schemes": schemes, "mix": None, "variants": {}, "name": f"compare_{first.name}"})
    worlds = {"baseline": (), **mixes}
    first_batch, draws = draw_settings(first, replications)
    return Plan(merged, worlds, first_batch, tuple(mixes), titles=titles, draws=draws)
