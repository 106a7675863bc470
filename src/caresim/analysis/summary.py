"""Tidy tables from replication results: per replication, means with two 95 % intervals, paired differences,
attribution.

Each replication draws its own effect sizes, so a measure has two intervals that answer different questions:
the range of likely outcomes (the 2.5 and 97.5 percentiles across replications: chance and the evidence on
effects together, what a board faces) and the precision of the mean (the t confidence interval of the mean:
how well the simulation has pinned down its own average)."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from scipy import stats

from caresim.engine.effects import uncertain_of
from caresim.experiment.plan import BASELINE
from caresim.experiment.replication import WorldResult
from caresim.measures import (
    ATTRIBUTED,
    REDUCTIONS,
    SHARE_OF_REPLICATIONS,
    TARGETED,
    meets_target,
    reduction,
    unit_of,
)

STABLE_DRAWS = 200  # replications below which the range of likely outcomes is indicative, unless the draws rule held
BOOTSTRAP_RESAMPLES = 400  # resamples for the Monte-Carlo standard error of a range's ends
SUMMARY_COLUMNS = ["scenario", "world", "measure", "unit", "mean", "ci_low", "ci_high", "outcome_low",
                   "outcome_high", "outcome_standard_error", "n"]


def replications_frame(results: list[list[WorldResult]], scenario: str, seed: int) -> pd.DataFrame:
    rows = [(scenario, w.world, w.replication, seed, measure, value)
            for replication in results for w in replication for measure, value in w.measures.items()]
    frame = pd.DataFrame(rows, columns=["scenario", "world", "replication", "seed", "measure", "value"])
    frame.insert(5, "unit", frame["measure"].map(unit_of))
    return frame


@functools.lru_cache(maxsize=16)
def _t_975(degrees_of_freedom: int) -> np.float64:
    """Student's t 97.5 % point, asked once for each number of replications rather than once per measure."""
    return stats.t.ppf(0.975, degrees_of_freedom)


@functools.lru_cache(maxsize=16)
def _bootstrap_picks(n: int) -> np.ndarray:
    """The seeded bootstrap's resamples of n replications (seeded by n), the same for every measure with n values."""
    picks = np.random.default_rng(n).integers(0, n, (BOOTSTRAP_RESAMPLES, n))
    picks.flags.writeable = False
    return picks


def confidence_interval(values: np.ndarray) -> tuple[float, float, float, int]:
    """Mean and two-sided 95 % t interval of replication values (NaNs dropped)."""
    values = values[~np.isnan(values)]
    n = len(values)
    if n == 0:
        return float("nan"), float("nan"), float("nan"), 0
    mean = float(values.mean())
    if n == 1:
        return mean, mean, mean, 1
    half = float(_t_975(n - 1) * values.std(ddof=1) / np.sqrt(n))
    return mean, mean - half, mean + half, n


def outcome_interval(values: np.ndarray) -> tuple[float, float, float]:
    """The range of likely outcomes: 2.5 and 97.5 percentiles of replication values (NaNs dropped), and the
    Monte-Carlo standard error of its ends (the larger of the two, from a seeded bootstrap of the replications)."""
    values = values[~np.isnan(values)]
    if len(values) < 2:
        return float("nan"), float("nan"), float("nan")
    low, high = np.percentile(values, [2.5, 97.5])
    resampled = values[_bootstrap_picks(len(values))]
    ends = np.percentile(resampled, [2.5, 97.5], axis=1)
    return float(low), float(high), float(ends.std(axis=1, ddof=1).max())


def _summarise(wide: pd.DataFrame, scenario: str, world: str) -> list[tuple]:
    rows = []
    for measure in wide.columns:
        values = wide[measure].to_numpy(dtype=float)
        mean, low, high, n = confidence_interval(values)
        unit = unit_of(measure)
        outcome = (float("nan"),) * 3 if unit == SHARE_OF_REPLICATIONS else outcome_interval(values)
        rows.append((scenario, world, measure, unit, mean, low, high, *outcome, n))
    return rows


def wide(frame: pd.DataFrame, world: str) -> pd.DataFrame:
    """Replications × measures for one world."""
    return frame[frame["world"] == world].pivot(index="replication", columns="measure", values="value")


def paired(frame: pd.DataFrame, *worlds: str) -> list[pd.DataFrame]:
    """Each world's replications × measures, on the replications every one of them has (attribution worlds run on
    the first draws only, headline worlds on all)."""
    tables = [wide(frame, world) for world in worlds]
    common = tables[0].index
    for table in tables[1:]:
        common = common.intersection(table.index)
    return [table.loc[common] for table in tables]


def paired_differences(frame: pd.DataFrame, world: str, reference: str = BASELINE) -> pd.DataFrame:
    """Per-replication differences world − reference (on the replications both have), with reductions and money
    measures added."""
    mix, base = paired(frame, world, reference)
    difference = mix - base
    for measure, reduced in REDUCTIONS.items():
        difference[reduced] = reduction(difference[measure])
    difference["scheme_cost"] = mix["scheme_cost"]
    difference["net_cost"] = difference["cost_total"] + mix["scheme_cost"]
    difference["probability_saves_money"] = (difference["net_cost"] < 0).astype(float)
    difference["return_on_investment"] = difference["activity_savings"] / mix["scheme_cost"].replace(0, np.nan)
    difference["claimed_benefit"] = mix["claimed_benefit"]
    return difference


def target_probabilities(mix: pd.DataFrame, targets: dict[str, float]) -> pd.DataFrame:
    """Per replication, 1 where the mix's BCF metric meets its plan target (in the metric's good direction), else
    0; NaN for a metric the scenario sets no target for."""
    met = pd.DataFrame(index=mix.index)
    for metric in TARGETED:
        name, higher = meets_target(metric)
        target = targets.get(metric)
        met[name] = np.nan if target is None else (mix[metric] >= target if higher else mix[metric] <= target)
    return met.astype(float)


def summary_frame(frame: pd.DataFrame, scenario: str, main_mix: str | None, mixes: tuple[str, ...],
                  targets: dict[str, float] | None = None) -> pd.DataFrame:
    """Mean, CI of the mean and range of likely outcomes of every measure for the baseline and each mix, and
    paired differences with the chance of saving money and of meeting each plan target."""
    rows = _summarise(wide(frame, BASELINE), scenario, BASELINE)
    for mix in mixes:
        rows += _summarise(wide(frame, mix), scenario, mix)
        difference = paired_differences(frame, mix).join(target_probabilities(wide(frame, mix), targets or {}))
        label = "difference" if mix == main_mix else f"difference:{mix}"
        rows += _summarise(difference, scenario, label)
        avoided = difference["emergency_admissions_avoided"].mean()
        ratio = difference["net_cost"].mean() / avoided if avoided else float("nan")
        rows.append((scenario, label, "cost_per_admission_avoided", unit_of("cost_per_admission_avoided"), ratio,
                     np.nan, np.nan, np.nan, np.nan, np.nan, len(difference)))
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def effect_draws_frame(results: list[list[WorldResult]], world: str) -> pd.DataFrame:
    """The effect sizes one world drew, replication by replication: replication, scheme, effect, size."""
    rows = [(w.replication, scheme, effect, size) for replication in results for w in replication
            if w.world == world for (scheme, effect), size in w.effect_sizes.items()]
    return pd.DataFrame(rows, columns=["replication", "scheme", "effect", "size"])


def attribution_frame(frame: pd.DataFrame, main_mix: str, schemes: tuple[str, ...]) -> pd.DataFrame:
    """Per scheme: effect alone (one at a time) and marginal effect (leave one out), with the interaction
    remainder so that the one-at-a-time parts plus the remainder equal the whole, replication by replication, on
    the draws every attribution world has. Each row has both intervals: the 95 % CI of the mean (its half-width also
    as a share of the whole's mean, the precision of a scheme's share) and the range of likely outcomes (2.5 to 97.5
    percentiles across those draws)."""
    alone = [f"only:{s}" for s in schemes]
    left_out = [f"without:{s}" for s in schemes]
    base, mix, *others = paired(frame, BASELINE, main_mix, *alone, *left_out)
    worlds = dict(zip([*alone, *left_out], others, strict=True))
    total = (mix - base)[list(ATTRIBUTED)]
    parts = sum((worlds[world] - base)[list(ATTRIBUTED)] for world in alone)
    rows = []

    def add(scheme: str, method: str, values: pd.DataFrame) -> None:
        for measure in ATTRIBUTED:
            array = values[measure].to_numpy(dtype=float)
            mean, low, high, n = confidence_interval(array)
            whole = total[measure].mean()
            share = (high - low) / 2 / abs(whole) if whole else float("nan")
            outcome_low, outcome_high = np.percentile(array, [2.5, 97.5]) if n else (np.nan, np.nan)
            rows.append((scheme, method, measure, mean, low, high, (high - low) / 2, share, outcome_low, outcome_high,
                         n))

    for scheme in schemes:
        add(scheme, "one_at_a_time", (worlds[f"only:{scheme}"] - base)[list(ATTRIBUTED)])
        add(scheme, "leave_one_out", (mix - worlds[f"without:{scheme}"])[list(ATTRIBUTED)])
    add("interaction", "remainder", total - parts)
    add("all schemes", "total", total)
    return pd.DataFrame(rows, columns=["scheme", "method", "measure", "mean", "ci_low", "ci_high", "half_width",
                                       "half_width_share_of_total", "outcome_low", "outcome_high", "n"])


def sensitivity_frame(frame: pd.DataFrame, plan_ends: dict[str, tuple[str, str, str]], scenario) -> pd.DataFrame:
    """Admissions avoided with each uncertain effect at its low and its high end, the others at their point values."""
    rows: dict[tuple[str, str], dict] = {}
    for world, (scheme, effect_name, end) in plan_ends.items():
        base, changed = (table["emergency_admissions"] for table in paired(frame, BASELINE, world))
        effect = next(e for e in scenario.scheme(scheme).effects if e.name == effect_name)
        value = uncertain_of(effect)
        row = rows.setdefault((scheme, effect_name), {
            "parameter": f"{scheme}: {effect_name}",
            "low_value": value.low, "high_value": value.high, "headline_measure": "emergency_admissions_avoided"})
        row[f"headline_{end}"] = float((base - changed).mean())
    columns = ["parameter", "low_value", "high_value", "headline_low", "headline_high", "headline_measure"]
    table = pd.DataFrame(list(rows.values()), columns=columns)
    return table.reindex(table["headline_high"].sub(table["headline_low"]).abs().sort_values(ascending=False).index)
