"""How many draws: the stated rule that stops adding effect draws, attribution worlds on the first draws only and
pairing on the draws both worlds have, and the same adaptive run whatever the executor."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import caresim.workflows.run as run_workflow
from caresim.analysis.draws import decide, percentile_half_width, percentile_interval, relative_precision
from caresim.analysis.summary import attribution_frame, replications_frame, summary_frame, wide
from caresim.experiment.compare import combine
from caresim.experiment.executors import execute
from caresim.experiment.plan import BASELINE, NO_FUND, make_plan
from caresim.scenario.schema import Draws, Scenario
from caresim.workflows.run import draw
from conftest import changed
from test_uncertainty import tiny

RULE = Draws(min=4, batch=3, max=13, precision=0.1)


def test_the_percentile_interval_is_unbounded_until_146_draws_and_covers_the_true_percentile() -> None:
    rng = np.random.default_rng(11)
    assert percentile_half_width(rng.normal(size=145), 0.025) == math.inf
    assert math.isfinite(percentile_half_width(rng.normal(size=146), 0.025))
    true_low, true_high = -1.959964, 1.959964  # the 2.5 and 97.5 percentiles of the standard normal
    intervals = [(percentile_interval(values, 0.025), percentile_interval(values, 0.975))
                 for values in rng.normal(size=(400, 300))]
    covered_low = np.mean([low <= true_low <= high for (low, high), _ in intervals])
    covered_high = np.mean([low <= true_high <= high for _, (low, high) in intervals])
    assert 0.93 <= covered_low <= 0.995 and 0.93 <= covered_high <= 0.995


def test_relative_precision_falls_with_draws_past_the_stated_share() -> None:
    rng = np.random.default_rng(5)
    assert relative_precision(rng.normal(size=100)) == math.inf
    assert relative_precision(rng.normal(size=200)) > 0.1
    assert relative_precision(rng.normal(size=5000)) < 0.05
    assert relative_precision(np.full(300, 7.0)) == 0.0


def test_the_rule_stops_at_the_precision_or_the_cap_and_never_passes_the_cap() -> None:
    assert decide(RULE, 4, {"a": 0.05, "b": 0.09}).next_batch is None
    assert decide(RULE, 4, {"a": 0.05, "b": 0.09}).stopped == "precision reached"
    assert decide(RULE, 4, {"a": 0.05, "b": 0.2}).next_batch == range(4, 7)
    assert decide(RULE, 10, {"a": math.inf, "b": 0.2}).next_batch == range(10, 13)
    capped = decide(RULE, 13, {"a": 0.5, "b": 0.2})
    assert capped.next_batch is None and capped.stopped == "cap reached before the precision"


def adaptive(skc: Scenario, rule: Draws = RULE, attribution_draws: int = 20) -> Scenario:
    scenario = changed(tiny(skc), "run.replications", rule.model_dump())
    return changed(scenario, "run.attribution_draws", attribution_draws)


def test_replications_forced_on_the_command_line_override_the_rule(skc: Scenario) -> None:
    scenario = adaptive(skc)
    assert (make_plan(scenario).replications, make_plan(scenario).draws) == (4, RULE)
    assert (make_plan(scenario, 6).replications, make_plan(scenario, 6).draws) == (6, None)
    assert combine([scenario]).draws == RULE and combine([scenario], 6).draws is None


def test_an_adaptive_run_adds_batches_until_the_precision_then_stops(skc: Scenario, monkeypatch) -> None:
    asked: list[int] = []

    def precision(frame: pd.DataFrame, mix: str) -> dict[str, float]:  # reached once there are 10 draws
        asked.append(frame["replication"].nunique())
        return {"emergency_admissions_avoided": 0.05 if asked[-1] >= 10 else 0.3}

    monkeypatch.setattr(run_workflow, "headline_precision", precision)
    plan, results, decision = draw(make_plan(adaptive(skc)), "serial", progress=False)
    assert asked == [4, 7, 10] and plan.replications == 10 and decision.stopped == "precision reached"
    assert [worlds[0].replication for worlds in results] == list(range(10))


def test_an_adaptive_run_stops_at_the_cap_and_is_the_same_serially_and_in_processes(skc: Scenario) -> None:
    plan = make_plan(adaptive(skc, Draws(min=3, batch=2, max=6, precision=0.1), attribution_draws=2),
                     attribution=True)
    serial_plan, serial, decision = draw(plan, "serial", progress=False)
    parallel_plan, parallel, _ = draw(plan, "processes", workers=2, progress=False)
    assert serial_plan.replications == parallel_plan.replications == 6  # 146 draws are needed to bound the ends
    assert decision.stopped == "cap reached before the precision"
    frames = [replications_frame(results, "tiny", plan.seed) for results in (serial, parallel)]
    pd.testing.assert_frame_equal(frames[0], frames[1])


def test_attribution_worlds_run_on_the_first_draws_and_pair_on_them(skc: Scenario) -> None:
    scenario = changed(tiny(skc), "run.attribution_draws", 2)
    plan = make_plan(scenario, 4, attribution=True)
    results = execute(plan, "serial", progress=False)
    ran = [{w.world for w in worlds} for worlds in results]
    mix = scenario.mix_name
    headline = {BASELINE, mix, NO_FUND}
    assert ran[:2] == [headline | {"only:wide", "without:wide"}] * 2 and ran[2:] == [headline] * 2
    frame = replications_frame(results, scenario.name, scenario.run.seed)
    table = attribution_frame(frame, mix, ("wide",))
    assert set(table["n"]) == {2}  # the whole too, so that the parts and the remainder add up to it
    means = table[table["measure"] == "emergency_admissions"].set_index(["scheme", "method"])["mean"]
    assert (means[("wide", "one_at_a_time")] + means[("interaction", "remainder")]
            == pytest.approx(means[("all schemes", "total")]))
    alone = wide(frame, "only:wide").loc[[0, 1], "emergency_admissions"] - wide(frame, BASELINE).loc[
        [0, 1], "emergency_admissions"]
    row = table[(table["scheme"] == "wide") & (table["method"] == "one_at_a_time")
                & (table["measure"] == "emergency_admissions")].iloc[0]
    assert (row["outcome_low"], row["outcome_high"]) == pytest.approx(tuple(np.percentile(alone, [2.5, 97.5])))
    summary = summary_frame(frame, scenario.name, mix, (mix,))
    assert summary[summary["world"] == "difference"]["n"].max() == 4
