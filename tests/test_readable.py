"""No identifier where a person reads: the terminal output of `caresim run` in 80 columns, every chart's text and the
report's headings and row labels use measure labels and scheme and mix titles; only file names and paths may keep
their underscores."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import pytest
from rich.console import Console
from typer.testing import CliRunner

from caresim import cli
from caresim.outputs.charts import make_all_charts
from caresim.outputs.run_data import RunData
from conftest import ROOT
from fake_run import write_fake_run

IDENTIFIER = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
PATH = re.compile(r"\S*/\S*|\S+\.(?:yaml|csv|parquet|png|svg|txt|xlsx|html|md|json|docx)\b")
WIDTH = 80


def identifiers(text: str) -> list[str]:
    """The snake_case identifiers in a text, leaving out file names and paths."""
    return IDENTIFIER.findall(PATH.sub(" ", text))


def chart_texts(charts: Path) -> dict[str, list[str]]:
    """Every text of every chart in a folder (titles, axis and tick labels, legends, footnotes), read from its SVG,
    where the house style keeps text as text; keyed by the chart's PNG."""
    return {svg.with_suffix(".png").name: ["".join(element.itertext()) for element in ElementTree.parse(svg).iter()
                                           if element.tag.endswith("}text")]
            for svg in sorted(charts.glob("*.svg"))}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, dict[str, list[str]]]:
    """`caresim run` of a short SKC scenario (with the planners' assumptions compared) on an 80-column console:
    its output, run folder and chart texts."""
    tmp = tmp_path_factory.mktemp("readable")
    scenario = tmp / "skc_short.yaml"
    scenario.write_text(f"extends: {ROOT / 'scenarios' / 'skc_2015.yaml'}\nname: skc_short\n"
                        "run: {days: 30, warm_up_days: 5}\n", encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cli, "console", Console(width=WIDTH))
        result = CliRunner().invoke(cli.app, ["run", str(scenario), "--replications", "2", "--serial", "--out",
                                              str(tmp / "outputs")])
    assert result.exit_code == 0, result.output
    (folder,) = (tmp / "outputs" / "skc_short").iterdir()
    return result.output, folder, chart_texts(folder / "charts")


def test_the_terminal_output_names_measures_schemes_and_mixes_and_fits_80_columns(run) -> None:
    output, _, _ = run
    assert "Emergency admissions avoided" in output and "Falls prevention" in output
    assert identifiers(output) == []
    wide = [line for line in output.splitlines() if len(line) > WIDTH]
    assert wide == []


def test_every_chart_names_what_it_shows(run, tmp_path: Path) -> None:
    """The charts of the short run, and of a synthetic run folder with the charts a short run does not draw
    (mixes compared, one-at-a-time sensitivity)."""
    _, _, texts = run
    synthetic = RunData.load(write_fake_run(tmp_path / "run"))
    make_all_charts(synthetic)
    texts = {**texts, **{f"synthetic {name}": lines for name, lines in chart_texts(synthetic.charts_dir).items()}}
    assert {"admissions_waterfall.png", "synthetic mixes_plane.png", "synthetic sensitivity_tornado.png"} <= set(texts)
    assert [name for name, lines in texts.items() if len(lines) < 10] == []  # each drawn in the house style
    found = {name: found for name, lines in texts.items() if (found := identifiers("\n".join(lines)))}
    assert found == {}


class Headings(HTMLParser):
    """The text a reader scans first: the title, headings, table headers, captions and each row's first cell."""

    READ = {"title", "h1", "h2", "h3", "th", "caption", "figcaption"}

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.first_cell = False
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open.append(tag)
        if tag == "tr":
            self.first_cell = True

    def handle_endtag(self, tag: str) -> None:
        while self.open and self.open.pop() != tag:
            pass
        if tag == "td":
            self.first_cell = False

    def handle_data(self, data: str) -> None:
        if self.READ & set(self.open) or (self.first_cell and "td" in self.open):
            self.texts.append(data)


def test_the_report_headings_and_row_labels_name_what_they_show(run) -> None:
    _, folder, _ = run
    headings = Headings()
    headings.feed((folder / "report.html").read_text(encoding="utf-8"))
    assert "Each effect against its evidence" in headings.texts
    assert [text for text in headings.texts if identifiers(text)] == []
