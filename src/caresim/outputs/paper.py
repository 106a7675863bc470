"""A finished run as a Word document in the shape of a Health and Wellbeing Board paper.

Read from the run folder only. The document uses Word's built-in styles (Title, Heading 1 and 2, Table Grid,
Caption, List Bullet), so a council restyles it in Word or by giving a reference document whose styles are used.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
from docx import Document
from docx.document import Document as WordDocument
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from caresim.outputs.chart_style import format_money, format_number, in_sentence, label
from caresim.outputs.charts import ADMISSIONS, make_all_charts
from caresim.outputs.money_tables import ledger_rows, performance_rows
from caresim.outputs.report import (
    CAVEATS,
    CHART_HEADINGS,
    EVIDENCE_CAVEAT,
    FLAG_LABELS,
    headline_rows,
    summary_paragraph,
)
from caresim.outputs.run_data import DIFFERENCE, RunData
from caresim.run_folder import NET_CASH

SECTIONS = (
    "Purpose",
    "Summary",
    "Options for the board",
    "What the model shows",
    "Financial implications by payer",
    "Risks and uncertainty",
    "Charts",
    "Appendix A: assumptions and their sources",
    "Appendix B: validation",
)
TOP_INPUTS = 5
A4 = (Cm(21), Cm(29.7))
MARGIN = Cm(2)
TEXT_WIDTH = A4[0] - 2 * MARGIN
CELL_PADDING = Cm(0.4)  # Word's default left and right cell margins, 0.19 cm each
PICTURE_WIDTH = Cm(16)
ASSUMPTION = "assumption"
NO_ENTRY = "none"  # effect_evidence.csv's evidence_kind for an effect without an evidence ledger entry


def _blank_document(reference: Path | None) -> WordDocument:
    """Word's default document, or the reference document with its body emptied (its styles and page set-up kept)."""
    if reference is None:
        document = Document()
        section = document.sections[0]
        section.page_width, section.page_height = A4
        for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
            setattr(section, side, MARGIN)
        return document
    document = Document(str(reference))
    body = document.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)
    return document


def _style(document: WordDocument, name: str, kind: WD_STYLE_TYPE = WD_STYLE_TYPE.PARAGRAPH) -> str:
    """A built-in style's name, added to the document when a reference document lacks it."""
    if name not in [style.name for style in document.styles]:
        document.styles.add_style(name, kind)
    return name


TABLE_TEXT = "Table Text"  # the paragraph style of table cells: a reference document may define its own


def _table_text(document: WordDocument) -> str:
    """The style of table cells, added (Normal at 8.5 pt, so a headline table fits A4) when the document lacks it."""
    if TABLE_TEXT not in [style.name for style in document.styles]:
        style = document.styles.add_style(TABLE_TEXT, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = document.styles["Normal"]
        style.font.size = Pt(8.5)
        style.paragraph_format.space_after = Pt(0)
    return TABLE_TEXT


def _column_widths(headers: list[str], rows: list[list[str]]) -> list[int]:
    """Each column's width: the cell padding, and a share of the rest by its longest word, so no word is
    broken, or for the first column (the labels) by its typical text, so labels wrap on few lines."""
    weights = []
    for i, column in enumerate(zip(headers, *rows, strict=True)):
        texts = [str(text) for text in column]
        weight = max([len(word) for text in texts[1:] for word in text.split()]
                     + [len(word) + 1 for word in texts[0].split()])  # the header is bold, so wider
        if i == 0:
            weight = max(weight, min(sorted(len(text) for text in texts)[len(texts) // 2], 20))
        weights.append(weight + 1)
    rest = TEXT_WIDTH - len(weights) * CELL_PADDING
    return [int(CELL_PADDING + rest * weight / sum(weights)) for weight in weights]


def _table(document: WordDocument, headers: list[str], rows: list[list[str]]) -> None:
    table = document.add_table(rows=1, cols=len(headers), style=_style(document, "Table Grid", WD_STYLE_TYPE.TABLE))
    table.autofit = False
    text = _table_text(document)
    for cell, header in zip(table.rows[0].cells, headers, strict=True):
        cell.paragraphs[0].style = text
        cell.paragraphs[0].add_run(header).bold = True
    for row in rows:
        for cell, value in zip(table.add_row().cells, row, strict=True):
            cell.paragraphs[0].style = text
            cell.paragraphs[0].add_run(str(value))
    for column, width in zip(table.columns, _column_widths(headers, rows), strict=True):
        column.width = width  # the grid, which LibreOffice reads, and each cell, which Word reads
        for cell in column.cells:
            cell.width = width


def _note(document: WordDocument, text: str) -> None:
    document.add_paragraph(text, style=_style(document, "Caption"))


def _bullets(document: WordDocument, items: list[str]) -> None:
    for item in items:
        document.add_paragraph(item, style=_style(document, "List Bullet"))


def _evidence_of_effects(run: RunData) -> tuple[list[str], list[str], str]:
    """The main mix's schemes with no effect resting on an assumption, those with one, and a count of its effects by
    the kind of evidence behind them (effect_evidence.csv; empty when the run folder lacks it)."""
    path = run.run_dir / "effect_evidence.csv"
    if not path.exists():
        return [], [], ""
    table = pd.read_csv(path)
    table = table[table["mix"] == run.mix_name]
    assumed = set(table[table["evidence_kind"] == ASSUMPTION]["scheme"])
    titles = {scheme: run.scheme_title(scheme) or scheme for scheme in dict.fromkeys(table["scheme"])}
    kinds = table["evidence_kind"].fillna(NO_ENTRY).replace({NO_ENTRY: "no evidence entry"}).value_counts()
    counts = ", ".join(f"{count} {kind}" for kind, count in kinds.items())
    return ([title for scheme, title in titles.items() if scheme not in assumed],
            [title for scheme, title in titles.items() if scheme in assumed],
            f"Of the mix's {len(table)} effects, by the evidence behind them: {counts}")


def _options(run: RunData) -> list[str]:
    """Three options worded from the run's numbers; the board weighs them, the paper does not choose."""
    admissions = run.estimate(DIFFERENCE, ADMISSIONS).reduction() if run.has_measure(DIFFERENCE, ADMISSIONS) else None
    comparisons = run.money_comparisons()
    fund = f"Fund the mix as planned: {run.mix_title}."
    if admissions is not None:
        fund += (f" The model's central estimate is {format_number(admissions.mean)} emergency admissions avoided a "
                 f"year (range of likely outcomes {format_number(admissions.outcome_low)} to "
                 f"{format_number(admissions.outcome_high)}).")
    if comparisons:
        net, share = run.money_total(comparisons[0], NET_CASH)
        fund += (f" Its net cash cost is {format_money(net.mean)} a year; cash released exceeds the cost in "
                 f"{share:.0%} of replications.")
    supported, assumed, evidence = _evidence_of_effects(run)
    only = "Fund only the schemes whose effects the evidence supports."
    if evidence:
        only += (f" Schemes with no effect resting on an assumption: {', '.join(supported) or 'none'}. Schemes with "
                 f"at least one assumed effect: {', '.join(assumed) or 'none'}. The model can be re-run with this "
                 "smaller mix before a decision.")
    defer = "Defer the decision pending a local evaluation of the schemes' effects. " + (
        evidence or f"{run.assumption_count} of the model's inputs are assumptions rather than evidence")
    if admissions is not None and not admissions.outcomes_exclude_zero():
        defer += ", and the range of likely outcomes for emergency admissions includes no change"
    return [fund, only, defer + "."]


def _top_inputs(run: RunData) -> list[str]:
    """The effects whose uncertainty moves the headline most (tornado.csv), strongest first."""
    if run.tornado is None or run.tornado.empty:
        return []
    table = run.tornado.assign(strength=run.tornado["correlation"].abs()).sort_values("strength", ascending=False)
    return [f"{run.scheme_title(str(r.scheme)) or r.scheme}, {in_sentence(label(str(r.effect)))}: correlation "
            f"{float(r.correlation):+.2f} with {in_sentence(label(str(r.measure)))} ({r.method}, {int(r.n)} draws)"
            for r in table.head(TOP_INPUTS).itertuples()]


def _risks(document: WordDocument, run: RunData) -> None:
    draws = run.manifest.get("draws") or {}
    if draws:
        document.add_paragraph(f"How many draws: {draws['rule']}; {draws['draws']} draws, {draws['stopped']}.")
    else:
        document.add_paragraph(f"The results rest on {run.replication_count} paired replications.")
    top = _top_inputs(run)
    if top:
        document.add_heading("The inputs that matter most", level=2)
        _bullets(document, top)
    document.add_heading("What the model does not capture", level=2)
    _bullets(document, [*CAVEATS, EVIDENCE_CAVEAT])


def _charts(run: RunData) -> list[Path]:
    """The run's chart PNGs (each with its alt text beside it), drawn first when the folder has none."""
    pngs = sorted(run.charts_dir.glob("*.png")) if run.charts_dir.exists() else []
    if not pngs:
        pngs = make_all_charts(run)
    order = list(CHART_HEADINGS)
    return sorted((png for png in pngs if png.with_suffix(".txt").exists()),
                  key=lambda png: order.index(png.stem) if png.stem in order else len(order))


def _add_chart(document: WordDocument, png: Path, number: int) -> None:
    """The chart with its alt text as the picture's description (docPr descr) and as its caption."""
    alt_text = png.with_suffix(".txt").read_text(encoding="utf-8").strip()
    heading = CHART_HEADINGS.get(png.stem, label(png.stem))
    document.add_heading(f"Figure {number}. {heading}", level=2)
    picture = document.add_picture(str(png), width=PICTURE_WIDTH)
    doc_pr = picture._inline.docPr
    doc_pr.set("descr", alt_text)
    doc_pr.set("title", heading)
    _note(document, f"Figure {number}. {alt_text}")


def _assumption_rows(run: RunData) -> list[list[str]]:
    parameters = run.manifest.get("parameters_with_sources", [])
    return [[str(p.get("path", "")), str(p.get("value", "")), str(p.get("source", ""))]
            for p in parameters if p.get("flag") == ASSUMPTION]


def _calibration_rows(run: RunData) -> list[list[str]]:
    return [[label(str(r["measure"])), format_number(float(r["target"])), format_number(float(r["baseline_mean"])),
             "Yes" if str(r["within"]).strip().lower() in {"true", "1", "yes"} else "No"]
            for r in run.calibration.to_dict("records")]


def render_paper(run: RunData, reference: Path | None = None) -> WordDocument:
    """The whole board paper as a python-docx Document."""
    document = _blank_document(reference)
    document.add_heading(f"What the scheme mix buys: {run.mix_title}", level=0)
    _note(document, f"Run {run.run_id}, finished {run.finished}; caresim {run.version}; {run.replication_count} "
                    f"paired replications. Paper written {date.today():%d %B %Y}.")
    purpose, summary, options, shows, money, risks, charts, assumptions, validation = SECTIONS
    document.add_heading(purpose, level=1)
    document.add_paragraph(
        "To set out for the Health and Wellbeing Board what a simulation of the local health and care system "
        f"suggests the Better Care Fund scheme mix ({run.mix_title}) would buy, what it would cost each payer, and "
        "how uncertain those results are, so the board can weigh the options below.")
    document.add_heading(summary, level=1)
    document.add_paragraph(summary_paragraph(run))
    document.add_heading(options, level=1)
    document.add_paragraph("The options follow from the model's numbers; the paper does not recommend one.")
    _bullets(document, [f"Option {n}: {text}" for n, text in enumerate(_options(run), start=1)])
    document.add_heading(shows, level=1)
    _table(document, *headline_rows(run))
    _note(document, "Per year. Changes are scheme mix minus baseline, paired replication by replication. The range of "
                    "likely outcomes is the 2.5 to 97.5 percentiles of the change across replications; the precision "
                    "of the mean is the 95% confidence interval of the average change.")
    document.add_heading(money, level=1)
    for headers, rows in (ledger_rows(run.run_dir), performance_rows(run.run_dir)):
        if rows:
            _table(document, headers, rows)
            document.add_paragraph()
    _note(document, "Pounds a year. Cash released leaves a budget; capacity freed is valued at average cost and "
                    "releases no cash. money.csv in the run folder has every item.")
    document.add_heading(risks, level=1)
    _risks(document, run)
    document.add_heading(charts, level=1)
    for number, png in enumerate(_charts(run), start=1):
        _add_chart(document, png, number)
    document.add_heading(assumptions, level=1)
    document.add_paragraph(f"{run.assumption_count} inputs are assumptions: judgements without direct local or "
                           "published evidence. Results that depend on them read as 'if this is right'.")
    _table(document, ["Parameter", "Value", f"Source ({FLAG_LABELS[ASSUMPTION].lower()})"], _assumption_rows(run))
    document.add_heading(validation, level=1)
    document.add_paragraph("Does the do-nothing baseline look like the real system? Each calibration target against "
                           "the baseline's mean.")
    _table(document, ["Measure", "Target", "Baseline", "Within?"], _calibration_rows(run))
    _note(document, f"{run.source_note}; run {run.run_id}.")
    return document


def write_paper(run_dir: Path, out: Path | None = None, reference: Path | None = None) -> Path:
    """Write the board paper (`paper.docx` in the run folder unless `out`); raises `IncompleteRunError` for a run
    folder that is not complete and FileNotFoundError for a missing reference document."""
    run = RunData.load(Path(run_dir))
    if reference is not None and not Path(reference).is_file():
        raise FileNotFoundError(f"no reference document {reference}")
    path = Path(out) if out is not None else run.run_dir / "paper.docx"
    render_paper(run, reference).save(str(path))
    return path
