"""The HTML report and the workbook: self-contained, faithful to the run folder, and only for complete runs."""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib.image
import numpy as np
import pandas as pd
import pytest

import fake_run
from caresim.outputs import behaviour
from caresim.outputs.report import render_report, write_report
from caresim.outputs.run_data import RunData
from caresim.outputs.workbook import write_workbook
from caresim.run_folder import IncompleteRunError
from fake_run import write_fake_run

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fake_run(tmp_path_factory.mktemp("report") / "run")


@pytest.fixture(scope="module")
def report(run_dir: Path) -> Path:
    return write_report(run_dir)


def test_report_is_one_self_contained_file(report: Path) -> None:
    text = report.read_text(encoding="utf-8")
    assert report.name == "report.html"
    for forbidden in ("http://", "https://", 'src="//', "<link", "<script", "@import", "url("):
        assert forbidden not in text, forbidden
    sources = re.findall(r'<img src="([^"]+)"', text)
    assert len(sources) == 10
    assert all(source.startswith("data:image/png;base64,") for source in sources)


def test_every_chart_carries_its_alt_text(report: Path) -> None:
    alts = {html.unescape(alt) for alt in re.findall(r'alt="([^"]*)"', report.read_text(encoding="utf-8"))}
    for alt_file in sorted((report.parent / "charts").glob("*.txt")):
        assert alt_file.read_text(encoding="utf-8").strip() in alts, alt_file.name


def test_summary_states_what_the_mix_buys_and_the_claim(report: Path) -> None:
    text = html.unescape(report.read_text(encoding="utf-8"))
    assert f"the scheme mix ({fake_run.MIX_TITLE}) avoids" in text
    assert "The plan claims a benefit of £3.0m a year" in text
    assert "paired replications" in text
    assert "Stokes et al., PLoS One, 2015" in text
    assert "National Audit Office, Health and social care integration, 2017" in text
    assert "106,000 fewer emergency admissions" in text and "87,000 more" in text


def test_money_by_payer_shows_cash_and_capacity_for_both_comparisons_and_the_fund_at_risk(report: Path) -> None:
    text = html.unescape(report.read_text(encoding="utf-8"))
    section = text.split("<h2>Money by payer</h2>")[1].split("</section>")[0]
    for comparison in fake_run.MONEY:
        assert f"<td>{comparison}</td><td>CCG, acute</td>" in section
    assert section.count("All payers (range of likely outcomes)") == len(fake_run.MONEY)
    assert "net cash cost £" in section and "of replications" in section
    assert "<td>5.0%</td><td>£250k</td><td>1,700.0</td><td>40%</td><td>£100k</td>" in section
    assert "<td>none set in the plan</td><td>–</td>" in section


def test_assumptions_are_listed_first_and_flagged(report: Path) -> None:
    text = report.read_text(encoding="utf-8")
    table = text[text.index("<h2>Inputs and their sources</h2>") :]
    kinds = re.findall(r"<tr(?: class=\"(\w+)\")?><td><strong>([^<]+)</strong>", table)
    assert [kind for _, kind in kinds][:2] == ["Assumption", "Assumption"]
    assert kinds[0][0] == "assumption"
    assert "council rate &lt;estimate&gt; &amp; uplift" in table


def test_calibration_and_sampled_tables_highlight_problems(report: Path, run_dir: Path) -> None:
    text = report.read_text(encoding="utf-8")
    calibration = text[text.index("Calibration: does the baseline") : text.index("Inputs against what the model")]
    within = pd.read_csv(run_dir / "calibration.csv")["within"]
    assert calibration.count('<td class="no">No</td>') == (~within).sum() == 2
    assert calibration.count('<td class="yes">Yes</td>') == within.sum()
    assert "±1,500" in calibration and "±5%" in calibration
    sampled = text[text.index("Inputs against what the model") : text.index("Inputs and their sources")]
    assert sampled.count('<tr class="flagged">') == 1


def _behaviour_section(report: Path) -> str:
    text = report.read_text(encoding="utf-8")
    start = text.index("<h2>The baseline against the real system</h2>")
    return html.unescape(text[start : text.index("</section>", start)])


def test_behaviour_section_sets_each_measure_against_its_target(report: Path, run_dir: Path) -> None:
    section = _behaviour_section(report)
    assert "Figure 10. The baseline's services against their targets" in section
    assert 'alt="The baseline meets 4 of 5 targets for how services behave' in section
    rows = re.findall(r"<tr(?: class=\"(\w+)\")?><td>([^<]+)</td>(.*?)</tr>", section)
    assert len(rows) == len(behaviour.behaviour_table(pd.read_csv(run_dir / "summary.csv"), None)) == 25
    verdicts = {name: re.findall(r">(Inside|Outside|No target)<", cells)[0] for _, name, cells in rows}
    targets = {measure for measure, *_ in fake_run.BEHAVIOUR_TARGETS}
    assert {name for name, verdict in verdicts.items() if verdict != "No target"} == {
        behaviour.reader_label(measure) for measure in targets}
    outside = [(css, name) for css, name, cells in rows if ">Outside<" in cells]
    assert outside == [("flagged", behaviour.reader_label("reablement_wait_days"))]
    nhs = next(cells for _, name, cells in rows if name == "Delayed days attributed to the NHS (share)")
    assert "±15%" in nhs and "51 to 69" in nhs and "ADASS September 2015" in nhs and "55 (54.6 to 55.4)" in nhs
    assert "_percent" not in section and "_days<" not in section


@pytest.mark.slow
def test_report_of_an_older_run_keeps_the_behaviour_it_has(tmp_path: Path) -> None:
    section = _behaviour_section(write_report(write_fake_run(tmp_path / "run", with_behaviour_measures=False)))
    assert "Acute occupancy" in section and "Delayed days attributed to social care (share)" in section
    assert "Monday" not in section and "Mean wait" not in section
    assert "Figure 10." in section


def test_an_analyst_restyles_the_report_with_a_template_and_a_logo(run_dir: Path, tmp_path: Path) -> None:
    """A template beside the analyst's files extends caresim's, adds to its house style and replaces its footer;
    the logo is embedded, so the report stays self-contained."""
    template = tmp_path / "house.html.j2"
    template.write_text('{% extends "caresim/report.html.j2" %}{% block house_style %}{{ super() }} h2 { color: '
                        "#005EB8; }{% endblock %}{% block footer %}<footer>Kent Analytics {{ footer }}</footer>"
                        "{% endblock %}", encoding="utf-8")
    logo = tmp_path / "logo.png"
    matplotlib.image.imsave(logo, np.zeros((4, 8, 3)))
    text = render_report(RunData.load(run_dir), [], template, logo)
    assert "border-bottom: 2px solid #0072B2" in text and "h2 { color: #005EB8; }" in text
    assert "<footer>Kent Analytics Source: caresim" in text and "<h2>Money by payer</h2>" in text
    assert re.findall(r'<img class="logo" src="([^"]+)"', text) == [
        "data:image/png;base64," + base64.b64encode(logo.read_bytes()).decode("ascii")]
    assert not any(forbidden in text for forbidden in ("http://", "https://", "<link", "<script", "url("))
    with pytest.raises(ValueError, match="PNG, JPEG, GIF or SVG"):
        render_report(RunData.load(run_dir), [], logo=template)


def test_report_refuses_a_failed_run(tmp_path: Path) -> None:
    folder = write_fake_run(tmp_path / "run", status="failed")
    with pytest.raises(IncompleteRunError):
        write_report(folder)
    assert not (folder / "report.html").exists()


def test_workbook_holds_the_run_tables_as_numbers(run_dir: Path) -> None:
    path = write_workbook(run_dir)
    sheets = pd.read_excel(path, sheet_name=None)
    assert list(sheets) == ["Summary", "Attribution", "Calibration", "Sampled", "Comparison", "About"]
    pd.testing.assert_frame_equal(sheets["Summary"].drop(columns=["label", "world title"]),
                                  pd.read_csv(run_dir / "summary.csv"))
    pd.testing.assert_frame_equal(sheets["Comparison"].drop(columns=["label", "mix title"]),
                                  pd.read_csv(run_dir / "comparison.csv"), check_dtype=False)
    assert sheets["Summary"].set_index("measure").loc["emergency_admissions", "label"].iloc[0] == "Emergency admissions"
    assert set(sheets["Comparison"]["mix title"]) == {fake_run.MIX_TITLE, "Rapid response alone", "Discharge focus"}
    assert pd.api.types.is_float_dtype(sheets["Summary"]["mean"])
    about = sheets["About"].set_index("item")["value"]
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert about["replications"] == fake_run.REPLICATIONS
    assert about["seed"] == manifest["seed"]
    assert about["run id"] == manifest["run_id"]
    assert about["caresim version"] == manifest["caresim_version"]


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install chromium)")
def test_report_renders_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    screenshot = tmp_path / "page.png"
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={screenshot}",
        "--window-size=1240,1754",
        "--enable-logging=stderr",
        "--v=0",
        report.resolve().as_uri(),
    ]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert screenshot.exists() and screenshot.stat().st_size > 20_000
    pixels = matplotlib.image.imread(screenshot)[..., :3]
    assert pixels.shape[:2] == (1754, 1240)
    assert np.mean(pixels < 0.9) > 0.02, "the page should not be blank"
    for error in ("Uncaught", "ERR_FILE_NOT_FOUND", "net::"):
        assert error not in finished.stderr, error
