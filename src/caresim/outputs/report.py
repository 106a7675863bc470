"""The self-contained HTML report of a finished run, written for Health and Wellbeing Board papers.

One file: images embedded as base64 PNG, CSS inline, no scripts and no external references;
printable to A4 with a page break between sections. About 430 lines, one function per section of the
report in reading order; the next change (a Jinja2 template, so analysts can restyle it) will move the
markup out of Python and shrink it.
"""

from __future__ import annotations

import base64
import html
import json
import math
from datetime import date
from pathlib import Path

from caresim.measures import HEADLINE
from caresim.outputs.behaviour import behaviour_table, reader_label
from caresim.outputs.chart_style import format_money, format_number, format_value, label
from caresim.outputs.charts import ADMISSIONS, make_all_charts
from caresim.outputs.money_tables import ledger_rows, performance_rows
from caresim.outputs.run_data import BASELINE, DIFFERENCE, Estimate, RunData
from caresim.outputs.validation_tables import benchmark_rows, effect_evidence_rows, side_by_side_rows
from caresim.run_folder import COST, NET_CASH, TOTAL_CAPACITY, TOTAL_CASH

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

STYLE = """
@page { size: A4; margin: 14mm 14mm 16mm 14mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; font-size: 10.5pt;
  line-height: 1.45; color: #1a1a1a; background: #ffffff; margin: 0; }
main { max-width: 182mm; margin: 0 auto; padding: 10mm 0; }
h1 { font-size: 19pt; line-height: 1.2; margin: 0 0 2mm 0; }
h2 { font-size: 14pt; border-bottom: 2px solid #0072B2; padding-bottom: 1mm; margin: 0 0 3mm 0; }
h3 { font-size: 11pt; margin: 5mm 0 2mm 0; }
p.meta { color: #444444; font-size: 9pt; margin: 0 0 5mm 0; }
p.subtitle { font-size: 12pt; color: #333333; margin: 0 0 1mm 0; }
p.summary { font-size: 11pt; background: #f2f7fb; border-left: 4px solid #0072B2; padding: 3mm 4mm; }
section { margin-bottom: 8mm; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; margin: 2mm 0 4mm 0; }
th, td { border-bottom: 1px solid #d0d0d0; padding: 1.2mm 1.6mm; text-align: left; vertical-align: top; }
td { overflow-wrap: break-word; }
table.parameters { table-layout: fixed; }
table.parameters th:nth-child(1) { width: 15%; }
table.parameters th:nth-child(2) { width: 33%; }
table.parameters th:nth-child(3) { width: 14%; }
table.parameters th:nth-child(4) { width: 38%; }
th { background: #eeeeee; }
td.number { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.flagged td { background: #fde9d9; }
tr.assumption td { background: #fff4d6; }
.yes { background: #d8f0e3; font-weight: bold; }
.no { background: #fbd9c9; font-weight: bold; }
figure { margin: 0 0 6mm 0; break-inside: avoid; page-break-inside: avoid; }
figure img { width: 100%; height: auto; border: 1px solid #e5e5e5; }
figcaption { font-size: 8.5pt; color: #444444; margin-top: 1mm; }
p.note { font-size: 8.5pt; color: #444444; }
ul.caveats li { margin-bottom: 1.5mm; }
footer { font-size: 8pt; color: #555555; border-top: 1px solid #d0d0d0; padding-top: 2mm; }
@media print {
  main { padding: 0; max-width: none; }
  section { break-before: page; page-break-before: always; }
  section.first { break-before: auto; page-break-before: auto; }
  tr, thead { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  figure img { width: auto; max-width: 100%; max-height: 118mm; }
  p.summary { background: #f2f7fb; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  tr.flagged td, tr.assumption td, .yes, .no, th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def _text(value: object) -> str:
    return html.escape(str(value), quote=True)


def _is_true(value: object) -> bool:
    """A yes/no cell that may have been read back as bool, number or text."""
    if isinstance(value, str):
        return value.strip().lower() in {"true", "yes", "1", "y"}
    return bool(value) and not (isinstance(value, float) and math.isnan(value))


def _table(
    headers: list[str], rows: list[list[tuple[str, str]]], row_classes: list[str] | None = None, css_class: str = ""
) -> str:
    """An HTML table; each cell is (css class, already-escaped html)."""
    head = "".join(f"<th>{_text(header)}</th>" for header in headers)
    body = []
    for index, cells in enumerate(rows):
        css = f' class="{row_classes[index]}"' if row_classes and row_classes[index] else ""
        tds = "".join(
            f'<td class="{cell_class}">{content}</td>' if cell_class else f"<td>{content}</td>"
            for cell_class, content in cells
        )
        body.append(f"<tr{css}>{tds}</tr>")
    table_class = f' class="{css_class}"' if css_class else ""
    return f"<table{table_class}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


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
        "replications" + "".join(f"; it met the plan's target for {label(metric).lower()} in {chance:.0%}"
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


def _headline_table(run: RunData) -> str:
    headers, rows = headline_rows(run)
    cells = [[("", _text(row[0])), ("", _text(row[1])), *(("number", _text(cell)) for cell in row[2:7]),
              (row[7].lower(), row[7])] for row in rows]
    return _table(headers, cells)


def _years_section(run: RunData) -> str:
    """Each year's changes with the mix and the money of each year and its running total; empty for a run of one
    year or less."""
    years = run.year_labels
    if len(years) < 2:
        return ""

    def cell(estimate: Estimate | None) -> tuple[str, str]:
        if estimate is None:
            return ("number", "–")
        low, high = (format_value(v, estimate.unit) for v in (estimate.outcome_low, estimate.outcome_high))
        return ("number", _text(f"{format_value(estimate.mean, estimate.unit)} ({low} to {high})"))

    rows = [[("", _text(label(measure))), ("", _text(run.estimate(DIFFERENCE, measure).unit)),
             *(cell(run.year_estimate(year, DIFFERENCE, measure)) for year in years)]
            for measure in HEADLINE if run.has_measure(DIFFERENCE, measure)]
    parts = ["<section><h2>Year by year</h2>",
             '<p class="note">The change with the mix (mix minus baseline, paired) in each year of the run, per '
             "year, with the range of likely outcomes (95%) in brackets. Later years carry the population's growth "
             "and each scheme at its full strength after its ramp-up; years.csv has every measure of every "
             "year.</p>", _table(["Measure", "Unit", *years], rows)]
    money = run.money_by_year
    if money is not None and not money.empty:
        net = money[money["kind"] == NET_CASH]
        money_rows = []
        for comparison in dict.fromkeys(net["comparison"]):
            for basis, name in (("in_year", "in the year"), ("cumulative", "since the start of the run")):
                row = [("", _text(f"{comparison}: net cash cost {name}"))]
                for year in years:
                    match = net[(net["comparison"] == comparison) & (net["basis"] == basis) & (net["year"] == year)]
                    if match.empty:
                        row.append(("number", "–"))
                        continue
                    m = match.iloc[0]
                    row.append(("number", _text(f"{format_money(m['mean'])} ({format_money(m['p2_5'])} to "
                                                f"{format_money(m['p97_5'])})")))
                money_rows.append(row)
        parts += ["<h3>Money, year by year and cumulative</h3>",
                  '<p class="note">Pounds spent in each year and since the start of the run (negative: saved), '
                  "with the range of likely outcomes (95%) in brackets; money_by_year.csv splits them by payer, "
                  "cash-releasing or not.</p>", _table(["Comparison", *years], money_rows)]
    return "".join(parts) + "</section>"


def _charts_section(charts: list[Path], first_number: int = 1) -> str:
    figures = []
    for number, png in enumerate(charts, start=first_number):
        alt_text = png.with_suffix(".txt").read_text(encoding="utf-8").strip()
        encoded = base64.b64encode(png.read_bytes()).decode("ascii")
        heading = CHART_HEADINGS.get(png.stem, label(png.stem))
        figures.append(
            f"<figure><h3>Figure {number}. {_text(heading)}</h3>"
            f'<img src="data:image/png;base64,{encoded}" alt="{_text(alt_text)}">'
            f"<figcaption>Chart files: charts/{_text(png.name)} and charts/{_text(png.stem)}.svg; "
            f"text description in charts/{_text(png.stem)}.txt.</figcaption></figure>"
        )
    return "".join(figures)


def _tolerance(kind: object, tolerance: float) -> str:
    return f"±{100 * tolerance:.0f}%" if kind == "relative" else f"±{format_number(tolerance)}"


def _calibration_table(run: RunData) -> str:
    rows, classes = [], []
    for row in run.calibration.to_dict("records"):
        within = _is_true(row["within"])
        baseline = (
            f"{format_number(float(row['baseline_mean']))} "
            f"({format_number(float(row['ci_low']))} to {format_number(float(row['ci_high']))})"
        )
        rows.append(
            [
                ("", _text(label(row["measure"]))),
                ("", _text(row["unit"])),
                ("number", _text(format_number(float(row["target"])))),
                ("number", _text(_tolerance(row.get("tolerance_kind", "relative"), float(row["tolerance"])))),
                ("number", _text(f"{format_number(float(row['low']))} to {format_number(float(row['high']))}")),
                ("number", _text(baseline)),
                ("yes" if within else "no", "Yes" if within else "No"),
                ("", _text(row.get("source", ""))),
            ]
        )
        classes.append("" if within else "flagged")
    headers = ["Measure", "Unit", "Target", "Tolerance", "Accepted range", "Baseline (95% CI)", "Within?", "Source"]
    return _table(headers, rows, classes)


def _behaviour_table(run: RunData) -> str:
    """Each behaviour measure: the baseline with its CI, its target, tolerance and range, inside or not, source."""
    rows, classes = [], []
    for row in behaviour_table(run.summary, run.calibration).to_dict("records"):
        modelled = (f"{format_value(row['mean'], row['unit'])} ({format_value(row['ci_low'], row['unit'])} to "
                    f"{format_value(row['ci_high'], row['unit'])})")
        targeted = math.isfinite(row["target"])
        verdict = ("yes", "Inside") if row["within"] else ("no", "Outside")
        rows.append(
            [
                ("", _text(reader_label(row["measure"]))),
                ("", _text(row["unit"])),
                ("number", _text(modelled)),
                ("number", _text(format_number(row["target"]) if targeted else "–")),
                ("number", _text(_tolerance(row["tolerance_kind"], row["tolerance"]) if targeted else "")),
                ("number", _text(f"{format_number(row['low'])} to {format_number(row['high'])}" if targeted else "")),
                verdict if targeted else ("", "No target"),
                ("", _text(row["source"])),
            ]
        )
        classes.append("flagged" if targeted and not row["within"] else "")
    headers = ["Measure", "Unit", "Baseline (95% CI)", "Target", "Tolerance", "Accepted range", "Inside?", "Source"]
    return _table(headers, rows, classes)


def _behaviour_section(run: RunData, chart: Path | None, figure_number: int) -> str:
    """The baseline against the real system: the behaviour chart and its table; empty for a run without them."""
    table = behaviour_table(run.summary, run.calibration)
    if table.empty:
        return ""
    targeted = table[table["target"].notna()]
    inside = int(targeted["within"].astype(bool).sum())
    note = (
        "How the do-nothing baseline's services behave, not only their annual totals: acute discharges by day of "
        "the week, occupancy and waits by service, and delayed days by reason and by agency, each against the "
        f"scenario's calibration target where it sets one. {inside} of {len(targeted)} "
        f"{'target' if len(targeted) == 1 else 'targets'} are met. A measure without a target is shown for the "
        "reader to judge against local knowledge."
    )
    figure = _charts_section([chart], figure_number) if chart else ""
    return (f'<section><h2>The baseline against the real system</h2><p class="note">{_text(note)}</p>'
            f"{figure}{_behaviour_table(run)}</section>")


def _sampled_table(run: RunData) -> str:
    rows, classes = [], []
    for row in run.sampled.itertuples():
        flagged = _is_true(row.flag)
        rows.append(
            [
                ("", _text(row.distribution)),
                ("number", _text(format_number(float(row.configured_mean)))),
                ("number", _text(format_number(float(row.sampled_mean)))),
                ("number", _text(f"{int(row.n):,}")),
                ("number", _text(format_number(float(row.standard_error)))),
                ("number", _text(format_number(float(row.z)))),
                ("no" if flagged else "", "Check" if flagged else "OK"),
            ]
        )
        classes.append("flagged" if flagged else "")
    headers = ["Distribution", "Configured mean", "Sampled mean", "Draws", "Standard error", "z", "Flag"]
    return _table(headers, rows, classes)


def _parameter_value(value: object) -> str:
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def _assumptions_table(run: RunData) -> str:
    parameters = run.manifest.get("parameters_with_sources", [])
    ordered = sorted(parameters, key=lambda p: FLAG_ORDER.get(p.get("flag", ""), len(FLAG_ORDER)))
    rows = [
        [
            ("", f"<strong>{_text(FLAG_LABELS.get(p.get('flag', ''), p.get('flag', '')))}</strong>"),
            ("", _text(p.get("path", ""))),
            ("", _text(_parameter_value(p.get("value", "")))),
            ("", _text(p.get("source", ""))),
        ]
        for p in ordered
    ]
    classes = ["assumption" if p.get("flag") in ("assumption", "unsourced") else "" for p in ordered]
    return _table(["Kind", "Parameter", "Value", "Source"], rows, classes, "parameters")


def _plain_table(headers: list[str], rows: list[list[str]]) -> str:
    classes = {"inside": "yes", "outside": "no"}
    return _table(headers, [[(classes.get(str(cell), ""), _text(cell)) for cell in row] for row in rows])


def _tables_section(title: str, tables: list[tuple[str, str, tuple[list[str], list[list[str]]]]]) -> str:
    """A section of titled tables, each (subtitle, note, (headers, rows)); the first table's rows decide whether the
    section is shown at all, a later table is left out when it has no rows."""
    if not tables[0][2][1]:
        return ""
    parts = [f"<section><h2>{title}</h2>"]
    for index, (subtitle, note, (headers, rows)) in enumerate(tables):
        if rows:
            parts += ([f"<h3>{subtitle}</h3>"] if index else []) + [f'<p class="note">{note}</p>',
                                                                     _plain_table(headers, rows)]
    return "".join(parts) + "</section>"


def _money_section(run: RunData) -> str:
    """The money ledger by payer for both comparisons, and the share of the fund paid for performance at risk."""
    return _tables_section("Money by payer", [
        ("", "Pounds a year. Cash released leaves a budget: emergency admissions at the marginal rate of the "
             "non-elective tariff, A&amp;E attendances at tariff, acute beds only in whole 28-bed wards, care bought "
             "per person. Capacity freed is valued at average cost and releases no cash. Places a budget already "
             "pays for (rapid response, intermediate care, reablement) cost that budget, not their activity, so "
             "scheme-funded activity is counted once. money.csv has every item.", ledger_rows(run.run_dir)),
        ("The fund paid for performance", "The share of the pooled fund paid for meeting each metric's target, the "
         "chance the mix misses it (share of replications) and the money expected to go to other services as a "
         "result.", performance_rows(run.run_dir)),
    ])


def _evidence_section(run: RunData) -> str:
    """The evidence defaults and the planners' assumptions side by side, with the validation tables; empty for a
    run without them."""
    titles = {**(run.manifest.get("mix_titles") or {})}
    return _tables_section("Evidence defaults and the planners' assumptions", [
        ("", "Both mixes on the same baseline: the same people and the same random draws, so the differences "
             "between the columns are the effect sizes alone. Positive numbers are reductions.",
         side_by_side_rows(run.run_dir, titles)),
        ("Each effect against its evidence", "The size each effect was given (drawn once per replication, an input) "
         "and the size it realised on the people it acted on (measured in the simulation, where its scheme acts "
         "alone: a diversion's share of the patients it could take that were diverted; a ratio's outcome with the "
         "effect over the outcome without it, on the same draws), beside the evidence ledger's estimate and 95% CI.",
         effect_evidence_rows(run.run_dir)),
        ("The whole mix against external benchmarks", "Each mix's change against the baseline, paired, beside the "
         "plan's own target, Kent's ambition, the national 2015/16 outturn and published evaluations of comparable "
         "programmes; a count is scaled to this population.", benchmark_rows(run.run_dir, titles)),
    ])


def render_report(run: RunData, charts: list[Path]) -> str:
    """The whole report as one HTML string."""
    title = f"What the scheme mix buys: {run.mix_title}"
    subtitle = "" if run.manifest.get("title") == run.mix_title else run.manifest.get("title", "")
    meta = (
        f"Run {run.run_id}, finished {run.finished}; caresim {run.version}; {run.replication_count} paired "
        f"replications; seed {run.manifest.get('seed', 'not recorded')}. Report written {date.today():%d %B %Y}."
    )
    assumption_note = (
        f"{run.assumption_count} inputs are assumptions: judgements without direct local or published evidence. "
        "They are listed first and shaded, with any input that has no source. Results that depend on them "
        "should be read as 'if this is right'."
    )
    behaviour = next((png for png in charts if png.stem == BEHAVIOUR_CHART), None)
    charts = [png for png in charts if png.stem != BEHAVIOUR_CHART]
    sections = [
        f'<section class="first"><h1>{_text(title)}</h1>'
        + (f'<p class="subtitle">{_text(subtitle)}</p>' if subtitle else "")
        + f'<p class="meta">{_text(meta)}</p>'
        f'<h2>Summary</h2><p class="summary">{_text(summary_paragraph(run))}</p>'
        f"<h3>Headline results (per year)</h3>{_headline_table(run)}"
        '<p class="note">Changes are scheme mix minus baseline, paired replication by replication; negative '
        "changes are reductions, except savings, which are baseline minus mix. The range of likely outcomes is the "
        "2.5 to 97.5 percentiles of the change across replications, each drawing its own effect sizes; the "
        "precision of the mean is the 95% confidence interval of the average change. 'Same direction' means "
        "the range of likely outcomes excludes no change. Every measure is in summary.xlsx.</p></section>",
        _years_section(run),
        _money_section(run),
        f"<section><h2>Charts</h2>{_charts_section(charts)}</section>",
        _behaviour_section(run, behaviour, len(charts) + 1),
        _evidence_section(run),
        "<section><h2>Calibration: does the baseline look like the real system?</h2>"
        f"{_calibration_table(run)}"
        "<h2>Inputs against what the model sampled</h2>"
        '<p class="note">Each distribution\'s configured mean against the mean of the values the model drew. '
        "Flagged rows differ by more than chance would explain and should be checked.</p>"
        f"{_sampled_table(run)}</section>",
        f'<section><h2>Inputs and their sources</h2><p class="note">{_text(assumption_note)}</p>'
        f"{_assumptions_table(run)}</section>",
        '<section><h2>What the model does not capture</h2><ul class="caveats">'
        + "".join(f"<li>{_text(caveat)}</li>" for caveat in CAVEATS)
        + f"<li><strong>{_text(EVIDENCE_CAVEAT)}</strong></li></ul>"
        f"<footer>{_text(run.source_note)}; run {_text(run.run_id)}; git commit "
        f"{_text(run.manifest.get('git_commit', 'not recorded'))}.</footer></section>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en-GB"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_text(title)}</title><style>{STYLE}</style></head>"
        f"<body><main>{''.join(sections)}</main></body></html>\n"
    )


def write_report(run_dir: Path) -> Path:
    """Write `report.html` into a complete run folder; raises `IncompleteRunError` for any other status."""
    run = RunData.load(Path(run_dir))
    charts = make_all_charts(run)
    path = run.run_dir / "report.html"
    path.write_text(render_report(run, charts), encoding="utf-8")
    return path
