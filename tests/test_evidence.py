"""The evidence ledger, fitted effect-size distributions, effects keyed by name and their own start dates."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from caresim.cli import app
from caresim.engine.calendar import Calendar
from caresim.engine.effects import WorldEffects
from caresim.scenario.loading import load_scenario
from caresim.scenario.problems import ScenarioError
from caresim.scenario.schema import Scenario
from caresim.scenario.schemes import Uncertain, size_field
from conftest import SKC, write

PLAN = SKC.parent / "skc_2015_plan_assumptions.yaml"
runner = CliRunner()


@pytest.mark.parametrize(("low", "high"), [(0.41, 0.69), (0.75, 1.03), (0.9, 1.1)])
def test_a_lognormal_fitted_to_a_ci_returns_it_at_the_tails(low: float, high: float) -> None:
    ratio = Uncertain(value=math.sqrt(low * high), low=low, high=high, distribution="lognormal")
    assert ratio.quantile(0.025) == pytest.approx(low, abs=1e-6)
    assert ratio.quantile(0.975) == pytest.approx(high, abs=1e-6)
    assert ratio.quantile(0.5) == pytest.approx(ratio.value, abs=1e-12)  # the estimate is the median


@pytest.mark.parametrize(("value", "low", "high"), [(0.125, 0.067, 0.183), (0.05, 0.006, 0.135), (0.6, 0.3, 0.9)])
def test_a_beta_fitted_to_a_ci_returns_it_at_the_tails(value: float, low: float, high: float) -> None:
    share = Uncertain(value=value, low=low, high=high, distribution="beta")
    assert share.quantile(0.025) == pytest.approx(low, abs=1e-6)
    assert share.quantile(0.975) == pytest.approx(high, abs=1e-6)


def test_fitted_distributions_need_a_ci_they_can_fit() -> None:
    with pytest.raises(ValueError, match="fitted to a 95 % CI"):
        Uncertain(value=0.9, distribution="lognormal")
    with pytest.raises(ValueError, match="0 < low < high < 1"):
        Uncertain(value=0.1, low=0.0, high=0.2, distribution="beta")


def with_effects(scenario: Scenario, effects: list[dict], start: str | None = None) -> Scenario:
    data = scenario.model_dump(by_alias=True)
    data["schemes"] = {"s": {"title": "s", "start": start, "effects": effects}}
    data["variants"] = {}
    return Scenario.model_validate(data)


def multiplier(name: str) -> dict:
    return {"kind": "readmission", "name": name, "multiplier": {"value": 0.9, "low": 0.8, "high": 1.0}}


def sizes(scenario: Scenario, replication: int = 0) -> dict[tuple[str, str], float]:
    calendar = Calendar(scenario.run.start, scenario.run.warm_up_days, scenario.run.days)
    return {a.key: a.size for a in WorldEffects(scenario, ("s",), replication, calendar).active}


def test_draws_are_keyed_by_effect_name_never_position(short: Scenario) -> None:
    ordered = sizes(with_effects(short, [multiplier("a"), multiplier("b")]))
    reordered = sizes(with_effects(short, [multiplier("b"), multiplier("a")]))
    assert ordered == reordered and ordered[("s", "a")] != ordered[("s", "b")]
    renamed = sizes(with_effects(short, [multiplier("c"), multiplier("b")]))
    assert renamed[("s", "c")] != ordered[("s", "a")] and renamed[("s", "b")] == ordered[("s", "b")]


def test_an_effect_start_overrides_its_schemes(short: Scenario) -> None:
    late = {**multiplier("late"), "start": "2015-04-20"}
    scenario = with_effects(short, [multiplier("early"), late], start="2015-04-10")
    calendar = Calendar(scenario.run.start, scenario.run.warm_up_days, scenario.run.days)
    active = {a.key[1]: a for a in WorldEffects(scenario, ("s",), 0, calendar).active}
    origin = calendar.origin
    assert active["early"].start == (scenario.run.start.replace(day=10) - origin).days
    assert active["late"].start == (scenario.run.start.replace(day=20) - origin).days


def test_two_effects_of_one_scheme_with_one_name_are_refused(short: Scenario) -> None:
    with pytest.raises(ValueError, match="scheme s has two effects named 'a'"):
        with_effects(short, [multiplier("a"), multiplier("a")])


def test_skc_and_the_plan_assumptions_load_and_every_default_effect_has_a_ledger_entry_with_a_ci() -> None:
    skc, plan = load_scenario(SKC), load_scenario(PLAN)
    assert plan.title != skc.title and set(plan.schemes) == set(skc.schemes)
    for name, scheme in skc.schemes.items():
        for effect in scheme.effects:
            if size_field(effect.kind) is None:
                continue  # capacity and opening hours are what the money buys, not an effect size
            entry = skc.evidence[effect.evidence]
            assert entry.study and entry.ci_low < entry.ci_high, (name, effect.name)
    assert skc.effects_without_evidence == [] and plan.effects_without_evidence == []
    differs = [(n, e.name) for n, s in plan.schemes.items() for e, d in zip(s.effects, skc.schemes[n].effects,
                                                                            strict=True) if e != d]
    assert len(differs) >= 10  # the planners' sizes replace the ledger's


def ledger_case(tmp_path: Path, ledger: str, reference: str = "falls") -> Path:
    write(tmp_path, "ledger.yaml", ledger)
    return write(tmp_path, "child.yaml", f"""
        extends: {Path(os.path.relpath(SKC, tmp_path)).as_posix()}
        name: child
        evidence: ledger.yaml
        schemes:
          falls_prevention:
            effects:
              - kind: prevention
                name: fewer_falls
                evidence: {reference}
    """)


GOOD_ENTRY = """
    falls:
      study: a trial
      year: 2019
      population: older people
      outcome: falls
      estimate: 0.8
      ci_low: 0.7
      ci_high: 0.9
      kind: ratio
      mechanism: the relative rate of falls
      distribution: lognormal
"""


def test_an_effect_naming_evidence_takes_the_entrys_size(tmp_path: Path) -> None:
    scenario = load_scenario(ledger_case(tmp_path, GOOD_ENTRY))
    [effect] = scenario.schemes["falls_prevention"].effects
    assert effect.multiplier == Uncertain(value=0.8, low=0.7, high=0.9, distribution="lognormal")


@pytest.mark.parametrize(("ledger", "reference", "where", "says"), [
    (GOOD_ENTRY.replace("distribution: lognormal", "distribution: triangular"), "falls", ("ledger.yaml", 1),
     "a ratio is drawn lognormal"),
    (GOOD_ENTRY.replace("      kind: ratio\n", ""), "falls", ("ledger.yaml", 1), "kind"),
    (GOOD_ENTRY, "fals", ("child.yaml", 9), "does not hold"),
])
def test_ledger_mistakes_are_explained_at_their_file_and_field(tmp_path: Path, ledger: str, reference: str,
                                                               where: tuple[str, int], says: str) -> None:
    path = ledger_case(tmp_path, ledger, reference)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    [problem] = caught.value.problems
    assert (Path(problem.file).name, problem.line) == where and says in problem.message
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_validate_warns_about_each_effect_without_a_ledger_entry(tmp_path: Path) -> None:
    path = write(tmp_path, "child.yaml", f"""
        extends: {Path(os.path.relpath(SKC, tmp_path)).as_posix()}
        name: child
        schemes:
          housing:
            effects:
              - kind: assessment_delay
                name: faster_assessment
                multiplier: {{value: 0.9}}
    """)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "warning: scheme housing, effect faster_assessment" in text
    assert text.count("warning:") == 1
