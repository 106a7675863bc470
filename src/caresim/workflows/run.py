"""A whole experiment: plan, execute, summarise, and write an honest run folder."""

from __future__ import annotations

import math
import subprocess
import time
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import yaml

from caresim import __version__
from caresim.analysis.checks import calibration_frame, little_frame, sampled_frame
from caresim.analysis.comparison import comparison_frame
from caresim.analysis.draws import DrawsDecision, decide, draws_frame, headline_precision, rule_text
from caresim.analysis.money import money_frame, performance_frame
from caresim.analysis.summary import (
    STABLE_DRAWS,
    attribution_frame,
    effect_draws_frame,
    replications_frame,
    sensitivity_frame,
    summary_frame,
)
from caresim.analysis.tables import daily_frame, flows_frame, monthly_frame
from caresim.analysis.tornado import tornado_frame
from caresim.analysis.validation import benchmark_frame, effect_evidence_frame, side_by_side_frame
from caresim.analysis.years import year_tables
from caresim.experiment.executors import execute
from caresim.experiment.plan import BASELINE, Plan, alone_world
from caresim.experiment.replication import WorldResult
from caresim.run_folder import RunFolder, write_frame
from caresim.scenario.sources import SourcedScenario


class ConservationError(RuntimeError):
    """A replication lost or duplicated a patient: a bug, never a property of the scenario."""


@dataclass
class Experiment:
    """The tables of a finished experiment and where they were written."""

    folder: Path
    summary: pd.DataFrame
    calibration: pd.DataFrame
    attribution: pd.DataFrame | None
    comparison: pd.DataFrame | None
    little: pd.DataFrame
    sampled: pd.DataFrame
    seconds: float
    draws: dict  # the draws rule and what it gave (the manifest's `draws`)


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).parent)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def check_conservation(results: list[list[WorldResult]]) -> dict[str, int]:
    worst = {"replications_checked": 0, "violations": 0}
    for replication in results:
        for w in replication:
            worst["replications_checked"] += 1
            if w.conservation["violations"]:
                raise ConservationError(
                    f"patients were not conserved in world {w.world}, replication {w.replication}: "
                    f"{w.conservation}; please report this as a bug")
    return worst


def with_seed(origin: SourcedScenario, seed: int) -> SourcedScenario:
    """The same scenario run from another root seed (the recorded sources stay those of the file)."""
    scenario = origin.scenario
    reseeded = scenario.model_copy(update={"run": scenario.run.model_copy(update={"seed": seed})})
    return replace(origin, scenario=reseeded)


def main_mix(plan: Plan) -> str | None:
    """The mix reported as 'difference': the scenario's own, else the first one."""
    if plan.scenario.mix_name in plan.mixes:
        return plan.scenario.mix_name
    return plan.mixes[0] if plan.mixes else None


def compared_mixes(plan: Plan) -> tuple[str, ...]:
    """The mixes summarised: the plan's own and the compared scenario's."""
    return (*plan.mixes, plan.compared.mix_name) if plan.compared is not None else plan.mixes


def draw(plan: Plan, executor: str = "processes", workers: int | None = None, scheduler: str | None = None,
         progress: bool = True) -> tuple[Plan, list[list[WorldResult]], DrawsDecision]:
    """Run the plan's draws: its fixed number, or, under its draws rule, batches of replication numbers until the
    rule stops them. The decision depends only on the results, which depend only on the seed and the replication
    numbers, so every executor stops at the same draw. Returns the plan with its final number of replications."""
    results: list[list[WorldResult]] = []
    batch: range | None = range(plan.replications)
    mix = main_mix(plan)
    while batch is not None:
        description = "Replications" if plan.draws is None else f"Draws {batch.start + 1}–{batch.stop}"
        results += execute(plan, executor, workers, scheduler, progress, description, numbers=batch)
        frame = replications_frame(results, plan.scenario.name, plan.seed)
        precision = headline_precision(frame, mix) if mix is not None else {}
        if plan.draws is None or mix is None:
            return plan, results, DrawsDecision(len(results), precision, None, "fixed number of draws")
        decision = decide(plan.draws, batch.stop, precision)
        batch = decision.next_batch
    return replace(plan, replications=len(results)), results, decision


def draws_record(plan: Plan, decision: DrawsDecision) -> dict:
    """The draws rule as the manifest states it: the rule in words, its settings, the draws run and why they
    stopped, the precision reached and the simulated world-years."""
    last = plan.replications - 1
    cut = len(plan.worlds_in(last)) < len(plan.worlds_in(0))  # some worlds stopped at the attribution draws
    attribution = min(plan.replications, plan.attribution_replications or plan.replications)
    rule = plan.draws
    return {"rule": rule_text(rule, plan.replications, attribution if cut else None), "draws": plan.replications,
            "adaptive": rule is not None, "stopped": decision.stopped,
            "settings": rule.model_dump() if rule is not None else None,
            "precision_reached": {measure: round(value, 4) if math.isfinite(value) else None  # None: unbounded
                                  for measure, value in decision.precision.items()},
            "attribution_draws": attribution,
            "world_years": round(plan.world_years(), 1)}


def summarise(plan: Plan, results: list[list[WorldResult]]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    scenario = plan.scenario
    frame = replications_frame(results, scenario.name, scenario.run.seed)
    main = main_mix(plan)
    summary = summary_frame(frame, scenario.name, main, compared_mixes(plan), scenario.bcf_targets)
    attribution = attribution_frame(frame, main, scenario.mix_schemes) if plan.attribution and main else None
    return frame, summary, attribution


def run_experiment(plan: Plan, origin: SourcedScenario, out_root: Path, executor: str = "processes",
                   workers: int | None = None, scheduler: str | None = None, progress: bool = True,
                   run_id: str | None = None) -> Experiment:
    """Run every replication of ``plan`` and write the run folder (moved into place only when complete).

    ``origin`` is the scenario file the plan was made from, with the source of every number in it."""
    with RunFolder(out_root, plan.scenario.name, run_id) as folder:
        _start_manifest(folder, plan, origin, scheduler or executor)
        started = time.perf_counter()
        plan, results, decision = draw(plan, executor, workers, scheduler, progress)
        experiment = _write_tables(folder, plan, origin, results, decision, time.perf_counter() - started)
    return replace(experiment, folder=folder.final_path)


def record_experiment(plan: Plan, origin: SourcedScenario, out_root: Path, results: list[list[WorldResult]],
                      seconds: float, executor: str, run_id: str | None = None) -> Experiment:
    """Write the run folder of replications simulated elsewhere (``caresim app`` keeps its baseline's between
    questions), exactly as `run_experiment` writes it, as a fixed number of draws."""
    with RunFolder(out_root, plan.scenario.name, run_id) as folder:
        _start_manifest(folder, plan, origin, executor)
        experiment = _write_tables(folder, replace(plan, replications=len(results), draws=None), origin, results,
                                   None, seconds)
    return replace(experiment, folder=folder.final_path)


def _start_manifest(folder: RunFolder, plan: Plan, origin: SourcedScenario, executor: str) -> None:
    scenario = plan.scenario
    folder.update_manifest(scenario=scenario.name, scenario_file=origin.file.name, title=scenario.title,
                           caresim_version=__version__, git_commit=git_commit(), seed=scenario.run.seed,
                           replications=plan.replications, worlds=plan.worlds, executor=executor,
                           effects=plan.effects, stable_draws=STABLE_DRAWS)


def _write_tables(folder: RunFolder, plan: Plan, origin: SourcedScenario, results: list[list[WorldResult]],
                  decision: DrawsDecision | None, seconds: float) -> Experiment:
    """Every table of the finished draws and the manifest's results into the open run folder; ``decision`` None:
    draws simulated elsewhere, a fixed number of them."""
    scenario = plan.scenario
    conservation = check_conservation(results)
    frame, summary, attribution = summarise(plan, results)
    main = main_mix(plan)
    if decision is None:
        decision = DrawsDecision(len(results), headline_precision(frame, main) if main is not None else {}, None,
                                 "fixed number of draws")
    main_worlds = (BASELINE, *plan.mixes)
    path = folder.path
    (path / "scenario.yaml").write_text(
        yaml.safe_dump(scenario.model_dump(mode="json", by_alias=True), sort_keys=False), encoding="utf-8")
    write_frame(summary, path, "summary.csv")
    write_frame(draws_frame(plan.draws, decision), path, "draws.csv")
    write_frame(frame, path, "replications.parquet")
    write_frame(daily_frame(results, main_worlds, scenario.run.start), path, "daily.parquet")
    write_frame(monthly_frame(results, main_worlds, scenario.run.start), path, "monthly.parquet")
    calibration = calibration_frame(scenario, summary)
    write_frame(calibration, path, "calibration.csv")
    sampled = sampled_frame(results, scenario)
    write_frame(sampled, path, "sampled.csv")
    little = little_frame(results)
    write_frame(little, path, "little.csv")
    write_frame(flows_frame(summary), path, "flows.csv")
    if attribution is not None:
        write_frame(attribution, path, "attribution.csv")
    if main is not None:
        draws = effect_draws_frame(results, main)
        write_frame(draws, path, "effect_draws.csv")
        write_frame(tornado_frame(draws, frame, main), path, "tornado.csv")
        write_frame(money_frame(frame, scenario, main), path, "money.csv")
        write_frame(performance_frame(frame, scenario, main), path, "performance.csv")
    write_validation_tables(plan, frame, results, path)
    for name, table in year_tables(results, scenario, main, compared_mixes(plan)).items():
        write_frame(table, path, name)
    if plan.sensitivity:
        write_frame(sensitivity_frame(frame, plan.sensitivity, scenario), path, "sensitivity.csv")
    comparison = comparison_frame(summary, plan.mixes, main) if len(plan.mixes) > 1 else None
    if comparison is not None:
        write_frame(comparison, path, "comparison.csv")
    record = draws_record(plan, decision)
    folder.update_manifest(
        seconds=round(seconds, 2), events=sum(w.events for r in results for w in r), conservation=conservation,
        claimed_benefit_per_year=sum(scenario.scheme(s).claimed_benefit_per_year for s in scenario.mix_schemes),
        claimed_benefit_source=scenario.claimed_benefit_source, bcf_targets=scenario.bcf_targets,
        parameters_with_sources=origin.parameters, mixes=list(plan.mixes), main_mix=main,
        mix_titles=plan.titles, compared_mix=plan.compared.mix_name if plan.compared else None,
        compared_scenario=plan.compared.name if plan.compared else None,
        scheme_titles={name: scheme.title for name, scheme in scenario.schemes.items()},
        replications=plan.replications, draws=record,
    )
    return Experiment(folder.path, summary, calibration, attribution, comparison, little, sampled, seconds,
                      record)


def write_validation_tables(plan: Plan, frame: pd.DataFrame, results: list[list[WorldResult]], path: Path) -> None:
    """The main mix and the compared one side by side (side_by_side.csv), each effect's drawn and realised size
    against its evidence (effect_evidence.csv) and each mix against the scenario's benchmarks (benchmarks.csv)."""
    main = main_mix(plan)
    if main is None:
        return
    scenario = plan.scenario
    scenarios = {main: scenario}
    alone = {main: {s: f"only:{s}" for s in scenario.mix_schemes if f"only:{s}" in plan.worlds}}
    if plan.compared is not None:
        mix = plan.compared.mix_name
        scenarios[mix] = plan.compared
        alone[mix] = {s: alone_world(mix, s) for s in plan.compared.mix_schemes}
    write_frame(side_by_side_frame(frame, alone), path, "side_by_side.csv")
    write_frame(effect_evidence_frame(scenarios, alone, results, plan.replications), path, "effect_evidence.csv")
    if scenario.benchmarks:
        write_frame(benchmark_frame(frame, scenario, tuple(scenarios)), path, "benchmarks.csv")
