"""`caresim optimise`: scheme options, the mixes a budget allows, paired evaluation, the best mix found by brute force,
and the value of information."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from pydantic import ValidationError
from typer.testing import CliRunner

from caresim.analysis.optimise import (
    OBJECTIVES,
    NoMixFitsError,
    all_mixes,
    check_objective,
    evppi,
    feasible_mixes,
    objective_named,
    objective_values,
    ocba_round,
    ocba_shares,
    parse_money,
)
from caresim.cli import app
from caresim.experiment.options import mix_cost, mix_name, options_of, with_options
from caresim.outputs.optimise_report import write_optimise_report
from caresim.scenario.schema import Scenario
from caresim.scenario.sources import load_sourced
from caresim.workflows.optimise import Search, optimise
from conftest import SKC, shortened

# Three schemes with fixed effects on every crisis: strong (0.8), none (1.0), and one with a low and a high option.
# The best mix for admissions avoided within £2m is strong + scaled at low (0.8 × 0.95), by brute force.
TINY_SCHEMES = {
    "strong": {"title": "Strong", "cost": {"recurrent_per_year": 1e6},
               "effects": [{"kind": "prevention", "name": "fewer_crises", "multiplier": {"value": 0.8}}]},
    "useless": {"title": "Useless", "cost": {"recurrent_per_year": 1e6, "payer": "council"},
                "effects": [{"kind": "prevention", "name": "fewer_crises",
                             "multiplier": {"value": 1.0, "low": 0.98, "high": 1.02, "distribution": "uniform"}}]},
    "scaled": {"title": "Scaled", "cost": {"recurrent_per_year": 1e6}, "option": "low",
               "effects": [{"kind": "prevention", "name": "fewer_crises", "multiplier": {"value": 0.95}}],
               "options": {"low": {}, "high": {"cost": {"recurrent_per_year": 2e6},
                                               "effects": {"fewer_crises": {"multiplier": {"value": 0.85}}}}}},
}


@pytest.fixture(scope="module")
def tiny() -> Scenario:
    scenario = shortened(load_sourced(SKC).scenario, days=30, warm_up_days=5)
    data = scenario.model_dump(by_alias=True)
    data.update(schemes=TINY_SCHEMES, mix=None, variants={}, benchmarks={}, name="tiny")
    return Scenario.model_validate(data)


@pytest.fixture(scope="module")
def origin(tiny: Scenario):
    return replace(load_sourced(SKC), scenario=tiny)


def test_options_swap_back_and_forth(tiny: Scenario):
    scaled = tiny.scheme("scaled")
    high = scaled.at("high")
    assert high.cost.recurrent_per_year == 2e6 and high.effects[0].multiplier.value == 0.85
    assert high.at("low") == scaled
    assert mix_cost(tiny, {"strong": "low", "scaled": "high"}) == 3e6
    assert with_options(tiny, {"scaled": "high"}).scheme("scaled") == high


def test_skc_declares_low_and_high_and_the_high_file_uses_them():
    low = load_sourced(SKC).scenario
    high = load_sourced(SKC.with_name("skc_2015_high.yaml")).scenario
    assert sum(s.option_cost for s in low.schemes.values()) == 13_283_000  # seed: 001 L1553
    assert sum(s.option_cost for s in high.schemes.values()) == 18_862_575
    for name, scheme in low.schemes.items():
        assert "low" in scheme.options
        assert high.scheme(name) == (scheme.at("high") if "high" in scheme.options else scheme)


def test_budget_and_constraints(tiny: Scenario):
    mixes = feasible_mixes(tiny, 2e6)
    assert {mix_name(m) for m in mixes} == {"strong=on", "useless=on", "scaled=low", "scaled=high",
                                            "strong=on+useless=on", "strong=on+scaled=low",
                                            "useless=on+scaled=low"}
    assert all("useless" in m for m in feasible_mixes(tiny, 2e6, must_fund=("useless",)))
    assert all(mix_cost(tiny, m, "council") == 0 for m in feasible_mixes(tiny, 3e6, payer_budgets={"council": 0}))
    with pytest.raises(NoMixFitsError, match="cheapest allowed mix costs £1,000,000"):
        feasible_mixes(tiny, 0.5e6)
    with pytest.raises(NoMixFitsError):
        feasible_mixes(tiny, 1.5e6, must_fund=("strong", "useless"))
    assert parse_money("13.3m") == 13.3e6 and parse_money("£500k") == 5e5


BEDS = {"title": "Step-up beds", "cost": {"recurrent_per_year": 1.0},
        "effects": [{"kind": "capacity", "name": "extra_beds", "service": "intermediate_care_beds", "add": 1}],
        "steps": {"setting": "extra_beds.add", "add_per_step": 5, "cost_per_step": 120000, "max_steps": 3}}


def with_beds(tiny: Scenario, beds: dict) -> Scenario:
    data = tiny.model_dump(by_alias=True)
    data["schemes"] = {**data["schemes"], "beds": beds}
    return Scenario.model_validate(data)


def test_capacity_steps_become_options_with_a_cost_per_step(tiny: Scenario):
    stepped = with_beds(tiny, BEDS)
    assert options_of(stepped, "beds") == ("step_1", "step_2", "step_3")
    three = with_options(stepped, {"beds": "step_3"}).scheme("beds")
    assert three.effects[0].add == 15 and three.option_cost == 360000
    assert three.at("step_1").effects[0].add == 5  # steps swap back and forth like options
    assert mix_cost(stepped, {"scaled": "high", "beds": "step_2"}) == 2e6 + 240000
    assert len(all_mixes(stepped, tuple(stepped.schemes))) == 2 * 2 * 3 * 4


@pytest.mark.parametrize(("steps", "problem"), [
    ({"setting": "extra_beds.places"}, "extra_beds.places is not a number"),
    ({"add_per_step": 2.5}, "add_per_step must be one"),
    ({"max_steps": 0}, "max_steps"),
])
def test_malformed_steps_are_explained_and_exit_2(tiny: Scenario, tmp_path, steps: dict, problem: str):
    with pytest.raises(ValidationError, match=problem):
        with_beds(tiny, {**BEDS, "steps": {**BEDS["steps"], **steps}})
    data = tiny.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["schemes"]["beds"] = {**BEDS, "steps": {**BEDS["steps"], **steps}}
    path = write_scenario(data, tmp_path)
    result = CliRunner().invoke(app, ["optimise", str(path), "--budget", "2m", "--serial", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "steps" in result.output, result.output


def test_minimum_option_per_scheme(tiny: Scenario, tmp_path):
    mixes = feasible_mixes(tiny, 3e6, minimum={"scaled": "high"})
    assert mixes and all(mix.get("scaled") == "high" for mix in mixes)
    assert {m.get("scaled") for m in feasible_mixes(tiny, 3e6, minimum={"scaled": "low"})} == {"low", "high"}
    with pytest.raises(NoMixFitsError, match="scaled at high or above: the cheapest allowed mix costs £2,000,000"):
        feasible_mixes(tiny, 1.5e6, minimum={"scaled": "high"})
    with pytest.raises(ValueError, match="scaled's options are low, high"):
        feasible_mixes(tiny, 3e6, minimum={"scaled": "huge"})
    path = write_scenario(tiny.model_dump(mode="json", by_alias=True, exclude_none=True), tmp_path)
    result = CliRunner().invoke(app, ["optimise", str(path), "--budget", "1.5m", "--min-option", "scaled=high",
                                      "--serial", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "no mix of scheme options fits" in result.output, result.output


def test_budget_no_option_fits_exits_2(tmp_path):
    result = CliRunner().invoke(app, ["optimise", str(SKC), "--budget", "100k", "--out", str(tmp_path), "--serial"])
    assert result.exit_code == 2, result.output
    assert "no mix of scheme options fits a budget of £100,000" in result.output


@pytest.fixture(scope="module")
def found(origin, tmp_path_factory):
    out = tmp_path_factory.mktemp("optimise")
    return optimise(origin, Search(2e6, frontier_budgets=(1e6, 2e6, 3e6), candidates=20), 3, out, "serial",
                    progress=False)


def test_exhaustive_search_finds_the_brute_force_best(found):
    assert found.exhaustive
    assert found.candidates.iloc[0]["mix"] == "strong=on+scaled=low"
    assert found.candidates.iloc[0]["p_best"] > 0.5
    frontier = found.frontier.set_index("budget")
    assert frontier.loc[1e6, "mix"] == "strong=on" and frontier.loc[3e6, "mix"] == "strong=on+scaled=high"
    report = write_optimise_report(found.folder)
    assert "Which mix for the budget" in report.read_text(encoding="utf-8")
    for name in ("frontier.csv", "candidates.csv", "evppi.csv", "changes.csv", "charts/frontier.png",
                 "charts/frontier.svg", "charts/evppi.png"):
        assert (found.folder / name).exists(), name


def test_two_stage_search_screens_then_finds_the_best(origin, found, tmp_path):
    two = optimise(origin, Search(2e6, frontier_budgets=(2e6,), candidates=2), 3, tmp_path, "serial", progress=False)
    assert not two.exhaustive
    assert two.candidates.iloc[0]["mix"] == "strong=on+scaled=low"
    screen = pd.read_csv(two.folder / "screen.csv")
    assert len(screen) == 4  # each scheme option alone
    # paired: a mix simulated in both searches has the same value in every replication
    first = pd.read_csv(found.folder / "candidate_replications.csv")
    second = pd.read_csv(two.folder / "candidate_replications.csv")
    merged = first.merge(second, on=["mix", "replication"], suffixes=("", "_again"))
    assert len(merged) and np.array_equal(merged["admissions_avoided"], merged["admissions_avoided_again"])


def test_more_draws_go_in_ocba_rounds_to_the_contenders_on_the_same_replications(origin, found, tmp_path):
    search = Search(2e6, frontier_budgets=(2e6, 3e6), candidates=20, more_draws=4, round_draws=2, target_p_best=1.01)
    more = optimise(origin, search, 3, tmp_path, "serial", progress=False)
    rounds = more.rounds
    assert list(rounds.columns) == ["round", "mix", "n", "mean", "p_best", "ocba_share", "drawn_next", "mix_title"]
    assert not rounds["mix_title"].str.contains("=").any()  # titles, for people, beside the ids
    assert rounds["round"].max() == 2 and (rounds.groupby("round")["n"].first() == [3, 5, 7]).all()
    for number, this in rounds.groupby("round"):  # the next round's contenders are the ones drawn in this one
        drawn = set(this.loc[this["drawn_next"], "mix"])
        after = set(rounds.loc[rounds["round"] == number + 1, "mix"])
        assert drawn == after or (number == 2 and not drawn)
    table = more.candidates.set_index("mix")
    last = set(rounds.loc[rounds["round"] == 2, "mix"])
    assert (table.loc[list(last), "n"] == 7).all() and (table.drop(list(last))["n"] < 7).all()
    assert more.candidates.iloc[0]["mix"] == "strong=on+scaled=low"
    frontier = more.frontier.set_index("budget")  # another budget compares its mixes on the draws they all ran
    assert frontier.loc[3e6, "mix"] == "strong=on+scaled=high" and frontier.loc[3e6, "p_best"] > 0.5
    assert "2 rounds of more draws by OCBA (4 more draws spent)" in (more.folder / "manifest.json").read_text()
    again = pd.read_csv(more.folder / "candidate_replications.csv")
    first = pd.read_csv(found.folder / "candidate_replications.csv")
    merged = first.merge(again, on=["mix", "replication"], suffixes=("", "_again"))
    assert len(merged) == (again["replication"] < 3).sum()  # the first draws are the same: more draws only add
    assert np.array_equal(merged["admissions_avoided"], merged["admissions_avoided_again"])
    by_replication = again[again["replication"] >= 3].groupby("replication")["mix"].apply(set)
    assert by_replication.loc[[3, 4]].map(len).min() >= 2  # a round's new replications are run by every drawn mix
    assert by_replication.loc[3] == by_replication.loc[4] and by_replication.loc[5] == by_replication.loc[6]


def test_the_rounds_stop_when_p_best_is_reached(origin, tmp_path):
    search = Search(2e6, frontier_budgets=(2e6,), candidates=20, more_draws=4, target_p_best=0.5)
    more = optimise(origin, search, 3, tmp_path, "serial", progress=False)
    assert more.rounds["round"].max() == 0 and not more.rounds["drawn_next"].any()
    assert (more.candidates["n"] == 3).all()


def test_ocba_round_draws_for_the_best_and_close_contenders_only():
    rng = np.random.default_rng(3)
    scores = pd.DataFrame({"best": 10 + rng.normal(size=8), "close": 9.5 + rng.normal(size=8),
                           "far": rng.normal(size=8)})
    assert ocba_round(scores, 4) == ["best", "close"]


def test_every_candidate_sees_the_same_baseline(found):
    rows = pd.read_csv(found.folder / "candidate_replications.csv")
    assert rows.groupby("replication")["baseline_emergency_admissions"].nunique().eq(1).all()
    assert rows["mix"].nunique() > 3


def test_must_fund_is_honoured(origin, tmp_path):
    forced = optimise(origin, Search(2e6, frontier_budgets=(2e6,), must_fund=("useless",), candidates=20), 2,
                      tmp_path, "serial", progress=False)
    assert forced.candidates.iloc[0]["mix"] == "strong=on+useless=on"
    assert forced.candidates[forced.candidates["within_budget"]]["mix"].str.contains("useless").all()


def test_evppi_zero_without_influence_positive_when_it_changes_the_decision():
    rng = np.random.default_rng(1)
    n = 400
    decisive, idle = rng.normal(size=n), rng.normal(size=n)
    noise = rng.normal(scale=0.1, size=(n, 2))
    benefits = pd.DataFrame({"a": 10 * decisive + noise[:, 0], "b": noise[:, 1]})  # a is best when decisive > 0
    assert evppi(pd.Series(idle), benefits) < 0.2
    expected = 10 * np.mean(np.maximum(decisive, 0))  # E[max(10x, 0)] − max(E[10x], 0) ≈ 10 / √(2π)
    assert evppi(pd.Series(decisive), benefits) == pytest.approx(expected, rel=0.1)


def test_ocba_gives_most_to_the_best_and_close_contenders():
    rng = np.random.default_rng(2)
    scores = pd.DataFrame({"best": 10 + rng.normal(size=50), "close": 9.8 + rng.normal(size=50),
                           "far": rng.normal(size=50)})
    shares = ocba_shares(scores)
    assert shares.sum() == pytest.approx(1.0)
    assert shares["far"] < 0.01 < shares["close"] and shares["best"] > shares["far"]


def test_objectives_named():
    assert set(OBJECTIVES) >= {"admissions_avoided", "net_cash_cost", "delayed_days_saved", "net_benefit",
                               "bcf_targets_met", "bcf_target_shortfall"}
    with pytest.raises(ValueError, match="name=weight pairs"):
        objective_named("admissions_avoided=1,net_cash=2")


def test_bcf_targets_and_a_weighted_mix(tiny: Scenario):
    target = tiny.bcf_targets["bcf_avoidable_admissions_per_100k"]
    world = pd.DataFrame({"bcf_avoidable_admissions_per_100k": [target * 0.9, target, target * 1.1],
                          "emergency_admissions": [90.0, 95, 100], "delayed_days": [10.0, 20, 30]})
    baseline = pd.DataFrame({"emergency_admissions": [100.0, 100, 100], "delayed_days": [40.0, 40, 40]})

    def values(name: str) -> list[float]:
        return list(objective_values(world, baseline, tiny, {}, objective_named(name)))

    assert values("bcf_targets_met") == [1, 1, 0]  # fewer avoidable admissions than the target meets it
    assert values("bcf_target_shortfall") == pytest.approx([0, 0, 10])
    weighted = objective_named("admissions_avoided=1,delayed_days=-0.5")
    assert weighted.higher_is_better and "− 0.5 × delayed discharge days saved" in weighted.label
    assert values("admissions_avoided=1,delayed_days=-0.5") == [10 - 15, 5 - 10, 0 - 5]
    on_targets = objective_named("bcf_targets_met=1,admissions=1")
    assert on_targets.weights == (("bcf_targets_met", 1.0), ("admissions_avoided", 1.0))
    with pytest.raises(ValueError, match="sets no bcf_targets"):
        check_objective(on_targets, tiny.model_copy(update={"bcf_targets": {}}))


def write_scenario(data: dict, folder) -> Path:
    """A scenario's data (as dumped) written as a YAML file on its own."""
    data = {key: value for key, value in data.items() if key not in ("evidence", "compare_with")}
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_cli_writes_frontier_report_and_says_what_changes(tiny: Scenario, tmp_path):
    path = write_scenario(tiny.model_dump(mode="json", by_alias=True, exclude_none=True), tmp_path)
    result = CliRunner().invoke(app, ["optimise", str(path), "--budget", "2m", "--frontier", "1m", "--frontier", "3m",
                                      "-n", "2", "--serial", "--out", str(tmp_path / "out"), "--candidates", "20",
                                      "--more-draws", "2", "--target-p-best", "1"])
    assert result.exit_code == 0, result.output
    assert "Useless goes from on to off" in result.output
    (folder,) = (tmp_path / "out").glob("*/*")
    assert (folder / "report.html").exists() and (folder / "charts" / "evppi.png").exists()
    assert list(pd.read_csv(folder / "frontier.csv")["budget"]) == [1e6, 2e6, 3e6]
    assert pd.read_csv(folder / "rounds.csv")["n"].max() <= 4
    (folder / "report.html").unlink()
    again = CliRunner().invoke(app, ["report", str(folder)])
    assert again.exit_code == 0, again.output
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert all(part in page for part in ("The best mix within each budget", "P(best)", "More draws, in rounds",
                                         "The value of better evidence"))


@pytest.mark.parametrize("options", [3.0, {"low": 3.0}, {"high": {"cost": 1.0}},
                                     {"low": {"effects": {"rapid_response_places": 21}}}])
def test_a_malformed_option_is_explained_by_the_schema_not_a_crash(skc: Scenario, options: object) -> None:
    data = skc.model_dump(by_alias=True)
    data["schemes"]["integrated_teams_reablement"]["options"] = options
    with pytest.raises(ValidationError, match="options"):
        Scenario.model_validate(data)
