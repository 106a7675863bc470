"""Which mix of scheme options for a budget: objectives per replication, the mixes a budget allows, the additive
screen, ranking and selection with the probability each candidate is best, the frontier, and the expected value of
partial perfect information (EVPPI) per effect.

Every value is paired: a mix's objective in a replication is its change against the baseline of that replication
(the same people and effect draws), and candidates are compared replication by replication."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from caresim.analysis.money import HIGHER_IS_BETTER, ledger_changes, scheme_spend_before, totals
from caresim.analysis.summary import confidence_interval
from caresim.experiment.options import Mix, mix_cost, options_of
from caresim.experiment.plan import BASELINE
from caresim.measures import BCF
from caresim.run_folder import COST, NET_ALL, NET_CASH
from caresim.scenario.schema import Scenario

BOOTSTRAP_RESAMPLES = 2000
OFF = "off"


class NoMixFitsError(ValueError):
    """No mix of scheme options meets the budget and the constraints."""


@dataclass(frozen=True)
class Objective:
    """What a mix is judged by: a value per replication (paired), its unit, and whether more is better; a weighted
    mix of objectives names its parts and their weights."""

    name: str
    label: str
    unit: str
    higher_is_better: bool
    weights: tuple[tuple[str, float], ...] = ()


OBJECTIVES = {objective.name: objective for objective in (
    Objective("admissions_avoided", "Emergency admissions avoided", "per year", True),
    Objective("delayed_days_saved", "Delayed discharge days saved", "delayed days per year", True),
    Objective("acute_bed_days_saved", "Acute bed days saved", "bed days per year", True),
    Objective("care_home_admissions_avoided", "Care home admissions avoided", "per year", True),
    Objective("net_cash_cost", "Net cash cost (cost less cash released)", "pounds per year", False),
    Objective("net_cost", "Net cost, capacity freed valued as cash", "pounds per year", False),
    Objective("net_benefit", "Net monetary benefit (cash released and capacity freed, less cost)",
              "pounds per year", True),
    Objective("bcf_targets_met", "BCF targets met", "targets met (with one target, the probability)", True),
    Objective("bcf_target_shortfall", "Shortfall against the BCF targets", "percent of target, summed over targets",
              False),
)}
ALIASES = {"delayed_days": "delayed_days_saved", "admissions": "admissions_avoided"}
REDUCED = {"admissions_avoided": "emergency_admissions", "delayed_days_saved": "delayed_days",
           "acute_bed_days_saved": "acute_bed_days", "care_home_admissions_avoided": "care_home_admissions"}


TARGET_OBJECTIVES = ("bcf_targets_met", "bcf_target_shortfall")  # measured against the bcf_targets


def objective_named(name: str) -> Objective:
    """The objective called ``name`` (or an alias of it), or a weighted mix written ``name=weight,name=weight``
    (the sum of each objective's value in its own units times its weight, higher better); ValueError lists the
    choices."""
    if "=" in name:
        weights = []
        for part in name.split(","):
            key, _, weight = part.partition("=")
            try:
                weights.append((objective_named(key.strip()).name, float(weight)))
            except ValueError:
                raise ValueError(f"--objective {name!r}: write name=weight pairs separated by commas, e.g. "
                                 f"admissions_avoided=1,net_cash_cost=-0.0001; {part!r} is not one") from None
        terms = " ".join(f"{'−' if weight < 0 else '+'} {abs(weight):g} × {OBJECTIVES[key].label.lower()}"
                         for key, weight in weights).removeprefix("+ ")
        return Objective("weighted", f"Weighted: {terms}", "weighted units (each objective in its units × its weight)",
                         True, tuple(weights))
    found = OBJECTIVES.get(ALIASES.get(name, name))
    if found is None:
        raise ValueError(f"unknown objective {name!r}; choose one of {', '.join(OBJECTIVES)}, or a weighted mix "
                         "such as admissions_avoided=1,net_cash_cost=-0.0001")
    return found


def bcf_targets(scenario: Scenario) -> dict[str, float]:
    """The scenario's targets for BCF metrics the model measures; ValueError when it sets none."""
    targets = {metric: target for metric, target in scenario.bcf_targets.items() if metric in BCF}
    if not targets:
        raise ValueError(f"{scenario.name} sets no bcf_targets for a BCF metric the model measures "
                         f"({', '.join(BCF)}); choose another objective")
    return targets


def check_objective(objective: Objective, scenario: Scenario) -> None:
    """ValueError, before anything runs, when the scenario cannot measure the objective."""
    if any(name in TARGET_OBJECTIVES for name in [name for name, _ in objective.weights] or [objective.name]):
        bcf_targets(scenario)


def against_targets(world: pd.DataFrame, scenario: Scenario, shortfall: bool) -> pd.Series:
    """Per replication, the BCF targets a world meets, or (``shortfall``) by how much it misses them: the gap as a
    percentage of each target, summed."""
    met, gaps = [], []
    for metric, target in bcf_targets(scenario).items():
        gap = (target - world[metric]) if metric in HIGHER_IS_BETTER else (world[metric] - target)
        met.append(gap <= 0)
        gaps.append(gap.clip(lower=0) / abs(target) * 100)
    return sum(gaps) if shortfall else sum(flags.astype(float) for flags in met)


def objective_values(world: pd.DataFrame, baseline: pd.DataFrame, scenario: Scenario, mix: Mix,
                     objective: Objective) -> pd.Series:
    """The objective per replication of one mix's world (replications × measures) against the baseline.

    Money follows the money ledger: the cost is the mix's cost less what its schemes cost a year before the plan
    (the services the baseline already has); cash released and capacity freed are changes in spending. The BCF
    objectives are the world's own level against the targets."""
    if objective.weights:
        return sum(weight * objective_values(world, baseline, scenario, mix, OBJECTIVES[name])
                   for name, weight in objective.weights)
    if objective.name in TARGET_OBJECTIVES:
        return against_targets(world, scenario, shortfall=objective.name == "bcf_target_shortfall")
    if objective.name in REDUCED:
        measure = REDUCED[objective.name]
        return baseline[measure] - world[measure]
    cost = world["scheme_cost"] - scheme_spend_before(scenario, tuple(mix))
    lines = [*ledger_changes(world, baseline, scenario), ("pooled_fund", "cost", COST, cost)]
    changes = [("mix against baseline", BASELINE, payer, item, kind, values) for payer, item, kind, values in lines]
    net = {kind: values for *_, kind, values in totals(changes)}
    if objective.name == "net_cash_cost":
        return net[NET_CASH]
    return net[NET_ALL] if objective.name == "net_cost" else -net[NET_ALL]


def score(values: pd.Series | pd.DataFrame, objective: Objective) -> pd.Series | pd.DataFrame:
    """Values turned so that higher is better."""
    return values if objective.higher_is_better else -values


def parse_money(text: str) -> float:
    """£ amounts as people write them: 13.3m, 500k, £18,862,575."""
    cleaned = text.strip().lower().replace("£", "").replace(",", "").replace("_", "")
    scale = {"m": 1e6, "k": 1e3, "bn": 1e9}
    for suffix, factor in scale.items():
        if cleaned.endswith(suffix):
            cleaned, multiplier = cleaned[: -len(suffix)], factor
            break
    else:
        multiplier = 1.0
    try:
        value = float(cleaned) * multiplier
    except ValueError:
        raise ValueError(f"cannot read {text!r} as an amount of money; write e.g. 13.3m, 500k or 1250000") from None
    if value < 0:
        raise ValueError(f"a budget cannot be negative ({text})")
    return value


def all_mixes(scenario: Scenario, schemes: tuple[str, ...]) -> list[Mix]:
    """Every combination of each scheme off or at one of its options, in the scenario's scheme order."""
    choices = [(OFF, *options_of(scenario, name)) for name in schemes]
    return [{name: option for name, option in zip(schemes, combination, strict=True) if option != OFF}
            for combination in itertools.product(*choices)]


def feasible_mixes(scenario: Scenario, budget: float, must_fund: tuple[str, ...] = (),
                   payer_budgets: dict[str, float] | None = None, minimum: dict[str, str] | None = None) -> list[Mix]:
    """The mixes (at least one scheme funded) within the budget and the payers' budgets, funding every must-fund
    scheme and each scheme of ``minimum`` at its option or a later one (options in the order the scheme declares them,
    steps last); ``NoMixFitsError`` says what the cheapest allowed mix would need."""
    schemes = tuple(scenario.schemes)
    minimum = minimum or {}
    unknown = [name for name in (*must_fund, *minimum) if name not in scenario.schemes]
    if unknown:
        raise ValueError(f"--must-fund or --min-option names {', '.join(unknown)}, not a scheme of {scenario.name} "
                         f"(schemes: {', '.join(schemes)})")
    order = {name: options_of(scenario, name) for name in minimum}
    for name, option in minimum.items():
        if option not in order[name]:
            raise ValueError(f"--min-option {name}={option}: {name}'s options are {', '.join(order[name])}")
    payer_budgets = payer_budgets or {}
    allowed = [mix for mix in all_mixes(scenario, schemes) if mix and all(name in mix for name in must_fund)
               and all(name in mix and order[name].index(mix[name]) >= order[name].index(option)
                       for name, option in minimum.items())]
    fits = [mix for mix in allowed if mix_cost(scenario, mix) <= budget
            and all(mix_cost(scenario, mix, payer) <= limit for payer, limit in payer_budgets.items())]
    if not fits:
        cheapest = min((mix_cost(scenario, mix) for mix in allowed), default=float("nan"))
        constraints = "".join([f", funding {', '.join(must_fund)}" if must_fund else "",
                               "".join(f", {name} at {option} or above" for name, option in minimum.items()),
                               "".join(f", {payer} at most £{limit:,.0f}" for payer, limit in payer_budgets.items())])
        raise NoMixFitsError(f"no mix of scheme options fits a budget of £{budget:,.0f}{constraints}: the cheapest "
                             f"allowed mix costs £{cheapest:,.0f} a year; raise the budget or relax the constraints")
    return fits


def predicted(mix: Mix, alone: dict[tuple[str, str], float]) -> float:
    """The additive prediction of a mix: the sum of its scheme options' paired effects measured alone."""
    return sum(alone[(scheme, option)] for scheme, option in mix.items())


def shortlist(mixes: list[Mix], alone: dict[tuple[str, str], float], k: int) -> list[Mix]:
    """The ``k`` mixes with the best additive prediction (ties: the cheaper first, as listed)."""
    return sorted(mixes, key=lambda mix: -predicted(mix, alone))[:k]


def best_shares(scores: pd.DataFrame, seed: int) -> tuple[pd.Series, pd.Series]:
    """Per candidate (column): P(best), the share of bootstrap resamples of the replications in which its mean is
    the highest; and the share of replications (draws) in which its own value is the highest."""
    values = scores.to_numpy(dtype=float)
    n = len(values)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, n, size=(BOOTSTRAP_RESAMPLES, n))
    winners = values[picks].mean(axis=1).argmax(axis=1)
    p_best = np.bincount(winners, minlength=values.shape[1]) / BOOTSTRAP_RESAMPLES
    draws = np.bincount(values.argmax(axis=1), minlength=values.shape[1]) / n
    return pd.Series(p_best, index=scores.columns), pd.Series(draws, index=scores.columns)


def ocba_shares(scores: pd.DataFrame) -> pd.Series:
    """Per candidate: the share of further replications that OCBA (Chen et al. 2000) would give it to raise the
    probability of selecting the best: for two others i, j, N_i / N_j = (σ_i / δ_i)² / (σ_j / δ_j)² (δ: the gap to
    the best mean), and for the best N_b = σ_b √Σ N_i² / σ_i². A candidate exactly tied with the best gets none."""
    means, spreads = scores.mean(), scores.std(ddof=1).fillna(0.0).clip(lower=1e-12)
    best = means.idxmax()
    gaps = means[best] - means
    others = [c for c in scores.columns if c != best and gaps[c] > 0]
    weights = pd.Series(0.0, index=scores.columns)
    for name in others:
        weights[name] = (spreads[name] / gaps[name]) ** 2
    if others:
        weights[best] = spreads[best] * np.sqrt(sum(weights[n] ** 2 / spreads[n] ** 2 for n in others))
    total = weights.sum()
    return weights / total if total > 0 else weights


def ocba_round(scores: pd.DataFrame, draws: int) -> list[str]:
    """The candidates (columns, higher better, all on the same replications) that OCBA gives more replications in a
    round of ``draws`` each: those whose OCBA share of every replication after the round exceeds what they have."""
    n, k = scores.shape
    shares = ocba_shares(scores)
    return [str(mix) for mix in scores.columns if shares[mix] * k * (n + draws) > n]


def within_noise(scores: pd.DataFrame, best: str) -> pd.Series:
    """Per candidate: whether its paired difference from the best is within chance (a two-sided t interval with a
    Bonferroni correction over the candidates compared includes zero); the best itself is True."""
    others = [c for c in scores.columns if c != best]
    level = 1 - 0.05 / max(len(others), 1)
    flags = {best: True}
    for name in others:
        difference = (scores[best] - scores[name]).to_numpy(dtype=float)
        n = len(difference)
        spread = difference.std(ddof=1) if n > 1 else 0.0
        half = stats.t.ppf(1 - (1 - level) / 2, n - 1) * spread / np.sqrt(n) if n > 1 else np.inf
        flags[name] = bool(difference.mean() - half <= 0)
    return pd.Series(flags)[list(scores.columns)]


def most_drawn(values: pd.DataFrame) -> pd.DataFrame:
    """The mixes (columns) run on the most replications, on those replications: after more draws, the mixes still
    within chance of the best; the others were screened out on fewer draws."""
    counts = values.notna().sum()
    return values.loc[:, counts == counts.max()].dropna() if len(counts) else values


def candidates_frame(values: pd.DataFrame, costs: dict[str, float], objective: Objective, budget: float,
                     seed: int) -> pd.DataFrame:
    """Each evaluated mix (a column of ``values``, its objective per replication; NaN where it did not run): cost,
    mean with 95 % CI, the range of likely outcomes (2.5–97.5 percentiles), and, among those within the budget (the
    most drawn of them, on their replications: ``most_drawn``), P(best), the share of draws in which it is best,
    whether it is within chance of the best and its OCBA share; ranked best first."""
    rows = []
    for mix in values.columns:
        array = values[mix].to_numpy(dtype=float)
        mean, low, high, n = confidence_interval(array)
        spread = np.nanpercentile(array, [2.5, 97.5]) if n else (np.nan, np.nan)
        rows.append((mix, costs[mix], costs[mix] <= budget, mean, low, high, *spread, n))
    frame = pd.DataFrame(rows, columns=["mix", "cost", "within_budget", "mean", "ci_low", "ci_high", "outcome_low",
                                        "outcome_high", "n"]).set_index("mix")
    inside = sorted((mix for mix in values.columns if costs[mix] <= budget), key=costs.__getitem__)  # ties: cheaper
    frame["p_best"] = 0.0
    frame["share_of_draws_best"] = 0.0
    frame["within_chance_of_best"] = False
    frame["ocba_share"] = 0.0
    scores = most_drawn(score(values[inside], objective))
    if inside and len(scores):
        p_best, draws = best_shares(scores, seed)
        frame.loc[scores.columns, "p_best"] = p_best
        frame.loc[scores.columns, "share_of_draws_best"] = draws
        best = str(scores.mean().idxmax())
        frame.loc[scores.columns, "within_chance_of_best"] = within_noise(scores, best)
        frame.loc[scores.columns, "ocba_share"] = ocba_shares(scores)
    frame["objective"] = objective.name
    better = frame["mean"] if objective.higher_is_better else -frame["mean"]
    order = pd.DataFrame({"over": ~frame["within_budget"], "worse": -better, "cost": frame["cost"]}).sort_values(
        ["over", "worse", "cost"]).index
    frame = frame.loc[order]
    frame.insert(0, "rank", range(1, len(frame) + 1))
    return frame.reset_index()


def frontier_frame(values: pd.DataFrame, costs: dict[str, float], objective: Objective, budgets: list[float],
                   seed: int) -> pd.DataFrame:
    """Per budget, the best evaluated mix within it: budget, mix, cost, mean, 95 % CI, range of likely outcomes,
    P(best) among the evaluated mixes within that budget."""
    rows = []
    for budget in sorted(budgets):
        inside = [mix for mix in values.columns if costs[mix] <= budget]
        if not inside:
            rows.append((budget, "", np.nan, *([np.nan] * 5), np.nan, len(inside)))
            continue
        table = candidates_frame(values[inside], costs, objective, budget, seed)
        top = table.iloc[0]
        rows.append((budget, top["mix"], top["cost"], top["mean"], top["ci_low"], top["ci_high"], top["outcome_low"],
                     top["outcome_high"], top["p_best"], len(inside)))
    return pd.DataFrame(rows, columns=["budget", "mix", "cost", "mean", "ci_low", "ci_high", "outcome_low",
                                       "outcome_high", "p_best", "mixes_compared"]).assign(objective=objective.name)


def polynomial_fit(x: np.ndarray, y: np.ndarray, degree: int) -> np.ndarray:
    """Fitted values of a least-squares polynomial in standardised ``x`` (a constant where ``x`` does not vary)."""
    spread = x.std()
    if spread == 0 or degree == 0:
        return np.full_like(y, y.mean(), dtype=float)
    z = (x - x.mean()) / spread
    design = np.vander(z, degree + 1)
    coefficients, *_ = np.linalg.lstsq(design, y, rcond=None)
    return design @ coefficients


def evppi_degree(n: int) -> int:
    """The polynomial degree a regression on ``n`` draws supports: linear below 30, quadratic below 100, then cubic."""
    return 1 if n < 30 else 2 if n < 100 else 3


def evppi(draws: pd.Series, benefits: pd.DataFrame, degree: int | None = None) -> float:
    """Expected value of partial perfect information about one input (Strong & Oakley 2014, regression method).

    ``benefits``: replications × decision options, each option's net benefit; ``draws``: the input's value in the
    same replications. Each option's net benefit is regressed on the input (a polynomial); the EVPPI is the mean over
    draws of the best fitted value less the best mean: what knowing the input before deciding would gain."""
    x = draws.to_numpy(dtype=float)
    degree = evppi_degree(len(x)) if degree is None else degree
    fitted = np.column_stack([polynomial_fit(x, benefits[option].to_numpy(dtype=float), degree)
                              for option in benefits.columns])
    return max(float(fitted.max(axis=1).mean() - fitted.mean(axis=0).max()), 0.0)


def evpi(benefits: pd.DataFrame) -> float:
    """The EVPI of all inputs together: the mean of the best option per draw less the best mean (an upper bound on
    any EVPPI, the play of chance included)."""
    values = benefits.to_numpy(dtype=float)
    return float(values.max(axis=1).mean() - values.mean(axis=0).max()) if len(values) else np.nan


def evppi_frame(draws: pd.DataFrame, benefits: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Per effect (a column of ``draws``: replications × effects), for the choice between the candidate mixes (the
    columns): ``evppi`` in pounds a year of net monetary benefit (``benefits``), and ``evppi_objective`` in the
    objective's units for the choice the search makes (``outcomes``, higher better); with the EVPI of everything."""
    ceiling, ceiling_objective = evpi(benefits), evpi(outcomes)  # an EVPPI above the EVPI is the fit's noise
    rows = [(effect, min(evppi(draws[effect], benefits), ceiling), min(evppi(draws[effect], outcomes),
                                                                        ceiling_objective))
            for effect in draws.columns]
    frame = pd.DataFrame(rows, columns=["effect", "evppi", "evppi_objective"])
    frame = frame.sort_values(["evppi", "evppi_objective"], ascending=False)
    frame["evpi_all"] = ceiling
    frame["evpi_all_objective"] = ceiling_objective
    frame["degree"] = evppi_degree(len(draws))
    frame["n"] = len(draws)
    return frame.reset_index(drop=True)
