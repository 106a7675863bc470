"""Validation tables: two scheme mixes side by side on one baseline, each effect's drawn size against its evidence,
and each mix's change against external benchmarks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from caresim.analysis.summary import confidence_interval, paired, wide
from caresim.engine.effects import drawn_size, uncertain_of
from caresim.experiment.plan import BASELINE
from caresim.measures import ATTRIBUTED
from caresim.scenario.schema import Scenario

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


def effect_evidence_frame(scenarios: dict[str, Scenario], replications: int) -> pd.DataFrame:
    """Per mix and per sized effect that names a ledger entry: the size drawn in each replication (an input of the
    model, not a measured outcome) against the entry's estimate and 95 % CI, inside or outside."""
    rows = []
    for mix, scenario in scenarios.items():
        for scheme_name in scenario.mix_schemes:
            for effect in scenario.scheme(scheme_name).effects:
                entry = scenario.evidence.get(effect.evidence or "")
                uncertain = uncertain_of(effect)
                if entry is None or uncertain is None:
                    continue
                drawn = np.array([drawn_size(scenario.run.seed, (scheme_name, effect.name), uncertain, r)
                                  for r in range(replications)])
                mean = float(drawn.mean())
                rows.append((mix, scheme_name, effect.name, effect.kind, effect.evidence, entry.kind, entry.outcome,
                             entry.estimate, entry.ci_low, entry.ci_high, uncertain.value, mean,
                             float(drawn.min()), float(drawn.max()), entry.ci_low <= mean <= entry.ci_high))
    columns = ["mix", "scheme", "effect", "kind", "evidence", "evidence_kind", "outcome", "estimate", "ci_low",
               "ci_high", "point", "drawn_mean", "drawn_min", "drawn_max", "inside"]
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
