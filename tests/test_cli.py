"""End to end through the `caresim` command: run, compare, validate, schema, calibrate, replications, warmup."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from caresim.analysis.diagnostics import mser5, replications_needed
from caresim.cli import app
from caresim.experiment.executors import execute
from caresim.experiment.plan import BASELINE, Plan
from caresim.scenario.loading import load_scenario
from caresim.workflows.diagnostics import flat_demand, replications_precision, warm_up_cuts
from conftest import ROOT, changed

runner = CliRunner()
SHORT_RUN = "run: {days: 30, warm_up_days: 5, replications: 2}\n"


def short_file(tmp_path: Path, base: str, name: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"extends: {ROOT / 'scenarios' / base}\nname: {name}\n{SHORT_RUN}", encoding="utf-8")
    return path


def invoke(*args: str):
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="module")
def skc_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("run")
    result = invoke("run", short_file(tmp, "skc_2015.yaml", "skc_short"), "--serial", "--out", tmp / "outputs",
                    "--no-report")
    assert result.exit_code == 0, result.output
    (folder,) = (tmp / "outputs" / "skc_short").iterdir()
    return folder, result.output


def test_run_writes_a_complete_tidy_run_folder(skc_run):
    folder, output = skc_run
    assert not folder.name.endswith(".partial")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["replications"] == 2 and manifest["conservation"]["violations"] == 0
    summary = pd.read_csv(folder / "summary.csv")
    assert list(summary.columns) == ["scenario", "world", "measure", "unit", "mean", "ci_low", "ci_high", "outcome_low",
                                     "outcome_high", "outcome_standard_error", "n"]
    assert set(summary["world"]) == {"baseline", "skc_mix_2015_low", "difference",  # and the compare_with mix
                                     "skc_mix_2015_plan_assumptions", "difference:skc_mix_2015_plan_assumptions"}
    assert set(pd.read_csv(folder / "side_by_side.csv")["mix"]) == {"skc_mix_2015_low", "skc_mix_2015_plan_assumptions"}
    assert (folder / "benchmarks.csv").exists() and (folder / "effect_evidence.csv").exists()
    difference = summary[summary["world"] == "difference"].set_index("measure")
    nct_after_the_run = 5_633_624  # neighbourhood care teams start on 1 September 2015, after this short run
    assert difference.loc["scheme_cost", "mean"] == pytest.approx(13_283_000 - nct_after_the_run, rel=1e-6)
    assert 0 <= difference.loc["probability_saves_money", "mean"] <= 1
    replications = pd.read_parquet(folder / "replications.parquet")
    assert replications["replication"].nunique() == 2
    daily = pd.read_parquet(folder / "daily.parquet")
    assert (daily["occupied"] <= daily["capacity"]).all()
    for name in ("calibration.csv", "sampled.csv", "little.csv", "flows.csv", "attribution.csv", "monthly.parquet",
                 "scenario.yaml"):
        assert (folder / name).exists(), name
    assert "Paired difference" in output and "Baseline against calibration targets" in output
    assert "Money a year by payer" in output and "All payers" in output


def test_quick_runs_the_baseline_and_the_mix_alone_on_a_few_draws_without_a_report(tmp_path):
    result = invoke("run", short_file(tmp_path, "skc_2015.yaml", "skc_short"), "--quick", "-n", "2", "--serial",
                    "--out", tmp_path / "outputs")
    assert result.exit_code == 0, result.output
    assert "A first answer" in result.output
    (folder,) = (tmp_path / "outputs" / "skc_short").iterdir()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["replications"] == 2
    assert set(pd.read_csv(folder / "summary.csv")["world"]) == {"baseline", "skc_mix_2015_low", "difference"}
    assert not (folder / "report.html").exists() and not (folder / "attribution.csv").exists()


def test_input_against_sampled_is_recorded_and_not_flagged(skc_run):
    folder, _ = skc_run
    sampled = pd.read_csv(folder / "sampled.csv")
    assert "acute_beds.length_of_stay.85+" in set(sampled["distribution"])
    assert not sampled["flag"].any(), sampled[sampled["flag"]]


@pytest.mark.slow
def test_compare_ranks_mixes_against_one_baseline(tmp_path):
    files = [short_file(tmp_path, base, base.removesuffix(".yaml"))
             for base in ("skc_2015.yaml", "skc_2015_high.yaml", "skc_2014_mix.yaml")]
    result = invoke("compare", *files, "--serial", "--out", tmp_path / "outputs")
    assert result.exit_code == 0, result.output
    (folder,) = (tmp_path / "outputs").glob("*/*")
    comparison = pd.read_csv(folder / "comparison.csv")
    assert "Comparison" in pd.ExcelFile(folder / "summary.xlsx").sheet_names
    assert "South Kent Coast 2015/16 with the six BCF schemes (high spend)" in (folder / "report.html").read_text(
        encoding="utf-8")
    assert set(comparison["mix"]) == {"skc_mix_2015_low", "skc_mix_2015_high", "skc_mix_2014"}
    costs = comparison[comparison["measure"] == "scheme_cost"].set_index("mix")["mean"]
    assert costs["skc_mix_2015_high"] > costs["skc_mix_2015_low"] > costs["skc_mix_2014"]
    assert sorted(comparison["rank"].unique()) == [1, 2, 3]


def test_compare_refuses_different_baselines(tmp_path):
    other = tmp_path / "other.yaml"
    other.write_text(f"extends: {ROOT / 'scenarios' / 'skc_2015.yaml'}\nname: other\nmix_name: other_mix\n"
                     "services: {acute_beds: {capacity: 400}}\n" + SHORT_RUN, encoding="utf-8")
    result = invoke("compare", short_file(tmp_path, "skc_2015.yaml", "a"), other, "--serial", "--no-report")
    assert result.exit_code == 2
    assert "different baselines" in result.output


def test_validate_and_schema():
    result = invoke("validate", ROOT / "scenarios" / "skc_2015.yaml")
    assert result.exit_code == 0 and "valid" in result.output
    schema = json.loads(invoke("schema").output)
    assert "services" in schema["properties"] and schema["additionalProperties"] is False


def test_calibrate_moves_parameters_towards_targets_and_keeps_comments(tmp_path):
    shutil.copy(ROOT / "scenarios" / "skc_2015.yaml", tmp_path / "base.yaml")
    shutil.copytree(ROOT / "scenarios" / "library", tmp_path / "library")  # its evidence ledger
    child = tmp_path / "child.yaml"
    child.write_text("extends: base.yaml\nrun: {days: 30, warm_up_days: 5}\ncalibration:\n  free_parameters:\n"
                     "    - {parameter: demand.crisis_rate_per_person_year.18-64,"
                     " measure: emergency_admissions_18_64}\n",
                     encoding="utf-8")
    before = (tmp_path / "base.yaml").read_text()
    result = invoke("calibrate", child, "--in-place", "--iterations", "1", "--replications", "1", "--serial",
                    "--out", tmp_path / "outputs")
    assert result.exit_code == 0, result.output
    after = (tmp_path / "base.yaml").read_text()
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=False) if a != b]
    assert len(changed) == 1 and "18-64:" in changed[0][1] and "# calibrated" in changed[0][1]
    report = pd.read_csv(tmp_path / "outputs" / "skc_2015" / "calibration-report.csv")
    assert {"measure", "target", "baseline_mean", "within"} <= set(report.columns)


def test_mser5_cuts_an_initial_transient():
    rng = np.random.default_rng(0)
    series = np.concatenate([np.linspace(0, 100, 40), 100 + rng.normal(0, 2, 400)])
    assert 30 <= mser5(series) <= 60
    assert mser5(100 + rng.normal(0, 2, 400)) <= 40


def test_warmup_check_sees_the_start_not_the_seasons():
    """A steady start on strongly seasonal demand: the check's cut is within a short warm-up, the same
    run judged on its seasonal occupancy is cut far longer, and the empty start is cut longer too."""
    scenario = load_scenario(ROOT / "src" / "caresim" / "workflows" / "verification" / "infinite_server.yaml")
    scenario = changed(scenario, "demand.crisis_rate_per_person_year.18-64", 1.0)  # 100 crises a day
    scenario = changed(scenario, "services.acute_beds.length_of_stay.18-64", {"distribution": "lognormal",
                                                                               "mean": 3, "cv": 1})
    scenario = changed(scenario, "services.acute_beds.initial_occupancy", 300)  # Little's law: 100 × 3
    scenario = changed(scenario, "demand.profile.monthly", [1.5, 1.4, 1.2, 1, 0.8, 0.6, 0.5, 0.6, 0.8, 1, 1.2, 1.4])
    cuts = warm_up_cuts(scenario, 2, "serial", days=360).set_index("service").loc["acute_beds"]
    assert cuts["warm start"] <= 5 < cuts["empty start"]
    seasonal = changed(flat_demand(scenario, 360), "demand.profile.monthly", scenario.demand.profile.monthly)
    occupancy = execute(Plan(seasonal, {BASELINE: ()}, 1, ()), "serial", progress=False)[0][0].daily["acute_beds"]
    assert mser5(occupancy[:360]) > 60


def test_replications_needed_shrinks_with_looser_precision():
    values = np.random.default_rng(1).normal(100, 10, 10)
    assert replications_needed(values, 0.01) > replications_needed(values, 0.05) >= 2


@pytest.mark.slow
def test_replications_and_warmup_print_the_tables_their_workflows_compute(tmp_path):
    scenario = short_file(tmp_path, "skc_2015.yaml", "skc_short")
    table = replications_precision(load_scenario(scenario), 3, 0.1, ["emergency_admissions", "delayed_days_saved"],
                                   executor="serial")
    assert table["measure"].tolist() == ["emergency_admissions", "delayed_days_saved"]
    assert (table["needed"] >= 2).all() and (table["half_width"] > 0).all()
    assert invoke("replications", scenario, "--pilot", "3", "--serial", "--measure", "nonsense").exit_code == 2
    result = invoke("warmup", scenario, "-n", "1", "--serial")
    assert result.exit_code == 0, result.output
    assert "the scenario uses 5 days" in " ".join(result.output.split())
