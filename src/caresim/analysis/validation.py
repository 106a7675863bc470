"""Validation tables: two scheme mixes side by side on one baseline, each effect's drawn and realised size against its
evidence, and each mix's change against external benchmarks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from caresim.analysis.summary import confidence_interval, paired, wide
from caresim.engine.effects import EffectKey, drawn_size, uncertain_of
from caresim.experiment.plan import BASELINE
from caresim.experiment.replication import WorldResult
from caresim.measures import ATTRIBUTED
from caresim.metrics import DAYS_PER_YEAR
from caresim.scenario.schema import Scenario
from caresim.scenario.schemes import DiversionEffect

ALL_SCHEMES = "all schemes"


def _rows(mix: str, scheme: str, changes: pd.DataFrame) -> list[tuple]:
    return [(mix, scheme, measure, *confidence_interval(changes[measure].to_numpy(dtype=float)))
            for measure in ATTRIBUTED if measure in changes]


def side_by_side_frame(frame: pd.DataFrame, mixes: dict[str, dict[str, str]]) -> pd.DataFrame:
    """Per mix (name → scheme → the world of that scheme alone): the mix's paired change against the baseline and
    each of its schemes' alone, replication by replication (on the draws both worlds have)."""
    def change(world: str) -> pd.DataFrame:
        changed, base = paired(frame, world, BASELINE)
        return changed - base

    rows = []
    for mix, alone in mixes.items():
        rows += _rows(mix, ALL_SCHEMES, change(mix))
        rows += [row for scheme, world in alone.items() for row in _rows(mix, scheme, change(world))]
    return pd.DataFrame(rows, columns=["mix", "scheme", "measure", "mean", "ci_low", "ci_high", "n"])


def realised_sizes(results: list[list[WorldResult]], world: str, key: EffectKey, diversion: bool) -> np.ndarray:
    """An effect's realised size in each replication of one world, measured on the people it acted on: for a
    diversion the share of its eligible patients diverted, else the outcome with the effects over the outcome
    without them, on the same draws (engine.effects.Realised)."""
    sizes = []
    for replication in results:
        for w in replication:
            if w.world == world and key in w.realised:
                acted, without, with_ = w.realised[key]
                denominator = acted if diversion else without
                if denominator > 0:
                    sizes.append(with_ / denominator)
    return np.array(sizes)


def acted_on_per_year(results: list[list[WorldResult]], world: str, key: EffectKey, days: int) -> float:
    """The decisions (or, for prevention, the crises of people protected) an effect acted on, a year on average."""
    counts = [w.realised[key][0] for r in results for w in r if w.world == world and key in w.realised]
    return float(np.mean(counts)) * DAYS_PER_YEAR / days if counts else 0.0


def effect_evidence_frame(scenarios: dict[str, Scenario], alone: dict[str, dict[str, str]],
                          results: list[list[WorldResult]], replications: int) -> pd.DataFrame:
    """Per mix and per sized effect that names a ledger entry: the size drawn in each replication (an input) and the
    size realised on the people it acted on (measured, in the world where its scheme acts alone when there is one),
    each against the entry's estimate and 95 % CI, inside or outside."""
    rows = []
    for mix, scenario in scenarios.items():
        for scheme_name in scenario.mix_schemes:
            world = alone.get(mix, {}).get(scheme_name, mix)
            for effect in scenario.scheme(scheme_name).effects:
                entry = scenario.evidence.get(effect.evidence or "")
                uncertain = uncertain_of(effect)
                if entry is None or uncertain is None:
                    continue
                key = (scheme_name, effect.name)
                drawn = np.array([drawn_size(scenario.run.seed, key, uncertain, r) for r in range(replications)])
                mean = float(drawn.mean())
                realised = realised_sizes(results, world, key, isinstance(effect, DiversionEffect))
                r_mean, r_low, r_high, _ = confidence_interval(realised) if len(realised) else (np.nan,) * 4
                rows.append((mix, scheme_name, effect.name, effect.kind, effect.evidence, entry.kind, entry.outcome,
                             entry.estimate, entry.ci_low, entry.ci_high, uncertain.value, mean,
                             float(drawn.min()), float(drawn.max()), entry.ci_low <= mean <= entry.ci_high, world,
                             acted_on_per_year(results, world, key, scenario.run.days), r_mean, r_low, r_high,
                             bool(entry.ci_low <= r_mean <= entry.ci_high)))
    columns = ["mix", "scheme", "effect", "kind", "evidence", "evidence_kind", "outcome", "estimate", "ci_low",
               "ci_high", "point", "drawn_mean", "drawn_min", "drawn_max", "inside", "measured_in", "acted_on_per_year",
               "realised_mean", "realised_ci_low", "realised_ci_high", "realised_inside"]
    return pd.DataFrame(rows, columns=columns)


def benchmark_frame(frame: pd.DataFrame, scenario: Scenario, mixes: tuple[str, ...]) -> pd.DataFrame:
    """Each mix's change (mix − baseline, paired) in each benchmark's measure, in its terms (percent of the baseline,
    or a count with the benchmark's range scaled to the scenario's population), marked inside or outside."""
    population = float(sum(scenario.population.localities.values()))
    base = wide(frame, BASELINE)
    rows = []
    for name, benchmark in scenario.benchmarks.items():
        scale = population / benchmark.population if benchmark.population else 1.0
        low = benchmark.low * scale if benchmark.low is not None else -np.inf
        high = benchmark.high * scale if benchmark.high is not None else np.inf
        for mix in mixes:
            if benchmark.measure not in base:
                continue
            change = wide(frame, mix)[benchmark.measure] - base[benchmark.measure]
            if benchmark.change == "percent":
                change = 100 * change / base[benchmark.measure]
            mean, ci_low, ci_high, n = confidence_interval(change.to_numpy(dtype=float))
            rows.append((name, mix, benchmark.title, benchmark.source, benchmark.measure, benchmark.change,
                         low, high, mean, ci_low, ci_high, n, bool(low <= mean <= high)))
    columns = ["benchmark", "mix", "title", "source", "measure", "change", "low", "high", "mean", "ci_low",
               "ci_high", "n", "inside"]
    return pd.DataFrame(rows, columns=columns)
