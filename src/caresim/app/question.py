"""A what-if question over one scenario: the schemes switched on, each at an option, and effect sizes pinned within
their evidence. It is answered in batches of draws; each world of each draw is simulated once and kept, so a changed
question simulates only the worlds it changes, never the baseline again."""

from __future__ import annotations

import hashlib
import json
from collections.abc import MutableMapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from caresim.engine.effects import EffectKey, uncertain_of
from caresim.experiment.executors import execute
from caresim.experiment.options import options_of, with_options
from caresim.experiment.plan import SCHEME_SETTINGS, Plan, make_plan
from caresim.experiment.replication import WorldResult
from caresim.scenario.schema import Scenario
from caresim.scenario.schemes import Scheme, Uncertain
from caresim.scenario.sources import SourcedScenario
from caresim.workflows.run import record_experiment

Store = MutableMapping[tuple[str, int], WorldResult]  # (the world's digest, draw) → what it gave


@dataclass(frozen=True)
class Question:
    """The schemes switched on with their options, and the effect sizes pinned (the others drawn from evidence)."""

    options: dict[str, str]
    pinned: dict[EffectKey, float] = field(default_factory=dict)


def own_question(scenario: Scenario) -> Question:
    """The scenario as written: its mix, each scheme at its own option, no size pinned."""
    return Question({name: scenario.scheme(name).option or options_of(scenario, name)[0]
                     for name in scenario.mix_schemes})


def movable_sizes(scheme: Scheme) -> dict[str, Uncertain]:
    """The effects of a scheme whose size has an evidence range to move within, by name."""
    return {effect.name: size for effect in scheme.effects
            if (size := uncertain_of(effect)) is not None and size.low is not None and size.low < size.high}


def asked(scenario: Scenario, question: Question) -> Scenario:
    """The scenario whose only mix is the schemes switched on, each at its option."""
    if question == own_question(scenario):
        return scenario.model_copy(update={"variants": {}})
    chosen = with_options(scenario, question.options)
    on = [name for name in scenario.schemes if name in question.options]
    return chosen.model_copy(update={"mix": on, "variants": {},
                                     "title": f"What-if mix ({len(on)} of {len(scenario.schemes)} schemes)"})


def question_plan(scenario: Scenario, question: Question, draws: int) -> Plan:
    """The baseline, the question's mix with its pinned sizes, and the world without the fund's places."""
    plan = make_plan(asked(scenario, question), draws)
    pinned = {key: size for key, size in question.pinned.items() if key[0] in question.options}
    return replace(plan, fixed_sizes={mix: pinned for mix in plan.mixes})


def world_digest(plan: Plan, world: str) -> str:
    """What a world's results depend on, hashed: a world without schemes only on the settings no scheme changes."""
    schemes = plan.worlds[world]
    settings = plan.scenario.model_dump(mode="json")
    if not schemes:
        settings = {key: value for key, value in settings.items() if key not in SCHEME_SETTINGS}
    sizes = sorted(plan.fixed_sizes.get(world, {}).items())
    text = json.dumps([world, schemes, sizes, settings], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def batches(draws: int, size: int) -> list[range]:
    """Draw numbers in batches of ``size``: the same batches for any number of draws, so kept results are reused."""
    return [range(start, min(start + size, draws)) for start in range(0, draws, size)]


def simulate(plan: Plan, draws: range, store: Store, executor: str = "processes") -> list[list[WorldResult]]:
    """Every world of ``plan`` in these draws, in the plan's order: the kept ones from ``store``, the others
    simulated together (on the same candidate patients) and kept."""
    digests = {world: world_digest(plan, world) for world in plan.worlds}
    missing = {world: schemes for world, schemes in plan.worlds.items()
               if any((digests[world], draw) not in store for draw in draws)}
    if missing:
        for replication in execute(replace(plan, worlds=missing), executor, progress=False, numbers=draws):
            for result in replication:
                store[digests[result.world], result.replication] = result
    return [[store[digests[world], draw] for world in plan.worlds] for draw in draws]


def answer(plan: Plan, origin: SourcedScenario, out_root: Path, results: list[list[WorldResult]],
           seconds: float) -> Path:
    """The run folder of the draws so far (written once per question and number of draws)."""
    digest = hashlib.sha256("".join(world_digest(plan, world) for world in plan.worlds).encode()).hexdigest()
    run_id = f"{digest[:12]}-{len(results)}-draws"
    folder = Path(out_root) / plan.scenario.name / run_id
    if folder.is_dir():
        return folder
    return record_experiment(plan, origin, out_root, results, seconds, "app", run_id).folder
