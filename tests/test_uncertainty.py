"""Uncertainty as a decision needs it: the range of likely outcomes against the precision of the mean, the
chance of meeting a target, central effects, and the tornado's rank correlations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from caresim.analysis.summary import (
    BOOTSTRAP_RESAMPLES,
    confidence_interval,
    effect_draws_frame,
    outcome_interval,
    paired_differences,
    replications_frame,
    summary_frame,
)
from caresim.analysis.tornado import PRCC, SPEARMAN, prcc, rank_correlations
from caresim.experiment.executors import execute
from caresim.experiment.plan import make_plan
from caresim.scenario.schema import Scenario
from conftest import changed, shortened

WIDE = {"value": 0.7, "low": 0.4, "high": 1.0, "distribution": "uniform"}
WIDE_SCHEME = {"title": "Wide prevention", "cost": {"recurrent_per_year": 100000, "payer": "nhs"},
               "ramp_up_days": 0, "claimed_benefit_per_year": 0,
               "effects": [{"kind": "prevention", "name": "fewer_crises", "multiplier": WIDE}]}


def test_prcc_finds_known_monotone_relations_with_their_sign() -> None:
    rng = np.random.default_rng(7)
    inputs = pd.DataFrame(rng.uniform(size=(300, 3)), columns=["x1", "x2", "x3"])
    output = 3 * inputs["x1"] - inputs["x2"] + rng.normal(scale=0.3, size=300)
    result = prcc(inputs, output)
    assert result["x1"] > 0.9
    assert result["x2"] < -0.5
    assert abs(result["x3"]) < 0.15


def test_too_few_replications_for_prcc_fall_back_to_rank_correlation_and_say_so() -> None:
    rng = np.random.default_rng(3)
    inputs = pd.DataFrame(rng.uniform(size=(12, 4)), columns=list("abcd"))
    values, method = rank_correlations(inputs, inputs["a"] * 2 + rng.normal(scale=0.05, size=12))
    assert method == SPEARMAN and values["a"] > 0.9
    assert rank_correlations(inputs.iloc[:, :1], inputs["a"])[1] == PRCC


def test_the_outcome_interval_is_the_spread_of_replications_and_its_error_is_stated() -> None:
    values = np.arange(1.0, 201.0)
    low, high, error = outcome_interval(values)
    assert low == pytest.approx(np.percentile(values, 2.5)) and high == pytest.approx(np.percentile(values, 97.5))
    assert 0 < error < 10


def test_intervals_are_the_t_interval_and_the_seeded_bootstrap_for_every_measure_alike() -> None:
    """The t point and the bootstrap's resamples are kept for each number of values: every measure with that
    number must still get exactly its own interval, NaNs dropped first."""
    rng = np.random.default_rng(11)
    for values in (rng.normal(100, 30, 25), rng.gamma(2.0, 50.0, 25), np.append(rng.normal(5, 1, 24), np.nan)):
        kept = values[~np.isnan(values)]
        n = len(kept)
        half = stats.t.ppf(0.975, n - 1) * kept.std(ddof=1) / np.sqrt(n)
        assert confidence_interval(values) == (kept.mean(), kept.mean() - half, kept.mean() + half, n)
        resampled = kept[np.random.default_rng(n).integers(0, n, (BOOTSTRAP_RESAMPLES, n))]
        error = np.percentile(resampled, [2.5, 97.5], axis=1).std(axis=1, ddof=1).max()
        assert outcome_interval(values) == (*np.percentile(kept, [2.5, 97.5]), error)


def tiny(skc: Scenario) -> Scenario:
    """A small town with one scheme whose only effect prevents crises by a uniform 0.4 to 1.0 multiplier."""
    scenario = changed(shortened(skc, days=30, warm_up_days=5), "population.localities", {"Town": 20_000})
    data = scenario.model_dump(by_alias=True)
    data.update(schemes={"wide": WIDE_SCHEME}, mix=None, bcf_targets={"bcf_avoidable_admissions_per_100k": 1698.0})
    return Scenario.model_validate(data)


def differences(scenario: Scenario, replications: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    plan = make_plan(scenario, replications)
    results = execute(plan, "serial", None, None, False)
    frame = replications_frame(results, scenario.name, scenario.run.seed)
    return frame, effect_draws_frame(results, scenario.mix_name)


def test_the_outcome_interval_covers_fresh_draws_and_the_ci_of_the_mean_does_not(skc: Scenario) -> None:
    scenario = tiny(skc)
    frame, draws = differences(scenario, 60)
    summary = summary_frame(frame, scenario.name, scenario.mix_name, (scenario.mix_name,), scenario.bcf_targets)
    row = summary[(summary["world"] == "difference")].set_index("measure").loc["emergency_admissions_avoided"]
    fresh = changed(scenario, "run.seed", scenario.run.seed + 1)
    held_out, _ = differences(fresh, 40)
    avoided = paired_differences(held_out, scenario.mix_name)["emergency_admissions_avoided"]
    inside_outcome = avoided.between(row["outcome_low"], row["outcome_high"]).mean()
    inside_ci = avoided.between(row["ci_low"], row["ci_high"]).mean()
    assert 0.85 <= inside_outcome <= 1.0
    assert inside_ci < 0.5
    assert set(draws["effect"]) == {"fewer_crises"} and draws["size"].between(0.4, 1.0).all()
    chance = summary.set_index(["world", "measure"]).loc[
        ("difference", "probability_meets_target_bcf_avoidable_admissions_per_100k"), "mean"]
    assert 0.0 <= chance <= 1.0


def test_central_effects_pin_every_size_at_its_point_value(skc: Scenario) -> None:
    scenario = tiny(skc)
    plan = make_plan(scenario, 3, effects="central")
    assert plan.effects == "central" and plan.fixed_sizes[scenario.mix_name] == {("wide", "fewer_crises"): 0.7}
    results = execute(plan, "serial", None, None, False)
    assert set(effect_draws_frame(results, scenario.mix_name)["size"]) == {0.7}
