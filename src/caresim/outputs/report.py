"""The self-contained HTML report of a finished run, written for Health and Wellbeing Board papers.

One file: images embedded as base64 PNG, CSS inline, no scripts and no external references;
printable to A4 with a page break between sections. This module computes what the report says (text and
tables, one function per section in reading order); the markup and the house style are in the Jinja2 template
templates/report.html.j2 and templates/house_style.css, which an analyst may extend (docs/report.md).
"""

from __future__ import annotations

import base64
import json
import math
import mimetypes
from dataclasses import dataclass
from datetime import date
from importlib.resources import files
from pathlib import Path

import jinja2
import pandas as pd

from caresim.measures import HEADLINE
from caresim.outputs.behaviour import behaviour_table, reader_label
from caresim.outputs.chart_style import format_money, format_number, format_value, in_sentence, label
from caresim.outputs.charts import ADMISSIONS, make_all_charts
from caresim.outputs.money_tables import ledger_rows, performance_rows
from caresim.outputs.run_data import BASELINE, DIFFERENCE, Estimate, RunData
from caresim.outputs.validation_tables import benchmark_rows, effect_evidence_rows, side_by_side_rows
from caresim.run_folder import COST, NET_CASH, TOTAL_CAPACITY, TOTAL_CASH

STYLE = (files("caresim.outputs") / "templates" / "house_style.css").read_text(encoding="utf-8")  # also optimise_report
LOGO_TYPES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml")
BED_DAYS = "acute_bed_days"
DELAYED_DAYS = "delayed_days"
CHART_HEADINGS = {
    "admissions_waterfall": "Emergency admissions avoided, scheme by scheme",
    "money": "Costs and savings",
    "bcf_metrics": "Better Care Fund metrics",
    "occupancy_fan": "Bed occupancy through the year",
    "delays_by_month": "Delayed discharges by reason",
    "mixes_plane": "Comparing scheme mixes",
    "tornado": "Which effects' evidence matters most",
    "sensitivity_tornado": "Each uncertain effect at its low and high end",
    "flow_diagram": "How patients move through the system",
    "behaviour": "The baseline's services against their targets",
}
BEHAVIOUR_CHART = "behaviour"
FLAG_ORDER = {"assumption": 0, "unsourced": 1, "calibrated": 2, "target": 3, "public": 4, "seed": 5}
FLAG_LABELS = {
    "assumption": "Assumption",
    "unsourced": "No source given",
    "calibrated": "Calibrated",
    "target": "Plan target",
    "public": "Public data",
    "seed": "Seed value",
}

CAVEATS = (
    "The model follows people through services and the capacity of those services. It does not represent "
    "workforce, staff sickness or morale, the quality of care, or patient experience.",
    "Scheme effects are inputs to the model, not outputs of it. Where an effect is flagged as an assumption, "
    "the model shows what would follow if the assumption were true; it is not evidence that the scheme works.",
    "Savings are activity multiplied by unit costs. They are resources freed, not cash released: fewer bed days "
    "do not close a ward, and fixed costs remain.",
    "The range of likely outcomes covers the play of chance and the evidence on each scheme's effect, as the "
    "evidence ledger states it. It does not include uncertainty in the other inputs or in the structure of the "
    "model, so the real uncertainty is wider. The precision of the mean says only how well the replications "
    "pin down the average, and narrows with more replications whatever the evidence.",
    "The simulated period is one year with schemes at full strength from day one: no ramp-up, no recruitment "
    "delay and no effects beyond the year (for example on long care-home stays).",
    "Demand is the scenario's own; in runs longer than a year it grows by the scenario's growth per year. "
    "The model does not change it for housing, deprivation or other wider determinants.",
    "Deaths, quality of life and carers' wellbeing are not valued in money.",
)
EVIDENCE_CAVEAT = (
    "The evidence urges caution. Meta-analyses of case management for people at risk of hospital admission "
    "show no significant effect on admissions (Stokes et al., PLoS One, 2015). Nationally, areas planned for "
    "106,000 fewer emergency admissions under the 2015/16 Better Care Fund and saw 87,000 more (National Audit "
    "Office, Health and social care integration, 2017). A modelled reduction is a claim to test locally, not a "
    "forecast to bank."
)




def _is_true(value: object) -> bool:
    """A yes/no cell that may have been read back as bool, number or text."""
    if isinstance(value, str):
        return value.strip().lower() in {"true", "yes", "1", "y"}
    return bool(value) and not (isinstance(value, float) and math.isnan(value))


@dataclass(frozen=True)
class Cell:
    """One table cell: its text (escaped by the template), a CSS class, and whether it is in bold."""

    text: str
    css: str = ""
    strong: bool = False


@dataclass(frozen=True)
class Row:
    cells: list[Cell]
    css: str = ""


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[Row]
    css: str = ""


@dataclass(frozen=True)
class Figure:
    """A chart as the report shows it: numbered, headed, embedded as a data URI, with its alt text."""

    number: int
    heading: str
    image: str
    alt: str
    stem: str


@dataclass(frozen=True)
class Part:
    """One part of a section: an optional subtitle, note and figure above a table."""

    subtitle: str
    note: str
    table: Table
    figure: Figure | None = None


def _plain(headers: list[str], rows: list[list[str]]) -> Table:
    """Headers and rows of text as a table; 'inside' and 'outside' cells are marked."""
    classes = {"inside": "yes", "outside": "no"}
    return Table(headers, [Row([Cell(str(cell), classes.get(str(cell), "")) for cell in row]) for row in rows])


OUTCOME_RANGE = "range of likely outcomes (95%)"
PRECISION = "precision of the mean (95% CI)"


def format_outcome_range(estimate: Estimate) -> str:
    """'range of likely outcomes (95%) a to b': the 2.5 to 97.5 percentiles across replications."""
    low, high = (format_value(v, estimate.unit) for v in (estimate.outcome_low, estimate.outcome_high))
    return f"{OUTCOME_RANGE} {low} to {high}"


def _both_intervals(estimate: Estimate) -> str:
    low, high = (format_value(v, estimate.unit) for v in (estimate.ci_low, estimate.ci_high))
    return f"{format_outcome_range(estimate)}; {PRECISION} {low} to {high}"


def _change(estimate: Estimate, fewer: str, more: str, noun: str) -> str:
    """'avoids 240 emergency admissions (range of likely outcomes (95%) 120 to 360; precision of the mean ...)'
    from a reduction estimate, or 'may avoid ...' when the range of likely outcomes includes no change."""
    verb = fewer if estimate.mean >= 0 else more
    amount = format_value(abs(estimate.mean), estimate.unit)
    if estimate.outcomes_exclude_zero():
        return f"{verb} {amount} {noun} ({_both_intervals(estimate)})"
    return (f"may {verb.removesuffix('s')} {amount} {noun} ({_both_intervals(estimate)}; the range includes "
            "no change)")


def _certainty(run: RunData, probability: float) -> str:
    admissions = run.estimate(DIFFERENCE, ADMISSIONS)
    if admissions.outcomes_exclude_zero():
        direction = "reduces" if admissions.mean < 0 else "increases"
        sentence = (f"Across the range of likely outcomes, given the evidence on its effects, the mix {direction} "
                    "emergency admissions.")
    else:
        sentence = ("The range of likely outcomes includes no change in emergency admissions: the evidence on the "
                    "schemes' effects does not settle whether the mix reduces them.")
    if probability >= 0.95:
        return sentence + " The mix very likely saves money overall."
    if probability <= 0.05:
        return sentence + " The mix very likely costs more than it saves."
    return sentence + " Whether the mix saves money overall is uncertain."


def summary_paragraph(run: RunData) -> str:
    """A plain-English paragraph of what the mix buys, computed from the run's numbers."""
    changes = [
        _change(run.estimate(DIFFERENCE, measure).reduction(), fewer, more, noun)
        for measure, fewer, more, noun in (
            (ADMISSIONS, "avoids", "adds", "emergency admissions"),
            (BED_DAYS, "saves", "adds", "acute bed days"),
            (DELAYED_DAYS, "saves", "adds", "delayed discharge days"),
        )
        if run.has_measure(DIFFERENCE, measure)
    ]
    sentences = [
        f"Over a simulated year, the scheme mix ({run.mix_title}) "
        + (", ".join(changes[:-1]) + " and " + changes[-1] if len(changes) > 1 else "".join(changes))
        + ".",
    ]
    comparisons = run.money_comparisons()
    sentences += [_money_sentence(run, comparison, first=i == 0) for i, comparison in enumerate(comparisons)]
    probability = run.money_total(comparisons[0], NET_CASH)[1]
    released = run.money_total(comparisons[0], TOTAL_CASH)[0].reduction()
    sentences.append(
        f"The mix released more cash than it cost in {probability:.0%} of the {run.replication_count} paired "
        "replications" + "".join(f"; it met the plan's target for {in_sentence(label(metric))} in {chance:.0%}"
                                 for metric, chance in _target_chances(run).items()) + ".")
    claimed = float(run.manifest.get("claimed_benefit_per_year") or 0)
    if claimed > 0:
        source = run.manifest.get("claimed_benefit_source")
        sentences.append(
            f"The plan claims a benefit of {format_money(claimed)} a year"
            + (f" (source: {source})" if source else "")
            + f"; the model's central estimate of the cash it releases is {format_money(released.mean)}, "
            f"{100 * released.mean / claimed:.0f}% of the claim."
        )
    sentences.append(_certainty(run, probability))
    sentences.append(_intervals_note(run))
    return " ".join(sentences)


def _money_sentence(run: RunData, comparison: str, first: bool) -> str:
    """What one comparison of the money ledger costs, releases in cash, frees as capacity, and its net cash cost."""
    cost = run.money_total(comparison, COST)[0]
    cash = run.money_total(comparison, TOTAL_CASH)[0].reduction()
    capacity = run.money_total(comparison, TOTAL_CAPACITY)[0].reduction()
    net = run.money_total(comparison, NET_CASH)[0]
    return (f"{'Money, ' if first else 'And '}{comparison}: the fund pays {format_money(cost.mean)} a year"
            f"{' more than these schemes cost before' if first else ''}; the mix releases "
            f"{format_money(cash.mean)} of cash ({_both_intervals(cash)}) and frees capacity worth "
            f"{format_money(capacity.mean)} at average cost, which no budget can spend; its net cash cost is "
            f"{format_money(net.mean)} a year ({_both_intervals(net)}).")


def _target_chances(run: RunData) -> dict[str, float]:
    """BCF metric → share of replications in which the mix met its plan target (summary.csv)."""
    prefix = "probability_meets_target_"
    rows = run.summary[(run.summary["world"] == DIFFERENCE) & run.summary["measure"].str.startswith(prefix)]
    return {str(row.measure).removeprefix(prefix): float(row.mean) for row in rows.itertuples() if row.n > 0}


def _intervals_note(run: RunData) -> str:
    """What the two intervals mean, how many draws the range rests on, and whether effects were drawn at all."""
    count = run.replication_count
    if run.effects_central:
        note = (f"Every effect ran at its point value (caresim run --effects central), so the {OUTCOME_RANGE} "
                f"shows the play of chance alone across {count} paired replications, not the uncertainty in the "
                "evidence.")
    else:
        note = (f"Each of the {count} paired replications draws its own effect sizes from the evidence, so the "
                f"{OUTCOME_RANGE} (2.5 to 97.5 percentiles across replications) is the uncertainty a board "
                f"faces; the {PRECISION} only says how well the replications pin down the average.")
    draws = run.manifest.get("draws") or {}
    if draws:
        note += f" Draws: {draws['rule']}; {draws['draws']} draws, {draws['stopped']}."
    if count < run.stable_draws and draws.get("stopped") != "precision reached":
        note += (f" The range rests on {count} replications, fewer than the {run.stable_draws} that make its ends "
                 "stable, so it is indicative (summary.csv gives the Monte-Carlo standard error of its ends, "
                 "outcome_standard_error).")
    if run.assumption_count:
        note += f" {run.assumption_count} of the inputs are assumptions rather than evidence (listed below)."
    return note


def _cell(run: RunData, world: str, measure: str) -> str:
    if not run.has_measure(world, measure):
        return "–"
    estimate = run.estimate(world, measure)
    return format_value(estimate.mean, estimate.unit)


HEADLINE_HEADERS = [
    "Measure",
    "Unit",
    "Baseline",
    "Scheme mix",
    "Change with the mix",
    "Range of likely outcomes (95%)",
    "Precision of the mean (95% CI)",
    "Same direction in 95% of outcomes?",
]


def headline_rows(run: RunData) -> tuple[list[str], list[list[str]]]:
    """Headers and rows of the headline table: each headline measure's baseline, mix and change with both
    intervals, formatted for readers (the report and the Word paper)."""
    rows = []
    for measure in (m for m in HEADLINE if run.has_measure(DIFFERENCE, m)):
        change = run.estimate(DIFFERENCE, measure)
        unit = change.unit + (" (change in percentage points)" if change.unit == "percent" else "")
        outcomes = (f"{format_value(change.outcome_low, change.unit)} to "
                    f"{format_value(change.outcome_high, change.unit)}")
        interval = f"{format_value(change.ci_low, change.unit)} to {format_value(change.ci_high, change.unit)}"
        rows.append([label(measure), unit, _cell(run, BASELINE, measure), _cell(run, run.mix_name, measure),
                     format_value(change.mean, change.unit), outcomes, interval,
                     "Yes" if change.outcomes_exclude_zero() else "No"])
    return HEADLINE_HEADERS, rows


def _headline_table(run: RunData) -> Table:
    headers, rows = headline_rows(run)
    return Table(headers, [Row([Cell(row[0]), Cell(row[1]), *(Cell(text, "number") for text in row[2:7]),
                                Cell(row[7], row[7].lower())]) for row in rows])


def _years_parts(run: RunData) -> list[Part]:
    """Each year's changes with the mix and the money of each year and its running total; none for a run of one
    year or less."""
    years = run.year_labels
    if len(years) < 2:
        return []

    def cell(estimate: Estimate | None) -> Cell:
        if estimate is None:
            return Cell("–", "number")
        low, high = (format_value(v, estimate.unit) for v in (estimate.outcome_low, estimate.outcome_high))
        return Cell(f"{format_value(estimate.mean, estimate.unit)} ({low} to {high})", "number")

    rows = [Row([Cell(label(measure)), Cell(run.estimate(DIFFERENCE, measure).unit),
                 *(cell(run.year_estimate(year, DIFFERENCE, measure)) for year in years)])
            for measure in HEADLINE if run.has_measure(DIFFERENCE, measure)]
    parts = [Part("", "The change with the mix (mix minus baseline, paired) in each year of the run, per year, with "
                      "the range of likely outcomes (95%) in brackets. Later years carry the population's growth and "
                      "each scheme at its full strength after its ramp-up; years.csv has every measure of every year.",
                  Table(["Measure", "Unit", *years], rows))]
    money = run.money_by_year
    if money is not None and not money.empty:
        net = money[money["kind"] == NET_CASH]
        money_rows = []
        for comparison in dict.fromkeys(net["comparison"]):
            for basis, name in (("in_year", "in the year"), ("cumulative", "since the start of the run")):
                cells = [Cell(f"{comparison}: net cash cost {name}")]
                for year in years:
                    match = net[(net["comparison"] == comparison) & (net["basis"] == basis) & (net["year"] == year)]
                    if match.empty:
                        cells.append(Cell("–", "number"))
                        continue
                    m = match.iloc[0]
                    cells.append(Cell(f"{format_money(m['mean'])} ({format_money(m['p2_5'])} to "
                                      f"{format_money(m['p97_5'])})", "number"))
                money_rows.append(Row(cells))
        parts.append(Part("Money, year by year and cumulative", "Pounds spent in each year and since the start of "
                          "the run (negative: saved), with the range of likely outcomes (95%) in brackets; "
                          "money_by_year.csv splits them by payer, cash-releasing or not.",
                          Table(["Comparison", *years], money_rows)))
    return parts


def _figure(png: Path, number: int) -> Figure:
    encoded = base64.b64encode(png.read_bytes()).decode("ascii")
    return Figure(number, CHART_HEADINGS.get(png.stem, label(png.stem)), f"data:image/png;base64,{encoded}",
                  png.with_suffix(".txt").read_text(encoding="utf-8").strip(), png.stem)


def _tolerance(kind: object, tolerance: float) -> str:
    return f"±{100 * tolerance:.0f}%" if kind == "relative" else f"±{format_number(tolerance)}"


def _calibration_table(run: RunData) -> Table:
    rows = []
    for row in run.calibration.to_dict("records"):
        within = _is_true(row["within"])
        baseline = (f"{format_number(float(row['baseline_mean']))} "
                    f"({format_number(float(row['ci_low']))} to {format_number(float(row['ci_high']))})")
        rows.append(Row([
            Cell(label(row["measure"])),
            Cell(row["unit"]),
            Cell(format_number(float(row["target"])), "number"),
            Cell(_tolerance(row.get("tolerance_kind", "relative"), float(row["tolerance"])), "number"),
            Cell(f"{format_number(float(row['low']))} to {format_number(float(row['high']))}", "number"),
            Cell(baseline, "number"),
            Cell("Yes", "yes") if within else Cell("No", "no"),
            Cell(str(row.get("source", ""))),
        ], "" if within else "flagged"))
    headers = ["Measure", "Unit", "Target", "Tolerance", "Accepted range", "Baseline (95% CI)", "Within?", "Source"]
    return Table(headers, rows)


def _behaviour_table(table: pd.DataFrame) -> Table:
    """Each behaviour measure: the baseline with its CI, its target, tolerance and range, inside or not, source."""
    rows = []
    for row in table.to_dict("records"):
        modelled = (f"{format_value(row['mean'], row['unit'])} ({format_value(row['ci_low'], row['unit'])} to "
                    f"{format_value(row['ci_high'], row['unit'])})")
        targeted = math.isfinite(row["target"])
        verdict = Cell("Inside", "yes") if row["within"] else Cell("Outside", "no")
        rows.append(Row([
            Cell(reader_label(row["measure"])),
            Cell(row["unit"]),
            Cell(modelled, "number"),
            Cell(format_number(row["target"]) if targeted else "–", "number"),
            Cell(_tolerance(row["tolerance_kind"], row["tolerance"]) if targeted else "", "number"),
            Cell(f"{format_number(row['low'])} to {format_number(row['high'])}" if targeted else "", "number"),
            verdict if targeted else Cell("No target"),
            Cell(str(row["source"])),
        ], "flagged" if targeted and not row["within"] else ""))
    headers = ["Measure", "Unit", "Baseline (95% CI)", "Target", "Tolerance", "Accepted range", "Inside?", "Source"]
    return Table(headers, rows)


def _behaviour_parts(run: RunData, chart: Path | None, figure_number: int) -> list[Part]:
    """The baseline against the real system: the behaviour chart and its table; none for a run without them."""
    table = behaviour_table(run.summary, run.calibration)
    if table.empty:
        return []
    targeted = table[table["target"].notna()]
    inside = int(targeted["within"].astype(bool).sum())
    note = (
        "How the do-nothing baseline's services behave, not only their annual totals: acute discharges by day of "
        "the week, occupancy and waits by service, and delayed days by reason and by agency, each against the "
        f"scenario's calibration target where it sets one. {inside} of {len(targeted)} "
        f"{'target' if len(targeted) == 1 else 'targets'} are met. A measure without a target is shown for the "
        "reader to judge against local knowledge."
    )
    return [Part("", note, _behaviour_table(table), _figure(chart, figure_number) if chart else None)]


def _sampled_table(run: RunData) -> Table:
    rows = []
    for row in run.sampled.itertuples():
        flagged = _is_true(row.flag)
        rows.append(Row([
            Cell(label(str(row.distribution))),
            Cell(format_number(float(row.configured_mean)), "number"),
            Cell(format_number(float(row.sampled_mean)), "number"),
            Cell(f"{int(row.n):,}", "number"),
            Cell(format_number(float(row.standard_error)), "number"),
            Cell(format_number(float(row.z)), "number"),
            Cell("Check", "no") if flagged else Cell("OK"),
        ], "flagged" if flagged else ""))
    headers = ["Distribution", "Configured mean", "Sampled mean", "Draws", "Standard error", "z", "Flag"]
    return Table(headers, rows)


def _parameter_value(value: object) -> str:
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def _assumptions_table(run: RunData) -> Table:
    parameters = run.manifest.get("parameters_with_sources", [])
    ordered = sorted(parameters, key=lambda p: FLAG_ORDER.get(p.get("flag", ""), len(FLAG_ORDER)))
    rows = [Row([Cell(FLAG_LABELS.get(p.get("flag", ""), p.get("flag", "")), strong=True), Cell(p.get("path", "")),
                 Cell(_parameter_value(p.get("value", ""))), Cell(p.get("source", ""))],
                "assumption" if p.get("flag") in ("assumption", "unsourced") else "")
            for p in ordered]
    return Table(["Kind", "Parameter", "Value", "Source"], rows, "parameters")


def _parts(tables: list[tuple[str, str, tuple[list[str], list[list[str]]]]]) -> list[Part]:
    """Titled tables, each (subtitle, note, (headers, rows)); none when the first has no rows, and a later table is
    left out when it has no rows."""
    if not tables[0][2][1]:
        return []
    return [Part(subtitle, note, _plain(headers, rows)) for subtitle, note, (headers, rows) in tables if rows]


def _money_parts(run: RunData) -> list[Part]:
    """The money ledger by payer for both comparisons, and the share of the fund paid for performance at risk."""
    return _parts([
        ("", "Pounds a year. Cash released leaves a budget: emergency admissions at the marginal rate of the "
             "non-elective tariff, A&E attendances at tariff, acute beds only in whole 28-bed wards, care bought "
             "per person. Capacity freed is valued at average cost and releases no cash. Places a budget already "
             "pays for (rapid response, intermediate care, reablement) cost that budget, not their activity, so "
             "scheme-funded activity is counted once. money.csv has every item.", ledger_rows(run.run_dir)),
        ("The fund paid for performance", "The share of the pooled fund paid for meeting each metric's target, the "
         "chance the mix misses it (share of replications) and the money expected to go to other services as a "
         "result.", performance_rows(run.run_dir)),
    ])


def _evidence_parts(run: RunData) -> list[Part]:
    """The evidence defaults and the planners' assumptions side by side, with the validation tables; none for a run
    without them."""
    titles = run.titles
    return _parts([
        ("", "Both mixes on the same baseline: the same people and the same random draws, so the differences "
             "between the columns are the effect sizes alone. Positive numbers are reductions.",
         side_by_side_rows(run.run_dir, titles)),
        ("Each effect against its evidence", "The size each effect was given (drawn once per replication, an input) "
         "and the size it realised on the people it acted on (measured in the simulation, where its scheme acts "
         "alone: a diversion's share of the patients it could take that were diverted; a ratio's outcome with the "
         "effect over the outcome without it, on the same draws), beside the evidence ledger's estimate and 95% CI.",
         effect_evidence_rows(run.run_dir, titles)),
        ("The whole mix against external benchmarks", "Each mix's change against the baseline, paired, beside the "
         "plan's own target, Kent's ambition, the national 2015/16 outturn and published evaluations of comparable "
         "programmes; a count is scaled to this population.", benchmark_rows(run.run_dir, titles)),
    ])


def logo_uri(path: Path) -> str:
    """An image file as a data URI, so the report embeds the logo and stays one self-contained file."""
    kind, _ = mimetypes.guess_type(path.name)
    if kind not in LOGO_TYPES:
        raise ValueError(f"{path}: a logo must be a PNG, JPEG, GIF or SVG image")
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _template(template: Path | None) -> jinja2.Template:
    """The report template: `template` (which may extend or include caresim's own, as "caresim/…"), else caresim's."""
    loaders: list[jinja2.BaseLoader] = [jinja2.PrefixLoader({"caresim": jinja2.PackageLoader("caresim.outputs")})]
    if template is not None:
        loaders.insert(0, jinja2.FileSystemLoader(template.resolve().parent))
    environment = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), autoescape=True,
                                     undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return environment.get_template(template.name if template else "caresim/report.html.j2")


def render_report(run: RunData, charts: list[Path], template: Path | None = None, logo: Path | None = None) -> str:
    """The whole report as one HTML string, from caresim's template or `template`, with an optional logo."""
    title = f"What the scheme mix buys: {run.mix_title}"
    behaviour = next((png for png in charts if png.stem == BEHAVIOUR_CHART), None)
    charts = [png for png in charts if png.stem != BEHAVIOUR_CHART]
    return _template(template).render(
        title=title,
        subtitle="" if run.manifest.get("title") == run.mix_title else run.manifest.get("title", ""),
        meta=(f"Run {run.run_id}, finished {run.finished}; caresim {run.version}; {run.replication_count} paired "
              f"replications; seed {run.manifest.get('seed', 'not recorded')}. Report written "
              f"{date.today():%d %B %Y}."),
        logo=logo_uri(logo) if logo else "",
        summary=summary_paragraph(run),
        headline=_headline_table(run),
        years=_years_parts(run),
        money=_money_parts(run),
        charts=[_figure(png, number) for number, png in enumerate(charts, start=1)],
        behaviour=_behaviour_parts(run, behaviour, len(charts) + 1),
        evidence=_evidence_parts(run),
        calibration=_calibration_table(run),
        sampled=_sampled_table(run),
        assumption_note=(f"{run.assumption_count} inputs are assumptions: judgements without direct local or "
                         "published evidence. They are listed first and shaded, with any input that has no source. "
                         "Results that depend on them should be read as 'if this is right'."),
        assumptions=_assumptions_table(run),
        caveats=CAVEATS,
        evidence_caveat=EVIDENCE_CAVEAT,
        footer=(f"{run.source_note}; run {run.run_id}; git commit {run.manifest.get('git_commit', 'not recorded')}."),
    )


def write_report(run_dir: Path, template: Path | None = None, logo: Path | None = None) -> Path:
    """Write `report.html` into a complete run folder, from caresim's template or `template`, with an optional
    logo; raises `IncompleteRunError` for any other status."""
    run = RunData.load(Path(run_dir))
    charts = make_all_charts(run)
    path = run.run_dir / "report.html"
    path.write_text(render_report(run, charts, template, logo), encoding="utf-8")
    return path
