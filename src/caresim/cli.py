"""The `caresim` command: arguments in, rich tables out; no model logic lives here."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from caresim import __version__

app = typer.Typer(
    help="Whole-system simulation of health and social care: what a mix of Better Care Fund schemes buys, "
         "compared with doing nothing, with uncertainty.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True)
HEADLINES = (
    "emergency_admissions", "emergency_admissions_65plus", "avoidable_emergency_admissions", "ae_attendances",
    "ae_4h_percent", "acute_bed_days", "acute_occupancy_percent", "intermediate_care_bed_days", "delayed_days",
    "delayed_days_nhs", "delayed_days_social_care", "delayed_days_both", "care_home_admissions",
    "bcf_care_home_admissions_per_100k_65plus", "bcf_still_home_91d_percent", "bcf_delayed_days_per_100k_per_month",
    "bcf_avoidable_admissions_per_100k", "failed_diversions", "cost_nhs", "cost_council", "scheme_cost", "net_cost",
)
DIFFERENCES = (
    "emergency_admissions_avoided", "emergency_admissions_65plus_avoided", "avoidable_emergency_admissions_avoided",
    "ae_attendances_avoided", "acute_bed_days_saved", "delayed_days_saved", "care_home_admissions_avoided",
    "failed_diversions", "cost_nhs", "cost_council", "activity_savings", "scheme_cost", "net_cost",
    "cost_per_admission_avoided", "return_on_investment", "probability_saves_money", "claimed_benefit",
)
state = {"debug": False}
ScenarioFile = Annotated[Path, typer.Argument(help="A scenario YAML file, e.g. scenarios/skc_2015.yaml.")]
Replications = Annotated[int | None, typer.Option("--replications", "-n", min=1,
                                                  help="Paired replications (default: the scenario's run.replications).")]
Seed = Annotated[int | None, typer.Option("--seed", min=0, help="Root seed (default: the scenario's run.seed).")]
Out = Annotated[Path, typer.Option("--out", help="Folder for results; each run gets outputs/<scenario>/<run-id>/.")]
Workers = Annotated[int | None, typer.Option("--workers", min=1, help="Local worker processes (default: all cores).")]
Scheduler = Annotated[str | None, typer.Option(
    "--scheduler", help="Address of a Dask scheduler, e.g. tcp://10.0.0.5:8786, or 'local' for a local Dask cluster.")]
Serial = Annotated[bool, typer.Option("--serial", help="Run replications one after another in this process.")]


def friendly(command: Callable) -> Callable:
    """Bad input: the problems and exit code 2. A bug: a short message, a hint, exit code 1."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from caresim.engine.model import RunawayError
        from caresim.engine.services import UnstableSystemError
        from caresim.experiment.replication import ReplicationFailed
        from caresim.outputs.run_folder import IncompleteRunError
        from caresim.scenario.problems import ScenarioError

        try:
            return command(*args, **kwargs)
        except ScenarioError as error:
            errors.print(str(error), markup=False, highlight=False)
            raise typer.Exit(2) from None
        except (IncompleteRunError, FileNotFoundError, ValueError) as error:
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
        except KeyboardInterrupt:
            errors.print("caresim: interrupted; the run folder is left marked incomplete (*.partial).")
            raise typer.Exit(130) from None
        except Exception as error:  # anything else is a bug in caresim
            if state["debug"]:
                raise
            errors.print(f"caresim: internal error: {type(error).__name__}: {error}\nRe-run with --debug for the "
                         "traceback and please report it with the scenario file.", markup=False, highlight=False)
            raise typer.Exit(1) from None

    return wrapper


def _load(path: Path, seed: int | None = None):
    from caresim.scenario.loading import load_scenario

    scenario = load_scenario(path)
    if seed is not None:
        scenario = scenario.model_copy(update={"run": scenario.run.model_copy(update={"seed": seed})})
    return scenario


def _fmt(value: float, unit: str) -> str:
    if value != value:  # NaN
        return "–"
    if "percent" in unit or "share" in unit:
        return f"{value:.1f}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def _table(summary, world: str, measures: tuple[str, ...], title: str) -> Table:
    rows = summary[summary["world"] == world].set_index("measure")
    table = Table(title=title, title_justify="left")
    for column, justify in (("measure", "left"), ("unit", "left"), ("mean", "right"), ("95% CI", "right"), ("n", "right")):
        table.add_column(column, justify=justify)
    for measure in measures:
        if measure in rows.index:
            row = rows.loc[measure]
            ci = "" if row["ci_low"] != row["ci_low"] else f"{_fmt(row['ci_low'], row['unit'])} to {_fmt(row['ci_high'], row['unit'])}"
            table.add_row(measure, row["unit"], _fmt(row["mean"], row["unit"]), ci, str(int(row["n"])))
    return table


def _calibration_table(calibration) -> Table:
    table = Table(title="Baseline against calibration targets", title_justify="left")
    for column in ("measure", "target", "allowed range", "baseline", "within"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    for row in calibration.itertuples():
        ok = "[green]yes[/green]" if row.within else "[red]no[/red]"
        table.add_row(row.measure, f"{row.target:,.1f}", f"{row.low:,.1f} to {row.high:,.1f}", f"{row.baseline_mean:,.1f}", ok)
    return table


def _attribution_table(attribution) -> Table:
    table = Table(title="Emergency admissions avoided, by scheme (negative: more admissions)", title_justify="left")
    for column in ("scheme", "alone (one at a time)", "marginal (leave one out)"):
        table.add_column(column, justify="left" if column == "scheme" else "right")
    rows = attribution[attribution["measure"] == "emergency_admissions"]
    for scheme in dict.fromkeys(rows["scheme"]):
        part = rows[rows["scheme"] == scheme].set_index("method")["mean"]
        alone = part.get("one_at_a_time", part.get("remainder", part.get("total")))
        marginal = part.get("leave_one_out", float("nan"))
        table.add_row(scheme, f"{-alone:,.0f}", "" if marginal != marginal else f"{-marginal:,.0f}")
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
        "--attribution/--no-attribution", help="Also run each scheme alone and each left out, for the per-scheme table.")] = True,
    report: Annotated[bool, typer.Option("--report/--no-report", help="Write charts, the HTML report and the workbook.")] = True,
    workers: Workers = None,
    scheduler: Scheduler = None,
    serial: Serial = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or tables.")] = False,
) -> None:
    """Simulate the baseline and the scheme mix on the same patients and report what the mix buys.

    Example: caresim run scenarios/skc_2015.yaml --replications 20
    """
    from caresim.experiment.plan import make_plan
    from caresim.experiment.run import run_experiment

    scenario = _load(scenario_file, seed)
    plan = make_plan(scenario, replications, attribution=attribution)
    experiment = run_experiment(plan, scenario_file, out, _executor(serial), workers, scheduler, progress=not quiet)
    if report:
        _write_report(experiment.folder)
    if quiet:
        console.print(str(experiment.folder))
        return
    console.print(_table(experiment.summary, "baseline", HEADLINES, f"{scenario.title}: baseline (do nothing), per year"))
    if plan.mixes:
        main = scenario.mix_name
        console.print(_table(experiment.summary, main, HEADLINES, f"With the scheme mix '{main}', per year"))
        console.print(_table(experiment.summary, "difference", DIFFERENCES,
                             "Paired difference, scheme mix against baseline (same patients)"))
    if experiment.attribution is not None:
        console.print(_attribution_table(experiment.attribution))
    console.print(_calibration_table(experiment.calibration))
    console.print(f"{plan.replications} replications × {len(plan.worlds)} worlds in {experiment.seconds:.1f} s. "
                  f"Results: [bold]{experiment.folder}[/bold]")


def _write_report(folder: Path) -> None:
    from caresim.outputs.charts import make_all_charts
    from caresim.outputs.report import write_report
    from caresim.outputs.run_data import RunData
    from caresim.outputs.workbook import write_workbook

    make_all_charts(RunData.load(folder))
    write_report(folder)
    write_workbook(folder)


@app.command()
@friendly
def validate(scenario_file: ScenarioFile) -> None:
    """Check a scenario file and list every problem (file, line, field, what is allowed). Exit code 2 if any."""
    from caresim.scenario.sources import parameter_sources

    scenario = _load(scenario_file)
    unsourced = [row["path"] for row in parameter_sources(scenario_file) if row["flag"] == "unsourced"]
    console.print(f"[green]{scenario_file}: valid[/green] — {scenario.title}; {len(scenario.schemes)} schemes, "
                  f"{len(scenario.targets)} calibration targets.")
    if unsourced:
        console.print(f"[yellow]{len(unsourced)} numbers have no source comment[/yellow] (add '# assumption: …' "
                      f"beside them): {', '.join(unsourced[:8])}{' …' if len(unsourced) > 8 else ''}")


@app.command()
@friendly
def schema(output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of the screen.")] = None) -> None:
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
def report(run_dir: Annotated[Path, typer.Argument(help="A finished run folder, e.g. outputs/skc_2015/20261123-101500-ab12.")]) -> None:
    """Write the charts, the self-contained HTML report and the Excel workbook of a finished run (never re-runs it)."""
    from caresim.outputs.run_folder import read_complete_run

    read_complete_run(run_dir)
    _write_report(run_dir)
    console.print(f"Report: {run_dir / 'report.html'}")


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", help="Show the version and exit.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show the full traceback of an internal error.")] = False,
) -> None:
    state["debug"] = debug
    if version:
        console.print(f"caresim {__version__}")
        raise typer.Exit()
