"""Scenario files become validated objects, and every mistake becomes a sentence at its line."""

import datetime as dt
import pickle
from pathlib import Path
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, RootModel, model_validator

from caresim.scenario import loading
from caresim.scenario.explain import date_hint, spreadsheet_hint
from caresim.scenario.loading import resolve, validate
from caresim.scenario.problems import Problem, ScenarioError
from caresim.scenario.yaml_source import Location, read_yaml
from conftest import write


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Service(Strict):
    capacity: Annotated[int, Field(ge=0)] | Literal["unlimited"]
    length_of_stay_days: float = Field(default=1.0, gt=0)
    when_full: Literal["wait", "turn_away"] = "wait"


class ReduceAdmissions(Strict):
    kind: Literal["reduce_admissions"]
    factor: float = Field(ge=0, le=1)


class AddBeds(Strict):
    kind: Literal["add_beds"]
    service: str
    beds: int = Field(ge=0)


Effect = Annotated[ReduceAdmissions | AddBeds, Field(discriminator="kind")]


class Scheme(Strict):
    name: str = Field(pattern=r"^[a-z0-9_]+$")
    start: dt.date | None = None
    effects: list[Effect]

    @model_validator(mode="after")
    def _has_effects(self) -> "Scheme":
        if not self.effects:
            raise ValueError(f"scheme {self.name} needs at least one effect")
        return self


class Demand(Strict):
    crises_per_year: float = Field(ge=0)
    profile: Literal["flat", "winter_peak", "summer_dip"] = "flat"


class Toy(Strict):
    name: str
    demand: Demand
    services: dict[str, Service]
    schemes: list[Scheme] = []
    replications: int = Field(default=10, ge=1, le=1000)

    @model_validator(mode="after")
    def _effects_name_services(self) -> "Toy":
        for scheme in self.schemes:
            for effect in scheme.effects:
                if isinstance(effect, AddBeds) and effect.service not in self.services:
                    raise ValueError(f"scheme {scheme.name} adds beds to {effect.service!r}, which is not a service")
        return self


VALID = """
    name: test
    demand:
      crises_per_year: 1200
    services:
      acute_beds:
        capacity: 400
      home_care:
        capacity: unlimited
    schemes:
      - name: frailty
        start: 2024-04-01
        effects:
          - kind: reduce_admissions
            factor: 0.1
          - kind: add_beds
            service: acute_beds
            beds: 10
"""


def problems_reading(path: Path) -> list[Problem]:
    with pytest.raises(ScenarioError) as caught:
        resolve(path)
    return caught.value.problems


def problems_validating(path: Path) -> list[Problem]:
    data, source_map = resolve(path)
    with pytest.raises(ScenarioError) as caught:
        validate(Toy, data, source_map)
    return caught.value.problems


def by_path(problems: list[Problem]) -> dict[str, Problem]:
    return {problem.path: problem for problem in problems}


# --- validation errors ----------------------------------------------------------------------


def test_a_valid_file_gives_the_model(tmp_path: Path) -> None:
    data, source_map = resolve(write(tmp_path, "ok.yaml", VALID))
    toy = validate(Toy, data, source_map)
    assert toy.services["home_care"].capacity == "unlimited"
    assert toy.schemes[0].start == dt.date(2024, 4, 1)
    assert isinstance(toy.schemes[0].effects[1], AddBeds)
    assert toy.schemes[0].effects[1].beds == 10


def test_every_mistake_is_reported_at_once_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", """
        name: test
        demand:
          crises_per_year: "1,234"
          profile: winter_peek
        services:
          acute_beds:
            capacity: -5
            capcity: 3
          home_care:
            length_of_stay_days: 2
        schemes:
          - name: frailty
            effects:
              - kind: reduce_admisions
              - kind: add_beds
                beds: 12%
              - factor: 0.5
          - name: empty
            effects: []
        replications: 0
    """)
    problems = problems_validating(path)
    found = by_path(problems)
    assert len(problems) == 11
    assert all(problem.file == str(path) for problem in problems)
    assert [problem.line for problem in problems] == sorted(problem.line for problem in problems)

    capacity = found["services.acute_beds.capacity"]
    assert (capacity.line, capacity.column) == (7, 15)
    assert capacity.message == "must be a whole number ≥ 0 or 'unlimited'"
    assert capacity.found == "-5"
    assert str(capacity) == (f"{path}:7:15: services.acute_beds.capacity: "
                             "must be a whole number ≥ 0 or 'unlimited' (found -5)")

    unknown = found["services.acute_beds.capcity"]
    assert (unknown.line, unknown.column) == (8, 5)
    assert unknown.message == "unknown field 'capcity'"
    assert unknown.hint == "did you mean 'capacity'?"
    assert unknown.allowed == "capacity, length_of_stay_days, when_full"

    missing = found["services.home_care.capacity"]
    assert missing.message == "required field 'capacity' is missing"
    assert (missing.line, missing.column) == (9, 3)

    profile = found["demand.profile"]
    assert (profile.line, profile.column, profile.found) == (4, 12, "'winter_peek'")
    assert profile.allowed == "'flat', 'winter_peak', 'summer_dip'"
    assert profile.hint == "did you mean 'winter_peak'?"

    crises = found["demand.crises_per_year"]
    assert (crises.line, crises.message, crises.found) == (3, "must be a number", "'1,234'")
    assert crises.hint == "write 1234 (no thousands separators)"

    kind = found["schemes[0].effects[0].kind"]
    assert (kind.line, kind.column, kind.found) == (14, 15, "'reduce_admisions'")
    assert kind.allowed == "'reduce_admissions', 'add_beds'"
    assert kind.hint == "did you mean 'reduce_admissions'?"

    beds = found["schemes[0].effects[1].beds"]
    assert (beds.line, beds.message, beds.hint) == (16, "must be a whole number", "write 0.12 for 12 %")
    assert found["schemes[0].effects[1].service"].message == "required field 'service' is missing"
    assert found["schemes[0].effects[1].service"].line == 15

    no_kind = found["schemes[0].effects[2].kind"]
    assert (no_kind.line, no_kind.message) == (17, "required field 'kind' is missing")
    assert no_kind.allowed == "'reduce_admissions', 'add_beds'"

    empty = found["schemes[1]"]
    assert (empty.line, empty.column) == (18, 5)
    assert empty.message == "scheme empty needs at least one effect"
    assert empty.found is None

    replications = found["replications"]
    assert (replications.line, replications.message, replications.found) == (20, "must be a whole number ≥ 1", "0")


def test_union_labels_never_reach_the_path(tmp_path: Path) -> None:
    path = write(tmp_path, "union.yaml", VALID.replace("factor: 0.1", "factor: 2\n            capcity: 1"))
    found = by_path(problems_validating(path))
    assert set(found) == {"schemes[0].effects[0].factor", "schemes[0].effects[0].capcity"}
    assert found["schemes[0].effects[0].factor"].message == "must be a number ≤ 1"
    assert found["schemes[0].effects[0].capcity"].hint is None
    assert found["schemes[0].effects[0].capcity"].allowed == "kind, factor"


def test_a_discriminator_value_that_is_also_a_key_is_not_confused(tmp_path: Path) -> None:
    class Capacity(Strict):
        kind: Literal["capacity"]
        capacity: int
        beds: int = Field(ge=0)

    class Other(Strict):
        kind: Literal["other"]

    class Holder(Strict):
        effect: Annotated[Capacity | Other, Field(discriminator="kind")]

    path = write(tmp_path, "clash.yaml", """
        effect:
          kind: capacity
          capacity: 3
          beds: -1
    """)
    data, source_map = resolve(path)
    with pytest.raises(ScenarioError) as caught:
        validate(Holder, data, source_map)
    [problem] = caught.value.problems
    assert (problem.path, problem.line, problem.found) == ("effect.beds", 4, "-1")
    assert problem.message == "must be a whole number ≥ 0"


def test_a_model_validator_message_is_kept_as_written(tmp_path: Path) -> None:
    path = write(tmp_path, "ref.yaml", VALID.replace("service: acute_beds", "service: icu"))
    [problem] = problems_validating(path)
    assert problem.message == "scheme frailty adds beds to 'icu', which is not a service"
    assert (problem.path, problem.line, problem.column) == ("", 1, 1)


def test_wrong_shapes_and_pattern_names(tmp_path: Path) -> None:
    path = write(tmp_path, "shape.yaml", """
        name: test
        demand: 1200
        services:
          - acute_beds
        schemes:
          - name: Frailty Scheme
            start: 01/04/2024
            effects:
              - kind: add_beds
                service: acute_beds
                beds: ten
    """)
    found = by_path(problems_validating(path))
    assert found["demand"].message == "must be a section of 'name: value' lines"
    assert found["demand"].found == "1200"
    assert found["services"].found == "a list"
    assert found["schemes[0].name"].message == "must be text made only of lower-case letters, digits and '_'"
    assert found["schemes[0].name"].hint == "for example 'frailty_scheme'"
    assert found["schemes[0].start"].hint == "write 2024-04-01 (year-month-day; 01/04/2024 is read as day/month/year)"
    assert found["schemes[0].effects[0].beds"].hint is None


def test_a_misspelt_required_field_is_pointed_out(tmp_path: Path) -> None:
    path = write(tmp_path, "spelling.yaml", VALID.replace("crises_per_year:", "crisis_per_year:"))
    found = by_path(problems_validating(path))
    assert found["demand.crises_per_year"].hint == "'crisis_per_year' is written here: should it be 'crises_per_year'?"
    assert found["demand.crisis_per_year"].hint == "did you mean 'crises_per_year'?"
    assert found["demand.crisis_per_year"].line == 3


def test_a_smart_union_of_models_reports_the_closest_branch(tmp_path: Path) -> None:
    class Fixed(Strict):
        value: float

    class Range(Strict):
        low: float
        high: float

    class Stay(Strict):
        kind: Literal["stay"]
        length: Fixed | Range

    class Holder(Strict):
        stay: Fixed | Range
        nested: list[Annotated[Stay | Fixed, Field(union_mode="left_to_right")]]

    path = write(tmp_path, "smart.yaml", """
        stay:
          low: 1
          high: lots
        nested:
          - kind: stay
            length: {value: x}
    """)
    data, source_map = resolve(path)
    with pytest.raises(ScenarioError) as caught:
        validate(Holder, data, source_map)
    assert [(problem.path, problem.line, problem.message, problem.found) for problem in caught.value.problems] == [
        ("stay.high", 3, "must be a number", "'lots'"),
        ("nested[0].length.value", 6, "must be a number", "'x'"),
    ]


def test_root_models_and_aliases(tmp_path: Path) -> None:
    class Items(RootModel[list[int]]):
        pass

    class Shift(Strict):
        items: Items
        from_pathway: int = Field(alias="from")

    path = write(tmp_path, "alias.yaml", "items: [1, x]\nfrom: y\nfrm: 2\n")
    data, source_map = resolve(path)
    with pytest.raises(ScenarioError) as caught:
        validate(Shift, data, source_map)
    found = by_path(caught.value.problems)
    assert (found["items[1]"].line, found["items[1]"].column, found["items[1]"].found) == (1, 12, "'x'")
    assert found["from"].message == "must be a whole number"
    assert found["frm"].allowed == "items, from"
    assert found["frm"].hint == "did you mean 'from'?"


def test_dict_keys_that_must_come_from_a_list(tmp_path: Path) -> None:
    class Shares(Strict):
        age_shares: dict[Literal["18-64", "65-84", "85+"], float]

    path = write(tmp_path, "keys.yaml", "age_shares:\n  18-64: 0.5\n  85plus: 0.5\n")
    data, source_map = resolve(path)
    with pytest.raises(ScenarioError) as caught:
        validate(Shares, data, source_map)
    [problem] = caught.value.problems
    assert (problem.path, problem.line, problem.column) == ("age_shares.85plus", 3, 3)
    assert problem.message == "'85plus' is not one of the names allowed here"
    assert problem.allowed == "'18-64', '65-84', '85+'"


def test_scenario_error_lists_every_problem_under_a_count(tmp_path: Path) -> None:
    path = write(tmp_path, "two.yaml", VALID.replace("capacity: 400", "capacity: many").replace("1200", "-1"))
    data, source_map = resolve(path)
    with pytest.raises(ScenarioError) as caught:
        validate(Toy, data, source_map)
    lines = str(caught.value).splitlines()
    assert lines[0] == f"2 problems in {path}:"
    assert lines[1] == f"{path}:3:20: demand.crises_per_year: must be a number ≥ 0 (found -1)"
    assert lines[2] == (f"{path}:6:15: services.acute_beds.capacity: "
                        "must be a whole number or 'unlimited' (found 'many')")


def test_problem_rendering_with_allowed_and_hint() -> None:
    problem = Problem("x.yaml", 12, 5, "demand.profile", "must be one of the allowed values",
                      "'flatt'", "'flat', 'winter_peak'", "did you mean 'flat'?")
    assert str(problem) == (
        "x.yaml:12:5: demand.profile: must be one of the allowed values (found 'flatt')\n"
        "    allowed: 'flat', 'winter_peak'\n"
        "    hint: did you mean 'flat'?"
    )
    assert str(Problem("x.yaml", None, None, "", "the file is empty")) == "x.yaml: the file is empty"
    assert str(ScenarioError([problem])).startswith("1 problem in x.yaml:\n")
    assert pickle.loads(pickle.dumps(ScenarioError([problem]))).problems == [problem]


def test_load_scenario_uses_the_schema_scenario(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    schema = pytest.importorskip("caresim.scenario.schema")
    monkeypatch.setattr(schema, "Scenario", Toy)
    toy = loading.load_scenario(write(tmp_path, "ok.yaml", VALID))
    assert isinstance(toy, Toy)
    assert toy.demand.crises_per_year == 1200


# --- values copied from spreadsheets --------------------------------------------------------


@pytest.mark.parametrize(("text", "hint"), [
    ("1,234", "write 1234 (no thousands separators)"),
    ("12%", "write 0.12 for 12 %"),
    ("12.5 %", "write 0.125 for 12.5 %"),
    ("£3,500", "write 3500 (no currency symbol, no thousands separators)"),
    ("1\u00a0234", "write 1234 (no spaces: this one has a non-breaking space, often copied from Excel)"),
    ("1 234", "write 1234 (no spaces)"),
    ("1,5", "write 1.5 (a dot for decimals)"),
    ("−5", "write -5 (an ordinary minus sign)"),
    ("ten", None),
    ("12", None),
])
def test_spreadsheet_hints(text: str, hint: str | None) -> None:
    assert spreadsheet_hint(text) == hint


def test_date_hint() -> None:
    assert date_hint("1/4/2024") == "write 2024-04-01 (year-month-day; 1/4/2024 is read as day/month/year)"
    assert date_hint("April 2024") is None


def test_spreadsheet_values_in_a_file_get_hints(tmp_path: Path) -> None:
    path = write(tmp_path, "excel.yaml", VALID.replace("1200", "1\u00a0200").replace("capacity: 400", "capacity: £400"))
    found = by_path(problems_validating(path))
    assert found["demand.crises_per_year"].hint == (
        "write 1200 (no spaces: this one has a non-breaking space, often copied from Excel)"
    )
    assert found["services.acute_beds.capacity"].hint == "write 400 (no currency symbol)"


# --- reading YAML ---------------------------------------------------------------------------


def test_source_map_gives_key_and_value_positions(tmp_path: Path) -> None:
    path = write(tmp_path, "ok.yaml", VALID)
    data, source_map = read_yaml(path)
    capacity = ("services", "acute_beds", "capacity")
    assert data["services"]["acute_beds"]["capacity"] == 400
    assert source_map.locate(capacity) == Location(str(path), 6, 15)
    assert source_map.locate(capacity, at_key=True) == Location(str(path), 6, 5)
    assert source_map.locate(("schemes", 0, "effects", 1, "beds")) == Location(str(path), 17, 15)
    assert source_map.locate(("services", "acute_beds", "absent"), at_key=True) == Location(str(path), 5, 3)


def test_duplicate_keys_are_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "dup.yaml", """
        name: a
        demand:
          crises_per_year: 1
          profile: flat
          crises_per_year: 2
    """)
    [problem] = problems_reading(path)
    assert (problem.line, problem.column, problem.path) == (5, 3, "demand.crises_per_year")
    assert problem.message == "'crises_per_year' appears more than once here (first on line 3)"


@pytest.mark.parametrize(("text", "line", "column", "words"), [
    ("name: a\ndemand:\n\tcrises_per_year: 1\n", 3, 1, "tab character"),
    ("name: a\ndemand:\n  crises_per_year: 1\n profile: flat\n", 4, 2, "check the indentation of this line"),
    ("name: 'abc\ndemand: 1\n", 1, 7, "a quote opened here is never closed"),
    ("name: a\ndemand\nreplications: 2\n", 2, 1, "no ':' between a name and its value"),
    ("name: a: b\n", 1, 8, "unexpected ':'"),
    ("name: a\n---\nname: b\n", 2, 1, "more than one YAML document"),
    ("name: @home\n", 1, 7, "a value cannot start with '@'"),
])
def test_syntax_errors_become_sentences(tmp_path: Path, text: str, line: int, column: int, words: str) -> None:
    path = tmp_path / "syntax.yaml"
    path.write_text(text, encoding="utf-8")
    [problem] = problems_reading(path)
    assert (problem.file, problem.line, problem.column) == (str(path), line, column)
    assert problem.message.startswith("the YAML could not be read: ")
    assert words in problem.message


def test_python_tags_are_refused_and_nothing_runs(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    path = write(tmp_path, "evil.yaml", f"""
        name: !!python/object/apply:os.system ["touch {marker}"]
        demand: !custom 5
        services: !!set {{a, b}}
    """)
    problems = problems_reading(path)
    assert not marker.exists()
    assert [problem.message for problem in problems] == ["tags are not allowed"] * 3
    assert [problem.path for problem in problems] == ["name", "demand", "services"]
    assert problems[0].found == "!!python/object/apply:os.system"
    assert problems[1].found == "!custom"
    assert problems[0].line == 1


@pytest.mark.parametrize(("content", "message"), [
    (b"", "the file is empty: it holds no settings"),
    (b"# only a comment\n", "the file is empty: it holds no settings"),
    (b"- a\n- b\n", "the top level of the file must be 'name: value' lines, but it holds a list"),
    (b"just words\n", "the top level of the file must be 'name: value' lines, but it holds a single value"),
])
def test_files_without_settings(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(content)
    [problem] = problems_reading(path)
    assert problem.message == message


def test_missing_files_folders_and_other_encodings(tmp_path: Path) -> None:
    [missing] = problems_reading(tmp_path / "nowhere.yaml")
    assert (missing.file, missing.message) == (str(tmp_path / "nowhere.yaml"), "the file does not exist")
    [folder] = problems_reading(tmp_path)
    assert folder.message == "this is a folder, not a scenario file"
    windows = tmp_path / "windows.yaml"
    windows.write_bytes("name: a\ncost: £100\n".encode("cp1252"))
    [encoding] = problems_reading(windows)
    assert (encoding.line, encoding.column) == (2, 7)
    assert encoding.message == "the file is not saved as UTF-8 text (byte 0xA3 cannot be read)"


def test_anchors_merges_and_clock_times(tmp_path: Path) -> None:
    path = write(tmp_path, "anchors.yaml", """
        defaults: &beds
          capacity: 10
          when_full: wait
        services:
          acute:
            <<: *beds
            capacity: 20
        opens: 8:30
        empty_file_marker: =
    """)
    data, source_map = read_yaml(path)
    assert data["services"]["acute"] == {"when_full": "wait", "capacity": 20}
    assert data["opens"] == "8:30"
    assert data["empty_file_marker"] == "="
    assert source_map.locate(("services", "acute", "capacity")).line == 7
    assert source_map.locate(("services", "acute", "when_full")).line == 3


def test_alias_bombs_are_stopped(tmp_path: Path) -> None:
    hundred = ", ".join(["*a"] * 100)
    path = write(tmp_path, "bomb.yaml",
                 f"a: &a [{', '.join(['1'] * 100)}]\nb: &b [{hundred}]\nc: [{hundred.replace('a', 'b')}]\n")
    [problem] = problems_reading(path)
    assert problem.message == "the file expands to more than 100,000 values"


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "loop.yaml", "a: &x\n  - *x\n")
    [problem] = problems_reading(path)
    assert problem.message == "an alias (*name) is used inside the anchor (&name) it refers to"
    assert problem.path == "a[0]"


# --- extends --------------------------------------------------------------------------------


def test_extends_merges_sections_and_replaces_lists(tmp_path: Path) -> None:
    base = write(tmp_path, "base.yaml", VALID)
    child = write(tmp_path, "child.yaml", """
        extends: base.yaml
        name: child
        services:
          acute_beds:
            capacity: 300
        schemes: []
    """)
    data, source_map = resolve(child)
    assert "extends" not in data
    assert data["name"] == "child"
    assert data["services"] == {"acute_beds": {"capacity": 300}, "home_care": {"capacity": "unlimited"}}
    assert data["schemes"] == []
    assert data["demand"] == {"crises_per_year": 1200}
    assert source_map.locate(("services", "acute_beds", "capacity")) == Location(str(child), 5, 15)
    assert source_map.locate(("services", "home_care", "capacity")) == Location(str(base), 8, 15)
    assert source_map.locate(("demand",), at_key=True) == Location(str(base), 2, 1)
    assert ("extends",) not in source_map.values


def test_extends_chain_points_each_problem_into_its_own_file(tmp_path: Path) -> None:
    base = write(tmp_path, "library/base.yaml", VALID.replace("capacity: unlimited", "capacity: lots"))
    write(tmp_path, "library/middle.yaml", "extends: base.yaml\nreplications: 5\n")
    leaf = write(tmp_path, "variants/leaf.yaml", """
        extends: ../library/middle.yaml
        demand:
          crises_per_year: many
    """)
    problems = problems_validating(leaf)
    assert [(problem.file, problem.line, problem.path) for problem in problems] == [
        (str(base), 8, "services.home_care.capacity"),
        (str(leaf), 3, "demand.crises_per_year"),
    ]


def test_null_in_a_child_replaces_the_parent_value(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", VALID)
    child = write(tmp_path, "child.yaml", "extends: base.yaml\ndemand: null\n")
    [problem] = problems_validating(child)
    assert (problem.file, problem.line, problem.path) == (str(child), 2, "demand")
    assert problem.found == "an empty value"


def test_extends_cycle_is_named(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", "extends: b.yaml\nname: a\n")
    second = write(tmp_path, "b.yaml", "extends: a.yaml\nname: b\n")
    [problem] = problems_reading(first)
    assert problem.message == f"extends goes round in a loop: {first} → {second} → {first}"
    assert (problem.file, problem.line, problem.path) == (str(second), 1, "extends")


def test_extends_problems_point_at_the_extends_line(tmp_path: Path) -> None:
    missing = write(tmp_path, "child.yaml", "name: a\nextends: nothere.yaml\n")
    [problem] = problems_reading(missing)
    assert (problem.line, problem.column, problem.path) == (2, 10, "extends")
    assert problem.message == f"the file it names does not exist (looked for {tmp_path / 'nothere.yaml'})"
    itself = write(tmp_path, "self.yaml", "extends: self.yaml\n")
    assert "loop" in problems_reading(itself)[0].message
    listed = write(tmp_path, "list.yaml", "extends: [a.yaml]\n")
    [wrong] = problems_reading(listed)
    assert (wrong.message, wrong.found) == ("must be the name of another scenario file", "a list")
