"""`caresim optimise`: the best mix of scheme options for a budget, by a stated two-stage procedure.

1. Screen: the baseline and each scheme option alone, on the same replications (patients and effect draws).
2. Shortlist: the mixes within each budget ranked by the additive prediction (the sum of their options' effects
   alone); the top ``candidates`` for the main budget, a third as many for each other budget of the frontier, and
   the plan's own mix.
3. Select: the shortlisted mixes simulated whole on the same replications, against the baseline of stage 1; the
   best mean wins, with P(best) from a bootstrap over replications.
4. More draws (optional), in rounds: the contenders OCBA allocates more to run each round's new replications.
When every allowed mix fits in the shortlist, all are simulated whole (exhaustive) and the screen is skipped."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from caresim import __version__
from caresim.analysis.optimise import (
    OBJECTIVES,
    Objective,
    best_shares,
    candidates_frame,
    check_objective,
    evppi_frame,
    feasible_mixes,
    frontier_frame,
    most_drawn,
    objective_values,
    ocba_round,
    ocba_shares,
    predicted,
    score,
    shortlist,
)
from caresim.analysis.summary import replications_frame, wide
from caresim.experiment.executors import execute
from caresim.experiment.options import Mix, mix_cost, mix_name, mix_title, options_of, options_plan, with_options
from caresim.experiment.plan import BASELINE
from caresim.experiment.replication import WorldResult
from caresim.run_folder import RunFolder, write_frame
from caresim.scenario.schema import Scenario
from caresim.scenario.sources import SourcedScenario
from caresim.workflows.run import check_conservation, git_commit

DEFAULT_BUDGETS = (5e6, 10e6, 13.3e6, 18.9e6)  # seed: £13.3m and £18.9m, the plan's low and high spend (001 L1553)


@dataclass(frozen=True)
class Search:
    """What to optimise: the budget, the frontier's budgets, the objective and the constraints."""

    budget: float
    objective: Objective = OBJECTIVES["admissions_avoided"]
    frontier_budgets: tuple[float, ...] = DEFAULT_BUDGETS
    must_fund: tuple[str, ...] = ()
    payer_budgets: tuple[tuple[str, float], ...] = ()
    minimum: tuple[tuple[str, str], ...] = ()  # (scheme, option): fund the scheme at that option or a later one
    candidates: int = 8
    more_draws: int = 0  # the most further replications a mix gets, in rounds allocated by OCBA
    round_draws: int = 0  # replications per round (0: half the first batch, at least 2)
    target_p_best: float = 0.95  # the rounds stop when the leader's P(best) reaches it


@dataclass
class Optimised:
    """The folder written and its main tables."""

    folder: Path
    candidates: pd.DataFrame
    frontier: pd.DataFrame
    evppi: pd.DataFrame
    changes: pd.DataFrame
    rounds: pd.DataFrame
    exhaustive: bool
    seconds: float


def plan_mix(origin: SourcedScenario) -> Mix:
    """The scenario's own mix, each scheme at the option it funds (or its first)."""
    scenario = origin.scenario
    return {name: scenario.scheme(name).option or options_of(scenario, name)[0] for name in scenario.mix_schemes}


def _within(scenario: Scenario, search: Search, budget: float) -> list[Mix]:
    """The mixes within ``budget`` that meet the search's constraints."""
    return feasible_mixes(scenario, budget, search.must_fund, dict(search.payer_budgets), dict(search.minimum))


def _shortlisted(origin: SourcedScenario, search: Search, alone: dict[tuple[str, str], float]) -> list[Mix]:
    scenario = origin.scenario
    main = _within(scenario, search, search.budget)
    chosen = shortlist(main, alone, search.candidates)
    for budget in search.frontier_budgets:
        try:
            inside = _within(scenario, search, budget)
        except ValueError:
            continue
        chosen += shortlist(inside, alone, max(2, search.candidates // 3))
    chosen.append(plan_mix(origin))
    unique = {mix_name(mix): mix for mix in chosen}
    return list(unique.values())


def _wide_by_world(results: list[list[WorldResult]], scenario_name: str, seed: int) -> dict[str, pd.DataFrame]:
    frame = replications_frame(results, scenario_name, seed)
    return {world: wide(frame, world) for world in frame["world"].unique()}


def _effect_draws(results: list[list[WorldResult]]) -> pd.DataFrame:
    """Replications × effects (scheme/effect): every drawn size, the same in every world of a replication."""
    sizes: dict[int, dict[str, float]] = {}
    for replication in results:
        for world in replication:
            row = sizes.setdefault(world.replication, {})
            row.update({f"{scheme}/{effect}": size for (scheme, effect), size in world.effect_sizes.items()})
    return pd.DataFrame.from_dict(sizes, orient="index").sort_index()


def change_sentences(origin: SourcedScenario, best: Mix, alone: dict[tuple[str, str], float],
                     objective: Objective) -> pd.DataFrame:
    """Per scheme: the plan's option, the best mix's, and a sentence saying what changes and why (from the scheme's
    options measured alone, where they were)."""
    scenario, plan = origin.scenario, plan_mix(origin)

    def alone_text(name: str, option: str) -> str:
        if option == "off":
            return "off, nothing for £0"
        cost = with_options(scenario, {name: option}).scheme(name).option_cost
        value = alone.get((name, option))
        measured = f"{value:,.1f} {objective.unit}" if value is not None else "not measured alone"
        return f"{option}, {measured} for £{cost:,.0f}"

    rows = []
    for name in scenario.schemes:
        before, after = plan.get(name, "off"), best.get(name, "off")
        title = scenario.scheme(name).title
        if before == after:
            why = f"{title} stays {after}: alone, {alone_text(name, after)}."
        else:
            why = (f"{title} goes from {before} to {after}: alone, {alone_text(name, after)} against "
                   f"{alone_text(name, before)}; the whole mix is better this way.")
        rows.append((name, before, after, f"{why} ({objective.label})"))
    return pd.DataFrame(rows, columns=["scheme", "plan", "best", "why"])


ROUND_COLUMNS = ["round", "mix", "n", "mean", "p_best", "ocba_share", "drawn_next"]


def ocba_rounds(search: Search, first: int, values_now: Callable[[], pd.DataFrame],
                simulate: Callable[[list[str], range], None], seed: int) -> tuple[pd.DataFrame, str]:
    """Sequential OCBA: in rounds, the contenders (``values_now``: replications × mixes within the budget and the
    constraints) that OCBA gives more draws all run the round's new replications (the same numbers: paired), until
    the leader's P(best) reaches the target, the more-draws budget is spent, or fewer than two are given draws.
    A row per round and contender still in, and why the rounds stopped."""
    if not search.more_draws:
        return pd.DataFrame(columns=ROUND_COLUMNS), ""
    size, drawn, number, rows = search.round_draws or max(2, first // 2), first, 0, []
    while True:
        values = values_now()
        scores = most_drawn(score(values, search.objective))
        p_best, _ = best_shares(scores, seed)
        shares = ocba_shares(scores)
        step = min(size, first + search.more_draws - drawn)
        reached = p_best.max() >= search.target_p_best
        chosen = ocba_round(scores, step) if step > 0 and not reached else []
        rows += [(number, mix, len(scores), values.loc[scores.index, mix].mean(), p_best[mix], shares[mix],
                  mix in chosen) for mix in scores.columns]
        if len(chosen) < 2:
            stopped = (f"P(best) {p_best.max():.2f} reached {search.target_p_best:g}" if reached
                       else f"{search.more_draws} more draws spent" if step <= 0
                       else "OCBA gave draws to fewer than two mixes")
            return pd.DataFrame(rows, columns=ROUND_COLUMNS), stopped
        simulate(chosen, range(drawn, drawn + step))
        drawn, number = drawn + step, number + 1


def optimise(origin: SourcedScenario, search: Search, replications: int, out_root: Path, executor: str = "processes",
             workers: int | None = None, scheduler: str | None = None, progress: bool = True,
             run_id: str | None = None) -> Optimised:
    """Search the mixes of scheme options within the budget and write the optimise run folder."""
    scenario = origin.scenario
    objective = search.objective
    payers = dict(search.payer_budgets)
    budgets = sorted({*search.frontier_budgets, search.budget})
    largest = _within(scenario, search, max(budgets))
    exhaustive = len(largest) <= search.candidates
    _within(scenario, search, search.budget)  # before any run: the main budget fits
    check_objective(objective, scenario)  # and the objective is measurable
    with RunFolder(out_root, f"{scenario.name}_optimise", run_id) as folder:
        folder.update_manifest(kind="optimise", scenario=scenario.name, scenario_file=origin.file.name,
                               title=scenario.title, caresim_version=__version__, git_commit=git_commit(),
                               seed=scenario.run.seed, replications=replications, objective=objective.name,
                               objective_label=objective.label, objective_unit=objective.unit,
                               budget=search.budget, frontier_budgets=budgets, must_fund=list(search.must_fund),
                               minimum=dict(search.minimum),
                               payer_budgets=payers, procedure="exhaustive" if exhaustive else "two-stage",
                               executor=scheduler or executor)
        started = time.perf_counter()
        alone_mixes = [{name: option} for name in scenario.schemes for option in options_of(scenario, name)]
        whole = list({mix_name(mix): mix for mix in [*largest, plan_mix(origin)]}.values())
        first = whole if exhaustive else alone_mixes
        worlds: dict[str, pd.DataFrame] = {}
        results: list[list[WorldResult]] = []

        def simulate(mixes: list[Mix], numbers: range, description: str, baseline: bool = True) -> None:
            """Simulate ``mixes`` (and the baseline) on the replications ``numbers``; add them to ``worlds``."""
            done = execute(options_plan(scenario, mixes, numbers.stop, baseline), executor, workers, scheduler,
                           progress, description=description, numbers=numbers)
            check_conservation(done)
            results.extend(done)
            for world, frame in _wide_by_world(done, scenario.name, scenario.run.seed).items():
                worlds[world] = pd.concat([worlds[world], frame]) if world in worlds else frame

        def values_of(mix: Mix, objective: Objective = objective) -> pd.Series:
            world = worlds[mix_name(mix)]
            return objective_values(world, worlds[BASELINE].loc[world.index], with_options(scenario, mix), mix,
                                    objective)

        simulate(first, range(replications), "Exhaustive" if exhaustive else "Screening")
        alone = {(name, option): float(values_of({name: option}).mean())
                 for mix in alone_mixes if mix_name(mix) in worlds for name, option in mix.items()}
        screen = pd.DataFrame([(name, option, mix_cost(scenario, {name: option}), value)
                               for (name, option), value in alone.items()],
                              columns=["scheme", "option", "cost", "mean"]).assign(objective=objective.name)
        if exhaustive:
            candidates = whole
        else:
            ranked_alone = {key: (value if objective.higher_is_better else -value) for key, value in alone.items()}
            candidates = _shortlisted(origin, search, ranked_alone)
            missing = [mix for mix in candidates if mix_name(mix) not in worlds]
            if missing:
                simulate(missing, range(replications), "Candidates", baseline=False)
        names = [mix_name(mix) for mix in candidates]
        by_name = dict(zip(names, candidates, strict=True))
        costs = {mix_name(mix): mix_cost(scenario, mix) for mix in candidates}
        seed = scenario.run.seed
        allowed = {mix_name(mix) for mix in _within(scenario, search, search.budget)}
        contenders = [name for name in names if name in allowed]
        rounds, stopped = ocba_rounds(
            search, replications, lambda: pd.DataFrame({name: values_of(by_name[name]) for name in contenders}),
            lambda chosen, numbers: simulate([by_name[name] for name in chosen], numbers, "More draws"), seed)
        if len(rounds):
            folder.update_manifest(procedure=f"{'exhaustive' if exhaustive else 'two-stage'}, then "
                                             f"{rounds['round'].max()} rounds of more draws by OCBA ({stopped})")
        seconds = time.perf_counter() - started
        values = pd.DataFrame({mix_name(mix): values_of(mix) for mix in candidates})
        table = candidates_frame(values, costs, objective, search.budget, seed)
        table = table[table["mix"].isin(allowed) | (table["mix"] == mix_name(plan_mix(origin)))].reset_index(drop=True)
        table["rank"] = range(1, len(table) + 1)
        table["predicted"] = [predicted(by_name[name], alone) if all(k in alone for k in by_name[name].items())
                              else np.nan for name in table["mix"]]
        table["plan_mix"] = table["mix"] == mix_name(plan_mix(origin))
        best = by_name[table.iloc[0]["mix"]]
        constrained = {mix_name(mix) for mix in largest}
        compared = values[[name for name in names if name in constrained]]
        first_batch = compared[compared.index < replications]  # the rounds of more draws were for the main budget
        frontier = pd.concat([frontier_frame(compared if budget == search.budget else first_batch, costs, objective,
                                             [budget], seed) for budget in budgets], ignore_index=True)
        benefit = OBJECTIVES["net_benefit"]
        inside = [mix for mix in candidates if mix_name(mix) in allowed]
        benefits = most_drawn(pd.DataFrame({mix_name(mix): values_of(mix, benefit) for mix in inside}))
        draws = _effect_draws(results)
        outcomes = score(values.loc[benefits.index, list(benefits.columns)], objective)
        evppi = (evppi_frame(draws.loc[benefits.index], benefits, outcomes) if benefits.shape[1] > 1 and not draws.empty
                 else pd.DataFrame(columns=["effect", "evppi", "evppi_objective", "evpi_all", "evpi_all_objective",
                                            "degree", "n"]))
        changes = change_sentences(origin, best, alone, objective)
        titles = {name: mix_title(scenario, mix) for name, mix in by_name.items()}
        for frame in (table, frontier, rounds):
            if "mix" in frame:
                frame["mix_title"] = frame["mix"].map(titles)
        path = folder.path
        (path / "scenario.yaml").write_text(
            yaml.safe_dump(scenario.model_dump(mode="json", by_alias=True), sort_keys=False), encoding="utf-8")
        write_frame(table, path, "candidates.csv")
        write_frame(frontier, path, "frontier.csv")
        write_frame(screen, path, "screen.csv")
        write_frame(changes, path, "changes.csv")
        write_frame(rounds, path, "rounds.csv")
        write_frame(evppi, path, "evppi.csv")
        write_frame(draws.rename_axis("replication").reset_index(), path, "effect_draws.csv")
        paired = values.rename_axis("replication").reset_index().melt(id_vars="replication", var_name="mix",
                                                                       value_name=objective.name).dropna()
        paired["baseline_emergency_admissions"] = paired["replication"].map(worlds[BASELINE]["emergency_admissions"])
        paired["net_benefit"] = [benefits[m].get(r, np.nan) if m in benefits else np.nan
                                 for m, r in zip(paired["mix"], paired["replication"], strict=True)]
        write_frame(paired, path, "candidate_replications.csv")
        folder.update_manifest(seconds=round(seconds, 2), best_mix=mix_name(best), plan_mix=mix_name(plan_mix(origin)),
                               scheme_titles={name: s.title for name, s in scenario.schemes.items()})
    return Optimised(folder.final_path, table, frontier, evppi, changes, rounds, exhaustive, seconds)
