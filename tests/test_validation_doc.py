"""The generated documents: docs/sources.md from the scenario comments, and a run's validation document."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

import fake_run
from caresim.measures import REGISTRY, label_or_name
from caresim.outputs import behaviour
from caresim.outputs.sources_doc import write_sources_doc
from caresim.outputs.validation_doc import write_validation_doc
from caresim.run_folder import IncompleteRunError
from caresim.scenario.loading import load_scenario
from caresim.scenario.sources import parameter_sources
from conftest import ROOT, SKC
from fake_run import write_fake_run

# --- docs/sources.md -----------------------------------------------------------------------


def test_sources_doc_lists_every_number_of_skc_and_none_unsourced(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    out = write_sources_doc(Path("scenarios/skc_2015.yaml"), tmp_path / "sources.md")
    text = out.read_text(encoding="utf-8")
    rows = parameter_sources(SKC)
    assert rows and all(row["flag"] != "unsourced" for row in rows)
    listed = re.findall(r"^\| `([^`]+)` \| [^|]+ \| (\w+) \|", text, flags=re.M)
    assert [path for path, _ in listed] == [row["path"] for row in rows]
    assert {flag for _, flag in listed} <= {"seed", "public", "assumption", "calibrated", "target"}
    assert "unsourced" not in {flag for _, flag in listed}
    assert "Numbers without a source" not in text
    for section in ("## Population", "## Demand", "## Services", "## Schemes"):
        assert section in text
    assert "Sherrington" in text and "CD007491" in text and "PSSRU" in text
    assert "Generated from `scenarios/skc_2015.yaml`" in text
    assert str(ROOT) not in text


def test_sources_doc_lists_a_number_without_a_comment(tmp_path: Path) -> None:
    scenario = tmp_path / "bare.yaml"
    scenario.write_text("name: bare\ntitle: Bare\nrun:\n  days: 30\n", encoding="utf-8")
    text = write_sources_doc(scenario, tmp_path / "bare.md").read_text(encoding="utf-8")
    assert "| `run.days` | 30 | unsourced | (no comment) |" in text
    assert "## Numbers without a source\n\n- `run.days`" in text


# --- the validation document ---------------------------------------------------------------


@pytest.fixture(scope="module")
def skc_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic run folder, holding the SKC scenario as run, naming skc_2015.yaml as its file and
    recording its sources as a real run does."""
    run_dir = write_fake_run(tmp_path_factory.mktemp("skc") / "run")
    scenario = load_scenario(SKC)
    (run_dir / "scenario.yaml").write_text(
        yaml.safe_dump(scenario.model_dump(mode="json", by_alias=True), sort_keys=False), encoding="utf-8")
    manifest = json.loads((run_dir / "manifest.json").read_text())
    manifest.update(scenario="skc_2015", scenario_file="skc_2015.yaml", claimed_benefit_per_year=593_473.0,
                    parameters_with_sources=parameter_sources(SKC))
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    return run_dir


@pytest.fixture(scope="module")
def skc_doc(skc_run: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The validation document of the synthetic SKC run, written once for the tests that only read it."""
    return write_validation_doc(skc_run, tmp_path_factory.mktemp("doc") / "validation.md").read_text(encoding="utf-8")


def summary_value(run_dir: Path, world: str, measure: str) -> float:
    summary = pd.read_csv(run_dir / "summary.csv")
    return float(summary[(summary["world"] == world) & (summary["measure"] == measure)]["mean"].iloc[0])


def test_validation_doc_compares_the_baseline_with_every_target(skc_run: Path, skc_doc: str) -> None:
    text = skc_doc
    calibration = pd.read_csv(skc_run / "calibration.csv")
    section = text.split("## 1.")[1].split("## 2.")[0]
    for row in calibration.itertuples():
        assert f"| {label_or_name(row.measure)} |" in section
    assert f"meets {int(calibration['within'].sum())} of {len(calibration)} targets" in section
    assert "**no**" in section and "Outside tolerance: Delayed discharge days" in section
    assert "16,500 to 19,500" in section


def test_validation_doc_sets_each_effect_beside_its_evidence(skc_run: Path, skc_doc: str) -> None:
    text = skc_doc
    section = text.split("## 2.")[1].split("## 3.")[0]
    scenario = load_scenario(SKC)
    for name, scheme in scenario.schemes.items():
        assert section.count(f"| {name} |") == max(len(scheme.effects), 1)
    assert "the comments in `skc_2015.yaml`, as recorded in the run's manifest" in section
    falls = next(line for line in section.splitlines()
                 if line.startswith("| falls_prevention | fewer_falls_enrolled |"))
    assert "| 0.85 | 0.7 to 1.03 |" in falls and "Sherrington" in falls and falls.endswith("| falls exercise |")
    care_homes = next(line for line in section.splitlines()
                      if line.startswith("| care_homes_support | fewer_resident_crises |"))
    assert care_homes.endswith("| care-home support |")
    for family, phrase in (("Case management", "no significant change"), ("Falls exercise", "0.77"),
                           ("Care-home support", "Rushcliffe"), ("Hospital at home", "0.53")):
        paragraph = next(line for line in section.splitlines() if line.startswith(f"- **{family}.**"))
        assert phrase in paragraph and "Used here by" in paragraph


def test_validation_doc_reads_the_run_folder_only_wherever_it_runs(skc_run: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = write_validation_doc(skc_run, tmp_path / "validation.md").read_text(encoding="utf-8")
    assert "as recorded in the run's manifest" in text
    falls = next(line for line in text.splitlines()
                 if line.startswith("| falls_prevention | fewer_falls_enrolled |"))
    assert "| prevention |" in falls and "Sherrington" in falls


def test_validation_doc_sets_the_mix_beside_the_plan_and_the_nation(skc_run: Path, skc_doc: str) -> None:
    text = skc_doc
    section = text.split("## 3.")[1]
    money = pd.read_csv(skc_run / "money.csv")
    plan = money[money["comparison"] == money["comparison"].iloc[0]].set_index("kind")
    released = -plan.loc["total_cash", "mean"]
    assert re.search(rf"\| Benefits: cash released \| 593,473 \| {released:,.0f} \(range ", section)
    assert re.search(rf"\| Net cash cost \| \| {plan.loc['net_cash', 'mean']:,.0f} \(range ", section)
    assert "not with an admission count" in section and "266" not in section
    share = 200_400 / 54_800_000
    assert "200,400 of England's about 54.8 million" in section
    admissions = summary_value(skc_run, "difference", "emergency_admissions")
    assert (f"| Emergency admissions a year | -106,000 | +87,000 | {-106_000 * share:+,.0f} | "
            f"{87_000 * share:+,.0f} | {admissions:,.0f} (") in section
    assert f"| -293,000 | +185,000 | {-293_000 * share:+,.0f} | {185_000 * share:+,.0f} |" in section
    assert "| rapid_response | none stated |" in section
    assert f"| {REGISTRY['bcf_care_home_admissions_per_100k_65plus'].label} | 640 |" in section


def test_validation_doc_copes_with_a_run_without_schemes_or_population(tmp_path: Path) -> None:
    run_dir = write_fake_run(tmp_path / "run")
    text = write_validation_doc(run_dir, tmp_path / "validation.md").read_text(encoding="utf-8")
    assert "lists no schemes" in text and "cannot be scaled" in text
    assert f"| Benefits: cash released | {fake_run.CLAIMED_BENEFIT:,.0f} |" in text


def test_validation_doc_sets_the_baseline_s_behaviour_beside_its_targets(skc_run: Path, tmp_path: Path) -> None:
    out = write_validation_doc(skc_run, tmp_path / "docs" / "validation.md")
    section = out.read_text(encoding="utf-8").split("### How the baseline's services behave")[1].split("## 2.")[0]
    assert "(4 of 5 inside)" in section
    assert re.search(r"^!\[The baseline meets 4 of 5 targets[^\]\n]*\]\(validation-behaviour\.png\)$", section, re.M)
    assert (out.parent / "validation-behaviour.png").read_bytes() == (skc_run / "charts" / "behaviour.png").read_bytes()
    table = behaviour.behaviour_table(pd.read_csv(skc_run / "summary.csv"), pd.read_csv(skc_run / "calibration.csv"))
    lines = {line.split(" | ")[0].removeprefix("| "): line for line in section.splitlines() if line.startswith("| ")}
    for row in table.itertuples():
        line = lines[behaviour.reader_label(row.measure)]
        verdict = "no target" if pd.isna(row.target) else "yes" if row.within else "**no**"
        assert f"| {verdict} |" in line, line
    assert lines[behaviour.reader_label("reablement_wait_days")].endswith(
        "| 3.00 | ±1 | 2.00 to 4.00 | **no** | assumption: local reablement waiting list |")


def test_validation_doc_of_an_older_run_lists_the_behaviour_it_has(tmp_path: Path) -> None:
    run_dir = write_fake_run(tmp_path / "run", with_behaviour_measures=False)
    text = write_validation_doc(run_dir, tmp_path / "validation.md").read_text(encoding="utf-8")
    section = text.split("### How the baseline's services behave")[1].split("## 2.")[0]
    assert "| Acute occupancy | percent |" in section and "(2 of 2 inside)" in section
    assert "Monday" not in section and "(validation-behaviour.png)" in section


def test_validation_doc_refuses_an_incomplete_run(tmp_path: Path) -> None:
    run_dir = write_fake_run(tmp_path / "run", status="failed")
    with pytest.raises(IncompleteRunError):
        write_validation_doc(run_dir, tmp_path / "validation.md")
    assert not (tmp_path / "validation.md").exists()
