"""Fuzzing: mutated scenarios are explained, never crash the loader; valid random scenarios keep every invariant.

Each test prints what it tried (run `pytest -s` to see the figures quoted in docs/robustness.md).
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caresim.engine.errors import RunawayError, UnstableSystemError
from caresim.engine.services import Pool
from caresim.experiment.plan import make_plan
from caresim.experiment.replication import ReplicationFailed, WorldResult, run_replication
from caresim.measures import PERCENT, POINTS, unit_of
from caresim.metrics import DAYS_PER_YEAR
from caresim.scenario.loading import load_scenario, resolve, validate
from caresim.scenario.problems import ScenarioError
from caresim.scenario.schema import CAPACITY_FIELDS, Scenario
from conftest import SKC, skc_text

BASE, SOURCE_MAP = resolve(SKC)
BASE_TEXT = skc_text()


def texts(value: Any) -> list[str]:
    """Every text in the data, keys included: names a mutation can put in the wrong place."""
    if isinstance(value, dict):
        return [str(key) for key in value] + [text for item in value.values() for text in texts(item)]
    if isinstance(value, list):
        return [text for item in value for text in texts(item)]
    return [value] if isinstance(value, str) and len(value) < 40 else []


TEXTS = sorted(set(texts(BASE)))
FieldPath = tuple[Any, ...]

# --- mutations at the data level ---------------------------------------------------------------------

SCALARS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e6, max_value=-1e-9),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.sampled_from([0, 1, -1, 1.2, 3.5, 1e308, 10**30, 2**63, "1,100", "12%", "£331", "unlimited", "lots", "",
                     " ", "0.5", "yes", "2015-04-01", "wait", "lognormal", "exponential", "home", "P1"]),
    st.text(max_size=12),
    st.none(),
    st.booleans(),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)),
)
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3), st.dictionaries(st.text(max_size=8), SCALARS, max_size=3))
KEYS = st.one_of(st.text(max_size=12), st.integers(-3, 30), st.none(), st.booleans(), st.floats(allow_nan=False),
                 st.sampled_from(["extends", "kind", "distribution", "mean", "cv", "median", "sigma", "capacity",
                                  "enabled", "from", "to", "share", "value", "low", "high", "85+", "P0", "home"]))
FIELDS = ["start", "localities", "risk_tiers", "age_bands", "residence", "crisis_types", "variants", "schemes",
          "step_down_share", "initial_occupancy", "max_queue", "max_events", "when_full", "programme", "hours",
          "then_admitted", "eligible", "mix_name", "mix", "add", "extends"]


def paths(value: Any, path: FieldPath = ()) -> list[FieldPath]:
    """Every path below `path`, parents before children."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*path, index))
    return found


def at(data: Any, path: FieldPath) -> Any:
    for element in path:
        data = data[element]
    return data


def numbers(value: Any) -> list[Any]:
    """The keys (or indexes) of a section or list whose values are all numbers; empty otherwise."""
    keys = list(value) if isinstance(value, dict) else range(len(value)) if isinstance(value, list) else []
    plain = all(isinstance(value[key], (int, float)) and not isinstance(value[key], bool) for key in keys)
    return list(keys) if plain else []


def retyped(value: Any) -> Any:
    """The same content in another shape: a section as a list, a list as a section, a value as text or a list."""
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return {str(index): item for index, item in enumerate(value)}
    return [value] if isinstance(value, (int, float)) else str(value)


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    """The SKC data with one to four mutations: deleted, replaced, added, scaled, retyped or copied values."""
    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 4))):
        everywhere = paths(data)
        below = everywhere[1:]
        operation = draw(st.sampled_from(["delete", "replace", "add", "scale", "retype", "copy", "misname"]))
        if operation == "add":
            sections = [path for path in everywhere if isinstance(at(data, path), dict)]
            section = at(data, draw(st.sampled_from(sections)))
            section[draw(st.one_of(KEYS, st.sampled_from(FIELDS)))] = draw(st.one_of(VALUES, st.sampled_from(TEXTS)))
            continue
        if operation == "misname":
            texts = [path for path in below if isinstance(at(data, path), str)]
            path = draw(st.sampled_from(texts))
            text = at(data, path)
            cut = draw(st.integers(0, len(text)))
            near_miss = text[:cut] + draw(st.sampled_from(["", "x", "_", "s"])) + text[cut + 1:]
            at(data, path[:-1])[path[-1]] = draw(st.sampled_from([near_miss, *TEXTS]))
            continue
        if operation == "scale":
            groups = [path for path in everywhere if numbers(at(data, path))]
            group = at(data, draw(st.sampled_from(groups)))
            factor = draw(st.one_of(st.floats(-2, 3), st.sampled_from([0, 0.5, 1.1, 100])))
            for key in numbers(group):
                group[key] = group[key] * factor
            continue
        path = draw(st.sampled_from(below))
        parent, key = at(data, path[:-1]), path[-1]
        if operation == "delete":
            del parent[key]
        elif operation == "replace":
            parent[key] = draw(VALUES)
        elif operation == "retype":
            parent[key] = retyped(parent[key])
        else:
            parent[key] = copy.deepcopy(at(data, draw(st.sampled_from(below))))
    return data


SIMPLE = ("must be", "unknown field", "required field", "the name")
RAW = ("Input should", "Value error", "Keys should", "Unable to parse", "pydantic")  # pydantic's own wording


@pytest.mark.slow
def test_mutated_data_is_valid_or_explained_field_by_field() -> None:
    outcomes: Counter[str] = Counter()

    @settings(max_examples=4000, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                       HealthCheck.data_too_large])
    @given(mutated())
    def check(data: dict[str, Any]) -> None:
        try:
            validate(Scenario, data, SOURCE_MAP)
        except ScenarioError as error:
            outcomes["rejected"] += 1
            outcomes["problems"] += len(error.problems)
            outcomes["cross-field"] += sum(not problem.message.startswith(SIMPLE) for problem in error.problems)
            assert error.problems
            for problem in error.problems:
                assert problem.path and problem.message and problem.line, problem
                assert not any(words in str(problem) for words in RAW), problem
            assert str(error).startswith(f"{len(error.problems)} problem")
        else:
            outcomes["valid"] += 1

    check()
    print(f"\ndata-level fuzzing: {outcomes['valid'] + outcomes['rejected']} scenarios, {outcomes['valid']} valid, "
          f"{outcomes['rejected']} rejected with {outcomes['problems']} problems "
          f"({outcomes['cross-field']} from cross-field checks), 0 other exceptions")
    assert outcomes["valid"] and outcomes["rejected"] and outcomes["cross-field"]


# --- mutations of the text ----------------------------------------------------------------------------

YAML_CHARACTERS = st.sampled_from(list(":-{}[],'\"&*!|>%@`#?\t\n ") + ["\x00", "\ufeff", "é", "\u00a0", "  ", ": ",
                                                                      "- ", "\n  ", "*a", "&a", "<<: *a"])


@st.composite
def mutated_text(draw: st.DrawFn) -> str:
    text = BASE_TEXT
    for _ in range(draw(st.integers(1, 5))):
        start = draw(st.integers(0, len(text)))
        end = start + draw(st.integers(0, 3))
        text = text[:start] + draw(st.one_of(st.just(""), YAML_CHARACTERS, st.text(max_size=3))) + text[end:]
    return text


@pytest.mark.slow
def test_mutated_text_is_valid_or_explained() -> None:
    outcomes: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scenario.yaml"

        @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(mutated_text())
        def check(text: str) -> None:
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
            try:
                load_scenario(path)
            except ScenarioError as error:
                outcomes["rejected"] += 1
                assert all(problem.message and problem.file == str(path) for problem in error.problems)
                str(error)
            else:
                outcomes["valid"] += 1

        check()
    print(f"\ntext-level fuzzing: {sum(outcomes.values())} files, {outcomes['valid']} valid, "
          f"{outcomes['rejected']} rejected, 0 other exceptions")
    assert outcomes["rejected"]


# --- valid random scenarios, run -----------------------------------------------------------------------

CAPACITIES = {("rapid_response", "capacity"), ("ae", "cubicles"), ("acute_beds", "capacity"),
              ("intermediate_care_beds", "capacity"), ("reablement", "capacity"),
              ("home_care", "new_packages_per_week"), ("gp", "appointments_per_weekday"),
              ("gp", "appointments_per_weekend_day")}
SWITCHABLE = ("gp", "rapid_response", "ae", "intermediate_care_beds", "reablement", "home_care", "care_homes")


def reshared(draw: st.DrawFn, shares: dict[str, float]) -> dict[str, float]:
    """The same keys with random shares that add up to 1 (some may be 0)."""
    weights = draw(st.lists(st.sampled_from([0.0, 0.0, 0.1, 0.5, 1.0, 3.0]), min_size=len(shares),
                            max_size=len(shares)))
    if not sum(weights):
        weights[draw(st.integers(0, len(weights) - 1))] = 1.0
    return {key: weight / sum(weights) for key, weight in zip(shares, weights, strict=True)}


@st.composite
def runnable(draw: st.DrawFn) -> dict[str, Any]:
    """A random but valid scenario: short, small, with capacities from 0 to unlimited and services switched off."""
    data = copy.deepcopy(BASE)
    data["run"].update(days=draw(st.integers(30, 60)), warm_up_days=draw(st.integers(0, 10)), replications=1,
                       seed=draw(st.integers(0, 2**32)))
    if draw(st.booleans()):
        data["run"]["max_queue"] = draw(st.integers(10, 300))
    if draw(st.integers(0, 7)) == 0:
        data["run"]["max_events"] = draw(st.integers(1000, 30_000))
    scale = draw(st.sampled_from([0.005, 0.02, 0.05, 0.1]))
    population = data["population"]
    population["localities"] = {name: int(people * scale) for name, people in population["localities"].items()}
    demand = data["demand"]
    rates = demand["crisis_rate_per_person_year"]
    factor = draw(st.sampled_from([0.0, 0.5, 1.0, 3.0]))
    demand["crisis_rate_per_person_year"] = {band: rate * factor for band, rate in rates.items()}
    demand["crisis_type_shares"] = {band: reshared(draw, shares)
                                    for band, shares in demand["crisis_type_shares"].items()}
    services = data["services"]
    for service, key in sorted(CAPACITIES):
        base = services[service].get(key, 0)
        base = base if isinstance(base, int) else 100
        services[service][key] = draw(st.one_of(st.integers(0, max(base, 1)), st.just("unlimited")))
    for service in ("acute_beds", "intermediate_care_beds", "reablement"):
        capacity = services[service]["capacity"]
        most = services[service].get("initial_occupancy", 0) if capacity == "unlimited" else capacity
        services[service]["initial_occupancy"] = draw(st.integers(0, most))
    for kind in ("residential_beds", "nursing_beds"):
        services["care_homes"][kind] = int(services["care_homes"][kind] * scale * draw(st.sampled_from([0, 1, 3])))
    for service in SWITCHABLE:
        services[service]["enabled"] = draw(st.sampled_from([True, True, True, False]))
    services["acute_beds"]["when_full"] = draw(st.sampled_from(["wait", "turn_away"]))
    services["intermediate_care_beds"]["step_down_share"] = draw(st.one_of(st.none(), st.floats(0, 1)))
    data["routing"] = {name: reshared(draw, shares) for name, shares in data["routing"].items()}
    data["first_contact"] = {name: reshared(draw, {**dict.fromkeys(("gp", "out_of_hours", "ambulance", "ae",
                                                                      "minor_injury"), 0.0), **shares})
                             for name, shares in data["first_contact"].items()}
    discharge = data["discharge"]
    discharge["pathways"] = {band: reshared(draw, shares) for band, shares in discharge["pathways"].items()}
    data["schemes"] = {name: scheme for name, scheme in data["schemes"].items() if draw(st.booleans())}
    if draw(st.booleans()):
        data["schemes"]["fuzz_capacity"] = {"title": "places added and removed", "effects": [
            {"kind": "capacity", "name": f"places_{index}", "service": service,
             "add": draw(st.integers(-cuttable(services, service), 50))}
            for index, service in enumerate(draw(st.lists(st.sampled_from(sorted(CAPACITY_FIELDS)),
                                                          min_size=1, max_size=3)))]}
    return data


def cuttable(services: dict[str, Any], service: str) -> int:
    """Places a capacity effect may remove: a third of them, so that three effects never remove them all."""
    section, field = CAPACITY_FIELDS[service]
    capacity = services[section][field]
    return 50 if capacity == "unlimited" else capacity // 3


Breach = tuple[str, float, int, float]


def checking_pool(breaches: list[Breach]) -> Callable[[Pool, int], None]:
    """Pool._change that also notes any moment a pool holds more than its capacity, or fewer than none."""
    change = Pool._change

    def checked(self: Pool, delta: int) -> None:
        change(self, delta)
        if self.occupied < 0 or (delta > 0 and self.occupied > self.capacity):
            breaches.append((self.name, self.clock.now, self.occupied, self.capacity))

    return checked


def assert_invariants(result: WorldResult, scenario: Scenario) -> None:
    where = f"world {result.world}"
    conservation = result.conservation
    assert conservation["violations"] == 0, (where, conservation)
    assert conservation["created"] == conservation["ended"] + conservation["in_system"], (where, conservation)
    for name, capacity in result.daily_capacity.items():
        occupied = result.daily[name]
        assert (occupied >= 0).all() and (capacity >= 0).all(), (where, name)
        assert (occupied <= capacity).all(), (where, name, occupied, capacity)
    assert (result.daily["delayed_patients"] >= 0).all(), where
    assert (result.monthly_delays >= 0).all(), where
    run = scenario.run
    day_ticks = run.warm_up_days + run.days + 1  # the day clock schedules one event a day, both ends included
    crises = round(result.measures["crises"] * run.days / DAYS_PER_YEAR)  # each arrived by its own event
    assert result.events >= day_ticks + 1 + crises, (where, result.events)  # + 1: opening the window
    for measure, value in result.measures.items():
        assert not math.isinf(value), (where, measure, value)
        assert not (value < 0 and unit_of(measure) != POINTS), (where, measure, value)
        assert not (unit_of(measure) == PERCENT and value > 100 + 1e-9), (where, measure, value)
    for name, (mean_occupied, arrivals_per_day, mean_stay) in result.little.items():
        assert min(mean_occupied, arrivals_per_day, mean_stay) >= 0, (where, name)
    for name, (n, total, *_) in result.sampled.items():
        assert n >= 0 and total >= 0, (where, name)


def test_random_valid_scenarios_run_and_keep_every_invariant() -> None:
    outcomes: Counter[str] = Counter()

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(runnable())
    def check(data: dict[str, Any]) -> None:
        scenario = validate(Scenario, data, SOURCE_MAP)
        breaches: list[Breach] = []
        with mock.patch.object(Pool, "_change", checking_pool(breaches)):
            try:
                results = run_replication(make_plan(scenario), 0)
            except ReplicationFailed as error:
                assert isinstance(error.__cause__, (UnstableSystemError, RunawayError)), error
                outcomes[type(error.__cause__).__name__] += 1
                return
        assert not breaches, breaches[:5]
        assert [result.world for result in results] == list(make_plan(scenario).worlds)
        for result in results:
            assert_invariants(result, scenario)
        outcomes["ran"] += 1
        outcomes["worlds"] += len(results)
        outcomes["days"] += int(np.sum([len(next(iter(result.daily.values()))) for result in results]))

    check()
    print(f"\nrun fuzzing: {outcomes['ran']} ran ({outcomes['worlds']} worlds, {outcomes['days']} world-days) with "
          f"every invariant, {outcomes['UnstableSystemError']} stopped as unstable, "
          f"{outcomes['RunawayError']} stopped as runaway")
    assert outcomes["ran"]


def test_readmission_percent_stays_within_100() -> None:
    """Found by the fuzzer: intermediate-care 'readmit' outcomes were counted as readmissions of discharges home."""
    data = copy.deepcopy(BASE)
    data["run"].update(days=40, warm_up_days=5)
    data["population"]["localities"] = {name: people // 20 for name, people in BASE["population"]["localities"].items()}
    data["discharge"]["pathways"] = {band: {"P0": 0.2, "P1": 0.0, "P2": 0.8, "P3": 0.0, "death": 0.0}
                                     for band in BASE["discharge"]["pathways"]}
    data["routing"]["intermediate_care"] = {"readmit": 1.0}
    data["schemes"] = {}
    [baseline] = run_replication(make_plan(validate(Scenario, data, SOURCE_MAP)), 0)
    assert baseline.measures["readmission_30d_percent"] <= 100


def test_ae_attendances_not_conveyed_is_never_negative() -> None:
    """Found by the fuzzer: it was A&E attendances minus ambulance conveyances, negative with A&E switched off."""
    data = copy.deepcopy(BASE)
    data["run"].update(days=30, warm_up_days=5)
    data["population"]["localities"] = {name: people // 20 for name, people in BASE["population"]["localities"].items()}
    data["services"]["ae"]["enabled"] = False
    data["schemes"] = {}
    [baseline] = run_replication(make_plan(validate(Scenario, data, SOURCE_MAP)), 0)
    assert baseline.measures["ae_attendances_not_conveyed"] >= 0


def test_cutting_every_intermediate_care_bed_leaves_none_not_minus_one() -> None:
    """Found while fuzzing: a cut was split between step-down and step-up beds unlike the base beds (-1 on a tie)."""
    data = copy.deepcopy(BASE)
    data["run"].update(days=30, warm_up_days=5)
    data["population"]["localities"] = {name: people // 20 for name, people in BASE["population"]["localities"].items()}
    data["services"]["intermediate_care_beds"].update(capacity=3, step_down_share=0.5, initial_occupancy=0)
    data["schemes"] = {"cut": {"title": "cut", "effects": [
        {"kind": "capacity", "name": "capacity", "service": "intermediate_care_beds", "add": -3}]}}
    for result in run_replication(make_plan(validate(Scenario, data, SOURCE_MAP)), 0):
        assert min(result.daily_capacity["step_up_beds"]) >= 0, result.world


def test_ae_admissions_never_outnumber_attendances() -> None:
    """Found by the fuzzer: A&E outcomes counted for patients who arrived before the measured window."""
    data = copy.deepcopy(BASE)
    data["run"].update(days=30, warm_up_days=5, seed=4)
    data["demand"]["crisis_rate_per_person_year"] = dict.fromkeys(BASE["demand"]["crisis_rate_per_person_year"], 0.0)
    data["services"]["care_homes"].update(enabled=False, residential_beds=0, nursing_beds=0)
    data["schemes"] = {}
    [baseline] = run_replication(make_plan(validate(Scenario, data, SOURCE_MAP)), 0)
    assert baseline.measures["ae_discharged_home"] >= 0
    assert baseline.measures["ae_conversion_percent"] <= 100
