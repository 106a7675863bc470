"""The `caresim` command: arguments in, rich tables out; no model logic lives here.

Over 400 lines because each of the twelve commands carries its options and the help text that teaches
it; splitting them across modules would scatter the one place a user's command line is defined.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from caresim import __version__

app = typer.Typer(
    help="Whole-system simulation of health and social care: what a mix of Better Care Fund schemes buys, "
         "compared with doing nothing, with uncertainty.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True, emoji=False, highlight=False)
state = {"debug": False}
WIDE = 100  # console columns from which a table of measures gives the unit a column of its own
ScenarioFile = Annotated[Path, typer.Argument(help="A scenario YAML file, e.g. scenarios/skc_2015.yaml.")]
Replications = Annotated[int | None, typer.Option(
    "--replications", "-n", min=1, metavar="N", help="Paired replications (effect draws): exactly this many, no "
    "adaptive rule (default: the scenario's run.replications, a number or an adaptive rule).")]
Seed = Annotated[int | None, typer.Option(
    "--seed", min=0, metavar="SEED", help="Root seed (default: the scenario's run.seed).")]
Out = Annotated[Path, typer.Option(
    "--out", metavar="DIR", help="Folder for results; each run gets outputs/<scenario>/<run-id>/.")]
Workers = Annotated[int | None, typer.Option(
    "--workers", min=1, metavar="N", help="Local worker processes (default: all cores).")]
Scheduler = Annotated[str | None, typer.Option(
    "--scheduler", metavar="ADDRESS",
    help="Address of a Dask scheduler, e.g. tcp://10.0.0.5:8786, or 'local' for a local Dask cluster.")]
Report = Annotated[bool, typer.Option("--report/--no-report", help="Write charts, the HTML report and the workbook.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or tables.")]
Serial = Annotated[bool, typer.Option("--serial", help="Run replications one after another in this process.")]


class Effects(StrEnum):
    """How effect sizes are set in a run: drawn per replication from the evidence, or at their point values."""

    drawn = "drawn"
    central = "central"


def friendly(command: Callable) -> Callable:
    """Bad input: the problems and exit code 2. A bug: a short message, a hint, exit code 1."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from caresim.engine.errors import RunawayError, UnstableSystemError
        from caresim.experiment.replication import ReplicationFailed
        from caresim.run_folder import IncompleteRunError, RunVersionError
        from caresim.scenario.problems import ScenarioError

        try:
            return command(*args, **kwargs)
        except ScenarioError as error:
            errors.print(str(error), markup=False, highlight=False)
            raise typer.Exit(2) from None
        except (IncompleteRunError, RunVersionError, FileNotFoundError, ValueError) as error:
            errors.print(f"caresim: {error}", markup=False, highlight=False)
            raise typer.Exit(2) from None
        except ReplicationFailed as error:
            cause = error.__cause__
            if isinstance(cause, (UnstableSystemError, RunawayError)):
                errors.print(f"caresim: the scenario cannot run as written: {cause}", markup=False, highlight=False)
                raise typer.Exit(2) from None
            if state["debug"]:
                raise
            errors.print(f"caresim: internal error: {error}\nRe-run with --debug for the traceback and please report "
                         "it with the scenario file.", markup=False, highlight=False)
            raise typer.Exit(1) from None
        except KeyboardInterrupt as error:  # Ctrl-C, or SIGTERM / SIGHUP (executors.Terminated)
            errors.print(f"caresim: {error or 'interrupted'}; the run folder is left marked incomplete (*.partial).")
            raise typer.Exit(128 + getattr(error, "signal_number", 2)) from None
        except Exception as error:  # anything else is a bug in caresim
            if state["debug"]:
                raise
            errors.print(f"caresim: internal error: {type(error).__name__}: {error}\nRe-run with --debug for the "
                         "traceback and please report it with the scenario file.", markup=False, highlight=False)
            raise typer.Exit(1) from None

    return wrapper


def _load(path: Path, seed: int | None = None):
    """The scenario file read once, with the root seed replaced when --seed is given."""
    from caresim.scenario.sources import load_sourced
    from caresim.workflows.run import with_seed

    origin = load_sourced(path)
    return origin if seed is None else with_seed(origin, seed)


def _fmt(value: float, unit: str) -> str:
    if value != value:  # NaN
        return "–"
    if unit.startswith("pounds"):
        from caresim.outputs.chart_style import format_money

        return format_money(value) if unit.endswith("per year") else f"£{value:,.2f}"
    if "percent" in unit or "share" in unit:
        return f"{value:.1f}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def _label(name: str) -> str:
    from caresim.measures import label_or_name

    return label_or_name(name)


def _interval(row, low: str, high: str) -> str:
    return "" if row[low] != row[low] else f"{_fmt(row[low], row['unit'])} to {_fmt(row[high], row['unit'])}"


def draws_caption(draws: dict, stable_draws: int) -> str:
    """The draws rule, why the draws stopped, and whether the likely range is stable or indicative."""
    caption = f" Draws: {draws['rule']}; {draws['draws']} draws, {draws['stopped']}."
    if draws["stopped"] != "precision reached" and draws["draws"] < stable_draws:
        caption += f" The likely range is indicative: its ends are not yet stable (fewer than {stable_draws} draws)."
    return caption


def _table(summary, world: str, measures: tuple[str, ...], title: str, draws: dict) -> Table:
    """Mean, range of likely outcomes and precision of the mean of each measure, labelled for readers; on a console
    narrower than WIDE the unit goes under the label instead of in a column of its own."""
    from caresim.analysis.summary import STABLE_DRAWS

    rows = summary[summary["world"] == world].set_index("measure")
    replications = int(rows["n"].max()) if len(rows) else 0
    caption = (f"Means over {replications} replications. Likely range: 2.5 to 97.5 percentiles across "
               "replications, each drawing its own effect sizes (the uncertainty a decision faces); precision: 95% "
               "CI of the mean." + draws_caption(draws, STABLE_DRAWS))
    narrow = console.width < WIDE
    table = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    if narrow:  # the numbers unwrapped, the label and its unit in what is left
        table.add_column("Measure (unit)", justify="left")
    else:
        table.add_column("Measure", justify="left", ratio=3)
        table.add_column("Unit", justify="left", ratio=2)
    table.add_column("Mean", justify="right", no_wrap=True)
    for column in ("Likely range (95%)", "Precision (95% CI)"):
        table.add_column(column, justify="right", no_wrap=narrow, ratio=None if narrow else 2)
    for measure in measures:
        if measure in rows.index:
            row = rows.loc[measure]
            names = [Text.assemble(_label(measure), "\n", (row["unit"], "dim"))] if narrow else [
                _label(measure), row["unit"]]
            table.add_row(*names, _fmt(row["mean"], row["unit"]), _interval(row, "outcome_low", "outcome_high"),
                          _interval(row, "ci_low", "ci_high"))
    return table


def _calibration_table(calibration) -> Table:
    table = Table(title="Baseline against calibration targets", title_justify="left")
    for column in ("Measure", "Target", "Allowed range", "Baseline", "Within"):
        table.add_column(column, justify="left" if column == "Measure" else "right")
    for row in calibration.itertuples():
        ok = "[green]yes[/green]" if row.within else "[red]no[/red]"
        table.add_row(_label(row.measure), f"{row.target:,.1f}", f"{row.low:,.1f} to {row.high:,.1f}",
                      f"{row.baseline_mean:,.1f}", ok)
    return table


def _attribution_table(attribution, titles: dict[str, str]) -> Table:
    from caresim.measures import reduction

    table = Table(title="Emergency admissions avoided, by scheme (negative: more admissions)", title_justify="left")
    for column in ("Scheme", "Alone, one at a time (likely range)", "Marginal, leave one out"):
        table.add_column(column, justify="left" if column == "Scheme" else "right")
    rows = attribution[attribution["measure"] == "emergency_admissions"]
    table.caption = (f"Likely range: 2.5 to 97.5 percentiles across the {int(rows['n'].max())} draws every "
                     "attribution world has.")
    table.caption_justify = "left"
    named = {"interaction": "Interaction between schemes", "all schemes": "All schemes together"}
    for scheme in dict.fromkeys(rows["scheme"]):
        part = rows[rows["scheme"] == scheme].set_index("method")
        alone = part.loc[next(m for m in ("one_at_a_time", "remainder", "total") if m in part.index)]
        marginal = part["mean"].get("leave_one_out", float("nan"))
        table.add_row(titles.get(scheme, named.get(scheme, scheme)),
                      f"{reduction(alone['mean']):,.0f} ({reduction(alone['outcome_high']):,.0f} to "
                      f"{reduction(alone['outcome_low']):,.0f})",
                      "" if marginal != marginal else f"{reduction(marginal):,.0f}")
    return table


def _money_table(folder: Path) -> Table:
    from caresim.outputs.money_tables import ledger_rows

    headers, rows = ledger_rows(folder)
    table = Table(title="Money a year by payer (saved: positive; money.csv has every item)", title_justify="left")
    for column in headers:
        table.add_column(column, justify="left" if column in ("Comparison", "Payer") else "right")
    previous = None
    for comparison, *cells in rows:  # each comparison named once, above its payers
        if previous is not None and comparison != previous:
            table.add_section()
        table.add_row("" if comparison == previous else comparison, *cells)
        previous = comparison
    return table


def _executor(serial: bool) -> str:
    return "serial" if serial else "processes"


@app.command()
@friendly
def run(
    scenario_file: ScenarioFile,
    replications: Replications = None,
    seed: Seed = None,
    out: Out = Path("outputs"),
    attribution: Annotated[bool, typer.Option(
        "--attribution/--no-attribution",
        help="Also run each scheme alone and each left out, for the per-scheme table.")] = True,
    sensitivity: Annotated[bool, typer.Option(
        "--sensitivity",
        help="Also run each uncertain effect at its low and high end, for a one-at-a-time tornado chart.")] = False,
    effects: Annotated[Effects, typer.Option(
        "--effects",
        help="drawn: each replication draws its effect sizes from the evidence; central: every effect at its "
             "point value, so the spread is chance alone.")] = Effects.drawn,
    quick: Annotated[bool, typer.Option(
        "--quick",
        help="A first answer in seconds: a few draws (4 unless -n says) of the baseline and the scheme mix "
             "alone, without the per-scheme table, the compared scenario, the whole-fund comparison or the "
             "report. Run without it for the full answer.")] = False,
    report: Report = True,
    workers: Workers = None,
    scheduler: Scheduler = None,
    serial: Serial = False,
    quiet: Quiet = False,
) -> None:
    """Simulate the baseline and the scheme mix on the same patients and report what the mix buys.

    Example: caresim run scenarios/skc_2015.yaml --replications 20
    """
    from caresim.experiment.plan import make_plan, quick_plan, with_compared
    from caresim.measures import HEADLINE, HEADLINE_DIFFERENCES
    from caresim.workflows.run import run_experiment

    origin = _load(scenario_file, seed)
    scenario = origin.scenario
    if quick:
        plan, report = quick_plan(scenario, replications), False
    else:
        plan = make_plan(scenario, replications, attribution=attribution, sensitivity=sensitivity,
                         effects="central" if effects is Effects.central else "drawn")
    if origin.compare_file is not None and not quick:
        own_file = origin.compare_named_in is None or origin.compare_named_in.resolve() == origin.file.resolve()
        named_in = scenario if own_file else _load(origin.compare_named_in, seed).scenario
        plan = with_compared(plan, _load(origin.compare_file, seed).scenario, named_in)
    if not quiet:
        from caresim.engine.kernel import ENGINE_BUILD

        console.print(f"Engine: {ENGINE_BUILD}", style="dim")
    experiment = run_experiment(plan, origin, out, _executor(serial), workers, scheduler, progress=not quiet)
    if report:
        _write_report(experiment.folder)
    if quiet:
        console.print(str(experiment.folder))
        return
    console.print(_table(experiment.summary, "baseline", HEADLINE, f"{scenario.title}: baseline (do nothing)",
                         experiment.draws))
    if plan.mixes:
        main = scenario.mix_name
        console.print(_table(experiment.summary, main, HEADLINE, f"With the scheme mix: {plan.titles[main]}",
                             experiment.draws))
        console.print(_table(experiment.summary, "difference", HEADLINE_DIFFERENCES,
                             "Paired difference, scheme mix against baseline (same patients)"
                             + (", every effect at its point value" if plan.effects == "central" else ""),
                             experiment.draws))
    if experiment.attribution is not None:
        titles = {name: scheme.title for name, scheme in scenario.schemes.items()}
        console.print(_attribution_table(experiment.attribution, titles))
    if plan.mixes:
        console.print(_money_table(experiment.folder))
    console.print(_calibration_table(experiment.calibration))
    draws = experiment.draws
    console.print(f"{draws['draws']} draws ({draws['stopped']}) of up to {len(plan.worlds_in(0))} worlds in "
                  f"{experiment.seconds:.1f} s ({draws['world_years']:,.0f} world-years). "
                  f"Results: [bold]{experiment.folder}[/bold]")
    if quick:
        console.print("A first answer: run without --quick for the per-scheme table, the whole-fund comparison, "
                      "more draws and the report.")


def _write_report(folder: Path, template: Path | None = None, logo: Path | None = None) -> None:
    from caresim.outputs.report import write_report
    from caresim.outputs.workbook import write_workbook

    write_report(folder, template, logo)
    write_workbook(folder)


@app.command()
@friendly
def compare(
    scenario_files: Annotated[list[Path], typer.Argument(
        help="Scenario files whose mixes to compare (same baseline).")],
    replications: Replications = None,
    seed: Seed = None,
    out: Out = Path("outputs"),
    report: Report = True,
    workers: Workers = None,
    scheduler: Scheduler = None,
    serial: Serial = False,
    quiet: Quiet = False,
) -> None:
    """Rank scheme mixes (one per file, plus variants declared inside them) against one baseline.

    All mixes run on the same patients and draws, so the differences between them are paired too.
    Example: caresim compare scenarios/skc_2015.yaml scenarios/skc_2015_high.yaml scenarios/skc_2014_mix.yaml
    """
    from caresim.experiment.compare import combine
    from caresim.workflows.run import run_experiment

    origins = [_load(path, seed) for path in scenario_files]
    plan = combine([origin.scenario for origin in origins], replications)
    experiment = run_experiment(plan, origins[0], out, _executor(serial), workers, scheduler, progress=not quiet)
    if report:
        _write_report(experiment.folder)
    if quiet:
        console.print(str(experiment.folder))
        return
    console.print(_comparison_table(experiment.comparison, plan.titles, experiment.draws))
    console.print(f"Results: [bold]{experiment.folder}[/bold]")


@app.command()
@friendly
def optimise(
    scenario_file: ScenarioFile,
    budget: Annotated[str, typer.Option(
        "--budget", metavar="AMOUNT", help="What the mix may cost a year, e.g. 13.3m or 500k.")],
    objective: Annotated[str, typer.Option(
        "--objective", metavar="NAME",
        help="admissions_avoided, delayed_days_saved, acute_bed_days_saved, care_home_admissions_avoided, "
             "net_cash_cost, net_cost, net_benefit, bcf_targets_met, bcf_target_shortfall, or a weighted mix: "
             "admissions_avoided=1,net_cash_cost=-0.0001 (each objective in its units times its weight, summed; "
             "higher is better).")] = "admissions_avoided",
    frontier: Annotated[list[str] | None, typer.Option(
        "--frontier", metavar="AMOUNT",
        help="A budget of the frontier; repeat the option (default: 5m, 10m, 13.3m, 18.9m).")] = None,
    must_fund: Annotated[list[str] | None, typer.Option(
        "--must-fund", metavar="SCHEME",
        help="A scheme every mix must fund (at one of its options); repeat the option.")] = None,
    payer_budget: Annotated[list[str] | None, typer.Option(
        "--payer-budget", metavar="PAYER=AMOUNT", help="A payer's limit, e.g. council=1m; repeat the option.")] = None,
    min_option: Annotated[list[str] | None, typer.Option(
        "--min-option", metavar="SCHEME=OPTION",
        help="Fund a scheme at least at an option or step, e.g. integrated_teams_reablement=high (options in the "
             "order the scheme declares them, steps last); repeat the option.")] = None,
    candidates: Annotated[int, typer.Option(
        "--candidates", min=1, metavar="N",
        help="Mixes simulated whole for the budget, after the screen (exhaustive when all allowed mixes fit).")] = 8,
    more_draws: Annotated[int, typer.Option(
        "--more-draws", min=0, metavar="N",
        help="The most further replications a mix gets before selecting, in rounds: each round's go to the mixes "
             "OCBA allocates more to, all on the same draws (0: none).")] = 0,
    round_draws: Annotated[int, typer.Option(
        "--round-draws", min=0, metavar="N",
        help="Replications per round of --more-draws (0: half of -n, at least 2).")] = 0,
    target_p_best: Annotated[float, typer.Option(
        "--target-p-best", min=0, max=1, metavar="P",
        help="The rounds of --more-draws stop when the leader's P(best) reaches this.")] = 0.95,
    replications: Replications = None,
    seed: Seed = None,
    out: Out = Path("outputs"),
    report: Report = True,
    workers: Workers = None,
    scheduler: Scheduler = None,
    serial: Serial = False,
    quiet: Quiet = False,
) -> None:
    """Which mix of scheme options buys the most for a budget, how sure that is, and which evidence is worth having.

    Screens each scheme option alone, simulates the best-predicted mixes whole on the same patients and draws, and
    reports the best mix with P(best), the frontier over budgets and the value of information per effect.
    Example: caresim optimise scenarios/skc_2015.yaml --budget 13.3m -n 20
    """
    from caresim.analysis.optimise import objective_named, parse_money
    from caresim.experiment.plan import draw_settings
    from caresim.workflows.optimise import DEFAULT_BUDGETS, Search
    from caresim.workflows.optimise import optimise as run_optimise

    payers = [(payer, parse_money(amount)) for payer, amount in _pairs("--payer-budget", payer_budget, "council=1m")]
    search = Search(parse_money(budget), objective_named(objective),
                    tuple(parse_money(b) for b in frontier) if frontier else DEFAULT_BUDGETS,
                    tuple(must_fund or ()), tuple(payers), _pairs("--min-option", min_option, "housing=on"),
                    candidates, more_draws, round_draws, target_p_best)
    origin = _load(scenario_file, seed)
    first_batch, _ = draw_settings(origin.scenario, replications)
    result = run_optimise(origin, search, first_batch, out, _executor(serial), workers, scheduler, progress=not quiet)
    if report:
        from caresim.outputs.optimise_report import write_optimise_report

        write_optimise_report(result.folder)
    if quiet:
        console.print(str(result.folder))
        return
    console.print(_optimise_table(result.candidates, search.objective))
    for sentence in result.changes["why"]:
        console.print(f"- {sentence}", highlight=False)
    console.print(f"{'Exhaustive' if result.exhaustive else 'Two-stage'} search in {result.seconds:.1f} s. "
                  f"Results: [bold]{result.folder}[/bold]")


def _pairs(option: str, given: list[str] | None, example: str) -> tuple[tuple[str, str], ...]:
    """``name=value`` options as pairs; ValueError shows how to write one."""
    pairs = []
    for text in given or []:
        name, _, value = text.partition("=")
        if not name.strip() or not value.strip():
            raise ValueError(f"{option} {text!r}: write name=value, e.g. {example}")
        pairs.append((name.strip(), value.strip()))
    return tuple(pairs)


def _optimise_table(candidates, objective) -> Table:
    caption = ("P(best): share of bootstrap resamples of the replications in which the mix has the best mean, among "
               "the mixes within the budget.")
    table = Table(title=f"Mixes ranked by {objective.label.lower()} ({objective.unit}), paired on the same draws",
                  title_justify="left", caption=caption, caption_justify="left")
    for column in ("Rank", "Mix", "Cost", "Mean (95% CI)", "Likely range", "P(best)"):
        table.add_column(column, justify="left" if column == "Mix" else "right",
                         overflow="fold", ratio=3 if column == "Mix" else None)
    for row in candidates.itertuples():
        mark = " (plan)" if row.plan_mix else ""
        table.add_row(str(row.rank), row.mix_title + mark, f"£{row.cost:,.0f}",
                      f"{row.mean:,.1f} ({row.ci_low:,.1f} to {row.ci_high:,.1f})",
                      f"{row.outcome_low:,.1f} to {row.outcome_high:,.1f}",
                      f"{row.p_best:.2f}" if row.within_budget else "over budget")
    return table


def _comparison_table(comparison, titles: dict[str, str], draws: dict) -> Table:
    from caresim.analysis.summary import STABLE_DRAWS
    from caresim.outputs.chart_style import format_money

    table = Table(title="Scheme mixes ranked by emergency admissions avoided (paired against one baseline)",
                  title_justify="left")
    table.caption = ("Likely range: 2.5 to 97.5 percentiles across replications (each drawing its own effect "
                     "sizes); the CI of the mean is in comparison.csv. The baseline runs once per draw for every "
                     "mix." + draws_caption(draws, STABLE_DRAWS))
    table.caption_justify = "left"
    for column in ("Rank", "Mix", "Admissions avoided (likely range)", "Scheme cost",
                   "Net cost at average unit costs (likely range)", "Chance it saves money at average costs"):
        table.add_column(column, justify="left" if column == "Mix" else "right")
    for mix, rows in comparison.groupby("mix", sort=False):
        by = rows.set_index("measure")
        avoided, net = by.loc["emergency_admissions_avoided"], by.loc["net_cost"]
        table.add_row(str(int(rows["rank"].iloc[0])), titles.get(mix, mix),
                      f"{avoided['mean']:,.0f} ({avoided['outcome_low']:,.0f} to {avoided['outcome_high']:,.0f})",
                      format_money(by.loc["scheme_cost", "mean"]),
                      f"{format_money(net['mean'])} ({format_money(net['outcome_low'])} to "
                      f"{format_money(net['outcome_high'])})",
                      f"{by.loc['probability_saves_money', 'mean']:.2f}")
    return table


@app.command()
@friendly
def replications(
    scenario_file: ScenarioFile,
    pilot: Annotated[int, typer.Option("--pilot", min=3, help="Pilot replications to run.")] = 10,
    precision: Annotated[float, typer.Option(
        "--precision", min=0.001, help="Target 95% CI half-width, as a share of the mean.")] = 0.1,
    measure: Annotated[list[str] | None, typer.Option(
        "--measure", help="Measure(s) to judge; repeat the option.")] = None,
    serial: Serial = False,
) -> None:
    """How many replications are enough: CI half-width against n from a pilot run (confidence-interval method).

    Paired differences (…_avoided, …_saved, net_cost) are judged on the difference between the mix and the baseline.
    Example: caresim replications scenarios/skc_2015.yaml --pilot 10 --precision 0.1
    """
    import pandas as pd

    from caresim.workflows.diagnostics import replications_precision

    rows = replications_precision(_load(scenario_file).scenario, pilot, precision, measure, _executor(serial))
    table = Table(title=f"Replications for a 95% CI within ±{precision:.0%} of the mean", title_justify="left")
    for column in ("measure", "pilot mean", f"half-width at n={pilot}", "relative", "replications needed"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    for row in rows.itertuples():
        table.add_row(_label(row.measure), f"{row.mean:,.1f}", f"{row.half_width:,.1f}",
                      f"{row.relative_half_width:.1%}", "not reachable" if row.needed is pd.NA else str(row.needed))
    console.print(table)


@app.command()
@friendly
def warmup(
    scenario_file: ScenarioFile,
    replications: Annotated[int, typer.Option(
        "--replications", "-n", min=1, metavar="N", help="Replications to average.")] = 3,
    days: Annotated[int | None, typer.Option(
        "--days", min=20, help="Days to run the check (default: four years, or the scenario's run if longer).")] = None,
    serial: Serial = False,
) -> None:
    """Is the warm-up long enough? MSER-5 warm-up of daily occupancy, from the warm start and from empty.

    Warm-up is about the starting state, so the check flattens demand (monthly profile all 1, no population
    growth): seasonality is part of the system, and MSER would mistake it for initialisation bias. With a
    steady warm start every cut should be within the scenario's warm_up_days; a cut at the limit means the
    service had not settled in the whole check. The empty start empties acute beds, intermediate care and
    reablement; care homes keep their share.
    """
    from caresim.outputs.chart_style import label
    from caresim.workflows.diagnostics import warm_up_cuts

    scenario = _load(scenario_file).scenario
    cuts = warm_up_cuts(scenario, replications, _executor(serial), days)
    limit = int(cuts["limit"].iloc[0])
    table = Table(title=f"Warm-up (days) that MSER-5 would cut from daily occupancy under flat demand (no "
                        f"seasonality, no growth), mean of {replications} replications; the scenario uses "
                        f"{scenario.run.warm_up_days} days; ≥ {limit} means not settled", title_justify="left")
    for column in ("service", "start (occupied)", "settled (occupied)", "cut from warm start (days)",
                   "cut from empty (days)"):
        table.add_column(column, justify="left" if column == "service" else "right")
    for row in cuts.itertuples(index=False):
        marks = [f"≥ {cut}" if cut >= limit else str(cut) for cut in (row[3], row[4])]
        table.add_row(label(row.service), f"{row.start:,.0f}", f"{row.settled:,.1f}", *marks)
    console.print(table)


@app.command()
@friendly
def verify(
    replications: Annotated[int, typer.Option("--replications", "-n", min=2, help="Replications per check.")] = 10,
    scenario: Annotated[Path, typer.Option("--scenario", help="The full scenario for the Little's law check.")] = Path(
        "scenarios/skc_2015.yaml"),
) -> None:
    """Check the engine against queueing theory: Erlang loss, M/G/∞, arrivals by hour, Erlang C, Little's law
    on every service of a full run, and blocking after service against Ciw. Exit code 1 if any check fails."""
    from caresim.outputs.chart_style import label
    from caresim.workflows.verify import run_checks

    table = run_checks(scenario, replications, progress=True)
    view = Table(title="Verification against theory (pass: theory inside the simulated 99% CI, with the stated margin)",
                 title_justify="left")
    for column in ("check", "quantity", "theory", "simulated", "99% CI", "passed"):
        view.add_column(column, justify="left" if column in ("check", "quantity") else "right")
    for row in table.itertuples():
        view.add_row(label(row.check), row.quantity, f"{row.theory:.4g}", f"{row.simulated:.4g}",
                     f"{row.ci_low:.4g} to {row.ci_high:.4g}", "[green]yes[/green]" if row.passed else "[red]NO[/red]")
    console.print(view)
    if not table["passed"].all():
        raise typer.Exit(1)


@app.command()
@friendly
def validate(scenario_file: ScenarioFile) -> None:
    """Check a scenario file and list every problem (file, line, field, what is allowed). Exit code 2 if any."""
    origin = _load(scenario_file)
    scenario, unsourced = origin.scenario, origin.unsourced
    console.print(f"[green]{scenario_file}: valid[/green] — {scenario.title}; {len(scenario.schemes)} schemes, "
                  f"{len(scenario.targets)} calibration targets.")
    if unsourced:
        console.print(f"[yellow]{len(unsourced)} numbers have no source comment[/yellow] (add '# assumption: …' "
                      f"beside them): {', '.join(unsourced[:8])}{' …' if len(unsourced) > 8 else ''}")
    for scheme, effect in scenario.effects_without_evidence:
        console.print(f"[yellow]warning:[/yellow] scheme {scheme}, effect {effect}: its size has no entry in an "
                      "evidence ledger (add `evidence: <id>`, see scenarios/library/evidence.yaml)")


@app.command()
@friendly
def schema(
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write to this file instead of the screen.")] = None,
) -> None:
    """Print the JSON Schema of scenario files, for editors that autocomplete and underline mistakes."""
    from caresim.scenario.schema import Scenario

    text = json.dumps(Scenario.model_json_schema(by_alias=True), indent=2)
    if output:
        output.write_text(text + "\n", encoding="utf-8")
        console.print(f"JSON Schema written to {output}")
    else:
        sys.stdout.write(text + "\n")


@app.command()
@friendly
def calibrate(
    scenario_file: ScenarioFile,
    replications: Replications = None,
    iterations: Annotated[int | None, typer.Option(
        "--iterations", min=1, help="Rounds of fitting (default: the scenario's).")] = None,
    in_place: Annotated[bool, typer.Option(
        "--in-place", help="Write fitted values back into the file(s), keeping comments.")] = False,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write a short scenario that extends FILE with the fitted values.")] = None,
    out: Out = Path("outputs"),
    serial: Serial = False,
) -> None:
    """Fit the scenario's declared free parameters so the baseline meets its calibration targets.

    Each free parameter is scaled by target ÷ achieved each round; the report shows every target
    with its tolerance and the value reached. Example: caresim calibrate scenarios/skc_2015.yaml --in-place
    """
    from caresim.workflows.calibrate import calibrate as fit
    from caresim.workflows.calibrate import write_in_place, write_overrides, write_reports

    result = fit(scenario_file, replications, iterations, _executor(serial))
    for path, value in result.changed.items():
        console.print(f"  {'.'.join(map(str, path))} = {value:.4g}")
    if in_place:
        for file in write_in_place(result):
            console.print(f"Updated {file}")
    target = output or (None if in_place else scenario_file.with_name(f"{scenario_file.stem}_calibrated.yaml"))
    if target is not None:
        console.print(f"Calibrated scenario: {write_overrides(result, scenario_file, target)}")
    report_file = write_reports(result, out)
    console.print(_calibration_table(result.report))
    console.print(f"Report: {report_file}")


@app.command()
@friendly
def report(
    run_dir: Annotated[Path, typer.Argument(help="A finished run folder, e.g. outputs/skc_2015/20261123-101500-ab12.")],
    template: Annotated[Path | None, typer.Option(
        "--template", exists=True, dir_okay=False,
        help="A Jinja2 template for the HTML report in your house style, e.g. one that starts {% extends "
             "\"caresim/report.html.j2\" %} (see docs/report.md).")] = None,
    logo: Annotated[Path | None, typer.Option(
        "--logo", exists=True, dir_okay=False, help="A logo (PNG, JPEG, GIF or SVG) embedded in the report.")] = None,
) -> None:
    """Write the charts, the self-contained HTML report and the Excel workbook of a finished run (never re-runs it);
    of an optimise run, its frontier, P(best) and EVPPI charts and report.

    Example: caresim report outputs/skc_2015/20261123-101500-ab12 --template house.html.j2 --logo council.png
    """
    from caresim.run_folder import read_complete_run

    if read_complete_run(run_dir).get("kind") == "optimise":
        from caresim.outputs.optimise_report import write_optimise_report

        console.print(f"Report: {write_optimise_report(run_dir)}")
        return
    _write_report(run_dir, template, logo)
    console.print(f"Report: {run_dir / 'report.html'}")


@app.command()
@friendly
def paper(
    run_dir: Annotated[Path, typer.Argument(help="A finished run folder, e.g. outputs/skc_2015/20261123-101500-ab12.")],
    out: Annotated[Path | None, typer.Option(
        "--out", metavar="FILE", help="Word file to write (default: paper.docx in the run folder).")] = None,
    reference: Annotated[Path | None, typer.Option(
        "--reference", help="A .docx whose styles (fonts, colours, headings, page set-up) the paper takes, e.g. your "
                            "council's template.")] = None,
) -> None:
    """Write a Word paper for the Health and Wellbeing Board from a finished run (never re-runs it).

    Purpose, summary and options, the headline with both intervals, money by payer, risks, charts, appendices.

    Word's built-in styles throughout: restyle it in Word, or pass --reference with your council's template.

    Example: caresim paper outputs/skc_2015/20261123-101500-ab12 --reference council.docx
    """
    from caresim.outputs.paper import write_paper

    console.print(f"Paper: {write_paper(run_dir, out, reference)}")


@app.command("app")
@friendly
def what_if(
    scenario_file: ScenarioFile,
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port on this computer.")] = 8501,
    draws: Annotated[int, typer.Option("--draws", min=2, help="Draws per answer to start with (the page "
                                       "can change it); the first answer comes after 2.")] = 8,
) -> None:
    """Open a what-if web app over a scenario: switch schemes on and off, pick their options, move effect sizes
    within their evidence, and see the headline, the money and the charts; download the run folder, report and paper.

    It listens on this computer only (127.0.0.1); open the printed address in a browser. Ctrl-C stops it.

    Example: caresim app scenarios/skc_2015.yaml
    """
    import signal
    import subprocess

    _load(scenario_file)  # a scenario that does not load stops here, with its problems
    page = Path(__file__).with_name("app") / "page.py"
    command = [sys.executable, "-m", "streamlit", "run", str(page), "--server.address", "127.0.0.1",
               "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none", "--client.toolbarMode", "minimal", "--",
               str(scenario_file.resolve()), str(draws)]
    console.print(f"caresim app: http://127.0.0.1:{port} (this computer only; Ctrl-C stops it)")
    server = subprocess.Popen(command)
    previous = signal.signal(signal.SIGTERM, lambda *_: server.terminate())
    try:
        server.wait()
    except KeyboardInterrupt:  # the terminal sent Ctrl-C to the server too; give it time to stop
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        console.print("caresim app: stopped")
    finally:
        signal.signal(signal.SIGTERM, previous)


@app.command()
@friendly
def sources(
    scenario_file: ScenarioFile,
    out: Annotated[Path, typer.Option(
        "--out", metavar="FILE", help="Markdown file to write.")] = Path("docs/sources.md"),
) -> None:
    """List every number of a scenario with its flag (seed, public, assumption, calibrated) and source, as Markdown."""
    from caresim.outputs.sources_doc import write_sources_doc

    console.print(f"Sources: {write_sources_doc(scenario_file, out)}")


@app.command("validation-doc")
@friendly
def validation_doc(
    run_dir: Annotated[Path, typer.Argument(help="A finished run folder.")],
    out: Annotated[Path, typer.Option(
        "--out", metavar="FILE", help="Markdown file to write.")] = Path("docs/validation.md"),
) -> None:
    """Write the validation document from a finished run: the baseline against every target, the default
    effects against their evidence, and the mix against the plan's claims and the national BCF record."""
    from caresim.outputs.validation_doc import write_validation_doc
    from caresim.run_folder import read_complete_run

    read_complete_run(run_dir)
    console.print(f"Validation document: {write_validation_doc(run_dir, out)}")


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", help="Show the version and exit.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show the full traceback of an internal error.")] = False,
) -> None:
    state["debug"] = debug
    if version:
        console.print(f"caresim {__version__}")
        raise typer.Exit()
