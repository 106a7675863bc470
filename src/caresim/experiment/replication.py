"""One replication: every world of the plan on the same candidate patients and draws."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from caresim.engine.calendar import Calendar
from caresim.engine.demand import care_home_candidates, community_candidates
from caresim.engine.effects import EffectKey
from caresim.engine.model import Model
from caresim.experiment.plan import Plan
from caresim.metrics import YearMeasures, measures, year_measures


@dataclass
class WorldResult:
    """What the experiment keeps of one world in one replication (no per-patient records)."""

    world: str
    replication: int
    measures: dict[str, float]
    daily: dict[str, np.ndarray]
    daily_capacity: dict[str, np.ndarray]
    monthly_delays: np.ndarray
    sampled: dict[str, tuple[float, float, float]]
    little: dict[str, tuple[float, float, float]]
    conservation: dict[str, int]
    events: int
    effect_sizes: dict[EffectKey, float]  # every uncertain effect size of the world's schemes, as drawn
    realised: dict[EffectKey, tuple[float, float, float]]  # per effect: acted on, outcome without and with effects
    years: list[YearMeasures] = field(default_factory=list)  # every measure of each year of the window


class ReplicationFailed(RuntimeError):
    """A replication raised; the message names the replication and its seed."""


def run_replication(plan: Plan, replication: int) -> list[WorldResult]:
    """Simulate every world of ``plan`` that runs in ``replication``; the same candidates serve all worlds."""
    scenario = plan.scenario
    try:
        calendar = Calendar(scenario.run.start, scenario.run.warm_up_days, scenario.run.days)
        candidates = (community_candidates(scenario, calendar, replication),
                      care_home_candidates(scenario, calendar, replication))
        results = []
        for world_scenario, world, schemes in plan.worlds_in(replication):
            model = Model(world_scenario, world, schemes, replication, candidates, plan.fixed_sizes.get(world))
            record = model.run()
            results.append(WorldResult(
                world=world, replication=replication, measures=measures(record, world_scenario, schemes),
                daily=record.daily, daily_capacity=record.daily_capacity,
                monthly_delays=record.delayed.sum(axis=1),
                sampled=record.sampled,
                little={name: (s.mean_occupied, s.arrivals / s.window_days, s.mean_stay)
                        for name, s in record.services.items()},
                conservation=record.conservation, events=record.events, effect_sizes=model.kernel.effects.sizes,
                realised=record.realised,
                years=year_measures(record, world_scenario, schemes),
            ))
        return results
    except Exception as error:  # report which replication failed, with its seed
        raise ReplicationFailed(
            f"replication {replication} (seed {scenario.run.seed}) failed: {type(error).__name__}: {error}"
        ) from error

