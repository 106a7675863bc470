"""Shared fixtures: the SKC scenario, shortened so tests stay fast."""

from __future__ import annotations

import re
from pathlib import Path
from textwrap import dedent

import pytest

from caresim.engine.kernel import COMPILED
from caresim.scenario.loading import load_scenario
from caresim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[1]
SKC = ROOT / "scenarios" / "skc_2015.yaml"


def skc_text() -> str:
    """The SKC scenario's text with the files it names (evidence ledger, benchmarks) by full path, so that a copy
    loads from anywhere; without `compare_with`, whose scenario extends the original, not an edited copy."""
    text = re.sub(r"^compare_with: .*\n", "", SKC.read_text(encoding="utf-8"), flags=re.M)
    for key, name in (("evidence", "library/evidence.yaml"), ("benchmarks", "library/benchmarks.yaml")):
        text = text.replace(f"{key}: {name}", f"{key}: {SKC.parent / name}")
    return text


TIERS = {  # every test module's tier (markers in pyproject.toml); a new module must be given one here
    "test_loading": "unit", "test_bad_input": "unit", "test_run_folder": "unit", "test_engine": "unit",
    "test_schemes": "unit", "test_evidence": "unit", "test_charts": "unit", "test_validation_doc": "unit",
    "test_library": "unit", "test_paper": "unit",
    "test_simpy_contract": "unit", "test_counters": "unit", "test_discharge_rhythm": "unit", "test_downstream": "unit",
    "test_acuity": "unit", "test_uncertainty": "unit", "test_draws": "unit",
    "test_treated": "unit", "test_money": "unit", "test_compared": "e2e", "test_years": "e2e",
    "test_verify": "theory",
    "test_fuzz": "property",
    "test_cli": "e2e", "test_report": "e2e", "test_executors": "e2e", "test_golden_master": "e2e", "test_flows": "e2e",
    "test_measures": "e2e", "test_termination": "e2e", "test_engine_builds": "e2e", "test_optimise": "e2e",
    "test_readable": "e2e", "test_app": "e2e",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its module's tier, so `pytest -m theory` (or unit, property, e2e) runs one tier."""
    for item in items:
        module = item.path.stem
        if module not in TIERS:
            raise pytest.UsageError(f"{module}.py has no tier: add it to TIERS in tests/conftest.py")
        item.add_marker(TIERS[module])
        if COMPILED and item.get_closest_marker("pure_engine"):
            item.add_marker(pytest.mark.skip(reason="patches an engine method, which a compiled class forbids; "
                                                    "tests/test_engine_builds.py runs it on the pure-Python sources"))


def shortened(scenario: Scenario, days: int = 45, warm_up_days: int = 7, **run: object) -> Scenario:
    """The same scenario over a shorter period (validated again, so it stays a legal scenario)."""
    data = scenario.model_dump(by_alias=True)
    data["run"].update(days=days, warm_up_days=warm_up_days, **run)
    return Scenario.model_validate(data)


def write(folder: Path, name: str, text: str) -> Path:
    """A text file in ``folder``, dedented, for scenario files written inside a test."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def changed(scenario: Scenario, path: str, value: object) -> Scenario:
    """The scenario with one dotted path set to ``value`` (validated)."""
    data = scenario.model_dump(by_alias=True)
    node = data
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = value
    return Scenario.model_validate(data)


@pytest.fixture(scope="session")
def skc() -> Scenario:
    return load_scenario(SKC)


@pytest.fixture(scope="session")
def short(skc: Scenario) -> Scenario:
    return shortened(skc)
