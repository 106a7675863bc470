"""The source of every number in a scenario, read from the comment beside it in the YAML."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from caresim.scenario.loading import resolve, validate
from caresim.scenario.schema import Scenario
from caresim.scenario.yaml_source import SourceMap, render_path

FLAGS = ("seed", "public", "assumption", "calibrated", "target")
COMMENT = re.compile(r"\s#\s*(.*)$")


@cache
def _lines(file: str) -> tuple[str, ...]:
    return tuple(Path(file).read_text(encoding="utf-8").splitlines())


def _comment(file: str, line: int | None) -> str | None:
    if line is None:
        return None
    lines = _lines(file)
    if not 0 < line <= len(lines):
        return None
    match = COMMENT.search(lines[line - 1])
    return match.group(1).strip() if match else None


Note = tuple[str, int]  # a section's ``source`` field and the depth of that section


def _leaves(value: Any, path: tuple = (), note: Note = ("", 0)) -> list[tuple[tuple, Any, Note]]:
    """Every leaf with its path and the ``source`` field of the nearest enclosing section that has one."""
    if isinstance(value, dict):
        note = (value["source"], len(path)) if isinstance(value.get("source"), str) else note
        return [leaf for key, item in value.items() for leaf in _leaves(item, (*path, key), note)]
    if isinstance(value, list) and not all(isinstance(v, (int, float)) for v in value):
        return [leaf for index, item in enumerate(value) for leaf in _leaves(item, (*path, index), note)]
    return [(path, value, note)]


def _source_for(path: tuple, source_map: SourceMap, note: Note) -> str:
    """The comment nearest the value (its own line, then enclosing keys' lines) inside the section that
    gives a ``source`` field, then that field, then comments further out."""
    text, depth = note
    for length in range(len(path), 0, -1):
        if length == depth and text:
            return text
        for location in (source_map.values.get(path[:length]), source_map.keys.get(path[:length])):
            comment = location and _comment(location.file, location.line)
            if comment:
                return comment
    return text


def parameter_rows(data: dict[str, Any], source_map: SourceMap) -> list[dict[str, Any]]:
    """Every number of resolved scenario data with its source text and flag (seed, public, assumption,
    calibrated, target, else unsourced)."""
    rows = []
    for path, value, note in _leaves(data):
        if isinstance(value, bool) or not isinstance(value, (int, float, list)):
            continue
        source = _source_for(path, source_map, note)
        flag = re.split(r"[:\s]", source, maxsplit=1)[0].lower()
        rows.append({"path": render_path(path), "value": value, "source": source,
                     "flag": flag if flag in FLAGS else "unsourced"})
    return rows


def parameter_sources(scenario_file: Path) -> list[dict[str, Any]]:
    """Every number of the scenario file with its source, without validating the scenario."""
    return parameter_rows(*resolve(scenario_file))


@dataclass(frozen=True)
class SourcedScenario:
    """A validated scenario, the file it was read from, and the source of every number in it."""

    scenario: Scenario
    file: Path
    parameters: list[dict[str, Any]]
    compare_file: Path | None = None  # `compare_with`, relative to the file that names it; never the file itself
    compare_named_in: Path | None = None  # the file that names it (this file or one it extends)

    @property
    def unsourced(self) -> list[str]:
        """The paths of the numbers that have no source comment."""
        return [row["path"] for row in self.parameters if row["flag"] == "unsourced"]


def load_sourced(scenario_file: Path) -> SourcedScenario:
    """Read a scenario file once: the validated scenario and its parameters with their sources."""
    data, source_map = resolve(scenario_file)
    scenario = validate(Scenario, data, source_map)
    compare_file = _compare_file(scenario, source_map, Path(scenario_file))
    named_in = Path(source_map.locate(("compare_with",)).file) if compare_file else None
    return SourcedScenario(scenario, Path(scenario_file), parameter_rows(data, source_map), compare_file, named_in)


def _compare_file(scenario: Scenario, source_map: SourceMap, scenario_file: Path) -> Path | None:
    """The file `compare_with` names, read relative to the file that wrote it (like `extends`); None when it names
    the scenario itself (a variant that extends the file naming it inherits the key)."""
    if scenario.compare_with is None:
        return None
    written_in = Path(source_map.locate(("compare_with",)).file)
    linked = Path(os.path.normpath(written_in.parent / scenario.compare_with))
    return None if linked.resolve() == scenario_file.resolve() else linked
