"""The Kent scheme library, `include:` of library files, and the North Kent example built on them."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from caresim.cli import app
from caresim.experiment.plan import make_plan
from caresim.scenario.loading import load_scenario, resolve, validate
from caresim.scenario.problems import Problem, ScenarioError
from caresim.scenario.schema import Scenario
from caresim.scenario.schemes import Scheme
from caresim.scenario.yaml_source import read_yaml
from conftest import ROOT, SKC, write

LIBRARY = ROOT / "scenarios" / "library" / "kent_schemes.yaml"
EXAMPLE = ROOT / "scenarios" / "examples" / "north_kent_2015.yaml"
AREAS = ("kent_", "thanet_", "canterbury_coastal_", "ashford_", "north_kent_", "west_kent_")


def problems_loading(path: Path) -> list[Problem]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return caught.value.problems


def skc_reference(folder: Path) -> str:
    """The SKC scenario as a path relative to `folder`, as a scenario file would write it."""
    return Path(os.path.relpath(SKC, folder)).as_posix()


def leaves(value: object, path: tuple = ()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))
    else:
        yield path, value


# --- the library ---------------------------------------------------------------------------


def test_library_loads_with_every_area() -> None:
    data, _ = read_yaml(LIBRARY)
    assert list(data) == ["schemes"]
    names = list(data["schemes"])
    assert len(names) >= 50
    for prefix in AREAS:
        assert any(name.startswith(prefix) for name in names), prefix
    assert all(re.fullmatch(r"[a-z0-9_]+", name) and name.startswith(AREAS) for name in names)


def test_every_library_scheme_validates_alone_and_in_a_scenario() -> None:
    data, source_map = read_yaml(LIBRARY)
    for name, scheme in data["schemes"].items():
        model = Scheme.model_validate(scheme)
        assert model.title and model.lead_provider and model.source.startswith("seed: "), name
    skc, skc_map = resolve(SKC)
    scenario = validate(Scenario, {**skc, "schemes": data["schemes"], "mix": None}, skc_map)
    assert set(scenario.schemes) == set(data["schemes"])


def test_every_library_number_has_a_flagged_comment_on_its_line() -> None:
    data, source_map = read_yaml(LIBRARY)
    lines = LIBRARY.read_text(encoding="utf-8").splitlines()
    missing = []
    for path, value in leaves(data):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        line = lines[source_map.values[path].line - 1]
        comment = re.search(r"\s#\s*(\w+)", line)
        if comment is None or comment.group(1) not in ("seed", "public", "assumption"):
            missing.append(path)
    assert missing == []


def test_enablers_have_no_effects_and_costs_follow_the_seed() -> None:
    schemes = read_yaml(LIBRARY)[0]["schemes"]
    for enabler in ("kent_shared_information", "north_kent_it_integration", "west_kent_data_sharing"):
        assert schemes[enabler]["effects"] == []
    assert schemes["kent_return_to_community"]["cost"]["recurrent_per_year"] == 16_153_000
    assert schemes["west_kent_reactive_care"]["cost"]["recurrent_per_year"] == 11_747_000
    assert schemes["north_kent_integrated_discharge_teams"]["cost"]["non_recurrent"] == 4_156_318
    assert schemes["north_kent_integrated_discharge_teams"]["lead_provider"].startswith("DVH / MFT")


# --- include -------------------------------------------------------------------------------


LIBRARY_TEXT = """
    schemes:
      shared_falls:
        title: Falls classes
        cost: {recurrent_per_year: 100}
        effects:
          - kind: prevention
            name: fewer_falls
            multiplier: {value: 0.8, low: 0.7, high: 0.9}
      shared_beds:
        title: Step-up beds
        effects:
          - {kind: capacity, name: beds, service: intermediate_care_beds, add: 5}
"""


def test_include_merges_schemes_and_the_scenario_wins(tmp_path: Path) -> None:
    library = write(tmp_path, "library/shared.yaml", LIBRARY_TEXT)
    child = write(tmp_path, "area/child.yaml", """
        name: child
        include: [../library/shared.yaml]
        schemes:
          own_scheme: {title: Our own}
          shared_falls:
            cost: {recurrent_per_year: 250}
    """)
    data, source_map = resolve(child)
    assert "include" not in data
    assert list(data["schemes"]) == ["own_scheme", "shared_falls", "shared_beds"]
    falls = data["schemes"]["shared_falls"]
    assert falls["cost"] == {"recurrent_per_year": 250}
    assert falls["title"] == "Falls classes" and falls["effects"][0]["multiplier"]["value"] == 0.8
    assert data["mix"] == ["own_scheme", "shared_falls"]
    assert source_map.locate(("schemes", "shared_beds", "title")).file == str(library)
    assert source_map.locate(("schemes", "shared_falls", "title")).file == str(library)
    assert source_map.locate(("schemes", "shared_falls", "cost", "recurrent_per_year")).file == str(child)


def test_include_keeps_a_given_mix_and_extends_counts_as_own(tmp_path: Path) -> None:
    write(tmp_path, "library/shared.yaml", LIBRARY_TEXT)
    child = write(tmp_path, "child.yaml", f"""
        extends: {skc_reference(tmp_path)}
        include: [library/shared.yaml]
        name: child
    """)
    scenario = load_scenario(child)
    assert {"shared_falls", "shared_beds", "falls_prevention"} <= set(scenario.schemes)
    skc = load_scenario(SKC)
    assert scenario.mix_schemes == tuple(skc.schemes)
    chosen = write(tmp_path, "chosen.yaml", f"""
        extends: {skc_reference(tmp_path)}
        include: [library/shared.yaml]
        name: chosen
        mix: [shared_beds, housing]
    """)
    assert load_scenario(chosen).mix_schemes == ("shared_beds", "housing")


def test_problems_in_included_schemes_point_into_the_library(tmp_path: Path) -> None:
    library = write(tmp_path, "library/broken.yaml", """
        schemes:
          broken_scheme:
            title: Broken
            effects:
              - kind: diversion
                at: nowhere
                to: home
                share: {value: 0.1}
                name: divert
    """)
    child = write(tmp_path, "child.yaml", f"""
        extends: {skc_reference(tmp_path)}
        include: [library/broken.yaml]
        name: child
    """)
    [problem] = problems_loading(child)
    assert (problem.file, problem.line) == (str(library), 6)
    assert problem.path == "schemes.broken_scheme.effects[0].at"


def test_include_problems_point_at_the_include_entry(tmp_path: Path) -> None:
    missing = write(tmp_path, "missing.yaml", "name: a\ninclude:\n  - library/none.yaml\n")
    [problem] = problems_loading(missing)
    assert (problem.file, problem.line, problem.path) == (str(missing), 3, "include[0]")
    assert problem.message.startswith("the file it names does not exist")

    looping_library = write(tmp_path, "library/loop.yaml", "include: [../looping.yaml]\nschemes: {}\n")
    looping = write(tmp_path, "looping.yaml", "name: a\ninclude: [library/loop.yaml]\n")
    [loop] = problems_loading(looping)
    assert "include goes round in a loop" in loop.message
    assert (loop.file, loop.line) == (str(looping_library), 1)

    not_a_list = write(tmp_path, "number.yaml", "name: a\ninclude: 3\n")
    [wrong] = problems_loading(not_a_list)
    assert (wrong.line, wrong.path, wrong.found) == (2, "include", "3")


def test_a_library_holds_only_schemes_and_names_each_scheme_once(tmp_path: Path) -> None:
    settings = write(tmp_path, "settings.yaml", "schemes: {}\nrun:\n  days: 10\n")
    child = write(tmp_path, "child.yaml", "name: a\ninclude: [settings.yaml]\n")
    [problem] = problems_loading(child)
    assert (problem.file, problem.line, problem.path) == (str(settings), 2, "run")

    write(tmp_path, "first.yaml", LIBRARY_TEXT)
    second = write(tmp_path, "second.yaml", "schemes:\n  other: {title: Other}\n  shared_beds: {title: Again}\n")
    both = write(tmp_path, "both.yaml", "name: a\ninclude: [first.yaml, second.yaml]\n")
    [clash] = problems_loading(both)
    assert (clash.file, clash.line, clash.path) == (str(second), 3, "schemes.shared_beds")


# --- the North Kent example ----------------------------------------------------------------


def test_the_north_kent_example_validates_and_plans_its_mix() -> None:
    result = CliRunner().invoke(app, ["validate", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    scenario = load_scenario(EXAMPLE)
    written = read_yaml(EXAMPLE)[0]
    assert scenario.mix == written["mix"]
    assert all(name.startswith("north_kent_") for name in scenario.mix)
    plan = make_plan(scenario)
    assert plan.mixes == (scenario.mix_name,)
    no_fund = {"no_fund": ()} if scenario.fund.pays_for else {}  # the value of the fund, when it names its places
    assert plan.worlds == {"baseline": (), scenario.mix_name: tuple(written["mix"]), **no_fund}
    discharge = scenario.scheme("north_kent_integrated_discharge_teams")
    assert discharge.claimed_benefit_per_year == 5_621_400
    assert discharge.cost.non_recurrent == 4_156_318
