"""The report of an optimise run folder: the frontier chart, the best mix with P(best) beside the plan's, what
changes and why, and the value of information per effect (chart and table)."""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import pandas as pd

from caresim.outputs.chart_style import BLUE, GREY, STYLE, VERMILLION, format_money, new_figure, save_chart, wrap
from caresim.outputs.report import STYLE as REPORT_STYLE
from caresim.outputs.run_data import read_optional_csv
from caresim.run_folder import read_complete_run

FRONTIER = "frontier"
EVPPI = "evppi"


@dataclass(frozen=True)
class OptimiseRun:
    """The tables of a complete optimise run folder and its manifest."""

    run_dir: Path
    manifest: dict
    candidates: pd.DataFrame
    frontier: pd.DataFrame
    evppi: pd.DataFrame
    changes: pd.DataFrame
    rounds: pd.DataFrame | None  # the rounds of more draws (folders written before them have none)

    @classmethod
    def load(cls, run_dir: Path) -> OptimiseRun:
        run_dir = Path(run_dir)
        manifest = read_complete_run(run_dir)
        run = cls(run_dir, manifest, *(pd.read_csv(run_dir / f"{name}.csv")
                                        for name in ("candidates", "frontier", "evppi", "changes")),
                  read_optional_csv(run_dir, "rounds.csv"))
        for frame in (run.candidates, run.frontier, run.rounds):
            if frame is not None and "mix" in frame and "mix_title" not in frame:  # written before mix titles
                frame["mix_title"] = frame["mix"]
        return run

    @property
    def charts_dir(self) -> Path:
        return self.run_dir / "charts"

    @property
    def source_note(self) -> str:
        return (f"Source: caresim {self.manifest.get('caresim_version', '')}, scenario {self.manifest['scenario']}, "
                f"{self.manifest['replications']} paired replications, {self.manifest['procedure']} search")


def frontier_chart(run: OptimiseRun) -> None:
    """The best mix found within each budget: its objective's mean with the 95 % CI, against its cost."""
    manifest, frontier = run.manifest, run.frontier.dropna(subset=["mean"])
    with matplotlib.rc_context(STYLE):
        figure = new_figure(3.6)
        axes = figure.subplots()
        candidates = run.candidates
        axes.scatter(candidates["cost"] / 1e6, candidates["mean"], color=GREY, s=14, label="Mixes simulated")
        axes.errorbar(frontier["cost"] / 1e6, frontier["mean"],
                      yerr=[frontier["mean"] - frontier["ci_low"], frontier["ci_high"] - frontier["mean"]],
                      color=BLUE, marker="o", capsize=3, label="Best within each budget")
        plan = candidates[candidates["plan_mix"]]
        axes.scatter(plan["cost"] / 1e6, plan["mean"], color=VERMILLION, marker="D", s=30, label="The plan's mix",
                     zorder=3)
        for row in frontier.itertuples():
            axes.axvline(row.budget / 1e6, color=GREY, linewidth=0.5, linestyle=":")
        axes.set_xlabel("Cost a year (£ million)")
        axes.set_ylabel(wrap(f"{manifest['objective_label']} ({manifest['objective_unit']})", 40))
        axes.legend(loc="best", fontsize=7)
        save_chart(figure, run, FRONTIER, "The best mix of scheme options at each budget",
                   "Each point is a simulated mix; the line joins the best within each budget (dotted lines), "
                   "with 95% confidence intervals; the diamond is the plan's own mix.",
                   "Whiskers: 95% CI of the mean over paired replications.")


def evppi_chart(run: OptimiseRun) -> None:
    """EVPPI per effect, largest first: what knowing that effect's size before choosing the mix is worth a year."""
    table = run.evppi.head(12).iloc[::-1]
    with matplotlib.rc_context(STYLE):
        figure = new_figure(0.4 + 0.28 * max(len(table), 3))
        axes = figure.subplots()
        axes.barh(range(len(table)), table["evppi"], color=BLUE)
        axes.set_yticks(range(len(table)), [wrap(effect.replace("_", " "), 45) for effect in table["effect"]],
                        fontsize=7)
        axes.set_xlabel("Expected value of partial perfect information (£ a year)")
        save_chart(figure, run, EVPPI, "Which effect's evidence is worth having first",
                   "Bars show, per scheme effect, how much a year knowing its size before choosing between the "
                   "candidate mixes would be expected to gain in net monetary benefit.",
                   "Regression estimator (Strong & Oakley 2014) over the replications' effect draws; with few "
                   "replications it is indicative and biased upwards.")


def _image(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    alt = path.with_suffix(".txt").read_text(encoding="utf-8").strip()
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}" style="max-width:100%">'


def _rows(frame: pd.DataFrame, columns: dict[str, str]) -> str:
    head = "".join(f"<th>{html.escape(label)}</th>" for label in columns.values())
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(value))}</td>" for value in row) + "</tr>"
                   for row in frame[list(columns)].itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def optimise_section(run: OptimiseRun) -> str:
    """The report section: the best mix and P(best), the plan's, what changes and why, frontier and EVPPI."""
    manifest, candidates = run.manifest, run.candidates
    best = candidates.iloc[0]
    plan = candidates[candidates["plan_mix"]]
    unit = manifest["objective_unit"]
    lead = (f"Within {format_money(manifest['budget'])} a year, the best mix found for "
            f"{manifest['objective_label'].lower()} is {best['mix_title']} (cost {format_money(best['cost'])}; "
            f"{best['mean']:,.1f} {unit}, 95% CI {best['ci_low']:,.1f} to {best['ci_high']:,.1f}; "
            f"P(best) {best['p_best']:.2f}).")
    constraints = [*(f"funding {name}" for name in manifest.get("must_fund", [])),
                   *(f"{name} at {option} or above" for name, option in manifest.get("minimum", {}).items()),
                   *(f"{payer} at most {format_money(limit)}"
                     for payer, limit in manifest.get("payer_budgets", {}).items())]
    if constraints:
        lead += f" Constraints: {', '.join(constraints)}."
    if len(plan):
        row = plan.iloc[0]
        lead += (f" The plan's mix gives {row['mean']:,.1f} {unit} (95% CI {row['ci_low']:,.1f} to "
                 f"{row['ci_high']:,.1f}) for {format_money(row['cost'])}.")
    shown = candidates.assign(
        cost=candidates["cost"].map(format_money), mean=candidates["mean"].map("{:,.1f}".format),
        ci=[f"{a:,.1f} to {b:,.1f}" for a, b in zip(candidates["ci_low"], candidates["ci_high"], strict=True)],
        likely=[f"{a:,.1f} to {b:,.1f}" for a, b in zip(candidates["outcome_low"], candidates["outcome_high"],
                                                        strict=True)],
        p_best=candidates["p_best"].map("{:.2f}".format))
    frontier = run.frontier.assign(budget=run.frontier["budget"].map(format_money),
                                   cost=run.frontier["cost"].map(lambda v: "" if v != v else format_money(v)),
                                   mean=run.frontier["mean"].map("{:,.1f}".format),
                                   p_best=run.frontier["p_best"].map("{:.2f}".format))
    evppi = run.evppi.assign(evppi=run.evppi["evppi"].map(format_money),
                             evppi_objective=run.evppi["evppi_objective"].map("{:,.1f}".format))
    parts = [
        "<section><h2>Which mix for the budget</h2>", f"<p>{html.escape(lead)}</p>",
        "<p>P(best) is the share of bootstrap resamples of the replications in which a mix has the best mean among "
        "the mixes simulated within the budget: it measures how sure the ranking is given the replications run, "
        "not the chance the mix works. Mixes were screened and simulated on the same patients and effect draws "
        f"({html.escape(manifest['procedure'])} search; docs/optimise.md).</p>",
        "<h3>What changes from the plan's mix, and why</h3><ul>",
        *(f"<li>{html.escape(sentence)}</li>" for sentence in run.changes["why"]), "</ul>",
        _image(run.charts_dir / f"{FRONTIER}.png"),
        "<h3>The best mix within each budget</h3>",
        _rows(frontier, {"budget": "Budget", "mix_title": "Best mix", "cost": "Cost", "mean": "Mean",
                         "p_best": "P(best)"}),
        "<h3>Mixes simulated</h3>",
        _rows(shown, {"rank": "Rank", "mix_title": "Mix", "cost": "Cost", "mean": "Mean", "ci": "95% CI",
                      "likely": "Likely range", "p_best": "P(best)"}),
    ]
    if run.rounds is not None and len(run.rounds):
        rounds = run.rounds.assign(mean=run.rounds["mean"].map("{:,.1f}".format),
                                   p_best=run.rounds["p_best"].map("{:.2f}".format),
                                   drawn_next=run.rounds["drawn_next"].map({True: "yes", False: "no"}))
        parts += ["<h3>More draws, in rounds</h3>",
                  "<p>In each round, OCBA (optimal computing budget allocation) says which mixes further replications "
                  "would most help to tell apart; those mixes all ran the round's new replications (the same "
                  "patients and draws), the others kept the replications they had.</p>",
                  _rows(rounds, {"round": "Round", "mix_title": "Mix", "n": "Replications", "mean": "Mean",
                                 "p_best": "P(best)", "drawn_next": "Drawn in the next round"})]
    if len(run.evppi):
        parts += ["<h3>The value of better evidence</h3>",
                  "<p>Net monetary benefit: cash released and capacity freed (at average unit costs), less the mixes' "
                  "cost, a year. EVPPI: what knowing one effect's size before choosing between the mixes would "
                  "gain, on average, a year; evaluate first the effect at the top. The last column is the same for the "
                  "choice the search makes, in the objective's units.</p>",
                  _image(run.charts_dir / f"{EVPPI}.png"),
                  _rows(evppi, {"effect": "Effect", "evppi": "EVPPI (£ a year)",
                                "evppi_objective": f"EVPPI ({manifest['objective_label'].lower()}, {unit})"})]
    return "\n".join([*parts, "</section>"])


def write_optimise_report(run_dir: Path) -> Path:
    """Charts and report.html of an optimise run folder."""
    run = OptimiseRun.load(run_dir)
    frontier_chart(run)
    if len(run.evppi):
        evppi_chart(run)
    title = f"{run.manifest['title']}: which mix for the budget"
    page = (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{REPORT_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{optimise_section(run)}"
            "</body></html>")
    path = run.run_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
