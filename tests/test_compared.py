"""A compared scenario (`compare_with`) beside the main mix on the same baseline, and the benchmark table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from caresim.analysis.validation import benchmark_frame, side_by_side_frame
from caresim.experiment.executors import execute
from caresim.experiment.plan import ComparedScenarioError, make_plan, with_compared
from caresim.scenario.sources import load_sourced
from caresim.workflows.run import replications_frame
from conftest import SKC, changed, shortened, write

PLAN_ASSUMPTIONS = SKC.parent / "skc_2015_plan_assumptions.yaml"
SCHEMES = ["integrated_teams_reablement", "care_homes_support"]


def test_skc_names_the_plan_assumptions_and_the_variant_does_not_name_itself() -> None:
    origin = load_sourced(SKC)
    assert origin.compare_file is not None and origin.compare_file.name == PLAN_ASSUMPTIONS.name
    assert load_sourced(PLAN_ASSUMPTIONS).compare_file is None
    assert origin.scenario.benchmarks


def test_a_compared_scenario_that_changes_more_than_its_schemes_is_refused() -> None:
    base = load_sourced(SKC).scenario
    other = load_sourced(PLAN_ASSUMPTIONS).scenario
    with_compared(make_plan(base, 1), other)  # only schemes differ: accepted
    for path, value in (("run.seed", 99), ("services.acute_beds.capacity", 400), ("costs", base.costs.model_copy(
            update={"acute_bed_day": base.costs.acute_bed_day + 1}).model_dump())):
        different = changed(other, path, value)
        with pytest.raises(ComparedScenarioError, match=path.split(".")[0]):
            with_compared(make_plan(base, 1), different)


def test_the_refusal_reaches_the_cli_as_bad_input(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from caresim.cli import app

    write(tmp_path, "variant.yaml", f"""
        extends: {PLAN_ASSUMPTIONS.resolve()}
        name: other_seed
        run: {{seed: 12345}}
        """)
    write(tmp_path, "main.yaml", f"""
        extends: {SKC.resolve()}
        name: main_with_variant
        compare_with: variant.yaml
        """)
    result = CliRunner().invoke(app, ["run", str(tmp_path / "main.yaml"), "--replications", "1", "--no-report",
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "run.seed" in result.output


def test_side_by_side_pairs_both_mixes_on_one_baseline() -> None:
    base = shortened(changed(load_sourced(SKC).scenario, "mix", SCHEMES), days=60)
    other = shortened(changed(load_sourced(PLAN_ASSUMPTIONS).scenario, "mix", SCHEMES), days=60)
    plan = with_compared(make_plan(base, 2, attribution=False), other)
    assert set(plan.compared_worlds) == {other.mix_name}  # no alone worlds without attribution
    plan = with_compared(make_plan(base, 2, attribution=True), other)
    results = execute(plan, "serial", None, None, progress=False)
    worlds = {w.world for w in results[0]}
    assert {"baseline", base.mix_name, other.mix_name, f"{other.mix_name}/only:{SCHEMES[0]}"} <= worlds
    frame = replications_frame(results, base.name, base.run.seed)
    alone = {base.mix_name: {s: f"only:{s}" for s in SCHEMES},
             other.mix_name: {s: f"{other.mix_name}/only:{s}" for s in SCHEMES}}
    table = side_by_side_frame(frame, alone)
    admissions = table[(table["measure"] == "emergency_admissions") & (table["scheme"] == "all schemes")]
    change = admissions.set_index("mix")["mean"]
    assert set(change.index) == {base.mix_name, other.mix_name}
    assert change[other.mix_name] < 0  # the planners' sizes avoid admissions
    assert change[other.mix_name] < change[base.mix_name]  # more than the evidence defaults
    assert len(table[table["mix"] == other.mix_name]["scheme"].unique()) == 1 + len(SCHEMES)


def _benchmarks(mix: float) -> pd.DataFrame:
    """The SKC benchmark table for a baseline of 1,000 of every measure and a mix of ``mix``, in every replication."""
    rows = [(w, r, m, v) for r in range(3) for w, v in (("baseline", 1000.0), ("mix", mix))
            for m in ("emergency_admissions", "bcf_avoidable_admissions_per_100k",
                      "care_home_admissions_per_resident_year")]
    frame = pd.DataFrame(rows, columns=["world", "replication", "measure", "value"])
    return benchmark_frame(frame, load_sourced(SKC).scenario, ("mix",)).set_index("benchmark")


def test_benchmarks_are_marked_inside_or_outside_on_fixed_numbers() -> None:
    table = _benchmarks(970.0)  # 3 % fewer
    assert np.allclose(table.loc["kent_up_to_five_percent", "mean"], -3.0)
    inside = table["inside"].to_dict()
    assert inside["kent_up_to_five_percent"] and inside["vanguards_and_pioneers"]
    assert inside["plan_avoidable_admissions_target"]  # -3 % is beyond the plan's -0.9 %
    assert not inside["integrated_care_pilots"]  # they found no reduction
    assert inside["national_bcf_2015_16"] and inside["enhanced_health_in_care_homes"]
    population = sum(load_sourced(SKC).scenario.population.localities.values())
    assert np.isclose(table.loc["national_bcf_2015_16", "low"], -106_000 * population / 54_800_000)
    assert np.isinf(table.loc["plan_avoidable_admissions_target", "low"])

    table = _benchmarks(500.0)  # half: beyond every published reduction and the scaled national plan
    assert table["inside"].to_dict() == {name: name == "plan_avoidable_admissions_target" for name in table.index}
    table = _benchmarks(1000.0)  # no change: short of the plan's target and Kent's, inside the pilots' range
    inside = table["inside"].to_dict()
    assert not inside["plan_avoidable_admissions_target"] and inside["integrated_care_pilots"]


def test_central_effects_pin_the_compared_mix_too() -> None:
    """With --effects central the compared mix and its schemes alone run at their point values, like the main mix."""
    base = shortened(changed(load_sourced(SKC).scenario, "mix", SCHEMES), days=30)
    other = shortened(changed(load_sourced(PLAN_ASSUMPTIONS).scenario, "mix", SCHEMES), days=30)
    plan = with_compared(make_plan(base, 2, attribution=True, effects="central"), other)
    for world in plan.compared_worlds:
        sizes = plan.fixed_sizes[world]
        assert sizes[("care_homes_support", "fewer_resident_crises")] == 0.80  # the planners' point value
    results = execute(plan, "serial", None, None, progress=False)
    drawn = [{k: v for k, v in w.effect_sizes.items() if k[0] in SCHEMES} for r in results for w in r
             if w.world == other.mix_name]
    assert drawn[0] == drawn[1]  # the same sizes in every replication
