"""The Word board paper: read back with python-docx, its sections, numbers, charts and styles checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from docx import Document
from docx.shared import Pt, RGBColor
from typer.testing import CliRunner

from caresim.cli import app
from caresim.measures import HEADLINE
from caresim.outputs.chart_style import format_value, label
from caresim.outputs.paper import SECTIONS, TABLE_TEXT, TEXT_WIDTH, write_paper
from caresim.outputs.run_data import DIFFERENCE, RunData
from fake_run import write_fake_run

runner = CliRunner()
DXA = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fake_run(tmp_path_factory.mktemp("paper") / "run")


@pytest.fixture(scope="module")
def paper(run_dir: Path):
    result = runner.invoke(app, ["paper", str(run_dir)])
    assert result.exit_code == 0, result.output
    return Document(str(run_dir / "paper.docx"))


def _headings(document) -> list[str]:
    return [p.text for p in document.paragraphs if p.style.name == "Heading 1"]


def _table_with(document, header: str):
    return next(t for t in document.tables if header in [c.text for c in t.rows[0].cells])


def test_every_section_heading_is_present_in_built_in_styles(paper) -> None:
    assert _headings(paper) == list(SECTIONS)
    assert all(table.style.name == "Table Grid" for table in paper.tables)


def test_headline_numbers_equal_summary_csv(paper, run_dir: Path) -> None:
    run = RunData.load(run_dir)
    table = _table_with(paper, "Range of likely outcomes (95%)")
    rows = {row.cells[0].text: [c.text for c in row.cells] for row in table.rows[1:]}
    measures = [m for m in HEADLINE if run.has_measure(DIFFERENCE, m)]
    assert len(rows) == len(measures) > 3
    summary = run.summary[run.summary["world"] == DIFFERENCE].set_index("measure")
    for measure in measures:
        row, unit, cells = summary.loc[measure], run.estimate(DIFFERENCE, measure).unit, rows[label(measure)]
        assert cells[4] == format_value(row["mean"], unit)
        assert cells[5] == f"{format_value(row['outcome_low'], unit)} to {format_value(row['outcome_high'], unit)}"
        assert cells[6] == f"{format_value(row['ci_low'], unit)} to {format_value(row['ci_high'], unit)}"


def test_tables_fit_the_page_in_their_own_style_and_no_number_is_broken(paper) -> None:
    table = _table_with(paper, "Range of likely outcomes (95%)")
    widths = [column.width for column in table.columns]
    assert sum(widths) <= TEXT_WIDTH
    assert {p.style.name for row in table.rows for cell in row.cells for p in cell.paragraphs} == {TABLE_TEXT}
    for i, column in enumerate(table.columns):  # the widest number gets at least its characters' width at 8.5 pt
        longest = max(len(word) for cell in column.cells[1:] for word in cell.text.split())
        assert widths[i] >= longest * Pt(8.5) * 0.55, (table.rows[0].cells[i].text, widths[i], longest)


def test_money_tables_are_present(paper) -> None:
    ledger = _table_with(paper, "Cash released")
    assert [c.text for c in ledger.rows[0].cells][:2] == ["Comparison", "Payer"]
    assert len(ledger.rows) > 2


def test_every_chart_is_embedded_with_its_alt_text(paper, run_dir: Path) -> None:
    alt_texts = {png.with_suffix(".txt").read_text(encoding="utf-8").strip() for png in
                 (run_dir / "charts").glob("*.png")}
    assert alt_texts
    descriptions = [d.get("descr") for d in paper.element.body.iter(DXA)]
    assert sorted(descriptions) == sorted(alt_texts)
    captions = " ".join(p.text for p in paper.paragraphs if p.style.name == "Caption")
    assert all(text in captions for text in alt_texts)


def test_a_reference_documents_styles_are_used(run_dir: Path, tmp_path: Path) -> None:
    reference = Document()
    reference.styles["Heading 1"].font.color.rgb = RGBColor(0x8B, 0x00, 0x45)
    reference.add_paragraph("Council template text that must not reach the paper")
    reference.save(str(tmp_path / "council.docx"))
    out = tmp_path / "styled.docx"
    result = runner.invoke(app, ["paper", str(run_dir), "--reference", str(tmp_path / "council.docx"),
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    styled = Document(str(out))
    assert styled.styles["Heading 1"].font.color.rgb == RGBColor(0x8B, 0x00, 0x45)
    assert "Council template text" not in " ".join(p.text for p in styled.paragraphs)
    assert _headings(styled) == list(SECTIONS)


def test_an_incomplete_run_folder_exits_2(tmp_path: Path) -> None:
    folder = write_fake_run(tmp_path / "partial", status="running")
    result = runner.invoke(app, ["paper", str(folder)])
    assert result.exit_code == 2
    assert "caresim:" in result.output
    assert not (folder / "paper.docx").exists()


def test_write_paper_honours_out(run_dir: Path, tmp_path: Path) -> None:
    assert write_paper(run_dir, tmp_path / "board.docx") == tmp_path / "board.docx"
